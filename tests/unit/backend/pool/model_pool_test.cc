// ModelPool with scripted workers and simulated time: admission, FIFO
// dispatch, deadlines, breaker accounting, recycling and respawn. Events
// happen by advancing simulated time (which runs due timers and drains the
// io_context) or by polling the io_context; nothing waits on the wall clock.
// FakeWorker posts its start and its death, so a Poll() follows each.
#include "backend/pool/model_pool.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>

#include "support/fake_worker.h"
#include "support/simulated_time_source.h"

namespace modelgate {
namespace {

using namespace std::chrono_literals;
using testing::FakeWorker;

// Longer than the first respawn backoff after a crash (base + 20% jitter).
constexpr auto kFirstRespawn = 2 * Supervisor::kBackoffBase;

class ModelPoolTest : public ::testing::Test {
 protected:
  void Make(int workers, int queue) {
    config_.name = "m";
    config_.workers = workers;
    config_.max_queue_size = queue;
    config_.circuit_breaker.minimum_calls = 3;
    config_.circuit_breaker.window_size = 3;
    config_.circuit_breaker.open_duration = 30s;
    config_.circuit_breaker.half_open_calls = 1;
    pool_ = std::make_unique<ModelPool>(
        io_, config_, 1,
        [this](Worker::Listener* l) {
          auto w = std::make_shared<FakeWorker>(io_, l, 100 + static_cast<int>(workers_.size()));
          w->interruptible = interruptible_;
          workers_.push_back(w);
          // Dies before its Hello (the death is posted, after Start).
          if (fail_start_)
            w->Die(Unavailable("model.py: no module named numpy"), DeathCause::kStartFailed);
          return w;
        },
        time_);
    PoolEvents events;
    events.rejected = [this](RejectReason r) { rejected_.push_back(r); };
    events.worker_restarted = [this](DeathCause c) {
      restarts_.push_back(c);
      restart_times_.push_back(time_.Now());
    };
    events.worker_interrupted = [this] { ++interrupt_events_; };
    pool_->set_events(events);
    pool_->Start();
    Poll();
    ASSERT_TRUE(pool_->ready());
  }

  // Submits a request whose answer lands in answers_[id].
  uint64_t Submit(const std::string& id, std::optional<SteadyTime> deadline = std::nullopt,
                  bool client_shortened = false) {
    PoolRequest r;
    r.request_id = id;
    r.deadline = deadline;
    r.client_shortened_deadline = client_shortened;
    r.done = [this, id](StatusOr<std::vector<Tensor>> result) {
      EXPECT_EQ(answers_.count(id), 0u) << "answered twice: " << id;
      answers_.emplace(id, result.ok() ? Status::Ok() : result.status());
    };
    return pool_->Submit(std::move(r));
  }
  // Runs what is ready now; simulated time stands still.
  void Poll() { time_.Poll(); }
  int ReadyWorkers() { return pool_->WorkerStates()[static_cast<size_t>(WorkerState::kReady)]; }
  FakeWorker* Busy() {
    for (auto& w : workers_) {
      if (w->busy()) return w.get();
    }
    return nullptr;
  }

