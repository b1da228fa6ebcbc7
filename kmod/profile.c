// SPDX-License-Identifier: GPL-2.0
/*
 * gosync's contention profile: debugfs "locks" (one row per lock class)
 * and "wait_hist" (log2 histograms of sleeping waits).
 *
 * A lock class is the place a mutex (or the mutex inside a once or a
 * seqlock) was defined or initialised, named by GOSYNC_LOCK_SITE(); every
 * mutex that was neither shares the "(anonymous)" class.  A row is made on
 * a class's first acquisition and kept until gosync unloads: it copies its
 * name, and the holder sites it blames are symbolised when a module
 * unloads (those inside it) or when debugfs reads them, so it stays
 * readable after the module that made it is gone.
 *
 * Costs: with the "stats" parameter off, nothing (the callers test the
 * same static branch as every counter before they touch a row).  With it
 * on, an uncontended lock adds one per-CPU increment to its class; the
 * other counts are per CPU too, and a slept wait takes the class lock to
 * record its holder's raw address (no symbol lookup on the lock path).
 *
 * Like Go's mutex profile, the wait of a waiter is blamed on the holder it
 * waited for, by the call site where that holder locked the mutex: the
 * row's "top holder" is the site responsible for the most waiting.
 */

#include <linux/debugfs.h>
#include <linux/hash.h>
#include <linux/kallsyms.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/rculist.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/spinlock.h>
#include <linux/stringhash.h>

#include "gosync_internal.h"

/* Enough for "function+0x1a2/0x3f0 [module]". */
/* A runaway client must not make gosync eat memory: later classes share. */
#define GOSYNC_MAX_CLASSES	4096
#define GOSYNC_CLASS_HASH_BITS	8

static DEFINE_SPINLOCK(gosync_classes_lock);	/* guards additions */
static struct hlist_head gosync_classes[1 << GOSYNC_CLASS_HASH_BITS];
static unsigned int gosync_nr_classes;
static DEFINE_PER_CPU(struct gosync_lock_counts, gosync_anonymous_counts);
static struct gosync_lock_class gosync_anonymous_class = {
	.lock = __SPIN_LOCK_UNLOCKED(gosync_anonymous_class.lock),
};

static const char gosync_anonymous_name[] = "(anonymous)";

/* Per-CPU log2 buckets: bucket b counts waits of [2^b, 2^(b+1)) ns. */
#define GOSYNC_HIST_BUCKETS 64
struct gosync_wait_hist {
	u64 count[GOSYNC_NR_WAIT_KINDS][GOSYNC_HIST_BUCKETS];
};

static DEFINE_PER_CPU(struct gosync_wait_hist, gosync_wait_hist);
static const char *const gosync_wait_kind_names[GOSYNC_NR_WAIT_KINDS] = {
	[GOSYNC_WAIT_MUTEX] = "mutex",
	[GOSYNC_WAIT_WG] = "waitgroup",
	[GOSYNC_WAIT_ONCE] = "once",
};

const char *gosync_lock_class_name(const struct gosync_lock_class *class)
{
	return class == &gosync_anonymous_class ? gosync_anonymous_name : class->name;
}

static struct gosync_lock_class *gosync_lock_class_find(const char *name,
							unsigned int bucket)
{
	struct gosync_lock_class *class;

	hlist_for_each_entry_rcu(class, &gosync_classes[bucket], node,
				 lockdep_is_held(&gosync_classes_lock))
		if (!strcmp(class->name, name))
			return class;
	return NULL;
}

/* Point every CPU's counts of @class back to it. */
static void gosync_lock_counts_own(struct gosync_lock_class *class)
{
	int cpu;

	for_each_possible_cpu(cpu)
		per_cpu_ptr(class->counts, cpu)->class = class;
}

