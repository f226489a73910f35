// GrpcFrontend: the KServe V2 GRPCInferenceService on gRPC's callback API,
// plus the standard grpc.health.v1.Health service (overall under "" and one
// entry per model name). Reactors never block: ModelInfer hands the request
// to the InferenceService and Finish()es from its completion callback.
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <set>
#include <string>

#include "common/mutex.h"
#include "grpc_predict_v2.grpc.pb.h"
#include "modelgate/authenticator.h"
#include "modelgate/inference_service.h"
#include "modelgate/time_source.h"

namespace modelgate {

class Metrics;

// TLS for the gRPC listener: PEM files, watched by gRPC's
// FileWatcherCertificateProvider, so rotated files serve new connections
// within kTlsRefreshSeconds (no SIGHUP needed). With client_ca, clients must
// present a certificate it signed (mutual TLS).
struct GrpcTlsFiles {
  std::string cert, key, client_ca;
};

class GrpcFrontend final : public inference::GRPCInferenceService::CallbackService {
 public:
  // Health service name that is SERVING while the process runs (liveness).
  static constexpr std::string_view kLivenessService = "modelgate.liveness";
  // How often gRPC re-reads the TLS files.
  static constexpr unsigned kTlsRefreshSeconds = 10;

  // `time` (thread-safe Now()) dates deadlines and latencies; it outlives this.
  GrpcFrontend(InferenceService& service, const TimeSource& time, Metrics* metrics,
               bool access_log);
  ~GrpcFrontend() override;

  // Before Start(): TLS instead of plaintext (cert and key set).
  void set_tls(GrpcTlsFiles files) { tls_ = std::move(files); }
  // Before Start(): bearer tokens for every RPC but ServerLive, ServerReady
  // and grpc.health.v1 (which stay open for probes). Not owned; may be null.
  void set_authenticator(const Authenticator* auth) { auth_ = auth; }

  // Builds and starts the server; returns the bound port.
  StatusOr<int> Start(const std::string& host, int port, int max_message_bytes);
  // Re-reads readiness into the health service. Thread-safe.
  void UpdateHealth();
  // Health NOT_SERVING everywhere but liveness, for shutdown.
  void SetNotServing();
  // Stops accepting; waits for in-flight RPCs until `deadline`, then cancels them.
  void Shutdown(std::chrono::system_clock::time_point deadline);

  grpc::ServerUnaryReactor* ServerLive(grpc::CallbackServerContext* ctx,
                                       const inference::ServerLiveRequest* req,
                                       inference::ServerLiveResponse* resp) override;
  grpc::ServerUnaryReactor* ServerReady(grpc::CallbackServerContext* ctx,
                                        const inference::ServerReadyRequest* req,
                                        inference::ServerReadyResponse* resp) override;
  grpc::ServerUnaryReactor* ModelReady(grpc::CallbackServerContext* ctx,
                                       const inference::ModelReadyRequest* req,
                                       inference::ModelReadyResponse* resp) override;
  grpc::ServerUnaryReactor* ServerMetadata(grpc::CallbackServerContext* ctx,
                                           const inference::ServerMetadataRequest* req,
                                           inference::ServerMetadataResponse* resp) override;
  grpc::ServerUnaryReactor* ModelMetadata(grpc::CallbackServerContext* ctx,
                                          const inference::ModelMetadataRequest* req,
                                          inference::ModelMetadataResponse* resp) override;
  grpc::ServerUnaryReactor* ModelInfer(grpc::CallbackServerContext* ctx,
                                       const inference::ModelInferRequest* req,
                                       inference::ModelInferResponse* resp) override;
  // Triton's streaming extension (stream_infer.h).
  grpc::ServerBidiReactor<inference::ModelInferRequest, inference::ModelStreamInferResponse>*
  ModelStreamInfer(grpc::CallbackServerContext* ctx) override;
  // Triton's model configuration and statistics extensions
  // (frontend/triton/triton_messages.h).
  grpc::ServerUnaryReactor* ModelConfig(grpc::CallbackServerContext* ctx,
                                        const inference::ModelConfigRequest* req,
                                        inference::ModelConfigResponse* resp) override;
  grpc::ServerUnaryReactor* ModelStatistics(grpc::CallbackServerContext* ctx,
                                            const inference::ModelStatisticsRequest* req,
                                            inference::ModelStatisticsResponse* resp) override;
  // Triton's repository extension; load and unload answer once the service
  // has decided (a load: once the new version serves, or failed).
  grpc::ServerUnaryReactor* RepositoryIndex(grpc::CallbackServerContext* ctx,
                                            const inference::RepositoryIndexRequest* req,
                                            inference::RepositoryIndexResponse* resp) override;
  grpc::ServerUnaryReactor* RepositoryModelLoad(
      grpc::CallbackServerContext* ctx, const inference::RepositoryModelLoadRequest* req,
      inference::RepositoryModelLoadResponse* resp) override;
  grpc::ServerUnaryReactor* RepositoryModelUnload(
      grpc::CallbackServerContext* ctx, const inference::RepositoryModelUnloadRequest* req,
      inference::RepositoryModelUnloadResponse* resp) override;

