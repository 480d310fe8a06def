#!/usr/bin/env bash
# The cluster's benchmarks, in one sitting on this machine (docs/benchmarks.md, section "Cluster"):
#   1. produce-stream throughput, storage.sync on: a 3-node replicated cluster (min_insync 2, the
#      default) against a single node (no cluster: section), same backend and settings, runs
#      interleaved (single, cluster, then cluster, single, ...), the median of each and the ratio;
#   2. live-tail latency (goethe-bench e2e: the producer on the leader, each event acknowledged
#      before the next) with the consumer on a follower and on the leader, and on the single node
#      for reference: p50 and p99, median over the runs;
#   3. catch-up of a wiped member: a fresh cluster is filled with --fill events (produce-stream),
#      then a follower is stopped (SIGTERM), its store deleted and the node started again; timed
#      until it holds every event (its topics' next offsets add up to the leader's) and until
#      `cluster status` shows it in_sync with the leader's applied entry;
#   4. failover: tests/cluster_test's FailoverRoundsLeaderKill (what scripts/failover-rounds.sh
#      runs), --rounds rounds of leader SIGKILL -> first write accepted by the new leader.
# Everything runs on this one machine: etcd, the three nodes, the single node and the load
# generator share its cores (and its disk), so the replicated figures pay three nodes' CPU and
# syncs on the cores and disk a single node has to itself. Quote them with that caveat.
# It starts everything it uses on free loopback ports (the cluster through scripts/run-cluster.sh),
# in a temporary folder, and stops it all on exit; it builds nothing (binaries from --build-dir).
# Each run and a summary table go to stdout; logs stay in the folder with --keep or on a failure.
#
# usage: scripts/bench-cluster.sh [--events N] [--runs N] [--fill N] [--e2e-seconds S]
#                                 [--e2e-rate R] [--rounds N] [--backend B] [--build-dir DIR] [--keep]
#   --events N       events per produce-stream run (default 1000000; at 200000 a single node's run
#                    lasts 0.2 s), 100-byte random payloads
#   --runs N         runs of each side for throughput and latency (default 3)
#   --fill N         events the catch-up's cluster holds (default 500000)
#   --e2e-seconds S  seconds per latency run (default 5), at --e2e-rate events/s (default 1000)
#   --rounds N       failover rounds (default 20; 0 skips them)
#   --backend B      storage backend of every node (default leveldb)
#   --build-dir DIR  the build folder (default build)
#   --keep           keep the temporary folder (stores, configs, logs)
set -euo pipefail
export LC_ALL=C
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
EVENTS=1000000
RUNS=3
FILL=500000
E2E_SECONDS=5
E2E_RATE=1000
ROUNDS=20
BACKEND=leveldb
BUILD_DIR=build
KEEP=0
PAYLOAD=100
WARMUP=20000

fail() { echo "bench-cluster.sh: $*" >&2; exit 2; }
need_value() { [ $# -ge 2 ] || fail "$1 needs a value (see the usage at the top of $0)"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --events) need_value "$@"; EVENTS=$2; shift 2 ;;
    --runs) need_value "$@"; RUNS=$2; shift 2 ;;
    --fill) need_value "$@"; FILL=$2; shift 2 ;;
    --e2e-seconds) need_value "$@"; E2E_SECONDS=$2; shift 2 ;;
    --e2e-rate) need_value "$@"; E2E_RATE=$2; shift 2 ;;
    --rounds) need_value "$@"; ROUNDS=$2; shift 2 ;;
    --backend) need_value "$@"; BACKEND=$2; shift 2 ;;
    --build-dir) need_value "$@"; BUILD_DIR=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) fail "unknown argument '$1' (see the usage at the top of $0, or --help)" ;;
  esac
