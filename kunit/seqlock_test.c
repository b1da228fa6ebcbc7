// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite of the gosync seqlock: readers on every CPU and in interrupt
 * context never see a torn struct while writers hammer it; retries are
 * counted; misuse.
 */

#include <linux/hrtimer.h>
#include <linux/irq_work.h>
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

/*
 * Inside a write section the writer holds the writers' mutex, interrupts
 * are off and the count is odd; after it, all of that is undone.  Each
 * section counts once in seq.write, and its mutex acquisition once in
 * mutex.acquired: nothing is counted twice.
 */
static void seq_write_section_counted_once(struct kunit *test)
{
	static DEFINE_GOSYNC_SEQLOCK(seq_write_lock);
	u64 writes = gosync_stat_read(GOSYNC_STAT_SEQ_WRITE);
	u64 acquired = gosync_stat_read(GOSYNC_STAT_MUTEX_ACQUIRED);
	unsigned int i, start = READ_ONCE(seq_write_lock.sequence);
	unsigned int irqs_off = 0, odd = 0, owned = 0;

	for (i = 0; i < 100; i++) {
		gosync_write_seqlock(&seq_write_lock);
		irqs_off += irqs_disabled();
		odd += READ_ONCE(seq_write_lock.sequence) & 1;
		owned += READ_ONCE(seq_write_lock.writer.owner) == current;
		gosync_write_sequnlock(&seq_write_lock);
	}
	KUNIT_EXPECT_EQ(test, irqs_off, 100);
	KUNIT_EXPECT_EQ(test, odd, 100);
	KUNIT_EXPECT_EQ(test, owned, 100);
	KUNIT_EXPECT_FALSE(test, irqs_disabled());
	KUNIT_EXPECT_EQ(test, READ_ONCE(seq_write_lock.sequence), start + 200);
	KUNIT_EXPECT_FALSE(test, gosync_mutex_is_locked(&seq_write_lock.writer));
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(SEQ_WRITE, writes), 100);
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(MUTEX_ACQUIRED, acquired),
			100);
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

/*
 * A write_sequnlock() in an interrupt that hits a task holding the
 * writers' mutex outside its section (interrupts are on from the mutex's
 * publication of owner to gosync_write_seqlock()'s cli, and from
 * gosync_write_sequnlock()'s sti to the mutex unlock clearing it): current
 * there is that task.  Misuse: refused, counted, nothing changed.
 */
static struct gosync_seqlock seq_irq_lock;

static void seq_irq_sequnlock(struct irq_work *work)
{
	gosync_write_sequnlock(&seq_irq_lock);
}

static void seq_unlock_from_interrupt_is_misuse(struct kunit *test)
{
	struct irq_work work = IRQ_WORK_INIT_HARD(seq_irq_sequnlock);
	u64 misuse = gosync_stat_read(GOSYNC_STAT_SEQ_MISUSE);
	unsigned int seq;

	gosync_seqlock_init(&seq_irq_lock);
	seq = READ_ONCE(seq_irq_lock.sequence);
	/* Where gosync_write_seqlock() is between its mutex and its cli. */
	gosync_mutex_lock(&seq_irq_lock.writer);
	gosync_expect_warning_begin();
	/* Preemption off: the interrupt hits this task, on this CPU. */
	preempt_disable();
	irq_work_queue(&work);
	while (irq_work_is_busy(&work))
		cpu_relax();
	preempt_enable();
	gosync_expect_warning_end();
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(SEQ_MISUSE, misuse), 1);
	KUNIT_EXPECT_EQ(test, READ_ONCE(seq_irq_lock.sequence), seq);
	KUNIT_EXPECT_TRUE(test, gosync_mutex_is_locked(&seq_irq_lock.writer));
	KUNIT_EXPECT_PTR_EQ(test, READ_ONCE(seq_irq_lock.writer.owner), current);
	gosync_mutex_unlock(&seq_irq_lock.writer);
}

struct owner_ctx {
	struct gosync_seqlock *lock;
	atomic_t in_section;
	atomic_t may_leave;
	unsigned int sequence_inside;
	unsigned int sequence_after_misuse;
	bool locked_after_misuse;
};

static int owner_writer(void *data, unsigned int index)
{
	struct owner_ctx *ctx = data;
	ktime_t deadline = ktime_add_ms(ktime_get(), 1000);

	gosync_write_seqlock(ctx->lock);
	atomic_set(&ctx->in_section, 1);
	/* Interrupts are off in here: poll, for one second at most. */
	while (!atomic_read(&ctx->may_leave) && ktime_before(ktime_get(), deadline))
		cpu_relax();
	gosync_write_sequnlock(ctx->lock);
	return 0;
}

