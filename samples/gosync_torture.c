// SPDX-License-Identifier: GPL-2.0
/*
 * gosync_torture: randomised long-running torture of every gosync
 * primitive, in the manner of kernel/locking/locktorture.c.
 *
 * Loading the module starts a controller and, for each selected primitive,
 * a set of kthreads that hammer it and check exact invariants after every
 * operation.  Around them the controller stutters (parks every thread, then
 * releases them all at once), shuffles them between CPUs, and optionally
 * takes CPUs offline and back, sends signals to lockers and waiters so that
 * they give up, and makes allocations fail through the kernel's failslab
 * (the calling task's fail_nth, so nothing but the torture threads is
 * touched).  A statistics line per primitive is printed every stat_interval
 * seconds; after duration seconds (or at rmmod, whichever comes first) the
 * threads are stopped, the final invariants are checked and the verdict is
 * printed as "End of test: SUCCESS" or "End of test: FAILURE".
 *
 * In a test build of gosync (GOSYNC_TESTING=1) the controller also widens
 * gosync's own race windows, its delay points, for every other period of
 * two seconds, so that the other side of each race lands inside it.
 *
 * Every invariant violation is printed with "FAIL" and the primitive's
 * name and counted; the verdict is FAILURE when any count is non-zero or a
 * thread did not stop (a lost wakeup leaves it blocked for good).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/ratelimit.h>
#include <linux/rcupdate.h>
#include <linux/sched/debug.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>

#include <gosync/gosync.h>

#ifdef GOSYNC_TEST_BUILD
#include "gosync_internal.h"
#endif

static char *primitive = "all";
module_param(primitive, charp, 0444);
MODULE_PARM_DESC(primitive, "What to torture: mutex, waitgroup, once, seqlock, map or all (comma-separated list allowed)");

static int nthreads = -1;
module_param(nthreads, int, 0444);
MODULE_PARM_DESC(nthreads, "Threads per primitive (default: twice the online CPUs)");

static int duration = 30;
module_param(duration, int, 0444);
MODULE_PARM_DESC(duration, "Seconds to run before the verdict (0: until rmmod)");

static int stat_interval = 10;
module_param(stat_interval, int, 0444);
MODULE_PARM_DESC(stat_interval, "Seconds between statistics lines (0: none)");

static int long_hold = 5;
module_param(long_hold, int, 0444);
MODULE_PARM_DESC(long_hold, "Milliseconds of an occasional long mutex hold (0: none)");

static bool give_up = true;
module_param(give_up, bool, 0444);
MODULE_PARM_DESC(give_up, "Mix timed, interruptible and killable lockers and waiters, with a signaller");

static int stutter = 5;
module_param(stutter, int, 0444);
MODULE_PARM_DESC(stutter, "Seconds of running between pauses of every thread (0: no stutter)");

static int onoff_interval;
module_param(onoff_interval, int, 0444);
MODULE_PARM_DESC(onoff_interval, "Milliseconds between CPU offline/online operations (0: no hotplug)");

static int shuffle_interval = 3000;
module_param(shuffle_interval, int, 0444);
MODULE_PARM_DESC(shuffle_interval, "Milliseconds between moves of the threads to other CPUs (0: none)");

static int fail_alloc;
module_param(fail_alloc, int, 0444);
MODULE_PARM_DESC(fail_alloc, "Make one in N map and wg_go operations hit a failed allocation (0: none; needs failslab with ignore-gfp-wait=N)");

static int stall_timeout = 20;
module_param(stall_timeout, int, 0444);
MODULE_PARM_DESC(stall_timeout, "Seconds without progress after which a thread fails the run and ends it (0: never)");

static bool finished;
module_param(finished, bool, 0444);
MODULE_PARM_DESC(finished, "Set once the verdict has been printed");

#ifdef GOSYNC_TEST_BUILD
static int delay_us = 50;
module_param(delay_us, int, 0444);
MODULE_PARM_DESC(delay_us, "Test builds: longest wait at each of gosync's delay points while they are armed, in microseconds (0: never armed)");
MODULE_IMPORT_NS(GOSYNC_TESTING);

/* Armed passes through every delay point since gosync was loaded. */
static u64 tort_delay_hits(void)
{
	enum gosync_delay_point point;
	u64 hits = 0;

	for (point = GOSYNC_DELAY_NONE + 1; point < GOSYNC_NR_DELAY_POINTS; point++)
		hits += gosync_delay_point_hits(point);
	return hits;
}

/* Arm or disarm every delay point.  Process context (it may sleep). */
static void tort_delay_arm(bool on)
{
	enum gosync_delay_point point;

	if (delay_us <= 0)
		return;
	for (point = GOSYNC_DELAY_NONE + 1; point < GOSYNC_NR_DELAY_POINTS; point++)
		gosync_delay_point_arm(point, on ? delay_us : 0);
}
#else
/* A production gosync.ko has no delay points. */
static u64 tort_delay_hits(void)
{
	return 0;
}

static void tort_delay_arm(bool on)
{
}
#endif

/* Periods with the delay points armed alternate with periods without. */
#define TORT_DELAY_PERIOD (2 * HZ)

enum tort_prim { T_MUTEX, T_WG, T_ONCE, T_SEQ, T_MAP, T_NR };

static const char * const tort_names[T_NR] = {
	[T_MUTEX] = "mutex", [T_WG] = "waitgroup", [T_ONCE] = "once",
	[T_SEQ] = "seqlock", [T_MAP] = "map",
};

/* One torture kthread.  @ops is written by the thread, read by the stats. */
struct tort_thread {
	struct task_struct *task;
	enum tort_prim prim;
	int id;			/* index among the threads of @prim */
	bool helper;		/* second role of @prim: helper, reader */
	bool signalled;		/* may receive signals from the signaller */
	unsigned long ops;
	unsigned long last_ops;	/* at the last statistics line */
	unsigned long seen_ops;	/* at the last progress check */
	unsigned long seen_at;	/* jiffies when seen_ops changed */
	struct completion done;	/* the loop has ended */
};

struct tort_prim_state {
	bool enabled;
	int nr;			/* threads of this primitive */
	struct tort_thread *threads;
	atomic_long_t giveups;
	atomic_long_t enomem;
	atomic_long_t fails;
	void (*op)(struct tort_thread *t);
	void (*final)(void);
};

static struct tort_prim_state tort[T_NR];
static struct task_struct *tort_ctl_task, *tort_onoff_task, *tort_sig_task;
static bool tort_stop;		/* threads: finish the current operation and exit */
static bool tort_paused;	/* stutter: park at the top of the loop */
static DECLARE_WAIT_QUEUE_HEAD(tort_pause_wq);
static atomic_t tort_stuck;	/* threads that never stopped */
static unsigned long tort_onoff_ok, tort_onoff_tries, tort_stutters, tort_shuffles;
static unsigned long tort_start;
static u64 tort_delay_hits_start;

static DEFINE_RATELIMIT_STATE(tort_fail_rs, 5 * HZ, 20);

/* An invariant of @p does not hold: count it, and say which (rate-limited). */
static __printf(2, 3) void tort_fail(enum tort_prim p, const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	atomic_long_inc(&tort[p].fails);
	if (!__ratelimit(&tort_fail_rs))
		return;
	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	pr_err("FAIL %s: %pV\n", tort_names[p], &vaf);
	va_end(args);
}

