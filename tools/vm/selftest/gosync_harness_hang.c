// SPDX-License-Identifier: GPL-2.0
/*
 * A KUnit case that never ends, booted on its own with a short VM_TIMEOUT
 * by "make test-harness": the harness must call the run a failure (the VM
 * did not finish, the case is missing).  It sleeps interruptibly so that
 * nothing but the missing result gives it away.
 */

#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/module.h>

static void harness_case_never_ends(struct kunit *test)
{
	while (!kthread_should_stop())
		msleep_interruptible(1000);
}

static struct kunit_case harness_hang_cases[] = {
	KUNIT_CASE(harness_case_never_ends),
	{}
};

static struct kunit_suite harness_hang_suite = {
	.name = "gosync_harness_hang",
	.test_cases = harness_hang_cases,
};

kunit_test_suite(harness_hang_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("gosync test harness self-test: a case that hangs");
