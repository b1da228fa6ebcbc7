#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the gosync test kernel under QEMU (TCG) with a busybox initramfs,
# load modules in order, then unload them, and judge the console log.
#
#   vm-run.sh test      gosync.ko, gosync_kunit.ko, samples/client and
#                       $EXTRA_KMODS: KUnit results
#   vm-run.sh run       gosync.ko and the demo client; prints the counters
#   vm-run.sh bench     gosync.ko and the benchmark module
#   vm-run.sh torture   gosync.ko and gosync_torture (minutes), then 50
#                       load/unload cycles of both with work in flight
#   vm-run.sh harness   the self-test modules, which must fail (check-harness.sh)
#   vm-run.sh harness-hang  a self-test case that never ends (check-harness.sh)
#
# Environment: VM_CPUS (2), VM_MEMORY (2G), VM_TIMEOUT (seconds, 900),
# EXTRA_KMODS (client module source directories), KMOD_ARGS
# ("module.param=value ..."), GOSYNC_CACHE, FLAVOR (default, kasan, kcsan),
# TORTURE_ARGS (gosync_torture parameters, "duration=60 primitive=mutex"),
# TORTURE_CYCLES (load/unload cycles after the run).  make test ends with a
# short torture run (30 s, 3 cycles).  VM_KDIR and VM_KERNEL boot another
# kernel (headers dir, vmlinuz) instead of the test kernel.
#
# A new mode is one more arm in each of the two "case $mode" below: the
# modules it loads, then how its console log is judged.

. "$(dirname "$0")/common.sh"

mode=${1:?usage: vm-run.sh test|run|bench|harness|harness-hang}
VM_CPUS=${VM_CPUS:-2}
VM_MEMORY=${VM_MEMORY:-2G}
VM_TIMEOUT=${VM_TIMEOUT:-900}
vm_dir=$GOSYNC_ROOT/tools/vm

kdir=${VM_KDIR:-$("$vm_dir/build-kernel.sh")}
# Tests and torture get a test build (delay points, test knobs, the KUnit
# module); the demo and the benchmark run what a user would load.
case $mode in
test | torture | harness*) build_kind=--testing ;;
*) build_kind= ;;
esac
log "building modules against the test kernel${build_kind:+ (test build)}"
build_log=$GOSYNC_CACHE/modules-build.log
"$vm_dir/build-modules.sh" ${build_kind:+"$build_kind"} "$kdir" >"$build_log" 2>&1 ||
	die "module build failed:
$(grep -iE 'error|warning' "$build_log" | head -n 40)"

