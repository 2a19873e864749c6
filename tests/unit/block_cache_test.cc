#include "models/torchscript/block_cache.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace botmodels {
namespace {

constexpr size_t kMiB = size_t{1} << 20;

void* Fake(uintptr_t n) { return reinterpret_cast<void*>(n * 4096); }  // never dereferenced

TEST(BlockCache, SizeClassesRoundUpByAtMostAnEighth) {
  for (size_t bytes = BlockCache::kMinBytes; bytes < 512 * kMiB; bytes = bytes * 9 / 8 + 4097) {
    const size_t class_bytes = BlockCache::ClassBytes(bytes);
    EXPECT_GE(class_bytes, bytes);
    EXPECT_LE(class_bytes, bytes + bytes / 8) << bytes;
    EXPECT_EQ(BlockCache::ClassBytes(class_bytes), class_bytes) << "a class is its own class";
  }
  EXPECT_EQ(BlockCache::ClassBytes(72 * kMiB), 72 * kMiB);
  EXPECT_EQ(BlockCache::ClassBytes(64 * kMiB + 1), 72 * kMiB);
}

TEST(BlockCache, TakeGivesTheMostRecentlyFreedBlockOfThatClassOnly) {
  BlockCache cache(64 * kMiB);
  EXPECT_TRUE(cache.Put({Fake(1), 4 * kMiB}).empty());
  EXPECT_TRUE(cache.Put({Fake(2), 8 * kMiB}).empty());
  EXPECT_TRUE(cache.Put({Fake(3), 4 * kMiB}).empty());
  EXPECT_EQ(cache.cached_bytes(), 16 * kMiB);

  EXPECT_EQ(cache.Take(5 * kMiB), nullptr) << "no block of that class";
  EXPECT_EQ(cache.Take(4 * kMiB), Fake(3));
  EXPECT_EQ(cache.Take(4 * kMiB), Fake(1));
  EXPECT_EQ(cache.Take(4 * kMiB), nullptr);
  EXPECT_EQ(cache.cached_bytes(), 8 * kMiB);
}

TEST(BlockCache, PastItsCapTheLeastRecentlyFreedAreHandedBackToFree) {
  BlockCache cache(10 * kMiB);
  EXPECT_TRUE(cache.Put({Fake(1), 4 * kMiB}).empty());
  EXPECT_TRUE(cache.Put({Fake(2), 4 * kMiB}).empty());
  const std::vector<BlockCache::Block> dropped = cache.Put({Fake(3), 4 * kMiB});
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(dropped[0].memory, Fake(1));
  EXPECT_EQ(cache.cached_bytes(), 8 * kMiB);

  const std::vector<BlockCache::Block> too_big = cache.Put({Fake(4), 16 * kMiB});
  ASSERT_EQ(too_big.size(), 1u) << "a block larger than the cap is not kept";
  EXPECT_EQ(too_big[0].memory, Fake(4));
  EXPECT_EQ(cache.cached_bytes(), 8 * kMiB);

  EXPECT_EQ(cache.Shrink(0).size(), 2u);
  EXPECT_EQ(cache.cached_bytes(), 0u);
  EXPECT_EQ(cache.Take(4 * kMiB), nullptr);
}

}  // namespace
}  // namespace botmodels
