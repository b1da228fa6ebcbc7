#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
# /init of the gosync test VM: load every module in /modules in order,
# show the report of the mode, unload in reverse order, reboot.  Every line
# starting "gosync-vm:" is read by tools/vm/check-log.py.

/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
echo "gosync-vm: boot ok cpus=$(grep -c ^processor /proc/cpuinfo)"

mode=$(cat /mode)

# A hang that no detector reports (a livelock, an interruptible sleep that
# never ends) would otherwise end in silence at VM_TIMEOUT.  At three
# quarters of it, print every task that is running or in uninterruptible
# sleep, and every gosync, KUnit or insmod task, with its kernel stack, so
# that the console log shows where the run is stuck.  Lines start
# "gosync-vm: hang-dump", which the checker ignores.
hang_dump() {
	echo "gosync-vm: hang-dump begin: the run is still going after $1 s"
	for dir in /proc/[0-9]*; do
		read -r pid comm state _ 2>/dev/null < "$dir/stat" || continue
		case $state:$comm in
		[RD]:* | *:*gosync* | *:*kunit* | *:*insmod*) ;;
		*) continue ;;
		esac
		echo "gosync-vm: hang-dump task $pid $comm state $state"
		sed 's/^/gosync-vm: hang-dump   /' "$dir/stack" 2>/dev/null
	done
	echo "gosync-vm: hang-dump end"
}
vm_timeout=$(cat /vm-timeout)
(sleep $((vm_timeout * 3 / 4)) && hang_dump $((vm_timeout * 3 / 4))) &
# kmemleak (FLAVOR=kasan) judges only what gosync's run leaves behind:
# whatever the boot itself leaked is scanned and forgotten first.
kmemleak=/sys/kernel/debug/kmemleak
if [ -f $kmemleak ]; then
	echo scan > $kmemleak && echo clear > $kmemleak ||
		echo "gosync-vm: kmemleak-failed clear"
fi
# The kcsan kernel boots with KCSAN off (KCSAN_EARLY_ENABLE is not set):
# switch it on before any module loads, and say so, for the checker.
if [ -f /sys/kernel/debug/kcsan ]; then
	if echo on > /sys/kernel/debug/kcsan; then
		echo "gosync-vm: kcsan on"
	else
		echo "gosync-vm: kcsan-failed on"
	fi
	# KCSAN has no per-module filter, only one by function.  These are
	# races inside the kernel itself that gosync's load makes visible;
	# gosync code is never listed here.  hrtimer_wakeup() clears
	# t->task with a plain store while the sleeper in
	# schedule_hrtimeout_range_clock() polls it with a plain load.
	# process_one_work(): two workers of one pool access a shared field
	# plainly (seen under gosync_wg_go() load; both stacks are
	# worker_thread/process_one_work only).  hrtimer_active(): the
	# scheduler tick reads a timer base's running timer plainly (a
	# sequence-count retry makes it safe) while __hrtimer_run_queues()
	# sets it; both accesses in timer interrupts, no gosync frame.
	# kthread_is_per_cpu(): load balancing reads an exiting kthread's
	# flags plainly while exit_signals() sets PF_EXITING (seen when
	# torture threads exit; both stacks are the scheduler and do_exit).
	for fn in hrtimer_wakeup schedule_hrtimeout_range_clock process_one_work \
		hrtimer_active kthread_is_per_cpu; do
		if echo "!$fn" > /sys/kernel/debug/kcsan; then
			echo "gosync-vm: kcsan-ignore $fn"
		else
			echo "gosync-vm: kcsan-failed ignore $fn"
		fi
	done
