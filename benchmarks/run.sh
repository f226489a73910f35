#!/usr/bin/env bash
# `make bench`: worker round trips and modelgate side by side with Rscript
# per request, plumber and gunicorn+Flask, with the issue's target table
# (benchmarks/compare.py), then the cost of metrics and access logging, then
# reload under load. Prints figures; asserts nothing but reload under load's
# failed requests (must be 0). BENCH_SECONDS (default 5) bounds each load run.
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
cmake --build "$build" -j2 --target benchmarks python_stubs >/dev/null

echo "== worker round trips, side by side, targets =="
/usr/bin/python3 benchmarks/compare.py "$build"
echo
echo "== metrics + access log on vs off =="
benchmarks/observability_overhead.sh "$build"
echo
echo "== reload under load =="
/usr/bin/python3 benchmarks/reload_under_load.py "$build"
