// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>
#include <gosync/gosync.h>
static int __init gosync_demo_init(void) { return 0; }
module_init(gosync_demo_init);
MODULE_LICENSE("GPL");
