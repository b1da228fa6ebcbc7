/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Expected-warning windows for tests of code that uses gosync.
 *
 * The gosync test harness fails a run on any kernel warning, BUG, lockdep
 * or similar report in the console log, except between these two console
 * lines.  A test that provokes a warning on purpose (misuse detection)
 * brackets exactly the provoking call:
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

#define GOSYNC_EXPECT_WARNING_BEGIN	"gosync: expect-warning begin"
#define GOSYNC_EXPECT_WARNING_END	"gosync: expect-warning end"

static inline void gosync_expect_warning_begin(void)
{
	pr_warn("%s\n", GOSYNC_EXPECT_WARNING_BEGIN);
}

static inline void gosync_expect_warning_end(void)
{
	pr_warn("%s\n", GOSYNC_EXPECT_WARNING_END);
}

#endif /* _GOSYNC_TESTING_H */
