#include "gateway/route_replies.h"

#include <cctype>

#include "common/value.h"

namespace botmodels {
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
  json codes = RouteReplies::Output(outputs, "codes");
  return codes.is_array() ? codes : json::array();
}

std::string Text(const json& code) {
  const auto it = code.find("text");
  return it != code.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string Format(const json& code) {
  const auto it = code.find("format");
  return it != code.end() && it->is_string() ? it->get<std::string>() : std::string();
}

json NumberOr(const json& value, double fallback) {
  return value.is_number() ? value : json(fallback);
}

}  // namespace

json RouteReplies::Output(const protocol::NamedTensors& outputs, std::string_view name) {
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

std::string RouteReplies::ZbarType(std::string_view format) {
  if (format == "ITF") return "I25";
  if (format == "DataBarExpanded") return "DATABAR_EXP";
  std::string type;
  for (char c : format) {
    if (c != '-') type += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return type;
}

json RouteReplies::Ocr(const protocol::NamedTensors& outputs) {
  const json text = Output(outputs, "text");
  const json words = Output(outputs, "words");
  const std::string body = text.is_string() ? text.get<std::string>() : "";
  return {{"success", true},
          {"text", body},
          {"confidence", NumberOr(Output(outputs, "confidence"), 0)},
          {"language", Output(outputs, "language")},
          {"word_count", words.is_array() ? words.size() : 0},
          {"error", nullptr}};
}

json RouteReplies::QrCodes(const protocol::NamedTensors& outputs) {
  json codes = json::array();
  for (const json& code : Codes(outputs)) {
    if (!IsQr(Format(code))) continue;
    json polygon = json::array();
    if (const auto it = code.find("polygon"); it != code.end() && it->is_array()) {
      for (const json& p : *it) {
        if (p.is_array() && p.size() == 2) polygon.push_back({{"x", p[0]}, {"y", p[1]}});
      }
    }
    codes.push_back({{"data", Text(code)},
                     {"type", ZbarType(Format(code))},
                     {"rect", Rect(code.value("box", json()))},
                     {"polygon", polygon}});
  }
  const bool found = !codes.empty();
  return {{"success", found},
          {"data", found ? codes[0]["data"] : json()},
          {"codes", codes},
          {"count", codes.size()},
          {"error", found ? json() : json("No QR code found in image")}};
}

json RouteReplies::Barcodes(const protocol::NamedTensors& outputs) {
  json barcodes = json::array();
  for (const json& code : Codes(outputs)) {
    barcodes.push_back({{"data", Text(code)},
                        {"type", ZbarType(Format(code))},
                        {"rect", Rect(code.value("box", json()))}});
  }
  const bool found = !barcodes.empty();
  return {{"success", found},
          {"barcodes", barcodes},
          {"count", barcodes.size()},
          {"data", found ? barcodes[0]["data"] : json()},
          {"error", found ? json() : json("No barcode found in image")}};
}

json RouteReplies::CodeList(const protocol::NamedTensors& outputs) {
  json codes = json::array();
  for (const json& code : Codes(outputs)) {
    codes.push_back({{"data", Text(code)}, {"type", ZbarType(Format(code))}});
  }
  return codes;
}

json RouteReplies::SpeechToText(const protocol::NamedTensors& outputs) {
  const json text = Output(outputs, "text");
  return {{"text", text.is_string() ? text : json("")},
          {"language", Output(outputs, "language")},
          {"confidence", Output(outputs, "confidence")}};
}

json RouteReplies::Language(const protocol::NamedTensors& outputs) {
  // A model that detected the language (Whisper) says how sure it is of
  // that; others only of their transcript.
  const json detected = Output(outputs, "language_probability");
  return {{"language", Output(outputs, "language")},
          {"confidence", detected.is_number() ? detected : Output(outputs, "confidence")}};
}

json RouteReplies::Description(const protocol::NamedTensors& outputs, double seconds) {
  const json description = Output(outputs, "text");
  return {{"description", description.is_string() ? description : json("")},
          {"confidence", Output(outputs, "confidence")},
          {"generation_time", seconds}};
}

json RouteReplies::VideoDescription(const protocol::NamedTensors& outputs, double seconds) {
  const json description = Output(outputs, "text");
  return {{"description", description.is_string() ? description : json("")},
          {"frame_count", NumberOr(Output(outputs, "frame_count"), 0)},
          {"generation_time", seconds}};
}

}  // namespace botmodels
