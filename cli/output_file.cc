#include "cli/output_file.h"

#include <algorithm>

#include "common/value.h"
#include "models/codecs/wav.h"

namespace botmodels {
namespace {

constexpr uint64_t kMaxWavData = UINT32_MAX - 36;  // RIFF sizes are 32-bit

}  // namespace

Status OutputFile::Open() {
  if (file_.is_open()) return {};
  file_.open(path_, std::ios::binary | std::ios::trunc);
  if (!file_) return InvalidRequest("cannot write " + path_);
  return {};
}

Status OutputFile::Take(protocol::NamedTensors& outputs) {
  if (auto pcm = outputs.find("pcm"); pcm != outputs.end()) {
    if (wav_rate_ == 0) {
      auto rate = outputs.find("sample_rate");
      const auto hz = rate == outputs.end() ? std::nullopt : ReadNumber(rate->second.data);
      if (!hz || *hz < 1) return InvalidRequest("a pcm chunk came without its sample_rate");
      BOTMODELS_RETURN_IF_ERROR(Open());
      wav_rate_ = static_cast<int>(*hz);
      file_ << WavHeader(wav_rate_, 0);  // rewritten by Finish()
    }
    file_.write(pcm->second.data.data(), static_cast<std::streamsize>(pcm->second.data.size()));
    file_.flush();  // a player reading the file may start now
    bytes_ += pcm->second.data.size();
    ++chunks_;
    outputs.erase(pcm);
    return file_ ? Status() : InvalidRequest("cannot write " + path_);
  }
  for (auto it = outputs.begin(); it != outputs.end(); ++it) {
    if (it->second.dtype != protocol::DType::kBytes) continue;
    BOTMODELS_RETURN_IF_ERROR(Open());
    file_.write(it->second.data.data(), static_cast<std::streamsize>(it->second.data.size()));
    bytes_ += it->second.data.size();
    outputs.erase(it);
    return file_ ? Status() : InvalidRequest("cannot write " + path_);
  }
  return {};
}

Status OutputFile::Finish() {
  if (!file_.is_open()) return InvalidRequest("the reply held no binary output to write");
  if (wav_rate_ > 0) {
    file_.seekp(0);
    file_ << WavHeader(wav_rate_, static_cast<uint32_t>(std::min(bytes_, kMaxWavData)));
  }
  file_.close();
  return file_ ? Status() : InvalidRequest("cannot write " + path_);
}

}  // namespace botmodels
