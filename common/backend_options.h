#pragma once

// The native backends (models/vision, models/speech): their names in
// model.toml, the inputs and outputs each declares, and their [options]
// table. Torch-free and library-free, so that the broker validates a model
// and lists its inputs without linking Tesseract or PocketSphinx.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/protocol.h"
#include "common/status.h"
#include "common/toml_reader.h"

namespace botmodels {

// What runs a model's forward.
enum class BackendKind {
  kTorchScript,  // `file` is a TorchScript module (torch::jit::load)
  kIdentity,     // no file, no torch: outputs are the inputs (benchmarks, smoke tests)
  kOcr,          // Tesseract 5 (LSTM): text, words and boxes in an image
  kBarcode,      // ZXing-cpp: every barcode and QR code in an image
  kQrCode,       // ZXing-cpp: a QR code of a text, as a PNG
  kTts,          // Flite (English voices) and eSpeak NG (~100 languages): text to speech
  kStt,          // PocketSphinx (US English): speech to text
};
std::string_view BackendName(BackendKind kind);
std::optional<BackendKind> ParseBackend(std::string_view name);
// True for the backends that need libtorch (served by botmodels-worker; the
// others by botmodels-worker-native).
inline bool NeedsTorch(BackendKind kind) { return kind == BackendKind::kTorchScript; }
// True for the backends that declare their own inputs and outputs.
inline bool IsNative(BackendKind kind) {
  return kind != BackendKind::kTorchScript && kind != BackendKind::kIdentity;
}

// Images in (ocr, barcode).
struct ImageOptions {
  // Decompression bombs: an image whose header claims more pixels is refused
  // before it is decoded. 50 MP holds an A3 page at 600 dpi and any phone photo.
  uint64_t max_pixels = 50'000'000;

  bool operator==(const ImageOptions&) const = default;
};

struct OcrOptions {
  std::string language = "eng";  // Tesseract's codes; "eng+deu" combines; a request may override
  int psm = 3;                   // page segmentation mode 0-13; 3 = automatic
  std::string tessdata = "/usr/share/tesseract-ocr/5/tessdata";  // Debian's tesseract-ocr-*

  bool operator==(const OcrOptions&) const = default;
};

struct QrOptions {
  std::string ec_level = "M";  // L, M, Q or H: 7, 15, 25 or 30 % of the code may be lost
  int size = 256;              // px, the side of the PNG unless a request asks otherwise
  int max_size = 4096;         // px: a request's size above this is refused (16 MP of PNG)
  int max_text_bytes = 2953;   // the most a QR code holds (version 40, level L, bytes)

  bool operator==(const QrOptions&) const = default;
};

struct TtsOptions {
  std::string voice =
      "slt";          // Flite: slt, awb, rms, kal16; else an eSpeak NG voice ("de", "en-us")
  double rate = 1.0;  // speaking rate; 2 = twice as fast
  uint64_t max_text_bytes = 100'000;  // ~2 hours of speech: longer texts are split by the caller
  std::string espeak_data = "/usr/lib/x86_64-linux-gnu/espeak-ng-data";

  bool operator==(const TtsOptions&) const = default;
};

struct SttOptions {
  std::string model_dir = "/usr/share/pocketsphinx/model/en-us";  // Debian's pocketsphinx-en-us
  double max_seconds = 600;  // audio longer than 10 min is refused (a voice note is < 5)

  bool operator==(const SttOptions&) const = default;
};

struct BackendOptions {
  ImageOptions image;
  OcrOptions ocr;
  QrOptions qr;
  TtsOptions tts;
  SttOptions stt;

  bool operator==(const BackendOptions&) const = default;
};
// Reads the model's [options] table for `kind`: only that backend's keys,
// each range-checked; errors name the file, line and field.
Result<BackendOptions> ReadBackendOptions(const TomlReader& options, BackendKind kind);

// The inputs and outputs a native backend declares (docs/models.md).
struct BackendSpecs {
  std::vector<protocol::TensorSpec> inputs;
  std::vector<protocol::TensorSpec> outputs;
};
BackendSpecs NativeSpecs(BackendKind kind);

}  // namespace botmodels
