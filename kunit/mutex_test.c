// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite of the gosync mutex: exclusion, Go's fairness test,
 * starvation-mode handoff, waiters that give up, misuse.
 */

#include <linux/debug_locks.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/irq_work.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include <gosync/mutex.h>
#include <gosync/testing.h>

#include "gosync_test.h"

static DEFINE_GOSYNC_MUTEX(mutex_test_defined);

enum mutex_test_kind { MUTEX_DEFINED, MUTEX_INITIALISED, MUTEX_ZEROED };

static const char *const mutex_test_kind_names[] = {
	[MUTEX_DEFINED] = "DEFINE_GOSYNC_MUTEX",
	[MUTEX_INITIALISED] = "gosync_mutex_init",
	[MUTEX_ZEROED] = "kzalloc",
};

static const enum mutex_test_kind mutex_test_kinds[] = {
	MUTEX_DEFINED, MUTEX_INITIALISED, MUTEX_ZEROED,
};

static void mutex_test_kind_desc(const enum mutex_test_kind *kind, char *desc)
{
	strscpy(desc, mutex_test_kind_names[*kind], KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(mutex_test_kind, mutex_test_kinds, mutex_test_kind_desc);

static struct gosync_mutex *mutex_test_make(struct kunit *test,
					    enum mutex_test_kind kind)
{
	struct gosync_mutex *m;

	if (kind == MUTEX_DEFINED)
		return &mutex_test_defined;
	m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, m);
	if (kind == MUTEX_INITIALISED)
		gosync_mutex_init(m);
	return m;
}

static int mutex_test_state(struct gosync_mutex *m)
{
	return atomic_read(&m->state);
}

static unsigned int mutex_test_waiters(struct gosync_mutex *m)
{
	return gosync_mutex_waiters(mutex_test_state(m));
}

/* An idle mutex is all zeroes, including the parked wakeups. */
static void mutex_test_expect_idle(struct kunit *test, struct gosync_mutex *m)
{
	KUNIT_EXPECT_EQ(test, mutex_test_state(m), 0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(m->sema), 0);
	KUNIT_EXPECT_FALSE(test, gosync_mutex_is_locked(m));
	KUNIT_EXPECT_FALSE(test, gosync_mutex_is_starving(m));
}

struct exclusion_ctx {
	struct gosync_mutex *m;
	unsigned long counter;		/* plain: only the mutex protects it */
	unsigned int iterations;
	bool sleep_inside;
};

static int exclusion_thread(void *data, unsigned int index)
{
	struct exclusion_ctx *ctx = data;
	unsigned long value;
	unsigned int i;

	for (i = 0; i < ctx->iterations; i++) {
		gosync_mutex_lock(ctx->m);
		value = ctx->counter;
		/* Widen the read-modify-write window a lost update needs. */
		if (ctx->sleep_inside)
			usleep_range(10, 30);
		else
			cpu_relax();
		ctx->counter = value + 1;
		gosync_mutex_unlock(ctx->m);
	}
	return 0;
}

static void mutex_test_exclusion(struct kunit *test, unsigned int iterations,
				 bool sleep_inside)
{
	const enum mutex_test_kind *kind = test->param_value;
	struct exclusion_ctx ctx = {
		.m = mutex_test_make(test, *kind),
		.iterations = iterations,
		.sleep_inside = sleep_inside,
	};
	unsigned int nr = gosync_test_nr_threads();
	u64 acquired = gosync_stat_read(GOSYNC_STAT_MUTEX_ACQUIRED);

	KUNIT_ASSERT_EQ(test, gosync_test_run_threads(test, nr, exclusion_thread,
						      &ctx, NULL), 0);
	KUNIT_EXPECT_EQ(test, ctx.counter, (unsigned long)nr * iterations);
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(MUTEX_ACQUIRED, acquired),
			(u64)nr * iterations);
	mutex_test_expect_idle(test, ctx.m);
	kunit_info(test, "%u threads x %u: slept %llu, spun %llu, starving %llu\n",
		   nr, iterations, gosync_stat_read(GOSYNC_STAT_MUTEX_SLEPT),
		   gosync_stat_read(GOSYNC_STAT_MUTEX_SPIN_ACQUIRED),
		   gosync_stat_read(GOSYNC_STAT_MUTEX_STARVATION_ENTERED));
}

/* Short critical sections: spinning on a running owner pays off. */
static void mutex_exclusion_spinning(struct kunit *test)
{
	mutex_test_exclusion(test, 3000, false);
}

/* The owner sleeps inside: spinning is impossible, every waiter parks. */
static void mutex_exclusion_sleeping(struct kunit *test)
{
	mutex_test_exclusion(test, 100, true);
}

struct fairness_ctx {
	struct gosync_mutex m;
	unsigned long hog_until;	/* jiffies */
	atomic_t victim_done;
	unsigned int victim_acquired;
	u64 victim_max_wait_ns;
	unsigned long victim_done_at;
};

#define FAIRNESS_VICTIM_LOCKS 10

/*
 * Go's TestMutexFairness: a hog re-locks at once and sleeps ~100 us while
 * holding the mutex, so a waiter can neither spin nor win a wakeup race.
 */
static int fairness_thread(void *data, unsigned int index)
{
	struct fairness_ctx *ctx = data;
	unsigned int i;
	u64 start, waited;

	if (index == 0) {
		while (!atomic_read(&ctx->victim_done) &&
		       time_before(jiffies, ctx->hog_until)) {
			gosync_mutex_lock(&ctx->m);
			usleep_range(100, 110);
			gosync_mutex_unlock(&ctx->m);
		}
		return 0;
	}
	for (i = 0; i < FAIRNESS_VICTIM_LOCKS; i++) {
		usleep_range(100, 200);
		start = ktime_get_ns();
		gosync_mutex_lock(&ctx->m);
		waited = ktime_get_ns() - start;
		ctx->victim_max_wait_ns = max(ctx->victim_max_wait_ns, waited);
		if (time_before(jiffies, ctx->hog_until))
			ctx->victim_acquired++;
		gosync_mutex_unlock(&ctx->m);
	}
	ctx->victim_done_at = jiffies;
	atomic_set(&ctx->victim_done, 1);
	return 0;
}

static void fairness_run(struct kunit *test, struct fairness_ctx *ctx,
			 unsigned long threshold_ns, unsigned int hog_ms)
{
	unsigned long saved = READ_ONCE(gosync_starvation_threshold_ns);

	gosync_mutex_init(&ctx->m);
	ctx->hog_until = jiffies + msecs_to_jiffies(hog_ms);
	WRITE_ONCE(gosync_starvation_threshold_ns, threshold_ns);
	KUNIT_EXPECT_EQ(test, gosync_test_run_threads(test, 2, fairness_thread,
						      ctx, NULL), 0);
	WRITE_ONCE(gosync_starvation_threshold_ns, saved);
	mutex_test_expect_idle(test, &ctx->m);
}

