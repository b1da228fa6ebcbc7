#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
# /init of the benchmark VM (tools/vm/bench.sh): load gosync.ko, then load
# and unload the benchmark module once per line of /passes, setting gosync's
# module parameters before each, and reboot.  Lines starting "gosync-vm:"
# are read by bench.sh and by check-log.py.
#
# A line of /passes: NAME STATS STARVATION_THRESHOLD_NS BENCH_ARGS...

/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug
echo "gosync-vm: boot ok cpus=$(grep -c ^processor /proc/cpuinfo)"
echo "gosync-vm: kernel $(uname -r)"
echo "gosync-vm: preempt $(cat /sys/kernel/debug/sched/preempt 2>/dev/null)"

echo "gosync-vm: insmod gosync"
if insmod /modules/gosync.ko; then
	params=/sys/module/gosync/parameters
	while read -r pass stats threshold args; do
		echo "$stats" > $params/stats
		echo "$threshold" > $params/starvation_threshold_ns
		echo "gosync-vm: bench-pass $pass stats=$(cat $params/stats)" \
			"starvation_threshold_ns=$(cat $params/starvation_threshold_ns)"
		echo "gosync-vm: insmod gosync_bench $args"
		# shellcheck disable=SC2086
		if insmod /modules/gosync_bench.ko $args; then
			rmmod gosync_bench || echo "gosync-vm: rmmod-failed gosync_bench"
		else
			echo "gosync-vm: insmod-failed gosync_bench"
		fi
	done < /passes
	echo "gosync-vm: report begin"
	echo "== /sys/kernel/debug/gosync/stats"
	cat /sys/kernel/debug/gosync/stats
	echo "gosync-vm: report end"
	rmmod gosync || echo "gosync-vm: rmmod-failed gosync"
else
	echo "gosync-vm: insmod-failed gosync"
fi
echo "gosync-vm: done"
reboot -f
