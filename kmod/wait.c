// SPDX-License-Identifier: GPL-2.0
/*
 * The gosync parking table and the semaphore built on it.
 *
 * A gosync object is valid when it is all zeroes, so it cannot own a
 * wait_queue_head_t or a list head.  Instead every waiter parks in one of
 * GOSYNC_PARK_BUCKETS buckets picked by hashing the address of the object
 * it waits for, the way wait_var_event() and Go's runtime semaphore table
 * do.  Objects that hash to the same bucket share its lock and its lists;
 * each waiter records its object so that a wakeup reaches only the waiters
 * of the object being released.
 */

#include <linux/cache.h>
#include <linux/hash.h>
#include <linux/hrtimer.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/spinlock.h>

#include "gosync_internal.h"

#define GOSYNC_PARK_BITS	8
#define GOSYNC_PARK_BUCKETS	BIT(GOSYNC_PARK_BITS)
/*
 * Tasks a release collects under the bucket lock, with a reference each,
 * and wakes after dropping it.  The kernel's wake_q would need no limit,
 * but wake_q_add() and wake_up_q() are not exported to modules.
 */
#define GOSYNC_WAKE_BATCH	16
/* How late a recheck timer may fire, to share an interrupt with others. */
#define GOSYNC_RECHECK_SLACK_NS	(10 * NSEC_PER_USEC)
/* How soon a recheck that claimed nothing asks again. */
#define GOSYNC_RECHECK_RETRY_NS	(100 * NSEC_PER_USEC)

struct gosync_park_bucket {
	/*
	 * Guards sema_waiters and the count of every object in the bucket.
	 * Taken with interrupts disabled because a waitgroup's done() may
	 * release its waiters from a hard interrupt; a raw spinlock, because
	 * on PREEMPT_RT a spinlock_t sleeps, which a hard interrupt must not.
	 * It is held for list operations only: a semaphore release wakes
	 * its first GOSYNC_WAKE_BATCH tasks after dropping it (any beyond,
	 * under it), and gosync_park_wake_all() wakes every task after
	 * dropping it, GOSYNC_WAKE_BATCH per hold.
	 */
	raw_spinlock_t lock;
	struct list_head sema_waiters;
	/*
	 * Tasks in gosync_park_wait() not yet picked by a wake_all; also
	 * guarded by the lock.
	 */
	struct list_head park_waiters;
} ____cacheline_aligned_in_smp;

static struct gosync_park_bucket gosync_park_table[GOSYNC_PARK_BUCKETS];

/*
 * A task in gosync_park_wait(), on its stack.  @node is empty while the
 * task is not queued: before it queues, and once a wake_all took it off.
 */
struct gosync_park_waiter {
	struct list_head node;
	struct task_struct *task;
	const void *object;
};

static struct gosync_park_bucket *gosync_park_bucket(const void *object)
{
	return &gosync_park_table[hash_ptr((void *)object, GOSYNC_PARK_BITS)];
}

int gosync_wait_init(void)
{
	unsigned int i;

	for (i = 0; i < GOSYNC_PARK_BUCKETS; i++) {
		raw_spin_lock_init(&gosync_park_table[i].lock);
		INIT_LIST_HEAD(&gosync_park_table[i].sema_waiters);
		INIT_LIST_HEAD(&gosync_park_table[i].park_waiters);
	}
	return 0;
}

/*
 * Drop the bucket lock taken with @flags saved, then wake the @nr tasks
 * in @wake and drop the reference held on each (their waiters may have
 * returned already).  Preemption stays disabled until all are woken, so
 * that a woken task does not preempt the waker before the others are.
 */
static void gosync_park_unlock_wake(struct gosync_park_bucket *bucket,
				    unsigned long flags,
				    struct task_struct **wake, unsigned int nr)
	__releases(&bucket->lock)
{
	unsigned int i;

	preempt_disable();
	raw_spin_unlock_irqrestore(&bucket->lock, flags);
	for (i = 0; i < nr; i++) {
		wake_up_process(wake[i]);
		put_task_struct(wake[i]);
	}
	preempt_enable();
}

