// SPDX-License-Identifier: GPL-2.0
/*
 * A module that must make the gosync test harness fail, once for each way
 * a broken run used to pass: a failing case, a warning outside any window,
 * a skip nobody allowed, a window left open by an aborted case, a warning
 * from another task inside a window, and a case missing from the manifest
 * (tools/vm/selftest/expected-cases.txt) or not in it.  A warning inside
 * its own task's window and an allowed skip must not fail.  On the kcsan
 * kernel a plain data race must be reported, on the kasan kernel a leak.
 * Run by "make test-harness" (tools/vm/check-harness.sh).
 */

#include <kunit/test.h>
#include <linux/bug.h>
#include <linux/completion.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/slab.h>

#include <gosync/testing.h>

static void harness_case_passes(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, 2 + 2, 4);
}

static void harness_case_fails(struct kunit *test)
{
	KUNIT_EXPECT_EQ_MSG(test, 2 + 2, 5, "this failure is on purpose");
}

static void harness_case_stray_warning(struct kunit *test)
{
	WARN(1, "gosync harness self-test: stray warning");
}

static void harness_case_expected_warning(struct kunit *test)
{
	gosync_expect_warning_begin();
	WARN(1, "gosync harness self-test: expected warning");
	gosync_expect_warning_end();
}

static void harness_case_skipped(struct kunit *test)
{
	kunit_skip(test, "a skip that kunit/allowed-skips.txt does not list");
}

static void harness_case_allowed_skip(struct kunit *test)
{
	kunit_skip(test, "a skip that the self-test's allowed-skips.txt lists");
}

/* An assertion aborts the case between begin and end: the window stays open. */
static void harness_case_unclosed_window(struct kunit *test)
{
	gosync_expect_warning_begin();
	KUNIT_ASSERT_TRUE_MSG(test, false, "this abort is on purpose");
	gosync_expect_warning_end();
}

static int harness_warn_thread(void *done)
{
	WARN(1, "gosync harness self-test: warning from another task");
	complete(done);
	return 0;
}

/* The window is this task's: another task's warning inside it still fails. */
static void harness_case_other_task_warns(struct kunit *test)
{
	DECLARE_COMPLETION_ONSTACK(done);
	struct task_struct *thread;

	gosync_expect_warning_begin();
	thread = kthread_run(harness_warn_thread, &done, "gosync_harness_warn");
	if (!IS_ERR(thread))
		wait_for_completion(&done);
	gosync_expect_warning_end();
	KUNIT_ASSERT_FALSE(test, IS_ERR(thread));
}

static unsigned long harness_racy_counter;

static int harness_race_thread(void *done)
{
	unsigned long i;

	/* Plain read-modify-write from two tasks at once: a data race. */
	for (i = 0; i < 100000 && !kthread_should_stop(); i++)
		harness_racy_counter++;
	complete(done);
	return 0;
}

/*
 * The checkers must work, not merely be switched on: a data race that only
 * KCSAN sees, and an allocation that only kmemleak sees.  On other kernels
 * both are silent and harmless.
 */
static void harness_case_checkers_see(struct kunit *test)
{
	DECLARE_COMPLETION_ONSTACK(first);
	DECLARE_COMPLETION_ONSTACK(second);
	struct task_struct *a, *b;
	void *leak;

	a = kthread_run(harness_race_thread, &first, "gosync_harness_race");
	b = kthread_run(harness_race_thread, &second, "gosync_harness_race");
	if (!IS_ERR(a))
		wait_for_completion(&first);
	if (!IS_ERR(b))
		wait_for_completion(&second);
	KUNIT_EXPECT_FALSE(test, IS_ERR(a) || IS_ERR(b));

	/* Kept only in a hidden way: a leak once the module is gone. */
	leak = kmalloc(64, GFP_KERNEL);
	KUNIT_EXPECT_NOT_NULL(test, leak);
	OPTIMIZER_HIDE_VAR(leak);
}

static void harness_case_not_in_manifest(struct kunit *test)
{
	KUNIT_EXPECT_TRUE(test, true);
}

static struct kunit_case harness_cases[] = {
	KUNIT_CASE(harness_case_passes),
	KUNIT_CASE(harness_case_fails),
	KUNIT_CASE(harness_case_stray_warning),
	KUNIT_CASE(harness_case_expected_warning),
	KUNIT_CASE(harness_case_skipped),
	KUNIT_CASE(harness_case_allowed_skip),
	KUNIT_CASE(harness_case_unclosed_window),
	KUNIT_CASE(harness_case_other_task_warns),
	KUNIT_CASE(harness_case_checkers_see),
	KUNIT_CASE(harness_case_not_in_manifest),
	{}
};

static struct kunit_suite harness_suite = {
	.name = "gosync_harness_selftest",
	.test_cases = harness_cases,
};

kunit_test_suite(harness_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("gosync test harness self-test: fails on purpose");
