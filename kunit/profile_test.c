// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite of gosync's contention profile: rows per lock class that
 * match a known workload exactly and outlive the module that made them,
 * wait histograms, the trace events, reset and the stats switch.
 *
 * Runs first in gosync_kunit (link order), right after the harness loaded
 * and unloaded the demo client with iterations=200.
 */

#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/slab.h>
#include <linux/tracepoint.h>

#include <gosync/mutex.h>

#include "gosync_test.h"
#include "gosync_trace.h"

struct row_search {
	const char *prefix;
	struct gosync_lock_row row;
	unsigned int found;
};

static bool row_search_fn(const struct gosync_lock_row *row, void *arg)
{
	struct row_search *search = arg;

	if (strncmp(row->name, search->prefix, strlen(search->prefix)))
		return true;
	search->row = *row;
	search->found++;
	return true;
}

static unsigned int profile_find(const char *prefix, struct gosync_lock_row *row)
{
	struct row_search *search = kzalloc(sizeof(*search), GFP_KERNEL);
	unsigned int found;

	if (!search)
		return 0;
	search->prefix = prefix;
	gosync_lock_profile_walk(row_search_fn, search);
	found = search->found;
	if (found)
		*row = search->row;
	kfree(search);
	return found;
}

/* The demo module has been unloaded: its rows and names are still there. */
static void profile_rows_outlive_their_module(struct kunit *test)
{
	struct gosync_lock_row row;

	/* The harness always runs the demo first: a missing row is a failure. */
	KUNIT_ASSERT_EQ_MSG(test, profile_find("gosync_demo:demo_counter_lock@", &row),
			    1, "no row of the unloaded gosync_demo");
	/* Scenario 1 of the demo: 2 workers per CPU x 200 locks. */
	KUNIT_EXPECT_EQ(test, row.acquired, 2ULL * num_online_cpus() * 200);
	KUNIT_EXPECT_LE(test, row.contended, row.acquired);
	KUNIT_EXPECT_NOT_NULL(test, strstr(row.name, "@gosync_demo.c:"));
	KUNIT_EXPECT_EQ(test, profile_find("gosync_demo:demo_hog_lock@", &row), 1);
	KUNIT_EXPECT_GT(test, row.acquired, 0);
	/* Blame went to where the demo's holders locked it, symbolised then. */
	if (row.wait_total_ns)
		KUNIT_EXPECT_NOT_NULL(test, strstr(row.top_holder, "[gosync_demo]"));
	kunit_info(test, "demo hog row: acquired %llu, contended %llu, starved %llu, top holder %s\n",
		   row.acquired, row.contended, row.starvation_entered,
		   row.top_holder);
}

struct profile_ctx {
	struct gosync_mutex m;
	unsigned int iterations;
};

static int profile_thread(void *data, unsigned int index)
{
	struct profile_ctx *ctx = data;
	unsigned int i;

	for (i = 0; i < ctx->iterations; i++) {
		gosync_mutex_lock(&ctx->m);
		usleep_range(20, 40);
		gosync_mutex_unlock(&ctx->m);
	}
	return 0;
}

struct wait_end_probe {
	const char *class_name;
	atomic_t fired;
	atomic_t timed;		/* events with a wait time above zero */
	atomic_t bad_fields;
};

static void profile_wait_end_probe(void *data, const struct gosync_mutex *m,
				   u64 wait_ns, int ret)
{
	struct wait_end_probe *probe = data;

	if (m->class_name != probe->class_name)
		return;
	atomic_inc(&probe->fired);
	if (wait_ns)
		atomic_inc(&probe->timed);
	if (ret)
		atomic_inc(&probe->bad_fields);
}

/*
 * A known workload on a fresh class: the row's counts equal the workload's
 * own, and the global counters moved by exactly as much (nothing else
 * locks a gosync mutex meanwhile).  The trace event fires once per
 * sleeping wait, with the class and a wait time.
 */