/*
 * (Re)start the recheck timer of a queued waiter, @ns from now.  Also after
 * it fired, its callback perhaps still running on another CPU: the callback
 * reads the task before it clears it, and a restart of a running timer
 * queues it again.  Called under the bucket lock; hrtimer locks are raw.
 */
static void gosync_recheck_arm(struct hrtimer_sleeper *recheck, u64 ns)
{
	recheck->task = current;
	hrtimer_set_expires_range_ns(&recheck->timer,
				     ns_to_ktime(min_t(u64, ns, KTIME_MAX)),
				     GOSYNC_RECHECK_SLACK_NS);
	hrtimer_sleeper_start_expires(recheck, HRTIMER_MODE_REL);
}

/**
 * gosync_sema_acquire() - take one unit of an object's semaphore, sleeping
 * @object: the object the semaphore belongs to (its address is the key)
 * @count: units released while nobody was queued; protected by the bucket lock
 * @waiter: caller-provided queue entry, valid until this returns; the
 *          caller sets @waiter->recheck_ns (0 for none) and, with it,
 *          @waiter->recheck
 * @at_head: queue at the head (a waiter that was woken and lost the race
 *           goes back to the front, Go's LIFO requeue) instead of the tail
 * @state: TASK_UNINTERRUPTIBLE, TASK_INTERRUPTIBLE or TASK_KILLABLE
 * @timeout: jiffies left, updated; MAX_SCHEDULE_TIMEOUT for none
 * @may_leave: called under the bucket lock when the wait is interrupted or
 *             times out before a unit arrived; returns true after removing
 *             the waiter from the object's own accounting, false when a unit
 *             is already on its way to this waiter and must be waited for
 *
 * Units are handed to queued waiters directly, first in queue order, so a
 * release can never be lost between a waiter's decision to sleep and its
 * sleep.  @waiter->handoff tells whether the releaser asked for a handoff.
 *
 * With @waiter->recheck_ns set, a waiter still queued that long after it
 * queued calls @waiter->recheck under the bucket lock: if that claims a
 * unit for this waiter in the object's own accounting (as a release would
 * have done for the head waiter), the waiter leaves the queue with it and
 * returns 0, as if woken; if not, it asks again every
 * GOSYNC_RECHECK_RETRY_NS.  The timer is an on-stack hrtimer, cancelled
 * before this returns.
 *
 * Return: 0 when a unit was received.  -EINTR or -ETIMEDOUT when the wait
 * ended early; then @waiter->granted says whether a unit was received all
 * the same (and must be passed on by the caller).
 */
