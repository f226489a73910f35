#include "modelgate/model_repository.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "config/json_tensor.h"
#include "config/lifecycle_keys.h"
#include "config/model_config_json.h"
#include "config/triton_model_config.h"

namespace modelgate {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Longest model name (a directory name: NAME_MAX).
constexpr size_t kMaxModelNameBytes = 255;
// Largest config.json read (warm-up data included).
constexpr uintmax_t kMaxConfigFileBytes = uintmax_t{16} << 20;

StatusOr<json> ReadJsonFile(const fs::path& file) {
  std::error_code ec;
  const uintmax_t size = fs::file_size(file, ec);
  if (ec) return InvalidArgument(file.string() + ": cannot read: " + ec.message());
  if (size > kMaxConfigFileBytes) {
    return InvalidArgument(file.string() + ": " + std::to_string(size) + " bytes; at most " +
                           std::to_string(kMaxConfigFileBytes) + " are read");
  }
  std::ifstream in(file);
  if (!in.is_open()) return InvalidArgument(file.string() + ": cannot open");
  std::stringstream text;
  text << in.rdbuf();
  try {
    return json::parse(text.str());
  } catch (const json::exception& e) {  // parse_error, or out_of_range for 1e400
    return InvalidArgument(file.string() + ": not valid JSON: " + e.what());
  }
}

// Longest parser message quoted in a config parameter's error.
constexpr size_t kMaxParseErrorBytes = 200;

// The model's own config as JSON: the load parameter's or config.json.
StatusOr<json> ModelJson(const fs::path& dir, const std::optional<std::string>& config_json) {
  if (config_json) {
    // From a request: checked before parsing, and the parser's message (which
    // quotes what it read) is cut.
    if (Status s = CheckJsonText(*config_json); !s.ok()) {
      return InvalidArgument(std::string(kConfigParameterSource) + ": " + s.message());
    }
    try {
      json j = json::parse(*config_json);
      // Host-level settings stay with whoever writes the repository: a
      // request may not choose what runs, with which environment or limits.
      for (const char* key : {"interpreter", "env", "limits"}) {
        if (j.is_object() && j.contains(key)) {
          return InvalidArgument(std::string(kConfigParameterSource) + ": key '" + key +
                                 "' cannot be set by a load request (set it in config.json)");
        }
      }
      // tritonclient's load_model(config=...) sends Triton's ModelConfig.
      if (IsTritonModelConfig(j)) {
        auto translated = FromTritonModelConfig(j);
        if (!translated.ok()) {
          return InvalidArgument(std::string(kConfigParameterSource) +
                                 " (Triton's ModelConfig): " + translated.status().message());
        }
        return std::move(translated).value();
      }
      return j;
    } catch (const json::exception& e) {  // parse_error, or out_of_range for 1e400
      return InvalidArgument(std::string(kConfigParameterSource) + ": not valid JSON: " +
                             std::string(e.what()).substr(0, kMaxParseErrorBytes));
    }
  }
  const fs::path file = dir / "config.json";
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    if (fs::exists(dir / "config.yaml", ec) || fs::exists(dir / "config.yml", ec)) {
      return InvalidArgument((dir / "config.yaml").string() +
                             ": YAML configs are not supported by this build; write config.json");
    }
    return InvalidArgument(file.string() + ": missing (every model directory needs one)");
  }
  return ReadJsonFile(file);
}

std::string VersionList(const std::vector<int64_t>& versions) {
  std::string s;
  for (int64_t v : versions) s += (s.empty() ? "" : ", ") + std::to_string(v);
  return s;
}

// The version directories under `dir`, ascending.
StatusOr<std::vector<int64_t>> VersionsOnDisk(const fs::path& dir) {
  std::vector<int64_t> versions;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code dir_ec;
    if (IsVersionName(name) && it->is_directory(dir_ec)) versions.push_back(std::stoll(name));
  }
  if (ec) return InvalidArgument(dir.string() + ": cannot read the directory: " + ec.message());
  std::sort(versions.begin(), versions.end());
  return versions;
}

