// SPDX-License-Identifier: GPL-2.0
/*
 * gosync waitgroup: Go's sync.WaitGroup.
 *
 * The state word (gosync_internal.h) packs the counter, the number of
 * sleeping waiters and a release generation.  wait() registers as a waiter
 * only while the counter is above zero, and remembers the generation it
 * registered under.  The add() that brings the counter to zero sees the
 * waiters in the same atomic step, and in that step takes them all off the
 * word and bumps the generation: that one compare-and-exchange is the
 * release.  A waiter is released once the generation differs from its
 * own, so it cannot miss its release, nor be released twice, nor take a
 * later round's zero for its own.  add(0) changes nothing at all.
 *
 * The generation has 8 bits: a released waiter that has not run again
 * while 255 further releases happened sees its own generation and sleeps
 * on.  Every such round began before that waiter returned, which is
 * misuse, but only a round whose raised counter that waiter sees is
 * reported: this one may go unreported.
 *
 * Lifetime: the releasing compare-and-exchange is the last access of
 * add() or done() to the waitgroup.  Waiters sleep in gosync's parking
 * table (kmod/wait.c), keyed by the waitgroup's address, and
 * gosync_park_wake_all() only hashes and compares that address.  So the
 * waitgroup may be freed as soon as the wait()s it released have returned,
 * even while the done() that released them is still waking them up.
 *
 * Context: the release takes only a raw spinlock, with interrupts saved,
 * and wakes tasks after dropping it, with wake_up_process() and a task
 * reference each (put_task_struct()): add() and done() are usable in
 * hard interrupts and with interrupts off, on PREEMPT_RT too, where a
 * spinlock_t (a wait_queue_head_t's, for one) sleeps.
 *
 * Ordering: every state change is a fully ordered atomic, and a waiter
 * reads the generation that released it with acquire, so each done()
 * happens-before the return of the wait() it releases.  A waiter tests
 * the generation under the parking bucket's lock, and the releaser takes
 * that lock after its compare-and-exchange: either the test sees the new
 * generation or the releaser finds the waiter queued, so no wakeup is
 * lost.
 */

#include <linux/export.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/sched/debug.h>
#include <linux/slab.h>
#include <linux/threads.h>
#include <linux/workqueue.h>

#include <gosync/waitgroup.h>
#include "gosync_internal.h"
#include "gosync_trace.h"

/*
 * gosync_wg_go() work, on a workqueue of its own so that it never queues
 * behind (or in front of) anything else, with GOSYNC_WG_GO_MAX_ACTIVE
 * functions running at once.  Unbound: the functions may sleep.
 */
static struct workqueue_struct *gosync_wg_go_wq;

/**
 * gosync_wg_init() - set a waitgroup's counter to 0
 * @wg: the waitgroup; must not be in use
 */
void gosync_wg_init(struct gosync_waitgroup *wg)
{
	atomic64_set(&wg->state, 0);
}
EXPORT_SYMBOL_GPL(gosync_wg_init);

/*
 * The per-CPU counters that the inline fast paths of gosync_wg_add(),
 * gosync_wg_done() and gosync_wg_wait() count into: the very counters
 * behind "wg.add" and "wg.wait", so the stats file reads the same sums.
 */
u64 __percpu *const __gosync_wg_add_stat =
	&gosync_stat_cpu.count[GOSYNC_STAT_WG_ADD];
EXPORT_SYMBOL_GPL(__gosync_wg_add_stat);
u64 __percpu *const __gosync_wg_wait_stat =
	&gosync_stat_cpu.count[GOSYNC_STAT_WG_WAIT];
EXPORT_SYMBOL_GPL(__gosync_wg_wait_stat);

/*
 * The most add()s that can be between their read of the state word and
 * their atomic add at once: one per task, and on every CPU one per
 * interrupt level a task can be interrupted at (softirq, hardirq, NMI),
 * rounded up.
 */
#define GOSYNC_WG_MAX_ADDERS	((u64)PID_MAX_LIMIT + 4ULL * NR_CPUS)

