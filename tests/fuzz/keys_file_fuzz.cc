// The operator's keys file.
#include "common/key_ring.h"
#include "tests/fuzz/file_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)botmodels::LoadKeysFile(botmodels::fuzz::WriteInput("keys.toml", data, size));
  return 0;
}
