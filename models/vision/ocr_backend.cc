#include "models/vision/ocr_backend.h"

#include <tesseract/baseapi.h>
#include <tesseract/resultiterator.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>

#include "common/value.h"

namespace botmodels {
namespace {

constexpr std::string_view kDataSuffix = ".traineddata";
constexpr int kMaxPsm = tesseract::PSM_RAW_LINE;  // 13
constexpr size_t kMaxLanguageBytes = 256;         // a few dozen codes joined by '+'

struct TextDeleter {
  void operator()(char* text) const { delete[] text; }
};
using Text = std::unique_ptr<char, TextDeleter>;

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

// The codes in "eng+deu", or nullopt when one is not a plain name.
std::optional<std::vector<std::string>> Codes(const std::string& language) {
  std::vector<std::string> codes;
  size_t start = 0;
  while (start <= language.size()) {
    const size_t end = std::min(language.find('+', start), language.size());
    std::string code = language.substr(start, end - start);
    const bool plain = !code.empty() && std::all_of(code.begin(), code.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    });
    if (!plain) return std::nullopt;
    codes.push_back(std::move(code));
    start = end + 1;
  }
  return codes;
}

// confidence 0-100 from Tesseract as 0-1.
double Unit(float percent) { return std::clamp(percent / 100.0, 0.0, 1.0); }

std::string Words(tesseract::TessBaseAPI& api) {
  struct Word {
    std::string text;
    double confidence;
    int box[4];
  };
  std::vector<Word> words;
  std::unique_ptr<tesseract::ResultIterator> it(api.GetIterator());
  if (it) {
    do {
      Text text(it->GetUTF8Text(tesseract::RIL_WORD));
      if (!text) continue;
      int left = 0, top = 0, right = 0, bottom = 0;
      it->BoundingBox(tesseract::RIL_WORD, &left, &top, &right, &bottom);
      words.push_back({text.get(),
                       Unit(it->Confidence(tesseract::RIL_WORD)),
                       {left, top, right - left, bottom - top}});
    } while (it->Next(tesseract::RIL_WORD));
  }
  ValueWriter out;
  out.Array(words.size());
  for (const Word& w : words) {
    out.Map(3).Str("text").Str(w.text).Str("confidence").Double(w.confidence).Str("box").Array(4);
    for (int v : w.box) out.Int(v);
  }
  return out.Take();
}

// Everything a reply views, kept alive by ModelOutputs::owner.
struct OcrResult {
  std::string text, confidence, words, language, image;
};

}  // namespace

OcrBackend::OcrBackend(ModelConfig config)
    : config_(std::move(config)), decoder_(config_.options.Get<OcrOptions>().max_pixels) {}

OcrBackend::~OcrBackend() = default;

std::string OcrBackend::Describe() const {
  return std::string("tesseract ") + tesseract::TessBaseAPI::Version() + ", " +
         config_.options.Get<OcrOptions>().language;
}

std::vector<std::string> OcrBackend::Installed() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry :
       std::filesystem::directory_iterator(config_.options.Get<OcrOptions>().tessdata, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > kDataSuffix.size() && name.ends_with(kDataSuffix) &&
        name != "osd.traineddata") {
      out.push_back(name.substr(0, name.size() - kDataSuffix.size()));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<tesseract::TessBaseAPI*> OcrBackend::Engine(const std::string& language) {
  if (auto it = engines_.find(language); it != engines_.end()) return it->second.get();
  const auto installed = Installed();
  const auto codes = language.size() <= kMaxLanguageBytes ? Codes(language) : std::nullopt;
  if (!codes)
    return InvalidRequest("language '" + language.substr(0, 64) + "' is not a language code");
  for (const auto& code : *codes) {
    if (std::find(installed.begin(), installed.end(), code) == installed.end()) {
      return InvalidRequest("language '" + code + "' is not installed; installed: " +
                            Join(installed) + " (apt install tesseract-ocr-<code>)");
    }
  }
  if (engines_.size() > kMaxEngines) {  // keep the default, drop another
    for (auto it = engines_.begin(); it != engines_.end(); ++it) {
      if (it->first != config_.options.Get<OcrOptions>().language) {
        engines_.erase(it);
        break;
      }
    }
  }
  auto api = std::make_unique<tesseract::TessBaseAPI>();
  if (api->Init(config_.options.Get<OcrOptions>().tessdata.c_str(), language.c_str(),
                tesseract::OEM_LSTM_ONLY) != 0) {
    return Status(ErrorCode::kModelLoadFailed, "tesseract could not load '" + language + "' from " +
                                                   config_.options.Get<OcrOptions>().tessdata);
  }
  api->SetVariable("debug_file", "/dev/null");  // its warnings are not our log
  return engines_.emplace(language, std::move(api)).first->second.get();
}

Status OcrBackend::Load() {
  if (load_status_) return *load_status_;
  auto engine = Engine(config_.options.Get<OcrOptions>().language);
  load_status_ = engine.ok() ? Status()
                             : Status(ErrorCode::kModelLoadFailed,
                                      "ocr: " + std::string(engine.status().message()));
  return *load_status_;
}

Result<ModelOutputs> OcrBackend::Infer(const protocol::TensorViews& inputs) {
  std::string language = config_.options.Get<OcrOptions>().language;
  if (auto it = inputs.find(ocr_io::kLanguage); it != inputs.end()) language = it->second.data;
  int psm = config_.options.Get<OcrOptions>().psm;
  if (auto it = inputs.find(ocr_io::kPsm); it != inputs.end()) {
    const auto n = ReadNumber(it->second.data);
    if (!n || *n != std::floor(*n) || *n < 0 || *n > kMaxPsm) {
      return InvalidRequest("input 'psm': a page segmentation mode is an integer 0-13");
    }
    psm = static_cast<int>(*n);
  }
  auto engine = Engine(language);
  if (!engine.ok()) return engine.status();
  auto pix = decoder_.Decode(inputs.at(ocr_io::kImage).data);
  if (!pix.ok()) return pix.status();

  tesseract::TessBaseAPI& api = **engine;
  api.SetPageSegMode(static_cast<tesseract::PageSegMode>(psm));
  api.SetImage(pix->get());
  if (api.Recognize(nullptr) != 0) {
    api.Clear();
    return InvalidRequest("ocr: tesseract could not read the image with psm " +
                          std::to_string(psm));
  }
  auto result = std::make_shared<OcrResult>();
  Text text(api.GetUTF8Text());
  result->text = text ? text.get() : "";
  result->confidence = ValueWriter().Double(Unit(static_cast<float>(api.MeanTextConf()))).Take();
  result->words = Words(api);
  result->language = language;
  result->image = ImageDecoder::Describe(pix->get());
  api.Clear();

  ModelOutputs out;
  out.views[ocr_io::kText] = {protocol::DType::kString, {}, result->text};
  out.views[ocr_io::kConfidence] = {protocol::DType::kValue, {}, result->confidence};
  out.views[ocr_io::kWords] = {protocol::DType::kValue, {}, result->words};
  out.views[ocr_io::kLanguage] = {protocol::DType::kString, {}, result->language};
  out.views[ocr_io::kImage] = {protocol::DType::kValue, {}, result->image};
  out.owner = std::move(result);
  return out;
}

}  // namespace botmodels
