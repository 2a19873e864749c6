#include "common/secret_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace botmodels {
namespace {

Status Failed(const std::string& what, const std::string& path) {
  return {ErrorCode::kUnauthenticated, what + " " + path + ": " + std::strerror(errno)};
}

std::string Octal(mode_t mode) {
  std::ostringstream out;
  out << std::oct << (mode & 0777);
  return "0" + out.str();
}

}  // namespace

Result<std::string> ReadSecretFile(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return Failed("cannot read", path);
  // Group read is allowed: a dedicated group, or Kubernetes' fsGroup on secret volumes.
  if ((info.st_mode & (S_IRWXO | S_IWGRP | S_IXGRP)) != 0) {
    return Status(ErrorCode::kUnauthenticated,
                  path + " has mode " + Octal(info.st_mode) +
                      ", open to others or group-writable: run chmod 600 " + path);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Failed("cannot read", path);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

Status WriteSecretFile(const std::string& path, const std::string& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Failed("cannot create", path);
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status failed = Failed("cannot write", path);
      ::close(fd);
      return failed;
    }
    done += static_cast<size_t>(n);
  }
  return ::close(fd) == 0 ? Status() : Failed("cannot write", path);
}

}  // namespace botmodels
