#!/usr/bin/env bash
# Installs what is missing, builds, and runs goethe-server in the foreground.
# usage: scripts/run-server.sh [CONFIG] [more goethe-server arguments...]
#        (CONFIG defaults to config/goethe.yaml; stop the server with Ctrl-C)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CONFIG=${1:-$ROOT/config/goethe.yaml}
shift || true

bash "$ROOT/scripts/install-deps.sh"
bash "$ROOT/scripts/build.sh" build >&2
exec "$ROOT/build/server/goethe-server" --config "$CONFIG" "$@"
