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

/*
 * How long a lock call spins on a running owner, from its first spin (and
 * again from each wakeup), before it queues and sleeps.  Go spins four
 * short rounds, because it cannot see whether the owner runs; the kernel's
 * mutex spins for as long as its owner runs.  gosync spins while the owner
 * runs but within this budget: a task that keeps losing the race for the
 * mutex to other spinners or arrivals must queue in the end, because only a
 * queued waiter's wait starts the clock of starvation mode.
 */
#define GOSYNC_MUTEX_SPIN_NS		(50 * NSEC_PER_USEC)
/* cpu_relax() steps per spin on one owner, between budget checks. */
#define GOSYNC_MUTEX_SPIN_STEPS		256
/*
 * Spins in a row that may begin with no owner published: that state is
 * short unless the holder was preempted right after taking the mutex.
 */
#define GOSYNC_MUTEX_SPIN_UNOWNED	4

/* The spinning of one lock call, reset at each wakeup. */
struct gosync_mutex_spin {
	u64 end;		/* local_clock() deadline, 0 before the first spin */
	unsigned int unowned;	/* spins in a row begun with no owner */
};

unsigned long gosync_starvation_threshold_ns = 1000000;
EXPORT_SYMBOL_GPL(gosync_starvation_threshold_ns);
module_param_named(starvation_threshold_ns, gosync_starvation_threshold_ns,
		   ulong, 0644);
MODULE_PARM_DESC(starvation_threshold_ns,
		 "Wait time after which a waiter switches a gosync mutex to starvation mode (ns)");

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
	m->counts = NULL;
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	lockdep_init_map_wait(&m->dep_map, name, key, 0, LD_WAIT_SLEEP);
#endif
}
EXPORT_SYMBOL_GPL(__gosync_mutex_init);

/*
 * Find (or make) the profile row of @m and cache its counts in @m; NULL where
 * PREEMPT_RT cannot make a row (see gosync_lock_class_get()).  Out of line:
 * it runs once per mutex, and keeping it out keeps the lock fast path short.
 */
static noinline struct gosync_lock_class *
gosync_mutex_class_find(struct gosync_mutex *m)
{
	struct gosync_lock_class *class = gosync_lock_class_get(m->class_name);

	if (class) {
		/*
		 * Release: a task that finds the pointer (an address
		 * dependency on its side) must also see the row's per-CPU
		 * copies as they were set up, back-pointer to the row included.
		 */
		smp_store_release(&m->counts, class->counts);
	}
	return class;
}

/*
 * The profile row of @m, or NULL while counting is off: the row is not even
 * looked up (or made) while the "stats" parameter is N.  Found (or made)
 * once, then reached through the per-CPU counts cached in @m, which point
 * back to it.  Every lock call finds it before it returns, so it is
 * normally cached already on the paths that cannot allocate (unlock,
 * trylock under a raw spinlock); there, on PREEMPT_RT, a row that does not
 * exist yet is not made and NULL is returned: such a call is not counted
 * in the profile.
 */
static __always_inline struct gosync_lock_class *
gosync_mutex_class(struct gosync_mutex *m)
{
	struct gosync_lock_counts __percpu *counts;

	if (!static_branch_likely(&gosync_stats_enabled))
		return NULL;
	counts = READ_ONCE(m->counts);
	if (unlikely(!counts))
		return gosync_mutex_class_find(m);
	/* The same on every CPU: preemption may move us, it does not matter. */
	return this_cpu_read(counts->class);
}