int gosync_sema_acquire(const void *object, unsigned int *count,
			struct gosync_sema_waiter *waiter, bool at_head,
			unsigned int state, long *timeout,
			bool (*may_leave)(const void *object))
{
	struct gosync_park_bucket *bucket = gosync_park_bucket(object);
	struct hrtimer_sleeper recheck;
	bool armed = false;
	int err = 0;

	waiter->task = current;
	waiter->object = object;
	waiter->granted = false;
	waiter->handoff = false;
	if (waiter->recheck_ns) {
		/*
		 * Made before the bucket lock is taken (debug objects may
		 * allocate), started once queued.  Its callback clears
		 * recheck.task, then wakes this task.
		 */
		hrtimer_init_sleeper_on_stack(&recheck, CLOCK_MONOTONIC,
					      HRTIMER_MODE_REL);
		armed = true;
	}

	raw_spin_lock_irq(&bucket->lock);
	if (*count) {
		(*count)--;
		waiter->granted = true;
		goto out_unlock;
	}
	if (at_head)
		list_add(&waiter->node, &bucket->sema_waiters);
	else
		list_add_tail(&waiter->node, &bucket->sema_waiters);
	if (armed)
		gosync_recheck_arm(&recheck, waiter->recheck_ns);

	for (;;) {
		/*
		 * The task state is set before the tests: a timer that fires
		 * after its test wakes the task out of the sleep below.
		 */
		set_current_state(state);
		/* granted is written under the lock we hold: no lost wakeup. */
		if (waiter->granted)
			goto out_unlock;
		if (signal_pending_state(state, current)) {
			err = -EINTR;
			break;
		}
		if (!*timeout) {
			err = -ETIMEDOUT;
			break;
		}
		if (armed && !READ_ONCE(recheck.task)) {
			if (waiter->recheck(object)) {
				/* Its own unit: nobody else will grant it one. */
				list_del(&waiter->node);
				waiter->granted = true;
				goto out_unlock;
			}
			gosync_recheck_arm(&recheck, GOSYNC_RECHECK_RETRY_NS);
		}
		raw_spin_unlock_irq(&bucket->lock);
		*timeout = schedule_timeout(*timeout);
		raw_spin_lock_irq(&bucket->lock);
	}
	__set_current_state(TASK_RUNNING);

	if (may_leave(object)) {
		list_del(&waiter->node);
		goto out_unlock;
	}
	/*
	 * A release has already picked this waiter (the object's state says
	 * so) but has not reached the bucket yet.  Releasers keep preemption
	 * disabled from that state change until the wakeup is done (the
	 * mutex does; see gosync_mutex_deliver()), so the releaser is running
	 * on another CPU right now and this wait is short; take the unit and
	 * let the caller pass it on.
	 */
	while (!waiter->granted) {
		set_current_state(TASK_UNINTERRUPTIBLE);
		raw_spin_unlock_irq(&bucket->lock);
		schedule();
		raw_spin_lock_irq(&bucket->lock);
	}
out_unlock:
	__set_current_state(TASK_RUNNING);
	raw_spin_unlock_irq(&bucket->lock);
	if (armed) {
		/* Outside the bucket lock: this may wait for a running callback. */
		hrtimer_cancel(&recheck.timer);
		destroy_hrtimer_on_stack(&recheck.timer);
	}
	return err;
}

/**
 * gosync_sema_release() - give units of an object's semaphore
 * @object: the object the semaphore belongs to
 * @count: the object's count of units nobody was queued for
 * @units: how many units to give
 * @handoff: mark each unit as a direct handoff for its receiver
 *
 * The first @units queued waiters of @object each get a unit and are
 * woken; units left over are kept in @count for the next acquirers.  A
 * release happens-before the acquire that receives it (bucket lock).
 *
 * The receivers are marked under the bucket lock and woken after it is
 * dropped (beyond GOSYNC_WAKE_BATCH of them, under it), with preemption
 * disabled in between so that a woken receiver does not preempt the
 * releaser before the others are woken.  After the bucket lock is dropped,
 * neither @object nor @count is touched again: a receiver may return and
 * free the object at once.
 */
void gosync_sema_release(const void *object, unsigned int *count,
			 unsigned int units, bool handoff)
{
	struct gosync_park_bucket *bucket = gosync_park_bucket(object);
	struct task_struct *wake[GOSYNC_WAKE_BATCH];
	struct gosync_sema_waiter *waiter, *next;
	unsigned int nr_wake = 0;
	unsigned long flags;

	raw_spin_lock_irqsave(&bucket->lock, flags);
	list_for_each_entry_safe(waiter, next, &bucket->sema_waiters, node) {
		if (!units)
			break;
		if (waiter->object != object)
			continue;
		list_del(&waiter->node);
		waiter->handoff = handoff;
		waiter->granted = true;
		/* The waiter cannot return before we drop the lock. */
		if (nr_wake < GOSYNC_WAKE_BATCH)
			wake[nr_wake++] = get_task_struct(waiter->task);
		else
			wake_up_process(waiter->task);
		units--;
	}
	*count += units;
	gosync_park_unlock_wake(bucket, flags, wake, nr_wake);
}

/**
 * gosync_park_wait() - sleep until a condition on an object holds
 * @object: the object waited for (its address is the key)
 * @cond: the condition, called with @object and @arg under the bucket lock
 *        with interrupts off: it must only read
 * @arg: passed to @cond
 * @state: TASK_UNINTERRUPTIBLE, TASK_INTERRUPTIBLE or TASK_KILLABLE
 * @timeout: jiffies to wait at most; MAX_SCHEDULE_TIMEOUT for no limit
 *
 * Whoever makes @cond true and then calls gosync_park_wake_all() on
 * @object wakes this waiter: @cond is tested under the bucket lock, and the
 * waker takes that lock after its change, so either the test sees the
 * change or the waker finds the waiter queued.  Like wait_event_timeout(),
 * @cond holding wins over a timeout or a signal that arrives at the same
 * moment.
 *
 * Context: process context; may sleep.
 * Return: the jiffies left (at least 1) when @cond held, 0 on timeout,
 * -EINTR on a signal that @state admits.
 */
