// SPDX-License-Identifier: GPL-2.0
/*
 * gosync_client: a third-party module that uses every gosync primitive the
 * way a driver would, through the installed headers and Module.symvers
 * only.  At load it runs a short workload and checks its counts; on a
 * kernel with KUnit its suite (client_test.c) runs at load as well.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cleanup.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>

#include "client.h"

/* A cached route; the map frees it after readers are done with it. */
struct client_route {
	struct client_table *table;
	u32 id;
	u32 hops;
};

static void client_route_free(void *value)
{
	struct client_route *route = value;

	/* Called after a grace period, from softirq or process context. */
	atomic_inc(&route->table->routes_freed);
	kfree(route);
}

/**
 * client_table_init() - set up an empty table
 * @t: the table
 *
 * Context: process context.
 * Return: 0, or the error of gosync_map_init().
 */
int client_table_init(struct client_table *t)
{
	const struct gosync_map_params params = { .free_value = client_route_free };

	memset(t, 0, sizeof(*t));
	gosync_mutex_init(&t->lock);
	gosync_once_init(&t->setup_once);
	gosync_seqlock_init(&t->config_lock);
	return gosync_map_init(&t->routes, &params);
}

/**
 * client_table_destroy() - free every cached route
 * @t: the table; nothing may use it any more
 *
 * Context: process context; waits for routes replaced earlier to be freed.
 */
void client_table_destroy(struct client_table *t)
{
	gosync_map_destroy(&t->routes);
}

/**
 * client_register() - count one registration
 * @t: the table
 *
 * Context: process context (may sleep on the mutex).
 * Return: the number of registrations, this one included.
 */
unsigned long client_register(struct client_table *t)
{
	/* Unlocked on every return path, as with a scoped lock in Go's defer. */
	guard(gosync_mutex)(&t->lock);
	return ++t->registered;
}

static void client_setup_once(void *arg)
{
	struct client_table *t = arg;
	const struct client_config first = {
		.version = 1, .max_routes = 64, .checksum = 1 ^ 64,
	};

	atomic_inc(&t->setups);
	gosync_seq_write(&t->config_lock, &t->config, &first);
}

/**
 * client_setup() - make sure the table's set-up has run
 * @t: the table
 *
 * Whoever calls first runs the set-up; the others wait until it finished.
 * Context: process context.
 */
void client_setup(struct client_table *t)
{
	gosync_once_do(&t->setup_once, client_setup_once, t);
}

/**
 * client_publish_config() - publish a new configuration
 * @t: the table
 * @max_routes: the new setting
 *
 * Readers in client_read_config() never see a half-written copy.
 * Context: any context where the seqlock's writer may run (not NMI).
 */
void client_publish_config(struct client_table *t, u64 max_routes)
{
	struct client_config next = { .max_routes = max_routes };

	gosync_write_seqlock(&t->config_lock);
	next.version = t->config.version + 1;
	next.checksum = next.version ^ next.max_routes;
	WRITE_ONCE(t->config.version, next.version);
	WRITE_ONCE(t->config.max_routes, next.max_routes);
	WRITE_ONCE(t->config.checksum, next.checksum);
	gosync_write_sequnlock(&t->config_lock);
}

/**
 * client_read_config() - copy the current configuration
 * @t: the table
 * @cfg: receives a copy no publication overlapped
 *
 * Context: any context; never blocks a writer.
 */
void client_read_config(struct client_table *t, struct client_config *cfg)
{
	gosync_seq_read(&t->config_lock, cfg, &t->config);
}

/**
 * client_route_store() - cache a route, replacing any older one
 * @t: the table
 * @id: the route
 * @hops: its length
 *
 * Context: process context (allocates with GFP_KERNEL).
 * Return: 0 or -ENOMEM.
 */
int client_route_store(struct client_table *t, u32 id, u32 hops)
{
	struct client_route *route;
	int err;

	route = kmalloc(sizeof(*route), GFP_KERNEL);
	if (!route)
		return -ENOMEM;
	route->table = t;
	route->id = id;
	route->hops = hops;
	err = gosync_map_store(&t->routes, &id, sizeof(id), route);
	if (err)
		kfree(route);
	return err;
}

/**
 * client_route_lookup() - look a route up without taking any lock
 * @t: the table
 * @id: the route
 * @hops: receives its length when found
 *
 * Context: any context.
 * Return: whether the route is cached.
 */
bool client_route_lookup(struct client_table *t, u32 id, u32 *hops)
{
	struct client_route *route;
	bool found;

	/* The route stays valid until rcu_read_unlock(), even if replaced. */
	rcu_read_lock();
	found = gosync_map_load(&t->routes, &id, sizeof(id), (void **)&route) &&
		route->id == id;
	if (found)
		*hops = route->hops;
	rcu_read_unlock();
	return found;
}

/**
 * client_fan_out() - run @fn(@arg) as @nr concurrent jobs and wait for all
 * @nr: how many jobs
 * @fn: the job
 * @arg: its argument
 *
 * Context: process context.
 * Return: 0, or the error of the first job that could not be started (the
 * jobs started before it still ran to completion).
 */
int client_fan_out(unsigned int nr, void (*fn)(void *arg), void *arg)
{
	DEFINE_GOSYNC_WAITGROUP(jobs);
	unsigned int i;
	int err = 0;

	for (i = 0; i < nr && !err; i++)
		err = gosync_wg_go(&jobs, fn, arg);
	gosync_wg_wait(&jobs);
	return err;
}

/* The load-time workload: every job registers and refreshes routes. */
#define CLIENT_JOBS 8
#define CLIENT_ROUNDS 100

static struct client_table client_table;

static void client_job(void *arg)
{
	struct client_table *t = arg;
	struct client_config cfg;
	unsigned int i;
	u32 hops;

	client_setup(t);
	for (i = 0; i < CLIENT_ROUNDS; i++) {
		client_register(t);
		client_read_config(t, &cfg);
		if (client_route_lookup(t, i, &hops))
			WARN_ON_ONCE(hops != i + 1);
	}
}

static int __init client_init(void)
{
	u32 id;
	int err;

	err = client_table_init(&client_table);
	for (id = 0; id < CLIENT_ROUNDS && !err; id++)
		err = client_route_store(&client_table, id, id + 1);
	if (!err)
		err = client_fan_out(CLIENT_JOBS, client_job, &client_table);
	if (err) {
		client_table_destroy(&client_table);
		return err;
	}
	pr_info("%u jobs: %lu registrations (expected %u), set-up ran %d time(s), %zu routes cached\n",
		CLIENT_JOBS, client_table.registered, CLIENT_JOBS * CLIENT_ROUNDS,
		atomic_read(&client_table.setups),
		gosync_map_len(&client_table.routes));
	return 0;
}

static void __exit client_exit(void)
{
	client_table_destroy(&client_table);
	pr_info("unloaded: %d routes freed\n",
		atomic_read(&client_table.routes_freed));
}

module_init(client_init);
module_exit(client_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("A third-party client of gosync, with its own KUnit suite");
