// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite of the gosync waitgroup: waves of workers with exact counts
 * and happens-before checks, many waiters released at once, Go(), the
 * timeout and kill paths, misuse.
 */

#include <linux/delay.h>
#include <linux/hrtimer.h>
#include <linux/module.h>
#include <linux/prandom.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/wait_bit.h>

#include <gosync/testing.h>
#include <gosync/waitgroup.h>

#include "gosync_test.h"

static s32 wg_test_counter(struct gosync_waitgroup *wg)
{
	return gosync_wg_counter(atomic64_read(&wg->state));
}

static u32 wg_test_waiters(struct gosync_waitgroup *wg)
{
	return gosync_wg_waiters(atomic64_read(&wg->state));
}

static bool wg_test_idle(struct gosync_waitgroup *wg)
{
	return !wg_test_counter(wg) && !wg_test_waiters(wg);
}

static void wg_test_expect_idle(struct kunit *test, struct gosync_waitgroup *wg)
{
	KUNIT_EXPECT_EQ(test, wg_test_counter(wg), 0);
	KUNIT_EXPECT_EQ(test, wg_test_waiters(wg), 0);
}

/*
 * Waits that a lost wakeup would turn into timeouts are bounded by
 * WG_WAIT_BOUND, far above WG_WAIT_PROMPT, the longest a woken wait may
 * take on a loaded host; a wait longer than that lost its wakeup.  Guests
 * on a loaded two-core host were seen stalled for 2.4 s at once (the
 * clocksource watchdog said so), so the prompt bound is well above that.
 */
#define WG_WAIT_BOUND	(10 * HZ)
#define WG_WAIT_PROMPT	(4 * HZ)

static bool wg_test_prompt(unsigned long start)
{
	return time_before(jiffies, start + WG_WAIT_PROMPT);
}

#define WG_WAVES 200

struct waves_ctx {
	struct gosync_waitgroup *wg;
	atomic_t wave;
	unsigned int nr_workers;
	unsigned long *slots;		/* plain: ordered by done() -> wait() */
	unsigned int bad_waves;
};

static int waves_worker(void *data, unsigned int index)
{
	struct waves_ctx *ctx = data;
	int wave;

	for (wave = 1; wave <= WG_WAVES; wave++) {
		wait_var_event(&ctx->wave, atomic_read_acquire(&ctx->wave) >= wave);
		ctx->slots[index] = wave;
		gosync_wg_done(ctx->wg);
	}
	return 0;
}

/* The test thread runs the waves; workers were started by the helper. */
static void waves_coordinator(struct task_struct **tasks, unsigned int nr,
			      void *data)
{
	struct waves_ctx *ctx = data;
	unsigned int i;
	int wave;

	for (wave = 1; wave <= WG_WAVES; wave++) {
		if (gosync_wg_add(ctx->wg, ctx->nr_workers))
			ctx->bad_waves++;
		atomic_set_release(&ctx->wave, wave);
		wake_up_var(&ctx->wave);
		gosync_wg_wait(ctx->wg);
		for (i = 0; i < ctx->nr_workers; i++)
			if (ctx->slots[i] != wave) {
				ctx->bad_waves++;
				break;
			}
		if (gosync_wg_count(ctx->wg))
			ctx->bad_waves++;
	}
}

static void wg_waves(struct kunit *test)
{
	bool zeroed = test->param_value && *(const bool *)test->param_value;
	struct waves_ctx ctx = { .nr_workers = gosync_test_nr_threads() };
	u64 wakeups = gosync_stat_read(GOSYNC_STAT_WG_WAKEUPS);

	ctx.wg = kunit_kzalloc(test, sizeof(*ctx.wg), GFP_KERNEL);
	ctx.slots = kunit_kcalloc(test, ctx.nr_workers, sizeof(*ctx.slots),
				  GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx.wg);
	KUNIT_ASSERT_NOT_NULL(test, ctx.slots);
	if (!zeroed)
		gosync_wg_init(ctx.wg);
	KUNIT_ASSERT_EQ(test, gosync_test_run_threads(test, ctx.nr_workers,
						      waves_worker, &ctx,
						      waves_coordinator), 0);
	KUNIT_EXPECT_EQ(test, ctx.bad_waves, 0);
	wg_test_expect_idle(test, ctx.wg);
	kunit_info(test, "%d waves of %u workers; the waiter slept in %llu of them\n",
		   WG_WAVES, ctx.nr_workers,
		   gosync_test_stat_delta(WG_WAKEUPS, wakeups));
}

static const bool wg_zeroed_params[] = { false, true };

static void wg_zeroed_desc(const bool *zeroed, char *desc)
{
	strscpy(desc, *zeroed ? "kzalloc" : "gosync_wg_init", KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(wg_zeroed, wg_zeroed_params, wg_zeroed_desc);

struct crowd_ctx {
	struct gosync_waitgroup wg;
	atomic_t returned;
	unsigned long payload;
	bool all_queued;
};

static int crowd_waiter(void *data, unsigned int index)
{
	struct crowd_ctx *ctx = data;

	gosync_wg_wait(&ctx->wg);
	atomic_inc(&ctx->returned);
	/* done() happens-before wait() returns. */
	return READ_ONCE(ctx->payload) == 42 ? 0 : -EIO;
}

static void crowd_release(struct task_struct **tasks, unsigned int nr,
			  void *data)
{
	struct crowd_ctx *ctx = data;

	ctx->all_queued = gosync_test_wait_until(wg_test_waiters(&ctx->wg) >= nr,
						 10000);
	ctx->payload = 42;
	gosync_wg_done(&ctx->wg);
}

/* Every waiter is released by the one done() that reaches zero. */
static void wg_many_waiters_released_together(struct kunit *test)
{
	struct crowd_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	unsigned int nr = 4 * num_online_cpus();
	u64 wakeups = gosync_stat_read(GOSYNC_STAT_WG_WAKEUPS);

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	KUNIT_ASSERT_EQ(test, gosync_wg_add(&ctx->wg, 1), 0);
	KUNIT_EXPECT_EQ(test, gosync_test_run_threads(test, nr, crowd_waiter, ctx,
						      crowd_release), 0);
	/* Otherwise some waiters took the fast path: nothing was tested. */
	KUNIT_EXPECT_TRUE(test, ctx->all_queued);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->returned), nr);
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(WG_WAKEUPS, wakeups), nr);
	wg_test_expect_idle(test, &ctx->wg);
}

