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
void gosync_once_do(struct gosync_once *o, void (*fn)(void *arg), void *arg);
int __must_check gosync_once_do_err(struct gosync_once *o,
				    int (*fn)(void *arg), void *arg);
bool gosync_once_done(const struct gosync_once *o);

#endif /* _GOSYNC_ONCE_H */
