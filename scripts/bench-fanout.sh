#!/usr/bin/env bash
# Live-tail fan-out (docs/benchmarks.md, section "Live-tail fan-out"; issue #18):
#   1. latency as the number of tailing streams grows: goethe-bench tail-fanout with --consumers N
#      (each N of --counts) at --rate events/s for --seconds, --runs runs each on a fresh server,
#      the median of p50 and p99 over the runs, and the client's own CPU share;
#   2. memory: the server's resident memory before and while --idle read-only streams tail a topic
#      that gets one event a second, and the cost per stream.
# With --server-b PATH every run is made on both binaries, interleaved (A, B, B, A, ...), for a
# before/after comparison in one sitting. With --probe every run is also made on
# goethe-grpc-probe (side G: gRPC alone, no log; bench/probes/grpc_probe.cc), the floor that
# gRPC sets on this machine; --probe-cq adds side Q, the probe with its tails on gRPC's
# completion-queue API instead of the callback API (implies --probe). --clients "grpc h2" runs every
# count with each of tail-fanout's clients in turn, each on a fresh server: grpc (callback reactors,
# the default) and h2 (raw HTTP/2 on one thread, a fraction of gRPC's cost per message: the
# figures with a client whose own cost is small). Servers run on free loopback
# ports (LevelDB, sync off, server.max_concurrent_streams raised to fit), in a temporary folder,
# stopped on exit. Each run also reports the server's CPU use (share of one core, from /proc) and
# the CPU the machine left idle meanwhile (shares of one core, from /proc/stat).
#
# usage: scripts/bench-fanout.sh [--counts "1 10 100 1000 5000"] [--rate R] [--seconds S] [--runs N]
#                                [--connections C] [--idle N] [--server-b PATH] [--probe] [--probe-cq]
#                                [--clients "grpc h2"] [--build-dir DIR]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/bench/ab-lib.sh
COUNTS="1 10 100 1000 5000"
RATE=100
SECONDS_PER_RUN=10
RUNS=3
CONNECTIONS=1
IDLE=10000
BUILD_DIR=build
SERVER_B=""
PROBE=0
PROBE_CQ=0
CLIENTS=grpc

while [ $# -gt 0 ]; do
  case "$1" in
    --counts) need_value "$@"; COUNTS=$2; shift 2 ;;
    --rate) need_value "$@"; RATE=$2; shift 2 ;;
    --seconds) need_value "$@"; SECONDS_PER_RUN=$2; shift 2 ;;
    --runs) need_value "$@"; RUNS=$2; shift 2 ;;
    --connections) need_value "$@"; CONNECTIONS=$2; shift 2 ;;
    --idle) need_value "$@"; IDLE=$2; shift 2 ;;
    --server-b) need_value "$@"; SERVER_B=$2; shift 2 ;;
    --probe) PROBE=1; shift ;;
    --probe-cq) PROBE=1 PROBE_CQ=1; shift ;;
    --clients) need_value "$@"; CLIENTS=$2; shift 2 ;;
    --build-dir) need_value "$@"; BUILD_DIR=$2; shift 2 ;;
    *) fail "unknown argument $1 (see the usage at the top of $0)" ;;
  esac
done
require_build
for client in $CLIENTS; do
  case "$client" in grpc | h2) ;; *) fail "--clients: '$client' is neither grpc nor h2" ;; esac
done
[ "$PROBE_CQ" = 0 ] || ALL_SIDES+=" Q"
# The sides of run N: run_sides's, then Q with --probe-cq.
fanout_sides() { echo "$(run_sides "$1")$([ "$PROBE_CQ" = 0 ] || echo " Q")"; }

make_work bench-fanout
rss_mib() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# The machine's idle and total ticks, all cores (idle + iowait; total without guest time, which
# user time already counts).
machine_ticks() { awk '/^cpu / {print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat; }
# Starts side A, B, G (the probe) or Q (the probe on completion queues) in DIR; sets SERVER_PID and ADDR.
start_side() { # side, dir
  case "$1" in
    G) start_probe "$2" ;;
    Q) start_probe "$2" --tail-api cq ;;
    *) start_server "$2" "$(binary_of "$1")" leveldb "" "$STREAM_LIMIT" ;;
  esac
}
STREAM_LIMIT="  max_concurrent_streams: $((IDLE > 5000 ? IDLE + 100 : 5100))
"