/**
 * __gosync_wg_add() - gosync_wg_add() beyond its inline fast path
 * @wg: the waitgroup
 * @delta: the change
 *
 * A compare-and-exchange loop that computes the new state from the exact
 * old one: it refuses a change out of range leaving the word as it was,
 * and the change that brings the counter to zero releases the waiters in
 * the same step.  Called by gosync_wg_add() and gosync_wg_done() only.
 *
 * Overflow: the fast path of gosync_wg_add() adds at most
 * GOSYNC_WG_ADD_FAST_MAX to a counter it read at most
 * GOSYNC_WG_COUNTER_MAX minus that, and this path never goes above
 * GOSYNC_WG_COUNTER_MAX.  Once the counter is above that, no add() raises
 * it but those that had read the word before: at most
 * GOSYNC_WG_MAX_ADDERS of them, GOSYNC_WG_ADD_FAST_MAX each, which still
 * fits in 32 bits (checked at build time).  So the counter never wraps.
 *
 * Context: any context.
 * Return: 0, or -EINVAL if the change was refused.
 */
int __gosync_wg_add(struct gosync_waitgroup *wg, int delta)
{
	s64 old, new;
	s64 counter;
	u32 waiters;

	BUILD_BUG_ON((u64)GOSYNC_WG_COUNTER_MAX +
		     GOSYNC_WG_MAX_ADDERS * GOSYNC_WG_ADD_FAST_MAX > S32_MAX);
	if (GOSYNC_MISUSE(!wg, GOSYNC_STAT_WG_MISUSE, "%s: NULL waitgroup\n",
			  __func__))
		return -EINVAL;
	gosync_stat_inc(GOSYNC_STAT_WG_ADD);
	/* No change: nothing to release either, whatever the word says. */
	if (!delta)
		return 0;
	old = atomic64_read(&wg->state);
	do {
		counter = (s64)gosync_wg_counter(old) + delta;
		waiters = gosync_wg_waiters(old);
		/*
		 * Only a raise is refused above GOSYNC_WG_COUNTER_MAX: raises
		 * racing on the inline path may have left the counter above
		 * it, and lowering it from there is as valid as anywhere.
		 */
		if (GOSYNC_MISUSE(counter < 0 ||
				  (delta > 0 && counter > GOSYNC_WG_COUNTER_MAX),
				  GOSYNC_STAT_WG_MISUSE,
				  "waitgroup counter %d%+d out of range\n",
				  gosync_wg_counter(old), delta))
			return -EINVAL;
		if (counter || !waiters)
			new = gosync_wg_state(counter, waiters, gosync_wg_gen(old));
		else
			new = gosync_wg_state(0, 0, gosync_wg_gen(old) + 1);
	} while (!atomic64_try_cmpxchg(&wg->state, &old, new));

	if (counter || !waiters)
		return 0;
	/*
	 * Released.  The waiters may see it, return, and free the waitgroup
	 * at once: from here on its address is only a key.
	 */
	gosync_delay_point(GOSYNC_DELAY_WG_DONE_BEFORE_WAKE);
	gosync_stat_add(GOSYNC_STAT_WG_WAKEUPS, waiters);
	gosync_park_wake_all(wg);
	return 0;
}
EXPORT_SYMBOL_GPL(__gosync_wg_add);

/**
 * gosync_wg_count() - the counter, as a snapshot
 * @wg: the waitgroup
 *
 * Return: the number of add()s not yet matched by done()s.
 */
unsigned int gosync_wg_count(const struct gosync_waitgroup *wg)
{
	return gosync_wg_counter(atomic64_read(&wg->state));
}
EXPORT_SYMBOL_GPL(gosync_wg_count);

/*
 * Released: the generation moved on from @gen, the one registered under.
 * A gosync_park_wait() condition: @object is the waitgroup.
 */
static bool gosync_wg_released(const void *object, unsigned long gen)
{
	const struct gosync_waitgroup *wg = object;

	/* Acquire: pairs with the fully ordered add() that released. */
	return gosync_wg_gen(atomic64_read_acquire(&wg->state)) != (u8)gen;
}

/*
 * A waiter whose sleep ended early (timeout, fatal signal) takes itself
 * off the word, unless its release came first: then the zero wins and it
 * returns released.  Returns true when it left.
 */
static bool gosync_wg_leave(struct gosync_waitgroup *wg, u8 gen)
{
	s64 old = atomic64_read(&wg->state);

	do {
		if (gosync_wg_gen(old) != gen) {
			/* As gosync_wg_released(): the release happened-before. */
			smp_acquire__after_ctrl_dep();
			return false;
		}
		/* Still registered under @gen: the counter and our count are > 0. */
	} while (!atomic64_try_cmpxchg(&wg->state, &old, old - 1));
	return true;
}