static void mutex_fairness_starvation_mode(struct kunit *test)
{
	struct fairness_ctx *with, *without;
	u64 entered = gosync_stat_read(GOSYNC_STAT_MUTEX_STARVATION_ENTERED);
	u64 handoffs = gosync_stat_read(GOSYNC_STAT_MUTEX_HANDOFFS);
	u64 entered_without;

	with = kunit_kzalloc(test, sizeof(*with), GFP_KERNEL);
	without = kunit_kzalloc(test, sizeof(*without), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, with);
	KUNIT_ASSERT_NOT_NULL(test, without);

	/*
	 * Default threshold: the victim must get through, well in time.
	 * Whether it ever has to lose a race after a wakeup (and so switch
	 * the mode on) depends on the scheduling of the two CPUs: a woken
	 * victim often wins outright.  The switch and the handoff are proved
	 * deterministically by mutex_starvation_handoff; here they are
	 * reported.
	 */
	fairness_run(test, with, 1000000, 10000);
	KUNIT_EXPECT_EQ(test, with->victim_acquired, FAIRNESS_VICTIM_LOCKS);
	kunit_info(test, "starvation mode on: victim locked %u/%u times while the hog ran, max wait %llu us; starvation entered %llu, handoffs %llu\n",
		   with->victim_acquired, FAIRNESS_VICTIM_LOCKS,
		   with->victim_max_wait_ns / 1000,
		   gosync_test_stat_delta(MUTEX_STARVATION_ENTERED, entered),
		   gosync_test_stat_delta(MUTEX_HANDOFFS, handoffs));

	/* Threshold out of reach: plain barging, the mode is never entered. */
	entered_without = gosync_stat_read(GOSYNC_STAT_MUTEX_STARVATION_ENTERED);
	fairness_run(test, without, ULONG_MAX, 300);
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(MUTEX_STARVATION_ENTERED,
						     entered_without), 0);
	kunit_info(test, "starvation mode off: victim locked %u/%u times in the hog's 300 ms, max wait %llu us\n",
		   without->victim_acquired, FAIRNESS_VICTIM_LOCKS,
		   without->victim_max_wait_ns / 1000);
}

/*
 * Lower (or raise) the starvation threshold for the rest of the case; the
 * saved value comes back when the case ends, even after a failed assertion.
 */
static void mutex_test_restore_threshold(void *saved)
{
	WRITE_ONCE(gosync_starvation_threshold_ns, (unsigned long)saved);
}

static void mutex_test_set_threshold(struct kunit *test, unsigned long ns)
{
	void *saved = (void *)READ_ONCE(gosync_starvation_threshold_ns);
	int err;

	err = kunit_add_action_or_reset(test, mutex_test_restore_threshold,
					saved);
	KUNIT_ASSERT_EQ(test, err, 0);
	WRITE_ONCE(gosync_starvation_threshold_ns, ns);
}

struct handoff_ctx {
	struct gosync_mutex *m;
	struct completion done;
};

static int handoff_waiter(void *data)
{
	struct handoff_ctx *ctx = data;

	gosync_mutex_lock(ctx->m);
	gosync_mutex_unlock(ctx->m);
	kthread_complete_and_exit(&ctx->done, 0);
}

/*
 * Lock ctx->m, then start handoff_waiter() on this CPU, which stays this
 * task's (migration off) until the caller calls migrate_enable().  False,
 * with the mutex unlocked and migration on again, if it could not start.
 */
static bool handoff_start(struct kunit *test, struct handoff_ctx *ctx)
{
	struct task_struct *waiter;

	init_completion(&ctx->done);
	gosync_mutex_lock(ctx->m);
	migrate_disable();
	waiter = kthread_run_on_cpu(handoff_waiter, ctx, smp_processor_id(),
				    "gosync-handoff/%u");
	if (IS_ERR(waiter)) {
		migrate_enable();
		gosync_mutex_unlock(ctx->m);
		KUNIT_FAIL(test, "kthread_run_on_cpu: %pe", waiter);
		return false;
	}
	return true;
}

/*
 * Unlock and try again at once, with the waiter kept off this CPU: true
 * when that failed, so unlock handed the mutex to the waiter.
 */
static bool handoff_unlock_and_retry(struct handoff_ctx *ctx)
{
	bool handed_off;

	preempt_disable();
	gosync_mutex_unlock(ctx->m);
	handed_off = !gosync_mutex_trylock(ctx->m);
	preempt_enable();
	if (!handed_off)
		gosync_mutex_unlock(ctx->m);
	return handed_off;
}

/*
 * With a zero threshold every woken waiter that loses is starving.  The
 * waiter runs on the test thread's CPU, so while the test thread has
 * preemption disabled it cannot run: unlocking and trying again at once
 * always barges past it, as normal mode allows.  The waiter then finds the
 * mutex locked, switches it to starvation mode and queues again; from then
 * on unlock hands the mutex to it, and trying again must fail.  The
 * threshold drops to zero only once the waiter sleeps: a waiter that
 * queues past the threshold switches the mode by itself, without a
 * wakeup (mutex_waiter_starves_without_wakeup), and there would be no
 * normal-mode unlock to barge past.  Nothing here depends on timing: a
 * regression fails, it cannot skip.
 */
static void mutex_starvation_handoff(struct kunit *test)
{
	struct handoff_ctx ctx = {
		.m = mutex_test_make(test, MUTEX_INITIALISED),
	};
	u64 handoffs = gosync_stat_read(GOSYNC_STAT_MUTEX_HANDOFFS);
	bool barged, starving = false, handed_off = false;

	mutex_test_set_threshold(test, ULONG_MAX);
	if (!handoff_start(test, &ctx))
		return;
	KUNIT_EXPECT_TRUE(test, gosync_test_wait_until(mutex_test_waiters(ctx.m) == 1,
						       5000));
	WRITE_ONCE(gosync_starvation_threshold_ns, 0);
	preempt_disable();
	gosync_mutex_unlock(ctx.m);
	barged = gosync_mutex_trylock(ctx.m);
	preempt_enable();
	if (barged) {
		starving = gosync_test_wait_until(gosync_mutex_is_starving(ctx.m),
						  5000);
		KUNIT_EXPECT_TRUE(test, gosync_mutex_is_locked(ctx.m));
		/* As above: the waiter must not take and drop it in between. */
		handed_off = handoff_unlock_and_retry(&ctx);
	}
	migrate_enable();
	wait_for_completion(&ctx.done);
	KUNIT_EXPECT_TRUE(test, barged);
	KUNIT_EXPECT_TRUE(test, starving);
	KUNIT_EXPECT_TRUE(test, handed_off);
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(MUTEX_HANDOFFS, handoffs), 1);
	mutex_test_expect_idle(test, ctx.m);
}

/*
 * A waiter that has slept past the threshold switches the mutex to
 * starvation mode while the holder still holds it, without being woken:
 * Go's waiter notices only when an unlock wakes it, and behind other
 * waiters that may take many hold times.  The holder never unlocks until
 * the mode is on; then its unlock hands the mutex over, and trying again
 * at once (the waiter shares the CPU, kept off it) must fail.  Before
 * waiters rechecked by themselves, the mode never came on here.
 */
static void mutex_waiter_starves_without_wakeup(struct kunit *test)
{
	struct handoff_ctx ctx = {
		.m = mutex_test_make(test, MUTEX_INITIALISED),
	};
	u64 handoffs = gosync_stat_read(GOSYNC_STAT_MUTEX_HANDOFFS);
	u64 entered = gosync_stat_read(GOSYNC_STAT_MUTEX_STARVATION_ENTERED);
	bool starving, handed_off;

	mutex_test_set_threshold(test, NSEC_PER_MSEC);
	if (!handoff_start(test, &ctx))
		return;
	starving = gosync_test_wait_until(gosync_mutex_is_starving(ctx.m),
					  5000);
	KUNIT_EXPECT_EQ(test, mutex_test_waiters(ctx.m), 1);
	handed_off = handoff_unlock_and_retry(&ctx);
	migrate_enable();
	wait_for_completion(&ctx.done);
	KUNIT_EXPECT_TRUE(test, starving);
	KUNIT_EXPECT_TRUE(test, handed_off);
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(MUTEX_HANDOFFS, handoffs),
			starving ? 1 : 0);
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(MUTEX_STARVATION_ENTERED,
						     entered), starving ? 1 : 0);
	mutex_test_expect_idle(test, ctx.m);
}

