// SPDX-License-Identifier: GPL-2.0
/*
 * A module that must make the gosync test harness fail: one case fails,
 * one warns outside an expected-warning window.  A third warns inside a
 * window and must be excused.  Run by "make test-harness".
 */

#include <kunit/test.h>
#include <linux/bug.h>
#include <linux/module.h>

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

static struct kunit_case harness_cases[] = {
	KUNIT_CASE(harness_case_passes),
	KUNIT_CASE(harness_case_fails),
	KUNIT_CASE(harness_case_stray_warning),
	KUNIT_CASE(harness_case_expected_warning),
	{}
};

static struct kunit_suite harness_suite = {
	.name = "gosync_harness_selftest",
	.test_cases = harness_cases,
};

kunit_test_suite(harness_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("gosync test harness self-test: fails on purpose");
