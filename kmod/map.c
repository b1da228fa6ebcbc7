// SPDX-License-Identifier: GPL-2.0
/*
 * gosync map: Go 1.24's concurrent hash-trie (internal/sync/hashtriemap.go)
 * with RCU in place of the garbage collector.
 *
 * The trie: every node has 16 children, indexed by the next 4 bits of the
 * key's 64-bit keyed hash (most significant first), so the trie is at most
 * 16 levels deep.  A child slot holds NULL, another node, or an entry (tagged
 * with bit 0).  Entries whose full hashes are equal share one slot on an
 * overflow chain, so correctness never depends on the hash.  Entries are
 * immutable once published: a new value means a new entry put in place of
 * the old one.  Nothing ever resizes or rehashes the whole map.
 *
 * RCU reader rules: readers (load, range) walk from the root with
 * rcu_dereference() inside rcu_read_lock(), or load with preemption off,
 * which RCU waits for alike, and write nothing shared.  A
 * reader may find a node that has just been pruned (it is empty, marked
 * dead, and still valid memory) or an entry that has just been replaced or
 * deleted (still valid memory, with its old value): both are answers that
 * were true a moment ago.  Nodes and entries are freed only after a grace
 * period, and free_value runs only then, so a value loaded under
 * rcu_read_lock() stays valid until rcu_read_unlock().
 *
 * Writers first look, lock-free like a reader: an operation whose answer
 * is already known (load_or_store of a present key, a delete of an absent
 * one, a compare that fails, a store of the value already there) returns
 * without a lock or an allocation.  Otherwise a writer finds the node whose
 * slot it must change, locks that node, checks that it is still live and
 * the slot still holds what it saw, and publishes with rcu_assign_pointer().
 * Memory is allocated with no lock held, and only when the locked node
 * shows that the operation needs it, so a failed allocation changes nothing.
 *
 * Lock order: a node, then its parent (Go's order).  A node emptied by a
 * delete is marked dead and unhooked from its parent while both locks are
 * held, with interrupts off throughout, so no writer can find a dead node
 * still hooked into the trie and spin on it: one that locks a node after
 * it died finds the parent's slot already changed when it walks again.
 * Writers lock only the node they change and, when pruning, its ancestors
 * in turn, never a child while holding a parent: there is no cycle.
 */

#include <linux/export.h>
#include <linux/lockdep.h>
#include <linux/random.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/siphash.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include <gosync/map.h>
#include "gosync_internal.h"

#define GOSYNC_MAP_FANOUT_BITS	4
#define GOSYNC_MAP_FANOUT	BIT(GOSYNC_MAP_FANOUT_BITS)
#define GOSYNC_MAP_ENTRY_TAG	1UL
/* Trie depth is bounded by the hash: 64 bits, 4 at a time. */
#define GOSYNC_MAP_MAX_DEPTH	(64 / GOSYNC_MAP_FANOUT_BITS)
/*
 * A node at depth d indexes its children with hash bits (hash >> shift) &
 * 15, shift = GOSYNC_MAP_ROOT_SHIFT - 4 * d: walks compute it as they go
 * down instead of loading it from each node.
 */
#define GOSYNC_MAP_ROOT_SHIFT	(64 - GOSYNC_MAP_FANOUT_BITS)

static unsigned int gosync_map_index(u64 hash, unsigned int shift)
{
	return (hash >> shift) & (GOSYNC_MAP_FANOUT - 1);
}

struct gosync_map_node {
	/*
	 * Serialises changes of @children and @dead; readers never take it.
	 * Raw: writers of a GFP_ATOMIC map may run in hard interrupts or with
	 * interrupts off, where a PREEMPT_RT spinlock_t (which sleeps) may not
	 * be taken.  Under it nothing allocates, sleeps or calls free_value;
	 * what a write unhooks goes to call_rcu() after the unlock.
	 */
	raw_spinlock_t lock;
	/* Set, under @lock, once the node is empty and being unhooked. */
	bool dead;
	struct gosync_map_node *parent;
	void __rcu *children[GOSYNC_MAP_FANOUT];
	struct rcu_head rcu;
};

struct gosync_map_entry {
	u64 hash;
	/* Next entry with the same full hash; changed under the slot's node lock. */
	struct gosync_map_entry __rcu *overflow;
	/*
	 * Replaced in place (WRITE_ONCE, under the slot's node lock) when the
	 * map has no free_value, or when a writer that could get no memory
	 * frees the old value itself after a grace period; readers use
	 * READ_ONCE.
	 */
	void *value;
	void (*free_value)(void *value);
	struct rcu_head rcu;
	size_t len;
	u8 key[];
};

struct gosync_map_root {
	/* What every walk reads first; walks write nothing here. */
	siphash_key_t seed;
	struct gosync_map_node node;
	/*
	 * Frees the whole trie a grace period after gosync_map_clear().  It
	 * touches nothing but this root and what hangs from it: the map may
	 * be freed as soon as the clear returned.
	 */
	struct rcu_work teardown;
	/*
	 * Keys in this trie: a clear swaps in a new root, and len is 0 at
	 * once.  Every insert and delete writes it: a cache line of its own,
	 * so that writes do not take from readers the line of the seed and
	 * the top node's first children.
	 */
	atomic_long_t len ____cacheline_aligned_in_smp;
};

/*
 * Walks run inside rcu_read_lock() (writers, range) or with preemption
 * disabled (load, and load_or_store's first look): since RCU's flavours
 * were consolidated, a region with preemption disabled is a read-side
 * critical section that synchronize_rcu(), call_rcu() and kfree_rcu()
 * wait for, as they wait for rcu_read_lock(), on every preemption model.
 */
#define gosync_map_deref(p) \
	rcu_dereference_check(p, rcu_read_lock_sched_held())

static bool gosync_map_is_entry(const void *child)
{
	return (unsigned long)child & GOSYNC_MAP_ENTRY_TAG;
}

static struct gosync_map_entry *gosync_map_to_entry(void *child)
{
	return (void *)((unsigned long)child & ~GOSYNC_MAP_ENTRY_TAG);
}

static void *gosync_map_tag_entry(struct gosync_map_entry *entry)
{
	return (void *)((unsigned long)entry | GOSYNC_MAP_ENTRY_TAG);
}

static gfp_t gosync_map_gfp(const struct gosync_map *m)
{
	return m->params.gfp ? m->params.gfp : GFP_KERNEL;
}

/* Inline: every call checks it, and it is a compare and a branch. */
static __always_inline bool gosync_map_bad_key(const struct gosync_map *m,
					       const void *key, size_t len)
{
	return GOSYNC_MISUSE(!m || !key || !len || len > GOSYNC_MAP_KEY_MAX,
			     GOSYNC_STAT_MAP_MISUSE,
			     "map: NULL map or key, or key length %zu not in 1..%d\n",
			     len, GOSYNC_MAP_KEY_MAX);
}

static size_t gosync_map_entry_size(size_t len)
{
	return struct_size_t(struct gosync_map_entry, key, len);
}

