#!/usr/bin/env bash
# The disk's own figures, in the folder the stores use (as ../shared/peers/run-peers.sh measures
# them): 4 KiB writes with O_DSYNC (the cost of one small synced write), then a sequential write
# of SEQ_MIB MiB ending with fdatasync. REPS repetitions; RESULT lines go to raw/results.txt,
# tagged with WHEN (start or end: the command measures the disk before and after the backends, so
# that a disk busier at one time than the other shows).
# usage: run-disk.sh WHEN      env: OUT DATA REPS SEQ_MIB DSYNC_WRITES
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
when=$1
file="$DATA/dd-test"
mkdir -p "$DATA"
for rep in $(seq 1 "$REPS"); do
  progress "disk reference ($when), rep $rep/$REPS"
  # The small synced writes first: right after the large write they measured much slower once.
  out=$(dd if=/dev/zero of="$file" bs=4k count="$DSYNC_WRITES" oflag=dsync 2>&1 | tail -1)
  echo "$out" | awk -v n="$DSYNC_WRITES" -v r="$rep" '{ s = $(NF-3); if (s <= 0) s = 1e-9
      printf "RESULT peer=disk test=4k-write-dsync n=%d secs=%s per_op_us=%.1f rep=%s\n", n, s, s / n * 1e6, r }' \
    | record "group=disk when=$when"
  out=$(dd if=/dev/zero of="$file" bs=1M count="$SEQ_MIB" conv=fdatasync 2>&1 | tail -1)
  echo "$out" | awk -v n="$SEQ_MIB" -v r="$rep" '{ s = $(NF-3); if (s <= 0) s = 1e-9
      printf "RESULT peer=disk test=seq-write-fdatasync mib=%d secs=%s MBps=%.0f rep=%s\n", n, s, n * 1048576 / s / 1e6, r }' \
    | record "group=disk when=$when"
  rm -f "$file"
done
progress_end
