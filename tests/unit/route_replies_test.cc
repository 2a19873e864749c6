// route_replies: the Python service's bodies from a model's outputs.
#include "gateway/routes/route_replies.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/value.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

using nlohmann::json;

protocol::Tensor Value(const json& j) {
  return {protocol::DType::kValue, {}, *JsonToValue(j.dump())};
}

TEST(RouteReplies, CodesBecomeThePythonServiceFieldsWithZbarNames) {
  protocol::NamedTensors out;
  out["codes"] = Value(json::array({{{"text", "A"},
                                     {"format", "QRCode"},
                                     {"box", {1, 2, 30, 40}},
                                     {"polygon", {{1, 2}, {31, 2}, {31, 42}, {1, 42}}}},
                                    {{"text", "4006381333931"},
                                     {"format", "EAN-13"},
                                     {"box", {5, 6, 70, 20}},
                                     {"polygon", json::array()}}}));
  const json qr = route_replies::QrCodes(out);
  EXPECT_EQ(qr["count"], 1) << "QR codes only";
  EXPECT_EQ(qr["data"], "A");
  EXPECT_EQ(qr["codes"][0]["rect"], json({{"left", 1}, {"top", 2}, {"width", 30}, {"height", 40}}));
  EXPECT_EQ(qr["codes"][0]["polygon"][2], json({{"x", 31}, {"y", 42}}));
  const json all = route_replies::Barcodes(out);
  EXPECT_EQ(all["count"], 2);
  EXPECT_EQ(all["barcodes"][1]["type"], "EAN13");
  EXPECT_EQ(route_replies::ZbarType("ITF"), "I25");
  EXPECT_EQ(route_replies::ZbarType("Code128"), "CODE128");
  EXPECT_EQ(route_replies::ZbarType("UPC-A"), "UPCA");
  const json empty = route_replies::Barcodes({});
  EXPECT_EQ(empty["success"], false);
  EXPECT_EQ(empty["error"], "No barcode found in image");
}

TEST(RouteReplies, OcrCountsWordsAndMissingOutputsReadAsEmpty) {
  protocol::NamedTensors out;
  out["text"] = {protocol::DType::kString, {}, "two words"};
  out["confidence"] = Value(0.9);
  out["language"] = {protocol::DType::kString, {}, "eng"};
  out["words"] = Value(json::array({{{"text", "two"}}, {{"text", "words"}}}));
  const json ocr = route_replies::Ocr(out);
  EXPECT_EQ(ocr["success"], true);
  EXPECT_EQ(ocr["word_count"], 2);
  EXPECT_EQ(ocr["confidence"], 0.9);
  EXPECT_EQ(route_replies::Ocr({})["text"], "");
  EXPECT_EQ(route_replies::SpeechToText({})["text"], "");
}

}  // namespace
}  // namespace botmodels
