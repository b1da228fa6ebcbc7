// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite of gosync_client: the client's invariants under concurrency,
 * on gosync's worker threads (client_fan_out() starts them with
 * gosync_wg_go()), with exact counts.  Runs when the module is loaded into
 * a kernel built with KUnit ("make test EXTRA_KMODS=samples/client").
 */

#include <kunit/test.h>
#include <linux/cpumask.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "client.h"

#define TEST_JOBS_PER_CPU 4
#define TEST_ROUNDS 500
#define TEST_ROUTES 64
#define TEST_VERSIONS 2000

/* Per case: the table under test and what the jobs saw. */
struct client_test_ctx {
	struct client_table table;
	atomic_t next_index;
	atomic_t torn;
	atomic_t misses;
	atomic_t writer_done;
};

static unsigned int client_test_jobs(void)
{
	return TEST_JOBS_PER_CPU * num_online_cpus();
}

static int client_test_init(struct kunit *test)
{
	struct client_test_ctx *ctx;

	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	if (client_table_init(&ctx->table))
		return -ENOMEM;
	test->priv = ctx;
	return 0;
}

static void client_test_exit(struct kunit *test)
{
	struct client_test_ctx *ctx = test->priv;

	client_table_destroy(&ctx->table);
}

static void register_job(void *arg)
{
	struct client_test_ctx *ctx = arg;
	unsigned int i;

	for (i = 0; i < TEST_ROUNDS; i++) {
		client_register(&ctx->table);
		if (!(i % 64))
			cond_resched();
	}
}

/* The guard()-scoped mutex loses no registration and is left unlocked. */
static void client_register_counts_exact(struct kunit *test)
{
	struct client_test_ctx *ctx = test->priv;
	unsigned int jobs = client_test_jobs();

	KUNIT_ASSERT_EQ(test, client_fan_out(jobs, register_job, ctx), 0);
	KUNIT_EXPECT_EQ(test, ctx->table.registered,
			(unsigned long)jobs * TEST_ROUNDS);
	KUNIT_EXPECT_FALSE(test, gosync_mutex_is_locked(&ctx->table.lock));
	KUNIT_EXPECT_FALSE(test, gosync_mutex_is_starving(&ctx->table.lock));
}

static void setup_job(void *arg)
{
	struct client_test_ctx *ctx = arg;
	struct client_config cfg;

	client_setup(&ctx->table);
	/* Set-up finished before client_setup() returned, in every job. */
	client_read_config(&ctx->table, &cfg);
	if (cfg.version != 1 || cfg.max_routes != 64)
		atomic_inc(&ctx->torn);
}

/* Every job races to set the table up: exactly one runs it, all see it. */
static void client_setup_runs_once(struct kunit *test)
{
	struct client_test_ctx *ctx = test->priv;

	KUNIT_ASSERT_EQ(test, client_fan_out(client_test_jobs(), setup_job, ctx), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->table.setups), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->torn), 0);
	KUNIT_EXPECT_TRUE(test, gosync_once_done(&ctx->table.setup_once));
}

static void config_job(void *arg)
{
	struct client_test_ctx *ctx = arg;
	struct client_config cfg;
	u64 last = 0;
	unsigned int i;

	if (atomic_inc_return(&ctx->next_index) == 1) {
		for (i = 0; i < TEST_VERSIONS; i++)
			client_publish_config(&ctx->table, 100 + i);
		atomic_set_release(&ctx->writer_done, 1);
		return;
	}
	/* Readers: no torn copy, and versions never go backwards. */
	while (!atomic_read_acquire(&ctx->writer_done)) {
		client_read_config(&ctx->table, &cfg);
		if ((cfg.version ^ cfg.max_routes) != cfg.checksum ||
		    cfg.version < last)
			atomic_inc(&ctx->torn);
		last = cfg.version;
		cond_resched();
	}
}

/* One publisher, many readers: no reader ever sees a half-written copy. */
static void client_config_never_torn(struct kunit *test)
{
	struct client_test_ctx *ctx = test->priv;
	struct client_config cfg;

	KUNIT_ASSERT_EQ(test, client_fan_out(client_test_jobs(), config_job, ctx), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->torn), 0);
	client_read_config(&ctx->table, &cfg);
	KUNIT_EXPECT_EQ(test, cfg.version, (u64)TEST_VERSIONS);
	KUNIT_EXPECT_EQ(test, cfg.max_routes, (u64)100 + TEST_VERSIONS - 1);
}

static void route_job(void *arg)
{
	struct client_test_ctx *ctx = arg;
	unsigned int index = atomic_inc_return(&ctx->next_index) - 1;
	unsigned int i;
	u32 id, hops;

	/* Job n replaces routes n, n + jobs, ...; all jobs look up all. */
	for (id = index; id < TEST_ROUTES; id += client_test_jobs())
		if (client_route_store(&ctx->table, id, id + 1))
			atomic_inc(&ctx->misses);
	for (i = 0; i < TEST_ROUNDS; i++) {
		id = (i * 7 + index) % TEST_ROUTES;
		if (!client_route_lookup(&ctx->table, id, &hops) || hops != id + 1)
			atomic_inc(&ctx->misses);
	}
}

/*
 * Lookups race with replacements and always find a whole route; every
 * route the cache ever held is freed exactly once (the replaced ones after
 * a grace period, the rest when the table is destroyed).
 */
static void client_cache_frees_every_route(struct kunit *test)
{
	struct client_test_ctx *ctx = test->priv;
	u32 id, hops;

	for (id = 0; id < TEST_ROUTES; id++)
		KUNIT_ASSERT_EQ(test, client_route_store(&ctx->table, id, id + 1), 0);
	KUNIT_ASSERT_EQ(test, client_fan_out(client_test_jobs(), route_job, ctx), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->misses), 0);
	KUNIT_EXPECT_EQ(test, gosync_map_len(&ctx->table.routes), (size_t)TEST_ROUTES);
	for (id = 0; id < TEST_ROUTES; id++) {
		KUNIT_EXPECT_TRUE(test, client_route_lookup(&ctx->table, id, &hops));
		KUNIT_EXPECT_EQ(test, hops, id + 1);
	}

	client_table_destroy(&ctx->table);
	/* Destroying left an empty map, which the exit hook destroys again. */
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->table.routes_freed), 2 * TEST_ROUTES);
}

static struct kunit_case client_test_cases[] = {
	KUNIT_CASE(client_register_counts_exact),
	KUNIT_CASE(client_setup_runs_once),
	KUNIT_CASE(client_config_never_torn),
	KUNIT_CASE(client_cache_frees_every_route),
	{}
};

static struct kunit_suite client_test_suite = {
	.name = "gosync_client",
	.init = client_test_init,
	.exit = client_test_exit,
	.test_cases = client_test_cases,
};

kunit_test_suite(client_test_suite);
