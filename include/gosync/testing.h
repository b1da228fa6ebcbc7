/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Expected-warning windows for tests of code that uses gosync.
 *
 * The gosync test harness fails a run on any kernel warning, BUG, lockdep
 * or similar report in the console log.  A test that provokes a WARN() on
 * purpose (misuse detection) brackets exactly the provoking call:
 *
 *	gosync_expect_warning_begin();
 *	gosync_mutex_unlock(&unlocked_mutex);
 *	gosync_expect_warning_end();
 *
 * and then asserts what the misuse should have done (a counter, a return
 * code), so that the window never hides a missing warning's effect.
 */
#ifndef _GOSYNC_TESTING_H
#define _GOSYNC_TESTING_H

#include <linux/printk.h>
#include <linux/pid.h>
#include <linux/sched.h>

#define GOSYNC_EXPECT_WARNING_BEGIN	"gosync: expect-warning begin"
#define GOSYNC_EXPECT_WARNING_END	"gosync: expect-warning end"

/**
 * gosync_expect_warning_begin() - open an expected-warning window
 *
 * Context: any context; the window belongs to the current task.
 */
static inline void gosync_expect_warning_begin(void)
{
	pr_warn("%s pid=%d\n", GOSYNC_EXPECT_WARNING_BEGIN, task_pid_nr(current));
}

/**
 * gosync_expect_warning_end() - close the current task's innermost window
 *
 * Context: any context; the same task that opened the window.
 */
static inline void gosync_expect_warning_end(void)
{
	pr_warn("%s pid=%d\n", GOSYNC_EXPECT_WARNING_END, task_pid_nr(current));
}

#endif /* _GOSYNC_TESTING_H */
