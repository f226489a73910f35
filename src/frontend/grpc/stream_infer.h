// StreamInferReactor: one ModelStreamInfer call (Triton's streaming
// extension). Every request read from the stream is answered by exactly one
// ModelStreamInferResponse carrying the request's id: the result, or an
// error_message (a bad request does not end the stream). Answers are written
// as they finish, so their order may differ from the requests'. At most
// kMaxInFlight requests of one stream are queued, running or answered but
// not yet written: reading pauses at the bound and resumes as answers are
// written, so a client can neither flood the queues through one stream nor
// pile up answers it never reads (gRPC's flow control holds it back).
// When the client half-closes, the call ends OK after the last answer is
// written; when it cancels, its pending requests are withdrawn and the call
// ends CANCELLED at once (their late answers are dropped).
//
// Threading: gRPC reactions on gRPC's threads, answers on the io thread; all
// state and every gRPC Start*/Finish call under mu_, so nothing is started
// after Finish. The
// reactor deletes itself once gRPC is done with it (OnDone) and every
// started request has been answered.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/mutex.h"
#include "grpc_predict_v2.grpc.pb.h"
#include "modelgate/inference.h"
#include "modelgate/status.h"

namespace modelgate {

class StreamInferReactor final
    : public grpc::ServerBidiReactor<inference::ModelInferRequest,
                                     inference::ModelStreamInferResponse> {
 public:
  // Requests of one stream queued or running at once.
  static constexpr size_t kMaxInFlight = 32;
  static_assert(kMaxInFlight > 0);

  // Answers one request: fills `response` when OK, then calls `done` exactly
  // once (possibly before returning) with the outcome and the request id it
  // used. Returns the handle that withdraws it, or null when answered already.
  using Done = std::function<void(const Status&, const std::string& request_id)>;
  using Start = std::function<std::shared_ptr<InferHandle>(
      const inference::ModelInferRequest& request, inference::ModelInferResponse* response,
      Done done)>;

  // Starts reading, or ends the call with `refused` when it is not OK
  // (authentication).
  StreamInferReactor(Start start, const Status& refused);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  struct Pending {
    inference::ModelStreamInferResponse message;
    std::string model, version;
  };
  // What to tell gRPC before mu_ is released.
  struct Actions {
    bool read = false;
    const inference::ModelStreamInferResponse* write = nullptr;
    std::optional<grpc::Status> finish;
  };

  void OnAnswer(uint64_t ticket, const std::shared_ptr<Pending>& pending, const Status& s,
                const std::string& request_id) EXCLUDES(mu_);
  // Ends the call OK once the client half-closed and everything is written.
  void MaybeFinish(Actions& actions) REQUIRES(mu_);
  // gRPC never runs a reaction inline from these calls (as in gRPC's
  // route_guide example, they are made under the lock), so holding mu_
  // orders every Start* before Finish.
  void Run(const Actions& actions) REQUIRES(mu_);
  // Requests counted against kMaxInFlight.
  size_t Outstanding() const REQUIRES(mu_) { return in_flight_ + writes_.size(); }
  void Unref();

  Start start_;
  inference::ModelInferRequest request_;  // the read in progress fills it
  std::atomic<int> refs_{1};              // gRPC until OnDone, + one per request in flight
  Mutex mu_;
  uint64_t next_ticket_ GUARDED_BY(mu_) = 0;
  std::map<uint64_t, std::shared_ptr<InferHandle>> handles_ GUARDED_BY(mu_);
  size_t in_flight_ GUARDED_BY(mu_) = 0;
  bool read_paused_ GUARDED_BY(mu_) = false;  // at kMaxInFlight outstanding
  bool reads_done_ GUARDED_BY(mu_) = false;
  bool writing_ GUARDED_BY(mu_) = false;
  bool finished_ GUARDED_BY(mu_) = false;
  // Answers waiting to be written; the front one is being written. A deque
  // keeps their addresses while more are added.
  std::deque<inference::ModelStreamInferResponse> writes_ GUARDED_BY(mu_);
};

}  // namespace modelgate
