// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite of the gosync map: a sequential model check against a plain
 * array (full hashes, and hashes narrowed to force collisions and the
 * deepest tries), readers and writers on every CPU (with clears, and in
 * hard interrupts), the free_value and range contracts, value identity,
 * deletes in atomic context, lookups before allocations, destroy beside
 * blocked work, growth, bad input.
 */

#include <linux/hrtimer.h>
#include <linux/prandom.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include <gosync/waitgroup.h>

#include <gosync/map.h>
#include <gosync/testing.h>

#include "gosync_test.h"

#define MODEL_KEYS	96
/* 20000 took 17 s per mask on the KASAN kernel of a loaded host. */
#define MODEL_OPS	10000

/*
 * Key @i: "key-<i>"; for every fifth key a run of 100..199 bytes, and for
 * every fifth another a u64, which the map hashes as one word.
 */
static size_t map_test_key(unsigned int i, u8 *buf, size_t size)
{
	u64 word = 0xa5a5000000000000ULL | i;
	size_t len;

	if (i % 5 == 3 && size >= sizeof(word)) {
		memcpy(buf, &word, sizeof(word));
		return sizeof(word);
	}

	if (i % 5 == 4) {
		len = min_t(size_t, 100 + i % 100, size);
		memset(buf, 'x', len);
		memcpy(buf, &i, sizeof(i));
		return len;
	}
	len = scnprintf(buf, size, "key-%u", i);
	return len;
}

static void *map_test_value(u32 v)
{
	return (void *)(unsigned long)v;
}

/* free_value for values that are small integers: count, free nothing. */
static atomic_t counted_frees;

static void counting_free(void *value)
{
	atomic_inc(&counted_frees);
}

struct model {
	bool present[MODEL_KEYS];
	void *value[MODEL_KEYS];
	unsigned int len;
};

struct range_check {
	struct model *model;
	unsigned int visits[MODEL_KEYS];
	unsigned int bad;
	unsigned int total;
};

static bool model_range_fn(const void *key, size_t len, void *value, void *arg)
{
	struct range_check *check = arg;
	u8 buf[256];
	unsigned int i;

	check->total++;
	for (i = 0; i < MODEL_KEYS; i++) {
		if (map_test_key(i, buf, sizeof(buf)) != len || memcmp(buf, key, len))
			continue;
		check->visits[i]++;
		if (!check->model->present[i] || check->model->value[i] != value)
			check->bad++;
		return true;
	}
	check->bad++;
	return true;
}

/*
 * The hash mask is global: narrow it for one case only, and put it back
 * when the case ends even if an assertion failed.  Maps made by
 * map_test_new() are destroyed before that (actions run last-in first-out).
 */
static void map_test_restore_hash_mask(void *unused)
{
	WRITE_ONCE(gosync_map_hash_mask, U64_MAX);
}

static void map_test_narrow_hash(struct kunit *test, u64 mask)
{
	WRITE_ONCE(gosync_map_hash_mask, mask);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							map_test_restore_hash_mask,
							NULL), 0);
}

static void map_test_restore_alloc_budget(void *unused)
{
	atomic_set(&gosync_map_alloc_budget, -1);
}

/* From now on the map may allocate @budget more times (-1: no limit). */
static void map_test_alloc_budget(struct kunit *test, int budget)
{
	atomic_set(&gosync_map_alloc_budget, budget);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							map_test_restore_alloc_budget,
							NULL), 0);
}

static void map_test_destroy(void *m)
{
	gosync_map_destroy(m);
}

/* A map destroyed when the case ends, even on a failed assertion. */
static struct gosync_map *map_test_new(struct kunit *test,
				       const struct gosync_map_params *params)
{
	struct gosync_map *m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, m);
	KUNIT_ASSERT_EQ(test, gosync_map_init(m, params), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, map_test_destroy, m),
			0);
	return m;
}

static const u64 map_test_masks[] = { U64_MAX, 0xf0f0f, 0x7, 0 };

static void map_test_mask_desc(const u64 *mask, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "hash mask %#llx", *mask);
}

KUNIT_ARRAY_PARAM(map_test_mask, map_test_masks, map_test_mask_desc);

/* Go's map_reference_test.go, in spirit: every operation against a model. */
static void map_model_check(struct kunit *test)
{
	u64 mask = *(const u64 *)test->param_value;
	struct gosync_map *m;
	struct model *model = kunit_kzalloc(test, sizeof(*model), GFP_KERNEL);
	struct range_check *check = kunit_kzalloc(test, sizeof(*check), GFP_KERNEL);
	struct rnd_state rnd;
	u8 *key = kunit_kmalloc(test, 256, GFP_KERNEL);
	unsigned int op, i, k, mismatches = 0;
	void *got, *value;
	size_t len;
	int ret;
	bool ok;

	KUNIT_ASSERT_NOT_NULL(test, model);
	KUNIT_ASSERT_NOT_NULL(test, check);
	KUNIT_ASSERT_NOT_NULL(test, key);
	prandom_seed_state(&rnd, 0x60512c + mask);
	map_test_narrow_hash(test, mask);
	m = map_test_new(test, NULL);

	for (op = 0; op < MODEL_OPS && !mismatches; op++) {
		k = prandom_u32_state(&rnd) % MODEL_KEYS;
		len = map_test_key(k, key, 256);
		/* Small values, NULL among them: values are opaque pointers. */
		value = map_test_value(prandom_u32_state(&rnd) % 4);
		got = NULL;
		switch (prandom_u32_state(&rnd) % 10) {
		case 0:
			ok = gosync_map_load(m, key, len, &got);
			mismatches += ok != model->present[k] ||
				      (ok && got != model->value[k]);
			break;
		case 1:
			ret = gosync_map_store(m, key, len, value);
			mismatches += ret != 0;
			model->len += !model->present[k];
			model->present[k] = true;
			model->value[k] = value;
			break;
		case 2:
			ret = gosync_map_load_or_store(m, key, len, value, &got);
			mismatches += ret != model->present[k] ||
				      got != (model->present[k] ? model->value[k] : value);
			if (!model->present[k]) {
				model->present[k] = true;
				model->value[k] = value;
				model->len++;
			}
			break;
		case 3:
			ok = gosync_map_load_and_delete(m, key, len, &got);
			mismatches += ok != model->present[k] ||
				      (ok && got != model->value[k]);
			model->len -= model->present[k];
			model->present[k] = false;
			break;
		case 4:
			ok = gosync_map_delete(m, key, len);
			mismatches += ok != model->present[k];
			model->len -= model->present[k];
			model->present[k] = false;
			break;
		case 5:
			ret = gosync_map_swap(m, key, len, value, &got);
			mismatches += ret != model->present[k] ||
				      (ret == 1 && got != model->value[k]);
			model->len += !model->present[k];
			model->present[k] = true;
			model->value[k] = value;
			break;
		case 6:
			ok = gosync_map_compare_and_swap(m, key, len, value,
							 map_test_value(7));
			mismatches += ok != (model->present[k] &&
					     model->value[k] == value);
			if (ok)
				model->value[k] = map_test_value(7);
			break;
		case 7:
			ok = gosync_map_compare_and_delete(m, key, len, value);
			mismatches += ok != (model->present[k] &&
					     model->value[k] == value);
			if (ok) {
				model->present[k] = false;
				model->len--;
			}
			break;
		case 8:
			memset(check, 0, sizeof(*check));
			check->model = model;
			gosync_map_range(m, model_range_fn, check);
			mismatches += check->bad || check->total != model->len;
			for (i = 0; i < MODEL_KEYS; i++)
				mismatches += check->visits[i] != model->present[i];
			break;
		default:
			if (prandom_u32_state(&rnd) % 50 == 0) {
				gosync_map_clear(m);
				memset(model, 0, sizeof(*model));
			}
			break;
		}
		mismatches += gosync_map_len(m) != model->len;
		if (mismatches)
			kunit_info(test, "first mismatch at operation %u (key %u)\n",
				   op, k);
	}
	gosync_map_destroy(m);
	KUNIT_EXPECT_EQ(test, mismatches, 0);
	KUNIT_EXPECT_EQ(test, gosync_map_len(m), 0);
}

