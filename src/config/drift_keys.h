// The key table of config.json's "drift" object (model_config.h,
// DriftConfig). The reference file it names is read by the repository scan
// (drift_reference.h).
#pragma once

#include <span>

#include "config/config_keys.h"
#include "modelgate/model_config.h"

namespace modelgate {

std::span<const Key<DriftConfig>> DriftKeys();

}  // namespace modelgate