static u32 tort_rand(u32 ceil)
{
	return get_random_u32_below(ceil);
}

static bool tort_one_in(int n)
{
	return n > 0 && !get_random_u32_below(n);
}

/*
 * Fault injection: make the @nth allocation of the next operation of the
 * current task fail through failslab's per-task fail_nth.  Returns true
 * when it was armed; tort_inject_end() disarms and says whether it fired.
 */
static bool tort_inject_begin(int nth)
{
#ifdef CONFIG_FAULT_INJECTION
	if (tort_one_in(fail_alloc)) {
		WRITE_ONCE(current->fail_nth, nth);
		return true;
	}
#endif
	return false;
}

static bool tort_inject_end(bool armed)
{
#ifdef CONFIG_FAULT_INJECTION
	bool fired;

	if (!armed)
		return false;
	fired = !READ_ONCE(current->fail_nth);
	WRITE_ONCE(current->fail_nth, 0);
	return fired;
#else
	return false;
#endif
}

/* A signal sent to us to make a lock or wait give up has done its job. */
static void tort_clear_signals(void)
{
	if (signal_pending(current))
		flush_signals(current);
}

static void tort_stutter_wait(void)
{
	if (READ_ONCE(tort_paused))
		wait_event_idle(tort_pause_wq,
				!READ_ONCE(tort_paused) || READ_ONCE(tort_stop));
}

/* ------------------------------------------------------------------ mutex */

static struct gosync_mutex tort_mutex;
static atomic_t tort_mutex_inside;
static struct tort_thread *tort_mutex_owner;
static unsigned long tort_mutex_count;	/* plain: guarded by tort_mutex */

static int tort_mutex_acquire(struct tort_thread *t)
{
	int ret;

	switch (give_up ? tort_rand(8) : 0) {
	case 1:
		ret = gosync_mutex_lock_interruptible(&tort_mutex);
		break;
	case 2:
		ret = gosync_mutex_lock_killable(&tort_mutex);
		break;
	case 3:
		ret = gosync_mutex_lock_timeout(&tort_mutex, 1 + tort_rand(3));
		break;
	case 4:
		ret = gosync_mutex_trylock(&tort_mutex) ? 0 : -EBUSY;
		break;
	default:
		gosync_mutex_lock(&tort_mutex);
		__release(&tort_mutex);	/* sparse: the caller counts it */
		ret = 0;
		break;
	}
	if (ret && ret != -EINTR && ret != -ETIMEDOUT && ret != -EBUSY)
		tort_fail(T_MUTEX, "thread %d: lock returned %d", t->id, ret);
	return ret;
}

static void tort_mutex_op(struct tort_thread *t)
{
	int inside;

	if (tort_mutex_acquire(t)) {
		atomic_long_inc(&tort[T_MUTEX].giveups);
		tort_clear_signals();
		return;
	}
	__acquire(&tort_mutex);	/* sparse: any of the ways above */
	inside = atomic_inc_return(&tort_mutex_inside);
	if (inside != 1)
		tort_fail(T_MUTEX, "thread %d: %d owners at once", t->id,
			  inside);
	WRITE_ONCE(tort_mutex_owner, t);
	tort_mutex_count++;
	if (long_hold && tort_one_in(2000))
		msleep(long_hold);
	else if (tort_one_in(4))
		udelay(tort_rand(20));
	if (READ_ONCE(tort_mutex_owner) != t)
		tort_fail(T_MUTEX, "thread %d: owner changed under it",
			  t->id);
	atomic_dec(&tort_mutex_inside);
	gosync_mutex_unlock(&tort_mutex);
	tort_clear_signals();
	WRITE_ONCE(t->ops, t->ops + 1);
}

static unsigned long tort_sum_ops(enum tort_prim p, bool helpers)
{
	unsigned long sum = 0;
	int i;

	for (i = 0; i < tort[p].nr; i++)
		if (tort[p].threads[i].helper == helpers)
			sum += READ_ONCE(tort[p].threads[i].ops);
	return sum;
}

static void tort_mutex_final(void)
{
	unsigned long ops = tort_sum_ops(T_MUTEX, false);

	if (tort_mutex_count != ops)
		tort_fail(T_MUTEX, "%lu sections counted, %lu acquisitions",
			  tort_mutex_count, ops);
	if (gosync_mutex_is_locked(&tort_mutex) ||
	    gosync_mutex_is_starving(&tort_mutex))
		tort_fail(T_MUTEX, "not idle at the end: locked %d starving %d",
			  gosync_mutex_is_locked(&tort_mutex),
			  gosync_mutex_is_starving(&tort_mutex));
}

/* -------------------------------------------------------------- waitgroup */

/*
 * Each coordinator owns a waitgroup.  A round adds work items, hands some
 * to the helper threads and the rest to gosync_wg_go(), then waits.  Every
 * item stamps its slot with the round before it is done, so a wait that
 * returns early sees a stale stamp or a short done count.
 */
#define TORT_WG_ITEMS 16

struct tort_wg_item {
	struct tort_wg *wg;
	unsigned int slot;
	unsigned int round;
};

struct tort_wg {
	struct gosync_waitgroup wg;
	atomic_t post;		/* round << 16 | posted << 8 | claimed */
	atomic_t items_done;
	unsigned int issued;	/* coordinator only */
	unsigned int round;
	unsigned int slot[TORT_WG_ITEMS];
	struct tort_wg_item go[TORT_WG_ITEMS];
};

static struct tort_wg *tort_wgs;
static int tort_wg_nr;		/* coordinators */
static atomic_t tort_wg_live;	/* coordinators still running */

static DECLARE_WAIT_QUEUE_HEAD(tort_wg_post_wq);

/* Does any coordinator have posted items left to claim? */
static bool tort_wg_posted(void)
{
	int i;

	for (i = 0; i < tort_wg_nr; i++) {
		int post = atomic_read(&tort_wgs[i].post);

		if ((post & 0xff) < ((post >> 8) & 0xff))
			return true;
	}
	return false;
}

static void tort_wg_item_run(struct tort_wg *w, unsigned int slot,
			     unsigned int round)
{
	if (tort_one_in(8))
		udelay(tort_rand(10));
	WRITE_ONCE(w->slot[slot], round);
	atomic_inc(&w->items_done);
}

static void tort_wg_go_fn(void *arg)
{
	struct tort_wg_item *item = arg;

	tort_wg_item_run(item->wg, item->slot, item->round);
}

/* Wait for the round in one of the ways the API offers; true when done. */
static bool tort_wg_wait(struct tort_wg *w, struct tort_thread *t)
{
	unsigned long deadline = jiffies + 20 * HZ;

	switch (give_up ? tort_rand(4) : 0) {
	case 1:
		while (gosync_wg_wait_killable(&w->wg)) {
			atomic_long_inc(&tort[T_WG].giveups);
			tort_clear_signals();
		}
		return true;
	case 2:
		while (!gosync_wg_wait_timeout(&w->wg, 1)) {
			atomic_long_inc(&tort[T_WG].giveups);
			if (time_after(jiffies, deadline))
				return false;
		}
		return true;
	case 3:
		gosync_wg_wait(&w->wg);
		return true;
	default:
		return gosync_wg_wait_timeout(&w->wg, 20 * HZ) > 0;
	}
}

