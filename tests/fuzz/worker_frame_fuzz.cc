// libFuzzer harness: bytes as what a worker writes on its result pipe.
// FrameDecoder (fed in two pieces, as a pipe delivers) -> for each Result
// frame, MoveFromProto of every output -> the OutputContract of each fixed
// model config -> EncodeV2InferResponse, EncodeV1PredictResponse and ToGrpc
// (raw and typed). Every JSON answer must parse back. A worker is trusted no
// more than a client: whatever it sends must end as a Status, never a crash,
// and outputs that reach an encoder keep the rank and element-count rules.
#include <google/protobuf/stubs/logging.h>

#include <cstddef>
#include <cstdint>

#include "backend/ipc/frame_codec.h"
#include "backend/process/tensor_proto.h"
#include "frontend/grpc/grpc_codec.h"
#include "frontend/http/rest_codec.h"
#include "fuzz_support.h"
#include "server/output_contract.h"

using namespace modelgate;

namespace {

// Output configs: none declared (passed through as the model returns them),
// and the example models' declared outputs (which cast datatypes).
const std::vector<ModelConfig>& OutputModels() {
  static const std::vector<ModelConfig> models = {
      fuzz::Model("echo", {}),
      fuzz::Model("iris_species", {},
                  {fuzz::Spec("label", DataType::kInt64, {-1}),
                   fuzz::Spec("probabilities", DataType::kFp64, {-1, 3})}),
      fuzz::Model("mtcars_am", {}, {fuzz::Spec("prob", DataType::kFp32, {-1})}),
      fuzz::Model(
          "describe", {},
          {fuzz::Spec("n", DataType::kInt32, {1}), fuzz::Spec("mean", DataType::kFp64, {1})}),
  };
  return models;
}

void Encode(const ModelConfig& config, std::vector<Tensor> outputs) {
  static OutputContract contract;  // one for all: logs undeclared outputs once
  if (!contract.Apply(config, 1, {}, std::nullopt, outputs).ok()) return;
  for (const Tensor& t : outputs) {
    fuzz::RequireShapeSafe(t, /*allow_empty=*/true,
                           "a worker output breaks the rank / element-count rules");
  }
  InferResponse response{config.name, "1", "fuzz-request", std::move(outputs)};
  fuzz::RequireV2Json(EncodeV2InferResponse(response));
  auto v1 = EncodeV1PredictResponse(response);
  if (v1.ok()) fuzz::RequireJson(*v1, "EncodeV1PredictResponse");
  for (bool raw : {true, false}) {
    inference::ModelInferResponse out;
    ToGrpc(InferResponse(response), raw, &out);
    std::string wire;
    fuzz::Require(out.SerializeToString(&wire), "ModelInferResponse serializes");
  }
}

void OnFrame(worker::v1::Frame& frame) {
  if (frame.body_case() != worker::v1::Frame::kResult) return;
  std::vector<Tensor> outputs;
  for (auto& t : *frame.mutable_result()->mutable_outputs()) {
    auto out = MoveFromProto(std::move(t));
    if (!out.ok()) return;
    outputs.push_back(std::move(out).value());
  }
  for (const ModelConfig& config : OutputModels()) Encode(config, outputs);
}

}  // namespace

// Protobuf logs every string field that is not UTF-8; a rejected message is
// an expected outcome here, not news.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const char* bytes = reinterpret_cast<const char*>(data);
  FrameDecoder decoder;
  worker::v1::Frame frame;
  Status error;
  const size_t half = size / 2;
  for (auto [at, n] : {std::pair{size_t{0}, half}, std::pair{half, size - half}}) {
    decoder.Append(bytes + at, n);
    FrameDecoder::Result r;
    while ((r = decoder.Next(&frame, &error)) == FrameDecoder::Result::kFrame) {
      OnFrame(frame);
      frame.Clear();
    }
    if (r == FrameDecoder::Result::kError) {
      fuzz::Require(!error.ok(), "FrameDecoder error carries a Status");
      return 0;
    }
  }
  return 0;
}
