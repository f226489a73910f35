# modelgate-worker: the native worker host (rscript_bridge/host/), one
# executable embedding libR (r-base-dev) and CPython with numpy (python3-dev,
# python3-numpy). It shares the daemon's frame codec (modelgate_ipc).
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBR REQUIRED IMPORTED_TARGET libR)
set(Python3_EXECUTABLE /usr/bin/python3 CACHE FILEPATH "The Python the worker embeds")
find_package(Python3 3.9 REQUIRED COMPONENTS Interpreter Development.Embed NumPy)

# python_path validation: plain C++ (unit-tested without an interpreter).
add_library(modelgate_python_path STATIC rscript_bridge/host/python_path_check.cc)
target_include_directories(modelgate_python_path PUBLIC ${CMAKE_SOURCE_DIR}/rscript_bridge/host)
modelgate_warnings(modelgate_python_path)

# The host: its libraries and executable, each name ending in `suffix`.
function(modelgate_add_worker_host suffix)
  # The frame loop with the daemon's own codec: the same sources
  # (frame_codec.cc, the generated worker.pb.cc) compiled into the host, so
  # that in a MODELGATE_SANITIZE build the daemon's host can be built
  # without the sanitizers (below) while the daemon's libraries keep them.
  add_library(modelgate_worker_host${suffix} STATIC rscript_bridge/host/serve_loop.cc
    src/backend/ipc/frame_codec.cc ${GEN_DIR}/proto/worker.pb.cc)
  add_dependencies(modelgate_worker_host${suffix} modelgate_worker_proto)
  target_include_directories(modelgate_worker_host${suffix} PUBLIC
    ${CMAKE_SOURCE_DIR}/rscript_bridge/host ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR}/include
    ${GEN_DIR} ${GEN_DIR}/proto)
  target_link_libraries(modelgate_worker_host${suffix} PUBLIC protobuf::libprotobuf)
  modelgate_warnings(modelgate_worker_host${suffix})
  set_source_files_properties(${GEN_DIR}/proto/worker.pb.cc PROPERTIES GENERATED TRUE
    COMPILE_OPTIONS -w)

  # Each interpreter's C API in a library of its own, so its headers (R's
  # macros in particular) never meet the other's.
  add_library(modelgate_worker_r${suffix} STATIC rscript_bridge/host/r_runtime.cc
    rscript_bridge/host/r_inputs.cc rscript_bridge/host/r_outputs.cc rscript_bridge/host/r_layout.cc
    rscript_bridge/host/r_prelude.cc)
  target_include_directories(modelgate_worker_r${suffix} PRIVATE ${CMAKE_SOURCE_DIR}/src)
  # R_HOME for a worker started without it (Rf_initEmbeddedR needs it).
  pkg_get_variable(LIBR_RHOME libR rhome)
  target_compile_definitions(modelgate_worker_r${suffix} PRIVATE MODELGATE_R_HOME="${LIBR_RHOME}")
  target_link_libraries(modelgate_worker_r${suffix} PUBLIC modelgate_worker_host${suffix}
    PkgConfig::LIBR)
  modelgate_warnings(modelgate_worker_r${suffix})

  add_library(modelgate_worker_python${suffix} STATIC
    rscript_bridge/host/python_common.cc
    rscript_bridge/host/python_inputs.cc
    rscript_bridge/host/python_model.cc
    rscript_bridge/host/python_runtime.cc
    rscript_bridge/host/python_tensors.cc)
  target_include_directories(modelgate_worker_python${suffix} PRIVATE ${CMAKE_SOURCE_DIR}/src)
  # sys.executable and the prefix come from the Python the worker embeds.
  target_compile_definitions(modelgate_worker_python${suffix} PRIVATE
    MODELGATE_PYTHON_EXECUTABLE="${Python3_EXECUTABLE}")
  target_link_libraries(modelgate_worker_python${suffix} PUBLIC modelgate_worker_host${suffix}
    modelgate_python_path Python3::Python Python3::NumPy)
  modelgate_warnings(modelgate_worker_python${suffix})

  add_executable(modelgate-worker${suffix} rscript_bridge/host/main.cc)
  target_link_libraries(modelgate-worker${suffix} PRIVATE modelgate_worker_r${suffix}
    modelgate_worker_python${suffix})
  modelgate_warnings(modelgate-worker${suffix})
endfunction()

modelgate_add_worker_host("")

# A worker runs under its model's RLIMIT_AS (16 GiB by default), and an ASan
# process cannot start under it: its shadow memory reserves terabytes of
# address space. So a MODELGATE_SANITIZE build makes the daemon's host
# without sanitizers, and a second, instrumented one, modelgate-worker-asan,
# which the host tests drive directly, without RLIMIT_AS (cmake/tests.cmake:
# worker_host_sanitized). The interpreters it embeds are not instrumented.
if(MODELGATE_SANITIZE)
  foreach(t modelgate_worker_host modelgate_worker_r modelgate_python_path modelgate_worker_python
      modelgate-worker)
    target_compile_options(${t} PRIVATE -fno-sanitize=all)
  endforeach()
  target_link_options(modelgate-worker PRIVATE -fno-sanitize=all)
  modelgate_add_worker_host("-asan")
endif()
