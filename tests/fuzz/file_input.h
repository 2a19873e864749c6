#pragma once

// Fuzz targets whose parser reads a file: each input is written to one file
// (mode 0600) in a private folder, then parsed.
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace botmodels::fuzz {

// A folder of this process's own, made once.
inline const std::string& Folder() {
  static const std::string folder = [] {
    std::string pattern = "/tmp/botmodels-fuzz-XXXXXX";
    return std::string(mkdtemp(pattern.data()));
  }();
  return folder;
}

// Writes `data` to Folder()/name and returns the path.
inline std::string WriteInput(const std::string& name, const uint8_t* data, size_t size) {
  const std::string path = Folder() + "/" + name;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) __builtin_trap();
  for (size_t done = 0; done < size;) {
    const ssize_t n = ::write(fd, data + done, size - done);
    if (n <= 0) __builtin_trap();
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return path;
}

}  // namespace botmodels::fuzz
