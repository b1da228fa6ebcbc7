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
 * in a queue).  That many are guaranteed to run at once only on a machine
 * with one NUMA node, or before Linux 6.9: since 6.9 the workqueue divides
 * this limit among NUMA nodes by their share of the online CPUs, and only
 * 8 per node (WQ_DFL_MIN_ACTIVE) are guaranteed.  See __gosync_wg_go().
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
 * Pins the calling module (THIS_MODULE where the macro is expanded) until
 * @fn returned, so that unloading it never frees code that is about to
 * run.  A module therefore cannot be unloaded while one of its functions
 * runs: a function that runs until module_exit() tells it to stop keeps
 * its module loaded for ever (rmmod fails with "in use"); give such work
 * a kthread of its own.  See __gosync_wg_go() for the concurrency limit.
 *
 * Context: process context.
 * Return: 0; -ENOMEM, or -ENODEV when the calling module is being unloaded
 * (a call from its module_exit(), say), with the counter unchanged;
 * -EINVAL for bad input.
 */
#define gosync_wg_go(wg, fn, arg) __gosync_wg_go(wg, fn, arg, THIS_MODULE)
unsigned int gosync_wg_count(const struct gosync_waitgroup *wg);

#endif /* _GOSYNC_WAITGROUP_H */
