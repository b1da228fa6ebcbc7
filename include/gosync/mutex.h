/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gosync mutex: Go's sync.Mutex, starvation mode included, for kernel code.
 *
 * The zero value is an unlocked mutex.  DEFINE_GOSYNC_MUTEX() and
 * gosync_mutex_init() add a name and a lockdep class; a mutex that got
 * neither works the same but is invisible to lockdep.
 *
 * Rules (the kernel's, where they differ from Go's):
 *  - lock, lock_interruptible, lock_killable and lock_timeout sleep: process
 *    context only, never under a spinlock or with preemption disabled;
 *  - trylock and unlock: task context (not hard or soft interrupt
 *    handlers), any locks held; they never sleep;
 *  - the task that locked the mutex unlocks it (Go lets any goroutine);
 *  - a mutex must not be freed while locked or while any task waits on it;
 *    the last user may free it as soon as its own unlock returned.
 *
 * See Documentation/api.rst for the fairness contract.
 */
#ifndef _GOSYNC_MUTEX_H
#define _GOSYNC_MUTEX_H

#include <linux/atomic.h>
#include <linux/compiler.h>
#include <linux/lockdep.h>
#include <linux/spinlock.h>
#include <linux/stringify.h>
#include <linux/types.h>

struct task_struct;

struct gosync_lock_counts;

/*
 * GOSYNC_LOCK_SITE() - the name of a lock class: module, variable and the
 * place of its definition or initialisation, as one string constant
 * ("mymod:table_lock@table.c:42"), valid at file and block scope alike.
 * It names the class's row in debugfs "locks" and its lockdep class.
 */
#ifdef __FILE_NAME__
#define __GOSYNC_FILE __FILE_NAME__
#else
#define __GOSYNC_FILE __FILE__
#endif
#define GOSYNC_LOCK_SITE(name)						\
	KBUILD_MODNAME ":" name "@" __GOSYNC_FILE ":" __stringify(__LINE__)

/**
 * struct gosync_mutex - a mutual exclusion lock with Go's fairness rules
 * @state: locked, woken and starving flags and the waiter count
 *         (see kmod/mutex.c for each bit); 0 is unlocked and idle
 * @sema: wakeups released while no waiter was queued yet; guarded by the
 *        gosync parking-table bucket of this mutex
 * @owner: the task holding the mutex, for optimistic spinning and for the
 *         seqlock's check that its unlocker holds the writers' mutex; NULL
 *         when unlocked, while ownership is being handed off, and also
 *         while locked: from the taking cmpxchg until the new holder
 *         publishes itself (before its lock call returns), and from the
 *         unlocker clearing it to the release
 * @holder_ip: where the current holder locked it, written on every lock
 *             (also while stats is off): waiters blame their wait on it;
 *             after unlock, where the last holder locked it
 * @class_name: GOSYNC_LOCK_SITE() of the definition or init call; NULL for
 *              a mutex that got neither (the "(anonymous)" class)
 * @counts: the per-CPU counts of its debugfs "locks" row (they point
 *          back to the row), found on first lock with counting on, and kept
 * @dep_map: lockdep's view; a zero @dep_map (no name) means not tracked
 *
 * All fields are private to gosync.
 */
struct gosync_mutex {
	atomic_t state;
	unsigned int sema;
	struct task_struct *owner;
	unsigned long holder_ip;
	const char *class_name;
	struct gosync_lock_counts __percpu *counts;
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	struct lockdep_map dep_map;
#endif
};

/* Both arguments are the GOSYNC_LOCK_SITE() of the lock. */
#ifdef CONFIG_DEBUG_LOCK_ALLOC
#define __GOSYNC_MUTEX_INITIALIZER(class_site, lockdep_site)		\
	{								\
		.class_name = class_site,				\
		.dep_map = {						\
			.name = lockdep_site,				\
			.wait_type_inner = LD_WAIT_SLEEP,		\
		},							\
	}
#else
#define __GOSYNC_MUTEX_INITIALIZER(class_site, lockdep_site)		\
	{ .class_name = 0 ? lockdep_site : class_site }
#endif

/**
 * DEFINE_GOSYNC_MUTEX() - define and initialise a named, unlocked mutex
 * @mutexname: the variable, also its name for lockdep
 */
#define DEFINE_GOSYNC_MUTEX(mutexname)					\
	struct gosync_mutex mutexname =					\
		__GOSYNC_MUTEX_INITIALIZER(GOSYNC_LOCK_SITE(#mutexname),	\
					   GOSYNC_LOCK_SITE(#mutexname))

void __gosync_mutex_init(struct gosync_mutex *m, const char *name,
			 struct lock_class_key *key);

/**
 * gosync_mutex_init() - initialise a mutex to unlocked, with a lockdep class
 * @m: the mutex
 *
 * Each call site gets its own lockdep class, as with mutex_init().  Never
 * allocates.  Must not be called on a mutex in use.
 */
#define gosync_mutex_init(m)						\
	do {								\
		static struct lock_class_key __gosync_key;		\
									\
		__gosync_mutex_init((m), GOSYNC_LOCK_SITE(#m),		\
				    &__gosync_key);				\
	} while (0)

void gosync_mutex_lock(struct gosync_mutex *m) __acquires(m);
int __must_check gosync_mutex_lock_interruptible(struct gosync_mutex *m);
int __must_check gosync_mutex_lock_killable(struct gosync_mutex *m);
int __must_check gosync_mutex_lock_timeout(struct gosync_mutex *m,
					   unsigned long timeout);
bool __must_check gosync_mutex_trylock(struct gosync_mutex *m);
void gosync_mutex_unlock(struct gosync_mutex *m) __releases(m);
bool gosync_mutex_is_locked(const struct gosync_mutex *m);
bool gosync_mutex_is_starving(const struct gosync_mutex *m);

/*
 * guard(gosync_mutex)(&m) and scoped_guard(gosync_mutex, &m) { ... } on
 * kernels with scope-based cleanup (6.5 and later; linux/spinlock.h brings
 * linux/cleanup.h in there).
 */
#ifdef DEFINE_GUARD
DEFINE_GUARD(gosync_mutex, struct gosync_mutex *, gosync_mutex_lock(_T),
	     gosync_mutex_unlock(_T))
#endif

#endif /* _GOSYNC_MUTEX_H */
