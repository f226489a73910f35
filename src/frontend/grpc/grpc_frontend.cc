#include "frontend/grpc/grpc_frontend.h"

#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <atomic>

#include "common/deadline.h"
#include "common/mutex.h"
#include "common/status_map.h"
#include "frontend/grpc/grpc_codec.h"
#include "frontend/grpc/stream_infer.h"
#include "frontend/triton/triton_messages.h"
#include "modelgate/log_event.h"
#include "modelgate/model_repository.h"
#include "modelgate/version.h"
#include "observability/metrics.h"
#include "observability/request_id.h"
#include "spdlog/spdlog.h"

namespace modelgate {

namespace {

grpc::Status ToGrpcStatus(const Status& s) {
  return grpc::Status(static_cast<grpc::StatusCode>(GrpcCodeOf(s.code())),
                      BoundedErrorMessage(s.message()));
}

// A unary reactor that withdraws its queued request when the client cancels
// (or its deadline passes on the gRPC side). Two owners: gRPC until OnDone,
// and the handler until it has attached the request's handle, so the answer
// may race the handler without a use-after-free.
class InferReactor final : public grpc::ServerUnaryReactor {
 public:
  void Unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }
  void SetHandle(std::shared_ptr<InferHandle> h) EXCLUDES(mu_) {
    MutexLock lock(mu_);
    handle_ = std::move(h);
    if (cancelled_) handle_->Cancel();
  }
  void OnCancel() override EXCLUDES(mu_) {
    MutexLock lock(mu_);
    cancelled_ = true;
    if (handle_) handle_->Cancel();
  }
  void OnDone() override { Unref(); }

 private:
  std::atomic<int> refs_{2};
  Mutex mu_;  // SetHandle (handler thread) against OnCancel (gRPC thread)
  bool cancelled_ GUARDED_BY(mu_) = false;
  std::shared_ptr<InferHandle> handle_ GUARDED_BY(mu_);
};

grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* ctx, const grpc::Status& s) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(s);
  return reactor;
}

// Triton's extensions modelgate leaves out on purpose: a clear UNIMPLEMENTED
// instead of gRPC's empty one.
grpc::ServerUnaryReactor* Unsupported(grpc::CallbackServerContext* ctx, std::string_view rpc,
                                      std::string_view what) {
  return Done(ctx, grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                                "modelgate does not support " + std::string(what) + " (" +
                                    std::string(rpc) +
                                    "); see the README's list of supported "
                                    "extensions"));
}

}  // namespace

GrpcFrontend::GrpcFrontend(InferenceService& service, const TimeSource& time, Metrics* metrics,
                           bool access_log)
    : service_(service),
      time_(time),
      unknown_metrics_(metrics ? &metrics->Unknown() : nullptr),
      access_log_(access_log) {}

GrpcFrontend::~GrpcFrontend() {
  if (server_) server_->Shutdown(std::chrono::system_clock::now());
}

namespace {

std::shared_ptr<grpc::ServerCredentials> Credentials(const GrpcTlsFiles& tls) {
  if (tls.cert.empty()) return grpc::InsecureServerCredentials();
  namespace gx = grpc::experimental;
  auto provider = std::make_shared<gx::FileWatcherCertificateProvider>(
      tls.key, tls.cert, tls.client_ca, GrpcFrontend::kTlsRefreshSeconds);
  gx::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (tls.client_ca.empty()) {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  } else {
    options.watch_root_certs();
    options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  }
  return gx::TlsServerCredentials(options);
}

}  // namespace

Status GrpcFrontend::Authorize(const grpc::CallbackServerContext& ctx, AuthScope needed) const {
  if (!auth_) return Status::Ok();
  std::string_view value;
  auto it = ctx.client_metadata().find("authorization");
  if (it != ctx.client_metadata().end()) value = {it->second.data(), it->second.size()};
  return AuthStatus(auth_->Check(value, needed), needed, "the authorization metadata");
}

