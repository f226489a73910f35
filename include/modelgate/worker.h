// Worker: one long-lived interpreter process serving one model version.
//
// State machine:  kStarting --Hello--> kReady --Infer--> kBusy --answer--> kReady
//                 any state --pipe EOF / exit / malformed frame / Kill / Stop--> kDying
//                 kDying --process reaped (and its stderr drained)--> kDead
//
// Threading: every method and every callback runs on the io thread that owns
// the worker. Ownership: the caller keeps the worker alive (shared_ptr) until
// OnWorkerDead; a request handed to Infer is owned by the worker until its
// `done` runs, which happens exactly once and never from inside Infer itself.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "modelgate/model_config.h"
#include "modelgate/parameters.h"
#include "modelgate/status.h"
#include "modelgate/tensor.h"

namespace modelgate {

enum class WorkerState { kStarting, kReady, kBusy, kDying, kDead };
// Arrays indexed by WorkerState (workers per state) have this many entries.
inline constexpr size_t kWorkerStateCount = static_cast<size_t>(WorkerState::kDead) + 1;
std::string_view WorkerStateName(WorkerState state);

// Why a worker ended, for supervision and the restart metric.
enum class DeathCause {
  kStartFailed,  // died or was killed before its Hello (load error, no Hello, exec failed)
  kCrash,        // exited or was killed by a signal on its own, or closed its pipe
  kMalformed,    // wrote a frame that does not parse or does not fit the conversation
  kTimeout,      // killed because its request ran past the deadline
  kRecycle,      // stopped after max requests or above max RSS
  kStopped,      // stopped for shutdown or unload
};
std::string_view DeathCauseName(DeathCause cause);

// How a worker call ended, decided by the worker from what happened (never
// guessed from a status code). The pool's circuit breaker counts only the
// outcomes for which IsBackendFailure() holds.
enum class CallOutcome {
  kOk,             // the model answered
  kInvalidInput,   // the model flagged the input (INVALID_ARGUMENT): the client's fault
  kModelError,     // model code raised (INTERNAL): clients can trigger these with inputs
  kNotRun,         // the call never reached the process (not ready, request not encodable)
  kAbandoned,      // the daemon stopped, killed or interrupted the call itself (shutdown,
                   // unload, deadline): the pool accounts for it, the worker does not
  kWorkerDied,     // the process died on its own mid-request (crash, kill -9, closed pipe)
  kProtocolError,  // the worker wrote a malformed or out-of-turn frame, or an undecodable result
};
constexpr bool IsBackendFailure(CallOutcome outcome) {
  return outcome == CallOutcome::kWorkerDied || outcome == CallOutcome::kProtocolError;
}

// A client's answer (the pool's callers).
using InferDone = std::function<void(StatusOr<std::vector<Tensor>>)>;
// A worker call's answer with its outcome.
using WorkerDone = std::function<void(StatusOr<std::vector<Tensor>> result, CallOutcome outcome)>;

class Worker {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    // The worker became idle: after its Hello, or after answering a request.
    virtual void OnWorkerReady(Worker& worker) = 0;
    // The process is gone and reaped; any in-flight request was already
    // answered. `why` names the cause (exit code or signal, stderr tail, load
    // error). Called exactly once; the listener may drop the worker then.
    virtual void OnWorkerDead(Worker& worker, const Status& why, DeathCause cause) = 0;
  };

  virtual ~Worker() = default;

  virtual void Start() = 0;
  virtual WorkerState state() const = 0;
  virtual int pid() const = 0;
  virtual uint64_t requests_served() const = 0;

  // Precondition: state() == kReady. Answers with the model's outputs, or
  // INVALID_ARGUMENT (model flagged the input), INTERNAL (model raised), or
  // UNAVAILABLE (the worker died; the message names the exit and stderr tail),
  // always with the CallOutcome that says which of these happened.
  // `parameters` reach the model's predict function as they are.
  virtual void Infer(std::vector<Tensor> inputs, const Parameters& parameters,
                     std::string request_id, WorkerDone done) = 0;

  // Asks the model call in flight to stop where its interpreter next checks
  // (the native host's R user interrupt or Python KeyboardInterrupt). The
  // call still answers through its `done` (an error, or its result if it was
  // already finishing), and the worker stays. False when nothing was sent:
  // no call in flight, or a worker that cannot be interrupted (the script
  // runtimes die on SIGINT); the caller then waits or kills as before.
  virtual bool Interrupt() { return false; }

  // SIGTERM now, SIGKILL after a short grace (kKillGrace). An in-flight
  // request is answered with `why` once the process is reaped.
  virtual void Kill(Status why, DeathCause cause) = 0;
  static constexpr std::chrono::milliseconds kKillGrace{500};

  // Graceful stop: EOF on the worker's input pipe, SIGTERM after `grace`,
  // SIGKILL after twice `grace`.
  virtual void Stop(std::chrono::milliseconds grace, DeathCause cause) = 0;

  // Resident memory of the process in bytes; -1 when unknown.
  virtual int64_t RssBytes() const = 0;

  // The signature the worker's model version serves: config.json's merged
  // with what its code declared in the Hello (a Hello that disagrees with
  // config.json fails the start). Null before the Hello, and for workers
  // that check none (test fakes).
  virtual std::shared_ptr<const ModelSignature> signature() const { return nullptr; }
};

}  // namespace modelgate
