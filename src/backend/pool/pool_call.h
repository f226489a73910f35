// The units the pool's parts pass between them: a client's request
// (PoolRequest), its life in the pool (Call), and one worker call's members
// (Batch). What the pool reports to metrics (PoolEvents). io thread only.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modelgate/parameters.h"
#include "modelgate/reject_reason.h"
#include "modelgate/tensor.h"
#include "modelgate/time_source.h"
#include "modelgate/worker.h"

namespace modelgate {

struct PoolRequest {
  std::vector<Tensor> inputs;
  Parameters parameters;  // forwarded to the model; a batch's members share them
  std::string request_id;
  std::optional<SteadyTime> deadline;
  // The deadline is the client's own and earlier than the model's configured
  // one: a worker killed for overrunning it is restarted, but that says
  // nothing about the backend's health (no breaker failure), or any client
  // could open the breaker with valid, slow requests and tiny deadlines.
  bool client_shortened_deadline = false;
  InferDone done;
};

// What the pool reports to metrics; every callback runs on the io thread.
struct PoolEvents {
  std::function<void(RejectReason reason)> rejected;
  std::function<void(DeathCause cause)> worker_restarted;
  // A running call past its deadline was interrupted (Worker::Interrupt).
  std::function<void()> worker_interrupted;
  std::function<void()> changed;  // readiness
  // A worker call started with `batch` requests.
  std::function<void(size_t batch)> dispatched;
  // A request's worker call ended: time queued, time computing.
  std::function<void(double queue_seconds, double compute_seconds)> completed;
  // The model answered a worker call (outcome kOk; splitting a batch's rows
  // may still fail): how many requests it served, and how long it took.
  std::function<void(size_t batch, double compute_seconds)> executed;
};

struct Call {
  uint64_t ticket = 0;
  PoolRequest request;
  SteadyTime admitted{};
  SteadyTime started{};
  int64_t rows = 0;  // dim 0 of the inputs, kept for splitting a batch
  bool answered = false;
  bool breaker_settled = false;  // its breaker permit ended (SettleBreaker)
  // Runs in a worker call of its own: its batch failed on the model's error
  // or invalid input, so each member is retried alone to get its own answer.
  bool alone = false;
};
using CallPtr = std::shared_ptr<Call>;
// The requests of one worker call: one, or several when batching.
using Batch = std::vector<CallPtr>;

// The ids of a worker call's requests, as its worker tags its output lines
// and its errors: one id, or a batch's ids separated by single spaces (an id
// never holds one: request_id.h), at most kMaxBatchIdsNamed of them, then
// "(+N more)", so a batch of many requests never makes a huge id.
inline constexpr size_t kMaxBatchIdsNamed = 16;
std::string BatchRequestIds(const Batch& batch);

}  // namespace modelgate
