// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite of the gosync seqlock: readers on every CPU and in interrupt
 * context never see a torn struct while writers hammer it; retries are
 * counted; misuse.
 */

#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/slab.h>

#include <gosync/seqlock.h>
#include <gosync/testing.h>

#include "gosync_test.h"

/* Invariant: all four fields are equal. */
struct seq_data {
	u64 a, b, c, d;
};

#define SEQ_WRITERS	2
#define SEQ_WRITES	20000

struct seq_ctx {
	struct gosync_seqlock *lock;
	struct seq_data data;
	atomic_t writers_running;
	atomic64_t reads;
	atomic64_t torn;
	atomic64_t went_back;
	atomic64_t irq_reads;
	atomic64_t irq_torn;
	struct hrtimer timer;
};

static bool seq_data_consistent(const struct seq_data *d)
{
	return d->a == d->b && d->b == d->c && d->c == d->d;
}

static int seq_thread(void *data, unsigned int index)
{
	struct seq_ctx *ctx = data;
	struct seq_data copy, last = {};
	unsigned int i;

	if (index < SEQ_WRITERS) {
		for (i = 0; i < SEQ_WRITES; i++) {
			if (index == 0) {
				/* Field by field: torn unless readers retry. */
				gosync_write_seqlock(ctx->lock);
				ctx->data.a++;
				ctx->data.b++;
				ctx->data.c++;
				ctx->data.d++;
				gosync_write_sequnlock(ctx->lock);
			} else {
				gosync_seq_read(ctx->lock, &copy, &ctx->data);
				copy.a++;
				copy.b = copy.a;
				copy.c = copy.a;
				copy.d = copy.a;
				gosync_write_seqlock(ctx->lock);
				ctx->data.a = max(ctx->data.a, copy.a);
				ctx->data.b = ctx->data.a;
				ctx->data.c = ctx->data.a;
				ctx->data.d = ctx->data.a;
				gosync_write_sequnlock(ctx->lock);
			}
		}
		atomic_dec(&ctx->writers_running);
		return 0;
	}
	while (atomic_read(&ctx->writers_running)) {
		gosync_seq_read(ctx->lock, &copy, &ctx->data);
		atomic64_inc(&ctx->reads);
		if (!seq_data_consistent(&copy))
			atomic64_inc(&ctx->torn);
		if (copy.a < last.a)
			atomic64_inc(&ctx->went_back);
		last = copy;
	}
	return 0;
}

/* A reader in hard interrupt context, every 50 us. */
static enum hrtimer_restart seq_timer_read(struct hrtimer *timer)
{
	struct seq_ctx *ctx = container_of(timer, struct seq_ctx, timer);
	struct seq_data copy;

	gosync_seq_read(ctx->lock, &copy, &ctx->data);
	atomic64_inc(&ctx->irq_reads);
	if (!seq_data_consistent(&copy))
		atomic64_inc(&ctx->irq_torn);
	if (!atomic_read(&ctx->writers_running))
		return HRTIMER_NORESTART;
	hrtimer_forward_now(timer, ns_to_ktime(50 * NSEC_PER_USEC));
	return HRTIMER_RESTART;
}

static void seq_start_timer(struct task_struct **tasks, unsigned int nr,
			    void *data)
{
	struct seq_ctx *ctx = data;

	hrtimer_start(&ctx->timer, ns_to_ktime(50 * NSEC_PER_USEC),
		      HRTIMER_MODE_REL_HARD);
}

static void seq_readers_never_see_torn_data(struct kunit *test)
{
	bool zeroed = *(const bool *)test->param_value;
	struct seq_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	unsigned int nr = SEQ_WRITERS + num_online_cpus();
	u64 retries = gosync_stat_read(GOSYNC_STAT_SEQ_RETRY);

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->lock = kunit_kzalloc(test, sizeof(*ctx->lock), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx->lock);
	if (!zeroed)
		gosync_seqlock_init(ctx->lock);
	atomic_set(&ctx->writers_running, SEQ_WRITERS);
	hrtimer_init(&ctx->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	ctx->timer.function = seq_timer_read;
	KUNIT_ASSERT_EQ(test, gosync_test_run_threads(test, nr, seq_thread, ctx,
						      seq_start_timer), 0);
	hrtimer_cancel(&ctx->timer);

	KUNIT_EXPECT_EQ(test, atomic64_read(&ctx->torn), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&ctx->irq_torn), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&ctx->went_back), 0);
	KUNIT_EXPECT_GT(test, atomic64_read(&ctx->reads), 0);
	KUNIT_EXPECT_GT(test, atomic64_read(&ctx->irq_reads), 0);
	KUNIT_EXPECT_TRUE(test, seq_data_consistent(&ctx->data));
	KUNIT_EXPECT_EQ(test, ctx->lock->sequence % 2, 0);
	KUNIT_EXPECT_FALSE(test, gosync_mutex_is_locked(&ctx->lock->writer));
	kunit_info(test, "%lld task reads, %lld interrupt reads, %llu retries, final value %llu\n",
		   atomic64_read(&ctx->reads), atomic64_read(&ctx->irq_reads),
		   gosync_test_stat_delta(SEQ_RETRY, retries), ctx->data.a);
}

static const bool seq_zeroed_params[] = { false, true };

static void seq_zeroed_desc(const bool *zeroed, char *desc)
{
	strscpy(desc, *zeroed ? "kzalloc" : "gosync_seqlock_init",
		KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(seq_zeroed, seq_zeroed_params, seq_zeroed_desc);

static void seq_retry_after_overlapping_write(struct kunit *test)
{
	static DEFINE_GOSYNC_SEQLOCK(seq_test_lock);
	u64 retries = gosync_stat_read(GOSYNC_STAT_SEQ_RETRY);
	unsigned int seq;

	seq = gosync_read_seqbegin(&seq_test_lock);
	KUNIT_EXPECT_FALSE(test, gosync_read_seqretry(&seq_test_lock, seq));
	gosync_write_seqlock(&seq_test_lock);
	gosync_write_sequnlock(&seq_test_lock);
	KUNIT_EXPECT_TRUE(test, gosync_read_seqretry(&seq_test_lock, seq));
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(SEQ_RETRY, retries), 1);
}

static void seq_unlock_outside_section_is_misuse(struct kunit *test)
{
	struct gosync_seqlock s = {};
	u64 misuse = gosync_stat_read(GOSYNC_STAT_SEQ_MISUSE);

	gosync_expect_warning_begin();
	gosync_write_sequnlock(&s);
	gosync_expect_warning_end();
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(SEQ_MISUSE, misuse), 1);
	KUNIT_EXPECT_EQ(test, s.sequence, 0);
	KUNIT_EXPECT_FALSE(test, gosync_mutex_is_locked(&s.writer));
}

static struct kunit_case gosync_seqlock_cases[] = {
	KUNIT_CASE_PARAM(seq_readers_never_see_torn_data, seq_zeroed_gen_params),
	KUNIT_CASE(seq_retry_after_overlapping_write),
	KUNIT_CASE(seq_unlock_outside_section_is_misuse),
	{}
};

static struct kunit_suite gosync_seqlock_suite = {
	.name = "gosync_seqlock",
	.test_cases = gosync_seqlock_cases,
};

kunit_test_suite(gosync_seqlock_suite);
