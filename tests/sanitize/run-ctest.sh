#!/usr/bin/env bash
# Runs ctest in a MODELGATE_SANITIZE build (make test-sanitize): unit and
# integration suites, the Python tests driving the instrumented daemon.
#
# Every instrumented process (test binaries, each daemon the tests start)
# writes its sanitizer reports to BUILD/sanitizer-logs/ instead of stderr:
# a daemon that a test stops without checking its exit code must not hide
# a report. Any report fails the run, even when every test passed.
set -uo pipefail
build=$(cd "${1:?usage: run-ctest.sh BUILD}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
logs=$build/sanitizer-logs
rm -rf "$logs" && mkdir -p "$logs"

# detect_leaks stays on; lsan.supp lists the one-time allocations of
# libraries we link (not our code) that are still reachable only through
# globals at exit.
export ASAN_OPTIONS="log_path=$logs/asan:detect_leaks=1:check_initialization_order=1"
export LSAN_OPTIONS="suppressions=$here/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="log_path=$logs/ubsan:print_stacktrace=1:halt_on_error=1"

start=$(date +%s)
(cd "$build" && ctest --output-on-failure --timeout 900 -E deploy)
status=$?
echo "test-sanitize: ctest took $(($(date +%s) - start)) s"

reports=$(find "$logs" -type f | sort)
if [ -n "$reports" ]; then
  for r in $reports; do
    echo "==== sanitizer report $r"
    head -c 20000 "$r"
  done
  echo "test-sanitize: $(echo "$reports" | wc -l) sanitizer report(s) in $logs"
  status=1
fi
exit $status