static void mutex_trylock_and_queries(struct kunit *test)
{
	struct gosync_mutex *m = mutex_test_make(test, MUTEX_ZEROED);

	mutex_test_expect_idle(test, m);
	KUNIT_EXPECT_TRUE(test, gosync_mutex_trylock(m));
	KUNIT_EXPECT_TRUE(test, gosync_mutex_is_locked(m));
	KUNIT_EXPECT_FALSE(test, gosync_mutex_is_starving(m));
	KUNIT_EXPECT_PTR_EQ(test, READ_ONCE(m->owner), current);
	gosync_mutex_unlock(m);
	mutex_test_expect_idle(test, m);
	KUNIT_EXPECT_NULL(test, READ_ONCE(m->owner));
	KUNIT_EXPECT_EQ(test, gosync_mutex_lock_timeout(m, 0), 0);
	gosync_mutex_unlock(m);
	KUNIT_EXPECT_EQ(test, gosync_mutex_lock_interruptible(m), 0);
	gosync_mutex_unlock(m);
	KUNIT_EXPECT_EQ(test, gosync_mutex_lock_killable(m), 0);
	gosync_mutex_unlock(m);
	scoped_guard(gosync_mutex, m)
		KUNIT_EXPECT_TRUE(test, gosync_mutex_is_locked(m));
	mutex_test_expect_idle(test, m);
}

enum give_up_way { GIVE_UP_TIMEOUT, GIVE_UP_SIGNAL, GIVE_UP_KILL };

static const enum give_up_way give_up_ways[] = {
	GIVE_UP_TIMEOUT, GIVE_UP_SIGNAL, GIVE_UP_KILL,
};

static void give_up_way_desc(const enum give_up_way *way, char *desc)
{
	static const char *const names[] = { "timeout", "interruptible", "killable" };

	strscpy(desc, names[*way], KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(give_up_way, give_up_ways, give_up_way_desc);

static int give_up_lock(struct gosync_mutex *m, enum give_up_way way,
			unsigned long timeout)
{
	switch (way) {
	case GIVE_UP_TIMEOUT:
		return gosync_mutex_lock_timeout(m, timeout);
	case GIVE_UP_SIGNAL:
		return gosync_mutex_lock_interruptible(m);
	default:
		return gosync_mutex_lock_killable(m);
	}
}

struct give_up_ctx {
	struct gosync_mutex *m;
	enum give_up_way way;
	int result;
};

static int give_up_waiter(void *data, unsigned int index)
{
	struct give_up_ctx *ctx = data;

	allow_signal(SIGUSR1);
	allow_signal(SIGKILL);
	ctx->result = give_up_lock(ctx->m, ctx->way, msecs_to_jiffies(20));
	if (!ctx->result)
		gosync_mutex_unlock(ctx->m);
	return 0;
}

static void give_up_send_signal(struct task_struct **tasks, unsigned int nr,
				void *data)
{
	struct give_up_ctx *ctx = data;

	if (ctx->way == GIVE_UP_TIMEOUT)
		return;
	gosync_test_wait_until(mutex_test_waiters(ctx->m) == 1, 5000);
	send_sig(ctx->way == GIVE_UP_KILL ? SIGKILL : SIGUSR1, tasks[0], 1);
}

/* One waiter gives up while the test holds the mutex: no trace is left. */
static void mutex_waiter_gives_up_cleanly(struct kunit *test)
{
	const enum give_up_way *way = test->param_value;
	struct give_up_ctx ctx = {
		.m = mutex_test_make(test, MUTEX_INITIALISED),
		.way = *way,
		.result = 1,
	};

	gosync_mutex_lock(ctx.m);
	KUNIT_EXPECT_EQ(test, gosync_test_run_threads(test, 1, give_up_waiter,
						      &ctx, give_up_send_signal), 0);
	KUNIT_EXPECT_EQ(test, ctx.result,
			*way == GIVE_UP_TIMEOUT ? -ETIMEDOUT : -EINTR);
	KUNIT_EXPECT_EQ(test, mutex_test_state(ctx.m), GOSYNC_MUTEX_LOCKED);
	gosync_mutex_unlock(ctx.m);
	mutex_test_expect_idle(test, ctx.m);
}

#define TRY_CALLS 50

struct try_ctx {
	struct gosync_mutex *m;
	unsigned int calls;
	int result;		/* the last call's */
	unsigned int failed;	/* calls that did not return -ETIMEDOUT */
	bool done;
	bool saw_waiter;
};

static int try_thread(void *data, unsigned int index)
{
	struct try_ctx *ctx = data;
	unsigned int i;

	for (i = 0; i < ctx->calls; i++) {
		ctx->result = gosync_mutex_lock_timeout(ctx->m, 0);
		if (!ctx->result)
			gosync_mutex_unlock(ctx->m);
		else if (ctx->result != -ETIMEDOUT)
			ctx->failed++;
	}
	/* The watcher reads result and failed only after this. */
	smp_store_release(&ctx->done, true);
	return 0;
}

/* While the trying thread runs: the mutex never shows a waiter. */
static void try_watch(struct task_struct **tasks, unsigned int nr, void *data)
{
	struct try_ctx *ctx = data;

	/* Pairs with the release in try_thread(). */
	while (!smp_load_acquire(&ctx->done)) {
		if (mutex_test_state(ctx->m) != GOSYNC_MUTEX_LOCKED)
			WRITE_ONCE(ctx->saw_waiter, true);
		/* This thread may share the trying thread's CPU. */
		cond_resched();
	}
}

/*
 * A timeout of 0 only tries: no waiter is counted, nobody sleeps.  Checked
 * in ways that hold whether counting is on or off: the holder watches the
 * state word while the other thread tries, and a waiter that gave up would
 * pass a delay point (armed long, so a counted waiter would be seen).
 */
static void mutex_timeout_zero_only_tries(struct kunit *test)
{
	struct try_ctx ctx = {
		.m = mutex_test_make(test, MUTEX_INITIALISED),
		.calls = TRY_CALLS,
	};
	const enum gosync_delay_point point =
		GOSYNC_DELAY_MUTEX_GIVE_UP_BEFORE_LEAVE;
	u64 contended = gosync_stat_read(GOSYNC_STAT_MUTEX_CONTENDED);
	u64 slept = gosync_stat_read(GOSYNC_STAT_MUTEX_SLEPT);
	u64 hits = gosync_delay_point_hits(point);

	gosync_test_arm_delay(test, point, 200);
	gosync_mutex_lock(ctx.m);
	KUNIT_ASSERT_EQ(test, gosync_test_run_threads(test, 1, try_thread,
						      &ctx, try_watch), 0);
	KUNIT_EXPECT_EQ(test, ctx.result, -ETIMEDOUT);
	KUNIT_EXPECT_EQ(test, ctx.failed, 0);
	KUNIT_EXPECT_FALSE(test, ctx.saw_waiter);
	KUNIT_EXPECT_EQ(test, gosync_delay_point_hits(point), hits);
	KUNIT_EXPECT_EQ(test, mutex_test_state(ctx.m), GOSYNC_MUTEX_LOCKED);
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(MUTEX_CONTENDED, contended), 0);
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(MUTEX_SLEPT, slept), 0);
	gosync_mutex_unlock(ctx.m);
	ctx.calls = 1;
	ctx.done = false;
	KUNIT_ASSERT_EQ(test, gosync_test_run_threads(test, 1, try_thread,
						      &ctx, NULL), 0);
	KUNIT_EXPECT_EQ(test, ctx.result, 0);
	mutex_test_expect_idle(test, ctx.m);
}

