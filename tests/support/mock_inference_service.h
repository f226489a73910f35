// gMock doubles of the InferenceService a front end calls, for unit tests of
// one front end. The service's answers (InferCallback) are up to the test:
// capture `done` from Infer and call it when and as the test decides.
#pragma once

#include <gmock/gmock.h>

#include <memory>
#include <string>
#include <vector>

#include "modelgate/inference_service.h"

namespace modelgate::testing {

class MockInferenceService : public InferenceService {
 public:
  MOCK_METHOD(StatusOr<ModelTarget>, Find,
              (const std::string& model, const std::string& version, const std::string& route_key),
              (const, override));
  MOCK_METHOD(std::shared_ptr<InferHandle>, Infer,
              (const ModelTarget& target, InferRequest request, InferCallback done), (override));
  MOCK_METHOD(std::shared_ptr<InferHandle>, Infer, (InferRequest request, InferCallback done),
              (override));
  MOCK_METHOD(bool, ModelReady, (const ModelTarget& target), (const, override));
  MOCK_METHOD(std::string, NotReadyReason, (const ModelTarget& target), (const, override));
  MOCK_METHOD(bool, ServerReady, (), (const, override));
  MOCK_METHOD(std::vector<ModelStatus>, Index, (), (const, override));
  MOCK_METHOD(std::vector<std::string>, ModelNames, (), (const, override));
  MOCK_METHOD(void, LoadModel,
              (const std::string& model, std::optional<std::string> config_json,
               RepositoryDone done),
              (override));
  MOCK_METHOD(void, UnloadModel, (const std::string& model, RepositoryDone done), (override));
  MOCK_METHOD(StatusOr<std::vector<ModelVersionStats>>, Statistics,
              (const std::string& model, const std::string& version), (const, override));
};

class MockInferHandle : public InferHandle {
 public:
  MOCK_METHOD(void, Cancel, (), (override));
};

// A model "m" with versions 1 and 2 and one FP32 input "x" [-1, 2] and one
// FP32 output "y" [-1], as Find would return it.
inline ModelConfig TestModelConfig() {
  ModelConfig c;
  c.name = "m";
  c.backend = Backend::kPython;
  c.inputs = {{"x", DataType::kFp32, {-1, 2}}};
  c.outputs = {{"y", DataType::kFp32, {-1}}};
  return c;
}

inline ModelTarget TestTarget(const ModelConfig& config, int64_t version = 2) {
  ModelTarget t;
  t.config = &config;
  t.version = version;
  t.versions = {1, 2};
  return t;
}

}  // namespace modelgate::testing
