#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make test-harness: prove, in the booted test kernel, that the harness
# fails every broken run it used to pass.  Three runs, two boots:
#
#   1. EXTRA_KMODS names a client that does not build: the run must stop
#      with an error before booting.
#   2. "vm-run.sh harness": the self-test modules (tools/vm/selftest/), which
#      fail on purpose; the checker must name every planted failure, and
#      nothing else.
#   3. "vm-run.sh harness-hang": a case that never ends, with a short
#      VM_TIMEOUT; the checker must call the run unfinished.
#
# FLAVOR=kcsan or kasan also proves that KCSAN sees a planted data race
# and kmemleak a planted leak.
#
# "check-harness.sh --judge MODE FILE" judges a saved checker output
# instead (the offline self-test, tools/vm/check-fixtures.sh, uses it).

. "$(dirname "$0")/common.sh"
set +e

vm_dir=$GOSYNC_ROOT/tools/vm
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

# The checker's verdict on the self-test boot ($1: its output file).
judge_harness() {
	local out=$1
	expect "the checker fails the run" \
		'grep -qE "^[0-9]+ passed, [1-9][0-9]* failed" "$out"'
	expect "the passing case passes" \
		'grep -qE "^  gosync_harness_selftest: ok [0-9]+ harness_case_passes$" "$out"'
	expect "the failing case is reported" \
		'grep -q "^FAIL: gosync_harness_selftest: case harness_case_fails failed$" "$out"'
	expect "the stray WARN is reported" \
		'grep -q "^FAIL: kernel report not excused.* harness_case_stray_warning+" "$out"'
	expect "the WARN inside its own task's window is excused" \
		'! grep -q "^FAIL: .*harness_case_expected_warning" "$out"'
	expect "another task's WARN inside a window is reported" \
		'grep -q "^FAIL: kernel report not excused.* harness_warn_thread+" "$out"'
	expect "the window left open by an aborted case is reported" \
		'grep -qE "^FAIL: expected-warning window of pid [0-9]+ opened at console line [0-9]+ never closed$" "$out"'
	expect "the unlisted skip is reported" \
		'grep -q "^FAIL: gosync_harness_selftest: case harness_case_skipped skipped" "$out"'
	expect "the allowed skip is counted as a skip" \
		'grep -qE "^[0-9]+ passed, [0-9]+ failed, 1 skipped$" "$out" &&
		 ! grep -q "^FAIL: .*harness_case_allowed_skip" "$out"'
	expect "the module that does not load is reported" \
		'grep -q "^FAIL: insmod-failed gosync_harness_noload " "$out"'
	expect "a manifest case that did not run is reported" \
		'grep -q "^FAIL: .*case harness_case_deleted is in the manifest but did not run$" "$out"'
	expect "a case missing from the manifest is reported" \
		'grep -q "^FAIL: .*case harness_case_not_in_manifest ran but is not in the manifest$" "$out"'
	# The checkers of the flavour must see what only they can see.
	local planted=9
	case ${FLAVOR:-default} in
	kcsan)
		planted=10
		expect "KCSAN reports the planted data race" \
			'grep -q "^FAIL: kernel report not excused.*BUG: KCSAN: data-race in harness_race_thread" "$out"'
		;;
	kasan)
		planted=10
		expect "kmemleak reports the planted leak" \
			'grep -q "^FAIL: kernel report not excused.*unreferenced object" "$out"'
		;;
	esac
	expect "nothing else fails" \
		'[ "$(grep -c "^FAIL: " "$out")" -eq "$planted" ]'
}

judge_hang() {
	local out=$1
	expect "the hung run fails" \
		'grep -qE "^[0-9]+ passed, [1-9][0-9]* failed" "$out"'
	expect "the hung case is reported missing" \
		'grep -q "^FAIL: gosync_harness_hang: 1 of 1 cases missing" "$out"'
	expect "the VM is reported unfinished" \
		'grep -q "^FAIL: the VM did not finish" "$out"'
}

finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

if [ "${1:-}" = --judge ]; then
	"judge_${2//-/_}" "$3"
	finish
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== a client module that does not build"
EXTRA_KMODS=$vm_dir/selftest/broken "$vm_dir/vm-run.sh" test 2>&1 |
	tee "$work/broken.out" | sed -u 's/^/  > /'
status=${PIPESTATUS[0]}
expect "the run fails" '[ "$status" -ne 0 ]'
expect "the build failure is named" \
	'grep -q "error: building .*/selftest/broken failed" "$work/broken.out"'
expect "nothing was booted" '! grep -q "booting the" "$work/broken.out"'

echo "== the self-test modules (one boot)"
"$vm_dir/vm-run.sh" harness 2>&1 | tee "$work/harness.out" | sed -u 's/^/  > /'
status=${PIPESTATUS[0]}
expect "the checker exits non-zero" '[ "$status" -ne 0 ]'
judge_harness "$work/harness.out"

# Long enough to boot and start the case: the checking kernels boot slower
# (kasan also scans for leaks before loading anything).
[ "${FLAVOR:-default}" = default ] && : "${HANG_TIMEOUT:=45}"
echo "== a case that never ends (one boot, VM_TIMEOUT=${HANG_TIMEOUT:=120})"
VM_TIMEOUT=$HANG_TIMEOUT "$vm_dir/vm-run.sh" harness-hang 2>&1 |
	tee "$work/hang.out" | sed -u 's/^/  > /'
status=${PIPESTATUS[0]}
expect "the checker exits non-zero" '[ "$status" -ne 0 ]'
judge_hang "$work/hang.out"
finish