/* Values of the concurrency tests: which key they belong to, and their fate. */
struct tracked_value {
	unsigned int key;
	atomic_t freed;		/* free_value calls: must end at exactly 1 */
	struct list_head node;
};

static atomic_t tracked_freed_total;

static void tracked_free_value(void *value)
{
	struct tracked_value *tracked = value;

	atomic_inc(&tracked->freed);
	atomic_inc(&tracked_freed_total);
}

/*
 * 512 keys, hashes narrowed to 12 bits in one run: every key then lies at
 * the bottom of a trie 15 levels deep, 256 of them collide in full, and
 * deletes prune long chains of nodes while inserts expand them again.
 */
#define CONC_KEYS		512
#define CONC_STABLE_KEYS	16	/* never written during the run */
#define CONC_WRITES		3000

static const u64 conc_masks[] = { U64_MAX, 0xfff };

KUNIT_ARRAY_PARAM(conc_mask, conc_masks, map_test_mask_desc);

struct conc_ctx {
	struct gosync_map *map;
	bool clears;			/* one writer clears now and then */
	atomic_t writers_running;
	atomic_t wrong_value;
	atomic_t freed_while_held;
	atomic_t bad_range;
	atomic_long_t loads;
	atomic_long_t ranges;
	atomic_t nr_clears;
	spinlock_t values_lock;		/* guards @values */
	struct list_head values;	/* every value ever made, freed at the end */
	atomic_t values_made;
	atomic_t values_never_stored;
};

static struct tracked_value *conc_new_value(struct conc_ctx *ctx, unsigned int k)
{
	struct tracked_value *v = kzalloc(sizeof(*v), GFP_KERNEL);

	if (!v)
		return NULL;
	v->key = k;
	spin_lock(&ctx->values_lock);
	list_add(&v->node, &ctx->values);
	spin_unlock(&ctx->values_lock);
	atomic_inc(&ctx->values_made);
	return v;
}

static bool conc_range_fn(const void *key, size_t len, void *value, void *arg)
{
	unsigned int *visits = arg;
	struct tracked_value *v = value;

	if (atomic_read(&v->freed))
		return false;
	if (v->key < CONC_STABLE_KEYS)
		visits[v->key]++;
	return true;
}

/* One write of a fresh value (or none) to key @k; counts what never entered. */
static void conc_write(struct conc_ctx *ctx, struct rnd_state *rnd,
		       unsigned int k, const u8 *key, size_t len)
{
	struct tracked_value *v = NULL;
	unsigned int op = prandom_u32_state(rnd) % 8;
	bool stored = false;
	void *old;

	if (op < 5) {
		v = conc_new_value(ctx, k);
		if (!v) {
			atomic_inc(&ctx->values_never_stored);
			return;
		}
	}
	switch (op) {
	case 0:
		stored = !gosync_map_store(ctx->map, key, len, v);
		break;
	case 1:
		stored = gosync_map_swap(ctx->map, key, len, v, NULL) >= 0;
		break;
	case 2:
		stored = gosync_map_load_or_store(ctx->map, key, len, v, &old) == 0;
		break;
	case 3:
	case 4:
		/* Only compared as a pointer: no RCU needed. */
		stored = gosync_map_load(ctx->map, key, len, &old) &&
			 gosync_map_compare_and_swap(ctx->map, key, len, old, v);
		break;
	case 5:
		gosync_map_delete(ctx->map, key, len);
		break;
	case 6:
		gosync_map_load_and_delete(ctx->map, key, len, NULL);
		break;
	default:
		if (gosync_map_load(ctx->map, key, len, &old))
			gosync_map_compare_and_delete(ctx->map, key, len, old);
		break;
	}
	if (v && !stored)
		atomic_inc(&ctx->values_never_stored);
}

static int conc_thread(void *data, unsigned int index)
{
	struct conc_ctx *ctx = data;
	struct rnd_state rnd;
	struct tracked_value *got;
	unsigned int visits[CONC_STABLE_KEYS];
	unsigned int i, k;
	u8 key[256];
	size_t len;

	prandom_seed_state(&rnd, index + 1);
	if (index < 2) {
		for (i = 0; i < CONC_WRITES; i++) {
			k = CONC_STABLE_KEYS +
			    prandom_u32_state(&rnd) % (CONC_KEYS - CONC_STABLE_KEYS);
			len = map_test_key(k, key, sizeof(key));
			conc_write(ctx, &rnd, k, key, len);
			if (ctx->clears && index == 0 && i % 200 == 199) {
				gosync_map_clear(ctx->map);
				atomic_inc(&ctx->nr_clears);
			}
		}
		atomic_dec(&ctx->writers_running);
		return 0;
	}
	while (atomic_read(&ctx->writers_running)) {
		k = prandom_u32_state(&rnd) % CONC_KEYS;
		len = map_test_key(k, key, sizeof(key));
		rcu_read_lock();
		if (gosync_map_load(ctx->map, key, len, (void **)&got)) {
			if (got->key != k)
				atomic_inc(&ctx->wrong_value);
			/* Held under RCU: free_value must not have run yet. */
			if (atomic_read(&got->freed))
				atomic_inc(&ctx->freed_while_held);
		}
		rcu_read_unlock();
		atomic_long_inc(&ctx->loads);
		if (index == 2 && atomic_long_read(&ctx->loads) % 64 == 0) {
			memset(visits, 0, sizeof(visits));
			gosync_map_range(ctx->map, conc_range_fn, visits);
			/* Clears take the stable keys too. */
			for (i = 0; i < CONC_STABLE_KEYS && !ctx->clears; i++)
				if (visits[i] != 1)
					atomic_inc(&ctx->bad_range);
			atomic_long_inc(&ctx->ranges);
		}
	}
	return 0;
}

/*
 * Two writers, a reader per CPU and a ranger; then destroy, and every
 * value that entered the map must have been passed to free_value exactly
 * once, and no other.
 */
