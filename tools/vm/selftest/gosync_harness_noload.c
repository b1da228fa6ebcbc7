// SPDX-License-Identifier: GPL-2.0
/*
 * A module whose init fails, so that "make test-harness" proves a module
 * that does not load fails the run.
 */

#include <linux/errno.h>
#include <linux/module.h>

static int __init harness_noload_init(void)
{
	return -ENODEV;
}
module_init(harness_noload_init);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("gosync test harness self-test: refuses to load");
