#include "support/simulated_time_source.h"

#include <boost/asio/post.hpp>
#include <optional>

namespace modelgate::testing {

struct SimulatedTimeSource::State {
  struct Key {
    SteadyTime when;
    uint64_t seq;
    auto operator<=>(const Key&) const = default;
  };
  // A timer's callback, shared so that a callback destroying its own timer
  // does not destroy the function while it runs.
  using Callback = std::shared_ptr<std::function<void()>>;

  explicit State(boost::asio::io_context& context) : io(context) {}

  void Poll() {
    io.restart();
    io.poll();
  }
  // By value: `key` may be the map's own key, erased below.
  void Fire(const Key key) {
    auto it = due.find(key);
    if (it == due.end()) return;  // disabled or re-armed since
    Callback callback = it->second.first;
    *it->second.second = std::nullopt;  // the timer is no longer armed
    due.erase(it);
    if (key.when > now) now = key.when;
    (*callback)();
  }

  boost::asio::io_context& io;
  SteadyTime now = SteadyTime() + std::chrono::hours(1);
  uint64_t next_seq = 1;
  // Armed timers: their callback and where the timer keeps its key.
  std::map<Key, std::pair<Callback, std::optional<Key>*>> due;
};

class SimulatedTimeSource::SimTimer final : public Timer {
 public:
  SimTimer(const std::shared_ptr<State>& state, std::function<void()> callback)
      : state_(state), callback_(std::make_shared<std::function<void()>>(std::move(callback))) {}
  ~SimTimer() override { Disable(); }

  void Enable(std::chrono::nanoseconds delay) override {
    auto state = state_.lock();
    if (!state) return;
    EnableAt(state->now + std::chrono::duration_cast<SteadyTime::duration>(delay));
  }
  void EnableAt(SteadyTime when) override {
    auto state = state_.lock();
    if (!state) return;
    Disable();
    const State::Key key{when, state->next_seq++};
    key_ = key;
    state->due.emplace(key, std::make_pair(callback_, &key_));
    if (when <= state->now) {
      // Due already: fires on the io_context's next turn, as Asio would.
      boost::asio::post(state->io, [weak = state_, key] {
        if (auto s = weak.lock()) s->Fire(key);
      });
    }
  }
  void Disable() override {
    auto state = state_.lock();
    if (key_ && state) state->due.erase(*key_);
    key_.reset();
  }
  bool enabled() const override { return key_.has_value(); }

 private:
  std::weak_ptr<State> state_;
  State::Callback callback_;
  std::optional<State::Key> key_;  // set while armed
};

SimulatedTimeSource::SimulatedTimeSource(boost::asio::io_context& io)
    : state_(std::make_shared<State>(io)) {}
SimulatedTimeSource::~SimulatedTimeSource() = default;

SteadyTime SimulatedTimeSource::Now() const { return state_->now; }

TimerPtr SimulatedTimeSource::CreateTimer(std::function<void()> callback) {
  return std::make_unique<SimTimer>(state_, std::move(callback));
}

size_t SimulatedTimeSource::pending_timers() const { return state_->due.size(); }

void SimulatedTimeSource::Poll() { state_->Poll(); }

void SimulatedTimeSource::Advance(std::chrono::nanoseconds d) {
  AdvanceTo(state_->now + std::chrono::duration_cast<SteadyTime::duration>(d));
}

void SimulatedTimeSource::AdvanceTo(SteadyTime t) {
  State& s = *state_;
  s.Poll();
  while (!s.due.empty() && s.due.begin()->first.when <= t) {
    s.Fire(s.due.begin()->first);
    s.Poll();
  }
  if (t > s.now) s.now = t;
  s.Poll();
}

}  // namespace modelgate::testing
