// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite of the gosync mutex: exclusion, Go's fairness test,
 * starvation-mode handoff, waiters that give up, misuse.
 */

#include <linux/delay.h>
#include <linux/jiffies.h>
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

	/* Default threshold: the victim must get through, well in time. */
	fairness_run(test, with, 1000000, 10000);
	KUNIT_EXPECT_EQ(test, with->victim_acquired, FAIRNESS_VICTIM_LOCKS);
	KUNIT_EXPECT_GT(test, gosync_test_stat_delta(MUTEX_STARVATION_ENTERED,
						     entered), 0);
	KUNIT_EXPECT_GT(test, gosync_test_stat_delta(MUTEX_HANDOFFS, handoffs), 0);
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

struct handoff_ctx {
	struct gosync_mutex *m;
	struct kunit *test;
	bool barged;
	bool handed_off;
};

static int handoff_waiter(void *data, unsigned int index)
{
	struct handoff_ctx *ctx = data;

	gosync_mutex_lock(ctx->m);
	gosync_mutex_unlock(ctx->m);
	return 0;
}

/*
 * With a zero threshold every woken waiter that loses is starving.  The
 * test thread barges past a woken waiter (normal mode allows it), waits
 * for the waiter to switch the mutex to starvation mode, and then must
 * fail to barge again: unlock hands the mutex to the waiter.
 */
static void handoff_choreography(struct task_struct **tasks, unsigned int nr,
				 void *data)
{
	struct handoff_ctx *ctx = data;
	struct gosync_mutex *m = ctx->m;

	if (!gosync_test_wait_until(mutex_test_waiters(m) == 1, 5000))
		goto out;
	/* The woken waiter must not preempt us between the two calls. */
	preempt_disable();
	gosync_mutex_unlock(m);
	ctx->barged = gosync_mutex_trylock(m);
	preempt_enable();
	if (!ctx->barged)
		return;
	if (!gosync_test_wait_until(gosync_mutex_is_starving(m), 5000))
		goto out;
	KUNIT_EXPECT_TRUE(ctx->test, gosync_mutex_is_locked(m));
	gosync_mutex_unlock(m);
	/* The handoff is in flight or done: no barging either way. */
	ctx->handed_off = !gosync_mutex_trylock(m);
	if (ctx->handed_off)
		return;
out:
	gosync_mutex_unlock(m);
}