StatusOr<int> GrpcFrontend::Start(const std::string& host, int port, int max_message_bytes) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int bound = 0;
  const std::string address =
      (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
  builder.AddListeningPort(address, Credentials(tls_), &bound);
  builder.SetMaxReceiveMessageSize(max_message_bytes);
  builder.SetMaxSendMessageSize(max_message_bytes);
  builder.RegisterService(this);
  server_ = builder.BuildAndStart();
  if (!server_ || bound == 0)
    return Unavailable("gRPC listener on " + address + " failed to start");
  UpdateHealth();
  return bound;
}

void GrpcFrontend::UpdateHealth() {
  if (!server_) return;
  auto* health = server_->GetHealthCheckService();
  if (!health) return;
  MutexLock lock(health_mu_);
  health->SetServingStatus("", service_.ServerReady());
  std::set<std::string> names;
  for (const auto& name : service_.ModelNames()) {
    auto found = service_.Find(name, "");
    health->SetServingStatus(name, found.ok() && service_.ModelReady(*found));
    names.insert(name);
  }
  for (const auto& gone : health_names_) {
    if (!names.count(gone)) health->SetServingStatus(gone, false);
  }
  health_names_ = std::move(names);
  // The KServe service name itself answers like the overall status.
  health->SetServingStatus("inference.GRPCInferenceService", service_.ServerReady());
  // Liveness for native gRPC probes: the daemon answers, whatever the models do.
  health->SetServingStatus(std::string(kLivenessService), true);
}

void GrpcFrontend::SetNotServing() {
  if (!server_ || !server_->GetHealthCheckService()) return;
  auto* health = server_->GetHealthCheckService();
  // Everything but liveness: a draining daemon is alive and must not be
  // restarted by its liveness probe.
  health->SetServingStatus("", false);
  health->SetServingStatus("inference.GRPCInferenceService", false);
  for (const auto& name : service_.ModelNames()) health->SetServingStatus(name, false);
}

void GrpcFrontend::Shutdown(std::chrono::system_clock::time_point deadline) {
  if (server_) server_->Shutdown(deadline);
}

grpc::ServerUnaryReactor* GrpcFrontend::ServerLive(grpc::CallbackServerContext* ctx,
                                                   const inference::ServerLiveRequest*,
                                                   inference::ServerLiveResponse* resp) {
  resp->set_live(true);
  return Done(ctx, grpc::Status::OK);
}

grpc::ServerUnaryReactor* GrpcFrontend::ServerReady(grpc::CallbackServerContext* ctx,
                                                    const inference::ServerReadyRequest*,
                                                    inference::ServerReadyResponse* resp) {
  resp->set_ready(service_.ServerReady());
  return Done(ctx, grpc::Status::OK);
}

grpc::ServerUnaryReactor* GrpcFrontend::ModelReady(grpc::CallbackServerContext* ctx,
                                                   const inference::ModelReadyRequest* req,
                                                   inference::ModelReadyResponse* resp) {
  if (Status s = Authorize(*ctx, AuthScope::kInfer); !s.ok()) return Done(ctx, ToGrpcStatus(s));
  auto found = service_.Find(req->name(), req->version());
  if (!found.ok()) return Done(ctx, ToGrpcStatus(found.status()));
  resp->set_ready(service_.ModelReady(*found));
  return Done(ctx, grpc::Status::OK);
}

grpc::ServerUnaryReactor* GrpcFrontend::ServerMetadata(grpc::CallbackServerContext* ctx,
                                                       const inference::ServerMetadataRequest*,
                                                       inference::ServerMetadataResponse* resp) {
  if (Status s = Authorize(*ctx, AuthScope::kInfer); !s.ok()) return Done(ctx, ToGrpcStatus(s));
  resp->set_name("modelgate");
  resp->set_version(std::string(kVersion));
  for (std::string_view e : kServerExtensions) resp->add_extensions(std::string(e));
  return Done(ctx, grpc::Status::OK);
}

