// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite of gosync once: one run among many concurrent callers, every
 * caller sees its writes, retry until success, recursion detection.
 */

#include <linux/delay.h>
#include <linux/slab.h>

#include <gosync/once.h>
#include <gosync/testing.h>

#include "gosync_test.h"

#define ONCE_CALLERS 64

struct once_ctx {
	struct gosync_once once;
	atomic_t runs;
	unsigned long payload[4];	/* plain: published by the once */
	int failures_left;		/* do_err: fail this many runs first */
	atomic_t errors_seen;
};

static void once_fn(void *arg)
{
	struct once_ctx *ctx = arg;
	unsigned int i;

	atomic_inc(&ctx->runs);
	/* Slow enough that the other callers arrive and must wait. */
	usleep_range(1000, 2000);
	for (i = 0; i < ARRAY_SIZE(ctx->payload); i++)
		ctx->payload[i] = 0xdead0000 + i;
}

static int once_caller(void *data, unsigned int index)
{
	struct once_ctx *ctx = data;
	unsigned int i;

	gosync_once_do(&ctx->once, once_fn, ctx);
	for (i = 0; i < ARRAY_SIZE(ctx->payload); i++)
		if (ctx->payload[i] != 0xdead0000 + i)
			return -EIO;
	return gosync_once_done(&ctx->once) ? 0 : -EIO;
}

static void once_runs_exactly_once(struct kunit *test)
{
	struct once_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	u64 waited = gosync_stat_read(GOSYNC_STAT_ONCE_WAITED);

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	gosync_once_init(&ctx->once);
	KUNIT_EXPECT_FALSE(test, gosync_once_done(&ctx->once));
	KUNIT_EXPECT_EQ(test, gosync_test_run_threads(test, ONCE_CALLERS,
						      once_caller, ctx, NULL), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->runs), 1);
	KUNIT_EXPECT_TRUE(test, gosync_once_done(&ctx->once));
	gosync_once_do(&ctx->once, once_fn, ctx);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->runs), 1);
	kunit_info(test, "%llu of %d callers waited for the run\n",
		   gosync_test_stat_delta(ONCE_WAITED, waited), ONCE_CALLERS);
}

static int once_flaky_fn(void *arg)
{
	struct once_ctx *ctx = arg;

	atomic_inc(&ctx->runs);
	usleep_range(100, 200);
	if (ctx->failures_left > 0) {
		ctx->failures_left--;
		return -EAGAIN;
	}
	ctx->payload[0] = 7;
	return 0;
}

static void once_do_err_retries_until_success(struct kunit *test)
{
	struct once_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	u64 failed = gosync_stat_read(GOSYNC_STAT_ONCE_FAILED);
	int i;

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->failures_left = 3;
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ(test, gosync_once_do_err(&ctx->once, once_flaky_fn, ctx),
				-EAGAIN);
	KUNIT_EXPECT_FALSE(test, gosync_once_done(&ctx->once));
	KUNIT_EXPECT_EQ(test, gosync_once_do_err(&ctx->once, once_flaky_fn, ctx), 0);
	KUNIT_EXPECT_EQ(test, gosync_once_do_err(&ctx->once, once_flaky_fn, ctx), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->runs), 4);
	KUNIT_EXPECT_EQ(test, ctx->payload[0], 7);
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(ONCE_FAILED, failed), 3);
}

static int once_flaky_caller(void *data, unsigned int index)
{
	struct once_ctx *ctx = data;
	int err;

	while ((err = gosync_once_do_err(&ctx->once, once_flaky_fn, ctx))) {
		if (err != -EAGAIN)
			return err;
		atomic_inc(&ctx->errors_seen);
	}
	return ctx->payload[0] == 7 ? 0 : -EIO;
}

/* Concurrent callers: k failures, then exactly one successful run. */
static void once_do_err_concurrent(struct kunit *test)
{
	struct once_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->failures_left = 5;
	KUNIT_EXPECT_EQ(test, gosync_test_run_threads(test, 16, once_flaky_caller,
						      ctx, NULL), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->runs), 6);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->errors_seen), 5);
}

static struct kunit *once_recursion_test;

static void once_recursive_fn(void *arg)
{
	struct once_ctx *ctx = arg;

	atomic_inc(&ctx->runs);
	gosync_expect_warning_begin();
	gosync_once_do(&ctx->once, once_recursive_fn, ctx);
	KUNIT_EXPECT_EQ(once_recursion_test,
			gosync_once_do_err(&ctx->once, once_flaky_fn, ctx),
			-EDEADLK);
	gosync_expect_warning_end();
}

static void once_recursion_detected(struct kunit *test)
{
	struct once_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	struct gosync_once fresh = {};
	u64 misuse = gosync_stat_read(GOSYNC_STAT_ONCE_MISUSE);

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	once_recursion_test = test;
	gosync_once_do(&ctx->once, once_recursive_fn, ctx);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->runs), 1);
	KUNIT_EXPECT_TRUE(test, gosync_once_done(&ctx->once));
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(ONCE_MISUSE, misuse), 2);

	misuse = gosync_stat_read(GOSYNC_STAT_ONCE_MISUSE);
	gosync_expect_warning_begin();
	KUNIT_EXPECT_EQ(test, gosync_once_do_err(NULL, once_flaky_fn, ctx), -EINVAL);
	/* A once not yet done; a done one returns at once, as in Go. */
	KUNIT_EXPECT_EQ(test, gosync_once_do_err(&fresh, NULL, ctx), -EINVAL);
	gosync_expect_warning_end();
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(ONCE_MISUSE, misuse), 2);
}

static struct kunit_case gosync_once_cases[] = {
	KUNIT_CASE(once_runs_exactly_once),
	KUNIT_CASE(once_do_err_retries_until_success),
	KUNIT_CASE(once_do_err_concurrent),
	KUNIT_CASE(once_recursion_detected),
	{}
};

static struct kunit_suite gosync_once_suite = {
	.name = "gosync_once",
	.test_cases = gosync_once_cases,
};

kunit_test_suite(gosync_once_suite);
