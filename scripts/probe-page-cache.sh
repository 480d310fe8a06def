#!/usr/bin/env bash
# What a store growing into new page-cache pages costs on this machine, with no Goethe involved
# (docs/config.md, "LMDB: order events by time"): writes --chunks chunks of --chunk-mib MiB to a new
# file with 4 KiB writes, as a store writes its pages without syncing, and prints the seconds each
# chunk took and the kernel's count of free memory handed back to the host meanwhile (free page
# reporting, when the kernel has it). The file is removed at the end. On the 2-core VM of
# docs/benchmarks.md, chunks past 2 GiB of new pages took about 2.5 times as long as the first seven
# in most runs (docs/config.md has the figures).
#
# usage: scripts/probe-page-cache.sh [--chunks 10] [--chunk-mib 256] [--dir DIR (default: $TMPDIR or /tmp)]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/scripts/bench/ab-lib.sh"
CHUNKS=10
CHUNK_MIB=256
DIR=${TMPDIR:-/tmp}
while [ $# -gt 0 ]; do
  case "$1" in
    --chunks) need_value "$@"; CHUNKS=$2; shift 2 ;;
    --chunk-mib) need_value "$@"; CHUNK_MIB=$2; shift 2 ;;
    --dir) need_value "$@"; DIR=$2; shift 2 ;;
    *) fail "unknown argument $1 (see the usage at the top of $0)" ;;
  esac
done
FILE=$(mktemp "$DIR/goethe-page-cache.XXXXXX")
trap 'rm -f "$FILE"' EXIT
REPORTED=/sys/module/page_reporting/parameters/reported_kib
reported_mib() { if [ -r "$REPORTED" ]; then echo $(($(cat "$REPORTED") / 1024)); else echo "n/a"; fi; }

say "writing $CHUNKS chunks of $CHUNK_MIB MiB to $FILE; load $(cut -d' ' -f1-3 /proc/loadavg)"
reported_before=$(reported_mib)
for chunk in $(seq "$CHUNKS"); do
  start=$(date +%s.%N)
  dd if=/dev/zero of="$FILE" bs=4k count=$((CHUNK_MIB * 256)) oflag=append conv=notrunc status=none
  end=$(date +%s.%N)
  awk -v c="$chunk" -v m="$CHUNK_MIB" -v s="$start" -v e="$end" -v d="$(grep '^Dirty:' /proc/meminfo | awk '{print $2}')" \
    'BEGIN {printf "chunk %d (up to %d MiB): %.2f s, %.0f MiB/s, dirty pages %.0f MiB\n", c, c * m, e - s, m / (e - s), d / 1024}'
done
reported_after=$(reported_mib)
if [ "$reported_before" = n/a ]; then
  say "this kernel has no free page reporting counter ($REPORTED)"
else
  say "free memory reported to the host meanwhile: $((reported_after - reported_before)) MiB"
fi
