#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: the normal build, then the whole suite
# under AddressSanitizer + UndefinedBehaviorSanitizer, then the engine and server suites under
# ThreadSanitizer, then a bounded fuzzing run of every libFuzzer target. Exits non-zero on the
# first failure.
# usage: scripts/run-tests.sh [--quick]    (--quick: the normal build only)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export JOBS=${JOBS:-$(nproc)}

bash scripts/install-deps.sh

stage() { echo; echo "=== $* ($(date +%T))"; }
run_ctest() { # build dir, extra ctest args
  local dir=$1; shift
  ctest --test-dir "$dir" --output-on-failure -j "$JOBS" "$@"
}

stage "normal build"
bash scripts/build.sh build
run_ctest build

[ "${1:-}" = "--quick" ] && exit 0

stage "AddressSanitizer + UndefinedBehaviorSanitizer build"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
bash scripts/build.sh build-asan -DGOETHE_SANITIZER=address -DGOETHE_BUILD_BENCH=OFF
run_ctest build-asan

stage "ThreadSanitizer build (the engine suites)"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$ROOT/tests/tsan.supp"
# Only the suites run here: the gRPC server cannot be checked by TSan with Debian's uninstrumented
# gRPC and absl (thousands of reports from inside them), so it is not built in this tree.
TARGETS="engine_test engine_crash_test" \
  bash scripts/build.sh build-tsan -DGOETHE_SANITIZER=thread -DGOETHE_BUILD_BENCH=OFF
run_ctest build-tsan -L tsan

stage "fuzzing: each libFuzzer target for 30 s (clang build, build-fuzz)"
bash scripts/run-fuzz.sh 30

stage "all test stages passed"