/* Count into the profile row of @m, when counting is on and it has one. */
#define gosync_mutex_profile(m, op, ...)				\
	do {								\
		struct gosync_lock_class *__class = gosync_mutex_class(m); \
									\
		if (__class)						\
			op(__class, ##__VA_ARGS__);			\
	} while (0)

/**
 * __gosync_mutex_count_first() - count a lock of a mutex with no row cached
 * @m: the mutex, just locked by the calling task
 *
 * For the inline lock path (<gosync/mutex.h>): the first lock of @m with
 * counting on (the row is found or made then, and cached), or a lock on
 * PREEMPT_RT where no row can be made yet.  The latter is counted in
 * "mutex.acquired" only, through its per-CPU stat, which reads as its own
 * count plus the rows' (see gosync_stat_read()).
 *
 * Context: task context, as the lock call that took @m.
 */
void __gosync_mutex_count_first(struct gosync_mutex *m)
{
	struct gosync_lock_class *class = gosync_mutex_class_find(m);

	if (class)
		gosync_lock_class_acquired(class);
	else
		gosync_stat_inc(GOSYNC_STAT_MUTEX_ACQUIRED);
}
EXPORT_SYMBOL_GPL(__gosync_mutex_count_first);

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

/*
 * Whether the spin budget still runs, starting it if it has not started:
 * a task that keeps being asked to yield queues in the end, like one that
 * keeps spinning.
 */
static bool gosync_mutex_spin_budget_left(struct gosync_mutex_spin *spin)
{
	u64 now = local_clock();

	if (!spin->end)
		spin->end = now + GOSYNC_MUTEX_SPIN_NS;
	return now <= spin->end;
}

/*
 * Whether to spin rather than sleep: the mutex is locked in normal mode,
 * its owner is running, this CPU is not wanted by another task and the
 * spin budget (GOSYNC_MUTEX_SPIN_NS from the first spin) is not spent.
 * Seeing the mutex released and losing the race for it does not end the
 * spinning, as it does not for the kernel's mutex: a spinner that gave up
 * after a few lost races would queue, and one queued waiter turns every
 * later unlock into a slow one that wakes it.
 *
 * A locked mutex with no owner is one whose holder has just taken it and
 * not yet published itself, or is just releasing it: worth a spin too, but
 * only GOSYNC_MUTEX_SPIN_UNOWNED in a row.  The kernel's mutex has no such
 * state (its owner is its lock word); rwsem writers spin on an unpublished
 * owner the same way.  A spinner that preempted such a holder on its own
 * CPU cannot tell, and spins those few rounds before it sleeps.
 */
static bool gosync_mutex_can_spin(struct gosync_mutex *m, int state,
				  struct gosync_mutex_spin *spin)
{
	struct task_struct *owner;
	bool running;
	u64 now;

	lockdep_assert_preemption_disabled();
	if ((state & (GOSYNC_MUTEX_LOCKED | GOSYNC_MUTEX_STARVING)) !=
	    GOSYNC_MUTEX_LOCKED || need_resched())
		return false;
	now = local_clock();
	if (!spin->end)
		spin->end = now + GOSYNC_MUTEX_SPIN_NS;
	else if (now > spin->end)
		return false;
	/* task_struct is freed after a grace period: safe to peek under RCU. */
	rcu_read_lock();
	owner = READ_ONCE(m->owner);
	if (owner)
		spin->unowned = 0;
	running = owner ? owner != current && owner_on_cpu(owner) :
		  ++spin->unowned <= GOSYNC_MUTEX_SPIN_UNOWNED;
	rcu_read_unlock();
	return running;
}

/*
 * Spin while the same owner keeps running (or, with no owner published
 * yet, until one is), bounded; true if it let go.
 */
static bool gosync_mutex_spin_on_owner(struct gosync_mutex *m)
{
	struct task_struct *owner;
	unsigned int step;
	bool released = false;

	lockdep_assert_preemption_disabled();
	rcu_read_lock();
	owner = READ_ONCE(m->owner);
	for (step = 0; step < GOSYNC_MUTEX_SPIN_STEPS; step++) {
		if (!(atomic_read(&m->state) & GOSYNC_MUTEX_LOCKED)) {
			released = true;
			break;
		}
		if (READ_ONCE(m->owner) != owner ||
		    (owner && !owner_on_cpu(owner)) || need_resched())
			break;
		cpu_relax();
	}
	rcu_read_unlock();
	return released;
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

/*
 * Whether a task that makes the mutex @state must wake a waiter: Go's
 * unlockSlow() in normal mode wakes the head waiter unless the mutex is
 * locked, a task is already woken, the mutex is starving, or nobody waits.
 * The waiter woken is no longer counted, and WOKEN is set for it.
 */
static bool gosync_mutex_must_wake(int state)
{
	return gosync_mutex_waiters(state) &&
	       !(state & (GOSYNC_MUTEX_LOCKED | GOSYNC_MUTEX_WOKEN |
			  GOSYNC_MUTEX_STARVING));
}

#define GOSYNC_MUTEX_WAKE_ONE(state) \
	(((state) - GOSYNC_MUTEX_ONE_WAITER) | GOSYNC_MUTEX_WOKEN)

/*
 * @old without one waiter.  The last waiter to go takes starvation mode
 * with it, because unlock in starvation mode needs a waiter to hand off to.
 */
static int gosync_mutex_less_one_waiter(int old)
{
	int new = old - GOSYNC_MUTEX_ONE_WAITER;

	if (!gosync_mutex_waiters(new))
		new &= ~GOSYNC_MUTEX_STARVING;
	return new;
}

/*
 * Deliver the wakeup (or, in starvation mode, the ownership) that a state
 * change just made by this task promised to a waiter.
 *
 * Preemption stays disabled from that cmpxchg to here: a waiter that gives
 * up may have to wait, uninterruptibly, for exactly this unit (see
 * gosync_mutex_may_leave()), so the window must not stretch over a
 * preemption of this task.  The unit travels under the parking bucket
 * lock, which orders everything before the release before the receiver's
 * return; for the same reason it is safe for unlock to touch @m->sema after
 * releasing the mutex: until the unit is delivered, at least one task is
 * inside a lock call on @m and cannot return.
 */
static void gosync_mutex_deliver(struct gosync_mutex *m,
				 struct gosync_lock_class *class, bool handoff)
{
	lockdep_assert_preemption_disabled();
	if (handoff) {
		gosync_stat_inc(GOSYNC_STAT_MUTEX_HANDOFFS);
		if (class)
			gosync_lock_class_handoff(class);
	}
	gosync_sema_release(m, &m->sema, 1, handoff);
	/* From here on the receiver may return and free @m. */
	gosync_delay_point(GOSYNC_DELAY_MUTEX_UNLOCK_AFTER_WAKE);
}

/*
 * Called under the parking bucket lock by a waiter whose wait was
 * interrupted or timed out before it received a unit.  While that lock is
 * held no unit reaches a queued waiter, but unlock changes the state word
 * before it takes the lock, so the decision is made again on every value
 * the cmpxchg finds, never on a stale one:
 *  - normal mode: each counted waiter is one that no wakeup has claimed
 *    yet; with none left, every queued waiter, this one included, has a
 *    wakeup on its way, and this one must wait for its own;
 *  - starvation mode, unlocked: a handoff is on its way to the head waiter;
 *    if this is the last counted waiter, the handoff is its own;
 *  - starvation mode, locked: no handoff is in flight, the waiter may go.
 * Returns true after removing the waiter from the state word.
 */
static bool gosync_mutex_may_leave(const void *object)
{
	struct gosync_mutex *m = (struct gosync_mutex *)object;
	int old = atomic_read(&m->state);
	int new;

	do {
		if (!gosync_mutex_waiters(old))
			return false;
		if ((old & (GOSYNC_MUTEX_STARVING | GOSYNC_MUTEX_LOCKED)) ==
		    GOSYNC_MUTEX_STARVING && gosync_mutex_waiters(old) == 1)
			return false;
		new = gosync_mutex_less_one_waiter(old);
		gosync_delay_point(GOSYNC_DELAY_MUTEX_GIVE_UP_BEFORE_LEAVE);
	} while (!atomic_try_cmpxchg_relaxed(&m->state, &old, new));
	gosync_mutex_note_mode(m, old, new);
	return true;
}

/*
 * A waiter gives up after it received a unit anyway: pass the unit on, so
 * that no waiter is left asleep on a mutex nobody holds.  A handoff (the
 * mutex is starving, and stays so until its receiver runs) goes to the
 * next waiter, or if this was the last one, the mutex is left free in
 * normal mode.  A normal wakeup set WOKEN for us: clear it, and wake the
 * next waiter in our place if the mutex is free.
 */
static void gosync_mutex_pass_wakeup(struct gosync_mutex *m)
{
	/* Looked up while this may still allocate (PREEMPT_RT). */
	struct gosync_lock_class *class = gosync_mutex_class(m);
	int old = atomic_read(&m->state);
	bool wake;
	int new;

	preempt_disable();
	do {
		if (old & GOSYNC_MUTEX_STARVING) {
			new = gosync_mutex_less_one_waiter(old);
			wake = new & GOSYNC_MUTEX_STARVING;
			continue;
		}
		WARN_ON_ONCE(!(old & GOSYNC_MUTEX_WOKEN));
		new = old & ~GOSYNC_MUTEX_WOKEN;
		wake = gosync_mutex_must_wake(new);
		if (wake)
			new = GOSYNC_MUTEX_WAKE_ONE(new);
	} while (!atomic_try_cmpxchg_relaxed(&m->state, &old, new));
	gosync_mutex_note_mode(m, old, new);
	if (wake)
		gosync_mutex_deliver(m, class, new & GOSYNC_MUTEX_STARVING);
	preempt_enable();
}

/*
 * How long a waiter that queued at @wait_start may still sleep before it
 * has waited past the starvation threshold; at least 1 ns.  Go's waiter
 * notices the threshold only when an unlock wakes it, which behind other
 * waiters may be many hold times later.  A gosync waiter sleeps with a
 * timer for this long, then wakes itself (gosync_mutex_wake_self()) and
 * goes on as a woken waiter that is starving.
 */
static u64 gosync_mutex_starving_in(u64 wait_start)
{
	u64 threshold = READ_ONCE(gosync_starvation_threshold_ns);
	u64 waited = gosync_ns_since(wait_start);

	return waited < threshold ? threshold - waited : 1;
}

/*
 * Called under the parking bucket lock by a queued waiter whose recheck
 * timer fired: do for this waiter what unlock in normal mode does for the
 * head waiter, in one cmpxchg: subtract one waiter and set WOKEN.  Only
 * while nobody holds WOKEN and the mutex is not starving, as for unlock;
 * unlike unlock, also while the mutex is locked: a woken waiter may find
 * it locked anyway and queue again.  The waiter is not granted yet (the
 * bucket lock keeps releases out), so a count above zero has an unclaimed
 * waiter in it, which may as well be this one: the count stays exact, as
 * in gosync_mutex_may_leave().  WOKEN, held by this waiter, keeps Go's
 * rule that only a woken waiter switches the mutex to starvation mode,
 * which a woken waiter's test for a handoff (the STARVING bit) relies on.
 * Returns true after claiming the wakeup.
 */
static bool gosync_mutex_wake_self(const void *object)
{
	struct gosync_mutex *m = (struct gosync_mutex *)object;
	int old = atomic_read(&m->state);

	do {
		if (!gosync_mutex_waiters(old) ||
		    (old & (GOSYNC_MUTEX_WOKEN | GOSYNC_MUTEX_STARVING)))
			return false;
	} while (!atomic_try_cmpxchg_relaxed(&m->state, &old,
					     GOSYNC_MUTEX_WAKE_ONE(old)));
	return true;
}

/*
 * The receiver of a handoff takes the mutex: LOCKED is clear and it is
 * still counted as a waiter.  It leaves starvation mode if it is the last
 * waiter or did not wait long: two tasks could otherwise pass the mutex
 * back and forth in the slow mode forever.  Waiters may give up meanwhile,
 * so the decision is made on the value the cmpxchg finds.
 */
static void gosync_mutex_take_handoff(struct gosync_mutex *m, int old,
				      bool starving)
{
	int new;

	do {
		WARN_ON_ONCE(old & (GOSYNC_MUTEX_LOCKED | GOSYNC_MUTEX_WOKEN) ||
			     !gosync_mutex_waiters(old));
		new = old + GOSYNC_MUTEX_LOCKED - GOSYNC_MUTEX_ONE_WAITER;
		if (!starving || gosync_mutex_waiters(old) == 1)
			new &= ~GOSYNC_MUTEX_STARVING;
		gosync_delay_point(GOSYNC_DELAY_MUTEX_HANDOFF_BEFORE_TAKE);
	} while (!atomic_try_cmpxchg_acquire(&m->state, &old, new));
	gosync_mutex_note_mode(m, old, new);
}

/*
 * Go's lockSlow().  Returns 0 with the mutex locked, or -EINTR/-ETIMEDOUT
 * with no trace of this task left in the state word.
 */
static int __sched gosync_mutex_lock_slowpath(struct gosync_mutex *m,
					      unsigned int task_state,
					      long timeout, unsigned long ip)
{
	struct gosync_sema_waiter waiter;
	struct gosync_mutex_spin spin = { };
	bool starving = false, awoke = false, spun = false, requeue;
	u64 wait_start = 0, waited;
	unsigned long blamed_ip = 0;
	int old = atomic_read(&m->state);
	int new, err = 0;

	gosync_stat_inc(GOSYNC_STAT_MUTEX_CONTENDED);
	gosync_mutex_profile(m, gosync_lock_class_contended);
	/*
	 * Preemption stays off while this task may spin, and so while it may
	 * own WOKEN: unlock wakes nobody while WOKEN is set, so a spinner
	 * preempted with it would keep every waiter asleep on a mutex that
	 * is released again and again, for as long as it is off its CPU.
	 * It is turned on only to yield (below) and to sleep.
	 */
	preempt_disable();
	for (;;) {
		if (gosync_mutex_can_spin(m, old, &spin)) {
			/* Tell unlock not to wake a sleeper: we are about to take it. */
			if (!awoke && !(old & GOSYNC_MUTEX_WOKEN) &&
			    gosync_mutex_waiters(old) &&
			    atomic_try_cmpxchg_relaxed(&m->state, &old,
						       old | GOSYNC_MUTEX_WOKEN))
				awoke = true;
			gosync_mutex_spin_on_owner(m);
			spun = true;
			old = atomic_read(&m->state);
			continue;
		}
		/*
		 * Another task wants this CPU while the mutex is busy: let it
		 * run, staying runnable rather than queueing.  A queued waiter
		 * would make every unlock take the slow path and wake it.  Not
		 * while this task owns WOKEN, which keeps unlock from waking
		 * anybody else; and within the spin budget (started here if
		 * no spin started it), so that a task that keeps losing still
		 * queues in the end.
		 */
		if (!awoke && need_resched() &&
		    (old & (GOSYNC_MUTEX_LOCKED | GOSYNC_MUTEX_STARVING)) ==
		    GOSYNC_MUTEX_LOCKED && gosync_mutex_spin_budget_left(&spin)) {
			/* Switches here on PREEMPT and RT, in cond_resched() else. */
			preempt_enable();
			cond_resched();
			preempt_disable();
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
		waiter.recheck_ns = starving ? 0 :
				    gosync_mutex_starving_in(wait_start);
		waiter.recheck = gosync_mutex_wake_self;
		/* A waiter that was woken and lost goes back to the head. */
		preempt_enable();
		err = gosync_sema_acquire(m, &m->sema, &waiter, requeue,
					  task_state, &timeout,
					  gosync_mutex_may_leave);
		if (err) {
			if (waiter.granted)
				gosync_mutex_pass_wakeup(m);
			gosync_stat_inc(GOSYNC_STAT_MUTEX_GAVE_UP);
			preempt_disable();
			break;
		}
		preempt_disable();
		starving = starving ||
			   gosync_ns_since(wait_start) >
			   READ_ONCE(gosync_starvation_threshold_ns);
		old = atomic_read(&m->state);
		if (old & GOSYNC_MUTEX_STARVING) {
			gosync_mutex_take_handoff(m, old, starving);
			break;
		}
		awoke = true;
		spin = (struct gosync_mutex_spin){ };
		old = atomic_read(&m->state);
	}

	/*
	 * Ownership first: the accounting below runs inside the critical
	 * section, and arriving tasks spin only on a published owner.
	 */
	if (!err) {
		gosync_lockdep(m, lock_acquired, ip);
		__gosync_mutex_acquired(m, ip);
	}
	preempt_enable();
	if (wait_start) {
		waited = gosync_ns_since(wait_start);
		gosync_stat_add(GOSYNC_STAT_MUTEX_WAIT_NS_TOTAL, waited);
		gosync_stat_max(GOSYNC_STAT_MUTEX_WAIT_NS_MAX, waited);
		gosync_mutex_profile(m, gosync_lock_class_waited, waited, blamed_ip);
		gosync_wait_hist_add(GOSYNC_WAIT_MUTEX, waited);
		trace_contention_end(m, err);
		trace_gosync_mutex_wait_end(m, waited, err);
	}
	return err;
}

/*
 * Lockdep's view of the release, given before the cmpxchg that releases:
 * after it, another task may lock, unlock and free the mutex.  Unlocking an
 * unlocked mutex is gosync's misuse, reported below, not lockdep's.
 */
static __always_inline void gosync_mutex_release_dep(struct gosync_mutex *m,
						     unsigned long ip)
{
	struct lockdep_map *map = gosync_dep_map(m);

	if (map && (atomic_read(&m->state) & GOSYNC_MUTEX_LOCKED))
		mutex_release(map, ip);
}

static __always_inline bool gosync_mutex_trylock_at(struct gosync_mutex *m,
						    unsigned long ip)
{
	int old = atomic_read(&m->state);

	/* The owner is current: a task, not an interrupt it happened to hit. */
	lockdep_assert(in_task());
	do {
		if (old & (GOSYNC_MUTEX_LOCKED | GOSYNC_MUTEX_STARVING))
			return false;
	} while (!atomic_try_cmpxchg_acquire(&m->state, &old,
					     old | GOSYNC_MUTEX_LOCKED));
	gosync_lockdep(m, mutex_acquire, 0, 1, ip);
	__gosync_mutex_acquired(m, ip);
	return true;
}

/*
 * Where a lock call locks: @ip, or with @ip 0, the return address of the
 * exported function that gosync_mutex_lock_common() is inlined into.  Read
 * at each use rather than once on entry, so that the fast path need not
 * keep it in a register saved across might_sleep().
 */
#define GOSYNC_MUTEX_LOCK_IP(ip)	((ip) ?: _RET_IP_)

static __always_inline int gosync_mutex_lock_common(struct gosync_mutex *m,
						    unsigned int task_state,
						    long timeout,
						    unsigned long ip)
{
	int err;

	might_sleep();
	gosync_lockdep(m, mutex_acquire, 0, 0, GOSYNC_MUTEX_LOCK_IP(ip));
	if (likely(__gosync_mutex_lock_fast(m, GOSYNC_MUTEX_LOCK_IP(ip)))) {
		gosync_lockdep(m, lock_acquired, GOSYNC_MUTEX_LOCK_IP(ip));
		return 0;
	}
	ip = GOSYNC_MUTEX_LOCK_IP(ip);
	gosync_lockdep(m, lock_contended, ip);
	err = gosync_mutex_lock_slowpath(m, task_state, timeout, ip);
	if (err)
		gosync_lockdep(m, mutex_release, ip);
	return err;
}

/**
 * __gosync_mutex_lock_slow() - gosync_mutex_lock() when the mutex was busy
 * @m: the mutex, which the inline fast path found locked, waited on or
 *     starving (it told lockdep of the attempt)
 * @ip: where the caller locks, for lockdep and the profile
 *
 * Context: process context; may sleep.
 */
void __sched __gosync_mutex_lock_slow(struct gosync_mutex *m, unsigned long ip)
{
	gosync_lockdep(m, lock_contended, ip);
	gosync_mutex_lock_slowpath(m, TASK_UNINTERRUPTIBLE, MAX_SCHEDULE_TIMEOUT,
				   ip);
}
EXPORT_SYMBOL_GPL(__gosync_mutex_lock_slow);

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
					MAX_SCHEDULE_TIMEOUT, 0);
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
	return gosync_mutex_lock_common(m, TASK_KILLABLE, MAX_SCHEDULE_TIMEOUT, 0);
}
EXPORT_SYMBOL_GPL(gosync_mutex_lock_killable);

/**
 * gosync_mutex_lock_timeout() - lock a mutex, giving up after a while
 * @m: the mutex
 * @timeout: how long to wait, in jiffies; 0 only tries, as
 *           gosync_mutex_trylock() does: it never queues and never sleeps
 *
 * Context: process context; may sleep unless @timeout is 0.
 * Return: 0 with the mutex locked, or -ETIMEDOUT without it.
 */
int __sched gosync_mutex_lock_timeout(struct gosync_mutex *m,
				      unsigned long timeout)
{
	long jiffies_left = min_t(unsigned long, timeout, MAX_SCHEDULE_TIMEOUT);

	if (!timeout)
		return gosync_mutex_trylock_at(m, _RET_IP_) ? 0 : -ETIMEDOUT;
	return gosync_mutex_lock_common(m, TASK_UNINTERRUPTIBLE, jiffies_left,
					0);
}
EXPORT_SYMBOL_GPL(gosync_mutex_lock_timeout);

/**
 * gosync_mutex_trylock() - lock a mutex if that needs no waiting
 * @m: the mutex
 *
 * Fails while the mutex is locked and while it is starving: waiters that
 * have waited too long come first.  Never sleeps.
 *
 * Context: task context (process context, not a hard or soft interrupt
 * handler), as for the kernel's mutex_trylock(): the mutex is owned by the
 * calling task, which must unlock it.  Lockdep kernels warn otherwise.
 * Return: true with the mutex locked, false without it.
 */
bool gosync_mutex_trylock(struct gosync_mutex *m)
{
	return gosync_mutex_trylock_at(m, _RET_IP_);
}
EXPORT_SYMBOL_GPL(gosync_mutex_trylock);

/* The class name of @m for messages: never its address. */
static const char *gosync_mutex_name(const struct gosync_mutex *m)
{
	return m->class_name ?: "(anonymous)";
}

/*
 * Release with waiters or in starvation mode.  The release and the choice
 * of the waiter to wake (or the handoff) are one cmpxchg, so that after it
 * only the delivery of that unit remains (gosync_mutex_deliver()).
 */
static void gosync_mutex_unlock_slowpath(struct gosync_mutex *m, int old)
{
	/*
	 * For a handoff: looked up while the mutex is still ours, and before
	 * preemption is disabled, where PREEMPT_RT could not make the row.
	 */
	struct gosync_lock_class *class = gosync_mutex_class(m);
	bool wake;
	int new;

	preempt_disable();
	do {
		if (GOSYNC_MISUSE(!(old & GOSYNC_MUTEX_LOCKED),
				  GOSYNC_STAT_MUTEX_MISUSE,
				  "unlock of unlocked mutex %s\n",
				  gosync_mutex_name(m)))
			goto out;
		new = old - GOSYNC_MUTEX_LOCKED;
		/*
		 * Starvation mode: hand ownership to the head waiter.  LOCKED
		 * stays clear until it runs, but STARVING keeps everybody
		 * else out.
		 */
		wake = new & GOSYNC_MUTEX_STARVING;
		if (!wake && gosync_mutex_must_wake(new)) {
			new = GOSYNC_MUTEX_WAKE_ONE(new);
			wake = true;
		}
	} while (!atomic_try_cmpxchg_release(&m->state, &old, new));
	gosync_delay_point(GOSYNC_DELAY_MUTEX_UNLOCK_AFTER_RELEASE);
	if (wake)
		gosync_mutex_deliver(m, class, new & GOSYNC_MUTEX_STARVING);
out:
	preempt_enable();
}

/**
 * gosync_mutex_unlock() - unlock a mutex
 * @m: the mutex, locked by the calling task
 *
 * Unlocking an unlocked mutex warns once, counts "mutex.misuse" and
 * changes nothing.
 *
 * Once the mutex is released, unlock touches it only to deliver a wakeup
 * or a handoff to a waiter, under the parking-table lock, while that waiter
 * (or another one) is still inside a lock call on it and cannot return
 * before unlock is done.  So a task that locks the mutex after this unlock
 * and is the last user may free it after its own unlock, even while this
 * unlock has not returned yet.
 *
 * Context: any task context; never sleeps.
 */
void gosync_mutex_unlock(struct gosync_mutex *m)
{
	int old = GOSYNC_MUTEX_LOCKED;

	/* Cleared first: spinners must not spin on a task that let go. */
	WRITE_ONCE(m->owner, NULL);
	gosync_mutex_release_dep(m, _RET_IP_);
	if (likely(atomic_try_cmpxchg_release(&m->state, &old, 0))) {
		gosync_delay_point(GOSYNC_DELAY_MUTEX_UNLOCK_AFTER_RELEASE);
		return;
	}
	gosync_mutex_unlock_slowpath(m, old);
}
EXPORT_SYMBOL_GPL(gosync_mutex_unlock);
