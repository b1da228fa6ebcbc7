// SPDX-License-Identifier: GPL-2.0
/*
 * gosync once: Go's sync.Once.
 *
 * As in Go, the flag is checked first with one acquire load; callers that
 * find it clear serialise on a gosync mutex, and the flag is set with
 * release ordering only after the function has returned, so that a caller
 * that sees it set also sees everything the function wrote.  (Setting it
 * before running the function, as a compare-and-swap implementation would,
 * lets a second caller return before the work is done.)
 *
 * gosync_once_do_err() adds what Go programmers build by hand around
 * sync.Once: a failed attempt leaves the once not done, so the next caller
 * tries again instead of inheriting the first failure forever.
 */

#include <linux/export.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>

#include <gosync/once.h>
#include "gosync_internal.h"
#include "gosync_trace.h"

/**
 * __gosync_once_init() - initialise a once; use gosync_once_init()
 * @o: the once
 * @name: its name for lockdep
 * @key: its lockdep class
 */
void __gosync_once_init(struct gosync_once *o, const char *name,
			struct lock_class_key *key)
{
	atomic_set(&o->done, 0);
	o->runner = NULL;
	__gosync_mutex_init(&o->lock, name, key);
}
EXPORT_SYMBOL_GPL(__gosync_once_init);

/* The caller's function, in either flavour. */
struct gosync_once_call {
	void (*fn)(void *arg);
	int (*fn_err)(void *arg);
	void *arg;
};

static int gosync_once_slow(struct gosync_once *o,
			    const struct gosync_once_call *call,
			    unsigned long ip)
{
	bool ran = false;
	u64 start, waited;
	int err = 0;

	/* Only this task can have stored itself here. */
	if (GOSYNC_MISUSE(READ_ONCE(o->runner) == current,
			  GOSYNC_STAT_ONCE_MISUSE,
			  "once called recursively from its own function\n"))
		return -EDEADLK;

	start = local_clock();
	gosync_mutex_lock_at(&o->lock, ip);
	waited = gosync_ns_since(start);
	if (atomic_read(&o->done)) {
		/* Another caller ran it while we waited. */
		gosync_stat_inc(GOSYNC_STAT_ONCE_WAITED);
		gosync_wait_hist_add(GOSYNC_WAIT_ONCE, waited);
		goto out;
	}
	ran = true;
	WRITE_ONCE(o->runner, current);
	if (call->fn_err)
		err = call->fn_err(call->arg);
	else
		call->fn(call->arg);
	WRITE_ONCE(o->runner, NULL);
	if (err) {
		gosync_stat_inc(GOSYNC_STAT_ONCE_FAILED);
		goto out;
	}
	gosync_stat_inc(GOSYNC_STAT_ONCE_RUN);
	atomic_set_release(&o->done, 1);
out:
	gosync_mutex_unlock(&o->lock);
	trace_gosync_once_slow(&o->lock, ran, waited, err);
	return err;
}

/*
 * Both flavours: the checks the inline fast path leaves out, then the
 * serialised run.  @ip is the client's call site, for the lock profile.
 */
static int gosync_once_enter(struct gosync_once *o,
			     const struct gosync_once_call *call,
			     unsigned long ip)
{
	might_sleep();
	if (GOSYNC_MISUSE(!o || !(call->fn || call->fn_err),
			  GOSYNC_STAT_ONCE_MISUSE,
			  "once: NULL once or function\n"))
		return -EINVAL;
	if (atomic_read_acquire(&o->done))
		return 0;
	return gosync_once_slow(o, call, ip);
}

/**
 * __gosync_once_do() - the slow path of gosync_once_do()
 * @o: the once
 * @fn: the function
 * @arg: its argument
 *
 * Context: process context; may sleep.
 */
void __gosync_once_do(struct gosync_once *o, void (*fn)(void *arg), void *arg)
{
	gosync_once_enter(o, &(struct gosync_once_call){ .fn = fn, .arg = arg },
			  _RET_IP_);
}
EXPORT_SYMBOL_GPL(__gosync_once_do);

/**
 * __gosync_once_do_err() - the slow path of gosync_once_do_err()
 * @o: the once
 * @fn: the function
 * @arg: its argument
 *
 * Context: process context; may sleep.
 * Return: as gosync_once_do_err().
 */
int __gosync_once_do_err(struct gosync_once *o, int (*fn)(void *arg), void *arg)
{
	return gosync_once_enter(o, &(struct gosync_once_call){ .fn_err = fn,
								.arg = arg },
				 _RET_IP_);
}
EXPORT_SYMBOL_GPL(__gosync_once_do_err);
