/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gosync_client: a routing table as a driver might keep one, written
 * against gosync's public headers only.  Shared by client.c and its KUnit
 * suite.
 */
#ifndef _GOSYNC_CLIENT_H
#define _GOSYNC_CLIENT_H

#include <linux/atomic.h>
#include <linux/types.h>

#include <gosync/gosync.h>

/**
 * struct client_config - settings published to lock-free readers
 * @version: bumped by every publication
 * @max_routes: the setting itself
 * @checksum: @version ^ @max_routes, to detect a torn copy
 */
struct client_config {
	u64 version;
	u64 max_routes;
	u64 checksum;
};

/**
 * struct client_table - one routing table
 * @lock: serialises registrations (taken through guard())
 * @registered: registrations so far, under @lock
 * @setup_once: runs the table's one-time set-up
 * @setups: how often the set-up ran (exactly once, or the once is broken)
 * @config_lock: publishes @config to readers that never block
 * @config: the published configuration
 * @routes: route name -> struct client_route, read lock-free under RCU
 * @routes_freed: values the map handed back to client_route_free()
 */
struct client_table {
	struct gosync_mutex lock;
	unsigned long registered;
	struct gosync_once setup_once;
	atomic_t setups;
	struct gosync_seqlock config_lock;
	struct client_config config;
	struct gosync_map routes;
	atomic_t routes_freed;
};

int client_table_init(struct client_table *t);
void client_table_destroy(struct client_table *t);
unsigned long client_register(struct client_table *t);
void client_setup(struct client_table *t);
void client_publish_config(struct client_table *t, u64 max_routes);
void client_read_config(struct client_table *t, struct client_config *cfg);
int client_route_store(struct client_table *t, u32 id, u32 hops);
bool client_route_lookup(struct client_table *t, u32 id, u32 *hops);
int client_fan_out(unsigned int nr, void (*fn)(void *arg), void *arg);

#endif /* _GOSYNC_CLIENT_H */
