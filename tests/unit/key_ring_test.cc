#include "common/key_ring.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "tests/testutil.h"

namespace botmodels {
namespace {

constexpr char kKeys[] = R"(# two keys during a rotation
[[key]]
id = "botserver-2026a"
role = "infer"
secret = "aaaaaaaaaaaaaaaaaaaaaaaa"

[[key]]
id = "ops"
role = "admin"
secret = "bbbbbbbbbbbbbbbbbbbbbbbb"
)";

TEST(KeysFile, ReadsSeveralKeysWithTheirRoles) {
  testing::TempDir dir;
  testing::WriteSecret(dir / "keys.toml", kKeys);
  auto ring = LoadKeysFile(dir / "keys.toml");
  ASSERT_OK(ring);
  ASSERT_EQ(ring->keys().size(), 2u);
  ASSERT_NE(ring->Find("botserver-2026a"), nullptr);
  EXPECT_EQ(ring->Find("botserver-2026a")->role, protocol::Role::kInfer);
  EXPECT_EQ(ring->Find("ops")->role, protocol::Role::kAdmin);
  EXPECT_EQ(ring->Find("ops")->signer.secret(), "bbbbbbbbbbbbbbbbbbbbbbbb");
  EXPECT_EQ(ring->Find("nobody"), nullptr);
}

TEST(KeysFile, RejectsBadKeysNamingLineAndFieldButNoSecret) {
  struct Case {
    std::string toml, expect;
  };
  const std::string secret = "cccccccccccccccccccc";
  const std::vector<Case> cases = {
      {"[[key]]\nid = \"a\"\nrole = \"root\"\nsecret = \"" + secret + "\"\n",
       "keys.toml:3: field 'key[0].role': must be \"infer\" or \"admin\""},
      {"[[key]]\nid = \"a\"\nrole = \"infer\"\nsecret = \"short\"\n",
       "keys.toml:4: field 'key[0].secret': must hold at least 16 bytes"},
      {"[[key]]\nid = \"a\"\nrole = \"infer\"\nsecret = \"" + secret + "\"\n[[key]]\nid = \"a\"\n" +
           "role = \"admin\"\nsecret = \"" + secret + "\"\n",
       "keys.toml:6: field 'key[1].id': key id 'a' appears twice"},
      {"[[key]]\nid = \"a\"\nrole = \"infer\"\n", "field 'key[0].secret' is missing"},
      {"[[key]]\nid = \"a\"\nrole = \"infer\"\nsecret = \"" + secret + "\"\nsecrte = 1\n",
       "keys.toml:5: field 'key[0].secrte': unknown option"},
      {"", "declare at least one [[key]]"},
      {"[[key]]\nsecret = \"" + secret + "\n", "keys.toml:2: not valid TOML"},
  };
  for (const auto& c : cases) {
    testing::TempDir dir;
    testing::WriteSecret(dir / "keys.toml", c.toml);
    auto ring = LoadKeysFile(dir / "keys.toml");
    ASSERT_FALSE(ring.ok()) << c.toml;
    EXPECT_NE(ring.status().message().find(c.expect), std::string::npos)
        << "got: " << ring.status().message();
    EXPECT_EQ(ring.status().message().find(secret), std::string::npos) << ring.status().message();
  }
}

TEST(KeyRing, JoinsTheKeysFileAndTheEnvironmentKey) {
  testing::TempDir dir;
  testing::WriteSecret(dir / "keys.toml", kKeys);
  AuthConfig auth;
  auth.keys_file = dir / "keys.toml";
  auth.secret_env = "BOTMODELS_TEST_KEYRING_SECRET";
  auth.key_id = "from-env";
  auth.key_role = protocol::Role::kAdmin;
  ::unsetenv(auth.secret_env.c_str());
  auto ring = LoadKeyRing(auth);
  ASSERT_OK(ring);
  EXPECT_EQ(ring->keys().size(), 2u);

  ::setenv(auth.secret_env.c_str(), "dddddddddddddddddddd", 1);
  ring = LoadKeyRing(auth);
  ASSERT_OK(ring);
  ASSERT_NE(ring->Find("from-env"), nullptr);
  EXPECT_EQ(ring->Find("from-env")->role, protocol::Role::kAdmin);

  auth.key_id = "ops";  // already in the file
  EXPECT_FALSE(LoadKeyRing(auth).ok());
  ::unsetenv(auth.secret_env.c_str());
}

TEST(KeyRing, FailsClosedWithNoKeys) {
  AuthConfig auth;
  auth.secret_env = "BOTMODELS_TEST_KEYRING_UNSET";
  auto ring = LoadKeyRing(auth);
  ASSERT_FALSE(ring.ok());
  EXPECT_EQ(ring.status().code(), ErrorCode::kUnauthenticated);
}

}  // namespace
}  // namespace botmodels