static void tort_wg_op(struct tort_thread *t)
{
	struct tort_wg *w = &tort_wgs[t->id];
	unsigned int nh, ng, i, round, issued_before;
	bool armed;
	int ret;

	round = ++w->round & 0xffff;
	nh = tort_rand(5);
	ng = tort_rand(4);
	if (!nh && !ng)
		nh = 1;
	issued_before = w->issued;
	/* Go-issued work first, while nothing else is in flight. */
	for (i = 0; i < ng; i++) {
		struct tort_wg_item *item = &w->go[i];

		item->wg = w;
		item->slot = nh + i;
		item->round = round;
		armed = tort_inject_begin(1);
		ret = gosync_wg_go(&w->wg, tort_wg_go_fn, item);
		tort_inject_end(armed);
		if (ret == -ENOMEM || ret == -ENODEV) {
			/* -ENODEV: rmmod has begun, our module is pinned no more. */
			if (ret == -ENOMEM)
				atomic_long_inc(&tort[T_WG].enomem);
			else
				atomic_long_inc(&tort[T_WG].giveups);
			/* Unchanged: only our own earlier items may count. */
			if (gosync_wg_count(&w->wg) > w->issued - issued_before)
				tort_fail(T_WG, "failed wg_go left the counter at %u",
					  gosync_wg_count(&w->wg));
			item->round = round ^ 0x8000;	/* not expected */
			continue;
		}
		if (ret) {
			tort_fail(T_WG, "wg_go returned %d", ret);
			item->round = round ^ 0x8000;
			continue;
		}
		w->issued++;
	}
	if (nh) {
		ret = gosync_wg_add(&w->wg, nh);
		if (ret) {
			tort_fail(T_WG, "add(%u) returned %d", nh, ret);
			nh = 0;
		}
		w->issued += nh;
		/* Publish the items to the helpers (after the add). */
		atomic_set_release(&w->post, round << 16 | nh << 8);
		wake_up_all(&tort_wg_post_wq);
	}

	if (!tort_wg_wait(w, t)) {
		tort_fail(T_WG, "wait did not end in 20 s: counter %u, items %d of %u done (%s)",
			  gosync_wg_count(&w->wg), atomic_read(&w->items_done),
			  w->issued,
			  gosync_wg_count(&w->wg) ? "counter stuck" : "lost wakeup");
		/* Wait it out so that the next round starts clean. */
		gosync_wg_wait(&w->wg);
	}
	tort_clear_signals();
	if (gosync_wg_count(&w->wg))
		tort_fail(T_WG, "wait returned with the counter at %u",
			  gosync_wg_count(&w->wg));
	if (atomic_read(&w->items_done) != w->issued)
		tort_fail(T_WG, "wait returned after %d of %u items",
			  atomic_read(&w->items_done), w->issued);
	for (i = 0; i < nh; i++)
		if (READ_ONCE(w->slot[i]) != round)
			tort_fail(T_WG, "helper item %u not seen done", i);
	for (i = 0; i < ng; i++)
		if (w->go[i].round == round &&
		    READ_ONCE(w->slot[nh + i]) != round)
			tort_fail(T_WG, "wg_go item %u not seen done", i);
	WRITE_ONCE(t->ops, t->ops + 1);
}

/* Helpers claim posted items of any coordinator and complete them. */
static void tort_wg_helper_op(struct tort_thread *t)
{
	bool worked = false;
	int i, start = tort_rand(tort_wg_nr);

	for (i = 0; i < tort_wg_nr; i++) {
		struct tort_wg *w = &tort_wgs[(start + i) % tort_wg_nr];
		int old = atomic_read_acquire(&w->post);
		unsigned int posted = (old >> 8) & 0xff, claimed = old & 0xff;

		if (claimed >= posted ||
		    atomic_cmpxchg_acquire(&w->post, old, old + 1) != old)
			continue;
		tort_wg_item_run(w, claimed, (unsigned int)old >> 16);
		gosync_wg_done(&w->wg);
		worked = true;
		WRITE_ONCE(t->ops, t->ops + 1);
	}
	/*
	 * Idle: sleep until a coordinator posts (or a jiffy passes).  Not
	 * usleep_range(): its hrtimer sleeper has a data race of its own in
	 * 6.12 that KCSAN reports.
	 */
	if (!worked)
		wait_event_idle_timeout(tort_wg_post_wq,
					tort_wg_posted() || READ_ONCE(tort_stop),
					1);
}

static void tort_wg_final(void)
{
	int i;

	for (i = 0; i < tort_wg_nr; i++)
		if (gosync_wg_count(&tort_wgs[i].wg))
			tort_fail(T_WG, "group %d ends with counter %u", i,
				  gosync_wg_count(&tort_wgs[i].wg));
}

/* ------------------------------------------------------------------- once */

/*
 * All once threads race on one object per generation; the last to finish
 * a generation resets it (to the zero value or with init) for the next.
 * Odd generations use do_err with a few failing attempts before success.
 */
struct tort_once {
	struct gosync_once once;
	atomic_t runs;		/* fn entries */
	atomic_t running;	/* fn bodies in flight */
	int fail_first;		/* do_err: attempts that fail first */
	unsigned int value;	/* plain: written by fn, read after do */
};

static struct tort_once tort_once_obj;
static unsigned int tort_once_gen;
static atomic_t tort_once_arrived;
static DECLARE_WAIT_QUEUE_HEAD(tort_once_wq);

static void tort_once_body(void)
{
	struct tort_once *o = &tort_once_obj;

	if (atomic_inc_return(&o->running) != 1)
		tort_fail(T_ONCE, "fn runs twice at once");
	if (tort_one_in(4))
		udelay(tort_rand(50));
	else if (tort_one_in(16))
		schedule_timeout_idle(1);
	atomic_dec(&o->running);
}

static void tort_once_fn(void *arg)
{
	struct tort_once *o = &tort_once_obj;

	if (atomic_inc_return(&o->runs) != 1)
		tort_fail(T_ONCE, "fn ran twice in generation %u",
			  *(unsigned int *)arg);
	tort_once_body();
	WRITE_ONCE(o->value, *(unsigned int *)arg);
}

static int tort_once_err_fn(void *arg)
{
	struct tort_once *o = &tort_once_obj;
	int run = atomic_inc_return(&o->runs);

	tort_once_body();
	if (run <= o->fail_first)
		return -EAGAIN;
	if (run != o->fail_first + 1)
		tort_fail(T_ONCE, "fn ran again after success in generation %u",
			  *(unsigned int *)arg);
	WRITE_ONCE(o->value, *(unsigned int *)arg);
	return 0;
}

static bool tort_once_opened(unsigned int gen)
{
	/* Pairs with the release of the next generation: reset seen first. */
	return smp_load_acquire(&tort_once_gen) != gen || READ_ONCE(tort_stop);
}

