#include "observability/request_id.h"

#include <gtest/gtest.h>

namespace modelgate {
namespace {

TEST(RequestIdTest, AcceptsPrintableAsciiWithoutSpaceUpTo128Bytes) {
  EXPECT_TRUE(ValidateRequestId("", "header x-request-id").ok());  // caller generates one
  EXPECT_TRUE(ValidateRequestId("abc-123_XYZ.~!{}", "header x-request-id").ok());
  EXPECT_TRUE(ValidateRequestId(std::string(128, 'a'), "header x-request-id").ok());
  EXPECT_TRUE(ValidateRequestId(NewRequestId(), "generated").ok());
}

TEST(RequestIdTest, RejectsEverythingElseNamingTheSourceAndTheRule) {
  for (std::string bad :
       {std::string(129, 'a'), std::string("é"), std::string("x\ny"), std::string("a\tb"),
        std::string("a b"), std::string("a\0b", 3), std::string("\x7f")}) {
    Status s = ValidateRequestId(bad, "field 'id'");
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(
        s.message().find("request id in field 'id' must be 1 to 128 bytes of printable ASCII"),
        std::string::npos)
        << s.message();
    EXPECT_EQ(s.message().find(bad), std::string::npos);  // never echoed
  }
}

}  // namespace
}  // namespace modelgate
