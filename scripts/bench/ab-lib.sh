# Helpers shared by the focused A/B benchmarks (scripts/bench-fanout.sh, bench-catch-up.sh,
# bench-many-topics.sh): sourced, not run. The caller sets BUILD_DIR and SERVER_B from its flags,
# and PROBE=1 for --probe (side G: goethe-grpc-probe, gRPC alone with no log behind it).

export LC_ALL=C

fail() { echo "$(basename "$0"): $*" >&2; exit 2; }
need_value() { [ $# -ge 2 ] || fail "$1 needs a value (see the usage at the top of $0)"; }
say() { echo "[$(date +%T)] $*"; }
# The value of KEY in a RESULT line: field LINE KEY.
field() { sed -n "s/.* $2=\([0-9.]*\).*/\1/p" <<<"$1"; }
# The median of the numbers on stdin, one per line ("nan" for none).
median() { grep -v '^$' | sort -g | awk '{v[NR]=$1} END {if (NR == 0) print "nan"; else if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
# A process's CPU time so far: "USER KERNEL" in seconds (the fields after its name, which may hold spaces).
cpu_split() { awk -v tick="$(getconf CLK_TCK)" '{sub(/.*\) /, ""); print $12 / tick, $13 / tick}' "/proc/$1/stat"; }

# Sets SERVER_A, BENCH, PROBE_BIN and PLUGINS from BUILD_DIR and checks them (the probe with
# PROBE=1), and SERVER_B when given; SIDES is "A" or "A B", ALL_SIDES the same and then G with
# PROBE=1. Extra arguments: more programs of the build that must exist.
require_build() {
  SERVER_A="$BUILD_DIR/server/goethe-server"
  BENCH="$BUILD_DIR/bench/goethe-bench"
  PROBE_BIN="$BUILD_DIR/bench/goethe-grpc-probe"
  local programs=("$SERVER_A" "$BENCH" "$@") program
  [ "${PROBE:-0}" = 0 ] || programs+=("$PROBE_BIN")
  for program in "${programs[@]}"; do
    [ -x "$program" ] || fail "no $program: build first (bash scripts/build.sh $BUILD_DIR)"
  done
  PLUGINS=$(cd "$BUILD_DIR/plugins" && pwd)
  [ -z "$SERVER_B" ] || [ -x "$SERVER_B" ] || fail "--server-b $SERVER_B is not executable"
  SIDES="A"
  [ -z "$SERVER_B" ] || SIDES="A B"
  ALL_SIDES=$SIDES
  [ "${PROBE:-0}" = 0 ] || ALL_SIDES="$SIDES G"
}
binary_of() { if [ "$1" = A ]; then echo "$SERVER_A"; else echo "$SERVER_B"; fi; }
# The sides in the order of run/step number N: A B, then B A, and so on, so that neither side
# always runs first.
sides_for() { if [ $(($1 % 2)) = 0 ] && [ -n "$SERVER_B" ]; then echo "B A"; else echo "$SIDES"; fi; }
# The same, then G with PROBE=1.
run_sides() { echo "$(sides_for "$1")$([ "${PROBE:-0}" = 0 ] || echo " G")"; }

# A scratch folder for the run (WORK), removed on exit after every server still running is stopped.
declare -A RUNNING=()
make_work() { # name
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/goethe-$1.XXXXXX")
  trap cleanup_work EXIT
}
cleanup_work() {
  local pid
  for pid in "${!RUNNING[@]}"; do stop_pid "$pid"; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}

# Writes DIR/goethe.yaml (BACKEND's store in DIR/data, sync off, this build's plugins, a free
# loopback port, warnings only; STORAGE_EXTRA and SERVER_EXTRA: more lines for those sections,
# each indented and ending in a newline) and starts BINARY on it, its output in DIR; sets
# LAUNCHED_PID and LAUNCHED_ADDR once it listens.
launch_server() { # dir, binary, backend, [storage extra], [server extra]
  rm -rf "$1" && mkdir -p "$1"
  printf 'storage:\n  backend: %s\n  path: %s/data\n  sync: false\n  plugin_dir: %s\n%sserver:\n  listen: 127.0.0.1:0\n  log_level: warn\n%s' \
    "$3" "$1" "$PLUGINS" "${4:-}" "${5:-}" >"$1/goethe.yaml"
  "$2" --config "$1/goethe.yaml" >"$1/out" 2>"$1/log" &
  await_listening $! "$1" goethe-server
}
# Registers PID (started with its output in DIR/out and DIR/log) for cleanup and waits until it
# prints "NAME listening on ADDR"; sets LAUNCHED_PID and LAUNCHED_ADDR.
await_listening() { # pid, dir, name
  LAUNCHED_PID=$1
  RUNNING[$1]=1
  for _ in $(seq 100); do
    # The shell opens DIR/out in the child it forked: the file may not be there yet.
    LAUNCHED_ADDR=$(sed -n "s/^$3 listening on //p" "$2/out" 2>/dev/null || true)
    [ -n "$LAUNCHED_ADDR" ] && return 0
    sleep 0.1
  done
  fail "$3 in $2 did not start: $(cat "$2/log")"
}
stop_pid() {
  unset "RUNNING[$1]"
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# One server at a time: start_server takes launch_server's arguments and sets SERVER_PID and ADDR.
SERVER_PID=""
start_server() { launch_server "$@"; SERVER_PID=$LAUNCHED_PID ADDR=$LAUNCHED_ADDR; }
stop_server() { [ -z "$SERVER_PID" ] || stop_pid "$SERVER_PID"; SERVER_PID=""; }

# goethe-grpc-probe (gRPC alone, no log: bench/probes/grpc_probe.cc) in DIR with ARGS, as the one
# server: sets SERVER_PID and ADDR.
start_probe() { # dir, [args...]
  local dir=$1
  shift
  rm -rf "$dir" && mkdir -p "$dir"
  "$PROBE_BIN" --listen 127.0.0.1:0 "$@" >"$dir/out" 2>"$dir/log" &
  await_listening $! "$dir" goethe-grpc-probe
  SERVER_PID=$LAUNCHED_PID ADDR=$LAUNCHED_ADDR
}
