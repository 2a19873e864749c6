// ZmtpLink against a real libzmq ROUTER (the broker's frontend socket), in
// this process: what one sends the other reads, frame for frame.
#include "gateway/zmtp/zmtp_link.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "tests/testutil.h"

namespace botmodels {
namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;

constexpr std::chrono::milliseconds kWait{5000};  // for anything that should happen at once

class ZmtpLinkTest : public ::testing::Test {
 protected:
  // Runs `f` on the link's strand and waits for it.
  template <typename F>
  auto OnStrand(F f) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    net::post(strand_, [&task] { task(); });
    return result.get();
  }

  void SetUp() override {
    runner_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    OnStrand([this] { link_.reset(); });
    work_.reset();
    io_.stop();
    runner_.join();
  }

  void MakeLink(size_t max_message_bytes = 1 << 20) {
    OnStrand([this, max_message_bytes] {
      link_ = std::make_unique<ZmtpLink>(strand_, max_message_bytes,
                                         [this](std::span<const std::string_view> frames) {
                                           std::lock_guard lock(mu_);
                                           auto& message = received_.emplace_back();
                                           for (std::string_view f : frames)
                                             message.emplace_back(f);
                                           cv_.notify_all();
                                         });
    });
  }
  Status Open(const std::string& endpoint) {
    return OnStrand([&] { return link_->Open(endpoint); });
  }
  bool Send(std::vector<std::string> frames) {
    return OnStrand([&] { return link_->Send(std::move(frames)); });
  }
  // The next message the link handed out; empty after kWait.
  std::vector<std::string> Next() {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, kWait, [this] { return !received_.empty(); })) return {};
    auto first = std::move(received_.front());
    received_.erase(received_.begin());
    return first;
  }

  zmq::socket_t Router(const std::string& bind) {
    zmq::socket_t router(context_, zmq::socket_type::router);
    router.set(zmq::sockopt::linger, 0);
    router.set(zmq::sockopt::rcvtimeo, static_cast<int>(kWait.count()));
    router.bind(bind);
    return router;
  }
  // Sends `body` to the peer of `identity`.
  static void Reply(zmq::socket_t& router, const std::string& identity, const std::string& body) {
    router.send(zmq::buffer(identity), zmq::send_flags::sndmore);
    router.send(zmq::buffer(body));
  }
  // [identity, frames...] from `router`; empty after kWait.
  static std::vector<std::string> Receive(zmq::socket_t& router) {
    std::vector<zmq::message_t> parts;
    std::vector<std::string> frames;
    if (!zmq::recv_multipart(router, std::back_inserter(parts))) return frames;
    for (const auto& p : parts) frames.push_back(p.to_string());
    return frames;
  }

  botmodels::testing::TempDir dir_;
  zmq::context_t context_{1};
  net::io_context io_;
  net::executor_work_guard<net::io_context::executor_type> work_ = net::make_work_guard(io_);
  LaneStrand strand_ = net::make_strand(io_);
  std::thread runner_;
  std::unique_ptr<ZmtpLink> link_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::vector<std::string>> received_;
};

TEST_F(ZmtpLinkTest, ExchangesMessagesWithALibzmqRouterOverTcpAndIpc) {
  for (const std::string& bind :
       {std::string("tcp://127.0.0.1:*"), std::string("localhost"), "ipc://" + dir_ / "broker"}) {
    // "localhost": a host name, resolved as a Kubernetes Service's would be.
    zmq::socket_t router = Router(bind == "localhost" ? "tcp://127.0.0.1:*" : bind);
    std::string endpoint = router.get(zmq::sockopt::last_endpoint);
    if (bind == "localhost") endpoint = "tcp://localhost" + endpoint.substr(endpoint.rfind(':'));
    MakeLink();
    ASSERT_OK(Open(endpoint));
    const std::string big(300, 'b');  // a frame with an 8-byte size
    ASSERT_TRUE(Send({"auth", big, ""}));
    const std::vector<std::string> got = Receive(router);
    ASSERT_EQ(got.size(), 4u) << bind;
    EXPECT_EQ(std::vector<std::string>(got.begin() + 1, got.end()),
              (std::vector<std::string>{"auth", big, ""}));
    const std::string reply(70'000, 'r');
    Reply(router, got[0], reply);
    EXPECT_EQ(Next(), std::vector<std::string>{reply}) << bind;
  }
}

TEST_F(ZmtpLinkTest, QueuesUntilTheBrokerIsUpAndReconnectsAfterItRestarts) {
  const std::string endpoint = "ipc://" + dir_ / "later";
  MakeLink();
  ASSERT_OK(Open(endpoint));  // nothing there yet
  ASSERT_TRUE(Send({"early"}));
  std::this_thread::sleep_for(3 * ZmtpLink::kReconnectAfter);
  {
    zmq::socket_t router = Router(endpoint);
    const auto got = Receive(router);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[1], "early");
  }  // the broker goes away
  zmq::socket_t again = Router(endpoint);
  again.set(zmq::sockopt::rcvtimeo, 100);
  // What is written to the dead connection before the link sees it closed
  // is lost, as with libzmq: sends until one arrives.
  std::vector<std::string> got;
  for (int i = 0; i < 50 && got.empty(); ++i) {
    ASSERT_TRUE(Send({"after " + std::to_string(i)}));
    got = Receive(again);
  }
  ASSERT_EQ(got.size(), 2u) << "the link never reached the restarted broker";
  EXPECT_EQ(got[1].rfind("after ", 0), 0u);
}

