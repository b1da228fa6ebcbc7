// SPDX-License-Identifier: GPL-2.0
/*
 * gosync_demo: the workload "make run" shows.  A client module like any
 * other: it sees only include/gosync/.  At load it runs each scenario to
 * completion on kthreads spread over every CPU, prints what it did, and
 * leaves the counters in /sys/kernel/debug/gosync/ for the reader.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/slab.h>

#include <gosync/gosync.h>

static unsigned int iterations = 2000;
module_param(iterations, uint, 0444);
MODULE_PARM_DESC(iterations, "Lock acquisitions per worker in the contended scenario");

struct demo_worker {
	struct completion done;
	unsigned int index;
	void (*body)(unsigned int index);
};

static int demo_worker_main(void *arg)
{
	struct demo_worker *worker = arg;

	worker->body(worker->index);
	kthread_complete_and_exit(&worker->done, 0);
}

/* Run @body(i) on @nr kthreads spread over the online CPUs; wait for all. */
static int demo_run_workers(unsigned int nr, void (*body)(unsigned int index))
{
	struct demo_worker *workers;
	struct task_struct *task;
	unsigned int i, started = 0;
	int cpu = -1;

	workers = kcalloc(nr, sizeof(*workers), GFP_KERNEL);
	if (!workers)
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		init_completion(&workers[i].done);
		workers[i].index = i;
		workers[i].body = body;
		cpu = cpumask_next(cpu, cpu_online_mask);
		if (cpu >= nr_cpu_ids)
			cpu = cpumask_first(cpu_online_mask);
		task = kthread_create_on_cpu(demo_worker_main, &workers[i], cpu,
					     "gosync-demo/%u");
		if (IS_ERR(task))
			break;
		wake_up_process(task);
		started++;
	}
	for (i = 0; i < started; i++)
		wait_for_completion(&workers[i].done);
	kfree(workers);
	return started == nr ? 0 : -ENOMEM;
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
	return 0;
}

static void __exit gosync_demo_exit(void)
{
}

module_init(gosync_demo_init);
module_exit(gosync_demo_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("gosync demo workload for make run");
