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
#include <linux/irqflags.h>
#include <linux/kcsan-checks.h>
#include <linux/lockdep.h>
#include <linux/seqlock.h>	/* KCSAN_SEQLOCK_REGION_MAX */
#include <linux/string.h>
#include <linux/types.h>

#include <gosync/mutex.h>

/**
 * struct gosync_seqlock - a sequence counter with serialised writers
 * @sequence: even when idle, odd inside a write section
 * @writer: the writers' mutex; the task that holds it is the one inside
 *          the write section (its owner field says which)
 * @dep_map: lockdep's view of the sequence count, which readers take
 *           shared; a zero @dep_map (no name) means not tracked
 *
 * All fields are private to gosync.
 */
struct gosync_seqlock {
	unsigned int sequence;
	struct gosync_mutex writer;
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	struct lockdep_map dep_map;
#endif
};

#ifdef CONFIG_DEBUG_LOCK_ALLOC
#define __GOSYNC_SEQ_DEP_MAP_INIT(site)	.dep_map = { .name = site },
#else
#define __GOSYNC_SEQ_DEP_MAP_INIT(site)	.sequence = 0 * sizeof(site),
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
void gosync_write_sequnlock(struct gosync_seqlock *s) __releases(s);

/* Slow paths of the inline readers below, in gosync.ko. */
unsigned int __gosync_read_seqwait(const struct gosync_seqlock *s);
void __gosync_read_seqretried(const struct gosync_seqlock *s);

/*
 * Tell lockdep about a reader before it looks at the count, as
 * seqcount_lockdep_reader_access() does: a reader that could spin forever
 * on a writer (its own task's, or one that waits for a lock the reader
 * holds) is then reported before it spins.  Only in lockdep kernels, and
 * only for named seqlocks: a zero dep_map has no name.
 */
static __always_inline void
__gosync_seq_reader_access(const struct gosync_seqlock *s, unsigned long ip)
{
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	struct lockdep_map *map = (struct lockdep_map *)&s->dep_map;
	unsigned long flags;

	if (!map->name)
		return;
	local_irq_save(flags);
	seqcount_acquire_read(map, 0, 0, ip);
	seqcount_release(map, ip);
	local_irq_restore(flags);
#endif
}

/*
 * The sequence to read under, waited out of a write section if need be,
 * and ordered before the reads it guards.  No KCSAN annotation: callers
 * say which of their accesses race with writers.
 */
static __always_inline unsigned int
__gosync_read_seqbegin_raw(const struct gosync_seqlock *s)
{
	unsigned int seq;

	__gosync_seq_reader_access(s, _RET_IP_);
	seq = READ_ONCE(s->sequence);
	if (unlikely(seq & 1))
		seq = __gosync_read_seqwait(s);
	/* Pairs with the writer's second smp_wmb(): count before data. */
	smp_rmb();
	return seq;
}

/* Whether a write overlapped the reads since @seq was read. */
static __always_inline bool
__gosync_read_seqretry_raw(const struct gosync_seqlock *s, unsigned int seq)
{
	/* Pairs with the writer's first smp_wmb(): data before count. */
	smp_rmb();
	if (likely(READ_ONCE(s->sequence) == seq))
		return false;
	__gosync_read_seqretried(s);
	return true;
}

/**
 * gosync_read_seqbegin() - start a read section
 * @s: the seqlock
 *
 * Inline: one load and a read barrier while no writer is inside its
 * section; a writer inside is waited out in gosync.ko (it runs with
 * interrupts off on another CPU, so the wait is short).  The reads up to
 * gosync_read_seqretry() race with writers by design: KCSAN is told so,
 * as for the kernel's seqcount readers.
 *
 * Context: any context but NMI, and not inside the caller's own write
 * section.
 * Return: the sequence to pass to gosync_read_seqretry().
 */
static __always_inline unsigned int
gosync_read_seqbegin(const struct gosync_seqlock *s)
{
	unsigned int seq = __gosync_read_seqbegin_raw(s);

	kcsan_atomic_next(KCSAN_SEQLOCK_REGION_MAX);
	return seq;
}

/**
 * gosync_read_seqretry() - end a read section
 * @s: the seqlock
 * @seq: what gosync_read_seqbegin() returned
 *
 * Inline: a read barrier and one load; only a retry calls into gosync.ko
 * (to count it).
 *
 * Context: any context but NMI.
 * Return: true if a write overlapped the section: discard what was read
 * and start again.
 */
static __always_inline bool
gosync_read_seqretry(const struct gosync_seqlock *s, unsigned int seq)
{
	kcsan_atomic_next(0);
	return __gosync_read_seqretry_raw(s, seq);
}

/**
 * gosync_write_seqlock() - enter the write section
 * @s: the seqlock
 *
 * Inline: the writers' mutex (an out-of-line call, which may sleep), then
 * interrupts off, the count made odd and one write barrier, as the kernel's
 * write_seqcount_begin() under its own lock.  Nothing is counted here: the
 * mutex counts its acquisition, gosync_write_sequnlock() the section.
 *
 * Context: process context with interrupts enabled; may sleep waiting for
 * another writer, then runs with interrupts disabled until
 * gosync_write_sequnlock(), which enables them again.
 */
static __always_inline void gosync_write_seqlock(struct gosync_seqlock *s)
	__acquires(s)
{
	/* The profile blames the caller: this call sits in its code. */
	gosync_mutex_lock(&s->writer);
	/*
	 * Interrupts are on here: the caller may sleep (the mutex said so to
	 * might_sleep()).  So there is no state to save, and the section
	 * costs a cli/sti pair, not a pushf/popf.
	 */
	lockdep_assert_irqs_enabled();
	local_irq_disable();
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	if (s->dep_map.name)
		seqcount_acquire(&s->dep_map, 0, 0, _THIS_IP_);
#endif
	kcsan_nestable_atomic_begin();
	WRITE_ONCE(s->sequence, s->sequence + 1);
	/* Odd count before any data: pairs with the reader's retry smp_rmb(). */
	smp_wmb();
}

/*
 * One try of gosync_seq_read(): a single copy straight into @dst.  Only
 * the reads of @src race with writers (the retry throws a torn copy away),
 * so only they are hidden from KCSAN; the write of @dst, the reader's own
 * memory, is still checked as one plain write.
 */
static __always_inline void __gosync_seq_copy(void *dst, const void *src,
					      size_t size)
{
	kcsan_disable_current();
	memcpy(dst, src, size);
	kcsan_enable_current();
	kcsan_check_write(dst, size);
}

/**
 * gosync_seq_read() - copy *@src into *@dst, consistently
 * @s: the seqlock guarding *@src
 * @dst: where the copy goes (private to the reader)
 * @src: the shared data
 *
 * Retries until a copy was made that no write overlapped.  Any context
 * but NMI.  Each try copies straight into *@dst, with no temporary on the
 * stack (a reader in a hard interrupt may copy a large struct).  *@src
 * must have the type of *@dst.
 */
#define gosync_seq_read(s, dst, src)					\
	do {								\
		const struct gosync_seqlock *__gosync_s = (s);		\
		__auto_type __gosync_dst = (dst);			\
		const typeof(*__gosync_dst) *__gosync_src = (src);	\
		unsigned int __gosync_seq;				\
									\
		do {							\
			__gosync_seq = __gosync_read_seqbegin_raw(__gosync_s); \
			__gosync_seq_copy(__gosync_dst, __gosync_src,	\
					  sizeof(*__gosync_dst));	\
		} while (__gosync_read_seqretry_raw(__gosync_s, __gosync_seq)); \
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