static void tort_once_op(struct tort_thread *t)
{
	struct tort_once *o = &tort_once_obj;
	unsigned int gen = READ_ONCE(tort_once_gen);
	int ret;

	if (gen & 1) {
		while ((ret = gosync_once_do_err(&o->once, tort_once_err_fn,
						 &gen)) == -EAGAIN)
			atomic_long_inc(&tort[T_ONCE].giveups);
		if (ret)
			tort_fail(T_ONCE, "do_err returned %d", ret);
	} else {
		gosync_once_do(&o->once, tort_once_fn, &gen);
	}
	if (READ_ONCE(o->value) != gen)
		tort_fail(T_ONCE, "do returned before fn finished (generation %u)",
			  gen);
	if (!gosync_once_done(&o->once))
		tort_fail(T_ONCE, "not done after do returned");
	WRITE_ONCE(t->ops, t->ops + 1);

	/* Barrier: the last thread to arrive opens the next generation. */
	if (atomic_inc_return(&tort_once_arrived) == tort[T_ONCE].nr) {
		int runs = atomic_read(&o->runs);

		if (runs != (gen & 1 ? o->fail_first + 1 : 1))
			tort_fail(T_ONCE, "fn ran %d times in generation %u",
				  runs, gen);
		memset(&o->once, 0, sizeof(o->once));
		if (tort_one_in(2))
			gosync_once_init(&o->once);
		atomic_set(&o->runs, 0);
		o->fail_first = tort_rand(3);
		atomic_set(&tort_once_arrived, 0);
		/* Publishes the reset object with the new generation. */
		smp_store_release(&tort_once_gen, gen + 1);
		wake_up_all(&tort_once_wq);
	} else {
		wait_event_idle(tort_once_wq, tort_once_opened(gen));
	}
}

/* ---------------------------------------------------------------- seqlock */

struct tort_seq_data {
	unsigned long a, b, c, d;
};

static struct gosync_seqlock tort_seq;
static struct tort_seq_data tort_seq_data;
static atomic_long_t tort_seq_irq_reads;

#define TORT_SEQ_MUL 0x9e3779b97f4a7c15UL

static bool tort_seq_consistent(const struct tort_seq_data *d)
{
	return d->b == ~d->a && d->c == d->a * TORT_SEQ_MUL &&
	       d->d == (d->a ^ d->c);
}

static void tort_seq_writer_op(struct tort_thread *t)
{
	struct tort_seq_data *d = &tort_seq_data;
	/*
	 * Drawn before the write section, which runs with interrupts off:
	 * get_random_*() takes a local lock, a sleeping lock on PREEMPT_RT.
	 */
	unsigned int stall_us = tort_one_in(16) ? tort_rand(5) : 0;
	unsigned long n;

	gosync_write_seqlock(&tort_seq);
	n = d->a + 1;
	WRITE_ONCE(d->a, n);
	WRITE_ONCE(d->b, ~n);
	if (stall_us)
		udelay(stall_us);
	WRITE_ONCE(d->c, n * TORT_SEQ_MUL);
	WRITE_ONCE(d->d, n ^ (n * TORT_SEQ_MUL));
	gosync_write_sequnlock(&tort_seq);
	WRITE_ONCE(t->ops, t->ops + 1);
}

static unsigned long tort_seq_last[64];

static void tort_seq_reader_op(struct tort_thread *t)
{
	struct tort_seq_data copy;
	unsigned long *last = &tort_seq_last[t->id % ARRAY_SIZE(tort_seq_last)];
	unsigned int seq;

	if (tort_one_in(2)) {
		gosync_seq_read(&tort_seq, &copy, &tort_seq_data);
	} else {
		/* The open-coded reader, with a delay to meet writers. */
		do {
			seq = gosync_read_seqbegin(&tort_seq);
			/* Racy by design: the retry check discards torn copies. */
			copy.a = data_race(tort_seq_data.a);
			if (tort_one_in(64))
				udelay(2);
			/* Same: racy by design, retried when torn. */
			copy.b = data_race(tort_seq_data.b);
			/* Same. */
			copy.c = data_race(tort_seq_data.c);
			/* Same. */
			copy.d = data_race(tort_seq_data.d);
		} while (gosync_read_seqretry(&tort_seq, seq));
	}
	if (!tort_seq_consistent(&copy))
		tort_fail(T_SEQ, "torn read: %lx %lx %lx %lx", copy.a, copy.b,
			  copy.c, copy.d);
	if (copy.a < *last)
		tort_fail(T_SEQ, "read went back from %lu to %lu", *last,
			  copy.a);
	*last = copy.a;
	WRITE_ONCE(t->ops, t->ops + 1);
}

#define TORT_SEQ_TIMERS 2
static struct hrtimer tort_seq_timers[TORT_SEQ_TIMERS];
static bool tort_seq_timers_on;

/* Readers in hard interrupt context: never sleep, never block a writer. */
static enum hrtimer_restart tort_seq_timer_fn(struct hrtimer *timer)
{
	struct tort_seq_data copy;

	gosync_seq_read(&tort_seq, &copy, &tort_seq_data);
	if (!tort_seq_consistent(&copy))
		tort_fail(T_SEQ, "torn read in a timer: %lx %lx %lx %lx",
			  copy.a, copy.b, copy.c, copy.d);
	atomic_long_inc(&tort_seq_irq_reads);
	if (READ_ONCE(tort_stop))
		return HRTIMER_NORESTART;
	/*
	 * Every 2 ms: often enough to meet writers, rarely enough not to
	 * multiply the 6.12 hrtimer core's own KCSAN-reported race between
	 * __hrtimer_run_queues() and hrtimer_active().
	 */
	hrtimer_forward_now(timer, ns_to_ktime(2 * NSEC_PER_MSEC));
	return HRTIMER_RESTART;
}

static void tort_seq_final(void)
{
	unsigned long writes = tort_sum_ops(T_SEQ, false);
	int i;

	if (tort_seq_timers_on)
		for (i = 0; i < TORT_SEQ_TIMERS; i++)
			hrtimer_cancel(&tort_seq_timers[i]);
	if (tort_seq_data.a != writes)
		tort_fail(T_SEQ, "%lu writes made, %lu seen", writes,
			  tort_seq_data.a);
	if (!tort_seq_consistent(&tort_seq_data))
		tort_fail(T_SEQ, "data inconsistent at the end");
	if (gosync_mutex_is_locked(&tort_seq.writer) ||
	    (READ_ONCE(tort_seq.sequence) & 1))
		tort_fail(T_SEQ, "not idle at the end");
}

/* -------------------------------------------------------------------- map */

/*
 * Values come from a pool whose entries carry their key and a state, so a
 * load can tell a value that was never stored for its key, and free_value
 * can tell a value freed twice.  Each thread owns a key range and keeps an
 * exact reference of it; a range of shared keys is raced over by everyone.
 */
#define TORT_MAP_KEYS 48	/* per thread */
#define TORT_MAP_SHARED 64
#define TORT_MAP_POOL 65536
#define TORT_KEY_MAX 64

enum { TV_POOL, TV_OUT, TV_MAP };

struct tort_val {
	u32 key;
	atomic_t state;
};

static struct gosync_map tort_map;
static struct tort_val *tort_pool;
static u32 *tort_pool_fifo;
static unsigned int tort_pool_head, tort_pool_tail;	/* free: head..tail */
static DEFINE_SPINLOCK(tort_pool_lock);
static atomic_long_t tort_map_freed;	/* values the map gave back */
static struct tort_val **tort_map_ref;	/* [thread][key] */

static struct tort_val *tort_val_get(u32 key)
{
	struct tort_val *v = NULL;
	unsigned long flags;

	spin_lock_irqsave(&tort_pool_lock, flags);
	if (tort_pool_head != tort_pool_tail)
		v = &tort_pool[tort_pool_fifo[tort_pool_head++ % TORT_MAP_POOL]];
	spin_unlock_irqrestore(&tort_pool_lock, flags);
	if (v) {
		v->key = key;
		/* The map may free it as soon as it is stored: mark it first. */
		atomic_set(&v->state, TV_MAP);
	}
	return v;
}

