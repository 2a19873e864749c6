#include "models/torchscript/block_cache.h"

#include <bit>

namespace botmodels {

size_t BlockCache::ClassBytes(size_t bytes) {
  const size_t step = std::bit_floor(bytes) / 8;
  return (bytes + step - 1) / step * step;
}

void* BlockCache::Take(size_t class_bytes) {
  for (auto it = blocks_.begin(); it != blocks_.end(); ++it) {
    if (it->bytes != class_bytes) continue;
    void* memory = it->memory;
    cached_bytes_ -= it->bytes;
    blocks_.erase(it);
    return memory;
  }
  return nullptr;
}

std::vector<BlockCache::Block> BlockCache::Put(Block block) {
  if (block.bytes > max_bytes_) return {block};
  blocks_.push_front(block);
  cached_bytes_ += block.bytes;
  return Shrink(max_bytes_);
}

std::vector<BlockCache::Block> BlockCache::Shrink(size_t max_bytes) {
  std::vector<Block> dropped;
  while (cached_bytes_ > max_bytes) {
    dropped.push_back(blocks_.back());
    cached_bytes_ -= blocks_.back().bytes;
    blocks_.pop_back();
  }
  return dropped;
}

}  // namespace botmodels