done
for v in EVENTS RUNS FILL E2E_SECONDS E2E_RATE ROUNDS; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || fail "--$(echo "$v" | tr 'A-Z_' 'a-z-') must be a whole number, got '${!v}'"
done
[ "$RUNS" -ge 1 ] && [ "$EVENTS" -ge 1000 ] && [ "$FILL" -ge 1000 ] && [ "$E2E_SECONDS" -ge 1 ] && [ "$E2E_RATE" -ge 1 ] \
  || fail "--runs, --events and --fill (>= 1000), --e2e-seconds and --e2e-rate must be positive"
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
SERVER="$BUILD_DIR/server/goethe-server"
CLI="$BUILD_DIR/server/goethe-cli"
BENCH="$BUILD_DIR/bench/goethe-bench"
CLUSTER_TEST="$BUILD_DIR/tests/cluster_test"
for f in "$SERVER" "$CLI" "$BENCH" "$BUILD_DIR/plugins/libgoethe_kv_$BACKEND.so"; do
  [ -e "$f" ] || fail "$f is missing: build it first (scripts/build.sh)"
done
command -v etcd >/dev/null || [ -x /usr/bin/etcd ] || fail "etcd is missing (Debian: etcd-server etcd-client)"
command -v python3 >/dev/null || fail "python3 is needed (JSON and arithmetic)"
"$BENCH" e2e --help 2>/dev/null | grep -q -- --consume-server \
  || fail "$BENCH has no e2e --consume-server: rebuild it (cmake --build $BUILD_DIR --target goethe-bench)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/goethe-bench-cluster.XXXXXX")
STARTED_AT=$SECONDS
SINGLE_PID=""
RC_PID=""
CLUSTER_OUT=""
OK=0