static void profile_counts_match_workload(struct kunit *test)
{
	struct profile_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	struct wait_end_probe probe = {};
	unsigned int nr = gosync_test_nr_threads();
	u64 acquired = gosync_stat_read(GOSYNC_STAT_MUTEX_ACQUIRED);
	u64 contended = gosync_stat_read(GOSYNC_STAT_MUTEX_CONTENDED);
	u64 waited = gosync_stat_read(GOSYNC_STAT_MUTEX_WAIT_NS_TOTAL);
	u64 starved = gosync_stat_read(GOSYNC_STAT_MUTEX_STARVATION_ENTERED);
	u64 handoffs = gosync_stat_read(GOSYNC_STAT_MUTEX_HANDOFFS);
	u64 hist = gosync_wait_hist_total(GOSYNC_WAIT_MUTEX);
	struct gosync_lock_row row;

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	gosync_mutex_init(&ctx->m);
	ctx->iterations = 100;
	probe.class_name = ctx->m.class_name;
	KUNIT_ASSERT_EQ(test, register_trace_gosync_mutex_wait_end(profile_wait_end_probe,
								   &probe), 0);
	KUNIT_EXPECT_EQ(test, gosync_test_run_threads(test, nr, profile_thread, ctx,
						      NULL), 0);
	unregister_trace_gosync_mutex_wait_end(profile_wait_end_probe, &probe);
	tracepoint_synchronize_unregister();

	KUNIT_ASSERT_EQ(test, profile_find(ctx->m.class_name, &row), 1);
	KUNIT_EXPECT_EQ(test, row.acquired, (u64)nr * ctx->iterations);
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(MUTEX_ACQUIRED, acquired),
			row.acquired);
	KUNIT_EXPECT_EQ(test, row.contended,
			gosync_test_stat_delta(MUTEX_CONTENDED, contended));
	KUNIT_EXPECT_EQ(test, row.wait_total_ns,
			gosync_test_stat_delta(MUTEX_WAIT_NS_TOTAL, waited));
	KUNIT_EXPECT_EQ(test, row.starvation_entered,
			gosync_test_stat_delta(MUTEX_STARVATION_ENTERED, starved));
	KUNIT_EXPECT_EQ(test, row.handoffs,
			gosync_test_stat_delta(MUTEX_HANDOFFS, handoffs));
	KUNIT_EXPECT_GT(test, row.contended, 0);
	KUNIT_EXPECT_GE(test, row.wait_total_ns, row.wait_max_ns);
	KUNIT_EXPECT_NOT_NULL(test, strstr(row.top_holder, "profile_thread"));
	/* One histogram entry and one trace event per wait that slept. */
	KUNIT_EXPECT_GT(test, atomic_read(&probe.fired), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&probe.bad_fields), 0);
	/*
	 * Not every wait: when the guest marks its TSC unstable (a loaded
	 * host), local_clock() falls back to jiffies and short sleeps
	 * measure 0 ns.
	 */
	KUNIT_EXPECT_GT(test, atomic_read(&probe.timed), 0);
	KUNIT_EXPECT_EQ(test, gosync_wait_hist_total(GOSYNC_WAIT_MUTEX) - hist,
			(u64)atomic_read(&probe.fired));
	kunit_info(test, "%s: acquired %llu contended %llu wait %llu ns (max %llu) starved %llu handoffs %llu, top holder %s\n",
		   row.name, row.acquired, row.contended, row.wait_total_ns,
		   row.wait_max_ns, row.starvation_entered, row.handoffs,
		   row.top_holder);
}

