/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Declarations shared by the pieces of gosync.ko (and by its KUnit module),
 * never by clients: clients see only include/gosync/.
 */
#ifndef _GOSYNC_INTERNAL_H
#define _GOSYNC_INTERNAL_H

#include <linux/build_bug.h>
#include <linux/export.h>
#include <linux/jump_label.h>
#include <linux/percpu.h>
#include <linux/sched/clock.h>
#include <linux/types.h>
#include <linux/list.h>
#include <linux/lockdep.h>
#include <linux/spinlock.h>

#include <gosync/mutex.h>
#include "compat.h"

/* Every counter in debugfs "stats", in output order (kmod/stats.c names them). */
enum gosync_stat {
	GOSYNC_STAT_MUTEX_ACQUIRED,
	GOSYNC_STAT_MUTEX_CONTENDED,
	GOSYNC_STAT_MUTEX_SLEPT,
	GOSYNC_STAT_MUTEX_SPIN_ACQUIRED,
	GOSYNC_STAT_MUTEX_STARVATION_ENTERED,
	GOSYNC_STAT_MUTEX_STARVATION_LEFT,
	GOSYNC_STAT_MUTEX_HANDOFFS,
	GOSYNC_STAT_MUTEX_GAVE_UP,
	GOSYNC_STAT_MUTEX_MISUSE,
	GOSYNC_STAT_MUTEX_WAIT_NS_TOTAL,
	GOSYNC_STAT_MUTEX_WAIT_NS_MAX,
	GOSYNC_STAT_WG_ADD,
	GOSYNC_STAT_WG_WAIT,
	GOSYNC_STAT_WG_WAKEUPS,
	GOSYNC_STAT_WG_GO,
	GOSYNC_STAT_WG_MISUSE,
	GOSYNC_STAT_ONCE_RUN,
	GOSYNC_STAT_ONCE_FAILED,
	GOSYNC_STAT_ONCE_WAITED,
	GOSYNC_STAT_ONCE_MISUSE,
	GOSYNC_STAT_SEQ_READ,
	GOSYNC_STAT_SEQ_RETRY,
	GOSYNC_STAT_SEQ_WRITE,
	GOSYNC_STAT_SEQ_MISUSE,
	GOSYNC_STAT_MAP_LOAD,
	GOSYNC_STAT_MAP_LOAD_HIT,
	GOSYNC_STAT_MAP_STORE,
	GOSYNC_STAT_MAP_DELETE,
	GOSYNC_STAT_MAP_ENTRIES,
	GOSYNC_STAT_MAP_BYTES,
	GOSYNC_STAT_MAP_ALLOC_FAIL,
	GOSYNC_STAT_MAP_MISUSE,
	GOSYNC_NR_STATS
};

struct gosync_stat_cpu {
	u64 count[GOSYNC_NR_STATS];
};

DECLARE_PER_CPU(struct gosync_stat_cpu, gosync_stat_cpu);
/* gosync_stats_enabled, the "stats" switch, is declared in <gosync/mutex.h>. */

/*
 * Counting costs one patched-out jump when the "stats" parameter is N, and
 * one per-CPU add (no atomic, no shared cache line) when it is Y.  Safe in
 * any context: this_cpu_add() is a single interrupt-safe instruction on x86
 * and disables interrupts around the update elsewhere.
 */
static __always_inline void gosync_stat_add(enum gosync_stat id, s64 delta)
{
	if (static_branch_likely(&gosync_stats_enabled))
		this_cpu_add(gosync_stat_cpu.count[id], delta);
}

static __always_inline void gosync_stat_inc(enum gosync_stat id)
{
	gosync_stat_add(id, 1);
}

void gosync_stat_max(enum gosync_stat id, u64 value);
u64 gosync_stat_read(enum gosync_stat id);
void gosync_stats_reset(void);
void gosync_stats_set_enabled(bool enable);
ssize_t gosync_stats_reset_store(const char *buf, size_t count);
const char *gosync_stat_name(enum gosync_stat id);