  boost::asio::io_context io_;
  testing::SimulatedTimeSource time_{io_};
  ModelConfig config_;
  std::unique_ptr<ModelPool> pool_;
  std::vector<std::shared_ptr<FakeWorker>> workers_;
  std::map<std::string, Status> answers_;
  std::vector<RejectReason> rejected_;
  std::vector<DeathCause> restarts_;
  std::vector<SteadyTime> restart_times_;  // when each death was reported
  bool fail_start_ = false;                // new workers fail to load
  bool interruptible_ = false;             // new workers are native hosts
  int interrupt_events_ = 0;               // PoolEvents::worker_interrupted
};

TEST_F(ModelPoolTest, DispatchesInFifoOrderAndRejectsWhenTheQueueIsFull) {
  Make(1, 2);
  Submit("a");
  Submit("b");
  Submit("c");
  Submit("d");  // a runs, b and c wait, d does not fit
  Poll();
  ASSERT_EQ(answers_.count("d"), 1u);
  EXPECT_EQ(answers_["d"].code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(answers_["d"].retry_after_seconds().value_or(0), 1);
  EXPECT_EQ(rejected_, std::vector<RejectReason>{RejectReason::kQueueFull});
  for (const char* id : {"a", "b", "c"}) {
    FakeWorker* w = Busy();
    ASSERT_NE(w, nullptr);
    EXPECT_EQ(w->last_request_id, id);
    w->Complete(std::vector<Tensor>{});
    Poll();
    EXPECT_TRUE(answers_.at(id).ok());
  }
}

TEST_F(ModelPoolTest, QueuedRequestPastItsDeadlineIsAnsweredWithoutRunning) {
  Make(1, 4);
  Submit("running");
  Submit("queued", time_.Now() + 5ms);
  Poll();
  time_.Advance(4ms);
  EXPECT_EQ(answers_.count("queued"), 0u);  // its deadline is still ahead
  time_.Advance(1ms);                       // answered at its deadline, not later
  ASSERT_EQ(answers_.count("queued"), 1u);
  EXPECT_EQ(answers_["queued"].code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(answers_["queued"].message().find("waited 5 ms"), std::string::npos);
  EXPECT_EQ(rejected_, std::vector<RejectReason>{RejectReason::kDeadline});
  EXPECT_EQ(pool_->queue_depth(), 0u);
  Busy()->Complete(std::vector<Tensor>{});
  Poll();
  EXPECT_EQ(Busy(), nullptr);  // the expired request never reached a worker
}

TEST_F(ModelPoolTest, HungWorkerIsKilledAfterTheGraceAndCountsAsAFailure) {
  config_.deadline_kill_grace_ms = 10;
  Make(1, 4);
  Submit("hung", time_.Now() + 1ms);
  Poll();
  ASSERT_NE(Busy(), nullptr);
  EXPECT_EQ(answers_.count("hung"), 0u);  // no time has passed
  time_.Advance(1ms);
  ASSERT_EQ(answers_.count("hung"), 1u);  // answered at its deadline
  EXPECT_EQ(answers_["hung"].code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(answers_["hung"].message().find("ran past its deadline"), std::string::npos);
  // The worker never returns: after the grace it is killed and, once gone,
  // replaced without backoff.
  time_.Advance(9ms);
  EXPECT_FALSE(workers_[0]->killed_with.has_value());  // still inside the grace
  time_.Advance(1ms);
  EXPECT_EQ(workers_[0]->killed_with, DeathCause::kTimeout);
  ASSERT_EQ(workers_.size(), 2u);
  EXPECT_TRUE(pool_->ready());
  EXPECT_EQ(restarts_, std::vector<DeathCause>{DeathCause::kTimeout});
  EXPECT_EQ(answers_.size(), 1u);  // answered once, at the deadline
}

TEST_F(ModelPoolTest, DeadlineKillsOpenTheBreaker) {
  config_.deadline_kill_grace_ms = 1;
  Make(1, 4);
  for (int i = 0; i < 3; ++i) {
    const std::string id = "hung" + std::to_string(i);
    ASSERT_EQ(pool_->breaker_state(), CircuitBreaker::State::kClosed);
    Submit(id, time_.Now() + 1ms);
    // Deadline, grace, kill: replaced at once, so the next request has a worker.
    time_.Advance(2ms);
    ASSERT_EQ(restarts_.size(), static_cast<size_t>(i + 1)) << id;
    ASSERT_EQ(ReadyWorkers(), 1) << id;
    EXPECT_EQ(answers_[id].code(), StatusCode::kDeadlineExceeded);
  }
  EXPECT_EQ(pool_->breaker_state(), CircuitBreaker::State::kOpen);
}

TEST_F(ModelPoolTest, KillsAfterAClientsShortenedDeadlineNeverOpenTheBreaker) {
  // Valid but slow requests with tiny deadlines: each worker is killed after
  // the grace and replaced, but that is the client's doing, not the backend's.
  config_.deadline_kill_grace_ms = 1;
  Make(1, 4);
  for (int i = 0; i < 5; ++i) {
    const std::string id = "short" + std::to_string(i);
    Submit(id, time_.Now() + 1ms, /*client_shortened=*/true);
    time_.Advance(2ms);
    ASSERT_EQ(restarts_.size(), static_cast<size_t>(i + 1)) << id;
    ASSERT_EQ(ReadyWorkers(), 1) << id;
    EXPECT_EQ(answers_[id].code(), StatusCode::kDeadlineExceeded);
  }
  EXPECT_EQ(restarts_, std::vector<DeathCause>(5, DeathCause::kTimeout));
  EXPECT_EQ(pool_->breaker_state(), CircuitBreaker::State::kClosed);
}

TEST_F(ModelPoolTest, ShortDeadlineWhoseWorkerReturnsInTheGraceKeepsTheWorker) {
  config_.deadline_kill_grace_ms = 60000;
  Make(1, 8);
  for (int i = 0; i < 5; ++i) {
    const std::string id = "short" + std::to_string(i);
    Submit(id, time_.Now() + 1ms);
    Submit("next" + std::to_string(i));  // queued behind it
    time_.Advance(1ms);
    ASSERT_EQ(answers_.count(id), 1u);
    time_.Advance(59s);  // most of the grace: the worker is still given time
    EXPECT_EQ(answers_[id].code(), StatusCode::kDeadlineExceeded);
    // The queued request waits for that worker, which is still on the call.
    ASSERT_NE(Busy(), nullptr);
    EXPECT_EQ(Busy()->last_request_id, id);
    EXPECT_EQ(pool_->queue_depth(), 1u);
    Busy()->Complete(std::vector<Tensor>{});  // the late answer is dropped
    Poll();
    EXPECT_EQ(answers_[id].code(), StatusCode::kDeadlineExceeded);
    ASSERT_NE(Busy(), nullptr);
    EXPECT_EQ(Busy()->last_request_id, "next" + std::to_string(i));
    Busy()->Complete(std::vector<Tensor>{});
    Poll();
    EXPECT_TRUE(answers_.at("next" + std::to_string(i)).ok());
  }
  EXPECT_EQ(workers_.size(), 1u);
  EXPECT_FALSE(workers_[0]->killed_with.has_value());
  EXPECT_TRUE(restarts_.empty());
  EXPECT_EQ(pool_->breaker_state(), CircuitBreaker::State::kClosed);
}

TEST_F(ModelPoolTest, InterruptedWorkerThatReturnsKeepsItsSlotForTheNextRequest) {
  interruptible_ = true;
  config_.deadline_kill_grace_ms = 60000;
  config_.interrupt_grace_ms = 200;
  Make(1, 8);
  for (int i = 0; i < 3; ++i) {
    const std::string id = "slow" + std::to_string(i);
    const std::string next = "next" + std::to_string(i);
    Submit(id, time_.Now() + 5ms);
    Submit(next);  // queued behind it
    time_.Advance(4ms);
    EXPECT_EQ(workers_[0]->interrupts, i);  // not before the deadline
    time_.Advance(1ms);
    ASSERT_EQ(answers_.count(id), 1u);
    EXPECT_EQ(answers_[id].code(), StatusCode::kDeadlineExceeded);
    EXPECT_EQ(workers_[0]->interrupts, i + 1);  // interrupted as the grace starts
    EXPECT_EQ(interrupt_events_, i + 1);
    // The interpreter returns with the interrupt's error: dropped, and the
    // same worker takes the queued request.
    time_.Advance(150ms);
    ASSERT_NE(Busy(), nullptr);
    EXPECT_EQ(Busy()->last_request_id, id);
    Busy()->Complete(Internal("KeyboardInterrupt"), CallOutcome::kAbandoned);
    Poll();
    EXPECT_EQ(answers_[id].code(), StatusCode::kDeadlineExceeded);
    ASSERT_NE(Busy(), nullptr);
    EXPECT_EQ(Busy()->last_request_id, next);
    Busy()->Complete(std::vector<Tensor>{});
    Poll();
    EXPECT_TRUE(answers_.at(next).ok());
  }
  EXPECT_EQ(workers_.size(), 1u);
  EXPECT_FALSE(workers_[0]->killed_with.has_value());
  EXPECT_TRUE(restarts_.empty());
  EXPECT_EQ(pool_->breaker_state(), CircuitBreaker::State::kClosed);
}

TEST_F(ModelPoolTest, InterruptedWorkerThatDoesNotReturnIsKilledAfterTheInterruptGrace) {
  interruptible_ = true;
  config_.deadline_kill_grace_ms = 60000;  // not the grace used after an interrupt
  config_.interrupt_grace_ms = 200;
  Make(1, 4);
  Submit("blocked", time_.Now() + 1ms);
  time_.Advance(1ms);
  EXPECT_EQ(answers_["blocked"].code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(workers_[0]->interrupts, 1);
  time_.Advance(199ms);
  EXPECT_FALSE(workers_[0]->killed_with.has_value());  // still inside the grace
  time_.Advance(1ms);
  EXPECT_EQ(workers_[0]->killed_with, DeathCause::kTimeout);
  EXPECT_EQ(restarts_, std::vector<DeathCause>{DeathCause::kTimeout});
  ASSERT_EQ(workers_.size(), 2u);  // replaced at once
  EXPECT_TRUE(pool_->ready());
  EXPECT_EQ(answers_.size(), 1u);
}

TEST_F(ModelPoolTest, WorkerThatCannotBeInterruptedKeepsTheKillGrace) {
  config_.deadline_kill_grace_ms = 50;
  config_.interrupt_grace_ms = 10;
  Make(1, 4);
  Submit("script", time_.Now() + 1ms);
  time_.Advance(1ms);
  time_.Advance(10ms);
  EXPECT_FALSE(workers_[0]->killed_with.has_value());  // the interrupt grace does not apply
  EXPECT_EQ(interrupt_events_, 0);
  time_.Advance(40ms);
  EXPECT_EQ(workers_[0]->killed_with, DeathCause::kTimeout);
  EXPECT_EQ(workers_[0]->interrupts, 0);
}

TEST_F(ModelPoolTest, LateAnswersAloneNeverOpenTheBreaker) {
  config_.deadline_kill_grace_ms = 60000;
  Make(1, 8);
  for (int i = 0; i < 6; ++i) {
    const std::string id = "late" + std::to_string(i);
    Submit(id, time_.Now() + 1ms);
    time_.Advance(1ms);
    ASSERT_EQ(answers_.count(id), 1u);
    EXPECT_EQ(answers_[id].code(), StatusCode::kDeadlineExceeded);
    // Even a late model error or flagged input says nothing about health.
    if (i % 2 == 0) {
      Busy()->Complete(Internal("model raised"), CallOutcome::kModelError);
    } else {
      Busy()->Complete(std::vector<Tensor>{});
    }
    Poll();
  }
  EXPECT_EQ(pool_->breaker_state(), CircuitBreaker::State::kClosed);
  EXPECT_TRUE(restarts_.empty());
}

TEST_F(ModelPoolTest, InvalidInputNeverCountsForTheBreaker) {
  Make(1, 8);
  for (int i = 0; i < 6; ++i) {
    Submit("bad" + std::to_string(i));
    Poll();
    ASSERT_NE(Busy(), nullptr);
    Busy()->Complete(InvalidArgument("no"), CallOutcome::kInvalidInput);
    Poll();
    EXPECT_EQ(answers_["bad" + std::to_string(i)].code(), StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(pool_->breaker_state(), CircuitBreaker::State::kClosed);
  EXPECT_TRUE(pool_->ready());
}

TEST_F(ModelPoolTest, ModelRaisedErrorsNeverCountForTheBreaker) {
  Make(1, 8);
  for (int i = 0; i < 6; ++i) {
    Submit("err" + std::to_string(i));
    Poll();
    ASSERT_NE(Busy(), nullptr);
    Busy()->Complete(Internal("model raised"), CallOutcome::kModelError);
    Poll();
    EXPECT_EQ(answers_["err" + std::to_string(i)].code(), StatusCode::kInternal);
  }
  EXPECT_EQ(pool_->breaker_state(), CircuitBreaker::State::kClosed);
  EXPECT_TRUE(pool_->ready());
}

TEST_F(ModelPoolTest, PoolRejectionsNeverCountForTheBreaker) {
  Make(1, 1);
  Submit("running");
  Submit("queued", time_.Now() + 1ms);
  for (int i = 0; i < 6; ++i) Submit("full" + std::to_string(i));  // 429: queue full
  Poll();
  time_.Advance(5ms);  // "queued" expires in the queue: 504 without running
  ASSERT_EQ(answers_.count("queued"), 1u);
  EXPECT_EQ(answers_["queued"].code(), StatusCode::kDeadlineExceeded);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(answers_["full" + std::to_string(i)].code(), StatusCode::kResourceExhausted);
  }
  Busy()->Complete(std::vector<Tensor>{});
  Poll();
  EXPECT_EQ(pool_->breaker_state(), CircuitBreaker::State::kClosed);
  // The window holds one success: two failures now are 2 of 3 and open it,
  // which shows the rejections above left no trace in it.
  for (int i = 0; i < 2; ++i) {
    Submit("crash" + std::to_string(i));
    time_.Advance(kFirstRespawn);  // the second waits for the crashed worker's successor
    ASSERT_NE(Busy(), nullptr);
    Busy()->Die(Unavailable("worker died"), DeathCause::kCrash);
    Poll();
    ASSERT_EQ(answers_.count("crash" + std::to_string(i)), 1u);
    if (i == 0) {
      ASSERT_EQ(pool_->breaker_state(), CircuitBreaker::State::kClosed);
    }
  }
  EXPECT_EQ(pool_->breaker_state(), CircuitBreaker::State::kOpen);
}

TEST_F(ModelPoolTest, ProtocolErrorsCountForTheBreaker) {
  Make(1, 8);
  Submit("ok");
  Poll();
  Busy()->Complete(std::vector<Tensor>{});
  Poll();
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(pool_->breaker_state(), CircuitBreaker::State::kClosed);
    Submit("garbled" + std::to_string(i));
    Poll();
    ASSERT_NE(Busy(), nullptr);
    Busy()->Complete(Internal("worker wrote an undecodable result"), CallOutcome::kProtocolError);
    Poll();
  }
  EXPECT_EQ(pool_->breaker_state(), CircuitBreaker::State::kOpen);
}

TEST_F(ModelPoolTest, WorkerDeathMidRequestOpensTheBreakerAndAProbeClosesIt) {
  Make(1, 8);
  Submit("ok");
  Poll();
  Busy()->Complete(std::vector<Tensor>{});
  Poll();
  // [ok, died, died] over a 3-call window is 67% >= 50%.
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(pool_->breaker_state(), CircuitBreaker::State::kClosed);
    const std::string id = "dies" + std::to_string(i);
    Submit(id);
    time_.Advance(kFirstRespawn);  // the second waits for the crashed worker's successor
    ASSERT_NE(Busy(), nullptr);
    Busy()->Die(Unavailable("worker killed by signal 9"), DeathCause::kCrash);
    Poll();
    ASSERT_EQ(answers_.count(id), 1u);
    EXPECT_EQ(answers_[id].code(), StatusCode::kUnavailable);
  }
  EXPECT_EQ(pool_->breaker_state(), CircuitBreaker::State::kOpen);
  EXPECT_FALSE(pool_->ready());
  Submit("rejected");
  Poll();
  EXPECT_EQ(answers_["rejected"].code(), StatusCode::kUnavailable);
  EXPECT_NE(answers_["rejected"].message().find("circuit breaker"), std::string::npos);
  EXPECT_EQ(answers_["rejected"].retry_after_seconds().value_or(0), 30);
  // After the open duration one probe goes through; its success closes it.
  time_.Advance(29s);
  EXPECT_FALSE(pool_->ready());  // still open
  time_.Advance(1s + 1ms);       // the re-check runs just after the open duration
  ASSERT_EQ(ReadyWorkers(), 1);
  EXPECT_TRUE(pool_->ready());  // half-open
  Submit("probe");
  Poll();
  ASSERT_NE(Busy(), nullptr);
  Busy()->Complete(std::vector<Tensor>{});
  Poll();
  EXPECT_EQ(pool_->breaker_state(), CircuitBreaker::State::kClosed);
  EXPECT_TRUE(pool_->ready());
}

TEST_F(ModelPoolTest, RecyclesAWorkerAfterMaxRequests) {
  config_.recycle_max_requests = 2;
  Make(1, 4);
  for (int i = 0; i < 2; ++i) {
    Submit("r" + std::to_string(i));
    Poll();
    Busy()->Complete(std::vector<Tensor>{});
    Poll();
  }
  EXPECT_EQ(workers_[0]->killed_with, DeathCause::kRecycle);
  Poll();  // replaced at once, no backoff
  ASSERT_EQ(workers_.size(), 2u);
  EXPECT_TRUE(pool_->ready());
  EXPECT_EQ(pool_->WorkerPids(), std::vector<int>{101});
}

TEST_F(ModelPoolTest, RespawnBackoffDoublesWhileStartsFailAndTheLoadErrorIsShown) {
  Make(1, 4);
  fail_start_ = true;
  workers_[0]->Die(Unavailable("worker killed by signal 9"), DeathCause::kCrash);
  Poll();
  Submit("queued");  // no load error yet: it waits for the replacement
  Poll();
  EXPECT_EQ(pool_->queue_depth(), 1u);
  // The k-th consecutive failure waits kBackoffBase * 2^(k-1) * [0.8, 1.2].
  for (int k = 1; k <= 3; ++k) {
    if (k == 3) fail_start_ = false;
    const size_t spawned = workers_.size();
    const auto base = Supervisor::kBackoffBase * (1 << (k - 1));
    const SteadyTime died = restart_times_.back();
    time_.AdvanceTo(died + base * 8 / 10 - 1ms);
    EXPECT_EQ(workers_.size(), spawned) << "respawned before the backoff, k=" << k;
    time_.AdvanceTo(died + base * 12 / 10);
    ASSERT_EQ(workers_.size(), spawned + 1) << "no respawn within the backoff, k=" << k;
    if (k == 1) {
      // The replacement failed to load: queued and new requests get 503 naming why.
      EXPECT_EQ(answers_["queued"].code(), StatusCode::kUnavailable);
      EXPECT_NE(answers_["queued"].message().find("numpy"), std::string::npos);
      Submit("while-down");
      Poll();
      EXPECT_NE(answers_["while-down"].message().find("numpy"), std::string::npos);
      EXPECT_EQ(rejected_.back(), RejectReason::kLoadError);
      EXPECT_FALSE(pool_->ready());
    }
  }
  EXPECT_TRUE(pool_->ready());
  EXPECT_EQ(pool_->load_error(), "");  // cleared by the Hello
  EXPECT_EQ(restarts_, (std::vector<DeathCause>{DeathCause::kCrash, DeathCause::kStartFailed,
                                                DeathCause::kStartFailed}));
}

TEST_F(ModelPoolTest, CancelReleasesAQueuedRequest) {
  Make(1, 4);
  Submit("running");
  const uint64_t ticket = Submit("queued");
  Poll();
  EXPECT_EQ(pool_->queue_depth(), 1u);
  pool_->Cancel(ticket);
  EXPECT_EQ(pool_->queue_depth(), 0u);
  EXPECT_EQ(answers_["queued"].code(), StatusCode::kCancelled);
}

TEST_F(ModelPoolTest, UnloadAndLoadAgainBeforeTheWorkersDieKeepsTheConfiguredCount) {
  Make(2, 4);
  for (int i = 0; i < 5; ++i) {
    // The stopped workers die later (FakeWorker posts their death), after
    // the pool has been resumed and has started their successors.
    pool_->Stop(std::chrono::seconds(5), "unloaded");
    pool_->Resume();
  }
  Poll();
  ASSERT_TRUE(pool_->ready());
  const auto states = pool_->WorkerStates();
  EXPECT_EQ(states[static_cast<size_t>(WorkerState::kReady)] +
                states[static_cast<size_t>(WorkerState::kStarting)],
            2);
  EXPECT_EQ(workers_.size(), 2u + 5u * 2u);  // each load started exactly two
  EXPECT_TRUE(restarts_.empty());
}

TEST_F(ModelPoolTest, StopAnswersQueuedRequestsWith503) {
  Make(1, 4);
  Submit("running");
  Submit("queued");
  Poll();
  pool_->Stop(1s, "shutting down");
  Poll();
  EXPECT_EQ(answers_["queued"].code(), StatusCode::kUnavailable);
  EXPECT_EQ(answers_["running"].code(), StatusCode::kUnavailable);  // its worker was stopped
  Submit("late");
  Poll();
  EXPECT_NE(answers_["late"].message().find("shutting down"), std::string::npos);
}

}  // namespace
}  // namespace modelgate

namespace modelgate {
namespace {

Tensor Column(const std::string& name, std::vector<double> v) {
  Tensor t;
  t.name = name;
  t.datatype = DataType::kFp64;
  t.shape = {static_cast<int64_t>(v.size())};
  t.raw.assign(reinterpret_cast<const char*>(v.data()), v.size() * 8);
  return t;
}

class BatchingPoolTest : public ModelPoolTest {
 protected:
  void SubmitRows(const std::string& id, std::vector<double> rows,
                  std::optional<SteadyTime> deadline = std::nullopt,
                  std::vector<std::string> labels = {}) {
    PoolRequest r;
    r.request_id = id;
    r.deadline = deadline;
    r.inputs.push_back(Column("x", std::move(rows)));
    if (!labels.empty()) {
      Tensor s;
      s.name = "s";
      s.datatype = DataType::kBytes;
      s.shape = {static_cast<int64_t>(labels.size())};
      s.strings = std::move(labels);
      r.inputs.push_back(std::move(s));
    }
    r.done = [this, id](StatusOr<std::vector<Tensor>> result) {
      answers_.emplace(id, result.ok() ? Status::Ok() : result.status());
      if (result.ok()) outputs_[id] = std::move(result).value();
    };
    pool_->Submit(std::move(r));
  }
  std::map<std::string, std::vector<Tensor>> outputs_;
};

TEST_F(BatchingPoolTest, ConcurrentRequestsShareOneCallAndGetTheirOwnRows) {
  config_.max_batch_size = 8;
  config_.max_queue_delay_us = 1000000;
  Make(1, 16);
  SubmitRows("a", {1});
  SubmitRows("b", {2, 3});
  SubmitRows("c", {4});
  Poll();
  EXPECT_EQ(Busy(), nullptr);  // waiting for the batch to fill
  time_.Advance(999ms);
  EXPECT_EQ(Busy(), nullptr);
  time_.Advance(1ms);  // the oldest request's delay bound
  ASSERT_NE(Busy(), nullptr);
  FakeWorker* w = Busy();
  ASSERT_EQ(w->last_inputs.size(), 1u);
  EXPECT_EQ(w->last_inputs[0].shape, std::vector<int64_t>{4});  // 1 + 2 + 1 rows, one call
  // The model answers y = x for every row; each caller gets exactly its rows.
  std::vector<Tensor> y;
  y.push_back(w->last_inputs[0]);
  y[0].name = "y";
  w->Complete(std::move(y));
  Poll();
  ASSERT_EQ(outputs_.size(), 3u);
  auto values = [&](const std::string& id) {
    const Tensor& t = outputs_[id][0];
    std::vector<double> v(t.raw.size() / 8);
    std::memcpy(v.data(), t.raw.data(), t.raw.size());
    return v;
  };
  EXPECT_EQ(values("a"), std::vector<double>{1});
  EXPECT_EQ(values("b"), (std::vector<double>{2, 3}));
  EXPECT_EQ(values("c"), std::vector<double>{4});
}

TEST_F(BatchingPoolTest, OneMembersShortDeadlineNeverFailsAnotherMember) {
  config_.max_batch_size = 2;
  config_.max_queue_delay_us = 1000000;  // both go in one call, when the second arrives
  config_.deadline_kill_grace_ms = 1;
  Make(1, 16);
  SubmitRows("short", {1}, time_.Now() + 1ms);
  SubmitRows("patient", {2});  // no deadline: waits for the answer
  time_.Advance(1ms);
  ASSERT_EQ(answers_.count("short"), 1u);
  EXPECT_EQ(answers_["short"].code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(answers_.count("patient"), 0u);
  // Well past the short deadline and the grace: the call is not killed,
  // since a member still waits for it.
  time_.Advance(10s);
  ASSERT_NE(Busy(), nullptr);
  EXPECT_FALSE(workers_[0]->killed_with.has_value());
  std::vector<Tensor> y;
  y.push_back(Busy()->last_inputs[0]);
  y[0].name = "y";
  Busy()->Complete(std::move(y));
  Poll();
  ASSERT_TRUE(answers_.at("patient").ok());
  EXPECT_EQ(outputs_["patient"][0].shape, std::vector<int64_t>{1});
  EXPECT_TRUE(restarts_.empty());
  EXPECT_EQ(pool_->breaker_state(), CircuitBreaker::State::kClosed);
}

TEST_F(BatchingPoolTest, EachMemberIsAnsweredAtItsOwnDeadlineThenTheCallIsKilled) {
  config_.max_batch_size = 2;
  config_.max_queue_delay_us = 1000000;  // both go in one call, when the second arrives
  config_.deadline_kill_grace_ms = 1;
  Make(1, 16);
  SubmitRows("first", {1}, time_.Now() + 1ms);
  SubmitRows("second", {2}, time_.Now() + 50ms);
  time_.Advance(1ms);
  ASSERT_EQ(answers_.count("first"), 1u);
  EXPECT_EQ(answers_["first"].code(), StatusCode::kDeadlineExceeded);
  // The second member's deadline is armed only once the first has passed.
  time_.Advance(48ms);
  EXPECT_EQ(answers_.count("second"), 0u);
  EXPECT_FALSE(workers_[0]->killed_with.has_value());
  time_.Advance(1ms);
  ASSERT_EQ(answers_.count("second"), 1u);
  EXPECT_EQ(answers_["second"].code(), StatusCode::kDeadlineExceeded);
  EXPECT_FALSE(workers_[0]->killed_with.has_value());  // the grace starts now
  time_.Advance(1ms);
  EXPECT_EQ(workers_[0]->killed_with, DeathCause::kTimeout);
  EXPECT_EQ(restarts_, std::vector<DeathCause>{DeathCause::kTimeout});
}

TEST_F(BatchingPoolTest, AFullBatchGoesAtOnceWithoutWaiting) {
  config_.max_batch_size = 2;
  config_.max_queue_delay_us = 1000000;
  Make(1, 16);
  SubmitRows("a", {1});
  SubmitRows("b", {2});
  Poll();  // no simulated time passes
  ASSERT_NE(Busy(), nullptr);
  EXPECT_EQ(Busy()->last_inputs[0].shape, std::vector<int64_t>{2});
}

TEST_F(BatchingPoolTest, NeverWaitsPastTheDelayBound) {
  config_.max_batch_size = 64;
  config_.max_queue_delay_us = 500;
  Make(1, 16);
  SubmitRows("alone", {1});
  Poll();
  EXPECT_EQ(Busy(), nullptr);
  time_.Advance(std::chrono::microseconds(499));
  EXPECT_EQ(Busy(), nullptr);  // still inside its bound
  time_.Advance(std::chrono::microseconds(1));
  ASSERT_NE(Busy(), nullptr);  // goes alone at the bound
  EXPECT_EQ(Busy()->last_inputs[0].shape, std::vector<int64_t>{1});
}

// max_queue_delay_us 0: opportunistic batching. A lone request goes at
// once; requests that queued while the worker was busy share its next call.
TEST_F(BatchingPoolTest, ZeroDelayNeverWaitsAndBatchesWhatQueuedMeanwhile) {
  config_.max_batch_size = 8;
  config_.max_queue_delay_us = 0;
  Make(1, 16);
  SubmitRows("alone", {1});
  Poll();  // no simulated time passes
  ASSERT_NE(Busy(), nullptr);
  EXPECT_EQ(Busy()->last_inputs[0].shape, std::vector<int64_t>{1});
  EXPECT_EQ(Busy()->last_request_id, "alone");
  SubmitRows("b", {2});
  SubmitRows("c", {3, 4});
  SubmitRows("d", {5});
  std::vector<Tensor> y;
  y.push_back(Busy()->last_inputs[0]);
  y[0].name = "y";
  Busy()->Complete(std::move(y));
  Poll();
  EXPECT_TRUE(answers_.at("alone").ok());
  // The three that queued go together, still without any time passing.
  ASSERT_NE(Busy(), nullptr);
  EXPECT_EQ(Busy()->last_inputs[0].shape, std::vector<int64_t>{4});
  EXPECT_EQ(Busy()->last_request_id, "b c d");  // each id, for the worker's output lines
  EXPECT_EQ(time_.pending_timers(), 0u);        // nothing waits for a delay
}

// One client's bad row must not fail the others batched with it: a call the
// model fails is retried one request at a time, ahead of the queue.
TEST_F(BatchingPoolTest, ABatchTheModelFailsIsRetriedOneRequestAtATime) {
  config_.max_batch_size = 8;
  config_.max_queue_delay_us = 0;
  Make(1, 16);
  SubmitRows("first", {0});
  SubmitRows("good", {1});
  SubmitRows("bad", {-1});
  SubmitRows("fine", {2});
  auto echo = [](FakeWorker* w) {
    std::vector<Tensor> y;
    y.push_back(w->last_inputs[0]);
    y[0].name = "y";
    w->Complete(std::move(y));
  };
  echo(Busy());  // "first" went alone; the other three queued meanwhile
  Poll();
  ASSERT_NE(Busy(), nullptr);
  EXPECT_EQ(Busy()->last_request_id, "good bad fine");
  SubmitRows("later", {3});  // queued behind the retries
  Busy()->Complete(InvalidArgument("x must be >= 0"), CallOutcome::kInvalidInput);
  Poll();
  EXPECT_EQ(answers_.size(), 1u);  // only "first": the batch's members run again
  for (const char* id : {"good", "bad", "fine", "later"}) {
    FakeWorker* w = Busy();
    ASSERT_NE(w, nullptr) << id;
    EXPECT_EQ(w->last_request_id, id);
    EXPECT_EQ(w->last_inputs[0].shape, std::vector<int64_t>{1});
    const std::map<std::string, double> submitted = {
        {"good", 1}, {"bad", -1}, {"fine", 2}, {"later", 3}};
    EXPECT_EQ(w->last_inputs[0].raw, Column("x", {submitted.at(id)}).raw) << id;
    if (std::string(id) == "bad") {
      w->Complete(InvalidArgument("x must be >= 0"), CallOutcome::kInvalidInput);
    } else {
      echo(w);
    }
    Poll();
  }
  EXPECT_TRUE(answers_.at("good").ok());
  EXPECT_EQ(answers_.at("bad").code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(answers_.at("fine").ok());
  EXPECT_TRUE(answers_.at("later").ok());
  EXPECT_EQ(pool_->breaker_state(), CircuitBreaker::State::kClosed);
}

// A retried member runs on its own inputs, whole: the batch's concatenation
// copied them (it once moved BYTES out, and the retry saw empty strings).
TEST_F(BatchingPoolTest, ARetriedMemberRunsOnItsOwnInputsBytesIncluded) {
  config_.max_batch_size = 8;
  config_.max_queue_delay_us = 0;
  Make(1, 16);
  SubmitRows("first", {0}, std::nullopt, {"zero"});
  SubmitRows("good", {1, 2}, std::nullopt, {"red", "green"});
  SubmitRows("bad", {3}, std::nullopt, {"bogus"});
  Busy()->Complete(InvalidArgument("no"), CallOutcome::kInvalidInput);  // "first", alone
  Poll();
  ASSERT_NE(Busy(), nullptr);
  EXPECT_EQ(Busy()->last_request_id, "good bad");
  EXPECT_EQ(Busy()->last_inputs[1].strings, (std::vector<std::string>{"red", "green", "bogus"}));
  Busy()->Complete(InvalidArgument("unknown colour 'bogus'"), CallOutcome::kInvalidInput);
  Poll();
  FakeWorker* w = Busy();
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->last_request_id, "good");
  ASSERT_EQ(w->last_inputs.size(), 2u);
  EXPECT_EQ(w->last_inputs[0].raw, Column("x", {1, 2}).raw);
  EXPECT_EQ(w->last_inputs[1].strings, (std::vector<std::string>{"red", "green"}));
  w->Complete(InvalidArgument("stop"), CallOutcome::kInvalidInput);
  Poll();
  w = Busy();
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->last_request_id, "bad");
  EXPECT_EQ(w->last_inputs[0].raw, Column("x", {3}).raw);
  EXPECT_EQ(w->last_inputs[1].strings, std::vector<std::string>{"bogus"});
}

TEST_F(BatchingPoolTest, ABatchNamesAtMostSixteenIdsAndCountsTheRest) {
  Batch batch;
  for (int i = 0; i < 20; ++i) {
    batch.push_back(std::make_shared<Call>());
    batch.back()->request.request_id = "r" + std::to_string(i);
  }
  EXPECT_EQ(BatchRequestIds(batch),
            "r0 r1 r2 r3 r4 r5 r6 r7 r8 r9 r10 r11 r12 r13 r14 r15 (+4 more)");
  batch.resize(1);
  EXPECT_EQ(BatchRequestIds(batch), "r0");
}

TEST_F(BatchingPoolTest, RequestsThatCannotBatchGoAlone) {
  config_.max_batch_size = 8;
  config_.max_queue_delay_us = 1000000;
  Make(1, 16);
  SubmitRows("a", {1});
  PoolRequest other;  // a different input: cannot share the call
  other.request_id = "b";
  other.inputs.push_back(Column("z", {5}));
  other.done = [this](StatusOr<std::vector<Tensor>> r) { answers_.emplace("b", r.status()); };
  pool_->Submit(std::move(other));
  Poll();
  ASSERT_NE(Busy(), nullptr);  // "a" went at once: the batch cannot grow past "b"
  EXPECT_EQ(Busy()->last_inputs[0].name, "x");
  EXPECT_EQ(Busy()->last_inputs[0].shape, std::vector<int64_t>{1});
}

}  // namespace
}  // namespace modelgate

namespace modelgate {
namespace {

TEST_F(BatchingPoolTest, QueueBoundHoldsWhileABatchFills) {
  config_.max_batch_size = 64;
  config_.max_queue_delay_us = 1000000;
  Make(1, 2);  // a queue of 2, the only worker idle but waiting for the batch
  SubmitRows("a", {1});
  SubmitRows("b", {2});
  SubmitRows("c", {3});
  Poll();
  ASSERT_EQ(answers_.count("c"), 1u);
  EXPECT_EQ(answers_["c"].code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(pool_->queue_depth(), 2u);
}

}  // namespace
}  // namespace modelgate
