// ApiKeys: the gateway's keys file and roles.
#include "gateway/api_keys.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "tests/testutil.h"

namespace botmodels {
namespace {

namespace fs = std::filesystem;

TEST(ApiKeys, MatchesOnlyAPresentedKeyAndKeepsItsRole) {
  ApiKeys keys;
  ASSERT_OK(keys.Add("bot", protocol::Role::kInfer, "bot-key-0123456789abcdef"));
  ASSERT_OK(keys.Add("ops", protocol::Role::kAdmin, "ops-key-0123456789abcdef"));
  const ApiKey* bot = keys.Match("bot-key-0123456789abcdef");
  ASSERT_NE(bot, nullptr);
  EXPECT_EQ(bot->id, "bot");
  EXPECT_EQ(keys.Match("ops-key-0123456789abcdef")->role, protocol::Role::kAdmin);
  for (const char* wrong : {"", "bot-key-0123456789abcde", "bot-key-0123456789abcdefX", "bot"}) {
    EXPECT_EQ(keys.Match(wrong), nullptr) << wrong;
  }
  EXPECT_FALSE(keys.Add("short", protocol::Role::kInfer, "too-short").ok());
  EXPECT_FALSE(keys.Add("bot", protocol::Role::kInfer, "another-key-0123456789").ok());
}

TEST(ApiKeys, RefusesAFileOthersCanReadAndNeverQuotesAKey) {
  testing::TempDir temp;
  const fs::path dir = temp.path();
  const std::string path = dir / "keys.toml";
  testing::WriteFile(path, "[[key]]\nid = \"bot\"\nkey = \"bot-key-0123456789abcdef\"\n");
  ::chmod(path.c_str(), 0644);
  auto open = ApiKeys::Load(path);
  ASSERT_FALSE(open.ok());
  ::chmod(path.c_str(), 0600);
  ASSERT_OK(ApiKeys::Load(path));
  testing::WriteSecret(
      dir / "bad.toml",
      "[[key]]\nid = \"bot\"\nrole = \"root\"\nkey = \"secret-value-123456789\"\n");
  auto bad = ApiKeys::Load(dir / "bad.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("role"), std::string::npos);
  EXPECT_EQ(bad.status().message().find("secret-value"), std::string::npos);
  testing::WriteSecret(dir / "syntax.toml", "[[key]]\nkey = \"secret-value-123456789\n");
  auto syntax = ApiKeys::Load(dir / "syntax.toml");
  ASSERT_FALSE(syntax.ok());
  EXPECT_EQ(syntax.status().message().find("secret-value"), std::string::npos);
}

}  // namespace
}  // namespace botmodels
