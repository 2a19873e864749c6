#include "worker/batch.h"

#include <gtest/gtest.h>

#include "tests/testutil.h"

namespace botmodels {
namespace {

using protocol::DType;
using protocol::TensorView;
using protocol::TensorViews;
using testing::Floats;

TEST(Batch, KeyIgnoresDimZeroButNotTheOtherDims) {
  const auto a = Floats({1, 4}, {1, 2, 3, 4});
  const auto b = Floats({2, 4}, {1, 2, 3, 4, 5, 6, 7, 8});
  const auto c = Floats({1, 2}, {1, 2});
  EXPECT_EQ(Batch::Key({{"x", protocol::ViewOf(a)}}), Batch::Key({{"x", protocol::ViewOf(b)}}));
  EXPECT_NE(Batch::Key({{"x", protocol::ViewOf(a)}}), Batch::Key({{"x", protocol::ViewOf(c)}}));
}

TEST(Batch, RowsMustAgreeAcrossInputs) {
  const auto one = Floats({1, 2}, {1, 2});
  const auto two = Floats({2, 1}, {1, 2});
  EXPECT_EQ(*Batch::Rows({{"a", protocol::ViewOf(one)}, {"b", protocol::ViewOf(one)}}), 1);
  auto bad = Batch::Rows({{"a", protocol::ViewOf(one)}, {"b", protocol::ViewOf(two)}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidRequest);
  EXPECT_NE(bad.status().message().find("dim 0"), std::string::npos);
}

TEST(Batch, JoinsRowsInOrderAndSplitsOutputsBack) {
  const auto a = Floats({1, 2}, {1, 2});
  const auto b = Floats({2, 2}, {3, 4, 5, 6});
  const TensorViews va{{"x", protocol::ViewOf(a)}}, vb{{"x", protocol::ViewOf(b)}};
  const Batch batch({&va, &vb});
  EXPECT_EQ(batch.rows(), 3);
  const TensorView& joined = batch.inputs().at("x");
  EXPECT_EQ(joined.shape, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(protocol::Copy(joined), Floats({3, 2}, {1, 2, 3, 4, 5, 6}));

  // An output of 3 rows of 3: the first row goes to a, the next two to b.
  const auto y = Floats({3, 3}, {1, 1, 1, 2, 2, 2, 3, 3, 3});
  auto parts = batch.Split({{"y", protocol::ViewOf(y)}});
  ASSERT_OK(parts);
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ(protocol::Copy((*parts)[0].at("y")), Floats({1, 3}, {1, 1, 1}));
  EXPECT_EQ(protocol::Copy((*parts)[1].at("y")), Floats({2, 3}, {2, 2, 2, 3, 3, 3}));
}

TEST(Batch, OutputWithoutOneRowPerInputRowIsInternal) {
  const auto a = Floats({1, 2}, {1, 2});
  const TensorViews va{{"x", protocol::ViewOf(a)}};
  const Batch batch({&va, &va});
  const auto sum = Floats({1}, {42});  // e.g. a model that reduces over the batch
  auto parts = batch.Split({{"y", protocol::ViewOf(sum)}});
  ASSERT_FALSE(parts.ok());
  EXPECT_EQ(parts.status().code(), ErrorCode::kInternal);
}

}  // namespace
}  // namespace botmodels
