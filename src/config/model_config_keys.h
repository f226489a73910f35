// The key tables of config.json (model_config.h): the top level and each
// nested object. ParseModelConfig reads by them; the README's config
// reference is generated from them (config_reference.h).
#pragma once

#include <span>
#include <vector>

#include "config/config_keys.h"
#include "modelgate/model_config.h"

namespace modelgate {

// The top-level keys; nested objects are kObject keys that read their own
// tables.
std::span<const Key<ModelConfig>> ModelConfigKeys();

// Every table, top level first, then the nested objects in README order.
std::vector<TableReference> ModelConfigReference();

}  // namespace modelgate