#define WG_BATCH_WAITERS 64

struct batch_ctx {
	struct gosync_waitgroup wg;
	struct hrtimer timer;
	atomic_t returned;
	atomic_t slow;		/* waits that returned late or not released */
	unsigned int in_hardirq;
	unsigned long payload;
	bool all_queued;
};

static int batch_waiter(void *data, unsigned int index)
{
	struct batch_ctx *ctx = data;
	unsigned long start = jiffies;
	long released;

	released = gosync_wg_wait_timeout(&ctx->wg, WG_WAIT_BOUND);
	if (!released || !wg_test_prompt(start))
		atomic_inc(&ctx->slow);
	atomic_inc(&ctx->returned);
	/* done() happens-before wait() returns. */
	return READ_ONCE(ctx->payload) == 42 ? 0 : -EIO;
}

static enum hrtimer_restart batch_timer(struct hrtimer *timer)
{
	struct batch_ctx *ctx = container_of(timer, struct batch_ctx, timer);

	ctx->in_hardirq = in_hardirq();
	ctx->payload = 42;
	gosync_wg_done(&ctx->wg);
	return HRTIMER_NORESTART;
}

static void batch_release(struct task_struct **tasks, unsigned int nr,
			  void *data)
{
	struct batch_ctx *ctx = data;

	ctx->all_queued = gosync_test_wait_until(wg_test_waiters(&ctx->wg) >= nr,
						 10000);
	hrtimer_start(&ctx->timer, 0, HRTIMER_MODE_REL_HARD);
}

/*
 * One done() in a hard interrupt releases WG_BATCH_WAITERS sleeping
 * waiters, more than the parking table takes off its list per hold of the
 * bucket lock: the release wakes them in several batches (the delay point
 * between batches is passed, and widened, so that the first waiters return
 * while the rest are still queued), and every one of them returns
 * promptly, after the done().
 */
static void wg_release_wakes_in_batches(struct kunit *test)
{
	struct batch_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	enum gosync_delay_point point = GOSYNC_DELAY_PARK_WAKE_ALL_BETWEEN_BATCHES;
	u64 wakeups = gosync_stat_read(GOSYNC_STAT_WG_WAKEUPS);
	u64 hits = gosync_delay_point_hits(point);

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	hrtimer_init(&ctx->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	ctx->timer.function = batch_timer;
	gosync_test_arm_delay(test, point, 200);
	KUNIT_ASSERT_EQ(test, gosync_wg_add(&ctx->wg, 1), 0);
	KUNIT_EXPECT_EQ(test, gosync_test_run_threads(test, WG_BATCH_WAITERS,
						      batch_waiter, ctx,
						      batch_release), 0);
	hrtimer_cancel(&ctx->timer);
	KUNIT_EXPECT_TRUE(test, ctx->all_queued);
	KUNIT_EXPECT_TRUE(test, ctx->in_hardirq);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->slow), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->returned), WG_BATCH_WAITERS);
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(WG_WAKEUPS, wakeups),
			WG_BATCH_WAITERS);
	/* Otherwise the release took them all in one batch. */
	KUNIT_EXPECT_GT(test, gosync_delay_point_hits(point), hits);
	wg_test_expect_idle(test, &ctx->wg);
}

/*
 * At least WG_ATOMIC_ROUNDS rounds, and more (up to WG_ATOMIC_ROUNDS_MAX)
 * until the waiters were all asleep at the release in half of them: on a
 * loaded host they are often still on their way when the round starts.
 */
#define WG_ATOMIC_ROUNDS	50
#define WG_ATOMIC_ROUNDS_MAX	(4 * WG_ATOMIC_ROUNDS)
#define WG_ATOMIC_DONES		4	/* done()s per round */
#define WG_ATOMIC_PERIOD_NS	(100 * NSEC_PER_USEC)

enum wg_atomic_where { WG_DONE_IN_HARD_IRQ, WG_DONE_WITH_IRQS_OFF };

struct atomic_done_ctx {
	struct gosync_waitgroup wg;
	enum wg_atomic_where where;
	struct hrtimer timer;
	raw_spinlock_t lock;
	atomic_t round;		/* the round the waiters may start */
	atomic_t returned;	/* waits returned, over all rounds */
	unsigned int left;	/* done()s left in this round */
	/* Written before each done(): ordered by done() -> wait(). */
	unsigned int fired;
	unsigned int in_hardirq;
	unsigned int irqs_off;
	unsigned int asleep;	/* rounds whose waiters were all queued */
	unsigned int rounds;	/* rounds the driver completed */
	int bad_round;		/* the first round that went wrong, or 0 */
	bool stop;
};

static void atomic_done_one(struct atomic_done_ctx *ctx)
{
	ctx->in_hardirq += !!in_hardirq();
	ctx->irqs_off += irqs_disabled();
	ctx->fired++;
	gosync_wg_done(&ctx->wg);
}

static enum hrtimer_restart atomic_done_timer(struct hrtimer *timer)
{
	struct atomic_done_ctx *ctx = container_of(timer, struct atomic_done_ctx,
						   timer);
	bool last = !--ctx->left;

	atomic_done_one(ctx);
	if (last)
		return HRTIMER_NORESTART;
	hrtimer_forward_now(timer, ns_to_ktime(WG_ATOMIC_PERIOD_NS));
	return HRTIMER_RESTART;
}