static void map_concurrent_run(struct kunit *test, u64 mask, bool clears)
{
	const struct gosync_map_params params = {
		.free_value = tracked_free_value,
	};
	struct conc_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	struct tracked_value *v, *next;
	unsigned int nr = 2 + num_online_cpus() + 1;
	unsigned int k, bad_counts = 0, frees = 0;
	u8 key[256];
	size_t len;

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	map_test_narrow_hash(test, mask);
	ctx->map = map_test_new(test, &params);
	ctx->clears = clears;
	spin_lock_init(&ctx->values_lock);
	INIT_LIST_HEAD(&ctx->values);
	atomic_set(&tracked_freed_total, 0);
	for (k = 0; k < CONC_STABLE_KEYS; k++) {
		len = map_test_key(k, key, sizeof(key));
		v = conc_new_value(ctx, k);
		KUNIT_ASSERT_NOT_NULL(test, v);
		KUNIT_ASSERT_EQ(test, gosync_map_store(ctx->map, key, len, v), 0);
	}
	atomic_set(&ctx->writers_running, 2);
	KUNIT_EXPECT_EQ(test, gosync_test_run_threads(test, nr, conc_thread, ctx,
						      NULL), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->wrong_value), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->freed_while_held), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->bad_range), 0);
	KUNIT_EXPECT_GT(test, atomic_long_read(&ctx->ranges), 0);
	if (clears)
		KUNIT_EXPECT_GT(test, atomic_read(&ctx->nr_clears), 0);

	gosync_map_destroy(ctx->map);
	/* Every value that entered the map was freed exactly once; no other. */
	list_for_each_entry_safe(v, next, &ctx->values, node) {
		frees += atomic_read(&v->freed);
		bad_counts += atomic_read(&v->freed) > 1;
		list_del(&v->node);
		kfree(v);
	}
	KUNIT_EXPECT_EQ(test, bad_counts, 0);
	KUNIT_EXPECT_EQ(test, frees, atomic_read(&tracked_freed_total));
	KUNIT_EXPECT_EQ(test, frees, atomic_read(&ctx->values_made) -
				     atomic_read(&ctx->values_never_stored));
	kunit_info(test, "%ld loads, %ld ranges, %d clears, %u values made, %u freed by the map\n",
		   atomic_long_read(&ctx->loads), atomic_long_read(&ctx->ranges),
		   atomic_read(&ctx->nr_clears), atomic_read(&ctx->values_made),
		   frees);
}

static void map_concurrent_readers_and_writers(struct kunit *test)
{
	map_concurrent_run(test, *(const u64 *)test->param_value, false);
}

/* Clears racing writers and readers: no value freed twice, none lost. */
static void map_concurrent_clear_frees_each_value_once(struct kunit *test)
{
	map_concurrent_run(test, 0xfff, true);
}

/*
 * Loads that hold no rcu_read_lock() of their own beside writers that prune
 * nodes and free entries: a load keeps preemption off for its walk, which
 * the grace periods of those frees wait for.  The walk is stretched after
 * it read each node pointer (up to 100 us), so nodes and entries it
 * reached are unhooked and handed to RCU meanwhile; KASAN reports a load
 * that reads freed memory.  Every value found must be the one every
 * writer stores for that key.
 */
#define UNLOCKED_KEYS		64
#define UNLOCKED_WRITES		500

struct unlocked_ctx {
	struct gosync_map *map;
	atomic_t writers_running;
	atomic_long_t loads;
	atomic_t wrong_value;
};

static void *unlocked_value(unsigned int k)
{
	return map_test_value(0x1000 + k);
}

static int unlocked_thread(void *data, unsigned int index)
{
	struct unlocked_ctx *ctx = data;
	struct rnd_state rnd;
	unsigned int i, k;
	void *got;
	u8 key[256];
	size_t len;
	int ret;

	prandom_seed_state(&rnd, 0x10c + index);
	if (index < 2) {
		for (i = 0; i < UNLOCKED_WRITES; i++) {
			k = prandom_u32_state(&rnd) % UNLOCKED_KEYS;
			len = map_test_key(k, key, sizeof(key));
			if (prandom_u32_state(&rnd) % 2)
				gosync_map_delete(ctx->map, key, len);
			else if (gosync_map_store(ctx->map, key, len,
						  unlocked_value(k)))
				atomic_inc(&ctx->wrong_value);
		}
		atomic_dec(&ctx->writers_running);
		return 0;
	}
	while (atomic_read(&ctx->writers_running)) {
		k = prandom_u32_state(&rnd) % UNLOCKED_KEYS;
		len = map_test_key(k, key, sizeof(key));
		got = NULL;
		if (prandom_u32_state(&rnd) % 4) {
			ret = gosync_map_load(ctx->map, key, len, &got);
		} else {
			/* A hit takes load_or_store's lock-free first look. */
			ret = gosync_map_load_or_store(ctx->map, key, len,
						       unlocked_value(k), &got);
			if (ret >= 0)
				ret = 1;
		}
		if (ret == 1 && got != unlocked_value(k))
			atomic_inc(&ctx->wrong_value);
		atomic_long_inc(&ctx->loads);
		cond_resched();
	}
	return 0;
}

static void map_loads_need_no_rcu_read_lock(struct kunit *test)
{
	struct unlocked_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	unsigned int nr = 2 + num_online_cpus();
	u64 hits = gosync_delay_point_hits(GOSYNC_DELAY_MAP_DESCEND_BEFORE_NODE);

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	/* Deep paths: more nodes per walk, pruned more often. */
	map_test_narrow_hash(test, 0xfff0f0f0ULL);
	ctx->map = map_test_new(test, NULL);
	atomic_set(&ctx->writers_running, 2);
	gosync_test_arm_delay(test, GOSYNC_DELAY_MAP_DESCEND_BEFORE_NODE, 100);
	KUNIT_EXPECT_EQ(test, gosync_test_run_threads(test, nr, unlocked_thread,
						      ctx, NULL), 0);
	hits = gosync_delay_point_hits(GOSYNC_DELAY_MAP_DESCEND_BEFORE_NODE) - hits;
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->wrong_value), 0);
	KUNIT_EXPECT_GT(test, hits, 0);
	KUNIT_EXPECT_GT(test, atomic_long_read(&ctx->loads), 0);
	kunit_info(test, "%ld loads, %llu stretched walks\n",
		   atomic_long_read(&ctx->loads), hits);
}

/*
 * 8 Ki keys.  A million keys took 33 s on an idle host and over 60 s on a
 * loaded one (the hung-task timeout); on the KASAN kernel of a loaded
 * host 64 Ki keys took 57 s and 16 Ki keys 25 s.  Big sizes belong in a
 * benchmark or the torture module, not in a KUnit case.
 */
#define GROWTH_KEYS 8192

static void map_growth_and_memory(struct kunit *test)
{
	u64 bytes = gosync_stat_read(GOSYNC_STAT_MAP_BYTES);
	u64 entries = gosync_stat_read(GOSYNC_STAT_MAP_ENTRIES);
	struct gosync_map *m = map_test_new(test, NULL);
	unsigned int i, failures = 0;
	u64 peak;

	for (i = 0; i < GROWTH_KEYS; i++) {
		failures += gosync_map_store(m, &i, sizeof(i), map_test_value(i)) != 0;
		if (!(i % 4096))
			cond_resched();
	}
	KUNIT_EXPECT_EQ(test, failures, 0);
	KUNIT_EXPECT_EQ(test, gosync_map_len(m), GROWTH_KEYS);
	peak = gosync_stat_read(GOSYNC_STAT_MAP_BYTES) - bytes;
	for (i = 0; i < GROWTH_KEYS; i += 2) {
		void *got;

		failures += !gosync_map_load(m, &i, sizeof(i), &got) ||
			    got != map_test_value(i);
		failures += !gosync_map_delete(m, &i, sizeof(i));
		if (!(i % 4096))
			cond_resched();
	}
	KUNIT_EXPECT_EQ(test, failures, 0);
	KUNIT_EXPECT_EQ(test, gosync_map_len(m), GROWTH_KEYS / 2);
	gosync_map_destroy(m);
	KUNIT_EXPECT_EQ(test, gosync_stat_read(GOSYNC_STAT_MAP_BYTES), bytes);
	KUNIT_EXPECT_EQ(test, gosync_stat_read(GOSYNC_STAT_MAP_ENTRIES), entries);
	kunit_info(test, "%d keys took %llu bytes at the peak (%llu per key); back to baseline after destroy\n",
		   GROWTH_KEYS, peak, peak / GROWTH_KEYS);
}

