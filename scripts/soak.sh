#!/usr/bin/env bash
# Soak test: builds goethe-server and goethe-soak, starts the server on a fresh temporary store,
# runs a bounded mixed load (unary and streaming producers, consumers, seeks) with a verifier that
# checks every event, prints the server's memory, threads and file descriptors as it goes, then
# stops the server. Exits non-zero on any violation or when the server does not stop cleanly.
# Not part of CI (scripts/run-tests.sh); run it before a release or after a change to the engine.
#
# usage: scripts/soak.sh [--minutes N] [--backend leveldb|rocksdb|lmdb] [--rate EVENTS_PER_SECOND]
#                        [--report-seconds S] [--build-dir DIR] [--no-build]
#   defaults: 10 minutes (fractions allowed), leveldb, 2000 events/s, a report line every 30 s,
#   build dir "build". SOAK_MINUTES and SOAK_BACKEND set the first two too.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MINUTES=${SOAK_MINUTES:-10}
BACKEND=${SOAK_BACKEND:-leveldb}
RATE=2000
REPORT_SECONDS=30
BUILD_DIR=build
BUILD=1
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) MINUTES=$2; shift 2 ;;
    --backend) BACKEND=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --report-seconds) REPORT_SECONDS=$2; shift 2 ;;
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    *) echo "soak.sh: unknown argument '$1' (see the usage at the top of $0)" >&2; exit 2 ;;
  esac
done
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
SECONDS_TOTAL=$(awk -v m="$MINUTES" 'BEGIN { s = m * 60; if (s <= 0) exit 1; print s }') \
  || { echo "soak.sh: --minutes must be a positive number, got '$MINUTES'" >&2; exit 2; }

if [ "$BUILD" = 1 ]; then
  TARGETS="goethe-server goethe-soak goethe_kv_$BACKEND" bash "$ROOT/scripts/build.sh" "$BUILD_DIR"
fi
SERVER="$BUILD_DIR/server/goethe-server"
SOAK="$BUILD_DIR/tests/goethe-soak"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/goethe-soak-XXXXXX")
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

cat > "$WORK/goethe.yaml" <<YAML
storage:
  backend: $BACKEND
  path: $WORK/data
  sync: true
  plugin_dir: $BUILD_DIR/plugins
server:
  log_level: warn
YAML

# Created first: the shell opens it in the forked child, perhaps after the loop below first reads it.
: >"$WORK/server.out"
"$SERVER" --config "$WORK/goethe.yaml" --listen 127.0.0.1:0 >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER_PID=$!
ADDRESS=""
for _ in $(seq 1 300); do
  ADDRESS=$(sed -n 's/^goethe-server listening on //p' "$WORK/server.out")
  [ -n "$ADDRESS" ] && break
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "soak.sh: goethe-server did not start:" >&2; cat "$WORK/server.err" >&2; exit 1
  fi
  sleep 0.1
done
[ -n "$ADDRESS" ] || { echo "soak.sh: goethe-server did not get ready in 30 s" >&2; exit 1; }
echo "soak: backend=$BACKEND minutes=$MINUTES rate=$RATE/s server pid $SERVER_PID on $ADDRESS, store $WORK/data"

STATUS=0
"$SOAK" --address "$ADDRESS" --seconds "$SECONDS_TOTAL" --server-pid "$SERVER_PID" \
  --report-seconds "$REPORT_SECONDS" --rate "$RATE" || STATUS=$?

kill -TERM "$SERVER_PID"
SERVER_EXIT=0
wait "$SERVER_PID" || SERVER_EXIT=$?
SERVER_PID=""
if [ "$SERVER_EXIT" != 0 ]; then
  echo "soak.sh: goethe-server exited with $SERVER_EXIT:" >&2; tail -20 "$WORK/server.err" >&2
  [ "$STATUS" = 0 ] && STATUS=1
fi
[ -s "$WORK/server.err" ] && { echo "soak: server log (warnings and errors):"; tail -20 "$WORK/server.err"; }
exit "$STATUS"
