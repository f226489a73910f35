// ParseModelConfig on JSON already parsed: the repository scan overlays a
// version's config.json on its model's before parsing the result.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "modelgate/model_config.h"
#include "modelgate/status.h"

namespace modelgate {

// Keys only a model's own config (config.json or the load request's config
// parameter) may set, never a version's config.json. They are left out of a
// version's canonical config (VersionEntry::config_json): changing them
// restarts no worker.
inline constexpr std::string_view kModelLevelKeys[] = {"traffic", "version_policy"};

// `root` must be a JSON object; `file` names the source in errors.
StatusOr<ModelConfig> ParseModelConfigJson(const nlohmann::json& root, const std::string& file,
                                           const std::string& name);

}  // namespace modelgate
