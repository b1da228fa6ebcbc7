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
#include <linux/jump_label.h>
#include <linux/kernel.h>
#include <linux/lockdep.h>
#include <linux/percpu.h>
#include <linux/spinlock.h>
#include <linux/stringify.h>
#include <linux/types.h>
#include <asm/current.h>

struct task_struct;
struct gosync_lock_class;

/*
 * Private to gosync: the per-CPU counts of a debugfs "locks" row
 * (kmod/profile.c), here because the inline lock path below adds to
 * @acquired.  The lock paths add to their own CPU's copy and never bounce
 * a line shared with other CPUs; readers sum the copies.  A mutex caches
 * the per-CPU pointer, so that its lock path reaches the count it adds to
 * with one load; @class, the same on every CPU, leads the slow paths back
 * to the row.  Reset zeroes the counts before @class.
 */
struct gosync_lock_counts {
	u64 acquired;
	u64 contended;
	u64 wait_total_ns;
	u64 starvation_entered;
	u64 handoffs;
	struct gosync_lock_class *class;
};

/* Private to gosync: the "stats" parameter, on (Y) by default. */
DECLARE_STATIC_KEY_TRUE(gosync_stats_enabled);

/* Private to gosync: @state of a mutex that a task owns, nobody waiting. */
#define __GOSYNC_MUTEX_LOCKED	0x01

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

void __gosync_mutex_count_first(struct gosync_mutex *m);
void __gosync_mutex_lock_slow(struct gosync_mutex *m, unsigned long ip);

/*
 * Private to gosync: lockdep's map of a gosync object that has a dep_map
 * member (mutex, seqlock), or NULL: only objects defined or initialised by
 * name are tracked, and a zero dep_map, the zero value of the object, has
 * no name.
 */
#ifdef CONFIG_DEBUG_LOCK_ALLOC
#define __gosync_dep_map(obj)						\
	({								\
		struct lockdep_map *__dm;				\
									\
		__dm = (struct lockdep_map *)&(obj)->dep_map;		\
		__dm->name ? __dm : NULL;				\
	})
#else
#define __gosync_dep_map(obj)	({ (void)(obj); (struct lockdep_map *)NULL; })
#endif

/* Private to gosync: @op(map, ...), a lockdep annotation, on tracked objects only. */
#define __gosync_lockdep(obj, op, ...)					\
	do {								\
		struct lockdep_map *__map = __gosync_dep_map(obj);	\
									\
		if (__map)						\
			op(__map, ##__VA_ARGS__);			\
	} while (0)

/*
 * Private to gosync: an address inside the calling function, for the
 * profile's holder site and for lockdep.  _THIS_IP_ takes the address of a
 * label, and GCC then never inlines the function that contains it: every
 * function that locks would be kept out of line.  On x86-64 the address
 * is read with a RIP-relative lea instead, volatile so that two lock calls
 * in one function keep two sites.
 */
#ifdef CONFIG_X86_64
#define __gosync_this_ip()						\
	({								\
		unsigned long __ip;					\
									\
		asm volatile ("lea 0(%%rip), %0" : "=r" (__ip));	\
		__ip;							\
	})
#else
#define __gosync_this_ip()	_THIS_IP_
#endif

/*
 * Private to gosync: every successful lock, after the cmpxchg that took
 * the mutex.  Who holds it, from where, and the count.  The owner is
 * published first: until it is, arriving tasks cannot tell whether the
 * holder runs (see gosync_mutex_can_spin() in kmod/mutex.c).  @holder_ip
 * is written on every lock, counting on or off: a waiter that starts to
 * sleep just after stats is switched on must blame the task that holds
 * the mutex now, not whoever held it last while counting was on.  It sits
 * next to @owner, in the same cache line, as does @counts.
 *
 * An acquisition is counted once, in its class row's per-CPU count: after
 * the first lock of a mutex that is a load of the cached per-CPU pointer
 * (on the line the cmpxchg just brought in) and one per-CPU increment.
 * "mutex.acquired" is the sum of the rows, computed when read.  Finding or
 * making the row, on the first lock, is out of line.
 */
static __always_inline void __gosync_mutex_acquired(struct gosync_mutex *m,
						    unsigned long ip)
{
	struct gosync_lock_counts __percpu *counts;

	WRITE_ONCE(m->owner, current);
	WRITE_ONCE(m->holder_ip, ip);
	if (static_branch_likely(&gosync_stats_enabled)) {
		counts = READ_ONCE(m->counts);
		if (likely(counts))
			this_cpu_inc(counts->acquired);
		else
			__gosync_mutex_count_first(m);
	}
}

/*
 * Private to gosync: lock @m if it is unlocked and idle, with one
 * cmpxchg_acquire of 0 to LOCKED, the ACQUIRE that pairs with the RELEASE
 * of the unlock before.  Any other state (locked, waiters, a woken waiter,
 * starvation mode) is the slow path's to decide.
 */
static __always_inline bool __gosync_mutex_lock_fast(struct gosync_mutex *m,
						     unsigned long ip)
{
	int old = 0;

	if (!atomic_try_cmpxchg_acquire(&m->state, &old, __GOSYNC_MUTEX_LOCKED))
		return false;
	__gosync_mutex_acquired(m, ip);
	return true;
}

/**
 * gosync_mutex_lock() - lock a mutex, sleeping until it is available
 * @m: the mutex
 *
 * Inline, as Go's Mutex.Lock is: when the mutex is free and nobody waits,
 * locking is the cmpxchg and the stores and count above, with no call into
 * gosync.ko; anything else calls __gosync_mutex_lock_slow().  Lockdep and
 * the profile see the caller's own address.
 *
 * Context: process context; may sleep.
 */
static __always_inline void gosync_mutex_lock(struct gosync_mutex *m)
	__acquires(m)
{
	unsigned long ip = __gosync_this_ip();

	might_sleep();
	__gosync_lockdep(m, mutex_acquire, 0, 0, ip);
	if (likely(__gosync_mutex_lock_fast(m, ip)))
		__gosync_lockdep(m, lock_acquired, ip);
	else
		__gosync_mutex_lock_slow(m, ip);
	__acquire(m);
}

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