/**
 * gosync_lock_class_get() - the row of a lock class, made on first use
 * @name: GOSYNC_LOCK_SITE() string; NULL for the anonymous class
 *
 * Finding a row takes no lock.  Making one allocates with GFP_ATOMIC and
 * takes a spinlock_t, both of which sleep on PREEMPT_RT: there a row is
 * made only in a preemptible context, and elsewhere (a raw spinlock held,
 * preemption or interrupts disabled, a hard interrupt) a class that has no
 * row yet gets none from this call.  Kernels with
 * CONFIG_PROVE_RAW_LOCK_NESTING follow the RT rule too: there lockdep checks
 * RT's wait contexts, and a spinlock_t taken under a raw spinlock is
 * reported even though it does not sleep there.
 *
 * Context: any context.
 * Return: the row; the anonymous row when @name is NULL or no row could be
 * made; NULL only on PREEMPT_RT (or CONFIG_PROVE_RAW_LOCK_NESTING) outside
 * a preemptible context when the row does not exist yet (try again from a
 * context that may allocate).
 */
struct gosync_lock_class *gosync_lock_class_get(const char *name)
{
	struct gosync_lock_class *class, *made;
	unsigned int bucket;
	unsigned long flags;
	size_t len;

	if (!name)
		return &gosync_anonymous_class;
	bucket = hash_32(full_name_hash(NULL, name, strlen(name)),
			 GOSYNC_CLASS_HASH_BITS);
	rcu_read_lock();
	class = gosync_lock_class_find(name, bucket);
	rcu_read_unlock();
	if (class)
		return class;
	if ((IS_ENABLED(CONFIG_PREEMPT_RT) ||
	     IS_ENABLED(CONFIG_PROVE_RAW_LOCK_NESTING)) && !preemptible())
		return NULL;

	len = strlen(name) + 1;
	made = kzalloc(struct_size(made, name, len), GFP_ATOMIC | __GFP_NOWARN);
	if (!made)
		return &gosync_anonymous_class;
	made->counts = alloc_percpu_gfp(struct gosync_lock_counts,
					GFP_ATOMIC | __GFP_NOWARN);
	if (!made->counts) {
		kfree(made);
		return &gosync_anonymous_class;
	}
	gosync_lock_counts_own(made);
	spin_lock_init(&made->lock);
	memcpy(made->name, name, len);

	spin_lock_irqsave(&gosync_classes_lock, flags);
	class = gosync_lock_class_find(name, bucket);
	if (!class && gosync_nr_classes < GOSYNC_MAX_CLASSES) {
		hlist_add_head_rcu(&made->node, &gosync_classes[bucket]);
		gosync_nr_classes++;
		class = made;
		made = NULL;
	}
	spin_unlock_irqrestore(&gosync_classes_lock, flags);
	if (made) {
		free_percpu(made->counts);
		kfree(made);
	}
	return class ?: &gosync_anonymous_class;
}
EXPORT_SYMBOL_GPL(gosync_lock_class_get);

/*
 * A waiter of @class slept @wait_ns for a holder that locked at @holder_ip.
 * The holder table keeps the sites with the most wait: a new site replaces
 * the one with the least, inheriting its count (the "space-saving" rule),
 * so a heavy site is never pushed out by many light ones.
 */
void gosync_lock_class_waited(struct gosync_lock_class *class,
			      u64 wait_ns, unsigned long holder_ip)
{
	struct gosync_holder *holder, *least;
	unsigned long flags;
	unsigned int i;

	this_cpu_add(class->counts->wait_total_ns, wait_ns);
	spin_lock_irqsave(&class->lock, flags);
	class->wait_max_ns = max(class->wait_max_ns, wait_ns);
	least = &class->holders[0];
	for (i = 0; i < GOSYNC_CLASS_HOLDERS; i++) {
		holder = &class->holders[i];
		if (holder->ip == holder_ip && holder->wait_ns) {
			holder->wait_ns += wait_ns;
			goto out;
		}
		if (holder->wait_ns < least->wait_ns)
			least = holder;
	}
	least->ip = holder_ip;
	least->wait_ns += wait_ns;
	least->site[0] = '\0';
out:
	spin_unlock_irqrestore(&class->lock, flags);
}
EXPORT_SYMBOL_IF_GOSYNC_TESTING(gosync_lock_class_waited);

