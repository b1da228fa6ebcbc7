/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gosync waitgroup: Go's sync.WaitGroup for kernel code.
 *
 * The zero value is a waitgroup with counter 0.  add() raises the counter
 * for work about to start, done() lowers it when a piece finishes, wait()
 * sleeps until it is zero.  Every done() happens-before the return of the
 * wait() it releases.  A waitgroup may be reused once every wait() of the
 * previous round has returned.
 */
#ifndef _GOSYNC_WAITGROUP_H
#define _GOSYNC_WAITGROUP_H

#include <linux/atomic.h>
#include <linux/compiler.h>
#include <linux/types.h>

/**
 * struct gosync_waitgroup - a counter of outstanding work to wait for
 * @state: the counter in the high 32 bits, sleeping waiters in the low 32
 *         (Go's layout: add() sees "zero with waiters" in one atomic step)
 * @sema: wakeups released before their waiter had queued; guarded by the
 *        gosync parking-table bucket of this waitgroup
 *
 * All fields are private to gosync.
 */
struct gosync_waitgroup {
	atomic64_t state;
	unsigned int sema;
};

/**
 * DEFINE_GOSYNC_WAITGROUP() - define a waitgroup with counter 0
 * @wgname: the variable
 */
#define DEFINE_GOSYNC_WAITGROUP(wgname) struct gosync_waitgroup wgname = {}

void gosync_wg_init(struct gosync_waitgroup *wg);
int gosync_wg_add(struct gosync_waitgroup *wg, int delta);
void gosync_wg_done(struct gosync_waitgroup *wg);
void gosync_wg_wait(struct gosync_waitgroup *wg);
int __must_check gosync_wg_wait_killable(struct gosync_waitgroup *wg);
long gosync_wg_wait_timeout(struct gosync_waitgroup *wg, unsigned long timeout);
int __must_check gosync_wg_go(struct gosync_waitgroup *wg,
			      void (*fn)(void *arg), void *arg);
unsigned int gosync_wg_count(const struct gosync_waitgroup *wg);

#endif /* _GOSYNC_WAITGROUP_H */
