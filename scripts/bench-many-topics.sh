#!/usr/bin/env bash
# Sustained writes to many topics (docs/benchmarks.md, section "Many topics"; issue #18): one server
# per backend gets --steps steps of `goethe-bench produce-stream --topics N` (batches of 100 events,
# one batch to each topic in turn, random 100-byte payloads), --step-events events each, and the rate
# of every step is printed with the store's size after it and the server's CPU time in it; the last
# line per backend is the last step's rate over the first's. --options adds storage.options (YAML flow
# mapping, e.g. "{write_buffer_size: 64MiB}") to try a tuning; --key-order time gives the servers
# engine.key_order: time (events ordered by time first, docs/storage.md); --server-b PATH runs every backend on a
# second binary too, A and B interleaved step by step on two servers, for a before/after in one
# sitting. --runs R repeats it all R times per backend on fresh servers and prints each run's figures
# and their medians: one run's last/first swings by up to 0.3 on this machine, on LMDB by more.
# --read-topics K then reads K of the topics (spread over them) of each run's store in-process once its
# server has stopped (goethe-storage-bench --read-store, one after the other in one process) and prints
# the first topic's rate (nothing cached yet) and the median of the others': what a reader pays for
# the layout (ordered by time, a topic's events lie in many segments).
# Servers run on free loopback ports with sync off, in a temporary folder, stopped on exit.
#
# usage: scripts/bench-many-topics.sh [--backends leveldb,rocksdb,lmdb] [--topics 10000] [--steps 10]
#                                     [--step-events 1000000] [--options YAML] [--key-order topic|time]
#                                     [--server-b PATH] [--read-topics K]
#                                     [--runs 1] [--build-dir DIR]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/bench/ab-lib.sh
BACKENDS=leveldb,rocksdb,lmdb
TOPICS=10000
STEPS=10
STEP_EVENTS=1000000
OPTIONS=""
KEY_ORDER=""
BUILD_DIR=build
SERVER_B=""
RUNS=1
READ_TOPICS=0

while [ $# -gt 0 ]; do
  case "$1" in
    --backends) need_value "$@"; BACKENDS=$2; shift 2 ;;
    --topics) need_value "$@"; TOPICS=$2; shift 2 ;;
    --steps) need_value "$@"; STEPS=$2; shift 2 ;;
    --step-events) need_value "$@"; STEP_EVENTS=$2; shift 2 ;;
    --options) need_value "$@"; OPTIONS=$2; shift 2 ;;
    --key-order) need_value "$@"; KEY_ORDER=$2; shift 2 ;;
    --server-b) need_value "$@"; SERVER_B=$2; shift 2 ;;
    --runs) need_value "$@"; RUNS=$2; shift 2 ;;
    --read-topics) need_value "$@"; READ_TOPICS=$2; shift 2 ;;
    --build-dir) need_value "$@"; BUILD_DIR=$2; shift 2 ;;
    *) fail "unknown argument $1 (see the usage at the top of $0)" ;;
  esac
done
STORAGE_BENCH="$BUILD_DIR/bench/goethe-storage-bench"
if [ "$READ_TOPICS" -gt 0 ]; then require_build "$STORAGE_BENCH"; else require_build; fi

make_work bench-many-topics
STORAGE_OPTIONS=""
[ -z "$OPTIONS" ] || STORAGE_OPTIONS="  options: $OPTIONS
"
[ -z "$KEY_ORDER" ] || STORAGE_OPTIONS+="engine:
  key_order: $KEY_ORDER
"
declare -A PID ADDR  # by side, while a backend runs
# The CPU time a server spent between two cpu_split readings: where a sinking rate goes (LMDB's sank
# with its kernel time, writing pages into the page cache; see docs/config.md).
cpu_spent() { # before, after
  awk -v b="$1" -v a="$2" 'BEGIN {split(b, x); split(a, y); printf "%.2f s user + %.2f s kernel", y[1] - x[1], y[2] - x[2]}'
}

