#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Builds tests/fixtures/gotls with Debian's Go 1.19, offline, stripped (-s -w)
# like production builds, in the layouts test_elfbin.c reads:
#   static    CGO_ENABLED=0, internal linking: .gopclntab
#   pie_int   -buildmode=pie, internal linking: .data.rel.ro.gopclntab
#   pie_ext   -buildmode=pie -linkmode=external: no pclntab section (found by scan)
#   arm64     GOARCH=arm64, internal linking
# and tests/fixtures/kubeapi as kubeapi (static), with golang.org/x/net/http2
# from Debian's golang-golang-x-net-dev (GOPATH mode; skipped when it is not
# installed: the tests that need it say so).
# Reuses binaries newer than the source. Usage: build-gotls.sh OUTDIR
# Exit 77 (skip) when Go 1.19 is not installed.
set -eu
out=$1
src=$(cd "$(dirname "$0")/../fixtures/gotls" && pwd)
GO=${GO:-/usr/lib/go-1.19/bin/go}
[ -x "$GO" ] || { echo "build-gotls: $GO not installed (golang-1.19-go)" >&2; exit 77; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
export GOCACHE="$out/cache" GOPATH="$out/path" GOPROXY=off GOFLAGS= GO111MODULE=on GOTOOLCHAIN=local
# build NAME "ENV=..." [go build flags...], from $src
build() {
	name=$1 envs=$2
	shift 2
	if [ "$out/$name" -nt "$src/main.go" ] && { [ ! -e "$src/go.mod" ] || [ "$out/$name" -nt "$src/go.mod" ]; }; then
		return 0
	fi
	# shellcheck disable=SC2086 # envs is a list of words
	(cd "$src" && env $envs "$GO" build -trimpath "$@" -o "$out/$name.tmp" .) &&
		mv "$out/$name.tmp" "$out/$name"
}
build static "CGO_ENABLED=0" -ldflags="-s -w"
build pie_int "CGO_ENABLED=0" -buildmode=pie -ldflags="-s -w"
build pie_ext "CGO_ENABLED=1" -buildmode=pie -ldflags="-s -w -linkmode=external"
build arm64 "CGO_ENABLED=0 GOARCH=arm64" -ldflags="-s -w"
gocode=/usr/share/gocode
if [ -d "$gocode/src/golang.org/x/net/http2" ]; then
	src=$(cd "$src/../kubeapi" && pwd)
	build kubeapi "CGO_ENABLED=0 GO111MODULE=off GOPATH=$gocode" -ldflags="-s -w"
fi
