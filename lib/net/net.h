/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The network layer for network.outbound/connect/listen and --publish: a
 * veth pair from the sandbox's network namespace into the host bridge ward0,
 * an address from a private range, nftables rules inside the sandbox's
 * namespace and in ward's own table on the host (ip ward_nat).
 *
 * Links by rtnetlink (rtnl.c), rules by /usr/sbin/nft with fixed argument
 * vectors (no shell); the sandbox side (address, lo, routes) by ioctls
 * from init, which is root in its namespace.  See docs/network.md.
 */
#ifndef WARD_NET_H
#define WARD_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "policy.h"
#include "router.h"

#define WARD_NET_DEFAULT_RANGE "10.88.0.0/16"
#define WARD_NET_BRIDGE	       "ward0"
#define WARD_NET_MAX_SLOTS     1024u
/* Address locks and leftovers records: host-wide, whatever --state-dir says,
 * because ward0 and the range are shared by every ward on the host. */
#define WARD_NET_STATE "/run/ward/net"

/* --add-host NAME:ADDR and --publish HOSTPORT:PORT, as the CLI parsed them. */
struct ward_net_host {
	char *name;
	uint32_t addr; /* host byte order */
};

struct ward_net_publish {
	uint16_t host_port;
	uint16_t port;
};

struct ward_net_opts {
	const struct ward_net_host *hosts;
	size_t n_hosts;
	const struct ward_net_publish *publish;
	size_t n_publish;
	const char *hostname; /* the sandbox's host name ("ward") */
	/* The environment's name as the broker knows it (ward run --name):
	 * recorded with its address, so that network.connect=NAME:PORT of
	 * another sandbox finds it.  NULL: none. */
	const char *name;
	/* The state directory of the broker that knows these names (ward run
	 * --state-dir, default /run/ward).  Names are unique only within one
	 * broker: a name is recorded with, and looked up in, this directory
	 * alone.  NULL: names are neither recorded nor looked up. */
	const char *state_dir;
	/* Rootless (lib/net/router.c): the user's identity (ward_rootless_ids,
	 * full plan) and network directory (<state>/net); NULL in root mode,
	 * whose network state is WARD_NET_STATE. */
	const struct ward_rootless_ids *rootless_ids;
	const char *net_dir;
};

/* A network.connect rule with its address, resolved at start. */
struct ward_net_peer {
	uint32_t addr;
	uint16_t port;
	bool loopback;	       /* 127.0.0.0/8: the sandbox's own loopback */
	bool in_range;	       /* another sandbox: forwarded by ward0, no NAT */
	const char *rule_host; /* as written */
	const char *origin;
};

struct ward_net {
	char *dir;   /* WARD_NET_STATE: the lock files */
	int slot_fd; /* flock'ed STATE/net/SLOT.lock: this sandbox's address */
	/* NETLINK_NETFILTER sockets of the host and of the sandbox's
	 * namespace, kept until the end: closing one that has sent a
	 * transaction waits for the kernel's deferred free of transactions (an
	 * RCU grace period, nft_rcv_nl_event), which must not be part of a
	 * start.  -1: none. */
	int nft_fd, inner_nft_fd;
	unsigned slot;
	uint32_t net; /* range, host byte order */
	unsigned prefix;
	uint32_t gw;	  /* ward0's address: net + 1 */
	uint32_t addr;	  /* the sandbox's address: net + 2 + slot */
	char host_if[16]; /* host side of the veth: "wv<supervisor pid>" */
	bool veth;	  /* created */
	bool nat;	  /* address added to the masquerade set */

	/* What the policy asks for, resolved. */
	bool outbound; /* network.outbound: any address */
	bool lo_open;  /* network.loopback with connect/listen */
	bool filter;   /* network.connect/listen: nftables inside the namespace */
	struct ward_net_peer *peers;
	size_t n_peers;
	uint16_t *listen;
	size_t n_listen;
	struct ward_net_publish *publish;
	size_t n_publish;
	char *hosts_path;      /* STATE/net/SLOT.hosts: the sandbox's /etc/hosts */
	char *resolv_path;     /* STATE/net/SLOT.resolv: its /etc/resolv.conf, or NULL */
	const char *state_dir; /* opts->state_dir (not owned), for messages */
	/* Rootless: the supervisor has joined the user's router (router.h);
	 * the host's IPv4 addresses (host byte order), which the router refuses
	 * to forward to (pasta would reach the host's services there). */
	bool rootless;
	struct ward_net_router router;
	uint32_t *hostaddrs;
	size_t n_hostaddrs;
	int *pub_fds;	/* --publish: the host's sockets, two per publish (rootless: listening;
			 * root: the IPv6 side held, bound); -1 for none */
	char scope[48]; /* "DEV:INO" of state_dir: where names are unique */
};

