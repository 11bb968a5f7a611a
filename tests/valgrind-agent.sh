#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The agent under valgrind's memcheck, as REQACCT_BIN for the integration
# tests (make check-root-valgrind). Each process writes its report to
# $VG_REPORTS/vg.PID; a report with anything in it is a failure.
root=$(cd "$(dirname "$0")/.." && pwd)
exec valgrind -q --leak-check=full --errors-for-leak-kinds=definite \
	--suppressions="$root/tests/valgrind.supp" --log-file="${VG_REPORTS:?}/vg.%p" \
	"$root/.output/reqacct" "$@"
