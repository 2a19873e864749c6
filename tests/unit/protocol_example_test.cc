// The example bytes printed in docs/protocol.md ("Worked example"), read
// from the document itself: if this test fails, the document no longer
// describes what the code sends.
#include <gtest/gtest.h>

#include <cctype>
#include <sstream>

#include "common/codec.h"
#include "common/request_signer.h"
#include "common/value.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

std::string Hex(const std::string& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : bytes) hex += {kHex[c >> 4], kHex[c & 15]};
  return hex;
}

bool IsHexToken(const std::string& token) {
  if (token.empty() || token.size() % 2 != 0) return false;
  for (char c : token) {
    if (!std::isxdigit(static_cast<unsigned char>(c)) ||
        std::isupper(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

// The bytes of each code block of the document's "Worked example" section,
// as hex: on each line, the hex tokens before its annotation.
std::vector<std::string> WorkedExampleBlocks() {
  std::istringstream doc(
      testing::ReadFile(std::string(BOTMODELS_SOURCE_DIR) + "/docs/protocol.md"));
  std::vector<std::string> blocks;
  bool in_section = false, in_block = false;
  for (std::string line; std::getline(doc, line);) {
    if (line.starts_with("## ")) in_section = line == "## Worked example";
    if (!in_section) continue;
    if (line.starts_with("```")) {
      in_block = !in_block;
      if (in_block) blocks.emplace_back();
      continue;
    }
    if (!in_block) continue;
    std::istringstream words(line);
    for (std::string token; words >> token && IsHexToken(token);) blocks.back() += token;
  }
  return blocks;
}

std::string TwoFloats(float a, float b) {
  const float v[2] = {a, b};
  return std::string(reinterpret_cast<const char*>(v), sizeof(v));
}

TEST(ProtocolDocument, WorkedExampleBytesMatchTheEncoder) {
  const std::vector<std::string> blocks = WorkedExampleBlocks();
  ASSERT_EQ(blocks.size(), 8u)
      << "header, body, signature, reply, error reply, streamed body, partial, final";

  const protocol::AuthHeader header{
      "demo", 1764000000000ULL,
      std::string("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f", 16)};
  const std::string header_bytes = codec::EncodeAuthHeader(header);
  EXPECT_EQ(Hex(header_bytes), blocks[0]);

  protocol::Request request;
  request.id = "r1";
  request.op = protocol::Op::kInfer;
  request.model = "double";
  request.inputs["x"] = {protocol::DType::kFloat32, {2}, TwoFloats(1, 2)};
  const std::string body = codec::EncodeRequest(request);
  EXPECT_EQ(Hex(body), blocks[1]);

  const RequestSigner signer("demo", "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(Hex(signer.Sign(header_bytes, body)), blocks[2]);

  protocol::Reply reply;
  reply.id = "r1";
  reply.outputs["y"] = {protocol::DType::kFloat32, {2}, TwoFloats(2, 4)};
  EXPECT_EQ(Hex(codec::EncodeReply(reply)), blocks[3]);

  const auto error =
      protocol::ErrorReply("r2", {ErrorCode::kUnknownModel, "no model named 'nope'"});
  EXPECT_EQ(Hex(codec::EncodeReply(error)), blocks[4]);

  protocol::Request streamed;
  streamed.id = "r3";
  streamed.op = protocol::Op::kInfer;
  streamed.model = "tts";
  streamed.stream = true;
  streamed.inputs["text"] = {protocol::DType::kString, {}, "Hi."};
  EXPECT_EQ(Hex(codec::EncodeRequest(streamed)), blocks[5]);

  const protocol::Tensor rate{protocol::DType::kValue, {}, *JsonToValue("16000")};
  protocol::Reply partial;
  partial.id = "r3";
  partial.more = true;
  partial.outputs["pcm"] = {protocol::DType::kBytes, {}, std::string("\x00\x00\x10\x00", 4)};
  partial.outputs["sample_rate"] = rate;
  EXPECT_EQ(Hex(codec::EncodeReply(partial)), blocks[6]);

  protocol::Reply last;
  last.id = "r3";
  last.outputs["sample_rate"] = rate;
  last.outputs["voice"] = {protocol::DType::kString, {}, "slt"};
  EXPECT_EQ(Hex(codec::EncodeReply(last)), blocks[7]);
}

}  // namespace
}  // namespace botmodels
