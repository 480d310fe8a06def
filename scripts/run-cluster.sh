#!/usr/bin/env bash
# Starts a local Goethe cluster in one command: one etcd member and three goethe-server nodes
# (n1, n2, n3), all on 127.0.0.1, with their data, configs and logs under one folder. Prints what
# it started and how to try it, reports nodes that exit and leader changes while it runs, and on
# Ctrl-C (SIGINT or SIGTERM) stops the nodes with SIGTERM, then etcd, waits for them and exits 0.
# If etcd or a node fails to start, it stops everything and prints that process's log tail.
#
# usage: scripts/run-cluster.sh [--dir DIR] [--port P] [--etcd-port P] [--etcd-peer-port P]
#                               [--nodes N] [--name NAME] [--backend leveldb|rocksdb|lmdb]
#                               [--fresh] [--build | --no-build] [--build-dir DIR]
#   --dir DIR          where everything goes (default ./cluster-data; env GOETHE_CLUSTER_DIR):
#                        etcd/ and etcd.log, n1.yaml (generated config), n1/ (store), n1.log, ...
#   --port P           the first node's port; node i listens on P+i-1 (default 50051; env GOETHE_CLUSTER_PORT)
#   --etcd-port P      etcd's client port (default 2379; env GOETHE_ETCD_PORT)
#   --etcd-peer-port P etcd's peer port (default 2380; env GOETHE_ETCD_PEER_PORT)
#   --nodes N          how many nodes, 1 to 9 (default 3; env GOETHE_CLUSTER_NODES)
#   --name NAME        the cluster's name, its prefix /goethe/NAME/ in etcd (default goethe)
#   --backend B        storage backend of every node (default leveldb)
#   --fresh            delete the data, configs and logs of an earlier run in DIR first; without it
#                      a new run continues on the stores and the etcd data that are there
#   --build            install what is missing and (re)build first, as scripts/run-server.sh does;
#                      by default that happens only when a binary or the backend plugin is missing
#   --no-build         never build; fail if a binary is missing
#   --build-dir DIR    the build folder (default build)
# While it runs, `kill -USR1 <its pid>` starts again whatever has stopped (a killed node rejoins).
# Every port is checked first: one that is taken stops the script before anything starts.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${GOETHE_CLUSTER_DIR:-./cluster-data}
PORT=${GOETHE_CLUSTER_PORT:-50051}
ETCD_PORT=${GOETHE_ETCD_PORT:-2379}
ETCD_PEER_PORT=${GOETHE_ETCD_PEER_PORT:-2380}
NODES=${GOETHE_CLUSTER_NODES:-3}
NAME=goethe
BACKEND=leveldb
FRESH=0
BUILD=auto
BUILD_DIR=build
ETCD=$(command -v etcd || echo /usr/bin/etcd)
ETCDCTL=$(command -v etcdctl || echo /usr/bin/etcdctl)

fail() { echo "run-cluster.sh: $*" >&2; exit 2; }
need_value() { [ $# -ge 2 ] || fail "$1 needs a value (see the usage at the top of $0)"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) need_value "$@"; DIR=$2; shift 2 ;;
    --port) need_value "$@"; PORT=$2; shift 2 ;;
    --etcd-port) need_value "$@"; ETCD_PORT=$2; shift 2 ;;
    --etcd-peer-port) need_value "$@"; ETCD_PEER_PORT=$2; shift 2 ;;
    --nodes) need_value "$@"; NODES=$2; shift 2 ;;
    --name) need_value "$@"; NAME=$2; shift 2 ;;
    --backend) need_value "$@"; BACKEND=$2; shift 2 ;;
    --fresh) FRESH=1; shift ;;
    --build) BUILD=always; shift ;;
    --no-build) BUILD=never; shift ;;
    --build-dir) need_value "$@"; BUILD_DIR=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) fail "unknown argument '$1' (see the usage at the top of $0, or --help)" ;;
  esac
done