static int atomic_done_waiter(void *data, unsigned int index)
{
	struct atomic_done_ctx *ctx = data;
	unsigned long start;
	int round, bad = 0;
	long released;

	for (round = 1; ; round++) {
		wait_var_event(&ctx->round, atomic_read_acquire(&ctx->round) >= round ||
			       READ_ONCE(ctx->stop));
		if (READ_ONCE(ctx->stop))
			break;
		start = jiffies;
		/* Bounded: a lost wakeup must fail the case, not hang it. */
		released = gosync_wg_wait_timeout(&ctx->wg, WG_WAIT_BOUND);
		/*
		 * A lost wakeup ends in the timeout, where the wait finds
		 * itself released and returns as if woken: only its length
		 * tells, and a second is far above a wakeup's latency.
		 */
		bad += !released || !wg_test_prompt(start);
		/* Every done() of the round happened-before this return. */
		bad += ctx->fired != round * WG_ATOMIC_DONES;
		atomic_inc_return_release(&ctx->returned);
	}
	return bad;
}

static void atomic_done_rounds(struct task_struct **tasks, unsigned int nr,
			       void *data)
{
	struct atomic_done_ctx *ctx = data;
	unsigned long flags;
	int round, i;
	bool back;

	for (round = 1; round <= WG_ATOMIC_ROUNDS_MAX; round++) {
		if (round > WG_ATOMIC_ROUNDS &&
		    ctx->asleep >= WG_ATOMIC_ROUNDS / 2)
			break;
		if (gosync_wg_add(&ctx->wg, WG_ATOMIC_DONES)) {
			ctx->bad_round = round;
			break;
		}
		atomic_set_release(&ctx->round, round);
		wake_up_var(&ctx->round);
		/* Mostly, the last done() wakes sleepers: the part under test. */
		ctx->asleep += gosync_test_wait_until(wg_test_waiters(&ctx->wg) == nr,
						      20);
		if (ctx->where == WG_DONE_IN_HARD_IRQ) {
			ctx->left = WG_ATOMIC_DONES;
			hrtimer_start(&ctx->timer, ns_to_ktime(WG_ATOMIC_PERIOD_NS),
				      HRTIMER_MODE_REL_HARD);
		} else {
			for (i = 0; i < WG_ATOMIC_DONES; i++) {
				raw_spin_lock_irqsave(&ctx->lock, flags);
				atomic_done_one(ctx);
				raw_spin_unlock_irqrestore(&ctx->lock, flags);
			}
		}
		/* Well before the waiters' own bound: this one must decide. */
		back = gosync_test_wait_until(atomic_read_acquire(&ctx->returned) ==
					      nr * round, 6000);
		hrtimer_cancel(&ctx->timer);
		if (!back || !wg_test_idle(&ctx->wg)) {
			ctx->bad_round = round;
			break;
		}
		ctx->rounds = round;
	}
	WRITE_ONCE(ctx->stop, true);
	wake_up_var(&ctx->round);
}

/*
 * done() in atomic context: from a hard-interrupt hrtimer (a hard
 * interrupt on PREEMPT_RT too), and under a raw spinlock with interrupts
 * off.  Rounds of WG_ATOMIC_DONES done()s, the last of which releases
 * waiters that (mostly) sleep: every wait returns after every done() of
 * its round, and the word ends idle.  On PREEMPT_RT with lockdep, a
 * sleeping lock taken on the way (the old wake_up_var()'s wait-queue
 * spinlock_t) is reported and fails the run.
 */
static void wg_done_in_atomic_context(struct kunit *test)
{
	struct atomic_done_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	unsigned int nr = gosync_test_nr_threads();
	unsigned int dones;

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->where = *(const enum wg_atomic_where *)test->param_value;
	raw_spin_lock_init(&ctx->lock);
	hrtimer_init(&ctx->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	ctx->timer.function = atomic_done_timer;
	KUNIT_EXPECT_EQ(test, gosync_test_run_threads(test, nr, atomic_done_waiter,
						      ctx, atomic_done_rounds), 0);
	KUNIT_EXPECT_EQ(test, ctx->bad_round, 0);
	KUNIT_EXPECT_GE(test, ctx->rounds, WG_ATOMIC_ROUNDS);
	dones = ctx->rounds * WG_ATOMIC_DONES;
	KUNIT_EXPECT_EQ(test, ctx->fired, dones);
	KUNIT_EXPECT_EQ(test, ctx->irqs_off, dones);
	KUNIT_EXPECT_EQ(test, ctx->in_hardirq,
			ctx->where == WG_DONE_IN_HARD_IRQ ? dones : 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->returned), nr * ctx->rounds);
	/* Otherwise the wakeups were hardly tested. */
	KUNIT_EXPECT_GE(test, ctx->asleep, WG_ATOMIC_ROUNDS / 2);
	wg_test_expect_idle(test, &ctx->wg);
	kunit_info(test, "%u rounds of %u waiters; all queued at the release in %u\n",
		   ctx->rounds, nr, ctx->asleep);
}

static const enum wg_atomic_where wg_atomic_params[] = {
	WG_DONE_IN_HARD_IRQ, WG_DONE_WITH_IRQS_OFF,
};

