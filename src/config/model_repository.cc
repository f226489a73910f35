#include "modelgate/model_repository.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace modelgate {

namespace fs = std::filesystem;

namespace {

bool IsVersionName(const std::string& s) {
  if (s.empty() || s.size() > 18 || s[0] == '0') return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

StatusOr<std::vector<ModelEntry>> ScanRepository(const std::string& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    return InvalidArgument("model repository '" + root + "' is not a directory");
  }
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(root, ec)) {
    if (e.is_directory() && e.path().filename().string()[0] != '.') dirs.push_back(e.path());
  }
  std::sort(dirs.begin(), dirs.end());
  std::vector<ModelEntry> out;
  for (const auto& dir : dirs) {
    const std::string name = dir.filename().string();
    const fs::path json_file = dir / "config.json";
    if (!fs::exists(json_file)) {
      if (fs::exists(dir / "config.yaml") || fs::exists(dir / "config.yml")) {
        return InvalidArgument((dir / "config.yaml").string() +
                               ": YAML configs are not supported by this build; write config.json");
      }
      return InvalidArgument(json_file.string() + ": missing (every model directory needs one)");
    }
    std::ifstream in(json_file);
    std::stringstream text;
    text << in.rdbuf();
    auto config = ParseModelConfig(text.str(), json_file.string(), name);
    if (!config.ok()) return config.status();
    ModelEntry entry{std::move(config).value(), {}, {}};
    const char* code_file = entry.config.backend == Backend::kR ? "model.R" : "model.py";
    for (const auto& v : fs::directory_iterator(dir, ec)) {
      const std::string vname = v.path().filename().string();
      if (!v.is_directory() || !IsVersionName(vname)) continue;
      if (!fs::exists(v.path() / code_file)) {
        return InvalidArgument((v.path() / code_file).string() + ": missing (backend '" +
                               std::string(BackendName(entry.config.backend)) + "')");
      }
      const int64_t version = std::stoll(vname);
      entry.versions[version] =
          VersionEntry{version, fs::absolute(v.path()).string(), entry.config, {}, {}};
    }
    if (entry.versions.empty()) {
      return InvalidArgument(dir.string() + ": no version directory (expected " + name + "/1/" +
                             code_file + ")");
    }
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace modelgate