static void gosync_map_node_init(struct gosync_map_node *node,
				 struct gosync_map_node *parent)
{
	raw_spin_lock_init(&node->lock);
	node->dead = false;
	node->parent = parent;
	memset(node->children, 0, sizeof(node->children));
}

static void gosync_map_entry_free(struct gosync_map_entry *entry)
{
	if (entry->free_value)
		entry->free_value(entry->value);
	gosync_stat_add(GOSYNC_STAT_MAP_BYTES, -(s64)gosync_map_entry_size(entry->len));
	kfree(entry);
}

static void gosync_map_entry_free_rcu(struct rcu_head *head)
{
	gosync_map_entry_free(container_of(head, struct gosync_map_entry, rcu));
}

/*
 * An entry left the map: readers may still hold it for a grace period.
 * Without a value to free, kfree_rcu() frees it in batches, with no
 * callback per entry; map.bytes stops counting it here then.
 */
static void gosync_map_entry_retire(struct gosync_map_entry *entry)
{
	if (entry->free_value) {
		call_rcu(&entry->rcu, gosync_map_entry_free_rcu);
		return;
	}
	gosync_stat_add(GOSYNC_STAT_MAP_BYTES, -(s64)gosync_map_entry_size(entry->len));
	kfree_rcu(entry, rcu);
}

/*
 * Trie nodes come from a cache of their own: exactly their size, where
 * kmalloc() would round them up to the next size class.
 */
static struct kmem_cache *gosync_map_node_cache;

static void gosync_map_free_node(struct gosync_map_node *node)
{
	kmem_cache_free(gosync_map_node_cache, node);
}

static void gosync_map_node_free_rcu(struct rcu_head *head)
{
	gosync_map_free_node(container_of(head, struct gosync_map_node, rcu));
}

static void gosync_map_node_retire(struct gosync_map_node *node)
{
	gosync_stat_add(GOSYNC_STAT_MAP_BYTES, -(s64)sizeof(*node));
	call_rcu(&node->rcu, gosync_map_node_free_rcu);
}

/*
 * All ones.  The KUnit suite narrows it to force full-hash collisions and
 * the deepest expansions; it must not change while any map holds a key.
 * A test-only knob: outside test builds it is static and never written, so
 * no module can switch keyed hashing off.
 */
GOSYNC_VISIBLE_IF_TESTING u64 gosync_map_hash_mask = U64_MAX;
EXPORT_SYMBOL_IF_GOSYNC_TESTING(gosync_map_hash_mask);

/*
 * The hash of a key of 4 or 8 bytes (a u32, a u64, a pointer: the usual
 * key), as one zero-extended word: SipHash-1-3 keyed with the map's seed,
 * one compression round for the word and one for the length, three to
 * finish.  SipHash-1-3 is the variant the kernel's hsiphash uses on 64-bit
 * for hash tables, and the one Rust's and Python's hash tables use: as a
 * keyed function its output cannot be steered without the seed, which is
 * all the trie needs (what crafted keys would aim at is a long shared
 * hash prefix, or a full collision).  Inline, it is five rounds of adds,
 * rotates and xors and no call, where siphash() of the same 8 bytes is
 * SipHash-2-4 (eight rounds) behind a call and a byte loop.
 */
