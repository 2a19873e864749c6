#include "gateway/file_source.h"

#include <unistd.h>

namespace botmodels {
namespace {

constexpr uint64_t kPieceBytes = 64 << 10;  // one read, one write: a socket buffer's worth

}  // namespace

FileSource::FileSource(std::shared_ptr<const OutputFile> file, uint64_t offset, uint64_t length)
    : file_(std::move(file)), offset_(offset), length_(length) {}

void FileSource::Next(std::function<void(Result<std::string>)> done) {
  const uint64_t want = std::min(kPieceBytes, length_ - sent_);
  if (want == 0) return done(std::string());
  std::string piece(want, '\0');
  const ssize_t n = ::pread(file_->fd, piece.data(), want, static_cast<off_t>(offset_ + sent_));
  if (n <= 0) {  // the file shrank under us (deleted files stay readable)
    return done(Status(ErrorCode::kInternal, "output file read failed"));
  }
  piece.resize(static_cast<size_t>(n));
  sent_ += static_cast<uint64_t>(n);
  done(std::move(piece));
}

}  // namespace botmodels
