// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite of the gosync stats core: counting, the "stats" switch,
 * reset and its input rules.
 */

#include <gosync/mutex.h>

#include "gosync_test.h"

static void stats_count_exactly(struct kunit *test)
{
	struct gosync_mutex m = {};
	u64 before = gosync_stat_read(GOSYNC_STAT_MUTEX_ACQUIRED);
	unsigned int i;

	for (i = 0; i < 100; i++) {
		gosync_mutex_lock(&m);
		gosync_mutex_unlock(&m);
	}
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(MUTEX_ACQUIRED, before), 100);
}

static void stats_switched_off_count_nothing(struct kunit *test)
{
	struct gosync_mutex m = {};
	u64 before;

	gosync_stats_set_enabled(false);
	before = gosync_stat_read(GOSYNC_STAT_MUTEX_ACQUIRED);
	gosync_mutex_lock(&m);
	gosync_mutex_unlock(&m);
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(MUTEX_ACQUIRED, before), 0);
	gosync_stats_set_enabled(true);
	gosync_mutex_lock(&m);
	gosync_mutex_unlock(&m);
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(MUTEX_ACQUIRED, before), 1);
}

static void stats_reset_zeroes_counters(struct kunit *test)
{
	struct gosync_mutex m = {};
	unsigned int id;

	gosync_mutex_lock(&m);
	gosync_mutex_unlock(&m);
	gosync_stat_max(GOSYNC_STAT_MUTEX_WAIT_NS_MAX, 12345);
	KUNIT_ASSERT_NE(test, gosync_stat_read(GOSYNC_STAT_MUTEX_ACQUIRED), 0);
	KUNIT_EXPECT_EQ(test, gosync_stats_reset_store("1\n", 2), 2);
	for (id = 0; id < GOSYNC_NR_STATS; id++) {
		if (id == GOSYNC_STAT_MAP_ENTRIES || id == GOSYNC_STAT_MAP_BYTES)
			continue;
		KUNIT_EXPECT_EQ_MSG(test, gosync_stat_read(id), 0,
				    "%s after reset", gosync_stat_name(id));
	}
}

static void stats_reset_rejects_bad_input(struct kunit *test)
{
	static const char *const bad[] = {
		"0", "2", "11", "-1", "yes", "1x", " ", "\n", "1\n\n", "100000000",
		"+1", "01", "0001", " 1", "1 ", "0x1",
	};
	struct gosync_mutex m = {};
	unsigned int i;
	u64 before;

	gosync_mutex_lock(&m);
	gosync_mutex_unlock(&m);
	before = gosync_stat_read(GOSYNC_STAT_MUTEX_ACQUIRED);
	KUNIT_ASSERT_NE(test, before, 0);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		KUNIT_EXPECT_EQ_MSG(test, gosync_stats_reset_store(bad[i], strlen(bad[i])),
				    -EINVAL, "input \"%s\"", bad[i]);
	KUNIT_EXPECT_EQ(test, gosync_stats_reset_store("1", 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, gosync_stat_read(GOSYNC_STAT_MUTEX_ACQUIRED), before);
}

static void stats_names_unique(struct kunit *test)
{
	unsigned int a, b;

	for (a = 0; a < GOSYNC_NR_STATS; a++) {
		KUNIT_EXPECT_NOT_NULL(test, gosync_stat_name(a));
		for (b = a + 1; b < GOSYNC_NR_STATS; b++)
			KUNIT_EXPECT_STRNEQ(test, gosync_stat_name(a),
					    gosync_stat_name(b));
	}
}

/*
 * Wait times are differences of local_clock() readings that may come from
 * two CPUs whose clocks disagree.  A wait that seems to end before it
 * began counts as 0 ns: as a raw u64 difference it would be some 1.8e19 ns,
 * mark a mutex waiter starving at once and stick in wait_ns_max.  Every
 * wait (mutex, waitgroup, once) is measured with gosync_ns_since().
 */
static void stats_wait_time_never_wraps(struct kunit *test)
{
	u64 now = local_clock();

	KUNIT_EXPECT_EQ(test, gosync_ns_since(now + NSEC_PER_SEC), 0);
	KUNIT_EXPECT_EQ(test, gosync_ns_since(U64_MAX), 0);
	KUNIT_EXPECT_GT(test, gosync_ns_since(0), 0);
	KUNIT_EXPECT_LT(test, gosync_ns_since(now), 60ULL * NSEC_PER_SEC);
}

static struct kunit_case gosync_stats_cases[] = {
	KUNIT_CASE(stats_count_exactly),
	KUNIT_CASE(stats_switched_off_count_nothing),
	KUNIT_CASE(stats_reset_zeroes_counters),
	KUNIT_CASE(stats_reset_rejects_bad_input),
	KUNIT_CASE(stats_names_unique),
	KUNIT_CASE(stats_wait_time_never_wraps),
	{}
};

static struct kunit_suite gosync_stats_suite = {
	.name = "gosync_stats",
	.test_cases = gosync_stats_cases,
};

kunit_test_suite(gosync_stats_suite);
