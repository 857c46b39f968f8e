/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nftables in-process over nfnetlink; see nft.h.
 *
 * A transaction is a batch: NFNL_MSG_BATCH_BEGIN, the nf_tables messages,
 * NFNL_MSG_BATCH_END, sent in one sendto(2).  The kernel processes the
 * whole batch inside that call (nfnetlink_rcv_batch) and either commits
 * every message or none, so the answers (an acknowledgement or an error
 * per message, NLM_F_ACK) are already queued on the socket when sendto
 * returns; they are read until the queue is empty.
 *
 * Register and data layout follow what nft(8) 1.0.6 emits for the same
 * rules (`nft --debug=netlink`): 16-byte registers (NFT_REG_1), interface
 * names compared over IFNAMSIZ bytes, ports and addresses in network
 * order, ct state as a host-order bit mask.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nft.h"
#include "util.h"

#define NFT_BIN	  "/usr/sbin/nft"
#define INNER_TBL "ward"

/* ct state bits (NF_CT_STATE_BIT): established 1 << 1, related 1 << 2. */
#define CT_EST_REL 0x6u

/* ---- the description of the inner rules ---- */

void ward_nft_inner_add(struct ward_nft_inner *t, const struct ward_nft_rule *r)
{
	t->rules = ward_xrealloc(t->rules, (t->n_rules + 1) * sizeof(*t->rules));
	t->rules[t->n_rules++] = *r;
}

void ward_nft_inner_free(struct ward_nft_inner *t)
{
	free(t->rules);
	t->rules = NULL;
	t->n_rules = 0;
}

static const char *proto_name(uint8_t p)
{
	return p == IPPROTO_TCP ? "tcp" : p == IPPROTO_UDP ? "udp" : "?";
}

/* The matches of a rule, in nft's words (" iifname ..." ... " accept"). */
static char *rule_text(const struct ward_nft_rule *r)
{
	char *s = NULL, a[INET_ADDRSTRLEN];
	const char *dir = r->output ? "oifname" : "iifname";

	if (r->lo)
		ward_xappendf(&s, " %s %s\"lo\"", dir, r->lo > 0 ? "" : "!= ");
	if (r->dlen) {
		struct in_addr in = {.s_addr = htonl(r->daddr)};

		inet_ntop(AF_INET, &in, a, sizeof(a));
		if (r->dlen == 32)
			ward_xappendf(&s, " ip daddr %s", a);
		else
			ward_xappendf(&s, " ip daddr %s/%u", a, r->dlen);
	} else if (r->nfproto) {
		ward_xappendf(&s, " meta nfproto %s", r->nfproto == NFPROTO_IPV6 ? "ipv6" : "ipv4");
	}
	if (r->established)
		ward_xappendf(&s, " ct state established,related");
	if (r->l4proto) {
		ward_xappendf(&s, " meta l4proto %s", proto_name(r->l4proto));
		if (r->dport)
			ward_xappendf(&s, " th dport %u", r->dport);
	}
	ward_xappendf(&s, "%s",
		      r->verdict == WARD_NFT_ACCEPT ? " accept"
		      : r->verdict == WARD_NFT_DROP ? " drop"
						    : " reject with icmpx type admin-prohibited");
	return s;
}

char *ward_nft_inner_text(const struct ward_nft_inner *t)
{
	char *s = NULL;
	size_t i;

	ward_xappendf(
		&s,
		"add table inet " INNER_TBL "; "
		"add chain inet " INNER_TBL " input { type filter hook input priority filter; "
		"policy %s; }; "
		"add chain inet " INNER_TBL " output { type filter hook output priority filter; "
		"policy %s; }; ",
		t->input_drop ? "drop" : "accept", t->output_drop ? "drop" : "accept");
	for (i = 0; i < t->n_rules; i++) {
		cleanup_free char *m = rule_text(&t->rules[i]);

		ward_xappendf(&s, "add rule inet " INNER_TBL " %s%s; ",
			      t->rules[i].output ? "output" : "input", m);
	}
	return s;
}

/* ---- building a batch ---- */

