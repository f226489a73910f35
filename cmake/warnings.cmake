# Warnings, per target: modelgate_warnings(target) gives one of this project's
# targets the project's warning set (modelgate_library() calls it; the binary,
# tests, benchmarks and fuzzers call it themselves). Code this project does not
# write (generated protobuf and gRPC sources) is compiled with -w instead.
#
# MODELGATE_WERROR: warnings fail the build; `make test` (and so CI) sets it.
# Clang also runs its thread-safety analysis (common/thread_annotations.h),
# always as an error: the fuzz build (clang-14, part of .ci/run) enforces it.
option(MODELGATE_WERROR "Treat compiler warnings as errors (make test and CI set it)" OFF)

add_library(modelgate_warnings INTERFACE)
target_compile_options(modelgate_warnings INTERFACE
  -Wall -Wextra -Wno-unused-parameter
  # gcc's flow analysis reports std::optional/std::variant members as
  # "may be used uninitialized" in inlined library code: false positives.
  $<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized>
  $<$<CXX_COMPILER_ID:Clang>:-Wthread-safety -Werror=thread-safety>
  $<$<BOOL:${MODELGATE_WERROR}>:-Werror>)

function(modelgate_warnings target)
  target_link_libraries(${target} PRIVATE modelgate_warnings)
endfunction()