/* Pure: the MAC address of the sandbox's eth0, derived from its address
 * (02:77 and the four bytes of the address: locally administered, unique
 * on ward0).  The host's bridge filter binds port, MAC and address. */
void ward_net_mac(uint32_t addr, uint8_t mac[6]);

/* Pure: parse "A.B.C.D/N" (8 <= N <= 30, host bits zero). */
int ward_net_parse_range(const char *s, uint32_t *net, unsigned *prefix, ward_error_t *err);
/* Pure: do two IPv4 prefixes overlap? */
bool ward_net_overlaps(uint32_t a, unsigned alen, uint32_t b, unsigned blen);
/* Pure: "NAME:A.B.C.D" (--add-host) and "HOSTPORT:PORT" (--publish). */
int ward_net_parse_host(const char *s, struct ward_net_host *out, ward_error_t *err);
int ward_net_parse_publish(const char *s, struct ward_net_publish *out, ward_error_t *err);
struct ward_nft_inner;
/* Pure: the rules inside the sandbox's namespace, table inet ward (every
 * sandbox with an interface gets one: IPv6 is dropped on eth0 even under
 * network.outbound); ward_nft_inner_free() frees it.  And the same as an
 * nft(8) script (for explain, docs and tests), and the text of its
 * /etc/hosts. */
void ward_net_inner_plan(const struct ward_net *n, struct ward_nft_inner *t);
char *ward_net_inner_rules(const struct ward_net *n);
/* Pure: the nftables script of the host's tables (ip ward_nat and bridge
 * ward), without elements; idempotent. */
char *ward_net_host_rules(const struct ward_net *n);
char *ward_net_hosts_text(const struct ward_net *n, const struct ward_net_opts *o);

struct ward_nft_batch;
/* Pure: the elements of the host's tables one line of a sandbox's record
 * names ("port IFNAME MAC A", "talk A B PORT", "nat A", "out A", "pub
 * HOSTPORT [A PORT]"), added to b (all of them, or only the one numbered
 * only >= 0; b may be NULL to count).  op is an enum ward_nft_elem_op.
 * Returns how many elements the line names (0: none, or malformed). */
int ward_net_record_elems(struct ward_nft_batch *b, int op, const char *line, int only);

/* Supervisor, before cloning init: read WARD_NET_RANGE, refuse a range that
 * overlaps a host route, resolve network.connect hosts, check --publish,
 * clean up what dead sandboxes left, take a free address and write the
 * sandbox's /etc/hosts (n->hosts_path). */
int ward_net_prepare(struct ward_net *n, const struct ward_policy *p, const struct ward_net_opts *o,
		     ward_error_t *err);
/* Supervisor, after cloning init: ward0 (on demand), the veth pair (the peer
 * is "eth0" in init's namespace), NAT, forwarding and publish rules on the
 * host, and the nftables rules inside init's network namespace. */
int ward_net_attach(struct ward_net *n, pid_t init, ward_error_t *err);
/* In the sandbox's network namespace, before any interface but lo exists
 * there (the supervisor, root mode, enters it for this; init, rootless,
 * is in it): IPv6 off for interfaces made from now on, low ports bindable
 * (network.connect/listen), and the rules of ward_net_inner_plan(), loaded
 * in one nftables transaction.  With keep_fd, the netlink socket is handed
 * back there (see nft_fd) instead of being closed. */
int ward_net_setup_inside(const struct ward_net *n, int *keep_fd, ward_error_t *err);
/* Init, in the sandbox's namespace: lo up, eth0's address, routes. */
int ward_net_configure_inside(const struct ward_net *n, ward_error_t *err);
/* Supervisor: remove every nftables element and free the address; the veth
 * too unless init_gone (then it goes with the sandbox's namespace). */
void ward_net_release(struct ward_net *n, bool init_gone);
/* Remove what sandboxes whose supervisor died left behind, and ward0 and the
 * table ip ward_nat when no sandbox with an interface runs (ward gc, ward
 * down).  Quiet; returns how many sandboxes' leftovers were removed. */
int ward_net_gc(void);

/* Rootless, in the user's router (its holder): add host addresses (network
 * byte order) to the set of those the router refuses to forward to
 * (ward_net_host_rules).  0, or -1 (no tables yet: the next start adds its
 * own list). */
int ward_net_router_hostaddrs(const uint32_t *be, size_t n);

/* Rootless: the narrowest `local` route whose addresses are listed one by
 * one in the router's refusals (/24: 256 addresses); a wider one stops the
 * start (the host answers on all of it, pasta would reach it). */
#define WARD_NET_LOCAL_ROUTE_MIN 24
/* The host's IPv4 `local` routes (RTN_LOCAL, any table; those in 127/8
 * skipped): FN(network, prefix length, ARG) for each, host byte order.
 * 0, or -1 when rtnetlink fails. */
int ward_net_host_local_routes(void (*fn)(uint32_t net, unsigned prefix, void *arg), void *arg);

#endif
