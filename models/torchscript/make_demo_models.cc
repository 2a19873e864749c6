// botmodels-make-demo-models REPOSITORY: writes the demo models (double, mlp).
#include <exception>
#include <iostream>

#include "models/torchscript/script_model.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: botmodels-make-demo-models REPOSITORY\n";
    return 2;
  }
  try {
    botmodels::WriteScriptModel(argv[1], botmodels::DoubleModel());
    botmodels::WriteScriptModel(argv[1], botmodels::MlpModel());
  } catch (const std::exception& e) {
    std::cerr << "botmodels-make-demo-models: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
