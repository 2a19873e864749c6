#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace botmodels {

// What a generation route makes.
enum class OutputKind { kImage, kVideo, kAudio };

// An open file under the outputs folder, ready to be served. Owns `fd`.
struct OutputFile {
  int fd = -1;
  uint64_t size = 0;
  std::string content_type;

  OutputFile() = default;
  OutputFile(OutputFile&& other) noexcept;
  OutputFile& operator=(OutputFile&& other) noexcept;
  ~OutputFile();
};

// The files generation routes write and GET /outputs/ serves: under
// <dir>/{images,videos,audio}/, each named by its UTC time and 128 random
// bits (unguessable), with the extension its content shows (sniffed, not
// assumed). Files older than `retention` are deleted, and the oldest first
// while the folder holds more than `max_bytes`. Only a name this store could
// have written is ever opened: no other path, no link, nothing outside.
// Thread-safe.
class OutputStore {
 public:
  OutputStore(std::string dir, std::chrono::milliseconds retention, int64_t max_bytes);

  // Creates the folders (mode 0750) if needed.
  Status Open();

  // Writes `bytes` and returns the path it is served at
  // ("/outputs/audio/20261130_101500_<32 hex>.wav"). Fails with internal when
  // the bytes are not a format `kind` can be (a model returning the wrong
  // thing), or the disk refuses.
  Result<std::string> Save(OutputKind kind, std::string_view bytes);

  // The file served at `url_path` ("/outputs/<kind>/<name>"), or nullopt for
  // anything else: an unknown folder or name, a link, a missing file.
  std::optional<OutputFile> Find(std::string_view url_path) const;

  // Deletes files past the retention, then the oldest while over max_bytes.
  // Returns how many it deleted.
  size_t Sweep(std::chrono::system_clock::time_point now);

 private:
  const std::string dir_;
  const std::chrono::milliseconds retention_;
  const int64_t max_bytes_;
  std::mutex sweep_mutex_;  // one sweep at a time
  std::mutex mutex_;        // guards written_
  int64_t written_ = 0;     // bytes saved since the last sweep: Save sweeps past max_bytes
};

}  // namespace botmodels