/* The contention profile (kmod/profile.c): debugfs "locks" and "wait_hist". */
enum gosync_wait_kind {
	GOSYNC_WAIT_MUTEX,
	GOSYNC_WAIT_WG,
	GOSYNC_WAIT_ONCE,
	GOSYNC_NR_WAIT_KINDS
};

/* Enough for "function+0x1a2/0x3f0 [module]". */
#define GOSYNC_SITE_LEN 96
/* How many holder sites a class remembers; the one with most wait is shown. */
#define GOSYNC_CLASS_HOLDERS 4

/*
 * A holder site is kept as a raw address, symbolised when debugfs reads it
 * (a kallsyms lookup is too slow for the lock path, which runs it while
 * holding the lock), or into @site when its module unloads.
 */
struct gosync_holder {
	unsigned long ip;
	u64 wait_ns;
	char site[GOSYNC_SITE_LEN];	/* "" until pinned at module unload */
};

/* struct gosync_lock_counts, a row's per-CPU counts: in <gosync/mutex.h>. */
struct gosync_lock_class {
	struct hlist_node node;
	struct gosync_lock_counts __percpu *counts;
	/* Guards wait_max_ns and holders; taken on slow paths only. */
	spinlock_t lock;
	u64 wait_max_ns;
	struct gosync_holder holders[GOSYNC_CLASS_HOLDERS];
	char name[];
};

/*
 * Callers count into a row only while the "stats" static branch is on, so
 * that turning counting off leaves rows, like every counter, untouched.
 */
struct gosync_lock_class *gosync_lock_class_get(const char *name);
const char *gosync_lock_class_name(const struct gosync_lock_class *class);
void gosync_lock_class_waited(struct gosync_lock_class *class, u64 wait_ns,
			      unsigned long holder_ip);

static inline void gosync_lock_class_acquired(struct gosync_lock_class *class)
{
	this_cpu_inc(class->counts->acquired);
}

static inline void gosync_lock_class_contended(struct gosync_lock_class *class)
{
	this_cpu_inc(class->counts->contended);
}

static inline void gosync_lock_class_starved(struct gosync_lock_class *class)
{
	this_cpu_inc(class->counts->starvation_entered);
}

static inline void gosync_lock_class_handoff(struct gosync_lock_class *class)
{
	this_cpu_inc(class->counts->handoffs);
}

/* One row of debugfs "locks", as read. */
struct gosync_lock_row {
	const struct gosync_lock_class *class;
	const char *name;
	u64 acquired, contended, wait_total_ns, wait_max_ns;
	u64 starvation_entered, handoffs;
	char top_holder[GOSYNC_SITE_LEN];
};

void gosync_lock_profile_walk(bool (*fn)(const struct gosync_lock_row *row,
					 void *arg),
			      void *arg);
u64 gosync_lock_profile_acquired(void);
void gosync_wait_hist_add(enum gosync_wait_kind kind, u64 wait_ns);
u64 gosync_wait_hist_total(enum gosync_wait_kind kind);
void gosync_mutex_lock_at(struct gosync_mutex *m, unsigned long ip)
	__acquires(m);
void gosync_profile_reset(void);
struct dentry;
void gosync_profile_init(struct dentry *dir);
void gosync_profile_exit(void);
int gosync_stats_init(void);
void gosync_stats_exit(void);

/*
 * The parking table (kmod/wait.c): waiters of every gosync object sleep in
 * one of a fixed set of buckets chosen by hashing the object's address, so
 * that an object needs no list head of its own and its zero value is valid.
 * On it, a counting semaphore whose count lives in the object it serves:
 * the primitive behind the mutex's and the waitgroup's waits, after the
 * runtime semaphore of Go's sync.Mutex.
 */
struct gosync_sema_waiter {
	struct list_head node;
	struct task_struct *task;
	const void *object;
	u64 recheck_ns;
	bool (*recheck)(const void *object);
	bool granted;
	bool handoff;
};

int gosync_sema_acquire(const void *object, unsigned int *count,
			struct gosync_sema_waiter *waiter, bool at_head,
			unsigned int state, long *timeout,
			bool (*may_leave)(const void *object));
