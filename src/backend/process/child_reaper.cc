#include "modelgate/child_reaper.h"

#include <signal.h>
#include <sys/wait.h>

#include <boost/asio/post.hpp>
#include <vector>

namespace modelgate {

ChildReaper::ChildReaper(boost::asio::io_context& io) : io_(io), signals_(io, SIGCHLD) { Arm(); }

void ChildReaper::Watch(pid_t pid, OnExit on_exit) {
  watched_.emplace(pid, std::move(on_exit));
  // The child may have exited before it was registered; check once now.
  boost::asio::post(io_, [this] { ReapReady(); });
}

void ChildReaper::Arm() {
  signals_.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;  // cancelled: the reaper is going away
    ReapReady();
    Arm();
  });
}

void ChildReaper::ReapReady() {
  std::vector<std::pair<OnExit, int>> done;
  for (auto it = watched_.begin(); it != watched_.end();) {
    int ws = 0;
    const pid_t r = ::waitpid(it->first, &ws, WNOHANG);
    if (r == it->first) {
      done.emplace_back(std::move(it->second), ws);
      it = watched_.erase(it);
    } else {
      ++it;
    }
  }
  // Callbacks run after the map is consistent: they may Watch() new children.
  for (auto& [cb, ws] : done) cb(ws);
}

}  // namespace modelgate