# Build a module source directory that uses gosync, against the same kernel
# and gosync's exported symbols, and set client_kos to the .ko files it
# produced.  Runs in this shell, never in a subshell, so that a failed
# build ends the run.
build_client_dir() {
	local dir
	dir=$(cd "$1" && pwd) || die "no module directory '$1'"
	log "building client modules in $dir"
	make -C "$kdir" M="$dir" KBUILD_EXTRA_SYMBOLS="$GOSYNC_ROOT/Module.symvers" \
		KCFLAGS="-I$GOSYNC_ROOT/include" W=1 modules >>"$build_log" 2>&1 ||
		die "building $dir failed:
$(grep -E 'error|warning' "$build_log" | tail -n 40)"
	mapfile -t client_kos < <(find "$dir" -maxdepth 2 -name '*.ko' | sort)
	[ ${#client_kos[@]} -gt 0 ] || die "building $dir produced no module"
}

modules=("$GOSYNC_ROOT/kmod/gosync.ko")
kunit_modules=()
transient=()
# Checker options: what must have run, which skips are allowed.
expect=()
client_kos=()
# gosync_torture's parameters: the mode's defaults, then TORTURE_ARGS.
torture_ko=$GOSYNC_ROOT/samples/gosync_torture.ko
torture_cycles=0
torture_args() {
	local word
	for word in "$@" ${TORTURE_ARGS:-}; do
		printf 'gosync_torture.%s ' "${word#gosync_torture.}"
	done
}
case $mode in
test)
	# The demo comes and goes first: its lock profile must outlive it.
	modules+=("$GOSYNC_ROOT/samples/gosync_demo.ko")
	transient=(gosync_demo)
	KMOD_ARGS="gosync_demo.iterations=200 ${KMOD_ARGS:-}"
	modules+=("$GOSYNC_ROOT/kunit/gosync_kunit.ko")
	kunit_modules+=(gosync_kunit)
	expect+=(--expected-cases "gosync_kunit=$GOSYNC_ROOT/kunit/expected-cases.txt"
		--allowed-skips "$GOSYNC_ROOT/kunit/allowed-skips.txt")
	# gosync's own third-party client (samples/client) runs in every
	# make test, on every flavour, before any EXTRA_KMODS (named twice,
	# it runs once).
	client_dirs=("$GOSYNC_ROOT/samples/client")
	for dir in ${EXTRA_KMODS:-}; do
		dir=$(cd "$dir" && pwd) || die "no module directory '$dir'"
		[ "$dir" = "$GOSYNC_ROOT/samples/client" ] || client_dirs+=("$dir")
	done
	for dir in "${client_dirs[@]}"; do
		build_client_dir "$dir"
		for ko in "${client_kos[@]}"; do
			modules+=("$ko")
			kunit_modules+=("$(basename "$ko" .ko | tr - _)")
			# A client's own manifest, for a directory of one module.
			[ -f "$dir/expected-cases.txt" ] &&
				expect+=(--expected-cases "${kunit_modules[-1]}=$dir/expected-cases.txt")
		done
		# A client may allow its own skips, as gosync does.
		[ -f "$dir/allowed-skips.txt" ] &&
			expect+=(--allowed-skips "$dir/allowed-skips.txt")
	done
	# Last, a short torture of every primitive, with all its stressors.
	modules+=("$torture_ko")
	KMOD_ARGS="$(torture_args duration=30 stat_interval=15 \
		onoff_interval=3000 fail_alloc=20) ${KMOD_ARGS:-}"
	torture_cycles=${TORTURE_CYCLES:-3}
	;;
run)
	modules+=("$GOSYNC_ROOT/samples/gosync_demo.ko")
	;;
bench)
	modules+=("$GOSYNC_ROOT/samples/gosync_bench.ko")
	;;
torture)
	modules+=("$torture_ko")
	KMOD_ARGS="$(torture_args duration=120 stat_interval=30 \
		onoff_interval=3000 fail_alloc=20) ${KMOD_ARGS:-}"
	torture_cycles=${TORTURE_CYCLES:-50}
	;;
harness|harness-hang)
	build_client_dir "$vm_dir/selftest"
	for ko in "${client_kos[@]}"; do
		case $mode:$(basename "$ko") in
		harness:gosync_harness_hang.ko | harness-hang:gosync_harness_[!h]*) ;;
		*) modules+=("$ko") ;;
		esac
	done
	if [ "$mode" = harness ]; then
		kunit_modules+=(gosync_harness_selftest)
		expect+=(--expected-cases "gosync_harness_selftest=$vm_dir/selftest/expected-cases.txt"
			--allowed-skips "$vm_dir/selftest/allowed-skips.txt")
	else
		kunit_modules+=(gosync_harness_hang)
	fi
	;;
*)
	die "unknown mode '$mode'"
	;;
esac

mkdir -p "$GOSYNC_CACHE/logs"
work=$(mktemp -d "$GOSYNC_CACHE/vm.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/{bin,dev,proc,sys,tmp,modules}
cp /bin/busybox "$root/bin/busybox"

# Module parameters: "name.param=value" words go to the module "name".
index=10
for ko in "${modules[@]}"; do
	name=$(basename "$ko" .ko | tr - _)
	cp "$ko" "$root/modules/$index-$name.ko"
	args=""
	for word in ${KMOD_ARGS:-}; do
		case $word in "$name".*) args="$args ${word#"$name".}" ;; esac
	done
	printf '%s\n' "$args" > "$root/modules/$index-$name.args"
	for gone in "${transient[@]}"; do
		[ "$gone" = "$name" ] && touch "$root/modules/$index-$name.transient"
	done
	index=$((index + 1))
