// RepositoryChecker: `modelgate check`'s engine. For each model of a
// repository it reads the config with the daemon's loader (ScanModel); for
// each served version it copies the directory as the daemon does
// (version_snapshot.h), starts one worker in the daemon's ModelPool (same
// command, environment, limits, Hello and warm-up), runs the config's
// "examples" through the daemon's input validation and output contract,
// compares the answers (example_compare.h), reads the worker's RSS and
// drains the pool. Nothing listens and nothing else is served.
//
// Bounds: start-up and warm-up by the model's startup_timeout_ms (the pool's
// own timers); each example by its default_timeout_ms (else max_timeout_ms,
// else kFallbackExampleTimeout), after which the pool answers 504 and kills
// the worker past deadline_kill_grace_ms. Every wait here has a cap beyond
// those, so a pool that never answered would still not hang the check.
//
// Threading: the io_context must run on another thread; the Check* calls
// block the caller and touch pools only through posts to the io thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backend/process/child_reaper.h"
#include "backend/process/worker_command.h"
#include "check/check_report.h"
#include "common/asio_time_source.h"
#include "modelgate/model_repository.h"
#include "server/output_contract.h"

namespace modelgate {

class ModelPool;

class RepositoryChecker {
 public:
  // An example of a model that sets neither timeout gets this deadline.
  static constexpr std::chrono::milliseconds kFallbackExampleTimeout{60000};
  // Added to every wait's own bound before the check gives up on an answer.
  static constexpr std::chrono::seconds kWaitMargin{30};
  // A drained pool's workers get EOF, SIGTERM after this, SIGKILL after 2x.
  static constexpr std::chrono::seconds kStopGrace{2};

  RepositoryChecker(boost::asio::io_context& io, RuntimeSettings runtime);

  // One row per served version of each model (sorted by name), or one row
  // for a model whose directory or config does not load. `only`: just that
  // model. An unreadable repository is the error.
  StatusOr<std::vector<CheckRow>> CheckRepository(const std::string& root,
                                                  const std::optional<std::string>& only);

 private:
  // One version's row; runs within CheckRepository (which makes the
  // snapshot root).
  CheckRow CheckVersion(const std::string& model, const VersionEntry& v);
  // Example `index` of `config` on `pool`: nullopt when it passed, else why
  // not. Clears *go_on when later examples should not run.
  std::optional<std::string> RunExample(ModelPool& pool, const ModelConfig& config, int64_t version,
                                        OutputContract& contract, size_t index, bool* go_on);
  // Runs `f` on the io thread and waits for it.
  template <typename F>
  void RunOnIo(F&& f);

  boost::asio::io_context& io_;
  AsioTimeSource time_;
  ChildReaper reaper_;
  RuntimeSettings runtime_;
  std::string snapshot_root_;  // CheckRepository's, where versions are copied
  // Pools whose workers did not stop in time, kept alive with their configs
  // (workers still call into them) until the process ends.
  std::vector<std::pair<std::shared_ptr<ModelConfig>, ModelPool*>> abandoned_;
};

}  // namespace modelgate
