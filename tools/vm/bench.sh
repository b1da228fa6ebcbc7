#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: gosync against the kernel's own primitives on Debian's stock
# 6.12 kernel (a production config: no lockdep, no lock statistics), under
# QEMU TCG, once per vCPU count.  Builds gosync.ko and gosync_bench.ko
# against the stock headers in a scratch copy (the tree's own build for the
# test kernel is left alone), boots the stock image with a busybox
# initramfs, and runs three passes in one boot:
#
#   default     stats=Y, starvation mode on: every group
#   nostarve    stats=Y, starvation threshold out of reach: fairness only
#   nostats     stats=N: every group but fairness
#
# Output: a table on the console; bench.csv, plots (PNG) and the console
# logs in $GOSYNC_CACHE/bench/<time>/, with "latest" pointing at it.
#
# Environment: BENCH_CPUS ("2 4"), BENCH_REPS (5), BENCH_ROUND_MS (target
# length of one round, 10), BENCH_MAP_SIZES ("1024,65536,1048576"),
# BENCH_GROUPS (all), BENCH_SERIES (6.12), VM_MEMORY (2G), VM_TIMEOUT (1800).

. "$(dirname "$0")/common.sh"

BENCH_CPUS=${BENCH_CPUS:-2 4}
BENCH_REPS=${BENCH_REPS:-5}
BENCH_ROUND_MS=${BENCH_ROUND_MS:-10}
BENCH_MAP_SIZES=${BENCH_MAP_SIZES:-1024,65536,1048576}
BENCH_GROUPS=${BENCH_GROUPS:-mutex,fair,wg,once,seq,map}
BENCH_SERIES=${BENCH_SERIES:-6.12}
VM_MEMORY=${VM_MEMORY:-2G}
VM_TIMEOUT=${VM_TIMEOUT:-1800}
vm_dir=$GOSYNC_ROOT/tools/vm

HOST_PACKAGES="build-essential python3 cpio busybox-static qemu-system-x86
	kmod gnuplot-nox"
ensure_host_packages

read -r vmlinuz headers < <("$vm_dir/stock-kernel.sh" "$BENCH_SERIES") ||
	die "no stock $BENCH_SERIES kernel"
release=${headers##*/linux-headers-}
config=/boot/config-$release

mkdir -p "$GOSYNC_CACHE/bench"
# Two runs started in the same second must not share a directory.
out=$(mktemp -d "$GOSYNC_CACHE/bench/$(date +%Y%m%d-%H%M%S)-XXXX")
ln -sfn "$(basename "$out")" "$GOSYNC_CACHE/bench/latest"
work=$(mktemp -d "$GOSYNC_CACHE/bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

log "building gosync.ko and gosync_bench.ko against $headers"
mkdir -p "$work/src"
(cd "$GOSYNC_ROOT" && cp -r Kbuild kmod include samples "$work/src/")
find "$work/src" \( -name '*.o' -o -name '*.ko' -o -name '.*.cmd' \
	-o -name '*.mod' -o -name '*.mod.c' \) -type f -delete
make -C "$headers" M="$work/src" W=1 -j"$(nproc)" modules \
	>"$out/build.log" 2>&1 ||
	die "module build failed:
$(grep -E 'error|warning' "$out/build.log" | head -n 40)"

# The facts that decide whether a timing means anything.
{
	echo "kernel $release ($vmlinuz)"
	grep -E '^CONFIG_(PREEMPT[A-Z_]*|LOCKDEP|PROVE_LOCKING|LOCK_STAT|DEBUG_LOCK_ALLOC|DEBUG_SPINLOCK|KASAN|KCSAN|HZ)=' \
		"$config" | tr '\n' ' '
	echo
	for option in LOCKDEP LOCK_STAT KASAN KCSAN; do
		grep -q "^CONFIG_$option=y" "$config" && echo "WARNING: CONFIG_$option=y"
	done
	echo "host $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
	echo "QEMU TCG (multi-threaded), -cpu max, $VM_MEMORY; reps $BENCH_REPS, rounds of ~$BENCH_ROUND_MS ms"
} | tee "$out/machine.txt" >&2

root=$work/root
mkdir -p "$root"/{bin,dev,proc,sys,tmp,modules}
cp /bin/busybox "$root/bin/busybox"
cp "$work/src/kmod/gosync.ko" "$work/src/samples/gosync_bench.ko" "$root/modules/"
cp "$vm_dir/bench-init.sh" "$root/init"
chmod +x "$root/init"
common="reps=$BENCH_REPS round_ms=$BENCH_ROUND_MS map_sizes=$BENCH_MAP_SIZES"
others=$(printf '%s\n' "${BENCH_GROUPS//,/ }" | tr ' ' '\n' |
	{ grep -vx fair || true; } | paste -sd, -)
{
	echo "default Y 1000000 $common groups=$BENCH_GROUPS fair_label=gosync"
	case ",$BENCH_GROUPS," in *,fair,*)
		echo "nostarve Y 1000000000000 $common groups=fair fair_label=gosync_nostarve fair_peer=0"
	esac
	if [ -n "$others" ]; then
		echo "nostats N 1000000 $common groups=$others"
	fi
} > "$root/passes"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/initramfs.gz"

status=0
for cpus in $BENCH_CPUS; do
	console_log=$out/console-${cpus}cpu.log
	load_before=$(cut -d' ' -f1-3 /proc/loadavg)
	log "booting $release: $cpus vCPUs, load $load_before, console log $console_log"
	# tsc=reliable: on a loaded host the clocksource watchdog sees the
	# vCPUs stall and demotes the TSC to the emulated HPET, whose every
	# read traps into QEMU.
	vm_boot "$vmlinuz" "$work/initramfs.gz" "$cpus" "$console_log" \
		console=ttyS0 panic=-1 loglevel=7 tsc=reliable || true
	load_after=$(cut -d' ' -f1-3 /proc/loadavg)
	printf '%s\n' "$cpus $load_before / $load_after" >>"$out/load.txt"
	python3 "$vm_dir/check-log.py" --log "$console_log" --quiet || status=1
done

python3 "$vm_dir/bench-report.py" --out "$out" --machine "$out/machine.txt" \
	"$out"/console-*cpu.log || status=1
log "results in $out: bench.csv, table.txt, *.png, console-*.log"
exit $status