static void profile_reset_and_stats_switch(struct kunit *test)
{
	struct profile_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	struct gosync_lock_row row;

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	gosync_mutex_init(&ctx->m);
	ctx->iterations = 20;
	KUNIT_ASSERT_EQ(test, gosync_test_run_threads(test, 2, profile_thread, ctx,
						      NULL), 0);
	KUNIT_ASSERT_EQ(test, profile_find(ctx->m.class_name, &row), 1);
	KUNIT_EXPECT_EQ(test, row.acquired, 40);

	KUNIT_EXPECT_EQ(test, gosync_stats_reset_store("1", 1), 1);
	KUNIT_ASSERT_EQ(test, profile_find(ctx->m.class_name, &row), 1);
	KUNIT_EXPECT_EQ(test, row.acquired, 0);
	KUNIT_EXPECT_EQ(test, row.contended, 0);
	KUNIT_EXPECT_EQ(test, row.wait_total_ns, 0);
	KUNIT_EXPECT_EQ(test, row.wait_max_ns, 0);
	KUNIT_EXPECT_STREQ(test, row.top_holder, "-");
	KUNIT_EXPECT_EQ(test, gosync_wait_hist_total(GOSYNC_WAIT_MUTEX), 0);

	/* Off: not one count anywhere, rows and histograms included. */
	gosync_stats_set_enabled(false);
	KUNIT_EXPECT_EQ(test, gosync_test_run_threads(test, 2, profile_thread, ctx,
						      NULL), 0);
	gosync_stats_set_enabled(true);
	KUNIT_ASSERT_EQ(test, profile_find(ctx->m.class_name, &row), 1);
	KUNIT_EXPECT_EQ(test, row.acquired, 0);
	KUNIT_EXPECT_EQ(test, row.contended, 0);
	KUNIT_EXPECT_EQ(test, gosync_wait_hist_total(GOSYNC_WAIT_MUTEX), 0);
	KUNIT_EXPECT_EQ(test, gosync_stat_read(GOSYNC_STAT_MUTEX_ACQUIRED), 0);
}

/* A row keeps its own copy of the name it was made with. */
static void profile_row_names_are_copies(struct kunit *test)
{
	char *name = kunit_kzalloc(test, 64, GFP_KERNEL);
	struct gosync_mutex m = {};
	struct gosync_lock_row row;

	KUNIT_ASSERT_NOT_NULL(test, name);
	strscpy(name, "gosync_kunit:transient_name@profile_test.c:1", 64);
	m.class_name = name;
	gosync_mutex_lock(&m);
	gosync_mutex_unlock(&m);
	memset(name, 'Z', 63);
	KUNIT_ASSERT_EQ(test, profile_find("gosync_kunit:transient_name@", &row), 1);
	KUNIT_EXPECT_STREQ(test, row.name,
			   "gosync_kunit:transient_name@profile_test.c:1");
	KUNIT_EXPECT_EQ(test, row.acquired, 1);
}

/*
 * A holder site that does not resolve to a symbol (here a heap address) is
 * shown as "(unknown)": a raw kernel address never reaches debugfs.
 */
static void profile_unresolved_holder_is_unknown(struct kunit *test)
{
	struct gosync_lock_class *class;
	struct gosync_lock_row row;
	void *heap = kunit_kzalloc(test, 16, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, heap);
	class = gosync_lock_class_get("gosync_kunit:unresolved_holder@profile_test.c:1");
	gosync_lock_class_waited(class, 1000, (unsigned long)heap);
	KUNIT_ASSERT_EQ(test, profile_find("gosync_kunit:unresolved_holder@", &row), 1);
	KUNIT_EXPECT_STREQ(test, row.top_holder, "(unknown)");
}

struct blame_ctx {
	struct gosync_mutex m;
	struct completion done;
};

/*
 * Two lock sites with names of their own, for the row's top holder.  Their
 * bodies differ, so the compiler cannot fold them into one function, and
 * the barrier keeps B's lock call from becoming a tail call, which would
 * make B's caller the recorded site.
 */
static noinline void profile_holder_a(struct gosync_mutex *m)
{
	gosync_mutex_lock(m);
	gosync_mutex_unlock(m);
}

static noinline void profile_holder_b(struct gosync_mutex *m)
{
	gosync_mutex_lock(m);
	barrier();
}

static int profile_blame_waiter(void *data)
{
	struct blame_ctx *ctx = data;

	gosync_mutex_lock(&ctx->m);
	gosync_mutex_unlock(&ctx->m);
	kthread_complete_and_exit(&ctx->done, 0);
}

/*
 * A wait is blamed on the site of the task that holds the mutex when the
 * waiter starts to sleep, even when that task locked it while counting was
 * off: site A locks and unlocks with stats on, site B locks with stats off
 * and holds, stats goes back on, and a waiter sleeps until B unlocks.  The
 * row must name B; a holder site kept only while counting is on names A.
 * Deterministic: the waiter cannot get the mutex before B lets it go.
 */
