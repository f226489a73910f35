#!/usr/bin/env bash
# `make bench`: worker round trips, then end-to-end load against the real
# daemon on loopback (REST and gRPC, concurrency 1 and 16), all in one run.
# Prints figures; asserts nothing. Every load run is bounded in time and count.
set -euo pipefail
build=${1:-build}
seconds=${BENCH_SECONDS:-5}
cmake --build "$build" -j2 --target benchmarks >/dev/null

echo "== worker round trip (C++ process layer) =="
"$build"/worker_roundtrip 2000 2>/dev/null

ports=$(/usr/bin/python3 -c 'import socket
s=[socket.socket() for _ in range(3)]
[x.bind(("127.0.0.1",0)) for x in s]
print(" ".join(str(x.getsockname()[1]) for x in s))')
read -r http grpc metrics <<<"$ports"
log=$(mktemp)
"$build"/modelgate --model-repository examples/models --host 127.0.0.1 --http-port "$http" \
  --grpc-port "$grpc" --metrics-port "$metrics" --access-log false >"$log" 2>&1 &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null; wait $daemon 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 1 600); do
  curl -fs "http://127.0.0.1:$http/v2/health/ready" >/dev/null 2>&1 && break
  sleep 0.1
done

echo
echo "== end to end, 1-row predict, ${seconds}s per row =="
for c in 1 16; do
  for model in mtcars_am iris_species; do
    "$build"/mg_loadgen --protocol http --port "$http" --model "$model" --concurrency "$c" --seconds "$seconds"
    "$build"/mg_loadgen --protocol grpc --port "$grpc" --model "$model" --concurrency "$c" --seconds "$seconds"
  done
done
echo
echo "daemon RSS: $(awk '/VmRSS/ {print $2, $3}' /proc/$daemon/status)"