static void wg_atomic_desc(const enum wg_atomic_where *where, char *desc)
{
	strscpy(desc, *where == WG_DONE_IN_HARD_IRQ ? "hard irq" :
		"irqs off, raw spinlock", KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(wg_atomic, wg_atomic_params, wg_atomic_desc);

#define WG_GO_CALLS 2000

struct go_ctx {
	atomic_t ran;
	u8 slots[WG_GO_CALLS];
};

struct go_arg {
	struct go_ctx *ctx;
	unsigned int index;
};

static void go_fn(void *data)
{
	struct go_arg *arg = data;

	arg->ctx->slots[arg->index] = 1;
	atomic_inc(&arg->ctx->ran);
}

static void wg_go_thousands(struct kunit *test)
{
	struct gosync_waitgroup wg = {};
	struct go_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	struct go_arg *args = kunit_kcalloc(test, WG_GO_CALLS, sizeof(*args),
					    GFP_KERNEL);
	unsigned int i, missing = 0;

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	KUNIT_ASSERT_NOT_NULL(test, args);
	for (i = 0; i < WG_GO_CALLS; i++) {
		args[i].ctx = ctx;
		args[i].index = i;
		KUNIT_ASSERT_EQ(test, gosync_wg_go(&wg, go_fn, &args[i]), 0);
	}
	gosync_wg_wait(&wg);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->ran), WG_GO_CALLS);
	for (i = 0; i < WG_GO_CALLS; i++)
		missing += !ctx->slots[i];
	KUNIT_EXPECT_EQ(test, missing, 0);
	wg_test_expect_idle(test, &wg);
}

static void wg_wait_timeout(struct kunit *test)
{
	struct gosync_waitgroup wg = {};

	KUNIT_EXPECT_GT(test, gosync_wg_wait_timeout(&wg, 0), 0);
	KUNIT_ASSERT_EQ(test, gosync_wg_add(&wg, 1), 0);
	KUNIT_EXPECT_EQ(test, gosync_wg_wait_timeout(&wg, 2), 0);
	KUNIT_EXPECT_EQ(test, gosync_wg_wait_timeout(&wg, 0), 0);
	KUNIT_EXPECT_EQ(test, wg_test_counter(&wg), 1);
	KUNIT_EXPECT_EQ(test, wg_test_waiters(&wg), 0);
	gosync_wg_done(&wg);
	KUNIT_EXPECT_GT(test, gosync_wg_wait_timeout(&wg, 2), 0);
	wg_test_expect_idle(test, &wg);
}

struct killable_ctx {
	struct gosync_waitgroup wg;
	int result;
};

static int killable_waiter(void *data, unsigned int index)
{
	struct killable_ctx *ctx = data;

	allow_signal(SIGKILL);
	ctx->result = gosync_wg_wait_killable(&ctx->wg);
	return 0;
}

static void killable_kill(struct task_struct **tasks, unsigned int nr,
			  void *data)
{
	struct killable_ctx *ctx = data;

	gosync_test_wait_until(wg_test_waiters(&ctx->wg), 10000);
	send_sig(SIGKILL, tasks[0], 1);
}

static void wg_wait_killable(struct kunit *test)
{
	struct killable_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	KUNIT_ASSERT_EQ(test, gosync_wg_add(&ctx->wg, 1), 0);
	KUNIT_EXPECT_EQ(test, gosync_test_run_threads(test, 1, killable_waiter,
						      ctx, killable_kill), 0);
	KUNIT_EXPECT_EQ(test, ctx->result, -EINTR);
	KUNIT_EXPECT_EQ(test, wg_test_waiters(&ctx->wg), 0);
	KUNIT_EXPECT_EQ(test, wg_test_counter(&ctx->wg), 1);
	gosync_wg_done(&ctx->wg);
	KUNIT_EXPECT_EQ(test, gosync_wg_wait_killable(&ctx->wg), 0);
	wg_test_expect_idle(test, &ctx->wg);
}

static void wg_misuse(struct kunit *test)
{
	struct gosync_waitgroup wg = {};
	u64 misuse = gosync_stat_read(GOSYNC_STAT_WG_MISUSE);

	KUNIT_ASSERT_EQ(test, gosync_wg_add(&wg, 2), 0);
	gosync_expect_warning_begin();
	KUNIT_EXPECT_EQ(test, gosync_wg_add(&wg, -3), -EINVAL);
	KUNIT_EXPECT_EQ(test, gosync_wg_add(&wg, INT_MAX), -EINVAL);
	KUNIT_EXPECT_EQ(test, gosync_wg_add(NULL, 1), -EINVAL);
	gosync_expect_warning_end();
	KUNIT_EXPECT_EQ(test, gosync_wg_count(&wg), 2);
	gosync_wg_done(&wg);
	gosync_wg_done(&wg);
	gosync_expect_warning_begin();
	gosync_wg_done(&wg);
	gosync_expect_warning_end();
	KUNIT_EXPECT_EQ(test, gosync_wg_count(&wg), 0);
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(WG_MISUSE, misuse), 4);
}

/*
 * The counter's range ends at GOSYNC_WG_COUNTER_MAX on the inline fast
 * path of add() and on the out-of-line path alike: the add() that would
 * pass it is refused, leaves the counter unchanged and counts as misuse.
 * Every call, inline or not, counts exactly once in wg.add or wg.wait.
 */
static void wg_counter_max_and_counts(struct kunit *test)
{
	struct gosync_waitgroup wg = {};
	u64 misuse = gosync_stat_read(GOSYNC_STAT_WG_MISUSE);
	u64 adds = gosync_stat_read(GOSYNC_STAT_WG_ADD);
	u64 waits = gosync_stat_read(GOSYNC_STAT_WG_WAIT);
	const int fast = GOSYNC_WG_ADD_FAST_MAX;

	gosync_wg_wait(&wg);
	/* Out of line (too big a step), inline, out of line. */
	KUNIT_EXPECT_EQ(test, gosync_wg_add(&wg, fast + 1), 0);
	KUNIT_EXPECT_EQ(test, gosync_wg_add(&wg, fast), 0);
	KUNIT_EXPECT_EQ(test, gosync_wg_add(&wg, GOSYNC_WG_COUNTER_MAX - 2 * fast - 2), 0);
	KUNIT_EXPECT_EQ(test, gosync_wg_count(&wg), GOSYNC_WG_COUNTER_MAX - 1);
	/* Inline, up to the maximum exactly. */
	KUNIT_EXPECT_EQ(test, gosync_wg_add(&wg, 1), 0);
	gosync_expect_warning_begin();
	KUNIT_EXPECT_EQ(test, gosync_wg_add(&wg, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, gosync_wg_add(&wg, fast + 1), -EINVAL);
	gosync_expect_warning_end();
	KUNIT_EXPECT_EQ(test, gosync_wg_count(&wg), GOSYNC_WG_COUNTER_MAX);
	gosync_wg_done(&wg);
	KUNIT_EXPECT_EQ(test, gosync_wg_add(&wg, 2 - GOSYNC_WG_COUNTER_MAX), 0);
	KUNIT_EXPECT_EQ(test, gosync_wg_count(&wg), 1);
	/* Inline: one to zero with nobody waiting. */
	gosync_wg_done(&wg);
	KUNIT_EXPECT_EQ(test, atomic64_read(&wg.state), 0);
	gosync_wg_wait(&wg);
	KUNIT_EXPECT_GT(test, gosync_wg_wait_timeout(&wg, 1), 0);
	KUNIT_EXPECT_EQ(test, gosync_wg_wait_killable(&wg), 0);
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(WG_MISUSE, misuse), 2);
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(WG_ADD, adds), 9);
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(WG_WAIT, waits), 4);
}

