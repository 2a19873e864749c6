// CURVE keys, the ZAP handler and fail-closed server sockets, over real
// libzmq sockets on private ipc endpoints.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <zmq.hpp>

#include "broker/zap_handler.h"
#include "common/curve_keys.h"
#include "common/curve_socket.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

TEST(CurveKeys, KeygenWritesAPrivateSecretAndAPublicKeyThatMatch) {
  testing::TempDir dir;
  const CurveKeyPair pair = NewCurveKeyPair();
  ASSERT_OK(WriteCurveKeyPair(dir / "broker", pair));
  struct stat info {};
  ASSERT_EQ(::stat((dir / "broker.key").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  auto loaded = LoadCurveSecretKey(dir / "broker.key");
  ASSERT_OK(loaded);
  EXPECT_EQ(loaded->secret_key, pair.secret_key);
  EXPECT_EQ(loaded->public_key, pair.public_key);
  auto public_key = LoadCurvePublicKey(dir / "broker.pub");
  ASSERT_OK(public_key);
  EXPECT_EQ(*public_key, pair.public_key);
  EXPECT_FALSE(WriteCurveKeyPair(dir / "broker", NewCurveKeyPair()).ok()) << "must not overwrite";
}

TEST(CurveKeys, AllowlistSkipsCommentsAndNamesTheBadLine) {
  testing::TempDir dir;
  const std::string a = NewCurveKeyPair().public_key, b = NewCurveKeyPair().public_key;
  testing::WriteFile(dir / "ok", "# clients\n" + a + "\n\n  " + b + "  \n");
  auto keys = LoadCurveAllowlist(dir / "ok");
  ASSERT_OK(keys);
  EXPECT_EQ(*keys, (std::set<std::string>{a, b}));
  testing::WriteFile(dir / "bad", a + "\nnot-a-key\n");
  auto bad = LoadCurveAllowlist(dir / "bad");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bad:2"), std::string::npos) << bad.status().message();
}

// A CURVE ROUTER server and a client DEALER with `client_key`; whether a
// message from the client reaches the server within 1 s.
bool Reaches(zmq::context_t& context, const std::string& endpoint, const CurveKeyPair& server_key,
             const CurveKeyPair& client_key) {
  zmq::socket_t server(context, zmq::socket_type::router);
  EXPECT_OK(MakeCurveServer(server, server_key, "frontend"));
  server.bind(endpoint);
  zmq::socket_t client(context, zmq::socket_type::dealer);
  client.set(zmq::sockopt::linger, 0);
  server.set(zmq::sockopt::linger, 0);
  EXPECT_OK(MakeCurveClient(client, client_key, server_key.public_key));
  client.connect(endpoint);
  client.send(zmq::str_buffer("hello"), zmq::send_flags::none);
  zmq::pollitem_t item{server.handle(), 0, ZMQ_POLLIN, 0};
  zmq::poll(&item, 1, std::chrono::milliseconds(1000));
  return item.revents & ZMQ_POLLIN;
}

TEST(Zap, AcceptsAllowlistedKeysAndRefusesOthers) {
  testing::TempDir dir;
  testing::FakeClock clock;
  zmq::context_t context(1);
  const CurveKeyPair server = NewCurveKeyPair(), friendly = NewCurveKeyPair(),
                     stranger = NewCurveKeyPair();
  ZapHandler zap(context, {{"frontend", {friendly.public_key}}}, clock);
  std::atomic<bool> stop{false};
  std::thread handler([&] {
    while (!stop) {
      zmq::pollitem_t item{zap.socket().handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(10));
      if (item.revents & ZMQ_POLLIN) zap.Handle();
    }
  });
  EXPECT_TRUE(Reaches(context, "ipc://" + (dir / "a.sock"), server, friendly));
  EXPECT_FALSE(Reaches(context, "ipc://" + (dir / "b.sock"), server, stranger));
  stop = true;
  handler.join();
}

TEST(Zap, AServerSocketWithoutAHandlerFailsClosed) {
  testing::TempDir dir;
  zmq::context_t context(1);  // no ZAP handler in this context
  const CurveKeyPair server = NewCurveKeyPair(), client = NewCurveKeyPair();
  EXPECT_FALSE(Reaches(context, "ipc://" + (dir / "c.sock"), server, client));
}

}  // namespace
}  // namespace botmodels
