#include "common/status_map.h"

#include <gtest/gtest.h>

namespace modelgate {
namespace {

TEST(StatusMapTest, MapsEveryCodeAsTheDesignTableSays) {
  struct Row {
    StatusCode code;
    int http;
    int grpc;
  };
  const Row rows[] = {
      {StatusCode::kOk, 200, 0},
      {StatusCode::kInvalidArgument, 400, 3},
      {StatusCode::kNotFound, 404, 5},
      {StatusCode::kTooLarge, 413, 8},
      {StatusCode::kResourceExhausted, 429, 8},
      {StatusCode::kUnavailable, 503, 14},
      {StatusCode::kDeadlineExceeded, 504, 4},
      {StatusCode::kUnauthenticated, 401, 16},
      {StatusCode::kPermissionDenied, 403, 7},
      {StatusCode::kInternal, 500, 13},
      {StatusCode::kCancelled, 499, 1},
  };
  for (const auto& r : rows) {
    EXPECT_EQ(HttpStatusOf(r.code), r.http) << GrpcCodeName(r.code);
    EXPECT_EQ(GrpcCodeOf(r.code), r.grpc) << GrpcCodeName(r.code);
  }
  EXPECT_EQ(GrpcCodeName(StatusCode::kUnavailable), "UNAVAILABLE");
}

TEST(StatusTest, CarriesRetryAfterAndPrintsCodeName) {
  Status s = Status(StatusCode::kResourceExhausted, "queue full").WithRetryAfter(2);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.retry_after_seconds().value_or(0), 2);
  EXPECT_EQ(s.ToString(), "RESOURCE_EXHAUSTED: queue full");
  StatusOr<int> v = 3;
  EXPECT_TRUE(v.ok());
  EXPECT_EQ(*v, 3);
  StatusOr<int> e = NotFound("x");
  EXPECT_EQ(e.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace modelgate

namespace modelgate {
namespace {

TEST(StatusMapTest, BoundsErrorMessagesAtAUtf8Boundary) {
  EXPECT_EQ(BoundedErrorMessage("short"), "short");
  const std::string exact(kMaxErrorMessageBytes, 'a');
  EXPECT_EQ(BoundedErrorMessage(exact), exact);
  const std::string cut = BoundedErrorMessage(std::string(200000, 'a'));
  EXPECT_LE(cut.size(), kMaxErrorMessageBytes);
  EXPECT_TRUE(cut.ends_with("…"));
  // Two-byte characters: the cut never leaves half of one.
  std::string accents;
  while (accents.size() < 3 * kMaxErrorMessageBytes) accents += "é";
  const std::string cut2 = BoundedErrorMessage(accents);
  EXPECT_LE(cut2.size(), kMaxErrorMessageBytes);
  const std::string kept = cut2.substr(0, cut2.size() - std::string("…").size());
  EXPECT_EQ(kept.size() % 2, 0u);
  EXPECT_EQ(kept.find_first_not_of("é"), std::string::npos);
}

}  // namespace
}  // namespace modelgate
