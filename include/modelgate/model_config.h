// ModelConfig: the schema of models/<name>/config.json, defined once here and
// documented in the README. Parsing rejects unknown keys and bad values with
// the file, the key path and the reason.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "modelgate/status.h"
#include "modelgate/tensor.h"
#include "modelgate/worker_command.h"

namespace modelgate {

struct TensorSpec {
  std::string name;
  DataType datatype = DataType::kFp64;
  std::vector<int64_t> shape;  // -1: any size in that dimension
};

struct ModelConfig {
  std::string name;         // the model directory's name
  std::string source_file;  // path of the config file, for messages
  Backend backend = Backend::kPython;
  std::string interpreter;  // empty: the daemon's --rscript / --python
  bool dataframe = false;   // 1-D inputs become columns of a data.frame / DataFrame
  int workers = 1;
  int max_queue_size = 64;
  bool required = true;  // readiness of the server waits for this model
  int64_t startup_timeout_ms = 60000;
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;  // empty: whatever the model returns
  std::map<std::string, std::string> env;
};

// Parses config JSON for model `name`; `file` names the source in errors.
StatusOr<ModelConfig> ParseModelConfig(std::string_view json_text, const std::string& file,
                                       const std::string& name);

std::string_view BackendName(Backend backend);

}  // namespace modelgate
