#include "gateway/routes/route_replies.h"
#include "gateway/routes/route_table.h"
#include "models/pipelines/caption_spec.h"
#include "models/vision/barcode_spec.h"
#include "models/vision/ocr_spec.h"

namespace botmodels {
namespace {

using K = FieldKind;

constexpr FieldSpec kDescribeFields[] = {{"prompt", K::kText, 0, 0, 0, "", caption_io::kPrompt}};
constexpr FieldSpec kVqaFields[] = {
    {"question", K::kText, 0, 0, 0, "", caption_io::kQuestion, /*required=*/true}};
constexpr FieldSpec kVideoFields[] = {{"num_frames", K::kInteger, 1, 128, 8, "", "num_frames"}};
constexpr FieldSpec kOcrFields[] = {{"language", K::kText, 0, 0, 0, "eng", ocr_io::kLanguage}};

nlohmann::json Description(const ModelCall& call) {
  return route_replies::Description(call.outputs, call.seconds);
}

constexpr PostRoute kRoutes[] = {
    {.path = "/api/vision/describe",
     .summary = "Describe an image",
     .handler = RouteHandler::kRecognize,
     .model = ModelRoute::kVisionDescribe,
     .fields = kDescribeFields,
     .upload = caption_io::kImage,
     .reply = Description},
    {.path = "/api/vision/describe-video",
     .alias = "/api/vision/describe_video",
     .summary = "Describe a video",
     .handler = RouteHandler::kRecognize,
     .model = ModelRoute::kVisionDescribeVideo,
     .fields = kVideoFields,
     .upload = "video",  // an MP4, sampled to num_frames frames by the model
     .reply =
         [](const ModelCall& call) {
           return route_replies::VideoDescription(call.outputs, call.seconds);
         }},
    {.path = "/api/vision/vqa",
     .summary = "Answer a question about an image",
     .handler = RouteHandler::kRecognize,
     .model = ModelRoute::kVisionVqa,
     .fields = kVqaFields,
     .upload = caption_io::kImage,
     .reply = Description},
    {.path = "/api/vision/qrcode",
     .summary = "Read the QR codes in an image",
     .handler = RouteHandler::kRecognize,
     .model = ModelRoute::kVisionQrCode,
     .upload = barcode_io::kImage,
     .reply = [](const ModelCall& call) { return route_replies::QrCodes(call.outputs); },
     .failure = route_replies::QrCodeFailure},
    {.path = "/api/vision/barcode",
     .alias = "/api/barcode/scan",
     .summary = "Read the barcodes in an image",
     .handler = RouteHandler::kRecognize,
     .model = ModelRoute::kVisionBarcode,
     .upload = barcode_io::kImage,
     .reply = [](const ModelCall& call) { return route_replies::Barcodes(call.outputs); },
     .failure = route_replies::BarcodeFailure},
    {.path = "/api/vision/ocr",
     .alias = "/ocr",
     .summary = "Read the text in an image",
     .handler = RouteHandler::kRecognize,
     .model = ModelRoute::kVisionOcr,
     .fields = kOcrFields,
     .upload = ocr_io::kImage,
     .reply = [](const ModelCall& call) { return route_replies::Ocr(call.outputs); },
     .failure = route_replies::OcrFailure},
    // Its three stages are the describe, ocr and barcode routes' models.
    {.path = "/api/vision/analyze",
     .summary = "Describe an image, read its text and codes, and report its size",
     .handler = RouteHandler::kAnalyze,
     .upload = caption_io::kImage,
     .failure = route_replies::AnalysisFailure},
};

}  // namespace

std::span<const PostRoute> VisionRoutes() { return kRoutes; }

}  // namespace botmodels
