/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The network layer for network.outbound: a veth pair from the sandbox's
 * network namespace into the host bridge ward0, an address from a private
 * range, and NAT in ward's own nftables table (ip ward_nat).
 *
 * The host side is configured by running /usr/sbin/ip and /usr/sbin/nft
 * with fixed argument vectors (no shell); the sandbox side (address, lo,
 * default route) by ioctls from init, which is root in its namespace.
 * See docs/network.md.
 */
#ifndef WARD_NET_H
#define WARD_NET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

#define WARD_NET_DEFAULT_RANGE "10.88.0.0/16"
#define WARD_NET_BRIDGE	       "ward0"
#define WARD_NET_MAX_SLOTS     1024u

struct ward_net {
	char *dir;   /* STATE/net: the lock files */
	int slot_fd; /* flock'ed STATE/net/SLOT.lock: this sandbox's address */
	unsigned slot;
	uint32_t net; /* range, host byte order */
	unsigned prefix;
	uint32_t gw;	  /* ward0's address: net + 1 */
	uint32_t addr;	  /* the sandbox's address: net + 2 + slot */
	char host_if[16]; /* host side of the veth: "wv<supervisor pid>" */
	bool veth;	  /* created */
	bool nat;	  /* address added to the masquerade set */
};

/* Pure: parse "A.B.C.D/N" (8 <= N <= 30, host bits zero). */
int ward_net_parse_range(const char *s, uint32_t *net, unsigned *prefix, ward_error_t *err);
/* Pure: do two IPv4 prefixes overlap? */
bool ward_net_overlaps(uint32_t a, unsigned alen, uint32_t b, unsigned blen);

/* Supervisor, before cloning init: read WARD_NET_RANGE, refuse a range that
 * overlaps a host route, clean up what dead sandboxes left, and take a free
 * address. */
int ward_net_prepare(struct ward_net *n, const char *state_dir, ward_error_t *err);
/* Supervisor, after cloning init: ward0 (on demand), the veth pair (the peer
 * is "eth0" in init's namespace), NAT. */
int ward_net_attach(struct ward_net *n, pid_t init, ward_error_t *err);
/* Init, in the sandbox's namespace: lo up, eth0's address, default route. */
int ward_net_configure_inside(const struct ward_net *n, ward_error_t *err);
/* Supervisor: remove the veth and the NAT element, free the address. */
void ward_net_release(struct ward_net *n);

#endif
