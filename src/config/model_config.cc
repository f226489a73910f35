#include "modelgate/model_config.h"

#include <nlohmann/json.hpp>
#include <set>

namespace modelgate {

namespace {

using nlohmann::json;

// Accumulates the first error with "file: key 'path': reason".
class Checker {
 public:
  explicit Checker(const std::string& file) : file_(file) {}
  bool Fail(const std::string& key, const std::string& reason) {
    if (error_.ok()) error_ = InvalidArgument(file_ + ": key '" + key + "': " + reason);
    return false;
  }
  bool ok() const { return error_.ok(); }
  const Status& error() const { return error_; }

  bool Int(const json& j, const std::string& key, int64_t lo, int64_t hi, int64_t* out) {
    if (!j.is_number_integer()) return Fail(key, "must be an integer");
    const int64_t v = j.get<int64_t>();
    if (v < lo || v > hi) {
      return Fail(key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi) +
                           ", got " + std::to_string(v));
    }
    *out = v;
    return true;
  }
  bool Bool(const json& j, const std::string& key, bool* out) {
    if (!j.is_boolean()) return Fail(key, "must be true or false");
    *out = j.get<bool>();
    return true;
  }
  bool String(const json& j, const std::string& key, std::string* out) {
    if (!j.is_string()) return Fail(key, "must be a string");
    *out = j.get<std::string>();
    return true;
  }

  bool Tensors(const json& j, const std::string& key, std::vector<TensorSpec>* out) {
    if (!j.is_array()) return Fail(key, "must be an array of {name, datatype, shape}");
    std::set<std::string> seen;
    for (size_t i = 0; i < j.size(); ++i) {
      const std::string at = key + "[" + std::to_string(i) + "]";
      const json& t = j[i];
      if (!t.is_object()) return Fail(at, "must be an object with name, datatype, shape");
      TensorSpec spec;
      for (const auto& [k, v] : t.items()) {
        const std::string sub = at + "." + k;
        if (k == "name") {
          if (!String(v, sub, &spec.name)) return false;
          if (spec.name.empty()) return Fail(sub, "must not be empty");
        } else if (k == "datatype") {
          std::string d;
          if (!String(v, sub, &d)) return false;
          auto type = ParseDataType(d);
          if (!type) return Fail(sub, "'" + d + "' is not a V2 datatype (BOOL, INT32, FP64, BYTES, ...)");
          spec.datatype = *type;
        } else if (k == "shape") {
          if (!v.is_array() || v.empty()) return Fail(sub, "must be a non-empty array of integers");
          for (const auto& d : v) {
            if (!d.is_number_integer() || d.get<int64_t>() < -1) {
              return Fail(sub, "dimensions must be integers >= -1 (-1 means any size)");
            }
            spec.shape.push_back(d.get<int64_t>());
          }
        } else {
          return Fail(sub, "unknown key (expected name, datatype, shape)");
        }
      }
      if (spec.name.empty()) return Fail(at + ".name", "is required");
      if (!t.contains("datatype")) return Fail(at + ".datatype", "is required");
      if (spec.shape.empty()) return Fail(at + ".shape", "is required");
      if (!seen.insert(spec.name).second) return Fail(at + ".name", "duplicate name '" + spec.name + "'");
      out->push_back(std::move(spec));
    }
    return true;
  }

 private:
  std::string file_;
  Status error_;
};

}  // namespace

std::string_view BackendName(Backend backend) { return backend == Backend::kR ? "r" : "python"; }

StatusOr<ModelConfig> ParseModelConfig(std::string_view text, const std::string& file,
                                       const std::string& name) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::parse_error& e) {
    return InvalidArgument(file + ": not valid JSON: " + e.what());
  }
  if (!root.is_object()) return InvalidArgument(file + ": must be a JSON object");
  Checker c(file);
  ModelConfig m;
  m.name = name;
  m.source_file = file;
  bool have_backend = false;
  int64_t n = 0;
  for (const auto& [key, v] : root.items()) {
    if (key == "backend") {
      std::string b;
      if (!c.String(v, key, &b)) break;
      if (b == "r") m.backend = Backend::kR;
      else if (b == "python") m.backend = Backend::kPython;
      else { c.Fail(key, "must be \"r\" or \"python\", got \"" + b + "\""); break; }
      have_backend = true;
    } else if (key == "interpreter") {
      if (!c.String(v, key, &m.interpreter)) break;
    } else if (key == "dataframe") {
      if (!c.Bool(v, key, &m.dataframe)) break;
    } else if (key == "required") {
      if (!c.Bool(v, key, &m.required)) break;
    } else if (key == "workers") {
      if (!c.Int(v, key, 1, 256, &n)) break;
      m.workers = static_cast<int>(n);
    } else if (key == "max_queue_size") {
      if (!c.Int(v, key, 0, 1000000, &n)) break;
      m.max_queue_size = static_cast<int>(n);
    } else if (key == "startup_timeout_ms") {
      if (!c.Int(v, key, 100, 3600000, &m.startup_timeout_ms)) break;
    } else if (key == "inputs") {
      if (!c.Tensors(v, key, &m.inputs)) break;
    } else if (key == "outputs") {
      if (!c.Tensors(v, key, &m.outputs)) break;
    } else if (key == "env") {
      if (!v.is_object()) { c.Fail(key, "must be an object of strings"); break; }
      for (const auto& [ek, ev] : v.items()) {
        if (!ev.is_string()) { c.Fail(key + "." + ek, "must be a string"); break; }
        m.env[ek] = ev.get<std::string>();
      }
      if (!c.ok()) break;
    } else {
      c.Fail(key, "unknown key (expected backend, interpreter, dataframe, required, workers, "
                  "max_queue_size, startup_timeout_ms, inputs, outputs, env)");
      break;
    }
  }
  if (!c.ok()) return c.error();
  if (!have_backend) return InvalidArgument(file + ": key 'backend': is required (\"r\" or \"python\")");
  if (m.inputs.empty()) return InvalidArgument(file + ": key 'inputs': is required and must not be empty");
  if (m.dataframe) {
    for (size_t i = 0; i < m.inputs.size(); ++i) {
      const auto& s = m.inputs[i].shape;
      if (s.size() != 1 && !(s.size() == 2 && s[1] == 1)) {
        return InvalidArgument(file + ": key 'inputs[" + std::to_string(i) +
                               "].shape': data-frame mode needs 1-D inputs, got " + ShapeString(s));
      }
    }
  }
  return m;
}

}  // namespace modelgate