  // Deliberately unsupported: UNIMPLEMENTED "modelgate does not support ...".
  grpc::ServerUnaryReactor* SystemSharedMemoryStatus(
      grpc::CallbackServerContext* ctx, const inference::SystemSharedMemoryStatusRequest* req,
      inference::SystemSharedMemoryStatusResponse* resp) override;
  grpc::ServerUnaryReactor* SystemSharedMemoryRegister(
      grpc::CallbackServerContext* ctx, const inference::SystemSharedMemoryRegisterRequest* req,
      inference::SystemSharedMemoryRegisterResponse* resp) override;
  grpc::ServerUnaryReactor* SystemSharedMemoryUnregister(
      grpc::CallbackServerContext* ctx, const inference::SystemSharedMemoryUnregisterRequest* req,
      inference::SystemSharedMemoryUnregisterResponse* resp) override;
  grpc::ServerUnaryReactor* CudaSharedMemoryStatus(
      grpc::CallbackServerContext* ctx, const inference::CudaSharedMemoryStatusRequest* req,
      inference::CudaSharedMemoryStatusResponse* resp) override;
  grpc::ServerUnaryReactor* CudaSharedMemoryRegister(
      grpc::CallbackServerContext* ctx, const inference::CudaSharedMemoryRegisterRequest* req,
      inference::CudaSharedMemoryRegisterResponse* resp) override;
  grpc::ServerUnaryReactor* CudaSharedMemoryUnregister(
      grpc::CallbackServerContext* ctx, const inference::CudaSharedMemoryUnregisterRequest* req,
      inference::CudaSharedMemoryUnregisterResponse* resp) override;
  grpc::ServerUnaryReactor* TraceSetting(grpc::CallbackServerContext* ctx,
                                         const inference::TraceSettingRequest* req,
                                         inference::TraceSettingResponse* resp) override;
  grpc::ServerUnaryReactor* LogSettings(grpc::CallbackServerContext* ctx,
                                        const inference::LogSettingsRequest* req,
                                        inference::LogSettingsResponse* resp) override;

 private:
  // One infer request of ModelInfer or of a ModelStreamInfer stream: request
  // id (a stream's requests ignore the x-request-id metadata), authorization
  // (a stream is authorized when it opens), metrics and access log. Fills
  // `resp` when OK; `done` runs exactly once, on the io thread or before this
  // returns, with the outcome and the request id. Returns the handle that
  // withdraws the request, or null when answered already.
  std::shared_ptr<InferHandle> RunInfer(
      grpc::CallbackServerContext* ctx, const inference::ModelInferRequest& req,
      inference::ModelInferResponse* resp, bool stream,
      std::function<void(const Status&, const std::string&)> done);

  // OK, or UNAUTHENTICATED / PERMISSION_DENIED from the `authorization` metadata.
  Status Authorize(const grpc::CallbackServerContext& ctx, AuthScope needed) const;

  GrpcTlsFiles tls_;
  const Authenticator* auth_ = nullptr;
  InferenceService& service_;
  const TimeSource& time_;
  ModelMetrics* unknown_metrics_;  // requests naming no known model
  bool access_log_;
  std::unique_ptr<grpc::Server> server_;
  Mutex health_mu_;
  // Model names given a health status: a model removed from the repository
  // goes NOT_SERVING instead of keeping its last status.
  std::set<std::string> health_names_ GUARDED_BY(health_mu_);
};

}  // namespace modelgate