/**
 * gosync_wait_hist_add() - count one sleeping wait in the histogram
 * @kind: which primitive waited
 * @wait_ns: how long
 */
void gosync_wait_hist_add(enum gosync_wait_kind kind, u64 wait_ns)
{
	if (static_branch_likely(&gosync_stats_enabled))
		this_cpu_inc(gosync_wait_hist.count[kind][wait_ns ? ilog2(wait_ns) : 0]);
}

/*
 * The name of a holder site.  %pS falls back to the raw address ("0x...",
 * which no symbol name can start with) when no symbol covers it: a kernel
 * address must not reach debugfs, so such a site is "(unknown)".
 */
static void gosync_holder_symbolise(char *site, unsigned long ip)
{
	if (ip)
		snprintf(site, GOSYNC_SITE_LEN, "%pS", (void *)ip);
	if (!ip || str_has_prefix(site, "0x"))
		strscpy(site, "(unknown)", GOSYNC_SITE_LEN);
}

static void gosync_lock_row_read(const struct gosync_lock_class *class,
				 struct gosync_lock_row *row)
{
	const struct gosync_holder *top = NULL;
	const struct gosync_lock_counts *counts;
	unsigned long flags, top_ip = 0;
	unsigned int i;
	int cpu;

	memset(row, 0, sizeof(*row));
	row->class = class;
	row->name = gosync_lock_class_name(class);
	for_each_possible_cpu(cpu) {
		counts = per_cpu_ptr(class->counts, cpu);
		row->acquired += READ_ONCE(counts->acquired);
		row->contended += READ_ONCE(counts->contended);
		row->wait_total_ns += READ_ONCE(counts->wait_total_ns);
		row->starvation_entered += READ_ONCE(counts->starvation_entered);
		row->handoffs += READ_ONCE(counts->handoffs);
	}
	spin_lock_irqsave((spinlock_t *)&class->lock, flags);
	row->wait_max_ns = class->wait_max_ns;
	for (i = 0; i < GOSYNC_CLASS_HOLDERS; i++)
		if (class->holders[i].wait_ns &&
		    (!top || class->holders[i].wait_ns > top->wait_ns))
			top = &class->holders[i];
	if (top) {
		top_ip = top->ip;
		strscpy(row->top_holder, top->site, sizeof(row->top_holder));
	} else {
		strscpy(row->top_holder, "-", sizeof(row->top_holder));
	}
	spin_unlock_irqrestore((spinlock_t *)&class->lock, flags);
	/* Not pinned yet: its code is still loaded (or it never resolves). */
	if (!row->top_holder[0])
		gosync_holder_symbolise(row->top_holder, top_ip);
}

/*
 * Walk every row, the anonymous one first, under rcu_read_lock(); stop
 * when @fn returns false.
 */
static void gosync_lock_class_for_each(bool (*fn)(struct gosync_lock_class *class,
						  void *arg),
				       void *arg)
{
	struct gosync_lock_class *class;
	unsigned int i;

	if (!fn(&gosync_anonymous_class, arg))
		return;
	rcu_read_lock();
	for (i = 0; i < ARRAY_SIZE(gosync_classes); i++)
		hlist_for_each_entry_rcu(class, &gosync_classes[i], node)
			if (!fn(class, arg))
				goto out;
out:
	rcu_read_unlock();
}

/*
 * A module is going: its code addresses may soon belong to another one,
 * so the holder sites inside it are symbolised now and kept as text.  A
 * wait that ends after this, blamed on a holder site inside the module
 * (read when the wait began), stays raw: it shows as "(unknown)", or as
 * whatever code was loaded at that address since.
 */
static bool gosync_lock_class_pin_sites(struct gosync_lock_class *class,
					void *arg)
{
	struct module *mod = arg;
	struct gosync_holder *holder;
	unsigned long flags;
	unsigned int i;

	spin_lock_irqsave(&class->lock, flags);
	for (i = 0; i < GOSYNC_CLASS_HOLDERS; i++) {
		holder = &class->holders[i];
		if (holder->wait_ns && !holder->site[0] &&
		    within_module(holder->ip, mod))
			gosync_holder_symbolise(holder->site, holder->ip);
	}
	spin_unlock_irqrestore(&class->lock, flags);
	return true;
}

