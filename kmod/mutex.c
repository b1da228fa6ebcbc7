// SPDX-License-Identifier: GPL-2.0
/*
 * gosync mutex: Go's sync.Mutex on kernel machinery.
 *
 * Fairness contract (Go's, kept as is):
 *
 * The mutex has two modes, normal and starvation.
 *
 * In normal mode waiters queue in FIFO order, but a woken waiter does not
 * own the mutex: it competes with tasks that are arriving right now, and
 * those have the advantage of already running on a CPU (and of spinning
 * while the owner runs).  A woken waiter that loses goes back to the *head*
 * of the queue.  This is what makes the mutex fast under contention:
 * a task can lock it several times in a row without a sleep or a wakeup.
 *
 * When a waiter has waited longer than starvation_threshold_ns (1 ms by
 * default) it switches the mutex to starvation mode.  Unlock then hands
 * ownership directly to the waiter at the head of the queue; arriving
 * tasks neither try to take the mutex nor spin, they queue at the tail.
 * The mutex returns to normal mode when the waiter that received it was
 * the last one, or had waited less than the threshold.
 *
 * Normal mode is much faster; starvation mode bounds the tail latency.
 *
 * Unlike the kernel's struct mutex, which hands off after a woken waiter
 * failed once and has no time threshold, the switch here is driven by how
 * long a waiter has actually waited, which is what Go programmers expect.
 *
 * Ordering: a successful lock is an ACQUIRE of @state (cmpxchg_acquire, or
 * for a handoff the bucket lock through which ownership was passed), and
 * unlock is a RELEASE of @state, so everything done before an unlock
 * happens-before the next lock returns.
 */

#include <linux/export.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/sched/debug.h>
#include <linux/sched/signal.h>
#include <trace/events/lock.h>

#include <gosync/mutex.h>
#include "gosync_internal.h"
#include "gosync_trace.h"

/* Go spins at most four times per lock attempt before it sleeps. */
#define GOSYNC_MUTEX_SPIN_ROUNDS	4
/* cpu_relax() steps per round while the owner keeps running. */
#define GOSYNC_MUTEX_SPIN_STEPS		256

unsigned long gosync_starvation_threshold_ns = 1000000;
EXPORT_SYMBOL_GPL(gosync_starvation_threshold_ns);
module_param_named(starvation_threshold_ns, gosync_starvation_threshold_ns,
		   ulong, 0644);
MODULE_PARM_DESC(starvation_threshold_ns,
		 "Wait time after which a waiter switches a gosync mutex to starvation mode (ns)");

/* Mutexes never initialised by name have no class and are not tracked. */
static inline struct lockdep_map *gosync_dep_map(struct gosync_mutex *m)
{
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	return m->dep_map.name ? &m->dep_map : NULL;
#else
	return NULL;
#endif
}

