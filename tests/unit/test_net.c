/* SPDX-License-Identifier: GPL-2.0-or-later */
/* network.connect/listen: resolution, Landlock port rules, the nftables text,
 * /etc/hosts, --add-host and --publish parsing.  Pure; no root. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "entitlements.h"
#include "landlock.h"
#include "net/net.h"

static const struct ward_resolve_ctx ctx = {.physical_memory = 8ULL << 30, .home = "/root"};

static int resolve(const char *const *allow, struct ward_policy *p, ward_error_t *err)
{
	struct ward_request_list l = {0};
	int r = 0;

	for (; *allow && r == 0; allow++)
		r = ward_parse_allow(&l, *allow, "--allow", err);
	if (r == 0)
		r = ward_resolve(&l, &ctx, p, err);
	ward_request_list_free(&l);
	return r;
}

static void expect_error(const char *const *allow, const char *want)
{
	struct ward_policy p = {0};
	ward_error_t err = NULL;

	assert_int_equal(resolve(allow, &p, &err), -1);
	assert_non_null(err);
	if (strstr(err->msg, want) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", err->msg, want);
	ward_error_free(&err);
}

static void test_connect_and_listen_resolve(void **state)
{
	const char *a[] = {"network.listen=80", "network.connect=DB:5432",
			   "network.connect=10.0.0.7:443", "network.connect=db:5432", NULL};
	struct ward_policy p = {0};
	ward_error_t err = NULL;

	(void)state;
	assert_int_equal(resolve(a, &p, &err), 0);
	assert_int_equal(p.net, WARD_NET_PORTS);
	assert_true(WARD_NET_HAS_VETH(&p));
	assert_false(p.net_lo_open);
	/* Sorted: connect rules by host then port, listen rules last; the
	 * same rule twice (case-insensitive host) is one. */
	assert_int_equal(p.n_net_rules, 3);
	assert_false(p.net_rules[0].listen);
	assert_string_equal(p.net_rules[0].host, "10.0.0.7");
	assert_int_equal(p.net_rules[0].port, 443);
	assert_string_equal(p.net_rules[1].host, "db");
	assert_int_equal(p.net_rules[1].port, 5432);
	assert_true(p.net_rules[2].listen);
	assert_null(p.net_rules[2].host);
	assert_int_equal(p.net_rules[2].port, 80);
	/* No default network.none next to them. */
	assert_null(ward_policy_find(&p, "network.none"));
	assert_true(p.socket_families & (1ULL << 2)); /* AF_INET */
	ward_policy_free(&p);
}

static void test_modes_combine(void **state)
{
	const char *lo[] = {"network.loopback", "network.listen=80", NULL};
	const char *out[] = {"network.outbound", "network.listen=80", NULL};
	struct ward_policy p = {0};
	ward_error_t err = NULL;

	(void)state;
	assert_int_equal(resolve(lo, &p, &err), 0);
	assert_int_equal(p.net, WARD_NET_PORTS);
	assert_true(p.net_lo_open);
	ward_policy_free(&p);
	assert_int_equal(resolve(out, &p, &err), 0);
	assert_int_equal(p.net, WARD_NET_OUTBOUND);
	assert_int_equal(p.n_net_rules, 1);
	ward_policy_free(&p);
}

static void test_bad_values(void **state)
{
	(void)state;
	expect_error((const char *[]){"network.connect=db", NULL}, "expected HOST:PORT");
	expect_error((const char *[]){"network.connect=:80", NULL}, "expected HOST:PORT");
	expect_error((const char *[]){"network.connect=db:0", NULL}, "1 to 65535");
	expect_error((const char *[]){"network.connect=db:65536", NULL}, "1 to 65535");
	expect_error((const char *[]){"network.connect=db:+80", NULL}, "1 to 65535");
	expect_error((const char *[]){"network.connect=[::1]:80", NULL}, "IPv6");
	expect_error((const char *[]){"network.connect=fe80::1:80", NULL}, "IPv6");
	expect_error((const char *[]){"network.connect=d/b:80", NULL}, "not a host name");
	expect_error((const char *[]){"network.listen=http", NULL}, "1 to 65535");
	expect_error((const char *[]){"network.listen", NULL}, "needs a value");
	expect_error((const char *[]){"network.none", "network.listen=80", NULL},
		     "network.none means no network");
	expect_error((const char *[]){"network.host", "network.connect=a:1", NULL},
		     "network.host already shares");
}

