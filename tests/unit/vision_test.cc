// The vision backends in process, on images the tests make: rendered text
// for Tesseract, codes drawn by ZXing for ZXing to read back.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/value.h"
#include "models/codecs/image_decoder.h"
#include "models/vision/barcode_backend.h"
#include "models/vision/ocr_backend.h"
#include "models/vision/qrcode_backend.h"
#include "testing/media.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

using nlohmann::json;
using protocol::DType;
using testing::TempDir;

// Checks the inputs as the executor does, then runs the backend.
Result<protocol::NamedTensors> Checked(ModelBackend& backend, const ModelConfig& config,
                                       const protocol::NamedTensors& inputs) {
  BOTMODELS_RETURN_IF_ERROR(config.CheckInputs(protocol::ViewsOf(inputs)));
  return testing::RunModel(backend, inputs);
}

json Value(const protocol::Tensor& t) {
  EXPECT_EQ(t.dtype, DType::kValue);
  return json::parse(ValueToJson(t.data));
}

protocol::Tensor Bytes(std::string data) { return {DType::kBytes, {}, std::move(data)}; }
protocol::Tensor Text(std::string data) { return {DType::kString, {}, std::move(data)}; }

class Ocr : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = testing::WriteModelConfig(dir_, "ocr", "backend = \"ocr\"\n");
    backend_ = std::make_unique<OcrBackend>(config_);
    ASSERT_OK(backend_->Load());
  }
  Result<protocol::NamedTensors> Read(const std::string& image, const std::string& language = "") {
    protocol::NamedTensors in{{"image", Bytes(image)}};
    if (!language.empty()) in["language"] = Text(language);
    return Checked(*backend_, config_, in);
  }

  TempDir dir_;
  ModelConfig config_;
  std::unique_ptr<OcrBackend> backend_;
};

TEST_F(Ocr, RenderedTextIsReadBackExactlyWithWordBoxes) {
  const std::string text = "The quick brown fox jumps\nover the lazy dog 12345";
  auto pix = media::RenderText(text, 32);
  auto out = Read(media::PixToPng(pix.get()));
  ASSERT_OK(out);
  EXPECT_EQ(out->at("text").data, text + "\n");
  EXPECT_EQ(out->at("language").data, "eng");
  EXPECT_GT(Value(out->at("confidence")).get<double>(), 0.8);
  const json words = Value(out->at("words"));
  ASSERT_EQ(words.size(), 10u);
  EXPECT_EQ(words[0]["text"], "The");
  EXPECT_EQ(words[9]["text"], "12345");
  for (const json& w : words) {
    const auto box = w["box"].get<std::vector<int>>();
    EXPECT_GE(box[0], 0);
    EXPECT_GE(box[1], 0);
    EXPECT_GT(box[2], 0);
    EXPECT_GT(box[3], 0);
    EXPECT_LE(box[0] + box[2], static_cast<int>(pixGetWidth(pix.get())));
    EXPECT_LE(box[1] + box[3], static_cast<int>(pixGetHeight(pix.get())));
  }
  // Words of the second line sit below those of the first.
  EXPECT_GT(words[5]["box"][1].get<int>(), words[0]["box"][1].get<int>() + 20);
}

TEST_F(Ocr, ASecondInstalledLanguageReadsItsOwnLetters) {
  const std::string text = "Grüße aus München, schöne Äpfel";
  auto pix = media::RenderText(text, 32);
  auto out = Read(media::PixToPng(pix.get()), "deu");
  ASSERT_OK(out);
  EXPECT_EQ(out->at("text").data, text + "\n");
  EXPECT_EQ(out->at("language").data, "deu");
}

TEST_F(Ocr, ALanguageNotInstalledIsInvalidRequestListingTheInstalledOnes) {
  auto pix = media::RenderText("hello", 32);
  auto out = Read(media::PixToPng(pix.get()), "klingon");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kInvalidRequest);
  EXPECT_NE(out.status().message().find("'klingon' is not installed"), std::string::npos);
  EXPECT_NE(out.status().message().find("eng"), std::string::npos);
  EXPECT_FALSE(Read(media::PixToPng(pix.get()), "../etc/passwd").ok());
}

TEST_F(Ocr, AJpegIsTurnedUprightByItsExifOrientation) {
  const std::string text = "Rotated receipt 42";
  auto upright = media::RenderText(text, 32);
  // Stored a quarter turn counter-clockwise; orientation 6 tells a viewer to turn it back.
  PixPtr stored(pixRotate90(upright.get(), -1));
  auto out = Read(media::JpegWithOrientation(stored.get(), 6));
  ASSERT_OK(out);
  EXPECT_EQ(out->at("text").data, text + "\n");
}

TEST_F(Ocr, BadImagesAreInvalidRequestsAndTheBackendServesOn) {
  auto pix = media::RenderText("still here", 32);
  const std::string png = media::PixToPng(pix.get());
  const std::string jpeg = media::PixToJpeg(pix.get());
  const std::vector<std::pair<std::string, std::string>> bad{
      {"", "0 bytes is not an image"},
      {"GIF89a not really an image at all", "corrupt gif header"},
      {std::string(4096, 'x'), "unknown format"},
      {png.substr(0, png.size() / 2), "corrupt or truncated png"},
      {jpeg.substr(0, 200), "jpeg"},
      {media::PngHeaderClaiming(50000, 50000), "2500000000 pixels is over the model's max_pixels"},
  };
  for (const auto& [bytes, expected] : bad) {
    auto out = Read(bytes);
    ASSERT_FALSE(out.ok()) << expected;
    EXPECT_EQ(out.status().code(), ErrorCode::kInvalidRequest) << expected;
    EXPECT_NE(out.status().message().find(expected), std::string::npos) << out.status().message();
  }
  auto good = Read(png);
  ASSERT_OK(good);
  EXPECT_EQ(good->at("text").data, "still here\n");
}

