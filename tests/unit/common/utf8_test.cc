#include "common/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace modelgate {
namespace {

TEST(Utf8Test, AcceptsWellFormedText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("é ü €  \xf0\x9f\x98\x80"));  // 2, 3 and 4 byte forms
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));         // U+10FFFF
}

TEST(Utf8Test, FindsTheFirstBadByte) {
  EXPECT_EQ(FirstInvalidUtf8("ab\xff"), 2u);
  EXPECT_EQ(FirstInvalidUtf8("\xc3"), 0u);              // truncated
  EXPECT_EQ(FirstInvalidUtf8("\xc0\xaf"), 0u);          // overlong '/'
  EXPECT_EQ(FirstInvalidUtf8("\xe0\x80\xaf"), 0u);      // overlong
  EXPECT_EQ(FirstInvalidUtf8("\xed\xa0\x80"), 0u);      // surrogate U+D800
  EXPECT_EQ(FirstInvalidUtf8("\xf4\x90\x80\x80"), 0u);  // above U+10FFFF
  EXPECT_EQ(FirstInvalidUtf8("x\x80"), 1u);             // lone continuation
}

TEST(Utf8Test, PrintableCutEscapesAndCutsOnCharacterBoundaries) {
  EXPECT_EQ(PrintableCut("Zürich", 64), "Zürich");
  EXPECT_EQ(PrintableCut("a\nb\x7f", 64), "a\\x0ab\\x7f");
  EXPECT_EQ(PrintableCut("\xff\xc3", 64), "\\xff\\xc3");  // not UTF-8
  EXPECT_EQ(PrintableCut("abcdef", 3), "abc\u2026");
  EXPECT_EQ(PrintableCut("aü", 2), "a\u2026");  // ü is 2 bytes: never half of it
  EXPECT_EQ(PrintableCut("", 3), "");
}

}  // namespace
}  // namespace modelgate
