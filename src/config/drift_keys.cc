#include "config/drift_keys.h"

#include <filesystem>

#include "config/config_bounds.h"
#include "config/member_keys.h"

namespace modelgate {

namespace {

using nlohmann::json;
using namespace config_limits;

// A relative path without "..": the file stays inside the version directory
// (symlinks are checked when it is read).
bool ParseReferencePath(Checker& c, const json& j, const std::string& path, DriftConfig& d) {
  std::string s;
  if (!c.String(j, path, &s)) return false;
  if (s.empty()) return c.Fail(path, "must name a file in the version directory");
  const std::filesystem::path p(s);
  if (p.is_absolute()) {
    return c.Fail(path, "must be relative to the version directory, got \"" + s + "\"");
  }
  for (const auto& part : p) {
    if (part == "..") return c.Fail(path, "must stay inside the version directory (no \"..\")");
  }
  d.reference = std::move(s);
  return true;
}

constexpr Key<DriftConfig> kDriftKeys[] = {
    {.name = "reference",
     .kind = KeyKind::kCustom,
     .required = true,
     .type_doc = "string (a path relative to the version directory)",
     .parse = ParseReferencePath,
     .description = "reference file written from the training data (format: \"Input drift\" "
                    "below); read and checked at load"},
    IntKey<&DriftConfig::window>("window", 10, kMaxDriftWindow,
                                 "live values kept per monitored input (a sliding window)"),
};

static_assert(AllWellFormed(kDriftKeys));

}  // namespace

std::span<const Key<DriftConfig>> DriftKeys() { return kDriftKeys; }

}  // namespace modelgate