is_port() { [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -ge 1 ] && [ "$1" -le 65535 ]; }
[[ "$NODES" =~ ^[1-9]$ ]] || fail "--nodes must be 1 to 9, got '$NODES'"
for p in "$PORT" "$ETCD_PORT" "$ETCD_PEER_PORT"; do is_port "$p" || fail "'$p' is not a port (1 to 65535)"; done
[ $((PORT + NODES - 1)) -le 65535 ] || fail "ports $PORT to $((PORT + NODES - 1)) do not all exist"
[[ "$NAME" =~ ^[a-z0-9][a-z0-9._-]{0,62}$ ]] \
  || fail "--name must be 1 to 63 of a-z 0-9 . _ -, starting with a letter or digit, got '$NAME'"
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
SERVER="$BUILD_DIR/server/goethe-server"
CLI="$BUILD_DIR/server/goethe-cli"
PLUGIN="$BUILD_DIR/plugins/libgoethe_kv_$BACKEND.so"

# Every port distinct and free, before anything starts.
declare -A PORT_USE=()
claim_port() {
  local port=$1 what=$2 holder=""
  [ -z "${PORT_USE[$port]:-}" ] || fail "port $port is given to both ${PORT_USE[$port]} and $what"
  PORT_USE[$port]=$what
  if command -v ss >/dev/null 2>&1; then
    holder=$(ss -Hltnp "( sport = :$port )" 2>/dev/null || true)
  elif (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    holder="something accepts connections on 127.0.0.1:$port"
  fi
  [ -z "$holder" ] || fail "port $port (for $what) is taken; stop what uses it or pick other ports" \
    "(--port, --etcd-port, --etcd-peer-port, or GOETHE_CLUSTER_PORT, GOETHE_ETCD_PORT, GOETHE_ETCD_PEER_PORT):"$'\n'"$holder"
}
claim_port "$ETCD_PORT" "etcd's clients"
claim_port "$ETCD_PEER_PORT" "etcd's peers"
for i in $(seq 1 "$NODES"); do claim_port $((PORT + i - 1)) "node n$i"; done

# etcd: Debian's etcd-server and etcd-client packages.
if [ ! -x "$ETCD" ] || [ ! -x "$ETCDCTL" ]; then
  echo "installing: etcd-server etcd-client" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends etcd-server etcd-client >/dev/null
  ETCD=/usr/bin/etcd
  ETCDCTL=/usr/bin/etcdctl
fi
# The binaries: built like scripts/run-server.sh does, when one is missing or --build asks.
if [ "$BUILD" = always ] || { [ "$BUILD" = auto ] && { [ ! -x "$SERVER" ] || [ ! -x "$CLI" ] || [ ! -f "$PLUGIN" ]; }; }; then
  bash "$ROOT/scripts/install-deps.sh"
  TARGETS="goethe-server goethe-cli goethe_kv_$BACKEND" bash "$ROOT/scripts/build.sh" "$BUILD_DIR" >&2
fi
for f in "$SERVER" "$CLI" "$PLUGIN"; do
  [ -e "$f" ] || fail "$f is missing: build it (drop --no-build, or run scripts/build.sh)"
done

mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
# One run per folder at a time. The lock's descriptor is closed for every child (9>&- below).
exec 9>"$DIR/.run-cluster.lock"
flock -n 9 || fail "$DIR is in use by another run-cluster.sh"
if [ "$FRESH" = 1 ]; then
  rm -rf "$DIR/etcd" "$DIR/etcd.log"
  for i in $(seq 1 9); do rm -rf "${DIR:?}/n$i" "$DIR/n$i.yaml" "$DIR/n$i.log"; done
fi

# Paths as the user sees them: relative to the working directory when inside it.
show() { case "$1" in "$PWD"/*) echo "${1#"$PWD"/}" ;; *) echo "$1" ;; esac; }
now() { date '+%H:%M:%S'; }
# etcdctl against our member, without the caller's ETCDCTL_ variables (they would clash with flags).
etcdctl_() {
  (
    while IFS= read -r v; do unset "$v"; done < <(compgen -e | grep '^ETCDCTL_' || true)
    ETCDCTL_API=3 exec "$ETCDCTL" --endpoints "127.0.0.1:$ETCD_PORT" --dial-timeout 1s --command-timeout 2s "$@"
  )
}
# Whether a child of ours still runs (a zombie, exited but not yet reaped, does not).
alive() {
  local state
  [ -n "$1" ] && state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
  [ "${state%% *}" != Z ]
}
# How a process ended, from its exit status.
ended_how() {
  if [ "$1" -gt 128 ] && [ "$1" -lt 160 ]; then echo "killed by SIG$(kill -l $(($1 - 128)) 2>/dev/null || echo $(($1 - 128)))"
  else echo "exit code $1"; fi
}
# The log written since byte offset $2 of file $1 (this start's part): its last 30 lines.
log_tail() { tail -c +$(($2 + 1)) "$1" | tail -n 30 | sed 's/^/    /'; }
log_size() { stat -c %s "$1" 2>/dev/null || echo 0; }

# Whether this start's part of log $1 (from byte $2) says the server listens.
says_listening() { [[ $'\n'"$(tail -c +$(($2 + 1)) "$1")" == *$'\n'"goethe-server listening on "* ]]; }

ETCD_PID=""
ETCD_LOG="$DIR/etcd.log"
ETCD_FROM=0
declare -a NODE_PID NODE_FROM NODE_ADDR NODE_LOG NODE_CONFIG
for i in $(seq 1 "$NODES"); do
  NODE_PID[i]=""
  NODE_FROM[i]=0
  NODE_ADDR[i]="127.0.0.1:$((PORT + i - 1))"
  NODE_LOG[i]="$DIR/n$i.log"
  NODE_CONFIG[i]="$DIR/n$i.yaml"
done
STOP=0     # set by SIGINT and SIGTERM
RESTART=0  # set by SIGUSR1
FORCE=0    # set by a second SIGINT or SIGTERM while stopping

# Each child gets its own session (setsid), so that a terminal's Ctrl-C reaches only this script,
# which then stops the nodes before etcd; stdin from /dev/null; its output appended to its log
# after a marker line. The background subshell is no process group leader (there is no job
# control here), so setsid calls setsid() and execs in place: $! is the program's own pid.
start_etcd() {
  ETCD_FROM=$(log_size "$ETCD_LOG")
  echo "=== run-cluster.sh: etcd starting at $(date '+%F %T') ===" >>"$ETCD_LOG"
  (
    while IFS= read -r v; do unset "$v"; done < <(compgen -e | grep '^ETCD_' || true)  # they would configure etcd too
    exec setsid "$ETCD" --name etcd --data-dir "$DIR/etcd" \
      --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
      --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
      --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
      --initial-cluster "etcd=http://127.0.0.1:$ETCD_PEER_PORT" --initial-cluster-state new \
      --initial-cluster-token "goethe-run-cluster-$NAME" \
      --heartbeat-interval 50 --election-timeout 500 \
      --auto-compaction-mode periodic --auto-compaction-retention 1h \
      --logger zap --log-level warn
  ) </dev/null >>"$ETCD_LOG" 2>&1 9>&- &
  ETCD_PID=$!
}
# Waits until etcd answers a health check: 0; 1 when it exits or is not healthy within 30 s;
# 2 at Ctrl-C.
wait_etcd() {
  local deadline=$((SECONDS + 30))
  while [ $SECONDS -lt $deadline ]; do
    [ "$STOP" = 0 ] || return 2
    alive "$ETCD_PID" || return 1
    etcdctl_ endpoint health >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  return 1
}

write_config() {
  local i=$1
  local MIN_INSYNC=2
  [ "$NODES" -eq 1 ] && MIN_INSYNC=1
  local store="$DIR/n$i"
  store="'${store//\'/\'\'}'"  # a YAML single-quoted string: any folder name is fine
  cat >"${NODE_CONFIG[$i]}" <<YAML
# Node n$i of the local cluster "$NAME", written by scripts/run-cluster.sh at every start (edits
# here do not last). Every key: docs/config.md; how the cluster works: docs/cluster.md.
storage:
  backend: $BACKEND
  path: $store
  sync: true
server:
  listen: ${NODE_ADDR[$i]}
  log_level: info
cluster:
  name: $NAME
  node: n$i
  advertise: ${NODE_ADDR[$i]}
  session_ttl: 2s
  etcd:
    endpoints: [127.0.0.1:$ETCD_PORT]
    connect_timeout: 5s
replication:
  min_insync: $MIN_INSYNC  # the leader and one more hold every acknowledged write (1 with one node)
YAML
}
start_node() {
  local i=$1
  write_config "$i"
  NODE_FROM[i]=$(log_size "${NODE_LOG[$i]}")
  echo "=== run-cluster.sh: n$i starting at $(date '+%F %T') ===" >>"${NODE_LOG[$i]}"
  (exec setsid "$SERVER" --config "${NODE_CONFIG[$i]}") </dev/null >>"${NODE_LOG[$i]}" 2>&1 9>&- &
  NODE_PID[i]=$!
}
# Waits until node i prints that it listens (it has joined the cluster by then): 0; 1 when it
# exits or takes longer than 60 s; 2 at Ctrl-C.
wait_node() {
  local i=$1 deadline=$((SECONDS + 60))
  while [ $SECONDS -lt $deadline ]; do
    [ "$STOP" = 0 ] || return 2
    says_listening "${NODE_LOG[$i]}" "${NODE_FROM[$i]}" && return 0
    alive "${NODE_PID[$i]}" || return 1
    sleep 0.1
  done
  return 1
}
# Says why a process did not start, with its log's last lines (reaping it if it has ended).
start_failed() {
  local what=$1 pid=$2 log=$3 from=$4 how="did not get ready in time" code=0
  if ! alive "$pid"; then
    wait "$pid" 2>/dev/null || code=$?
    how="exited ($(ended_how "$code")) before it was ready"
  fi
  echo "run-cluster.sh: $what $how; the end of $(show "$log"):" >&2
  log_tail "$log" "$from" >&2
}

# The leader as etcd has it: "NAME ADDRESS EPOCH" of the node that wrote the current epoch record
# and whose member record says leader; empty when there is none; "?" when etcd does not answer.
leader() {
  local records
  records=$(etcdctl_ get --prefix "/goethe/$NAME/" 2>/dev/null) || { echo "?"; return 0; }
  awk -v root="/goethe/$NAME/" '
    function str(name) {
      if (match($0, "\"" name "\":\"[^\"]*\"")) return substr($0, RSTART + length(name) + 4, RLENGTH - length(name) - 5)
      return ""
    }
    function num(name,   s) {
      if (!match($0, "\"" name "\":\"?[0-9]+")) return ""
      s = substr($0, RSTART + length(name) + 3, RLENGTH - length(name) - 3)
      gsub(/"/, "", s)
      return s
    }
    NR % 2 == 1 { key = $0; next }
    key == root "epoch" { epoch_name = str("name"); epoch_address = str("address"); epoch = num("epoch") }
    index(key, root "members/") == 1 && /"state":"leader"/ { leading[str("name")] = 1 }
    END { if (epoch_name != "" && (epoch_name in leading)) print epoch_name, epoch_address, epoch }' <<<"$records"
}
node_pid_by_name() {
  local i=${1#n}
  if [[ "$i" =~ ^[1-9]$ ]] && [ "$i" -le "$NODES" ] && [ -n "${NODE_PID[$i]}" ]; then echo "${NODE_PID[$i]}"; else echo "?"; fi
}

# Stops every node with SIGTERM (each resigns and leaves the membership) and waits up to 20 s
# for them (the server gives in-flight calls 10 s), then etcd the same way (10 s); SIGKILL after
# that, or at once on a second Ctrl-C. Idempotent.
stop_all() {
  trap 'FORCE=1' INT TERM
  local i pid code stopping=()
  for i in $(seq 1 "$NODES"); do
    pid=${NODE_PID[$i]}
    if [ -n "$pid" ] && alive "$pid"; then
      kill -TERM "$pid" 2>/dev/null || true
      kill -CONT "$pid" 2>/dev/null || true  # should it be paused
      stopping+=("$i")
    fi
  done
  stop_wait 20 "${stopping[@]/#/n}"
  for i in "${stopping[@]}"; do
    code=0
    wait "${NODE_PID[$i]}" 2>/dev/null || code=$?
    [ "$code" = 0 ] || echo "$(now) n$i ended with $(ended_how "$code")" >&2
    NODE_PID[i]=""
  done
  if [ -n "$ETCD_PID" ] && alive "$ETCD_PID"; then
    kill -TERM "$ETCD_PID" 2>/dev/null || true
    kill -CONT "$ETCD_PID" 2>/dev/null || true
    stop_wait 10 etcd
    wait "$ETCD_PID" 2>/dev/null || true  # etcd ends a SIGTERM by raising it again: 143 is normal
  fi
  ETCD_PID=""
}
# Polls until the named processes (n1 ... or etcd) have ended; SIGKILL after $1 seconds or on FORCE.
stop_wait() {
  local seconds=$1 deadline name pid left
  shift
  deadline=$((SECONDS + seconds))
  while :; do
    left=()
    for name in "$@"; do
      if [ "$name" = etcd ]; then pid=$ETCD_PID; else pid=${NODE_PID[${name#n}]}; fi
      if alive "$pid"; then left+=("$name:$pid"); fi
    done
    [ ${#left[@]} -gt 0 ] || return 0
    if [ "$FORCE" = 1 ] || [ $SECONDS -ge $deadline ]; then
      echo "$(now) ${left[*]%%:*} still running $([ "$FORCE" = 1 ] && echo "at the second Ctrl-C" || echo "after $seconds s"): SIGKILL" >&2
      for name in "${left[@]}"; do kill -KILL "${name##*:}" 2>/dev/null || true; done
      return 0
    fi
    sleep 0.1
  done
}
trap 'stop_all' EXIT
trap 'STOP=1' INT TERM
trap 'RESTART=1' USR1
stopped_by_signal() {
  echo "$(now) stopping the nodes, then etcd"
  stop_all
  trap - EXIT
  echo "$(now) stopped"
  exit 0
}

start_etcd
if ! wait_etcd; then
  [ "$STOP" = 0 ] || stopped_by_signal
  start_failed "etcd" "$ETCD_PID" "$ETCD_LOG" "$ETCD_FROM"
  exit 1
fi
for i in $(seq 1 "$NODES"); do start_node "$i"; done
for i in $(seq 1 "$NODES"); do
  if ! wait_node "$i"; then
    [ "$STOP" = 0 ] || stopped_by_signal
    start_failed "n$i" "${NODE_PID[$i]}" "${NODE_LOG[$i]}" "${NODE_FROM[$i]}"
    alive "${NODE_PID[$i]}" || NODE_PID[i]=""
    echo "run-cluster.sh: stopping everything" >&2
    exit 1
  fi
done
LEADER=""
for _ in $(seq 1 50); do
  LEADER=$(leader)
  [ "$LEADER" != "?" ] || LEADER=""
  if [ -n "$LEADER" ] || [ "$STOP" != 0 ]; then break; fi
  sleep 0.2
done
[ "$STOP" = 0 ] || stopped_by_signal

LEADER_NAME="" LEADER_ADDRESS="" LEADER_EPOCH=""
[ -z "$LEADER" ] || read -r LEADER_NAME LEADER_ADDRESS LEADER_EPOCH <<<"$LEADER"
SERVERS=""
for i in $(seq 1 "$NODES"); do SERVERS+="${SERVERS:+,}${NODE_ADDR[$i]}"; done
CLI_LINE="$(show "$CLI") --server $SERVERS"
echo "Goethe cluster \"$NAME\" is running ($(show "$0"), pid $$); everything is in $(show "$DIR")/"
printf '  %-5s %-16s pid %-8s log %s\n' etcd "127.0.0.1:$ETCD_PORT" "$ETCD_PID" "$(show "$ETCD_LOG")"
for i in $(seq 1 "$NODES"); do
  printf '  %-5s %-16s pid %-8s log %-26s config %s\n' "n$i" "${NODE_ADDR[$i]}" "${NODE_PID[$i]}" \
    "$(show "${NODE_LOG[$i]}")" "$(show "${NODE_CONFIG[$i]}")"
done
if [ -n "$LEADER_NAME" ]; then
  echo "  leader: $LEADER_NAME ($LEADER_ADDRESS), epoch $LEADER_EPOCH"
  KILL_LINE="kill -9 $(node_pid_by_name "$LEADER_NAME")   # the leader, $LEADER_NAME: another node leads within ~3 s"
else
  echo "  leader: none yet"
  KILL_LINE="kill -9 <the leader's pid>   # another node leads within ~3 s"
fi
cat <<TEXT

Try it, in another terminal:
  $CLI_LINE cluster status
  $CLI_LINE produce orders '{"id":1}'
  $KILL_LINE; then cluster status again
  kill -USR1 $$   # starts again what has stopped: the killed node rejoins as a follower
  ETCDCTL_API=3 etcdctl --endpoints 127.0.0.1:$ETCD_PORT get --prefix /goethe/$NAME/   # the records in etcd
Ctrl-C stops the nodes, then etcd; the data stays in $(show "$DIR")/ for the next run (--fresh starts over).
Below: nodes that end, and leader changes.

TEXT

# Until Ctrl-C: reports processes that end and leader changes (etcd is asked once a second), and
# starts again what has stopped at SIGUSR1.
SHOWN_LEADER=$LEADER
TICK=""
while [ "$STOP" = 0 ]; do
  if [ "$RESTART" = 1 ]; then
    RESTART=0
    if [ -z "$ETCD_PID" ] || ! alive "$ETCD_PID"; then
      echo "$(now) starting etcd again"
      start_etcd
      if wait_etcd; then
        echo "$(now) etcd (pid $ETCD_PID) is serving on 127.0.0.1:$ETCD_PORT"
      elif [ "$STOP" = 0 ]; then
        start_failed "etcd" "$ETCD_PID" "$ETCD_LOG" "$ETCD_FROM"
        alive "$ETCD_PID" || ETCD_PID=""
      fi
    fi
    STARTED=()
    for i in $(seq 1 "$NODES"); do
      [ -n "${NODE_PID[$i]}" ] && alive "${NODE_PID[$i]}" && continue
      echo "$(now) starting n$i again"
      start_node "$i"
      STARTED+=("$i")
    done
    for i in "${STARTED[@]}"; do
      if wait_node "$i"; then
        echo "$(now) n$i (pid ${NODE_PID[$i]}) is serving on ${NODE_ADDR[$i]}"
      elif [ "$STOP" = 0 ]; then
        start_failed "n$i" "${NODE_PID[$i]}" "${NODE_LOG[$i]}" "${NODE_FROM[$i]}"
        alive "${NODE_PID[$i]}" || NODE_PID[i]=""
      fi
    done
    [ "$STOP" = 0 ] || break
  fi
  # wait -n returns when a child ends, when the 1 s tick ends, or at a trapped signal.
  WAITING=()
  [ -z "$ETCD_PID" ] || WAITING+=("$ETCD_PID")
  for i in $(seq 1 "$NODES"); do [ -z "${NODE_PID[$i]}" ] || WAITING+=("${NODE_PID[$i]}"); done
  if [ -z "$TICK" ]; then
    sleep 1 9>&- &
    TICK=$!
  fi
  ENDED=""
  CODE=0
  wait -n -p ENDED "$TICK" "${WAITING[@]}" 2>/dev/null || CODE=$?
  ENDED=${ENDED:-}
  if [ "$ENDED" = "$TICK" ]; then
    TICK=""
  elif [ -n "$ENDED" ]; then
    if [ "$ENDED" = "$ETCD_PID" ]; then
      echo "$(now) etcd (pid $ENDED) ended: $(ended_how "$CODE"); the nodes cannot take writes without it." \
        "kill -USR1 $$ starts it again"
      ETCD_PID=""
    fi
    for i in $(seq 1 "$NODES"); do
      if [ "$ENDED" = "${NODE_PID[$i]}" ]; then
        echo "$(now) n$i (pid $ENDED) ended: $(ended_how "$CODE"). kill -USR1 $$ starts it again"
        NODE_PID[i]=""
      fi
    done
  fi
  [ "$STOP" = 0 ] || break
  [ -n "$ETCD_PID" ] || continue
  CURRENT=$(leader)
  [ "$STOP" = 0 ] || break
  if [ "$CURRENT" != "$SHOWN_LEADER" ]; then
    SHOWN_LEADER=$CURRENT
    if [ "$CURRENT" = "?" ]; then
      echo "$(now) etcd does not answer"
    elif [ -n "$CURRENT" ]; then
      read -r LEADER_NAME LEADER_ADDRESS LEADER_EPOCH <<<"$CURRENT"
      echo "$(now) leader: $LEADER_NAME ($LEADER_ADDRESS, pid $(node_pid_by_name "$LEADER_NAME")), epoch $LEADER_EPOCH"
    else
      echo "$(now) no leader"
    fi
  fi
done
if [ -n "$TICK" ] && alive "$TICK"; then kill "$TICK" 2>/dev/null || true; fi
stopped_by_signal
