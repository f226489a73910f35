# install(): `cmake --install build --prefix P` gives
#   P/bin/modelgate
#   P/bin/modelgate-worker          the native worker host (embeds R and Python)
#   P/share/doc/modelgate/README.md
# The installed daemon finds its worker host beside itself without
# --worker-host (server/worker_host_path.h), as the build tree's does.
install(TARGETS modelgate RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(TARGET modelgate-worker)  # not in a fuzz build
  install(TARGETS modelgate-worker RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
