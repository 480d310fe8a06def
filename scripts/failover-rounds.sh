#!/usr/bin/env bash
# Measures failover: ROUNDS times (default 20), SIGKILL the leader of a 3-node cluster (real etcd
# and goethe-server processes on loopback, session TTL 2 s) and time the kill until the first write
# the new leader accepts. Prints one line per round and, at the end,
#   FAILOVER rounds=N median_ms=... max_ms=...
# CI runs 5 rounds inside tests/cluster_test.cc; this is the long version.
# usage: scripts/failover-rounds.sh [ROUNDS]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
bash scripts/install-deps.sh
TARGETS=cluster_test bash scripts/build.sh build >/dev/null
GOETHE_FAILOVER_ROUNDS=${1:-20} ./build/tests/cluster_test --gtest_filter='*FailoverRounds*'
