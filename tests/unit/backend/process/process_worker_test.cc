// The worker state machine, driven by scripted /bin/sh stand-ins for R and
// Python: they write prepared frames (or garbage) to fd 4 and exit on cue.
#include "backend/process/process_worker.h"

#include <gtest/gtest.h>

#include "common/asio_time_source.h"
#include "support/simulated_time_source.h"
#include "support/test_env.h"

namespace modelgate {
namespace {

using worker::v1::Frame;

// printf(1) escapes for the wire bytes of a frame.
std::string PrintfBytes(const Frame& f) {
  std::string wire;
  EXPECT_TRUE(EncodeFrame(f, &wire).ok());
  std::string out;
  char buf[8];
  for (unsigned char c : wire) {
    std::snprintf(buf, sizeof buf, "\\%03o", c);
    out += buf;
  }
  return out;
}

std::string HelloBytes() {
  Frame f;
  f.mutable_hello()->set_protocol_version(1);
  f.mutable_hello()->set_runtime("sh");
  return PrintfBytes(f);
}

Frame InferFrame(uint64_t id) {
  Frame f;
  f.set_id(id);
  auto* t = f.mutable_infer()->add_inputs();
  t->set_name("x");
  t->set_datatype("FP64");
  t->add_shape(1);
  t->set_raw(std::string(8, '\0'));
  return f;
}

Frame ResultFrame(uint64_t id) {
  Frame f;
  f.set_id(id);
  auto* t = f.mutable_result()->add_outputs();
  t->set_name("y");
  t->set_datatype("FP64");
  t->add_shape(1);
  double v = 42.0;
  t->set_raw(std::string(reinterpret_cast<char*>(&v), 8));
  return f;
}

// The input InferFrame(1) carries, as the worker's caller passes it.
std::vector<Tensor> ZeroInput() {
  Tensor x;
  x.name = "x";
  x.shape = {1};
  x.raw.assign(8, '\0');
  std::vector<Tensor> in;
  in.push_back(std::move(x));
  return in;
}

struct Recorder : Worker::Listener {
  int ready = 0;
  int dead = 0;
  bool never_ready = false;
  DeathCause cause = DeathCause::kCrash;
  Status why;
  void OnWorkerReady(Worker&) override { ++ready; }
  void OnWorkerDead(Worker&, const Status& s, DeathCause c) override {
    ++dead;
    why = s;
    cause = c;
    never_ready = c == DeathCause::kStartFailed;
  }
};

class ProcessWorkerTest : public ::testing::Test {
 protected:
  std::shared_ptr<ProcessWorker> Make(const std::string& script,
                                      std::chrono::milliseconds startup = std::chrono::seconds(10),
                                      TimeSource* timers = nullptr) {
    WorkerOptions o;
    o.model = "fake";
    o.version = "1";
    o.spawn.argv = {"/bin/sh", "-c", script};
    o.spawn.env = {"PATH=/usr/bin:/bin"};
    o.startup_timeout = startup;
    auto w = std::make_shared<ProcessWorker>(io, reaper, timers ? *timers : time, o, &rec);
    w->Start();
    return w;
  }
  boost::asio::io_context io;
  // Real /bin/sh children exit and are reaped in real time.
  AsioTimeSource time{io};
  ChildReaper reaper{io};
  Recorder rec;
};

TEST_F(ProcessWorkerTest, HelloMakesItReadyAndStopEndsItCleanly) {
  auto w = Make("printf '" + HelloBytes() + "' >&4; exec cat <&3 >/dev/null");
  EXPECT_EQ(w->state(), WorkerState::kStarting);
  ASSERT_TRUE(testing::RunUntil(io, [&] { return rec.ready == 1; }));
  EXPECT_EQ(w->state(), WorkerState::kReady);
  w->Stop(std::chrono::seconds(5), DeathCause::kStopped);
  ASSERT_TRUE(testing::RunUntil(io, [&] { return rec.dead == 1; }));
  EXPECT_EQ(w->state(), WorkerState::kDead);
  EXPECT_FALSE(rec.never_ready);
  EXPECT_NE(rec.why.message().find("exited with code 0"), std::string::npos) << rec.why.message();
}

TEST_F(ProcessWorkerTest, AnswersAnInferAndReturnsToReady) {
  std::string infer_wire;
  ASSERT_TRUE(EncodeFrame(InferFrame(1), &infer_wire).ok());
  auto w = Make("printf '" + HelloBytes() + "' >&4; head -c " + std::to_string(infer_wire.size()) +
                " <&3 >/dev/null; printf '" + PrintfBytes(ResultFrame(1)) +
                "' >&4; exec cat <&3 >/dev/null");
  ASSERT_TRUE(testing::RunUntil(io, [&] { return rec.ready == 1; }));
  std::optional<StatusOr<std::vector<Tensor>>> got;
  std::optional<CallOutcome> outcome;
  w->Infer(ZeroInput(), Parameters{}, "req-1", [&](StatusOr<std::vector<Tensor>> r, CallOutcome o) {
    got = std::move(r);
    outcome = o;
  });
  EXPECT_EQ(w->state(), WorkerState::kBusy);
  ASSERT_TRUE(testing::RunUntil(io, [&] { return got.has_value(); }));
  ASSERT_TRUE(got->ok()) << got->status().ToString();
  EXPECT_EQ(outcome, CallOutcome::kOk);
  ASSERT_EQ(got->value().size(), 1u);
  EXPECT_EQ(got->value()[0].name, "y");
  double v;
  std::memcpy(&v, got->value()[0].raw.data(), 8);
  EXPECT_EQ(v, 42.0);
  EXPECT_EQ(w->state(), WorkerState::kReady);
  EXPECT_EQ(rec.ready, 2);
  EXPECT_EQ(w->requests_served(), 1u);
  w->Stop(std::chrono::seconds(5), DeathCause::kStopped);
  ASSERT_TRUE(testing::RunUntil(io, [&] { return rec.dead == 1; }));
}

TEST_F(ProcessWorkerTest, AnswerWithWrongIdKillsWorkerAndFailsTheRequest) {
  std::string infer_wire;
  ASSERT_TRUE(EncodeFrame(InferFrame(1), &infer_wire).ok());
  auto w = Make("printf '" + HelloBytes() + "' >&4; head -c " + std::to_string(infer_wire.size()) +
                " <&3 >/dev/null; printf '" + PrintfBytes(ResultFrame(77)) + "' >&4; sleep 30");
  ASSERT_TRUE(testing::RunUntil(io, [&] { return rec.ready == 1; }));
  std::optional<StatusOr<std::vector<Tensor>>> got;
  std::optional<CallOutcome> outcome;
  w->Infer(ZeroInput(), Parameters{}, "req-9", [&](StatusOr<std::vector<Tensor>> r, CallOutcome o) {
    got = std::move(r);
    outcome = o;
  });
  ASSERT_TRUE(testing::RunUntil(io, [&] { return got.has_value() && rec.dead == 1; }));
  ASSERT_FALSE(got->ok());
  EXPECT_EQ(outcome, CallOutcome::kProtocolError);
  EXPECT_EQ(rec.cause, DeathCause::kMalformed);
  EXPECT_EQ(got->status().code(), StatusCode::kUnavailable);
  const std::string& m = got->status().message();
  EXPECT_NE(m.find("req-9"), std::string::npos) << m;
  EXPECT_NE(m.find("unexpected frame"), std::string::npos) << m;
  EXPECT_NE(m.find("signal 9"), std::string::npos) << m;
}

// Each way a call can end reports its own outcome; only a death on its own
// and a protocol violation are backend failures for the pool's breaker.
class CallOutcomeTest : public ProcessWorkerTest {
 protected:
  // Starts a worker that says Hello, reads one Infer, then runs `then`.
  CallOutcome RunOne(const std::string& then, Status* status = nullptr) {
    std::string infer_wire;
    EXPECT_TRUE(EncodeFrame(InferFrame(1), &infer_wire).ok());
    auto w = Make("printf '" + HelloBytes() + "' >&4; head -c " +
                  std::to_string(infer_wire.size()) + " <&3 >/dev/null; " + then);
    EXPECT_TRUE(testing::RunUntil(io, [&] { return rec.ready == 1; }));
    std::optional<CallOutcome> outcome;
    w->Infer(ZeroInput(), Parameters{}, "req-o",
             [&](StatusOr<std::vector<Tensor>> r, CallOutcome o) {
               if (status) *status = r.status();
               outcome = o;
             });
    EXPECT_TRUE(testing::RunUntil(io, [&] { return outcome.has_value(); }));
    w->Kill(Unavailable("test over"), DeathCause::kStopped);
    EXPECT_TRUE(testing::RunUntil(io, [&] { return rec.dead == 1; }));
    return outcome.value_or(CallOutcome::kNotRun);
  }
  static std::string ErrorFrame(bool invalid_input) {
    Frame f;
    f.set_id(1);
    f.mutable_error()->set_message("nope");
    f.mutable_error()->set_invalid_input(invalid_input);
    return PrintfBytes(f);
  }
};

TEST_F(CallOutcomeTest, ModelFlaggedInputIsInvalidInput) {
  Status s;
  EXPECT_EQ(RunOne("printf '" + ErrorFrame(true) + "' >&4; exec cat <&3 >/dev/null", &s),
            CallOutcome::kInvalidInput);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(IsBackendFailure(CallOutcome::kInvalidInput));
}

TEST_F(CallOutcomeTest, ModelRaisedErrorIsAModelErrorNotABackendFailure) {
  Status s;
  EXPECT_EQ(RunOne("printf '" + ErrorFrame(false) + "' >&4; exec cat <&3 >/dev/null", &s),
            CallOutcome::kModelError);
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_FALSE(IsBackendFailure(CallOutcome::kModelError));
}

TEST_F(CallOutcomeTest, DeathMidRequestIsAWorkerDeath) {
  Status s;
  EXPECT_EQ(RunOne("exit 7", &s), CallOutcome::kWorkerDied);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_TRUE(IsBackendFailure(CallOutcome::kWorkerDied));
}

TEST_F(CallOutcomeTest, MalformedFrameMidRequestIsAProtocolError) {
  EXPECT_EQ(RunOne("printf '\\377\\377\\377\\377junk' >&4; sleep 30"), CallOutcome::kProtocolError);
  EXPECT_TRUE(IsBackendFailure(CallOutcome::kProtocolError));
}

TEST_F(CallOutcomeTest, RequestOfAWorkerTheDaemonKillsIsAbandoned) {
  std::string infer_wire;
  ASSERT_TRUE(EncodeFrame(InferFrame(1), &infer_wire).ok());
  auto w = Make("printf '" + HelloBytes() + "' >&4; exec sleep 30");
  ASSERT_TRUE(testing::RunUntil(io, [&] { return rec.ready == 1; }));
  std::optional<CallOutcome> outcome;
  w->Infer(ZeroInput(), Parameters{}, "req-k",
           [&](StatusOr<std::vector<Tensor>>, CallOutcome o) { outcome = o; });
  w->Kill(Status(StatusCode::kDeadlineExceeded, "over time"), DeathCause::kTimeout);
  ASSERT_TRUE(testing::RunUntil(io, [&] { return outcome.has_value() && rec.dead == 1; }));
  EXPECT_EQ(outcome, CallOutcome::kAbandoned);
  EXPECT_FALSE(IsBackendFailure(CallOutcome::kAbandoned));
}

// Interrupt(): the native host gets SIGINT by sigqueue() carrying the
// frame id of the call in flight; its answer is then the daemon's doing.
class InterruptTest : public ProcessWorkerTest {
 protected:
  std::shared_ptr<ProcessWorker> MakeProbe(bool interruptible, const std::string& wait_ms) {
    WorkerOptions o;
    o.model = "fake";
    o.version = "1";
    o.spawn.argv = {testing::BinaryDir() + "/sigint_probe_worker", wait_ms};
    o.spawn.env = {"PATH=/usr/bin:/bin"};
    // The probe is this build's own program: in a sanitizer build its ASan
    // shadow memory cannot be reserved under the default RLIMIT_AS.
    o.spawn.limits.address_space_bytes = ResourceLimits::kUnlimited;
    o.interruptible = interruptible;
    auto w = std::make_shared<ProcessWorker>(io, reaper, time, o, &rec);
    w->Start();
    return w;
  }
  // Sends one request; returns its answer once it came.
  std::pair<Status, CallOutcome> Call(ProcessWorker& w, bool interrupt, bool* sent = nullptr) {
    std::optional<std::pair<Status, CallOutcome>> answer;
    w.Infer(ZeroInput(), Parameters{}, "req-i",
            [&](StatusOr<std::vector<Tensor>> r, CallOutcome o) { answer.emplace(r.status(), o); });
    const bool interrupted = interrupt && w.Interrupt();
    if (sent) *sent = interrupted;
    EXPECT_TRUE(testing::RunUntil(io, [&] { return answer.has_value(); }));
    return answer.value_or(std::pair{Internal("no answer"), CallOutcome::kNotRun});
  }
};

TEST_F(InterruptTest, SendsSigintCarryingTheFrameIdOfTheCallInFlight) {
  auto w = MakeProbe(true, "10000");
  ASSERT_TRUE(testing::RunUntil(io, [&] { return rec.ready == 1; }));
  EXPECT_FALSE(w->Interrupt());      // nothing in flight: nothing sent
  for (int id = 1; id <= 2; ++id) {  // the second call names the second frame id
    bool sent = false;
    auto [status, outcome] = Call(*w, true, &sent);
    EXPECT_TRUE(sent);
    EXPECT_EQ(status.code(), StatusCode::kInternal);
    EXPECT_NE(status.message().find("was interrupted: interrupted: code=queue value=" +
                                    std::to_string(id)),
              std::string::npos)
        << status.message();
    // The pool accounts for it: neither a model error nor a backend failure.
    EXPECT_EQ(outcome, CallOutcome::kAbandoned);
    EXPECT_EQ(w->state(), WorkerState::kReady);  // the worker stays
  }
  EXPECT_EQ(rec.dead, 0);
  w->Stop(std::chrono::seconds(5), DeathCause::kStopped);
  ASSERT_TRUE(testing::RunUntil(io, [&] { return rec.dead == 1; }));
}

TEST_F(InterruptTest, ScriptRuntimesAreNeverSignalled) {
  // The probe answers "no interrupt" when its short wait ends without one.
  auto w = MakeProbe(false, "50");
  ASSERT_TRUE(testing::RunUntil(io, [&] { return rec.ready == 1; }));
  bool sent = true;
  auto [status, outcome] = Call(*w, true, &sent);
  EXPECT_FALSE(sent);
  EXPECT_EQ(outcome, CallOutcome::kModelError);  // an ordinary error answer
  EXPECT_NE(status.message().find("raised an error: no interrupt"), std::string::npos)
      << status.message();
  w->Stop(std::chrono::seconds(5), DeathCause::kStopped);
  ASSERT_TRUE(testing::RunUntil(io, [&] { return rec.dead == 1; }));
}

TEST_F(ProcessWorkerTest, GarbageOnTheFramePipeIsMalformedAndKilled) {
  auto w = Make("printf '\\377\\377\\377\\377garbage' >&4; sleep 30");
  ASSERT_TRUE(testing::RunUntil(io, [&] { return rec.dead == 1; }));
  EXPECT_TRUE(rec.never_ready);
  EXPECT_NE(rec.why.message().find("malformed frame"), std::string::npos) << rec.why.message();
  EXPECT_NE(rec.why.message().find("killed by signal 9"), std::string::npos) << rec.why.message();
}

TEST_F(ProcessWorkerTest, EarlyExitReportsCodeAndStderrTail) {
  auto w = Make("echo 'cannot load libfoo' >&2; exit 3");
  ASSERT_TRUE(testing::RunUntil(io, [&] { return rec.dead == 1; }));
  EXPECT_TRUE(rec.never_ready);
  EXPECT_NE(rec.why.message().find("exited with code 3"), std::string::npos) << rec.why.message();
  EXPECT_NE(rec.why.message().find("cannot load libfoo"), std::string::npos) << rec.why.message();
}

TEST_F(ProcessWorkerTest, NoHelloWithinStartupTimeoutIsKilled) {
  // The timeout runs on simulated time; the process is killed and reaped for real.
  testing::SimulatedTimeSource sim(io);
  auto w = Make("exec sleep 30", std::chrono::milliseconds(100), &sim);
  sim.Advance(std::chrono::milliseconds(99));
  EXPECT_EQ(w->state(), WorkerState::kStarting);
  sim.Advance(std::chrono::milliseconds(1));
  EXPECT_EQ(w->state(), WorkerState::kDying);  // SIGKILL sent at the timeout
  ASSERT_TRUE(testing::RunUntil(io, [&] { return rec.dead == 1; }));
  EXPECT_EQ(rec.cause, DeathCause::kStartFailed);
  EXPECT_NE(rec.why.message().find("no Hello within 100 ms"), std::string::npos)
      << rec.why.message();
}

TEST_F(ProcessWorkerTest, MissingProgramIsAStartError) {
  WorkerOptions o;
  o.model = "fake";
  o.version = "1";
  o.spawn.argv = {"/nonexistent/interpreter"};
  auto w = std::make_shared<ProcessWorker>(io, reaper, time, o, &rec);
  w->Start();
  ASSERT_TRUE(testing::RunUntil(io, [&] { return rec.dead == 1; }));
  EXPECT_NE(rec.why.message().find("execve"), std::string::npos) << rec.why.message();
}

}  // namespace
}  // namespace modelgate
