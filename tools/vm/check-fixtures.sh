#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The offline harness self-test, run by "make check" (no VM, a second or
# two): feed every console log in fixtures/ to check-log.py and compare its
# verdict with the fixture's .expect file:
#
#   # what the fixture plants
#   status 0|1          the checker's exit status
#   output REGEX        a line of the checker's output (grep -E), any number
#   args ARG...         extra checker arguments
#
# Each fixture reproduces one way a broken run once passed; the clean ones
# prove the checker still passes a good run.  Then the booted self-test's
# judge (check-harness.sh --judge) must refuse a passing case reported
# "not ok".

. "$(dirname "$0")/common.sh"
set +e

fixtures=$GOSYNC_ROOT/tools/vm/fixtures
passed=0
failed=0
result() {
	if [ "$1" -eq 0 ]; then
		echo "ok: $2"
		passed=$((passed + 1))
	else
		echo "not ok: $2"
		failed=$((failed + 1))
	fi
}

for log_file in "$fixtures"/*.log; do
	name=$(basename "$log_file" .log)
	spec=$fixtures/$name.expect
	why=$(sed -n 's/^# //p' "$spec" | head -n 1)
	want=$(sed -n 's/^status //p' "$spec")
	read -r -a extra <<<"$(sed -n 's/^args //p' "$spec")"
	output=$(python3 "$GOSYNC_ROOT/tools/vm/check-log.py" --quiet \
		--log "$log_file" --cpus 2 --lockdep --taint --debugfs \
		--kunit-module gosync_kunit \
		--expected-cases "gosync_kunit=$fixtures/expected-cases.txt" \
		--allowed-skips "$fixtures/allowed-skips.txt" \
		${extra[@]+"${extra[@]}"} 2>&1)
	status=$?
	bad=""
	[ "$status" -eq "$want" ] || bad="exit status $status, want $want"
	while read -r pattern; do
		grep -qE -- "$pattern" <<<"$output" || bad="$bad; no line /$pattern/"
	done < <(sed -n 's/^output //p' "$spec")
	[ -z "$bad" ] || printf '%s\n' "$output" | sed 's/^/  > /'
	result "$([ -z "$bad" ]; echo $?)" "$name: $why${bad:+ ($bad)}"
done

"$GOSYNC_ROOT/tools/vm/check-harness.sh" --judge harness \
	"$fixtures/harness-passing-case-not-ok.out" >/dev/null
result "$([ $? -ne 0 ]; echo $?)" \
	"the booted self-test's judge refuses 'not ok N harness_case_passes'"
"$GOSYNC_ROOT/tools/vm/check-harness.sh" --judge harness \
	"$fixtures/harness-good.out" >/dev/null
result $? "the booted self-test's judge accepts a checker that caught everything"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
