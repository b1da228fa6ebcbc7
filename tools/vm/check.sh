#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: checkpatch --strict, sparse (C=2), W=1 and kernel-doc -Wall
# over every gosync source and header, and the offline harness self-test
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

ensure_sparse() {
	command -v sparse >/dev/null || die "sparse is not installed"
}

step "harness self-test on fixture logs" "$GOSYNC_ROOT/tools/vm/check-fixtures.sh"
step "checkpatch --strict (${#sources[@]} files)" checkpatch
step "kernel-doc -Wall" kernel_doc
step "sparse C=2 and W=1 test build" sparse_w1
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
