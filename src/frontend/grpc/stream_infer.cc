#include "frontend/grpc/stream_infer.h"

#include <vector>

#include "common/status_map.h"

namespace modelgate {

namespace {

grpc::Status ToGrpc(const Status& s) {
  return grpc::Status(static_cast<grpc::StatusCode>(GrpcCodeOf(s.code())),
                      BoundedErrorMessage(s.message()));
}

}  // namespace

StreamInferReactor::StreamInferReactor(Start start, const Status& refused)
    : start_(std::move(start)) {
  if (!refused.ok()) {
    {
      MutexLock lock(mu_);
      finished_ = true;
    }
    Finish(ToGrpc(refused));
    return;
  }
  StartRead(&request_);
}

void StreamInferReactor::OnReadDone(bool ok) {
  Actions actions;
  if (!ok) {  // the client half-closed, or the call is over
    {
      MutexLock lock(mu_);
      reads_done_ = true;
      MaybeFinish(actions);
      Run(actions);
    }
    return;
  }
  auto pending = std::make_shared<Pending>();
  pending->model = request_.model_name();
  pending->version = request_.model_version();
  uint64_t ticket = 0;
  {
    MutexLock lock(mu_);
    ticket = next_ticket_++;
    ++in_flight_;
    handles_[ticket] = nullptr;  // OnAnswer removes it
  }
  refs_.fetch_add(1, std::memory_order_relaxed);  // released by OnAnswer
  auto handle = start_(request_, pending->message.mutable_infer_response(),
                       [this, ticket, pending](const Status& s, const std::string& id) {
                         OnAnswer(ticket, pending, s, id);
                       });
  bool cancel = false;
  {
    MutexLock lock(mu_);
    if (auto it = handles_.find(ticket); it != handles_.end()) {
      // Not answered yet: keep the handle to withdraw it on cancel.
      it->second = handle;
      cancel = finished_;
    }
    if (finished_) {
      // Cancelled meanwhile: read no more.
    } else if (Outstanding() < kMaxInFlight) {
      actions.read = true;
    } else {
      read_paused_ = true;
    }
    Run(actions);
  }
  if (cancel && handle) handle->Cancel();
}

void StreamInferReactor::OnAnswer(uint64_t ticket, const std::shared_ptr<Pending>& pending,
                                  const Status& s, const std::string& request_id) {
  inference::ModelStreamInferResponse& m = pending->message;
  auto* r = m.mutable_infer_response();
  if (!s.ok()) {
    r->Clear();
    r->set_model_name(pending->model);
    r->set_model_version(pending->version);
    m.set_error_message(std::string(GrpcCodeName(s.code())) + ": " +
                        BoundedErrorMessage(s.message()));
  }
  r->set_id(request_id);
  Actions actions;
  {
    MutexLock lock(mu_);
    handles_.erase(ticket);
    --in_flight_;
    if (!finished_) {
      writes_.push_back(std::move(m));
      if (!writing_) {
        writing_ = true;
        actions.write = &writes_.front();
      }
      // Reading resumes once answers are written (OnWriteDone): an answer
      // the client does not read still counts against kMaxInFlight.
    }
    MaybeFinish(actions);
    Run(actions);
  }
  Unref();
}

void StreamInferReactor::OnWriteDone(bool ok) {
  std::vector<std::shared_ptr<InferHandle>> withdraw;
  Actions actions;
  {
    MutexLock lock(mu_);
    writes_.pop_front();
    if (!ok) {
      // The call is broken: nothing more can be written, so the requests
      // still pending are withdrawn and the call ends (never OK).
      writes_.clear();
      writing_ = false;
      reads_done_ = true;
      if (!finished_) {
        finished_ = true;
        actions.finish =
            grpc::Status(grpc::StatusCode::UNAVAILABLE, "writing to the stream failed");
      }
      for (auto& [ticket, handle] : handles_) {
        if (handle) withdraw.push_back(handle);
      }
    } else {
      if (!writes_.empty() && !finished_) {
        actions.write = &writes_.front();
      } else {
        writing_ = false;
      }
      if (read_paused_ && !reads_done_ && !finished_ && Outstanding() < kMaxInFlight) {
        read_paused_ = false;
        actions.read = true;
      }
    }
    MaybeFinish(actions);
    Run(actions);
  }
  for (auto& h : withdraw) h->Cancel();
}

void StreamInferReactor::OnCancel() {
  std::vector<std::shared_ptr<InferHandle>> withdraw;
  Actions actions;
  {
    MutexLock lock(mu_);
    if (!finished_) {
      finished_ = true;
      actions.finish = grpc::Status(grpc::StatusCode::CANCELLED, "the stream was cancelled");
    }
    for (auto& [ticket, handle] : handles_) {
      if (handle) withdraw.push_back(handle);
    }
    Run(actions);
  }
  for (auto& h : withdraw) h->Cancel();
}

void StreamInferReactor::OnDone() { Unref(); }

void StreamInferReactor::MaybeFinish(Actions& actions) {
  if (finished_ || !reads_done_ || in_flight_ > 0 || writing_) return;
  finished_ = true;
  actions.finish = grpc::Status::OK;
}

void StreamInferReactor::Run(const Actions& actions) {
  if (actions.write) StartWrite(actions.write);
  if (actions.read) StartRead(&request_);
  if (actions.finish) Finish(*actions.finish);
}

void StreamInferReactor::Unref() {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
}

}  // namespace modelgate
