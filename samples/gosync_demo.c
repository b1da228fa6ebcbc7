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
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include <gosync/gosync.h>

static unsigned int iterations = 2000;
module_param(iterations, uint, 0444);
MODULE_PARM_DESC(iterations, "Lock acquisitions per worker in the contended scenario");

/*
 * Kernels without KUnit (every distribution kernel) still get a verdict:
 * with selfcheck=1 the demo compares each count it printed with the exact
 * value the scenario implies and ends with one "self-check" line.
 */
static bool selfcheck;
module_param(selfcheck, bool, 0444);
MODULE_PARM_DESC(selfcheck, "Verify every count and print a pass/fail line");
static unsigned int demo_checks, demo_check_failures;

static void demo_expect(const char *what, unsigned long got, unsigned long want)
{
	demo_checks++;
	if (got == want)
		return;
	demo_check_failures++;
	pr_err("self-check: %s is %lu, expected %lu\n", what, got, want);
}

static void demo_verdict(const char *when)
{
	if (selfcheck)
		pr_info("self-check %s: %u of %u counts exact: %s\n", when,
			demo_checks - demo_check_failures, demo_checks,
			demo_check_failures ? "FAIL" : "pass");
}

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
		/*
		 * The writer is bound to a CPU a reader shares: on a kernel
		 * without full preemption (Debian's stock ones) a reader that
		 * never yields keeps it off that CPU for good.
		 */
		cond_resched();
	}
}

/*
 * Scenario 4: a read-mostly cache.  Workers look objects up by name in a
 * gosync map, lock-free; one in fifty lookups replaces the object with a
 * new version.  Replaced objects are freed by the map after a grace
 * period, so a reader holding rcu_read_lock() can still use the old one.
 */
#define DEMO_CACHE_KEYS 256

struct demo_object {
	unsigned int id;
	unsigned int version;
};

static struct gosync_map demo_cache;
static atomic_t demo_cache_hits;
static atomic_t demo_cache_misses;
static atomic_t demo_cache_updates;
static atomic_t demo_cache_freed;

static void demo_object_free(void *value)
{
	atomic_inc(&demo_cache_freed);
	kfree(value);
}

static void demo_cache_body(unsigned int index)
{
	struct demo_object *object, *fresh;
	unsigned int i, id;
	char name[16];

	for (i = 0; i < iterations; i++) {
		id = (i * 7 + index * 13) % DEMO_CACHE_KEYS;
		snprintf(name, sizeof(name), "object-%u", id);
		rcu_read_lock();
		if (gosync_map_load(&demo_cache, name, strlen(name), (void **)&object) &&
		    object->id == id)
			atomic_inc(&demo_cache_hits);
		else
			atomic_inc(&demo_cache_misses);
		rcu_read_unlock();
		if (i % 50)
			continue;
		fresh = kmalloc(sizeof(*fresh), GFP_KERNEL);
		if (!fresh)
			continue;
		fresh->id = id;
		fresh->version = i;
		if (gosync_map_store(&demo_cache, name, strlen(name), fresh))
			kfree(fresh);
		else
			atomic_inc(&demo_cache_updates);
	}
}

static int demo_cache_fill(void)
{
	const struct gosync_map_params params = { .free_value = demo_object_free };
	struct demo_object *object;
	unsigned int id;
	char name[16];
	int err;

	gosync_map_init(&demo_cache, &params);
	for (id = 0; id < DEMO_CACHE_KEYS; id++) {
		object = kzalloc(sizeof(*object), GFP_KERNEL);
		if (!object)
			return -ENOMEM;
		object->id = id;
		snprintf(name, sizeof(name), "object-%u", id);
		err = gosync_map_store(&demo_cache, name, strlen(name), object);
		if (err) {
			kfree(object);
			return err;
		}
	}
	return 0;
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

	pr_info("scenario 4: %u workers x %u lookups in a %d-object cache map, 2%% updates\n",
		nr, iterations, DEMO_CACHE_KEYS);
	err = demo_cache_fill();
	if (!err)
		err = demo_run_workers(nr, demo_cache_body);
	pr_info("scenario 4: %d hits, %d misses, %d updates, map holds %zu objects\n",
		atomic_read(&demo_cache_hits), atomic_read(&demo_cache_misses),
		atomic_read(&demo_cache_updates), gosync_map_len(&demo_cache));
	if (err) {
		gosync_map_destroy(&demo_cache);
		return err;
	}

	demo_expect("scenario 1 counter", demo_counter, nr * iterations);
	demo_expect("scenario 2 polite locks", demo_polite_locks, (nr - 1) * 20);
	demo_expect("scenario 2 still starving",
		    gosync_mutex_is_starving(&demo_hog_lock), false);
	demo_expect("scenario 3 set-ups", atomic_read(&demo_config_setups), 1);
	demo_expect("scenario 3 torn reads", atomic_read(&demo_config_torn), 0);
	demo_expect("scenario 3 final version", demo_config.version, 1999);
	demo_expect("scenario 4 hits", atomic_read(&demo_cache_hits), nr * iterations);
	/* One update every 50 lookups, from the first on, per worker. */
	demo_expect("scenario 4 updates", atomic_read(&demo_cache_updates),
		    nr * DIV_ROUND_UP(iterations, 50));
	demo_expect("scenario 4 map size", gosync_map_len(&demo_cache),
		    DEMO_CACHE_KEYS);
	demo_verdict("at load");
	return 0;
}

static void __exit gosync_demo_exit(void)
{
	/* Frees every object, and waits for those replaced earlier. */
	gosync_map_destroy(&demo_cache);
	pr_info("unloaded: the cache map freed %d objects\n",
		atomic_read(&demo_cache_freed));
	/* The objects stored at fill time, and every replacement since. */
	demo_checks = 0;
	demo_check_failures = 0;
	demo_expect("objects freed", atomic_read(&demo_cache_freed),
		    DEMO_CACHE_KEYS + atomic_read(&demo_cache_updates));
	demo_verdict("at unload");
}

module_init(gosync_demo_init);
module_exit(gosync_demo_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("gosync demo workload for make run");
