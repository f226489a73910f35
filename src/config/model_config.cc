#include "modelgate/model_config.h"

#include <nlohmann/json.hpp>

#include "config/config_checker.h"
#include "config/example_keys.h"
#include "config/lifecycle_keys.h"
#include "config/model_config_json.h"
#include "config/model_config_keys.h"

namespace modelgate {

std::string_view BackendName(Backend backend) { return backend == Backend::kR ? "r" : "python"; }

StatusOr<ModelConfig> ParseModelConfig(std::string_view text, const std::string& file,
                                       const std::string& name) {
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for 1e400
    return InvalidArgument(file + ": not valid JSON: " + e.what());
  }
  return ParseModelConfigJson(root, file, name);
}

StatusOr<ModelConfig> ParseModelConfigJson(const nlohmann::json& root, const std::string& file,
                                           const std::string& name) {
  if (!root.is_object()) return InvalidArgument(file + ": must be a JSON object");
  ModelConfig m;
  m.name = name;
  m.source_file = file;
  Checker c(file);
  if (!ParseObject<ModelConfig>(c, root, "", ModelConfigKeys(), m)) return c.error();
  // Rules across keys.
  if (m.dataframe) {
    for (size_t i = 0; i < m.inputs.size(); ++i) {
      const auto& s = m.inputs[i].shape;
      if (s.size() != 1 && !(s.size() == 2 && s[1] == 1)) {
        c.Fail("inputs[" + std::to_string(i) + "].shape",
               "data-frame mode needs 1-D inputs, got " + ShapeString(s));
        return c.error();
      }
    }
  }
  if (!m.python_path.empty() && m.backend != Backend::kPython) {
    c.Fail("python_path", "is for backend 'python' (this model's backend is 'r': use r_libs)");
    return c.error();
  }
  if (!m.r_libs.empty() && m.backend != Backend::kR) {
    c.Fail("r_libs", "is for backend 'r' (this model's backend is 'python': use python_path)");
    return c.error();
  }
  if (!CheckWarmupInputs(c, m)) return c.error();
  if (!CheckExamples(c, m)) return c.error();
  return m;
}

}  // namespace modelgate
