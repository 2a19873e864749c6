// ParseMultipart and ParseByteRange: the gateway's own readers of what
// clients send.
#include "gateway/http/multipart.h"

#include <gtest/gtest.h>

#include "gateway/http/byte_range.h"

namespace botmodels {
namespace {

constexpr char kType[] = "multipart/form-data; boundary=XyZ";

TEST(Multipart, SplitsFieldsAndFilesAsCurlSendsThem) {
  const std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"language\"\r\n\r\npt\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a b.png\"\r\n"
      "Content-Type: image/png\r\n\r\n\x89PNG\r\n--not the boundary\r\n"
      "--XyZ--\r\n";
  auto parts = ParseMultipart(kType, body);
  ASSERT_TRUE(parts.ok()) << parts.status().message();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].name, "language");
  EXPECT_FALSE((*parts)[0].has_filename);
  EXPECT_EQ((*parts)[0].content, "pt");
  EXPECT_EQ((*parts)[1].name, "file");
  EXPECT_EQ((*parts)[1].filename, "a b.png");
  EXPECT_EQ((*parts)[1].content_type, "image/png");
  EXPECT_EQ((*parts)[1].content, "\x89PNG\r\n--not the boundary");
}

TEST(Multipart, AQuotedBoundaryAndAPreambleAreRead) {
  const std::string body =
      "preamble\r\n--a;b\r\ncontent-disposition: form-data; name=x\r\n\r\n1\r\n--a;b--";
  auto parts = ParseMultipart("multipart/form-data; boundary=\"a;b\"", body);
  ASSERT_TRUE(parts.ok()) << parts.status().message();
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].name, "x");
  EXPECT_EQ((*parts)[0].content, "1");
}

TEST(Multipart, MalformedBodiesAreInvalidRequestsSayingWhy) {
  const std::pair<std::string, std::string> cases[] = {
      {"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno end", "closing"},
      {"--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--", "Content-Disposition"},
      {"--XyZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XyZ--", "no name"},
      {"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\nno headers end", "never end"},
      {"nothing here", "no boundary"},
      {"", "no boundary"},
  };
  for (const auto& [body, why] : cases) {
    auto parts = ParseMultipart(kType, body);
    ASSERT_FALSE(parts.ok()) << body;
    EXPECT_EQ(parts.status().code(), ErrorCode::kInvalidRequest);
    EXPECT_NE(parts.status().message().find(why), std::string::npos) << parts.status().message();
  }
  EXPECT_FALSE(ParseMultipart("multipart/form-data", "--\r\n").ok()) << "no boundary parameter";
  EXPECT_FALSE(ParseMultipart("multipart/form-data; boundary=" + std::string(71, 'b'), "").ok());
}

TEST(Multipart, ManyPartsArePastTheLimit) {
  std::string body;
  for (size_t i = 0; i <= kMaxFormParts; ++i) {
    body += "--XyZ\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nv\r\n";
  }
  body += "--XyZ--";
  auto parts = ParseMultipart(kType, body);
  ASSERT_FALSE(parts.ok());
  EXPECT_NE(parts.status().message().find("parts"), std::string::npos);
}

TEST(ByteRange, ReadsTheFormsOfOneRange) {
  using K = ByteRange::Kind;
  const auto check = [](const char* header, K kind, uint64_t offset, uint64_t length) {
    const ByteRange r = ParseByteRange(header, 1000);
    EXPECT_EQ(r.kind, kind) << header;
    if (kind != K::kUnsatisfiable) {
      EXPECT_EQ(r.offset, offset) << header;
      EXPECT_EQ(r.length, length) << header;
    }
  };
  check("", K::kWhole, 0, 1000);
  check("bytes=0-11", K::kPart, 0, 12);
  check("bytes=990-", K::kPart, 990, 10);
  check("bytes=-100", K::kPart, 900, 100);
  check("bytes=-5000", K::kPart, 0, 1000);
  check("bytes=500-99999", K::kPart, 500, 500);
  check("bytes=1000-", K::kUnsatisfiable, 0, 0);
  check("bytes=-0", K::kUnsatisfiable, 0, 0);
  check("bytes=0-1,5-6", K::kWhole, 0, 1000);  // several: served whole
  check("bytes=9-3", K::kWhole, 0, 1000);      // invalid: ignored
  check("items=0-1", K::kWhole, 0, 1000);
  check("bytes=x-1", K::kWhole, 0, 1000);
}

}  // namespace
}  // namespace botmodels