fi
# gosync_torture makes allocations fail through failslab and its threads'
# own fail_nth (no other task is touched): GFP_KERNEL ones too, quietly.
torture_cycles=$(cat /torture-cycles)
if [ -f /modules/*-gosync_torture.ko ] && [ -d /sys/kernel/debug/failslab ]; then
	echo N > /sys/kernel/debug/failslab/ignore-gfp-wait
	echo 0 > /sys/kernel/debug/failslab/verbose
fi

# Wait for gosync_torture's verdict: duration seconds, then the checks.
torture_wait() {
	param=/sys/module/gosync_torture/parameters
	limit=$(($(cat $param/duration) + 120))
	while [ "$(cat $param/duration)" != 0 ] &&
		[ "$(cat $param/finished)" != Y ] && [ $limit -gt 0 ]; do
		sleep 1
		limit=$((limit - 1))
	done
}

loaded=""
for ko in /modules/*.ko; do
	name=${ko##*/}
	name=${name#*-}
	name=${name%.ko}
	args=$(cat "${ko%.ko}.args")
	# The KUnit suites' trace events stay in the buffer for the check.
	if [ "$mode" = test ] && [ "$name" = gosync_torture ]; then
		echo 0 > /sys/kernel/tracing/events/gosync/enable
	fi
	echo "gosync-vm: insmod $name$args"
	# shellcheck disable=SC2086
	if ! insmod "$ko" $args; then
		echo "gosync-vm: insmod-failed $name"
	elif [ -f "${ko%.ko}.transient" ]; then
		# A client that comes and goes before the tests run.
		rmmod "$name" || echo "gosync-vm: rmmod-failed $name"
		echo "gosync-vm: unloaded $name"
	else
		loaded="$name $loaded"
		[ "$name" = gosync_torture ] && torture_wait
	fi
	# gosync's events exist once gosync.ko is in: trace the whole test run.
	if [ "$mode" = test ] && [ "$name" = gosync ]; then
		echo 1 > /sys/kernel/tracing/events/gosync/enable ||
			echo "gosync-vm: trace-enable-failed"
	fi
done

if [ "$mode" = test ]; then
	echo 0 > /sys/kernel/tracing/events/gosync/enable
	for event in gosync_mutex_wait_begin gosync_mutex_wait_end \
		gosync_mutex_starvation gosync_wg_wait_begin gosync_wg_wait_end \
		gosync_once_slow; do
		count=$(grep -c " $event: " /sys/kernel/tracing/trace)
		echo "gosync-vm: trace-events $event $count"
		grep -m 1 " $event: " /sys/kernel/tracing/trace |
			sed 's/^.* \(gosync_[a-z_]*: \)/gosync-vm: trace-sample \1/'
	done
	# The checker asserts the shape API.md gives these files.
	for file in stats locks wait_hist; do
		echo "gosync-vm: debugfs-begin $file"
		cat /sys/kernel/debug/gosync/$file ||
			echo "gosync-vm: debugfs-read-failed $file"
		echo "gosync-vm: debugfs-end $file"
	done
fi

if [ "$mode" = run ] || [ "$mode" = bench ] || [ "$mode" = torture ]; then
	echo "gosync-vm: report begin"
	for file in stats locks wait_hist; do
		[ -f /sys/kernel/debug/gosync/$file ] || continue
		echo "== /sys/kernel/debug/gosync/$file"
		cat /sys/kernel/debug/gosync/$file
	done
	echo "gosync-vm: report end"
fi

for name in $loaded; do
	rmmod "$name" || echo "gosync-vm: rmmod-failed $name"
done

# Load and unload gosync and the torture client with work in flight: the
# torture runs a random fraction of a second and is stopped by rmmod; its
# lock rows outlive it; gosync goes with the map's RCU frees still queued.
cycle=0
while [ "$cycle" -lt "$torture_cycles" ]; do
	cycle=$((cycle + 1))
	echo "gosync-vm: torture-cycle $cycle"
	# shellcheck disable=SC2046
	insmod /modules/*-gosync.ko $(cat /modules/*-gosync.args) ||
		echo "gosync-vm: insmod-failed gosync (cycle $cycle)"
	# shellcheck disable=SC2046
	insmod /modules/*-gosync_torture.ko \
		$(cat /modules/*-gosync_torture.args) duration=0 stat_interval=0 ||
		echo "gosync-vm: insmod-failed gosync_torture (cycle $cycle)"
	usleep $((RANDOM % 1000 * 1000))
	# A gosync_wg_go() in flight pins its caller's module: rmmod says
	# EAGAIN until that work has returned.  Retry, for up to 5 s.
	busy=0
	until rmmod gosync_torture 2>/dev/null; do
		busy=$((busy + 1))
		if [ $busy -ge 100 ]; then
			echo "gosync-vm: rmmod-failed gosync_torture (cycle $cycle)"
			break
		fi
		usleep 50000
	done
	[ $busy -gt 0 ] && echo "gosync-vm: torture-cycle $cycle rmmod-busy $busy"
	cat /sys/kernel/debug/gosync/locks >/dev/null ||
		echo "gosync-vm: debugfs-read-failed locks (cycle $cycle)"
	rmmod gosync || echo "gosync-vm: rmmod-failed gosync (cycle $cycle)"
done

# Everything is unloaded: anything still allocated and unreferenced leaked.
# kmemleak reports only objects older than 5 s, and an object freed by an
# RCU callback needs a grace period first: wait, then scan twice.
if [ -f $kmemleak ]; then
	sleep 6
	if echo scan > $kmemleak && echo scan > $kmemleak; then
		cat $kmemleak
		echo "gosync-vm: kmemleak-scanned"
	else
		echo "gosync-vm: kmemleak-failed scan"
	fi
fi
# A lockdep report switches lockdep off for the rest of the boot, and
# later locking bugs would go unseen: say whether it is still on.
if [ -f /proc/lockdep_stats ]; then
	echo "gosync-vm: lockdep debug_locks=$(sed -n \
		's/^ *debug_locks: *\([0-9]*\)$/\1/p' /proc/lockdep_stats)"
fi
echo "gosync-vm: tainted $(cat /proc/sys/kernel/tainted)"
echo "gosync-vm: done"
reboot -f
