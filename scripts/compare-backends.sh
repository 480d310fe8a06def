#!/usr/bin/env bash
# Compares the storage backends under Goethe's workloads and writes a report.
# usage: scripts/compare-backends.sh [--backends leveldb,rocksdb,lmdb] [--workloads in-process,server,space,recovery]
#          [--payload-bytes 100] [--payloads random|repeated] [--sync on|off|both] [--events N]
#          [--repetitions R] [--quick] [--out DIR] [--build-dir DIR] [--no-build]
# Installs what is missing, builds, then runs for every backend, R times over: the in-process matrix
# (goethe-engine-bench), the server workloads (goethe-server + goethe-bench on loopback), space and
# recovery (goethe-storage-bench); and a disk reference (dd). The report goes to OUT/YYYY-MM-DD-HHMMSS/
# (OUT defaults to results/ at the repository root): report.txt (also printed), results.json,
# results.csv, throughput.png, latency.png, and raw/ with every program's own output.
# docs/benchmarks.md says what each workload measures and how to read the report.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HERE=$ROOT/scripts/bench

usage() { sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
BACKENDS="" WORKLOADS="in-process,server,space,recovery" PAYLOAD=100 PAYLOADS=random SYNC=both EVENTS="" REPS="" QUICK=0
OUT_ROOT=$ROOT/results BUILD_DIR=$ROOT/build BUILD=1
while [ $# -gt 0 ]; do
  case "$1" in
    --backends) BACKENDS=$2; shift 2 ;;
    --workloads) WORKLOADS=$2; shift 2 ;;
    --payload-bytes) PAYLOAD=$2; shift 2 ;;
    --payloads) PAYLOADS=$2; shift 2 ;;
    --sync) SYNC=$2; shift 2 ;;
    --events) EVENTS=$2; shift 2 ;;
    --repetitions) REPS=$2; shift 2 ;;
    --quick) QUICK=1; shift ;;
    --out) OUT_ROOT=$2; shift 2 ;;
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) usage ;;
    *) echo "compare-backends: unknown option '$1'" >&2; usage ;;
  esac
done
case "$SYNC" in on) SYNC_MODES="on" ;; off) SYNC_MODES="off" ;; both) SYNC_MODES="on off" ;;
  *) echo "compare-backends: --sync must be on, off or both, not '$SYNC'" >&2; exit 2 ;; esac
case "$PAYLOADS" in random) RANDOM_FLAG=--random-payloads ;; repeated) RANDOM_FLAG="" ;;
  *) echo "compare-backends: --payloads must be random or repeated, not '$PAYLOADS'" >&2; exit 2 ;; esac
for w in ${WORKLOADS//,/ }; do
  case "$w" in in-process|server|space|recovery) ;;
    *) echo "compare-backends: unknown workload '$w' (known: in-process, server, space, recovery)" >&2; exit 2 ;; esac
done
is_number() { [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -gt 0 ]; }
if [ "$QUICK" = 1 ]; then EVENTS=${EVENTS:-20000}; REPS=${REPS:-1}; else EVENTS=${EVENTS:-1000000}; REPS=${REPS:-5}; fi
for v in "$PAYLOAD" "$EVENTS" "$REPS"; do
  is_number "$v" || { echo "compare-backends: --payload-bytes, --events and --repetitions take a positive number, not '$v'" >&2; exit 2; }
