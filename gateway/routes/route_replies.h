#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/protocol.h"

namespace botmodels {

// The Python service's response bodies, made from a model's outputs
// (docs/gateway.md lists the outputs each route's model must have). Outputs
// a model lacks read as empty, never as an exception. Pure functions.
namespace route_replies {

// /api/vision/ocr: {success, text, confidence, language, word_count, error}.
nlohmann::json Ocr(const protocol::NamedTensors& outputs);
// /api/vision/qrcode: {success, data, codes[{data, type, rect, polygon}],
// count, error}, QR codes only (QR, Micro QR, rMQR).
nlohmann::json QrCodes(const protocol::NamedTensors& outputs);
// /api/vision/barcode: {success, barcodes[{data, type, rect}], count,
// error, data}: every code, the first one's text in `data`.
nlohmann::json Barcodes(const protocol::NamedTensors& outputs);
// /api/speech/totext: {text, language, confidence}.
nlohmann::json SpeechToText(const protocol::NamedTensors& outputs);
// /api/speech/detect_language: {language, confidence}.
nlohmann::json Language(const protocol::NamedTensors& outputs);
// /api/vision/describe and vqa: {description, confidence, generation_time}.
nlohmann::json Description(const protocol::NamedTensors& outputs, double seconds);
// /api/vision/describe-video: {description, frame_count, generation_time}.
nlohmann::json VideoDescription(const protocol::NamedTensors& outputs, double seconds);
// /api/vision/analyze's codes: [{data, type}].
nlohmann::json CodeList(const protocol::NamedTensors& outputs);
// The output `name` as JSON: a value's JSON, a string, or null.
nlohmann::json Output(const protocol::NamedTensors& outputs, std::string_view name);

// A generation route's reply: {status: "completed", file_path,
// generation_time, error: null, timestamp}.
nlohmann::json Generated(const std::string& file_path, double seconds);

// The routes' own fields when they fail, beside detail and code.
// Generation: {status: "error", file_path: null, generation_time: null, error, timestamp}.
nlohmann::json GenerationFailure(std::string_view message);
// {success: false, data: null, codes: [], count: 0, error}.
nlohmann::json QrCodeFailure(std::string_view message);
// {success: false, barcodes: [], count: 0, error}.
nlohmann::json BarcodeFailure(std::string_view message);
// {success: false, text: "", confidence: 0, language: null, word_count: 0, error}.
nlohmann::json OcrFailure(std::string_view message);
// {success: false, error}.
nlohmann::json AnalysisFailure(std::string_view message);

// Now as Python's datetime.utcnow().isoformat(): "2026-11-30T10:15:00.123456".
std::string UtcTimestamp();

// zbar's name for a ZXing format, as the Python service reported them:
// "QRCode" -> "QRCODE", "EAN-13" -> "EAN13", "ITF" -> "I25".
std::string ZbarType(std::string_view zxing_format);
}  // namespace route_replies
}  // namespace botmodels