/*
 * Sleep until the counter is zero.  Returns the jiffies left (at least 1)
 * when released, 0 on timeout, -EINTR on a fatal signal.
 */
static long gosync_wg_wait_common(struct gosync_waitgroup *wg,
				  unsigned int task_state, long timeout)
{
	u64 wait_start = 0, waited;
	long left = timeout;
	s64 old;
	u8 gen;

	might_sleep();
	if (GOSYNC_MISUSE(!wg, GOSYNC_STAT_WG_MISUSE, "%s: NULL waitgroup\n",
			  __func__))
		return -EINVAL;
	BUILD_BUG_ON(PID_MAX_LIMIT > GOSYNC_WG_WAITERS_MASK);
	gosync_stat_inc(GOSYNC_STAT_WG_WAIT);
	old = atomic64_read(&wg->state);
	for (;;) {
		do {
			if (!gosync_wg_counter(old)) {
				/* Acquire: pairs with the ordered add() that made zero. */
				smp_acquire__after_ctrl_dep();
				left = max(left, 1L);
				goto out;
			}
		} while (!atomic64_try_cmpxchg(&wg->state, &old, old + 1));
		gen = gosync_wg_gen(old);
		if (!wait_start) {
			wait_start = local_clock() ?: 1;
			trace_gosync_wg_wait_begin(gosync_wg_counter(old));
		}
		left = gosync_park_wait(wg, gosync_wg_released, gen,
					task_state, left);
		if (left <= 0) {
			if (gosync_wg_leave(wg, gen)) {
				left = left ? -EINTR : 0;
				goto out;
			}
			/* Released at the moment the wait ended: released. */
			left = 1;
		}
		gosync_delay_point(GOSYNC_DELAY_WG_WAIT_AFTER_WAKE);
		/* Acquire: a zero seen here may be a later round's. */
		old = atomic64_read_acquire(&wg->state);
		if (!gosync_wg_counter(old))
			break;
		/*
		 * A new round began before this wait returned: Go panics
		 * here.  Report it, and do not return while the counter this
		 * waiter sees is above zero: wait for that round too.
		 */
		GOSYNC_MISUSE(true, GOSYNC_STAT_WG_MISUSE,
			      "waitgroup reused before the previous wait returned\n");
	}
out:
	if (wait_start) {
		waited = gosync_ns_since(wait_start);
		gosync_wait_hist_add(GOSYNC_WAIT_WG, waited);
		trace_gosync_wg_wait_end(waited, left);
	}
	return left;
}

/**
 * __gosync_wg_wait() - gosync_wg_wait() beyond its inline fast path
 * @wg: the waitgroup
 *
 * Context: process context; may sleep.
 */
void __sched __gosync_wg_wait(struct gosync_waitgroup *wg)
{
	gosync_wg_wait_common(wg, TASK_UNINTERRUPTIBLE, MAX_SCHEDULE_TIMEOUT);
}
EXPORT_SYMBOL_GPL(__gosync_wg_wait);

/**
 * gosync_wg_wait_killable() - sleep until the counter is zero or a fatal signal
 * @wg: the waitgroup
 *
 * Context: process context; may sleep.
 * Return: 0 when the counter reached zero, -EINTR when killed first.
 */
int __sched gosync_wg_wait_killable(struct gosync_waitgroup *wg)
{
	long ret = gosync_wg_wait_common(wg, TASK_KILLABLE, MAX_SCHEDULE_TIMEOUT);

	return ret < 0 ? ret : 0;
}
EXPORT_SYMBOL_GPL(gosync_wg_wait_killable);

/**
 * gosync_wg_wait_timeout() - sleep until the counter is zero, for a while
 * @wg: the waitgroup
 * @timeout: jiffies to wait at most
 *
 * Like wait_event_timeout(): the counter reaching zero wins over a timeout
 * that expires at the same moment.
 *
 * Context: process context; may sleep.
 * Return: the jiffies left (at least 1) when the counter reached zero, or
 * 0 on timeout.
 */