enum storm_mode { STORM_NORMAL, STORM_STARVING };

static const enum storm_mode storm_modes[] = { STORM_NORMAL, STORM_STARVING };

static void storm_mode_desc(const enum storm_mode *mode, char *desc)
{
	strscpy(desc, *mode == STORM_NORMAL ? "normal mode" : "starvation mode",
		KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(storm_mode, storm_modes, storm_mode_desc);

struct storm_ctx {
	struct gosync_mutex *m;
	unsigned long counter;		/* plain: only the mutex protects it */
	atomic_t in_section;
	atomic_t two_owners;
	atomic_t bad_state;
	atomic_t stuck;
	atomic_t acquired;
	atomic_t gave_up;
	atomic_t bad_errors;
	atomic_t holders_running;
	atomic_t givers_running;
	atomic_t gave_up_by[3];		/* by enum give_up_way */
	unsigned int nr_holders;
	u64 handoff_hits;	/* the receiver's delay point, before */
	bool want_handoffs;
};

#define STORM_HOLDER_LOCKS	400
/*
 * Holders go on (up to STORM_HOLDER_LOCKS_MAX) until every way of giving up
 * happened a few times and, in starvation mode, handoffs went through.
 */
#define STORM_HOLDER_LOCKS_MAX	(20 * STORM_HOLDER_LOCKS)
#define STORM_MIN_GIVE_UPS	3
#define STORM_HANDOFFS		10
#define STORM_GIVERS		3
/* A holder that waits this long is a waiter asleep on a free mutex. */
#define STORM_STUCK_MS		10000

static enum give_up_way storm_giver_way(struct storm_ctx *ctx,
					unsigned int index)
{
	return (index - ctx->nr_holders) % ARRAY_SIZE(give_up_ways);
}

/*
 * What holds at every instant while a task owns the mutex: LOCKED is set,
 * and starvation mode has a waiter to hand off to.
 */
static bool mutex_test_owned_state_ok(int state)
{
	return (state & GOSYNC_MUTEX_LOCKED) &&
	       (!(state & GOSYNC_MUTEX_STARVING) || gosync_mutex_waiters(state));
}

/*
 * A giver times out only when it waited a whole jiffy, which in starvation
 * mode (every unlock hands off) can take many rounds on a fast host.
 */
static bool storm_every_way_gave_up(struct storm_ctx *ctx)
{
	enum give_up_way way;

	for (way = 0; way < ARRAY_SIZE(give_up_ways); way++)
		if (atomic_read(&ctx->gave_up_by[way]) < STORM_MIN_GIVE_UPS)
			return false;
	return true;
}

static bool storm_holder_goes_on(struct storm_ctx *ctx, unsigned int i)
{
	u64 hits = gosync_delay_point_hits(GOSYNC_DELAY_MUTEX_HANDOFF_BEFORE_TAKE);

	if (i < STORM_HOLDER_LOCKS)
		return true;
	if (i >= STORM_HOLDER_LOCKS_MAX)
		return false;
	if (!storm_every_way_gave_up(ctx))
		return true;
	return ctx->want_handoffs && hits < ctx->handoff_hits + STORM_HANDOFFS;
}

/* Owns the mutex: count the owners inside, check the state, let go. */
static void storm_critical_section(struct storm_ctx *ctx, bool sleep)
{
	if (atomic_inc_return(&ctx->in_section) != 1)
		atomic_inc(&ctx->two_owners);
	if (!mutex_test_owned_state_ok(mutex_test_state(ctx->m)))
		atomic_inc(&ctx->bad_state);
	ctx->counter++;
	/* Sleeping inside: waiters cannot spin, they park. */
	if (sleep)
		usleep_range(5, 20);
	if (!mutex_test_owned_state_ok(mutex_test_state(ctx->m)))
		atomic_inc(&ctx->bad_state);
	atomic_dec(&ctx->in_section);
	atomic_inc(&ctx->acquired);
	gosync_mutex_unlock(ctx->m);
}

/*
 * Holders take the mutex for a few microseconds at a time; givers wait
 * with a timeout of one jiffy, or interruptibly or killably while the test
 * thread showers them with signals, so that thousands of waits end early,
 * some of them just as a wakeup or a handoff was on its way.
 */
static int storm_thread(void *data, unsigned int index)
{
	struct storm_ctx *ctx = data;
	unsigned long stuck = msecs_to_jiffies(STORM_STUCK_MS);
	enum give_up_way way;
	unsigned int i;
	int err;

	if (index < ctx->nr_holders) {
		for (i = 0; storm_holder_goes_on(ctx, i); i++) {
			err = gosync_mutex_lock_timeout(ctx->m, stuck);
			if (err) {
				atomic_inc(&ctx->stuck);
				break;
			}
			storm_critical_section(ctx, true);
			if (i % 2)
				usleep_range(5, 20);
		}
		atomic_dec(&ctx->holders_running);
		return 0;
	}
	way = storm_giver_way(ctx, index);
	allow_signal(SIGUSR1);
	allow_signal(SIGKILL);
	while (atomic_read(&ctx->holders_running)) {
		err = give_up_lock(ctx->m, way, 1);
		if (!err) {
			storm_critical_section(ctx, false);
			continue;
		}
		if (err != (way == GIVE_UP_TIMEOUT ? -ETIMEDOUT : -EINTR))
			atomic_inc(&ctx->bad_errors);
		atomic_inc(&ctx->gave_up);
		atomic_inc(&ctx->gave_up_by[way]);
		flush_signals(current);
		/* Away for a moment: fewer waiters, often only one. */
		usleep_range(10, 40);
	}
	atomic_dec(&ctx->givers_running);
	return 0;
}

static void storm_signal(struct task_struct **tasks, unsigned int nr,
			 void *data)
{
	struct storm_ctx *ctx = data;
	unsigned int i;

	while (atomic_read(&ctx->givers_running)) {
		for (i = ctx->nr_holders; i < nr; i++) {
			switch (storm_giver_way(ctx, i)) {
			case GIVE_UP_SIGNAL:
				send_sig(SIGUSR1, tasks[i], 1);
				break;
			case GIVE_UP_KILL:
				send_sig(SIGKILL, tasks[i], 1);
				break;
			default:
				break;
			}
		}
		usleep_range(20, 60);
	}
}

/*
 * Waiters give up by timeout, signal and kill while holders lock and
 * unlock, in normal mode and (threshold 0) in starvation mode, with the
 * windows between each give-up's decision and its state change, between a
 * handoff and its receipt, and after unlock's release widened.  After the
 * storm nothing may be left: no waiter counted, no mode, no parked wakeup.
 */
static void mutex_give_up_storm(struct kunit *test)
{
	const enum storm_mode *mode = test->param_value;
	struct storm_ctx ctx = {
		.m = mutex_test_make(test, MUTEX_INITIALISED),
	};
	unsigned int nr;

	u64 gave_up = gosync_stat_read(GOSYNC_STAT_MUTEX_GAVE_UP);
	u64 entered = gosync_stat_read(GOSYNC_STAT_MUTEX_STARVATION_ENTERED);
	const enum gosync_delay_point give_up_point =
		GOSYNC_DELAY_MUTEX_GIVE_UP_BEFORE_LEAVE;
	const enum gosync_delay_point handoff_point =
		GOSYNC_DELAY_MUTEX_HANDOFF_BEFORE_TAKE;
	u64 give_up_hits = gosync_delay_point_hits(give_up_point);
	u64 handoff_hits = gosync_delay_point_hits(handoff_point);
	enum give_up_way way;

	/*
	 * In starvation mode one holder: a giver is then often the last
	 * waiter, whose give-up races with the handoff most narrowly.
	 */
	ctx.nr_holders = *mode == STORM_STARVING ? 1 : num_online_cpus();
	nr = ctx.nr_holders + STORM_GIVERS;
	mutex_test_set_threshold(test, *mode == STORM_STARVING ? 0 : ULONG_MAX);
	gosync_test_arm_delay(test, give_up_point, 300);
	gosync_test_arm_delay(test, handoff_point, 300);
	gosync_test_arm_delay(test, GOSYNC_DELAY_MUTEX_UNLOCK_AFTER_RELEASE, 50);
	ctx.handoff_hits = handoff_hits;
	ctx.want_handoffs = *mode == STORM_STARVING;
	atomic_set(&ctx.holders_running, ctx.nr_holders);
	atomic_set(&ctx.givers_running, STORM_GIVERS);
	KUNIT_ASSERT_EQ(test, gosync_test_run_threads(test, nr, storm_thread,
						      &ctx, storm_signal), 0);
	gosync_delay_points_disarm(NULL);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx.two_owners), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx.bad_state), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx.stuck), 0);
	/* A wait that ran backwards across CPUs must not wrap. */
	KUNIT_EXPECT_LT(test, gosync_stat_read(GOSYNC_STAT_MUTEX_WAIT_NS_MAX),
			600ULL * NSEC_PER_SEC);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx.bad_errors), 0);
	KUNIT_EXPECT_EQ(test, ctx.counter, (unsigned long)atomic_read(&ctx.acquired));
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(MUTEX_GAVE_UP, gave_up),
			(u64)atomic_read(&ctx.gave_up));
	for (way = 0; way < ARRAY_SIZE(give_up_ways); way++)
		KUNIT_EXPECT_GT(test, atomic_read(&ctx.gave_up_by[way]), 0);
	give_up_hits = gosync_delay_point_hits(give_up_point) - give_up_hits;
	handoff_hits = gosync_delay_point_hits(handoff_point) - handoff_hits;
	entered = gosync_test_stat_delta(MUTEX_STARVATION_ENTERED, entered);
	KUNIT_EXPECT_GT(test, give_up_hits, 0);
	if (*mode == STORM_STARVING) {
		KUNIT_EXPECT_GT(test, entered, 0);
		KUNIT_EXPECT_GT(test, handoff_hits, 0);
	}
	mutex_test_expect_idle(test, ctx.m);
	kunit_info(test, "%d acquisitions; waits given up: %d on timeout, %d on a signal, %d on a kill; starvation entered %llu times\n",
		   atomic_read(&ctx.acquired),
		   atomic_read(&ctx.gave_up_by[GIVE_UP_TIMEOUT]),
		   atomic_read(&ctx.gave_up_by[GIVE_UP_SIGNAL]),
		   atomic_read(&ctx.gave_up_by[GIVE_UP_KILL]), entered);
	/* Usable afterwards. */
	gosync_mutex_lock(ctx.m);
	gosync_mutex_unlock(ctx.m);
	mutex_test_expect_idle(test, ctx.m);
}

