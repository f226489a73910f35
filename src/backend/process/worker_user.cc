#include "backend/process/worker_user.h"

#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <vector>

namespace modelgate {

namespace {

constexpr char kPreferredUser[] = "modelgate";
constexpr char kFallbackUser[] = "nobody";

bool UserExists(const char* name) {
  passwd pw{};
  passwd* found = nullptr;
  std::vector<char> buf(16 * 1024);
  return ::getpwnam_r(name, &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr;
}

}  // namespace

StatusOr<WorkerIdentity> SetUpWorkerIdentity(const std::string& requested) {
  WorkerIdentity identity;
  if (::geteuid() != 0) {
    identity.ignored_request = requested;
    return identity;
  }
  const std::string name = !requested.empty()           ? requested
                           : UserExists(kPreferredUser) ? kPreferredUser
                                                        : kFallbackUser;
  auto user = ResolveWorkerUser(name);
  if (!user.ok()) return Status(user.status().code(), "--worker-user: " + user.status().message());
  if (user->uid == 0) {
    return InvalidArgument("--worker-user: '" + name +
                           "' has uid 0; workers never run as root, choose an unprivileged user");
  }
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/modelgate-worker-home-XXXXXX";
  if (!::mkdtemp(pattern.data())) {
    return Internal("cannot create a HOME for worker user '" + name + "' under " + pattern + ": " +
                    strerror(errno));
  }
  if (::chown(pattern.c_str(), user->uid, user->gid) != 0) {
    const int err = errno;
    std::error_code ignored;
    std::filesystem::remove(pattern, ignored);
    return Internal("cannot hand " + pattern + " to worker user '" + name + "': " + strerror(err));
  }
  identity.user = std::move(user).value();
  identity.home = pattern;
  return identity;
}

WorkerHome::~WorkerHome() {
  if (path_.empty()) return;
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace modelgate
