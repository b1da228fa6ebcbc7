// SPDX-License-Identifier: GPL-2.0
/*
 * gosync: Go's sync primitives, with Go's semantics, for kernel code.
 */

#include <linux/module.h>

#include "gosync_internal.h"

static int __init gosync_init(void)
{
	int err;

	err = gosync_wait_init();
	if (err)
		return err;
	err = gosync_wg_module_init();
	if (err)
		return err;
	err = gosync_map_module_init();
	if (err)
		goto out_wg;
	err = gosync_stats_init();
	if (err)
		goto out_map;
	return 0;
out_map:
	gosync_map_module_exit();
out_wg:
	gosync_wg_module_exit();
	return err;
}

static void __exit gosync_exit(void)
{
	gosync_stats_exit();
	gosync_map_module_exit();
	gosync_wg_module_exit();
}

module_init(gosync_init);
module_exit(gosync_exit);
MODULE_LICENSE("GPL");
MODULE_VERSION(GOSYNC_VERSION);
MODULE_DESCRIPTION("Go's sync primitives (Mutex, WaitGroup, Once, Seqlock, Map) for kernel code");
