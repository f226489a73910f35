// SimulatedTimeSource: a TimeSource for unit tests whose time moves only when
// the test calls Advance / AdvanceTo (modelled on Envoy's SimulatedTimeSystem).
//
// AdvanceTo(t) runs, in time order (ties in the order they were armed), every
// timer due at or before t, including timers armed by those callbacks that
// fall due within the advance; Now() reads each timer's due time while its
// callback runs, then t. After each callback, and at the end, it drains the
// io_context with poll(), so work a callback posts happens at that instant,
// before later timers: events keep the order real time would give them.
// A timer armed for now or earlier fires on the next poll, like an Asio
// timer. Nothing waits on the wall clock.
//
// Timers may outlive the source (a handler still queued in the io_context
// may own one): they are then inert.
// Threading: single-threaded; the test thread runs the io_context. Now() may
// be read from other threads (gRPC in tests) while nothing advances time.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <map>
#include <memory>

#include "modelgate/time_source.h"

namespace modelgate::testing {

class SimulatedTimeSource final : public TimeSource {
 public:
  // Starts at an arbitrary, non-zero time.
  explicit SimulatedTimeSource(boost::asio::io_context& io);
  ~SimulatedTimeSource() override;

  SteadyTime Now() const override;
  TimerPtr CreateTimer(std::function<void()> callback) override;

  void Advance(std::chrono::nanoseconds d);
  void AdvanceTo(SteadyTime t);
  // Runs every ready handler (and timers due now) without moving time.
  void Poll();
  // Timers armed and not yet fired.
  size_t pending_timers() const;

 private:
  struct State;
  class SimTimer;
  std::shared_ptr<State> state_;
};

}  // namespace modelgate::testing
