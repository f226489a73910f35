#!/usr/bin/env bash
# `make bench`: worker round trips, then modelgate side by side with Rscript
# per request, plumber and gunicorn+Flask (benchmarks/compare.py), then the
# cost of metrics and access logging, then reload under load. Prints
# figures; asserts nothing but reload under load's failed requests (must be 0).
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
cmake --build "$build" -j2 --target benchmarks python_stubs >/dev/null

echo "== worker round trip (C++ process layer) =="
"$build"/worker_roundtrip 2000 2>/dev/null
echo
echo "== side by side =="
/usr/bin/python3 benchmarks/compare.py "$build"
echo
echo "== metrics + access log on vs off =="
benchmarks/observability_overhead.sh "$build"
echo
echo "== reload under load =="
/usr/bin/python3 benchmarks/reload_under_load.py "$build"