static void *room(struct ward_nft_batch *b, size_t len)
{
	size_t need = b->len + NLMSG_ALIGN(len);
	void *p;

	if (need > b->cap) {
		b->cap = need > 2 * b->cap ? need + 1024 : 2 * b->cap;
		b->buf = ward_xrealloc(b->buf, b->cap);
	}
	p = b->buf + b->len;
	memset(p, 0, NLMSG_ALIGN(len));
	b->len = need;
	return p;
}

/* A message header: nlmsghdr + nfgenmsg.  Returns its offset. */
static size_t msg_begin(struct ward_nft_batch *b, uint16_t type, uint16_t flags, uint8_t family,
			uint16_t res_id, uint32_t seq)
{
	size_t off = b->len;
	struct nlmsghdr *h = room(b, NLMSG_HDRLEN);
	struct nfgenmsg *g;

	h->nlmsg_type = type;
	h->nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
	h->nlmsg_seq = seq;
	g = room(b, sizeof(*g));
	g->nfgen_family = family;
	g->version = NFNETLINK_V0;
	g->res_id = htons(res_id);
	return off;
}

static void msg_end(struct ward_nft_batch *b, size_t off)
{
	((struct nlmsghdr *)(void *)(b->buf + off))->nlmsg_len = (uint32_t)(b->len - off);
}

static void put(struct ward_nft_batch *b, uint16_t type, const void *data, size_t len)
{
	struct nlattr *a = room(b, NLA_HDRLEN + len);

	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	if (len)
		memcpy((char *)a + NLA_HDRLEN, data, len);
}

static void put_str(struct ward_nft_batch *b, uint16_t type, const char *s)
{
	put(b, type, s, strlen(s) + 1);
}

static void put_be32(struct ward_nft_batch *b, uint16_t type, uint32_t v)
{
	uint32_t be = htonl(v);

	put(b, type, &be, sizeof(be));
}

static size_t nest(struct ward_nft_batch *b, uint16_t type)
{
	size_t off = b->len;
	struct nlattr *a = room(b, NLA_HDRLEN);

	a->nla_type = (uint16_t)(type | NLA_F_NESTED);
	return off;
}

static void nest_end(struct ward_nft_batch *b, size_t off)
{
	((struct nlattr *)(void *)(b->buf + off))->nla_len = (uint16_t)(b->len - off);
}

/* NFTA_DATA_VALUE inside a nest of the given type. */
static void put_value(struct ward_nft_batch *b, uint16_t type, const void *data, size_t len)
{
	size_t n = nest(b, type);

	put(b, NFTA_DATA_VALUE, data, len);
	nest_end(b, n);
}

/* A data message of the transaction; what says it in nft's words. */
static size_t data_begin(struct ward_nft_batch *b, uint16_t msg, uint16_t flags, uint8_t family,
			 char *what)
{
	if (b->len == 0) {
		size_t o =
			msg_begin(b, NFNL_MSG_BATCH_BEGIN, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES, 0);

		msg_end(b, o);
	}
	b->what = ward_xrealloc(b->what, (b->n_msgs + 1) * sizeof(*b->what));
	b->what[b->n_msgs++] = what;
	return msg_begin(b, (uint16_t)((NFNL_SUBSYS_NFTABLES << 8) | msg),
			 (uint16_t)(NLM_F_ACK | flags), family, 0, b->n_msgs);
}

void ward_nft_batch_free(struct ward_nft_batch *b)
{
	unsigned i;

	for (i = 0; i < b->n_msgs; i++)
		free(b->what[i]);
	free(b->what);
	free(b->buf);
	memset(b, 0, sizeof(*b));
}

/* ---- expressions ---- */

static size_t expr_begin(struct ward_nft_batch *b, const char *name, size_t *data)
{
	size_t e = nest(b, NFTA_LIST_ELEM);

	put_str(b, NFTA_EXPR_NAME, name);
	*data = nest(b, NFTA_EXPR_DATA);
	return e;
}

static void expr_end(struct ward_nft_batch *b, size_t e, size_t data)
{
	nest_end(b, data);
	nest_end(b, e);
}

static void e_meta(struct ward_nft_batch *b, uint32_t key)
{
	size_t d, e = expr_begin(b, "meta", &d);

	put_be32(b, NFTA_META_DREG, NFT_REG_1);
	put_be32(b, NFTA_META_KEY, key);
	expr_end(b, e, d);
}