static void profile_wait_blames_current_holder(struct kunit *test)
{
	struct blame_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	struct task_struct *waiter;
	struct gosync_lock_row row;
	bool queued;

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	gosync_mutex_init(&ctx->m);
	init_completion(&ctx->done);
	profile_holder_a(&ctx->m);

	gosync_stats_set_enabled(false);
	profile_holder_b(&ctx->m);
	gosync_stats_set_enabled(true);
	waiter = kthread_run(profile_blame_waiter, ctx, "gosync-blame");
	if (IS_ERR(waiter)) {
		gosync_mutex_unlock(&ctx->m);
		KUNIT_FAIL(test, "kthread_run: %pe", waiter);
		return;
	}
	queued = gosync_test_wait_until(gosync_mutex_waiters(atomic_read(&ctx->m.state)) == 1,
					5000);
	gosync_mutex_unlock(&ctx->m);
	wait_for_completion(&ctx->done);
	KUNIT_ASSERT_TRUE(test, queued);

	KUNIT_ASSERT_EQ(test, profile_find(ctx->m.class_name, &row), 1);
	KUNIT_EXPECT_EQ(test, row.contended, 1);
	KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(row.top_holder, "profile_holder_b"),
				  "top holder %s", row.top_holder);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->m.state), 0);
}

static DEFINE_RAW_SPINLOCK(profile_test_raw_lock);

/*
 * trylock and unlock may be called under a raw spinlock.  On PREEMPT_RT,
 * where making a row (slab, spinlock_t) may sleep, the first lock of a
 * class there leaves it without a row, and the next lock that may allocate
 * makes it; elsewhere the row is made at once.  Kernels that check RT's
 * wait contexts (CONFIG_PROVE_RAW_LOCK_NESTING) follow the RT rule.  The
 * class name is new on every run (rows live until gosync unloads), so the
 * case passes when the suite runs more than once in one boot.
 */
static void profile_row_made_where_it_may_allocate(struct kunit *test)
{
	struct gosync_mutex *m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);
	char *name = kunit_kzalloc(test, 64, GFP_KERNEL);
	unsigned int made_early = IS_ENABLED(CONFIG_PREEMPT_RT) ||
				  IS_ENABLED(CONFIG_PROVE_RAW_LOCK_NESTING) ? 0 : 1;
	struct gosync_lock_row row;
	u64 acquired;
	bool locked;

	KUNIT_ASSERT_NOT_NULL(test, m);
	KUNIT_ASSERT_NOT_NULL(test, name);
	gosync_mutex_init(m);
	snprintf(name, 64, "gosync_kunit:row_made_%llu@profile_test.c:1",
		 ktime_get_ns());
	m->class_name = name;
	acquired = gosync_stat_read(GOSYNC_STAT_MUTEX_ACQUIRED);
	raw_spin_lock(&profile_test_raw_lock);
	locked = gosync_mutex_trylock(m);
	if (locked)
		gosync_mutex_unlock(m);
	raw_spin_unlock(&profile_test_raw_lock);
	KUNIT_EXPECT_TRUE(test, locked);
	KUNIT_ASSERT_EQ(test, profile_find(m->class_name, &row), made_early);
	if (made_early)
		KUNIT_EXPECT_EQ(test, row.acquired, 1);
	gosync_mutex_lock(m);
	gosync_mutex_unlock(m);
	KUNIT_ASSERT_EQ(test, profile_find(m->class_name, &row), 1);
	KUNIT_EXPECT_EQ(test, row.acquired, made_early + 1);
	/* Counted in "mutex.acquired" both times, with a row or without. */
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(MUTEX_ACQUIRED, acquired), 2);
}

static struct kunit_case gosync_profile_cases[] = {
	KUNIT_CASE(profile_rows_outlive_their_module),
	KUNIT_CASE(profile_counts_match_workload),
	KUNIT_CASE(profile_reset_and_stats_switch),
	KUNIT_CASE(profile_row_names_are_copies),
	KUNIT_CASE(profile_unresolved_holder_is_unknown),
	KUNIT_CASE(profile_row_made_where_it_may_allocate),
	KUNIT_CASE(profile_wait_blames_current_holder),
	{}
};

static struct kunit_suite gosync_profile_suite = {
	.name = "gosync_profile",
	.test_cases = gosync_profile_cases,
};

kunit_test_suite(gosync_profile_suite);