StatusOr<std::vector<int64_t>> ApplyPolicy(const VersionPolicy& policy,
                                           const std::vector<int64_t>& on_disk, const fs::path& dir,
                                           const std::string& source) {
  std::vector<int64_t> served;
  switch (policy.kind) {
    case VersionPolicy::Kind::kLatest: {
      const size_t n = std::min(on_disk.size(), static_cast<size_t>(policy.num_versions));
      served.assign(on_disk.end() - static_cast<std::ptrdiff_t>(n), on_disk.end());
      break;
    }
    case VersionPolicy::Kind::kAll:
      served = on_disk;
      break;
    case VersionPolicy::Kind::kSpecific:
      for (int64_t v : policy.versions) {
        if (!std::binary_search(on_disk.begin(), on_disk.end(), v)) {
          return InvalidArgument(source + ": key 'version_policy.specific.versions': version " +
                                 std::to_string(v) + " has no directory " +
                                 (dir / std::to_string(v)).string() +
                                 " (versions on disk: " + VersionList(on_disk) + ")");
        }
      }
      served = policy.versions;
      break;
  }
  if (served.empty()) {
    return InvalidArgument(source + ": version_policy selects none of versions " +
                           VersionList(on_disk));
  }
  return served;
}

// python_path / r_libs (`key`): each entry made absolute against the model's
// directory `dir`, and checked to be an existing directory now, so a typo
// fails the load naming the key, the entry and the config file.
Status ResolveSearchPaths(const fs::path& dir, const std::string& file, std::string_view key,
                          std::vector<std::string>* entries) {
  for (size_t i = 0; i < entries->size(); ++i) {
    std::string& entry = (*entries)[i];
    const fs::path resolved = fs::absolute(dir / entry).lexically_normal();
    std::error_code ec;
    if (!fs::is_directory(resolved, ec)) {
      return InvalidArgument(file + ": key '" + std::string(key) + "[" + std::to_string(i) +
                             "]': '" + entry + "' is not an existing directory (resolved to " +
                             resolved.string() + ")");
    }
    entry = resolved.string();
  }
  return Status::Ok();
}

// Version `v` of the model whose config is `model_json` (from `source`):
// <dir>/<v>/config.json, when present, overlays the model's top-level keys.
StatusOr<VersionEntry> ScanVersion(const std::string& name, const fs::path& dir, int64_t v,
                                   const json& model_json, const std::string& source) {
  const fs::path vdir = dir / std::to_string(v);
  const fs::path vfile = vdir / "config.json";
  json merged = model_json;
  std::string file = source;
  std::error_code ec;
  if (fs::exists(vfile, ec)) {
    auto overlay = ReadJsonFile(vfile);
    if (!overlay.ok()) return overlay.status();
    if (!overlay->is_object()) return InvalidArgument(vfile.string() + ": must be a JSON object");
    for (std::string_view key : kModelLevelKeys) {
      if (overlay->contains(key)) {
        return InvalidArgument(vfile.string() + ": key '" + std::string(key) +
                               "': is model level; set it in " + source + ", not per version");
      }
    }
    for (const auto& [key, value] : overlay->items()) merged[key] = value;
    file = vfile.string() + " (over " + source + ")";
  }
  auto config = ParseModelConfigJson(merged, file, name);
  if (!config.ok()) return config.status();
  for (auto [key, entries] :
       {std::pair{"python_path", &config->python_path}, std::pair{"r_libs", &config->r_libs}}) {
    if (Status s = ResolveSearchPaths(dir, file, key, entries); !s.ok()) return s;
  }
  const char* code_file = config->backend == Backend::kR ? "model.R" : "model.py";
  if (!fs::exists(vdir / code_file, ec)) {
    return InvalidArgument((vdir / code_file).string() + ": missing (backend '" +
                           std::string(BackendName(config->backend)) + "')");
  }
  std::shared_ptr<const DriftReference> drift;
  if (!config->drift.reference.empty()) {
    auto ref = LoadDriftReference(vdir.string(), *config);
    if (!ref.ok()) return ref.status();
    drift = std::make_shared<const DriftReference>(std::move(ref).value());
  }
  for (std::string_view key : kModelLevelKeys) merged.erase(std::string(key));
  // Only `modelgate check` runs them: editing them restarts no worker.
  merged.erase("examples");
  // nlohmann's default object type is a std::map: dump() writes keys sorted.
  return VersionEntry{
      v, fs::absolute(vdir).string(), std::move(config).value(), merged.dump(), {}, drift};
}

}  // namespace