static void test_landlock_ports(void **state)
{
	const char *a[] = {"network.listen=80", "network.connect=db:5432",
			   "network.connect=cache:5432", NULL};
	const char *lo[] = {"network.loopback", "network.listen=80", NULL};
	const char *out[] = {"network.outbound", "network.listen=80", NULL};
	struct ward_landlock_plan plan;
	struct ward_policy p = {0};
	ward_error_t err = NULL;

	(void)state;
	assert_int_equal(resolve(a, &p, &err), 0);
	ward_landlock_plan(&p, 7, &plan);
	assert_true(plan.handled_net ==
		    (LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP));
	assert_int_equal(plan.n_ports, 2); /* 5432 once */
	assert_int_equal(plan.ports[0].port, 5432);
	assert_true(plan.ports[0].access == LANDLOCK_ACCESS_NET_CONNECT_TCP);
	assert_int_equal(plan.ports[1].port, 80);
	assert_true(plan.ports[1].access == LANDLOCK_ACCESS_NET_BIND_TCP);
	ward_landlock_plan_free(&plan);
	/* ABI 3 cannot: recorded as missing. */
	ward_landlock_plan(&p, 3, &plan);
	assert_true(plan.handled_net == 0);
	assert_true(plan.missing & WARD_LL_MISSING_NET);
	ward_landlock_plan_free(&plan);
	ward_policy_free(&p);

	assert_int_equal(resolve(lo, &p, &err), 0);
	ward_landlock_plan(&p, 7, &plan);
	assert_true(plan.handled_net == 0); /* ports cannot say "loopback only" */
	ward_landlock_plan_free(&plan);
	ward_policy_free(&p);

	assert_int_equal(resolve(out, &p, &err), 0);
	ward_landlock_plan(&p, 7, &plan);
	assert_true(plan.handled_net == LANDLOCK_ACCESS_NET_BIND_TCP);
	assert_int_equal(plan.n_ports, 1);
	ward_landlock_plan_free(&plan);
	ward_policy_free(&p);
}

static void test_inner_rules(void **state)
{
	struct ward_net_peer peers[] = {
		{.addr = 0x0a580007, .port = 5432, .rule_host = "db"},
		{.addr = 0x7f000001, .port = 8080, .loopback = true, .rule_host = "127.0.0.1"},
	};
	uint16_t listen[] = {80};
	struct ward_net n = {
		.filter = true, .peers = peers, .n_peers = 2, .listen = listen, .n_listen = 1};
	char *s;

	(void)state;
	s = ward_net_inner_rules(&n);
	assert_non_null(s);
	assert_non_null(strstr(s, "chain inet ward input { type filter hook input priority "
				  "filter; policy drop; }"));
	assert_non_null(strstr(s, "th dport 80 accept"));
	assert_non_null(strstr(s, "ip daddr 10.88.0.7 meta l4proto tcp th dport 5432 accept; "
				  "add rule inet ward output ip daddr 10.88.0.7 meta l4proto udp "
				  "th dport 5432 accept; "));
	assert_non_null(strstr(s, "ip daddr 127.0.0.1 meta l4proto tcp th dport 8080"));
	assert_null(strstr(s, "oifname \"lo\" accept")); /* loopback is filtered too */
	assert_non_null(strstr(s, "output reject with icmpx type admin-prohibited"));
	free(s);

	n.lo_open = true;
	s = ward_net_inner_rules(&n);
	assert_non_null(strstr(s, "output oifname \"lo\" accept"));
	free(s);

	/* network.outbound: any IPv4 destination, inbound still only port 80. */
	n.outbound = true;
	s = ward_net_inner_rules(&n);
	assert_non_null(strstr(s, "chain inet ward output { type filter hook output priority "
				  "filter; policy accept; }"));
	assert_null(strstr(s, "ip daddr 10.88.0.7"));
	assert_non_null(strstr(s, "th dport 80 accept"));
	free(s);

	/* network.outbound alone: IPv6 is still dropped on eth0, both ways,
	 * before anything else. */
	n.filter = false;
	n.n_listen = 0;
	s = ward_net_inner_rules(&n);
	assert_non_null(s);
	assert_string_equal(s, "add table inet ward; "
			       "add chain inet ward input { type filter hook input priority "
			       "filter; policy accept; }; "
			       "add chain inet ward output { type filter hook output priority "
			       "filter; policy accept; }; "
			       "add rule inet ward input iifname != \"lo\" meta nfproto ipv6 drop; "
			       "add rule inet ward output oifname != \"lo\" meta nfproto ipv6 "
			       "reject with icmpx type admin-prohibited; ");
	free(s);
}

