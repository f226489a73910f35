// The R source the embedded R runtime evaluates once at start-up (see
// r_prelude.cc): invalid_input(), mg_try_load() and the request wrapper.
#pragma once

namespace modelgate::worker_host {

extern const char* const kRPrelude;

}  // namespace modelgate::worker_host