now() { date '+%H:%M:%S'; }
say() { echo "[$(now)] $*"; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
# Whether a child of ours still runs (a zombie, exited but not yet reaped, does not).
alive() {
  local state
  [ -n "$1" ] && state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
  [ "${state%% *}" != Z ]
}
# Bytes a process has caused to be written to disk so far (/proc/PID/io); 0 when it is gone.
written_of() { awk '/^write_bytes/ { print $2 }' "/proc/$1/io" 2>/dev/null || echo 0; }
# CPU seconds (user + system) a process has used so far; 0 when it is gone.
TICKS=$(getconf CLK_TCK)
cpu_of() { awk -v t="$TICKS" '{ sub(/.*\) /, ""); printf "%.2f", ($12 + $13) / t }' "/proc/$1/stat" 2>/dev/null || echo 0; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
calc() { python3 -c "print($1)"; }
# N consecutive free loopback ports: the first one.
free_ports() { python3 "$ROOT/scripts/free-ports.py" "$1"; }
# A RESULT line's field: result_field LINE NAME.
result_field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1" | head -n1; }

stop_pid() { # pid, seconds before SIGKILL
  local pid=$1 i
  [ -n "$pid" ] && alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq $(($2 * 10))); do alive "$pid" || break; sleep 0.1; done
  if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  wait "$pid" 2>/dev/null || true
}
stop_single() { stop_pid "$SINGLE_PID" 30; SINGLE_PID=""; }
# run-cluster.sh stops its nodes, then etcd, at SIGTERM; should it hang, every pid it printed goes too.
stop_cluster() {
  [ -n "$RC_PID" ] || return 0
  stop_pid "$RC_PID" 45
  local pid
  for pid in $(grep -o 'pid [0-9]*' "$CLUSTER_OUT" 2>/dev/null | awk '{ print $2 }'); do
    [ "$pid" = "$RC_PID" ] && continue
    if kill -0 "$pid" 2>/dev/null && grep -q -e goethe-server -e etcd "/proc/$pid/cmdline" 2>/dev/null \
       && grep -q "$WORK" "/proc/$pid/cmdline" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  RC_PID=""
}
cleanup() {
  local code=$?
  trap - EXIT INT TERM
  stop_single
  stop_cluster
  if [ "$KEEP" = 1 ]; then
    echo "bench-cluster.sh: everything is kept in $WORK"
  elif [ "$OK" = 1 ]; then
    rm -rf "$WORK"
  else
    rm -rf "$WORK"/cluster-*/n[0-9] "$WORK"/cluster-*/etcd "$WORK/single/data"
    echo "bench-cluster.sh: failed; the logs are in $WORK" >&2
  fi
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the machine -------------------------------------------------------------------------------
echo "== Goethe cluster benchmarks, $(date '+%F %T')"
echo "machine: $(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1)), $(free -g | awk '/^Mem:/ { print $2 }') GiB," \
  "kernel $(uname -r); data in $WORK ($(df -PT "$WORK" | awk 'NR == 2 { print $2 " on " $1 }'))"
echo "build: $BUILD_DIR, commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD 2>/dev/null || echo ' (tree has uncommitted changes)')," \
  "goethe-server built $(date -r "$SERVER" '+%F %T')"
echo "settings: backend $BACKEND, storage.sync true, $PAYLOAD-byte random payloads, $EVENTS events per throughput run," \
  "$RUNS runs per side, e2e $E2E_RATE events/s for $E2E_SECONDS s"
echo "CAVEAT: etcd, all three nodes, the single node and goethe-bench share this one $(nproc)-core machine and"
echo "        its disk (and other engineers' work may run on it too): the cluster pays three nodes' CPU and"
echo "        syncs where the single node pays one. Not what three machines would do."
echo "load average at the start: $(load)"
echo

# --- the single node ---------------------------------------------------------------------------
mkdir -p "$WORK/single/data"
cat >"$WORK/single/goethe.yaml" <<YAML
# The single node of scripts/bench-cluster.sh: the cluster nodes' settings, without cluster:.
storage:
  backend: $BACKEND
  path: $WORK/single/data
  sync: true
server:
  listen: 127.0.0.1:0
  log_level: info
YAML
: >"$WORK/single/goethe.log"
"$SERVER" --config "$WORK/single/goethe.yaml" </dev/null >>"$WORK/single/goethe.log" 2>&1 &
SINGLE_PID=$!
SINGLE=""
for _ in $(seq 300); do
  SINGLE=$(sed -n 's/^goethe-server listening on //p' "$WORK/single/goethe.log")
  [ -n "$SINGLE" ] && break
  alive "$SINGLE_PID" || break
  sleep 0.1
done
[ -n "$SINGLE" ] || { tail -n 30 "$WORK/single/goethe.log" >&2; fail "the single node did not start"; }

# --- the cluster -------------------------------------------------------------------------------
NAME="bench$$"
CLUSTER_DIR=""
start_cluster() { # folder name under $WORK
  local base
  base=$(free_ports 5)
  PORT=$base ETCD_PORT=$((base + 3))
  CLUSTER_DIR="$WORK/$1"
  CLUSTER_OUT="$WORK/$1.out"
  bash "$ROOT/scripts/run-cluster.sh" --dir "$CLUSTER_DIR" --port "$PORT" --etcd-port "$ETCD_PORT" \
    --etcd-peer-port $((base + 4)) --name "$NAME" --backend "$BACKEND" --build-dir "$BUILD_DIR" --no-build --fresh \
    </dev/null >"$CLUSTER_OUT" 2>&1 &
  RC_PID=$!
  for _ in $(seq 1200); do
    grep -q 'is running' "$CLUSTER_OUT" && break
    alive "$RC_PID" || break
    sleep 0.1
  done
  grep -q 'is running' "$CLUSTER_OUT" || { cat "$CLUSTER_OUT" >&2; fail "the cluster did not start"; }
  NODE_ADDR=("" "127.0.0.1:$PORT" "127.0.0.1:$((PORT + 1))" "127.0.0.1:$((PORT + 2))")
  ALL="${NODE_ADDR[1]},${NODE_ADDR[2]},${NODE_ADDR[3]}"
}
# The pid run-cluster.sh last reported for node nI.
node_pid() {
  sed -n -e "s/^  n$1 .* pid \([0-9]*\) .*/\1/p" -e "s/.* n$1 (pid \([0-9]*\)) is serving.*/\1/p" "$CLUSTER_OUT" | tail -n1
}
status_json() { "$CLI" --server "${1:-$ALL}" --json --timeout 5 cluster status 2>/dev/null; }
# From a cluster status: "LEADER_NAME LEADER_ADDRESS" / the leader's applied entry / members by state.
leader_of() { python3 -c 'import json,sys; s=json.load(sys.stdin); print(s.get("leader",""), s.get("leader_address",""))'; }
states_of() {
  python3 -c 'import json,sys
s = json.load(sys.stdin)
print(" ".join("%s:%s:%s" % (m["name"], m["state"].replace("MEMBER_STATE_", "").lower(), m.get("applied", "0")) for m in s["members"]))'
}
# Events a node holds: the sum of its topics' next offsets (-1 when it does not answer). No python
# here: the catch-up polls it, and every process started then takes CPU from the nodes.
events_on() {
  local out
  out=$("$CLI" --server "$1" --json --timeout 5 topics list 2>/dev/null) || { echo -1; return 0; }
  grep -o '"next_offset":"\{0,1\}[0-9]*' <<<"$out" | awk -F: '{ gsub(/"/, "", $2); s += $2 } END { printf "%d\n", s }'
}
# "STATE APPLIED" of member $2 in the cluster status node $1 answers ("absent 0" when not listed).
member_state() {
  local out member
  out=$(status_json "$1") || { echo "? 0"; return 0; }
  member=$(grep -o "{\"name\":\"$2\"[^}]*}" <<<"$out" || true)
  [ -n "$member" ] || { echo "absent 0"; return 0; }
  echo "$(sed -n 's/.*"state":"MEMBER_STATE_\([A-Z_]*\)".*/\1/p' <<<"$member" | tr 'A-Z' 'a-z')" \
    "$(sed -n 's/.*"applied":"\{0,1\}\([0-9]*\).*/\1/p' <<<"$member")"
}
server_pids() { echo "$(node_pid 1) $(node_pid 2) $(node_pid 3)"; }
cpu_sum() { local s=0 p; for p in "$@"; do s=$(calc "$s + $(cpu_of "$p")"); done; echo "$s"; }

say "starting the cluster (scripts/run-cluster.sh: etcd and n1..n3) and the single node"
start_cluster cluster-a
read -r LEADER LEADER_ADDR < <(status_json | leader_of)
[ -n "$LEADER" ] || fail "the cluster has no leader"
say "cluster: $ALL, leader $LEADER ($LEADER_ADDR); single node: $SINGLE; everything in $WORK"

bench() { # log name, goethe-bench arguments...: the RESULT line
  local name=$1
  shift
  timeout 600 "$BENCH" --payload-bytes "$PAYLOAD" --random-payloads "$@" 2>>"$WORK/bench-$name.log" | grep '^RESULT' | tail -n1
}

# --- 1. throughput -----------------------------------------------------------------------------
echo
say "1. produce-stream throughput, sync on, $EVENTS events per run (batches of 100, 40 in flight); load $(load)"
bench warmup --server "$SINGLE" --topic warmup produce-stream --events "$WARMUP" >/dev/null
bench warmup --server "$ALL" --topic warmup produce-stream --events "$WARMUP" >/dev/null
SINGLE_RATES="" CLUSTER_RATES=""
LEFT_BEFORE=$(cat "$CLUSTER_DIR"/n*.log | grep -c 'left the in-sync set' || true)
throughput_run() { # side run
  local side=$1 run=$2 server pids line rate secs pid cpu=0 written=0 extra="" i
  local -a cpu0=() written0=()
  if [ "$side" = single ]; then server=$SINGLE pids=$SINGLE_PID; else server=$ALL pids=$(server_pids); fi
  sync
  for pid in $pids; do cpu0+=("$(cpu_of "$pid")"); written0+=("$(written_of "$pid")"); done
  line=$(bench "throughput-$side" --server "$server" --topic "stream-$run" produce-stream --events "$EVENTS") || true
  rate=$(result_field "$line" rate)
  secs=$(result_field "$line" secs)
  [ -n "$rate" ] || fail "produce-stream on the $side side failed (see $WORK/bench-throughput-$side.log)"
  i=0
  for pid in $pids; do
    extra+=" $(calc "round($(cpu_of "$pid") - ${cpu0[$i]}, 2)")"
    cpu=$(calc "$cpu + $(cpu_of "$pid") - ${cpu0[$i]}")
    written=$(calc "$written + $(written_of "$pid") - ${written0[$i]}")
    i=$((i + 1))
  done
  if [ "$side" = cluster ]; then
    CLUSTER_RATES+=" $rate"
    extra="n1..n3${extra} s"
    sleep 1.2  # member records are refreshed about once a second
    extra+="; members $(status_json | states_of)"
  else
    SINGLE_RATES+=" $rate"
    extra=""
  fi
  printf '  run %d  %-8s %8.0f events/s  (%s s; server CPU %.2f s = %.0f%% of one core%s; disk writes %.0f MB by the end of the run)\n' \
    "$run" "$side" "$rate" "$secs" "$cpu" "$(calc "100 * $cpu / $secs")" "${extra:+: $extra}" "$(calc "$written / 1e6")"
}
for run in $(seq 1 "$RUNS"); do
  if [ $((run % 2)) = 1 ]; then throughput_run single "$run"; throughput_run cluster "$run"
  else throughput_run cluster "$run"; throughput_run single "$run"; fi
done
SINGLE_MEDIAN=$(echo "$SINGLE_RATES" | median)
CLUSTER_MEDIAN=$(echo "$CLUSTER_RATES" | median)
RATIO=$(calc "round($CLUSTER_MEDIAN / $SINGLE_MEDIAN, 2)")
LEFT_AFTER=$(cat "$CLUSTER_DIR"/n*.log | grep -c 'left the in-sync set' || true)
echo "  median: single $SINGLE_MEDIAN events/s [$(echo $SINGLE_RATES | tr ' ' ',')], cluster $CLUSTER_MEDIAN events/s" \
  "[$(echo $CLUSTER_RATES | tr ' ' ',')]: replicated/single = ${RATIO}x (target >= 0.5x)"
[ "$LEFT_AFTER" = "$LEFT_BEFORE" ] || echo "  NOTE: a member left the in-sync set during the runs (see $CLUSTER_DIR/n*.log): fewer copies were waited for"

# --- 2. live-tail latency ----------------------------------------------------------------------
echo
read -r LEADER LEADER_ADDR < <(status_json | leader_of)
FOLLOWER="" FOLLOWER_ADDR=""
for i in 1 2 3; do
  if [ "n$i" != "$LEADER" ]; then FOLLOWER="n$i" FOLLOWER_ADDR=${NODE_ADDR[$i]}; break; fi
done
say "2. live tail (e2e) at $E2E_RATE events/s for $E2E_SECONDS s: producer on the leader $LEADER, consumer on" \
  "the follower $FOLLOWER or on the leader; the single node for reference; load $(load)"
declare -A P50 P99
e2e_run() { # side run
  local side=$1 run=$2 line args
  case "$side" in
    follower) args=(--server "$ALL" --topic "e2e-follower-$run" e2e --consume-server "$FOLLOWER_ADDR") ;;
    leader) args=(--server "$ALL" --topic "e2e-leader-$run" e2e) ;;
    single) args=(--server "$SINGLE" --topic "e2e-single-$run" e2e) ;;
  esac
  line=$(bench "e2e-$side" "${args[@]}" --rate "$E2E_RATE" --seconds "$E2E_SECONDS") || true
  [ -n "$line" ] || fail "e2e with the consumer on the $side failed (see $WORK/bench-e2e-$side.log)"
  P50[$side]+=" $(result_field "$line" p50_us)"
  P99[$side]+=" $(result_field "$line" p99_us)"
  printf '  run %d  %-8s p50 %6.0f us  p90 %6.0f us  p99 %6.0f us  p99.9 %6.0f us  sent at %5.0f events/s\n' "$run" "$side" \
    "$(result_field "$line" p50_us)" "$(result_field "$line" p90_us)" "$(result_field "$line" p99_us)" \
    "$(result_field "$line" p999_us)" "$(result_field "$line" rate_sent)"
}
for run in $(seq 1 "$RUNS"); do
  if [ $((run % 2)) = 1 ]; then e2e_run follower "$run"; e2e_run leader "$run"
  else e2e_run leader "$run"; e2e_run follower "$run"; fi
  e2e_run single "$run"
