// SPDX-License-Identifier: GPL-2.0
/*
 * gosync's counters and their debugfs files.
 *
 * Counters are per-CPU and summed when read, so counting never bounces a
 * cache line between CPUs.  Reads are not a snapshot: a sum taken while
 * other CPUs count is exact for each CPU at the moment it was read.
 */

#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/moduleparam.h>
#include <linux/seq_file.h>
#include <linux/sysfs.h>
#include <linux/uaccess.h>

#include "gosync_internal.h"

DEFINE_PER_CPU(struct gosync_stat_cpu, gosync_stat_cpu);
DEFINE_STATIC_KEY_TRUE(gosync_stats_enabled);
/* Inline fast paths in the public headers count only when it is on. */
EXPORT_SYMBOL_GPL(gosync_stats_enabled);

enum gosync_stat_kind { SUM, ROWS, MAX, GAUGE };

/*
 * SUM counters are per-CPU and summed on read; ROWS counters are too, and
 * add the lock profile's rows, where the hot path counts instead (for
 * "mutex.acquired", each row's acquired count: see gosync_mutex_acquired());
 * MAX counters keep the largest value seen; GAUGE counters describe the
 * present (entries, bytes) and "reset" leaves them alone because zeroing
 * them would make them lie.
 */
struct gosync_stat_info {
	const char *name;
	enum gosync_stat_kind kind;
};

static const struct gosync_stat_info gosync_stat_info[GOSYNC_NR_STATS] = {
	[GOSYNC_STAT_MUTEX_ACQUIRED] = { "mutex.acquired", ROWS },
	[GOSYNC_STAT_MUTEX_CONTENDED] = { "mutex.contended", SUM },
	[GOSYNC_STAT_MUTEX_SLEPT] = { "mutex.slept", SUM },
	[GOSYNC_STAT_MUTEX_SPIN_ACQUIRED] = { "mutex.spin_acquired", SUM },
	[GOSYNC_STAT_MUTEX_STARVATION_ENTERED] = { "mutex.starvation_entered", SUM },
	[GOSYNC_STAT_MUTEX_STARVATION_LEFT] = { "mutex.starvation_left", SUM },
	[GOSYNC_STAT_MUTEX_HANDOFFS] = { "mutex.handoffs", SUM },
	[GOSYNC_STAT_MUTEX_GAVE_UP] = { "mutex.gave_up", SUM },
	[GOSYNC_STAT_MUTEX_MISUSE] = { "mutex.misuse", SUM },
	[GOSYNC_STAT_MUTEX_WAIT_NS_TOTAL] = { "mutex.wait_ns_total", SUM },
	[GOSYNC_STAT_MUTEX_WAIT_NS_MAX] = { "mutex.wait_ns_max", MAX },
	[GOSYNC_STAT_WG_ADD] = { "wg.add", SUM },
	[GOSYNC_STAT_WG_WAIT] = { "wg.wait", SUM },
	[GOSYNC_STAT_WG_WAKEUPS] = { "wg.wakeups", SUM },
	[GOSYNC_STAT_WG_GO] = { "wg.go", SUM },
	[GOSYNC_STAT_WG_MISUSE] = { "wg.misuse", SUM },
	[GOSYNC_STAT_ONCE_RUN] = { "once.run", SUM },
	[GOSYNC_STAT_ONCE_FAILED] = { "once.failed", SUM },
	[GOSYNC_STAT_ONCE_WAITED] = { "once.waited", SUM },
	[GOSYNC_STAT_ONCE_MISUSE] = { "once.misuse", SUM },
	[GOSYNC_STAT_SEQ_READ] = { "seq.read", SUM },
	[GOSYNC_STAT_SEQ_RETRY] = { "seq.retry", SUM },
	[GOSYNC_STAT_SEQ_WRITE] = { "seq.write", SUM },
	[GOSYNC_STAT_SEQ_MISUSE] = { "seq.misuse", SUM },
	[GOSYNC_STAT_MAP_LOAD] = { "map.load", SUM },
	[GOSYNC_STAT_MAP_LOAD_HIT] = { "map.load_hit", SUM },
	[GOSYNC_STAT_MAP_STORE] = { "map.store", SUM },
	[GOSYNC_STAT_MAP_DELETE] = { "map.delete", SUM },
	[GOSYNC_STAT_MAP_ENTRIES] = { "map.entries", GAUGE },
	[GOSYNC_STAT_MAP_BYTES] = { "map.bytes", GAUGE },
	[GOSYNC_STAT_MAP_ALLOC_FAIL] = { "map.alloc_fail", SUM },
	[GOSYNC_STAT_MAP_MISUSE] = { "map.misuse", SUM },
};

/* MAX counters are rare slow-path events: one shared word each is enough. */
static atomic64_t gosync_stat_maxima[GOSYNC_NR_STATS];

static struct dentry *gosync_debugfs_dir;

const char *gosync_stat_name(enum gosync_stat id)
{
	return gosync_stat_info[id].name;
}
EXPORT_SYMBOL_GPL(gosync_stat_name);

/**
 * gosync_stat_max() - raise a MAX counter to @value if it is below
 * @id: the counter
 * @value: the value seen
 */
