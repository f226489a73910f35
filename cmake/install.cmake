# install(): `cmake --install build --prefix P` gives
#   P/bin/modelgate
#   P/share/modelgate/bridge/{R,python,proto}   the worker runtimes
#   P/share/doc/modelgate/README.md
# The installed daemon finds its runtimes without --bridge-dir: its default is
# <directory of the executable>/../share/modelgate/bridge when that exists,
# else the build tree's bridge/ (server/bridge_dir.h).
set(MODELGATE_INSTALL_BRIDGE_DIR ${CMAKE_INSTALL_DATADIR}/modelgate/bridge)
install(TARGETS modelgate RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# Bytecode a worker wrote into the build tree's copy is not installed.
install(DIRECTORY ${BRIDGE_DIR}/ DESTINATION ${MODELGATE_INSTALL_BRIDGE_DIR}
  PATTERN __pycache__ EXCLUDE)
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The bridge directory relative to the binary's (or absolute, when the
# install directories are).
file(RELATIVE_PATH MODELGATE_BRIDGE_FROM_BINDIR ${CMAKE_INSTALL_FULL_BINDIR}
  ${CMAKE_INSTALL_FULL_DATADIR}/modelgate/bridge)
if(IS_ABSOLUTE ${CMAKE_INSTALL_DATADIR})
  set(MODELGATE_BRIDGE_FROM_BINDIR ${CMAKE_INSTALL_FULL_DATADIR}/modelgate/bridge)
endif()
target_compile_definitions(modelgate_options PRIVATE
  MODELGATE_BRIDGE_FROM_BINDIR="${MODELGATE_BRIDGE_FROM_BINDIR}"
  MODELGATE_BUILD_BRIDGE_DIR="${BRIDGE_DIR}")
