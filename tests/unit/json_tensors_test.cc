#include "client/json_tensors.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "tests/testutil.h"

namespace botmodels {
namespace {

using nlohmann::json;
using protocol::DType;

TEST(JsonTensors, NestedArraysTakeTheDeclaredDtypeAndTheirShape) {
  auto t = TensorsFromJson(json::parse(R"({"x": [[1, 2, 3], [4, 5, 6]]})"),
                           {{"x", DType::kInt64, std::nullopt}});
  ASSERT_OK(t);
  const auto& x = t->at("x");
  EXPECT_EQ(x.dtype, DType::kInt64);
  EXPECT_EQ(x.shape, (std::vector<int64_t>{2, 3}));
  int64_t last;
  std::memcpy(&last, x.data.data() + 5 * 8, 8);
  EXPECT_EQ(last, 6);
}

TEST(JsonTensors, UndeclaredArraysAreFloat32AndScalarsHaveNoDims) {
  auto t = TensorsFromJson(json::parse(R"({"x": [1.5, 2], "s": 3})"), {});
  ASSERT_OK(t);
  EXPECT_EQ(testing::ToFloats(t->at("x")), (std::vector<float>{1.5f, 2.0f}));
  EXPECT_TRUE(t->at("s").shape.empty());
  EXPECT_EQ(t->at("s").data.size(), 4u);
}

TEST(JsonTensors, BooleansAreOneAndZeroAndHugeValuesSaturate) {
  auto t = TensorsFromJson(json::parse(R"({"b": [true, false], "f": [true, 1e300],
                                           "i": [1e300, -1e300, 2.9]})"),
                           {{"b", DType::kBool, std::nullopt},
                            {"f", DType::kFloat32, std::nullopt},
                            {"i", DType::kInt64, std::nullopt}});
  ASSERT_OK(t);
  EXPECT_EQ(t->at("b").data, std::string("\x01\x00", 2));
  const auto f = testing::ToFloats(t->at("f"));
  EXPECT_EQ(f[0], 1.0f);
  EXPECT_TRUE(std::isinf(f[1]));
  int64_t i[3];
  std::memcpy(i, t->at("i").data.data(), sizeof i);
  EXPECT_EQ(i[0], INT64_MAX);
  EXPECT_EQ(i[1], INT64_MIN);
  EXPECT_EQ(i[2], 2);
}

TEST(JsonTensors, ExplicitObjectsAndStrings) {
  auto t = TensorsFromJson(
      json::parse(R"({"m": {"dtype": "uint8", "shape": [2, 2], "data": [1, 2, 3, 4]},
                      "p": "hello", "e": []})"),
      {});
  ASSERT_OK(t);
  EXPECT_EQ(t->at("m").shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(t->at("m").data, std::string("\x01\x02\x03\x04"));
  EXPECT_EQ(t->at("p").dtype, DType::kString);
  EXPECT_EQ(t->at("e").shape, std::vector<int64_t>{0});
}

TEST(JsonTensors, BadInputsAreInvalidRequest) {
  for (const char* bad : {R"({"x": [[1, 2], [3]]})", R"({"x": [[1], 2]})", R"({"x": ["a"]})",
                          R"({"x": {"dtype": "float32", "shape": [3], "data": [1, 2]}})",
                          R"({"x": {"dtype": "nope", "data": [1]}})", R"([1, 2])"}) {
    auto t = TensorsFromJson(json::parse(bad), {});
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_EQ(t.status().code(), ErrorCode::kInvalidRequest);
  }
}

TEST(JsonTensors, HalfAndBFloat16RoundTripExactlyRepresentableValues) {
  for (DType d : {DType::kFloat16, DType::kBFloat16}) {
    auto t = TensorsFromJson(json::parse(R"({"x": [0.5, -2, 1024, 0.0001220703125]})"),
                             {{"x", d, std::nullopt}});
    ASSERT_OK(t);
    EXPECT_EQ(t->at("x").data.size(), 8u);
    const json back = TensorsToJson(*t)["x"]["data"];
    // Written with a float32's shortest digits: each reads back as the same value.
    EXPECT_EQ(back, json::parse("[0.5, -2.0, 1024.0, 0.00012207031]")) << back.dump();
    auto again = TensorsFromJson(json{{"x", back}}, {{"x", d, std::nullopt}});
    ASSERT_OK(again);
    EXPECT_EQ(again->at("x").data, t->at("x").data);
  }
}

TEST(JsonTensors, Float32IsWrittenWithAFloatsShortestDigits) {
  const std::vector<float> values{0.1f, 1.0f / 3, 3.4e38f, 1e-45f, -16777216.0f};
  protocol::NamedTensors out;
  out["y"] = testing::Floats({5}, values);
  const json written = TensorsToJson(out)["y"]["data"];
  EXPECT_EQ(written.dump(), "[0.1,0.33333334,3.4e+38,1e-45,-16777216.0]");
  auto back = TensorsFromJson(json{{"y", json::parse(written.dump())}},
                              {{"y", DType::kFloat32, std::nullopt}});
  ASSERT_OK(back);
  EXPECT_EQ(back->at("y").data, out["y"].data) << "each reads back as the same float32";
}

TEST(JsonTensors, OutputsPrintDtypeShapeAndFlatData) {
  protocol::NamedTensors out;
  out["y"] = testing::Floats({2, 1}, {2, 4});
  out["label"] = {DType::kString, {}, "cat"};
  const json j = TensorsToJson(out);
  EXPECT_EQ(j["y"]["dtype"], "float32");
  EXPECT_EQ(j["y"]["shape"], json::parse("[2, 1]"));
  EXPECT_EQ(j["y"]["data"], json::parse("[2.0, 4.0]"));
  EXPECT_EQ(j["label"], "cat");
}

}  // namespace
}  // namespace botmodels
