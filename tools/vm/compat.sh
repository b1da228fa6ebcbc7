#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# gosync on Debian's stock kernels, as a user would load it.
#
#   compat.sh build [SERIES...]   build gosync.ko, the samples and the client
#                                 sample against each kernel's headers
#   compat.sh boot [SERIES...]    the same, then boot each stock image under
#                                 QEMU, load gosync and the self-checking demo,
#                                 read debugfs, unload, judge the console log
#
# SERIES are 6.1, 6.12 and 6.12-rt (all three by default); stock-kernel.sh
# installs each one's current image and headers with apt.  Builds happen in
# a copy of the tree under $GOSYNC_CACHE/compat/, never in the tree itself.
# Ends with "N passed, N failed", one step per build and per boot.

. "$(dirname "$0")/common.sh"

action=${1:?usage: compat.sh build|boot [6.1 6.12 6.12-rt]}
shift
series_list=("$@")
[ ${#series_list[@]} -gt 0 ] || series_list=(6.1 6.12 6.12-rt)
case $action in
build) headers_only=(--headers-only) ;;
boot) headers_only=() ;;
*) die "unknown action '$action' (build or boot)" ;;
esac

vm_dir=$GOSYNC_ROOT/tools/vm
passed=0
failed=0
result() {
	if [ "$1" -eq 0 ]; then
		passed=$((passed + 1))
		echo "ok: $2"
	else
		failed=$((failed + 1))
		echo "not ok: $2"
	fi
}

# Build gosync and every sample against headers $2 in a fresh copy of the
# tree ($1): W=1, warnings are errors (the Kbuild files say -Werror).
build_against() {
	local copy=$1 headers=$2
	rm -rf "$copy"
	mkdir -p "$copy"
	(cd "$GOSYNC_ROOT" && git ls-files -co --exclude-standard |
		cpio -pdm --quiet "$copy")
	make -C "$headers" M="$copy" W=1 -j2 modules &&
		make -C "$copy/samples/client" KDIR="$headers" GOSYNC="$copy"
}

# Boot vmlinuz $1 with the modules built from the tree against headers $2.
boot_stock() {
	local vmlinuz=$1 headers=$2 output status=0
	output=$(VM_KDIR=$headers VM_KERNEL=$vmlinuz \
		KMOD_ARGS="gosync_demo.selfcheck=1 ${KMOD_ARGS:-}" \
		"$vm_dir/vm-run.sh" run 2>&1) || status=$?
	printf '%s\n' "$output"
	[ "$status" -eq 0 ] || return 1
	# Both verdicts of the demo, and the debugfs files it was read through.
	grep -q '^gosync_demo: self-check at load: .*: pass$' <<<"$output" &&
		grep -q '^gosync_demo: self-check at unload: .*: pass$' <<<"$output" &&
		grep -q '^== /sys/kernel/debug/gosync/locks$' <<<"$output" ||
		{ echo "the demo's self-check did not pass"; return 1; }
}

for series in "${series_list[@]}"; do
	kernel=$("$vm_dir/stock-kernel.sh" "${headers_only[@]}" "$series") ||
		{ result 1 "$series: install the stock kernel"; continue; }
	vmlinuz=${kernel% *}
	headers=${kernel#* }
	release=${headers##*/linux-headers-}
	copy=$GOSYNC_CACHE/compat/$release
	build_log=$copy.build.log
	mkdir -p "$GOSYNC_CACHE/compat"
	start=$SECONDS
	if build_against "$copy" "$headers" >"$build_log" 2>&1; then
		result 0 "$series: build against $release ($((SECONDS - start)) s)"
	else
		grep -E 'error|warning|Error' "$build_log" | head -n 30
		result 1 "$series: build against $release (log: $build_log)"
		continue
	fi
	[ "$action" = boot ] || continue
	start=$SECONDS
	status=0
	boot_stock "$vmlinuz" "$headers" || status=$?
	result "$status" "$series: boot $release, load, self-check, unload ($((SECONDS - start)) s)"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
