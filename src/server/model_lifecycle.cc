// InferenceCore's model lifecycle: load as swap-and-drain with rollback,
// unload, and rescans of the repository (poll, SIGHUP). Everything here runs
// on the io thread except the file work (scan, snapshot, signatures), which
// runs on files_ and posts its result back.
#include <algorithm>
#include <boost/asio/post.hpp>
#include <utility>

#include "common/retry_after.h"
#include "config/version_snapshot.h"
#include "modelgate/log_event.h"
#include "server/inference_core.h"

namespace modelgate {

namespace asio = boost::asio;

namespace {

constexpr const char* kControlModeNone =
    "the model repository is fixed (--model-control-mode none): start the daemon with "
    "--model-control-mode explicit or poll to load and unload models";
// Longest error text a failed load logs (the answer is cut by the front end).
constexpr size_t kMaxLoggedErrorBytes = 1024;

}  // namespace

Status SnapshotEntry(ModelEntry& entry, const std::string& snapshot_root) {
  for (auto& [version, v] : entry.versions) {
    auto snap = SnapshotVersion(entry.config.name, v, snapshot_root);
    if (!snap.ok()) return snap.status();
    v.dir = snap->dir;
    v.fingerprint = snap->fingerprint;
  }
  return Status::Ok();
}

void InferenceCore::LoadModel(const std::string& model, std::optional<std::string> config_json,
                              RepositoryDone done) {
  asio::post(io_,
             [this, model, config_json = std::move(config_json), done = std::move(done)]() mutable {
               if (lifecycle_.mode == ControlMode::kNone)
                 return done(InvalidArgument(kControlModeNone));
               if (shutting_down_.load()) return done(Unavailable("the server is shutting down"));
               if (Status s = CheckModelName(model); !s.ok()) return done(s);
               auto& op = loads_[model];
               if (op) {
                 op->followups.emplace_back(std::move(config_json), std::move(done));
                 return;
               }
               op = std::make_unique<LoadOp>();
               op->id = next_load_id_++;
               op->waiters.push_back(std::move(done));
               StartLoad(model, std::move(config_json));
             });
}

void InferenceCore::StartLoad(const std::string& model, std::optional<std::string> config_json) {
  LogInfo("model load", {{"model", model}, {"config_parameter", config_json.has_value()}});
  asio::post(
      files_, [this, model, id = loads_.at(model)->id, config_json = std::move(config_json)] {
        ScannedModel scanned;
        // The signature is taken first: an edit during the scan shows at the next poll.
        scanned.signature = StatSignature(lifecycle_.repository + "/" + model);
        auto entry = ScanModel(lifecycle_.repository, model, config_json);
        StatusOr<ScannedModel> result = entry.status();
        if (entry.ok()) {
          scanned.entry = std::move(entry).value();
          Status s = lifecycle_.snapshot_root.empty()
                         ? Status::Ok()
                         : SnapshotEntry(scanned.entry, lifecycle_.snapshot_root);
          if (s.ok()) ClaimSnapshots(scanned.entry);
          result = s.ok() ? StatusOr<ScannedModel>(std::move(scanned)) : StatusOr<ScannedModel>(s);
        } else if (entry.status().code() != StatusCode::kNotFound) {
          // Remember the failed content so a poll does not retry it unchanged.
          std::string sig = scanned.signature;
          asio::post(io_, [this, model, sig] { failed_signatures_[model] = sig; });
        }
        asio::post(io_, [this, model, id, result = std::move(result)]() mutable {
          OnScanned(model, id, std::move(result));
        });
      });
}

void InferenceCore::OnScanned(const std::string& model, uint64_t load_id,
                              StatusOr<ScannedModel> scanned) {
  auto found = loads_.find(model);
  if (found == loads_.end() || found->second->id != load_id) {  // ended by Stop() or an unload
    if (scanned.ok()) {
      for (const auto& [version, v] : scanned->entry.versions) ReleaseSnapshot(v.dir);
    }
    return;
  }
  LoadOp& op = *found->second;
  if (!scanned.ok()) {
    // Not for a name with no directory: clients cannot grow the label set.
    if (scanned.status().code() != StatusCode::kNotFound) RecordLoad(model, 0, false);
    return FinishLoad(model, scanned.status());
  }
  if (shutting_down_.load()) {
    for (const auto& [version, v] : scanned->entry.versions) ReleaseSnapshot(v.dir);
    return FinishLoad(model, Unavailable("the server is shutting down"));
  }
  op.scanned = std::move(scanned).value();
  std::map<int64_t, ServedPtr> current;
  {
    MutexLock lock(mu_);
    if (auto it = models_.find(model); it != models_.end()) current = it->second->serving;
  }
  for (auto& [version, v] : op.scanned->entry.versions) {
    auto it = current.find(version);
    // Unchanged content keeps its workers, unless they cannot load: a load
    // is what retries a version that gave up.
    if (it != current.end() && !v.fingerprint.empty() && it->second->fingerprint == v.fingerprint &&
        it->second->pool && (it->second->pool->ready() || it->second->pool->load_error().empty())) {
      op.next[version] = it->second;  // unchanged: keeps its workers (and its claim)
      ReleaseSnapshot(v.dir);
      continue;
    }
    ServedPtr served;
    {
      MutexLock lock(mu_);
      served = MakeVersion(model, v);
    }
    op.next[version] = served;
    op.started.push_back(served);
  }
  op.outstanding = op.started.size();
  if (op.outstanding == 0) return SwitchTo(model, op);
  for (const ServedPtr& served : op.started) {
    served->pool->Start();
    served->pool->NotifyWhenLoaded(
        [this, model, served](Status s) { OnVersionLoaded(model, served, s); });
  }
}

void InferenceCore::OnVersionLoaded(const std::string& model, const ServedPtr& served,
                                    const Status& status) {
  auto it = loads_.find(model);
  if (it == loads_.end()) return;
  LoadOp& op = *it->second;
  // A pool of a load that ended (Stop, an unload) reports to nobody.
  if (std::find(op.started.begin(), op.started.end(), served) == op.started.end()) return;
  if (!status.ok() && op.error.ok()) {
    op.error = Internal("model '" + model + "' version " + std::to_string(served->version) +
                        " failed to load: " + status.message());
  }
  RecordLoad(model, served->version, status.ok());
  if (--op.outstanding > 0) return;
  if (op.error.ok() && shutting_down_.load()) op.error = Unavailable("the server is shutting down");
  if (op.error.ok()) return SwitchTo(model, op);
  failed_signatures_[model] = op.scanned->signature;
  // Roll back: the new workers go, the serving versions were never touched.
  for (const ServedPtr& s : op.started) Retire(s);
  FinishLoad(model, op.error);
}

void InferenceCore::SwitchTo(const std::string& model, LoadOp& op) {
  const ModelEntry& entry = op.scanned->entry;
  std::vector<ServedPtr> replaced;
  bool stale = false;
  {
    MutexLock lock(mu_);
    // A kept version must still serve (an unload ends running loads, so
    // this is a guard, not a path).
    for (const auto& [v, served] : op.next) {
      stale = stale || !served->pool || served->phase == ServedVersion::Phase::kDraining;
    }
  }
  if (stale) {
    for (const ServedPtr& s : op.started) Retire(s);
    return FinishLoad(model,
                      Unavailable("model '" + model + "' changed while it loaded; load it again")
                          .WithRetryAfter(kRetryAfterSeconds));
  }
  {
    MutexLock lock(mu_);
    auto& slot = models_[model];
    if (!slot) slot = std::make_shared<ModelSlot>();
    for (auto& [v, served] : slot->serving) {
      auto it = op.next.find(v);
      if (it == op.next.end() || it->second != served) replaced.push_back(served);
    }
    for (auto& [v, served] : op.next) served->phase = ServedVersion::Phase::kServing;
    slot->serving = op.next;
    slot->traffic = entry.config.traffic;
    slot->unserved = entry.unserved;
    slot->unloaded.clear();
    slot->required = entry.config.required;
    slot->signature = op.scanned->signature;
  }
  failed_signatures_.erase(model);
  for (const ServedPtr& served : replaced) Retire(served);
  // A reload empties the response cache of the versions it kept too: what
  // the model reads outside its directory may have changed.
  for (const auto& [v, served] : op.next) {
    if (served->cache) served->cache->Clear();
  }
  std::vector<std::string> versions;
  for (const auto& [v, served] : op.next) {
    versions.push_back(std::to_string(v) + ":" + served->fingerprint);
  }
  std::string joined;
  for (const auto& v : versions) joined += (joined.empty() ? "" : ",") + v;
  LogInfo("model switched", {{"model", model},
                             {"versions", joined},
                             {"started", op.started.size()},
                             {"draining", replaced.size()}});
  if (observer_) observer_(model);
  FinishLoad(model, Status::Ok());
}

void InferenceCore::FinishLoad(const std::string& model, Status status) {
  auto it = loads_.find(model);
  if (it == loads_.end()) return;
  std::vector<RepositoryDone> waiters = std::move(it->second->waiters);
  auto followups = std::move(it->second->followups);
  loads_.erase(it);
  if (!status.ok()) {
    LogWarn("model load failed",
            {{"model", model}, {"error", status.message().substr(0, kMaxLoggedErrorBytes)}});
  }
  for (auto& done : waiters) done(status);
  if (followups.empty()) return;
  if (shutting_down_.load()) {
    for (auto& [config, done] : followups) done(Unavailable("the server is shutting down"));
    return;
  }
  // The first follow-up starts the next load; those with the same config
  // parameter join it, the others follow it in turn.
  auto next = std::make_unique<LoadOp>();
  next->id = next_load_id_++;
  const std::optional<std::string> config = followups.front().first;
  for (auto& [c, done] : followups) {
    if (c == config) {
      next->waiters.push_back(std::move(done));
    } else {
      next->followups.emplace_back(std::move(c), std::move(done));
    }
  }
  loads_[model] = std::move(next);
  StartLoad(model, config);
}

void InferenceCore::Retire(const ServedPtr& served, std::function<void()> drained) {
  served->phase = ServedVersion::Phase::kDraining;
  served->pool->Drain(std::chrono::duration_cast<std::chrono::milliseconds>(kDrainStopGrace),
                      [this, served, drained = std::move(drained)]() mutable {
                        // Not from inside the pool's own callback.
                        asio::post(io_, [this, served, drained = std::move(drained)] {
                          DestroyPool(served);
                          if (drained) drained();
                        });
                      });
}

void InferenceCore::DestroyPool(const ServedPtr& served) {
  std::unique_ptr<ModelPool> pool;
  {
    MutexLock lock(mu_);
    std::erase(live_, served);
    served->events->set_pool(nullptr);
    pool = std::move(served->pool);
  }
  pool.reset();
  ReleaseSnapshot(served->dir);
  LogInfo("model version drained", {{"model", served->model},
                                    {"version", served->version},
                                    {"fingerprint", served->fingerprint}});
  if (observer_) observer_(served->model);
  RunWaiters();
}

void InferenceCore::UnloadModel(const std::string& model, RepositoryDone done) {
  asio::post(io_, [this, model, done = std::move(done)]() mutable {
    if (lifecycle_.mode == ControlMode::kNone) return done(InvalidArgument(kControlModeNone));
    if (Status s = CheckModelName(model); !s.ok()) return done(s);
    Unload(model, false, std::move(done));
  });
}

void InferenceCore::Unload(const std::string& model, bool forget, RepositoryDone done) {
  // The unload wins over a load still running: its new workers go and it
  // answers that the model was unloaded (it would switch the model back in).
  if (auto it = loads_.find(model); it != loads_.end()) {
    std::vector<ServedPtr> started = std::move(it->second->started);
    FinishLoad(model, Unavailable("model '" + model + "' was unloaded while it loaded"));
    for (const ServedPtr& s : started) Retire(s);
  }
  std::vector<ServedPtr> retiring;
  {
    MutexLock lock(mu_);
    auto it = models_.find(model);
    if (it == models_.end()) {
      if (done) done(NotFound("unknown model '" + model + "'"));
      return;
    }
    ModelSlot& slot = *it->second;
    for (auto& [v, served] : slot.serving) {
      retiring.push_back(served);
      slot.unloaded.push_back(v);
    }
    slot.serving.clear();
    if (forget) models_.erase(it);
  }
  LogInfo("model unloaded", {{"model", model},
                             {"draining", retiring.size()},
                             {"reason", forget ? "directory removed" : "unload request"}});
  if (observer_) observer_(model);
  auto left = std::make_shared<size_t>(retiring.size());
  auto finish = std::make_shared<RepositoryDone>(std::move(done));
  if (retiring.empty()) {
    if (*finish) (*finish)(Status::Ok());
    return;
  }
  for (const ServedPtr& served : retiring) {
    Retire(served, [left, finish] {
      if (--*left == 0 && *finish) (*finish)(Status::Ok());
    });
  }
}

void InferenceCore::Rescan() {
  asio::post(io_, [this] {
    if (lifecycle_.mode == ControlMode::kNone || shutting_down_.load()) return;
    if (rescanning_) {
      rescan_again_ = true;  // after this one: it may have listed the directory already
      return;
    }
    rescanning_ = true;
    asio::post(files_, [this] {
      std::map<std::string, std::string> signatures;
      auto names = ListModels(lifecycle_.repository);
      if (!names.ok()) {
        LogWarn("repository rescan failed", {{"error", names.status().message()}});
      } else {
        for (const auto& name : *names) {
          signatures[name] = StatSignature(lifecycle_.repository + "/" + name);
        }
      }
      asio::post(io_, [this, ok = names.ok(), signatures = std::move(signatures)]() mutable {
        rescanning_ = false;
        if (ok) OnRescanned(std::move(signatures));
        if (std::exchange(rescan_again_, false)) Rescan();
      });
    });
  });
}

void InferenceCore::OnRescanned(std::map<std::string, std::string> signatures) {
  std::vector<std::string> load, remove;
  {
    MutexLock lock(mu_);
    for (const auto& [name, sig] : signatures) {
      if (loads_.count(name)) continue;
      auto it = models_.find(name);
      const bool served_as_is = it != models_.end() && it->second->signature == sig;
      auto failed = failed_signatures_.find(name);
      // A load that failed is not retried until the files change again.
      const bool failed_as_is = failed != failed_signatures_.end() && failed->second == sig;
      if (!served_as_is && !failed_as_is) load.push_back(name);
    }
    for (const auto& [name, slot] : models_) {
      if (!signatures.count(name) && !loads_.count(name)) remove.push_back(name);
    }
  }
  // Failed content of directories that are gone is forgotten.
  std::erase_if(failed_signatures_, [&](const auto& f) { return !signatures.count(f.first); });
  for (const auto& name : load) {
    LogInfo("repository changed", {{"model", name}, {"action", "load"}});
    LoadModel(name, std::nullopt, [](Status) {});
  }
  for (const auto& name : remove) {
    LogInfo("repository changed", {{"model", name}, {"action", "remove"}});
    Unload(name, true, {});
  }
}

void InferenceCore::SchedulePoll() {
  if (!poll_timer_) {
    poll_timer_ = time_.CreateTimer([this] {
      Rescan();
      if (!shutting_down_.load()) poll_timer_->Enable(lifecycle_.poll_period);
    });
  }
  poll_timer_->Enable(lifecycle_.poll_period);
}

void InferenceCore::ClaimSnapshots(const ModelEntry& entry) {
  if (lifecycle_.snapshot_root.empty()) return;
  MutexLock lock(snapshot_mu_);
  for (const auto& [version, v] : entry.versions) ++snapshot_claims_[v.dir];
}

void InferenceCore::ReleaseSnapshot(const std::string& dir) {
  if (lifecycle_.snapshot_root.empty()) return;
  {
    MutexLock lock(snapshot_mu_);
    auto it = snapshot_claims_.find(dir);
    if (it == snapshot_claims_.end() || --it->second > 0) return;
    snapshot_claims_.erase(it);
  }
  // Scans claim on files_ too: this runs after any scan that reused `dir`.
  asio::post(files_, [this, dir] {
    {
      MutexLock lock(snapshot_mu_);
      if (snapshot_claims_.count(dir)) return;
    }
    RemoveSnapshot(dir);
  });
}

void InferenceCore::RecordLoad(const std::string& model, int64_t version, bool ok) {
  if (metrics_) metrics_->RecordModelLoad(model, version > 0 ? std::to_string(version) : "", ok);
}

}  // namespace modelgate
