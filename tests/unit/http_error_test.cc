// HttpError: protocol errors as HTTP statuses.
#include "gateway/http_error.h"

#include <gtest/gtest.h>

#include "tests/testutil.h"

namespace botmodels {
namespace {

TEST(HttpError, ProtocolErrorsMapToTheStatusesOfTheGatewayDocument) {
  EXPECT_EQ(HttpStatus(ErrorCode::kInvalidRequest), 400);
  EXPECT_EQ(HttpStatus(ErrorCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatus(ErrorCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatus(ErrorCode::kUnknownModel), 404);
  EXPECT_EQ(HttpStatus(ErrorCode::kOverloaded), 429);
  EXPECT_EQ(HttpStatus(ErrorCode::kModelLoadFailed), 503);
  EXPECT_EQ(HttpStatus(ErrorCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatus(ErrorCode::kWorkerCrashed), 503);
  EXPECT_EQ(HttpStatus(ErrorCode::kDeadlineExceeded), 504);
  EXPECT_EQ(HttpStatus(ErrorCode::kInternal), 500);
}

}  // namespace
}  // namespace botmodels
