// libFuzzer harness: bytes as a KServe V2 REST infer body.
// ParseV2InferRequest -> ValidateInputs against each fixed model config ->
// the echo model's response -> EncodeV2InferResponse, which must parse back
// as JSON with as many values per output as its shape says. What is
// accepted must keep the id, rank and element-count rules; a rejected body
// must come back as a Status, never a crash.
#include <cstddef>
#include <cstdint>

#include "frontend/http/rest_codec.h"
#include "fuzz_support.h"

using namespace modelgate;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto request = ParseV2InferRequest({reinterpret_cast<const char*>(data), size}, SteadyTime{});
  if (!request.ok()) return 0;
  fuzz::RequireValidId(request->id);
  for (const ModelConfig& config : fuzz::RequestModels()) {
    if (!fuzz::Validates(config, *request)) continue;
    auto response = fuzz::Echo(config, *request);
    if (!response.ok()) continue;
    fuzz::RequireV2Json(EncodeV2InferResponse(*response));
  }
  return 0;
}
