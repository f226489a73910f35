// libFuzzer harness: bytes as a V1 (TF-Serving rows or columnar) :predict
// body. ParseV1PredictRequest under each fixed config (one input with
// wildcard inner dims, two 1-D data-frame columns, mixed datatypes) ->
// ValidateInputs -> the echo model's response -> EncodeV1PredictResponse (or
// EncodeV1ColumnarResponse for a columnar body), which must parse back as
// JSON. An accepted body keeps the rank and element-count rules, and in the
// row form every row gave every input exactly one row of values (rows are
// never re-cut across the batch).
#include <cstddef>
#include <cstdint>

#include "frontend/http/rest_codec.h"
#include "frontend/http/rest_v1_columnar.h"
#include "fuzz_support.h"

using namespace modelgate;

namespace {

const std::vector<ModelConfig>& V1Models() {
  static const std::vector<ModelConfig> models = {
      fuzz::Model("iris_species", {fuzz::Spec("features", DataType::kFp64, {-1, 4})}),
      fuzz::Model("grid", {fuzz::Spec("x", DataType::kInt32, {-1, -1, -1})}),
      fuzz::Model(
          "mtcars_am",
          {fuzz::Spec("wt", DataType::kFp64, {-1}), fuzz::Spec("hp", DataType::kFp64, {-1})}, {},
          /*dataframe=*/true),
      fuzz::Model("mixed", {fuzz::Spec("s", DataType::kBytes, {-1}),
                            fuzz::Spec("b", DataType::kBool, {-1, 2}),
                            fuzz::Spec("n", DataType::kUint8, {-1, -1})}),
  };
  return models;
}

// Values in a JSON row entry; a scalar is one.
size_t Leaves(const nlohmann::json& v) {
  if (!v.is_array()) return 1;
  size_t n = 0;
  for (const auto& e : v) n += Leaves(e);
  return n;
}

void RequireRowsAligned(std::string_view body, const ModelConfig& config,
                        const InferRequest& request) {
  const auto instances = nlohmann::json::parse(body).at("instances");
  for (size_t i = 0; i < config.inputs.size(); ++i) {
    const std::string& name = config.inputs[i].name;
    auto t = std::find_if(request.inputs.begin(), request.inputs.end(),
                          [&](const Tensor& x) { return x.name == name; });
    const size_t per_row = static_cast<size_t>(t->HeldElements()) / instances.size();
    for (const auto& row : instances) {
      const auto& v = row.is_object() ? row.at(name) : config.inputs.size() == 1 ? row : row.at(i);
      fuzz::Require(Leaves(v) == per_row, "V1 rows of unequal size accepted",
                    name + ": " + std::to_string(Leaves(v)) + " values in a row of " +
                        std::to_string(per_row));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  for (const ModelConfig& config : V1Models()) {
    bool columnar = false;
    auto request = ParseV1PredictRequest(body, config, &columnar);
    if (!request.ok() || !fuzz::Validates(config, *request)) continue;
    if (!columnar) RequireRowsAligned(body, config, *request);
    auto response = fuzz::Echo(config, *request);
    if (!response.ok()) continue;
    auto encoded =
        columnar ? EncodeV1ColumnarResponse(*response) : EncodeV1PredictResponse(*response);
    if (encoded.ok()) fuzz::RequireJson(*encoded, "EncodeV1 response");
  }
  return 0;
}
