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
#include <linux/bits.h>
#include <linux/compiler.h>
#include <linux/jump_label.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/percpu.h>
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
 * The state word, private to gosync: the counter (signed) in the high 32
 * bits; in the low 32, the sleeping waiters (24 bits: more than any
 * kernel's tasks) and the release generation (8 bits), which the add()
 * that brings the counter to zero with waiters bumps, in the same step
 * that clears the waiters.  A counter of zero therefore never has waiters.
 */
#define GOSYNC_WG_COUNTER_SHIFT	32
#define GOSYNC_WG_COUNTER_ONE	((s64)BIT_ULL(GOSYNC_WG_COUNTER_SHIFT))
#define GOSYNC_WG_WAITERS_MASK	0x00ffffffU
#define GOSYNC_WG_GEN_SHIFT	24
#define GOSYNC_WG_GEN_MASK	0xff000000U

/*
 * The largest counter: a raise that would take the counter above it is
 * refused.  Far below S32_MAX, because an add() on the fast path (below)
 * decides from a read that may be stale by the time it adds; the headroom
 * covers every such add() in flight at once (see kmod/waitgroup.c).  Such
 * racing raises may each pass the maximum by at most
 * GOSYNC_WG_ADD_FAST_MAX; lowering the counter from there is valid.
 */
#define GOSYNC_WG_COUNTER_MAX	0x40000000
/* The largest delta that gosync_wg_add() adds with one atomic add. */
#define GOSYNC_WG_ADD_FAST_MAX	64

static inline s32 gosync_wg_counter(s64 state)
{
	return (s32)(state >> GOSYNC_WG_COUNTER_SHIFT);
}

static inline u32 gosync_wg_waiters(s64 state)
{
	return (u32)state & GOSYNC_WG_WAITERS_MASK;
}

static inline u8 gosync_wg_gen(s64 state)
{
	return (u32)state >> GOSYNC_WG_GEN_SHIFT;
}

static inline s64 gosync_wg_state(s32 counter, u32 waiters, u8 gen)
{
	return (s64)((u64)(u32)counter << GOSYNC_WG_COUNTER_SHIFT |
		     (u32)gen << GOSYNC_WG_GEN_SHIFT | waiters);
}

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
int __gosync_wg_add(struct gosync_waitgroup *wg, int delta);
void __gosync_wg_wait(struct gosync_waitgroup *wg);
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

/*
 * The inline fast paths below count "wg.add" and "wg.wait" themselves,
 * into the same per-CPU counters as the out-of-line paths, and only when
 * the "stats" parameter is Y: one patched-out jump when it is N.
 */
DECLARE_STATIC_KEY_TRUE(gosync_stats_enabled);
extern u64 __percpu *const __gosync_wg_add_stat;
extern u64 __percpu *const __gosync_wg_wait_stat;

static __always_inline void __gosync_wg_count(u64 __percpu *const *stat)
{
	if (static_branch_likely(&gosync_stats_enabled))
		this_cpu_inc(**stat);
}

/**
 * gosync_wg_add() - add @delta, which may be negative, to the counter
 * @wg: the waitgroup
 * @delta: the change
 *
 * When the counter reaches zero, every waiter is released; add(0) changes
 * nothing and releases nobody.  A change that would make the counter
 * negative, or raise it above GOSYNC_WG_COUNTER_MAX, is refused: it warns
 * once, counts "wg.misuse" and leaves the counter as it was.  Raising the
 * counter from zero before every wait() of the previous round returned is
 * Go's "WaitGroup is reused before previous Wait has returned": it is
 * carried out, and the released waiter that finds the counter raised
 * reports it (see gosync_wg_wait()).
 *
 * Inline: a raise by at most GOSYNC_WG_ADD_FAST_MAX of a counter well
 * below its maximum is one fully ordered atomic add (it can neither
 * release anybody nor go out of range); everything else is a
 * compare-and-exchange in gosync.ko.
 *
 * Context: any context.
 * Return: 0, or -EINVAL if the change was refused.
 */
static __always_inline int gosync_wg_add(struct gosync_waitgroup *wg,
					 int delta)
{
	if (likely(wg) && delta > 0 && delta <= GOSYNC_WG_ADD_FAST_MAX &&
	    gosync_wg_counter(atomic64_read(&wg->state)) <=
	    GOSYNC_WG_COUNTER_MAX - delta) {
		/* Fully ordered, as every change of the state word. */
		atomic64_fetch_add((s64)delta << GOSYNC_WG_COUNTER_SHIFT,
				   &wg->state);
		__gosync_wg_count(&__gosync_wg_add_stat);
		return 0;
	}
	return __gosync_wg_add(wg, delta);
}

/**
 * gosync_wg_done() - lower the counter by one
 * @wg: the waitgroup
 *
 * The done() that releases the waiters does not touch @wg after the
 * release: the released wait()s may return and free it at once.
 *
 * Inline: a done() that leaves the counter above zero, or brings it to
 * zero with nobody waiting, is one compare-and-exchange (retried while
 * that still holds); the release of waiters and misuse (done below zero)
 * are handled, and reported, in gosync.ko.
 *
 * Context: any context, hard interrupts and interrupts-off regions on
 * PREEMPT_RT included: the wakeup takes only a raw spinlock.
 */
static __always_inline void gosync_wg_done(struct gosync_waitgroup *wg)
{
	s64 old;

	if (likely(wg)) {
		old = atomic64_read(&wg->state);
		/* Counter above one, or one and no waiter: nobody to release. */
		while (old >= 2 * GOSYNC_WG_COUNTER_ONE ||
		       (old & ~(s64)GOSYNC_WG_GEN_MASK) == GOSYNC_WG_COUNTER_ONE) {
			/* Fully ordered: this done() happens-before the zero. */
			if (atomic64_try_cmpxchg(&wg->state, &old,
						 old - GOSYNC_WG_COUNTER_ONE)) {
				__gosync_wg_count(&__gosync_wg_add_stat);
				return;
			}
		}
	}
	__gosync_wg_add(wg, -1);
}

/**
 * gosync_wg_wait() - sleep until the counter is zero
 * @wg: the waitgroup
 *
 * A waiter released by the counter reaching zero that finds it raised
 * again before it could return (Go's "WaitGroup is reused before previous
 * Wait has returned") warns once, counts "wg.misuse" and waits for that
 * round too: a wait never returns while the counter it last saw is above
 * zero.  The same holds for the killable and timeout variants.
 *
 * Inline: on a counter already zero this is one acquire load (Go's Wait
 * is one load then too); sleeping is done in gosync.ko.
 *
 * Context: process context; may sleep.
 */
static __always_inline void gosync_wg_wait(struct gosync_waitgroup *wg)
{
	might_sleep();
	/* Acquire: pairs with the fully ordered add() that made it zero. */
	if (likely(wg) && !gosync_wg_counter(atomic64_read_acquire(&wg->state))) {
		__gosync_wg_count(&__gosync_wg_wait_stat);
		return;
	}
	__gosync_wg_wait(wg);
}

#endif /* _GOSYNC_WAITGROUP_H */