FAILED=()
: >"$WORK/fanout"
say "1. tail-fanout at $RATE events/s for $SECONDS_PER_RUN s, $CONNECTIONS connection(s), client(s) $CLIENTS, $RUNS run(s) per count; load $(cut -d' ' -f1-3 /proc/loadavg)"
for n in $COUNTS; do
  for run in $(seq "$RUNS"); do
    for side in $(fanout_sides "$run"); do
      for client in $CLIENTS; do
        start_side "$side" "$WORK/s"
        ticks=$(cpu_ticks "$SERVER_PID") began=$(date +%s.%N) machine=$(machine_ticks)
        line=$("$BENCH" --server "$ADDR" --topic fanout tail-fanout --consumers "$n" --rate "$RATE" \
          --seconds "$SECONDS_PER_RUN" --connections "$CONNECTIONS" --client "$client" 2>"$WORK/bench.err" | grep '^RESULT' || true)
        server_cpu=$(awk -v t="$(($(cpu_ticks "$SERVER_PID") - ticks))" -v b="$began" -v e="$(date +%s.%N)" -v hz="$(getconf CLK_TCK)" \
          'BEGIN {printf "%.0f", 100 * t / hz / (e - b)}')
        # What the machine left idle meanwhile, in shares of one core: a client that starves the
        # server leaves none.
        idle=$(echo "$machine $(machine_ticks) $(nproc)" | awk '{printf "%.0f", 100 * $5 * ($3 - $1) / ($4 - $2)}')
        stop_server
        if [ -z "$line" ]; then
          # Noted and left out of the medians, so that one run does not lose a sitting's figures;
          # the script still fails at the end.
          FAILED+=("$n consumers, $side, $client client, run $run: $(tail -n1 "$WORK/bench.err")")
          say "  ${FAILED[-1]}"
          continue
        fi
        echo "$n $side $client $(field "$line" p50_us) $(field "$line" p99_us) $(field "$line" client_cpu_pct) $server_cpu $idle" >>"$WORK/fanout"
        say "  $n consumers, $side, $client client, run $run: p50 $(field "$line" p50_us) us, p99 $(field "$line" p99_us) us, client CPU $(field "$line" client_cpu_pct) %, server CPU $server_cpu %, idle $idle %"
      done
    done
  done
done
printf '%-10s %-5s %-7s %12s %12s %14s %14s %10s\n' consumers side client "p50 (ms)" "p99 (ms)" "client CPU %" "server CPU %" "idle %"
for n in $COUNTS; do
  for side in $ALL_SIDES; do
    for client in $CLIENTS; do
      rows=$(awk -v n="$n" -v s="$side" -v c="$client" '$1 == n && $2 == s && $3 == c' "$WORK/fanout")
      [ -n "$rows" ] || continue  # every run of it failed
      printf '%-10s %-5s %-7s %12.2f %12.2f %14.0f %14.0f %10.0f\n' "$n" "$side" "$client" "$(awk '{print $4 / 1000}' <<<"$rows" | median)" \
        "$(awk '{print $5 / 1000}' <<<"$rows" | median)" "$(awk '{print $6}' <<<"$rows" | median)" \
        "$(awk '{print $7}' <<<"$rows" | median)" "$(awk '{print $8}' <<<"$rows" | median)"
    done
  done
done

echo
say "2. memory: $IDLE idle tailing streams (1 event/s, ${CLIENTS%% *} client)"
for side in $ALL_SIDES; do
  start_side "$side" "$WORK/m"
  "$BENCH" --server "$ADDR" --topic idle produce-stream --events 100 >/dev/null 2>&1
  before=$(rss_mib "$SERVER_PID")
  "$BENCH" --server "$ADDR" --topic idle tail-fanout --consumers "$IDLE" --connections 8 --rate 1 --seconds 6 \
    --client "${CLIENTS%% *}" >"$WORK/idle.out" 2>"$WORK/idle.err" &
  bench_pid=$!
  peak=$before
  while kill -0 "$bench_pid" 2>/dev/null; do
    now=$(rss_mib "$SERVER_PID")
    peak=$(awk -v a="$peak" -v b="$now" 'BEGIN {print (b > a ? b : a)}')
    sleep 0.5
  done
  wait "$bench_pid" || fail "the idle streams' run failed: $(tail -n2 "$WORK/idle.err")"
  stop_server
  awk -v s="$side" -v b="$before" -v p="$peak" -v n="$IDLE" \
    'BEGIN {printf "%s: resident %.1f MiB before, %.1f MiB with %d streams: %.1f MiB for them, %.1f KiB each\n", s, b, p, n, p - b, (p - b) * 1024 / n}'
done
if [ ${#FAILED[@]} -gt 0 ]; then
  printf '%s\n' "${FAILED[@]}" >&2
  fail "${#FAILED[@]} tail-fanout run(s) failed (above)"
fi