static void tort_val_put(struct tort_val *v)
{
	unsigned long flags;

	atomic_set(&v->state, TV_POOL);
	spin_lock_irqsave(&tort_pool_lock, flags);
	tort_pool_fifo[tort_pool_tail++ % TORT_MAP_POOL] = v - tort_pool;
	spin_unlock_irqrestore(&tort_pool_lock, flags);
}

static bool tort_val_valid(const void *p)
{
	const struct tort_val *v = p;

	return v >= tort_pool && v < tort_pool + TORT_MAP_POOL;
}

/* The map's free_value: exactly once per value that left the map. */
static void tort_map_free_value(void *p)
{
	struct tort_val *v = p;

	if (!tort_val_valid(p)) {
		tort_fail(T_MAP, "free_value(%p): never a value", p);
		return;
	}
	if (atomic_cmpxchg(&v->state, TV_MAP, TV_OUT) != TV_MAP) {
		tort_fail(T_MAP, "value of key %u freed twice", v->key);
		return;
	}
	atomic_long_inc(&tort_map_freed);
	tort_val_put(v);
}

/* Key bytes: the id, then a filler whose length depends on the id. */
static size_t tort_key(u32 id, u8 *buf)
{
	size_t len = 4 + id % 29;

	if (id % 97 == 5)
		len = TORT_KEY_MAX;
	memcpy(buf, &id, 4);
	memset(buf + 4, id & 0xff, len - 4);
	return len;
}

static void tort_map_check_loaded(u32 id, void *p, const char *what)
{
	struct tort_val *v = p;

	if (!tort_val_valid(p))
		tort_fail(T_MAP, "%s of key %u gave %p, never stored", what,
			  id, p);
	else if (v->key != id)
		tort_fail(T_MAP, "%s of key %u gave a value of key %u", what,
			  id, v->key);
	else if (atomic_read(&v->state) != TV_MAP)
		tort_fail(T_MAP, "%s of key %u gave a freed value", what, id);
}

struct tort_range_arg {
	u32 base;
	struct tort_val **ref;
	unsigned long seen[BITS_TO_LONGS(TORT_MAP_KEYS)];
	unsigned int mine;
	unsigned int all;
};

static bool tort_map_range_fn(const void *key, size_t len, void *value,
			      void *arg)
{
	struct tort_range_arg *r = arg;
	u8 expect[TORT_KEY_MAX];
	u32 id;

	r->all++;
	if (len < 4 || len > TORT_KEY_MAX) {
		tort_fail(T_MAP, "range: key of length %zu", len);
		return true;
	}
	memcpy(&id, key, 4);
	if (tort_key(id, expect) != len || memcmp(expect, key, len)) {
		tort_fail(T_MAP, "range: key %u corrupted", id);
		return true;
	}
	tort_map_check_loaded(id, value, "range");
	if (id >= r->base && id < r->base + TORT_MAP_KEYS && r->ref) {
		unsigned int i = id - r->base;

		if (__test_and_set_bit(i, r->seen))
			tort_fail(T_MAP, "range visited key %u twice", id);
		if (value != r->ref[i])
			tort_fail(T_MAP, "range: key %u has a value not stored",
				  id);
		r->mine++;
	}
	return true;
}

static unsigned int tort_map_ref_count(struct tort_val **ref)
{
	unsigned int i, n = 0;

	for (i = 0; i < TORT_MAP_KEYS; i++)
		n += !!ref[i];
	return n;
}

/* Operations on a key only this thread writes: the reference is exact. */
static void tort_map_owned_op(struct tort_thread *t)
{
	struct tort_val **ref = &tort_map_ref[t->id * TORT_MAP_KEYS];
	u32 base = TORT_MAP_SHARED + t->id * TORT_MAP_KEYS;
	unsigned int i = tort_rand(TORT_MAP_KEYS);
	struct tort_val *cur = ref[i], *nv = NULL;
	u32 id = base + i;
	u8 key[TORT_KEY_MAX];
	size_t len = tort_key(id, key);
	void *got = NULL;
	bool armed = false, fired, ok;
	int op = tort_rand(11), ret = 0;

	if (op >= 2 && op <= 7) {
		nv = tort_val_get(id);
		if (!nv)
			return;
		armed = tort_inject_begin(1 + tort_rand(3));
	}
	switch (op) {
	case 0:
	case 1:
		ok = gosync_map_load(&tort_map, key, len, &got);
		if (ok != !!cur || (ok && got != cur))
			tort_fail(T_MAP, "load of key %u: %d %p, stored %p", id,
				  ok, got, cur);
		break;
	case 2:
		ret = gosync_map_store(&tort_map, key, len, nv);
		if (!ret) {
			ref[i] = nv;
			nv = NULL;
		}
		break;
	case 3:
		ret = gosync_map_load_or_store(&tort_map, key, len, nv, &got);
		if (ret == 1 && (!cur || got != cur))
			tort_fail(T_MAP, "load_or_store of key %u loaded %p, stored %p",
				  id, got, cur);
		if (!ret) {
			if (cur)
				tort_fail(T_MAP, "load_or_store of key %u stored over %p",
					  id, cur);
			ref[i] = nv;
			nv = NULL;
		}
		break;
	case 4:
		ret = gosync_map_swap(&tort_map, key, len, nv, &got);
		if (ret >= 0 && (ret != !!cur || (cur && got != cur)))
			tort_fail(T_MAP, "swap of key %u: %d %p, stored %p", id,
				  ret, got, cur);
		if (ret >= 0) {
			ref[i] = nv;
			nv = NULL;
		}
		break;
	case 5:
	case 6:
		ok = gosync_map_compare_and_swap(&tort_map, key, len,
						 op == 5 ? cur : nv, nv);
		fired = tort_inject_end(armed);
		armed = false;
		if (op == 5 && cur && !ok && !fired)
			tort_fail(T_MAP, "compare_and_swap of key %u failed on the stored value",
				  id);
		if (ok && (op == 6 || !cur))
			tort_fail(T_MAP, "compare_and_swap of key %u swapped a value not stored",
				  id);
		if (ok) {
			ref[i] = nv;
			nv = NULL;
		} else if (fired) {
			ret = -ENOMEM;
		}
		break;
	case 7: {
		void *old = tort_one_in(2) ? (void *)cur : nv;

		ok = gosync_map_compare_and_delete(&tort_map, key, len, old);
		if (ok != (cur && old == cur))
			tort_fail(T_MAP, "compare_and_delete of key %u said %d, stored %p",
				  id, ok, cur);
		if (ok)
			ref[i] = NULL;
		else if (cur && gosync_map_load(&tort_map, key, len, &got) &&
			 got != cur)
			tort_fail(T_MAP, "key %u changed by a failed compare_and_delete",
				  id);
		break;
	}
	case 8:
		ok = gosync_map_load_and_delete(&tort_map, key, len, &got);
		if (ok != !!cur || (ok && got != cur))
			tort_fail(T_MAP, "load_and_delete of key %u: %d %p, stored %p",
				  id, ok, got, cur);
		ref[i] = NULL;
		break;
	case 9:
		ok = gosync_map_delete(&tort_map, key, len);
		if (ok != !!cur)
			tort_fail(T_MAP, "delete of key %u said %d, stored %p", id,
				  ok, cur);
		ref[i] = NULL;
		break;
	default: {
		struct tort_range_arg r = { .base = base, .ref = ref };

		gosync_map_range(&tort_map, tort_map_range_fn, &r);
		if (r.mine != tort_map_ref_count(ref))
			tort_fail(T_MAP, "range saw %u of thread %d's %u keys",
				  r.mine, t->id, tort_map_ref_count(ref));
		break;
	}
	}
	tort_inject_end(armed);
	if (ret == -ENOMEM) {
		atomic_long_inc(&tort[T_MAP].enomem);
		/* A failed operation leaves the map exactly as it was. */
		ok = gosync_map_load(&tort_map, key, len, &got);
		if (ok != !!cur || (ok && got != cur))
			tort_fail(T_MAP, "failed op %d changed key %u: %d %p, was %p",
				  op, id, ok, got, cur);
	} else if (ret < 0) {
		tort_fail(T_MAP, "op %d on key %u returned %d", op, id, ret);
	}
	if (nv)
		tort_val_put(nv);
	WRITE_ONCE(t->ops, t->ops + 1);
}

