#!/usr/bin/env bash
# Memory of streams that caught up and now wait (docs/benchmarks.md, "Events written straight in
# wire format"): a fresh server (LevelDB, sync off) gets --events events of --payload-bytes, then
# --streams `goethe-cli consume --from beginning --follow` processes (one connection each) read
# them all and wait for more; the server's resident memory is read before they start and
# --settle seconds after, and the cost per stream printed. Replaying a topic and then waiting is
# what an event-sourced service's projections do at start.
# With --server-b PATH every run is made on both binaries, interleaved, for a before/after.
#
# usage: scripts/bench-idle-after-catch-up.sh [--streams 40] [--events 1500] [--payload-bytes 1000]
#                                             [--settle 6] [--runs 3] [--server-b PATH] [--build-dir DIR]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/bench/ab-lib.sh
STREAMS=40
EVENTS=1500
PAYLOAD_BYTES=1000
SETTLE=6
RUNS=3
BUILD_DIR=build
SERVER_B=""

while [ $# -gt 0 ]; do
  case "$1" in
    --streams) need_value "$@"; STREAMS=$2; shift 2 ;;
    --events) need_value "$@"; EVENTS=$2; shift 2 ;;
    --payload-bytes) need_value "$@"; PAYLOAD_BYTES=$2; shift 2 ;;
    --settle) need_value "$@"; SETTLE=$2; shift 2 ;;
    --runs) need_value "$@"; RUNS=$2; shift 2 ;;
    --server-b) need_value "$@"; SERVER_B=$2; shift 2 ;;
    --build-dir) need_value "$@"; BUILD_DIR=$2; shift 2 ;;
    *) fail "unknown argument $1 (see the usage at the top of $0)" ;;
  esac
done
CLI="$BUILD_DIR/server/goethe-cli"
require_build "$CLI"

make_work bench-idle
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
readers=()
stop_readers() {
  [ ${#readers[@]} = 0 ] || kill "${readers[@]}" 2>/dev/null || true
  wait "${readers[@]}" 2>/dev/null || true
  readers=()
}
trap 'stop_readers; cleanup_work' EXIT

say "$STREAMS streams catch up $EVENTS events of $PAYLOAD_BYTES bytes, then wait; $RUNS run(s) per side"
declare -A PER_STREAM=()
for run in $(seq "$RUNS"); do
  for side in $(sides_for "$run"); do
    start_server "$WORK/$side" "$(binary_of "$side")" leveldb
    "$BENCH" --server "$ADDR" --topic replayed --payload-bytes "$PAYLOAD_BYTES" produce-stream --events "$EVENTS" \
      >/dev/null 2>"$WORK/produce.err" || fail "producing failed: $(tail -n2 "$WORK/produce.err")"
    before=$(rss_kib "$SERVER_PID")
    : >"$WORK/read.out"
    for _ in $(seq "$STREAMS"); do
      "$CLI" --server "$ADDR" consume replayed --from beginning --follow >>"$WORK/read.out" 2>&1 &
      readers+=($!)
    done
    sleep "$SETTLE"
    after=$(rss_kib "$SERVER_PID")
    # Every reader must have caught up (a line per event) for the figure to mean anything.
    delivered=$(wc -l <"$WORK/read.out")
    stop_readers
    stop_server
    per_stream=$(((after - before) / STREAMS))
    PER_STREAM[$side]+="$per_stream "
    say "run $run, $side: resident $before KiB before, $after KiB with the streams: $per_stream KiB each ($delivered lines read in all)"
    [ "$delivered" -ge $((STREAMS * EVENTS)) ] || fail "the readers had not caught up after $SETTLE s: raise --settle"
  done
done

echo
for side in $SIDES; do
  echo "$side: $(tr ' ' '\n' <<<"${PER_STREAM[$side]}" | median) KiB per waiting stream (median of $RUNS)"
done
