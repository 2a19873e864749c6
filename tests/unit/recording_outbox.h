#pragma once

// An Outbox that records what the router sends, for tests of the router
// and of what drives it.

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "broker/router.h"
#include "common/codec.h"

namespace botmodels::testing {

// Records what the router sends.
class RecordingOutbox final : public Outbox {
 public:
  struct Sent {
    std::string worker;
    uint64_t ticket;
    uint32_t budget_ms;
    std::string request_id;
    uint32_t queued = 0;  // more on their way to the same worker
  };
  void SendToWorker(WorkerRecord& worker, PendingRequest& r,
                    const protocol::JobHeader& job) override {
    EXPECT_EQ(job.ticket, r.ticket);
    to_workers.push_back({worker.id, r.ticket, job.budget_ms, r.id, job.queued});
  }
  Delivery SendToClient(const std::string& client, zmq::message_t& reply) override {
    if (full_clients.count(client)) return Delivery::kFull;
    auto decoded = codec::DecodeReply(reply.to_string_view());
    EXPECT_TRUE(decoded.ok());
    if (decoded.ok()) replies[client].push_back(*decoded);
    return Delivery::kSent;
  }
  // The one reply `client` got; fails the test unless there is exactly one.
  protocol::Reply Only(const std::string& client) {
    EXPECT_EQ(replies[client].size(), 1u) << "replies to " << client;
    return replies[client].empty() ? protocol::Reply{} : replies[client].front();
  }

  std::set<std::string> full_clients;  // clients whose queue is full: their replies drop
  std::vector<Sent> to_workers;
  std::map<std::string, std::vector<protocol::Reply>> replies;
};

}  // namespace botmodels::testing