#define WG_STORM_ROUNDS		5000
/* Longer than the storm takes even on a KASAN kernel on a loaded host. */
#define WG_STORM_BOUND		(20 * HZ)
#define WG_STORM_WAITERS	2

struct storm_ctx {
	struct gosync_waitgroup wg;
	unsigned int nr_workers;
	atomic_t finished;	/* workers done with their rounds */
	unsigned long released_at;	/* jiffies at the last done() */
	atomic_t released;	/* set just before the last done() */
	atomic_t calls;		/* add() and done() calls made */
	atomic_t bad;		/* invariants broken */
	atomic_t returned;	/* waits that returned released */
};

/* Raise by a random step, lower again by random steps, many times over. */
static int storm_worker(struct storm_ctx *ctx, unsigned int index)
{
	struct rnd_state rnd;
	unsigned int round, calls = 0;
	int step, left, count;

	prandom_seed_state(&rnd, 0x3a1d + index);
	for (round = 0; round < WG_STORM_ROUNDS; round++) {
		/* Inline below GOSYNC_WG_ADD_FAST_MAX, out of line above. */
		left = 1 + prandom_u32_state(&rnd) % (2 * GOSYNC_WG_ADD_FAST_MAX);
		if (gosync_wg_add(&ctx->wg, left))
			atomic_inc(&ctx->bad);
		calls++;
		/* The test's own add(1) keeps it above zero throughout. */
		count = gosync_wg_count(&ctx->wg);
		if (count < left + 1 || count > GOSYNC_WG_COUNTER_MAX)
			atomic_inc(&ctx->bad);
		while (left) {
			step = 1 + prandom_u32_state(&rnd) % min(left, 4);
			if (step == 1)
				gosync_wg_done(&ctx->wg);
			else if (gosync_wg_add(&ctx->wg, -step))
				atomic_inc(&ctx->bad);
			calls++;
			left -= step;
		}
		if (!(round % 64))
			cond_resched();
	}
	atomic_add(calls, &ctx->calls);
	atomic_inc(&ctx->finished);
	return 0;
}

/*
 * Waits until the last done(): a zero during the storm would release it
 * early.  Waiter 0 sleeps throughout; the others time out every jiffy, so
 * that they register and leave again and again during the storm.
 */
static int storm_waiter(struct storm_ctx *ctx, unsigned int index)
{
	unsigned long deadline = jiffies + WG_STORM_BOUND;
	long left;

	do {
		left = gosync_wg_wait_timeout(&ctx->wg, index ? 1 : WG_WAIT_BOUND);
	} while (!left && time_before(jiffies, deadline));
	/* Late: the last done() lost the wakeup and a timeout saw the zero. */
	if (left <= 0 || !atomic_read_acquire(&ctx->released) ||
	    !wg_test_prompt(ctx->released_at))
		atomic_inc(&ctx->bad);
	else
		atomic_inc(&ctx->returned);
	return 0;
}

static int storm_thread(void *data, unsigned int index)
{
	struct storm_ctx *ctx = data;

	if (index < ctx->nr_workers)
		return storm_worker(ctx, index);
	return storm_waiter(ctx, index - ctx->nr_workers);
}

static void storm_end(struct task_struct **tasks, unsigned int nr, void *data)
{
	struct storm_ctx *ctx = data;

	/* Waiter 0 asleep at the release, unless it was released early. */
	if (!gosync_test_wait_until(atomic_read(&ctx->finished) == ctx->nr_workers,
				    jiffies_to_msecs(WG_STORM_BOUND)) ||
	    !gosync_test_wait_until(wg_test_waiters(&ctx->wg) >= 1 ||
				    atomic_read(&ctx->bad), 5000))
		atomic_inc(&ctx->bad);
	if (gosync_wg_count(&ctx->wg) != 1)
		atomic_inc(&ctx->bad);
	ctx->released_at = jiffies;
	atomic_set_release(&ctx->released, 1);
	gosync_wg_done(&ctx->wg);
}

/*
 * Workers on every CPU raise and lower one counter at once, by the inline
 * atomic add, the inline compare-and-exchange of done() and the
 * out-of-line loop, while waiters sleep on it, time out and register
 * again.  The test's add(1) holds the counter above zero until every
 * worker has finished: no step may be lost (the counter ends exactly at
 * zero, the word idle), no waiter may be released by a zero that never
 * was, and each call counts once.
 */
static void wg_add_done_storm(struct kunit *test)
{
	struct storm_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	u64 adds = gosync_stat_read(GOSYNC_STAT_WG_ADD);
	unsigned int nr;

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->nr_workers = gosync_test_nr_threads();
	nr = ctx->nr_workers + WG_STORM_WAITERS;
	KUNIT_ASSERT_EQ(test, gosync_wg_add(&ctx->wg, 1), 0);
	KUNIT_EXPECT_EQ(test, gosync_test_run_threads(test, nr, storm_thread, ctx,
						      storm_end), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->bad), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->returned), WG_STORM_WAITERS);
	KUNIT_EXPECT_EQ(test, atomic64_read(&ctx->wg.state) & ~(s64)GOSYNC_WG_GEN_MASK, 0);
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(WG_ADD, adds),
			(u64)atomic_read(&ctx->calls) + 2);
}