Status CheckLoadParameter(std::string_view name, const std::string* text) {
  if (name != "config") {
    const bool printable = std::none_of(name.begin(), name.end(),
                                        [](unsigned char c) { return c < 0x20 || c == 0x7f; });
    return InvalidArgument("load request: parameter " +
                           (printable ? "'" + std::string(name.substr(0, 64)) + "'"
                                      : std::string("with a control character in its name")) +
                           " is not supported (only 'config')");
  }
  if (!text) {
    return InvalidArgument(
        "load request: parameter 'config' must be a string holding the model's config JSON");
  }
  if (Status s = CheckJsonText(*text); !s.ok()) {
    return InvalidArgument("load request: parameter 'config': " + s.message());
  }
  return Status::Ok();
}

Status CheckModelName(const std::string& name) {
  bool plain = !name.empty() && name.size() <= kMaxModelNameBytes && name[0] != '.';
  for (unsigned char c : name) plain = plain && c >= 0x20 && c != 0x7f && c != '/' && c != '\\';
  if (plain) return Status::Ok();
  // Never echo a name that is too long or carries control characters.
  const bool printable =
      std::none_of(name.begin(), name.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
  const std::string shown = printable && name.size() <= kMaxModelNameBytes
                                ? "model name '" + name + "'"
                                : "a model name of " + std::to_string(name.size()) + " bytes";
  return InvalidArgument(shown +
                         " is not a directory name (one path component, not starting "
                         "with '.', no '/', '\\' or control characters, at most " +
                         std::to_string(kMaxModelNameBytes) + " bytes)");
}

StatusOr<std::vector<std::string>> ListModels(const std::string& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    return InvalidArgument("model repository '" + root + "' is not a directory");
  }
  std::vector<std::string> names;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code dir_ec;
    if (name[0] != '.' && it->is_directory(dir_ec)) names.push_back(name);
  }
  if (ec) return InvalidArgument("model repository '" + root + "': " + ec.message());
  std::sort(names.begin(), names.end());
  return names;
}

StatusOr<ModelEntry> ScanModel(const std::string& root, const std::string& name,
                               const std::optional<std::string>& config_json) {
  if (Status s = CheckModelName(name); !s.ok()) return s;
  const fs::path dir = fs::path(root) / name;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return NotFound("no model directory " + dir.string());
  auto model_json = ModelJson(dir, config_json);
  if (!model_json.ok()) return model_json.status();
  const std::string source =
      config_json ? std::string(kConfigParameterSource) : (dir / "config.json").string();
  auto config = ParseModelConfigJson(*model_json, source, name);
  if (!config.ok()) return config.status();
  ModelEntry entry{std::move(config).value(), {}, {}};
  const char* code_file = entry.config.backend == Backend::kR ? "model.R" : "model.py";

  auto listed = VersionsOnDisk(dir);
  if (!listed.ok()) return listed.status();
  const std::vector<int64_t>& on_disk = *listed;
  if (on_disk.empty()) {
    return InvalidArgument(dir.string() + ": no version directory (expected " + name + "/1/" +
                           code_file + ")");
  }
  auto served = ApplyPolicy(entry.config.version_policy, on_disk, dir, source);
  if (!served.ok()) return served.status();
  for (const auto& [version, weight] : entry.config.traffic) {
    if (!std::binary_search(served->begin(), served->end(), version)) {
      return InvalidArgument(source + ": key 'traffic." + std::to_string(version) + "': version " +
                             std::to_string(version) + " is not served (version_policy serves " +
                             VersionList(*served) + ")");
    }
  }
  for (int64_t v : on_disk) {
    if (!std::binary_search(served->begin(), served->end(), v)) entry.unserved.push_back(v);
  }
  for (int64_t v : *served) {
    auto version = ScanVersion(name, dir, v, *model_json, source);
    if (!version.ok()) return version.status();
    entry.versions.emplace(v, std::move(version).value());
  }
  return entry;
}

StatusOr<std::vector<ModelEntry>> ScanRepository(const std::string& root) {
  auto names = ListModels(root);
  if (!names.ok()) return names.status();
  std::vector<ModelEntry> out;
  for (const std::string& name : *names) {
    auto entry = ScanModel(root, name);
    if (!entry.ok()) return entry.status();
    out.push_back(std::move(entry).value());
  }
  return out;
}

}  // namespace modelgate
