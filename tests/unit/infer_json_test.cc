// ParseInferBody and InferReplyJson: the gateway's fast JSON path means what
// TensorsFromJson and TensorsToJson (client/json_tensors.h) mean.
#include "gateway/infer_json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "client/json_tensors.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

using nlohmann::json;
using protocol::DType;

protocol::TensorSpec Spec(const std::string& name, DType dtype) {
  return {name, dtype, std::nullopt};
}

// What the reference path makes of the same body.
protocol::NamedTensors Reference(const std::string& body,
                                 const std::vector<protocol::TensorSpec>& specs) {
  auto tensors = TensorsFromJson(json::parse(body)["inputs"], specs);
  EXPECT_TRUE(tensors.ok()) << body;
  return tensors.ok() ? *tensors : protocol::NamedTensors{};
}

TEST(InferJson, NestedArraysAreTheTensorsTheReferencePathMakesInEveryDtype) {
  for (DType dtype :
       {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16, DType::kInt64,
        DType::kInt32, DType::kInt16, DType::kInt8, DType::kUInt8, DType::kBool}) {
    const std::vector<protocol::TensorSpec> specs{Spec("x", dtype)};
    for (const char* body : {
             R"({"inputs": {"x": [1, 2.5, -3, 0, true, false]}})",
             R"({"inputs": {"x": [[1, 2, 3], [4.25, -5, 6e3]]}})",
             R"({"inputs": {"x": [[[0.1]], [[0.2]]]}})",
             R"({"inputs": {"x": []}})",
             R"({"inputs": {"x": [[], []]}})",
             R"({"inputs": {"x": [1e300, -1e300, 18446744073709551615, -9223372036854775808]}})",
         }) {
      bool envelope = true;
      auto fast = ParseInferBody(body, specs, &envelope);
      ASSERT_TRUE(fast.ok()) << body << ": " << fast.status().message();
      EXPECT_FALSE(envelope);
      EXPECT_EQ(*fast, Reference(body, specs)) << protocol::DTypeName(dtype) << " " << body;
    }
  }
}

TEST(InferJson, OtherFormsAreReadAsTheReferencePathReadsThem) {
  const std::vector<protocol::TensorSpec> specs{Spec("v", DType::kValue),
                                                Spec("s", DType::kString)};
  for (const char* body : {
           R"({"inputs": {"s": "hello", "v": {"any": [1, "json"]}}})",
           R"({"inputs": {"x": {"dtype": "int32", "shape": [2, 2], "data": [1, 2, 3, 4]}}})",
           R"({"inputs": {"v": [1, 2, 3], "undeclared": [[1.5, 2.5]]}})",
       }) {
    bool envelope = true;
    auto fast = ParseInferBody(body, specs, &envelope);
    ASSERT_TRUE(fast.ok()) << body << ": " << fast.status().message();
    EXPECT_EQ(*fast, Reference(body, specs)) << body;
  }
}

TEST(InferJson, BadBodiesAreClearErrors) {
  const std::vector<protocol::TensorSpec> specs{Spec("x", DType::kFloat32)};
  bool envelope = false;
  for (const char* body : {"", "[1]", "{\"inputs\": [1]}", "{\"input\": {}}", "{\"inputs\": {"}) {
    auto out = ParseInferBody(body, specs, &envelope);
    EXPECT_FALSE(out.ok()) << body;
    EXPECT_TRUE(envelope) << body;
  }
  const std::pair<const char*, const char*> cases[] = {
      {R"({"inputs": {"x": [[1, 2], [3]]}})", "input 'x': ragged nested arrays"},
      {R"({"inputs": {"x": [[1, 2], 3]}})", "input 'x': ragged nested arrays"},
      {R"({"inputs": {"x": [1, [2]]}})", "input 'x': ragged nested arrays"},
      {R"({"inputs": {"x": [1, "2"]}})", "input 'x': elements must be numbers or booleans"},
      {R"({"inputs": {"x": [null]}})", "input 'x': elements must be numbers or booleans"},
      // A first row claiming far more elements than the body holds: found before any allocation.
      {R"({"inputs": {"x": [[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1], [1], [1], [1], [1],
           [1], [1], [1], [1], [1], [1], [1], [1], [1], [1], [1], [1], [1], [1], [1], [1], [1],
           [1], [1], [1], [1], [1], [1], [1], [1], [1], [1], [1], [1], [1], [1], [1], [1], [1]]}})",
       "input 'x': ragged nested arrays"},
  };
  const std::string deep = "{\"inputs\": {\"x\": " + std::string(100'000, '[') + "]}}";
  auto too_deep = ParseInferBody(deep, specs, &envelope);
  EXPECT_FALSE(too_deep.ok());
  EXPECT_TRUE(envelope) << "refused before any reader recurses";
  auto big = ParseInferBody(R"({"inputs": {"x": [100000000000000000000]}})", specs, &envelope);
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.status().message().find("past 64 bits"), std::string::npos);
  for (const auto& [body, message] : cases) {
    auto out = ParseInferBody(body, specs, &envelope);
    ASSERT_FALSE(out.ok()) << body;
    EXPECT_FALSE(envelope) << body;
    EXPECT_EQ(out.status().code(), ErrorCode::kInvalidRequest);
    EXPECT_NE(out.status().message().find(message), std::string::npos) << out.status().message();
  }
}

