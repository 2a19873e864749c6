#include "gateway/routes/route_replies.h"

#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "common/value.h"
#include "models/pipelines/caption_spec.h"
#include "models/pipelines/whisper_spec.h"
#include "models/speech/stt_spec.h"
#include "models/vision/barcode_spec.h"
#include "models/vision/ocr_spec.h"

namespace botmodels::route_replies {
namespace {

using nlohmann::json;

// {left, top, width, height} from a [left, top, width, height] box.
json Rect(const json& box) {
  if (!box.is_array() || box.size() != 4) return nullptr;
  return {{"left", box[0]}, {"top", box[1]}, {"width", box[2]}, {"height", box[3]}};
}

bool IsQr(std::string_view format) {
  return format == "QRCode" || format == "MicroQRCode" || format == "rMQRCode";
}

json Codes(const protocol::NamedTensors& outputs) {
  json codes = Output(outputs, barcode_io::kCodes);
  return codes.is_array() ? codes : json::array();
}

std::string Text(const json& code) {
  const auto it = code.find(barcode_io::kText);
  return it != code.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string Format(const json& code) {
  const auto it = code.find(barcode_io::kFormat);
  return it != code.end() && it->is_string() ? it->get<std::string>() : std::string();
}

json NumberOr(const json& value, double fallback) {
  return value.is_number() ? value : json(fallback);
}

}  // namespace

json Output(const protocol::NamedTensors& outputs, std::string_view name) {
  const auto it = outputs.find(std::string(name));
  if (it == outputs.end()) return nullptr;
  switch (it->second.dtype) {
    case protocol::DType::kString:
      return it->second.data;
    case protocol::DType::kValue:
      return json::parse(ValueToJson(it->second.data), nullptr, false);
    default:
      return nullptr;
  }
}

std::string ZbarType(std::string_view format) {
  if (format == "ITF") return "I25";
  if (format == "DataBarExpanded") return "DATABAR_EXP";
  std::string type;
  for (char c : format) {
    if (c != '-') type += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return type;
}

json Ocr(const protocol::NamedTensors& outputs) {
  const json text = Output(outputs, ocr_io::kText);
  const json words = Output(outputs, ocr_io::kWords);
  const std::string body = text.is_string() ? text.get<std::string>() : "";
  return {{"success", true},
          {"text", body},
          {"confidence", NumberOr(Output(outputs, ocr_io::kConfidence), 0)},
          {"language", Output(outputs, ocr_io::kLanguage)},
          {"word_count", words.is_array() ? words.size() : 0},
          {"error", nullptr}};
}

json QrCodes(const protocol::NamedTensors& outputs) {
  json codes = json::array();
  for (const json& code : Codes(outputs)) {
    if (!IsQr(Format(code))) continue;
    json polygon = json::array();
    if (const auto it = code.find(barcode_io::kPolygon); it != code.end() && it->is_array()) {
      for (const json& p : *it) {
        if (p.is_array() && p.size() == 2) polygon.push_back({{"x", p[0]}, {"y", p[1]}});
      }
    }
    codes.push_back({{"data", Text(code)},
                     {"type", ZbarType(Format(code))},
                     {"rect", Rect(code.value(barcode_io::kBox, json()))},
                     {"polygon", polygon}});
  }
  const bool found = !codes.empty();
  return {{"success", found},
          {"data", found ? codes[0]["data"] : json()},
          {"codes", codes},
          {"count", codes.size()},
          {"error", found ? json() : json("No QR code found in image")}};
}

json Barcodes(const protocol::NamedTensors& outputs) {
  json barcodes = json::array();
  for (const json& code : Codes(outputs)) {
    barcodes.push_back({{"data", Text(code)},
                        {"type", ZbarType(Format(code))},
                        {"rect", Rect(code.value(barcode_io::kBox, json()))}});
  }
  const bool found = !barcodes.empty();
  return {{"success", found},
          {"barcodes", barcodes},
          {"count", barcodes.size()},
          {"data", found ? barcodes[0]["data"] : json()},
          {"error", found ? json() : json("No barcode found in image")}};
}

json CodeList(const protocol::NamedTensors& outputs) {
  json codes = json::array();
  for (const json& code : Codes(outputs)) {
    codes.push_back({{"data", Text(code)}, {"type", ZbarType(Format(code))}});
  }
  return codes;
}

json SpeechToText(const protocol::NamedTensors& outputs) {
  const json text = Output(outputs, stt_io::kText);
  return {{"text", text.is_string() ? text : json("")},
          {"language", Output(outputs, stt_io::kLanguage)},
          {"confidence", Output(outputs, stt_io::kConfidence)}};
}

json Language(const protocol::NamedTensors& outputs) {
  // A model that detected the language (Whisper) says how sure it is of
  // that; others only of their transcript.
  const json detected = Output(outputs, whisper_io::kLanguageProbability);
  return {
      {"language", Output(outputs, whisper_io::kLanguage)},
      {"confidence", detected.is_number() ? detected : Output(outputs, whisper_io::kConfidence)}};
}

json Description(const protocol::NamedTensors& outputs, double seconds) {
  const json description = Output(outputs, caption_io::kText);
  return {{"description", description.is_string() ? description : json("")},
          {"confidence", Output(outputs, caption_io::kConfidence)},
          {"generation_time", seconds}};
}

json VideoDescription(const protocol::NamedTensors& outputs, double seconds) {
  const json description = Output(outputs, caption_io::kText);
  return {{"description", description.is_string() ? description : json("")},
          {"frame_count", NumberOr(Output(outputs, "frame_count"), 0)},
          {"generation_time", seconds}};
}

json Generated(const std::string& file_path, double seconds) {
  return {{"status", "completed"},
          {"file_path", file_path},
          {"generation_time", seconds},
          {"error", nullptr},
          {"timestamp", UtcTimestamp()}};
}

json GenerationFailure(std::string_view message) {
  return {{"status", "error"},
          {"file_path", nullptr},
          {"generation_time", nullptr},
          {"error", message},
          {"timestamp", UtcTimestamp()}};
}

json QrCodeFailure(std::string_view message) {
  return {{"success", false},
          {"data", nullptr},
          {"codes", json::array()},
          {"count", 0},
          {"error", message}};
}

json BarcodeFailure(std::string_view message) {
  return {{"success", false}, {"barcodes", json::array()}, {"count", 0}, {"error", message}};
}

json OcrFailure(std::string_view message) {
  return {{"success", false},    {"text", ""},      {"confidence", 0},
          {"language", nullptr}, {"word_count", 0}, {"error", message}};
}

json AnalysisFailure(std::string_view message) { return {{"success", false}, {"error", message}}; }

std::string UtcTimestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() %
      1'000'000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[40];
  const size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(text + n, sizeof text - n, ".%06lld", static_cast<long long>(micros));
  return text;
}

}  // namespace botmodels::route_replies
