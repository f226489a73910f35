// ModelPool's lifecycle with scripted workers and simulated time: the load's
// outcome (NotifyWhenLoaded), warm-up before a worker serves, the drain of a
// replaced or unloaded version, and giving up on a deterministic start
// failure. Events happen by advancing simulated time or polling the
// io_context; nothing waits on the wall clock.
#include <gtest/gtest.h>

#include <boost/asio/post.hpp>
#include <functional>
#include <map>
#include <sstream>

#include "backend/pool/model_pool.h"
#include "observability/log_format.h"
#include "spdlog/sinks/ostream_sink.h"
#include "spdlog/spdlog.h"
#include "support/fake_worker.h"
#include "support/simulated_time_source.h"

namespace modelgate {
namespace {

using namespace std::chrono_literals;
using testing::FakeWorker;

// Longer than any respawn backoff (kBackoffMax + 20% jitter).
constexpr auto kPastAnyBackoff = 2 * Supervisor::kBackoffMax;
constexpr auto kDrainGrace = 5s;

Tensor Named(const std::string& name) {
  Tensor t;
  t.name = name;
  t.datatype = DataType::kFp64;
  t.shape = {1};
  t.raw.assign(8, '\0');
  return t;
}

WarmupRequest Warm(const std::string& input_name) { return WarmupRequest{{Named(input_name)}}; }

// Installs a synchronous JSON logger for one test, to count records.
class CapturedLog {
 public:
  CapturedLog() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(out_);
    sink->set_formatter(MakeLogFormatter(LogFormat::kJson));
    auto logger = std::make_shared<spdlog::logger>("test", sink);
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  // Lines of event `event` (JSON "msg").
  std::vector<std::string> Lines(const std::string& event) const {
    std::vector<std::string> lines;
    std::istringstream in(out_.str());
    for (std::string line; std::getline(in, line);) {
      if (line.find("\"msg\":\"" + event + "\"") != std::string::npos) lines.push_back(line);
    }
    return lines;
  }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

class PoolLifecycleTest : public ::testing::Test {
 protected:
  void Build(int workers, int queue = 8) {
    config_.name = "m";
    config_.workers = workers;
    config_.max_queue_size = queue;
    pool_ = std::make_unique<ModelPool>(
        io_, config_, 1,
        [this](Worker::Listener* l) {
          const int pid = 100 + static_cast<int>(workers_.size());
          auto w = std::make_shared<FakeWorker>(io_, l, pid);
          w->auto_hello = auto_hello_;
          workers_.push_back(w);
          // Dies before its Hello (the death is posted, after Start).
          if (start_error_) w->Die(Unavailable(start_error_(pid)), DeathCause::kStartFailed);
          return w;
        },
        time_);
    PoolEvents events;
    events.worker_restarted = [this](DeathCause c) { restarts_.push_back(c); };
    pool_->set_events(events);
  }
  void Start() {
    pool_->Start();
    Poll();
  }
  void Poll() { time_.Poll(); }
  void AwaitLoad() {
    pool_->NotifyWhenLoaded([this](Status s) { loaded_.push_back(std::move(s)); });
  }
  void Drain() {
    pool_->Drain(kDrainGrace, [this] { ++drained_; });
  }
  void Submit(const std::string& id) {
    PoolRequest r;
    r.request_id = id;
    r.done = [this, id](StatusOr<std::vector<Tensor>> result) {
      EXPECT_EQ(answers_.count(id), 0u) << "answered twice: " << id;
      answers_.emplace(id, result.ok() ? Status::Ok() : result.status());
    };
    pool_->Submit(std::move(r));
  }
  FakeWorker* Busy() {
    for (auto& w : workers_) {
      if (w->busy()) return w.get();
    }
    return nullptr;
  }
  int Starting() { return pool_->WorkerStates()[static_cast<size_t>(WorkerState::kStarting)]; }

