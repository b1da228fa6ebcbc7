#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The harness self-test: run the log checker (its command line is "$@") on
# the console log of the self-test module, which fails on purpose, and
# pass only if the checker failed for exactly the planted reasons.

set -uo pipefail

output=$("$@")
status=$?
printf '%s\n' "$output" | sed 's/^/  > /'

passed=0
failed=0
expect() {
	if eval "$2"; then
		echo "ok: $1"
		passed=$((passed + 1))
	else
		echo "not ok: $1"
		failed=$((failed + 1))
	fi
}
expect "the checker exits non-zero" '[ "$status" -ne 0 ]'
expect "the failing case is reported" \
	'grep -q "case harness_case_fails failed" <<<"$output"'
expect "the stray WARN is reported" \
	'grep -q "outside an expected-warning window.*harness_case_stray_warning" <<<"$output"'
expect "the WARN inside a window is excused" \
	'! grep -q "outside an expected-warning window.*harness_case_expected_warning" <<<"$output"'
expect "the passing case passes" \
	'grep -q "ok [0-9]* harness_case_passes" <<<"$output"'
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
