/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nftables in-process: the rules inside a sandbox's network namespace and
 * the per-sandbox elements of the host's tables, sent as one nfnetlink
 * batch (one transaction) over a NETLINK_NETFILTER socket.  No tool runs
 * for them: a start pays a few system calls instead of two executions of
 * nft(8), whose start-up alone (dynamic loading, page faults) cost more
 * than the rest of a sandbox's start on the reference machine.
 *
 * What is built here is small and fixed: one table with two base chains
 * and rules made of meta, ct, payload, bitwise, cmp, immediate and reject
 * expressions (the inner rules), and set elements of known types.  The
 * definition of the host's tables (NAT, DNAT maps, fib, the bridge
 * filter) is made once by nft(8) when it is missing or changed
 * (lib/net/net.c), since the nftables language compiler is large.
 *
 * The inner rules are described once, as data (struct ward_nft_inner),
 * from which both the netlink batch and the nft(8) text are made: the
 * text is what `ward explain`, the docs and the tests read, and
 * tests/network/test_nft_inprocess.py checks that both load into the
 * same ruleset.
 */
#ifndef WARD_NET_NFT_H
#define WARD_NET_NFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

enum ward_nft_verdict {
	WARD_NFT_ACCEPT,
	WARD_NFT_DROP,
	WARD_NFT_REJECT, /* icmpx admin-prohibited (TCP and UDP fail at once) */
};

/* One rule of table inet ward, as a conjunction of optional matches. */
struct ward_nft_rule {
	bool output;	  /* chain output; else input */
	signed char lo;	  /* +1: iifname/oifname "lo"; -1: != "lo"; 0: any */
	uint8_t nfproto;  /* 0: any; NFPROTO_IPV4 or NFPROTO_IPV6 */
	bool established; /* ct state established,related */
	uint32_t daddr;	  /* with dlen > 0: ip daddr daddr/dlen (host order) */
	uint8_t dlen;	  /* 0: any destination; 1..32 */
	uint8_t l4proto;  /* 0: any; IPPROTO_TCP or IPPROTO_UDP */
	uint16_t dport;	  /* with l4proto: th dport (0: any) */
	enum ward_nft_verdict verdict;
};

/* Table inet ward: the two base chains' policies and their rules. */
struct ward_nft_inner {
	bool input_drop;  /* policy drop, else accept */
	bool output_drop; /* policy drop, else accept */
	struct ward_nft_rule *rules;
	size_t n_rules;
};

void ward_nft_inner_add(struct ward_nft_inner *t, const struct ward_nft_rule *r);
void ward_nft_inner_free(struct ward_nft_inner *t);

/* Pure: the nft(8) script that makes the same table. */
char *ward_nft_inner_text(const struct ward_nft_inner *t);

/* A batch of nftables messages (one transaction), built in memory. */
struct ward_nft_batch {
	char *buf;
	size_t len, cap;
	unsigned n_msgs; /* messages between begin and end */
	char **what;	 /* per message: what it does, in nft's words (errors) */
	bool ended;
};

void ward_nft_batch_free(struct ward_nft_batch *b);
/* Pure: the messages that make table inet ward (appended to b). */
void ward_nft_batch_inner(struct ward_nft_batch *b, const struct ward_nft_inner *t);

enum ward_nft_elem_op {
	WARD_NFT_ELEM_ADD,    /* add element: no error if it exists */
	WARD_NFT_ELEM_CREATE, /* create element: EEXIST if it exists */
	WARD_NFT_ELEM_DELETE, /* delete element: ENOENT if it is missing */
};

/* Pure: one set (or map) element, key and data in the set's own layout
 * (each part of a concatenation padded to 4 bytes).  family: NFPROTO_*.
 * what: the element in nft's words, for error messages. */
void ward_nft_batch_elem(struct ward_nft_batch *b, enum ward_nft_elem_op op, uint8_t family,
			 const char *table, const char *set, const void *key, size_t klen,
			 const void *data, size_t dlen, const char *what);
/* Pure: delete a table (ENOENT if it is missing). */
void ward_nft_batch_del_table(struct ward_nft_batch *b, uint8_t family, const char *table);

/* A NETLINK_NETFILTER socket in the caller's network namespace (the socket
 * stays in it whatever namespace the caller enters later). */
int ward_nft_socket(ward_error_t *err);
/* Send the batch over fd as one transaction and wait for the kernel's
 * answer.  0, or -1 with *err naming the first message refused and why
 * ((*err)->code is its errno: ENOENT for a missing table or set or
 * element, EEXIST for an element that exists). */
int ward_nft_commit(int fd, struct ward_nft_batch *b, ward_error_t *err);

/* Run a script with /usr/sbin/nft (fixed argument vector, empty
 * environment, no shell); nft's own message goes to msg.  Returns nft's
 * exit status, or -1 if it could not be started. */
int ward_nft_exec(const char *script, char *msg, size_t msglen);

#endif