#define WG_ZERO_ROUNDS 100

struct zero_ctx {
	struct gosync_waitgroup wg;
	atomic_t round;		/* the round the waiter may start */
	atomic_t waited;	/* the last round the waiter finished */
	atomic_t stop;
	int bad_round;		/* the first round that went wrong, or 0 */
};

static int zero_thread(void *data, unsigned int index)
{
	struct zero_ctx *ctx = data;
	int round;

	if (index) {
		/* add(0) as fast as possible, into every release. */
		while (!atomic_read(&ctx->stop)) {
			gosync_wg_add(&ctx->wg, 0);
			cond_resched();
		}
		return 0;
	}
	for (round = 1; round <= WG_ZERO_ROUNDS; round++) {
		wait_var_event(&ctx->round, atomic_read_acquire(&ctx->round) >= round ||
			       atomic_read(&ctx->stop));
		if (atomic_read(&ctx->stop))
			break;
		/* Bounded: a broken waitgroup must fail the case, not hang it. */
		gosync_wg_wait_timeout(&ctx->wg, 5 * HZ);
		atomic_set_release(&ctx->waited, round);
	}
	return 0;
}

static void zero_coordinator(struct task_struct **tasks, unsigned int nr,
			     void *data)
{
	struct zero_ctx *ctx = data;
	int round;

	for (round = 1; round <= WG_ZERO_ROUNDS && !ctx->bad_round; round++) {
		if (gosync_wg_add(&ctx->wg, 1)) {
			ctx->bad_round = round;
			break;
		}
		atomic_set_release(&ctx->round, round);
		wake_up_var(&ctx->round);
		if (!gosync_test_wait_until(wg_test_waiters(&ctx->wg) == 1, 5000)) {
			ctx->bad_round = round;
			break;
		}
		gosync_wg_done(&ctx->wg);
		if (!gosync_test_wait_until(atomic_read_acquire(&ctx->waited) == round,
					    5000) ||
		    !wg_test_idle(&ctx->wg))
			ctx->bad_round = round;
	}
	atomic_set(&ctx->stop, 1);
	wake_up_var(&ctx->round);
}

/*
 * add(0) racing the done() that brings the counter to zero, inside the
 * window between that done() publishing zero and waking its waiter: add(0)
 * changes nothing and releases nobody, so every round ends exactly idle.
 */
static void wg_add_zero_during_release(struct kunit *test)
{
	struct zero_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	u64 hits = gosync_delay_point_hits(GOSYNC_DELAY_WG_DONE_BEFORE_WAKE);

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	gosync_test_arm_delay(test, GOSYNC_DELAY_WG_DONE_BEFORE_WAKE, 1000);
	KUNIT_EXPECT_EQ(test, gosync_test_run_threads(test, 1 + num_online_cpus(),
						      zero_thread, ctx,
						      zero_coordinator), 0);
	KUNIT_EXPECT_EQ(test, ctx->bad_round, 0);
	KUNIT_EXPECT_EQ_MSG(test, atomic64_read(&ctx->wg.state) &
			    ~(s64)GOSYNC_WG_GEN_MASK, 0,
			    "state word %llx", (u64)atomic64_read(&ctx->wg.state));
	KUNIT_EXPECT_GE(test, gosync_delay_point_hits(GOSYNC_DELAY_WG_DONE_BEFORE_WAKE) -
			hits, (u64)WG_ZERO_ROUNDS);
}

struct reuse_ctx {
	struct gosync_waitgroup wg;
	atomic_t returned;
	s32 counter_at_return;
	u64 misuse_before;
	int verdict;		/* 1 detected and waited, 0 inconclusive, -1 bad */
};

static int reuse_waiter(void *data, unsigned int index)
{
	struct reuse_ctx *ctx = data;

	/* The reuse warning comes from this task's wait. */
	gosync_expect_warning_begin();
	gosync_wg_wait_timeout(&ctx->wg, 5 * HZ);
	ctx->counter_at_return = gosync_wg_count(&ctx->wg);
	gosync_expect_warning_end();
	atomic_set_release(&ctx->returned, 1);
	return 0;
}

static void reuse_release_and_reuse(struct task_struct **tasks, unsigned int nr,
				    void *data)
{
	struct reuse_ctx *ctx = data;

	if (!gosync_test_wait_until(wg_test_waiters(&ctx->wg) == 1, 5000)) {
		ctx->verdict = -1;
		return;
	}
	/* Release the waiter and start the next round before it returns. */
	preempt_disable();
	gosync_wg_done(&ctx->wg);
	gosync_wg_add(&ctx->wg, 1);
	preempt_enable();
	/*
	 * It returns (early, or before the add(): inconclusive), or it
	 * reports the reuse and waits for the round it now sees.  On a busy
	 * host it may take a while to run at all.
	 */
	gosync_test_wait_until(atomic_read_acquire(&ctx->returned) ||
			       gosync_test_stat_delta(WG_MISUSE, ctx->misuse_before),
			       5000);
	if (atomic_read_acquire(&ctx->returned)) {
		ctx->verdict = ctx->counter_at_return ? -1 : 0;
	} else if (gosync_test_stat_delta(WG_MISUSE, ctx->misuse_before) == 1 &&
		   gosync_test_wait_until(wg_test_waiters(&ctx->wg) == 1, 5000) &&
		   !atomic_read_acquire(&ctx->returned)) {
		/* Reported, and asleep again for the new round. */
		ctx->verdict = 1;
	} else {
		ctx->verdict = -1;
	}
	gosync_wg_done(&ctx->wg);
}