static void owner_intrude(struct task_struct **tasks, unsigned int nr,
			  void *data)
{
	struct owner_ctx *ctx = data;

	if (gosync_test_wait_until(atomic_read(&ctx->in_section), 5000)) {
		ctx->sequence_inside = READ_ONCE(ctx->lock->sequence);
		gosync_expect_warning_begin();
		gosync_write_sequnlock(ctx->lock);
		gosync_expect_warning_end();
		ctx->sequence_after_misuse = READ_ONCE(ctx->lock->sequence);
		ctx->locked_after_misuse = gosync_mutex_is_locked(&ctx->lock->writer);
	}
	atomic_set(&ctx->may_leave, 1);
}

/*
 * Only the writer leaves its write section: another task's unlock warns,
 * counts seq.misuse and changes nothing (the count stays odd, readers keep
 * retrying, the writer mutex stays locked), and the writer then leaves
 * normally.
 */
static void seq_unlock_by_another_task_is_misuse(struct kunit *test)
{
	struct owner_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	u64 misuse = gosync_stat_read(GOSYNC_STAT_SEQ_MISUSE);
	int err;

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->lock = kunit_kzalloc(test, sizeof(*ctx->lock), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx->lock);
	gosync_seqlock_init(ctx->lock);
	/*
	 * The writer spins with interrupts off on the CPU after ours: stay
	 * here, or this task could be stuck behind it until its deadline.
	 */
	migrate_disable();
	err = gosync_test_run_threads(test, 1, owner_writer, ctx, owner_intrude);
	migrate_enable();
	KUNIT_ASSERT_EQ(test, err, 0);
	KUNIT_ASSERT_TRUE(test, atomic_read(&ctx->in_section));
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(SEQ_MISUSE, misuse), 1);
	KUNIT_EXPECT_EQ(test, ctx->sequence_inside % 2, 1);
	KUNIT_EXPECT_EQ(test, ctx->sequence_after_misuse, ctx->sequence_inside);
	KUNIT_EXPECT_TRUE(test, ctx->locked_after_misuse);
	KUNIT_EXPECT_EQ(test, ctx->lock->sequence, ctx->sequence_inside + 1);
	KUNIT_EXPECT_FALSE(test, gosync_mutex_is_locked(&ctx->lock->writer));
}

struct wait_ctx {
	struct gosync_seqlock *lock;
	atomic_t in_section;
	u64 waits_before;
	unsigned int sequence_inside;
	unsigned int seq;
	bool retry;
};

/* Leaves its section only once a reader counted that it waited for it. */
static int wait_writer(void *data, unsigned int index)
{
	struct wait_ctx *ctx = data;
	ktime_t deadline = ktime_add_ms(ktime_get(), 1000);

	gosync_write_seqlock(ctx->lock);
	ctx->sequence_inside = READ_ONCE(ctx->lock->sequence);
	atomic_set(&ctx->in_section, 1);
	/* Interrupts are off in here: poll, for one second at most. */
	while (gosync_stat_read(GOSYNC_STAT_SEQ_READ) == ctx->waits_before &&
	       ktime_before(ktime_get(), deadline))
		cpu_relax();
	gosync_write_sequnlock(ctx->lock);
	return 0;
}

static void wait_reader(struct task_struct **tasks, unsigned int nr,
			void *data)
{
	struct wait_ctx *ctx = data;

	if (gosync_test_wait_until(atomic_read(&ctx->in_section), 5000)) {
		ctx->seq = gosync_read_seqbegin(ctx->lock);
		ctx->retry = gosync_read_seqretry(ctx->lock, ctx->seq);
	}
}

/*
 * The read fast path counts nothing: seq.read counts only the reads that
 * found a writer inside and waited it out, seq.retry only the retries.
 */
static void seq_only_waits_and_retries_are_counted(struct kunit *test)
{
	static DEFINE_GOSYNC_SEQLOCK(seq_count_lock);
	struct wait_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	u64 waits = gosync_stat_read(GOSYNC_STAT_SEQ_READ);
	u64 retries = gosync_stat_read(GOSYNC_STAT_SEQ_RETRY);
	unsigned long copy, shared = 1;
	unsigned int seq;
	int err;

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	seq = gosync_read_seqbegin(&seq_count_lock);
	KUNIT_EXPECT_FALSE(test, gosync_read_seqretry(&seq_count_lock, seq));
	gosync_seq_read(&seq_count_lock, &copy, &shared);
	KUNIT_EXPECT_EQ(test, copy, 1);
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(SEQ_READ, waits), 0);
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(SEQ_RETRY, retries), 0);

	ctx->lock = &seq_count_lock;
	ctx->waits_before = waits;
	/* As above: the reader must not share the spinning writer's CPU. */
	migrate_disable();
	err = gosync_test_run_threads(test, 1, wait_writer, ctx, wait_reader);
	migrate_enable();
	KUNIT_ASSERT_EQ(test, err, 0);
	KUNIT_ASSERT_TRUE(test, atomic_read(&ctx->in_section));
	KUNIT_EXPECT_EQ(test, ctx->sequence_inside % 2, 1);
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(SEQ_READ, waits), 1);
	KUNIT_EXPECT_EQ(test, ctx->seq, ctx->sequence_inside + 1);
	KUNIT_EXPECT_FALSE(test, ctx->retry);
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(SEQ_RETRY, retries), 0);
}