static void test_inner_rules_drop_ipv6_first(void **state)
{
	uint16_t listen[] = {80};
	struct ward_net n = {.filter = true, .listen = listen, .n_listen = 1};
	char *s, *v6_in, *v6_out;

	(void)state;
	s = ward_net_inner_rules(&n);
	v6_in = strstr(s, "input iifname != \"lo\" meta nfproto ipv6 drop");
	v6_out = strstr(s, "output oifname != \"lo\" meta nfproto ipv6 reject");
	assert_non_null(v6_in);
	assert_non_null(v6_out);
	/* No accept (a listen port, established) comes before the IPv6 rule. */
	assert_true(v6_in < strstr(s, "th dport 80 accept"));
	assert_true(v6_in < strstr(s, "input ct state established"));
	assert_true(v6_out < strstr(s, "output ct state established"));
	free(s);
}

static void test_host_rules(void **state)
{
	struct ward_net n = {.net = 0x0a580000, .prefix = 16};
	uint8_t mac[6];
	char *s;

	(void)state;
	s = ward_net_host_rules(&n);
	/* Bridge: a guarded port sends only as its MAC and address, IPv4 or
	 * ARP, never to 127/8; receives only for its address; no port to port. */
	assert_non_null(strstr(s,
			       "add rule bridge ward prerouting iifname != @guarded accept; "
			       "add rule bridge ward prerouting iifname . ether saddr . ip saddr "
			       "@ports ip daddr != 127.0.0.0/8 accept; "
			       "add rule bridge ward prerouting iifname . ether saddr . arp saddr "
			       "ip @ports iifname . arp saddr ether . arp saddr ip @ports accept; "
			       "add rule bridge ward prerouting counter drop; "));
	assert_non_null(strstr(s, "forward iifname @guarded counter drop; "));
	assert_non_null(strstr(s,
			       "add rule bridge ward postrouting oifname != @guarded accept; "
			       "add rule bridge ward postrouting oifname . ip daddr @addrs accept; "
			       "add rule bridge ward postrouting oifname . arp daddr ip @addrs "
			       "accept; add rule bridge ward postrouting counter drop; "));
	/* From outside into ward0: replies and published ports only. */
	assert_non_null(strstr(s, "guard iifname != \"ward0\" oifname \"ward0\" ct status dnat "
				  "accept; add rule ip ward_nat guard iifname != \"ward0\" oifname "
				  "\"ward0\" reject"));
	/* Link-local only by a talk rule. */
	assert_non_null(strstr(s,
			       "guard iifname \"ward0\" ip daddr 169.254.0.0/16 meta l4proto "
			       "{ tcp, udp } ip saddr . ip daddr . th dport @talk accept; add rule "
			       "ip ward_nat guard iifname \"ward0\" ip daddr 169.254.0.0/16 "
			       "reject"));
	assert_non_null(strstr(s, "ip daddr != 10.88.0.0/16 oifname != \"ward0\" masquerade"));
	free(s);

	ward_net_mac(0x0a580105, mac);
	assert_int_equal(mac[0], 0x02);
	assert_int_equal(mac[1], 0x77);
	assert_int_equal(mac[2], 10);
	assert_int_equal(mac[3], 88);
	assert_int_equal(mac[4], 1);
	assert_int_equal(mac[5], 5);
}

