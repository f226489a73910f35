// Scans a Triton-style model repository:
//   <root>/<model>/config.json
//   <root>/<model>/<version>/model.R | model.py   (version: a positive integer)
//   <root>/<model>/<version>/config.json          (optional: overrides keys of
//                                                  the model's config.json)
// A config error or a model without any version directory is an error naming
// the file. Only the versions the model's version_policy selects are
// returned as served.
//
// Threading: every function here only reads the filesystem and is
// thread-safe; each blocks on disk I/O, so event-loop threads should call
// them elsewhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modelgate/drift_reference.h"
#include "modelgate/model_config.h"
#include "modelgate/status.h"

namespace modelgate {

struct VersionEntry {
  int64_t version = 0;
  std::string dir;     // the version directory in the repository, absolute
  ModelConfig config;  // effective: the model's config overlaid by <version>/config.json
  // The effective config as canonical JSON without the model-level keys
  // (traffic, version_policy) and "examples" (which serving ignores): what
  // the fingerprint covers besides the files.
  std::string config_json;
  // Set once the version was snapshotted (src/config/version_snapshot.h);
  // `dir` then names the snapshot.
  std::string fingerprint;
  // config.drift's reference, read and checked by the scan; null without
  // "drift".
  std::shared_ptr<const DriftReference> drift;
};

struct ModelEntry {
  ModelConfig config;                        // the model's own config.json
  std::map<int64_t, VersionEntry> versions;  // served under version_policy, ascending
  std::vector<int64_t> unserved;             // on disk but outside version_policy
};

// Every model under `root`; the first error fails the scan (startup refuses
// to serve half a fleet).
StatusOr<std::vector<ModelEntry>> ScanRepository(const std::string& root);

// A model name comes from a URL: OK only for one directory name (not empty,
// at most 255 bytes, not starting with '.', no '/', '\\' or control
// characters). Checked before anything is scanned, logged or counted; the
// error echoes the name only when it is printable.
Status CheckModelName(const std::string& name);

// How errors name the load API's `config` parameter (in place of a file).
inline constexpr std::string_view kConfigParameterSource = "the load request's config parameter";

// One parameter of a load request (REST body "parameters", gRPC
// ModelRepositoryParameter): only "config" is supported, holding a string
// (`text`, null when the parameter holds something else) whose nesting
// depth and bytes are checked before anything parses it. Both front ends
// call this, so both give the same answer.
Status CheckLoadParameter(std::string_view name, const std::string* text);

// One model's directory, read afresh. `config_json` (the load API's `config`
// parameter), when set, takes the place of <root>/<name>/config.json.
// Errors: INVALID_ARGUMENT for a name that is not one safe directory name
// (it comes from a URL), a bad config (naming the file, or
// kConfigParameterSource), no version directory, a version_policy naming a
// version without directory, a traffic key naming a version not served, a
// served version without its model.R / model.py; NOT_FOUND
// "no model directory <root>/<name>". Only served versions' config.json
// files are read.
StatusOr<ModelEntry> ScanModel(const std::string& root, const std::string& name,
                               const std::optional<std::string>& config_json = std::nullopt);

// The model directory names under `root` (not starting with '.'), sorted.
StatusOr<std::vector<std::string>> ListModels(const std::string& root);

// A cheap change signature of a model directory: the relative path, type,
// size, modification time (ns) and inode of every entry under it, symlinks
// followed, hashed (64 hex digits). Equal signatures: nothing to reload (the
// poll compares these before reading any file). Costs one stat() per entry
// and reads no file; past kMaxSignatureEntries entries the walk stops and a
// marker stands for the rest (changes beyond it go unseen). An unreadable or
// missing directory gives a signature of its own, never an error.
inline constexpr size_t kMaxSignatureEntries = 100000;
std::string StatSignature(const std::string& model_dir);

}  // namespace modelgate