/*
 * Storing the pointer that is already there, by any of the four writes
 * that store, changes nothing: the value never left the map, so it must
 * not reach free_value (on the old code each of these retired it: the map
 * then held a freed value).
 */
static void map_same_value_is_never_freed(struct kunit *test)
{
	const struct gosync_map_params params = { .free_value = counting_free };
	struct gosync_map *m = map_test_new(test, &params);
	void *v = map_test_value(1), *w = map_test_value(2), *got;

	atomic_set(&counted_frees, 0);
	KUNIT_ASSERT_EQ(test, gosync_map_store(m, "k", 1, v), 0);
	KUNIT_EXPECT_EQ(test, gosync_map_store(m, "k", 1, v), 0);
	KUNIT_EXPECT_EQ(test, gosync_map_swap(m, "k", 1, v, &got), 1);
	KUNIT_EXPECT_PTR_EQ(test, got, v);
	KUNIT_EXPECT_TRUE(test, gosync_map_compare_and_swap(m, "k", 1, v, v));
	KUNIT_EXPECT_EQ(test, gosync_map_load_or_store(m, "k", 1, v, &got), 1);
	KUNIT_EXPECT_PTR_EQ(test, got, v);
	rcu_barrier();
	KUNIT_EXPECT_EQ(test, atomic_read(&counted_frees), 0);
	KUNIT_EXPECT_TRUE(test, gosync_map_load(m, "k", 1, &got));
	KUNIT_EXPECT_PTR_EQ(test, got, v);
	KUNIT_EXPECT_EQ(test, gosync_map_len(m), 1);

	/* A different value does make the old one leave: freed once. */
	KUNIT_EXPECT_EQ(test, gosync_map_swap(m, "k", 1, w, NULL), 1);
	rcu_barrier();
	KUNIT_EXPECT_EQ(test, atomic_read(&counted_frees), 1);
	gosync_map_destroy(m);
	KUNIT_EXPECT_EQ(test, atomic_read(&counted_frees), 2);
}

static DEFINE_SPINLOCK(map_test_lock);

struct delete_in_range {
	struct gosync_map *map;
	unsigned int deleted;
};

static bool map_delete_visited(const void *key, size_t len, void *value,
			       void *arg)
{
	struct delete_in_range *d = arg;

	d->deleted += gosync_map_delete(d->map, key, len);
	return true;
}

/*
 * Deletes never allocate, so they work where sleeping is forbidden: under
 * rcu_read_lock(), a spinlock, with interrupts off, and inside a range
 * callback (Go's idiom).  So does compare-and-swap in a map without
 * free_value.  The old code said might_alloc(GFP_KERNEL) on every write:
 * "BUG: sleeping function called from invalid context" in the console,
 * which fails the run.
 */
static void map_delete_in_atomic_context(struct kunit *test)
{
	struct delete_in_range d = {};
	struct gosync_map *m;
	unsigned long flags;
	unsigned int i;
	u8 key[256];
	size_t len;
	void *got;
	bool ok;

	map_test_narrow_hash(test, 0xf00f);
	m = map_test_new(test, NULL);
	d.map = m;
	for (i = 0; i < 64; i++) {
		len = map_test_key(i, key, sizeof(key));
		KUNIT_ASSERT_EQ(test, gosync_map_store(m, key, len, map_test_value(i)), 0);
	}
	rcu_read_lock();
	len = map_test_key(0, key, sizeof(key));
	ok = gosync_map_delete(m, key, len);
	KUNIT_EXPECT_TRUE(test, ok);
	len = map_test_key(1, key, sizeof(key));
	ok = gosync_map_compare_and_swap(m, key, len, map_test_value(1),
					 map_test_value(100));
	rcu_read_unlock();
	KUNIT_EXPECT_TRUE(test, ok);

	spin_lock(&map_test_lock);
	len = map_test_key(1, key, sizeof(key));
	ok = gosync_map_load_and_delete(m, key, len, &got);
	spin_unlock(&map_test_lock);
	KUNIT_EXPECT_TRUE(test, ok);
	KUNIT_EXPECT_PTR_EQ(test, got, map_test_value(100));

	local_irq_save(flags);
	len = map_test_key(2, key, sizeof(key));
	ok = gosync_map_compare_and_delete(m, key, len, map_test_value(2));
	local_irq_restore(flags);
	KUNIT_EXPECT_TRUE(test, ok);

	gosync_map_range(m, map_delete_visited, &d);
	KUNIT_EXPECT_EQ(test, d.deleted, 61);
	KUNIT_EXPECT_EQ(test, gosync_map_len(m), 0);
}

/*
 * Writers in hard interrupts (an hrtimer per CPU) and in tasks on the same
 * CPUs, on a GFP_ATOMIC map whose hashes keep only their top and bottom 4
 * bits: 16 subtrees, each a chain of 14 single-child nodes above its keys,
 * so the delete of a subtree's last key prunes the whole chain and the
 * next insert there expands it again.  The delay points widen the window
 * between a node's death and its unhooking, and hold a writer that found
 * its node dead.  On the old code that window was open with interrupts
 * on: a timer writer on the pruner's CPU found the dead node still hooked
 * and walked into it again and again from the root, never letting the
 * pruner run (a hard lockup).  Each writer owns its keys, so the final map
 * is known exactly.
 *
 * Timer writers delete, and replace values with compare-and-swap in place
 * (this map has no free_value, so that allocates nothing).  They insert
 * too, except on PREEMPT_RT, where the slab allocator must not be called
 * from a hard interrupt: there a timer writer hands a key it deleted to
 * its task, which inserts it again and hands it back (ownership passes
 * with a release store of @present, read with an acquire load).
 */
#define IRQ_KEYS	8	/* per writer */
#define IRQ_PERIOD_NS	(200 * NSEC_PER_USEC)
/* A timer writer's second value for a key: id + IRQ_ALT_VALUE. */
#define IRQ_ALT_VALUE	0x100000

struct irq_writer {
	struct hrtimer timer;
	struct gosync_map *map;
	struct rnd_state rnd;
	u32 base;			/* first key id */
	bool present[IRQ_KEYS];
	bool alt[IRQ_KEYS];		/* holds its second value */
	unsigned int ops;
	unsigned int hardirq_ops;	/* made in hard-interrupt context */
	unsigned int failures;		/* wrong results; -ENOMEM is allowed */
	bool stop;
};

struct irq_ctx {
	struct gosync_map *map;
	struct irq_writer *writers;	/* two per thread: the task's, the timer's */
	unsigned long deadline;
	/* Until then, go on past @deadline while no writer found a dead node. */
	unsigned long last_deadline;
	u64 dead_before;
};

static bool irq_storm_goes_on(struct irq_ctx *ctx)
{
	if (time_before(jiffies, ctx->deadline))
		return true;
	return time_before(jiffies, ctx->last_deadline) &&
	       gosync_delay_point_hits(GOSYNC_DELAY_MAP_WRITE_FOUND_DEAD) ==
	       ctx->dead_before;
}

/* Whether @w's key @i is in the map. */
static bool irq_key_present(struct irq_writer *w, unsigned int i)
{
	/*
	 * Acquire: on PREEMPT_RT the task and the timer hand keys to each
	 * other; what the last owner wrote (the map, @alt) is seen by the next.
	 */
	return smp_load_acquire(&w->present[i]);
}