static void e_cmp(struct ward_nft_batch *b, uint32_t op, const void *v, size_t len)
{
	size_t d, e = expr_begin(b, "cmp", &d);

	put_be32(b, NFTA_CMP_SREG, NFT_REG_1);
	put_be32(b, NFTA_CMP_OP, op);
	put_value(b, NFTA_CMP_DATA, v, len);
	expr_end(b, e, d);
}

static void e_payload(struct ward_nft_batch *b, uint32_t base, uint32_t offset, uint32_t len)
{
	size_t d, e = expr_begin(b, "payload", &d);

	put_be32(b, NFTA_PAYLOAD_DREG, NFT_REG_1);
	put_be32(b, NFTA_PAYLOAD_BASE, base);
	put_be32(b, NFTA_PAYLOAD_OFFSET, offset);
	put_be32(b, NFTA_PAYLOAD_LEN, len);
	expr_end(b, e, d);
}

/* reg1 = (reg1 & mask) ^ 0 over 4 bytes (mask in memory order). */
static void e_and(struct ward_nft_batch *b, const void *mask)
{
	static const uint32_t zero;
	size_t d, e = expr_begin(b, "bitwise", &d);

	put_be32(b, NFTA_BITWISE_SREG, NFT_REG_1);
	put_be32(b, NFTA_BITWISE_DREG, NFT_REG_1);
	put_be32(b, NFTA_BITWISE_LEN, 4);
	put_value(b, NFTA_BITWISE_MASK, mask, 4);
	put_value(b, NFTA_BITWISE_XOR, &zero, 4);
	expr_end(b, e, d);
}

static void e_ct_state(struct ward_nft_batch *b)
{
	size_t d, e = expr_begin(b, "ct", &d);

	put_be32(b, NFTA_CT_DREG, NFT_REG_1);
	put_be32(b, NFTA_CT_KEY, NFT_CT_STATE);
	expr_end(b, e, d);
}