static int gosync_profile_module_notify(struct notifier_block *nb,
					unsigned long action, void *data)
{
	if (action == MODULE_STATE_GOING)
		gosync_lock_class_for_each(gosync_lock_class_pin_sites, data);
	return NOTIFY_DONE;
}

static struct notifier_block gosync_profile_module_nb = {
	.notifier_call = gosync_profile_module_notify,
};

struct gosync_profile_walk {
	bool (*fn)(const struct gosync_lock_row *row, void *arg);
	void *arg;
	struct gosync_lock_row row;
};

static bool gosync_profile_walk_one(struct gosync_lock_class *class, void *arg)
{
	struct gosync_profile_walk *walk = arg;

	gosync_lock_row_read(class, &walk->row);
	return walk->fn(&walk->row, walk->arg);
}

/**
 * gosync_lock_profile_walk() - call @fn with every row of the profile
 * @fn: returns false to stop; called under rcu_read_lock(), must not sleep
 * @arg: passed to @fn
 *
 * For the KUnit suite; debugfs "locks" shows the same rows.
 */
void gosync_lock_profile_walk(bool (*fn)(const struct gosync_lock_row *row,
					 void *arg),
			      void *arg)
{
	struct gosync_profile_walk walk = { .fn = fn, .arg = arg };

	gosync_lock_class_for_each(gosync_profile_walk_one, &walk);
}
EXPORT_SYMBOL_GPL(gosync_lock_profile_walk);

static bool gosync_lock_class_add_acquired(struct gosync_lock_class *class,
					   void *arg)
{
	const struct gosync_lock_counts *counts;
	u64 *sum = arg;
	int cpu;

	for_each_possible_cpu(cpu) {
		counts = per_cpu_ptr(class->counts, cpu);
		*sum += READ_ONCE(counts->acquired);
	}
	return true;
}

/**
 * gosync_lock_profile_acquired() - acquisitions counted in the rows
 *
 * The mutex lock paths count an acquisition in its class row only; the
 * "mutex.acquired" counter adds this sum to its own count when it is read.
 *
 * Return: the sum of every row's acquired count over all CPUs.
 */
u64 gosync_lock_profile_acquired(void)
{
	u64 sum = 0;

	gosync_lock_class_for_each(gosync_lock_class_add_acquired, &sum);
	return sum;
}

/**
 * gosync_wait_hist_total() - how many waits of @kind the histogram holds
 * @kind: the primitive
 *
 * Return: the sum over all buckets and CPUs.
 */
u64 gosync_wait_hist_total(enum gosync_wait_kind kind)
{
	unsigned int bucket;
	u64 total = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		for (bucket = 0; bucket < GOSYNC_HIST_BUCKETS; bucket++)
			total += per_cpu(gosync_wait_hist, cpu).count[kind][bucket];
	return total;
}
EXPORT_SYMBOL_GPL(gosync_wait_hist_total);

static int gosync_lock_row_cmp(const void *a, const void *b)
{
	const struct gosync_lock_row *x = a, *y = b;

	if (x->wait_total_ns != y->wait_total_ns)
		return x->wait_total_ns < y->wait_total_ns ? 1 : -1;
	if (x->acquired != y->acquired)
		return x->acquired < y->acquired ? 1 : -1;
	return strcmp(x->name, y->name);
}

struct gosync_locks_snapshot {
	struct gosync_lock_row *rows;
	unsigned int nr, capacity;
};

static bool gosync_locks_snap_one(struct gosync_lock_class *class, void *arg)
{
	struct gosync_locks_snapshot *snap = arg;

	if (snap->nr == snap->capacity)
		return false;
	gosync_lock_row_read(class, &snap->rows[snap->nr++]);
	return true;
}