static void irq_key_set_present(struct irq_writer *w, unsigned int i,
				bool present)
{
	/* Release, paired with irq_key_present(): hands the key on. */
	smp_store_release(&w->present[i], present);
}

static void *irq_key_value(struct irq_writer *w, unsigned int i)
{
	return map_test_value(w->base + i + (w->alt[i] ? IRQ_ALT_VALUE : 0));
}

/*
 * Insert @w's key @i, absent; false if there was no memory.  A wrong
 * result counts in *@failures, of the writer that calls.
 */
static bool irq_writer_insert(struct irq_writer *w, unsigned int i,
			      unsigned int *failures)
{
	u32 id = w->base + i;
	int ret;

	w->alt[i] = false;
	ret = gosync_map_load_or_store(w->map, &id, sizeof(id),
				       irq_key_value(w, i), NULL);
	*failures += ret != 0 && ret != -ENOMEM;
	return !ret;
}

/* One random write to @w's keys, in task or hard-interrupt context. */
static void irq_writer_step(struct irq_writer *w, bool may_insert)
{
	unsigned int i = prandom_u32_state(&w->rnd) % IRQ_KEYS;
	u32 id = w->base + i;
	void *got, *old;

	if (!irq_key_present(w, i)) {
		if (!may_insert)
			return;
		irq_key_set_present(w, i, irq_writer_insert(w, i, &w->failures));
	} else if (prandom_u32_state(&w->rnd) % 2) {
		old = irq_key_value(w, i);
		w->alt[i] = !w->alt[i];
		w->failures += !gosync_map_compare_and_swap(w->map, &id, sizeof(id),
							   old, irq_key_value(w, i));
	} else {
		w->failures += !gosync_map_load_and_delete(w->map, &id, sizeof(id), &got) ||
			       got != irq_key_value(w, i);
		irq_key_set_present(w, i, false);
	}
	w->ops++;
	w->hardirq_ops += !!in_hardirq();
}

static enum hrtimer_restart irq_writer_timer(struct hrtimer *timer)
{
	struct irq_writer *w = container_of(timer, struct irq_writer, timer);
	unsigned int n;

	if (READ_ONCE(w->stop))
		return HRTIMER_NORESTART;
	for (n = 0; n < 4; n++)
		irq_writer_step(w, !IS_ENABLED(CONFIG_PREEMPT_RT));
	hrtimer_forward_now(timer, ns_to_ktime(IRQ_PERIOD_NS));
	return HRTIMER_RESTART;
}

static int irq_thread(void *data, unsigned int index)
{
	struct irq_ctx *ctx = data;
	struct irq_writer *task = &ctx->writers[2 * index];
	struct irq_writer *irq = &ctx->writers[2 * index + 1];
	unsigned int i;

	/* Pinned: the timer fires on this thread's CPU, between its writes. */
	hrtimer_start(&irq->timer, ns_to_ktime(IRQ_PERIOD_NS),
		      HRTIMER_MODE_REL_PINNED_HARD);
	while (irq_storm_goes_on(ctx)) {
		irq_writer_step(task, true);
		/* PREEMPT_RT: put back what the timer deleted (see above). */
		i = prandom_u32_state(&task->rnd) % IRQ_KEYS;
		if (IS_ENABLED(CONFIG_PREEMPT_RT) &&
		    !irq_key_present(irq, i))
			irq_key_set_present(irq, i,
					    irq_writer_insert(irq, i, &task->failures));
		if (!(task->ops % 64))
			cond_resched();
	}
	WRITE_ONCE(irq->stop, true);
	hrtimer_cancel(&irq->timer);
	return 0;
}

static void map_irq_writers_on_atomic_map(struct kunit *test)
{
	const struct gosync_map_params params = { .gfp = GFP_ATOMIC };
	u64 hits = gosync_delay_point_hits(GOSYNC_DELAY_MAP_PRUNE_BEFORE_UNHOOK);
	u64 dead = gosync_delay_point_hits(GOSYNC_DELAY_MAP_WRITE_FOUND_DEAD);
	unsigned int nr = num_online_cpus(), i, k;
	unsigned int task_ops = 0, irq_ops = 0, hardirq_ops = 0;
	unsigned int failures = 0, present = 0;
	struct irq_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	void *got;

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->writers = kunit_kcalloc(test, 2 * nr, sizeof(*ctx->writers), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx->writers);
	map_test_narrow_hash(test, 0xf00000000000000fULL);
	ctx->map = map_test_new(test, &params);
	for (i = 0; i < 2 * nr; i++) {
		ctx->writers[i].map = ctx->map;
		ctx->writers[i].base = i * IRQ_KEYS;
		prandom_seed_state(&ctx->writers[i].rnd, 0x1e0 + i);
		hrtimer_init(&ctx->writers[i].timer, CLOCK_MONOTONIC,
			     HRTIMER_MODE_REL_PINNED_HARD);
		ctx->writers[i].timer.function = irq_writer_timer;
	}
	gosync_test_arm_delay(test, GOSYNC_DELAY_MAP_PRUNE_BEFORE_UNHOOK, 100);
	gosync_test_arm_delay(test, GOSYNC_DELAY_MAP_WRITE_FOUND_DEAD, 20);
	ctx->dead_before = dead;
	ctx->deadline = jiffies + msecs_to_jiffies(1500);
	ctx->last_deadline = jiffies + msecs_to_jiffies(8000);
	KUNIT_EXPECT_EQ(test, gosync_test_run_threads(test, nr, irq_thread, ctx,
						      NULL), 0);
	gosync_delay_points_disarm(NULL);
	hits = gosync_delay_point_hits(GOSYNC_DELAY_MAP_PRUNE_BEFORE_UNHOOK) - hits;
	dead = gosync_delay_point_hits(GOSYNC_DELAY_MAP_WRITE_FOUND_DEAD) - dead;

	for (i = 0; i < 2 * nr; i++) {
		struct irq_writer *w = &ctx->writers[i];

		if (i % 2)
			irq_ops += w->ops;
		else
			task_ops += w->ops;
		hardirq_ops += w->hardirq_ops;
		failures += w->failures;
		for (k = 0; k < IRQ_KEYS; k++) {
			u32 id = w->base + k;
			bool found = gosync_map_load(ctx->map, &id, sizeof(id), &got);

			failures += found != w->present[k] ||
				    (found && got != irq_key_value(w, k));
			present += w->present[k];
		}
	}
	KUNIT_EXPECT_EQ(test, failures, 0);
	KUNIT_EXPECT_EQ(test, gosync_map_len(ctx->map), present);
	/* The timer writers really wrote, and from hard interrupts only. */
	KUNIT_EXPECT_GT(test, irq_ops, 0);
	KUNIT_EXPECT_EQ(test, hardirq_ops, irq_ops);
	/* Prunes went through the window, and writers found dead nodes. */
	KUNIT_EXPECT_GT(test, hits, 0);
	KUNIT_EXPECT_GT(test, dead, 0);
	kunit_info(test, "%u task writes, %u hard-interrupt writes, %llu prunes delayed, %llu dead nodes found\n",
		   task_ops, irq_ops, hits, dead);
}

/*
 * gosync_map_destroy() waits for map teardowns (of this map, and of any
 * other map cleared before or during the call) and for no other work.  A
 * worker of gosync_wg_go() blocks until the destroy has returned; the old
 * destroy flushed the workqueue that worker runs on, and waited for it
 * forever (here: past the 5 s bound, after which the worker is let go).
 */
