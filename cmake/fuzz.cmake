# libFuzzer harnesses (MODELGATE_FUZZ=ON, clang; see cmake/sanitizers.cmake).
# Each links the project's own static libraries, built in the same directory
# with the same instrumentation. `make fuzz` runs them on a copy of
# tests/fuzz/corpus/<name>; `make fuzz-regress` replays the committed corpus.

function(modelgate_fuzzer name)
  add_executable(${name} tests/fuzz/${name}.cc)
  target_link_libraries(${name} PRIVATE ${ARGN})
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR}/tests)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  modelgate_warnings(${name})
endfunction()

modelgate_fuzzer(rest_v2_fuzz modelgate_http modelgate_validation)
modelgate_fuzzer(rest_v1_fuzz modelgate_http modelgate_validation)
modelgate_fuzzer(grpc_request_fuzz modelgate_grpc modelgate_validation)
modelgate_fuzzer(worker_frame_fuzz modelgate_http modelgate_grpc modelgate_process
  modelgate_validation)
modelgate_fuzzer(content_coding_fuzz modelgate_http)
add_custom_target(fuzzers DEPENDS rest_v2_fuzz rest_v1_fuzz grpc_request_fuzz worker_frame_fuzz
  content_coding_fuzz)
