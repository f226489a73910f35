// `modelgate check REPO [--model NAME] [options]`: validates a model
// repository and tries each model version before it is deployed (README
// "Writing a model"). Prints one table row per version on stdout (logs go to
// stderr, warnings and above unless --log-level says otherwise). Never opens
// a listening socket.
#pragma once

namespace modelgate {

// Exit codes of the check.
inline constexpr int kCheckOk = 0;      // every version loaded and passed its examples
inline constexpr int kCheckFailed = 1;  // some row failed (the table says why)
inline constexpr int kCheckUsage = 2;   // bad flags, no repository, worker user unusable

// argv[0] is "check". Returns the process's exit code.
int RunCheck(int argc, char** argv);

}  // namespace modelgate
