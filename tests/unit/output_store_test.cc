// OutputStore: generated files, their names, retention and cap.
#include "gateway/output_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <utime.h>

#include <filesystem>
#include <fstream>

#include "tests/testutil.h"

namespace botmodels {
namespace {

namespace fs = std::filesystem;

constexpr char kPng[] = "\x89PNG\r\n\x1a\n-rest-of-a-png";
constexpr char kWav[] = "RIFF\x24\0\0\0WAVEfmt ";

TEST(OutputStore, SavesUnderAnUnguessableNameAndFindsOnlyItsOwnNames) {
  testing::TempDir temp;
  const fs::path dir = temp.path();
  OutputStore store(dir / "out", std::chrono::hours(1), 1 << 20);
  ASSERT_OK(store.Open());
  auto a = store.Save(OutputKind::kAudio, std::string(kWav, sizeof kWav - 1));
  auto b = store.Save(OutputKind::kAudio, std::string(kWav, sizeof kWav - 1));
  ASSERT_OK(a);
  ASSERT_OK(b);
  EXPECT_NE(*a, *b);
  EXPECT_EQ(a->rfind("/outputs/audio/", 0), 0u);
  EXPECT_EQ(a->substr(a->size() - 4), ".wav");
  EXPECT_GE(a->size(), std::string("/outputs/audio/20261130_000000_").size() + 32 + 4);
  auto file = store.Find(*a);
  ASSERT_TRUE(file);
  EXPECT_EQ(file->content_type, "audio/wav");
  EXPECT_EQ(file->size, sizeof kWav - 1);
  // An image route's PNG goes to images/, and bytes of no known format are refused.
  auto png = store.Save(OutputKind::kImage, std::string(kPng, sizeof kPng - 1));
  ASSERT_OK(png);
  EXPECT_EQ(png->rfind("/outputs/images/", 0), 0u);
  EXPECT_FALSE(store.Save(OutputKind::kImage, std::string(kWav, sizeof kWav - 1)).ok());
  EXPECT_FALSE(store.Save(OutputKind::kVideo, "not a video").ok());

  testing::WriteFile(dir / "secret", "x");
  fs::create_symlink(dir / "secret", dir / "out" / "audio" / "20260101_000000_aa.wav");
  for (const std::string& bad :
       {std::string("/outputs/audio/20260101_000000_aa.wav"), std::string("/outputs/../secret"),
        std::string("/outputs/audio/../../secret"), std::string("/outputs/keys/x.wav"),
        std::string("/outputs/audio/x.txt"), std::string("/outputs/audio/.wav"),
        a->substr(0, a->size() - 4) + ".png", std::string("/elsewhere") + *a}) {
    EXPECT_FALSE(store.Find(bad)) << bad;
  }
}

TEST(OutputStore, SweepDeletesFilesPastRetentionThenTheOldestOverTheCap) {
  testing::TempDir temp;
  const fs::path dir = temp.path();
  OutputStore store(dir / "out", std::chrono::hours(1), 3000);
  ASSERT_OK(store.Open());
  const std::string wav = std::string(kWav, sizeof kWav - 1) + std::string(980, 'x');  // 1000 B
  std::vector<std::string> paths;
  for (int i = 0; i < 3; ++i) {
    auto p = store.Save(OutputKind::kAudio, wav);
    ASSERT_OK(p);
    paths.push_back((dir / "out").string() + p->substr(std::string("/outputs").size()));
  }
  // The first is two hours old: past retention.
  const auto old = fs::file_time_type::clock::now() - std::chrono::hours(2);
  fs::last_write_time(paths[0], old);
  fs::last_write_time(paths[1], old + std::chrono::minutes(90));
  EXPECT_EQ(store.Sweep(std::chrono::system_clock::now()), 1u);
  EXPECT_FALSE(fs::exists(paths[0]));
  EXPECT_TRUE(fs::exists(paths[1]));
  // Two more put it at 4000 bytes, over the 3000 cap: the oldest goes.
  for (int i = 0; i < 2; ++i) ASSERT_OK(store.Save(OutputKind::kAudio, wav));
  store.Sweep(std::chrono::system_clock::now());
  EXPECT_FALSE(fs::exists(paths[1]));
  EXPECT_TRUE(fs::exists(paths[2]));
  // A day later, everything has expired.
  store.Sweep(std::chrono::system_clock::now() + std::chrono::hours(24));
  EXPECT_FALSE(fs::exists(paths[2]));
}

}  // namespace
}  // namespace botmodels
