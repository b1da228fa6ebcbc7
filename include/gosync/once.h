/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gosync once: Go's sync.Once for kernel code, plus a retry-until-success
 * variant for set-up work that can fail.
 *
 * The zero value is a once that has not run.  After the first successful
 * run, every call returns after one acquire load.
 */
#ifndef _GOSYNC_ONCE_H
#define _GOSYNC_ONCE_H

#include <linux/atomic.h>
#include <linux/compiler.h>
#include <linux/types.h>

#include <gosync/mutex.h>

/**
 * struct gosync_once - run a function at most once (successfully)
 * @done: set, with release ordering, only after the function returned
 *        (with 0, for gosync_once_do_err())
 * @lock: serialises the callers that find @done clear
 * @runner: the task running the function, to catch recursion
 *
 * All fields are private to gosync.
 */
struct gosync_once {
	atomic_t done;
	struct gosync_mutex lock;
	struct task_struct *runner;
};

#define DEFINE_GOSYNC_ONCE(oncename)					\
	struct gosync_once oncename = {				\
		.lock =						\
			__GOSYNC_MUTEX_INITIALIZER(GOSYNC_LOCK_SITE(#oncename), \
					   GOSYNC_LOCK_SITE(#oncename)), \
	}

/**
 * gosync_once_init() - initialise a once to "not run", with a lockdep class
 * @o: the once; must not be in use
 */
#define gosync_once_init(o)						\
	do {								\
		static struct lock_class_key __gosync_key;		\
									\
		__gosync_once_init((o), GOSYNC_LOCK_SITE(#o),		\
				    &__gosync_key);			\
	} while (0)

void __gosync_once_init(struct gosync_once *o, const char *name,
			struct lock_class_key *key);
void __gosync_once_do(struct gosync_once *o, void (*fn)(void *arg), void *arg);
int __gosync_once_do_err(struct gosync_once *o, int (*fn)(void *arg), void *arg);

/**
 * gosync_once_done() - whether the function has run (successfully)
 * @o: the once
 *
 * Inline: one acquire load, the same as the fast path of gosync_once_do().
 *
 * Context: any context.
 * Return: true once the function returned (with 0, for do_err); a true
 * result orders the caller after everything the function wrote.
 */
static inline bool gosync_once_done(const struct gosync_once *o)
{
	/* Pairs with the release that publishes "done" after fn returned. */
	return atomic_read_acquire(&o->done);
}

/**
 * gosync_once_do() - call @fn(@arg) if no call on @o has yet
 * @o: the once
 * @fn: the function
 * @arg: its argument
 *
 * Every caller returns only after @fn has returned, and sees what it
 * wrote.  Once done, this is one acquire load, inline.  Calling
 * gosync_once_do() on @o from inside @fn warns once and returns instead of
 * deadlocking.
 *
 * Context: process context; may sleep (waiting for another caller's @fn).
 */
static inline void gosync_once_do(struct gosync_once *o,
				  void (*fn)(void *arg), void *arg)
{
	/* Pairs with the release that publishes "done" after @fn returned. */
	if (likely(o && atomic_read_acquire(&o->done)))
		return;
	__gosync_once_do(o, fn, arg);
}

/**
 * gosync_once_do_err() - call @fn(@arg) until one call returns 0
 * @o: the once
 * @fn: the function; returns 0 on success or a negative errno
 * @arg: its argument
 *
 * The once is done only when @fn returned 0.  A failure is returned to the
 * caller that ran @fn and leaves the once not done: callers waiting
 * meanwhile then take turns to run @fn again, until one succeeds.
 *
 * Context: process context; may sleep.
 * Return: 0 once @fn has succeeded (at once, after the first success);
 * @fn's error to the caller whose run failed; -EDEADLK when called from
 * inside @fn; -EINVAL for a NULL argument.
 */
static inline int __must_check gosync_once_do_err(struct gosync_once *o,
						  int (*fn)(void *arg),
						  void *arg)
{
	if (likely(o && atomic_read_acquire(&o->done)))
		return 0;
	return __gosync_once_do_err(o, fn, arg);
}

#endif /* _GOSYNC_ONCE_H */