grpc::ServerUnaryReactor* GrpcFrontend::ModelMetadata(grpc::CallbackServerContext* ctx,
                                                      const inference::ModelMetadataRequest* req,
                                                      inference::ModelMetadataResponse* resp) {
  if (Status s = Authorize(*ctx, AuthScope::kInfer); !s.ok()) return Done(ctx, ToGrpcStatus(s));
  auto found = service_.Find(req->name(), req->version());
  if (!found.ok()) return Done(ctx, ToGrpcStatus(found.status()));
  const modelgate::ModelConfig& c = *found->config;
  resp->set_name(c.name);
  for (int64_t v : found->versions) resp->add_versions(std::to_string(v));
  resp->set_platform("modelgate_" + std::string(BackendName(c.backend)));
  auto fill = [](const std::vector<TensorSpec>& specs, auto* out) {
    for (const auto& s : specs) {
      auto* t = out->Add();
      t->set_name(s.name);
      t->set_datatype(std::string(DataTypeName(s.datatype)));
      t->mutable_shape()->Add(s.shape.begin(), s.shape.end());
    }
  };
  fill(c.inputs, resp->mutable_inputs());
  fill(c.outputs, resp->mutable_outputs());
  return Done(ctx, grpc::Status::OK);
}

grpc::ServerUnaryReactor* GrpcFrontend::ModelInfer(grpc::CallbackServerContext* ctx,
                                                   const inference::ModelInferRequest* req,
                                                   inference::ModelInferResponse* resp) {
  auto* reactor = new InferReactor();
  auto handle = RunInfer(ctx, *req, resp, /*stream=*/false,
                         [reactor, ctx](const Status& s, const std::string& request_id) {
                           ctx->AddTrailingMetadata("x-request-id", request_id);
                           reactor->Finish(ToGrpcStatus(s));
                         });
  if (handle) reactor->SetHandle(std::move(handle));
  reactor->Unref();
  return reactor;
}

std::shared_ptr<InferHandle> GrpcFrontend::RunInfer(
    grpc::CallbackServerContext* ctx, const inference::ModelInferRequest& req,
    inference::ModelInferResponse* resp, bool stream,
    std::function<void(const Status&, const std::string&)> done) {
  const SteadyTime start = time_.Now();
  // The id goes into trailing metadata, where gRPC aborts on a bad value:
  // only a valid one (body id, else x-request-id metadata) is ever used. A
  // stream's metadata names the stream, not its requests.
  Status id_status = ValidateRequestId(req.id(), "field 'id'");
  std::string request_id = id_status.ok() ? req.id() : "";
  if (auto it = ctx->client_metadata().find("x-request-id");
      !stream && it != ctx->client_metadata().end()) {
    const std::string_view header(it->second.data(), it->second.size());
    Status s = ValidateRequestId(header, "metadata x-request-id");
    if (id_status.ok()) id_status = s;
    if (s.ok() && request_id.empty()) request_id = header;
  }
  if (request_id.empty()) request_id = NewRequestId();
  const bool raw = req.raw_input_contents_size() > 0;

  // x-modelgate-route-key pins an unversioned request to one version of a
  // traffic split; it is only hashed, never logged or echoed.
  std::string route_key;
  if (auto it = ctx->client_metadata().find("x-modelgate-route-key");
      it != ctx->client_metadata().end()) {
    route_key.assign(it->second.data(), std::min(it->second.size(), kMaxRouteKeyBytes));
  }
  auto found = service_.Find(req.model_name(), req.model_version(), route_key);
  ModelMetrics* metrics = found.ok() ? found->metrics : unknown_metrics_;
  auto finish = [this, done = std::move(done), start, request_id, metrics, stream,
                 model = req.model_name(),
                 version = found.ok() ? std::to_string(found->version) : req.model_version(),
                 bytes = req.ByteSizeLong()](const Status& s) {
    const double seconds = std::chrono::duration<double>(time_.Now() - start).count();
    if (metrics) metrics->RecordRequest(Protocol::kGrpc, s.code(), seconds);
    if (access_log_) {
      LogInfo("access", {{"protocol", "grpc"},
                         {"rpc", stream ? "ModelStreamInfer" : "ModelInfer"},
                         {"model", model},
                         {"version", version},
                         {"code", GrpcCodeName(s.code())},
                         {"duration_us", static_cast<int64_t>(seconds * 1e6)},
                         {"bytes_in", bytes},
                         {"request_id", request_id}});
    }
    done(s, request_id);
  };

  // A stream is authorized once, when it opens.
  if (Status denied = stream ? Status::Ok() : Authorize(*ctx, AuthScope::kInfer); !denied.ok()) {
    finish(denied);
    return nullptr;
  }
  auto parsed = id_status.ok() ? FromGrpc(req) : StatusOr<InferRequest>(id_status);
  if (!parsed.ok()) {
    finish(parsed.status());
    return nullptr;
  }
  InferRequest request = std::move(parsed).value();
  request.id = request_id;
  // A rejection or a cache hit is answered on this gRPC thread, without a
  // round trip through the io thread (both reactors take an inline answer).
  request.answer_inline = true;
  const auto deadline = ctx->deadline();
  if (deadline != std::chrono::system_clock::time_point::max()) {
    request.deadline = SteadyDeadline(deadline, std::chrono::system_clock::now(), time_.Now());
  }
  auto timeout = TimeoutParameter(req);
  if (!timeout.ok()) {
    finish(timeout.status());
    return nullptr;
  }
  if (*timeout) {
    const SteadyTime by_parameter = DeadlineAfter(time_.Now(), **timeout);
    if (!request.deadline || by_parameter < *request.deadline) request.deadline = by_parameter;
  }
  auto on_answer = [finish = std::move(finish), resp, raw](StatusOr<InferResponse> r) {
    if (!r.ok()) {
      finish(r.status());
      return;
    }
    ToGrpc(std::move(r).value(), raw, resp);
    finish(Status::Ok());
  };
  return found.ok() ? service_.Infer(*found, std::move(request), std::move(on_answer))
                    : service_.Infer(std::move(request), std::move(on_answer));
}

