#!/usr/bin/env bash
# Installs the Debian bookworm packages Goethe builds with, skipping those already present.
# Idempotent; needs root (or sudo) only when something is missing.
# usage: scripts/install-deps.sh [--fuzz]   (--fuzz: also clang and libFuzzer, for scripts/run-fuzz.sh)
set -euo pipefail

PACKAGES=(
  cmake g++ make pkg-config
  libleveldb-dev librocksdb-dev liblmdb-dev liblmdb++-dev
  zlib1g-dev  # crc32(): the LMDB checksum test checks the stored trailers against it
  libisal-dev  # ISA-L's crc32_gzip_refl: the LMDB plugin's value checksums (zlib's CRC-32, faster)
  libboost-dev libyaml-cpp-dev
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  libspdlog-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libnghttp2-dev  # goethe-bench tail-fanout --client h2: an HTTP/2 client cheaper than gRPC's
  openssl  # the security tests make their certificates with it
  python3 gnuplot-nox  # the report and charts of scripts/compare-backends.sh
  etcd-server etcd-client  # the cluster's coordinator, started on loopback by the cluster tests and run-cluster.sh
  prometheus  # the HTTP test starts one on loopback to scrape a real server's /metrics
  chromium chromium-driver python3-selenium  # the web console's test drives a headless Chromium
)
# Only for fuzzing (tests/fuzz, scripts/run-fuzz.sh): clang 14 with its sanitizer and libFuzzer
# runtimes (libclang-rt-14-dev), libFuzzer itself, and llvm-14 for llvm-symbolizer's stack traces.
FUZZ_PACKAGES=(clang-14 libclang-rt-14-dev libfuzzer-14-dev llvm-14)
if [ "${1:-}" = "--fuzz" ]; then
  PACKAGES+=("${FUZZ_PACKAGES[@]}")
fi

missing=()
for package in "${PACKAGES[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
