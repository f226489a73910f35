# Offline chart, systemd and Dockerfile checks (MODELGATE_DEPLOY_CHECKS=ON;
# `make test` sets it). Needs Go (chart-render) and npm (the schema checks);
# a default build needs neither. Everything lands in the build tree: npm ci
# installs deploy/checks' locked modules into build/deploy-checks beside a
# copy of validate.mjs, never into the source tree.
find_program(GO_EXECUTABLE go REQUIRED)
find_program(NPM_EXECUTABLE npm REQUIRED)
set(TEST_PYTHON /usr/bin/python3 CACHE FILEPATH "Python with numpy and grpcio for the tests")

set(CHART_RENDER ${CMAKE_BINARY_DIR}/chart-render)
add_custom_command(OUTPUT ${CHART_RENDER}
  COMMAND ${CMAKE_COMMAND} -E env GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS=
          GOCACHE=${CMAKE_BINARY_DIR}/go-cache
          ${GO_EXECUTABLE} build -o ${CHART_RENDER} .
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}/deploy/tools/chart-render
  DEPENDS ${CMAKE_SOURCE_DIR}/deploy/tools/chart-render/main.go)

# validate.mjs resolves its imports from its own directory (ES modules ignore
# NODE_PATH), so it runs from the copy beside the installed node_modules.
set(CHART_CHECKS ${CMAKE_BINARY_DIR}/deploy-checks)
set(CHECKS_SRC ${CMAKE_SOURCE_DIR}/deploy/checks)
add_custom_command(OUTPUT ${CHART_CHECKS}/npm-ci.stamp
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CHART_CHECKS}
  COMMAND ${CMAKE_COMMAND} -E copy ${CHECKS_SRC}/package.json ${CHECKS_SRC}/package-lock.json
          ${CHART_CHECKS}/
  COMMAND ${NPM_EXECUTABLE} ci --prefix ${CHART_CHECKS} --prefer-offline --no-audit --no-fund
          --loglevel=error
  COMMAND ${CMAKE_COMMAND} -E touch ${CHART_CHECKS}/npm-ci.stamp
  DEPENDS ${CHECKS_SRC}/package.json ${CHECKS_SRC}/package-lock.json)
add_custom_command(OUTPUT ${CHART_CHECKS}/validate.mjs
  COMMAND ${CMAKE_COMMAND} -E copy ${CHECKS_SRC}/validate.mjs ${CHART_CHECKS}/validate.mjs
  DEPENDS ${CHECKS_SRC}/validate.mjs ${CHART_CHECKS}/npm-ci.stamp)
add_custom_target(chart_checks ALL DEPENDS ${CHART_RENDER} ${CHART_CHECKS}/validate.mjs)

add_test(NAME deploy_chart
  COMMAND ${TEST_PYTHON} -m unittest -v test_chart
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}/tests/deploy)
set_tests_properties(deploy_chart PROPERTIES ENVIRONMENT
  "MODELGATE_SOURCE_DIR=${CMAKE_SOURCE_DIR};MODELGATE_CHART_RENDER=${CHART_RENDER};MODELGATE_CHART_CHECKS=${CHART_CHECKS};MODELGATE_BINARY=$<TARGET_FILE:modelgate>;PYTHONDONTWRITEBYTECODE=1")

# The dashboard and alert rules (issue 15): promtool on the rendered rules,
# then a real Prometheus scraping a real daemon on loopback.
find_program(PROMETHEUS_EXECUTABLE prometheus REQUIRED)
find_program(PROMTOOL_EXECUTABLE promtool REQUIRED)
add_test(NAME deploy_monitoring
  COMMAND ${TEST_PYTHON} -m unittest -v test_monitoring
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}/tests/deploy)
set_tests_properties(deploy_monitoring PROPERTIES TIMEOUT 300 ENVIRONMENT
  "MODELGATE_SOURCE_DIR=${CMAKE_SOURCE_DIR};MODELGATE_CHART_RENDER=${CHART_RENDER};MODELGATE_PROMETHEUS=${PROMETHEUS_EXECUTABLE};MODELGATE_PROMTOOL=${PROMTOOL_EXECUTABLE};MODELGATE_BINARY=$<TARGET_FILE:modelgate>;PYTHONDONTWRITEBYTECODE=1")
