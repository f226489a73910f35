// Placeholder until the embedded R runtime lands: fails every load with a
// clear message, so a daemon pointed at it reports why instead of hanging.
#include "runtime.h"

namespace modelgate::worker_host {
namespace {

class UnbuiltR final : public Runtime {
 public:
  bool Load(const HostOptions&, worker::v1::Hello*, worker::v1::Error* error) override {
    error->set_message("model load failed: the embedded R runtime is not built yet");
    return false;
  }
  void Infer(worker::v1::Infer*, worker::v1::Frame* reply) override {
    reply->mutable_error()->set_message("the embedded R runtime is not built yet");
  }
  void Interrupt() override {}
  void ClearInterrupt() override {}
  void FlushOutput() override {}
};

}  // namespace

std::unique_ptr<Runtime> MakeRRuntime() { return std::make_unique<UnbuiltR>(); }

}  // namespace modelgate::worker_host
