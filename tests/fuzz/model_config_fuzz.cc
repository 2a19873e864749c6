// A model author's model.toml.
#include <filesystem>

#include "models/registry/model_config.h"
#include "tests/fuzz/file_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace botmodels;
  static const std::string model = [] {
    std::filesystem::create_directories(fuzz::Folder() + "/repo/m");
    return fuzz::Folder() + "/repo/m";
  }();
  fuzz::WriteInput("repo/m/model.toml", data, size);
  (void)LoadModelConfig(model);
  return 0;
}
