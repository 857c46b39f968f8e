/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lib/net/nft.c: the nfnetlink batches ward sends instead of running nft(8),
 * decoded back into words and compared exactly (registers, byte order,
 * padding), and the elements a sandbox's record names.  Pure; no root.
 * tests/network/test_nft_inprocess.py loads the same batches into real
 * namespaces and reads them back with nft(8). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "net/net.h"
#include "net/nft.h"

/* ---- a small decoder: one line per message ---- */

static void out(char **s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out(char **s, const char *fmt, ...)
{
	char *add, *j;
	va_list ap;

	va_start(ap, fmt);
	assert_true(vasprintf(&add, fmt, ap) >= 0);
	va_end(ap);
	assert_true(asprintf(&j, "%s%s", *s ? *s : "", add) >= 0);
	free(add);
	free(*s);
	*s = j;
}

#define FOR_ATTR(a, start, len)                                                             \
	for (struct nlattr *a = (struct nlattr *)(start);                                   \
	     (char *)a + NLA_HDRLEN <= (char *)(start) + (len) && a->nla_len >= NLA_HDRLEN; \
	     a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len)))

static void *adata(struct nlattr *a)
{
	return (char *)a + NLA_HDRLEN;
}

static size_t alen(struct nlattr *a)
{
	return a->nla_len - NLA_HDRLEN;
}

static uint32_t be32(struct nlattr *a)
{
	uint32_t v;

	assert_int_equal(alen(a), 4);
	memcpy(&v, adata(a), 4);
	return ntohl(v);
}

static int type(struct nlattr *a)
{
	return a->nla_type & NLA_TYPE_MASK;
}

/* The NFTA_DATA_VALUE inside a nest, as hex. */
static void value(char **s, struct nlattr *nestattr)
{
	FOR_ATTR(v, adata(nestattr), alen(nestattr))
	{
		size_t i;

		assert_int_equal(type(v), NFTA_DATA_VALUE);
		for (i = 0; i < alen(v); i++)
			out(s, "%02x", ((uint8_t *)adata(v))[i]);
	}
}