done
for side in follower leader single; do
  printf '  median  %-8s p50 %6.0f us  p99 %6.0f us\n' "$side" "$(echo "${P50[$side]}" | median)" "$(echo "${P99[$side]}" | median)"
done

# --- 3. catch-up of a wiped member -------------------------------------------------------------
echo
say "3. catch-up: a fresh cluster, filled with $FILL events; load $(load)"
stop_cluster
start_cluster cluster-b
bench fill --server "$ALL" --topic fill produce-stream --events "$FILL" >/dev/null
read -r LEADER LEADER_ADDR < <(status_json | leader_of)
HELD=$(events_on "$LEADER_ADDR")
WIPED="" WIPED_ADDR=""
for i in 3 2 1; do
  if [ "n$i" != "$LEADER" ]; then WIPED="n$i" WIPED_ADDR=${NODE_ADDR[$i]} WIPED_I=$i; break; fi
done
sleep 1.2
LEADER_APPLIED=$(member_state "$LEADER_ADDR" "$LEADER" | cut -d' ' -f2)
say "3. catch-up: the cluster holds $HELD events ($LEADER_APPLIED replication-log entries applied, leader" \
  "$LEADER; stores $(du -sm "$CLUSTER_DIR/n1" | cut -f1), $(du -sm "$CLUSTER_DIR/n2" | cut -f1)," \
  "$(du -sm "$CLUSTER_DIR/n3" | cut -f1) MB); stopping $WIPED (SIGTERM), deleting its store, starting it again; load $(load)"
