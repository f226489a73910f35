# Sanitizer builds. Included before any target so every library, test and the
# daemon get the same instrumentation (mixing instrumented and plain objects
# of this project would hide container overflows and vptr mismatches).
#
# MODELGATE_SANITIZE: ASan + UBSan, gcc or clang; `make test-sanitize` builds
#   build-asan with it and runs ctest there. UBSan does not recover, so a
#   finding fails the process like an ASan report does.
# MODELGATE_FUZZ: clang only; the same sanitizers plus libFuzzer coverage
#   instrumentation, and only the libraries and the harnesses of tests/fuzz
#   (see cmake/fuzz.cmake). `make fuzz` / `make fuzz-regress` use it.
option(MODELGATE_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
option(MODELGATE_FUZZ "Build the libFuzzer harnesses of tests/fuzz (clang only)" OFF)

# -fno-sanitize=vptr: Boost.System 1.74's error categories are constexpr
# objects, and UBSan's vptr check reports every virtual call on them
# (error_code comparisons in Asio) as "not an object of type error_category";
# it halts the daemon on its first accept error. A known false positive.
set(MODELGATE_SANITIZER_FLAGS -fsanitize=address,undefined -fno-sanitize=vptr
  -fno-sanitize-recover=undefined -fno-omit-frame-pointer)

if(MODELGATE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "MODELGATE_FUZZ needs clang (libFuzzer): configure with "
      "-DCMAKE_CXX_COMPILER=clang++-14, as `make fuzz` does")
  endif()
  # -O1: libFuzzer's usual trade between executions per second and stacks
  # that still name every frame. Assertions stay on (configure as Debug).
  add_compile_options(${MODELGATE_SANITIZER_FLAGS} -fsanitize=fuzzer-no-link -O1)
  add_link_options(${MODELGATE_SANITIZER_FLAGS})
elseif(MODELGATE_SANITIZE)
  add_compile_options(${MODELGATE_SANITIZER_FLAGS})
  add_link_options(${MODELGATE_SANITIZER_FLAGS})
endif()
