# Test targets (MODELGATE_BUILD_TESTS=ON). Paths the tests need are compiled
# in, so each test binary runs from any directory.
find_package(GTest REQUIRED)
find_program(GRPC_PYTHON_PLUGIN grpc_python_plugin REQUIRED)

set(TEST_DEFS
  MODELGATE_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
  MODELGATE_BINARY_DIR="${CMAKE_BINARY_DIR}")

add_library(modelgate_testing STATIC tests/support/test_env.cc tests/support/worker_harness.cc
  tests/support/host_process.cc
  tests/support/simulated_time_source.cc)
# Tests are white-box: they see the libraries' internal headers under src/.
target_include_directories(modelgate_testing PUBLIC ${CMAKE_SOURCE_DIR}/tests ${CMAKE_SOURCE_DIR}/src)
target_compile_definitions(modelgate_testing PUBLIC ${TEST_DEFS})
target_link_libraries(modelgate_testing PUBLIC modelgate_process GTest::gtest)
modelgate_warnings(modelgate_testing)

add_executable(unit_tests
  tests/unit/common/status_map_test.cc
  tests/unit/common/tensor_test.cc
  tests/unit/common/data_type_visit_test.cc
  tests/unit/common/half_float_test.cc
  tests/unit/common/version_test.cc
  tests/unit/common/retry_after_test.cc
  tests/unit/common/tensor_validation_test.cc
  tests/unit/common/utf8_test.cc
  tests/unit/common/parameters_test.cc
  tests/unit/common/deadline_test.cc
  tests/unit/common/time_source_test.cc
  tests/unit/observability/request_id_test.cc
  tests/unit/backend/process/tensor_proto_test.cc
  tests/unit/backend/process/worker_command_test.cc
  tests/unit/backend/ipc/frame_codec_test.cc
  tests/unit/backend/process/process_worker_test.cc
  tests/unit/backend/process/worker_output_test.cc
  tests/unit/backend/pool/model_pool_test.cc
  tests/unit/backend/pool/model_pool_lifecycle_test.cc
  tests/unit/backend/pool/admission_test.cc
  tests/unit/backend/pool/pool_scheduler_test.cc
  tests/unit/backend/process/child_reaper_test.cc
  tests/unit/backend/process/subprocess_test.cc
  tests/unit/config/model_config_test.cc
  tests/unit/config/model_config_keys_test.cc
  tests/unit/config/config_reference_test.cc
  tests/unit/config/config_checker_test.cc
  tests/unit/config/lifecycle_keys_test.cc
  tests/unit/config/model_repository_test.cc
  tests/unit/config/stat_signature_test.cc
  tests/unit/config/version_snapshot_test.cc
  tests/unit/config/triton_model_config_test.cc
  tests/unit/resilience/circuit_breaker_test.cc
  tests/unit/resilience/token_bucket_test.cc
  tests/unit/scheduler/deadline_queue_test.cc
  tests/unit/scheduler/batching_test.cc
  tests/unit/frontend/http/rest_codec_test.cc
  tests/unit/frontend/http/missing_values_test.cc
  tests/unit/observability/log_format_test.cc
  tests/unit/observability/log_record_test.cc
  tests/unit/observability/metrics_test.cc
  tests/unit/frontend/http/rest_codec_limits_test.cc
  tests/unit/frontend/grpc/grpc_codec_test.cc
  tests/unit/frontend/http/connection_slots_test.cc
  tests/unit/frontend/http/accept_backoff_test.cc
  tests/unit/frontend/http/request_header_checks_test.cc
  tests/unit/frontend/http/offload_pool_test.cc
  tests/unit/frontend/http/tls_context_test.cc
  tests/unit/frontend/http/metrics_endpoint_test.cc
  tests/unit/frontend/http/http_api_test.cc
  tests/unit/frontend/http/http_route_test.cc
  tests/unit/frontend/http/binary_tensor_test.cc
  tests/unit/frontend/http/content_coding_test.cc
  tests/unit/frontend/http/rest_v1_columnar_test.cc
  tests/unit/server/inference_core_test.cc
  tests/unit/frontend/grpc/grpc_frontend_test.cc
  tests/unit/frontend/grpc/grpc_stream_test.cc
  tests/unit/frontend/triton/triton_messages_test.cc
  tests/unit/observability/metrics_statistics_test.cc
  tests/unit/server/inference_core_statistics_test.cc
  ${UNIT_TEST_EXTRA})
target_link_libraries(unit_tests PRIVATE modelgate_testing modelgate_pool modelgate_core
  modelgate_http modelgate_grpc GTest::gmock GTest::gtest_main)