done
cp "$vm_dir/init.sh" "$root/init"
printf '%s\n' "$mode" > "$root/mode"
printf '%s\n' "$torture_cycles" > "$root/torture-cycles"
printf '%s\n' "$VM_TIMEOUT" > "$root/vm-timeout"
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/initramfs.gz"

if [ -n "${VM_DRY_RUN:-}" ]; then
	log "dry run: would boot with ${modules[*]##*/}"
	exit 0
fi
console_log=$GOSYNC_CACHE/logs/$mode-$(date +%Y%m%d-%H%M%S)-$$.log
ln -sfn "$(basename "$console_log")" "$GOSYNC_CACHE/logs/$mode-latest.log"
if [ -n "${VM_KERNEL:-}" ]; then
	what="kernel $(basename "$VM_KERNEL")"
else
	what="$FLAVOR test kernel"
fi
log "booting the $what: $VM_CPUS vCPUs, mode $mode, console log $console_log"
status=0
timeout --foreground -k 10 "$VM_TIMEOUT" \
	qemu-system-x86_64 -accel tcg,thread=multi -cpu max -smp "$VM_CPUS" \
	-m "$VM_MEMORY" -nographic -nodefaults -serial stdio -no-reboot \
	-kernel "${VM_KERNEL:-$kdir/arch/x86/boot/bzImage}" -initrd "$work/initramfs.gz" \
	-append "console=ttyS0 panic=-1 loglevel=7 kunit.enable=1 hung_task_panic=0" \
	</dev/null >"$console_log" 2>&1 || status=$?
[ "$status" -eq 124 ] && log "QEMU timed out after $VM_TIMEOUT s"

# Every run must boot the CPUs it asked for, keep lockdep on where the
# flavour has it, and end with no taint but the expected ones.
check=(python3 "$vm_dir/check-log.py" --log "$console_log" --cpus "$VM_CPUS"
	--taint)
grep -q '^CONFIG_PROVE_LOCKING=y' "$kdir/.config" && check+=(--lockdep)
grep -q '^CONFIG_DEBUG_KMEMLEAK=y' "$kdir/.config" && check+=(--kmemleak)
grep -q '^CONFIG_KCSAN=y' "$kdir/.config" && check+=(--kcsan)
for name in "${kunit_modules[@]}"; do
	check+=(--kunit-module "$name")
done
check+=(${expect[@]+"${expect[@]}"})
# One verdict for the run and one per load/unload cycle, all SUCCESS.
[ "$torture_cycles" -gt 0 ] || [ "$mode" = torture ] &&
	check+=(--torture $((torture_cycles + 1)))

case $mode in
test)
	"${check[@]}" --require-trace-events --debugfs
	;;
torture)
	# The statistics and verdict of the run, then gosync's counters.
	grep -m 2 -E 'gosync_torture: (Start|End) of test' "$console_log" |
		sed 's/\r$//; s/^\[ *[0-9.]*\] //'
	sed -n 's/\r$//; /gosync-vm: report begin/,/gosync-vm: report end/p' "$console_log" |
		sed '1d;$d'
	"${check[@]}"
	;;
run|bench)
	# What the workload said, then the counters it left behind.
	sed -n 's/\r$//; s/^\[ *[0-9.]*\] //; /^gosync_\(demo\|bench\): /p' "$console_log"
	sed -n 's/\r$//; /gosync-vm: report begin/,/gosync-vm: report end/p' "$console_log" |
		sed '1d;$d'
	"${check[@]}" --quiet
	;;
harness|harness-hang)
	# Expected to fail: check-harness.sh judges the checker's verdict.
	"${check[@]}"
	;;
esac