TEST(InferJson, TheReplyIsTheReferenceJsonWrittenDirectly) {
  protocol::NamedTensors outputs;
  const auto bytes = [](const auto& values) {
    return std::string(reinterpret_cast<const char*>(values.data()),
                       values.size() * sizeof(values[0]));
  };
  const std::vector<float> f32{0.1f,    -2.0f,         1e-7f,
                               3.4e38f, std::nanf(""), std::numeric_limits<float>::infinity()};
  outputs["y"] = {DType::kFloat32, {2, 3}, bytes(f32)};
  const std::vector<double> f64{0.1, 1e300, -0.0, 123456789012345678.0};
  outputs["d"] = {DType::kFloat64, {4}, bytes(f64)};
  const std::vector<int64_t> i64{INT64_MIN, -1, 0, INT64_MAX};
  outputs["i"] = {DType::kInt64, {4}, bytes(i64)};
  const std::vector<uint8_t> flags{1, 0};
  outputs["b"] = {DType::kBool, {2}, bytes(flags)};
  const std::vector<uint16_t> half{0x3c00, 0xc000};
  outputs["h"] = {DType::kFloat16, {2}, bytes(half)};
  outputs["s"] = {DType::kString, {}, "a \"quoted\" \xff text"};
  outputs["q\"uoted"] = {DType::kInt8, {1}, std::string(1, '\x85')};
  constexpr auto kReplace = json::error_handler_t::replace;
  const json expected =
      json::parse(json({{"outputs", TensorsToJson(outputs)}}).dump(-1, ' ', false, kReplace));
  const std::string written = InferReplyJson(outputs);
  EXPECT_EQ(json::parse(written), expected) << written;
  EXPECT_NE(written.find("\"data\":[0.1,"), std::string::npos) << "shortest round trip";
  EXPECT_NE(written.find("-2.0,"), std::string::npos) << "integral floats stay floats";
  EXPECT_NE(written.find("[0.1,-2.0,1e-07,"), std::string::npos)
      << "a float32 with a float's digits";
}

TEST(InferJson, ALargeReplyIsWrittenWholeAcrossTheWritersSteps) {
  // Past the writer's 256 elements per step, in every written dtype, with
  // the longest numbers each dtype has.
  constexpr size_t kElements = 1000;
  std::vector<double> f64(kElements, -2.2250738585072014e-308);
  std::vector<float> f32(kElements);
  std::vector<int64_t> i64(kElements, INT64_MIN);
  std::vector<uint8_t> flags(kElements);
  for (size_t i = 0; i < kElements; ++i) {
    f32[i] = i % 2 ? -1.17549435e-38f : static_cast<float>(i);
    flags[i] = i % 3 == 0;
  }
  const auto bytes = [](const auto& values) {
    return std::string(reinterpret_cast<const char*>(values.data()),
                       values.size() * sizeof(values[0]));
  };
  const int64_t n = kElements;
  protocol::NamedTensors outputs;
  outputs["d"] = {DType::kFloat64, {n}, bytes(f64)};
  outputs["f"] = {DType::kFloat32, {n / 10, 10}, bytes(f32)};
  outputs["i"] = {DType::kInt64, {n}, bytes(i64)};
  outputs["b"] = {DType::kBool, {n}, bytes(flags)};
  const std::string written = InferReplyJson(outputs);
  EXPECT_EQ(json::parse(written), json::parse(json({{"outputs", TensorsToJson(outputs)}}).dump()));
}

}  // namespace
}  // namespace botmodels