target_link_libraries(unit_tests PRIVATE ZLIB::ZLIB)  # content_coding_test builds raw deflate
modelgate_warnings(unit_tests)
add_test(NAME unit COMMAND unit_tests)
# Stands in for the native host, reporting the SIGINTs it gets (process_worker_test).
add_executable(sigint_probe_worker tests/support/sigint_probe_worker.cc)
target_include_directories(sigint_probe_worker PRIVATE ${CMAKE_SOURCE_DIR}/src)
target_link_libraries(sigint_probe_worker PRIVATE modelgate_ipc)
modelgate_warnings(sigint_probe_worker)
add_dependencies(unit_tests sigint_probe_worker)

add_executable(worker_integration_test
  tests/integration/worker_test.cc
  tests/integration/conformance_test.cc
  tests/integration/worker_host_test.cc)
target_link_libraries(worker_integration_test PRIVATE modelgate_testing nlohmann_json::nlohmann_json
  GTest::gtest_main)
modelgate_warnings(worker_integration_test)
add_dependencies(worker_integration_test modelgate-worker)
add_test(NAME worker_integration COMMAND worker_integration_test)
# The embedded runtimes driven over their pipes (tests/support/host_process.h;
# MODELGATE_WORKER_HOST overrides the build's modelgate-worker).
target_sources(worker_integration_test PRIVATE tests/integration/r_host_test.cc
  tests/integration/py_host_test.cc)
if(TARGET modelgate-worker-asan)
  # The same host tests against the instrumented host (cmake/worker_host.cmake),
  # which they start directly, without a worker's RLIMIT_AS. Its reports go
  # where tests/sanitize/run-ctest.sh looks. No leak check: the embedded R
  # and Python keep their allocations until exit by design.
  add_dependencies(worker_integration_test modelgate-worker-asan)
  add_test(NAME worker_host_sanitized COMMAND worker_integration_test
    --gtest_filter=WorkerHostTest.*:RHostTest.*:PyHostTest.*)
  set_tests_properties(worker_host_sanitized PROPERTIES ENVIRONMENT
    "MODELGATE_WORKER_HOST=$<TARGET_FILE:modelgate-worker-asan>;ASAN_OPTIONS=log_path=${CMAKE_BINARY_DIR}/sanitizer-logs/asan-host:detect_leaks=0")
endif()

# ---- daemon integration: C++ gRPC client ----------------------------------
add_library(test_health_proto STATIC tests/proto/health.proto)
target_link_libraries(test_health_proto PUBLIC protobuf::libprotobuf gRPC::grpc++)
target_include_directories(test_health_proto PUBLIC ${GEN_DIR} ${GEN_DIR}/tests/proto)
protobuf_generate(TARGET test_health_proto LANGUAGE cpp
  IMPORT_DIRS ${CMAKE_SOURCE_DIR}/tests/proto PROTOC_OUT_DIR ${GEN_DIR})
protobuf_generate(TARGET test_health_proto LANGUAGE grpc
  GENERATE_EXTENSIONS .grpc.pb.h .grpc.pb.cc
  PLUGIN protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>
  IMPORT_DIRS ${CMAKE_SOURCE_DIR}/tests/proto PROTOC_OUT_DIR ${GEN_DIR})
target_compile_options(test_health_proto PRIVATE -w)

add_executable(daemon_grpc_test tests/integration/daemon_grpc_test.cc
  tests/support/daemon_process.cc)
target_link_libraries(daemon_grpc_test PRIVATE modelgate_testing modelgate_proto test_health_proto
  GTest::gtest_main)
modelgate_warnings(daemon_grpc_test)
add_dependencies(daemon_grpc_test modelgate)
add_test(NAME daemon_grpc_cpp COMMAND daemon_grpc_test)

# ---- daemon integration: Python clients (grpcio, HTTP) ---------------------
set(PY_STUBS ${CMAKE_BINARY_DIR}/python_stubs)
add_custom_command(OUTPUT ${PY_STUBS}/grpc_predict_v2_pb2.py ${PY_STUBS}/health_pb2.py
  COMMAND ${CMAKE_COMMAND} -E make_directory ${PY_STUBS}
  COMMAND protobuf::protoc -I${CMAKE_SOURCE_DIR}/proto -I${CMAKE_SOURCE_DIR}/tests/proto
          --python_out=${PY_STUBS} --grpc_out=${PY_STUBS}
          --plugin=protoc-gen-grpc=${GRPC_PYTHON_PLUGIN}
          ${CMAKE_SOURCE_DIR}/proto/grpc_predict_v2.proto ${CMAKE_SOURCE_DIR}/tests/proto/health.proto
  DEPENDS ${CMAKE_SOURCE_DIR}/proto/grpc_predict_v2.proto ${CMAKE_SOURCE_DIR}/tests/proto/health.proto)