static void test_hosts_text(void **state)
{
	struct ward_net_host hosts[] = {{.name = "db", .addr = 0x0a580007}};
	struct ward_net_peer peers[] = {
		{.addr = 0x0a580007, .port = 5432, .rule_host = "db"},
		{.addr = 0xc0000201, .port = 443, .rule_host = "example.test"},
		{.addr = 0xc0000202, .port = 443, .rule_host = "example.test"},
		{.addr = 0x0a000001, .port = 22, .rule_host = "10.0.0.1"},
	};
	struct ward_net n = {.addr = 0x0a580005, .peers = peers, .n_peers = 4};
	struct ward_net_opts o = {.hosts = hosts, .n_hosts = 1, .hostname = "web"};
	char *s;

	(void)state;
	s = ward_net_hosts_text(&n, &o);
	assert_non_null(strstr(s, "127.0.0.1\tlocalhost\n"));
	assert_non_null(strstr(s, "10.88.0.5\tweb\n"));
	assert_non_null(strstr(s, "10.88.0.7\tdb\n"));
	assert_non_null(strstr(s, "192.0.2.1\texample.test\n"));
	/* One line per name, none for db again nor for an address. */
	assert_null(strstr(s, "192.0.2.2"));
	assert_null(strstr(strstr(s, "\tdb\n") + 1, "\tdb\n"));
	assert_null(strstr(s, "10.0.0.1"));
	free(s);
}

static void test_cli_values(void **state)
{
	struct ward_net_host h;
	struct ward_net_publish pb;
	ward_error_t err = NULL;

	(void)state;
	assert_int_equal(ward_net_parse_host("DB:10.88.0.7", &h, &err), 0);
	assert_string_equal(h.name, "db");
	assert_true(h.addr == 0x0a580007);
	free(h.name);
	assert_int_equal(ward_net_parse_host("db", &h, &err), -1);
	assert_non_null(strstr(err->msg, "NAME:A.B.C.D"));
	ward_error_free(&err);
	assert_int_equal(ward_net_parse_host("d b:10.0.0.1", &h, &err), -1);
	ward_error_free(&err);
	assert_int_equal(ward_net_parse_host("db:10.0.0", &h, &err), -1);
	ward_error_free(&err);

	assert_int_equal(ward_net_parse_publish("18080:80", &pb, &err), 0);
	assert_int_equal(pb.host_port, 18080);
	assert_int_equal(pb.port, 80);
	assert_int_equal(ward_net_parse_publish("80", &pb, &err), -1);
	assert_non_null(strstr(err->msg, "HOSTPORT:PORT"));
	ward_error_free(&err);
	assert_int_equal(ward_net_parse_publish("0:80", &pb, &err), -1);
	ward_error_free(&err);
	assert_int_equal(ward_net_parse_publish("80:70000", &pb, &err), -1);
	ward_error_free(&err);
	assert_int_equal(ward_net_parse_publish("80:8x", &pb, &err), -1);
	ward_error_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_and_listen_resolve),
		cmocka_unit_test(test_modes_combine),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_landlock_ports),
		cmocka_unit_test(test_inner_rules),
		cmocka_unit_test(test_inner_rules_drop_ipv6_first),
		cmocka_unit_test(test_host_rules),
		cmocka_unit_test(test_hosts_text),
		cmocka_unit_test(test_cli_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
