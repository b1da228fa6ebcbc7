/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gosync waitgroup: Go's sync.WaitGroup for kernel code.
 *
 * The zero value is a waitgroup with counter 0.  add() raises the counter
 * for work about to start, done() lowers it when a piece finishes, wait()
 * sleeps until it is zero.  Every done() happens-before the return of the
 * wait() it releases.  A waitgroup may be reused once every wait() of the
 * previous round has returned, and freed once every wait() on it has
 * returned: the done() that released them no longer touches it.
 */
#ifndef _GOSYNC_WAITGROUP_H
#define _GOSYNC_WAITGROUP_H

#include <linux/atomic.h>
#include <linux/compiler.h>
#include <linux/module.h>
#include <linux/types.h>

/**
 * struct gosync_waitgroup - a counter of outstanding work to wait for
 * @state: the counter in the high 32 bits; sleeping waiters and the
 *         release generation in the low 32 (Go's layout: add() sees "zero
 *         with waiters" in one atomic step, and releases them in it)
 *
 * All fields are private to gosync.
 */
struct gosync_waitgroup {
	atomic64_t state;
};

/*
 * At most this many gosync_wg_go() functions run at once (the rest wait
 * in a queue): functions that wait for each other must be fewer.
 */
#define GOSYNC_WG_GO_MAX_ACTIVE 512

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
int __must_check __gosync_wg_go(struct gosync_waitgroup *wg,
				void (*fn)(void *arg), void *arg,
				struct module *owner);

/**
 * gosync_wg_go() - run @fn(@arg) on a worker, counted by @wg (Go 1.25's Go)
 * @wg: the waitgroup; its counter is raised before this returns and
 *      lowered after @fn returns
 * @fn: the function; may sleep
 * @arg: its argument
 *
 * Pins the calling module until @fn returned, so that unloading it never
 * frees code that is about to run.  See __gosync_wg_go().
 *
 * Context: process context.
 * Return: 0, -ENOMEM or -ENODEV with the counter unchanged, -EINVAL.
 */
#define gosync_wg_go(wg, fn, arg) __gosync_wg_go(wg, fn, arg, THIS_MODULE)
unsigned int gosync_wg_count(const struct gosync_waitgroup *wg);

#endif /* _GOSYNC_WAITGROUP_H */
