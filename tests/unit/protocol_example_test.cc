// The example bytes printed in docs/protocol.md ("Worked example"): if this
// test fails, the document no longer describes what the code sends.
#include <gtest/gtest.h>

#include "common/codec.h"
#include "common/request_signer.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

std::string Hex(const std::string& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : bytes) hex += {kHex[c >> 4], kHex[c & 15]};
  return hex;
}

std::string TwoFloats(float a, float b) {
  const float v[2] = {a, b};
  return std::string(reinterpret_cast<const char*>(v), sizeof(v));
}

TEST(ProtocolDocument, WorkedExampleBytesMatchTheEncoder) {
  const protocol::AuthHeader header{
      "demo", 1764000000000ULL,
      std::string("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f", 16)};
  const std::string header_bytes = codec::EncodeAuthHeader(header);
  EXPECT_EQ(Hex(header_bytes),
            "83a36b6964a464656d6fa27473cf0000019ab697e800a56e6f6e6365c410000102030405060708090a0b"
            "0c0d0e0f");

  protocol::Request request;
  request.id = "r1";
  request.op = protocol::Op::kInfer;
  request.model = "double";
  request.inputs["x"] = {protocol::DType::kFloat32, {2}, TwoFloats(1, 2)};
  const std::string body = codec::EncodeRequest(request);
  EXPECT_EQ(Hex(body),
            "85a17601a26964a27231a26f70a5696e666572a56d6f64656ca6646f75626c65a6696e7075747381a178"
            "83a56474797065a7666c6f61743332a573686170659102a464617461c4080000803f00000040");

  const RequestSigner signer("demo", "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(Hex(signer.Sign(header_bytes, body)),
            "cdc1b38750a974f5663f743e4b4ee7d923496565033602ca4b8f334d231b0180");

  protocol::Reply reply;
  reply.id = "r1";
  reply.outputs["y"] = {protocol::DType::kFloat32, {2}, TwoFloats(2, 4)};
  EXPECT_EQ(Hex(codec::EncodeReply(reply)),
            "85a17601a26964a27231a26f6bc3a46d6f7265c2a76f75747075747381a17983a56474797065a7666c6f"
            "61743332a573686170659102a464617461c4080000004000008040");

  const auto error =
      protocol::ErrorReply("r2", {ErrorCode::kUnknownModel, "no model named 'nope'"});
  EXPECT_EQ(Hex(codec::EncodeReply(error)),
            "85a17601a26964a27232a26f6bc2a46d6f7265c2a56572726f7283a4636f6465ad756e6b6e6f776e5f6d"
            "6f64656ca76d657373616765b56e6f206d6f64656c206e616d656420276e6f706527a9726574727961626c"
            "65c2");
}

}  // namespace
}  // namespace botmodels