struct destroy_ctx {
	struct gosync_map *map;
	struct gosync_waitgroup wg;
	struct completion worker_started;
	struct completion release_worker;
	struct completion destroyed;
	bool destroyed_in_time;
};

static void destroy_blocked_worker(void *arg)
{
	struct destroy_ctx *ctx = arg;

	complete(&ctx->worker_started);
	wait_for_completion(&ctx->release_worker);
}

static int destroy_thread(void *data, unsigned int index)
{
	struct destroy_ctx *ctx = data;

	if (index == 0) {
		gosync_map_destroy(ctx->map);
		complete(&ctx->destroyed);
		return 0;
	}
	ctx->destroyed_in_time =
		wait_for_completion_timeout(&ctx->destroyed, 5 * HZ);
	complete(&ctx->release_worker);
	return 0;
}

static void map_destroy_waits_for_map_teardowns_only(struct kunit *test)
{
	const struct gosync_map_params params = { .free_value = counting_free };
	struct destroy_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->map = map_test_new(test, &params);
	gosync_wg_init(&ctx->wg);
	init_completion(&ctx->worker_started);
	init_completion(&ctx->release_worker);
	init_completion(&ctx->destroyed);
	atomic_set(&counted_frees, 0);
	for (i = 0; i < 100; i++)
		KUNIT_ASSERT_EQ(test, gosync_map_store(ctx->map, &i, sizeof(i),
						       map_test_value(i)), 0);
	/* A teardown of its own to wait for, and keys left for destroy. */
	gosync_map_clear(ctx->map);
	for (i = 0; i < 50; i++)
		KUNIT_ASSERT_EQ(test, gosync_map_store(ctx->map, &i, sizeof(i),
						       map_test_value(i)), 0);
	KUNIT_ASSERT_EQ(test, gosync_wg_go(&ctx->wg, destroy_blocked_worker, ctx), 0);
	wait_for_completion(&ctx->worker_started);
	KUNIT_EXPECT_EQ(test, gosync_test_run_threads(test, 2, destroy_thread, ctx,
						      NULL), 0);
	gosync_wg_wait(&ctx->wg);
	KUNIT_EXPECT_TRUE(test, ctx->destroyed_in_time);
	/* The map's own teardown was waited for: every value freed, once. */
	KUNIT_EXPECT_EQ(test, atomic_read(&counted_frees), 150);
}

/*
 * A cleared map may be freed at once: its old trie's teardown (delayed here
 * past the free) touches only the trie.  The old teardown reported to the
 * map it came from, a write into freed memory that KASAN caught.  The
 * free_value calls of a freed map's old entries are still waited for by a
 * destroy of any map, and by a destroy right after a clear.
 */
#define CLEARED_MAPS	4
#define CLEARED_KEYS	64

static struct gosync_map *map_test_filled(struct kunit *test, unsigned int keys)
{
	const struct gosync_map_params params = { .free_value = counting_free };
	struct gosync_map *m = kzalloc(sizeof(*m), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, m);
	KUNIT_ASSERT_EQ(test, gosync_map_init(m, &params), 0);
	for (i = 0; i < keys; i++)
		KUNIT_ASSERT_EQ(test, gosync_map_store(m, &i, sizeof(i),
						       map_test_value(i)), 0);
	return m;
}

static void map_cleared_map_may_be_freed_at_once(struct kunit *test)
{
	u64 hits = gosync_delay_point_hits(GOSYNC_DELAY_MAP_TEARDOWN_BEFORE_FREE);
	struct gosync_map *m, other = {};
	unsigned int i;

	gosync_test_arm_delay(test, GOSYNC_DELAY_MAP_TEARDOWN_BEFORE_FREE, 1000);
	atomic_set(&counted_frees, 0);
	for (i = 0; i < CLEARED_MAPS; i++) {
		m = map_test_filled(test, CLEARED_KEYS);
		gosync_map_clear(m);
		kfree(m);
	}
	/* The teardowns of maps that are gone, waited for by another map. */
	gosync_map_destroy(&other);
	KUNIT_EXPECT_EQ(test, atomic_read(&counted_frees),
			CLEARED_MAPS * CLEARED_KEYS);
	/* (Without that wait, give a late teardown the time to show itself.) */
	gosync_test_wait_until(atomic_read(&counted_frees) ==
			       CLEARED_MAPS * CLEARED_KEYS, 5000);
	msleep(100);

	/* Clear, destroy and free at once: destroy waits for the teardown. */
	atomic_set(&counted_frees, 0);
	m = map_test_filled(test, CLEARED_KEYS);
	gosync_map_clear(m);
	for (i = 0; i < CLEARED_KEYS / 2; i++)
		KUNIT_EXPECT_EQ(test, gosync_map_store(m, &i, sizeof(i),
						       map_test_value(i)), 0);
	gosync_map_destroy(m);
	kfree(m);
	KUNIT_EXPECT_EQ(test, atomic_read(&counted_frees),
			CLEARED_KEYS + CLEARED_KEYS / 2);
	KUNIT_EXPECT_GE(test,
			gosync_delay_point_hits(GOSYNC_DELAY_MAP_TEARDOWN_BEFORE_FREE) - hits,
			CLEARED_MAPS + 1);
}

/*
 * A free_value may clear and free a map: a map of maps.  The teardowns
 * that destroy's own work starts are waited for too.  The old destroy
 * ran one rcu_barrier() and one flush: an inner clear made by a teardown
 * during the flush was queued after the barrier, and destroy returned
 * with every inner value still to free (0 of 64 counted here).
 */
#define NESTED_MAPS	4
#define NESTED_KEYS	16

static void nested_map_free(void *value)
{
	struct gosync_map *inner = value;

	gosync_map_clear(inner);
	kfree(inner);
}

static void nested_map_store(struct kunit *test, struct gosync_map *m, u32 key,
			     struct gosync_map *inner)
{
	KUNIT_ASSERT_EQ(test, gosync_map_store(m, &key, sizeof(key), inner), 0);
}

static void map_destroy_waits_for_nested_clears(struct kunit *test)
{
	const struct gosync_map_params params = { .free_value = nested_map_free };
	struct gosync_map outer = {}, *middle;
	unsigned int i, j;

	/* Two levels: clear the outer map, then destroy it. */
	KUNIT_ASSERT_EQ(test, gosync_map_init(&outer, &params), 0);
	atomic_set(&counted_frees, 0);
	for (i = 0; i < NESTED_MAPS; i++)
		nested_map_store(test, &outer, i,
				 map_test_filled(test, NESTED_KEYS));
	gosync_map_clear(&outer);
	gosync_map_destroy(&outer);
	KUNIT_EXPECT_EQ(test, atomic_read(&counted_frees),
			NESTED_MAPS * NESTED_KEYS);

	/* Three levels, destroyed without a clear. */
	KUNIT_ASSERT_EQ(test, gosync_map_init(&outer, &params), 0);
	atomic_set(&counted_frees, 0);
	for (i = 0; i < NESTED_MAPS; i++) {
		middle = kzalloc(sizeof(*middle), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, middle);
		KUNIT_ASSERT_EQ(test, gosync_map_init(middle, &params), 0);
		for (j = 0; j < NESTED_MAPS; j++)
			nested_map_store(test, middle, j,
					 map_test_filled(test, NESTED_KEYS));
		nested_map_store(test, &outer, i, middle);
	}
	gosync_map_destroy(&outer);
	KUNIT_EXPECT_EQ(test, atomic_read(&counted_frees),
			NESTED_MAPS * NESTED_MAPS * NESTED_KEYS);
	/* (Without that wait, let late teardowns finish before the next case.) */
	for (i = 0; i < 3; i++)
		gosync_map_destroy(&outer);
}

