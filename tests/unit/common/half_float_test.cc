#include "common/half_float.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace modelgate {
namespace {

uint16_t Fp16Bits(float f) { return FromFloat<Fp16>(f).bits; }
uint16_t Bf16Bits(float f) { return FromFloat<Bf16>(f).bits; }

TEST(HalfFloatTest, WidensFp16Exactly) {
  EXPECT_EQ(ToFloat(Fp16{0x3c00}), 1.0f);
  EXPECT_EQ(ToFloat(Fp16{0x3e00}), 1.5f);
  EXPECT_EQ(ToFloat(Fp16{0xc000}), -2.0f);
  EXPECT_EQ(ToFloat(Fp16{0x7bff}), 65504.0f);
  EXPECT_EQ(ToFloat(Fp16{0x0001}), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(ToFloat(Fp16{0x0400}), std::ldexp(1.0f, -14));  // smallest normal
  EXPECT_TRUE(std::isinf(ToFloat(Fp16{0x7c00})));
  EXPECT_TRUE(std::isnan(ToFloat(Fp16{0x7e00})));
  EXPECT_TRUE(std::signbit(ToFloat(Fp16{0x8000})));
}

TEST(HalfFloatTest, NarrowsToFp16RoundingToNearestEven) {
  EXPECT_EQ(Fp16Bits(1.0f), 0x3c00);
  EXPECT_EQ(Fp16Bits(-2.0f), 0xc000);
  EXPECT_EQ(Fp16Bits(65504.0f), 0x7bff);
  EXPECT_EQ(Fp16Bits(65519.0f), 0x7bff);  // below the halfway point to 65536
  EXPECT_EQ(Fp16Bits(65520.0f), 0x7c00);  // halfway: ties to even, which is infinity
  EXPECT_EQ(Fp16Bits(1.0f + std::ldexp(1.0f, -11)), 0x3c00);      // tie between 1 and next: even
  EXPECT_EQ(Fp16Bits(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);  // tie: rounds up to even
  EXPECT_EQ(Fp16Bits(std::ldexp(1.0f, -24)), 0x0001);
  EXPECT_EQ(Fp16Bits(std::ldexp(1.0f, -25)), 0x0000);  // tie with 0: even
  EXPECT_EQ(Fp16Bits(std::ldexp(1.5f, -25)), 0x0001);
  EXPECT_EQ(Fp16Bits(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(Fp16Bits(-1e10f), 0xfc00);
  EXPECT_TRUE(std::isnan(ToFloat(FromFloat<Fp16>(std::numeric_limits<float>::quiet_NaN()))));
}

TEST(HalfFloatTest, EveryFp16RoundTripsThroughFloat) {
  for (uint32_t bits = 0; bits <= 0xffff; ++bits) {
    const Fp16 h{static_cast<uint16_t>(bits)};
    const float f = ToFloat(h);
    if (std::isnan(f)) continue;
    ASSERT_EQ(FromFloat<Fp16>(f).bits, h.bits) << bits;
  }
}

TEST(HalfFloatTest, Bf16IsTheRoundedTopHalfOfAFloat) {
  EXPECT_EQ(Bf16Bits(1.5f), 0x3fc0);
  EXPECT_EQ(ToFloat(Bf16{0x3fc0}), 1.5f);
  EXPECT_EQ(Bf16Bits(1.0f + std::ldexp(1.0f, -8)), 0x3f80);        // tie: even
  EXPECT_EQ(Bf16Bits(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);    // tie: even, up
  EXPECT_EQ(Bf16Bits(std::numeric_limits<float>::max()), 0x7f80);  // rounds past max: inf
  EXPECT_TRUE(std::isnan(ToFloat(FromFloat<Bf16>(std::numeric_limits<float>::quiet_NaN()))));
}

}  // namespace
}  // namespace modelgate
