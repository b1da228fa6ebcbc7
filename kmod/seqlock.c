// SPDX-License-Identifier: GPL-2.0
/*
 * gosync seqlock.
 *
 * Ordering, as in include/linux/seqlock.h:
 *
 *	writer				reader
 *	sequence++ (now odd)		seq = sequence (wait while odd)
 *	smp_wmb()  --------------.	smp_rmb()
 *	write the data		  \	read the data
 *	smp_wmb()  ----------.	   `--	smp_rmb()
 *	sequence++ (even)     `------	retry if sequence != seq
 *
 * The first write barrier orders the odd count before the data, so a
 * reader that saw any new data also sees the count change on retry; the
 * second orders the data before the even count, so a reader that began
 * at the new even count sees all of the new data.
 *
 * Writers serialise on a gosync mutex (they may sleep waiting for it) and
 * then disable interrupts for the section, so that no reader on the same
 * CPU, task or interrupt, can ever spin on a writer that cannot run.  An
 * NMI can, which is why readers are not allowed in NMI context.
 *
 * Lockdep sees the sequence count as the kernel's seqcount_t: the writer
 * takes it exclusively inside the section, a reader takes and drops it
 * shared before it looks at the count (seqcount_lockdep_reader_access()),
 * so a reader that could spin forever on a writer (its own task's, or one
 * that waits for a lock the reader holds) is reported before it spins.
 */

#include <linux/export.h>
#include <linux/irqflags.h>
#include <linux/kcsan-checks.h>
#include <linux/seqlock.h>	/* KCSAN_SEQLOCK_REGION_MAX */

#include <gosync/seqlock.h>
#include "gosync_internal.h"

/*
 * Lockdep sees only named seqlocks (defined or initialised), like gosync
 * mutexes: a zero dep_map has no name.
 */
static inline struct lockdep_map *gosync_seq_dep_map(const struct gosync_seqlock *s)
{
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	return s->dep_map.name ? (struct lockdep_map *)&s->dep_map : NULL;
#else
	return NULL;
#endif
}

/* @op: seqcount_acquire, seqcount_acquire_read or seqcount_release. */
#define gosync_seq_lockdep(s, op, ...)					\
	do {								\
		struct lockdep_map *__map = gosync_seq_dep_map(s);	\
									\
		if (__map)						\
			op(__map, ##__VA_ARGS__);			\
	} while (0)

/**
 * __gosync_seqlock_init() - initialise a seqlock; use gosync_seqlock_init()
 * @s: the seqlock
 * @name: its name for lockdep
 * @key: the lockdep class of its writers' mutex
 * @seq_key: the lockdep class of its sequence count
 */
void __gosync_seqlock_init(struct gosync_seqlock *s, const char *name,
			   struct lock_class_key *key,
			   struct lock_class_key *seq_key)
{
	s->sequence = 0;
	s->irq_flags = 0;
	s->owner = NULL;
	__gosync_mutex_init(&s->writer, name, key);
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	lockdep_init_map(&s->dep_map, name, seq_key, 0);
#endif
}
EXPORT_SYMBOL_GPL(__gosync_seqlock_init);

/**
 * gosync_read_seqbegin() - start a read section
 * @s: the seqlock
 *
 * Waits out a writer inside its section (it runs with interrupts off on
 * another CPU, so the wait is short).
 *
 * Context: any context but NMI, and not inside the caller's own write
 * section.
 * Return: the sequence to pass to gosync_read_seqretry().
 */
unsigned int gosync_read_seqbegin(const struct gosync_seqlock *s)
{
	unsigned int seq;
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	unsigned long flags;

	/* Before spinning, so that a reader that would spin forever is reported. */
	local_irq_save(flags);
	gosync_seq_lockdep(s, seqcount_acquire_read, 0, 0, _RET_IP_);
	gosync_seq_lockdep(s, seqcount_release, _RET_IP_);
	local_irq_restore(flags);
#endif
	while ((seq = READ_ONCE(s->sequence)) & 1)
		cpu_relax();
	/* Pairs with the second smp_wmb() of the writer: data after count. */
	smp_rmb();
	/* The reads up to the retry check race with writers by design. */
	kcsan_atomic_next(KCSAN_SEQLOCK_REGION_MAX);
	gosync_stat_inc(GOSYNC_STAT_SEQ_READ);
	return seq;
}
EXPORT_SYMBOL_GPL(gosync_read_seqbegin);

/**
 * gosync_read_seqretry() - end a read section
 * @s: the seqlock
 * @seq: what gosync_read_seqbegin() returned
 *
 * Context: any context but NMI.
 * Return: true if a write overlapped the section: discard what was read
 * and start again.
 */
bool gosync_read_seqretry(const struct gosync_seqlock *s, unsigned int seq)
{
	bool retry;

	kcsan_atomic_next(0);
	/* Pairs with the first smp_wmb() of the writer: count after data. */
	smp_rmb();
	retry = READ_ONCE(s->sequence) != seq;
	if (unlikely(retry))
		gosync_stat_inc(GOSYNC_STAT_SEQ_RETRY);
	return retry;
}
EXPORT_SYMBOL_GPL(gosync_read_seqretry);

/**
 * gosync_write_seqlock() - enter the write section
 * @s: the seqlock
 *
 * Context: process context; may sleep waiting for another writer, then
 * runs with interrupts disabled until gosync_write_sequnlock().
 */
void gosync_write_seqlock(struct gosync_seqlock *s) __acquires(s)
{
	unsigned long flags;

	gosync_mutex_lock_at(&s->writer, _RET_IP_);
	local_irq_save(flags);
	s->irq_flags = flags;
	/* Read by any task that calls write_sequnlock(), to refuse it. */
	WRITE_ONCE(s->owner, current);
	gosync_seq_lockdep(s, seqcount_acquire, 0, 0, _RET_IP_);
	kcsan_nestable_atomic_begin();
	WRITE_ONCE(s->sequence, s->sequence + 1);
	/* Odd count before any data: pairs with the reader's retry smp_rmb(). */
	smp_wmb();
	gosync_stat_inc(GOSYNC_STAT_SEQ_WRITE);
}
EXPORT_SYMBOL_GPL(gosync_write_seqlock);

/**
 * gosync_write_sequnlock() - leave the write section
 * @s: the seqlock, in a write section of the calling task
 *
 * Only the task inside the write section may leave it.  Any other call (no
 * section, or another task's) warns once, counts "seq.misuse" and changes
 * nothing: the section stays open, readers keep retrying, and the writer
 * leaves it normally.
 */
void gosync_write_sequnlock(struct gosync_seqlock *s) __releases(s)
{
	/*
	 * Only the owner wrote current there, with interrupts off (nothing
	 * can run on its CPU in between), so equality means "our section".
	 */
	if (GOSYNC_MISUSE(READ_ONCE(s->owner) != current, GOSYNC_STAT_SEQ_MISUSE,
			  "write_sequnlock by a task outside its write section\n")) {
		__release(s);	/* for sparse: nothing was held */
		return;
	}
	/* Data before the even count: pairs with the reader's begin smp_rmb(). */
	smp_wmb();
	WRITE_ONCE(s->sequence, s->sequence + 1);
	kcsan_nestable_atomic_end();
	gosync_seq_lockdep(s, seqcount_release, _RET_IP_);
	WRITE_ONCE(s->owner, NULL);
	local_irq_restore(s->irq_flags);
	gosync_mutex_unlock(&s->writer);
}
EXPORT_SYMBOL_GPL(gosync_write_sequnlock);