/* Shared keys: any thread writes them; check only what a load may see. */
static void tort_map_shared_op(struct tort_thread *t)
{
	u32 id = tort_rand(TORT_MAP_SHARED);
	u8 key[TORT_KEY_MAX];
	size_t len = tort_key(id, key);
	struct tort_val *nv;
	void *got;
	int ret;

	switch (tort_rand(4)) {
	case 0:
		rcu_read_lock();
		if (gosync_map_load(&tort_map, key, len, &got))
			tort_map_check_loaded(id, got, "load");
		rcu_read_unlock();
		break;
	case 1:
		rcu_read_lock();
		ret = gosync_map_load(&tort_map, key, len, &got);
		rcu_read_unlock();
		/* got may be freed by now: only compared, never read. */
		if (ret)
			gosync_map_compare_and_delete(&tort_map, key, len, got);
		break;
	case 2:
		gosync_map_delete(&tort_map, key, len);
		break;
	default:
		nv = tort_val_get(id);
		if (!nv)
			break;
		if (tort_one_in(2))
			ret = gosync_map_store(&tort_map, key, len, nv);
		else
			ret = gosync_map_swap(&tort_map, key, len, nv, &got);
		if (ret < 0) {
			if (ret != -ENOMEM)
				tort_fail(T_MAP, "store of shared key %u returned %d",
					  id, ret);
			tort_val_put(nv);
		}
		break;
	}
	WRITE_ONCE(t->ops, t->ops + 1);
}

static void tort_map_op(struct tort_thread *t)
{
	if (tort_one_in(4))
		tort_map_shared_op(t);
	else
		tort_map_owned_op(t);
}

static void tort_map_final(void)
{
	struct tort_range_arg r = {};
	unsigned int i, expect = 0;
	unsigned int leaked = 0;
	u8 key[TORT_KEY_MAX];
	size_t len;
	void *got;

	for (i = 0; i < tort[T_MAP].nr; i++)
		expect += tort_map_ref_count(&tort_map_ref[i * TORT_MAP_KEYS]);
	for (i = 0; i < TORT_MAP_SHARED; i++) {
		len = tort_key(i, key);
		expect += gosync_map_load(&tort_map, key, len, &got);
	}
	gosync_map_range(&tort_map, tort_map_range_fn, &r);
	if (gosync_map_len(&tort_map) != expect || r.all != expect)
		tort_fail(T_MAP, "len %zu and range %u, %u keys stored",
			  gosync_map_len(&tort_map), r.all, expect);
	gosync_map_clear(&tort_map);
	if (gosync_map_len(&tort_map))
		tort_fail(T_MAP, "len %zu after clear",
			  gosync_map_len(&tort_map));
	gosync_map_destroy(&tort_map);
	/* Every value has been handed to free_value when destroy returns. */
	for (i = 0; i < TORT_MAP_POOL; i++)
		leaked += atomic_read(&tort_pool[i].state) == TV_MAP;
	if (leaked)
		tort_fail(T_MAP, "%u values never freed after destroy (%ld freed)",
			  leaked, atomic_long_read(&tort_map_freed));
}

/* ---------------------------------------------------------- the framework */

static bool tort_thread_stopping(struct tort_thread *t)
{
	if (!READ_ONCE(tort_stop))
		return false;
	/* Helpers serve the coordinators until the last one has finished. */
	return !(t->prim == T_WG && t->helper && atomic_read(&tort_wg_live));
}

static int tort_thread_main(void *arg)
{
	struct tort_thread *t = arg;

	if (t->signalled) {
		allow_signal(SIGUSR1);
		allow_signal(SIGKILL);
	}
	while (!tort_thread_stopping(t)) {
		tort_stutter_wait();
		if (t->prim == T_WG && t->helper)
			tort_wg_helper_op(t);
		else if (t->prim == T_SEQ && t->helper)
			tort_seq_reader_op(t);
		else
			tort[t->prim].op(t);
		cond_resched();
	}
	if (t->prim == T_WG && !t->helper)
		atomic_dec(&tort_wg_live);
	if (t->prim == T_ONCE)
		wake_up_all(&tort_once_wq);
	tort_clear_signals();
	complete(&t->done);
	while (!kthread_should_stop())
		schedule_timeout_idle(HZ / 10);
	return 0;
}

/* Send SIGUSR1 or SIGKILL to a random lock or wait thread. */
static int tort_signaller_main(void *unused)
{
	while (!kthread_should_stop()) {
		enum tort_prim p = tort_one_in(2) ? T_MUTEX : T_WG;
		struct tort_thread *t;

		schedule_timeout_idle(1 + tort_rand(2));
		if (!tort[p].enabled || READ_ONCE(tort_stop))
			continue;
		t = &tort[p].threads[tort_rand(tort[p].nr)];
		if (t->signalled && !completion_done(&t->done))
			send_sig(tort_one_in(2) ? SIGKILL : SIGUSR1, t->task, 1);
	}
	return 0;
}

/* Take a random CPU other than the boot CPU offline, and bring it back. */
static int tort_onoff_main(void *unused)
{
	int cpu;

	while (!kthread_should_stop()) {
		schedule_timeout_idle(msecs_to_jiffies(onoff_interval));
		if (kthread_should_stop() || num_online_cpus() < 2)
			continue;
		cpu = 1 + tort_rand(num_possible_cpus() - 1);
		if (!cpu_online(cpu))
			continue;
		tort_onoff_tries++;
		if (remove_cpu(cpu))
			continue;
		schedule_timeout_idle(msecs_to_jiffies(onoff_interval) / 2);
		if (add_cpu(cpu))
			pr_err("could not bring CPU %d back online\n", cpu);
		else
			tort_onoff_ok++;
	}
	return 0;
}

/* Move every thread to all online CPUs but one, locktorture's shuffle. */
static void tort_shuffle(void)
{
	cpumask_var_t mask;
	enum tort_prim p;
	int i, idle;

	if (!alloc_cpumask_var(&mask, GFP_KERNEL))
		return;
	cpus_read_lock();
	cpumask_copy(mask, cpu_online_mask);
	if (cpumask_weight(mask) > 1) {
		idle = cpumask_nth(tort_rand(cpumask_weight(mask)), mask);
		cpumask_clear_cpu(idle, mask);
	}
	for (p = 0; p < T_NR; p++)
		for (i = 0; i < tort[p].nr; i++)
			if (tort[p].threads[i].task)
				set_cpus_allowed_ptr(tort[p].threads[i].task,
						     mask);
	cpus_read_unlock();
	free_cpumask_var(mask);
	tort_shuffles++;
}