void gosync_stat_max(enum gosync_stat id, u64 value)
{
	s64 seen;

	if (!static_branch_likely(&gosync_stats_enabled))
		return;
	seen = atomic64_read(&gosync_stat_maxima[id]);
	while ((u64)seen < value &&
	       !atomic64_try_cmpxchg_relaxed(&gosync_stat_maxima[id], &seen, value))
		;
}
EXPORT_SYMBOL_GPL(gosync_stat_max);

/**
 * gosync_stat_read() - current value of one counter
 * @id: the counter
 *
 * Return: the sum over all CPUs (SUM and GAUGE counters), that plus the
 * lock profile's rows (ROWS counters), or the largest value recorded since
 * the last reset (MAX counters).
 */
u64 gosync_stat_read(enum gosync_stat id)
{
	u64 sum = 0;
	int cpu;

	if (gosync_stat_info[id].kind == MAX)
		return atomic64_read(&gosync_stat_maxima[id]);
	if (gosync_stat_info[id].kind == ROWS)
		sum = gosync_lock_profile_acquired();
	for_each_possible_cpu(cpu)
		sum += per_cpu(gosync_stat_cpu, cpu).count[id];
	return sum;
}
EXPORT_SYMBOL_GPL(gosync_stat_read);

/**
 * gosync_stats_reset() - zero every counter except the gauges
 *
 * The lock profile and the wait histograms are zeroed too.
 * Counts racing with a reset may land on either side of it.
 */
void gosync_stats_reset(void)
{
	unsigned int id;
	int cpu;

	gosync_profile_reset();
	for (id = 0; id < GOSYNC_NR_STATS; id++) {
		if (gosync_stat_info[id].kind == GAUGE)
			continue;
		atomic64_set(&gosync_stat_maxima[id], 0);
		for_each_possible_cpu(cpu)
			WRITE_ONCE(per_cpu(gosync_stat_cpu, cpu).count[id], 0);
	}
}
EXPORT_SYMBOL_GPL(gosync_stats_reset);

static int gosync_stats_show(struct seq_file *file, void *unused)
{
	unsigned int id;

	for (id = 0; id < GOSYNC_NR_STATS; id++)
		seq_printf(file, "%s %llu\n", gosync_stat_info[id].name,
			   gosync_stat_read(id));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(gosync_stats);

/**
 * gosync_stats_reset_store() - what a write to debugfs "reset" does
 * @buf: the text written, not necessarily NUL-terminated
 * @count: its length
 *
 * Only "1", or "1" and a newline (what echo writes), resets.  Anything
 * else, "+1", "01" and " 1" included, changes nothing.
 *
 * Return: @count, or -EINVAL.
 */
ssize_t gosync_stats_reset_store(const char *buf, size_t count)
{
	if (!count || count > 2 || buf[0] != '1' ||
	    (count == 2 && buf[1] != '\n'))
		return -EINVAL;
	gosync_stats_reset();
	return count;
}
EXPORT_SYMBOL_GPL(gosync_stats_reset_store);

static ssize_t gosync_reset_write(struct file *file, const char __user *buf,
				  size_t count, loff_t *ppos)
{
	char text[8];

	if (!count || count >= sizeof(text))
		return -EINVAL;
	if (copy_from_user(text, buf, count))
		return -EFAULT;
	return gosync_stats_reset_store(text, count);
}

static const struct file_operations gosync_reset_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = gosync_reset_write,
	.llseek = noop_llseek,
};

/**
 * gosync_stats_set_enabled() - turn counting on or off
 * @enable: count (true) or patch every counting site out (false)
 *
 * Context: process context; may sleep (code patching).
 */
void gosync_stats_set_enabled(bool enable)
{
	if (enable)
		static_branch_enable(&gosync_stats_enabled);
	else
		static_branch_disable(&gosync_stats_enabled);
}
EXPORT_SYMBOL_GPL(gosync_stats_set_enabled);

static int gosync_stats_param_set(const char *value,
				  const struct kernel_param *kp)
{
	bool enable;
	int err;

	err = kstrtobool(value, &enable);
	if (err)
		return err;
	gosync_stats_set_enabled(enable);
	return 0;
}

static int gosync_stats_param_get(char *buffer, const struct kernel_param *kp)
{
	return sysfs_emit(buffer, "%c\n",
			  static_key_enabled(&gosync_stats_enabled) ? 'Y' : 'N');
}

static const struct kernel_param_ops gosync_stats_param_ops = {
	.set = gosync_stats_param_set,
	.get = gosync_stats_param_get,
};
module_param_cb(stats, &gosync_stats_param_ops, NULL, 0644);
MODULE_PARM_DESC(stats, "Count events for debugfs (Y); N patches counting out of every path");

int gosync_stats_init(void)
{
	gosync_debugfs_dir = debugfs_create_dir("gosync", NULL);
	debugfs_create_file("stats", 0400, gosync_debugfs_dir, NULL,
			    &gosync_stats_fops);
	debugfs_create_file("reset", 0200, gosync_debugfs_dir, NULL,
			    &gosync_reset_fops);
	gosync_profile_init(gosync_debugfs_dir);
	return 0;
}

void gosync_stats_exit(void)
{
	debugfs_remove_recursive(gosync_debugfs_dir);
	gosync_profile_exit();
}
