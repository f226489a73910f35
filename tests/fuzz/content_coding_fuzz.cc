// libFuzzer harness: bytes as a compressed request body and as an
// Accept-Encoding value. InflateBody under gzip and deflate with a small
// limit: an accepted body never inflates past the limit, a refused one is
// 400 or 413 (never anything else), and what inflated compresses and
// inflates back to itself. ChooseResponseCoding takes any bytes.
#include <cstddef>
#include <cstdint>

#include "frontend/http/content_coding.h"
#include "fuzz_support.h"

using namespace modelgate;

namespace {
// Small enough that a 1 MiB input cannot take long, large enough for bombs.
constexpr size_t kLimit = 256 * 1024;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  for (ContentCoding c : {ContentCoding::kGzip, ContentCoding::kDeflate}) {
    auto inflated = InflateBody(body, c, kLimit);
    if (!inflated.ok()) {
      const StatusCode code = inflated.status().code();
      fuzz::Require(code == StatusCode::kInvalidArgument || code == StatusCode::kTooLarge,
                    "InflateBody refused with a code other than 400/413",
                    inflated.status().message());
      continue;
    }
    fuzz::Require(inflated->size() <= kLimit, "InflateBody passed its limit");
    auto packed = CompressBody(*inflated, c);
    fuzz::Require(packed.ok(), "CompressBody failed");
    auto back = InflateBody(*packed, c, kLimit);
    fuzz::Require(back.ok() && *back == *inflated, "compress/inflate round trip differs");
  }
  ChooseResponseCoding(body);
  return 0;
}
