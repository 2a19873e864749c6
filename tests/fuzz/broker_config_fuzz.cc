// The operator's broker config.
#include "common/broker_config.h"
#include "tests/fuzz/file_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)botmodels::LoadBrokerConfig(botmodels::fuzz::WriteInput("broker.toml", data, size));
  return 0;
}