long gosync_park_wait(const void *object,
		      bool (*cond)(const void *object, unsigned long arg),
		      unsigned long arg, unsigned int state, long timeout)
{
	struct gosync_park_bucket *bucket = gosync_park_bucket(object);
	struct gosync_park_waiter waiter = {
		.task = current,
		.object = object,
	};
	long ret;

	INIT_LIST_HEAD(&waiter.node);
	raw_spin_lock_irq(&bucket->lock);
	for (;;) {
		if (cond(object, arg)) {
			ret = max(timeout, 1L);
			break;
		}
		if (signal_pending_state(state, current)) {
			ret = -EINTR;
			break;
		}
		if (!timeout) {
			ret = 0;
			break;
		}
		/*
		 * (Re)queue: a wake_all that took this waiter off woke it,
		 * or will, but @cond is false again (the address now keys
		 * another object, or the object's state moved on).
		 */
		if (list_empty(&waiter.node))
			list_add_tail(&waiter.node, &bucket->park_waiters);
		set_current_state(state);
		raw_spin_unlock_irq(&bucket->lock);
		timeout = schedule_timeout(timeout);
		raw_spin_lock_irq(&bucket->lock);
	}
	/* Still queued when the wait ended early, or woken before queueing. */
	list_del_init(&waiter.node);
	raw_spin_unlock_irq(&bucket->lock);
	return ret;
}

/**
 * gosync_park_wake_all() - wake every gosync_park_wait() on an object
 * @object: the object (only its address is used: it may be freed already)
 *
 * Every task parked on @object is taken off the bucket list under the
 * bucket lock, with a task reference, and woken after the lock is dropped,
 * GOSYNC_WAKE_BATCH tasks per hold: the lock (and the interrupts it
 * disables) is held for one walk of the list and at most that many picks,
 * however many tasks wait.  A task woken early (a timeout, a signal,
 * another release) may return as soon as it is off the list: its on-stack
 * entry is never touched after the drop, and the reference keeps its
 * task_struct alive for the wakeup, which is then only a spurious one.
 *
 * This takes a raw spinlock with interrupts saved and calls
 * wake_up_process() and put_task_struct() only (the latter defers the
 * free to RCU where it may not sleep), so it is usable in any context,
 * hard interrupts and interrupts-off regions on PREEMPT_RT included.  It
 * never dereferences @object: a waker that changed the object's state may
 * call it after a woken waiter returned and freed the object.  Tasks that
 * queue on the same address while this runs may be woken too, spuriously:
 * they test their condition again.
 *
 * Context: any context.
 */
void gosync_park_wake_all(const void *object)
{
	struct gosync_park_bucket *bucket = gosync_park_bucket(object);
	struct task_struct *wake[GOSYNC_WAKE_BATCH];
	struct gosync_park_waiter *waiter, *next;
	unsigned int nr_wake;
	unsigned long flags;

	do {
		nr_wake = 0;
		raw_spin_lock_irqsave(&bucket->lock, flags);
		list_for_each_entry_safe(waiter, next, &bucket->park_waiters, node) {
			if (waiter->object != object)
				continue;
			list_del_init(&waiter->node);
			wake[nr_wake++] = get_task_struct(waiter->task);
			if (nr_wake == GOSYNC_WAKE_BATCH)
				break;
		}
		gosync_park_unlock_wake(bucket, flags, wake, nr_wake);
		/* A full batch: more may wait.  A walk from the head finds them. */
		if (nr_wake == GOSYNC_WAKE_BATCH)
			gosync_delay_point(GOSYNC_DELAY_PARK_WAKE_ALL_BETWEEN_BATCHES);
	} while (nr_wake == GOSYNC_WAKE_BATCH);
}
