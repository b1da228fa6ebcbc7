// SPDX-License-Identifier: GPL-2.0
/*
 * gosync_demo: the workload "make run" shows.  A client module like any
 * other: it sees only include/gosync/.  At load it runs each scenario to
 * completion on kthreads spread over every CPU, prints what it did, and
 * leaves the counters in /sys/kernel/debug/gosync/ for the reader.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/slab.h>

#include <gosync/gosync.h>

static unsigned int iterations = 2000;
module_param(iterations, uint, 0444);
MODULE_PARM_DESC(iterations, "Lock acquisitions per worker in the contended scenario");

/* Workers are joined with a gosync waitgroup, the way Go code would. */
static DEFINE_GOSYNC_WAITGROUP(demo_workers);

struct demo_worker {
	unsigned int index;
	void (*body)(unsigned int index);
};

static int demo_worker_main(void *arg)
{
	struct demo_worker *worker = arg;

	worker->body(worker->index);
	gosync_wg_done(&demo_workers);
	return 0;
}

/* Run @body(i) on @nr kthreads spread over the online CPUs; wait for all. */
static int demo_run_workers(unsigned int nr, void (*body)(unsigned int index))
{
	struct demo_worker *workers;
	struct task_struct *task;
	unsigned int i;
	int cpu = -1, err = 0;

	workers = kcalloc(nr, sizeof(*workers), GFP_KERNEL);
	if (!workers)
		return -ENOMEM;
	for (i = 0; i < nr && !err; i++) {
		workers[i].index = i;
		workers[i].body = body;
		cpu = cpumask_next(cpu, cpu_online_mask);
		if (cpu >= nr_cpu_ids)
			cpu = cpumask_first(cpu_online_mask);
		err = gosync_wg_add(&demo_workers, 1);
		if (err)
			break;
		task = kthread_create_on_cpu(demo_worker_main, &workers[i], cpu,
					     "gosync-demo/%u");
		if (IS_ERR(task)) {
			gosync_wg_done(&demo_workers);
			err = PTR_ERR(task);
			break;
		}
		wake_up_process(task);
	}
	/* Also when starting failed: the started workers use @workers. */
	gosync_wg_wait(&demo_workers);
	kfree(workers);
	return err;
}

/* Scenario 1: a hot counter, short critical sections, every CPU. */
static DEFINE_GOSYNC_MUTEX(demo_counter_lock);
static unsigned long demo_counter;

static void demo_counter_body(unsigned int index)
{
	unsigned int i;

	for (i = 0; i < iterations; i++) {
		gosync_mutex_lock(&demo_counter_lock);
		demo_counter++;
		gosync_mutex_unlock(&demo_counter_lock);
	}
}

/*
 * Scenario 2: a greedy task re-locks at once and sleeps while holding the
 * lock; the others would wait forever in a plain barging mutex.  Waiters
 * push the mutex into starvation mode, get it by handoff, and the mode ends
 * when the queue drains.
 */
static DEFINE_GOSYNC_MUTEX(demo_hog_lock);
static atomic_t demo_polite_left;
static unsigned int demo_polite_locks;

static void demo_hog_body(unsigned int index)
{
	unsigned int i;

	if (index == 0) {
		while (atomic_read(&demo_polite_left)) {
			gosync_mutex_lock(&demo_hog_lock);
			usleep_range(100, 120);
			gosync_mutex_unlock(&demo_hog_lock);
		}
		return;
	}
	for (i = 0; i < 20; i++) {
		usleep_range(50, 100);
		gosync_mutex_lock(&demo_hog_lock);
		demo_polite_locks++;
		gosync_mutex_unlock(&demo_hog_lock);
	}
	atomic_dec(&demo_polite_left);
}

/*
 * Scenario 3: a read-mostly configuration.  Every worker sets it up on
 * first use through a once (exactly one of them runs the set-up), then
 * reads it through a seqlock while one worker keeps publishing new
 * versions.  Readers never block the writer and never see a torn copy.
 */
struct demo_config {
	u64 version;
	u64 limit;
	u64 checksum;	/* version ^ limit */
};

static DEFINE_GOSYNC_ONCE(demo_config_once);
static DEFINE_GOSYNC_SEQLOCK(demo_config_lock);
static struct demo_config demo_config;
static atomic_t demo_config_setups;
static atomic_t demo_config_torn;
static atomic_t demo_writer_left;

static void demo_config_setup(void *arg)
{
	struct demo_config initial = { .version = 1, .limit = 100,
				       .checksum = 1 ^ 100 };

	atomic_inc(&demo_config_setups);
	gosync_seq_write(&demo_config_lock, &demo_config, &initial);
}

static void demo_config_body(unsigned int index)
{
	struct demo_config copy;
	unsigned int i;

	gosync_once_do(&demo_config_once, demo_config_setup, NULL);
	if (index == 0) {
		for (i = 2; i < 2000; i++) {
			struct demo_config next = { .version = i, .limit = 100 + i,
						    .checksum = i ^ (100 + i) };

			gosync_seq_write(&demo_config_lock, &demo_config, &next);
		}
		atomic_set(&demo_writer_left, 1);
		return;
	}
	while (!atomic_read(&demo_writer_left)) {
		gosync_seq_read(&demo_config_lock, &copy, &demo_config);
		if ((copy.version ^ copy.limit) != copy.checksum)
			atomic_inc(&demo_config_torn);
	}
}

static int __init gosync_demo_init(void)
{
	unsigned int nr = 2 * num_online_cpus();
	int err;

	pr_info("scenario 1: %u workers x %u locks of one hot mutex\n",
		nr, iterations);
	err = demo_run_workers(nr, demo_counter_body);
	if (err)
		return err;
	pr_info("scenario 1: counter %lu (expected %lu)\n", demo_counter,
		(unsigned long)nr * iterations);

	atomic_set(&demo_polite_left, nr - 1);
	pr_info("scenario 2: one greedy holder, %u polite workers x 20 locks\n",
		nr - 1);
	err = demo_run_workers(nr, demo_hog_body);
	if (err)
		return err;
	pr_info("scenario 2: polite workers got the mutex %u times; starving now: %s\n",
		demo_polite_locks,
		gosync_mutex_is_starving(&demo_hog_lock) ? "yes" : "no");

	pr_info("scenario 3: %u workers share a config set up once, read through a seqlock\n",
		nr);
	err = demo_run_workers(nr, demo_config_body);
	if (err)
		return err;
	pr_info("scenario 3: set-up ran %d time(s); %d torn reads; final version %llu\n",
		atomic_read(&demo_config_setups), atomic_read(&demo_config_torn),
		demo_config.version);
	return 0;
}

static void __exit gosync_demo_exit(void)
{
}

module_init(gosync_demo_init);
module_exit(gosync_demo_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("gosync demo workload for make run");
