# Test targets. Paths the tests need are compiled in, so each test binary
# runs from any directory.
set(TEST_DEFS
  MODELGATE_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
  MODELGATE_BRIDGE_DIR="${BRIDGE_DIR}"
  MODELGATE_BINARY_DIR="${CMAKE_BINARY_DIR}")

add_library(modelgate_testing STATIC tests/support/test_env.cc tests/support/worker_harness.cc)
target_include_directories(modelgate_testing PUBLIC ${CMAKE_SOURCE_DIR}/tests)
target_compile_definitions(modelgate_testing PUBLIC ${TEST_DEFS})
target_link_libraries(modelgate_testing PUBLIC modelgate_process GTest::gtest)

add_executable(unit_tests
  tests/unit/common/status_map_test.cc
  tests/unit/common/tensor_test.cc
  tests/unit/backend/ipc/frame_codec_test.cc
  tests/unit/backend/process/process_worker_test.cc
  ${UNIT_TEST_EXTRA})
target_link_libraries(unit_tests PRIVATE modelgate_testing ${UNIT_TEST_LIBS} GTest::gtest_main)
add_test(NAME unit COMMAND unit_tests)

add_executable(worker_integration_test
  tests/integration/worker_test.cc
  tests/integration/conformance_test.cc)
target_link_libraries(worker_integration_test PRIVATE modelgate_testing nlohmann_json::nlohmann_json
  GTest::gtest_main)
add_dependencies(worker_integration_test bridge)
add_test(NAME worker_integration COMMAND worker_integration_test)
