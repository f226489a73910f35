// Triton's ModelConfig JSON as a load request's config parameter.
#include "config/triton_model_config.h"

#include <gtest/gtest.h>

namespace modelgate {
namespace {

using nlohmann::json;

TEST(TritonModelConfigTest, OnlyTritonsShapeIsRecognised) {
  EXPECT_TRUE(IsTritonModelConfig(json::parse(R"({"input": []})")));
  EXPECT_TRUE(IsTritonModelConfig(json::parse(R"({"platform": "modelgate_r"})")));
  EXPECT_FALSE(IsTritonModelConfig(json::parse(R"({"backend": "r", "inputs": []})")));
  EXPECT_FALSE(IsTritonModelConfig(json::parse(R"({"backend": "r"})")));
  EXPECT_FALSE(IsTritonModelConfig(json::parse("[1]")));
}

TEST(TritonModelConfigTest, ABatchingConfigAsGetConfigAnswersItTranslates) {
  // What GET /v2/models/{m}/config answers (defaults printed), as protobuf
  // writes it: 64-bit numbers may be strings.
  const json triton = json::parse(R"({
    "name": "m", "platform": "modelgate_python", "backend": "python",
    "max_batch_size": 64, "default_model_filename": "",
    "input": [{"name": "x", "data_type": "TYPE_FP32", "dims": ["4"], "optional": false,
               "format": "FORMAT_NONE", "is_shape_tensor": false}],
    "output": [{"name": "label", "data_type": "TYPE_STRING", "dims": []}],
    "dynamic_batching": {"preferred_batch_size": [8, 16], "max_queue_delay_microseconds": "500"},
    "instance_group": [{"name": "m", "kind": "KIND_CPU", "count": 2, "gpus": []},
                       {"count": 1}],
    "version_policy": {"specific": {"versions": ["1", 3]}}})");
  auto got = FromTritonModelConfig(triton);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, json::parse(R"({
    "backend": "python",
    "inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, 4]}],
    "outputs": [{"name": "label", "datatype": "BYTES", "shape": [-1]}],
    "dynamic_batching": {"max_batch_size": 64, "max_queue_delay_us": 500,
                         "preferred_batch_sizes": [8, 16]},
    "workers": 3,
    "version_policy": {"specific": {"versions": [1, 3]}}})"));
}

TEST(TritonModelConfigTest, WithoutBatchingDimsAreTheShapeAndOptionalIsKept) {
  auto got = FromTritonModelConfig(json::parse(R"({"backend": "r", "input": [
      {"name": "w", "data_type": "TYPE_FP64", "dims": [-1], "optional": true}],
      "version_policy": {"latest": {"num_versions": 2}}})"));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ((*got)["inputs"],
            json::parse(R"([{"name": "w", "datatype": "FP64", "shape": [-1], "optional": true}])"));
  EXPECT_EQ((*got)["version_policy"], json::parse(R"({"latest": {"num_versions": 2}})"));
  EXPECT_FALSE(got->contains("workers"));
}

TEST(TritonModelConfigTest, ErrorsNameTheField) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"platform": "onnxruntime_onnx", "input": []})", "backend: must be \"r\" or \"python\""},
      {R"({"backend": "r", "input": [{"name": "x", "data_type": "TYPE_FOO", "dims": [1]}]})",
       "input[0].data_type: 'TYPE_FOO' is not a Triton data type"},
      {R"({"backend": "r", "input": [{"name": "x", "data_type": "FP32", "dims": [1]}]})",
       "input[0].data_type: 'FP32' is not a Triton data type"},
      {R"({"backend": "r", "output": [{"name": "y", "data_type": "TYPE_FP32", "dims": ["a"]}]})",
       "output[0].dims: 'a' is not an integer"},
      {R"({"backend": "r", "input": [{"name": "x", "data_type": "TYPE_FP32", "dims": [1],
           "reshape": {"shape": [2]}}]})",
       "input[0].reshape: Triton's field has no modelgate equivalent"},
      {R"({"backend": "r", "input": [], "sequence_batching": {"max_sequence_idle_microseconds": 5}})",
       "sequence_batching: Triton's field has no modelgate equivalent"},
      {R"({"backend": "r", "input": [], "dynamic_batching": {}})",
       "dynamic_batching: needs max_batch_size > 0"},
      {R"({"backend": "r", "instance_group": [{"kind": "KIND_GPU", "count": 1}]})",
       "instance_group[0].kind: 'KIND_GPU': modelgate runs models on CPU"},
      {R"({"backend": "r", "input": [], "version_policy": {"newest": {}}})",
       "version_policy.newest: must be one of latest, all, specific"},
      {R"({"backend": "r", "input": [], "max_batch_size": "99999999999999999999"})",
       "max_batch_size: '99999999999999999999' is not an integer"},
      {"{\"backend\": \"r\", \"input\": [], \"a\\u0001b\": 1}", "a?b: Triton's field"},
  };
  for (const auto& [text, expected] : cases) {
    auto got = FromTritonModelConfig(json::parse(text));
    ASSERT_FALSE(got.ok()) << text;
    EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(got.status().message().find(expected), std::string::npos)
        << got.status().message() << "\n  expected: " << expected;
  }
}

}  // namespace
}  // namespace modelgate
