#!/usr/bin/env bash
# What the HTTP side costs, in one sitting on this machine (docs/benchmarks.md, section "HTTP"):
#   1. produce-stream throughput (storage.sync on, LevelDB, 100-byte random payloads, batches of
#      100, 40 in flight) on a server without HTTP ("without") against the same server with HTTP on
#      and a real Prometheus scraping /metrics every second ("with"), runs interleaved (without,
#      with, with, without, ...), a fresh store each run; per run the rate and the CPU seconds the
#      server used, then the median of each side and their ratio;
#   2. the time of one /metrics scrape of a server holding --topics topics (one event each, made
#      with POST /v1/produce, 100 topics a call): --scrapes scrapes with curl, the median.
# Prometheus, the server and goethe-bench share this machine's cores: "with" pays Prometheus's own
# CPU too, which is part of what an operator who scrapes on the same machine pays.
# Everything runs on free loopback ports in a temporary folder, stopped on exit; nothing is built
# (binaries from --build-dir).
#
# usage: scripts/bench-http.sh [--events N] [--runs N] [--topics N] [--scrapes N] [--build-dir DIR] [--keep]
#   --events N       events per produce-stream run (default 1000000)
#   --runs N         runs of each side (default 7)
#   --topics N       topics of the scrape-time server (default 10000)
#   --scrapes N      scrapes timed (default 11)
#   --build-dir DIR  the build folder (default build)
#   --keep           keep the temporary folder (stores, configs, logs)
set -euo pipefail
export LC_ALL=C
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
EVENTS=1000000
RUNS=7
TOPICS=10000
SCRAPES=11
BUILD_DIR=build
KEEP=0

fail() { echo "bench-http.sh: $*" >&2; exit 2; }
need_value() { [ $# -ge 2 ] || fail "$1 needs a value (see the usage at the top of $0)"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --events) need_value "$@"; EVENTS=$2; shift 2 ;;
    --runs) need_value "$@"; RUNS=$2; shift 2 ;;
    --topics) need_value "$@"; TOPICS=$2; shift 2 ;;
    --scrapes) need_value "$@"; SCRAPES=$2; shift 2 ;;
    --build-dir) need_value "$@"; BUILD_DIR=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    *) fail "unknown argument $1 (see the usage at the top of $0)" ;;
  esac
done
SERVER="$BUILD_DIR/server/goethe-server"
BENCH="$BUILD_DIR/bench/goethe-bench"
PLUGINS="$ROOT/$BUILD_DIR/plugins"
[ -x "$SERVER" ] && [ -x "$BENCH" ] || fail "no $SERVER or $BENCH: build first (bash scripts/build.sh $BUILD_DIR)"
command -v prometheus >/dev/null || fail "no prometheus: bash scripts/install-deps.sh installs it"
command -v curl >/dev/null || fail "no curl"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/goethe-bench-http.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "$KEEP" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

