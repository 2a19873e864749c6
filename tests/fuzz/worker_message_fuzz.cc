// What the broker reads from a worker (hello, state, memory, credit) and a
// worker from the broker (job header).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace botmodels;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto hello = codec::DecodeHello(bytes);
  if (hello.ok() && !(*codec::DecodeHello(codec::EncodeHello(*hello)) == *hello)) __builtin_trap();
  (void)codec::DecodeWorkerState(bytes);
  auto memory = codec::DecodeWorkerMemory(bytes);
  if (memory.ok() && !(*codec::DecodeWorkerMemory(codec::EncodeWorkerMemory(*memory)) == *memory)) {
    __builtin_trap();
  }
  auto credit = codec::DecodeWorkerCredit(bytes);
  if (credit.ok() && !(*codec::DecodeWorkerCredit(codec::EncodeWorkerCredit(*credit)) == *credit)) {
    __builtin_trap();
  }
  (void)codec::DecodeJobHeader(bytes);
  return 0;
}
