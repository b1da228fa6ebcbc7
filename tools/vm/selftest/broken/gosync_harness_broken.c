// SPDX-License-Identifier: GPL-2.0
/*
 * A client module that does not build, on purpose: "make test-harness"
 * passes this directory in EXTRA_KMODS and the run must stop with an error.
 */

#include <linux/module.h>

static int __init harness_broken_init(void)
{
	return gosync_no_such_function();
}
module_init(harness_broken_init);

MODULE_LICENSE("GPL");
