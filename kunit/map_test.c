// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite of the gosync map: a sequential model check against a plain
 * array (full hashes, and hashes narrowed to force collisions and the
 * deepest tries), readers and writers on every CPU, the free_value and
 * range contracts, growth to a million keys, bad input.
 */

#include <linux/prandom.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>

#include <gosync/map.h>
#include <gosync/testing.h>

#include "gosync_test.h"

#define MODEL_KEYS	96
#define MODEL_OPS	20000

/* Key @i: "key-<i>", or for every fifth key a long run of bytes. */
static size_t map_test_key(unsigned int i, u8 *buf, size_t size)
{
	size_t len;

	if (i % 5 == 4) {
		len = 100 + i;
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
	struct gosync_map *m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);
	struct model *model = kunit_kzalloc(test, sizeof(*model), GFP_KERNEL);
	struct range_check *check = kunit_kzalloc(test, sizeof(*check), GFP_KERNEL);
	struct rnd_state rnd;
	u8 *key = kunit_kmalloc(test, 256, GFP_KERNEL);
	unsigned int op, i, k, mismatches = 0;
	void *got, *value;
	size_t len;
	int ret;
	bool ok;

	KUNIT_ASSERT_NOT_NULL(test, m);
	KUNIT_ASSERT_NOT_NULL(test, model);
	KUNIT_ASSERT_NOT_NULL(test, check);
	KUNIT_ASSERT_NOT_NULL(test, key);
	prandom_seed_state(&rnd, 0x60512c + mask);
	WRITE_ONCE(gosync_map_hash_mask, mask);

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
	WRITE_ONCE(gosync_map_hash_mask, U64_MAX);
	KUNIT_EXPECT_EQ(test, mismatches, 0);
	KUNIT_EXPECT_EQ(test, gosync_map_len(m), 0);
}

/* Values of the concurrency test: which key they belong to, and their fate. */
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

#define CONC_KEYS		64
#define CONC_STABLE_KEYS	16	/* never written during the run */
#define CONC_WRITES		3000

struct conc_ctx {
	struct gosync_map map;
	atomic_t writers_running;
	atomic_t wrong_value;
	atomic_t freed_while_held;
	atomic_t bad_range;
	atomic_long_t loads;
	atomic_long_t ranges;
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

static int conc_thread(void *data, unsigned int index)
{
	struct conc_ctx *ctx = data;
	struct rnd_state rnd;
	struct tracked_value *v, *got;
	unsigned int visits[CONC_STABLE_KEYS];
	unsigned int i, k;
	u8 key[256];
	size_t len;
	void *old;

	prandom_seed_state(&rnd, index + 1);
	if (index < 2) {
		for (i = 0; i < CONC_WRITES; i++) {
			k = CONC_STABLE_KEYS +
			    prandom_u32_state(&rnd) % (CONC_KEYS - CONC_STABLE_KEYS);
			len = map_test_key(k, key, sizeof(key));
			switch (prandom_u32_state(&rnd) % 4) {
			case 0:
				v = conc_new_value(ctx, k);
				if (!v || gosync_map_store(&ctx->map, key, len, v))
					atomic_inc(&ctx->values_never_stored);
				break;
			case 1:
				gosync_map_delete(&ctx->map, key, len);
				break;
			case 2:
				v = conc_new_value(ctx, k);
				if (!v || gosync_map_swap(&ctx->map, key, len, v, NULL) < 0)
					atomic_inc(&ctx->values_never_stored);
				break;
			default:
				v = conc_new_value(ctx, k);
				if (!v)
					break;
				/* Only compared as a pointer: no RCU needed. */
				if (!gosync_map_load(&ctx->map, key, len, &old) ||
				    !gosync_map_compare_and_swap(&ctx->map, key, len,
								 old, v))
					atomic_inc(&ctx->values_never_stored);
				break;
			}
		}
		atomic_dec(&ctx->writers_running);
		return 0;
	}
	while (atomic_read(&ctx->writers_running)) {
		k = prandom_u32_state(&rnd) % CONC_KEYS;
		len = map_test_key(k, key, sizeof(key));
		rcu_read_lock();
		if (gosync_map_load(&ctx->map, key, len, (void **)&got)) {
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
			gosync_map_range(&ctx->map, conc_range_fn, visits);
			for (i = 0; i < CONC_STABLE_KEYS; i++)
				if (visits[i] != 1)
					atomic_inc(&ctx->bad_range);
			atomic_long_inc(&ctx->ranges);
		}
	}
	return 0;
}

static void map_concurrent_readers_and_writers(struct kunit *test)
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
	KUNIT_ASSERT_EQ(test, gosync_map_init(&ctx->map, &params), 0);
	spin_lock_init(&ctx->values_lock);
	INIT_LIST_HEAD(&ctx->values);
	atomic_set(&tracked_freed_total, 0);
	for (k = 0; k < CONC_STABLE_KEYS; k++) {
		len = map_test_key(k, key, sizeof(key));
		v = conc_new_value(ctx, k);
		KUNIT_ASSERT_NOT_NULL(test, v);
		KUNIT_ASSERT_EQ(test, gosync_map_store(&ctx->map, key, len, v), 0);
	}
	atomic_set(&ctx->writers_running, 2);
	KUNIT_ASSERT_EQ(test, gosync_test_run_threads(test, nr, conc_thread, ctx,
						      NULL), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->wrong_value), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->freed_while_held), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->bad_range), 0);
	KUNIT_EXPECT_GT(test, atomic_long_read(&ctx->ranges), 0);

	gosync_map_destroy(&ctx->map);
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
	kunit_info(test, "%ld loads, %ld ranges, %u values made, %u freed by the map\n",
		   atomic_long_read(&ctx->loads), atomic_long_read(&ctx->ranges),
		   atomic_read(&ctx->values_made), frees);
}

