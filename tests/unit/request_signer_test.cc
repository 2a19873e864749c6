#include "common/request_signer.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <thread>

#include "common/codec.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

TEST(RequestSigner, SignatureVerifiesAndIs32Bytes) {
  RequestSigner signer("k", "0123456789abcdef");
  const std::string sig = signer.Sign("header", "body");
  EXPECT_EQ(sig.size(), 32u);
  EXPECT_OK(signer.Verify("header", "body", sig));
}

// Known answer: HMAC-SHA256("0123456789abcdef", 00000001 'h' 'b'), as computed by
// `printf '\x00\x00\x00\x01hb' | openssl dgst -sha256 -hmac 0123456789abcdef`.
TEST(RequestSigner, MatchesTheDocumentedByteLayout) {
  RequestSigner signer("k", "0123456789abcdef");
  const std::string sig = signer.Sign("h", "b");
  std::string hex;
  for (unsigned char c : sig) {
    static constexpr char kHex[] = "0123456789abcdef";
    hex += {kHex[c >> 4], kHex[c & 15]};
  }
  EXPECT_EQ(hex, "402ddfd4d33cc29182b57912de580395b4d6b22f681d6f38ea8ad35888b48b06");
}

// Each thread restarts one HMAC context per signer: signing in turn with two
// keys, and again, on one thread and on another, gives each key's own
// signature every time.
TEST(RequestSigner, SignersTakingTurnsOnThreadsKeepTheirOwnKeys) {
  RequestSigner a("a", "0123456789abcdef");
  RequestSigner b("b", "fedcba9876543210");
  const std::string a_sig = a.Sign("h", "b");
  const std::string b_sig = b.Sign("h", "b");
  EXPECT_NE(a_sig, b_sig);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(a.Sign("h", "b"), a_sig);
    EXPECT_EQ(a.Sign("h", "b"), a_sig);  // restarted, not duplicated
    EXPECT_EQ(b.Sign("h", "b"), b_sig);
    EXPECT_EQ(RequestSigner(a).Sign("h", "b"), a_sig);  // a copy shares the key
  }
  std::string other_thread;
  std::thread([&] { other_thread = b.Sign("h", "b") + a.Sign("h", "b"); }).join();
  EXPECT_EQ(other_thread, b_sig + a_sig);
  {
    RequestSigner gone("c", "another secret, 32 bytes long...");
    gone.Sign("h", "b");
  }
  RequestSigner after("d", "0123456789abcdef");  // perhaps where `gone` was
  EXPECT_EQ(after.Sign("h", "b"), a_sig);        // the same secret as `a`
  RequestSigner different("e", "a different secret!");
  EXPECT_NE(different.Sign("h", "b"), a_sig);
}

TEST(RequestSigner, AnyChangedByteFailsVerification) {
  RequestSigner signer("k", "0123456789abcdef");
  const std::string sig = signer.Sign("header", "body");
  EXPECT_EQ(signer.Verify("header", "bodY", sig).code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(signer.Verify("headeR", "body", sig).code(), ErrorCode::kUnauthenticated);
  // Moving bytes between the frames changes the length prefix.
  EXPECT_EQ(signer.Verify("headerb", "ody", sig).code(), ErrorCode::kUnauthenticated);
  std::string bad = sig;
  bad[5] ^= 1;
  EXPECT_EQ(signer.Verify("header", "body", bad).code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(signer.Verify("header", "body", sig.substr(0, 31)).code(), ErrorCode::kUnauthenticated);
}

TEST(RequestSigner, OtherSecretFailsVerification) {
  RequestSigner a("k", "0123456789abcdef");
  RequestSigner b("k", "0123456789abcdeX");
  EXPECT_FALSE(b.Verify("h", "b", a.Sign("h", "b")).ok());
}

TEST(RequestSigner, ShortSecretIsRefused) {
  EXPECT_THROW(RequestSigner("k", "short"), std::invalid_argument);
}

TEST(RequestSigner, NewHeadersCarryFreshNonces) {
  RequestSigner signer("key", "0123456789abcdef");
  const auto now = std::chrono::system_clock::now();
  auto a = signer.NewHeader(now);
  auto b = signer.NewHeader(now);
  EXPECT_EQ(a.key_id, "key");
  EXPECT_EQ(a.nonce.size(), 16u);
  EXPECT_NE(a.nonce, b.nonce);
  EXPECT_OK(codec::DecodeAuthHeader(codec::EncodeAuthHeader(a)));
}

TEST(LoadSecret, ReadsFileWithoutTrailingNewline) {
  testing::TempDir dir;
  testing::WriteSecret(dir / "s", "0123456789abcdef\n");
  auto secret = LoadSecret(dir / "s", "");
  ASSERT_OK(secret);
  EXPECT_EQ(*secret, "0123456789abcdef");
}

TEST(LoadSecret, RefusesAFileOthersCanReadOrItsGroupCanWrite) {
  testing::TempDir dir;
  testing::WriteFile(dir / "s", "0123456789abcdef\n");
  for (auto mode : {0604, 0620, 0644}) {
    std::filesystem::permissions(dir / "s", std::filesystem::perms(mode));
    auto secret = LoadSecret(dir / "s", "");
    ASSERT_FALSE(secret.ok()) << std::oct << mode;
    EXPECT_NE(secret.status().message().find("open to others or group-writable"), std::string::npos)
        << secret.status().message();
    EXPECT_EQ(secret.status().message().find("0123456789abcdef"), std::string::npos);
  }
  // Group read is how a dedicated group (or Kubernetes' fsGroup) shares it.
  for (auto mode : {0600, 0640, 0440, 0400}) {
    std::filesystem::permissions(dir / "s", std::filesystem::perms(mode));
    EXPECT_OK(LoadSecret(dir / "s", ""));
  }
}

TEST(LoadSecret, ReadsEnvironmentAndFailsClosed) {
  ::setenv("BOTMODELS_TEST_SECRET_A", "0123456789abcdef0123", 1);
  auto secret = LoadSecret("", "BOTMODELS_TEST_SECRET_A");
  ASSERT_OK(secret);
  EXPECT_EQ(*secret, "0123456789abcdef0123");
  EXPECT_FALSE(LoadSecret("", "BOTMODELS_TEST_SECRET_UNSET").ok());
  EXPECT_FALSE(LoadSecret("", "").ok());
  ::setenv("BOTMODELS_TEST_SECRET_B", "tooshort", 1);
  auto short_secret = LoadSecret("", "BOTMODELS_TEST_SECRET_B");
  ASSERT_FALSE(short_secret.ok());
  EXPECT_EQ(short_secret.status().message().find("tooshort"), std::string::npos)
      << "the message must not print the secret";
}

}  // namespace
}  // namespace botmodels
