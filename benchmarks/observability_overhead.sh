#!/usr/bin/env bash
# Throughput with metrics and access logging on vs off, one daemon at a time,
# alternating rounds in the same run; prints each round and the medians.
# Loopback only; every load run is bounded (BENCH_SECONDS, default 4).
set -euo pipefail
build=${1:-build}
seconds=${BENCH_SECONDS:-4}
rounds=${BENCH_ROUNDS:-3}
cmake --build "$build" -j2 --target benchmarks >/dev/null
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

run_round() {  # $1: on|off  -> prints rps
  local http grpc metrics flags log pid rps
  http=$(port); grpc=$(port); metrics=$(port)
  if [ "$1" = on ]; then flags="--metrics true --access-log true"; else flags="--metrics false --access-log false"; fi
  log=$(mktemp)
  # shellcheck disable=SC2086
  "$build"/modelgate --model-repository examples/models --host 127.0.0.1 --http-port "$http" \
    --grpc-port "$grpc" --metrics-port "$metrics" $flags >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 600); do
    curl -fs "http://127.0.0.1:$http/v2/health/ready" >/dev/null 2>&1 && break
    sleep 0.1
  done
  rps=$("$build"/mg_loadgen --protocol http --port "$http" --model iris_species --concurrency 8 \
        --seconds "$seconds" | sed -n 's/.* rps=\([0-9]*\).*/\1/p')
  kill -TERM "$pid"; wait "$pid" || true
  rm -f "$log"
  echo "$rps"
}

on=(); off=()
for r in $(seq 1 "$rounds"); do
  a=$(run_round on); b=$(run_round off)
  on+=("$a"); off+=("$b")
  echo "round $r: metrics+access log on ${a} req/s, off ${b} req/s"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mon=$(median "${on[@]}"); moff=$(median "${off[@]}")
awk -v on="$mon" -v off="$moff" 'BEGIN {printf "median: on %d req/s, off %d req/s, on/off = %.3f\n", on, off, on/off}'
