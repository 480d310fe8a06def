# Helpers shared by the scripts/bench/*.sh steps of scripts/compare-backends.sh (sourced, not run).
# Expects BIN (the build folder) and OUT (this run's results folder) to be set.

export LC_ALL=C

log() { progress_end; echo "[compare $(date +%T)] $*" >&2; }

# A progress line for long runs: rewritten in place on a terminal, otherwise at most one line
# every 15 s so that CI logs stay short.
PROGRESS_SHOWN=0
PROGRESS_LAST=0
progress() {
  if [ -t 2 ]; then
    printf '\r\033[K  %s' "$*" >&2
    PROGRESS_SHOWN=1
  else
    local now
    now=$(date +%s)
    if [ $((now - PROGRESS_LAST)) -ge 15 ]; then
      echo "  ... $*" >&2
      PROGRESS_LAST=$now
    fi
  fi
}
progress_end() {
  if [ "$PROGRESS_SHOWN" = 1 ]; then printf '\r\033[K' >&2; PROGRESS_SHOWN=0; fi
}

# Appends a program's RESULT lines to raw/results.txt, each tagged with "KEY=VALUE ..." ($1).
record() { # tags, then reads RESULT lines on stdin
  grep '^RESULT' | sed "s/\$/ $1/" >>"$OUT/raw/results.txt" || true
}

load1() { cut -d' ' -f1 /proc/loadavg; }
# The load before each phase: load average, I/O pressure (share of time some task waited for
# I/O, last 60 s) and other processes using more than 5 % CPU; the machine may be shared.
note_load() { # phase name (spaces become underscores)
  local io busy
  io=$(sed -n 's/^some .*avg60=\([0-9.]*\).*/\1/p' /proc/pressure/io 2>/dev/null)
  busy=$(top -bn1 -w 200 2>/dev/null | awk 'NR > 7 && $9 + 0 > 5 {printf "%s:%s%%,", $12, $9}')
  echo "LOAD phase=${1// /_} load1=$(load1) loadavg=$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' ,)" \
       "io_pressure60=${io:-?} busy=${busy:-none}" >>"$OUT/raw/results.txt"
}

# A step that stops on an error says where (set -e alone exits silently).
trap 'echo "[compare] ${BASH_SOURCE[0]##*/} line $LINENO: \"$BASH_COMMAND\" failed" >&2' ERR