/*
 * One give-up against the state change it races with, set up exactly and
 * repeated, where the storm above meets it only by chance:
 *  - unlock wakes: the only waiter gives up just as unlock, in normal mode,
 *    picks it as the waiter to wake (a stale decision underflowed the
 *    waiter count);
 *  - unlock hands off: the only waiter of a starving mutex gives up just as
 *    unlock hands the mutex to it (a stale decision cleared STARVING and
 *    left the handoff in sema);
 *  - handoff taken: the second of two waiters gives up while the first,
 *    which received a handoff, takes the mutex (a blind add left STARVING
 *    set with no waiter).
 * Thread 0 holds the mutex and drives the rounds; threads 1 and 2 are the
 * first and second waiter.  The other side acts as soon as the giver (or
 * the receiver) has passed the delay point inside its window, so that it
 * lands there while the busy wait lasts.
 */
enum race_kind { RACE_UNLOCK_WAKES, RACE_UNLOCK_HANDS_OFF, RACE_HANDOFF_TAKEN };

static const enum race_kind race_kinds[] = {
	RACE_UNLOCK_WAKES, RACE_UNLOCK_HANDS_OFF, RACE_HANDOFF_TAKEN,
};

static void race_kind_desc(const enum race_kind *kind, char *desc)
{
	static const char *const names[] = {
		"unlock wakes", "unlock hands off", "handoff taken",
	};

	strscpy(desc, names[*kind], KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(race_kind, race_kinds, race_kind_desc);

/* Rounds go on until this many met inside the window, within bounds. */
#define RACE_IN_WINDOW	3
#define RACE_ROUNDS_MAX	300
#define RACE_BUDGET_MS	15000
#define RACE_WAIT_MS	5000
/* The window's longest busy wait: the other side must get in. */
#define RACE_DELAY_US	20000

struct race_ctx {
	struct gosync_mutex *m;
	enum race_kind kind;
	unsigned int nr_waiters;
	unsigned int giver;		/* which waiter gives up */
	struct task_struct *giver_task;
	atomic_t go[2];		/* the round each waiter may lock in; -1: stop */
	atomic_t done[2];	/* the last round each waiter finished */
	atomic_t taken;		/* the last round the first waiter got the mutex in */
	atomic_t bad_state;	/* owned with an inconsistent state word */
	atomic_t in_window;	/* rounds whose two sides met inside the window */
	unsigned int rounds;
	unsigned int set_up;	/* rounds that reached the race */
	bool left_trace;	/* a round ended with the state or sema not zero */
};

/* Thread 0: wait until every waiter finished round @r. */
static int race_done(struct race_ctx *ctx, int r)
{
	unsigned int w;

	for (w = 0; w < ctx->nr_waiters; w++)
		if (!gosync_test_wait_until(atomic_read(&ctx->done[w]) == r,
					    RACE_WAIT_MS))
			return -ETIMEDOUT;
	return 0;
}

/* Starving, with every waiter of the round counted. */
static bool race_starving(struct race_ctx *ctx)
{
	return gosync_mutex_is_starving(ctx->m) &&
	       mutex_test_waiters(ctx->m) == ctx->nr_waiters;
}

/*
 * With a zero threshold a sleeping waiter wakes itself at once and, finding
 * the mutex held, switches it to starvation mode.  If that has not happened
 * within a few milliseconds, a woken waiter does it as well: unlock and
 * barge back in at once.  The woken waiter runs on another CPU, which may
 * take the mutex first, even between these two calls when the host
 * deschedules this virtual CPU: then the round is not set up.
 */
static bool race_make_starving(struct race_ctx *ctx, int r)
{
	bool barged;

	if (gosync_test_wait_until(race_starving(ctx), 20))
		return true;
	preempt_disable();
	gosync_mutex_unlock(ctx->m);
	barged = gosync_mutex_trylock(ctx->m);
	preempt_enable();
	if (!barged)
		return false;
	gosync_test_wait_until(race_starving(ctx) ||
			       atomic_read(&ctx->done[0]) == r, RACE_WAIT_MS);
	if (atomic_read(&ctx->done[0]) != r && race_starving(ctx))
		return true;
	gosync_mutex_unlock(ctx->m);
	return false;
}

/* Spin until a task passed @point: the hits moved on from @before. */
static void race_wait_for_point(enum gosync_delay_point point, u64 before)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(RACE_WAIT_MS);

	while (gosync_delay_point_hits(point) == before &&
	       time_before(jiffies, deadline))
		cpu_relax();
}

/* Thread 0, one round. */
static int race_round(struct race_ctx *ctx, int r)
{
	const enum gosync_delay_point wake_point =
		GOSYNC_DELAY_MUTEX_UNLOCK_AFTER_WAKE;
	enum gosync_delay_point point = GOSYNC_DELAY_MUTEX_GIVE_UP_BEFORE_LEAVE;
	struct gosync_mutex *m = ctx->m;
	u64 hits, wakes;
	unsigned int w;

	gosync_mutex_lock(m);
	for (w = 0; w < ctx->nr_waiters; w++) {
		atomic_set(&ctx->go[w], r);
		if (!gosync_test_wait_until(mutex_test_waiters(m) == w + 1,
					    RACE_WAIT_MS)) {
			gosync_mutex_unlock(m);
			return -ETIMEDOUT;
		}
	}
	if (ctx->kind != RACE_UNLOCK_WAKES && !race_make_starving(ctx, r))
		return race_done(ctx, r);
	ctx->set_up++;
	if (ctx->kind == RACE_HANDOFF_TAKEN) {
		/* The receiver reads the word, then waits at the point. */
		point = GOSYNC_DELAY_MUTEX_HANDOFF_BEFORE_TAKE;
		hits = gosync_delay_point_hits(point);
		gosync_mutex_unlock(m);
		race_wait_for_point(point, hits);
		send_sig(SIGUSR1, READ_ONCE(ctx->giver_task), 1);
		return race_done(ctx, r);
	}
	/* The giver decides, then waits at the point: unlock now. */
	hits = gosync_delay_point_hits(point);
	send_sig(SIGUSR1, READ_ONCE(ctx->giver_task), 1);
	race_wait_for_point(point, hits);
	wakes = gosync_delay_point_hits(wake_point);
	gosync_mutex_unlock(m);
	/* Unlock delivered a unit: the giver was still counted. */
	if (gosync_delay_point_hits(wake_point) != wakes)
		atomic_inc(&ctx->in_window);
	return race_done(ctx, r);
}

static int race_drive(struct race_ctx *ctx)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(RACE_BUDGET_MS);
	unsigned int w;
	int err = 0;

	while (!err && !ctx->left_trace &&
	       atomic_read(&ctx->in_window) < RACE_IN_WINDOW &&
	       ctx->rounds < RACE_ROUNDS_MAX && time_before(jiffies, deadline)) {
		err = race_round(ctx, ++ctx->rounds);
		if (mutex_test_state(ctx->m) || READ_ONCE(ctx->m->sema))
			ctx->left_trace = true;
	}
	for (w = 0; w < ctx->nr_waiters; w++)
		atomic_set(&ctx->go[w], -1);
	return err;
}

