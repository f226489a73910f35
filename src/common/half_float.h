// FP16 (IEEE 754 binary16) and BF16 (bfloat16) to and from float.
// Widening is exact (every FP16 and BF16 value is a float). Narrowing rounds
// to nearest, ties to even; a value past the largest finite one becomes
// infinity, NaN stays NaN (quiet), as IEEE conversion does.
#pragma once

#include <cstdint>
#include <cstring>

#include "modelgate/tensor.h"

namespace modelgate {

inline float ToFloat(Fp16 h) {
  const uint32_t sign = static_cast<uint32_t>(h.bits & 0x8000) << 16;
  const uint32_t exp = (h.bits >> 10) & 0x1f;
  uint32_t mant = h.bits & 0x3ff;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000 | (mant << 13);  // inf, NaN
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);  // rebias 15 -> 127
  } else if (mant == 0) {
    bits = sign;  // +-0
  } else {
    uint32_t e = 113;  // subnormal: normalise the mantissa
    while (!(mant & 0x400)) {
      mant <<= 1;
      --e;
    }
    bits = sign | (e << 23) | ((mant & 0x3ff) << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// bfloat16 is the top half of a float.
inline float ToFloat(Bf16 h) {
  const uint32_t bits = static_cast<uint32_t>(h.bits) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

namespace half_float_internal {

// Drops the low `shift` bits of `v`, rounding to nearest, ties to even.
inline uint32_t RoundShift(uint32_t v, uint32_t shift) {
  const uint32_t kept = v >> shift;
  const uint32_t rest = v & ((1u << shift) - 1);
  const uint32_t half = 1u << (shift - 1);
  return kept + ((rest > half || (rest == half && (kept & 1))) ? 1 : 0);
}

}  // namespace half_float_internal

template <class H>
H FromFloat(float f);

template <>
inline Fp16 FromFloat<Fp16>(float f) {
  using half_float_internal::RoundShift;
  static constexpr uint32_t kInf = 0x7f800000;
  static constexpr uint32_t kRoundsToInf = 0x477ff000;     // 65520: halfway past 65504
  static constexpr uint32_t kSmallestNormal = 0x38800000;  // 2^-14
  static constexpr uint32_t kRoundsToZero = 0x33000000;    // 2^-25: halfway to 2^-24, ties to 0
  uint32_t x;
  std::memcpy(&x, &f, sizeof x);
  const auto sign = static_cast<uint16_t>((x >> 16) & 0x8000);
  const uint32_t abs = x & 0x7fffffff;
  if (abs > kInf) return {static_cast<uint16_t>(sign | 0x7e00)};  // NaN, quiet
  if (abs >= kRoundsToInf) return {static_cast<uint16_t>(sign | 0x7c00)};
  if (abs < kSmallestNormal) {
    if (abs <= kRoundsToZero) return {sign};
    // A subnormal half counts units of 2^-24: mantissa * 2^(exp - 126).
    const uint32_t exp = abs >> 23;
    const uint32_t mant = (abs & 0x7fffff) | 0x800000;
    return {static_cast<uint16_t>(sign | RoundShift(mant, 126 - exp))};
  }
  // Rebias the exponent (127 -> 15) and round 23 mantissa bits to 10; a
  // carry out of the mantissa correctly bumps the exponent.
  return {static_cast<uint16_t>(sign | (RoundShift(abs, 13) - (112u << 10)))};
}

template <>
inline Bf16 FromFloat<Bf16>(float f) {
  uint32_t x;
  std::memcpy(&x, &f, sizeof x);
  if ((x & 0x7fffffff) > 0x7f800000) return {static_cast<uint16_t>((x >> 16) | 0x40)};  // NaN
  return {static_cast<uint16_t>(half_float_internal::RoundShift(x, 16))};
}

}  // namespace modelgate
