// SPDX-License-Identifier: GPL-2.0
/*
 * gosync waitgroup: Go's sync.WaitGroup on the gosync parking table.
 *
 * The state word packs the counter (high 32 bits, signed) and the number of
 * sleeping waiters (low 32 bits).  wait() registers as a waiter only while
 * the counter is above zero; the add() that brings the counter to zero sees
 * the waiters in the same atomic step, takes them off the word and gives
 * each one unit of the waitgroup's semaphore.  A waiter therefore never
 * misses the zero it waits for, even if the waitgroup is reused at once.
 *
 * Ordering: every state change is a fully ordered atomic, and the units
 * pass through the parking bucket lock, so each done() happens-before the
 * return of the wait() it releases.
 */

#include <linux/export.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/sched/debug.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include <gosync/waitgroup.h>
#include "gosync_internal.h"
#include "gosync_trace.h"

/*
 * gosync's own workqueue: gosync_wg_go() work and map teardowns.  Unbound:
 * the work may sleep and should spread over CPUs.
 */
struct workqueue_struct *gosync_workqueue;

/**
 * gosync_wg_init() - set a waitgroup's counter to 0
 * @wg: the waitgroup; must not be in use
 */
void gosync_wg_init(struct gosync_waitgroup *wg)
{
	atomic64_set(&wg->state, 0);
	wg->sema = 0;
}
EXPORT_SYMBOL_GPL(gosync_wg_init);

/*
 * The counter reached zero with @waiters registered: take them off the word
 * (a racing add() may have registered new waiters of the next round, which
 * stay) and wake exactly those.
 */
static void gosync_wg_release(struct gosync_waitgroup *wg, u32 waiters)
{
	atomic64_sub(waiters, &wg->state);
	gosync_stat_add(GOSYNC_STAT_WG_WAKEUPS, waiters);
	gosync_sema_release(wg, &wg->sema, waiters, false);
}

/* gosync_wg_add() for callers that have nothing to do with its result. */
static int gosync_wg_change(struct gosync_waitgroup *wg, int delta)
{
	s64 old, new;
	s64 counter;
	u32 waiters;

	if (GOSYNC_MISUSE(!wg, GOSYNC_STAT_WG_MISUSE, "%s: NULL waitgroup\n",
			  __func__))
		return -EINVAL;
	gosync_stat_inc(GOSYNC_STAT_WG_ADD);
	old = atomic64_read(&wg->state);
	do {
		counter = (s64)gosync_wg_counter(old) + delta;
		waiters = gosync_wg_waiters(old);
		if (GOSYNC_MISUSE(counter < 0 || counter > S32_MAX,
				  GOSYNC_STAT_WG_MISUSE,
				  "waitgroup counter %d%+d out of range\n",
				  gosync_wg_counter(old), delta))
			return -EINVAL;
		new = gosync_wg_state(counter, waiters);
	} while (!atomic64_try_cmpxchg(&wg->state, &old, new));

	GOSYNC_MISUSE(waiters && delta > 0 && counter == delta,
		      GOSYNC_STAT_WG_MISUSE,
		      "waitgroup reused before the previous wait returned\n");
	if (counter == 0 && waiters)
		gosync_wg_release(wg, waiters);
	return 0;
}

/**
 * gosync_wg_add() - add @delta, which may be negative, to the counter
 * @wg: the waitgroup
 * @delta: the change
 *
 * When the counter reaches zero, every waiter is released.  A change that
 * would make the counter negative (or overflow it) is refused: it warns
 * once, counts "wg.misuse" and leaves the counter as it was.  Raising the
 * counter from zero while a wait() of the previous round has not returned
 * (Go's "WaitGroup is reused before previous Wait has returned") is
 * detected the same way but carried out.
 *
 * Context: any context.
 * Return: 0, or -EINVAL if the change was refused.
 */
int gosync_wg_add(struct gosync_waitgroup *wg, int delta)
{
	return gosync_wg_change(wg, delta);
}
EXPORT_SYMBOL_GPL(gosync_wg_add);

/**
 * gosync_wg_done() - lower the counter by one
 * @wg: the waitgroup
 *
 * Context: any context.
 */
void gosync_wg_done(struct gosync_waitgroup *wg)
{
	/* Misuse (done below zero) is reported where it is detected. */
	gosync_wg_change(wg, -1);
}
EXPORT_SYMBOL_GPL(gosync_wg_done);

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
 * Called under the parking bucket lock by a waiter whose wait ended early.
 * While the counter is above zero and waiters are registered, nobody has
 * taken this waiter off the word yet, so it takes itself off and leaves.
 * Otherwise its release is on its way: it must stay and receive it.
 */