/* A waiter: lock in every round it is let in, until told to stop. */
static int race_thread(void *data, unsigned int index)
{
	struct race_ctx *ctx = data;
	unsigned int w = index - 1;
	int r, go, err;

	if (!index)
		return race_drive(ctx);
	if (w == ctx->giver) {
		allow_signal(SIGUSR1);
		WRITE_ONCE(ctx->giver_task, current);
	}
	for (r = 1; ; r++) {
		while ((go = atomic_read(&ctx->go[w])) >= 0 && go < r)
			usleep_range(20, 50);
		if (go < 0)
			return 0;
		/* A signal that came after the last round ended. */
		flush_signals(current);
		/* Bounded, so that a waiter forgotten on a free mutex returns. */
		if (w == ctx->giver)
			err = gosync_mutex_lock_interruptible(ctx->m);
		else
			err = gosync_mutex_lock_timeout(ctx->m,
							msecs_to_jiffies(RACE_WAIT_MS));
		if (!err) {
			if (!w)
				atomic_set(&ctx->taken, r);
			if (!mutex_test_owned_state_ok(mutex_test_state(ctx->m)))
				atomic_inc(&ctx->bad_state);
			gosync_mutex_unlock(ctx->m);
		} else if (ctx->kind == RACE_HANDOFF_TAKEN &&
			   atomic_read(&ctx->taken) != r) {
			/* Gave up while the receiver had not taken it yet. */
			atomic_inc(&ctx->in_window);
		}
		flush_signals(current);
		atomic_set(&ctx->done[w], r);
	}
}

static void mutex_give_up_meets_release(struct kunit *test)
{
	const enum race_kind *kind = test->param_value;
	struct race_ctx ctx = {
		.m = mutex_test_make(test, MUTEX_INITIALISED),
		.kind = *kind,
		.nr_waiters = *kind == RACE_HANDOFF_TAKEN ? 2 : 1,
		.giver = *kind == RACE_HANDOFF_TAKEN ? 1 : 0,
	};

	mutex_test_set_threshold(test, *kind == RACE_UNLOCK_WAKES ? ULONG_MAX : 0);
	if (*kind == RACE_HANDOFF_TAKEN)
		gosync_test_arm_delay(test, GOSYNC_DELAY_MUTEX_HANDOFF_BEFORE_TAKE,
				      RACE_DELAY_US);
	else
		gosync_test_arm_delay(test, GOSYNC_DELAY_MUTEX_GIVE_UP_BEFORE_LEAVE,
				      RACE_DELAY_US);
	/* Only counted: tells whether unlock delivered a unit. */
	gosync_test_arm_delay(test, GOSYNC_DELAY_MUTEX_UNLOCK_AFTER_WAKE, 1);
	KUNIT_ASSERT_EQ(test, gosync_test_run_threads(test, ctx.nr_waiters + 1,
						      race_thread, &ctx, NULL), 0);
	kunit_info(test, "%u rounds, %u set up, %d met inside the window\n",
		   ctx.rounds, ctx.set_up, atomic_read(&ctx.in_window));
	KUNIT_EXPECT_FALSE(test, ctx.left_trace);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx.bad_state), 0);
	KUNIT_EXPECT_GT(test, atomic_read(&ctx.in_window), 0);
	mutex_test_expect_idle(test, ctx.m);
}

#define PREEMPT_ROUNDS		4
#define PREEMPT_HOG_MS		600
/* Generous: the releaser's window is at most a millisecond long. */
#define PREEMPT_GIVE_UP_MAX_MS	300

struct preempt_ctx {
	struct gosync_mutex *m;
	struct task_struct *giver;
	unsigned int hog_index;
	int held;		/* the round the unlocker holds the mutex in */
	int round;		/* set by the unlocker: the hog may start */
	int given_up;		/* the last round the giver returned in */
	u64 signalled_ns;
	u64 returned_ns;	/* when the giver's lock call returned */
	u64 slowest_ns;
};

/*
 * Thread 0 holds the mutex, signals the giver (thread 1, queued on another
 * CPU) and unlocks: the giver's wakeup is then usually promised already,
 * so the giver must wait for it.  A real-time hog on thread 0's CPU wakes
 * while the unlock is in its window (widened by a delay point) and runs
 * for PREEMPT_HOG_MS: if it can preempt the unlock there, the giver waits
 * that long, uninterruptibly.
 */