static void e_verdict(struct ward_nft_batch *b, enum ward_nft_verdict v)
{
	size_t d, e;

	if (v == WARD_NFT_REJECT) {
		uint8_t code = NFT_REJECT_ICMPX_ADMIN_PROHIBITED;

		e = expr_begin(b, "reject", &d);
		put_be32(b, NFTA_REJECT_TYPE, NFT_REJECT_ICMPX_UNREACH);
		put(b, NFTA_REJECT_ICMP_CODE, &code, 1);
		expr_end(b, e, d);
		return;
	}
	e = expr_begin(b, "immediate", &d);
	put_be32(b, NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
	{
		size_t data = nest(b, NFTA_IMMEDIATE_DATA), verd = nest(b, NFTA_DATA_VERDICT);

		put_be32(b, NFTA_VERDICT_CODE, v == WARD_NFT_ACCEPT ? NF_ACCEPT : NF_DROP);
		nest_end(b, verd);
		nest_end(b, data);
	}
	expr_end(b, e, d);
}

/* The expressions of one rule, in the order rule_text() writes them. */
static void rule_exprs(struct ward_nft_batch *b, const struct ward_nft_rule *r)
{
	if (r->lo) {
		char lo[IFNAMSIZ] = "lo";

		e_meta(b, r->output ? NFT_META_OIFNAME : NFT_META_IIFNAME);
		e_cmp(b, r->lo > 0 ? NFT_CMP_EQ : NFT_CMP_NEQ, lo, sizeof(lo));
	}
	if (r->dlen || r->nfproto) {
		uint8_t p = r->dlen ? NFPROTO_IPV4 : r->nfproto;

		e_meta(b, NFT_META_NFPROTO);
		e_cmp(b, NFT_CMP_EQ, &p, 1);
	}
	if (r->dlen) {
		uint32_t mask = htonl(r->dlen >= 32 ? 0xffffffffu : ~(0xffffffffu >> r->dlen));
		uint32_t a = htonl(r->daddr) & mask;

		/* ip daddr: offset 16 of the IPv4 header. */
		e_payload(b, NFT_PAYLOAD_NETWORK_HEADER, 16, 4);
		if (r->dlen < 32)
			e_and(b, &mask);
		e_cmp(b, NFT_CMP_EQ, &a, 4);
	}
	if (r->established) {
		uint32_t mask = CT_EST_REL, zero = 0;

		e_ct_state(b);
		e_and(b, &mask);
		e_cmp(b, NFT_CMP_NEQ, &zero, 4);
	}
	if (r->l4proto) {
		e_meta(b, NFT_META_L4PROTO);
		e_cmp(b, NFT_CMP_EQ, &r->l4proto, 1);
		if (r->dport) {
			uint16_t port = htons(r->dport);

			/* th dport: offset 2 of the TCP and the UDP header. */
			e_payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
			e_cmp(b, NFT_CMP_EQ, &port, 2);
		}
	}
	e_verdict(b, r->verdict);
}

static void base_chain(struct ward_nft_batch *b, const char *name, uint32_t hook, bool drop)
{
	size_t m = data_begin(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE, NFPROTO_INET,
			      ward_xasprintf("add chain inet " INNER_TBL " %s", name));
	size_t h;

	put_str(b, NFTA_CHAIN_TABLE, INNER_TBL);
	put_str(b, NFTA_CHAIN_NAME, name);
	h = nest(b, NFTA_CHAIN_HOOK);
	put_be32(b, NFTA_HOOK_HOOKNUM, hook);
	put_be32(b, NFTA_HOOK_PRIORITY, 0); /* priority filter */
	nest_end(b, h);
	put_be32(b, NFTA_CHAIN_POLICY, drop ? NF_DROP : NF_ACCEPT);
	put_str(b, NFTA_CHAIN_TYPE, "filter");
	msg_end(b, m);
}

void ward_nft_batch_inner(struct ward_nft_batch *b, const struct ward_nft_inner *t)
{
	size_t i, m;

	m = data_begin(b, NFT_MSG_NEWTABLE, NLM_F_CREATE, NFPROTO_INET,
		       ward_xstrdup("add table inet " INNER_TBL));
	put_str(b, NFTA_TABLE_NAME, INNER_TBL);
	put_be32(b, NFTA_TABLE_FLAGS, 0);
	msg_end(b, m);
	base_chain(b, "input", NF_INET_LOCAL_IN, t->input_drop);
	base_chain(b, "output", NF_INET_LOCAL_OUT, t->output_drop);
	for (i = 0; i < t->n_rules; i++) {
		const struct ward_nft_rule *r = &t->rules[i];
		const char *chain = r->output ? "output" : "input";
		cleanup_free char *txt = rule_text(r);
		size_t ex;

		m = data_begin(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, NFPROTO_INET,
			       ward_xasprintf("add rule inet " INNER_TBL " %s%s", chain, txt));
		put_str(b, NFTA_RULE_TABLE, INNER_TBL);
		put_str(b, NFTA_RULE_CHAIN, chain);
		ex = nest(b, NFTA_RULE_EXPRESSIONS);
		rule_exprs(b, r);
		nest_end(b, ex);
		msg_end(b, m);
	}
}

void ward_nft_batch_elem(struct ward_nft_batch *b, enum ward_nft_elem_op op, uint8_t family,
			 const char *table, const char *set, const void *key, size_t klen,
			 const void *data, size_t dlen, const char *what)
{
	static const char *const verb[] = {"add", "create", "delete"};
	size_t m, list, el;

	m = data_begin(b, op == WARD_NFT_ELEM_DELETE ? NFT_MSG_DELSETELEM : NFT_MSG_NEWSETELEM,
		       op == WARD_NFT_ELEM_ADD	    ? NLM_F_CREATE
		       : op == WARD_NFT_ELEM_CREATE ? NLM_F_CREATE | NLM_F_EXCL
						    : 0,
		       family, ward_xasprintf("%s element %s", verb[op], what));
	put_str(b, NFTA_SET_ELEM_LIST_TABLE, table);
	put_str(b, NFTA_SET_ELEM_LIST_SET, set);
	list = nest(b, NFTA_SET_ELEM_LIST_ELEMENTS);
	el = nest(b, NFTA_LIST_ELEM);
	put_value(b, NFTA_SET_ELEM_KEY, key, klen);
	if (data && op != WARD_NFT_ELEM_DELETE)
		put_value(b, NFTA_SET_ELEM_DATA, data, dlen);
	nest_end(b, el);
	nest_end(b, list);
	msg_end(b, m);
}

void ward_nft_batch_del_table(struct ward_nft_batch *b, uint8_t family, const char *table)
{
	size_t m = data_begin(b, NFT_MSG_DELTABLE, 0, family,
			      ward_xasprintf("delete table %s %s",
					     family == NFPROTO_BRIDGE ? "bridge"
					     : family == NFPROTO_INET ? "inet"
					     : family == NFPROTO_IPV6 ? "ip6"
								      : "ip",
					     table));

	put_str(b, NFTA_TABLE_NAME, table);
	msg_end(b, m);
}

/* ---- talking to the kernel ---- */

int ward_nft_socket(ward_error_t *err)
{
	int one = 1;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);

	if (fd < 0)
		return ward_error_sys(err, "network: cannot open a netfilter netlink socket");
	/* Acknowledgements without a copy of the request: the answers of a
	 * whole batch fit in the socket's queue. */
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	return fd;
}