/*
 * A thread blocked for good (a lost wakeup, a mutex nobody will unlock)
 * makes no progress: say so and end the run now rather than at duration.
 * Helpers are left out: when they idle, their coordinators stall too.
 */
static bool tort_stalled(void)
{
	bool stalled = false;
	enum tort_prim p;
	int i;

	for (p = 0; p < T_NR; p++) {
		for (i = 0; i < tort[p].nr; i++) {
			struct tort_thread *t = &tort[p].threads[i];
			unsigned long ops = READ_ONCE(t->ops);

			if (ops != t->seen_ops || (p == T_WG && t->helper) ||
			    !t->seen_at) {
				t->seen_ops = ops;
				t->seen_at = jiffies;
			} else if (time_after(jiffies, t->seen_at +
					      stall_timeout * HZ)) {
				tort_fail(p, "thread %d made no progress in %d s",
					  i, stall_timeout);
				stalled = true;
			}
		}
	}
	return stalled;
}

static void tort_print_stats(bool final)
{
	enum tort_prim p;
	int i;

	for (p = 0; p < T_NR; p++) {
		struct tort_prim_state *s = &tort[p];
		unsigned long sum = 0, max = 0, min = ULONG_MAX, delta;
		bool starved = false;
		long fails = atomic_long_read(&s->fails);

		if (!s->enabled)
			continue;
		for (i = 0; i < s->nr; i++) {
			struct tort_thread *t = &s->threads[i];
			unsigned long ops = READ_ONCE(t->ops);

			sum += ops;
			max = max(max, ops);
			min = min(min, ops);
			delta = ops - t->last_ops;
			t->last_ops = ops;
			/* No progress over a whole interval: starving. */
			if (!final && !delta && !READ_ONCE(tort_paused))
				starved = true;
		}
		pr_info("%s: Total: %lu Max/Min: %lu/%lu %s Give-ups: %ld ENOMEM: %ld Timer reads: %ld Fail: %ld %s\n",
			tort_names[p], sum, max, min, starved ? "???" : "",
			atomic_long_read(&s->giveups),
			atomic_long_read(&s->enomem),
			p == T_SEQ ? atomic_long_read(&tort_seq_irq_reads) : 0,
			fails, fails ? "!!!" : "");
	}
}

/* Stop every thread; true when all of them stopped in time. */
static bool tort_stop_threads(void)
{
	unsigned long deadline;
	enum tort_prim p;
	bool all = true;
	int i;

	WRITE_ONCE(tort_stop, true);
	wake_up_all(&tort_pause_wq);
	wake_up_all(&tort_once_wq);
	if (tort_sig_task)
		kthread_stop(tort_sig_task);
	tort_sig_task = NULL;
	deadline = jiffies + 20 * HZ;
	for (p = 0; p < T_NR; p++) {
		for (i = 0; i < tort[p].nr; i++) {
			struct tort_thread *t = &tort[p].threads[i];

			if (!t->task)
				continue;
			while (!completion_done(&t->done) &&
			       time_before(jiffies, deadline))
				schedule_timeout_idle(HZ / 20);
			if (completion_done(&t->done)) {
				kthread_stop(t->task);
				t->task = NULL;
				continue;
			}
			all = false;
			atomic_inc(&tort_stuck);
			pr_err("FAIL %s: thread %d%s never stopped (blocked: lost wakeup?)\n",
			       tort_names[p], i, t->helper ? " (helper)" : "");
			sched_show_task(t->task);
		}
	}
	if (tort_onoff_task)
		kthread_stop(tort_onoff_task);
	tort_onoff_task = NULL;
	return all;
}

static void tort_verdict(void)
{
	unsigned long ops = 0, giveups = 0, enomem = 0, fails = 0;
	enum tort_prim p;

	if (tort_stop_threads()) {
		for (p = 0; p < T_NR; p++)
			if (tort[p].enabled && tort[p].final)
				tort[p].final();
	} else {
		/* Blocked threads still use the module: keep it loaded. */
		__module_get(THIS_MODULE);
	}
	tort_print_stats(true);
	for (p = 0; p < T_NR; p++) {
		if (!tort[p].enabled)
			continue;
		ops += tort_sum_ops(p, false) + tort_sum_ops(p, true);
		giveups += atomic_long_read(&tort[p].giveups);
		enomem += atomic_long_read(&tort[p].enomem);
		fails += atomic_long_read(&tort[p].fails);
	}
	if (fail_alloc && !enomem) {
		pr_err("FAIL: fail_alloc=%d but no allocation failed (is failslab's ignore-gfp-wait N?)\n",
		       fail_alloc);
		fails++;
	}
	pr_info("End of test: %s: primitive=%s nthreads=%d seconds=%lu ops=%lu give-ups=%lu enomem=%lu fail=%lu stuck=%d onoff=%lu/%lu stutters=%lu shuffles=%lu delays=%llu\n",
		fails || atomic_read(&tort_stuck) ? "FAILURE" : "SUCCESS",
		primitive, nthreads, (jiffies - tort_start) / HZ, ops,
		giveups, enomem, fails, atomic_read(&tort_stuck),
		tort_onoff_ok, tort_onoff_tries, tort_stutters,
		tort_shuffles, tort_delay_hits() - tort_delay_hits_start);
	WRITE_ONCE(finished, true);
}

static int tort_ctl_main(void *unused)
{
	unsigned long end = jiffies + duration * HZ;
	unsigned long next_stat = jiffies + stat_interval * HZ;
	unsigned long next_stutter = jiffies + stutter * HZ;
	unsigned long next_shuffle = jiffies +
		msecs_to_jiffies(shuffle_interval);
	unsigned long next_delay = jiffies + TORT_DELAY_PERIOD;
	bool delays_armed = false;

	while (!kthread_should_stop() && (!duration || time_before(jiffies, end))) {
		schedule_timeout_idle(HZ / 20);
		if (time_after(jiffies, next_delay)) {
			delays_armed = !delays_armed;
			tort_delay_arm(delays_armed);
			next_delay = jiffies + TORT_DELAY_PERIOD;
		}
		if (stutter && time_after(jiffies, next_stutter)) {
			if (!READ_ONCE(tort_paused)) {
				WRITE_ONCE(tort_paused, true);
				next_stutter = jiffies + HZ / 2;
			} else {
				/* Everyone at once: the thundering herd. */
				WRITE_ONCE(tort_paused, false);
				wake_up_all(&tort_pause_wq);
				next_stutter = jiffies + stutter * HZ;
				tort_stutters++;
			}
		}
		if (shuffle_interval && time_after(jiffies, next_shuffle)) {
			tort_shuffle();
			next_shuffle = jiffies +
				msecs_to_jiffies(shuffle_interval);
		}
		if (stat_interval && time_after(jiffies, next_stat)) {
			tort_print_stats(false);
			next_stat = jiffies + stat_interval * HZ;
		}
		if (stall_timeout > 0 && tort_stalled())
			break;
	}
	tort_delay_arm(false);
	WRITE_ONCE(tort_paused, false);
	tort_verdict();
	while (!kthread_should_stop())
		schedule_timeout_idle(HZ / 10);
	return 0;
}