/*
 * Writes look before they allocate: with no memory at all, load_or_store
 * of a present key loads (the old code: -ENOMEM), compare-and-swap that
 * fails on the value allocates nothing, and in a map without free_value
 * compare-and-swap and swap replace in place (the old code: false, which
 * a Go-style retry loop cannot tell from "the value differs").  With
 * free_value and gfp flags that may sleep, compare-and-swap still
 * succeeds without memory and frees the old value once.
 */
static void map_lookups_come_before_allocations(struct kunit *test)
{
	const struct gosync_map_params freeing = { .free_value = counting_free };
	const struct gosync_map_params atomic_freeing = {
		.gfp = GFP_ATOMIC, .free_value = counting_free,
	};
	struct gosync_map *m = map_test_new(test, NULL);
	struct gosync_map *mf = map_test_new(test, &freeing);
	struct gosync_map *ma = map_test_new(test, &atomic_freeing);
	u64 fails = gosync_stat_read(GOSYNC_STAT_MAP_ALLOC_FAIL);
	void *got = NULL;

	atomic_set(&counted_frees, 0);
	KUNIT_ASSERT_EQ(test, gosync_map_store(m, "k", 1, map_test_value(1)), 0);
	KUNIT_ASSERT_EQ(test, gosync_map_store(mf, "k", 1, map_test_value(1)), 0);
	KUNIT_ASSERT_EQ(test, gosync_map_store(ma, "k", 1, map_test_value(1)), 0);
	map_test_alloc_budget(test, 0);

	KUNIT_EXPECT_EQ(test, gosync_map_load_or_store(m, "k", 1, map_test_value(2),
						       &got), 1);
	KUNIT_EXPECT_PTR_EQ(test, got, map_test_value(1));
	KUNIT_EXPECT_FALSE(test, gosync_map_compare_and_swap(m, "k", 1,
							     map_test_value(9),
							     map_test_value(2)));
	KUNIT_EXPECT_FALSE(test, gosync_map_compare_and_swap(m, "nope", 4,
							     map_test_value(1),
							     map_test_value(2)));
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(MAP_ALLOC_FAIL, fails), 0);

	KUNIT_EXPECT_TRUE(test, gosync_map_compare_and_swap(m, "k", 1,
							    map_test_value(1),
							    map_test_value(2)));
	KUNIT_EXPECT_EQ(test, gosync_map_swap(m, "k", 1, map_test_value(3), &got), 1);
	KUNIT_EXPECT_PTR_EQ(test, got, map_test_value(2));
	KUNIT_EXPECT_TRUE(test, gosync_map_load(m, "k", 1, &got));
	KUNIT_EXPECT_PTR_EQ(test, got, map_test_value(3));
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(MAP_ALLOC_FAIL, fails), 0);

	/* Only a key that is absent needs memory. */
	KUNIT_EXPECT_EQ(test, gosync_map_load_or_store(m, "new", 3, NULL, NULL),
			-ENOMEM);
	KUNIT_EXPECT_FALSE(test, gosync_map_load(m, "new", 3, NULL));

	KUNIT_EXPECT_TRUE(test, gosync_map_compare_and_swap(mf, "k", 1,
							    map_test_value(1),
							    map_test_value(2)));
	/* Freed by the call itself, after a grace period. */
	KUNIT_EXPECT_EQ(test, atomic_read(&counted_frees), 1);
	KUNIT_EXPECT_TRUE(test, gosync_map_load(mf, "k", 1, &got));
	KUNIT_EXPECT_PTR_EQ(test, got, map_test_value(2));
	/* The failed allocation did not fail the call: not counted. */
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(MAP_ALLOC_FAIL, fails), 1);

	/*
	 * The documented exception: free_value and GFP_ATOMIC, no memory.
	 * False, the map unchanged, and counted.
	 */
	KUNIT_EXPECT_FALSE(test, gosync_map_compare_and_swap(ma, "k", 1,
							     map_test_value(1),
							     map_test_value(2)));
	KUNIT_EXPECT_TRUE(test, gosync_map_load(ma, "k", 1, &got));
	KUNIT_EXPECT_PTR_EQ(test, got, map_test_value(1));
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(MAP_ALLOC_FAIL, fails), 2);
	KUNIT_EXPECT_EQ(test, atomic_read(&counted_frees), 1);
	atomic_set(&gosync_map_alloc_budget, -1);
	gosync_map_destroy(mf);
	KUNIT_EXPECT_EQ(test, atomic_read(&counted_frees), 2);
}

