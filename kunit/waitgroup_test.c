// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite of the gosync waitgroup: waves of workers with exact counts
 * and happens-before checks, many waiters released at once, Go(), the
 * timeout and kill paths, misuse.
 */

#include <linux/delay.h>
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

static void wg_test_expect_idle(struct kunit *test, struct gosync_waitgroup *wg)
{
	KUNIT_EXPECT_EQ(test, atomic64_read(&wg->state), 0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(wg->sema), 0);
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

	gosync_test_wait_until(wg_test_waiters(&ctx->wg) >= nr, 10000);
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
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->returned), nr);
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(WG_WAKEUPS, wakeups), nr);
	wg_test_expect_idle(test, &ctx->wg);
}

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

	/*
	 * Reuse before the previous wait returned: the counter is zero but a
	 * released waiter is still on the word (the moment between the last
	 * done() and the wakeup).  Forge that moment and add().
	 */
	misuse = gosync_stat_read(GOSYNC_STAT_WG_MISUSE);
	atomic64_set(&wg.state, 1);
	gosync_expect_warning_begin();
	KUNIT_EXPECT_EQ(test, gosync_wg_add(&wg, 1), 0);
	gosync_expect_warning_end();
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(WG_MISUSE, misuse), 1);
}

static struct kunit_case gosync_waitgroup_cases[] = {
	KUNIT_CASE_PARAM(wg_waves, wg_zeroed_gen_params),
	KUNIT_CASE(wg_many_waiters_released_together),
	KUNIT_CASE(wg_go_thousands),
	KUNIT_CASE(wg_wait_timeout),
	KUNIT_CASE(wg_wait_killable),
	KUNIT_CASE(wg_misuse),
	{}
};

static struct kunit_suite gosync_waitgroup_suite = {
	.name = "gosync_waitgroup",
	.test_cases = gosync_waitgroup_cases,
};

kunit_test_suite(gosync_waitgroup_suite);