/* A NUL-terminated printable string (names), else a number. */
static int is_string(struct nlattr *a)
{
	const char *p = adata(a);
	size_t i, n = alen(a);

	if (n < 2 || p[n - 1] != '\0')
		return 0;
	for (i = 0; i + 1 < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return 0;
	return 1;
}

static void expr(char **s, struct nlattr *le)
{
	const char *name = NULL;
	struct nlattr *data = NULL;

	FOR_ATTR(a, adata(le), alen(le))
	{
		if (type(a) == NFTA_EXPR_NAME)
			name = adata(a);
		else if (type(a) == NFTA_EXPR_DATA)
			data = a;
	}
	if (name == NULL || data == NULL)
		fail_msg("an expression without a name or data");
	out(s, " [%s", name);
	FOR_ATTR(a, adata(data), alen(data))
	{
		if (strcmp(name, "cmp") == 0 && type(a) == NFTA_CMP_DATA) {
			out(s, " ");
			value(s, a);
		} else if (strcmp(name, "bitwise") == 0 &&
			   (type(a) == NFTA_BITWISE_MASK || type(a) == NFTA_BITWISE_XOR)) {
			out(s, " %s=", type(a) == NFTA_BITWISE_MASK ? "mask" : "xor");
			value(s, a);
		} else if (strcmp(name, "immediate") == 0 && type(a) == NFTA_IMMEDIATE_DATA) {
			FOR_ATTR(v, adata(a), alen(a))
			FOR_ATTR(c, adata(v), alen(v))
			out(s, " verdict=%u", be32(c));
		} else if (strcmp(name, "reject") == 0 && type(a) == NFTA_REJECT_ICMP_CODE) {
			out(s, " code=%u", *(uint8_t *)adata(a));
		} else {
			out(s, " %d=%u", type(a), be32(a));
		}
	}
	out(s, "]");
}

static char *decode(const struct ward_nft_batch *b)
{
	char *s = NULL;
	size_t off = 0;
	unsigned seq = 0;

	while (off < b->len) {
		struct nlmsghdr *h = (struct nlmsghdr *)(b->buf + off);
		struct nfgenmsg *g = NLMSG_DATA(h);
		char *attrs = (char *)g + NLMSG_ALIGN(sizeof(*g));
		size_t alen_all = h->nlmsg_len - NLMSG_HDRLEN - NLMSG_ALIGN(sizeof(*g));

		assert_true(h->nlmsg_len >= NLMSG_HDRLEN && off + h->nlmsg_len <= b->len);
		if (h->nlmsg_type == NFNL_MSG_BATCH_BEGIN) {
			assert_int_equal(off, 0);
			assert_int_equal(ntohs(g->res_id), NFNL_SUBSYS_NFTABLES);
			out(&s, "begin\n");
		} else if (h->nlmsg_type == NFNL_MSG_BATCH_END) {
			assert_int_equal(off + h->nlmsg_len, b->len);
			out(&s, "end\n");
		} else {
			/* Every message asks for an answer, in sequence. */
			assert_int_equal(h->nlmsg_type >> 8, NFNL_SUBSYS_NFTABLES);
			assert_true(h->nlmsg_flags & NLM_F_ACK);
			assert_int_equal(h->nlmsg_seq, ++seq);
			out(&s, "%d f%d fl%x", h->nlmsg_type & 0xff, g->nfgen_family,
			    h->nlmsg_flags & ~(NLM_F_REQUEST | NLM_F_ACK));
			FOR_ATTR(a, attrs, alen_all)
			{
				if (a->nla_type & NLA_F_NESTED) {
					if (h->nlmsg_type ==
					    ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE)) {
						FOR_ATTR(e, adata(a), alen(a))
						expr(&s, e);
					} else if (type(a) == NFTA_CHAIN_HOOK &&
						   (h->nlmsg_type & 0xff) == NFT_MSG_NEWCHAIN) {
						FOR_ATTR(k, adata(a), alen(a))
						out(&s, " hook%d=%u", type(k), be32(k));
					} else {
						/* set element list: key (and data) */
						FOR_ATTR(e, adata(a), alen(a))
						FOR_ATTR(k, adata(e), alen(e))
						{
							out(&s, " %s=",
							    type(k) == NFTA_SET_ELEM_KEY ? "key"
											 : "data");
							value(&s, k);
						}
					}
				} else if (alen(a) == 4 && !is_string(a)) {
					out(&s, " %d=%u", type(a), be32(a));
				} else {
					out(&s, " %d=%s", type(a), (char *)adata(a));
				}
			}
			out(&s, "\n");
		}
		off += NLMSG_ALIGN(h->nlmsg_len);
	}
	assert_int_equal(seq, b->n_msgs);
	return s;
}

/* End the batch the way ward_nft_commit does, without a socket. */
static char *decode_ended(struct ward_nft_batch *b)
{
	/* ward_nft_commit appends the end message before sending; the
	 * decoder accepts a batch without it too. */
	return decode(b);
}

static void test_inner_batch_outbound(void **state)
{
	struct ward_net n = {.outbound = true};
	struct ward_nft_inner t;
	struct ward_nft_batch b = {0};
	char *s;

	(void)state;
	ward_net_inner_plan(&n, &t);
	ward_nft_batch_inner(&b, &t);
	ward_nft_inner_free(&t);
	s = decode_ended(&b);
	/* What nft 1.0.6 sends for the same script (nft --debug=netlink):
	 * meta iifname into register 1, compared over IFNAMSIZ bytes with
	 * "lo"; nfproto 10 (IPv6); drop (verdict 0), or reject type 2
	 * (icmpx) code 3 (admin-prohibited). */
	assert_string_equal(
		s, "begin\n"
		   "0 f1 fl400 1=ward 2=0\n"
		   "3 f1 fl400 1=ward 3=input hook1=1 hook2=0 5=1 7=filter\n"
		   "3 f1 fl400 1=ward 3=output hook1=3 hook2=0 5=1 7=filter\n"
		   "6 f1 flc00 1=ward 2=input [meta 1=1 2=6] [cmp 1=1 2=1 "
		   "6c6f0000000000000000000000000000]"
		   " [meta 1=1 2=15] [cmp 1=1 2=0 0a] [immediate 1=0 verdict=0]\n"
		   "6 f1 flc00 1=ward 2=output [meta 1=1 2=7] [cmp 1=1 2=1 "
		   "6c6f0000000000000000000000000000] [meta 1=1 2=15] [cmp 1=1 2=0 0a] [reject 1=2 "
		   "code=3]\n");
	free(s);
	ward_nft_batch_free(&b);
}

