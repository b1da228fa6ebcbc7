// SPDX-License-Identifier: GPL-2.0
/*
 * gosync_bench: gosync against the kernel's own primitives, in the same
 * boot, as ratios (gosync time / kernel time; below 1 is faster).  "make
 * bench" loads it; it measures at load and prints one line per pairing.
 *
 * The test kernel carries lockdep and lock statistics, which slow both
 * sides; the ratios, not the nanoseconds, are the result.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/call_once.h>
#include <linux/cpumask.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/seqlock.h>
#include <linux/slab.h>

#include <gosync/gosync.h>

static unsigned int rounds = 200000;
module_param(rounds, uint, 0444);
MODULE_PARM_DESC(rounds, "Operations per measurement");

static DEFINE_GOSYNC_MUTEX(bench_gosync_mutex);
static DEFINE_MUTEX(bench_kernel_mutex);
static DEFINE_GOSYNC_SEQLOCK(bench_gosync_seqlock);
static DEFINE_SEQLOCK(bench_kernel_seqlock);
static DEFINE_GOSYNC_ONCE(bench_gosync_once);
static struct once bench_kernel_once;
static unsigned long bench_sink;

/* One side of a pairing: run @rounds operations, per thread. */
struct bench_side {
	const char *name;
	void (*run)(unsigned int rounds);
};

static void gosync_mutex_uncontended(unsigned int n)
{
	while (n--) {
		gosync_mutex_lock(&bench_gosync_mutex);
		bench_sink++;
		gosync_mutex_unlock(&bench_gosync_mutex);
	}
}

static void kernel_mutex_uncontended(unsigned int n)
{
	while (n--) {
		mutex_lock(&bench_kernel_mutex);
		bench_sink++;
		mutex_unlock(&bench_kernel_mutex);
	}
}

static void gosync_seq_reads(unsigned int n)
{
	unsigned long value;
	unsigned int seq;

	while (n--) {
		do {
			seq = gosync_read_seqbegin(&bench_gosync_seqlock);
			value = READ_ONCE(bench_sink);
		} while (gosync_read_seqretry(&bench_gosync_seqlock, seq));
	}
	(void)value;
}

static void kernel_seq_reads(unsigned int n)
{
	unsigned long value;
	unsigned int seq;

	while (n--) {
		do {
			seq = read_seqbegin(&bench_kernel_seqlock);
			value = READ_ONCE(bench_sink);
		} while (read_seqretry(&bench_kernel_seqlock, seq));
	}
	(void)value;
}

static void bench_nothing(void *arg)
{
}

static int bench_kernel_nothing(struct once *once)
{
	return 0;
}

static void gosync_once_done_path(unsigned int n)
{
	while (n--)
		gosync_once_do(&bench_gosync_once, bench_nothing, NULL);
}

static void kernel_once_done_path(unsigned int n)
{
	while (n--)
		call_once(&bench_kernel_once, bench_kernel_nothing);
}

struct bench_thread {
	struct bench_side *side;
	unsigned int rounds;
	struct completion done;
};

static int bench_thread_main(void *arg)
{
	struct bench_thread *thread = arg;

	thread->side->run(thread->rounds);
	kthread_complete_and_exit(&thread->done, 0);
}

/* Nanoseconds for @nr threads (one per CPU, round-robin) to finish. */
static u64 bench_time(struct bench_side *side, unsigned int nr)
{
	struct bench_thread *threads;
	struct task_struct *task;
	unsigned int i, started = 0;
	int cpu = -1;
	u64 start;

	threads = kcalloc(nr, sizeof(*threads), GFP_KERNEL);
	if (!threads)
		return 0;
	start = ktime_get_ns();
	for (i = 0; i < nr; i++) {
		threads[i].side = side;
		threads[i].rounds = rounds / nr;
		init_completion(&threads[i].done);
		cpu = cpumask_next(cpu, cpu_online_mask);
		if (cpu >= nr_cpu_ids)
			cpu = cpumask_first(cpu_online_mask);
		task = kthread_create_on_cpu(bench_thread_main, &threads[i], cpu,
					     "gosync-bench/%u");
		if (IS_ERR(task))
			break;
		wake_up_process(task);
		started++;
	}
	for (i = 0; i < started; i++)
		wait_for_completion(&threads[i].done);
	kfree(threads);
	return started == nr ? ktime_get_ns() - start : 0;
}

static void bench_pair(const char *what, struct bench_side *gosync,
		       struct bench_side *kernel, unsigned int nr)
{
	u64 g, k;

	/* Warm up both, then measure each twice and keep the faster. */
	bench_time(gosync, nr);
	bench_time(kernel, nr);
	g = min(bench_time(gosync, nr), bench_time(gosync, nr));
	k = min(bench_time(kernel, nr), bench_time(kernel, nr));
	if (!g || !k) {
		pr_info("%s: could not run\n", what);
		return;
	}
	pr_info("%-34s gosync %6llu ns/op  kernel %6llu ns/op  ratio %llu.%02llu\n",
		what, g / rounds, k / rounds, g / k, (g * 100 / k) % 100);
}

static int __init gosync_bench_init(void)
{
	struct bench_side gm = { "gosync_mutex", gosync_mutex_uncontended };
	struct bench_side km = { "mutex", kernel_mutex_uncontended };
	struct bench_side gs = { "gosync_seqlock", gosync_seq_reads };
	struct bench_side ks = { "seqlock_t", kernel_seq_reads };
	struct bench_side go = { "gosync_once", gosync_once_done_path };
	struct bench_side ko = { "call_once", kernel_once_done_path };
	unsigned int cpus = num_online_cpus();
	char what[48];

	once_init(&bench_kernel_once);
	pr_info("%u rounds per measurement, %u CPUs; ratio = gosync / kernel\n",
		rounds, cpus);
	bench_pair("mutex, uncontended (1 thread)", &gm, &km, 1);
	snprintf(what, sizeof(what), "mutex, contended (%u threads)", 2 * cpus);
	bench_pair(what, &gm, &km, 2 * cpus);
	snprintf(what, sizeof(what), "seqlock read (%u threads)", cpus);
	bench_pair(what, &gs, &ks, cpus);
	bench_pair("once, after the first call", &go, &ko, 1);
	return 0;
}

static void __exit gosync_bench_exit(void)
{
}

module_init(gosync_bench_init);
module_exit(gosync_bench_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("gosync against the kernel's own primitives, as ratios");
