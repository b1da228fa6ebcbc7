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

#include <gosync/seqlock.h>
#include "gosync_internal.h"

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
	__gosync_mutex_init(&s->writer, name, key);
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	lockdep_init_map(&s->dep_map, name, seq_key, 0);
#endif
}
EXPORT_SYMBOL_GPL(__gosync_seqlock_init);

/**
 * __gosync_read_seqwait() - wait out a writer; the slow path of readers
 * @s: the seqlock, whose count a reader found odd
 *
 * Spins until the count is even again: the writer runs with interrupts
 * off on another CPU, so the wait is short.  Counts the read as one that
 * waited ("seq.read"); the inline fast path counts nothing.
 *
 * Context: any context but NMI, and not inside the caller's own write
 * section.
 * Return: the even count.
 */
unsigned int __gosync_read_seqwait(const struct gosync_seqlock *s)
{
	unsigned int seq;

	gosync_stat_inc(GOSYNC_STAT_SEQ_READ);
	while ((seq = READ_ONCE(s->sequence)) & 1)
		cpu_relax();
	return seq;
}
EXPORT_SYMBOL_GPL(__gosync_read_seqwait);

/**
 * __gosync_read_seqretried() - count a retry; the slow path of readers
 * @s: the seqlock whose read section a write overlapped
 *
 * Context: any context.
 */
void __gosync_read_seqretried(const struct gosync_seqlock *s)
{
	gosync_stat_inc(GOSYNC_STAT_SEQ_RETRY);
}
EXPORT_SYMBOL_GPL(__gosync_read_seqretried);

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
	 * The writers' mutex publishes its holder in owner before its lock
	 * call returns and clears it before it releases; only the holder
	 * writes its own pointer there.  But it does so with interrupts on:
	 * a hard or soft interrupt that hits the holder between its lock and
	 * the section's cli, or between the sti and its unlock, runs with
	 * current == owner outside any section.  A task calling here, on the
	 * other hand, is inside its section exactly when it owns the mutex.
	 */
	if (GOSYNC_MISUSE(!in_task() || READ_ONCE(s->writer.owner) != current,
			  GOSYNC_STAT_SEQ_MISUSE,
			  "write_sequnlock by a task outside its write section\n")) {
		__release(s);	/* for sparse: nothing was held */
		return;
	}
	/* Data before the even count: pairs with the reader's begin smp_rmb(). */
	smp_wmb();
	WRITE_ONCE(s->sequence, s->sequence + 1);
	kcsan_nestable_atomic_end();
	gosync_lockdep(s, seqcount_release, _RET_IP_);
	gosync_stat_inc(GOSYNC_STAT_SEQ_WRITE);
	local_irq_enable();
	gosync_mutex_unlock(&s->writer);
}
EXPORT_SYMBOL_GPL(gosync_write_sequnlock);
