#include "gateway/route_table.h"

namespace botmodels {
namespace {

using A = RouteAction;
using F = BodyForm;

constexpr PostRoute kRoutes[] = {
    {"/api/image/generate", A::kImageGenerate, F::kJson, "Generate an image (PNG) from a prompt",
     ""},
    {"/api/video/generate", A::kVideoGenerate, F::kJson, "Generate a video (MP4) from a prompt",
     ""},
    {"/api/speech/generate", A::kSpeechGenerate, F::kJson, "Speak a text (WAV)", ""},
    {"/api/speech/totext", A::kSpeechToText, F::kFile, "Transcribe speech", ""},
    {"/api/speech/to-text", A::kSpeechToText, F::kFile, "", "/api/speech/totext"},
    {"/api/speech/detect_language", A::kSpeechLanguage, F::kFile, "Detect the language of speech",
     ""},
    {"/api/vision/describe", A::kDescribe, F::kFile, "Describe an image", ""},
    {"/api/vision/describe-video", A::kDescribeVideo, F::kFile, "Describe a video", ""},
    {"/api/vision/describe_video", A::kDescribeVideo, F::kFile, "", "/api/vision/describe-video"},
    {"/api/vision/vqa", A::kVqa, F::kFile, "Answer a question about an image", ""},
    {"/api/vision/qrcode", A::kQrCode, F::kFile, "Read the QR codes in an image", ""},
    {"/api/vision/barcode", A::kBarcode, F::kFile, "Read the barcodes in an image", ""},
    {"/api/barcode/scan", A::kBarcode, F::kFile, "", "/api/vision/barcode"},
    {"/api/vision/ocr", A::kOcr, F::kFile, "Read the text in an image", ""},
    {"/ocr", A::kOcr, F::kFile, "", "/api/vision/ocr"},
    {"/api/vision/analyze", A::kAnalyze, F::kFile,
     "Describe an image, read its text and codes, and report its size", ""},
    {"/api/detect", A::kDetect, F::kJson, "Find outliers in one field of a list of records", ""},
};

}  // namespace

std::span<const PostRoute> PostRoutes() { return kRoutes; }

}  // namespace botmodels