PID=$(node_pid "$WIPED_I")
kill -TERM "$PID"
for _ in $(seq 300); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$PID" 2>/dev/null && fail "$WIPED did not stop within 30 s"
rm -rf "${CLUSTER_DIR:?}/$WIPED"
sync
SERVING_LINES=$(grep -c "$WIPED (pid [0-9]*) is serving" "$CLUSTER_OUT" || true)
T0=$(date +%s.%N) T0_SECONDS=$SECONDS
kill -USR1 "$RC_PID"  # run-cluster.sh starts again what has stopped
T_SERVING="" T_EVENTS="" T_INSYNC="" FIRST_SEEN=""
# Polled every 0.2 s: first until it serves, then its events, then its state; each poll is a
# goethe-cli call, a little CPU taken from the nodes.
while :; do
  T=$(date +%s.%N)
  [ $((SECONDS - T0_SECONDS)) -lt 300 ] || fail "$WIPED did not catch up within 300 s"
  if [ -z "$T_SERVING" ]; then
    if [ "$(grep -c "$WIPED (pid [0-9]*) is serving" "$CLUSTER_OUT" || true)" -gt "$SERVING_LINES" ]; then
      T_SERVING=$T
      FIRST_SEEN="$(member_state "$LEADER_ADDR" "$WIPED") (in-sync set in etcd: $(ETCDCTL_API=3 etcdctl \
        --endpoints "127.0.0.1:$ETCD_PORT" get --print-value-only "/goethe/$NAME/insync" 2>/dev/null || echo '?'))"
    fi
  elif [ -z "$T_EVENTS" ]; then
    [ "$(events_on "$WIPED_ADDR")" != "$HELD" ] || T_EVENTS=$(date +%s.%N)
  elif [ "$(member_state "$LEADER_ADDR" "$WIPED")" = "in_sync $LEADER_APPLIED" ]; then
    T_INSYNC=$(date +%s.%N)
    break
  fi
  sleep 0.2