done
[ "$EVENTS" -ge 2 ] || { echo "compare-backends: --events must be at least 2" >&2; exit 2; }
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR=$PWD/$BUILD_DIR ;; esac
case "$OUT_ROOT" in /*) ;; *) OUT_ROOT=$PWD/$OUT_ROOT ;; esac

BUILD_STARTED=$(date +%s)
if [ "$BUILD" = 1 ]; then
  bash "$ROOT/scripts/install-deps.sh"
  echo "[compare $(date +%T)] building into $BUILD_DIR" >&2
  bash "$ROOT/scripts/build.sh" "$BUILD_DIR" >"${TMPDIR:-/tmp}/goethe-compare-build.log" 2>&1 || {
    tail -30 "${TMPDIR:-/tmp}/goethe-compare-build.log" >&2; echo "compare-backends: the build failed" >&2; exit 1; }
fi
BUILD_SECS=$(( $(date +%s) - BUILD_STARTED ))
STARTED=$(date +%s)
export BIN=$BUILD_DIR
for tool in bench/goethe-engine-bench bench/goethe-storage-bench server/goethe-server bench/goethe-bench; do
  [ -x "$BIN/$tool" ] || { echo "compare-backends: $BIN/$tool is missing: build first (or drop --no-build)" >&2; exit 1; }
done
if [ -z "$BACKENDS" ]; then  # every plugin the build made, the three known ones first
  found=$(ls "$BIN/plugins" | sed -n 's/^libgoethe_kv_\(.*\)\.so$/\1/p')
  BACKENDS=$( (for b in leveldb rocksdb lmdb; do echo "$found" | grep -qx "$b" && echo "$b"; done
               echo "$found" | grep -vxE 'leveldb|rocksdb|lmdb' || true) | paste -sd, -)
fi
for b in ${BACKENDS//,/ }; do
  [ -f "$BIN/plugins/libgoethe_kv_$b.so" ] || { echo "compare-backends: no plugin for backend '$b' in $BIN/plugins" >&2; exit 2; }
done

export OUT=$OUT_ROOT/$(date +%Y-%m-%d-%H%M%S)
export DATA=$OUT/data  # every backend's stores, so all on one filesystem
export EVENTS REPS QUICK PAYLOAD SYNC_MODES RANDOM_FLAG
mkdir -p "$OUT/raw" "$DATA"
source "$HERE/lib.sh"
trap 'rm -rf "$DATA"' EXIT

# What ran, where: the report and results.json carry all of it.
{
  echo "date=$(date -Is)"
  echo "host=$(hostname)"
  echo "nproc=$(nproc)"
  echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
  echo "memory_kib=$(awk '/^MemTotal/ {print $2}' /proc/meminfo)"
  echo "kernel=$(uname -sr) $(uname -m)"
  echo "os=$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"
  echo "data_dir=$DATA"
  echo "filesystem=$(df -T "$DATA" | awk 'NR == 2 {print $2}')"
  echo "statfs_type=$(stat -f -c %T "$DATA")"
  echo "device=$(df -P "$DATA" | awk 'NR == 2 {print $1}')"
  echo "build_dir=$BUILD_DIR"
  echo "build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt")"
  echo "compiler=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt" | xargs -r -I{} sh -c '{} --version | head -1')"
  echo "commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo '+changes')"
  echo "backends=$BACKENDS"
  echo "workloads=$WORKLOADS"
  echo "payload_bytes=$PAYLOAD"
  echo "payloads=$PAYLOADS"
  echo "sync=$SYNC"
  echo "events=$EVENTS"
  echo "repetitions=$REPS"
  echo "quick=$QUICK"
  echo "loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "build_secs=$BUILD_SECS"
} >"$OUT/raw/meta.txt"

log "backends $BACKENDS; workloads $WORKLOADS; sync $SYNC; $EVENTS events; $REPS repetition(s); results in $OUT"
failed=0
step() { # what, command...
  local what=$1; shift
  local t0; t0=$(date +%s)
  note_load "$what"
  if ! "$@"; then failed=1; log "$what: FAILED"; fi
  echo "phase_secs_${what//[^A-Za-z0-9]/_}=$(( $(date +%s) - t0 ))" >>"$OUT/raw/meta.txt"
}
has() { [[ ",$WORKLOADS," == *",$1,"* ]]; }

if [ "$QUICK" = 1 ]; then export SEQ_MIB=256 DSYNC_WRITES=200; else export SEQ_MIB=1024 DSYNC_WRITES=2000; fi
log "disk reference ($SEQ_MIB MiB sequential with fdatasync, $DSYNC_WRITES x 4 KiB O_DSYNC)"
step "disk start" bash "$HERE/run-disk.sh" start
# Repetition-major order: each repetition runs every backend, so that a burst of other work on a
# shared machine lands on one repetition of each backend rather than on all of one backend's.
for rep in $(seq 1 "$REPS"); do
  for backend in ${BACKENDS//,/ }; do
    if has in-process; then
      log "rep $rep/$REPS, $backend: in-process matrix"
      step "r$rep $backend in-process" bash "$HERE/run-in-process.sh" "$backend" "$rep"
    fi
  done
  for backend in ${BACKENDS//,/ }; do
    if has server; then
      for sync in $SYNC_MODES; do
        log "rep $rep/$REPS, $backend: server workloads, sync $sync"
        step "r$rep $backend server sync $sync" bash "$HERE/run-server.sh" "$backend" "$sync" "$rep"
      done
    fi
  done
  for backend in ${BACKENDS//,/ }; do
    if has space || has recovery; then
      log "rep $rep/$REPS, $backend: space and recovery"
      step "r$rep $backend storage" bash "$HERE/run-storage.sh" "$backend" "$rep"
    fi
  done
done
log "disk reference again"
step "disk end" bash "$HERE/run-disk.sh" end
note_load end
echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/raw/meta.txt"
echo "total_secs=$(( $(date +%s) - STARTED ))" >>"$OUT/raw/meta.txt"

log "writing the report"
python3 "$HERE/report.py" "$OUT" || failed=1
log "report: $OUT/report.txt (results.json, results.csv, throughput.png, latency.png)"
exit $failed
