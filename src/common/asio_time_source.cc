#include "common/asio_time_source.h"

#include <boost/asio/steady_timer.hpp>

namespace modelgate {

namespace {

// The waiting handler holds the state weakly and the arming generation: a
// wait completed (or queued) before a re-arm, Disable() or destruction finds
// a newer generation or no state and does nothing, even when Asio had
// already queued it as a success.
class AsioTimer final : public Timer {
 public:
  AsioTimer(boost::asio::io_context& io, std::function<void()> callback)
      : state_(std::make_shared<State>(io, std::move(callback))) {}
  ~AsioTimer() override { Disable(); }

  void Enable(std::chrono::nanoseconds delay) override {
    EnableAt(std::chrono::steady_clock::now() +
             std::chrono::duration_cast<SteadyTime::duration>(delay));
  }
  void EnableAt(SteadyTime when) override {
    const uint64_t generation = ++state_->generation;
    state_->enabled = true;
    state_->timer.expires_at(when);
    state_->timer.async_wait(
        [weak = std::weak_ptr<State>(state_), generation](const boost::system::error_code& ec) {
          auto state = weak.lock();
          if (ec || !state || state->generation != generation || !state->enabled) return;
          state->enabled = false;
          state->callback();  // `state` keeps the callback alive if it destroys its timer
        });
  }
  void Disable() override {
    ++state_->generation;
    state_->enabled = false;
    state_->timer.cancel();
  }
  bool enabled() const override { return state_->enabled; }

 private:
  struct State {
    State(boost::asio::io_context& io, std::function<void()> cb)
        : timer(io), callback(std::move(cb)) {}
    boost::asio::steady_timer timer;
    std::function<void()> callback;
    uint64_t generation = 0;
    bool enabled = false;
  };
  std::shared_ptr<State> state_;
};

}  // namespace

SteadyTime AsioTimeSource::Now() const { return std::chrono::steady_clock::now(); }

TimerPtr AsioTimeSource::CreateTimer(std::function<void()> callback) {
  return std::make_unique<AsioTimer>(io_, std::move(callback));
}

}  // namespace modelgate
