#!/usr/bin/env bash
# Issue #18, point 3: many-topic writes straight to each backend plugin in today's event-key layout
# (topic, offset) and in layouts ordered by time first (segment, topic, offset), A and B interleaved
# (bench/probes/key_layout_probe.cc says what each variant writes). One RESULT line per run.
# usage: scripts/bench-layout-probe.sh [--backends "leveldb rocksdb"] [--rounds R] [--events N]
#                                      [--segment-events N] [--order shuffled|sorted]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BACKENDS="leveldb rocksdb"
ROUNDS=2
EVENTS=10000000
SEGMENT_EVENTS=100000
ORDER=shuffled
while [ $# -gt 0 ]; do
  case "$1" in
    --backends) BACKENDS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --events) EVENTS=$2; shift 2 ;;
    --segment-events) SEGMENT_EVENTS=$2; shift 2 ;;
    --order) ORDER=$2; shift 2 ;;
    *) echo "usage: $0 [--backends LIST] [--rounds R] [--events N] [--segment-events N] [--order shuffled|sorted]" >&2; exit 2 ;;
  esac
done
TARGETS=goethe-layout-probe bash "$ROOT/scripts/build.sh" build >/dev/null
PROBE="$ROOT/build/bench/goethe-layout-probe"
DIR=$(mktemp -d /tmp/goethe-layout-probe.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
for backend in $BACKENDS; do
  for round in $(seq 1 "$ROUNDS"); do
    for variant in "topic" "segment by-topic" "segment in-segment" "segment none"; do
      set -- $variant
      args=(--backend "$backend" --layout "$1" --dir "$DIR/store" --events "$EVENTS" --step 1000000
            --segment-events "$SEGMENT_EVENTS" --order "$ORDER")
      [ $# -gt 1 ] && args+=(--directory "$2")
      "$PROBE" "${args[@]}" | grep '^RESULT' | sed "s/^RESULT /RESULT round=$round /"
    done
  done
done
