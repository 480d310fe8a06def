#!/usr/bin/env bash
# Configures and builds Goethe into a build folder.
# usage: scripts/build.sh [BUILD_DIR] [extra cmake arguments...]   (BUILD_DIR defaults to build)
# TARGETS="a b" builds only those targets (and what they need).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${1:-build}
shift || true
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
JOBS=${JOBS:-$(nproc)}

cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} "$@" >/dev/null
TARGET_ARGS=()
for target in ${TARGETS:-}; do TARGET_ARGS+=(--target "$target"); done
cmake --build "$BUILD_DIR" -j "$JOBS" "${TARGET_ARGS[@]}"
