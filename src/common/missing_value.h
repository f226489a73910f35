// Missing values in float tensors. R's NA_real_ is a NaN whose low 32 bits
// are 1954; modelgate keeps it apart from NaN everywhere: bit-exact in raw
// bytes (gRPC, binary REST, worker frames), as JSON null (see json_writer.h
// and json_tensor.h), and across FP64 <-> FP32 conversions, where FP32 NA is
// the quiet NaN with payload 1954 (C's float conversion would drop the
// payload and turn NA into NaN). FP16 and BF16 have no NA.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

namespace modelgate {

inline constexpr uint64_t kFp64NaBits = 0x7FF00000000007A2;  // R's NA_real_
inline constexpr uint32_t kFp32NaBits = 0x7FC007A2;
inline constexpr uint32_t kNaPayload = 1954;

// R's own test (R_IsNA): a NaN whose low word is 1954.
inline bool IsNa(double v) {
  return std::isnan(v) && static_cast<uint32_t>(std::bit_cast<uint64_t>(v)) == kNaPayload;
}
// A NaN whose payload (the mantissa without the quiet bit) is 1954.
inline bool IsNa(float v) {
  return std::isnan(v) && (std::bit_cast<uint32_t>(v) & 0x003FFFFFu) == kNaPayload;
}

inline double NaFp64() { return std::bit_cast<double>(kFp64NaBits); }
inline float NaFp32() { return std::bit_cast<float>(kFp32NaBits); }

}  // namespace modelgate