grpc::ServerBidiReactor<inference::ModelInferRequest, inference::ModelStreamInferResponse>*
GrpcFrontend::ModelStreamInfer(grpc::CallbackServerContext* ctx) {
  return new StreamInferReactor(
      [this, ctx](const inference::ModelInferRequest& req, inference::ModelInferResponse* resp,
                  StreamInferReactor::Done done) {
        return RunInfer(ctx, req, resp, /*stream=*/true, std::move(done));
      },
      Authorize(*ctx, AuthScope::kInfer));
}

grpc::ServerUnaryReactor* GrpcFrontend::ModelConfig(grpc::CallbackServerContext* ctx,
                                                    const inference::ModelConfigRequest* req,
                                                    inference::ModelConfigResponse* resp) {
  if (Status s = Authorize(*ctx, AuthScope::kInfer); !s.ok()) return Done(ctx, ToGrpcStatus(s));
  auto found = service_.Find(req->name(), req->version());
  if (!found.ok()) return Done(ctx, ToGrpcStatus(found.status()));
  *resp->mutable_config() = ToTritonConfig(*found->config);
  return Done(ctx, grpc::Status::OK);
}

grpc::ServerUnaryReactor* GrpcFrontend::ModelStatistics(
    grpc::CallbackServerContext* ctx, const inference::ModelStatisticsRequest* req,
    inference::ModelStatisticsResponse* resp) {
  if (Status s = Authorize(*ctx, AuthScope::kInfer); !s.ok()) return Done(ctx, ToGrpcStatus(s));
  auto stats = service_.Statistics(req->name(), req->version());
  if (!stats.ok()) return Done(ctx, ToGrpcStatus(stats.status()));
  *resp = ToTritonStatistics(*stats);
  return Done(ctx, grpc::Status::OK);
}

grpc::ServerUnaryReactor* GrpcFrontend::RepositoryIndex(
    grpc::CallbackServerContext* ctx, const inference::RepositoryIndexRequest* req,
    inference::RepositoryIndexResponse* resp) {
  if (Status s = Authorize(*ctx, AuthScope::kAdmin); !s.ok()) return Done(ctx, ToGrpcStatus(s));
  for (const auto& m : service_.Index()) {
    if (req->ready() && !m.ready) continue;
    auto* e = resp->add_models();
    e->set_name(m.name);
    e->set_version(std::to_string(m.version));
    e->set_state(std::string(ModelStateName(m.state)));
    e->set_reason(BoundedErrorMessage(m.reason));
  }
  return Done(ctx, grpc::Status::OK);
}

