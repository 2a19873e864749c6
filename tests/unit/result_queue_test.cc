// The executor -> I/O thread hand-off: results arrive in order, and the fd
// is readable exactly while results wait.
#include "worker/result_queue.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <thread>

namespace botmodels {
namespace {

bool Readable(const ResultQueue& queue, int timeout_ms) {
  pollfd p{queue.fd(), POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) == 1;
}

TEST(ResultQueue, TheFdIsReadableWhileResultsWaitAndTakeAllKeepsTheirOrder) {
  ResultQueue queue;
  EXPECT_FALSE(Readable(queue, 0));
  std::thread executor([&queue] {
    for (uint64_t t = 1; t <= 100; ++t) queue.Deliver(JobReply{t, "r", ErrorCode::kOk, 0});
    queue.Deliver(DeviceLost{"gone"});
  });
  std::vector<WorkerResult> taken;
  while (taken.size() < 101) {
    ASSERT_TRUE(Readable(queue, 5000)) << "results wait, so the fd must wake the poll";
    for (WorkerResult& r : queue.TakeAll()) taken.push_back(std::move(r));
  }
  executor.join();
  for (uint64_t t = 1; t <= 100; ++t) EXPECT_EQ(std::get<JobReply>(taken[t - 1]).ticket, t);
  EXPECT_EQ(std::get<DeviceLost>(taken[100]).reason, "gone");
  EXPECT_TRUE(queue.TakeAll().empty());
  EXPECT_FALSE(Readable(queue, 0)) << "nothing waits: no wake-up";
}

}  // namespace
}  // namespace botmodels