add_custom_target(python_stubs ALL DEPENDS ${PY_STUBS}/grpc_predict_v2_pb2.py)

set(TEST_PYTHON /usr/bin/python3 CACHE FILEPATH "Python with numpy and grpcio for the tests")
foreach(name http_api grpc_client concurrency shutdown faults observability batching io_paths
    security_logs security_posture security_input security_http security_isolation
    security_adversarial lifecycle binary_data http_wire outputs model_inputs
    triton_ext check signatures drift response_cache worker_log_ids interrupts)
  add_test(NAME py_${name}
    COMMAND ${TEST_PYTHON} -m unittest -v test_${name}
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}/tests/integration/py)
  set_tests_properties(py_${name} PROPERTIES ENVIRONMENT
    "PYTHONPATH=${PY_STUBS};MODELGATE_SOURCE_DIR=${CMAKE_SOURCE_DIR};MODELGATE_BINARY=$<TARGET_FILE:modelgate>;PYTHONDONTWRITEBYTECODE=1")
endforeach()
# Lifecycle: a daemon per test and reloads under load: a bound of its own.
set_tests_properties(py_lifecycle PROPERTIES TIMEOUT 600 LABELS lifecycle)

# Security posture: tokens, CORS, flags.
target_sources(unit_tests PRIVATE
  tests/unit/security/token_authenticator_test.cc
  tests/unit/frontend/http/cors_test.cc
  tests/unit/server/daemon_options_test.cc
  tests/unit/server/traffic_split_test.cc
  tests/unit/server/model_lifecycle_test.cc
  tests/unit/server/request_validation_test.cc
  tests/unit/server/output_contract_test.cc
  tests/unit/server/response_cache_test.cc
  tests/unit/server/worker_host_path_test.cc)
target_link_libraries(unit_tests PRIVATE modelgate_options)
# `modelgate check`: "examples" in config.json and the comparison of answers.
target_sources(unit_tests PRIVATE tests/unit/config/example_keys_test.cc
  tests/unit/check/example_compare_test.cc tests/unit/check/check_report_test.cc)
target_link_libraries(unit_tests PRIVATE modelgate_check)
# Signatures declared in code (issue 15).
target_sources(unit_tests PRIVATE tests/unit/backend/process/hello_signature_test.cc)

# The installed layout: `cmake --install` into a temporary prefix, whose
# daemon serves an example without --worker-host.
add_test(NAME install_layout
  COMMAND ${TEST_PYTHON} -m unittest -v test_install
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}/tests/install)
set_tests_properties(install_layout PROPERTIES ENVIRONMENT
  "MODELGATE_SOURCE_DIR=${CMAKE_SOURCE_DIR};MODELGATE_BUILD_DIR=${CMAKE_BINARY_DIR};MODELGATE_CMAKE=${CMAKE_COMMAND};MODELGATE_BINARY=$<TARGET_FILE:modelgate>;PYTHONDONTWRITEBYTECODE=1")

# The README's commands as written: `make run` serves the examples, and the
# Quickstart's curl commands and Python gRPC client get answers. `make run`
# builds the plain daemon (a no-op after `make test`'s build; ctest runs one
# test at a time), so not in the sanitizer build.
if(NOT MODELGATE_SANITIZE)
  add_test(NAME readme_quickstart
    COMMAND ${TEST_PYTHON} -m unittest -v test_quickstart
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}/tests/readme)
  set_tests_properties(readme_quickstart PROPERTIES TIMEOUT 900 ENVIRONMENT
    "MODELGATE_SOURCE_DIR=${CMAKE_SOURCE_DIR};MODELGATE_BUILD_DIR=${CMAKE_BINARY_DIR};PYTHONDONTWRITEBYTECODE=1")
endif()

# Input drift: the reference parser, the sliding window and PSI, the monitor.
target_sources(unit_tests PRIVATE
  tests/unit/config/drift_reference_test.cc
  tests/unit/observability/drift_window_test.cc
  tests/unit/observability/drift_monitor_test.cc)

# The native worker host's python_path validation (issue 14).
target_sources(unit_tests PRIVATE tests/unit/worker_host/python_path_check_test.cc)
target_link_libraries(unit_tests PRIVATE modelgate_python_path)