static void mutex_starvation_handoff(struct kunit *test)
{
	unsigned long saved = READ_ONCE(gosync_starvation_threshold_ns);
	struct handoff_ctx ctx = {
		.m = mutex_test_make(test, MUTEX_INITIALISED),
		.test = test,
	};
	u64 handoffs = gosync_stat_read(GOSYNC_STAT_MUTEX_HANDOFFS);
	unsigned int attempt;

	WRITE_ONCE(gosync_starvation_threshold_ns, 0);
	/*
	 * The woken waiter may win the race to the barge (the host may
	 * preempt the vCPU of this thread); try again then.
	 */
	for (attempt = 0; attempt < 50 && !ctx.barged; attempt++) {
		gosync_mutex_lock(ctx.m);
		KUNIT_EXPECT_EQ(test, gosync_test_run_threads(test, 1, handoff_waiter,
							      &ctx, handoff_choreography), 0);
	}
	WRITE_ONCE(gosync_starvation_threshold_ns, saved);
	mutex_test_expect_idle(test, ctx.m);
	if (!ctx.barged)
		kunit_skip(test, "the woken waiter won the race %u times in a row",
			   attempt);
	kunit_info(test, "barged past the woken waiter at attempt %u\n", attempt);
	KUNIT_EXPECT_TRUE(test, ctx.handed_off);
	KUNIT_EXPECT_GT(test, gosync_test_stat_delta(MUTEX_HANDOFFS, handoffs), 0);
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

struct storm_ctx {
	struct gosync_mutex *m;
	unsigned long counter;
	atomic_t acquired;
	atomic_t gave_up;
	atomic_t bad_errors;
	atomic_t holders_running;
	atomic_t givers_running;
	atomic_t gave_up_by[2];		/* [0] timeout, [1] signal */
	unsigned int nr_holders;
};

#define STORM_HOLDER_LOCKS	1000
#define STORM_GIVERS		4

static void storm_critical_section(struct storm_ctx *ctx)
{
	ctx->counter++;
	atomic_inc(&ctx->acquired);
	gosync_mutex_unlock(ctx->m);
}

/*
 * Holders take the mutex for a few microseconds at a time; givers try
 * with a timeout of zero or one jiffy, or interruptibly while the test
 * thread showers them with signals, so that thousands of waits end early,
 * some of them just as a wakeup or a handoff was on its way.
 */
static int storm_thread(void *data, unsigned int index)
{
	struct storm_ctx *ctx = data;
	bool interruptible = index % 2;
	unsigned int i;
	int err;

	if (index < ctx->nr_holders) {
		for (i = 0; i < STORM_HOLDER_LOCKS; i++) {
			gosync_mutex_lock(ctx->m);
			/* Sleeping inside: waiters cannot spin, they park. */
			usleep_range(5, 20);
			storm_critical_section(ctx);
		}
		atomic_dec(&ctx->holders_running);
		return 0;
	}
	allow_signal(SIGUSR1);
	for (i = 0; atomic_read(&ctx->holders_running); i++) {
		if (interruptible)
			err = gosync_mutex_lock_interruptible(ctx->m);
		else
			err = gosync_mutex_lock_timeout(ctx->m, i % 4 ? 0 : 1);
		if (!err) {
			storm_critical_section(ctx);
			continue;
		}
		if (err != (interruptible ? -EINTR : -ETIMEDOUT))
			atomic_inc(&ctx->bad_errors);
		atomic_inc(&ctx->gave_up);
		atomic_inc(&ctx->gave_up_by[interruptible]);
		flush_signals(current);
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
		for (i = ctx->nr_holders + 1; i < nr; i += 2)
			send_sig(SIGUSR1, tasks[i], 1);
		usleep_range(20, 60);
	}
}

static void mutex_give_up_storm(struct kunit *test)
{
	struct storm_ctx ctx = {
		.m = mutex_test_make(test, MUTEX_INITIALISED),
		.nr_holders = num_online_cpus(),
	};
	unsigned int nr = ctx.nr_holders + STORM_GIVERS;
	u64 gave_up = gosync_stat_read(GOSYNC_STAT_MUTEX_GAVE_UP);

	atomic_set(&ctx.holders_running, ctx.nr_holders);
	atomic_set(&ctx.givers_running, STORM_GIVERS);
	KUNIT_ASSERT_EQ(test, gosync_test_run_threads(test, nr, storm_thread,
						      &ctx, storm_signal), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx.bad_errors), 0);
	KUNIT_EXPECT_EQ(test, ctx.counter, (unsigned long)atomic_read(&ctx.acquired));
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(MUTEX_GAVE_UP, gave_up),
			(u64)atomic_read(&ctx.gave_up));
	KUNIT_EXPECT_GT(test, atomic_read(&ctx.gave_up_by[0]), 0);
	KUNIT_EXPECT_GT(test, atomic_read(&ctx.gave_up_by[1]), 0);
	mutex_test_expect_idle(test, ctx.m);
	kunit_info(test, "%d acquisitions; waits given up: %d on timeout, %d on a signal\n",
		   atomic_read(&ctx.acquired), atomic_read(&ctx.gave_up_by[0]),
		   atomic_read(&ctx.gave_up_by[1]));
	/* Usable afterwards. */
	gosync_mutex_lock(ctx.m);
	gosync_mutex_unlock(ctx.m);
	mutex_test_expect_idle(test, ctx.m);
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

static struct kunit_case gosync_mutex_cases[] = {
	KUNIT_CASE(mutex_trylock_and_queries),
	KUNIT_CASE_PARAM(mutex_exclusion_spinning, mutex_test_kind_gen_params),
	KUNIT_CASE_PARAM(mutex_exclusion_sleeping, mutex_test_kind_gen_params),
	KUNIT_CASE_SLOW(mutex_fairness_starvation_mode),
	KUNIT_CASE_SLOW(mutex_starvation_handoff),
	KUNIT_CASE_PARAM(mutex_waiter_gives_up_cleanly, give_up_way_gen_params),
	KUNIT_CASE_SLOW(mutex_give_up_storm),
	KUNIT_CASE(mutex_unlock_of_unlocked_is_misuse),
	{}
};

static struct kunit_suite gosync_mutex_suite = {
	.name = "gosync_mutex",
	.test_cases = gosync_mutex_cases,
};

kunit_test_suite(gosync_mutex_suite);