TEST_F(ZmtpLinkTest, CutsOffABrokerMessageOverItsLimitThenReconnects) {
  zmq::socket_t router = Router("tcp://127.0.0.1:*");
  MakeLink(/*max_message_bytes=*/1000);
  ASSERT_OK(Open(router.get(zmq::sockopt::last_endpoint)));
  ASSERT_TRUE(Send({"hello"}));
  auto got = Receive(router);
  ASSERT_EQ(got.size(), 2u);
  Reply(router, got[0], std::string(2000, 'x'));
  // The link drops that connection and comes back under a new identity.
  router.set(zmq::sockopt::rcvtimeo, 100);
  std::vector<std::string> back;
  for (int i = 0; i < 50 && (back.empty() || back[0] == got[0]); ++i) {
    ASSERT_TRUE(Send({"again"}));
    back = Receive(router);
  }
  ASSERT_EQ(back.size(), 2u);
  ASSERT_NE(back[0], got[0]) << "the connection that broke the limit was kept";
  Reply(router, back[0], std::string("small"));
  EXPECT_EQ(Next(), std::vector<std::string>{"small"}) << "the big message was handed out";
}

TEST_F(ZmtpLinkTest, RefusesMessagesPastItsQueueWhileTheBrokerIsAway) {
  MakeLink();
  ASSERT_OK(Open("ipc://" + dir_ / "nobody"));
  for (size_t i = 0; i < ZmtpLink::kMaxQueuedMessages; ++i) ASSERT_TRUE(Send({"m"})) << i;
  EXPECT_FALSE(Send({"one too many"}));
  OnStrand([this] { link_->Close(); });
  EXPECT_FALSE(Send({"closed"}));
  ASSERT_OK(Open("ipc://" + dir_ / "nobody"));
  EXPECT_TRUE(Send({"open again, with an empty queue"}));
  EXPECT_FALSE(Open("udp://127.0.0.1:1").ok());
  EXPECT_FALSE(ZmtpLink::Speaks("inproc://broker"));
  EXPECT_FALSE(ZmtpLink::Speaks("tcp://127.0.0.1:99999"));
  EXPECT_TRUE(ZmtpLink::Speaks("tcp://[::1]:5555"));
  EXPECT_TRUE(ZmtpLink::Speaks("tcp://broker-0.broker:5555"));
}

TEST_F(ZmtpLinkTest, APeerThatIsNotZmtpIsDroppedAndTriedAgain) {
  // A TCP server that answers every connection with HTTP, then closes it.
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length), 0);
  MakeLink();
  ASSERT_OK(Open("tcp://127.0.0.1:" + std::to_string(ntohs(address.sin_port))));
  ASSERT_TRUE(Send({"request"}));
  int connections = 0;
  const auto until = std::chrono::steady_clock::now() + kWait;
  while (connections < 3 && std::chrono::steady_clock::now() < until) {
    pollfd p{listener, POLLIN, 0};
    if (poll(&p, 1, 100) != 1) continue;
    const int c = accept(listener, nullptr, nullptr);
    ASSERT_GE(c, 0);
    const std::string http(64, 'H');
    EXPECT_EQ(write(c, http.data(), http.size()), static_cast<ssize_t>(http.size()));
    close(c);
    ++connections;
  }
  close(listener);
  EXPECT_EQ(connections, 3) << "the link stopped trying";
  std::lock_guard lock(mu_);
  EXPECT_TRUE(received_.empty());
}

}  // namespace
}  // namespace botmodels
