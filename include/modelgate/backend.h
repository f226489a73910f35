// Which interpreter runs a model's workers.
#pragma once

namespace modelgate {

enum class Backend { kR, kPython };

}  // namespace modelgate
