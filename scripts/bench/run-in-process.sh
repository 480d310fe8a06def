#!/usr/bin/env bash
# The in-process matrix of one backend through goethe-engine-bench: raw KV put (batches 1/100/1000),
# point get, forward scan, engine append (same batches), engine read, seek by time, and 1/8/64
# concurrent appenders with sync on, once (repetition REP). Writes raw/engine-BACKEND-rREP.json
# (Google Benchmark JSON) and appends the console report to raw/engine-BACKEND.log.
# usage: run-in-process.sh BACKEND REP     env: BIN OUT DATA SYNC_MODES REPS QUICK PAYLOAD RANDOM_FLAG
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
shopt -s extglob
backend=$1
rep=$2

syncs=$(echo "$SYNC_MODES" | tr ' ' '|')
filter="^((raw_put|engine_append)/[^/]+/batch:(1|100|1000)/sync:($syncs)/"
filter+="|(raw_get|raw_scan|engine_read|seek_by_time|concurrent_sync_appenders|concurrent_sync_async_appenders)/)"
args=(--backends="$backend" --data-dir="$DATA/engine-$backend" --payload-bytes="$PAYLOAD"
      --benchmark_filter="$filter" --benchmark_color=false
      --benchmark_out="$OUT/raw/engine-$backend-r$rep.json" --benchmark_out_format=json
      $RANDOM_FLAG)
if [ "$QUICK" = 1 ]; then
  args+=(--quick --benchmark_min_time=0.01)
else
  args+=(--benchmark_min_time=0.5 --benchmark_min_warmup_time=0.1)
fi

total=$("$BIN/bench/goethe-engine-bench" "${args[@]}" --benchmark_list_tests=true | wc -l)
done_count=0
status=0
# Each finished benchmark prints a line: show them as progress.
while IFS= read -r line; do
  line=${line//$'\e'\[*([0-9;])m/}  # the console reporter colours its lines
  [[ "$line" == EXIT\ * ]] && status=1
  echo "$line" >>"$OUT/raw/engine-$backend.log"
  name=${line%% *}
  [[ "$name" == */"$backend"/* ]] || continue
  done_count=$((done_count + 1))
  progress "rep $rep/$REPS, $backend in-process $done_count/$total: $name"
done < <(timeout --foreground 1800 "$BIN/bench/goethe-engine-bench" "${args[@]}" 2>>"$OUT/raw/engine-$backend.log" || echo "EXIT $?")
progress_end
[ $status = 0 ] || log "$backend: goethe-engine-bench failed (see raw/engine-$backend.log)"
rm -rf "$DATA/engine-$backend"
exit $status
