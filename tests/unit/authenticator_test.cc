#include "broker/authenticator.h"

#include <gtest/gtest.h>

#include "common/codec.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

constexpr int64_t kNow = 1'800'000'000'000;  // ms since the epoch

KeyRing Keys() {
  KeyRing keys;
  keys.Add({RequestSigner("reader", "reader-secret-0123456789"), protocol::Role::kInfer});
  keys.Add({RequestSigner("ops", "ops-secret-0123456789abc"), protocol::Role::kAdmin});
  return keys;
}

struct Signed {
  std::string header, body, signature;
};

Signed Sign(const RequestSigner& signer, int64_t at_ms, const std::string& body = "body") {
  const auto at = std::chrono::system_clock::time_point(std::chrono::milliseconds(at_ms));
  Signed s;
  s.header = codec::EncodeAuthHeader(signer.NewHeader(at));
  s.body = body;
  s.signature = signer.Sign(s.header, s.body);
  return s;
}

TEST(Authenticator, ReturnsTheSigningKeyWithItsRole) {
  Authenticator auth(Keys(), std::chrono::seconds(30), 1000);
  std::string key_id;
  for (const auto& [id, secret, role] :
       {std::tuple{"reader", "reader-secret-0123456789", protocol::Role::kInfer},
        std::tuple{"ops", "ops-secret-0123456789abc", protocol::Role::kAdmin}}) {
    const Signed s = Sign(RequestSigner(id, secret), kNow);
    auto key = auth.Verify(s.header, s.body, s.signature, kNow, &key_id);
    ASSERT_OK(key);
    EXPECT_EQ((*key)->id(), id);
    EXPECT_EQ((*key)->role, role);
  }
}

TEST(Authenticator, RefusesUnknownKeysForgeriesStaleAndReplayedRequests) {
  Authenticator auth(Keys(), std::chrono::seconds(30), 1000);
  std::string key_id;
  const auto refused = [&](const Signed& s) {
    auto key = auth.Verify(s.header, s.body, s.signature, kNow, &key_id);
    return !key.ok() && key.status().code() == ErrorCode::kUnauthenticated;
  };
  EXPECT_TRUE(refused(Sign(RequestSigner("stranger", "reader-secret-0123456789"), kNow)));
  EXPECT_EQ(key_id, "stranger");
  EXPECT_TRUE(refused(Sign(RequestSigner("reader", "wrong-secret-0123456789a"), kNow)));
  Signed tampered = Sign(RequestSigner("reader", "reader-secret-0123456789"), kNow);
  tampered.body = "other body";
  EXPECT_TRUE(refused(tampered));
  EXPECT_TRUE(refused(Sign(RequestSigner("reader", "reader-secret-0123456789"), kNow - 60'000)));
  EXPECT_TRUE(refused({"not msgpack", "body", std::string(32, 'x')}));
  EXPECT_EQ(key_id, "?");

  const Signed once = Sign(RequestSigner("ops", "ops-secret-0123456789abc"), kNow);
  ASSERT_OK(auth.Verify(once.header, once.body, once.signature, kNow, &key_id));
  EXPECT_TRUE(refused(once));
}

TEST(Authenticator, AForgedRequestDoesNotBurnTheNonceOfTheRealOne) {
  Authenticator auth(Keys(), std::chrono::seconds(30), 1000);
  std::string key_id;
  const Signed real = Sign(RequestSigner("reader", "reader-secret-0123456789"), kNow);
  ASSERT_FALSE(auth.Verify(real.header, "forged", real.signature, kNow, &key_id).ok());
  EXPECT_OK(auth.Verify(real.header, real.body, real.signature, kNow, &key_id));
}

}  // namespace
}  // namespace botmodels