static int preempt_thread(void *data, unsigned int index)
{
	struct preempt_ctx *ctx = data;
	u64 start;
	int r, err;

	if (index == 1)
		allow_signal(SIGUSR1);
	for (r = 1; r <= PREEMPT_ROUNDS; r++) {
		if (index == 0) {
			gosync_mutex_lock(ctx->m);
			WRITE_ONCE(ctx->held, r);
			while (mutex_test_waiters(ctx->m) != 1 ||
			       !READ_ONCE(ctx->giver))
				usleep_range(50, 100);
			/*
			 * The hog polls for the round: it wakes some 20 to
			 * 50 us after this, while the unlock below is in
			 * its widened window.  The signal is sent with
			 * preemption enabled: on PREEMPT_RT send_sig()
			 * takes sleeping locks.
			 */
			send_sig(SIGUSR1, ctx->giver, 1);
			WRITE_ONCE(ctx->signalled_ns, ktime_get_ns());
			WRITE_ONCE(ctx->round, r);
			gosync_mutex_unlock(ctx->m);
			/* Pairs with the giver's release: its time is set. */
			while (smp_load_acquire(&ctx->given_up) != r)
				usleep_range(50, 100);
			/* The signal may even have won the race to the clock. */
			if (ctx->returned_ns > ctx->signalled_ns)
				ctx->slowest_ns = max(ctx->slowest_ns,
						      ctx->returned_ns -
						      ctx->signalled_ns);
		} else if (index == 1) {
			while (READ_ONCE(ctx->held) != r)
				usleep_range(50, 100);
			err = gosync_mutex_lock_interruptible(ctx->m);
			ctx->returned_ns = ktime_get_ns();
			if (!err)
				gosync_mutex_unlock(ctx->m);
			flush_signals(current);
			/* Publishes returned_ns to the unlocker. */
			smp_store_release(&ctx->given_up, r);
			/* Queue again only after the hog let the CPU go. */
			while (READ_ONCE(ctx->round) != -r)
				usleep_range(50, 100);
		} else if (index == ctx->hog_index) {
			while (READ_ONCE(ctx->round) != r)
				usleep_range(20, 50);
			start = ktime_get_ns();
			while (ktime_get_ns() - start < PREEMPT_HOG_MS * NSEC_PER_MSEC)
				cpu_relax();
			while (READ_ONCE(ctx->given_up) != r)
				usleep_range(50, 100);
			WRITE_ONCE(ctx->round, -r);
		}
	}
	return 0;
}

static void preempt_find_giver(struct task_struct **tasks, unsigned int nr,
			       void *data)
{
	struct preempt_ctx *ctx = data;

	sched_set_fifo(tasks[ctx->hog_index]);
	WRITE_ONCE(ctx->giver, tasks[1]);
}

static void mutex_give_up_waits_only_for_running_releaser(struct kunit *test)
{
	struct preempt_ctx ctx = {
		.m = mutex_test_make(test, MUTEX_INITIALISED),
		/* Round-robin placement: this thread shares thread 0's CPU. */
		.hog_index = num_online_cpus(),
	};

	gosync_test_arm_delay(test, GOSYNC_DELAY_MUTEX_UNLOCK_AFTER_RELEASE, 1000);
	/* The giver then mostly decides after the unlock promised it a unit. */
	gosync_test_arm_delay(test, GOSYNC_DELAY_MUTEX_GIVE_UP_BEFORE_LEAVE, 200);
	KUNIT_ASSERT_EQ(test, gosync_test_run_threads(test, ctx.hog_index + 1,
						      preempt_thread, &ctx,
						      preempt_find_giver), 0);
	kunit_info(test, "slowest give-up: %llu us after the signal\n",
		   ctx.slowest_ns / NSEC_PER_USEC);
	KUNIT_EXPECT_LT(test, ctx.slowest_ns,
			PREEMPT_GIVE_UP_MAX_MS * NSEC_PER_MSEC);
	mutex_test_expect_idle(test, ctx.m);
}

#define REUSE_ROUNDS 300

struct reuse_ctx {
	struct gosync_mutex *m;
	atomic_t round;		/* the round B may take the mutex in */
	atomic_t unlocked;	/* the last round whose unlock by A returned */
	atomic_t unbalanced;
};

/*
 * A locks and unlocks; B takes the mutex as soon as A released it, unlocks
 * it and wipes it, as a task that frees the object holding the mutex
 * would.  A's unlock must not touch the mutex after releasing it: on a
 * lockdep kernel A's own lock count tells whether its release annotation
 * was lost on the wiped mutex.
 */
static int reuse_thread(void *data, unsigned int index)
{
	struct reuse_ctx *ctx = data;
	int r;

	for (r = 1; r <= REUSE_ROUNDS; r++) {
		if (index == 0) {
#ifdef CONFIG_LOCKDEP
			int depth = current->lockdep_depth;
#endif

			gosync_mutex_lock(ctx->m);
			atomic_set(&ctx->round, r);
			gosync_mutex_unlock(ctx->m);
#ifdef CONFIG_LOCKDEP
			if (current->lockdep_depth != depth)
				atomic_inc(&ctx->unbalanced);
#endif
			atomic_set(&ctx->unlocked, r);
			/* B makes the mutex anew before the next round. */
			while (atomic_read(&ctx->round) != -r)
				cpu_relax();
			continue;
		}
		while (atomic_read(&ctx->round) != r)
			cpu_relax();
		while (!gosync_mutex_trylock(ctx->m))
			cpu_relax();
		gosync_mutex_unlock(ctx->m);
		memset(ctx->m, 0, sizeof(*ctx->m));
		while (atomic_read(&ctx->unlocked) != r)
			cpu_relax();
		gosync_mutex_init(ctx->m);
		atomic_set(&ctx->round, -r);
	}
	return 0;
}

/*
 * Run @fn on two threads with delay point @point armed up to @max_us.
 * Returns how often a task passed the point.
 */
static u64 mutex_test_pair_in_window(struct kunit *test,
				     enum gosync_delay_point point,
				     unsigned int max_us,
				     int (*fn)(void *data, unsigned int index),
				     void *ctx)
{
	u64 hits = gosync_delay_point_hits(point);

	gosync_test_arm_delay(test, point, max_us);
	KUNIT_EXPECT_EQ(test, gosync_test_run_threads(test, 2, fn, ctx, NULL), 0);
	return gosync_delay_point_hits(point) - hits;
}

static void mutex_unlock_touches_nothing_after_release(struct kunit *test)
{
	struct reuse_ctx ctx = {
		.m = mutex_test_make(test, MUTEX_INITIALISED),
	};
	u64 hits;

	hits = mutex_test_pair_in_window(test,
					 GOSYNC_DELAY_MUTEX_UNLOCK_AFTER_RELEASE,
					 100, reuse_thread, &ctx);
	KUNIT_EXPECT_GT(test, hits, 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx.unbalanced), 0);
	mutex_test_expect_idle(test, ctx.m);
}

#define FREE_ROUNDS 100

struct free_ctx {
	struct gosync_mutex *m;	/* made by the holder, freed by the waiter */
	atomic_t round;		/* the round whose mutex is held and published */
	atomic_t unlocked;	/* the last round whose unlock by the holder returned */
	atomic_t freed;		/* the last round whose mutex the waiter freed */
	atomic_t early;		/* rounds freed before the holder's unlock returned */
};