static bool gosync_wg_may_leave(const void *object)
{
	struct gosync_waitgroup *wg = (struct gosync_waitgroup *)object;
	s64 old = atomic64_read(&wg->state);

	do {
		if (!gosync_wg_counter(old) || !gosync_wg_waiters(old))
			return false;
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
	struct gosync_sema_waiter waiter;
	u64 wait_start, waited;
	s64 old;
	long ret;
	int err;

	might_sleep();
	if (GOSYNC_MISUSE(!wg, GOSYNC_STAT_WG_MISUSE, "%s: NULL waitgroup\n",
			  __func__))
		return -EINVAL;
	gosync_stat_inc(GOSYNC_STAT_WG_WAIT);
	old = atomic64_read(&wg->state);
	do {
		if (!gosync_wg_counter(old)) {
			/* Acquire: pairs with the ordered done() that made zero. */
			smp_mb();
			return max(timeout, 1L);
		}
	} while (!atomic64_try_cmpxchg(&wg->state, &old, old + 1));

	wait_start = local_clock();
	trace_gosync_wg_wait_begin(gosync_wg_counter(old));
	err = gosync_sema_acquire(wg, &wg->sema, &waiter, false, task_state,
				  &timeout, gosync_wg_may_leave);
	if (err && !waiter.granted)
		ret = err == -ETIMEDOUT ? 0 : err;
	else
		ret = max(timeout, 1L);
	waited = local_clock() - wait_start;
	gosync_wait_hist_add(GOSYNC_WAIT_WG, waited);
	trace_gosync_wg_wait_end(waited, ret);
	return ret;
}

/**
 * gosync_wg_wait() - sleep until the counter is zero
 * @wg: the waitgroup
 *
 * Context: process context; may sleep.
 */
void __sched gosync_wg_wait(struct gosync_waitgroup *wg)
{
	gosync_wg_wait_common(wg, TASK_UNINTERRUPTIBLE, MAX_SCHEDULE_TIMEOUT);
}
EXPORT_SYMBOL_GPL(gosync_wg_wait);

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
};

static void gosync_wg_work_run(struct work_struct *work)
{
	struct gosync_wg_work *item = container_of(work, struct gosync_wg_work, work);
	struct gosync_waitgroup *wg = item->wg;

	item->fn(item->arg);
	/* The waitgroup may be freed the moment done() releases its waiter. */
	kfree(item);
	gosync_wg_change(wg, -1);
}

/**
 * gosync_wg_go() - run @fn(@arg) on a worker, counted by @wg (Go 1.25's Go)
 * @wg: the waitgroup; its counter is raised before this returns and
 *      lowered after @fn returns
 * @fn: the function; may sleep
 * @arg: its argument
 *
 * The work runs on gosync's unbound workqueue; unloading gosync waits for
 * it.  The caller's module must not be unloaded before it waited on @wg.
 *
 * Context: process context (allocates with GFP_KERNEL).
 * Return: 0, -ENOMEM with the counter unchanged, or -EINVAL for bad input.
 */
int gosync_wg_go(struct gosync_waitgroup *wg, void (*fn)(void *arg), void *arg)
{
	struct gosync_wg_work *item;
	int err;

	if (GOSYNC_MISUSE(!wg || !fn, GOSYNC_STAT_WG_MISUSE,
			  "%s: NULL waitgroup or function\n", __func__))
		return -EINVAL;
	item = kmalloc(sizeof(*item), GFP_KERNEL);
	if (!item)
		return -ENOMEM;
	err = gosync_wg_add(wg, 1);
	if (err) {
		kfree(item);
		return err;
	}
	INIT_WORK(&item->work, gosync_wg_work_run);
	item->wg = wg;
	item->fn = fn;
	item->arg = arg;
	gosync_stat_inc(GOSYNC_STAT_WG_GO);
	queue_work(gosync_workqueue, &item->work);
	return 0;
}
EXPORT_SYMBOL_GPL(gosync_wg_go);

int gosync_wg_module_init(void)
{
	gosync_workqueue = alloc_workqueue("gosync_wg", WQ_UNBOUND, 0);
	return gosync_workqueue ? 0 : -ENOMEM;
}

void gosync_wg_module_exit(void)
{
	/* Map teardowns are queued from RCU callbacks: let those run first. */
	rcu_barrier();
	/* Drains: queued work finishes before gosync's code goes away. */
	destroy_workqueue(gosync_workqueue);
}
