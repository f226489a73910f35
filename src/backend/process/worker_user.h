// Who the workers run as. A daemon started as root never runs model code as
// root: its workers switch to an unprivileged user (--worker-user; by default
// "modelgate" when that user exists, else "nobody") with a private, writable
// HOME. A daemon that is not root runs its workers as its own uid, unchanged.
#pragma once

#include <optional>
#include <string>

#include "backend/process/subprocess.h"
#include "modelgate/status.h"

namespace modelgate {

struct WorkerIdentity {
  std::optional<WorkerUser> user;  // unset: the daemon's own uid
  std::string home;                // the user's HOME; owned by it, removed by ~WorkerHome
  std::string ignored_request;     // a --worker-user that a non-root daemon cannot honour
};

// Resolves the user and creates its HOME under $TMPDIR (or /tmp), mode 0700.
// `requested` empty: the default user. Errors name the user: unknown, or uid 0.
StatusOr<WorkerIdentity> SetUpWorkerIdentity(const std::string& requested);

// Owns the HOME of a WorkerIdentity and removes it (recursively) when destroyed.
class WorkerHome {
 public:
  explicit WorkerHome(std::string path) : path_(std::move(path)) {}
  ~WorkerHome();
  WorkerHome(const WorkerHome&) = delete;
  WorkerHome& operator=(const WorkerHome&) = delete;

 private:
  std::string path_;
};

}  // namespace modelgate
