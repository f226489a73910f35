# The daemon's libraries (one per role) and the modelgate binary.

# OpenSSL's libcrypto: SHA-256 of version snapshots here, of bearer tokens in security.
find_package(OpenSSL REQUIRED)
modelgate_library(modelgate_config src/config/model_config.cc src/config/model_repository.cc
  src/config/config_checker.cc src/config/config_keys.cc src/config/object_keys.cc
  src/config/model_config_keys.cc src/config/config_reference.cc src/config/json_tensor.cc
  src/config/lifecycle_keys.cc src/config/sha256.cc src/config/tree_walk.cc
  src/config/stat_signature.cc src/config/version_snapshot.cc
  src/config/triton_model_config.cc src/config/example_keys.cc src/config/drift_keys.cc
  src/config/drift_reference.cc)
target_link_libraries(modelgate_config PUBLIC modelgate_common modelgate_log
  nlohmann_json::nlohmann_json OpenSSL::Crypto)
# Prints the README's config reference; `make config-docs` writes it into README.md.
add_executable(modelgate_config_reference EXCLUDE_FROM_ALL src/config/config_reference_main.cc)
target_include_directories(modelgate_config_reference PRIVATE ${CMAKE_SOURCE_DIR}/src)
target_link_libraries(modelgate_config_reference PRIVATE modelgate_config)
modelgate_warnings(modelgate_config_reference)

modelgate_library(modelgate_observability src/observability/metrics.cc
  src/observability/logging.cc src/observability/request_id.cc
  src/observability/drift_window.cc src/observability/drift_monitor.cc)
target_link_libraries(modelgate_observability PUBLIC modelgate_common modelgate_log
  prometheus-cpp::core nlohmann_json::nlohmann_json)

modelgate_library(modelgate_resilience src/resilience/circuit_breaker.cc)
target_link_libraries(modelgate_resilience PUBLIC modelgate_common)

modelgate_library(modelgate_pool src/backend/pool/model_pool.cc
  src/backend/pool/model_pool_lifecycle.cc src/backend/pool/warmup.cc src/backend/pool/admission.cc
  src/backend/pool/pool_scheduler.cc src/backend/pool/supervisor.cc src/scheduler/batching.cc)
target_link_libraries(modelgate_pool PUBLIC modelgate_process modelgate_config modelgate_resilience)

# Request checks against config.json, apart so the fuzzers use them without the core.
modelgate_library(modelgate_validation src/server/request_validation.cc
  src/server/output_contract.cc)
target_link_libraries(modelgate_validation PUBLIC modelgate_config)

modelgate_library(modelgate_core src/server/inference_core.cc src/server/model_lifecycle.cc
  src/server/response_cache.cc
  src/server/traffic_split.cc)
target_link_libraries(modelgate_core PUBLIC modelgate_pool modelgate_observability
  modelgate_validation)

# Triton's config and statistics messages, shared by the REST and gRPC front ends.
modelgate_library(modelgate_triton src/frontend/triton/triton_messages.cc)
target_link_libraries(modelgate_triton PUBLIC modelgate_config modelgate_proto
  nlohmann_json::nlohmann_json)

modelgate_library(modelgate_http src/frontend/http/http_server.cc src/frontend/http/http_api.cc
  src/frontend/http/rest_codec.cc src/frontend/http/json_writer.cc
  src/frontend/http/connection_slots.cc src/frontend/http/accept_backoff.cc
  src/frontend/http/request_header_checks.cc src/frontend/http/tls_context.cc
  src/frontend/http/offload_pool.cc src/frontend/http/metrics_endpoint.cc
  src/frontend/http/http_route.cc src/frontend/http/binary_tensor.cc
  src/frontend/http/content_coding.cc src/frontend/http/rest_v1_columnar.cc)
# The front ends see the core only through include/modelgate/inference_service.h.
target_link_libraries(modelgate_http PUBLIC modelgate_config modelgate_observability OpenSSL::SSL
  modelgate_triton)
# HTTP compression (Content-Encoding / Accept-Encoding gzip and deflate).
find_package(ZLIB REQUIRED)
target_link_libraries(modelgate_http PRIVATE ZLIB::ZLIB)

modelgate_library(modelgate_grpc src/frontend/grpc/grpc_frontend.cc src/frontend/grpc/grpc_codec.cc
  src/frontend/grpc/stream_infer.cc)
target_link_libraries(modelgate_grpc PUBLIC modelgate_config modelgate_observability modelgate_proto
  modelgate_triton gRPC::grpc++)

add_executable(modelgate src/server/main.cc src/server/server.cc src/server/server_setup.cc)
target_include_directories(modelgate PRIVATE ${CMAKE_SOURCE_DIR}/src)
target_link_libraries(modelgate PRIVATE modelgate_core modelgate_http modelgate_grpc
  Boost::program_options)
modelgate_warnings(modelgate)
# The daemon starts its workers from modelgate-worker beside it.
if(TARGET modelgate-worker)  # not in a fuzz build
  add_dependencies(modelgate modelgate-worker)
endif()

# Security: bearer tokens (OpenSSL's libcrypto for SHA-256), TLS file checks, CORS.
modelgate_library(modelgate_security src/security/authenticator.cc
  src/security/token_authenticator.cc src/security/token_file_reloader.cc
  src/security/tls_files.cc)
target_link_libraries(modelgate_security PUBLIC modelgate_common modelgate_log OpenSSL::Crypto)
target_sources(modelgate_http PRIVATE src/frontend/http/cors.cc)
target_link_libraries(modelgate_http PUBLIC modelgate_security)
target_link_libraries(modelgate_grpc PUBLIC modelgate_security)
# The flags, in a library so unit tests can parse and validate them.
modelgate_library(modelgate_options src/server/daemon_options.cc src/server/worker_host_path.cc)
target_link_libraries(modelgate_options PUBLIC modelgate_http modelgate_security
  Boost::program_options)
target_link_libraries(modelgate PRIVATE modelgate_options)

# `modelgate check` (src/check/): the same binary, its first argument "check".
modelgate_library(modelgate_check src/check/repository_checker.cc src/check/example_compare.cc
  src/check/check_report.cc)
target_link_libraries(modelgate_check PUBLIC modelgate_core)
target_sources(modelgate PRIVATE src/check/check_command.cc)
target_link_libraries(modelgate PRIVATE modelgate_check)
