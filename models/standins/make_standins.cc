// botmodels-make-standins REPOSITORY FIXTURES: writes the pipelines'
// stand-in models (standin_models.h) for the tests and the bench.
#include <exception>
#include <iostream>

#include "models/standins/standin_models.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: botmodels-make-standins REPOSITORY FIXTURES\n";
    return 2;
  }
  try {
    botmodels::WriteWhisperStandin(argv[1], argv[2]);
    botmodels::WriteCaptionStandins(argv[1], argv[2]);
    botmodels::WriteDiffusionStandins(argv[1]);
  } catch (const std::exception& e) {
    std::cerr << "botmodels-make-standins: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