/*
 * The holder (thread 0) makes a mutex, locks it, waits until the waiter
 * (thread 1, on another CPU) is parked on it, and unlocks: the slow path,
 * which releases the mutex and then wakes the waiter.  The waiter locks,
 * unlocks and kfree()s the mutex at once, as the last user may, while a
 * delay point keeps the holder's unlock inside after the wakeup.  Any
 * access by unlock to the mutex after it woke the waiter is then a use
 * after free, which KASAN reports.
 */
static int free_thread(void *data, unsigned int index)
{
	struct free_ctx *ctx = data;
	struct gosync_mutex *m;
	int r;

	for (r = 1; r <= FREE_ROUNDS; r++) {
		if (index == 0) {
			m = kzalloc(sizeof(*m), GFP_KERNEL);
			if (!m)
				return -ENOMEM;
			gosync_mutex_init(m);
			gosync_mutex_lock(m);
			WRITE_ONCE(ctx->m, m);
			atomic_set_release(&ctx->round, r);
			while (mutex_test_waiters(m) != 1)
				usleep_range(20, 50);
			gosync_mutex_unlock(m);
			atomic_set(&ctx->unlocked, r);
			while (atomic_read(&ctx->freed) != r)
				usleep_range(20, 50);
			continue;
		}
		while (atomic_read_acquire(&ctx->round) != r)
			usleep_range(20, 50);
		m = READ_ONCE(ctx->m);
		gosync_mutex_lock(m);
		gosync_mutex_unlock(m);
		kfree(m);
		if (atomic_read(&ctx->unlocked) != r)
			atomic_inc(&ctx->early);
		atomic_set(&ctx->freed, r);
	}
	return 0;
}

static void mutex_unlock_with_waiter_touches_nothing_after_wake(struct kunit *test)
{
	struct free_ctx ctx = {};
	u64 hits;

	hits = mutex_test_pair_in_window(test,
					 GOSYNC_DELAY_MUTEX_UNLOCK_AFTER_WAKE,
					 1000, free_thread, &ctx);
	/* Every round's unlock woke the waiter and passed the point once. */
	KUNIT_EXPECT_EQ(test, hits, FREE_ROUNDS);
	kunit_info(test, "%d of %d mutexes freed while their unlock was inside\n",
		   atomic_read(&ctx.early), FREE_ROUNDS);
	KUNIT_EXPECT_GT(test, atomic_read(&ctx.early), 0);
}

static void mutex_unlock_of_unlocked_is_misuse(struct kunit *test)
{
	struct gosync_mutex *m = mutex_test_make(test, MUTEX_INITIALISED);
	u64 misuse = gosync_stat_read(GOSYNC_STAT_MUTEX_MISUSE);

	gosync_expect_warning_begin();
	gosync_mutex_unlock(m);
	gosync_expect_warning_end();
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(MUTEX_MISUSE, misuse), 1);
	mutex_test_expect_idle(test, m);
	gosync_mutex_lock(m);
	gosync_mutex_unlock(m);
	mutex_test_expect_idle(test, m);
}

/* The kernel's count of WARN()s since boot (/sys/kernel/warn_count), or -1. */
static long mutex_test_warn_count(void)
{
	struct file *file = filp_open("/sys/kernel/warn_count", O_RDONLY, 0);
	char buf[24] = "";
	loff_t pos = 0;
	long count;
	ssize_t len;

	if (IS_ERR(file))
		return -1;
	len = kernel_read(file, buf, sizeof(buf) - 1, &pos);
	filp_close(file, NULL);
	if (len <= 0 || kstrtol(buf, 10, &count))
		return -1;
	return count;
}

struct irq_try_ctx {
	struct irq_work work;
	struct gosync_mutex *m;
	bool in_hardirq;
	bool locked;
};

static void irq_try_fn(struct irq_work *work)
{
	struct irq_try_ctx *ctx = container_of(work, struct irq_try_ctx, work);

	ctx->in_hardirq = in_hardirq();
	ctx->locked = gosync_mutex_trylock(ctx->m);
	if (ctx->locked)
		gosync_mutex_unlock(ctx->m);
}

/*
 * trylock is for task context: the owner is the current task, which in a
 * hard interrupt is whatever task it interrupted.  Lockdep kernels say so
 * with one warning.  It is raised on purpose, from a hard irq_work on this
 * CPU while this task keeps it (preemption off), so the warning names the
 * task that opened the window.  Kernels without lockdep let it pass.
 */
static void mutex_trylock_in_hardirq_warns(struct kunit *test)
{
	struct irq_try_ctx ctx = {
		.work = IRQ_WORK_INIT_HARD(irq_try_fn),
		.m = mutex_test_make(test, MUTEX_ZEROED),
	};
	long warnings = mutex_test_warn_count();
	long expected = IS_ENABLED(CONFIG_LOCKDEP) && READ_ONCE(debug_locks);

	KUNIT_ASSERT_GE(test, warnings, 0);
	/* Its profile row is made here, where allocating is allowed. */
	gosync_mutex_lock(ctx.m);
	gosync_mutex_unlock(ctx.m);
	gosync_expect_warning_begin();
	preempt_disable();
	irq_work_queue(&ctx.work);
	while (irq_work_is_busy(&ctx.work))
		cpu_relax();
	preempt_enable();
	gosync_expect_warning_end();
	irq_work_sync(&ctx.work);
	KUNIT_EXPECT_TRUE(test, ctx.in_hardirq);
	KUNIT_EXPECT_TRUE(test, ctx.locked);
	KUNIT_EXPECT_EQ(test, mutex_test_warn_count() - warnings, expected);
	mutex_test_expect_idle(test, ctx.m);
}

static struct kunit_case gosync_mutex_cases[] = {
	KUNIT_CASE(mutex_trylock_and_queries),
	KUNIT_CASE_PARAM(mutex_exclusion_spinning, mutex_test_kind_gen_params),
	KUNIT_CASE_PARAM(mutex_exclusion_sleeping, mutex_test_kind_gen_params),
	KUNIT_CASE_SLOW(mutex_fairness_starvation_mode),
	KUNIT_CASE_SLOW(mutex_starvation_handoff),
	KUNIT_CASE(mutex_waiter_starves_without_wakeup),
	KUNIT_CASE_PARAM(mutex_waiter_gives_up_cleanly, give_up_way_gen_params),
	KUNIT_CASE(mutex_timeout_zero_only_tries),
	KUNIT_CASE_PARAM_ATTR(mutex_give_up_storm, storm_mode_gen_params,
			      { .speed = KUNIT_SPEED_SLOW }),
	KUNIT_CASE_PARAM_ATTR(mutex_give_up_meets_release, race_kind_gen_params,
			      { .speed = KUNIT_SPEED_SLOW }),
	KUNIT_CASE(mutex_unlock_touches_nothing_after_release),
	KUNIT_CASE(mutex_unlock_with_waiter_touches_nothing_after_wake),
	KUNIT_CASE_SLOW(mutex_give_up_waits_only_for_running_releaser),
	KUNIT_CASE(mutex_unlock_of_unlocked_is_misuse),
	KUNIT_CASE(mutex_trylock_in_hardirq_warns),
	{}
};

static struct kunit_suite gosync_mutex_suite = {
	.name = "gosync_mutex",
	.test_cases = gosync_mutex_cases,
};

kunit_test_suite(gosync_mutex_suite);
