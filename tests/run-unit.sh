#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Runs the cmocka unit tests given as arguments; prints one closing line.
# $UNIT_WRAPPER, if set, runs each (valgrind: make check-valgrind).
passed=0 failed=0
for t in "$@"; do
	# shellcheck disable=SC2086 # the wrapper is a command and its options
	if $UNIT_WRAPPER "$t"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $t"; fi
done
echo "unit: $passed passed, $failed failed"
[ "$failed" = 0 ]