say() { echo "[$(date +%T)] $*"; }
median() { grep -v '^$' | sort -g | awk '{v[NR]=$1} END {if (NR == 0) print "nan"; else if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
range() { grep -v '^$' | sort -g | awk 'NR==1{lo=$1} {hi=$1} END {printf "%s..%s", lo, hi}'; }
cpu_seconds() { # pid: user + system CPU seconds so far
  awk -v tick="$(getconf CLK_TCK)" '{sub(/.*\) /, ""); print ($12 + $13) / tick}' "/proc/$1/stat"
}
free_port() { python3 "$ROOT/scripts/free-ports.py" 1; }

# Starts a server in $1 (http: "on" or "off"); sets SERVER_PID, GRPC_ADDR, HTTP_ADDR.
start_server() {
  local dir=$1 http=$2
  mkdir -p "$dir"
  {
    printf 'storage:\n  backend: leveldb\n  path: %s/data\n  sync: true\n  plugin_dir: %s\n' "$dir" "$PLUGINS"
    printf 'server:\n  listen: 127.0.0.1:0\n  log_level: warn\n'
    [ "$http" = on ] && printf '  http:\n    listen: 127.0.0.1:0\n'
  } >"$dir/goethe.yaml"
  : >"$dir/server.out"  # first: the shell opens it in the forked child, perhaps after the loop reads it
  "$SERVER" --config "$dir/goethe.yaml" >"$dir/server.out" 2>"$dir/server.log" &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  GRPC_ADDR="" HTTP_ADDR=""
  for _ in $(seq 100); do
    GRPC_ADDR=$(sed -n 's/^goethe-server listening on //p' "$dir/server.out")
    HTTP_ADDR=$(sed -n 's/^goethe-server http listening on //p' "$dir/server.out")
    if [ -n "$GRPC_ADDR" ] && { [ "$http" = off ] || [ -n "$HTTP_ADDR" ]; }; then return 0; fi
    sleep 0.1
  done
  fail "the server in $dir did not start: $(cat "$dir/server.log")"
}

stop() { # pid
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

start_prometheus() { # dir, target; sets PROM_PID
  local dir=$1 target=$2
  printf 'global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n  - job_name: goethe\n    static_configs:\n      - targets: ["%s"]\n' \
    "$target" >"$dir/prometheus.yml"
  local address
  address="127.0.0.1:$(free_port)"
  prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/prometheus-data" \
    --web.listen-address="$address" --log.level=warn >"$dir/prometheus.log" 2>&1 &
  PROM_PID=$!
  PIDS+=("$PROM_PID")
  # Until it has scraped the server successfully (up == 1).
  for _ in $(seq 200); do
    if curl -s "http://$address/api/v1/query?query=up" 2>/dev/null | grep -q '"1"\]'; then return 0; fi
    sleep 0.1
  done
  fail "Prometheus did not start: $(cat "$dir/prometheus.log")"
}

# One run: side ("without" or "with"), run number. Prints "rate server_cpu_seconds".
run() {
  local side=$1 n=$2 dir="$WORK/$1-$2" http=off
  [ "$side" = with ] && http=on
  start_server "$dir" "$http"
  PROM_PID=""
  [ "$side" = with ] && start_prometheus "$dir" "$HTTP_ADDR"
  "$BENCH" --server "$GRPC_ADDR" --random-payloads --topic warmup produce-stream --events 20000 >/dev/null 2>&1
  local before after line rate
  before=$(cpu_seconds "$SERVER_PID")
  line=$(timeout 600 "$BENCH" --server "$GRPC_ADDR" --random-payloads produce-stream --events "$EVENTS" 2>>"$dir/bench.log" |
    grep '^RESULT' | tail -n1)
  after=$(cpu_seconds "$SERVER_PID")
  [ -n "$PROM_PID" ] && stop "$PROM_PID"
  stop "$SERVER_PID"
  rate=$(sed -n 's/.* rate=\([0-9.]*\).*/\1/p' <<<"$line")
  [ -n "$rate" ] || fail "run $side-$n gave no RESULT line: $(tail -n3 "$dir/bench.log")"
  echo "$rate $(awk -v a="$after" -v b="$before" 'BEGIN {printf "%.2f", a - b}')"
  [ "$KEEP" = 1 ] || rm -rf "$dir"
}

say "1. produce-stream, $EVENTS events a run, sync on, LevelDB; $RUNS runs a side, interleaved; load $(cut -d' ' -f1-3 /proc/loadavg)"
: >"$WORK/without" && : >"$WORK/with"
for n in $(seq "$RUNS"); do
  if [ $((n % 2)) = 1 ]; then order="without with"; else order="with without"; fi
  for side in $order; do
    result=$(run "$side" "$n")
    echo "$result" >>"$WORK/$side"
    say "run $n $side: $(awk '{printf "%d ev/s, server CPU %.2f s", $1, $2}' <<<"$result")"
  done
done
for side in without with; do
  rates=$(cut -d' ' -f1 "$WORK/$side")
  cpus=$(cut -d' ' -f2 "$WORK/$side")
  printf '%-8s median %8.0f ev/s [%s]   server CPU median %.2f s [%s]\n' "$side" "$(median <<<"$rates")" \
    "$(range <<<"$rates")" "$(median <<<"$cpus")" "$(range <<<"$cpus")"
done
awk -v a="$(cut -d' ' -f1 "$WORK/with" | median)" -v b="$(cut -d' ' -f1 "$WORK/without" | median)" \
  'BEGIN {printf "with / without: %.3f (target: at least 0.97)\n", a / b}'

echo
say "2. /metrics scrape time with $TOPICS topics (one event each), $SCRAPES scrapes"
start_server "$WORK/scrape" on
for ((first = 0; first < TOPICS; first += 100)); do
  body=$(awk -v f="$first" -v t="$TOPICS" 'BEGIN {printf "{\"topics\":["; for (i = f; i < f + 100 && i < t; i++) printf "%s{\"topic\":\"t%05d\",\"payloads\":[\"eA==\"]}", (i > f ? "," : ""), i; printf "]}"}')
  curl -sf -o /dev/null -d "$body" "http://$HTTP_ADDR/v1/produce" || fail "POST /v1/produce failed at topic $first"
done
times=""
for _ in $(seq "$SCRAPES"); do
  times+="$(curl -s -o "$WORK/scrape.txt" -w '%{time_total}' "http://$HTTP_ADDR/metrics")"$'\n'
done
stop "$SERVER_PID"
printf 'scrape: median %.1f ms [%s s], %d bytes, %d lines\n' "$(median <<<"$times" | awk '{print $1 * 1000}')" \
  "$(range <<<"$times")" "$(wc -c <"$WORK/scrape.txt")" "$(wc -l <"$WORK/scrape.txt")"
