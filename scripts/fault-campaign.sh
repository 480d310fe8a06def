#!/usr/bin/env bash
# The fault campaign, long: ROUNDS rounds (default 100) of faults on a 3-node cluster on a 3-member
# etcd (real processes on loopback, session TTL 2 s) under continuous produce and consume load —
# SIGKILL of the leader, of a follower, of the leader and a follower at once; SIGSTOP of the leader
# past the TTL; a follower restarted with its data wiped; an etcd member killed — then a check of
# every acknowledged write and every read against what each node holds. Prints one line per round
# and the summary, ending with
#   CAMPAIGN rounds=N kill_leader=... acked=... checked=... violations=0 ...
# CI runs 20 rounds (tests/cluster_campaign_test.cc); this is the full count. About 4 s a round.
# usage: scripts/fault-campaign.sh [ROUNDS]     (or ROUNDS=N; SEED=N repeats a run's random choices)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
bash scripts/install-deps.sh
TARGETS=cluster_campaign_test bash scripts/build.sh build >/dev/null
export GOETHE_CAMPAIGN_ROUNDS=${1:-${ROUNDS:-100}}
if [ -n "${SEED:-}" ]; then export GOETHE_CAMPAIGN_SEED=$SEED; fi
./build/tests/cluster_campaign_test --gtest_filter='ClusterCampaign.FaultRoundsLoseNothing'
