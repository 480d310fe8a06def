#!/usr/bin/env bash
# Catch-up reads against the engine's own (docs/benchmarks.md, section "Catch-up reads"; issue #18):
# for every backend, --runs rounds of (1) goethe-engine-bench `engine_read` (the comparison
# matrix's in-process figure: EventLog::Read in pages of 1000 over a fresh 200,000-event store),
# (2) a fresh goethe-server (sync off) that gets --events random 100-byte events through
# produce-stream, then `goethe-bench consume` of them all from the start with the cursor kept by
# the server, and (3) once that server has stopped, goethe-storage-bench --read-store: the engine
# reading the very same store in-process. Prints each rate, the medians and consume over each
# engine figure. With --server-b PATH each round also runs (2) and (3) on a second binary, A and B
# interleaved, for a before/after in one sitting. With --probe each round also runs the consume
# against goethe-grpc-probe (side G: gRPC alone, no log; bench/probes/grpc_probe.cc), the ceiling
# that gRPC and the client set for one stream on this machine.
#
# usage: scripts/bench-catch-up.sh [--backends leveldb,rocksdb,lmdb] [--events 2000000] [--runs 3]
#                                  [--server-b PATH] [--probe] [--build-dir DIR]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/bench/ab-lib.sh
BACKENDS=leveldb,rocksdb,lmdb
EVENTS=2000000
RUNS=3
BUILD_DIR=build
SERVER_B=""
PROBE=0

while [ $# -gt 0 ]; do
  case "$1" in
    --backends) need_value "$@"; BACKENDS=$2; shift 2 ;;
    --events) need_value "$@"; EVENTS=$2; shift 2 ;;
    --runs) need_value "$@"; RUNS=$2; shift 2 ;;
    --server-b) need_value "$@"; SERVER_B=$2; shift 2 ;;
    --probe) PROBE=1; shift ;;
    --build-dir) need_value "$@"; BUILD_DIR=$2; shift 2 ;;
    *) fail "unknown argument $1 (see the usage at the top of $0)" ;;
  esac
done
ENGINE_BENCH="$BUILD_DIR/bench/goethe-engine-bench"
STORAGE_BENCH="$BUILD_DIR/bench/goethe-storage-bench"
require_build "$ENGINE_BENCH" "$STORAGE_BENCH"

make_work bench-catch-up
# The RESULT line of goethe-bench consume of every event from the server at ADDR ("" on failure,
# its errors in $WORK/err).
consume_all() {
  "$BENCH" --server "$ADDR" --topic catch-up consume --events "$EVENTS" --consumer catch-up 2>"$WORK/err" |
    grep '^RESULT' || true
}

say "catch-up of $EVENTS events against engine_read, $RUNS run(s) per backend; load $(cut -d' ' -f1-3 /proc/loadavg)"
for backend in ${BACKENDS//,/ }; do
  for run in $(seq "$RUNS"); do
    "$ENGINE_BENCH" --backends="$backend" --random-payloads --data-dir="$WORK/engine" \
      --benchmark_filter="^engine_read/$backend/" --benchmark_out="$WORK/engine.csv" --benchmark_out_format=csv \
      >/dev/null 2>&1 || fail "goethe-engine-bench engine_read/$backend failed"
    # CSV columns: name, iterations, real_time, cpu_time, time_unit, bytes_per_second, items_per_second, ...
    rate=$(awk -F, '/^"engine_read/ {print int($7)}' "$WORK/engine.csv" | head -n1)
    rm -rf "$WORK/engine"
    [ -n "$rate" ] || fail "goethe-engine-bench engine_read/$backend printed no rate"
    echo "$backend engine $rate" >>"$WORK/rates"
    say "  $backend run $run: engine_read $rate ev/s"
    for side in $(sides_for "$run"); do
      start_server "$WORK/server" "$(binary_of "$side")" "$backend"
      "$BENCH" --server "$ADDR" --topic catch-up --random-payloads produce-stream --events "$EVENTS" >/dev/null 2>&1 ||
        fail "produce-stream to the $backend server ($side) failed"
      line=$(consume_all)
      stop_server
      [ -n "$line" ] || fail "consume from the $backend server ($side) failed: $(tail -n2 "$WORK/err")"
      same=$("$STORAGE_BENCH" --backend "$backend" --read-store "$WORK/server/data" --topic catch-up 2>"$WORK/err" |
        grep '^RESULT' || true)
      [ -n "$same" ] || fail "reading the $backend server's store in-process failed: $(tail -n2 "$WORK/err")"
      echo "$backend $side $(field "$line" rate) $(field "$same" rate)" >>"$WORK/rates"
      say "  $backend run $run: consume ($side) $(field "$line" rate) ev/s; the same store in-process $(field "$same" rate) ev/s"
    done
    if [ "$PROBE" = 1 ]; then
      start_probe "$WORK/probe" --catch-up-events "$EVENTS"
      line=$(consume_all)
      stop_server
      [ -n "$line" ] || fail "consume from goethe-grpc-probe failed: $(tail -n2 "$WORK/err")"
      echo "$backend G $(field "$line" rate) nan" >>"$WORK/rates"
      say "  $backend run $run: consume (G, gRPC alone) $(field "$line" rate) ev/s"
    fi
  done
done
echo
printf '%-8s %-5s %16s %16s %16s %18s %16s\n' backend side "engine_read ev/s" "same store ev/s" "consume ev/s" \
  "/ engine_read" "/ same store"
for backend in ${BACKENDS//,/ }; do
  engine=$(awk -v b="$backend" '$1 == b && $2 == "engine" {print $3}' "$WORK/rates" | median)
  for side in $ALL_SIDES; do
    consume=$(awk -v b="$backend" -v s="$side" '$1 == b && $2 == s {print $3}' "$WORK/rates" | median)
    same=$(awk -v b="$backend" -v s="$side" '$1 == b && $2 == s {print $4}' "$WORK/rates" | median)
    printf '%-8s %-5s %16.0f %16.0f %16.0f %18.2f %16.2f\n' "$backend" "$side" "$engine" "$same" "$consume" \
      "$(awk -v c="$consume" -v e="$engine" 'BEGIN {print c / e}')" "$(awk -v c="$consume" -v e="$same" 'BEGIN {print c / e}')"
  done
done
