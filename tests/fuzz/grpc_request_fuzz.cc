// libFuzzer harness: bytes as a serialized inference.ModelInferRequest.
// ParseFromArray -> FromGrpc -> ValidateInputs against each fixed model
// config -> ToGrpc of the echo model's response, raw and typed, serialized
// as the server would. An accepted request's id must keep the id rule (and
// so be a legal gRPC metadata value: the front end echoes it as
// x-request-id trailing metadata, and gRPC aborts on an illegal one).
#include <grpc/grpc.h>
#include <grpc/slice.h>

#include <google/protobuf/stubs/logging.h>

#include <cstddef>
#include <cstdint>

#include "frontend/grpc/grpc_codec.h"
#include "fuzz_support.h"

using namespace modelgate;

// Protobuf logs every string field that is not UTF-8; a rejected message is
// an expected outcome here, not news.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > static_cast<size_t>(INT32_MAX)) return 0;
  inference::ModelInferRequest message;
  if (!message.ParseFromArray(data, static_cast<int>(size))) return 0;
  auto request = FromGrpc(message);
  if (!request.ok()) return 0;
  const std::string& id = request->id;
  fuzz::Require(
      grpc_header_nonbin_value_is_legal(grpc_slice_from_static_buffer(id.data(), id.size())),
      "FromGrpc accepted an id that is not a legal x-request-id metadata value", id);
  fuzz::RequireValidId(id);
  for (const ModelConfig& config : fuzz::RequestModels()) {
    if (!fuzz::Validates(config, *request)) continue;
    auto response = fuzz::Echo(config, *request);
    if (!response.ok()) continue;
    for (bool raw : {true, false}) {
      inference::ModelInferResponse out;
      ToGrpc(InferResponse(*response), raw, &out);
      std::string wire;
      fuzz::Require(out.SerializeToString(&wire), "ModelInferResponse serializes");
    }
  }
  return 0;
}