static int gosync_locks_show(struct seq_file *file, void *unused)
{
	struct gosync_locks_snapshot snap = {};
	struct gosync_lock_row *rows;
	unsigned int nr, i;

	/* Rows are only ever added: a snapshot of up to the count seen now. */
	snap.capacity = READ_ONCE(gosync_nr_classes) + 1;
	rows = kvcalloc(snap.capacity, sizeof(*rows), GFP_KERNEL);
	if (!rows)
		return -ENOMEM;
	snap.rows = rows;
	gosync_lock_class_for_each(gosync_locks_snap_one, &snap);
	nr = snap.nr;
	sort(rows, nr, sizeof(*rows), gosync_lock_row_cmp, NULL);

	seq_printf(file, "%-48s %12s %10s %15s %13s %8s %8s  %s\n", "# class",
		   "acquired", "contended", "wait_total_ns", "wait_max_ns",
		   "starved", "handoffs", "top_holder");
	for (i = 0; i < nr; i++) {
		seq_printf(file, "%-48s %12llu %10llu %15llu %13llu %8llu %8llu  %s\n",
			   rows[i].name, rows[i].acquired,
			   rows[i].contended, rows[i].wait_total_ns,
			   rows[i].wait_max_ns, rows[i].starvation_entered,
			   rows[i].handoffs, rows[i].top_holder);
	}
	kvfree(rows);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(gosync_locks);

static int gosync_wait_hist_show(struct seq_file *file, void *unused)
{
	unsigned int kind, bucket;
	u64 count;
	int cpu;

	seq_puts(file, "# kind       from_ns          to_ns        count\n");
	for (kind = 0; kind < GOSYNC_NR_WAIT_KINDS; kind++) {
		for (bucket = 0; bucket < GOSYNC_HIST_BUCKETS; bucket++) {
			count = 0;
			for_each_possible_cpu(cpu)
				count += per_cpu(gosync_wait_hist, cpu).count[kind][bucket];
			if (!count)
				continue;
			seq_printf(file, "%-9s %10llu %14llu %12llu\n",
				   gosync_wait_kind_names[kind],
				   bucket ? 1ULL << bucket : 0,
				   bucket < 63 ? (1ULL << (bucket + 1)) - 1 : U64_MAX,
				   count);
		}
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(gosync_wait_hist);

static bool gosync_lock_class_reset(struct gosync_lock_class *class,
				    void *unused)
{
	unsigned long flags;
	int cpu;

	for_each_possible_cpu(cpu)
		memset(per_cpu_ptr(class->counts, cpu), 0,
		       offsetof(struct gosync_lock_counts, class));
	spin_lock_irqsave(&class->lock, flags);
	class->wait_max_ns = 0;
	memset(class->holders, 0, sizeof(class->holders));
	spin_unlock_irqrestore(&class->lock, flags);
	return true;
}

/* Zero every row and histogram; rows themselves stay. */
void gosync_profile_reset(void)
{
	int cpu;

	gosync_lock_class_for_each(gosync_lock_class_reset, NULL);
	for_each_possible_cpu(cpu)
		memset(per_cpu_ptr(&gosync_wait_hist, cpu), 0,
		       sizeof(struct gosync_wait_hist));
}

void gosync_profile_init(struct dentry *dir)
{
	gosync_anonymous_class.counts = &gosync_anonymous_counts;
	gosync_lock_counts_own(&gosync_anonymous_class);
	/* Cannot fail: the notifier chain is a plain list. */
	register_module_notifier(&gosync_profile_module_nb);
	debugfs_create_file("locks", 0400, dir, NULL, &gosync_locks_fops);
	debugfs_create_file("wait_hist", 0400, dir, NULL, &gosync_wait_hist_fops);
}

/* At unload, after debugfs is gone and no client remains. */
void gosync_profile_exit(void)
{
	struct gosync_lock_class *class;
	struct hlist_node *next;
	unsigned int i;

	unregister_module_notifier(&gosync_profile_module_nb);
	for (i = 0; i < ARRAY_SIZE(gosync_classes); i++)
		hlist_for_each_entry_safe(class, next, &gosync_classes[i], node) {
			hlist_del(&class->node);
			free_percpu(class->counts);
			kfree(class);
		}
}
