#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: checkpatch --strict, sparse (C=2), W=1 and kernel-doc -Wall
# over every gosync source and header, a production build that must carry
# no test symbol, and the offline harness self-test
# (tools/vm/check-fixtures.sh).  Any finding fails.

. "$(dirname "$0")/common.sh"

kdir=$("$(dirname "$0")/build-kernel.sh")
src=$(readlink -f "$kdir/source")
cd "$GOSYNC_ROOT"
mapfile -t sources < <(git ls-files -co --exclude-standard \
	'include/*.h' 'kmod/*.[ch]' 'kunit/*.[ch]' 'samples/*.[ch]' \
	'tools/vm/selftest/*.[ch]' | sort -u)
failed=0
passed=0

step() {
	local name=$1 output
	shift
	if output=$("$@" 2>&1); then
		echo "ok: $name"
		passed=$((passed + 1))
	else
		printf '%s\n' "$output" | tail -n 60
		echo "not ok: $name"
		failed=$((failed + 1))
	fi
}

checkpatch() {
	"$src/scripts/checkpatch.pl" --strict --no-tree --quiet --show-types \
		--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG -f "${sources[@]}"
}

kernel_doc() {
	local output
	output=$("$src/scripts/kernel-doc" -none -Wall "${sources[@]}" 2>&1)
	printf '%s' "$output"
	[ -z "$output" ]
}

# A full rebuild, so that every file is compiled and checked again: a test
# build, the one that compiles every file.
sparse_w1() {
	local output
	ensure_sparse
	make -s clean >/dev/null
	output=$("$GOSYNC_ROOT/tools/vm/build-modules.sh" --testing "$kdir" C=2 2>&1) ||
		{ printf '%s\n' "$output"; return 1; }
	output=$(printf '%s\n' "$output" | grep -E 'warning|error' || true)
	printf '%s' "$output"
	[ -z "$output" ]
}

# gosync's exports in a namespace (field 5 of Module.symvers): the test
# build's are all in GOSYNC_TESTING; a production build must have none.
namespaced_exports() {
	awk -F '\t' '$3 ~ /kmod\/gosync$/ && $5 != "" { print $2 " " $5 }' \
		"$GOSYNC_ROOT/Module.symvers"
}

# What make, make install and DKMS build, against the test kernel, which
# has KUnit: no test symbol may be exported, no delay point may be compiled
# in, and no KUnit module is built.  The test build just made by sparse_w1 must
# show them, or this check could not see them either.
production_build() {
	local test_exports output
	test_exports=$(namespaced_exports)
	grep -q '^__gosync_delay_point GOSYNC_TESTING$' <<<"$test_exports" ||
		{ echo "the test build exports no delay point"; return 1; }
	output=$(grep -v ' GOSYNC_TESTING$' <<<"$test_exports")
	[ -z "$output" ] ||
		{ printf 'test exports outside GOSYNC_TESTING:\n%s\n' "$output"; return 1; }
	make -s clean >/dev/null
	output=$("$GOSYNC_ROOT/tools/vm/build-modules.sh" "$kdir" 2>&1) ||
		{ printf '%s\n' "$output"; return 1; }
	output=$(namespaced_exports)
	[ -z "$output" ] ||
		{ printf 'a production gosync.ko exports:\n%s\n' "$output"; return 1; }
	output=$(nm "$GOSYNC_ROOT/kmod/gosync.ko" | grep delay_point || true)
	[ -z "$output" ] ||
		{ printf 'a production gosync.ko holds:\n%s\n' "$output"; return 1; }
	[ ! -e "$GOSYNC_ROOT/kunit/gosync_kunit.ko" ] ||
		{ echo "a production build made gosync_kunit.ko"; return 1; }
}

ensure_sparse() {
	command -v sparse >/dev/null || die "sparse is not installed"
}

step "harness self-test on fixture logs" "$GOSYNC_ROOT/tools/vm/check-fixtures.sh"
step "checkpatch --strict (${#sources[@]} files)" checkpatch
step "kernel-doc -Wall" kernel_doc
step "sparse C=2 and W=1 test build" sparse_w1
step "production build exports no test symbol" production_build
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
