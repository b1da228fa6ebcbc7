// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only delay points: built into gosync.ko only in test builds
 * (GOSYNC_TESTING=1, set by the harness for make test and make torture).
 *
 * A race whose window is a few instructions wide is almost never hit by a
 * stress test under QEMU.  A delay point names such a window in the code
 * (gosync_delay_point() in gosync_internal.h); a KUnit case arms it with a
 * maximum delay, and every task that passes the point then busy-waits a
 * random time up to that maximum, so that the other side of the race lands
 * inside the window within seconds.  Disarmed, a point costs one patched-out
 * jump; in a production build it does not exist.
 *
 * The wait is udelay(), not a sleep: points sit inside raw spinlocks, with
 * interrupts off and in interrupt handlers, on PREEMPT_RT too.
 */

#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/export.h>
#include <linux/hash.h>
#include <linux/math.h>
#include <linux/mutex.h>

#include "gosync_internal.h"

/*
 * The longest busy-wait a point may be armed with: 20 ms, far below any
 * lockup or stall detector, and long enough that the other side of a race
 * gets in even when the host has descheduled its virtual CPU for a while.
 */
#define GOSYNC_DELAY_POINT_MAX_US 20000

DEFINE_STATIC_KEY_FALSE(gosync_delay_points_armed);
EXPORT_SYMBOL_IF_GOSYNC_TESTING(gosync_delay_points_armed);

static unsigned int delay_point_max_us[GOSYNC_NR_DELAY_POINTS];
static atomic64_t delay_point_hits[GOSYNC_NR_DELAY_POINTS];
static DEFINE_MUTEX(delay_point_lock);
static unsigned int delay_points_nr_armed;
static atomic_t delay_point_seq;

/*
 * A wait length spread over 0..@max_us: a multiplicative hash of a global
 * sequence number.  Not get_random_u32_below(): it takes a local_lock,
 * which sleeps on PREEMPT_RT, and points sit under raw spinlocks and in
 * hard interrupts.  One atomic add and a multiply are safe in any context
 * on every preemption model; a test needs spread, not secrecy.
 */
static unsigned int delay_point_wait_us(unsigned int max_us)
{
	u32 x = hash_32(atomic_inc_return(&delay_point_seq), 32);

	return reciprocal_scale(x, max_us + 1);
}

void __gosync_delay_point(enum gosync_delay_point point)
{
	unsigned int max_us = READ_ONCE(delay_point_max_us[point]);
	unsigned int wait_us, step;

	if (!max_us)
		return;
	atomic64_inc(&delay_point_hits[point]);
	/* udelay() is meant for short waits: a millisecond at a time. */
	for (wait_us = delay_point_wait_us(max_us); wait_us; wait_us -= step) {
		step = min(wait_us, 1000U);
		udelay(step);
	}
}
EXPORT_SYMBOL_IF_GOSYNC_TESTING(__gosync_delay_point);

/**
 * gosync_delay_point_arm() - make every pass through a delay point wait
 * @point: the window to widen
 * @max_us: the longest wait, in microseconds (at most 20000); 0 disarms
 *
 * Context: process context; may sleep.  Tests disarm every point they armed
 * before they end, best with kunit_add_action(), so that a failed assertion
 * leaves nothing armed.
 */
void gosync_delay_point_arm(enum gosync_delay_point point, unsigned int max_us)
{
	if (WARN_ON_ONCE(point >= GOSYNC_NR_DELAY_POINTS))
		return;
	max_us = min(max_us, GOSYNC_DELAY_POINT_MAX_US);
	mutex_lock(&delay_point_lock);
	if (!delay_point_max_us[point] && max_us) {
		if (!delay_points_nr_armed++)
			static_branch_enable(&gosync_delay_points_armed);
	} else if (delay_point_max_us[point] && !max_us) {
		if (!--delay_points_nr_armed)
			static_branch_disable(&gosync_delay_points_armed);
	}
	WRITE_ONCE(delay_point_max_us[point], max_us);
	mutex_unlock(&delay_point_lock);
}
EXPORT_SYMBOL_IF_GOSYNC_TESTING(gosync_delay_point_arm);

/**
 * gosync_delay_points_disarm() - disarm every delay point
 * @unused: ignored; the argument kunit_add_action() passes
 *
 * Context: process context; may sleep.  Shaped for kunit_add_action().
 */
void gosync_delay_points_disarm(void *unused)
{
	enum gosync_delay_point point;

	for (point = 0; point < GOSYNC_NR_DELAY_POINTS; point++)
		gosync_delay_point_arm(point, 0);
}
EXPORT_SYMBOL_IF_GOSYNC_TESTING(gosync_delay_points_disarm);

/**
 * gosync_delay_point_hits() - how often a task waited at a delay point
 * @point: the delay point
 *
 * Lets a test prove that its storm really went through the window it
 * widened.  Never reset: take a difference.
 *
 * Return: the number of armed passes since gosync.ko was loaded.
 */
u64 gosync_delay_point_hits(enum gosync_delay_point point)
{
	if (WARN_ON_ONCE(point >= GOSYNC_NR_DELAY_POINTS))
		return 0;
	return atomic64_read(&delay_point_hits[point]);
}
EXPORT_SYMBOL_IF_GOSYNC_TESTING(gosync_delay_point_hits);
