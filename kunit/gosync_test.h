/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the gosync KUnit suites.
 */
#ifndef _GOSYNC_TEST_H
#define _GOSYNC_TEST_H

#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/sched.h>

#include "gosync_internal.h"

/*
 * Run @nr kthreads, spread over the online CPUs round-robin, each calling
 * @fn(@data, index), and wait for all of them.  Returns the number of
 * threads whose @fn returned non-zero (a failed invariant), or -errno when
 * the threads could not be started.  @on_start, if set, is called with the
 * tasks once all are running (to signal them, say) and must return only
 * after it is done with them.
 */
int gosync_test_run_threads(struct kunit *test, unsigned int nr,
			    int (*fn)(void *data, unsigned int index),
			    void *data,
			    void (*on_start)(struct task_struct **tasks,
					     unsigned int nr, void *data));

/* Threads per CPU for the contention tests: enough to queue waiters. */
#define GOSYNC_TEST_THREADS_PER_CPU 2

static inline unsigned int gosync_test_nr_threads(void)
{
	return num_online_cpus() * GOSYNC_TEST_THREADS_PER_CPU;
}

/* Poll @cond every ~100 us for up to @ms; true if it came true. */
#define gosync_test_wait_until(cond, ms)				\
	({								\
		unsigned long __deadline = jiffies + msecs_to_jiffies(ms); \
		bool __met;						\
									\
		while (!(__met = (cond)) && time_before(jiffies, __deadline)) \
			usleep_range(50, 100);				\
		__met;							\
	})

/*
 * Widen a race window for the rest of the case: arm delay point @point with
 * waits of up to @max_us, disarmed again when the case ends, even when an
 * assertion fails on the way.
 */
static inline void gosync_test_arm_delay(struct kunit *test,
					 enum gosync_delay_point point,
					 unsigned int max_us)
{
	int err;

	gosync_delay_point_arm(point, max_us);
	err = kunit_add_action_or_reset(test, gosync_delay_points_disarm, NULL);
	KUNIT_ASSERT_EQ(test, err, 0);
}

/* The counter delta since @before. */
#define gosync_test_stat_delta(id, before) \
	(gosync_stat_read(GOSYNC_STAT_##id) - (before))

#endif /* _GOSYNC_TEST_H */
