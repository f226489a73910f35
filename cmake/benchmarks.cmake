# Benchmarks print figures; tests never assert times. Built with `make bench`.
add_executable(worker_roundtrip EXCLUDE_FROM_ALL benchmarks/worker_roundtrip.cc benchmarks/pipe_echo.cc)
target_link_libraries(worker_roundtrip PRIVATE modelgate_testing)
modelgate_warnings(worker_roundtrip)
add_dependencies(worker_roundtrip modelgate-worker)

add_executable(mg_loadgen EXCLUDE_FROM_ALL benchmarks/loadgen.cc)
target_link_libraries(mg_loadgen PRIVATE modelgate_proto Boost::program_options Threads::Threads)
modelgate_warnings(mg_loadgen)
add_custom_target(benchmarks DEPENDS worker_roundtrip mg_loadgen modelgate)

# Cost of a structured log record against a plain spdlog call.
find_package(benchmark REQUIRED)
add_executable(log_event_benchmark EXCLUDE_FROM_ALL benchmarks/log_event_benchmark.cc)
target_link_libraries(log_event_benchmark PRIVATE modelgate_log benchmark::benchmark)
target_include_directories(log_event_benchmark PRIVATE ${CMAKE_SOURCE_DIR}/src)
modelgate_warnings(log_event_benchmark)
add_dependencies(benchmarks log_event_benchmark)