done
SERVING_S=$(calc "round($T_SERVING - $T0, 2)")
EVENTS_S=$(calc "round($T_EVENTS - $T0, 2)")
INSYNC_S=$(calc "round($T_INSYNC - $T0, 2)")
CATCHUP_RATE=$(calc "round($HELD / ($T_EVENTS - $T0))")
CATCHUP_RATE_INSYNC=$(calc "round($HELD / ($T_INSYNC - $T0))")
CATCHUP_RATE_SERVING=$(calc "round($HELD / ($T_EVENTS - $T_SERVING))")
echo "  $WIPED: serving ${SERVING_S} s after the start, holds all $HELD events after ${EVENTS_S} s" \
  "(= $CATCHUP_RATE events/s; $CATCHUP_RATE_SERVING events/s from when it served), in_sync at the leader's applied entry after ${INSYNC_S} s (= $CATCHUP_RATE_INSYNC events/s;" \
  "member records refresh about once a second); its store then $(du -sm "$CLUSTER_DIR/$WIPED" | cut -f1) MB"
echo "  $WIPED as the leader's cluster status showed it when it started serving (state, applied entry): $FIRST_SEEN"
grep -h -i -e 'snapshot' -e 'copy' "$CLUSTER_DIR/$WIPED.log" "$CLUSTER_DIR/$LEADER.log" 2>/dev/null | tail -n 4 | sed 's/^/  log: /' || true

