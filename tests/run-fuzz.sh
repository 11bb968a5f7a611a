#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Runs every libFuzzer target in OUTPUT/fuzz for SECONDS each, starting from
# the checked-in seeds in tests/fuzz/corpus/<target> (which it never writes).
# Usage: run-fuzz.sh OUTPUT SECONDS TARGET...
out=$1 secs=$2
shift 2
passed=0 failed=0
for t in "$@"; do
	mkdir -p "$out/fuzz/corpus-$t"
	log="$out/fuzz/$t.log"
	if "$out/fuzz/fuzz_$t" -max_total_time="$secs" -max_len=4096 -print_final_stats=1 \
		-artifact_prefix="$out/fuzz/$t-" "$out/fuzz/corpus-$t" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
		passed=$((passed + 1))
		echo "fuzz $t: $(sed -n 's/^stat::number_of_executed_units: *//p' "$log") runs in ${secs}s, no crash"
	else
		failed=$((failed + 1))
		echo "fuzz $t: FAILED (crash input in $out/fuzz/$t-*)"
		grep -A15 "ERROR\|SUMMARY" "$log" | head -30
	fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" = 0 ]
