#!/usr/bin/env bash
# The server workloads of one backend and durability, once (repetition REP): starts goethe-server
# on a free 127.0.0.1 port with a generated config and a fresh store, warms it up, then runs
# goethe-bench produce-stream (to one topic, and round-robin to 10,000), consume (catch-up of what produce-stream wrote), consumer groups of 1, 4
# and 16 members catching up the same (and nack-to-redelivery, and 4 members tailing a live topic),
# produce-unary at
# concurrency 1, 8 and 64, round-trip (DescribeTopic: the gRPC floor under produce-unary), and e2e
# (live-tail latency at a fixed rate) and tail-fanout (100 streams tailing one topic), each on its own topic.
# Stops the server by PID (SIGTERM, then SIGKILL after 30 s). RESULT lines go to raw/results.txt.
# usage: run-server.sh BACKEND on|off REP    env: BIN OUT DATA EVENTS REPS QUICK PAYLOAD RANDOM_FLAG
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
backend=$1
sync=$2
rep=$3
name="$backend-sync-$sync"
dir="$DATA/server-$name"
config="$OUT/raw/server-$name.yaml"
server_log="$OUT/raw/server-$name.log"
bench_log="$OUT/raw/bench-$name.log"

if [ "$QUICK" = 1 ]; then
  unary=500 e2e_rate=1000 e2e_secs=1 warmup=2000
else
  unary=$((EVENTS / 50)); [ $unary -gt 20000 ] && unary=20000; [ $unary -lt 1000 ] && unary=1000
  e2e_rate=1000 e2e_secs=5 warmup=$((EVENTS / 10)); [ $warmup -gt 100000 ] && warmup=100000
fi

rm -rf "$dir"
mkdir -p "$dir"
# The backend's options are written out (the plugin defaults, docs/config.md), so the record says
# exactly what ran.
{
  echo "storage:"
  echo "  backend: $backend"
  echo "  path: $dir"
  echo "  sync: $([ "$sync" = on ] && echo true || echo false)"
  echo "  plugin_dir: $BIN/plugins"
  echo "  options:"
  python3 "$HERE/backend_options.py" "$backend" --yaml | sed 's/^/    /'
  echo "engine:"
  echo "  retention_interval: 1h"
  echo "server:"
  echo "  listen: 127.0.0.1:0"
  echo "  log_level: warn"
} >"$config"

SERVER_PID=""
stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 300); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    log "$name: the server did not stop in 30 s: SIGKILL"
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
trap stop_server EXIT
trap 'stop_server; exit 130' INT TERM

: >"$server_log"  # exists before the server opens it, so the wait below can read it at once
"$BIN/server/goethe-server" --config "$config" >>"$server_log" 2>&1 &
SERVER_PID=$!
address=""
for _ in $(seq 300); do
  address=$(sed -n 's/^goethe-server listening on //p' "$server_log" || true)
  [ -n "$address" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$address" ]; then
  log "$name: goethe-server did not start:"; cat "$server_log" >&2; exit 1
fi

failed=0
bench() { # tags, what, goethe-bench arguments...
  local tags=$1 what=$2; shift 2
  progress "$name: $what"
  local out
  if ! out=$(timeout --foreground 600 "$BIN/bench/goethe-bench" --server "$address" --payload-bytes "$PAYLOAD" $RANDOM_FLAG "$@" 2>>"$bench_log"); then
    log "$name: goethe-bench $what failed (see raw/bench-$name.log)"
    failed=1
  fi
  [ -z "$tags" ] || echo "$out" | record "$tags"
}

bench "" "warm-up" --topic warmup produce-stream --events "$warmup"
bench "" "warm-up" --topic warmup-unary produce-unary --concurrency 8 --events $((unary / 4 + 1))
tags="group=server backend=$backend sync=$sync rep=$rep"
at="rep $rep/$REPS"
bench "$tags" "produce-stream, $at" --topic stream produce-stream --events "$EVENTS"
bench "$tags" "produce-stream to 10,000 topics, $at" --topic many produce-stream --topics 10000 --events "$EVENTS"
bench "$tags" "consume catch-up, $at" --topic stream consume --events "$EVENTS" --consumer catch-up
for m in 1 4 16; do
  bench "$tags" "group of $m, $at" --topic stream group --members $m --events "$EVENTS" --window 1000
done
bench "$tags" "group nack to redelivery, $at" --topic stream group-redelivery --events $((unary / 10 + 100))
bench "$tags" "group of 4 live at $e2e_rate/s, $at" --topic group-live group-live --members 4 --rate $e2e_rate \
  --seconds $e2e_secs --window 1000
for c in 1 8 64; do
  n=$unary; [ $c = 8 ] && n=$((unary * 2)); [ $c = 64 ] && n=$((unary * 4))
  bench "$tags" "produce-unary c$c, $at" --topic "unary-$c" produce-unary --concurrency $c --events $n
done
bench "$tags" "round-trip, $at" --topic round-trip round-trip --calls "$unary"
bench "$tags" "e2e at $e2e_rate/s, $at" --topic e2e e2e --rate $e2e_rate --seconds $e2e_secs
bench "$tags" "tail fan-out to 100 at 100/s, $at" --topic fanout tail-fanout --consumers 100 --rate 100 \
  --seconds $e2e_secs
progress_end
stop_server
grep -E 'error|critical' "$server_log" >&2 || true
rm -rf "$dir"
exit $failed
