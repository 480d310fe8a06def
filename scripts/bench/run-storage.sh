#!/usr/bin/env bash
# Space and recovery figures of one backend through goethe-storage-bench on a fresh store, once
# (repetition REP): bytes on disk per event after EVENTS appends and after retention removed half,
# and the time to reopen the store after a clean close. RESULT lines go to raw/results.txt.
# usage: run-storage.sh BACKEND REP      env: BIN OUT DATA EVENTS REPS PAYLOAD RANDOM_FLAG
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
backend=$1
rep=$2
progress "$backend: space and recovery ($EVENTS events), rep $rep/$REPS"
out=$(timeout --foreground 1800 "$BIN/bench/goethe-storage-bench" --backend "$backend" --events "$EVENTS" \
        --payload-bytes "$PAYLOAD" --data-dir "$DATA/storage" $RANDOM_FLAG 2>>"$OUT/raw/storage-$backend.log") || {
  progress_end
  log "$backend: goethe-storage-bench failed (see raw/storage-$backend.log)"
  exit 1
}
progress_end
echo "$out" | record "group=storage sync=off rep=$rep"
