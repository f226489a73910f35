#!/usr/bin/env bash
# Runs the libFuzzer harnesses built in a MODELGATE_FUZZ build directory.
#
#   fuzz.sh run BUILD SECONDS [JOBS]
#     Each fuzzer for SECONDS on a fresh copy of tests/fuzz/corpus/<name>
#     (the source corpus is never written), JOBS fuzzers at a time. Exits
#     non-zero if any crashed, timed out or ran out of memory, and prints
#     where the input was saved.
#   fuzz.sh regress BUILD
#     Every committed corpus file once, no mutation; names each file that
#     fails. Fast and deterministic: it proves every crash-* input is fixed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
FUZZERS=(rest_v2 rest_v1 grpc_request worker_frame content_coding)

# Per-input limits, shared by both modes so a regression fails the same way.
COMMON=(-timeout=10 -rss_limit_mb=2048)
max_len() {
  case $1 in
    rest_* | content_coding) echo $((1024 * 1024)) ;;  # REST bodies: deep nesting needs ~200 KB
    *) echo $((256 * 1024)) ;;        # protobuf messages and worker frames
  esac
}
# UBSan findings abort (the build does not recover); stacks for both.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0}

usage() { sed -n '2,12p' "$0" >&2; exit 2; }

# What went wrong: the sanitizer's or libFuzzer's headline, or a broken
# harness contract with the detail line that follows it.
first_error() {
  grep -m1 -A1 -E 'ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|runtime error|fuzz contract' "$1" |
    grep -vE '^ +#|^--$' | head -2 | cut -c1-200 | sed 's/^/  /'
}

# The first frames of the report's stack that are in modelgate's code (the
# sanitizer's, libFuzzer's, libc's and library internals left out).
top_frames() {
  grep -E '^ +#[0-9]+ ' "$1" | grep -E 'modelgate::|LLVMFuzzerTestOneInput' |
    grep -vE 'fuzz::Require' | awk '!seen[$0]++' | head -5 |
    sed -E 's/0x[0-9a-f]+ in //; s/^ +/    /' | cut -c1-200
}
[ $# -ge 2 ] || usage
mode=$1 build=$(cd "$2" && pwd) || exit 2

run_one() {  # name seconds -> exit status of the fuzzer; log in $work/log
  local name=$1 seconds=$2 work=$build/fuzz-run/$1
  rm -rf "$work" && mkdir -p "$work/corpus" "$work/artifacts"
  cp "$here/corpus/$name/"* "$work/corpus/"
  "$build/${name}_fuzz" "${COMMON[@]}" -max_len="$(max_len "$name")" \
    -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" "$work/corpus" >"$work/log" 2>&1
}

report_run() {  # name status
  local name=$1 status=$2 work=$build/fuzz-run/$1
  if [ "$status" -eq 0 ]; then
    local runs rss
    runs=$(awk '/^stat::number_of_executed_units:/ {print $2}' "$work/log")
    rss=$(awk '/^stat::peak_rss_mb:/ {print $2}' "$work/log")
    echo "fuzz: $name ok: $runs runs, peak RSS $rss MB, corpus now $(ls "$work/corpus" | wc -l) inputs"
    return 0
  fi
  echo "fuzz: $name FAILED (exit $status); log: $work/log"
  first_error "$work/log"
  top_frames "$work/log"
  local saved known
  saved=$(grep -oE "Test unit written to \S+" "$work/log" | awk '{print $NF}')
  for f in $saved; do
    echo "  input saved to $f"
    echo "  reproduce: $build/${name}_fuzz $f"
    known=$(for c in "$here/corpus/$name/"*; do cmp -s "$f" "$c" && echo "${c#"$here/"}"; done)
    if [ -n "$known" ]; then
      echo "  it is the committed input tests/fuzz/$known, still failing"
    else
      echo "  keep it: cp $f tests/fuzz/corpus/$name/crash-<what-it-does>"
    fi
  done
  return 1
}

case $mode in
  run)
    seconds=${3:?seconds}
    jobs=${4:-1}
    declare -A pid_of=()
    failed=0
    for name in "${FUZZERS[@]}"; do
      while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
      echo "fuzz: $name for ${seconds}s"
      run_one "$name" "$seconds" &
      pid_of[$name]=$!
    done
    for name in "${FUZZERS[@]}"; do
      wait "${pid_of[$name]}"
      report_run "$name" $? || failed=1
    done
    exit $failed
    ;;
  regress)
    failed=0 total_pass=0 total_fail=0
    for name in "${FUZZERS[@]}"; do
      n=0 bad=0
      for input in "$here/corpus/$name/"*; do
        n=$((n + 1))
        log=$build/fuzz-regress/$name/$(basename "$input").log
        mkdir -p "$(dirname "$log")"
        if ! "$build/${name}_fuzz" "${COMMON[@]}" "$input" >"$log" 2>&1; then
          bad=$((bad + 1))
          echo "fuzz-regress: $name FAILS on ${input#"$here/"}"
          first_error "$log"
          top_frames "$log" | head -3
          echo "  log: $log"
        fi
      done
      echo "fuzz-regress: $name: $((n - bad)) of $n inputs pass"
      total_pass=$((total_pass + n - bad)) total_fail=$((total_fail + bad))
      [ $bad -eq 0 ] || failed=1
    done
    # The plain closing line CI reads: every replayed input counts as a test.
    echo "fuzz-regress: $total_pass passed, $total_fail failed"
    exit $failed
    ;;
  *) usage ;;
esac
