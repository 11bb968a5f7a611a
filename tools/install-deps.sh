#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Installs what building, running and testing reqacct need on Debian 12.
set -eu
BUILD="make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libmicrohttpd-dev libgnutls28-dev libcapstone-dev libncurses-dev pkg-config"
TEST="libcmocka-dev tmux strace valgrind python3-yaml libclang-rt-14-dev nginx-light curl openssl prometheus python3 procps unbound bind9-dnsutils dnsperf golang-1.19-go golang-golang-x-net-dev iproute2 etcd-server qemu-system-x86 busybox-static"
BENCH="hey nghttp2-client"
missing=
for p in $BUILD $TEST $BENCH; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
command -v npm >/dev/null || missing="$missing npm"
if [ -n "$missing" ]; then
	[ "$(id -u)" = 0 ] || { echo "deps: need root to install:$missing" >&2; exit 1; }
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# Debian starts nginx, prometheus and unbound as services when it installs
	# them; tests start their own, so keep the packaged services from starting
	# (policy-rc.d).
	made_policy=
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
		made_policy=1
	fi
	apt-get install -y -qq --no-install-recommends $missing
	[ -z "$made_policy" ] || rm -f /usr/sbin/policy-rc.d
fi
# The npm package esbuild: a stripped Go 1.26 binary that test_elfbin reads
# (exact version pinned by tests/fixtures/esbuild/package-lock.json).
esbuild=$(cd "$(dirname "$0")/.." && pwd)/tests/fixtures/esbuild
if [ ! -x "$esbuild/node_modules/@esbuild/linux-x64/bin/esbuild" ]; then
	npm ci --prefix "$esbuild" --ignore-scripts --no-audit --no-fund --loglevel=error
fi
echo "deps: all installed"