/*
 * A waiter released by the zero it waited for, that finds the counter
 * raised again before it returned: Go's "WaitGroup is reused before
 * previous Wait has returned".  It warns, counts wg.misuse, and does not
 * return while the counter it sees is above zero.
 */
static void wg_reuse_before_wait_returned(struct kunit *test)
{
	struct reuse_ctx *ctx;
	int attempt;

	gosync_test_arm_delay(test, GOSYNC_DELAY_WG_WAIT_AFTER_WAKE, 1000);
	for (attempt = 0; attempt < 5; attempt++) {
		ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, ctx);
		KUNIT_ASSERT_EQ(test, gosync_wg_add(&ctx->wg, 1), 0);
		ctx->misuse_before = gosync_stat_read(GOSYNC_STAT_WG_MISUSE);
		KUNIT_ASSERT_EQ(test, gosync_test_run_threads(test, 1, reuse_waiter,
							      ctx,
							      reuse_release_and_reuse),
				0);
		KUNIT_ASSERT_GE_MSG(test, ctx->verdict, 0,
				    "the waiter returned with the counter at %d",
				    ctx->counter_at_return);
		if (ctx->verdict)
			break;
	}
	KUNIT_EXPECT_EQ(test, ctx->verdict, 1);
	KUNIT_EXPECT_EQ(test, ctx->counter_at_return, 0);
	wg_test_expect_idle(test, &ctx->wg);
}

#define WG_FREE_ROUNDS 200

struct free_ctx {
	struct gosync_waitgroup *wg;	/* the round's waitgroup, or NULL */
	atomic_t round;
	atomic_t released;	/* the last round whose done() returned */
	atomic_t stop;
	unsigned int early;	/* waits that returned before their done() */
};

static int free_releaser(void *data, unsigned int index)
{
	struct free_ctx *ctx = data;
	struct gosync_waitgroup *wg;
	int round;

	for (round = 1; round <= WG_FREE_ROUNDS; round++) {
		wait_var_event(&ctx->round, atomic_read_acquire(&ctx->round) >= round ||
			       atomic_read(&ctx->stop));
		if (atomic_read(&ctx->stop))
			break;
		wg = READ_ONCE(ctx->wg);
		/* Release the waiter while it sleeps, or just before. */
		if (round & 1)
			gosync_test_wait_until(wg_test_waiters(wg), 100);
		gosync_wg_done(wg);
		atomic_set_release(&ctx->released, round);
	}
	return 0;
}

static void free_waiter(struct task_struct **tasks, unsigned int nr, void *data)
{
	struct free_ctx *ctx = data;
	struct gosync_waitgroup *wg;
	int round;

	for (round = 1; round <= WG_FREE_ROUNDS; round++) {
		wg = kzalloc(sizeof(*wg), GFP_KERNEL);
		if (!wg)
			break;
		gosync_wg_add(wg, 1);
		WRITE_ONCE(ctx->wg, wg);
		atomic_set_release(&ctx->round, round);
		wake_up_var(&ctx->round);
		/*
		 * Odd rounds: waits that return on their own, without a
		 * wakeup, when they find themselves released while the done()
		 * is held in the widened window: waits that do not sleep at
		 * all, or 2-jiffy waits whose timeout ends there.
		 */
		if (round & 1)
			while (!gosync_wg_wait_timeout(wg, round & 2))
				cond_resched();
		else
			gosync_wg_wait(wg);
		/* Its done() may still run: the waitgroup is free all the same. */
		ctx->early += atomic_read_acquire(&ctx->released) < round;
		kfree(wg);
	}
	atomic_set(&ctx->stop, 1);
	wake_up_var(&ctx->round);
}

static void free_go_fn(void *arg)
{
}

/*
 * A waitgroup freed as soon as wait() returned, while the done() that
 * released it is still running: the delay point holds every releasing
 * done() right after its releasing cmpxchg, and released waiters return
 * (woken, or on their own at a timeout) and kfree() the waitgroup in that
 * window.  A done() that touched the waitgroup after the release (as the
 * one that published zero and subtracted the waiters in a second step
 * did) writes freed memory there: KASAN reports it and fails the run.
 * The case checks that such early returns happened.  The same for the
 * done() of gosync_wg_go().
 */
static void wg_freed_as_soon_as_wait_returns(struct kunit *test)
{
	struct free_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	u64 hits = gosync_delay_point_hits(GOSYNC_DELAY_WG_DONE_BEFORE_WAKE);
	struct gosync_waitgroup *wg;
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	gosync_test_arm_delay(test, GOSYNC_DELAY_WG_DONE_BEFORE_WAKE, 1000);
	KUNIT_EXPECT_EQ(test, gosync_test_run_threads(test, 1, free_releaser, ctx,
						      free_waiter), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->round), WG_FREE_ROUNDS);
	KUNIT_EXPECT_GT(test, gosync_delay_point_hits(GOSYNC_DELAY_WG_DONE_BEFORE_WAKE),
			hits);
	/* Otherwise no waitgroup was freed under a running done(). */
	KUNIT_EXPECT_GT(test, ctx->early, 0);
	kunit_info(test, "%u of %d waitgroups freed before their done() returned\n",
		   ctx->early, WG_FREE_ROUNDS);
	for (i = 0; i < 50; i++) {
		wg = kzalloc(sizeof(*wg), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, wg);
		KUNIT_EXPECT_EQ(test, gosync_wg_go(wg, free_go_fn, NULL), 0);
		gosync_wg_wait(wg);
		kfree(wg);
	}
}

struct pin_ctx {
	atomic_t running;
	atomic_t release;
};

static void pin_fn(void *data)
{
	struct pin_ctx *ctx = data;

	atomic_set(&ctx->running, 1);
	wait_var_event_timeout(&ctx->release, atomic_read(&ctx->release), 10 * HZ);
}