# --- stop, then 4. failover --------------------------------------------------------------------
echo
say "stopping the cluster and the single node"
grep -h -E ' (warning|error|critical) ' "$WORK"/cluster-*/n*.log "$WORK/single/goethe.log" | grep -v 'CANCELLED; retrying' \
  | tail -n 10 | sed 's/^/  log: /' || true
stop_cluster
stop_single
FAILOVER_MEDIAN="-" FAILOVER_MAX="-" FAILOVER_N=0
if [ "$ROUNDS" -gt 0 ]; then
  if [ ! -x "$CLUSTER_TEST" ]; then
    echo "4. failover: skipped, $CLUSTER_TEST is missing (scripts/failover-rounds.sh builds and runs it)"
  else
    say "4. failover: $ROUNDS rounds of leader SIGKILL -> first write accepted by the new leader" \
      "($(basename "$CLUSTER_TEST") --gtest_filter='*FailoverRoundsLeaderKill*': its own etcd and 3 nodes, TTL 2 s); load $(load)"
    GOETHE_FAILOVER_ROUNDS=$ROUNDS timeout 1200 "$CLUSTER_TEST" --gtest_filter='*FailoverRoundsLeaderKill*' \
      >"$WORK/failover.log" 2>&1 || echo "  the failover test failed (see $WORK/failover.log)"
    grep '^failover round' "$WORK/failover.log" | sed 's/^/  /' || true
    TIMES=$(sed -n 's/^failover round [0-9]*: \([0-9]*\) ms.*/\1/p' "$WORK/failover.log" | tr '\n' ' ')
    FAILOVER_N=$(echo "$TIMES" | wc -w)
    if [ "$FAILOVER_N" -gt 0 ]; then
      FAILOVER_MEDIAN=$(echo "$TIMES" | median | xargs printf %.0f)
      FAILOVER_MAX=$(echo "$TIMES" | tr ' ' '\n' | grep -v '^$' | sort -n | tail -n1)
    fi
    grep '^FAILOVER' "$WORK/failover.log" | sed 's/^/  /' || true
  fi
fi

# --- summary -----------------------------------------------------------------------------------
echo
echo "== Summary ($(nproc)-core machine shared by etcd, 3 nodes, the single node and the load generator," \
  "and maybe other work; load average at the end $(load); $((SECONDS - STARTED_AT)) s)"
printf '%-50s %-34s %s\n' "figure" "measured" "target"
printf '%-50s %-34s %s\n' "produce-stream, sync on, single node" "$SINGLE_MEDIAN events/s" ""
printf '%-50s %-34s %s\n' "produce-stream, sync on, 3 nodes (min_insync 2)" "$CLUSTER_MEDIAN events/s" ""
printf '%-50s %-34s %s\n' "  replicated / single" "${RATIO}x" ">= 0.5x"
for side in follower leader single; do
  printf '%-50s %-34s %s\n' "live tail at $E2E_RATE/s, consumer on $side" \
    "p50 $(echo "${P50[$side]}" | median | xargs printf %.0f) us, p99 $(echo "${P99[$side]}" | median | xargs printf %.0f) us" ""
done
printf '%-50s %-34s %s\n' "failover (leader SIGKILL, TTL 2 s), $FAILOVER_N rounds" \
  "median $FAILOVER_MEDIAN ms, max $FAILOVER_MAX ms" "median < 3000 ms"
printf '%-50s %-34s %s\n' "catch-up of a wiped member ($HELD events)" "$CATCHUP_RATE events/s (${EVENTS_S} s)" ""
printf '%-50s %-34s %s\n' "  until in_sync at the leader's applied" "${INSYNC_S} s" ""
echo "(medians of $RUNS runs each, A/B interleaved; $PAYLOAD-byte random payloads; backend $BACKEND)"
OK=1
