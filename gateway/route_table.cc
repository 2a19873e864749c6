#include "gateway/route_table.h"

namespace botmodels {
namespace {

using A = RouteAction;
using F = BodyForm;
using M = ModelRoute;

constexpr PostRoute kRoutes[] = {
    {"/api/image/generate", A::kImageGenerate, F::kJson, M::kImageGenerate,
     "Generate an image (PNG) from a prompt", ""},
    {"/api/video/generate", A::kVideoGenerate, F::kJson, M::kVideoGenerate,
     "Generate a video (MP4) from a prompt", ""},
    {"/api/speech/generate", A::kSpeechGenerate, F::kJson, M::kSpeechGenerate, "Speak a text (WAV)",
     ""},
    {"/api/speech/totext", A::kSpeechToText, F::kFile, M::kSpeechToText, "Transcribe speech", ""},
    {"/api/speech/to-text", A::kSpeechToText, F::kFile, M::kSpeechToText, "", "/api/speech/totext"},
    {"/api/speech/detect_language", A::kSpeechLanguage, F::kFile, M::kSpeechLanguage,
     "Detect the language of speech", ""},
    {"/api/vision/describe", A::kDescribe, F::kFile, M::kVisionDescribe, "Describe an image", ""},
    {"/api/vision/describe-video", A::kDescribeVideo, F::kFile, M::kVisionDescribeVideo,
     "Describe a video", ""},
    {"/api/vision/describe_video", A::kDescribeVideo, F::kFile, M::kVisionDescribeVideo, "",
     "/api/vision/describe-video"},
    {"/api/vision/vqa", A::kVqa, F::kFile, M::kVisionVqa, "Answer a question about an image", ""},
    {"/api/vision/qrcode", A::kQrCode, F::kFile, M::kVisionQrCode, "Read the QR codes in an image",
     ""},
    {"/api/vision/barcode", A::kBarcode, F::kFile, M::kVisionBarcode,
     "Read the barcodes in an image", ""},
    {"/api/barcode/scan", A::kBarcode, F::kFile, M::kVisionBarcode, "", "/api/vision/barcode"},
    {"/api/vision/ocr", A::kOcr, F::kFile, M::kVisionOcr, "Read the text in an image", ""},
    {"/ocr", A::kOcr, F::kFile, M::kVisionOcr, "", "/api/vision/ocr"},
    {"/api/vision/analyze", A::kAnalyze, F::kFile, std::nullopt,
     "Describe an image, read its text and codes, and report its size", ""},
    {"/api/detect", A::kDetect, F::kJson, std::nullopt,
     "Find outliers in one field of a list of records", ""},
};

}  // namespace

std::span<const PostRoute> PostRoutes() { return kRoutes; }

}  // namespace botmodels
