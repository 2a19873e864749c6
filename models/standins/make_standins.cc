// botmodels-make-standins [--size tiny|base|small] REPOSITORY FIXTURES:
// writes the pipelines' stand-in models (standin_models.h). tiny (the
// default): every tiny stand-in, for the tests; base: Whisper-base's and
// BLIP-base's sizes; small: Whisper-small's, for the benchmarks.
#include <exception>
#include <iostream>
#include <string>

#include "models/standins/standin_models.h"

int main(int argc, char** argv) {
  std::string size = "tiny";
  int first = 1;
  if (argc == 5 && std::string(argv[1]) == "--size") {
    size = argv[2];
    first = 3;
  }
  if (argc - first != 2 || (size != "tiny" && size != "base" && size != "small")) {
    std::cerr << "usage: botmodels-make-standins [--size tiny|base|small] REPOSITORY FIXTURES\n";
    return 2;
  }
  const std::string repository = argv[first], fixtures = argv[first + 1];
  try {
    using botmodels::StandinSize;
    if (size == "tiny") {
      botmodels::WriteWhisperStandin(repository, fixtures);
      botmodels::WriteCaptionStandins(repository, fixtures);
      botmodels::WriteDiffusionStandins(repository);
    } else if (size == "base") {
      botmodels::WriteWhisperStandin(repository, fixtures, StandinSize::kBase);
      botmodels::WriteBlipBaseStandin(repository, fixtures);
    } else {
      botmodels::WriteWhisperStandin(repository, fixtures, StandinSize::kSmall);
    }
  } catch (const std::exception& e) {
    std::cerr << "botmodels-make-standins: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
