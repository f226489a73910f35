// Scans a Triton-style model repository:
//   <root>/<model>/config.json
//   <root>/<model>/<version>/model.R | model.py   (version: a positive integer)
// A config error or a model without any version directory is an error naming
// the file; the daemon refuses to start on it rather than serve half a fleet.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "modelgate/model_config.h"
#include "modelgate/status.h"

namespace modelgate {

struct ModelEntry {
  ModelConfig config;
  std::map<int64_t, std::string> versions;  // version -> directory, ascending
};

StatusOr<std::vector<ModelEntry>> ScanRepository(const std::string& root);

}  // namespace modelgate
