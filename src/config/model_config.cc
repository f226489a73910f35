#include "modelgate/model_config.h"

#include <algorithm>
#include <functional>
#include <map>
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

  // An object whose keys must all be in `fields`; each handler parses one.
  using Field = std::function<bool(const json&, const std::string&)>;
  bool Object(const json& j, const std::string& key, const std::map<std::string, Field>& fields) {
    if (!j.is_object()) return Fail(key, "must be an object");
    for (const auto& [k, v] : j.items()) {
      auto it = fields.find(k);
      if (it == fields.end()) {
        std::string known;
        for (const auto& [name, _] : fields) known += (known.empty() ? "" : ", ") + name;
        return Fail(key + "." + k, "unknown key (expected " + known + ")");
      }
      if (!it->second(v, key + "." + k)) return false;
    }
    return true;
  }
  bool Number(const json& j, const std::string& key, double lo, double hi, double* out) {
    if (!j.is_number()) return Fail(key, "must be a number");
    const double v = j.get<double>();
    if (v < lo || v > hi) {
      return Fail(key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    }
    *out = v;
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
          if (!type)
            return Fail(sub, "'" + d + "' is not a V2 datatype (BOOL, INT32, FP64, BYTES, ...)");
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
      if (!seen.insert(spec.name).second)
        return Fail(at + ".name", "duplicate name '" + spec.name + "'");
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
      if (b == "r")
        m.backend = Backend::kR;
      else if (b == "python")
        m.backend = Backend::kPython;
      else {
        c.Fail(key, "must be \"r\" or \"python\", got \"" + b + "\"");
        break;
      }
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
    } else if (key == "default_timeout_ms") {
      if (!c.Int(v, key, 0, 86400000, &m.default_timeout_ms)) break;
    } else if (key == "max_timeout_ms") {
      if (!c.Int(v, key, 0, 86400000, &m.max_timeout_ms)) break;
    } else if (key == "deadline_kill_grace_ms") {
      if (!c.Int(v, key, 0, 3600000, &m.deadline_kill_grace_ms)) break;
    } else if (key == "circuit_breaker") {
      auto& b = m.circuit_breaker;
      int64_t i = 0;
      if (!c.Object(v, key,
                    {
                        {"enabled", [&](const json& x,
                                        const std::string& k) { return c.Bool(x, k, &b.enabled); }},
                        {"window",
                         [&](const json& x, const std::string& k) {
                           std::string w;
                           if (!c.String(x, k, &w)) return false;
                           if (w != "count" && w != "time")
                             return c.Fail(k, "must be \"count\" or \"time\"");
                           b.window = w == "count" ? CircuitBreakerConfig::Window::kCount
                                                   : CircuitBreakerConfig::Window::kTime;
                           return true;
                         }},
                        {"window_size",
                         [&](const json& x, const std::string& k) {
                           return c.Int(x, k, 1, 100000, &i) && (b.window_size = int(i), true);
                         }},
                        {"minimum_calls",
                         [&](const json& x, const std::string& k) {
                           return c.Int(x, k, 1, 100000, &i) && (b.minimum_calls = int(i), true);
                         }},
                        {"failure_rate_threshold",
                         [&](const json& x, const std::string& k) {
                           return c.Number(x, k, 1, 100, &b.failure_rate_threshold);
                         }},
                        {"open_duration_ms",
                         [&](const json& x, const std::string& k) {
                           return c.Int(x, k, 1, 86400000, &i) &&
                                  (b.open_duration = std::chrono::milliseconds(i), true);
                         }},
                        {"half_open_calls",
                         [&](const json& x, const std::string& k) {
                           return c.Int(x, k, 1, 10000, &i) && (b.half_open_calls = int(i), true);
                         }},
                    }))
        break;
    } else if (key == "rate_limit") {
      if (!c.Object(v, key,
                    {
                        {"requests_per_second",
                         [&](const json& x, const std::string& k) {
                           return c.Number(x, k, 0.001, 1e9, &m.rate_limit_rps);
                         }},
                        {"burst",
                         [&](const json& x, const std::string& k) {
                           return c.Number(x, k, 1, 1e9, &m.rate_limit_burst);
                         }},
                    }))
        break;
      if (m.rate_limit_rps == 0) {
        c.Fail(key + ".requests_per_second", "is required");
        break;
      }
      if (m.rate_limit_burst == 0) m.rate_limit_burst = std::max(1.0, m.rate_limit_rps);
    } else if (key == "recycle") {
      if (!c.Object(v, key,
                    {
                        {"max_requests",
                         [&](const json& x, const std::string& k) {
                           return c.Int(x, k, 1, INT64_MAX, &m.recycle_max_requests);
                         }},
                        {"max_rss_mb",
                         [&](const json& x, const std::string& k) {
                           return c.Int(x, k, 1, 1 << 24, &m.recycle_max_rss_mb);
                         }},
                    }))
        break;
    } else if (key == "limits") {
      auto& l = m.limits;
      // An integer in range, or "unlimited" where the kernel allows it.
      auto limit = [&](uint64_t* out, int64_t lo, int64_t hi, int shift, bool may_be_unlimited) {
        return [&c, out, lo, hi, shift, may_be_unlimited](const json& x, const std::string& k) {
          if (x.is_string() && may_be_unlimited) {
            if (x.get<std::string>() != "unlimited") {
              return c.Fail(k, "must be an integer or \"unlimited\"");
            }
            *out = ResourceLimits::kUnlimited;
            return true;
          }
          int64_t i = 0;
          if (!c.Int(x, k, lo, hi, &i)) return false;
          *out = uint64_t(i) << shift;
          return true;
        };
      };
      uint64_t processes = 0;
      if (!c.Object(v, key,
                    {
                        {"address_space_mb", limit(&l.address_space_bytes, 16, 1 << 24, 20, true)},
                        {"cpu_seconds", limit(&l.cpu_seconds, 1, INT32_MAX, 0, true)},
                        {"open_files", limit(&l.open_files, 16, 1 << 20, 0, false)},
                        {"core_mb", limit(&l.core_bytes, 0, 1 << 24, 20, true)},
                        {"processes",
                         [&](const json& x, const std::string& k) {
                           if (!limit(&processes, 16, 1 << 22, 0, true)(x, k)) return false;
                           l.processes = processes;
                           return true;
                         }},
                    }))
        break;
    } else if (key == "dynamic_batching") {
      int64_t i = 0;
      if (!c.Object(v, key,
                    {
                        {"max_batch_size",
                         [&](const json& x, const std::string& k) {
                           return c.Int(x, k, 1, 1 << 20, &i) && (m.max_batch_size = int(i), true);
                         }},
                        {"max_queue_delay_us",
                         [&](const json& x, const std::string& k) {
                           return c.Int(x, k, 0, 60000000, &m.max_queue_delay_us);
                         }},
                        {"preferred_batch_sizes",
                         [&](const json& x, const std::string& k) {
                           if (!x.is_array())
                             return c.Fail(k, "must be an array of positive integers");
                           for (const auto& e : x) {
                             if (!e.is_number_integer() || e.get<int64_t>() < 1) {
                               return c.Fail(k, "must be an array of positive integers");
                             }
                             m.preferred_batch_sizes.push_back(e.get<int>());
                           }
                           return true;
                         }},
                    }))
        break;
      if (m.max_batch_size == 0) {
        c.Fail(key + ".max_batch_size", "is required");
        break;
      }
    } else if (key == "env") {
      if (!v.is_object()) {
        c.Fail(key, "must be an object of strings");
        break;
      }
      for (const auto& [ek, ev] : v.items()) {
        if (!ev.is_string()) {
          c.Fail(key + "." + ek, "must be a string");
          break;
        }
        m.env[ek] = ev.get<std::string>();
      }
      if (!c.ok()) break;
    } else {
      c.Fail(
          key,
          "unknown key (expected backend, interpreter, dataframe, required, workers, "
          "max_queue_size, startup_timeout_ms, default_timeout_ms, max_timeout_ms, "
          "deadline_kill_grace_ms, "
          "circuit_breaker, rate_limit, recycle, limits, dynamic_batching, inputs, outputs, env)");
      break;
    }
  }
  if (!c.ok()) return c.error();
  if (!have_backend)
    return InvalidArgument(file + ": key 'backend': is required (\"r\" or \"python\")");
  if (m.inputs.empty())
    return InvalidArgument(file + ": key 'inputs': is required and must not be empty");
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