/*
 * Readers are visible to lockdep (as seqcount_lockdep_reader_access()
 * makes them): a read section of a named seqlock whose writer never ran
 * registers the seqlock's lockdep class, so that a reader nested in its
 * own write section, or inverted against a lock the writer takes, is
 * reported instead of spinning unnoticed.
 */
static void seq_readers_are_seen_by_lockdep(struct kunit *test)
{
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	struct gosync_seqlock *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	unsigned int seq;

	KUNIT_ASSERT_NOT_NULL(test, s);
	gosync_seqlock_init(s);
	KUNIT_EXPECT_NULL(test, READ_ONCE(s->dep_map.class_cache[0]));
	seq = gosync_read_seqbegin(s);
	KUNIT_EXPECT_FALSE(test, gosync_read_seqretry(s, seq));
	KUNIT_EXPECT_NOT_NULL(test, READ_ONCE(s->dep_map.class_cache[0]));
#else
	kunit_skip(test, "needs CONFIG_DEBUG_LOCK_ALLOC");
#endif
}

/* 512 bytes: a struct a hard-interrupt reader might copy. */
struct seq_big {
	u64 word[64];
};

/*
 * Where the stack is, one call below the reader: past all of its frame.
 * Reads every word, so that the whole copy has to exist.
 */
static noinline __noclone unsigned long seq_big_sum(const struct seq_big *copy,
						    u64 *sum)
{
	unsigned int i;

	*sum = 0;
	for (i = 0; i < ARRAY_SIZE(copy->word); i++)
		*sum += copy->word[i];
	return current_stack_pointer;
}

static noinline unsigned long seq_big_read(const struct gosync_seqlock *s,
					   const struct seq_big *shared,
					   u64 *sum)
{
	struct seq_big copy;

	gosync_seq_read(s, &copy, shared);
	return seq_big_sum(&copy, sum);
}

/*
 * gosync_seq_read() copies once, straight into the destination: reading
 * a 512-byte struct costs its caller one such struct of stack, not four.
 */
static void seq_read_copies_once(struct kunit *test)
{
	static DEFINE_GOSYNC_SEQLOCK(seq_big_lock);
	struct seq_big *shared = kunit_kzalloc(test, sizeof(*shared), GFP_KERNEL);
	struct seq_big *update = kunit_kzalloc(test, sizeof(*update), GFP_KERNEL);
	unsigned long above, below;
	u64 sum = 0;

	KUNIT_ASSERT_NOT_NULL(test, shared);
	KUNIT_ASSERT_NOT_NULL(test, update);
	update->word[0] = 1;
	update->word[63] = 2;
	gosync_seq_write(&seq_big_lock, shared, update);
	above = current_stack_pointer;
	below = seq_big_read(&seq_big_lock, shared, &sum);
	KUNIT_EXPECT_EQ(test, sum, 3);
	KUNIT_EXPECT_LT_MSG(test, above - below, 2 * sizeof(*shared),
			    "a 512-byte read used %lu bytes of stack",
			    above - below);
	kunit_info(test, "a 512-byte read used %lu bytes of stack\n", above - below);
}

static struct kunit_case gosync_seqlock_cases[] = {
	KUNIT_CASE_PARAM(seq_readers_never_see_torn_data, seq_zeroed_gen_params),
	KUNIT_CASE(seq_retry_after_overlapping_write),
	KUNIT_CASE(seq_write_section_counted_once),
	KUNIT_CASE(seq_unlock_outside_section_is_misuse),
	KUNIT_CASE(seq_unlock_by_another_task_is_misuse),
	KUNIT_CASE(seq_unlock_from_interrupt_is_misuse),
	KUNIT_CASE(seq_only_waits_and_retries_are_counted),
	KUNIT_CASE(seq_readers_are_seen_by_lockdep),
	KUNIT_CASE(seq_read_copies_once),
	{}
};

static struct kunit_suite gosync_seqlock_suite = {
	.name = "gosync_seqlock",
	.test_cases = gosync_seqlock_cases,
};

kunit_test_suite(gosync_seqlock_suite);
