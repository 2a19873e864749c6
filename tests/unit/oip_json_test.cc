#include "gateway/oip/oip_json.h"

#include <gtest/gtest.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "common/value.h"
#include "gateway/oip/oip_routes.h"

namespace botmodels {
namespace {

using nlohmann::json;
using protocol::DType;

std::vector<float> Floats(const protocol::Tensor& t) {
  std::vector<float> out(t.data.size() / sizeof(float));
  std::memcpy(out.data(), t.data.data(), t.data.size());
  return out;
}

TEST(OipJson, KServesDocumentedRequestIsReadFlatOrNested) {
  // KServe's v2 example, nested; the same data flat.
  for (const char* data : {"[[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]",
                           "[6.8, 2.8, 4.8, 1.4, 6.0, 3.4, 4.5, 1.6]"}) {
    const std::string body = std::string(R"({"id": "42", "inputs": [{"name": "input-0",
        "shape": [2, 4], "datatype": "FP32", "data": )") +
                             data + "}]}";
    auto request = ParseOipRequest(body, {});
    ASSERT_TRUE(request.ok()) << request.status().message();
    EXPECT_EQ(request->id, "42");
    const protocol::Tensor& t = request->inputs.at("input-0");
    EXPECT_EQ(t.dtype, DType::kFloat32);
    EXPECT_EQ(t.shape, (std::vector<int64_t>{2, 4}));
    EXPECT_EQ(Floats(t), (std::vector<float>{6.8f, 2.8f, 4.8f, 1.4f, 6.0f, 3.4f, 4.5f, 1.6f}));
  }
}

TEST(OipJson, DatatypesBecomeTheirDTypes) {
  auto request = ParseOipRequest(
      R"({"inputs": [{"name": "i", "shape": [3], "datatype": "INT64", "data": [1, -2, 3]},
                     {"name": "b", "shape": [2], "datatype": "BOOL", "data": [true, false]},
                     {"name": "t", "shape": [1], "datatype": "BYTES", "data": ["hello"]},
                     {"name": "f", "shape": [1], "datatype": "BYTES", "data": ["raw"]},
                     {"name": "v", "shape": [1], "datatype": "BYTES", "data": ["1.5"]}],
          "outputs": [{"name": "y"}]})",
      {{"f", DType::kBytes, std::nullopt}, {"v", DType::kValue, std::nullopt}});
  ASSERT_TRUE(request.ok()) << request.status().message();
  EXPECT_EQ(request->inputs.at("i").dtype, DType::kInt64);
  EXPECT_EQ(request->inputs.at("i").data.size(), 3 * sizeof(int64_t));
  EXPECT_EQ(request->inputs.at("b").data, std::string("\1\0", 2));
  EXPECT_EQ(request->inputs.at("t").dtype, DType::kString);
  EXPECT_EQ(request->inputs.at("t").data, "hello");
  EXPECT_EQ(request->inputs.at("f").dtype, DType::kBytes) << "as the model declares it";
  EXPECT_EQ(request->inputs.at("v").dtype, DType::kValue);
  EXPECT_EQ(ValueToJson(request->inputs.at("v").data), "1.5");
  EXPECT_EQ(request->outputs, (std::vector<std::string>{"y"}));
}

TEST(OipJson, BadTensorsAreRefusedNamingTheInput) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"inputs": [{"name": "x", "shape": [3], "datatype": "FP32", "data": [1, 2]}]})",
       "holds 2 elements"},
      {R"({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1, 2]}]})",
       "more data"},
      {R"({"inputs": [{"name": "x", "shape": [1], "datatype": "FP8", "data": [1]}]})",
       "unknown datatype"},
      {R"({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": ["a"]}]})",
       "numbers or booleans"},
      {R"({"inputs": [{"name": "x", "shape": [-1], "datatype": "FP32", "data": [1]}]})", "shape"},
      {R"({"inputs": [{"name": "x", "shape": [100000000], "datatype": "FP32", "data": []}]})",
       "more elements than the body"},
      // Fewer elements than the body's bytes, but more than its JSON could
      // hold at two bytes each ("0,"): refused before the tensor is sized.
      {R"({"inputs": [{"name": "x", "shape": [60], "datatype": "FP64", "data": []}]})",
       "more elements than the body"},
      {R"({"inputs": [{"name": "x", "shape": [2], "datatype": "BYTES", "data": ["a", "b"]}]})",
       "one element"},
  };
  for (const auto& [body, words] : cases) {
    auto request = ParseOipRequest(body, {});
    ASSERT_FALSE(request.ok()) << body;
    EXPECT_EQ(request.status().code(), ErrorCode::kInvalidRequest);
    EXPECT_NE(request.status().message().find("input 'x'"), std::string::npos)
        << request.status().message();
    EXPECT_NE(request.status().message().find(words), std::string::npos)
        << request.status().message();
  }
  EXPECT_FALSE(ParseOipRequest("{\"inputs\": {}}", {}).ok());
  EXPECT_FALSE(ParseOipRequest("not json", {}).ok());
}