static void test_inner_batch_ports(void **state)
{
	struct ward_net_peer peers[] = {{.addr = 0x0a580007, .port = 5432, .rule_host = "db"}};
	uint16_t listen[] = {80};
	struct ward_net n = {
		.filter = true, .peers = peers, .n_peers = 1, .listen = listen, .n_listen = 1};
	struct ward_nft_inner t;
	struct ward_nft_batch b = {0};
	char *s, *line;

	(void)state;
	ward_net_inner_plan(&n, &t);
	/* drop policies, then the same rules as the text */
	assert_true(t.input_drop && t.output_drop);
	ward_nft_batch_inner(&b, &t);
	ward_nft_inner_free(&t);
	s = decode_ended(&b);
	assert_non_null(strstr(s, "3=input hook1=1 hook2=0 5=0 7=filter\n"));
	assert_non_null(strstr(s, "3=output hook1=3 hook2=0 5=0 7=filter\n"));
	/* ct state established,related: the host-order mask 6, compared != 0 */
	assert_non_null(strstr(s,
			       "2=input [ct 1=1 2=0] [bitwise 1=1 2=1 3=4 mask=06000000 "
			       "xor=00000000] [cmp 1=1 2=1 00000000] [immediate 1=0 verdict=1]\n"));
	/* tcp dport 80: l4proto 6, 2 bytes at offset 2 of the transport
	 * header, network order */
	assert_non_null(strstr(s, "2=input [meta 1=1 2=16] [cmp 1=1 2=0 06] [payload 1=1 2=2 3=2 "
				  "4=2] [cmp 1=1 2=0 0050] [immediate 1=0 verdict=1]\n"));
	assert_non_null(strstr(s, "2=input [meta 1=1 2=16] [cmp 1=1 2=0 11] [payload 1=1 2=2 3=2 "
				  "4=2] [cmp 1=1 2=0 0050] [immediate 1=0 verdict=1]\n"));
	/* ip daddr 10.88.0.7: nfproto 2 first (inet table), then 4 bytes at
	 * offset 16 of the network header */
	line = strstr(s, "2=output [meta 1=1 2=15] [cmp 1=1 2=0 02] [payload 1=1 2=1 3=16 4=4] "
			 "[cmp 1=1 2=0 0a580007] [meta 1=1 2=16] [cmp 1=1 2=0 06] [payload 1=1 2=2 "
			 "3=2 4=2] [cmp 1=1 2=0 1538] [immediate 1=0 verdict=1]\n");
	assert_non_null(line);
	/* the chains end in a reject */
	assert_non_null(strstr(s, "2=input [reject 1=2 code=3]\n"));
	assert_non_null(strstr(s, "2=output [reject 1=2 code=3]\n"));
	free(s);
	ward_nft_batch_free(&b);
}

static void test_prefix_match(void **state)
{
	struct ward_nft_inner t = {0};
	struct ward_nft_batch b = {0};
	char *s;

	(void)state;
	ward_nft_inner_add(&t, &(struct ward_nft_rule){.output = true,
						       .daddr = 0xa9fe0000,
						       .dlen = 16,
						       .verdict = WARD_NFT_REJECT});
	s = ward_nft_inner_text(&t);
	assert_non_null(strstr(s, "add rule inet ward output ip daddr 169.254.0.0/16 reject with "
				  "icmpx type admin-prohibited; "));
	free(s);
	ward_nft_batch_inner(&b, &t);
	ward_nft_inner_free(&t);
	s = decode_ended(&b);
	assert_non_null(strstr(s, "[payload 1=1 2=1 3=16 4=4] [bitwise 1=1 2=1 3=4 mask=ffff0000 "
				  "xor=00000000] [cmp 1=1 2=0 a9fe0000] [reject"));
	free(s);
	ward_nft_batch_free(&b);
}