void gosync_sema_release(const void *object, unsigned int *count,
			 unsigned int units, bool handoff);

/*
 * On the same table, a wait for a condition on the object's state (the
 * waitgroup's): the waker changes the state, then wakes every parked task
 * of the object, knowing nothing of the object but its address.
 */
long gosync_park_wait(const void *object,
		      bool (*cond)(const void *object, unsigned long arg),
		      unsigned long arg, unsigned int state, long timeout);
void gosync_park_wake_all(const void *object);

int gosync_wait_init(void);
int gosync_wg_module_init(void);
void gosync_wg_module_exit(void);

/*
 * The gosync mutex state word, Go's layout:
 *
 * GOSYNC_MUTEX_LOCKED: a task owns the mutex.  Clear for a moment during a
 *	starvation-mode handoff (the receiver sets it); the mutex still
 *	counts as locked then, because STARVING is set.
 * GOSYNC_MUTEX_WOKEN: a task that is running right now will try to take
 *	the mutex (a woken waiter, or a spinner that asked unlock not to wake
 *	anybody).  At most one such task at a time; unlock wakes nobody while
 *	it is set.
 * GOSYNC_MUTEX_STARVING: starvation mode: unlock hands off to the head
 *	waiter, nobody else may take the mutex.  Only set while waiters exist.
 * Bits 3 and up: the number of waiters counted as sleeping or about to
 *	sleep.  Unlock in normal mode subtracts one for the waiter it wakes;
 *	in starvation mode the receiver of a handoff subtracts itself.
 */
#define GOSYNC_MUTEX_LOCKED		__GOSYNC_MUTEX_LOCKED	/* 0x01 */
#define GOSYNC_MUTEX_WOKEN		0x02
#define GOSYNC_MUTEX_STARVING		0x04
#define GOSYNC_MUTEX_WAITER_SHIFT	3
#define GOSYNC_MUTEX_ONE_WAITER		0x08	/* 1 << GOSYNC_MUTEX_WAITER_SHIFT */

static inline unsigned int gosync_mutex_waiters(int state)
{
	return (unsigned int)state >> GOSYNC_MUTEX_WAITER_SHIFT;
}

/* Map hash mask and allocation budget: test builds only, tests change them. */
#ifdef GOSYNC_TEST_BUILD
extern u64 gosync_map_hash_mask;
extern atomic_t gosync_map_alloc_budget;
#endif
int gosync_map_module_init(void);
void gosync_map_module_exit(void);

/* The waitgroup state word's layout is in <gosync/waitgroup.h>. */

/*
 * Test-only delay points (kmod/delay_points.c): each names a race window a
 * few instructions wide that a KUnit case can widen.  One entry per window,
 * named after the function it sits in and what it separates.
 */
enum gosync_delay_point {
	/* Placeholder so the table is never empty; never placed in code. */
	GOSYNC_DELAY_NONE,
	/* A giving-up mutex waiter, between reading the state and leaving. */
	GOSYNC_DELAY_MUTEX_GIVE_UP_BEFORE_LEAVE,
	/* The receiver of a handoff, between reading the state and taking it. */
	GOSYNC_DELAY_MUTEX_HANDOFF_BEFORE_TAKE,
	/* Mutex unlock, right after the cmpxchg that released the mutex. */
	GOSYNC_DELAY_MUTEX_UNLOCK_AFTER_RELEASE,
	/* Mutex unlock (or pass-on), after it delivered a unit to a waiter. */
	GOSYNC_DELAY_MUTEX_UNLOCK_AFTER_WAKE,
	/* map: a node emptied by a delete is dead, not yet unhooked. */
	GOSYNC_DELAY_MAP_PRUNE_BEFORE_UNHOOK,
	/* map: a cleared trie's teardown, before it frees the trie. */
	GOSYNC_DELAY_MAP_TEARDOWN_BEFORE_FREE,
	/* map: a writer found its locked node dead, before it walks again. */
	GOSYNC_DELAY_MAP_WRITE_FOUND_DEAD,
	/* map: a walk read a node from its parent's slot, before reading it. */
	GOSYNC_DELAY_MAP_DESCEND_BEFORE_NODE,
	/* The add() that made the counter zero, between publishing it and waking. */
	GOSYNC_DELAY_WG_DONE_BEFORE_WAKE,
	/* A released waiter, before it looks at the counter again. */
	GOSYNC_DELAY_WG_WAIT_AFTER_WAKE,
	/* A wake_all that woke a full batch, before it looks for more. */
	GOSYNC_DELAY_PARK_WAKE_ALL_BETWEEN_BATCHES,
	GOSYNC_NR_DELAY_POINTS
};

