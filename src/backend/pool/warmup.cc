#include "backend/pool/warmup.h"

namespace modelgate {

Warmup::Warmup(const ModelConfig& config, TimeSource& time) : config_(config), time_(time) {}

void Warmup::Begin(const std::shared_ptr<Worker>& worker) {
  const Worker* key = worker.get();
  auto entry = std::make_unique<Entry>();
  entry->worker = worker;
  entry->timer = time_.CreateTimer([this, key] {
    auto it = entries_.find(key);
    if (it == entries_.end() || it->second->phase != Phase::kRunning) return;
    Entry& e = *it->second;
    Fail(e, "warm-up request " + std::to_string(e.next) + " did not finish within " +
                std::to_string(config_.startup_timeout_ms) + " ms (startup_timeout_ms)");
  });
  entry->timer->Enable(std::chrono::milliseconds(config_.startup_timeout_ms));
  Entry& e = *entry;
  entries_[key] = std::move(entry);
  Send(e, *worker);
}

void Warmup::Send(Entry& entry, Worker& worker) {
  const size_t index = entry.next;
  // Inputs are copied: every new worker runs the same requests.
  worker.Infer(config_.warmup[index].inputs, Parameters{}, "warmup-" + std::to_string(index),
               [token = std::weak_ptr<Warmup*>(self_), key = &worker, index](
                   StatusOr<std::vector<Tensor>> result, CallOutcome) {
                 if (auto self = token.lock()) (*self)->OnAnswer(key, index, result);
               });
}

void Warmup::OnAnswer(const Worker* key, size_t index,
                      const StatusOr<std::vector<Tensor>>& result) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;  // forgotten: stopped on purpose
  Entry& entry = *it->second;
  if (entry.phase != Phase::kRunning || entry.next != index) return;
  if (!result.ok()) {
    Fail(entry,
         "warm-up request " + std::to_string(index) + " failed: " + result.status().message());
    return;
  }
  auto worker = entry.worker.lock();
  if (!worker) return;
  if (++entry.next < config_.warmup.size()) {
    // Called from inside the worker's answer: the worker is idle again.
    Send(entry, *worker);
    return;
  }
  entry.phase = Phase::kDone;
  entry.timer->Disable();
}

void Warmup::Fail(Entry& entry, std::string why) {
  entry.phase = Phase::kFailed;
  entry.failure = std::move(why);
  entry.timer->Disable();
  // A no-op if the worker is already dying (it died mid-request).
  if (auto worker = entry.worker.lock()) {
    worker->Kill(Unavailable(entry.failure), DeathCause::kStartFailed);
  }
}

Warmup::Phase Warmup::phase(const Worker& worker) const {
  auto it = entries_.find(&worker);
  return it == entries_.end() ? Phase::kNone : it->second->phase;
}

std::optional<std::string> Warmup::Failure(const Worker& worker) const {
  auto it = entries_.find(&worker);
  if (it == entries_.end() || it->second->phase != Phase::kFailed) return std::nullopt;
  return it->second->failure;
}

void Warmup::Forget(const Worker& worker) { entries_.erase(&worker); }

}  // namespace modelgate
