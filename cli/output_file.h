#pragma once

#include <cstdint>
#include <fstream>
#include <string>

#include "common/protocol.h"
#include "common/status.h"

namespace botmodels {

// Where `botmodels infer --out PATH` writes a model's binary output, as it
// arrives. Partial replies of a streamed request append their bytes: a
// `pcm` output (16-bit mono PCM at `sample_rate`, docs/protocol.md) goes
// into a WAV file whose header is rewritten with the final size at the
// end; any other bytes output is written as is. A final reply's bytes
// output (an unstreamed `audio` WAV, a QR code PNG) is the whole file.
class OutputFile {
 public:
  explicit OutputFile(std::string path) : path_(std::move(path)) {}

  // Writes what `outputs` (a partial or the final reply's) brings, and
  // removes it from `outputs`. Errors: the file cannot be written.
  Status Take(protocol::NamedTensors& outputs);
  // Completes the file (the WAV header's sizes). Errors: nothing was written.
  Status Finish();

  const std::string& path() const { return path_; }
  uint64_t bytes() const { return bytes_; }
  uint32_t chunks() const { return chunks_; }

 private:
  Status Open();

  std::string path_;
  std::ofstream file_;
  int wav_rate_ = 0;  // > 0 once a WAV header for pcm chunks is written
  uint64_t bytes_ = 0;
  uint32_t chunks_ = 0;
};

}  // namespace botmodels