static bool tort_selected(const char *name)
{
	const char *s = primitive;
	size_t n = strlen(name);

	if (!strcmp(primitive, "all"))
		return true;
	while (s && *s) {
		if (!strncmp(s, name, n) && (s[n] == ',' || !s[n] || s[n] == '\n'))
			return true;
		s = strchr(s, ',');
		if (s)
			s++;
	}
	return false;
}

static int tort_map_setup(void)
{
	struct gosync_map_params params = {
		.gfp = GFP_KERNEL,
		.free_value = tort_map_free_value,
	};
	unsigned int i;

	tort_pool = vzalloc(array_size(TORT_MAP_POOL, sizeof(*tort_pool)));
	tort_pool_fifo = vmalloc(array_size(TORT_MAP_POOL, sizeof(u32)));
	tort_map_ref = vzalloc(array_size(tort[T_MAP].nr * TORT_MAP_KEYS,
					  sizeof(*tort_map_ref)));
	if (!tort_pool || !tort_pool_fifo || !tort_map_ref)
		return -ENOMEM;
	for (i = 0; i < TORT_MAP_POOL; i++)
		tort_pool_fifo[i] = i;
	tort_pool_head = 0;
	tort_pool_tail = TORT_MAP_POOL;
	return gosync_map_init(&tort_map, &params);
}

static void tort_free_all(void)
{
	enum tort_prim p;

	for (p = 0; p < T_NR; p++) {
		kfree(tort[p].threads);
		tort[p].threads = NULL;
		tort[p].nr = 0;
	}
	kfree(tort_wgs);
	vfree(tort_pool);
	vfree(tort_pool_fifo);
	vfree(tort_map_ref);
}

static int tort_setup_prim(enum tort_prim p, int nr)
{
	struct tort_prim_state *s = &tort[p];
	int i;

	s->threads = kcalloc(nr, sizeof(*s->threads), GFP_KERNEL);
	if (!s->threads)
		return -ENOMEM;
	s->nr = nr;
	for (i = 0; i < nr; i++) {
		struct tort_thread *t = &s->threads[i];

		t->prim = p;
		t->id = i;
		init_completion(&t->done);
	}
	switch (p) {
	case T_MUTEX:
		s->op = tort_mutex_op;
		s->final = tort_mutex_final;
		gosync_mutex_init(&tort_mutex);
		for (i = 0; i < nr; i++)
			s->threads[i].signalled = give_up && i % 2;
		break;
	case T_WG:
		/* Half coordinators (ids first), half helpers. */
		tort_wg_nr = max(nr / 2, 1);
		tort_wgs = kcalloc(tort_wg_nr, sizeof(*tort_wgs), GFP_KERNEL);
		if (!tort_wgs)
			return -ENOMEM;
		atomic_set(&tort_wg_live, tort_wg_nr);
		for (i = 0; i < nr; i++) {
			s->threads[i].helper = i >= tort_wg_nr;
			s->threads[i].signalled = give_up && i < tort_wg_nr;
			if (i < tort_wg_nr && i % 2)
				gosync_wg_init(&tort_wgs[i].wg);
		}
		s->op = tort_wg_op;
		s->final = tort_wg_final;
		break;
	case T_ONCE:
		s->op = tort_once_op;
		break;
	case T_SEQ:
		gosync_seqlock_init(&tort_seq);
		tort_seq_data.b = ~0UL;	/* consistent for a == 0 */
		for (i = 0; i < nr; i++)
			s->threads[i].helper = i >= max(nr / 4, 1);
		s->op = tort_seq_writer_op;
		s->final = tort_seq_final;
		break;
	case T_MAP:
		s->op = tort_map_op;
		s->final = tort_map_final;
		return tort_map_setup();
	default:
		break;
	}
	return 0;
}

static int __init gosync_torture_init(void)
{
	int nr = nthreads > 0 ? nthreads : 2 * num_online_cpus();
	enum tort_prim p;
	int i, err = 0;

	if (nr < 2)
		nr = 2;
	nthreads = nr;
	for (p = 0; p < T_NR; p++)
		tort[p].enabled = tort_selected(tort_names[p]);
	for (p = 0; p < T_NR && !err; p++)
		if (tort[p].enabled)
			err = tort_setup_prim(p, nr);
	if (err) {
		tort_free_all();
		return err;
	}
	pr_info("Start of test: primitive=%s nthreads=%d duration=%d long_hold=%d give_up=%d stutter=%d onoff_interval=%d shuffle_interval=%d fail_alloc=%d\n",
		primitive, nthreads, duration, long_hold, give_up, stutter,
		onoff_interval, shuffle_interval, fail_alloc);
	tort_start = jiffies;
	tort_delay_hits_start = tort_delay_hits();
	for (p = 0; p < T_NR; p++) {
		for (i = 0; i < tort[p].nr; i++) {
			struct tort_thread *t = &tort[p].threads[i];

			t->task = kthread_run(tort_thread_main, t,
					      "gosync_tort_%s/%d",
					      tort_names[p], i);
			if (IS_ERR(t->task)) {
				err = PTR_ERR(t->task);
				t->task = NULL;
				break;
			}
		}
		if (err)
			break;
	}
	if (!err && tort[T_SEQ].enabled) {
		for (i = 0; i < TORT_SEQ_TIMERS; i++) {
			hrtimer_init(&tort_seq_timers[i], CLOCK_MONOTONIC,
				     HRTIMER_MODE_REL_HARD);
			tort_seq_timers[i].function = tort_seq_timer_fn;
			hrtimer_start(&tort_seq_timers[i],
				      ns_to_ktime((i + 1) * NSEC_PER_MSEC),
				      HRTIMER_MODE_REL_HARD);
		}
		tort_seq_timers_on = true;
	}
	if (!err && give_up) {
		tort_sig_task = kthread_run(tort_signaller_main, NULL,
					    "gosync_tort_sig");
		if (IS_ERR(tort_sig_task)) {
			err = PTR_ERR(tort_sig_task);
			tort_sig_task = NULL;
		}
	}
	if (!err && onoff_interval > 0) {
		tort_onoff_task = kthread_run(tort_onoff_main, NULL,
					      "gosync_tort_onoff");
		if (IS_ERR(tort_onoff_task)) {
			err = PTR_ERR(tort_onoff_task);
			tort_onoff_task = NULL;
		}
	}
	if (!err) {
		tort_ctl_task = kthread_run(tort_ctl_main, NULL,
					    "gosync_tort_ctl");
		if (IS_ERR(tort_ctl_task)) {
			err = PTR_ERR(tort_ctl_task);
			tort_ctl_task = NULL;
		}
	}
	if (err) {
		/* Partial start: stop what runs, then give everything back. */
		pr_err("could not start: %d\n", err);
		tort_stop_threads();
		if (tort_seq_timers_on)
			for (i = 0; i < TORT_SEQ_TIMERS; i++)
				hrtimer_cancel(&tort_seq_timers[i]);
		if (tort[T_MAP].enabled)
			gosync_map_destroy(&tort_map);
		tort_free_all();
		return err;
	}
	return 0;
}

static void __exit gosync_torture_exit(void)
{
	/* Ends the run early if it is still going; the verdict comes first. */
	kthread_stop(tort_ctl_task);
	tort_free_all();
}

module_init(gosync_torture_init);
module_exit(gosync_torture_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("gosync torture test, after kernel/locking/locktorture.c");