/* A function queued by gosync_wg_go() pins its module until it returned. */
static void wg_go_pins_its_module(struct kunit *test)
{
	struct gosync_waitgroup wg = {};
	struct pin_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	unsigned int settle = 0;
	int refs;

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	/*
	 * Runs first in its suite, but another case's functions may still
	 * be dropping their references: start from a count that holds still.
	 */
	do {
		refs = module_refcount(THIS_MODULE);
		msleep(20);
	} while (refs != module_refcount(THIS_MODULE) && ++settle < 100);
	KUNIT_ASSERT_EQ(test, gosync_wg_go(&wg, pin_fn, ctx), 0);
	KUNIT_EXPECT_TRUE(test, gosync_test_wait_until(atomic_read(&ctx->running),
						       5000));
	KUNIT_EXPECT_EQ(test, module_refcount(THIS_MODULE), refs + 1);
	atomic_set(&ctx->release, 1);
	wake_up_var(&ctx->release);
	gosync_wg_wait(&wg);
	/* The reference goes after done(): soon, not necessarily yet. */
	KUNIT_EXPECT_TRUE(test, gosync_test_wait_until(module_refcount(THIS_MODULE) ==
						       refs, 5000));
}

/* More than the old limit of 256, below the documented cap. */
#define WG_GO_MEETING 272

struct meeting_ctx {
	atomic_t arrived;
	atomic_t stalled;
};

static void meeting_fn(void *data)
{
	struct meeting_ctx *ctx = data;
	int seen = atomic_inc_return(&ctx->arrived);

	/* The last one wakes everybody: no herd on every arrival. */
	if (seen >= WG_GO_MEETING) {
		wake_up_var(&ctx->arrived);
		return;
	}
	/*
	 * Starting a few hundred kworkers takes a while under QEMU on a busy
	 * host, but it progresses: 5 s without a single arrival means that
	 * no more functions can run, a cap reached.
	 */
	for (;;) {
		if (wait_var_event_timeout(&ctx->arrived,
					   atomic_read(&ctx->arrived) >= WG_GO_MEETING,
					   5 * HZ))
			return;
		if (atomic_read(&ctx->arrived) == seen)
			break;
		seen = atomic_read(&ctx->arrived);
	}
	atomic_inc(&ctx->stalled);
}

/*
 * Up to GOSYNC_WG_GO_MAX_ACTIVE functions run at once on a machine with one
 * NUMA node, as the test VM is (with several nodes, Linux >= 6.9 only
 * guarantees 8 per node): 272 that wait for each other all meet.  Below
 * that cap they stall, give up after 5 s without progress, and the case
 * fails instead of hanging.
 */
static void wg_go_mutually_waiting_functions_meet(struct kunit *test)
{
	struct meeting_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	struct gosync_waitgroup wg = {};
	unsigned int i;

	BUILD_BUG_ON(WG_GO_MEETING > GOSYNC_WG_GO_MAX_ACTIVE);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	for (i = 0; i < WG_GO_MEETING; i++)
		KUNIT_ASSERT_EQ(test, gosync_wg_go(&wg, meeting_fn, ctx), 0);
	gosync_wg_wait(&wg);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->arrived), WG_GO_MEETING);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->stalled), 0);
	wg_test_expect_idle(test, &wg);
}

/*
 * Raises racing on the inline path may leave the counter above
 * GOSYNC_WG_COUNTER_MAX (two add(64)s that both read MAX - 64): lowering it
 * from there is valid, only a raise is refused.
 */
static void wg_lower_above_counter_max(struct kunit *test)
{
	struct gosync_waitgroup wg = {};
	u64 misuse = gosync_stat_read(GOSYNC_STAT_WG_MISUSE);

	atomic64_set(&wg.state,
		     gosync_wg_state(GOSYNC_WG_COUNTER_MAX + 64, 0, 0));
	KUNIT_EXPECT_EQ(test, gosync_wg_add(&wg, -2), 0);
	KUNIT_EXPECT_EQ(test, gosync_wg_count(&wg), GOSYNC_WG_COUNTER_MAX + 62);
	gosync_expect_warning_begin();
	KUNIT_EXPECT_EQ(test, gosync_wg_add(&wg, 1), -EINVAL);
	gosync_expect_warning_end();
	KUNIT_EXPECT_EQ(test, gosync_wg_count(&wg), GOSYNC_WG_COUNTER_MAX + 62);
	KUNIT_EXPECT_EQ(test, gosync_wg_add(&wg, -(GOSYNC_WG_COUNTER_MAX + 62)), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&wg.state), 0);
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(WG_MISUSE, misuse), 1);
}

static struct kunit_case gosync_waitgroup_cases[] = {
	/* First: before any other case's gosync_wg_go() references. */
	KUNIT_CASE(wg_go_pins_its_module),
	KUNIT_CASE_PARAM(wg_waves, wg_zeroed_gen_params),
	KUNIT_CASE(wg_many_waiters_released_together),
	KUNIT_CASE(wg_release_wakes_in_batches),
	KUNIT_CASE_PARAM(wg_done_in_atomic_context, wg_atomic_gen_params),
	KUNIT_CASE(wg_go_thousands),
	KUNIT_CASE(wg_wait_timeout),
	KUNIT_CASE(wg_wait_killable),
	KUNIT_CASE(wg_misuse),
	KUNIT_CASE(wg_counter_max_and_counts),
	KUNIT_CASE(wg_lower_above_counter_max),
	KUNIT_CASE(wg_add_done_storm),
	KUNIT_CASE(wg_add_zero_during_release),
	KUNIT_CASE(wg_reuse_before_wait_returned),
	KUNIT_CASE(wg_freed_as_soon_as_wait_returns),
	KUNIT_CASE(wg_go_mutually_waiting_functions_meet),
	{}
};

static struct kunit_suite gosync_waitgroup_suite = {
	.name = "gosync_waitgroup",
	.test_cases = gosync_waitgroup_cases,
};

kunit_test_suite(gosync_waitgroup_suite);
