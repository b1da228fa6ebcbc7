/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gosync seqlock: a sequence lock whose writers serialise on a gosync mutex
 * and whose readers never block, never sleep and never stall a writer,
 * in the spirit of Go's proposed Seqlock[T].
 *
 * Readers run in any context.  They retry when a write overlapped them:
 *
 *	do {
 *		seq = gosync_read_seqbegin(&s);
 *		copy = shared;
 *	} while (gosync_read_seqretry(&s, seq));
 *
 * or, for a whole struct, gosync_seq_read(&s, &copy, &shared).  Writers may
 * sleep before they enter the write section (waiting for the writer
 * mutex), never inside it: the section runs with interrupts disabled, so a
 * reader on the same CPU (a preempting task, an interrupt) can never spin
 * on a writer that cannot run.
 *
 * Not in NMI context: an NMI can interrupt a write section on its own CPU,
 * and a reader there would spin forever on a writer that cannot go on.
 * (The kernel's latch sequence counters are the tool for NMI readers.)
 * Nor may a task read inside its own write section.  Lockdep sees readers
 * as the kernel's seqcount readers, and reports both mistakes, and a
 * reader in an interrupt that inverts with a lock the writer takes.
 */
#ifndef _GOSYNC_SEQLOCK_H
#define _GOSYNC_SEQLOCK_H

#include <linux/compiler.h>
#include <linux/kcsan-checks.h>
#include <linux/lockdep.h>
#include <linux/string.h>
#include <linux/types.h>

#include <gosync/mutex.h>

/**
 * struct gosync_seqlock - a sequence counter with serialised writers
 * @sequence: even when idle, odd inside a write section
 * @irq_flags: interrupt state saved by the writer inside the section
 * @owner: the task inside the write section, NULL outside
 * @writer: the writers' mutex
 * @dep_map: lockdep's view of the sequence count, which readers take
 *           shared; a zero @dep_map (no name) means not tracked
 *
 * All fields are private to gosync.
 */
struct gosync_seqlock {
	unsigned int sequence;
	unsigned long irq_flags;
	struct task_struct *owner;
	struct gosync_mutex writer;
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	struct lockdep_map dep_map;
#endif
};

#ifdef CONFIG_DEBUG_LOCK_ALLOC
#define __GOSYNC_SEQ_DEP_MAP_INIT(site)	.dep_map = { .name = site },
#else
#define __GOSYNC_SEQ_DEP_MAP_INIT(site)	.owner = 0 ? (void *)(site) : NULL,
#endif

#define DEFINE_GOSYNC_SEQLOCK(seqname)					\
	struct gosync_seqlock seqname = {				\
		.writer =						\
			__GOSYNC_MUTEX_INITIALIZER(GOSYNC_LOCK_SITE(#seqname), \
					   GOSYNC_LOCK_SITE(#seqname)), \
		__GOSYNC_SEQ_DEP_MAP_INIT(GOSYNC_LOCK_SITE(#seqname))	\
	}

/**
 * gosync_seqlock_init() - initialise a seqlock to idle, with lockdep classes
 * @s: the seqlock; must not be in use
 *
 * Two classes per call site: the writers' mutex, and the sequence count.
 */
#define gosync_seqlock_init(s)						\
	do {								\
		static struct lock_class_key __gosync_key;		\
		static struct lock_class_key __gosync_seq_key;		\
									\
		__gosync_seqlock_init((s), GOSYNC_LOCK_SITE(#s),	\
				      &__gosync_key, &__gosync_seq_key); \
	} while (0)

void __gosync_seqlock_init(struct gosync_seqlock *s, const char *name,
			   struct lock_class_key *key,
			   struct lock_class_key *seq_key);
unsigned int gosync_read_seqbegin(const struct gosync_seqlock *s);
bool gosync_read_seqretry(const struct gosync_seqlock *s, unsigned int seq);
void gosync_write_seqlock(struct gosync_seqlock *s) __acquires(s);
void gosync_write_sequnlock(struct gosync_seqlock *s) __releases(s);

/**
 * gosync_seq_read() - copy *@src into *@dst, consistently
 * @s: the seqlock guarding *@src
 * @dst: where the copy goes (private to the reader)
 * @src: the shared data
 *
 * Retries until a copy was made that no write overlapped.  Any context
 * but NMI.  Each try copies straight into *@dst, with no temporary on the
 * stack (a reader in a hard interrupt may copy a large struct).  The copy
 * races with writers by design: KCSAN is told so.  *@src must have the
 * type of *@dst.
 */
#define gosync_seq_read(s, dst, src)					\
	do {								\
		const struct gosync_seqlock *__gosync_s = (s);		\
		__auto_type __gosync_dst = (dst);			\
		const typeof(*__gosync_dst) *__gosync_src = (src);	\
		unsigned int __gosync_seq;				\
									\
		do {							\
			__gosync_seq = gosync_read_seqbegin(__gosync_s); \
			/* Racy by design: retried if a write overlapped. */ \
			kcsan_disable_current();			\
			memcpy(__gosync_dst, __gosync_src,		\
			       sizeof(*__gosync_dst));			\
			kcsan_enable_current();				\
		} while (gosync_read_seqretry(__gosync_s, __gosync_seq)); \
	} while (0)

/**
 * gosync_seq_write() - copy *@src into the shared *@dst as one write
 * @s: the seqlock guarding *@dst
 * @dst: the shared data
 * @src: the new value
 *
 * Context: process context; may sleep before entering the section.
 */
#define gosync_seq_write(s, dst, src)					\
	do {								\
		struct gosync_seqlock *__gosync_s = (s);		\
									\
		gosync_write_seqlock(__gosync_s);			\
		*(dst) = *(src);					\
		gosync_write_sequnlock(__gosync_s);			\
	} while (0)

#endif /* _GOSYNC_SEQLOCK_H */