grpc::ServerUnaryReactor* GrpcFrontend::RepositoryModelLoad(
    grpc::CallbackServerContext* ctx, const inference::RepositoryModelLoadRequest* req,
    inference::RepositoryModelLoadResponse*) {
  if (Status s = Authorize(*ctx, AuthScope::kAdmin); !s.ok()) return Done(ctx, ToGrpcStatus(s));
  std::optional<std::string> config;
  for (const auto& [name, p] : req->parameters()) {
    const bool holds_string =
        p.parameter_choice_case() == inference::ModelRepositoryParameter::kStringParam;
    if (Status s = CheckLoadParameter(name, holds_string ? &p.string_param() : nullptr); !s.ok()) {
      return Done(ctx, ToGrpcStatus(s));
    }
    config = p.string_param();
  }
  auto* reactor = ctx->DefaultReactor();
  service_.LoadModel(req->model_name(), std::move(config),
                     [reactor](const Status& s) { reactor->Finish(ToGrpcStatus(s)); });
  return reactor;
}

grpc::ServerUnaryReactor* GrpcFrontend::RepositoryModelUnload(
    grpc::CallbackServerContext* ctx, const inference::RepositoryModelUnloadRequest* req,
    inference::RepositoryModelUnloadResponse*) {
  if (Status s = Authorize(*ctx, AuthScope::kAdmin); !s.ok()) return Done(ctx, ToGrpcStatus(s));
  auto* reactor = ctx->DefaultReactor();
  service_.UnloadModel(req->model_name(),
                       [reactor](const Status& s) { reactor->Finish(ToGrpcStatus(s)); });
  return reactor;
}

grpc::ServerUnaryReactor* GrpcFrontend::SystemSharedMemoryStatus(
    grpc::CallbackServerContext* ctx, const inference::SystemSharedMemoryStatusRequest*,
    inference::SystemSharedMemoryStatusResponse*) {
  return Unsupported(ctx, "SystemSharedMemoryStatus", "system shared memory");
}

grpc::ServerUnaryReactor* GrpcFrontend::SystemSharedMemoryRegister(
    grpc::CallbackServerContext* ctx, const inference::SystemSharedMemoryRegisterRequest*,
    inference::SystemSharedMemoryRegisterResponse*) {
  return Unsupported(ctx, "SystemSharedMemoryRegister", "system shared memory");
}

grpc::ServerUnaryReactor* GrpcFrontend::SystemSharedMemoryUnregister(
    grpc::CallbackServerContext* ctx, const inference::SystemSharedMemoryUnregisterRequest*,
    inference::SystemSharedMemoryUnregisterResponse*) {
  return Unsupported(ctx, "SystemSharedMemoryUnregister", "system shared memory");
}

grpc::ServerUnaryReactor* GrpcFrontend::CudaSharedMemoryStatus(
    grpc::CallbackServerContext* ctx, const inference::CudaSharedMemoryStatusRequest*,
    inference::CudaSharedMemoryStatusResponse*) {
  return Unsupported(ctx, "CudaSharedMemoryStatus", "CUDA shared memory");
}

grpc::ServerUnaryReactor* GrpcFrontend::CudaSharedMemoryRegister(
    grpc::CallbackServerContext* ctx, const inference::CudaSharedMemoryRegisterRequest*,
    inference::CudaSharedMemoryRegisterResponse*) {
  return Unsupported(ctx, "CudaSharedMemoryRegister", "CUDA shared memory");
}

grpc::ServerUnaryReactor* GrpcFrontend::CudaSharedMemoryUnregister(
    grpc::CallbackServerContext* ctx, const inference::CudaSharedMemoryUnregisterRequest*,
    inference::CudaSharedMemoryUnregisterResponse*) {
  return Unsupported(ctx, "CudaSharedMemoryUnregister", "CUDA shared memory");
}

grpc::ServerUnaryReactor* GrpcFrontend::TraceSetting(grpc::CallbackServerContext* ctx,
                                                     const inference::TraceSettingRequest*,
                                                     inference::TraceSettingResponse*) {
  return Unsupported(ctx, "TraceSetting", "trace settings");
}

grpc::ServerUnaryReactor* GrpcFrontend::LogSettings(grpc::CallbackServerContext* ctx,
                                                    const inference::LogSettingsRequest*,
                                                    inference::LogSettingsResponse*) {
  return Unsupported(ctx, "LogSettings", "log settings");
}

}  // namespace modelgate