static void map_bad_input(struct kunit *test)
{
	struct gosync_map *m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);
	u8 *big = kunit_kzalloc(test, GOSYNC_MAP_KEY_MAX + 1, GFP_KERNEL);
	u64 misuse = gosync_stat_read(GOSYNC_STAT_MAP_MISUSE);
	void *got = map_test_value(99);

	KUNIT_ASSERT_NOT_NULL(test, m);
	KUNIT_ASSERT_NOT_NULL(test, big);
	KUNIT_ASSERT_EQ(test, gosync_map_store(m, "a", 1, map_test_value(1)), 0);
	KUNIT_EXPECT_EQ(test, gosync_map_store(m, big, GOSYNC_MAP_KEY_MAX,
					       map_test_value(2)), 0);
	gosync_expect_warning_begin();
	KUNIT_EXPECT_EQ(test, gosync_map_store(NULL, "a", 1, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, gosync_map_store(m, "a", 0, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, gosync_map_store(m, big, GOSYNC_MAP_KEY_MAX + 1, NULL),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, gosync_map_store(m, NULL, 1, NULL), -EINVAL);
	KUNIT_EXPECT_FALSE(test, gosync_map_load(m, "a", 0, &got));
	KUNIT_EXPECT_FALSE(test, gosync_map_delete(m, NULL, 1));
	KUNIT_EXPECT_EQ(test, gosync_map_swap(m, "a", 0, NULL, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, gosync_map_load_or_store(m, "a", 0, NULL, NULL), -EINVAL);
	KUNIT_EXPECT_FALSE(test, gosync_map_compare_and_swap(m, "a", 0, NULL, NULL));
	KUNIT_EXPECT_FALSE(test, gosync_map_compare_and_delete(m, "a", 0, NULL));
	KUNIT_EXPECT_EQ(test, gosync_map_init(NULL, NULL), -EINVAL);
	gosync_expect_warning_end();
	KUNIT_EXPECT_EQ(test, gosync_test_stat_delta(MAP_MISUSE, misuse), 11);
	/* Nothing changed. */
	KUNIT_EXPECT_EQ(test, gosync_map_len(m), 2);
	KUNIT_EXPECT_TRUE(test, gosync_map_load(m, "a", 1, &got));
	KUNIT_EXPECT_PTR_EQ(test, got, map_test_value(1));

	/* Destroyed, then initialised again: a working empty map. */
	gosync_map_destroy(m);
	KUNIT_EXPECT_EQ(test, gosync_map_len(m), 0);
	KUNIT_EXPECT_FALSE(test, gosync_map_load(m, "a", 1, &got));
	KUNIT_ASSERT_EQ(test, gosync_map_init(m, NULL), 0);
	KUNIT_EXPECT_EQ(test, gosync_map_store(m, "a", 1, map_test_value(3)), 0);
	KUNIT_EXPECT_TRUE(test, gosync_map_load(m, "a", 1, &got));
	KUNIT_EXPECT_PTR_EQ(test, got, map_test_value(3));
	gosync_map_destroy(m);
}

struct map_snapshot {
	unsigned int keys;
	unsigned long value_sum;
};

static bool map_snapshot_fn(const void *key, size_t len, void *value, void *arg)
{
	struct map_snapshot *snap = arg;

	snap->keys++;
	snap->value_sum += (unsigned long)value * len;
	return true;
}

/*
 * Every allocation a write makes is made before it changes anything: fail
 * the first, second, ... allocation of each kind of write and the map must
 * be exactly as it was.  Narrowed hashes make inserts need deep expansions
 * (several nodes), the case where a late failure could lose an entry.
 */
static void map_failed_allocation_changes_nothing(struct kunit *test)
{
	/* Replacing allocates only to carry a freed value, without sleeping. */
	const struct gosync_map_params params = {
		.gfp = GFP_NOWAIT, .free_value = counting_free,
	};
	struct map_snapshot before = {}, after;
	u64 fails = gosync_stat_read(GOSYNC_STAT_MAP_ALLOC_FAIL);
	unsigned int i, budget, refused = 0;
	struct gosync_map *m;
	u8 key[256];
	size_t len;
	void *got;

	map_test_narrow_hash(test, 0xff00000000000003ULL);
	m = map_test_new(test, &params);
	atomic_set(&counted_frees, 0);
	for (i = 0; i < 40; i++) {
		len = map_test_key(i, key, sizeof(key));
		KUNIT_ASSERT_EQ(test, gosync_map_store(m, key, len, map_test_value(i)), 0);
	}
	gosync_map_range(m, map_snapshot_fn, &before);
	for (i = 40; i < 80; i++) {
		len = map_test_key(i, key, sizeof(key));
		for (budget = 0; budget < 3; budget++) {
			map_test_alloc_budget(test, budget);
			if (gosync_map_store(m, key, len, map_test_value(i)) == -ENOMEM) {
				refused++;
				KUNIT_EXPECT_FALSE(test, gosync_map_load(m, key, len, &got));
			} else {
				/* Enough memory this time: undo it. */
				KUNIT_EXPECT_TRUE(test, gosync_map_delete(m, key, len));
			}
			atomic_set(&gosync_map_alloc_budget, -1);
			memset(&after, 0, sizeof(after));
			gosync_map_range(m, map_snapshot_fn, &after);
			KUNIT_EXPECT_EQ(test, after.keys, before.keys);
			KUNIT_EXPECT_EQ(test, after.value_sum, before.value_sum);
			KUNIT_EXPECT_EQ(test, gosync_map_len(m), 40);
		}
		/* Replacing an existing key fails the same way. */
		len = map_test_key(i - 40, key, sizeof(key));
		map_test_alloc_budget(test, 0);
		KUNIT_EXPECT_EQ(test, gosync_map_swap(m, key, len, map_test_value(999), &got),
				-ENOMEM);
		KUNIT_EXPECT_FALSE(test, gosync_map_compare_and_swap(m, key, len,
								     map_test_value(i - 40),
								     map_test_value(999)));
		atomic_set(&gosync_map_alloc_budget, -1);
		KUNIT_EXPECT_TRUE(test, gosync_map_load(m, key, len, &got));
		KUNIT_EXPECT_PTR_EQ(test, got, map_test_value(i - 40));
	}
	rcu_barrier();
	/* Only the values of the stores undone above left the map. */
	KUNIT_EXPECT_EQ(test, atomic_read(&counted_frees), 120 - refused);
	gosync_map_destroy(m);
	KUNIT_EXPECT_GT(test, refused, 40);
	KUNIT_EXPECT_GE(test, gosync_test_stat_delta(MAP_ALLOC_FAIL, fails), (u64)refused);
	kunit_info(test, "%u writes refused for lack of memory, map unchanged each time\n",
		   refused);
}

/*
 * The same through the kernel's own fault injection: failslab's per-task
 * fail_nth fails exactly the n-th slab allocation of this task, in the
 * real allocator.  failslab leaves sleeping allocations alone unless told
 * otherwise in debugfs, so the map allocates with GFP_NOWAIT (and
 * __GFP_NOWARN: no failure report in the console).
 */
static void map_failslab_changes_nothing(struct kunit *test)
{
#ifdef CONFIG_FAILSLAB
	const struct gosync_map_params params = {
		.gfp = GFP_NOWAIT | __GFP_NOWARN,
	};
	struct map_snapshot before = {}, after;
	unsigned int i, nth, refused = 0, misses = 0;
	struct gosync_map *m;
	u8 key[256];
	size_t len;
	bool fired;
	int ret;

	map_test_narrow_hash(test, 0xf00000000000000fULL);
	m = map_test_new(test, &params);
	for (i = 0; i < 20; i++) {
		len = map_test_key(i, key, sizeof(key));
		KUNIT_ASSERT_EQ(test, gosync_map_store(m, key, len, map_test_value(i)), 0);
	}
	gosync_map_range(m, map_snapshot_fn, &before);
	for (i = 20; i < 60; i++) {
		len = map_test_key(i, key, sizeof(key));
		for (nth = 1; nth <= 3; nth++) {
			WRITE_ONCE(current->fail_nth, nth);
			ret = gosync_map_store(m, key, len, map_test_value(i));
			fired = !READ_ONCE(current->fail_nth);
			WRITE_ONCE(current->fail_nth, 0);
			if (ret) {
				refused++;
				misses += !fired || ret != -ENOMEM ||
					  gosync_map_load(m, key, len, NULL);
			} else {
				misses += !gosync_map_delete(m, key, len);
			}
			memset(&after, 0, sizeof(after));
			gosync_map_range(m, map_snapshot_fn, &after);
			misses += after.keys != before.keys ||
				  after.value_sum != before.value_sum;
		}
	}
	KUNIT_EXPECT_EQ(test, misses, 0);
	KUNIT_EXPECT_GE(test, refused, 40);
	KUNIT_EXPECT_EQ(test, gosync_map_len(m), 20);
	kunit_info(test, "%u stores failed by failslab, map unchanged each time\n",
		   refused);
#else
	kunit_skip(test, "needs CONFIG_FAILSLAB");
#endif
}

static struct kunit_case gosync_map_cases[] = {
	KUNIT_CASE_PARAM(map_model_check, map_test_mask_gen_params),
	KUNIT_CASE_PARAM(map_concurrent_readers_and_writers, conc_mask_gen_params),
	KUNIT_CASE(map_concurrent_clear_frees_each_value_once),
	KUNIT_CASE(map_loads_need_no_rcu_read_lock),
	KUNIT_CASE(map_irq_writers_on_atomic_map),
	KUNIT_CASE_SLOW(map_growth_and_memory),
	KUNIT_CASE(map_failed_allocation_changes_nothing),
	KUNIT_CASE(map_failslab_changes_nothing),
	KUNIT_CASE(map_same_value_is_never_freed),
	KUNIT_CASE(map_delete_in_atomic_context),
	KUNIT_CASE(map_destroy_waits_for_map_teardowns_only),
	KUNIT_CASE(map_cleared_map_may_be_freed_at_once),
	KUNIT_CASE(map_destroy_waits_for_nested_clears),
	KUNIT_CASE(map_lookups_come_before_allocations),
	KUNIT_CASE(map_bad_input),
	{}
};

static struct kunit_suite gosync_map_suite = {
	.name = "gosync_map",
	.test_cases = gosync_map_cases,
};

kunit_test_suite(gosync_map_suite);
