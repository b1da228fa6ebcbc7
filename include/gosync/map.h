/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gosync map: a concurrent map in the spirit of Go's sync.Map, built as
 * Go 1.24's hash-trie with RCU instead of a garbage collector.
 *
 * Keys are byte strings of 1..GOSYNC_MAP_KEY_MAX bytes, copied into the
 * map.  Values are opaque pointers (NULL allowed).  The zero value is an
 * empty map with default parameters.
 *
 * Readers: gosync_map_load() is a lock-free RCU walk, callable from any
 * context, with or without rcu_read_lock() held.  A value it returns stays
 * valid while the caller holds rcu_read_lock() (or otherwise knows the
 * value cannot leave the map); with a free_value callback set, a value
 * that leaves the map is freed only after an RCU grace period.
 *
 * Writers lock the trie node they change (a raw spinlock, interrupts
 * disabled), and its parent while pruning it, and sleep only when the map's
 * gfp flags allow allocation to sleep.  Deletes never allocate and never
 * sleep: they work in any context, under rcu_read_lock() and inside a
 * gosync_map_range() callback.  No writer works from NMI context.
 *
 * Value identity: a value is "in the map" as a pointer.  Storing the
 * pointer already there is a no-op and never frees it; with a free_value
 * callback, a value should be in the map under one key at a time and not
 * be stored again once it left (free_value owns it then).
 */
#ifndef _GOSYNC_MAP_H
#define _GOSYNC_MAP_H

#include <linux/atomic.h>
#include <linux/compiler.h>
#include <linux/gfp.h>
#include <linux/types.h>

/* Keys are 1..GOSYNC_MAP_KEY_MAX bytes long. */
#define GOSYNC_MAP_KEY_MAX 4096

struct gosync_map_root;

/**
 * struct gosync_map_params - how a map allocates and frees
 * @gfp: allocation flags for entries and trie nodes; 0 means GFP_KERNEL.
 *       GFP_ATOMIC (or GFP_NOWAIT) makes writers usable in atomic context.
 * @free_value: if set, called once for every value that leaves the map
 *              (replaced, deleted, cleared, destroyed), after an RCU grace
 *              period, from softirq or process context: it must not sleep.
 */
struct gosync_map_params {
	gfp_t gfp;
	void (*free_value)(void *value);
};

/**
 * struct gosync_map - a concurrent map from byte strings to pointers
 * @root: the trie, its hash seed and key count, made by the first store
 * @params: as given to gosync_map_init(), or zero for the defaults
 *
 * All fields are private to gosync.
 */
struct gosync_map {
	struct gosync_map_root __rcu *root;
	struct gosync_map_params params;
};

int gosync_map_init(struct gosync_map *m, const struct gosync_map_params *p);
void gosync_map_destroy(struct gosync_map *m);
bool gosync_map_load(struct gosync_map *m, const void *key, size_t len,
		     void **value);
int __must_check gosync_map_store(struct gosync_map *m, const void *key,
				  size_t len, void *value);
int __must_check gosync_map_load_or_store(struct gosync_map *m, const void *key,
					  size_t len, void *value, void **actual);
bool gosync_map_load_and_delete(struct gosync_map *m, const void *key,
				size_t len, void **value);
bool gosync_map_delete(struct gosync_map *m, const void *key, size_t len);
int __must_check gosync_map_swap(struct gosync_map *m, const void *key,
				 size_t len, void *value, void **previous);
bool gosync_map_compare_and_swap(struct gosync_map *m, const void *key,
				 size_t len, void *old, void *new);
bool gosync_map_compare_and_delete(struct gosync_map *m, const void *key,
				   size_t len, void *old);
void gosync_map_range(struct gosync_map *m,
		      bool (*fn)(const void *key, size_t len, void *value,
				 void *arg),
		      void *arg);
void gosync_map_clear(struct gosync_map *m);
size_t gosync_map_len(struct gosync_map *m);

#endif /* _GOSYNC_MAP_H */
