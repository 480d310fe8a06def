#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) in their own clang build tree, build-fuzz, runs each
# once over its seeds and regressions (ctest -L fuzz), then fuzzes each for DURATION seconds.
# Fails if any target crashes, leaks, hangs or trips a sanitizer; the input that did it is kept in
# build-fuzz/fuzz-runs/<target>/artifacts/ (turn it into a regression: tests/fuzz/README.md).
#
# usage: scripts/run-fuzz.sh [DURATION]     (seconds per target; default 60)
# The corpus each target grows lives in build-fuzz/fuzz-runs/<target>/corpus/ and carries over to
# the next run; nothing is written into the repository. JOBS (default 2) bounds compile jobs,
# FUZZ_JOBS (default: the number of cores) how many targets fuzz at once, each on its own core.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
DURATION=${1:-60}
JOBS=${JOBS:-2}
BUILD=build-fuzz
TARGETS=(fuzz_config fuzz_records fuzz_engine_open fuzz_requests)

case "$DURATION" in
  '' | *[!0-9]*) echo "usage: scripts/run-fuzz.sh [DURATION_SECONDS]" >&2; exit 2 ;;
esac

bash scripts/install-deps.sh --fuzz

stage() { echo; echo "=== $* ($(date +%T))"; }

stage "configure and build $BUILD (clang, libFuzzer, ASan+UBSan)"
mkdir -p "$BUILD"
CC=clang-14 CXX=clang++-14 cmake -S . -B "$BUILD" -DGOETHE_FUZZ=ON -DGOETHE_BUILD_BENCH=OFF \
  -DGOETHE_SANITIZER=address >"$BUILD/configure.log" 2>&1 || { cat "$BUILD/configure.log"; exit 1; }
cmake --build "$BUILD" --target goethe_fuzz -j "$JOBS"

export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
[ -x /usr/lib/llvm-14/bin/llvm-symbolizer ] && export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-14/bin/llvm-symbolizer

stage "every target over its seeds and regressions"
ctest --test-dir "$BUILD" -L fuzz --output-on-failure

# Fuzzes one target for DURATION seconds; its exit status goes to fuzz-runs/<target>/status.
fuzz_one() {
  local target=$1 run="$ROOT/$BUILD/fuzz-runs/$1" status=0
  rm -rf "$run/artifacts" "$run/status"  # what an earlier run found is in its log; this run starts clean
  mkdir -p "$run/corpus" "$run/artifacts"
  # The seeds and regressions join the corpus this target grew in earlier runs (copies, so that
  # libFuzzer writes only under build-fuzz).
  cp -n tests/fuzz/corpus/"$target"/* "$run/corpus/" 2>/dev/null || true
  [ -d tests/fuzz/regressions/"$target" ] && cp -n tests/fuzz/regressions/"$target"/* "$run/corpus/" 2>/dev/null || true
  (cd "$run" && "$ROOT/$BUILD/tests/fuzz/$target" -max_total_time="$DURATION" -timeout=25 \
     -print_final_stats=1 -artifact_prefix="$run/artifacts/" corpus) >"$run/fuzz.log" 2>&1 || status=$?
  echo "$status" >"$run/status"
}

# Each target fuzzes single-threaded for its full DURATION; FUZZ_JOBS of them (default: one per
# core) run side by side, so every target gets a core of its own for as long as before and the
# stage takes DURATION x targets / FUZZ_JOBS instead of DURATION x targets.
FUZZ_JOBS=${FUZZ_JOBS:-$(nproc)}
stage "fuzzing ${TARGETS[*]} for ${DURATION}s each, $FUZZ_JOBS at a time"
running=0
for target in "${TARGETS[@]}"; do
  if [ "$running" -ge "$FUZZ_JOBS" ]; then wait -n; running=$((running - 1)); fi
  fuzz_one "$target" &
  running=$((running + 1))
done
wait

failed=()
summary=()
for target in "${TARGETS[@]}"; do
  run="$ROOT/$BUILD/fuzz-runs/$target"
  log="$run/fuzz.log"
  status=$(cat "$run/status" 2>/dev/null || echo "?")
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(sed -n 's/^#[0-9]*[[:space:]]*DONE .* cov: \([0-9]*\) .*/\1/p' "$log" | tail -1)
  corpus=$(find "$run/corpus" -type f | wc -l)
  artifacts=$(ls -1 "$run/artifacts" 2>/dev/null | wc -l)
  line="$target: ${runs:-?} executions (${rate:-?}/s), coverage ${cov:-?}, corpus $corpus files"
  if [ "$status" != 0 ] || [ "$artifacts" -gt 0 ]; then
    line="$line -- FAILED (exit $status)"
    failed+=("$target")
    grep -E -A40 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|SUMMARY|Test unit written' "$log" | head -80 || true
    echo "artifacts in $run/artifacts:"; ls -l "$run/artifacts"
    echo "full log: $log"
  fi
  echo "$line"
  summary+=("$line")
done

stage "summary"
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "fuzzing passed: no crash in ${#TARGETS[@]} targets x ${DURATION}s"
