#pragma once

#include <cstdint>
#include <memory>

#include "gateway/http/http_message.h"
#include "gateway/output_store.h"

namespace botmodels {

// Serves bytes [offset, offset + length) of an open output file, a piece at
// a time, so that a large video is never held in memory.
class FileSource : public BodySource {
 public:
  FileSource(std::shared_ptr<const OutputFile> file, uint64_t offset, uint64_t length);

  std::optional<uint64_t> size() const override { return length_; }
  void Next(std::function<void(Result<std::string>)> done) override;

 private:
  std::shared_ptr<const OutputFile> file_;
  uint64_t offset_;
  uint64_t length_;
  uint64_t sent_ = 0;
};

}  // namespace botmodels