long __sched gosync_wg_wait_timeout(struct gosync_waitgroup *wg,
				    unsigned long timeout)
{
	long ret = gosync_wg_wait_common(wg, TASK_UNINTERRUPTIBLE,
					 min_t(unsigned long, timeout,
					       MAX_SCHEDULE_TIMEOUT));

	return ret < 0 ? 0 : ret;
}
EXPORT_SYMBOL_GPL(gosync_wg_wait_timeout);

struct gosync_wg_work {
	struct work_struct work;
	struct gosync_waitgroup *wg;
	void (*fn)(void *arg);
	void *arg;
	struct module *owner;
};

static void gosync_wg_work_run(struct work_struct *work)
{
	struct gosync_wg_work *item = container_of(work, struct gosync_wg_work, work);
	struct gosync_waitgroup *wg = item->wg;
	struct module *owner = item->owner;

	item->fn(item->arg);
	kfree(item);
	gosync_wg_done(wg);
	/*
	 * Last: the owner cannot begin to unload before this, so neither its
	 * code (@fn) nor its data (the waitgroup may be a static of it) went
	 * away under us.
	 */
	module_put(owner);
}

/**
 * __gosync_wg_go() - run @fn(@arg) on a worker, counted by @wg; use gosync_wg_go()
 * @wg: the waitgroup; its counter is raised before this returns and
 *      lowered after @fn returns
 * @fn: the function; may sleep
 * @arg: its argument
 * @owner: the module of @fn, pinned until @fn returned and @wg was lowered;
 *         a library that queues functions on behalf of other modules
 *         passes their module here, not its own
 *
 * The work runs on an unbound workqueue of gosync's own, created with
 * max_active GOSYNC_WG_GO_MAX_ACTIVE; more functions wait in a queue.  How
 * many run at once depends on the kernel.  Before Linux 6.9, and on any
 * machine with one NUMA node, GOSYNC_WG_GO_MAX_ACTIVE do.  Since 6.9 an
 * unbound workqueue splits max_active among NUMA nodes in proportion to
 * their online CPUs, at least WQ_DFL_MIN_ACTIVE (8) per node, and counts
 * each function against the node of the CPU that queued it.  Functions
 * that wait for each other deadlock once they outnumber that limit: up
 * to GOSYNC_WG_GO_MAX_ACTIVE of them are safe on one node, only 8 per node
 * in general.  Unloading gosync waits for the queued work.
 *
 * Context: process context (allocates with GFP_KERNEL).
 * Return: 0; -ENOMEM with the counter unchanged; -ENODEV, changing
 * nothing, when @owner is being unloaded; -EINVAL for bad input.
 */
int __gosync_wg_go(struct gosync_waitgroup *wg, void (*fn)(void *arg),
		   void *arg, struct module *owner)
{
	struct gosync_wg_work *item;
	int err;

	if (GOSYNC_MISUSE(!wg || !fn, GOSYNC_STAT_WG_MISUSE,
			  "%s: NULL waitgroup or function\n", __func__))
		return -EINVAL;
	if (!try_module_get(owner))
		return -ENODEV;
	item = kmalloc(sizeof(*item), GFP_KERNEL);
	if (!item) {
		err = -ENOMEM;
		goto out_put;
	}
	err = gosync_wg_add(wg, 1);
	if (err) {
		kfree(item);
		goto out_put;
	}
	INIT_WORK(&item->work, gosync_wg_work_run);
	item->wg = wg;
	item->fn = fn;
	item->arg = arg;
	item->owner = owner;
	gosync_stat_inc(GOSYNC_STAT_WG_GO);
	queue_work(gosync_wg_go_wq, &item->work);
	return 0;

out_put:
	module_put(owner);
	return err;
}
EXPORT_SYMBOL_GPL(__gosync_wg_go);

int gosync_wg_module_init(void)
{
	BUILD_BUG_ON(GOSYNC_WG_GO_MAX_ACTIVE > WQ_MAX_ACTIVE);
	gosync_wg_go_wq = alloc_workqueue("gosync_wg_go", WQ_UNBOUND,
					  GOSYNC_WG_GO_MAX_ACTIVE);
	return gosync_wg_go_wq ? 0 : -ENOMEM;
}

void gosync_wg_module_exit(void)
{
	/* Drains: queued work finishes before gosync's code goes away. */
	destroy_workqueue(gosync_wg_go_wq);
}
