// ChildReaper: reaps the daemon's worker processes and reports each one's
// wait status exactly once.
//
// Listens for SIGCHLD through an Asio signal_set and waitpid()s only the pids
// registered with it (never -1), so it cannot steal another component's
// children. Create it before spawning any child. Single-threaded: all calls and
// callbacks happen on the io_context's thread.
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <functional>
#include <unordered_map>

namespace modelgate {

class ChildReaper {
 public:
  using OnExit = std::function<void(int wait_status)>;

  explicit ChildReaper(boost::asio::io_context& io);
  ChildReaper(const ChildReaper&) = delete;
  ChildReaper& operator=(const ChildReaper&) = delete;

  // `on_exit` runs once, on the io thread, after `pid` has been reaped.
  void Watch(pid_t pid, OnExit on_exit);

  size_t watched() const { return watched_.size(); }

 private:
  void Arm();
  void ReapReady();

  boost::asio::io_context& io_;
  boost::asio::signal_set signals_;
  std::unordered_map<pid_t, OnExit> watched_;
};

}  // namespace modelgate