/*
 * Test builds.  The harness builds gosync with GOSYNC_TESTING=1 (kbuild
 * defines GOSYNC_TEST_BUILD then) for make test and make torture only;
 * make, make install and DKMS never do, whatever the kernel's KUnit
 * setting, so a production gosync.ko carries no knob a test turns.
 *
 * GOSYNC_VISIBLE_IF_TESTING: static in production, global in a test build.
 * EXPORT_SYMBOL_IF_GOSYNC_TESTING(): exported in a test build only, in the
 * GOSYNC_TESTING namespace, which only gosync's own test modules import;
 * in production a compile-time check that the symbol exists, so that both
 * builds break on a typo.  Its name starts with EXPORT_SYMBOL so that
 * checkpatch takes its uses for exports.
 */
#ifdef GOSYNC_TEST_BUILD
#define GOSYNC_VISIBLE_IF_TESTING
#define gosync_export_if_testing(sym) \
	EXPORT_SYMBOL_NS_GPL(sym, GOSYNC_TESTING)
#else
#define GOSYNC_VISIBLE_IF_TESTING static
#define gosync_export_if_testing(sym) static_assert(sizeof(typeof(sym) *))
#endif
#define EXPORT_SYMBOL_IF_GOSYNC_TESTING gosync_export_if_testing

#ifdef GOSYNC_TEST_BUILD
DECLARE_STATIC_KEY_FALSE(gosync_delay_points_armed);
void __gosync_delay_point(enum gosync_delay_point point);
void gosync_delay_point_arm(enum gosync_delay_point point, unsigned int max_us);
void gosync_delay_points_disarm(void *unused);
u64 gosync_delay_point_hits(enum gosync_delay_point point);

/* Any context.  A jump over nothing unless a test armed some point. */
static __always_inline void gosync_delay_point(enum gosync_delay_point point)
{
	if (static_branch_unlikely(&gosync_delay_points_armed))
		__gosync_delay_point(point);
}
#else
static __always_inline void gosync_delay_point(enum gosync_delay_point point)
{
}
#endif

/*
 * Nanoseconds since @start, both read with local_clock(): cheap, but two
 * CPUs' clocks may disagree, so a wait that began on another CPU can seem
 * to end before it started.  Such a wait counts as 0, never as a wrapped
 * u64 (which would mark a waiter starving at once and break wait_ns_max).
 */
static inline u64 gosync_ns_since(u64 start)
{
	u64 now = local_clock();

	return now > start ? now - start : 0;
}

/* gosync_dep_map() and gosync_lockdep(): see <gosync/mutex.h>. */
#define gosync_dep_map(obj)		__gosync_dep_map(obj)
#define gosync_lockdep(obj, op, ...)	__gosync_lockdep(obj, op, ##__VA_ARGS__)

/* Module parameter starvation_threshold_ns; tests change it too. */
extern unsigned long gosync_starvation_threshold_ns;

/* Warn once per call site, count the misuse, and evaluate to the condition. */
#define GOSYNC_MISUSE(cond, stat, fmt, ...)				\
	({								\
		bool __misused = !!(cond);				\
		if (unlikely(__misused)) {				\
			gosync_stat_inc(stat);				\
			WARN_ONCE(1, "gosync: " fmt, ##__VA_ARGS__);	\
		}							\
		unlikely(__misused);					\
	})

#endif /* _GOSYNC_INTERNAL_H */