#define GROWTH_KEYS 1000000

static void map_growth_and_memory(struct kunit *test)
{
	struct gosync_map *m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);
	u64 bytes = gosync_stat_read(GOSYNC_STAT_MAP_BYTES);
	u64 entries = gosync_stat_read(GOSYNC_STAT_MAP_ENTRIES);
	unsigned int i, failures = 0;
	u64 peak;

	KUNIT_ASSERT_NOT_NULL(test, m);
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
	struct gosync_map *m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);
	struct map_snapshot before = {}, after;
	u64 fails = gosync_stat_read(GOSYNC_STAT_MAP_ALLOC_FAIL);
	unsigned int i, budget, refused = 0;
	u8 key[256];
	size_t len;
	void *got;

	KUNIT_ASSERT_NOT_NULL(test, m);
	WRITE_ONCE(gosync_map_hash_mask, 0xff00000000000003ULL);
	for (i = 0; i < 40; i++) {
		len = map_test_key(i, key, sizeof(key));
		KUNIT_ASSERT_EQ(test, gosync_map_store(m, key, len, map_test_value(i)), 0);
	}
	gosync_map_range(m, map_snapshot_fn, &before);
	for (i = 40; i < 80; i++) {
		len = map_test_key(i, key, sizeof(key));
		for (budget = 0; budget < 3; budget++) {
			atomic_set(&gosync_map_alloc_budget, budget);
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
		atomic_set(&gosync_map_alloc_budget, 0);
		KUNIT_EXPECT_EQ(test, gosync_map_swap(m, key, len, map_test_value(999), &got),
				-ENOMEM);
		KUNIT_EXPECT_FALSE(test, gosync_map_compare_and_swap(m, key, len,
								     map_test_value(i - 40),
								     map_test_value(999)));
		atomic_set(&gosync_map_alloc_budget, -1);
		KUNIT_EXPECT_TRUE(test, gosync_map_load(m, key, len, &got));
		KUNIT_EXPECT_PTR_EQ(test, got, map_test_value(i - 40));
	}
	gosync_map_destroy(m);
	WRITE_ONCE(gosync_map_hash_mask, U64_MAX);
	KUNIT_EXPECT_GT(test, refused, 40);
	KUNIT_EXPECT_GE(test, gosync_test_stat_delta(MAP_ALLOC_FAIL, fails), (u64)refused);
	kunit_info(test, "%u writes refused for lack of memory, map unchanged each time\n",
		   refused);
}

static struct kunit_case gosync_map_cases[] = {
	KUNIT_CASE_PARAM(map_model_check, map_test_mask_gen_params),
	KUNIT_CASE_SLOW(map_concurrent_readers_and_writers),
	KUNIT_CASE_SLOW(map_growth_and_memory),
	KUNIT_CASE(map_failed_allocation_changes_nothing),
	KUNIT_CASE(map_bad_input),
	{}
};

static struct kunit_suite gosync_map_suite = {
	.name = "gosync_map",
	.test_cases = gosync_map_cases,
};

kunit_test_suite(gosync_map_suite);
