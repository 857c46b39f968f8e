/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Rootless networking: one network namespace per user, the "router", in
 * which everything root mode does on the host happens (the bridge ward0,
 * the tables ip ward_nat, bridge ward and ip6 ward_hooks, a veth per
 * sandbox), connected to the host's network by one pasta (Debian package
 * passt) that the router's daemon runs.  See docs/network.md#rootless.
 *
 * Why a namespace of the user's, not one pasta per sandbox: a veth between
 * two network namespaces needs CAP_NET_ADMIN over both, which an ordinary
 * user has only where one user namespace is the ancestor of the other.
 * A rootless supervisor therefore joins the router's user namespace (its
 * owner may) before it clones the sandbox, whose user namespace then nests
 * in the router's: the supervisor, root there, makes the veth and loads the
 * rules as root mode does on the host.  Spaces' environments of one user
 * meet in that namespace, never in the host's.  And pasta's start (about
 * 5,000 page faults: 100 to 500 ms here) is paid once per user, not per
 * sandbox.
 *
 * Processes (all the user's own, in the host's pid namespace):
 *   netd    the daemon: in the host's namespaces; starts the holder and
 *           pasta, each with a parent-death signal; ends both, and itself,
 *           when either ends, when no sandbox with a network ran for a while
 *           (WARD_NET_ROUTER_IDLE seconds), or on SIGTERM (`ward gc`);
 *   holder  in the router's user and network namespaces, which it made;
 *           holds them, and forwards --publish connections (below);
 *   pasta   connects the router's "uplink" to the host's network.
 */
#ifndef WARD_NET_ROUTER_H
#define WARD_NET_ROUTER_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "rootless.h"

#define WARD_NET_PASTA	     "/usr/bin/pasta"
#define WARD_NET_UPLINK	     "uplink"
#define WARD_NET_ROUTER_IDLE 2

/* What a sandbox nested in the router's user namespace may map: ids
 * 0..count-1 of the router's, and whether setgroups is allowed there. */
struct ward_net_router {
	uint32_t count;
	bool setgroups;
	int holder_ctl; /* a connection to the holder (--publish); -1: none */
	/* router.lock, held from the join until the sandbox has its slot
	 * (netd ends the router only under it, when no slot is held); -1
	 * once closed. */
	int lock_fd;
};

/* Supervisor, rootless, before it clones init: make the user's router if
 * it does not run (dir: the user's network state directory; ids: the
 * user's identity, full plan), and join its user and network namespaces.
 * The caller is then uid 0 in the router's user namespace (still the user
 * on the host) and in its network namespace, for good. */
int ward_net_router_enter(const char *dir, const struct ward_rootless_ids *ids,
			  struct ward_net_router *out, ward_error_t *err);

/* `ward gc`, rootless: join the router if it runs (for the caller's own
 * cleanup in it) and return 1, else 0.  ward_net_router_stop() ends it. */
int ward_net_router_join_if_running(const char *dir);
void ward_net_router_stop(const char *dir);

#endif