static __always_inline u64 gosync_map_hash_word(u64 word, size_t len,
						const siphash_key_t *seed)
{
	u64 v0 = seed->key[0] ^ SIPHASH_CONST_0;
	u64 v1 = seed->key[1] ^ SIPHASH_CONST_1;
	u64 v2 = seed->key[0] ^ SIPHASH_CONST_2;
	u64 v3 = seed->key[1] ^ SIPHASH_CONST_3;
	u64 last = (u64)len << 56;

	v3 ^= word;
	SIPHASH_PERMUTATION(v0, v1, v2, v3);
	v0 ^= word;
	v3 ^= last;
	SIPHASH_PERMUTATION(v0, v1, v2, v3);
	v0 ^= last;
	v2 ^= 0xff;
	SIPHASH_PERMUTATION(v0, v1, v2, v3);
	SIPHASH_PERMUTATION(v0, v1, v2, v3);
	SIPHASH_PERMUTATION(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/* Any other length: siphash() (SipHash-2-4) of the bytes. */
static __always_inline u64 gosync_map_hash(const struct gosync_map_root *root,
					   const void *key, size_t len)
{
	u32 word32;
	u64 word, hash;

	/* Fixed-size copies: one load each, at any alignment. */
	if (len == sizeof(word)) {
		memcpy(&word, key, sizeof(word));
		hash = gosync_map_hash_word(word, len, &root->seed);
	} else if (len == sizeof(word32)) {
		memcpy(&word32, key, sizeof(word32));
		hash = gosync_map_hash_word(word32, len, &root->seed);
	} else {
		hash = siphash(key, len, &root->seed);
	}
	return hash & READ_ONCE(gosync_map_hash_mask);
}

/*
 * Allocations the map may still make before they fail; -1 is no limit.
 * Only the KUnit suite sets it, to fail exactly the n-th allocation of one
 * write and prove that a failure changes nothing.  failslab's per-task
 * fail_nth does the same in the real allocator (the suite uses it too), but
 * by default only for allocations that may not sleep; this budget also
 * fails GFP_KERNEL ones.  Test builds only.
 */
GOSYNC_VISIBLE_IF_TESTING atomic_t gosync_map_alloc_budget = ATOMIC_INIT(-1);
EXPORT_SYMBOL_IF_GOSYNC_TESTING(gosync_map_alloc_budget);

static bool gosync_map_out_of_budget(void)
{
	return unlikely(atomic_read(&gosync_map_alloc_budget) != -1) &&
	       atomic_dec_if_positive(&gosync_map_alloc_budget) < 0;
}

static void *gosync_map_alloc(struct gosync_map *m, size_t size)
{
	return gosync_map_out_of_budget() ? NULL : kmalloc(size, gosync_map_gfp(m));
}

static struct gosync_map_node *gosync_map_alloc_node(struct gosync_map *m)
{
	return gosync_map_out_of_budget() ? NULL :
	       kmem_cache_alloc(gosync_map_node_cache, gosync_map_gfp(m));
}

static void gosync_map_teardown_work(struct work_struct *work);

/*
 * Make the root of an empty map (a zero value, or one just cleared).
 * Racing makers agree through cmpxchg; the loser frees its copy.
 */
static int gosync_map_make_root(struct gosync_map *m)
{
	struct gosync_map_root *root;

	root = gosync_map_alloc(m, sizeof(*root));
	if (!root)
		return -ENOMEM;
	get_random_bytes(&root->seed, sizeof(root->seed));
	INIT_RCU_WORK(&root->teardown, gosync_map_teardown_work);
	atomic_long_set(&root->len, 0);
	gosync_map_node_init(&root->node, NULL);
	/* Full barrier: the initialised root before the pointer to it. */
	if (cmpxchg((struct gosync_map_root __force **)&m->root, NULL, root)) {
		kfree(root);
		return 0;
	}
	gosync_stat_add(GOSYNC_STAT_MAP_BYTES, sizeof(*root));
	return 0;
}

/*
 * The hash first: most entries on a chain walk differ there.  A word key
 * is compared as one word (entry->key is aligned: it follows a size_t).
 */
static __always_inline bool
gosync_map_entry_is(const struct gosync_map_entry *entry, u64 hash,
		    const void *key, size_t len)
{
	u64 word;

	if (entry->hash != hash || entry->len != len)
		return false;
	if (len == sizeof(word)) {
		memcpy(&word, key, sizeof(word));
		return *(const u64 *)entry->key == word;
	}
	return !memcmp(entry->key, key, len);
}

static __always_inline struct gosync_map_entry *
gosync_map_chain_find(void *child, u64 hash, const void *key, size_t len)
{
	struct gosync_map_entry *entry;

	if (!child || !gosync_map_is_entry(child))
		return NULL;
	for (entry = gosync_map_to_entry(child); entry;
	     entry = gosync_map_deref(entry->overflow))
		if (gosync_map_entry_is(entry, hash, key, len))
			return entry;
	return NULL;
}

/* Where a walk for a hash ended: a NULL or entry @child in @slot of @node. */
struct gosync_map_pos {
	struct gosync_map_node *node;
	void __rcu **slot;
	void *child;
	unsigned int shift;	/* of @node */
};

/*
 * The walk every reader and writer makes, from the root down the hash's
 * nibbles to the first slot that holds no node.  Inside rcu_read_lock() or
 * with preemption off (see gosync_map_load()).
 */
static __always_inline void gosync_map_descend(struct gosync_map_root *root,
					       u64 hash,
					       struct gosync_map_pos *pos)
{
	pos->node = &root->node;
	pos->shift = GOSYNC_MAP_ROOT_SHIFT;
	for (;;) {
		pos->slot = &pos->node->children[gosync_map_index(hash, pos->shift)];
		pos->child = gosync_map_deref(*pos->slot);
		if (!pos->child || gosync_map_is_entry(pos->child))
			return;
		gosync_delay_point(GOSYNC_DELAY_MAP_DESCEND_BEFORE_NODE);
		pos->node = pos->child;
		pos->shift -= GOSYNC_MAP_FANOUT_BITS;
	}
}

/* Nodes needed below a node of @shift for hashes @a and @b to part. */
static unsigned int gosync_map_nodes_to_part(u64 a, u64 b, unsigned int shift)
{
	unsigned int nodes = 0;

	do {
		shift -= GOSYNC_MAP_FANOUT_BITS;
		nodes++;
	} while (gosync_map_index(a, shift) == gosync_map_index(b, shift));
	return nodes;
}

/*
 * Nodes an insert of @hash needs where the walk ended (@pos): none in an
 * empty slot or on a chain of the same hash, else enough to part the two.
 */
static __always_inline unsigned int
gosync_map_nodes_for(const struct gosync_map_pos *pos, u64 hash)
{
	struct gosync_map_entry *head;

	if (!pos->child)
		return 0;
	head = gosync_map_to_entry(pos->child);
	return head->hash == hash ? 0 :
	       gosync_map_nodes_to_part(head->hash, hash, pos->shift);
}

/*
 * The lock-free lookup of load and of load_or_store's first look: the
 * key's entry, or NULL, and then, if @nodes is not NULL, the nodes an
 * insert would need there.  Inside rcu_read_lock() or with preemption off;
 * the entry stays valid until the caller leaves that section.
 */
static __always_inline struct gosync_map_entry *
gosync_map_find(struct gosync_map *m, const void *key, size_t len,
		unsigned int *nodes)
{
	struct gosync_map_root *root = gosync_map_deref(m->root);
	struct gosync_map_pos pos __uninitialized;
	struct gosync_map_entry *entry;
	u64 hash;

	if (!root)
		return NULL;
	hash = gosync_map_hash(root, key, len);
	gosync_map_descend(root, hash, &pos);
	entry = gosync_map_chain_find(pos.child, hash, key, len);
	if (!entry && nodes)
		*nodes = gosync_map_nodes_for(&pos, hash);
	return entry;
}

/**
 * gosync_map_load() - look a key up
 * @m: the map
 * @key: the key bytes
 * @len: their number, 1..GOSYNC_MAP_KEY_MAX
 * @value: where to store the value when found; may be NULL
 *
 * Context: any context; lock-free.
 * Return: true if the key is present.
 */
bool gosync_map_load(struct gosync_map *m, const void *key, size_t len,
		     void **value)
{
	struct gosync_map_entry *entry;

	if (gosync_map_bad_key(m, key, len))
		return false;
	gosync_stat_inc(GOSYNC_STAT_MAP_LOAD);
	/*
	 * Preemption off rather than rcu_read_lock(): the same grace-period
	 * guarantee (see gosync_map_deref()), with no out-of-line calls on a
	 * kernel with preemptible RCU.  The walk is short and bounded: at
	 * most GOSYNC_MAP_MAX_DEPTH nodes, then a chain of keys whose 64-bit
	 * hashes are all equal.
	 */
	preempt_disable();
	entry = gosync_map_find(m, key, len, NULL);
	if (entry) {
		gosync_stat_inc(GOSYNC_STAT_MAP_LOAD_HIT);
		if (value)
			*value = READ_ONCE(entry->value);
	}
	preempt_enable();
	return entry;
}
EXPORT_SYMBOL_GPL(gosync_map_load);

enum gosync_map_op {
	GOSYNC_MAP_LOAD_OR_STORE,
	GOSYNC_MAP_SWAP,
	GOSYNC_MAP_COMPARE_AND_SWAP,
	GOSYNC_MAP_LOAD_AND_DELETE,
	GOSYNC_MAP_COMPARE_AND_DELETE,
};

/* What a writer needs besides the lock: memory, allocated unlocked. */
struct gosync_map_update {
	enum gosync_map_op op;
	const void *key;
	size_t len;
	u64 hash;
	unsigned int shift;	/* of the node whose slot the write changes */
	struct gosync_map_root *root;
	void *value;		/* the new value */
	void *expected;		/* compare-and-* */
	void *found;		/* the value that was there */
	bool need_entry;	/* the look or the locked node needs a new entry */
	bool in_place;		/* no memory: replace the value in its entry */
	bool retired;		/* @found left the map in place: free it */
	void (*free_value)(void *value);	/* of the retired value */
	struct gosync_map_entry *new_entry;
	/*
	 * What the write unhooked, retired once the node locks are dropped:
	 * call_rcu() is valid under a raw lock, but on PREEMPT_RT its debug
	 * objects can refill their pool only where the caller may sleep.
	 */
	struct gosync_map_entry *old_entry;
	unsigned int nr_pruned;
	unsigned int nr_spare;
	unsigned int nodes_needed;
	/*
	 * Last, and not initialised: only their first nr_spare and
	 * nr_pruned elements are ever read.
	 */
	struct gosync_map_node *spare[GOSYNC_MAP_MAX_DEPTH];
	struct gosync_map_node *pruned[GOSYNC_MAP_MAX_DEPTH];
};

/*
 * Every field before the arrays zeroed, then the arguments.  Callers
 * declare @u __uninitialized: a designated initialiser, or a kernel built
 * to zero the stack, would clear the 256 bytes of arrays on every write.
 */
static void gosync_map_update_init(struct gosync_map_update *u,
				   enum gosync_map_op op, const void *key,
				   size_t len, void *value, void *expected)
{
	memset(u, 0, offsetof(struct gosync_map_update, spare));
	u->op = op;
	u->key = key;
	u->len = len;
	u->value = value;
	u->expected = expected;
}

static bool gosync_map_node_empty(struct gosync_map_node *node)
{
	unsigned int i;

	for (i = 0; i < GOSYNC_MAP_FANOUT; i++)
		if (rcu_access_pointer(node->children[i]))
			return false;
	return true;
}

/*
 * Unlock @node after a write.  If the write emptied it, unhook it first,
 * and every ancestor that becomes empty in turn.  The parent is locked
 * before the child is marked dead and stays locked until the child is
 * unhooked (Go's order, child then parent), with interrupts off from the
 * child's lock to the end: a writer that finds the child dead always finds
 * the parent's slot changed when it walks again, even when it runs in an
 * interrupt on this CPU.
 */
static void gosync_map_unlock_node(struct gosync_map_update *u,
				   struct gosync_map_node *node,
				   unsigned long flags)
	__releases(&node->lock)
{
	struct gosync_map_node *parent;
	unsigned int index;

	while (node->parent && gosync_map_node_empty(node)) {
		parent = node->parent;
		/*
		 * Never dead itself: @node still hangs from it, and a node is
		 * pruned only when empty.  Two node locks are held at most;
		 * lockdep sees the parent as the nested one until the child
		 * is unlocked.
		 */
		raw_spin_lock_nested(&parent->lock, SINGLE_DEPTH_NESTING);
		node->dead = true;
		gosync_delay_point(GOSYNC_DELAY_MAP_PRUNE_BEFORE_UNHOOK);
		index = 0;
		while (rcu_access_pointer(parent->children[index]) != node)
			index++;
		RCU_INIT_POINTER(parent->children[index], NULL);
		raw_spin_unlock(&node->lock);
		lock_set_subclass(&parent->lock.dep_map, 0, _THIS_IP_);
		u->pruned[u->nr_pruned++] = node;
		node = parent;
	}
	raw_spin_unlock_irqrestore(&node->lock, flags);
}

/*
 * Hang @old (a chain of equal hashes) and @new below a fresh run of nodes
 * from @slot of @node, deep enough for their hashes to part.  The spare
 * nodes were counted and allocated by the caller; nothing is visible to
 * readers until the final rcu_assign_pointer().
 */
static void gosync_map_expand(struct gosync_map_update *u,
			      struct gosync_map_node *node, void __rcu **slot,
			      struct gosync_map_entry *old)
{
	struct gosync_map_node *top = NULL, *parent = node, *fresh;
	unsigned int shift = u->shift;
	unsigned int old_index, new_index;

	for (;;) {
		/* @parent indexes with @shift, @fresh below it with the next. */
		fresh = u->spare[--u->nr_spare];
		gosync_map_node_init(fresh, parent);
		gosync_stat_add(GOSYNC_STAT_MAP_BYTES, sizeof(*fresh));
		if (top)
			RCU_INIT_POINTER(parent->children[gosync_map_index(u->hash, shift)],
					 fresh);
		else
			top = fresh;
		parent = fresh;
		shift -= GOSYNC_MAP_FANOUT_BITS;
		old_index = gosync_map_index(old->hash, shift);
		new_index = gosync_map_index(u->hash, shift);
		if (old_index != new_index)
			break;
	}
	RCU_INIT_POINTER(fresh->children[old_index], gosync_map_tag_entry(old));
	RCU_INIT_POINTER(fresh->children[new_index],
			 gosync_map_tag_entry(u->new_entry));
	rcu_assign_pointer(*slot, top);
}

/*
 * Replace the value of @entry (found at @link, or heading @slot) by @u's.
 * A value that needs no deferred free changes in place; so does one whose
 * writer could get no memory and may sleep (its value is freed after a
 * grace period by gosync_map_write()).  Otherwise a new entry takes the
 * old one's place and the old one carries the old value through the grace
 * period.  Returns -EAGAIN when that new entry is still to be allocated.
 */
static int gosync_map_replace(struct gosync_map_update *u,
			      struct gosync_map_node *node, void __rcu **slot,
			      struct gosync_map_entry __rcu **link,
			      struct gosync_map_entry *entry)
{
	if (!entry->free_value || u->in_place) {
		/*
		 * Release: whatever the writer stored into the object before
		 * handing it to the map is visible to a reader that loads the
		 * pointer and follows it (an address dependency on its side).
		 */
		smp_store_release(&entry->value, u->value);
		u->retired = !!entry->free_value;
		u->free_value = entry->free_value;
		gosync_stat_inc(GOSYNC_STAT_MAP_STORE);
		return 1;
	}
	if (!u->new_entry) {
		u->need_entry = true;
		return -EAGAIN;
	}
	RCU_INIT_POINTER(u->new_entry->overflow,
			 rcu_dereference_protected(entry->overflow,
						   lockdep_is_held(&node->lock)));
	if (link)
		rcu_assign_pointer(*link, u->new_entry);
	else
		rcu_assign_pointer(*slot, gosync_map_tag_entry(u->new_entry));
	u->new_entry = NULL;
	gosync_stat_inc(GOSYNC_STAT_MAP_STORE);
	u->old_entry = entry;
	return 1;
}

static void gosync_map_remove(struct gosync_map_update *u,
			      struct gosync_map_node *node, void __rcu **slot,
			      struct gosync_map_entry __rcu **link,
			      struct gosync_map_entry *entry)
{
	struct gosync_map_entry *next =
		rcu_dereference_protected(entry->overflow,
					  lockdep_is_held(&node->lock));

	if (link)
		rcu_assign_pointer(*link, next);
	else
		rcu_assign_pointer(*slot, next ? gosync_map_tag_entry(next) : NULL);
	atomic_long_dec(&u->root->len);
	gosync_stat_add(GOSYNC_STAT_MAP_ENTRIES, -1);
	gosync_stat_inc(GOSYNC_STAT_MAP_DELETE);
	u->old_entry = entry;
}

/*
 * Apply @u to the slot found under @node (locked, live).  Returns 1 when
 * the key was found, 0 when not, -EAGAIN when memory is missing (what is
 * missing is noted in @u).  A value replaced by itself stays: it never
 * left the map, so it is never freed.
 */
static int gosync_map_apply(struct gosync_map_update *u,
			    struct gosync_map_node *node, void __rcu **slot)
{
	void *child = rcu_dereference_protected(*slot, lockdep_is_held(&node->lock));
	struct gosync_map_entry __rcu **link;
	struct gosync_map_entry *head, *entry;

	head = child ? gosync_map_to_entry(child) : NULL;
	/* Find the key's entry and the link that points at it. */
	link = NULL;
	entry = head;
	while (entry && !gosync_map_entry_is(entry, u->hash, u->key, u->len)) {
		link = &entry->overflow;
		entry = rcu_dereference_protected(entry->overflow,
						  lockdep_is_held(&node->lock));
	}

	if (entry) {
		/* Only writers change it, and they hold @node's lock. */
		u->found = entry->value;
		switch (u->op) {
		case GOSYNC_MAP_LOAD_OR_STORE:
			break;
		case GOSYNC_MAP_SWAP:
			if (entry->value != u->value)
				return gosync_map_replace(u, node, slot, link, entry);
			break;
		case GOSYNC_MAP_COMPARE_AND_SWAP:
			if (entry->value == u->expected && u->expected != u->value)
				return gosync_map_replace(u, node, slot, link, entry);
			break;
		case GOSYNC_MAP_LOAD_AND_DELETE:
			gosync_map_remove(u, node, slot, link, entry);
			break;
		case GOSYNC_MAP_COMPARE_AND_DELETE:
			if (entry->value == u->expected)
				gosync_map_remove(u, node, slot, link, entry);
			break;
		}
		return 1;
	}

	if (u->op != GOSYNC_MAP_LOAD_OR_STORE && u->op != GOSYNC_MAP_SWAP)
		return 0;
	if (!u->new_entry) {
		/* In place means memory ran out: nothing to insert with. */
		if (u->in_place)
			return -ENOMEM;
		u->need_entry = true;
		return -EAGAIN;
	}
	if (!head) {
		rcu_assign_pointer(*slot, gosync_map_tag_entry(u->new_entry));
	} else if (head->hash == u->hash) {
		/* A full 64-bit collision: chain it, correctness first. */
		RCU_INIT_POINTER(u->new_entry->overflow, head);
		rcu_assign_pointer(*slot, gosync_map_tag_entry(u->new_entry));
	} else {
		u->nodes_needed = gosync_map_nodes_to_part(head->hash, u->hash,
							   u->shift);
		if (u->nr_spare < u->nodes_needed)
			return -EAGAIN;
		gosync_map_expand(u, node, slot, head);
	}
	u->new_entry = NULL;
	atomic_long_inc(&u->root->len);
	gosync_stat_add(GOSYNC_STAT_MAP_ENTRIES, 1);
	gosync_stat_inc(GOSYNC_STAT_MAP_STORE);
	return 0;
}

/*
 * The lock-free look that comes first: a reader's walk from @child (what
 * the key's slot held).  Returns 1 or 0 (as gosync_map_apply() would)
 * when the answer is known without a lock, and -EAGAIN when the writer
 * must lock.  An answer here is the state at the moment the slot or chain
 * link was read, which lies within the call: linearisable, like a load.
 */
static int gosync_map_look(struct gosync_map_update *u,
			   const struct gosync_map_pos *pos)
{
	void *child = pos->child;
	struct gosync_map_entry *entry;
	void *value;

	entry = gosync_map_chain_find(child, u->hash, u->key, u->len);
	if (!entry) {
		if (u->op != GOSYNC_MAP_LOAD_OR_STORE && u->op != GOSYNC_MAP_SWAP)
			return 0;
		/* It will insert: allocate first, unless done. */
		u->need_entry = true;
		/*
		 * Into a slot taken by another hash: the nodes that part the
		 * two are allocated with the entry, not after a locked try.
		 * The locked node's check counts them again.
		 */
		u->nodes_needed = gosync_map_nodes_for(pos, u->hash);
		return -EAGAIN;
	}
	value = READ_ONCE(entry->value);
	switch (u->op) {
	case GOSYNC_MAP_LOAD_OR_STORE:
		break;
	case GOSYNC_MAP_SWAP:
		if (value == u->value)
			break;
		/* A replacement needs a new entry only to carry a freed value. */
		u->need_entry = !!entry->free_value;
		return -EAGAIN;
	case GOSYNC_MAP_COMPARE_AND_SWAP:
		if (value != u->expected || u->expected == u->value)
			break;
		u->need_entry = !!entry->free_value;
		return -EAGAIN;
	case GOSYNC_MAP_LOAD_AND_DELETE:
		return -EAGAIN;
	case GOSYNC_MAP_COMPARE_AND_DELETE:
		if (value == u->expected)
			return -EAGAIN;
		break;
	}
	u->found = value;
	return 1;
}

/*
 * Allocate what @u was found to need; on failure nothing has changed.
 * After one failure a replacement goes on in place, allocating nothing.
 */
static int gosync_map_prepare(struct gosync_map *m, struct gosync_map_update *u)
{
	if (u->need_entry && !u->new_entry && !u->in_place) {
		u->new_entry = gosync_map_alloc(m, gosync_map_entry_size(u->len));
		if (!u->new_entry)
			return -ENOMEM;
		gosync_stat_add(GOSYNC_STAT_MAP_BYTES, gosync_map_entry_size(u->len));
		u->new_entry->hash = 0;
		RCU_INIT_POINTER(u->new_entry->overflow, NULL);
		u->new_entry->value = u->value;
		u->new_entry->free_value = m->params.free_value;
		u->new_entry->len = u->len;
		memcpy(u->new_entry->key, u->key, u->len);
	}
	while (u->nr_spare < u->nodes_needed) {
		u->spare[u->nr_spare] = gosync_map_alloc_node(m);
		if (!u->spare[u->nr_spare])
			return -ENOMEM;
		u->nr_spare++;
	}
	return 0;
}

/* Hand what the write unhooked to RCU, with no node lock held. */
static void gosync_map_retire(struct gosync_map_update *u)
{
	if (u->old_entry) {
		gosync_map_entry_retire(u->old_entry);
		u->old_entry = NULL;
	}
	while (u->nr_pruned)
		gosync_map_node_retire(u->pruned[--u->nr_pruned]);
}

static void gosync_map_release_spares(struct gosync_map_update *u)
{
	while (u->nr_spare)
		gosync_map_free_node(u->spare[--u->nr_spare]);
	if (u->new_entry) {
		gosync_stat_add(GOSYNC_STAT_MAP_BYTES,
				-(s64)gosync_map_entry_size(u->len));
		kfree(u->new_entry);
	}
}

/*
 * Without memory, a replacement that may sleep still goes ahead: the value
 * changes in place and the old one is freed after a grace period waited
 * for here.  Compare-and-swap replaces only, so it never reports a lack of
 * memory as "the value differs" in a map whose gfp flags may sleep.
 */
static bool gosync_map_may_replace_in_place(struct gosync_map *m,
					    struct gosync_map_update *u)
{
	if (u->in_place || !gfpflags_allow_blocking(gosync_map_gfp(m)) ||
	    (u->op != GOSYNC_MAP_SWAP && u->op != GOSYNC_MAP_COMPARE_AND_SWAP))
		return false;
	u->in_place = true;
	return true;
}

/*
 * The one writer of the map.  Returns 1 if the key was present, 0 if not,
 * or a negative errno with the map unchanged.
 */
static int gosync_map_write(struct gosync_map *m, struct gosync_map_update *u)
{
	bool inserts = u->op == GOSYNC_MAP_LOAD_OR_STORE || u->op == GOSYNC_MAP_SWAP;
	struct gosync_map_pos pos __uninitialized;
	struct gosync_map_root *root;
	struct gosync_map_node *node;
	void __rcu **slot;
	unsigned long flags;
	void *child;
	int ret;

	/* Only what may allocate (or wait for a grace period) may sleep. */
	if (inserts || (u->op == GOSYNC_MAP_COMPARE_AND_SWAP && m->params.free_value))
		might_alloc(gosync_map_gfp(m));
	for (;;) {
		ret = gosync_map_prepare(m, u);
		if (ret && gosync_map_may_replace_in_place(m, u))
			ret = 0;
		if (!ret && inserts && !rcu_access_pointer(m->root))
			ret = gosync_map_make_root(m);
		if (ret) {
			/* Counted only when the write fails for it. */
			gosync_stat_inc(GOSYNC_STAT_MAP_ALLOC_FAIL);
			break;
		}
		rcu_read_lock();
		root = rcu_dereference(m->root);
		if (!root) {
			rcu_read_unlock();
			if (inserts)
				continue;	/* cleared meanwhile */
			break;
		}
		u->root = root;
		u->hash = gosync_map_hash(root, u->key, u->len);
		if (u->new_entry)
			u->new_entry->hash = u->hash;
		gosync_map_descend(root, u->hash, &pos);
		node = pos.node;
		slot = pos.slot;
		child = pos.child;
		u->shift = pos.shift;
		ret = gosync_map_look(u, &pos);
		if (ret == -EAGAIN && u->need_entry && !u->new_entry &&
		    !u->in_place) {
			/* It needs memory: get it before taking a lock. */
			rcu_read_unlock();
			continue;
		}
		if (ret != -EAGAIN) {
			rcu_read_unlock();
			break;
		}
		raw_spin_lock_irqsave(&node->lock, flags);
		if (node->dead || rcu_access_pointer(*slot) != child) {
			/* Changed under us: a prune or an expansion.  Walk again. */
			if (node->dead)
				gosync_delay_point(GOSYNC_DELAY_MAP_WRITE_FOUND_DEAD);
			raw_spin_unlock_irqrestore(&node->lock, flags);
			rcu_read_unlock();
			continue;
		}
		ret = gosync_map_apply(u, node, slot);
		gosync_map_unlock_node(u, node, flags);
		rcu_read_unlock();
		gosync_map_retire(u);
		if (ret != -EAGAIN)
			break;
		/* Allocate what the locked node showed is missing, and retry. */
	}
	gosync_map_release_spares(u);
	if (u->retired) {
		/* Readers may hold the old value until their rcu_read_unlock(). */
		synchronize_rcu();
		u->free_value(u->found);
	}
	return ret;
}

/**
 * gosync_map_load_or_store() - the value of a key, storing @value if absent
 * @m: the map
 * @key: the key bytes
 * @len: their number, 1..GOSYNC_MAP_KEY_MAX
 * @value: the value to store if the key is absent
 * @actual: where to put the value now in the map (the loaded one, or
 *          @value); may be NULL
 *
 * A present key is found lock-free, before anything is allocated: only a
 * store can fail for lack of memory.
 *
 * Context: any context the map's gfp flags allow.
 * Return: 1 if loaded, 0 if stored, -ENOMEM (only when the key was absent)
 * or -EINVAL, with the map unchanged.
 */
int gosync_map_load_or_store(struct gosync_map *m, const void *key, size_t len,
			     void *value, void **actual)
{
	struct gosync_map_update u __uninitialized;
	struct gosync_map_entry *entry;
	unsigned int nodes = 0;
	void *loaded;
	int ret;

	if (gosync_map_bad_key(m, key, len))
		return -EINVAL;
	/*
	 * A hit returns before the writer's might_alloc(): a kernel that
	 * checks sleeping contexts still checks every call, but a hit pays
	 * no voluntary preemption point elsewhere, as a load does not.
	 */
	if (IS_ENABLED(CONFIG_DEBUG_ATOMIC_SLEEP) || IS_ENABLED(CONFIG_LOCKDEP))
		might_alloc(gosync_map_gfp(m));
	/*
	 * A present key is the common case: a reader's lookup answers it,
	 * before any of the writer's set-up, with preemption off as in
	 * gosync_map_load().  The value read is the one in the map when the
	 * entry was read, as gosync_map_load() gives it.
	 */
	preempt_disable();
	entry = gosync_map_find(m, key, len, &nodes);
	if (entry)
		loaded = READ_ONCE(entry->value);
	preempt_enable();
	if (entry) {
		if (actual)
			*actual = loaded;
		return 1;
	}
	gosync_map_update_init(&u, GOSYNC_MAP_LOAD_OR_STORE, key, len, value,
			       NULL);
	/*
	 * Absent a moment ago: the entry, and the nodes the lookup found it
	 * will need, are allocated before the writer's walk, which counts
	 * them again under the node lock.
	 */
	u.need_entry = true;
	u.nodes_needed = nodes;
	ret = gosync_map_write(m, &u);
	if (ret >= 0 && actual)
		*actual = ret ? u.found : value;
	return ret;
}
EXPORT_SYMBOL_GPL(gosync_map_load_or_store);

/**
 * gosync_map_swap() - store a value, returning the one it replaced
 * @m: the map
 * @key: the key bytes
 * @len: their number, 1..GOSYNC_MAP_KEY_MAX
 * @value: the new value
 * @previous: where to put the replaced value; may be NULL.  With a
 *            free_value callback, it is valid only until the caller's
 *            next rcu_read_unlock() (or a grace period).
 *
 * Storing the value already there changes nothing (and never frees it).
 * Replacing a value allocates only in a map with free_value; if that fails
 * and the gfp flags may sleep, the value is replaced in place and the old
 * one freed after a grace period this call waits for.
 *
 * Context: any context the map's gfp flags allow.
 * Return: 1 if a value was replaced, 0 if the key was new, -ENOMEM or
 * -EINVAL with the map unchanged.
 */
int gosync_map_swap(struct gosync_map *m, const void *key, size_t len,
		    void *value, void **previous)
{
	struct gosync_map_update u __uninitialized;
	int ret;

	if (gosync_map_bad_key(m, key, len))
		return -EINVAL;
	gosync_map_update_init(&u, GOSYNC_MAP_SWAP, key, len, value, NULL);
	ret = gosync_map_write(m, &u);
	if (ret == 1 && previous)
		*previous = u.found;
	return ret;
}
EXPORT_SYMBOL_GPL(gosync_map_swap);

/**
 * gosync_map_store() - set the value of a key
 * @m: the map
 * @key: the key bytes
 * @len: their number, 1..GOSYNC_MAP_KEY_MAX
 * @value: the value
 *
 * Context: any context the map's gfp flags allow.
 * Return: 0, or -ENOMEM or -EINVAL with the map unchanged.
 */
int gosync_map_store(struct gosync_map *m, const void *key, size_t len,
		     void *value)
{
	int ret = gosync_map_swap(m, key, len, value, NULL);

	return ret < 0 ? ret : 0;
}
EXPORT_SYMBOL_GPL(gosync_map_store);

/**
 * gosync_map_compare_and_swap() - replace a key's value if it is @old
 * @m: the map
 * @key: the key bytes
 * @len: their number, 1..GOSYNC_MAP_KEY_MAX
 * @old: the value expected (compared as a pointer)
 * @new: the replacement
 *
 * The comparison is made lock-free first: a key that is absent or holds
 * another value costs no lock and no allocation.  @old == @new is a
 * successful no-op.  In a map without free_value the value is replaced in
 * place: nothing is allocated and lack of memory cannot make it fail.  In
 * a map with free_value a new entry carries the new value (the old entry
 * carries the old value through its grace period); if that allocation
 * fails and the gfp flags may sleep, the value is replaced in place and
 * the old one freed after a grace period this call waits for.
 *
 * The one exception, which a bool cannot report as -ENOMEM: in a map with
 * free_value and gfp flags that may not sleep (GFP_ATOMIC, GFP_NOWAIT),
 * no memory for the new entry makes the call return false with the map
 * unchanged, the value still @old, and map.alloc_fail counted.  A retry
 * loop on such a map must not take false for "the value differs" without
 * loading: if gosync_map_load() still gives @old, memory ran out (or
 * the value came back meanwhile).
 *
 * Context: any context the map's gfp flags allow; never allocates or
 * sleeps in a map without free_value.
 * Return: true if the value was @old and is now @new; false if the key is
 * absent or holds another value, or the arguments are bad, or (only in a
 * map with free_value and non-sleeping gfp flags) memory ran out.
 */
bool gosync_map_compare_and_swap(struct gosync_map *m, const void *key,
				 size_t len, void *old, void *new)
{
	struct gosync_map_update u __uninitialized;

	if (gosync_map_bad_key(m, key, len))
		return false;
	gosync_map_update_init(&u, GOSYNC_MAP_COMPARE_AND_SWAP, key, len, new,
			       old);
	return gosync_map_write(m, &u) == 1 && u.found == old;
}
EXPORT_SYMBOL_GPL(gosync_map_compare_and_swap);

/**
 * gosync_map_load_and_delete() - remove a key, returning its value
 * @m: the map
 * @key: the key bytes
 * @len: their number, 1..GOSYNC_MAP_KEY_MAX
 * @value: where to put the removed value; may be NULL (see
 *         gosync_map_swap() for how long it stays valid)
 *
 * Context: any context; never allocates.
 * Return: true if the key was present.
 */
bool gosync_map_load_and_delete(struct gosync_map *m, const void *key,
				size_t len, void **value)
{
	struct gosync_map_update u __uninitialized;

	if (gosync_map_bad_key(m, key, len))
		return false;
	gosync_map_update_init(&u, GOSYNC_MAP_LOAD_AND_DELETE, key, len, NULL,
			       NULL);
	if (gosync_map_write(m, &u) != 1)
		return false;
	if (value)
		*value = u.found;
	return true;
}
EXPORT_SYMBOL_GPL(gosync_map_load_and_delete);

/**
 * gosync_map_delete() - remove a key
 * @m: the map
 * @key: the key bytes
 * @len: their number, 1..GOSYNC_MAP_KEY_MAX
 *
 * Context: any context; never allocates.
 * Return: true if the key was present.
 */
bool gosync_map_delete(struct gosync_map *m, const void *key, size_t len)
{
	return gosync_map_load_and_delete(m, key, len, NULL);
}
EXPORT_SYMBOL_GPL(gosync_map_delete);

/**
 * gosync_map_compare_and_delete() - remove a key if its value is @old
 * @m: the map
 * @key: the key bytes
 * @len: their number, 1..GOSYNC_MAP_KEY_MAX
 * @old: the value expected (compared as a pointer)
 *
 * Context: any context; never allocates.
 * Return: true if removed.
 */
bool gosync_map_compare_and_delete(struct gosync_map *m, const void *key,
				   size_t len, void *old)
{
	struct gosync_map_update u __uninitialized;

	if (gosync_map_bad_key(m, key, len))
		return false;
	gosync_map_update_init(&u, GOSYNC_MAP_COMPARE_AND_DELETE, key, len,
			       NULL, old);
	return gosync_map_write(m, &u) == 1 && u.found == old;
}
EXPORT_SYMBOL_GPL(gosync_map_compare_and_delete);

/* Depth-first walk under rcu_read_lock(); false when @fn asked to stop. */
static bool gosync_map_walk(struct gosync_map_node *node,
			    bool (*fn)(const void *key, size_t len, void *value,
				       void *arg),
			    void *arg)
{
	struct gosync_map_entry *entry;
	unsigned int i;
	void *child;

	for (i = 0; i < GOSYNC_MAP_FANOUT; i++) {
		child = rcu_dereference(node->children[i]);
		if (!child)
			continue;
		if (!gosync_map_is_entry(child)) {
			if (!gosync_map_walk(child, fn, arg))
				return false;
			continue;
		}
		for (entry = gosync_map_to_entry(child); entry;
		     entry = rcu_dereference(entry->overflow))
			if (!fn(entry->key, entry->len, READ_ONCE(entry->value),
				arg))
				return false;
	}
	return true;
}

/**
 * gosync_map_range() - call @fn for every key and value
 * @m: the map
 * @fn: called under rcu_read_lock(): must not sleep; returns false to stop
 * @arg: passed to @fn
 *
 * Every key present for the whole walk is visited exactly once; keys
 * stored or deleted meanwhile may or may not be.  Writers are never
 * blocked.
 *
 * Context: any context.
 */
void gosync_map_range(struct gosync_map *m,
		      bool (*fn)(const void *key, size_t len, void *value,
				 void *arg),
		      void *arg)
{
	struct gosync_map_root *root;

	if (GOSYNC_MISUSE(!m || !fn, GOSYNC_STAT_MAP_MISUSE,
			  "map: range with NULL map or function\n"))
		return;
	rcu_read_lock();
	root = rcu_dereference(m->root);
	if (root)
		gosync_map_walk(&root->node, fn, arg);
	rcu_read_unlock();
}
EXPORT_SYMBOL_GPL(gosync_map_range);

/* Free a trie nobody can reach any more; returns the entries freed. */
static long gosync_map_free_tree(struct gosync_map_node *node)
{
	struct gosync_map_entry *entry, *next;
	long freed = 0;
	unsigned int i;
	void *child;

	for (i = 0; i < GOSYNC_MAP_FANOUT; i++) {
		child = rcu_dereference_protected(node->children[i], true);
		if (!child)
			continue;
		if (!gosync_map_is_entry(child)) {
			freed += gosync_map_free_tree(child);
			gosync_stat_add(GOSYNC_STAT_MAP_BYTES,
					-(s64)sizeof(struct gosync_map_node));
			gosync_map_free_node(child);
			continue;
		}
		for (entry = gosync_map_to_entry(child); entry; entry = next) {
			next = rcu_dereference_protected(entry->overflow, true);
			gosync_map_entry_free(entry);
			freed++;
		}
		cond_resched();
	}
	return freed;
}

static void gosync_map_free_root(struct gosync_map_root *root)
{
	long freed = gosync_map_free_tree(&root->node);

	gosync_stat_add(GOSYNC_STAT_MAP_ENTRIES, -freed);
	gosync_stat_add(GOSYNC_STAT_MAP_BYTES, -(s64)sizeof(*root));
	kfree(root);
}

/*
 * Teardowns run on a workqueue of their own: gosync_map_destroy() waits
 * for map teardowns and nothing else, so it cannot wait on (or deadlock
 * with) unrelated work.  WQ_MEM_RECLAIM: a teardown frees memory.
 */
static struct workqueue_struct *gosync_map_workqueue;

/*
 * Teardowns of every map that were queued and have not finished.  Global,
 * not per map: a teardown never touches its map, which may be gone.  A
 * free_value may clear another map (a map of maps), so a teardown can
 * queue new ones; destroy drains until this count is 0.
 */
static atomic_long_t gosync_map_teardowns = ATOMIC_LONG_INIT(0);

static void gosync_map_teardown_work(struct work_struct *work)
{
	struct gosync_map_root *root = container_of(to_rcu_work(work),
						    struct gosync_map_root,
						    teardown);

	/* The map this root belonged to may be gone already. */
	gosync_delay_point(GOSYNC_DELAY_MAP_TEARDOWN_BEFORE_FREE);
	gosync_map_free_root(root);
	/*
	 * Last: every free_value call of this teardown, and the inner
	 * clears they made (counted before this), come before the count
	 * drops, for destroy's acquire read.
	 */
	atomic_long_dec_return_release(&gosync_map_teardowns);
}

/**
 * gosync_map_clear() - remove every key
 * @m: the map
 *
 * The map is empty at once (and its len 0); the old entries, and their
 * values through free_value, are freed after a grace period, in process
 * context, by work that never touches @m again: the map's memory may be
 * freed as soon as this returns.  The free_value calls may still be
 * pending then; gosync_map_destroy() (of this map or any other) waits for
 * them.  Writers racing with the clear may land on either side of it.
 *
 * Context: any context; never sleeps.
 */
void gosync_map_clear(struct gosync_map *m)
{
	struct gosync_map_root *root;

	if (GOSYNC_MISUSE(!m, GOSYNC_STAT_MAP_MISUSE, "map: clear of NULL map\n"))
		return;
	root = xchg((struct gosync_map_root __force **)&m->root, NULL);
	if (root) {
		/* Counted before it can run: destroy must not miss it. */
		atomic_long_inc(&gosync_map_teardowns);
		queue_rcu_work(gosync_map_workqueue, &root->teardown);
	}
}
EXPORT_SYMBOL_GPL(gosync_map_clear);

/**
 * gosync_map_len() - the number of keys
 * @m: the map
 *
 * O(1): a counter kept by the writers, exact when no writer is running.
 *
 * Context: any context.
 * Return: the number of keys.
 */
size_t gosync_map_len(struct gosync_map *m)
{
	struct gosync_map_root *root;
	long len = 0;

	if (GOSYNC_MISUSE(!m, GOSYNC_STAT_MAP_MISUSE, "map: len of NULL map\n"))
		return 0;
	rcu_read_lock();
	root = rcu_dereference(m->root);
	if (root)
		len = atomic_long_read(&root->len);
	rcu_read_unlock();
	return len > 0 ? len : 0;
}
EXPORT_SYMBOL_GPL(gosync_map_len);

/**
 * gosync_map_init() - give a map its parameters
 * @m: the map, empty (zeroed, or destroyed)
 * @p: the parameters; NULL for the defaults
 *
 * Optional: a zeroed map works with the defaults.  Never allocates.
 *
 * Return: 0, or -EINVAL for a NULL map.
 */
int gosync_map_init(struct gosync_map *m, const struct gosync_map_params *p)
{
	if (GOSYNC_MISUSE(!m, GOSYNC_STAT_MAP_MISUSE, "map: init of NULL map\n"))
		return -EINVAL;
	RCU_INIT_POINTER(m->root, NULL);
	m->params = p ? *p : (struct gosync_map_params){};
	return 0;
}
EXPORT_SYMBOL_GPL(gosync_map_init);

/**
 * gosync_map_destroy() - free every entry and node of a map
 * @m: the map; no other task may use it during or after the call
 *
 * Every value still in the map, and every value that left it earlier,
 * has been passed to free_value when this returns.  So have the values
 * of every map cleared before this call or during it, whoever cleared
 * it: a free_value that clears and frees an inner map (a map of maps, to
 * any depth) has had the inner values freed too.  The map is left as a
 * zero value: empty, default parameters, ready for gosync_map_init()
 * again.
 *
 * It waits for RCU callbacks (rcu_barrier()) and for the map teardown
 * workqueue, in rounds, until no teardown of any map is pending.  For a
 * caller that is the only one clearing maps, the rounds are bounded by
 * the depth of nesting; clears by other tasks during the call, and their
 * teardowns, can prolong it.  The workqueue runs nothing but teardowns
 * of cleared tries (they only free memory and call free_value, which
 * never sleeps), never other work queued by gosync or its users: this
 * may be called from a workqueue worker or with locks held that other
 * work needs.  A free_value that deletes from another map (rather than
 * clearing it) retires that entry through RCU, which is not waited for
 * again after the last round.
 *
 * Context: process context; sleeps (waits for RCU callbacks).
 */
void gosync_map_destroy(struct gosync_map *m)
{
	struct gosync_map_root *root;

	might_sleep();
	if (GOSYNC_MISUSE(!m, GOSYNC_STAT_MAP_MISUSE, "map: destroy of NULL map\n"))
		return;
	root = xchg((struct gosync_map_root __force **)&m->root, NULL);
	if (root) {
		synchronize_rcu();
		gosync_map_free_root(root);
	}
	do {
		/*
		 * Entries retired earlier (their free_value calls), and the
		 * grace periods of clears, whose teardowns are queued by
		 * then...
		 */
		rcu_barrier();
		/* ...and those teardowns: the map workqueue runs nothing else. */
		flush_workqueue(gosync_map_workqueue);
		/*
		 * A teardown's free_value may have cleared an inner map after
		 * the barrier: its teardown is counted and still pending.
		 */
	} while (atomic_long_read_acquire(&gosync_map_teardowns));
	gosync_map_init(m, NULL);
}
EXPORT_SYMBOL_GPL(gosync_map_destroy);

int gosync_map_module_init(void)
{
	gosync_map_node_cache = KMEM_CACHE(gosync_map_node, 0);
	if (!gosync_map_node_cache)
		return -ENOMEM;
	gosync_map_workqueue = alloc_workqueue("gosync_map",
					       WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!gosync_map_workqueue) {
		kmem_cache_destroy(gosync_map_node_cache);
		return -ENOMEM;
	}
	return 0;
}

/* Every map is destroyed by now, but a clear's work may still be queued. */
void gosync_map_module_exit(void)
{
	/* Teardowns still waiting for their grace period reach the queue... */
	rcu_barrier();
	/* ...which is drained here. */
	destroy_workqueue(gosync_map_workqueue);
	/* Every node is back: RCU callbacks and teardowns are done. */
	kmem_cache_destroy(gosync_map_node_cache);
}