int ward_nft_commit(int fd, struct ward_nft_batch *b, ward_error_t *err)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	char answer[8192];
	int first_err = 0;
	unsigned failed = 0, answered = 0;

	if (b->n_msgs == 0)
		return 0;
	if (!b->ended) {
		size_t o = msg_begin(b, NFNL_MSG_BATCH_END, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES,
				     b->n_msgs + 1);

		msg_end(b, o);
		b->ended = true;
	}
	while (sendto(fd, b->buf, b->len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		if (errno != EINTR)
			return ward_error_sys(err, "network: cannot send the nftables transaction");
	/* The batch was processed inside sendto: every answer is queued
	 * already.  Read until the queue is empty. */
	for (;;) {
		ssize_t n = recv(fd, answer, sizeof(answer), MSG_DONTWAIT);
		struct nlmsghdr *h;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			return ward_error_sys(err, "network: reading the answer to the nftables "
						   "transaction");
		}
		for (h = (struct nlmsghdr *)(void *)answer; NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			const struct nlmsgerr *e;

			if (h->nlmsg_type != NLMSG_ERROR)
				continue;
			answered++;
			e = NLMSG_DATA(h);
			if (e->error != 0 && first_err == 0) {
				first_err = -e->error;
				failed = h->nlmsg_seq;
			}
		}
	}
	if (first_err == 0 && answered < b->n_msgs)
		return ward_error_set(err, EIO,
				      "network: the kernel answered %u of the %u messages of the "
				      "nftables transaction",
				      answered, b->n_msgs);
	if (first_err) {
		const char *what = failed >= 1 && failed <= b->n_msgs ? b->what[failed - 1] : "?";

		return ward_error_set(err, first_err, "%s: %s", what, strerror(first_err));
	}
	return 0;
}

/* ---- nft(8), for the host's table definitions ---- */

static __attribute__((noreturn)) void child_say(const char *what, int e)
{
	char buf[256];
	int len = snprintf(buf, sizeof(buf), "%s: %s", what, strerror(e));

	if (len > 0 && write(2, buf, (size_t)len) < 0) {
		/* Nothing left to tell it to. */
	}
	_exit(127);
}

int ward_nft_exec(const char *script, char *msg, size_t msglen)
{
	static char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
	char *const argv[] = {NFT_BIN, (char *)script, NULL};
	ssize_t n = 0, r;
	int ep[2], st;
	pid_t pid;

	msg[0] = '\0';
	if (pipe2(ep, O_CLOEXEC) < 0) {
		snprintf(msg, msglen, "cannot start %s: %s", NFT_BIN, strerror(errno));
		return -1;
	}
	/* vfork: the supervisor's address space is not copied; the child only
	 * makes system calls until execve. */
	pid = vfork();
	if (pid < 0) {
		snprintf(msg, msglen, "cannot start %s: %s", NFT_BIN, strerror(errno));
		close(ep[0]);
		close(ep[1]);
		return -1;
	}
	if (pid == 0) {
		sigset_t none;
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(ep[1], 2) < 0)
			_exit(127);
		execve(argv[0], argv, envp);
		child_say(argv[0], errno);
	}
	close(ep[1]);
	while (n < (ssize_t)msglen - 1 && (r = read(ep[0], msg + n, msglen - 1 - (size_t)n)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		n += r;
	}
	msg[n] = '\0';
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	close(ep[0]);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