# Reads READ_TOPICS topics of the stopped server's store in one process; prints the first one's rate
# and the median of the others'.
read_topics() { # backend, side, run
  local i topics="" results
  for i in $(seq 0 $((READ_TOPICS - 1))); do topics+="${topics:+,}many-$((i * TOPICS / READ_TOPICS))"; done
  results=$("$STORAGE_BENCH" --backend "$1" --read-store "$WORK/$2/data" --topic "$topics" 2>"$WORK/read.err" |
    grep '^RESULT' || true)
  [ "$(grep -c . <<<"$results")" = "$READ_TOPICS" ] || fail "reading $1 run $3 on $2 failed: $(tail -n2 "$WORK/read.err")"
  say "  $1 $2 run $3: a topic read in-process ($(field "$(head -n1 <<<"$results")" n) events): first" \
    "$(field "$(head -n1 <<<"$results")" rate) ev/s, median of the next $((READ_TOPICS - 1))" \
    "$(tail -n +2 <<<"$results" | while read -r line; do field "$line" rate; done | median | xargs printf "%.0f") ev/s"
}

say "produce-stream round-robin over $TOPICS topics, $STEPS steps of $STEP_EVENTS events, options '${OPTIONS:-none}', key order ${KEY_ORDER:-topic}; load $(cut -d' ' -f1-3 /proc/loadavg)"
for backend in ${BACKENDS//,/ }; do
  for run in $(seq "$RUNS"); do
    for side in $SIDES; do
      launch_server "$WORK/$side" "$(binary_of "$side")" "$backend" "$STORAGE_OPTIONS"
      PID[$side]=$LAUNCHED_PID ADDR[$side]=$LAUNCHED_ADDR
    done
    for step in $(seq "$STEPS"); do
      for side in $(sides_for "$step"); do
        cpu_before=$(cpu_split "${PID[$side]}")
        line=$("$BENCH" --server "${ADDR[$side]}" --topic many --random-payloads produce-stream --topics "$TOPICS" \
          --events "$STEP_EVENTS" 2>"$WORK/bench.err" | grep '^RESULT' || true)
        [ -n "$line" ] || fail "$backend run $run step $step on $side failed: $(tail -n2 "$WORK/bench.err")"
        # A compaction may remove a file while du counts: du then complains but still gives the sum.
        size=$(du -sm "$WORK/$side/data" 2>/dev/null | cut -f1 || true)
        cpu=$(cpu_spent "$cpu_before" "$(cpu_split "${PID[$side]}")")
        echo "$backend $side $run $step $(field "$line" rate) $size $(field "$line" secs)" >>"$WORK/steps"
        say "  $backend $side run $run step $step: $(field "$line" rate) ev/s, store $size MiB, server CPU $cpu"
      done
    done
    for side in $SIDES; do
      stop_pid "${PID[$side]}"
      [ "$READ_TOPICS" -gt 0 ] && read_topics "$backend" "$side" "$run"
    done
  done
done
# One run's figures: first, median and last step's rate, last/first, the overall rate (all events over
# all steps' time) and last3/first3 (the same over the last and the first three steps, steadier than
# single steps when compaction stalls come and go).
run_figures() { # backend, side, run
  local steps  # that run's lines: step, rate, seconds
  steps=$(awk -v b="$1" -v s="$2" -v r="$3" '$1 == b && $2 == s && $3 == r {print $4, $5, $7}' "$WORK/steps")
  awk -v median="$(cut -d' ' -f2 <<<"$steps" | median)" -v e="$STEP_EVENTS" -v k="$STEPS" '
    NR == 1 {first = $2}
    {last = $2; t += $3; if ($1 <= 3) f += $3; if ($1 > k - 3) l += $3}
    END {printf "%s %s %s %.4f %.0f %.4f\n", first, median, last, last / first, NR * e / t, f / l}' <<<"$steps"
}
row() { printf '%-8s %-5s %-6s %12.0f %12.0f %12.0f %10.2f %12.0f %12.2f\n' "$@"; }
echo
printf '%-8s %-5s %-6s %12s %12s %12s %10s %12s %12s\n' backend side run "first ev/s" "median ev/s" "last ev/s" \
  last/first "overall ev/s" "last3/first3"
for backend in ${BACKENDS//,/ }; do
  for side in $SIDES; do
    : >"$WORK/runs"
    for run in $(seq "$RUNS"); do
      figures=$(run_figures "$backend" "$side" "$run")
      echo "$figures" >>"$WORK/runs"
      # shellcheck disable=SC2086  # the figures are six numbers
      row "$backend" "$side" "$run" $figures
    done
    if [ "$RUNS" -gt 1 ]; then
      medians=$(for column in 1 2 3 4 5 6; do awk -v c="$column" '{print $c}' "$WORK/runs" | median; done)
      # shellcheck disable=SC2086
      row "$backend" "$side" median $medians
    fi
  done
done
