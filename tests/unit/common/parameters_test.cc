#include "modelgate/parameters.h"

#include <gtest/gtest.h>

namespace modelgate {
namespace {

TEST(ParametersTest, DaemonOwnedKeysAreRecognisedAndOthersAreNot) {
  for (const char* key : {"timeout", "binary_data_output", "binary_data", "binary_data_size",
                          "priority", "sequence_id", "sequence_start", "sequence_end", "headers",
                          "triton_enable_empty_final_response"}) {
    EXPECT_TRUE(IsDaemonParameter(key)) << key;
  }
  for (const char* key : {"alternative", "type", "window", "Timeout", "timeout ", ""}) {
    EXPECT_FALSE(IsDaemonParameter(key)) << key;
  }
}

TEST(ParametersTest, KeysAreBoundedUtf8AndFreeOfControlCharacters) {
  EXPECT_TRUE(CheckParameterKey("alternative", 0).ok());
  EXPECT_TRUE(CheckParameterKey("Zürich", 0).ok());
  EXPECT_TRUE(CheckParameterKey(std::string(kMaxParameterKeyBytes, 'k'), 0).ok());
  struct Case {
    std::string key;
    size_t count;
    std::string fragment;
  } cases[] = {
      {"k", kMaxParameters, "more than 64 parameters (at 'k')"},
      {"", 0, "a parameter name is empty"},
      {std::string(kMaxParameterKeyBytes + 1, 'k'), 0, "the name has 129 bytes; at most 128"},
      {"a\nb", 0, "request parameter 'a\\x0ab': the name must be UTF-8 without control"},
      {"\xff\xfe", 0, "request parameter '\\xff\\xfe': the name must be UTF-8"},
  };
  for (const auto& c : cases) {
    Status s = CheckParameterKey(c.key, c.count);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.fragment;
    EXPECT_NE(s.message().find(c.fragment), std::string::npos) << s.message();
  }
}

TEST(ParametersTest, StringValuesAreBoundedAndUtf8) {
  EXPECT_TRUE(CheckParameterString("k", std::string(kMaxParameterValueBytes, 'v')).ok());
  Status big = CheckParameterString("k", std::string(kMaxParameterValueBytes + 1, 'v'));
  EXPECT_EQ(big.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(big.message().find("request parameter 'k': the value has 65537 bytes"),
            std::string::npos)
      << big.message();
  Status nul = CheckParameterString("k", std::string("a\0b", 3));
  EXPECT_NE(nul.message().find("'k': a string value must not contain NUL"), std::string::npos)
      << nul.message();
  Status bad = CheckParameterString("k", "\xc3");
  EXPECT_NE(bad.message().find("'k': a string value must be UTF-8"), std::string::npos)
      << bad.message();
}

}  // namespace
}  // namespace modelgate
