// AsioTimeSource: the production TimeSource (include/modelgate/time_source.h).
// Now() is std::chrono::steady_clock; timers are Asio steady_timers on the
// io_context given at construction. Pools, workers, deadlines and the front
// ends' latencies and the Server's shutdown deadline read time through it;
// the last-resort descendant kill (ChildReaper), AcceptBackoff and Beast's
// session timeouts still use steady_clock directly.
//
// Threading: Now() is thread-safe; CreateTimer and the timers' methods run
// on the io_context's thread, and so do the callbacks.
#pragma once

#include <boost/asio/io_context.hpp>

#include "modelgate/time_source.h"

namespace modelgate {

class AsioTimeSource final : public TimeSource {
 public:
  explicit AsioTimeSource(boost::asio::io_context& io) : io_(io) {}
  SteadyTime Now() const override;
  TimerPtr CreateTimer(std::function<void()> callback) override;

 private:
  boost::asio::io_context& io_;
};

}  // namespace modelgate
