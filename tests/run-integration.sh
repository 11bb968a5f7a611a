#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Runs the root integration tests (tests/integration/test_*.py, or those
# named as arguments). Exit 77 from a test is a skip (only outside CI: under
# CI=true the tests fail instead).
cd "$(dirname "$0")/integration" || exit 1
passed=0 failed=0 skipped=0
[ $# -gt 0 ] || set -- test_*.py
for t in "$@"; do
	echo "== $t"
	/usr/bin/python3 "$t"
	case $? in
	0) passed=$((passed + 1)) ;;
	77) skipped=$((skipped + 1)) ;;
	*) failed=$((failed + 1)); echo "FAILED: $t" ;;
	esac
done
echo "integration: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