TEST_F(Ocr, EveryImageFormatIsSniffedFromItsBytesAndRead) {
  const std::string text = "Format test 2026";
  auto pix = media::RenderText(text, 32);
  const auto encode = [&](int format) {
    l_uint8* data = nullptr;
    size_t size = 0;
    EXPECT_EQ(pixWriteMem(&data, &size, pix.get(), format), 0) << format;
    std::string bytes(reinterpret_cast<const char*>(data), size);
    lept_free(data);
    return bytes;
  };
  const ImageDecoder decoder(config_.options.Get<OcrOptions>().max_pixels);
  for (const auto& [name, format] :
       std::vector<std::pair<std::string, int>>{{"png", IFF_PNG},
                                                {"jpeg", IFF_JFIF_JPEG},
                                                {"webp", IFF_WEBP},
                                                {"bmp", IFF_BMP},
                                                {"gif", IFF_GIF},
                                                {"tiff", IFF_TIFF_ZIP},
                                                {"pnm", IFF_PNM}}) {
    const std::string bytes = encode(format);
    auto decoded = decoder.Decode(bytes);
    ASSERT_TRUE(decoded.ok()) << name << ": " << decoded.status().message();
    EXPECT_EQ(pixGetWidth(decoded->get()), pixGetWidth(pix.get())) << name;
    EXPECT_EQ(pixGetHeight(decoded->get()), pixGetHeight(pix.get())) << name;
    auto out = Read(bytes);
    ASSERT_OK(out);
    EXPECT_EQ(out->at("text").data, text + "\n") << name;
  }
}

class Codes : public ::testing::Test {
 protected:
  void SetUp() override {
    barcode_config_ = testing::WriteModelConfig(dir_, "barcode", "backend = \"barcode\"\n");
    qr_config_ = testing::WriteModelConfig(dir_, "qr", "backend = \"qrcode\"\n");
  }
  json Decode(const std::string& image) {
    BarcodeBackend backend(barcode_config_);
    auto out = Checked(backend, barcode_config_, {{"image", Bytes(image)}});
    EXPECT_TRUE(out.ok()) << testing::Describe(out);
    return out.ok() ? Value(out->at("codes")) : json();
  }

  TempDir dir_;
  ModelConfig barcode_config_, qr_config_;
};

TEST_F(Codes, AQrCodeOfUtf8TextMadeByTheQrBackendIsReadBackWithItsPosition) {
  QrCodeBackend qr(qr_config_);
  auto png =
      Checked(qr, qr_config_,
              {{"text", Text("Grüße ✓")}, {"size", {DType::kValue, {}, *JsonToValue("300")}}});
  ASSERT_OK(png);
  const json codes = Decode(png->at("image").data);
  ASSERT_EQ(codes.size(), 1u);
  EXPECT_EQ(codes[0]["text"], "Grüße ✓");
  EXPECT_EQ(codes[0]["format"], "QRCode");
  const auto box = codes[0]["box"].get<std::vector<int>>();
  EXPECT_GT(box[0], 0);  // inside the quiet zone
  EXPECT_LT(box[0] + box[2], 300);
  EXPECT_GT(box[2], 200);  // the code fills most of the 300 px
  EXPECT_EQ(codes[0]["polygon"].size(), 4u);
}

TEST_F(Codes, Ean13AndCode128SideBySideAreBothDecodedWithTheirPositions) {
  auto ean = media::DrawBarcode("EAN-13", "4006381333931", 300, 120);
  auto code128 = media::DrawBarcode("Code128", "BOT-2026/11", 400, 120);
  auto both = media::SideBySide({ean.get(), code128.get()}, 40);
  const json codes = Decode(media::PixToPng(both.get()));
  ASSERT_EQ(codes.size(), 2u);
  std::map<std::string, json> by_format;
  for (const json& c : codes) by_format[c["format"]] = c;
  ASSERT_EQ(by_format.count("EAN-13"), 1u);
  ASSERT_EQ(by_format.count("Code128"), 1u);
  EXPECT_EQ(by_format["EAN-13"]["text"], "4006381333931");
  EXPECT_EQ(by_format["Code128"]["text"], "BOT-2026/11");
  // The EAN-13 is on the left, the Code 128 on the right.
  EXPECT_LT(by_format["EAN-13"]["box"][0].get<int>(), 40 + 300);
  EXPECT_GT(by_format["Code128"]["box"][0].get<int>(), 40 + 300);
}

TEST_F(Codes, AnImageWithoutCodesHasAnEmptyList) {
  auto pix = media::RenderText("no code here", 32);
  EXPECT_EQ(Decode(media::PixToPng(pix.get())), json::array());
}

TEST_F(Codes, QrOptionsAreCheckedAndTooLongATextIsRefused) {
  QrCodeBackend qr(qr_config_);
  auto bad_level = Checked(qr, qr_config_, {{"text", Text("x")}, {"ec_level", Text("Z")}});
  ASSERT_FALSE(bad_level.ok());
  EXPECT_NE(bad_level.status().message().find("not L, M, Q or H"), std::string::npos);
  auto too_long = Checked(qr, qr_config_, {{"text", Text(std::string(5000, 'a'))}});
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.status().code(), ErrorCode::kInvalidRequest);
  auto huge = Checked(qr, qr_config_,
                      {{"text", Text("x")}, {"size", {DType::kValue, {}, *JsonToValue("100000")}}});
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.status().message().find("input 'size'"), std::string::npos);
}

}  // namespace
}  // namespace botmodels