static void test_record_elements(void **state)
{
	struct ward_nft_batch b = {0};
	char *s;

	(void)state;
	/* The layouts nft 1.0.6 uses for these sets: each part of a
	 * concatenation padded to 4 bytes; ifname over 16 bytes. */
	assert_int_equal(ward_net_record_elems(&b, WARD_NFT_ELEM_ADD,
					       "port wv123 02:77:0a:58:00:06 10.88.0.6", -1),
			 3);
	assert_int_equal(
		ward_net_record_elems(&b, WARD_NFT_ELEM_ADD, "talk 10.88.0.6 10.88.0.9 80", -1), 1);
	assert_int_equal(
		ward_net_record_elems(&b, WARD_NFT_ELEM_CREATE, "pub 18080 10.88.0.6 8080", -1), 1);
	assert_int_equal(ward_net_record_elems(&b, WARD_NFT_ELEM_ADD, "nat 10.88.0.6", -1), 1);
	assert_int_equal(ward_net_record_elems(&b, WARD_NFT_ELEM_DELETE, "out 10.88.0.6", -1), 1);
	/* an old record of a publish names only the key: enough to delete */
	assert_int_equal(ward_net_record_elems(&b, WARD_NFT_ELEM_DELETE, "pub 18080", -1), 1);
	s = decode_ended(&b);
	assert_string_equal(
		s, "begin\n"
		   "12 f7 fl400 1=ward 2=guarded key=77763132330000000000000000000000\n"
		   "12 f7 fl400 1=ward 2=ports "
		   "key=7776313233000000000000000000000002770a58000600000a580006\n"
		   "12 f7 fl400 1=ward 2=addrs key=777631323300000000000000000000000a580006\n"
		   "12 f2 fl400 1=ward_nat 2=talk key=0a5800060a58000900500000\n"
		   "12 f2 fl600 1=ward_nat 2=publish key=46a0 data=0a5800061f900000\n"
		   "12 f2 fl400 1=ward_nat 2=sandboxes key=0a580006\n"
		   "14 f2 fl0 1=ward_nat 2=outbound key=0a580006\n"
		   "14 f2 fl0 1=ward_nat 2=publish key=46a0\n");
	free(s);
	/* Only one of the three port elements; counting needs no batch. */
	assert_int_equal(ward_net_record_elems(NULL, WARD_NFT_ELEM_DELETE,
					       "port wv123 02:77:0a:58:00:06 10.88.0.6", 1),
			 3);
	ward_nft_batch_free(&b);
	assert_int_equal(ward_net_record_elems(&b, WARD_NFT_ELEM_DELETE,
					       "port wv123 02:77:0a:58:00:06 10.88.0.6", 2),
			 3);
	assert_int_equal(b.n_msgs, 1);
	ward_nft_batch_free(&b);
	/* Other lines and malformed ones name nothing. */
	assert_int_equal(ward_net_record_elems(&b, WARD_NFT_ELEM_ADD, "name db", -1), 0);
	assert_int_equal(ward_net_record_elems(&b, WARD_NFT_ELEM_ADD, "talk 10.88.0.6 x 80", -1),
			 0);
	assert_int_equal(ward_net_record_elems(&b, WARD_NFT_ELEM_ADD, "pub 18080", -1), 0);
	assert_int_equal(ward_net_record_elems(&b, WARD_NFT_ELEM_ADD, "pub 0 10.88.0.6 80", -1), 0);
	assert_int_equal(b.n_msgs, 0);
	ward_nft_batch_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inner_batch_outbound),
		cmocka_unit_test(test_inner_batch_ports),
		cmocka_unit_test(test_prefix_match),
		cmocka_unit_test(test_record_elements),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
