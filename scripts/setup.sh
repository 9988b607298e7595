#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (as root) to build, run and test waggle:
# installs what is missing from Debian's packages, then `npm ci` (which builds
# the native binding with node-gyp) and `npm run build` (BPF objects + TypeScript
# + web UI). Idempotent: packages already present are not reinstalled.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh must run as root (it installs Debian packages; waggle itself needs CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN)" >&2
  exit 1
fi

# Build: clang/llvm compile BPF C; libbpf-dev/libelf-dev/zlib1g-dev/pkg-config for the
# binding; bpftool generates vmlinux.h; make/g++/python3 for node-gyp.
BUILD_PACKAGES=(clang llvm libbpf-dev libelf-dev zlib1g-dev pkg-config bpftool make g++ python3)
# Run and test: real programs the tests drive and measure.
TEST_PACKAGES=(curl nginx apache2-utils wrk libcap2-bin iproute2 procps util-linux strace perl gcc chromium
  golang-go) # golang-go: the profiling tests build a Go program and read pprof files with `go tool pprof`
# Servers and clients of the protocol tests (issue 9), started by the tests on
# loopback with throwaway data directories, never as system services.
PROTOCOL_PACKAGES=(postgresql postgresql-client redis-server redis-tools mariadb-server mariadb-client memcached
  nats-server mosquitto mosquitto-clients rabbitmq-server python3-psycopg2
  nghttp2-client nghttp2-server python3-grpcio python3-grpc-tools python3-h2)

missing=()
for p in "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}" "${PROTOCOL_PACKAGES[@]}" ${WAGGLE_EXTRA_PACKAGES:-}; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  # Services installed here (nginx, …) must not start system-wide: tests start their own.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
elif [ ! -f build/Release/waggle_bpf.node ]; then
  npm run build:native
fi
npm run build
echo "setup: done. Try: node bin/waggle.js doctor"