TEST(OipJson, TheResponseHasTheWantedOutputsWithTheirDatatypes) {
  protocol::Tensor y{DType::kFloat32, {2}, std::string(8, '\0')};
  const float values[] = {2.0f, 9.5f};
  std::memcpy(y.data.data(), values, sizeof values);
  const protocol::NamedTensors outputs = {
      {"y", y}, {"text", {DType::kString, {}, "hi"}}, {"png", {DType::kBytes, {}, "\x89PNG"}}};
  OipRequest asked;
  asked.id = "7";
  const json all = json::parse(MakeOipResponse("m", asked, outputs).body);
  EXPECT_EQ(all["model_name"], "m");
  EXPECT_EQ(all["id"], "7");
  ASSERT_EQ(all["outputs"].size(), 3u);
  for (const json& out : all["outputs"]) {
    if (out["name"] == "y") {
      EXPECT_EQ(out,
                json({{"name", "y"}, {"datatype", "FP32"}, {"shape", {2}}, {"data", {2.0, 9.5}}}));
    } else if (out["name"] == "text") {
      EXPECT_EQ(out["data"], json({"hi"}));
      EXPECT_EQ(out["datatype"], "BYTES");
    } else {
      EXPECT_EQ(out["data"], json({"iVBORw=="}));
      EXPECT_EQ(out["parameters"]["content_encoding"], "base64");
    }
  }
  asked = OipRequest();
  asked.outputs = {"y"};
  const json one = json::parse(MakeOipResponse("m", asked, outputs).body);
  EXPECT_EQ(one["outputs"].size(), 1u);
  EXPECT_FALSE(one.contains("id"));
}

// Triton's binary tensor data extension, both ways.
TEST(OipJson, BinaryTensorDataFollowsTheJsonInBothDirections) {
  const std::string header =
      R"({"inputs": [{"name": "x", "shape": [2], "datatype": "FP32",
                      "parameters": {"binary_data_size": 8}},
                     {"name": "t", "shape": [1], "datatype": "BYTES",
                      "parameters": {"binary_data_size": 6}}],
          "outputs": [{"name": "x", "parameters": {"binary_data": true}}, {"name": "t"}]})";
  const float x[] = {1.5f, -2.0f};
  std::string body = header + std::string(reinterpret_cast<const char*>(x), sizeof x);
  body += std::string("\2\0\0\0hi", 6);
  auto request = ParseOipRequest(body, {}, header.size());
  ASSERT_TRUE(request.ok()) << request.status().message();
  EXPECT_EQ(Floats(request->inputs.at("x")), (std::vector<float>{1.5f, -2.0f}));
  EXPECT_EQ(request->inputs.at("t").data, "hi");
  EXPECT_EQ(request->binary, (std::vector<std::string>{"x"}));

  const OipResponse response = MakeOipResponse("m", *request, request->inputs);
  ASSERT_TRUE(response.header_bytes);
  const json head = json::parse(response.body.substr(0, *response.header_bytes));
  EXPECT_EQ(response.body.substr(*response.header_bytes),
            std::string(body.substr(header.size(), 8)))
      << "x's bytes, raw, after the JSON";
  for (const json& out : head["outputs"]) {
    if (out["name"] == "x") {
      EXPECT_EQ(out["parameters"]["binary_data_size"], 8);
      EXPECT_FALSE(out.contains("data"));
    } else {
      EXPECT_EQ(out["data"], json({"hi"})) << "not asked as binary: JSON";
    }
  }

  // Sizes that do not add up.
  EXPECT_FALSE(ParseOipRequest(body, {}, body.size() + 1).ok()) << "header past the end";
  EXPECT_FALSE(ParseOipRequest(body + "x", {}, header.size()).ok()) << "bytes left over";
  EXPECT_FALSE(ParseOipRequest(body.substr(0, body.size() - 1), {}, header.size()).ok());
  std::string wrong = header;
  wrong.replace(wrong.find("8}"), 1, "4");
  EXPECT_FALSE(ParseOipRequest(wrong + body.substr(header.size()), {}, wrong.size()).ok())
      << "4 bytes for two floats";
}

TEST(OipJson, PathsNameTheModelAndWhatIsAsked) {
  using A = OipPath::Action;
  EXPECT_EQ(ParseOipPath("/v2/models/mlp")->action, A::kMetadata);
  EXPECT_EQ(ParseOipPath("/v2/models/mlp/versions/1")->model, "mlp");
  EXPECT_EQ(ParseOipPath("/v2/models/mlp/ready")->action, A::kReady);
  EXPECT_EQ(ParseOipPath("/v2/models/mlp/versions/1/infer")->action, A::kInfer);
  EXPECT_EQ(ParseOipPath("/v2/models/mlp/infer")->model, "mlp");
  EXPECT_FALSE(ParseOipPath("/v2/models/"));
  EXPECT_FALSE(ParseOipPath("/v2/models/a/b/infer"));
  EXPECT_FALSE(ParseOipPath("/v2/models/mlp/versions/2/infer"));
  EXPECT_FALSE(ParseOipPath("/v2/repository/index"));
}

}  // namespace
}  // namespace botmodels