  boost::asio::io_context io_;
  testing::SimulatedTimeSource time_{io_};
  ModelConfig config_;
  std::unique_ptr<ModelPool> pool_;
  std::vector<std::shared_ptr<FakeWorker>> workers_;
  std::map<std::string, Status> answers_;
  std::vector<DeathCause> restarts_;
  std::vector<Status> loaded_;
  int drained_ = 0;
  bool auto_hello_ = true;
  // When set, new workers fail to load with this message (given their pid).
  std::function<std::string(int pid)> start_error_;
};

// ---- NotifyWhenLoaded and warm-up ---------------------------------------------

TEST_F(PoolLifecycleTest, LoadedOnceEveryWorkerSaidHelloAndFinishedItsWarmup) {
  config_.warmup = {Warm("first"), Warm("second")};
  Build(2);
  AwaitLoad();
  Start();
  ASSERT_EQ(workers_.size(), 2u);
  for (auto& w : workers_) {
    EXPECT_EQ(w->last_request_id, "warmup-0");
    ASSERT_EQ(w->last_inputs.size(), 1u);
    EXPECT_EQ(w->last_inputs[0].name, "first");
  }
  EXPECT_FALSE(pool_->ready());  // warming up is not serving
  EXPECT_EQ(Starting(), 2);
  workers_[0]->Complete(std::vector<Tensor>{});
  EXPECT_EQ(workers_[0]->last_request_id, "warmup-1");  // in order, one at a time
  EXPECT_EQ(workers_[0]->last_inputs[0].name, "second");
  workers_[0]->Complete(std::vector<Tensor>{});
  Poll();
  EXPECT_TRUE(pool_->ready());
  EXPECT_TRUE(loaded_.empty());  // one of two workers is warm
  workers_[1]->Complete(std::vector<Tensor>{});
  workers_[1]->Complete(std::vector<Tensor>{});
  EXPECT_TRUE(loaded_.empty());  // never from inside a worker's callback
  Poll();
  ASSERT_EQ(loaded_.size(), 1u);
  EXPECT_TRUE(loaded_[0].ok()) << loaded_[0].message();
  EXPECT_EQ(Starting(), 0);
  // Asked again once loaded: OK at once, but not from inside the call.
  AwaitLoad();
  EXPECT_EQ(loaded_.size(), 1u);
  Poll();
  ASSERT_EQ(loaded_.size(), 2u);
  EXPECT_TRUE(loaded_[1].ok());
}

TEST_F(PoolLifecycleTest, LoadedWithoutWarmupOnceEveryWorkerSaidHello) {
  auto_hello_ = false;
  Build(2);
  AwaitLoad();
  AwaitLoad();  // several waiters
  Start();
  workers_[0]->Hello();
  Poll();
  EXPECT_TRUE(loaded_.empty());
  EXPECT_TRUE(pool_->ready());
  workers_[1]->Hello();
  Poll();
  ASSERT_EQ(loaded_.size(), 2u);
  EXPECT_TRUE(loaded_[0].ok());
  EXPECT_TRUE(loaded_[1].ok());
}

TEST_F(PoolLifecycleTest, AnAwaitedLoadFailsOnTheFirstStartFailureAndNothingIsRespawned) {
  start_error_ = [](int) { return std::string("model.py: no module named numpy"); };
  Build(2);
  AwaitLoad();
  Start();
  ASSERT_EQ(loaded_.size(), 1u);  // both failed; answered once, with the first
  EXPECT_EQ(loaded_[0].code(), StatusCode::kUnavailable);
  EXPECT_EQ(loaded_[0].message(), "model.py: no module named numpy");
  time_.Advance(kPastAnyBackoff * 10);
  EXPECT_EQ(workers_.size(), 2u);  // the load discards this pool: no respawn
  EXPECT_EQ(pool_->worker_count(), 0u);
  EXPECT_TRUE(restarts_.empty());
  EXPECT_EQ(pool_->load_error(), "model.py: no module named numpy");
  EXPECT_EQ(loaded_.size(), 1u);
}

TEST_F(PoolLifecycleTest, AskingAfterAStartFailureAnswersItAndEndsTheRetries) {
  start_error_ = [](int) { return std::string("boom"); };
  Build(1);
  Start();  // nobody waits yet: a respawn is scheduled, as at the daemon's start
  EXPECT_EQ(restarts_, std::vector<DeathCause>{DeathCause::kStartFailed});
  AwaitLoad();
  EXPECT_TRUE(loaded_.empty());
  Poll();
  ASSERT_EQ(loaded_.size(), 1u);
  EXPECT_EQ(loaded_[0].message(), "boom");
  time_.Advance(kPastAnyBackoff * 10);
  EXPECT_EQ(workers_.size(), 1u);
}

TEST_F(PoolLifecycleTest, ClientRequestsWaitForTheWarmup) {
  config_.warmup = {Warm("w")};
  Build(1);
  Start();
  Submit("a");
  Poll();
  EXPECT_EQ(pool_->queue_depth(), 1u);
  EXPECT_EQ(workers_[0]->last_request_id, "warmup-0");
  workers_[0]->Complete(std::vector<Tensor>{Named("warm answer")});
  Poll();
  EXPECT_TRUE(answers_.empty());  // the warm-up's answer is discarded
  ASSERT_NE(Busy(), nullptr);
  EXPECT_EQ(Busy()->last_request_id, "a");
  EXPECT_EQ(pool_->queue_depth(), 0u);
  Busy()->Complete(std::vector<Tensor>{});
  Poll();
  EXPECT_TRUE(answers_.at("a").ok());
}

TEST_F(PoolLifecycleTest, AWarmupErrorIsAStartFailureNamedByTheModelsMessage) {
  config_.warmup = {Warm("w0"), Warm("w1")};
  Build(1);
  AwaitLoad();
  Start();
  workers_[0]->Complete(std::vector<Tensor>{});
  workers_[0]->Complete(Internal("model 'm' raised an error: ValueError: bad shape"),
                        CallOutcome::kModelError);
  EXPECT_EQ(workers_[0]->killed_with, DeathCause::kStartFailed);
  Poll();
  const std::string why =
      "warm-up request 1 failed: model 'm' raised an error: ValueError: bad shape";
  ASSERT_EQ(loaded_.size(), 1u);
  EXPECT_EQ(loaded_[0].message(), why);
  EXPECT_EQ(pool_->load_error(), why);
  EXPECT_FALSE(pool_->ready());
  time_.Advance(kPastAnyBackoff * 10);
  EXPECT_EQ(workers_.size(), 1u);
}

TEST_F(PoolLifecycleTest, AWarmupThatOverrunsTheStartupTimeoutIsAStartFailure) {
  config_.warmup = {Warm("w")};
  config_.startup_timeout_ms = 1000;
  Build(1);
  AwaitLoad();
  Start();
  time_.Advance(999ms);
  EXPECT_FALSE(workers_[0]->killed_with.has_value());
  time_.Advance(1ms);
  EXPECT_EQ(workers_[0]->killed_with, DeathCause::kStartFailed);
  ASSERT_EQ(loaded_.size(), 1u);
  EXPECT_EQ(loaded_[0].message(),
            "warm-up request 0 did not finish within 1000 ms (startup_timeout_ms)");
  EXPECT_EQ(pool_->worker_count(), 0u);
}

TEST_F(PoolLifecycleTest, ReplacementsWarmUpBeforeServingAndFailedWarmupsAreRetried) {
  config_.warmup = {Warm("w")};
  Build(1);
  Start();
  workers_[0]->Complete(std::vector<Tensor>{});
  Poll();
  ASSERT_TRUE(pool_->ready());
  workers_[0]->Die(Unavailable("worker killed by signal 9"), DeathCause::kCrash);
  Poll();
  time_.Advance(kPastAnyBackoff);
  ASSERT_EQ(workers_.size(), 2u);
  EXPECT_EQ(workers_[1]->last_request_id, "warmup-0");
  EXPECT_FALSE(pool_->ready());
  // Nobody awaits this pool's load: a failed warm-up is retried with backoff.
  workers_[1]->Complete(Internal("model 'm' raised an error: flaky"), CallOutcome::kModelError);
  Poll();
  EXPECT_EQ(restarts_, (std::vector<DeathCause>{DeathCause::kCrash, DeathCause::kStartFailed}));
  time_.Advance(kPastAnyBackoff);
  ASSERT_EQ(workers_.size(), 3u);
  EXPECT_EQ(workers_[2]->last_request_id, "warmup-0");
  // Until a worker serves, the last start failure answers new requests.
  Submit("during-warmup");
  Poll();
  EXPECT_NE(answers_["during-warmup"].message().find("flaky"), std::string::npos);
  workers_[2]->Complete(std::vector<Tensor>{});
  Poll();
  EXPECT_TRUE(pool_->ready());
  EXPECT_EQ(pool_->load_error(), "");
  Submit("a");
  Poll();
  EXPECT_EQ(workers_[2]->last_request_id, "a");
  workers_[2]->Complete(std::vector<Tensor>{});
  Poll();
  EXPECT_TRUE(answers_.at("a").ok());
}

TEST_F(PoolLifecycleTest, WarmupRequestsDoNotCountTowardsRecycling) {
  config_.warmup = {Warm("w0"), Warm("w1")};
  config_.recycle_max_requests = 1;
  Build(1);
  Start();
  workers_[0]->Complete(std::vector<Tensor>{});
  workers_[0]->Complete(std::vector<Tensor>{});
  Poll();
  EXPECT_FALSE(workers_[0]->killed_with.has_value());
  Submit("a");
  Poll();
  Busy()->Complete(std::vector<Tensor>{});
  Poll();
  EXPECT_TRUE(answers_.at("a").ok());
  EXPECT_EQ(workers_[0]->killed_with, DeathCause::kRecycle);  // after its one client request
  ASSERT_EQ(workers_.size(), 2u);                             // replaced at once, and warms up
  EXPECT_EQ(workers_[1]->last_request_id, "warmup-0");
}

TEST_F(PoolLifecycleTest, AStopBeforeTheLoadCompletedFailsTheLoad) {
  auto_hello_ = false;
  Build(1);
  AwaitLoad();
  Start();
  pool_->Stop(1s, "shutting down");
  Poll();
  ASSERT_EQ(loaded_.size(), 1u);
  EXPECT_EQ(loaded_[0].code(), StatusCode::kUnavailable);
  EXPECT_NE(loaded_[0].message().find("shutting down"), std::string::npos);
}

// ---- Drain -------------------------------------------------------------------

TEST_F(PoolLifecycleTest, DrainServesQueuedRunningAndLateRequestsThenStopsTheWorkers) {
  Build(1);
  Start();
  Submit("running");
  Submit("queued");
  Poll();
  Drain();
  EXPECT_TRUE(pool_->accepting());
  Submit("late");  // a worker is still alive: served too
  Poll();
  for (const char* id : {"running", "queued", "late"}) {
    EXPECT_FALSE(workers_[0]->killed_with.has_value()) << "stopped while " << id << " waited";
    ASSERT_NE(Busy(), nullptr) << id;
    EXPECT_EQ(Busy()->last_request_id, id);
    Busy()->Complete(std::vector<Tensor>{});
    Poll();
    ASSERT_EQ(answers_.count(id), 1u) << id;
    EXPECT_TRUE(answers_[id].ok()) << id << ": " << answers_[id].message();
  }
  // Nothing queued or running: the worker was stopped, nobody replaces it.
  EXPECT_EQ(workers_[0]->killed_with, DeathCause::kStopped);
  EXPECT_EQ(pool_->worker_count(), 0u);
  EXPECT_EQ(drained_, 1);
  EXPECT_FALSE(pool_->accepting());
  Submit("after");
  Poll();
  EXPECT_EQ(answers_["after"].code(), StatusCode::kUnavailable);
  EXPECT_NE(answers_["after"].message().find("no longer served"), std::string::npos);
  EXPECT_EQ(answers_["after"].retry_after_seconds().value_or(0), 1);
  time_.Advance(kPastAnyBackoff * 10);
  EXPECT_EQ(workers_.size(), 1u);
  EXPECT_EQ(drained_, 1);
  EXPECT_TRUE(restarts_.empty());
}

TEST_F(PoolLifecycleTest, DrainWithoutAServingWorkerFailsQueuedRequestsAtOnce) {
  auto_hello_ = false;  // the worker never gets past its start
  Build(1);
  AwaitLoad();
  Start();
  Submit("queued");
  Poll();
  EXPECT_EQ(pool_->queue_depth(), 1u);
  Drain();
  EXPECT_EQ(workers_[0]->killed_with, DeathCause::kStopped);  // starting: stopped at once
  EXPECT_FALSE(pool_->accepting());
  Poll();
  ASSERT_EQ(answers_.count("queued"), 1u);
  EXPECT_EQ(answers_["queued"].code(), StatusCode::kUnavailable);
  EXPECT_EQ(answers_["queued"].message(),
            "model 'm' version 1 is no longer served (replaced or unloaded)");
  EXPECT_EQ(answers_["queued"].retry_after_seconds().value_or(0), 1);
  EXPECT_EQ(drained_, 1);
  ASSERT_EQ(loaded_.size(), 1u);
  EXPECT_EQ(loaded_[0].code(), StatusCode::kUnavailable);
  time_.Advance(kPastAnyBackoff * 10);
  EXPECT_EQ(workers_.size(), 1u);  // a draining pool starts nothing
}

TEST_F(PoolLifecycleTest, DrainWhenTheLastWorkerDiesFailsWhatIsQueuedAndReplacesNothing) {
  Build(1);
  Start();
  Submit("running");
  Submit("queued");
  Poll();
  Drain();
  workers_[0]->Die(Unavailable("worker killed by signal 9"), DeathCause::kCrash);
  Poll();
  EXPECT_EQ(answers_["running"].code(), StatusCode::kUnavailable);  // its worker died
  EXPECT_NE(answers_["queued"].message().find("no longer served"), std::string::npos);
  EXPECT_EQ(drained_, 1);
  time_.Advance(kPastAnyBackoff * 10);
  EXPECT_EQ(workers_.size(), 1u);
  EXPECT_TRUE(restarts_.empty());
}

TEST_F(PoolLifecycleTest, DrainDuringWarmupStopsTheWarmingWorkerAndFailsTheLoad) {
  config_.warmup = {Warm("w")};
  Build(1);
  AwaitLoad();
  Start();
  ASSERT_EQ(workers_[0]->last_request_id, "warmup-0");
  Drain();
  EXPECT_EQ(workers_[0]->killed_with, DeathCause::kStopped);
  Poll();
  ASSERT_EQ(loaded_.size(), 1u);
  EXPECT_EQ(loaded_[0].code(), StatusCode::kUnavailable);
  EXPECT_EQ(drained_, 1);
  EXPECT_EQ(pool_->load_error().find("warm-up"), std::string::npos);  // no start failure
}

TEST_F(PoolLifecycleTest, ADrainedPoolCanBeDestroyedRightAfterDrained) {
  config_.deadline_kill_grace_ms = 10;
  Build(2);
  Start();
  // Leave timers armed: a queued deadline, a running deadline, a respawn.
  PoolRequest r;
  r.request_id = "slow";
  r.deadline = time_.Now() + 1s;
  r.done = [this](StatusOr<std::vector<Tensor>> result) {
    answers_.emplace("slow", result.status());
  };
  pool_->Submit(std::move(r));
  workers_[1]->Die(Unavailable("worker killed by signal 9"), DeathCause::kCrash);
  Poll();  // a respawn is scheduled
  pool_->Drain(kDrainGrace, [this] {
    ++drained_;
    boost::asio::post(io_, [this] { pool_.reset(); });
  });
  Busy()->Complete(std::vector<Tensor>{});
  Poll();
  EXPECT_EQ(drained_, 1);
  EXPECT_EQ(pool_, nullptr);
  time_.Advance(kPastAnyBackoff * 10);  // nothing armed by the pool fires
  EXPECT_TRUE(answers_.at("slow").ok());
  EXPECT_EQ(workers_.size(), 2u);
}

TEST_F(PoolLifecycleTest, ACancelledQueuedRequestNoLongerHoldsTheDrain) {
  Build(1);
  Start();
  Submit("running");
  PoolRequest r;
  r.request_id = "queued";
  r.done = [this](StatusOr<std::vector<Tensor>> result) {
    answers_.emplace("queued", result.status());
  };
  const uint64_t ticket = pool_->Submit(std::move(r));
  Poll();
  Drain();
  pool_->Cancel(ticket);
  EXPECT_EQ(answers_.at("queued").code(), StatusCode::kCancelled);
  Poll();
  EXPECT_EQ(drained_, 0);  // "running" still runs
  EXPECT_FALSE(workers_[0]->killed_with.has_value());
  Busy()->Complete(std::vector<Tensor>{});
  Poll();
  EXPECT_TRUE(answers_.at("running").ok());
  EXPECT_EQ(workers_[0]->killed_with, DeathCause::kStopped);
  EXPECT_EQ(drained_, 1);
}

TEST_F(PoolLifecycleTest, DrainOfAnIdlePoolStopsAtOnceAndTwoDrainsBothHearIt) {
  Build(2);
  Start();
  Drain();
  EXPECT_FALSE(pool_->accepting());
  Drain();
  EXPECT_EQ(drained_, 0);  // posted
  Poll();
  EXPECT_EQ(drained_, 2);
  EXPECT_EQ(pool_->worker_count(), 0u);
  pool_->Resume();  // a drain is final
  Poll();
  EXPECT_EQ(workers_.size(), 2u);
}

// ---- deterministic start failures --------------------------------------------

TEST_F(PoolLifecycleTest, TheSameStartFailureThreeTimesInARowStopsTheRespawns) {
  Build(1);
  Start();
  ASSERT_TRUE(pool_->ready());
  CapturedLog log;
  // The text names the pid, which differs every time: still the same failure.
  start_error_ = [](int pid) {
    return "worker pid " + std::to_string(pid) +
           " of model 'm' version 1 exited with code 1 (artifact missing: weights.pkl)";
  };
  workers_[0]->Die(Unavailable("worker killed by signal 9"), DeathCause::kCrash);
  Poll();
  time_.Advance(kPastAnyBackoff * 10);
  ASSERT_EQ(workers_.size(), 1u + Supervisor::kSameErrorLimit);
  time_.Advance(24h);
  EXPECT_EQ(workers_.size(), 1u + Supervisor::kSameErrorLimit);  // given up
  EXPECT_NE(pool_->load_error().find("artifact missing"), std::string::npos);
  EXPECT_NE(pool_->load_error().find("(failed 3 times in a row; not retried until its files change "
                                     "or a load is requested)"),
            std::string::npos)
      << pool_->load_error();
  EXPECT_EQ(log.Lines("worker_start_failed").size(), 2u);
  const auto given_up = log.Lines("model_load_given_up");
  ASSERT_EQ(given_up.size(), 1u);
  EXPECT_NE(given_up[0].find("\"level\":\"error\""), std::string::npos) << given_up[0];
  EXPECT_NE(given_up[0].find("\"attempts\":3"), std::string::npos) << given_up[0];
  EXPECT_NE(given_up[0].find("\"model\":\"m\""), std::string::npos) << given_up[0];
  EXPECT_NE(given_up[0].find("\"version\":\"1\""), std::string::npos) << given_up[0];
  Submit("while-down");
  Poll();
  EXPECT_NE(answers_["while-down"].message().find("artifact missing"), std::string::npos);
  // A load (Resume) tries again.
  start_error_ = nullptr;
  pool_->Resume();
  Poll();
  EXPECT_EQ(workers_.size(), 2u + Supervisor::kSameErrorLimit);
  EXPECT_TRUE(pool_->ready());
  EXPECT_EQ(pool_->load_error(), "");
}

TEST_F(PoolLifecycleTest, DifferentStartFailuresKeepBeingRetried) {
  Build(1);
  Start();
  CapturedLog log;
  int n = 0;
  start_error_ = [&n](int) { return std::string(n++ % 2 ? "error A" : "error B"); };
  workers_[0]->Die(Unavailable("worker killed by signal 9"), DeathCause::kCrash);
  Poll();
  constexpr size_t kAttempts = 4 * Supervisor::kSameErrorLimit;
  // Steps shorter than the shortest backoff: one respawn at most per step.
  constexpr auto kStep = Supervisor::kBackoffBase / 2;
  constexpr int kMaxSteps = 10000;  // far more than 12 backoffs of at most 36 s
  for (int i = 0; i < kMaxSteps && workers_.size() < 1 + kAttempts; ++i) time_.Advance(kStep);
  EXPECT_EQ(workers_.size(), 1 + kAttempts);
  EXPECT_EQ(pool_->load_error().find("times in a row"), std::string::npos);
  EXPECT_EQ(log.Lines("worker_start_failed").size(), kAttempts);  // each logged once
  EXPECT_TRUE(log.Lines("model_load_given_up").empty());
}

}  // namespace
}  // namespace modelgate