#define gosync_lockdep(m, op, ...)					\
	do {								\
		struct lockdep_map *__map = gosync_dep_map(m);		\
									\
		if (__map)						\
			op(__map, ##__VA_ARGS__);			\
	} while (0)

/**
 * __gosync_mutex_init() - initialise a mutex; use gosync_mutex_init()
 * @m: the mutex
 * @name: its name for lockdep
 * @key: its lockdep class
 */
void __gosync_mutex_init(struct gosync_mutex *m, const char *name,
			 struct lock_class_key *key)
{
	atomic_set(&m->state, 0);
	m->sema = 0;
	m->owner = NULL;
	m->holder_ip = 0;
	m->class_name = name;
	m->class = NULL;
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	lockdep_init_map_wait(&m->dep_map, name, key, 0, LD_WAIT_SLEEP);
#endif
}
EXPORT_SYMBOL_GPL(__gosync_mutex_init);

/* The profile row of @m, looked up (or made) once and then cached. */
static struct gosync_lock_class *gosync_mutex_class(struct gosync_mutex *m)
{
	struct gosync_lock_class *class = READ_ONCE(m->class);

	if (unlikely(!class)) {
		class = gosync_lock_class_get(m->class_name);
		WRITE_ONCE(m->class, class);
	}
	return class;
}

/*
 * Count into the profile row of @m, when counting is on: the row is not
 * even looked up (or made) while the "stats" parameter is N.
 */
#define gosync_mutex_profile(m, op, ...)				\
	do {								\
		if (static_branch_likely(&gosync_stats_enabled))	\
			op(gosync_mutex_class(m), ##__VA_ARGS__);	\
	} while (0)

/* Every successful lock: who holds it, from where, and the counts. */
static __always_inline void gosync_mutex_acquired(struct gosync_mutex *m,
						  unsigned long ip)
{
	WRITE_ONCE(m->owner, current);
	WRITE_ONCE(m->holder_ip, ip);
	gosync_stat_inc(GOSYNC_STAT_MUTEX_ACQUIRED);
	gosync_mutex_profile(m, gosync_lock_class_acquired);
}

/**
 * gosync_mutex_is_locked() - whether a task owns the mutex
 * @m: the mutex
 *
 * Return: true while locked, including during a handoff.  A snapshot only.
 */
bool gosync_mutex_is_locked(const struct gosync_mutex *m)
{
	return atomic_read(&m->state) &
	       (GOSYNC_MUTEX_LOCKED | GOSYNC_MUTEX_STARVING);
}
EXPORT_SYMBOL_GPL(gosync_mutex_is_locked);

/**
 * gosync_mutex_is_starving() - whether the mutex is in starvation mode
 * @m: the mutex
 *
 * Return: true while unlock hands ownership to waiters.  A snapshot only.
 */
bool gosync_mutex_is_starving(const struct gosync_mutex *m)
{
	return atomic_read(&m->state) & GOSYNC_MUTEX_STARVING;
}
EXPORT_SYMBOL_GPL(gosync_mutex_is_starving);

static bool gosync_mutex_can_spin(struct gosync_mutex *m, int state,
				  unsigned int round)
{
	struct task_struct *owner;
	bool running;

	if ((state & (GOSYNC_MUTEX_LOCKED | GOSYNC_MUTEX_STARVING)) !=
	    GOSYNC_MUTEX_LOCKED)
		return false;
	if (round >= GOSYNC_MUTEX_SPIN_ROUNDS || need_resched())
		return false;
	/* task_struct is freed after a grace period: safe to peek under RCU. */
	rcu_read_lock();
	owner = READ_ONCE(m->owner);
	running = owner && owner != current && owner_on_cpu(owner);
	rcu_read_unlock();
	return running;
}

/* Spin while the same owner keeps running, bounded; true if it let go. */
static bool gosync_mutex_spin_on_owner(struct gosync_mutex *m)
{
	struct task_struct *owner;
	unsigned int step;
	bool released = false;

	rcu_read_lock();
	owner = READ_ONCE(m->owner);
	for (step = 0; step < GOSYNC_MUTEX_SPIN_STEPS; step++) {
		if (!(atomic_read(&m->state) & GOSYNC_MUTEX_LOCKED)) {
			released = true;
			break;
		}
		if (READ_ONCE(m->owner) != owner || !owner ||
		    !owner_on_cpu(owner) || need_resched())
			break;
		cpu_relax();
	}
	rcu_read_unlock();
	return released;
}

/*
 * Pass the right to be woken on: wake the head waiter unless the mutex is
 * locked, a task is already woken, the mutex is starving, or nobody waits.
 * Go's unlockSlow() in normal mode.
 */
static void gosync_mutex_wake_one(struct gosync_mutex *m, int old)
{
	int new;

	for (;;) {
		if (!gosync_mutex_waiters(old) ||
		    (old & (GOSYNC_MUTEX_LOCKED | GOSYNC_MUTEX_WOKEN |
			    GOSYNC_MUTEX_STARVING)))
			return;
		new = (old - GOSYNC_MUTEX_ONE_WAITER) | GOSYNC_MUTEX_WOKEN;
		if (atomic_try_cmpxchg_relaxed(&m->state, &old, new))
			break;
	}
	gosync_sema_release(m, &m->sema, 1, false);
}

/* Count a switch of mode made by the state change @old -> @new, if any. */
static void gosync_mutex_note_mode(struct gosync_mutex *m, int old, int new)
{
	if ((old & GOSYNC_MUTEX_STARVING) && !(new & GOSYNC_MUTEX_STARVING)) {
		gosync_stat_inc(GOSYNC_STAT_MUTEX_STARVATION_LEFT);
		trace_gosync_mutex_starvation(m, false);
	} else if (!(old & GOSYNC_MUTEX_STARVING) && (new & GOSYNC_MUTEX_STARVING)) {
		gosync_stat_inc(GOSYNC_STAT_MUTEX_STARVATION_ENTERED);
		gosync_mutex_profile(m, gosync_lock_class_starved);
		trace_gosync_mutex_starvation(m, true);
	}
}

/* Ownership goes straight to the head waiter (starvation mode). */
static void gosync_mutex_hand_off(struct gosync_mutex *m)
{
	gosync_stat_inc(GOSYNC_STAT_MUTEX_HANDOFFS);
	gosync_mutex_profile(m, gosync_lock_class_handoff);
	gosync_sema_release(m, &m->sema, 1, true);
}

/*
 * Subtract one waiter who will not take the mutex; the last waiter to go
 * takes starvation mode with it, because unlock in starvation mode needs a
 * waiter to hand off to.  Returns the new state.
 */
static int gosync_mutex_drop_waiter(struct gosync_mutex *m, int old)
{
	int new;

	do {
		new = old - GOSYNC_MUTEX_ONE_WAITER;
		if (!gosync_mutex_waiters(new))
			new &= ~GOSYNC_MUTEX_STARVING;
	} while (!atomic_try_cmpxchg_relaxed(&m->state, &old, new));
	gosync_mutex_note_mode(m, old, new);
	return new;
}

/*
 * Called with the parking bucket locked by a waiter whose wait was
 * interrupted or timed out before it received a wakeup.  It may go only if
 * no wakeup is already aimed at it: in normal mode when some counted waiter
 * is still unclaimed by an unlock, in starvation mode unless a handoff is
 * in flight and it is the only waiter left to receive it.
 */
static bool gosync_mutex_may_leave(const void *object)
{
	struct gosync_mutex *m = (struct gosync_mutex *)object;
	int old = atomic_read(&m->state);

	if (!gosync_mutex_waiters(old))
		return false;
	if ((old & (GOSYNC_MUTEX_STARVING | GOSYNC_MUTEX_LOCKED)) ==
	    GOSYNC_MUTEX_STARVING && gosync_mutex_waiters(old) == 1)
		return false;
	gosync_mutex_drop_waiter(m, old);
	return true;
}

/*
 * A waiter gives up after it received a wakeup anyway: pass that wakeup
 * on, so that no waiter is left sleeping on a mutex nobody holds.  A
 * handoff is taken and immediately given to the next waiter; a normal
 * wakeup clears WOKEN (it was ours) and wakes the next waiter if the
 * mutex is free.
 */
static void gosync_mutex_pass_wakeup(struct gosync_mutex *m)
{
	int old = atomic_read(&m->state);
	int new;

	if (old & GOSYNC_MUTEX_STARVING) {
		new = gosync_mutex_drop_waiter(m, old);
		if (new & GOSYNC_MUTEX_STARVING)
			gosync_mutex_hand_off(m);
		return;
	}
	do {
		new = old & ~GOSYNC_MUTEX_WOKEN;
	} while (!atomic_try_cmpxchg_relaxed(&m->state, &old, new));
	gosync_mutex_wake_one(m, new);
}

/*
 * Go's lockSlow().  Returns 0 with the mutex locked, or -EINTR/-ETIMEDOUT
 * with no trace of this task left in the state word.
 */
static int __sched gosync_mutex_lock_slowpath(struct gosync_mutex *m,
					      unsigned int task_state,
					      long timeout)
{
	struct gosync_sema_waiter waiter;
	unsigned int spin_round = 0;
	bool starving = false, awoke = false, spun = false, requeue;
	u64 wait_start = 0, waited;
	unsigned long blamed_ip = 0;
	int old = atomic_read(&m->state);
	int new, err = 0;

	gosync_stat_inc(GOSYNC_STAT_MUTEX_CONTENDED);
	gosync_mutex_profile(m, gosync_lock_class_contended);
	for (;;) {
		if (gosync_mutex_can_spin(m, old, spin_round)) {
			/* Tell unlock not to wake a sleeper: we are about to take it. */
			if (!awoke && !(old & GOSYNC_MUTEX_WOKEN) &&
			    gosync_mutex_waiters(old) &&
			    atomic_try_cmpxchg_relaxed(&m->state, &old,
						       old | GOSYNC_MUTEX_WOKEN))
				awoke = true;
			gosync_mutex_spin_on_owner(m);
			spin_round++;
			spun = true;
			old = atomic_read(&m->state);
			continue;
		}
		new = old;
		/* Arriving tasks must not take a starving mutex: they queue. */
		if (!(old & GOSYNC_MUTEX_STARVING))
			new |= GOSYNC_MUTEX_LOCKED;
		if (old & (GOSYNC_MUTEX_LOCKED | GOSYNC_MUTEX_STARVING))
			new += GOSYNC_MUTEX_ONE_WAITER;
		/* Starvation mode only while locked: unlock expects waiters. */
		if (starving && (old & GOSYNC_MUTEX_LOCKED))
			new |= GOSYNC_MUTEX_STARVING;
		if (awoke) {
			WARN_ON_ONCE(!(new & GOSYNC_MUTEX_WOKEN));
			new &= ~GOSYNC_MUTEX_WOKEN;
		}
		if (!atomic_try_cmpxchg_acquire(&m->state, &old, new))
			continue;
		if (!(old & (GOSYNC_MUTEX_LOCKED | GOSYNC_MUTEX_STARVING))) {
			if (spun && !wait_start)
				gosync_stat_inc(GOSYNC_STAT_MUTEX_SPIN_ACQUIRED);
			break;
		}
		gosync_mutex_note_mode(m, old, new);

		requeue = wait_start != 0;
		if (!requeue) {
			wait_start = local_clock();
			/* Blame the wait on where the holder took the mutex. */
			blamed_ip = READ_ONCE(m->holder_ip);
			trace_contention_begin(m, LCB_F_MUTEX);
			trace_gosync_mutex_wait_begin(m);
		}
		gosync_stat_inc(GOSYNC_STAT_MUTEX_SLEPT);
		/* A waiter that was woken and lost goes back to the head. */
		err = gosync_sema_acquire(m, &m->sema, &waiter, requeue,
					  task_state, &timeout,
					  gosync_mutex_may_leave);
		if (err) {
			if (waiter.granted)
				gosync_mutex_pass_wakeup(m);
			gosync_stat_inc(GOSYNC_STAT_MUTEX_GAVE_UP);
			break;
		}
		starving = starving ||
			   local_clock() - wait_start > READ_ONCE(gosync_starvation_threshold_ns);
		old = atomic_read(&m->state);
		if (old & GOSYNC_MUTEX_STARVING) {
			/*
			 * Ownership was handed to us: LOCKED is clear and we
			 * are still counted as a waiter.  Leave starvation
			 * mode if we were the last waiter or did not wait long:
			 * two tasks could otherwise pass the mutex back and
			 * forth in the slow mode forever.
			 */
			int delta = GOSYNC_MUTEX_LOCKED - GOSYNC_MUTEX_ONE_WAITER;

			WARN_ON_ONCE(old & (GOSYNC_MUTEX_LOCKED | GOSYNC_MUTEX_WOKEN) ||
				     !gosync_mutex_waiters(old));
			if (!starving || gosync_mutex_waiters(old) == 1)
				delta -= GOSYNC_MUTEX_STARVING;
			gosync_mutex_note_mode(m, old, old + delta);
			atomic_add(delta, &m->state);
			break;
		}
		awoke = true;
		spin_round = 0;
		old = atomic_read(&m->state);
	}

	if (wait_start) {
		waited = local_clock() - wait_start;
		gosync_stat_add(GOSYNC_STAT_MUTEX_WAIT_NS_TOTAL, waited);
		gosync_stat_max(GOSYNC_STAT_MUTEX_WAIT_NS_MAX, waited);
		gosync_mutex_profile(m, gosync_lock_class_waited, waited, blamed_ip);
		gosync_wait_hist_add(GOSYNC_WAIT_MUTEX, waited);
		trace_contention_end(m, err);
		trace_gosync_mutex_wait_end(m, waited, err);
	}
	return err;
}

static __always_inline int gosync_mutex_lock_common(struct gosync_mutex *m,
						    unsigned int task_state,
						    long timeout,
						    unsigned long ip)
{
	int old = 0;
	int err;

	might_sleep();
	gosync_lockdep(m, mutex_acquire, 0, 0, ip);
	if (unlikely(!atomic_try_cmpxchg_acquire(&m->state, &old,
						 GOSYNC_MUTEX_LOCKED))) {
		gosync_lockdep(m, lock_contended, ip);
		err = gosync_mutex_lock_slowpath(m, task_state, timeout);
		if (err) {
			gosync_lockdep(m, mutex_release, ip);
			return err;
		}
	}
	gosync_lockdep(m, lock_acquired, ip);
	gosync_mutex_acquired(m, ip);
	return 0;
}

/**
 * gosync_mutex_lock() - lock a mutex, sleeping until it is available
 * @m: the mutex
 *
 * Context: process context; may sleep.
 */
void __sched gosync_mutex_lock(struct gosync_mutex *m)
{
	gosync_mutex_lock_common(m, TASK_UNINTERRUPTIBLE, MAX_SCHEDULE_TIMEOUT,
				 _RET_IP_);
}
EXPORT_SYMBOL_GPL(gosync_mutex_lock);

/*
 * gosync_mutex_lock() for gosync's own once and seqlock, which pass their
 * caller's address: the profile should blame the client's call site.
 */
void __sched gosync_mutex_lock_at(struct gosync_mutex *m, unsigned long ip)
{
	gosync_mutex_lock_common(m, TASK_UNINTERRUPTIBLE, MAX_SCHEDULE_TIMEOUT,
				 ip);
}

/**
 * gosync_mutex_lock_interruptible() - lock a mutex unless a signal arrives
 * @m: the mutex
 *
 * Context: process context; may sleep.
 * Return: 0 with the mutex locked, or -EINTR without it.
 */
int __sched gosync_mutex_lock_interruptible(struct gosync_mutex *m)
{
	return gosync_mutex_lock_common(m, TASK_INTERRUPTIBLE,
					MAX_SCHEDULE_TIMEOUT, _RET_IP_);
}
EXPORT_SYMBOL_GPL(gosync_mutex_lock_interruptible);

/**
 * gosync_mutex_lock_killable() - lock a mutex unless the task is killed
 * @m: the mutex
 *
 * Context: process context; may sleep.
 * Return: 0 with the mutex locked, or -EINTR without it.
 */
int __sched gosync_mutex_lock_killable(struct gosync_mutex *m)
{
	return gosync_mutex_lock_common(m, TASK_KILLABLE, MAX_SCHEDULE_TIMEOUT,
					_RET_IP_);
}
EXPORT_SYMBOL_GPL(gosync_mutex_lock_killable);

/**
 * gosync_mutex_lock_timeout() - lock a mutex, giving up after a while
 * @m: the mutex
 * @timeout: how long to wait, in jiffies; 0 only tries
 *
 * Context: process context; may sleep.
 * Return: 0 with the mutex locked, or -ETIMEDOUT without it.
 */
int __sched gosync_mutex_lock_timeout(struct gosync_mutex *m,
				      unsigned long timeout)
{
	long jiffies_left = min_t(unsigned long, timeout, MAX_SCHEDULE_TIMEOUT);

	return gosync_mutex_lock_common(m, TASK_UNINTERRUPTIBLE, jiffies_left,
					_RET_IP_);
}
EXPORT_SYMBOL_GPL(gosync_mutex_lock_timeout);

/**
 * gosync_mutex_trylock() - lock a mutex if that needs no waiting
 * @m: the mutex
 *
 * Fails while the mutex is locked and while it is starving: waiters that
 * have waited too long come first.
 *
 * Context: any context where the caller may later call unlock.
 * Return: true with the mutex locked, false without it.
 */
bool gosync_mutex_trylock(struct gosync_mutex *m)
{
	int old = atomic_read(&m->state);

	do {
		if (old & (GOSYNC_MUTEX_LOCKED | GOSYNC_MUTEX_STARVING))
			return false;
	} while (!atomic_try_cmpxchg_acquire(&m->state, &old,
					     old | GOSYNC_MUTEX_LOCKED));
	gosync_lockdep(m, mutex_acquire, 0, 1, _RET_IP_);
	gosync_mutex_acquired(m, _RET_IP_);
	return true;
}
EXPORT_SYMBOL_GPL(gosync_mutex_trylock);

static void gosync_mutex_unlock_slowpath(struct gosync_mutex *m, int old,
					 unsigned long ip)
{
	int new;

	do {
		if (GOSYNC_MISUSE(!(old & GOSYNC_MUTEX_LOCKED),
				  GOSYNC_STAT_MUTEX_MISUSE,
				  "unlock of unlocked mutex %ps\n", m))
			return;
		new = old - GOSYNC_MUTEX_LOCKED;
	} while (!atomic_try_cmpxchg_release(&m->state, &old, new));
	gosync_lockdep(m, mutex_release, ip);

	if (!(new & GOSYNC_MUTEX_STARVING)) {
		gosync_mutex_wake_one(m, new);
		return;
	}
	/*
	 * Starvation mode: hand ownership to the head waiter.  LOCKED stays
	 * clear until it runs, but STARVING keeps everybody else out.
	 */
	gosync_mutex_hand_off(m);
}

/**
 * gosync_mutex_unlock() - unlock a mutex
 * @m: the mutex, locked by the calling task
 *
 * Unlocking an unlocked mutex warns once, counts "mutex.misuse" and
 * changes nothing.
 *
 * Context: any context; never sleeps.
 */
void gosync_mutex_unlock(struct gosync_mutex *m)
{
	int old = GOSYNC_MUTEX_LOCKED;

	/* Cleared first: spinners must not spin on a task that let go. */
	WRITE_ONCE(m->owner, NULL);
	if (likely(atomic_try_cmpxchg_release(&m->state, &old, 0))) {
		gosync_lockdep(m, mutex_release, _RET_IP_);
		return;
	}
	gosync_mutex_unlock_slowpath(m, old, _RET_IP_);
}
EXPORT_SYMBOL_GPL(gosync_mutex_unlock);
