/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * network.outbound, network.connect, network.listen, --publish:
 * veth + bridge + NAT + nftables on both sides of the veth.
 *
 * Choice: links and addresses on the host are made by rtnetlink (rtnl.c);
 * the nftables rules by /usr/sbin/nft with fixed argument vectors (the
 * nftables netlink protocol is large, and nft's error messages are passed
 * on as they are): one run on the host, one in the sandbox's namespace, at
 * the same time.  The sandbox side needs no tool: init sets the address
 * and the routes with ioctls.
 *
 * State under WARD_NET_STATE (/run/ward/net, host-wide):
 *   lock        held (flock) while ward0, the nft table or stale entries
 *               are being created or removed
 *   SLOT.lock   held by the supervisor owning address net+2+SLOT for the
 *               sandbox's life; contains "IFNAME ADDRESS\n", the lines
 *               "name NAME" and "scope DEV:INO" for a sandbox the broker of
 *               that state directory knows by NAME, and then one line per
 *               nftables element it added ("nat A", "out A", "talk A B PORT",
 *               "pub HOSTPORT", "port IFNAME MAC A"), so the next start (or
 *               `ward gc`) can remove what a killed supervisor left behind.
 *   SLOT.hosts  the sandbox's /etc/hosts; SLOT.resolv its /etc/resolv.conf
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <netdb.h>
#include <sched.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/netfilter.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker/proto.h"
#include "net.h"
#include "nft.h"
#include "rtnl.h"
#include "ns.h"
#include "rootless.h"
#include "util.h"

#define NFT_BIN		 "/usr/sbin/nft"
#define NAT_TABLE	 "ward_nat"
#define NAT_SET		 "sandboxes"  /* masqueraded: outbound or connect outside the range */
#define OUT_SET		 "outbound"   /* may open connections to any address off ward0 */
#define TALK_SET	 "talk"	      /* saddr . daddr . port: allowed new connections */
#define PUB_MAP		 "publish"    /* host port : sandbox address . port (DNAT) */
#define LAYOUT_SET	 "layout"     /* one element: host_layout() of the tables */
#define HOOKS_TABLE	 "ward_hooks" /* ip6: empty chains (see ward_net_host_rules) */
#define HOSTADDR_SET	 "hostaddrs"  /* rootless: the host's addresses (ward_net_host_rules) */
#define WARD_NET_MTU	 65520
#define WARD_NET_MTU_STR "65520"

/* Table bridge ward: the filter on ward0's ports (see ward_net_host_rules). */
#define BR_TABLE   "ward"
#define BR_GUARDED "guarded" /* ifname: the ports ward made, filtered */
#define BR_PORTS   "ports"   /* ifname . MAC . address: what a port may send as */
#define BR_ADDRS   "addrs"   /* ifname . address: what a port may be sent */

/* ---- pure helpers ---- */

static uint32_t mask_of(unsigned len)
{
	return len == 0 ? 0 : 0xffffffffu << (32 - len);
}

int ward_net_parse_range(const char *s, uint32_t *net, unsigned *prefix, ward_error_t *err)
{
	char buf[32];
	const char *slash = strchr(s, '/');
	struct in_addr a;
	char *end;
	unsigned long len;

	if (slash == NULL || (size_t)(slash - s) >= sizeof(buf))
		goto bad;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1)
		goto bad;
	errno = 0;
	len = strtoul(slash + 1, &end, 10);
	if (errno || end == slash + 1 || *end || len < 8 || len > 30)
		goto bad;
	*net = ntohl(a.s_addr);
	*prefix = (unsigned)len;
	if (*net & ~mask_of(*prefix))
		return ward_error_set(err, EINVAL,
				      "WARD_NET_RANGE=%s: the address has bits set past the "
				      "/%u prefix (write the network address)",
				      s, *prefix);
	return 0;
bad:
	return ward_error_set(err, EINVAL,
			      "WARD_NET_RANGE=%s: expected an IPv4 range such as %s "
			      "(prefix /8 to /30)",
			      s, WARD_NET_DEFAULT_RANGE);
}

bool ward_net_overlaps(uint32_t a, unsigned alen, uint32_t b, unsigned blen)
{
	uint32_t m = mask_of(alen < blen ? alen : blen);

	return (a & m) == (b & m);
}

static void fmt_addr(uint32_t a, char *buf)
{
	struct in_addr in = {.s_addr = htonl(a)};

	inet_ntop(AF_INET, &in, buf, INET_ADDRSTRLEN);
}

int ward_net_parse_host(const char *s, struct ward_net_host *out, ward_error_t *err)
{
	const char *colon = strrchr(s, ':');
	struct in_addr a;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (colon == NULL || colon == s || inet_pton(AF_INET, colon + 1, &a) != 1)
		return ward_error_set(err, EINVAL,
				      "--add-host %s: expected NAME:A.B.C.D, e.g. --add-host "
				      "db:10.88.0.7",
				      s);
	if ((size_t)(colon - s) > 253)
		return ward_error_set(err, EINVAL, "--add-host %s: the name is too long", s);
	for (i = 0; s + i < colon; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-' || c == '_'))
			return ward_error_set(err, EINVAL,
					      "--add-host %s: a name is made of letters, digits, "
					      "'.', '-' and '_'",
					      s);
	}
	out->name = ward_xasprintf("%.*s", (int)(colon - s), s);
	for (i = 0; out->name[i]; i++)
		if (out->name[i] >= 'A' && out->name[i] <= 'Z')
			out->name[i] = (char)(out->name[i] - 'A' + 'a');
	out->addr = ntohl(a.s_addr);
	return 0;
}

int ward_net_parse_publish(const char *s, struct ward_net_publish *out, ward_error_t *err)
{
	const char *colon = strchr(s, ':');

	if (colon == NULL || ward_parse_port(s, (size_t)(colon - s), &out->host_port) < 0 ||
	    ward_parse_port(colon + 1, strlen(colon + 1), &out->port) < 0)
		return ward_error_set(err, EINVAL,
				      "--publish %s: expected HOSTPORT:PORT with ports from 1 to "
				      "65535, e.g. --publish 18080:8080 (TCP)",
				      s);
	return 0;
}

void ward_net_mac(uint32_t addr, uint8_t mac[6])
{
	mac[0] = 0x02; /* locally administered, unicast */
	mac[1] = 0x77;
	mac[2] = (uint8_t)(addr >> 24);
	mac[3] = (uint8_t)(addr >> 16);
	mac[4] = (uint8_t)(addr >> 8);
	mac[5] = (uint8_t)addr;
}

static void fmt_mac(uint32_t addr, char *buf)
{
	uint8_t m[6];

	ward_net_mac(addr, m);
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

void ward_net_inner_plan(const struct ward_net *n, struct ward_nft_inner *t)
{
	static const uint8_t l4[] = {IPPROTO_TCP, IPPROTO_UDP};
	bool out_filter = n->filter && !n->outbound;
	size_t i, j;

	memset(t, 0, sizeof(*t));
	t->input_drop = n->filter;
	t->output_drop = out_filter;
	/*
	 * IPv6 exists only on lo.  ward gives a sandbox no IPv6 address or
	 * route, and eth0 has IPv6 disabled (disable_ipv6, set before eth0
	 * exists); these rules are the second layer inside, for every mode
	 * (network.outbound included): nothing IPv6 leaves or enters by eth0,
	 * not even link-local traffic to ward0 or neighbour discovery.
	 */
	ward_nft_inner_add(t, &(struct ward_nft_rule){
				      .lo = -1, .nfproto = NFPROTO_IPV6, .verdict = WARD_NFT_DROP});
	ward_nft_inner_add(t, &(struct ward_nft_rule){.output = true,
						      .lo = -1,
						      .nfproto = NFPROTO_IPV6,
						      .verdict = WARD_NFT_REJECT});
	if (n->filter) {
		/* Input: what comes in on eth0 only to the listen ports.
		 * Loopback traffic went through the output chain already. */
		ward_nft_inner_add(t, &(struct ward_nft_rule){.lo = 1, .verdict = WARD_NFT_ACCEPT});
		ward_nft_inner_add(t, &(struct ward_nft_rule){.established = true,
							      .verdict = WARD_NFT_ACCEPT});
		for (i = 0; i < n->n_listen; i++)
			for (j = 0; j < ARRAY_SIZE(l4); j++)
				ward_nft_inner_add(
					t, &(struct ward_nft_rule){.l4proto = l4[j],
								   .dport = n->listen[i],
								   .verdict = WARD_NFT_ACCEPT});
		/* Refused, not silently dropped: the other side learns at once. */
		ward_nft_inner_add(t, &(struct ward_nft_rule){.verdict = WARD_NFT_REJECT});
	}
	if (!out_filter)
		return; /* network.outbound: any IPv4 destination */
	ward_nft_inner_add(t, &(struct ward_nft_rule){.output = true,
						      .established = true,
						      .verdict = WARD_NFT_ACCEPT});
	if (n->lo_open)
		ward_nft_inner_add(t, &(struct ward_nft_rule){
					      .output = true, .lo = 1, .verdict = WARD_NFT_ACCEPT});
	for (i = 0; i < n->n_peers; i++)
		for (j = 0; j < ARRAY_SIZE(l4); j++)
			ward_nft_inner_add(t, &(struct ward_nft_rule){.output = true,
								      .daddr = n->peers[i].addr,
								      .dlen = 32,
								      .l4proto = l4[j],
								      .dport = n->peers[i].port,
								      .verdict = WARD_NFT_ACCEPT});
	/* A refused connect fails at once (EHOSTUNREACH, "No route to host")
	 * instead of waiting for a timeout. */
	ward_nft_inner_add(t, &(struct ward_nft_rule){.output = true, .verdict = WARD_NFT_REJECT});
}

char *ward_net_inner_rules(const struct ward_net *n)
{
	struct ward_nft_inner t;
	char *s;

	ward_net_inner_plan(n, &t);
	s = ward_nft_inner_text(&t);
	ward_nft_inner_free(&t);
	return s;
}

char *ward_net_hosts_text(const struct ward_net *n, const struct ward_net_opts *o)
{
	const char *hn = o && o->hostname ? o->hostname : "ward";
	char *s = NULL, a[INET_ADDRSTRLEN];
	size_t i, j;

	ward_xappendf(&s, "# written by ward for this sandbox\n"
			  "127.0.0.1\tlocalhost\n"
			  "::1\tlocalhost ip6-localhost ip6-loopback\n");
	fmt_addr(n->addr, a);
	ward_xappendf(&s, "%s\t%s\n", n->addr ? a : "127.0.1.1", hn);
	for (i = 0; o && i < o->n_hosts; i++) {
		fmt_addr(o->hosts[i].addr, a);
		ward_xappendf(&s, "%s\t%s\n", a, o->hosts[i].name);
	}
	/* Names of network.connect rules that were resolved on the host. */
	for (i = 0; i < n->n_peers; i++) {
		const char *h = n->peers[i].rule_host;
		struct in_addr tmp;
		bool seen = inet_pton(AF_INET, h, &tmp) == 1;

		for (j = 0; !seen && o && j < o->n_hosts; j++)
			seen = strcmp(o->hosts[j].name, h) == 0;
		for (j = 0; !seen && j < i; j++)
			seen = strcmp(n->peers[j].rule_host, h) == 0;
		if (seen)
			continue;
		fmt_addr(n->peers[i].addr, a);
		ward_xappendf(&s, "%s\t%s\n", a, h);
	}
	return s;
}

/* ---- inside the sandbox's network namespace ---- */

int ward_net_setup_inside(const struct ward_net *n, int *keep_fd, ward_error_t *err)
{
	struct ward_nft_batch b = {0};
	struct ward_nft_inner t;
	cleanup_close int fd = -1;
	int rc;

	/* /proc/sys/net is the namespace of the task that opens it: the
	 * caller's, which is the sandbox's now.  IPv6 off for every interface
	 * made from now on, eth0 included (it does not exist yet: the
	 * supervisor makes it after this; under pasta, pasta makes it).  lo,
	 * which exists already, keeps ::1.  ENOENT: a kernel without IPv6. */
	rc = ward_write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1", 1);
	if (rc < 0 && rc != -ENOENT) {
		errno = -rc;
		return ward_error_sys(err, "network: cannot turn IPv6 off in the sandbox's "
					   "namespace (net.ipv6.conf.default.disable_ipv6)");
	}
	/* The namespace is the sandbox's own: a port below 1024 there is no
	 * privilege on the host.  Landlock and the rules still decide which
	 * ports it may bind. */
	if (n->filter &&
	    (rc = ward_write_file("/proc/sys/net/ipv4/ip_unprivileged_port_start", "0", 1)) < 0) {
		errno = -rc;
		return ward_error_sys(err, "network: cannot set "
					   "net.ipv4.ip_unprivileged_port_start in the sandbox");
	}
	/* The rules, in one transaction over a netlink socket of this
	 * namespace. */
	fd = ward_nft_socket(err);
	if (fd < 0)
		return -1;
	ward_net_inner_plan(n, &t);
	ward_nft_batch_inner(&b, &t);
	ward_nft_inner_free(&t);
	rc = ward_nft_commit(fd, &b, err);
	ward_nft_batch_free(&b);
	if (rc < 0)
		return ward_error_wrap(err, "network: loading the nftables rules inside the "
					    "sandbox failed");
	if (keep_fd)
		*keep_fd = steal_fd(&fd);
	return 0;
}

/* The supervisor (host root) enters the network namespace of init for
 * ward_net_setup_inside() and comes back.  The namespace belongs to the
 * host's user namespace, so setns needs nothing but CAP_SYS_ADMIN, which
 * the supervisor has; only this thread moves (a network namespace is a
 * per-thread attribute), and sockets keep the namespace they were made in. */
static int setup_inside_from_host(struct ward_net *n, int nsfd, ward_error_t *err)
{
	cleanup_close int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int rc;

	if (self < 0)
		return ward_error_sys(err, "network: cannot open /proc/self/ns/net");
	if (setns(nsfd, CLONE_NEWNET) < 0)
		return ward_error_sys(err, "network: cannot enter the sandbox's network namespace");
	rc = ward_net_setup_inside(n, &n->inner_nft_fd, err);
	/* Staying in the sandbox's namespace would make every later link,
	 * address and rule of this start in the wrong place: there is no
	 * recovering from it (and setns to a namespace held open by a
	 * descriptor does not fail for host root). */
	if (setns(self, CLONE_NEWNET) < 0) {
		fprintf(stderr, "ward: cannot return to the host's network namespace: %s\n",
			strerror(errno));
		abort();
	}
	return rc;
}

/*
 * Links of the caller's network namespace, by ioctl on a socket of it.  Not
 * by /sys/class/net: a sysfs shows the namespace it was mounted in, the
 * host's, also to a rootless supervisor that has joined the user's router.
 */
static int link_ioctl(const char *ifname, unsigned long req, struct ifreq *ifr)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;

	if (fd < 0)
		return -1;
	memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", ifname);
	rc = ioctl(fd, req, ifr);
	close(fd);
	return rc;
}

static bool link_exists(const char *name)
{
	return if_nametoindex(name) != 0;
}

static int read_mtu(const char *ifname)
{
	struct ifreq ifr;

	return link_ioctl(ifname, SIOCGIFMTU, &ifr) < 0 ? -1 : ifr.ifr_mtu;
}

static bool link_mac_is(const char *ifname, const uint8_t mac[6])
{
	struct ifreq ifr;

	return link_ioctl(ifname, SIOCGIFHWADDR, &ifr) == 0 &&
	       memcmp(ifr.ifr_hwaddr.sa_data, mac, 6) == 0;
}

/* ---- collision detection ---- */

/* Refuse the range if any IPv4 route of the host (main table, as in
 * /proc/net/route) overlaps it, except the default route and ward0's own
 * route for exactly this range. */
static int check_routes(const struct ward_net *n, const char *range, ward_error_t *err)
{
	FILE *f = fopen("/proc/net/route", "re");
	char line[256], other[INET_ADDRSTRLEN] = "";
	unsigned other_len = 0;

	if (f == NULL)
		return ward_error_sys(err, "cannot read /proc/net/route");
	if (fgets(line, sizeof(line), f) == NULL) { /* header */
		fclose(f);
		return 0;
	}
	while (fgets(line, sizeof(line), f)) {
		char ifname[IFNAMSIZ + 1], a[INET_ADDRSTRLEN];
		unsigned dst, gw, flags, refc, use, metric, mask, len;

		if (sscanf(line, "%16s %x %x %x %u %u %u %x", ifname, &dst, &gw, &flags, &refc,
			   &use, &metric, &mask) != 8)
			continue;
		dst = ntohl(dst);
		mask = ntohl(mask);
		len = (unsigned)__builtin_popcount(mask);
		if (len == 0)
			continue; /* default route: overlaps everything by design */
		if (strcmp(ifname, WARD_NET_BRIDGE) == 0) {
			/* Reported after a real collision, which says more. */
			if (dst != n->net || len != n->prefix) {
				fmt_addr(dst, other);
				other_len = len;
			}
			continue;
		}
		if (ward_net_overlaps(dst, len, n->net, n->prefix)) {
			fmt_addr(dst, a);
			fclose(f);
			return ward_error_set(err, EEXIST,
					      "network.outbound: the sandbox range %s overlaps "
					      "the host's route to %s/%u (dev %s); choose a free "
					      "private range with WARD_NET_RANGE=A.B.C.D/N",
					      range, a, len, ifname);
		}
	}
	fclose(f);
	if (other_len)
		return ward_error_set(err, EEXIST,
				      "network.outbound: the bridge %s already serves %s/%u, not "
				      "WARD_NET_RANGE=%s; end the sandboxes using it and remove it "
				      "(ip link del %s), or set WARD_NET_RANGE=%s/%u",
				      WARD_NET_BRIDGE, other, other_len, range, WARD_NET_BRIDGE,
				      other, other_len);
	return 0;
}

/* ---- state: locks and leftovers ---- */

static int global_lock(const struct ward_net *n, ward_error_t *err)
{
	cleanup_free char *path = ward_xasprintf("%s/lock", n->dir);

	/* Rootless, the router's netd unlinks the lock it holds when the
	 * router ends (router.c): a lock on a file no longer linked there is
	 * taken again. */
	for (;;) {
		struct stat a, b;
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

		if (fd < 0)
			return ward_error_sys(err, "cannot open %s", path);
		while (flock(fd, LOCK_EX) < 0) {
			if (errno != EINTR) {
				ward_error_sys(err, "cannot lock %s", path);
				close(fd);
				return -1;
			}
		}
		if (fstat(fd, &a) == 0 && lstat(path, &b) == 0 && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino)
			return fd;
		close(fd);
	}
}

/* "SLOT.lock": a slot file (the lock file of the whole directory is "lock"). */
static bool is_slot_file(const char *name)
{
	size_t len = strlen(name);

	return len > 5 && name[0] >= '0' && name[0] <= '9' && strcmp(name + len - 5, ".lock") == 0;
}

/*
 * The nftables elements a slot-file line records, as set elements of the
 * host's tables ("talk A B PORT", "pub HOSTPORT [A PORT]", "nat A", "out A",
 * "port IFNAME MAC A": the three elements of table bridge ward that tie a
 * port to its MAC and address).  Keys and data in the sets' layout: each
 * part of a concatenation padded to 4 bytes, addresses and ports in network
 * order, interface names over IFNAMSIZ bytes.  Adds the elements (only the
 * one numbered only, when only >= 0) to b and returns how many the line
 * has; 0 for other lines or a malformed one.
 */
int ward_net_record_elems(struct ward_nft_batch *b, int op, const char *line, int only)
{
	char x[INET_ADDRSTRLEN + 1], y[INET_ADDRSTRLEN + 1], ifn[IFNAMSIZ + 1], mac[18];
	unsigned port, port2;
	struct in_addr ax, ay;
	uint8_t key[32], data[8];
	uint16_t be;
	int n;

	if (b == NULL)
		only = INT32_MAX; /* count only */
	memset(key, 0, sizeof(key));
	memset(data, 0, sizeof(data));
	if (sscanf(line, "talk %15s %15s %u", x, y, &port) == 3) {
		if (inet_pton(AF_INET, x, &ax) != 1 || inet_pton(AF_INET, y, &ay) != 1 ||
		    port == 0 || port > 65535)
			return 0;
		memcpy(key, &ax, 4);
		memcpy(key + 4, &ay, 4);
		be = htons((uint16_t)port);
		memcpy(key + 8, &be, 2);
		if (only <= 0) {
			cleanup_free char *w = ward_xasprintf(
				"ip " NAT_TABLE " " TALK_SET " { %s . %s . %u }", x, y, port);

			ward_nft_batch_elem(b, op, NFPROTO_IPV4, NAT_TABLE, TALK_SET, key, 12, NULL,
					    0, w);
		}
		return 1;
	}
	if ((n = sscanf(line, "pub %u %15s %u", &port, x, &port2)) >= 1) {
		if (port == 0 || port > 65535 ||
		    (n == 3 && (inet_pton(AF_INET, x, &ax) != 1 || port2 == 0 || port2 > 65535)))
			return 0;
		if (n != 3 && op != WARD_NFT_ELEM_DELETE)
			return 0;
		be = htons((uint16_t)port);
		memcpy(key, &be, 2);
		if (n == 3) {
			memcpy(data, &ax, 4);
			be = htons((uint16_t)port2);
			memcpy(data + 4, &be, 2);
		}
		if (only <= 0) {
			cleanup_free char *w =
				n == 3 ? ward_xasprintf("ip " NAT_TABLE " " PUB_MAP
							" { %u : %s . %u }",
							port, x, port2)
				       : ward_xasprintf("ip " NAT_TABLE " " PUB_MAP " { %u }",
							port);

			ward_nft_batch_elem(b, op, NFPROTO_IPV4, NAT_TABLE, PUB_MAP, key, 2,
					    n == 3 ? data : NULL, 8, w);
		}
		return 1;
	}
	if (sscanf(line, "nat %15s", x) == 1 || sscanf(line, "out %15s", x) == 1) {
		const char *set = line[0] == 'n' ? NAT_SET : OUT_SET;

		if (inet_pton(AF_INET, x, &ax) != 1)
			return 0;
		if (only <= 0) {
			cleanup_free char *w = ward_xasprintf("ip " NAT_TABLE " %s { %s }", set, x);

			ward_nft_batch_elem(b, op, NFPROTO_IPV4, NAT_TABLE, set, &ax, 4, NULL, 0,
					    w);
		}
		return 1;
	}
	if (sscanf(line, "port %15s %17s %15s", ifn, mac, x) == 3) {
		uint8_t m[6];

		if (inet_pton(AF_INET, x, &ax) != 1 ||
		    sscanf(mac, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &m[0], &m[1], &m[2], &m[3], &m[4],
			   &m[5]) != 6)
			return 0;
		/* guarded: IFNAME; ports: IFNAME . MAC . A; addrs: IFNAME . A */
		memcpy(key, ifn, strnlen(ifn, IFNAMSIZ - 1));
		if (only < 0 || only == 0) {
			cleanup_free char *w = ward_xasprintf(
				"bridge " BR_TABLE " " BR_GUARDED " { \"%s\" }", ifn);

			ward_nft_batch_elem(b, op, NFPROTO_BRIDGE, BR_TABLE, BR_GUARDED, key,
					    IFNAMSIZ, NULL, 0, w);
		}
		if (only < 0 || only == 1) {
			cleanup_free char *w = ward_xasprintf("bridge " BR_TABLE " " BR_PORTS
							      " { \"%s\" . %s . %s }",
							      ifn, mac, x);

			memcpy(key + IFNAMSIZ, m, 6);
			memcpy(key + IFNAMSIZ + 8, &ax, 4);
			ward_nft_batch_elem(b, op, NFPROTO_BRIDGE, BR_TABLE, BR_PORTS, key,
					    IFNAMSIZ + 12, NULL, 0, w);
		}
		if (only < 0 || only == 2) {
			cleanup_free char *w = ward_xasprintf(
				"bridge " BR_TABLE " " BR_ADDRS " { \"%s\" . %s }", ifn, x);

			memset(key + IFNAMSIZ, 0, sizeof(key) - IFNAMSIZ);
			memcpy(key + IFNAMSIZ, &ax, 4);
			ward_nft_batch_elem(b, op, NFPROTO_BRIDGE, BR_TABLE, BR_ADDRS, key,
					    IFNAMSIZ + 4, NULL, 0, w);
		}
		return 3;
	}
	return 0;
}

/* Delete the elements the record lines name: one transaction; if that
 * fails (one of them is gone already) one by one. */
static void delete_recorded_elems(char *lines, int nft_fd)
{
	struct ward_nft_batch b = {0};
	ward_error_t err = NULL;
	char *line[128], *save = NULL, *l;
	size_t n = 0, i;
	cleanup_close int own = nft_fd < 0 ? ward_nft_socket(&err) : -1;
	int fd = nft_fd < 0 ? own : nft_fd, j, k;

	if (fd < 0) {
		ward_error_free(&err);
		return;
	}
	for (l = strtok_r(lines, "\n", &save); l && n < ARRAY_SIZE(line);
	     l = strtok_r(NULL, "\n", &save))
		line[n++] = l;
	for (i = 0; i < n; i++)
		ward_net_record_elems(&b, WARD_NFT_ELEM_DELETE, line[i], -1);
	if (ward_nft_commit(fd, &b, &err) == 0) {
		ward_nft_batch_free(&b);
		return;
	}
	ward_error_free(&err);
	ward_nft_batch_free(&b);
	for (i = 0; i < n; i++) {
		k = ward_net_record_elems(NULL, WARD_NFT_ELEM_DELETE, line[i], INT32_MAX);
		for (j = 0; j < k; j++) {
			ward_net_record_elems(&b, WARD_NFT_ELEM_DELETE, line[i], j);
			if (ward_nft_commit(fd, &b, &err) < 0)
				ward_error_free(&err);
			ward_nft_batch_free(&b);
		}
	}
}

/* Remove what a slot file records (its owner is gone, or is us): the veth
 * (when del_veth), every nftables element, the /etc/hosts and resolv.conf
 * files. */
static void remove_recorded(const char *dir, unsigned slot, int fd, bool del_veth, int nft_fd)
{
	char buf[8192], ifname[IFNAMSIZ + 1], addr[INET_ADDRSTRLEN + 1];
	ssize_t r = pread(fd, buf, sizeof(buf) - 1, 0);
	char *first_nl;

	if (r > 0) {
		buf[r] = '\0';
		if (del_veth && sscanf(buf, "%15s %15s", ifname, addr) == 2 &&
		    strncmp(ifname, "wv", 2) == 0 && link_exists(ifname)) {
			ward_error_t e = NULL;

			ward_rtnl_del_link(ifname, &e);
			ward_error_free(&e);
		}
		first_nl = strchr(buf, '\n');
		if (first_nl)
			delete_recorded_elems(first_nl + 1, nft_fd);
	}
	if (ftruncate(fd, 0) < 0) {
		/* Nothing more to do: the next start tries again. */
	}
	{
		char path[4096];

		snprintf(path, sizeof(path), "%s/%u.hosts", dir, slot);
		unlink(path);
		snprintf(path, sizeof(path), "%s/%u.resolv", dir, slot);
		unlink(path);
	}
}

/* Leftovers of supervisors that died without cleaning up (SIGKILL): their
 * slot files are unlocked but not empty.  Caller holds the global lock. */
static int gc_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int removed = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		int fd;

		if (!is_slot_file(e->d_name))
			continue;
		fd = openat(dirfd(d), e->d_name, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &st) == 0) {
			if (st.st_size > 0) {
				remove_recorded(dir, (unsigned)strtoul(e->d_name, NULL, 10), fd,
						true, -1);
				removed++;
			}
			unlinkat(dirfd(d), e->d_name, 0);
		}
		close(fd);
	}
	closedir(d);
	return removed;
}

/* A sandbox's veth goes with its network namespace, which the kernel keeps
 * while something still refers to it (TCP connections the program left
 * behind wait for their timeouts).  Such a veth carries nothing (its bridge
 * port is isolated, it has no address) but is still a link: remove every
 * wv<pid> whose supervisor is gone. */
static void remove_orphan_veths(void)
{
	struct if_nameindex *links = if_nameindex(), *e;

	for (e = links; e && e->if_index; e++) {
		char proc[64], *end;
		long pid;

		if (strncmp(e->if_name, "wv", 2) != 0)
			continue;
		pid = strtol(e->if_name + 2, &end, 10);
		if (*end || pid <= 0)
			continue;
		snprintf(proc, sizeof(proc), "/proc/%ld", pid);
		if (access(proc, F_OK) == 0)
			continue;
		{
			ward_error_t err = NULL;

			ward_rtnl_del_link(e->if_name, &err);
			ward_error_free(&err);
		}
	}
	if (links)
		if_freenameindex(links);
}

/* No sandbox with an interface is left (no slot file): remove ward0 (with
 * its address and route) and the tables ip ward_nat and bridge ward, so
 * that nothing of ward stays in the host's network (ward gc, ward down).
 * Not done at every
 * sandbox's end: deleting and re-creating the bridge would add some 100 ms
 * to each start of a lone sandbox.  Caller holds the global lock, which
 * every allocation takes, so no sandbox can be between taking a slot and
 * using the bridge. */
static void remove_if_idle(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool busy = false;
	ward_error_t err = NULL;

	if (d == NULL)
		return;
	while (!busy && (e = readdir(d)) != NULL)
		busy = is_slot_file(e->d_name);
	closedir(d);
	if (busy)
		return;
	if (link_exists(WARD_NET_BRIDGE)) {
		ward_rtnl_del_link(WARD_NET_BRIDGE, &err);
		ward_error_free(&err);
	}
	/* One transaction per table: one may be gone already. */
	{
		cleanup_close int fd = ward_nft_socket(&err);
		struct ward_nft_batch b = {0};

		if (fd < 0) {
			ward_error_free(&err);
			return;
		}
		ward_nft_batch_del_table(&b, NFPROTO_IPV4, NAT_TABLE);
		if (ward_nft_commit(fd, &b, &err) < 0)
			ward_error_free(&err);
		ward_nft_batch_free(&b);
		ward_nft_batch_del_table(&b, NFPROTO_BRIDGE, BR_TABLE);
		if (ward_nft_commit(fd, &b, &err) < 0)
			ward_error_free(&err);
		ward_nft_batch_free(&b);
		ward_nft_batch_del_table(&b, NFPROTO_IPV6, HOOKS_TABLE);
		if (ward_nft_commit(fd, &b, &err) < 0)
			ward_error_free(&err);
		ward_nft_batch_free(&b);
	}
}

/* Rootless: the same in the user's router, from a child that joins it
 * (the caller stays in the host's namespaces); the router ends when no
 * sandbox of the user has a network. */
static int gc_router(void)
{
	cleanup_free char *state = ward_default_state_dir_path();
	cleanup_free char *dir = state ? ward_xasprintf("%s/net", state) : NULL;
	int st = 0;
	pid_t pid;

	if (dir == NULL || access(dir, F_OK) < 0)
		return 0;
	pid = fork();
	if (pid < 0)
		return 0;
	if (pid == 0) {
		struct ward_net n = {.slot_fd = -1, .rootless = true};
		ward_error_t err = NULL;
		int lk, removed = 0, idle;
		DIR *d;
		struct dirent *e;

		if (!ward_net_router_join_if_running(dir))
			_exit(0);
		n.dir = dir;
		lk = global_lock(&n, &err);
		if (lk < 0)
			_exit(0);
		removed = gc_dir(dir);
		remove_orphan_veths();
		idle = 1;
		d = opendir(dir);
		while (d && idle && (e = readdir(d)) != NULL)
			idle = !is_slot_file(e->d_name);
		if (d)
			closedir(d);
		_exit((removed > 100 ? 100 : removed) + (idle ? 128 : 0));
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st))
		return 0;
	if (WEXITSTATUS(st) & 128)
		ward_net_router_stop(dir);
	return WEXITSTATUS(st) & 127;
}

int ward_net_gc(void)
{
	struct ward_net n = {.slot_fd = -1};
	ward_error_t err = NULL;
	int lk, removed;

	if (ward_rootless())
		return gc_router();
	n.dir = ward_xstrdup(WARD_NET_STATE);
	if (access(n.dir, F_OK) < 0) {
		free(n.dir);
		return 0;
	}
	lk = global_lock(&n, &err);
	ward_error_free(&err);
	if (lk < 0) {
		free(n.dir);
		return 0;
	}
	removed = gc_dir(n.dir);
	remove_orphan_veths();
	remove_if_idle(n.dir);
	close(lk);
	free(n.dir);
	return removed;
}

/* The scope of broker names: "DEV:INO" of the state directory, whatever
 * path spells it.  "" when there is none (no name is then recorded or
 * found). */
static void name_scope(const char *state_dir, char *buf, size_t len)
{
	struct stat st;

	buf[0] = '\0';
	if (state_dir && stat(state_dir, &st) == 0 && S_ISDIR(st.st_mode))
		snprintf(buf, len, "%llx:%llx", (unsigned long long)st.st_dev,
			 (unsigned long long)st.st_ino);
}

/* The address of the running sandbox the broker of this sandbox's state
 * directory knows as name (ward run --name NAME), from the slot files: a
 * live sandbox holds its slot's lock, and its record has the lines "name
 * NAME" and "scope DEV:INO".  The slot files are host-wide but a name is
 * unique only within one broker: a sandbox of another state directory
 * with the same name is never the answer (it only sets *elsewhere, for
 * the error message).  Returns the number of matches in scope. */
static int lookup_named(struct ward_net *n, const char *name, uint32_t *addr, bool *elsewhere)
{
	ward_error_t err = NULL;
	struct dirent *e;
	int found = 0;
	DIR *d;
	int lk;

	*elsewhere = false;
	if (n->scope[0] == '\0')
		return 0;
	lk = global_lock(n, &err);
	ward_error_free(&err);
	if (lk < 0)
		return 0;
	d = opendir(n->dir);
	while (d && (e = readdir(d)) != NULL) {
		char buf[8192], want[160], scope[80], ifname[IFNAMSIZ + 1], a[INET_ADDRSTRLEN + 1];
		struct in_addr in;
		ssize_t r;
		int fd;

		if (!is_slot_file(e->d_name))
			continue;
		fd = openat(dirfd(d), e->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			continue;
		/* Free lock: nobody lives there (a leftover). */
		if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
			close(fd);
			continue;
		}
		r = pread(fd, buf, sizeof(buf) - 1, 0);
		close(fd);
		if (r <= 0)
			continue;
		buf[r] = '\0';
		snprintf(want, sizeof(want), "\nname %s\n", name);
		snprintf(scope, sizeof(scope), "\nscope %s\n", n->scope);
		if (strstr(buf, want) == NULL)
			continue;
		if (strstr(buf, scope) == NULL) {
			*elsewhere = true;
			continue;
		}
		if (sscanf(buf, "%15s %15s", ifname, a) == 2 && inet_pton(AF_INET, a, &in) == 1) {
			if (found++ == 0)
				*addr = ntohl(in.s_addr);
		}
	}
	if (d)
		closedir(d);
	close(lk);
	return found;
}

/* Is a an IPv4 address of one of the host's interfaces?  A connect rule to
 * it could never work: the host's input chain refuses new connections from
 * ward0 on every address of the host. */
static bool host_address(uint32_t a)
{
	struct ifaddrs *ifa, *i;
	bool found = false;

	if (getifaddrs(&ifa) < 0)
		return false;
	for (i = ifa; i && !found; i = i->ifa_next)
		found = i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
			ntohl(((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr.s_addr) == a;
	freeifaddrs(ifa);
	return found;
}

/* An address the host's resolver gave for a name may not be one a name
 * must never reach: another sandbox (names of sandboxes come from the
 * broker or --add-host, never from DNS, whose answers whoever controls
 * the name chooses) or a link-local address (169.254.0.0/16: cloud
 * metadata services).  An address written as such is the operator's own
 * choice and is not checked here. */
static const char *resolved_refusal(const struct ward_net *n, uint32_t a)
{
	if (ward_net_overlaps(a, 32, n->net, n->prefix))
		return "an address of the sandboxes' range WARD_NET_RANGE";
	if ((a >> 16) == 0xa9fe)
		return "a link-local address (169.254.0.0/16, where cloud metadata services "
		       "live)";
	return NULL;
}

/* Resolve the network.connect rules: IPv4 addresses as they are, names
 * given with --add-host, then the host's resolver (every IPv4 address of
 * the name, fixed for the sandbox's life). */
static int resolve_peers(struct ward_net *n, const struct ward_policy *p,
			 const struct ward_net_opts *o, ward_error_t *err)
{
	size_t i, j;

	for (i = 0; i < p->n_net_rules; i++) {
		const struct ward_net_rule *r = &p->net_rules[i];
		uint32_t addrs[16];
		size_t na = 0;
		struct in_addr in;
		bool elsewhere = false;

		if (r->listen) {
			n->listen =
				ward_xrealloc(n->listen, (n->n_listen + 1) * sizeof(*n->listen));
			n->listen[n->n_listen++] = r->port;
			continue;
		}
		if (inet_pton(AF_INET, r->host, &in) == 1) {
			addrs[na++] = ntohl(in.s_addr);
		} else {
			for (j = 0; o && j < o->n_hosts && na == 0; j++)
				if (strcmp(o->hosts[j].name, r->host) == 0)
					addrs[na++] = o->hosts[j].addr;
			if (na == 0) {
				int m = lookup_named(n, r->host, &addrs[0], &elsewhere);

				if (m > 1)
					return ward_error_set(
						err, EEXIST,
						"%s: network.connect=%s:%u: %d running sandboxes "
						"of the state directory %s are called \"%s\"; "
						"give the address, or the name with --add-host "
						"NAME:ADDRESS",
						r->origin, r->host, r->port, m, n->state_dir,
						r->host);
				na = m;
			}
		}
		if (na == 0) {
			struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};
			struct addrinfo *res = NULL, *ai;
			int rc = getaddrinfo(r->host, NULL, &hints, &res);

			if (rc != 0)
				return ward_error_set(
					err, ENOENT,
					"%s: network.connect=%s:%u: cannot resolve "
					"\"%s\" on the host (%s)%s; give an address, or "
					"the name with --add-host NAME:ADDRESS",
					r->origin, r->host, r->port, r->host, gai_strerror(rc),
					elsewhere ? "; a sandbox of another state directory "
						    "has that name, but names are looked up "
						    "in this sandbox's --state-dir only"
						  : "");
			for (ai = res; ai && na < ARRAY_SIZE(addrs); ai = ai->ai_next) {
				uint32_t a = ntohl(((struct sockaddr_in *)(void *)ai->ai_addr)
							   ->sin_addr.s_addr);

				const char *why = resolved_refusal(n, a);
				char ab[INET_ADDRSTRLEN];

				if (why) {
					freeaddrinfo(res);
					fmt_addr(a, ab);
					return ward_error_set(
						err, EACCES,
						"%s: network.connect=%s:%u: the host's resolver "
						"says \"%s\" is %s, %s; a name from the resolver "
						"never grants that: write the address itself "
						"(network.connect=%s:%u) if you mean it",
						r->origin, r->host, r->port, r->host, ab, why, ab,
						r->port);
				}
				for (j = 0; j < na && addrs[j] != a; j++)
					;
				if (j == na)
					addrs[na++] = a;
			}
			freeaddrinfo(res);
			if (na == 0)
				return ward_error_set(
					err, ENOENT,
					"%s: network.connect=%s:%u: \"%s\" has no IPv4 "
					"address",
					r->origin, r->host, r->port, r->host);
		}
		for (j = 0; j < na; j++) {
			struct ward_net_peer *pe;

			n->peers = ward_xrealloc(n->peers, (n->n_peers + 1) * sizeof(*n->peers));
			pe = &n->peers[n->n_peers++];
			memset(pe, 0, sizeof(*pe));
			pe->addr = addrs[j];
			pe->port = r->port;
			pe->loopback = (addrs[j] >> 24) == 127;
			pe->in_range = ward_net_overlaps(addrs[j], 32, n->net, n->prefix);
			pe->rule_host = r->host;
			pe->origin = r->origin;
			if (pe->in_range && (addrs[j] == n->net || addrs[j] == n->gw))
				return ward_error_set(
					err, EINVAL,
					"%s: network.connect=%s:%u: that is the "
					"range's %s address, not a sandbox; the host's "
					"own services are not reachable from sandboxes",
					r->origin, r->host, r->port,
					addrs[j] == n->net ? "network" : "gateway");
			if (!pe->loopback && !pe->in_range && host_address(addrs[j])) {
				char ab[INET_ADDRSTRLEN];

				fmt_addr(addrs[j], ab);
				return ward_error_set(
					err, EINVAL,
					"%s: network.connect=%s:%u: %s is an address of this "
					"host, whose own services no sandbox reaches (%s "
					"refuses them); run the service in a sandbox with "
					"network.listen, or use network.host",
					r->origin, r->host, r->port, ab,
					n->rootless ? "your router" : "the host's input chain");
			}
		}
	}
	return 0;
}

/* Root mode: does a sandbox's slot file record host port PORT as published
 * ("pub PORT A PORT")?  Its supervisor holds [::]:PORT (publish_v6). */
static bool published_by_a_sandbox(const char *dir, unsigned port)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char want[24];
	bool found = false;

	snprintf(want, sizeof(want), "pub %u ", port);
	while (d && !found && (e = readdir(d)) != NULL) {
		cleanup_free char *path = NULL;
		cleanup_free char *text = NULL;
		size_t len = 0;
		const char *at;

		if (!is_slot_file(e->d_name))
			continue;
		path = ward_xasprintf("%s/%s", dir, e->d_name);
		if (ward_read_file(path, &text, &len) < 0)
			continue;
		for (at = text; !found && (at = strstr(at, want)) != NULL; at++)
			found = at == text || at[-1] == '\n';
	}
	if (d)
		closedir(d);
	return found;
}

/* --publish: the IPv6 side of the host's port, [::]:HOSTPORT (IPV6_V6ONLY):
 * a descriptor, -1 when the host has no IPv6, -2 with ERR when a program of
 * the host already has it.  Rootless (LISTEN) the holder relays it; root
 * mode (DNAT is IPv4's) only holds it, bound without SO_REUSEADDR and not
 * listening, so that nobody else may bind it while the sandbox runs and a
 * client of localhost:HOSTPORT over ::1 is refused (and tries 127.0.0.1). */
static int publish_v6(const struct ward_net_publish *pb, bool listen_too, ward_error_t *err)
{
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6,
				    .sin6_port = htons(pb->host_port),
				    .sin6_addr = IN6ADDR_ANY_INIT};
	int one = 1, fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0), e;

	if (fd < 0 && (errno == EAFNOSUPPORT || errno == EPROTONOSUPPORT))
		return -1;
	if (fd < 0) {
		ward_error_sys(err, "--publish: socket (IPv6)");
		return -2;
	}
	if (listen_too)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) == 0 &&
	    bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == 0 &&
	    (!listen_too || listen(fd, 128) == 0)) {
		fcntl(fd, F_SETFL, O_NONBLOCK);
		return fd;
	}
	e = errno;
	close(fd);
	if (e == EADDRNOTAVAIL || e == EAFNOSUPPORT)
		return -1; /* IPv6 off on this host: nobody can have it */
	if (e == EADDRINUSE)
		ward_error_set(err, EADDRINUSE,
			       "--publish %u:%u: a program of the host already uses TCP port %u "
			       "(IPv6), where clients of localhost:%u may go; choose another host "
			       "port",
			       pb->host_port, pb->port, pb->host_port, pb->host_port);
	else {
		errno = e;
		ward_error_sys(err, "--publish %u:%u: cannot check host port %u (IPv6)",
			       pb->host_port, pb->port, pb->host_port);
	}
	return -2;
}

/* --publish: the port must be listened on, and no program of the host may
 * already be listening on the host port (DNAT would silently take its
 * traffic). */
static int check_publish(struct ward_net *n, const struct ward_net_opts *o, ward_error_t *err)
{
	size_t i, j;

	for (i = 0; o && i < o->n_publish; i++) {
		const struct ward_net_publish *pb = &o->publish[i];
		struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(pb->host_port)};
		int one = 1, fd;

		for (j = 0; j < n->n_listen && n->listen[j] != pb->port; j++)
			;
		if (j == n->n_listen)
			return ward_error_set(err, EINVAL,
					      "--publish %u:%u: the sandbox may not listen on port "
					      "%u; grant network.listen=%u",
					      pb->host_port, pb->port, pb->port, pb->port);
		for (j = 0; j < i; j++)
			if (o->publish[j].host_port == pb->host_port)
				return ward_error_set(err, EINVAL,
						      "--publish %u:%u: host port %u is published "
						      "twice",
						      pb->host_port, pb->port, pb->host_port);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return ward_error_sys(err, "--publish: socket");
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
		    (n->rootless && listen(fd, 128) < 0)) {
			int e = errno;

			close(fd);
			if (e == EADDRINUSE)
				return ward_error_set(
					err, EADDRINUSE,
					"--publish %u:%u: a program of the host already "
					"uses TCP port %u; choose another host port",
					pb->host_port, pb->port, pb->host_port);
			if (e == EACCES && n->rootless)
				return ward_error_set(err, EACCES,
						      "--publish %u:%u: host ports below "
						      "net.ipv4.ip_unprivileged_port_start need "
						      "root; choose a host port of 1024 or more",
						      pb->host_port, pb->port);
			errno = e;
			return ward_error_sys(err, "--publish %u:%u: cannot check host port %u",
					      pb->host_port, pb->port, pb->host_port);
		}
		/* Rootless: the port is the user's own socket, which the
		 * router's holder serves (router.h); root: a DNAT element.
		 * [::]:HOSTPORT too (IPv6 only; publish_v6): otherwise another
		 * user could listen there and take what a client sends to
		 * localhost:HOSTPORT over ::1. */
		{
			int fd6 = publish_v6(pb, n->rootless, err);

			/* Held by another sandbox's supervisor: the DNAT
			 * element's creation names it (ward_net_attach). */
			if (fd6 == -2 && !n->rootless && (*err)->code == EADDRINUSE &&
			    published_by_a_sandbox(n->dir, pb->host_port)) {
				ward_error_free(err);
				fd6 = -1;
			}
			if (fd6 == -2) {
				close(fd);
				return -1;
			}
			if (!n->rootless)
				close(steal_fd(&fd));
			n->pub_fds = ward_xrealloc(n->pub_fds,
						   2 * (n->n_publish + 1) * sizeof(*n->pub_fds));
			if (fd >= 0)
				fcntl(fd, F_SETFL, O_NONBLOCK);
			n->pub_fds[2 * n->n_publish] = fd;
			n->pub_fds[2 * n->n_publish + 1] = fd6;
		}
		n->publish = ward_xrealloc(n->publish, (n->n_publish + 1) * sizeof(*n->publish));
		n->publish[n->n_publish] = *pb;
		n->n_publish++;
	}
	return 0;
}

static int write_private_file(const char *path, const char *text, ward_error_t *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	size_t len = strlen(text);

	if (fd < 0)
		return ward_error_sys(err, "cannot create %s", path);
	if (write(fd, text, len) != (ssize_t)len) {
		ward_error_sys(err, "cannot write %s", path);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* resolv.conf without network.outbound: the host's IPv4 name servers that a
 * network.connect=SERVER:53 rule lets the sandbox reach, and nothing else.
 * Without one, names come from /etc/hosts only, and a lookup of another
 * name fails at once (the output chain refuses port 53) instead of waiting
 * for a server. */
static char *resolv_text(const struct ward_net *n)
{
	char *s = NULL, line[512];
	FILE *f = fopen("/etc/resolv.conf", "re");
	size_t i, servers = 0;

	ward_xappendf(&s, "# written by ward for this sandbox\n");
	while (f && fgets(line, sizeof(line), f)) {
		char addr[64];
		struct in_addr in;

		if (sscanf(line, "nameserver %63s", addr) != 1 ||
		    inet_pton(AF_INET, addr, &in) != 1)
			continue;
		for (i = 0; i < n->n_peers; i++)
			if (n->peers[i].addr == ntohl(in.s_addr) && n->peers[i].port == 53)
				break;
		if (i < n->n_peers) {
			ward_xappendf(&s, "nameserver %s\n", addr);
			servers++;
		}
	}
	if (f)
		fclose(f);
	if (servers == 0)
		ward_xappendf(&s,
			      "# no DNS server: the names this sandbox may use are in /etc/hosts\n"
			      "# (grant network.connect=SERVER:53 for a server of the host's "
			      "resolv.conf)\n");
	return s;
}

int ward_net_host_local_routes(void (*fn)(uint32_t net, unsigned prefix, void *arg), void *arg)
{
	struct {
		struct nlmsghdr nh;
		struct rtmsg rt;
	} req = {.nh = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg)),
			.nlmsg_type = RTM_GETROUTE,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			.nlmsg_seq = 1},
		 .rt = {.rtm_family = AF_INET}};
	cleanup_close int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	static char buf[32768];

	if (fd < 0 || send(fd, &req, req.nh.nlmsg_len, 0) < 0)
		return -1;
	for (;;) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *nh;

		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0)
			return -1;
		for (nh = (struct nlmsghdr *)(void *)buf; NLMSG_OK(nh, (size_t)len);
		     nh = NLMSG_NEXT(nh, len)) {
			struct rtmsg *rt = NLMSG_DATA(nh);
			struct rtattr *a;
			int alen;
			uint32_t dst = 0;

			if (nh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (nh->nlmsg_type == NLMSG_ERROR)
				return -1;
			if (nh->nlmsg_type != RTM_NEWROUTE || rt->rtm_type != RTN_LOCAL ||
			    rt->rtm_family != AF_INET)
				continue;
			alen = (int)RTM_PAYLOAD(nh);
			for (a = RTM_RTA(rt); RTA_OK(a, alen); a = RTA_NEXT(a, alen))
				if (a->rta_type == RTA_DST && RTA_PAYLOAD(a) == 4)
					memcpy(&dst, RTA_DATA(a), 4);
			dst = ntohl(dst);
			if (rt->rtm_dst_len > 0 && rt->rtm_dst_len < 32)
				dst &= ~0u << (32 - rt->rtm_dst_len);
			if (rt->rtm_dst_len >= 8 && (dst >> 24) == 127)
				continue;
			fn(rt->rtm_dst_len ? dst : 0, rt->rtm_dst_len, arg);
		}
	}
}

struct local_acc {
	struct ward_net *n;
	uint32_t wide, wide_prefix; /* the first local route too wide to list */
	bool too_wide;
};

static void add_hostaddr(struct ward_net *n, uint32_t a)
{
	if ((a >> 24) == 127 || ward_net_overlaps(a, 32, n->net, n->prefix))
		return;
	n->hostaddrs = ward_xrealloc(n->hostaddrs, (n->n_hostaddrs + 1) * sizeof(*n->hostaddrs));
	n->hostaddrs[n->n_hostaddrs++] = a;
}

static void local_route(uint32_t net, unsigned prefix, void *arg)
{
	struct local_acc *acc = arg;
	uint32_t i;

	if (prefix < WARD_NET_LOCAL_ROUTE_MIN) {
		if (!acc->too_wide) {
			acc->too_wide = true;
			acc->wide = net;
			acc->wide_prefix = prefix;
		}
		return;
	}
	for (i = 0; i < (1u << (32 - prefix)); i++)
		add_hostaddr(acc->n, net + i);
}

/* Rootless: the host's IPv4 addresses, other than those of ward's own
 * bridge, and every address of the host's `local` routes (AnyIP: `ip route
 * add local NET dev lo` makes the host answer on all of NET).  Through
 * pasta a sandbox would reach the host's services on them; the router
 * refuses to forward there (ward_net_host_rules).  A local route wider than
 * /WARD_NET_LOCAL_ROUTE_MIN is refused: its addresses are not listed. */
static int collect_host_addresses(struct ward_net *n, ward_error_t *err)
{
	struct ifaddrs *ifa, *i;
	struct local_acc acc = {.n = n};

	if (ward_net_host_local_routes(local_route, &acc) < 0)
		return ward_error_sys(err, "network: cannot list the host's local routes");
	if (acc.too_wide) {
		char a[INET_ADDRSTRLEN];

		fmt_addr(acc.wide, a);
		return ward_error_set(
			err, EPERM,
			"network: the host has a local route %s/%u (it answers on every address "
			"in it); through pasta your sandboxes would reach the host's services "
			"there, and ward refuses addresses only for routes of /%d or narrower; "
			"narrow the route, or run the sandbox as root",
			a, acc.wide_prefix, WARD_NET_LOCAL_ROUTE_MIN);
	}
	if (getifaddrs(&ifa) < 0)
		return 0;
	for (i = ifa; i; i = i->ifa_next) {
		uint32_t a;

		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET)
			continue;
		a = ntohl(((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr.s_addr);
		add_hostaddr(n, a);
	}
	freeifaddrs(ifa);
	return 0;
}

int ward_net_prepare(struct ward_net *n, const struct ward_policy *p, const struct ward_net_opts *o,
		     ward_error_t *err)
{
	const char *range = getenv("WARD_NET_RANGE");
	unsigned nslots, i, start;
	int lk;

	memset(n, 0, sizeof(*n));
	n->slot_fd = n->nft_fd = n->inner_nft_fd = -1;
	n->router.holder_ctl = n->router.lock_fd = -1;
	n->outbound = p->net == WARD_NET_OUTBOUND;
	n->lo_open = p->net_lo_open;
	n->filter = p->n_net_rules > 0;
	if (range == NULL || *range == '\0')
		range = WARD_NET_DEFAULT_RANGE;
	if (ward_net_parse_range(range, &n->net, &n->prefix, err) < 0)
		return -1;
	if (access(NFT_BIN, X_OK) < 0)
		return ward_error_set(err, ENOENT,
				      "the sandbox's network needs %s (apt-get install nftables)",
				      NFT_BIN);
	n->gw = n->net + 1;
	n->rootless = o && o->rootless_ids;
	n->dir = ward_xstrdup(n->rootless && o->net_dir ? o->net_dir : WARD_NET_STATE);
	n->state_dir = o ? o->state_dir : NULL;
	name_scope(n->state_dir, n->scope, sizeof(n->scope));
	if (o && o->name &&
	    (!ward_proto_local_name_ok(o->name, strlen(o->name)) || n->scope[0] == '\0')) {
		cleanup_free char *shown = ward_escape(o->name, 80);

		/* The CLI passes only names the broker accepted; the library
		 * does not rely on it, since the name goes into a record. */
		return ward_error_set(err, EINVAL,
				      "network: cannot record the name \"%s\": a broker name is "
				      "a-z, 0-9, '.', '_' and '-', and needs an existing state "
				      "directory",
				      shown);
	}
	if (ward_mkdir_p(n->dir, 0700) < 0)
		return ward_error_sys(err, "cannot create %s", n->dir);
	if (resolve_peers(n, p, o, err) < 0 || check_publish(n, o, err) < 0)
		return -1;
	nslots = (1u << (32 - n->prefix)) - 3; /* network, gateway, broadcast */
	if (nslots > WARD_NET_MAX_SLOTS)
		nslots = WARD_NET_MAX_SLOTS;
	if (check_routes(n, range, err) < 0)
		return -1;
	if (n->rootless) {
		/* Everything above looked at the host's network; from here on
		 * the supervisor is in the user's router (router.h), where the
		 * slots, the bridge and the tables are. */
		if (collect_host_addresses(n, err) < 0)
			return -1;
		if (ward_net_router_enter(n->dir, o->rootless_ids, &n->router, err) < 0)
			return -1;
	}
	lk = global_lock(n, err);
	if (n->router.lock_fd >= 0) {
		/* The slots are looked at under the global lock from here on,
		 * netd too (router.c). */
		close(n->router.lock_fd);
		n->router.lock_fd = -1;
	}
	if (lk < 0)
		return -1;
	gc_dir(n->dir);
	start = (unsigned)getpid() % nslots;
	for (i = 0; i < nslots; i++) {
		unsigned slot = (start + i) % nslots;
		char path[4096];
		int fd;

		snprintf(path, sizeof(path), "%s/%u.lock", n->dir, slot);
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0) {
			ward_error_sys(err, "cannot open %s", path);
			close(lk);
			return -1;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			char a[INET_ADDRSTRLEN], rec[320];
			struct stat st;

			/* Slot files are unlinked only under the global lock,
			 * which is held here: this one is still linked. */
			if (fstat(fd, &st) < 0 || st.st_nlink == 0) {
				close(fd);
				continue;
			}
			cleanup_free char *hosts = NULL;
			int len;

			remove_recorded(n->dir, slot, fd, true,
					-1); /* gc skipped it only if locked */
			n->slot_fd = fd;
			n->slot = slot;
			n->addr = n->net + 2 + slot;
			snprintf(n->host_if, sizeof(n->host_if), "wv%d", (int)getpid());
			fmt_addr(n->addr, a);
			if (o && o->name)
				len = snprintf(rec, sizeof(rec), "%s %s\nname %s\nscope %s\n",
					       n->host_if, a, o->name, n->scope);
			else
				len = snprintf(rec, sizeof(rec), "%s %s\n", n->host_if, a);
			close(lk);
			if (pwrite(fd, rec, (size_t)len, 0) != len)
				return ward_error_sys(err, "cannot write %s", path);
			for (i = 0; i < n->n_peers; i++)
				if (n->peers[i].addr == n->addr)
					return ward_error_set(
						err, EINVAL,
						"%s: network.connect=%s:%u: that is this sandbox's "
						"own address; connect to 127.0.0.1 instead",
						n->peers[i].origin, n->peers[i].rule_host,
						n->peers[i].port);
			hosts = ward_net_hosts_text(n, o);
			n->hosts_path = ward_xasprintf("%s/%u.hosts", n->dir, slot);
			if (write_private_file(n->hosts_path, hosts, err) < 0)
				return -1;
			if (!n->outbound) {
				cleanup_free char *resolv = resolv_text(n);

				n->resolv_path = ward_xasprintf("%s/%u.resolv", n->dir, slot);
				if (write_private_file(n->resolv_path, resolv, err) < 0)
					return -1;
			}
			return 0;
		}
		close(fd);
	}
	close(lk);
	return ward_error_set(err, EAGAIN,
			      "network: all %u addresses of %s are in use by running "
			      "sandboxes; wait for one to end or set a larger WARD_NET_RANGE",
			      nslots, range);
}

/* ---- host side ---- */

/* IPv6 off on a link of the host (ward0, a veth's host side): it gets no
 * address, not even link-local, and takes no IPv6 packet in.  A kernel
 * without IPv6 has nothing to turn off. */
static int no_ipv6(const char *ifname, ward_error_t *err)
{
	char path[96];
	int rc;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	rc = ward_write_file(path, "1", 1);
	if (rc < 0 && !(rc == -ENOENT && access("/proc/sys/net/ipv6", F_OK) < 0)) {
		errno = -rc;
		return ward_error_sys(err, "network: cannot turn IPv6 off on %s (%s)", ifname,
				      path);
	}
	return 0;
}

/* ward0, if missing, and its settings.  Caller holds the global lock. */
static int ensure_bridge(const struct ward_net *n, ward_error_t *err)
{
	uint8_t mac[6];

	/* ward0's MAC is set (02:77 + the gateway address, which no sandbox
	 * has): a bridge without one takes the lowest of its ports' and
	 * changes it as sandboxes come and go, flushing the host's neighbour
	 * entries for the sandboxes each time.  No IPv6 on ward0: a link-local
	 * address there is a way to every host service listening on [::] (the
	 * ip family input chain does not see IPv6); off before the bridge goes
	 * up, so that it never has one.  Both again on a bridge an older ward
	 * made. */
	ward_net_mac(n->gw, mac);
	if (!link_exists(WARD_NET_BRIDGE)) {
		if (ward_rtnl_add_bridge(WARD_NET_BRIDGE, WARD_NET_MTU, mac, err) < 0 ||
		    no_ipv6(WARD_NET_BRIDGE, err) < 0 ||
		    ward_rtnl_add_addr4(WARD_NET_BRIDGE, n->gw, n->prefix, err) < 0 ||
		    ward_rtnl_set_up(WARD_NET_BRIDGE, 0, err) < 0)
			return -1;
	} else if (no_ipv6(WARD_NET_BRIDGE, err) < 0 ||
		   (!link_mac_is(WARD_NET_BRIDGE, mac) &&
		    ward_rtnl_set_mac(WARD_NET_BRIDGE, mac, err) < 0)) {
		return -1;
	} else if (read_mtu(WARD_NET_BRIDGE) != WARD_NET_MTU &&
		   ward_rtnl_set_up(WARD_NET_BRIDGE, WARD_NET_MTU, err) < 0) {
		/* A bridge made by an older ward (or changed by hand). */
		return -1;
	}
	/* Forwarding on the bridge only: packets from sandboxes may be routed
	 * (out, or back into ward0 towards another sandbox).  route_localnet:
	 * a connection of the host to 127.0.0.1:PUBLISHED may be sent to a
	 * sandbox (and is masqueraded on the way).  The host-wide switches are
	 * left as they are; see docs/network.md. */
	if (ward_write_file("/proc/sys/net/ipv4/conf/" WARD_NET_BRIDGE "/forwarding", "1", 1) < 0 ||
	    ward_write_file("/proc/sys/net/ipv4/conf/" WARD_NET_BRIDGE "/route_localnet", "1", 1) <
		    0)
		return ward_error_sys(err, "cannot configure %s (forwarding, route_localnet)",
				      WARD_NET_BRIDGE);
	return 0;
}

/* The host's tables, as nft commands (each ending in "; "). */
char *ward_net_host_rules(const struct ward_net *n)
{
	char netb[INET_ADDRSTRLEN];
	cleanup_free char *rangecidr = NULL;

	fmt_addr(n->net, netb);
	rangecidr = ward_xasprintf("%s/%u", netb, n->prefix);
	/*
	 * Run by nft(8) when the tables are missing or were made from other
	 * rules (see host_tables()), idempotent (chains flushed and refilled,
	 * elements kept): the tables are complete whenever a sandbox's
	 * elements exist, also if someone deleted them or an older ward made
	 * them.
	 *
	 * Table ip ward_nat:
	 * - postrouting: masquerade what sandboxes in @sandboxes send out of
	 *   the host, and the host's own 127.0.0.1 connections to a published
	 *   port (a sandbox cannot answer 127.0.0.1);
	 * - prerouting, output_nat: DNAT of published host ports;
	 * - input: sandboxes reach no service of the host itself;
	 * - forward: what sandboxes start is forwarded only by a talk rule
	 *   (network.connect, to another sandbox or outside) or, leaving
	 *   ward0, for network.outbound; everything else is refused;
	 * - guard: limits that hold whatever forward accepts: from outside
	 *   into ward0 only replies and published ports (a machine that
	 *   routes the range via this host reaches nothing else); to
	 *   169.254.0.0/16 (link-local: cloud metadata services) only by a
	 *   network.connect rule, never by network.outbound;
	 * - filter_out: no ICMP redirect tells a sandbox to go to another one
	 *   directly (their bridge ports are isolated anyway).
	 *
	 * The IP layer sees ward0, not the port a packet came in on: the
	 * rules above know a sandbox by its source address.  Table bridge
	 * ward makes that address mean one port.  For each port ward made
	 * (@guarded), a frame in must carry the port's MAC and IPv4 address
	 * (IPv4 or ARP, nothing else: no IPv6, no VLAN tag, no other
	 * protocol) and not be addressed to 127.0.0.0/8; a frame out must be
	 * ARP or IPv4 for the port's own address; nothing passes from port to
	 * port.  The check happens in prerouting, before the bridge learns
	 * the source MAC, so a forged frame cannot take another sandbox's
	 * MAC either.  A sandbox has no CAP_NET_RAW in the user namespace
	 * that owns its network namespace, so it cannot forge a frame at all;
	 * this is the layer that holds if it ever could.
	 *
	 * Table ip6 ward_hooks: empty base chains on the five IPv6 hooks, which
	 * accept everything and change nothing.  They keep the kernel's
	 * per-hook static keys (nf_hooks_needed) on while no other IPv6 rule
	 * exists on the host: each sandbox's table inet ward (and conntrack
	 * under network.connect/listen) registers IPv6 hooks, and turning a
	 * key from off to on and back patches the kernel's code on every CPU
	 * (text_poke), which cost about 2 ms of each start here.
	 */
	char *s = ward_xasprintf(
		"add table ip " NAT_TABLE "; "
		"add set ip " NAT_TABLE " " NAT_SET " { type ipv4_addr; }; "
		"add set ip " NAT_TABLE " " OUT_SET " { type ipv4_addr; }; "
		"add set ip " NAT_TABLE " " TALK_SET
		" { type ipv4_addr . ipv4_addr . inet_service; }; "
		"add map ip " NAT_TABLE " " PUB_MAP
		" { type inet_service : ipv4_addr . inet_service; "
		"}; "
		"add chain ip " NAT_TABLE " postrouting { type nat hook postrouting "
		"priority srcnat; policy accept; }; "
		"flush chain ip " NAT_TABLE " postrouting; "
		"add rule ip " NAT_TABLE " postrouting ip saddr @" NAT_SET
		" ip daddr != %s oifname != \"" WARD_NET_BRIDGE "\" masquerade; "
		"add rule ip " NAT_TABLE " postrouting oifname \"" WARD_NET_BRIDGE
		"\" ip saddr 127.0.0.0/8 masquerade; "
		"add chain ip " NAT_TABLE " prerouting { type nat hook prerouting "
		"priority dstnat; policy accept; }; "
		"flush chain ip " NAT_TABLE " prerouting; "
		"add rule ip " NAT_TABLE " prerouting fib daddr type local "
		"dnat ip addr . port to tcp dport map @" PUB_MAP "; "
		"add chain ip " NAT_TABLE " output_nat { type nat hook output "
		"priority -100; policy accept; }; "
		"flush chain ip " NAT_TABLE " output_nat; "
		"add rule ip " NAT_TABLE " output_nat fib daddr type local "
		"dnat ip addr . port to tcp dport map @" PUB_MAP "; "
		"add chain ip " NAT_TABLE " input { type filter hook input priority "
		"filter; policy accept; }; "
		"flush chain ip " NAT_TABLE " input; "
		"add rule ip " NAT_TABLE " input iifname \"" WARD_NET_BRIDGE
		"\" ct state established,related accept; "
		"add rule ip " NAT_TABLE " input iifname \"" WARD_NET_BRIDGE
		"\" reject with icmp type admin-prohibited; "
		"add chain ip " NAT_TABLE " filter_out { type filter hook output priority "
		"filter; policy accept; }; "
		"flush chain ip " NAT_TABLE " filter_out; "
		"add rule ip " NAT_TABLE " filter_out oifname \"" WARD_NET_BRIDGE
		"\" icmp type redirect drop; "
		"add chain ip " NAT_TABLE " forward { type filter hook forward priority "
		"filter; policy accept; }; "
		"flush chain ip " NAT_TABLE " forward; "
		"add rule ip " NAT_TABLE " forward iifname \"" WARD_NET_BRIDGE
		"\" ct state established,related accept; "
		"add rule ip " NAT_TABLE " forward iifname \"" WARD_NET_BRIDGE
		"\" meta l4proto { tcp, udp } ip saddr . ip daddr . th dport @" TALK_SET " accept; "
		"add rule ip " NAT_TABLE " forward iifname \"" WARD_NET_BRIDGE
		"\" oifname != \"" WARD_NET_BRIDGE "\" ip saddr @" OUT_SET " accept; "
		"add rule ip " NAT_TABLE " forward iifname \"" WARD_NET_BRIDGE
		"\" reject with icmp type admin-prohibited; "
		"add chain ip " NAT_TABLE " guard { type filter hook forward priority "
		"filter + 1; policy accept; }; "
		"flush chain ip " NAT_TABLE " guard; "
		"add rule ip " NAT_TABLE " guard iifname != \"" WARD_NET_BRIDGE
		"\" oifname \"" WARD_NET_BRIDGE "\" ct state established,related accept; "
		"add rule ip " NAT_TABLE " guard iifname != \"" WARD_NET_BRIDGE
		"\" oifname \"" WARD_NET_BRIDGE "\" ct status dnat accept; "
		"add rule ip " NAT_TABLE " guard iifname != \"" WARD_NET_BRIDGE
		"\" oifname \"" WARD_NET_BRIDGE "\" reject with icmp type admin-prohibited; "
		"add rule ip " NAT_TABLE " guard iifname \"" WARD_NET_BRIDGE
		"\" ip daddr 169.254.0.0/16 ct state established,related accept; "
		"add rule ip " NAT_TABLE " guard iifname \"" WARD_NET_BRIDGE
		"\" ip daddr 169.254.0.0/16 meta l4proto { tcp, udp } "
		"ip saddr . ip daddr . th dport @" TALK_SET " accept; "
		"add rule ip " NAT_TABLE " guard iifname \"" WARD_NET_BRIDGE
		"\" ip daddr 169.254.0.0/16 reject with icmp type admin-prohibited; "
		"add table bridge " BR_TABLE "; "
		"add set bridge " BR_TABLE " " BR_GUARDED " { type ifname; }; "
		"add set bridge " BR_TABLE " " BR_PORTS
		" { type ifname . ether_addr . ipv4_addr; }; "
		"add set bridge " BR_TABLE " " BR_ADDRS " { type ifname . ipv4_addr; }; "
		"add chain bridge " BR_TABLE " prerouting { type filter hook prerouting "
		"priority -300; policy accept; }; "
		"flush chain bridge " BR_TABLE " prerouting; "
		"add rule bridge " BR_TABLE " prerouting iifname != @" BR_GUARDED " accept; "
		"add rule bridge " BR_TABLE
		" prerouting iifname . ether saddr . ip saddr @" BR_PORTS
		" ip daddr != 127.0.0.0/8 accept; "
		"add rule bridge " BR_TABLE
		" prerouting iifname . ether saddr . arp saddr ip @" BR_PORTS
		" iifname . arp saddr ether . arp saddr ip @" BR_PORTS " accept; "
		"add rule bridge " BR_TABLE " prerouting counter drop; "
		"add chain bridge " BR_TABLE " forward { type filter hook forward "
		"priority -300; policy accept; }; "
		"flush chain bridge " BR_TABLE " forward; "
		"add rule bridge " BR_TABLE " forward iifname @" BR_GUARDED " counter drop; "
		"add rule bridge " BR_TABLE " forward oifname @" BR_GUARDED " counter drop; "
		"add chain bridge " BR_TABLE " postrouting { type filter hook postrouting "
		"priority -300; policy accept; }; "
		"flush chain bridge " BR_TABLE " postrouting; "
		"add rule bridge " BR_TABLE " postrouting oifname != @" BR_GUARDED " accept; "
		"add rule bridge " BR_TABLE " postrouting oifname . ip daddr @" BR_ADDRS " accept; "
		"add rule bridge " BR_TABLE " postrouting oifname . arp daddr ip @" BR_ADDRS
		" accept; "
		"add rule bridge " BR_TABLE " postrouting counter drop; "
		"add table ip6 " HOOKS_TABLE "; "
		"add chain ip6 " HOOKS_TABLE " prerouting { type filter hook prerouting "
		"priority filter; policy accept; }; "
		"add chain ip6 " HOOKS_TABLE " input { type filter hook input "
		"priority filter; policy accept; }; "
		"add chain ip6 " HOOKS_TABLE " forward { type filter hook forward "
		"priority filter; policy accept; }; "
		"add chain ip6 " HOOKS_TABLE " output { type filter hook output "
		"priority filter; policy accept; }; "
		"add chain ip6 " HOOKS_TABLE " postrouting { type filter hook postrouting "
		"priority filter; policy accept; }; ",
		rangecidr);

	/*
	 * Rootless, in the user's router: what the router forwards out of
	 * the uplink, pasta opens as sockets of the user on the host, which
	 * would reach the host's own services on its addresses.  The host's
	 * input chain cannot be had without root; the router refuses instead
	 * (in guard, whatever forward accepts) every address of the host's.
	 * Every start adds the addresses the host has then (add_elements):
	 * the set only grows while the router lives, so a sandbox that
	 * started earlier, with an older list, never takes a newer address
	 * out.  127.0.0.0/8 never leaves the router; refused here too.
	 */
	if (!n->rootless)
		return s;
	ward_xappendf(&s, "add set ip " NAT_TABLE " " HOSTADDR_SET " { type ipv4_addr; }; "
			  "add rule ip " NAT_TABLE " guard iifname \"" WARD_NET_BRIDGE
			  "\" ip daddr 127.0.0.0/8 reject with icmp type admin-prohibited; "
			  "add rule ip " NAT_TABLE " guard iifname \"" WARD_NET_BRIDGE
			  "\" ip daddr @" HOSTADDR_SET " reject with icmp type admin-prohibited; ");
	return s;
}

/* Record one more element in the slot file (appended). */
static void record(const struct ward_net *n, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void record(const struct ward_net *n, const char *fmt, ...)
{
	cleanup_free char *line = NULL;
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (len > 0 && lseek(n->slot_fd, 0, SEEK_END) >= 0 &&
	    write(n->slot_fd, line, (size_t)len) != len) {
		/* A short record only means a leftover gc cannot name. */
	}
}

/* The layout of the host's tables: a hash of the script that makes them
 * (FNV-1a), kept as the one element of the set "layout".  A start whose
 * tables carry its own layout only adds elements. */
static uint32_t host_layout(const char *script)
{
	uint32_t h = 2166136261u;

	for (; *script; script++)
		h = (h ^ (uint8_t)*script) * 16777619u;
	return h;
}

/* Rootless: addresses (network byte order) into the router's set of the
 * host's, in transactions of 64: the answers of one transaction must fit
 * in the socket's queue (a local route lists up to 256). */
static int add_hostaddrs(int fd, const uint32_t *be, size_t n, ward_error_t *err)
{
	size_t i, j;

	for (i = 0; i < n; i += 64) {
		struct ward_nft_batch b = {0};
		int rc;

		for (j = i; j < n && j < i + 64; j++) {
			char a[INET_ADDRSTRLEN];
			cleanup_free char *w = NULL;

			fmt_addr(ntohl(be[j]), a);
			w = ward_xasprintf("ip " NAT_TABLE " " HOSTADDR_SET " { %s }", a);
			ward_nft_batch_elem(&b, WARD_NFT_ELEM_ADD, NFPROTO_IPV4, NAT_TABLE,
					    HOSTADDR_SET, &be[j], 4, NULL, 0, w);
		}
		rc = ward_nft_commit(fd, &b, err);
		ward_nft_batch_free(&b);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* This sandbox's elements, in one transaction that first proves the
 * tables are the ones this ward makes: the layout element is deleted and
 * added again, which fails (ENOENT) if the table, the set or that element
 * is missing, and then nothing of the transaction happens. */
static int add_elements(const struct ward_net *n, int fd, uint32_t layout, const char *records,
			ward_error_t *err)
{
	struct ward_nft_batch b = {0};
	cleanup_free char *lines = ward_xstrdup(records);
	char *line, *save = NULL;
	int rc;

	ward_nft_batch_elem(&b, WARD_NFT_ELEM_DELETE, NFPROTO_IPV4, NAT_TABLE, LAYOUT_SET, &layout,
			    4, NULL, 0, "ip " NAT_TABLE " " LAYOUT_SET);
	ward_nft_batch_elem(&b, WARD_NFT_ELEM_ADD, NFPROTO_IPV4, NAT_TABLE, LAYOUT_SET, &layout, 4,
			    NULL, 0, "ip " NAT_TABLE " " LAYOUT_SET);
	for (line = strtok_r(lines, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		ward_net_record_elems(&b,
				      strncmp(line, "pub ", 4) == 0 ? WARD_NFT_ELEM_CREATE
								    : WARD_NFT_ELEM_ADD,
				      line, -1);
	rc = ward_nft_commit(fd, &b, err);
	ward_nft_batch_free(&b);
	/* Rootless: the host's addresses as of this start (never removed:
	 * see ward_net_host_rules), after the layout was proved. */
	if (rc == 0 && n->rootless && n->n_hostaddrs) {
		uint32_t *be = ward_xcalloc(n->n_hostaddrs, sizeof(*be));

		for (size_t i = 0; i < n->n_hostaddrs; i++)
			be[i] = htonl(n->hostaddrs[i]);
		rc = add_hostaddrs(fd, be, n->n_hostaddrs, err);
		free(be);
	}
	return rc;
}

int ward_net_router_hostaddrs(const uint32_t *be, size_t n)
{
	ward_error_t err = NULL;
	int fd = ward_nft_socket(&err), rc;

	if (fd < 0) {
		ward_error_free(&err);
		return -1;
	}
	rc = add_hostaddrs(fd, be, n, &err);
	ward_error_free(&err);
	close(fd);
	return rc;
}

/* The host's tables, made by nft(8) from ward_net_host_rules() when they
 * are missing or of another layout (the first sandbox after boot or after
 * `ward gc`, or after an upgrade of ward): the one place a tool runs. */
static int host_tables(const struct ward_net *n, const char *script, uint32_t layout,
		       ward_error_t *err)
{
	cleanup_free char *full =
		ward_xasprintf("%sadd set ip " NAT_TABLE " " LAYOUT_SET " { type mark; }; "
			       "flush set ip " NAT_TABLE " " LAYOUT_SET "; "
			       "add element ip " NAT_TABLE " " LAYOUT_SET " { 0x%08x }; ",
			       script, layout);
	char msg[512];

	(void)n;
	if (ward_nft_exec(full, msg, sizeof(msg)) != 0)
		return ward_error_set(err, EIO,
				      "network: the nftables tables ip " NAT_TABLE
				      " and bridge " BR_TABLE " could not be made: %s",
				      msg[0] ? msg : "(no message)");
	return 0;
}

/* Rootless --publish: hand each listening socket to the router's holder
 * with the sandbox's address and port (router.c); the connection stays
 * open for the sandbox's life, and its end closes the ports. */
static int publish_rootless(struct ward_net *n, ward_error_t *err)
{
	cleanup_free char *path = ward_xasprintf("%s/router.sock", n->dir);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char a[INET_ADDRSTRLEN];
	size_t i;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return ward_error_set(err, ENAMETOOLONG, "network: %s: path too long", path);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ward_error_sys(err, "--publish: cannot reach the router's holder (%s)", path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	n->router.holder_ctl = fd;
	fmt_addr(n->addr, a);
	for (i = 0; i < 2 * n->n_publish; i++) {
		char msg[64], ctl[CMSG_SPACE(sizeof(int))], ans = 0;
		struct iovec iov = {.iov_base = msg};
		struct msghdr mh = {.msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = ctl,
				    .msg_controllen = sizeof(ctl)};
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

		iov.iov_len =
			(size_t)snprintf(msg, sizeof(msg), "pub %s %u", a, n->publish[i / 2].port);
		memset(ctl, 0, sizeof(ctl));
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		/* pub_fds[i]: the IPv4 and the IPv6 side (check_publish). */
		if (n->pub_fds[i] < 0)
			continue;
		memcpy(CMSG_DATA(cm), &n->pub_fds[i], sizeof(int));
		if (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0 || read(fd, &ans, 1) != 1 || ans != 'o')
			return ward_error_set(
				err, EIO,
				"--publish %u:%u: the router's holder did not take the "
				"port",
				n->publish[i / 2].host_port, n->publish[i / 2].port);
		close(n->pub_fds[i]);
		n->pub_fds[i] = -1;
	}
	return 0;
}

int ward_net_attach(struct ward_net *n, pid_t init, ward_error_t *err)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN], macs[18];
	cleanup_free char *host_script = NULL, *nspath = NULL, *records = NULL;
	cleanup_close int nsfd = -1;
	uint8_t mac[6];
	uint32_t layout;
	bool nat = n->outbound;
	int lk, rc = -1;
	size_t i;

	fmt_addr(n->addr, a);
	lk = global_lock(n, err);
	if (lk < 0)
		return -1;
	if (ensure_bridge(n, err) < 0)
		goto out;

	/* Inside first: IPv6 off for the interfaces to come and the rules,
	 * from init's network namespace, which the program's user namespace
	 * does not own, so even CAP_NET_ADMIN there cannot change them. */
	nspath = ward_xasprintf("/proc/%d/ns/net", (int)init);
	nsfd = open(nspath, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0) {
		ward_error_sys(err, "cannot open %s", nspath);
		goto out;
	}
	if (setup_inside_from_host(n, nsfd, err) < 0)
		goto out;

	/* The host side joins ward0 and goes up; the peer is born in init's
	 * namespace as eth0 (without IPv6: its default is off there now), so
	 * no name can clash on the host.  Then the host side becomes an
	 * isolated bridge port, which talks only to the bridge (the host),
	 * never to another sandbox's port: sandboxes meet only through the
	 * host's forward chain.  A large MTU on both ends: the pair never
	 * leaves the host, and TCP between sandboxes then moves as many bytes
	 * per packet as over loopback (a path through a 1500-byte link
	 * negotiates its own MSS, or learns it from ICMP). */
	ward_net_mac(n->addr, mac);
	if (ward_rtnl_add_veth(n->host_if, WARD_NET_BRIDGE, "eth0", init, mac, WARD_NET_MTU, err) <
	    0)
		goto out;
	n->veth = true;
	if (no_ipv6(n->host_if, err) < 0 || ward_rtnl_isolate_port(n->host_if, err) < 0)
		goto out;

	/* The host: this sandbox's elements, each recorded in the slot file
	 * before it exists, so a crash in between leaves nothing gc cannot
	 * name.  The port is tied to its MAC and address before the program
	 * exists. */
	fmt_mac(n->addr, macs);
	records = ward_xasprintf("port %s %s %s\n", n->host_if, macs, a);
	for (i = 0; i < n->n_peers; i++) {
		const struct ward_net_peer *pe = &n->peers[i];

		if (pe->loopback)
			continue;
		fmt_addr(pe->addr, b);
		ward_xappendf(&records, "talk %s %s %u\n", a, b, pe->port);
		nat |= !pe->in_range;
	}
	if (nat)
		ward_xappendf(&records, "nat %s\n", a);
	if (n->outbound)
		ward_xappendf(&records, "out %s\n", a);
	/* create, not add: a host port another sandbox publishes is an error.
	 * Rootless, the holder serves the user's own sockets instead. */
	for (i = 0; i < n->n_publish && !n->rootless; i++)
		ward_xappendf(&records, "pub %u %s %u\n", n->publish[i].host_port, a,
			      n->publish[i].port);
	record(n, "%s", records);
	host_script = ward_net_host_rules(n);
	layout = host_layout(host_script);
	n->nft_fd = ward_nft_socket(err);
	if (n->nft_fd < 0)
		goto out;
	if (add_elements(n, n->nft_fd, layout, records, err) < 0) {
		if ((*err)->code != ENOENT)
			goto publish_or_fail;
		/* Missing tables, or another layout: make them, then again. */
		ward_error_free(err);
		if (host_tables(n, host_script, layout, err) < 0)
			goto out;
		if (add_elements(n, n->nft_fd, layout, records, err) < 0)
			goto publish_or_fail;
	}
	n->nat = nat;
	if (n->rootless && n->n_publish && publish_rootless(n, err) < 0)
		goto out;
	rc = 0;
	goto out;
publish_or_fail:
	if (n->n_publish && (*err)->code == EEXIST) {
		ward_error_free(err);
		ward_error_set(err, EEXIST,
			       "--publish: a host port given is already published by another "
			       "sandbox (`nft list map ip " NAT_TABLE " " PUB_MAP
			       "` shows which); choose another");
	} else {
		ward_error_wrap(
			err, "network: the sandbox's elements of the nftables tables ip " NAT_TABLE
			     " and bridge " BR_TABLE " could not be added");
	}
out:
	close(lk);
	return rc;
}

void ward_net_release(struct ward_net *n, bool init_gone)
{
	if (n->slot_fd >= 0) {
		ward_error_t e = NULL;
		int lk = global_lock(n, &e);
		char path[4096];

		/* The elements stay unless removed; the veth goes with the
		 * sandbox's network namespace, which the kernel tears down once
		 * init is gone (deleting it here would wait ~15 ms for the same).
		 * The slot file goes too (under the global lock, which every
		 * allocation holds), so the next start finds only live slots and
		 * leftovers. */
		remove_recorded(n->dir, n->slot, n->slot_fd, !init_gone, n->nft_fd);
		snprintf(path, sizeof(path), "%s/%u.lock", n->dir, n->slot);
		if (lk >= 0)
			unlink(path);
		close(n->slot_fd);
		n->slot_fd = -1;
		if (lk >= 0)
			close(lk);
		ward_error_free(&e);
	}
	/* Outside the lock: the first close waits for the kernel's deferred
	 * free of the transactions (see nft_fd). */
	if (n->inner_nft_fd >= 0)
		close(n->inner_nft_fd);
	if (n->nft_fd >= 0)
		close(n->nft_fd);
	n->inner_nft_fd = n->nft_fd = -1;
	n->veth = n->nat = false;
	free(n->dir);
	n->dir = NULL;
	free(n->peers);
	n->peers = NULL;
	free(n->listen);
	n->listen = NULL;
	free(n->publish);
	n->publish = NULL;
	free(n->hosts_path);
	n->hosts_path = NULL;
	free(n->resolv_path);
	n->resolv_path = NULL;
	free(n->hostaddrs);
	n->hostaddrs = NULL;
	n->n_hostaddrs = 0;
	for (size_t i = 0; n->pub_fds && i < 2 * n->n_publish; i++)
		if (n->pub_fds[i] >= 0)
			close(n->pub_fds[i]);
	free(n->pub_fds);
	n->pub_fds = NULL;
	if (n->router.holder_ctl >= 0)
		close(n->router.holder_ctl);
	if (n->router.lock_fd >= 0)
		close(n->router.lock_fd);
	n->router.holder_ctl = n->router.lock_fd = -1;
}

/* ---- sandbox side (init) ---- */

static void set_sin(struct sockaddr *sa, uint32_t a)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(a);
	memcpy(sa, &sin, sizeof(sin));
}

int ward_net_configure_inside(const struct ward_net *n, ward_error_t *err)
{
	struct ifreq ifr;
	struct rtentry rt;
	char dev[] = "eth0";
	cleanup_close int fd = -1;

	if (ward_ns_loopback_up(err) < 0)
		return -1;
	/* eth0 was born without IPv6 (the supervisor set the namespace's
	 * default first); check it before it goes up, and stop if not: an
	 * IPv6 link-local address would reach ward0's neighbours.  ENOENT: a
	 * kernel without IPv6. */
	{
		cleanup_free char *v = NULL;
		size_t len = 0;
		int rc = ward_read_file("/proc/sys/net/ipv6/conf/eth0/disable_ipv6", &v, &len);

		if ((rc < 0 && rc != -ENOENT) || (rc == 0 && (len == 0 || v[0] != '1')))
			return ward_error_set(
				err, EPERM,
				"network: IPv6 is not off on the sandbox's eth0 "
				"(net.ipv6.conf.eth0.disable_ipv6); refusing to bring "
				"it up");
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ward_error_sys(err, "socket for configuring eth0");
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "eth0");
	set_sin(&ifr.ifr_addr, n->addr);
	if (ioctl(fd, SIOCSIFADDR, &ifr) < 0)
		return ward_error_sys(err, "cannot set the address of eth0");
	/* A /32: every packet goes through the host (the gateway), where the
	 * forward chain decides; no other sandbox is on-link. */
	set_sin(&ifr.ifr_netmask, 0xffffffffu);
	if (ioctl(fd, SIOCSIFNETMASK, &ifr) < 0)
		return ward_error_sys(err, "cannot set the netmask of eth0");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return ward_error_sys(err, "cannot read the flags of eth0");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		return ward_error_sys(err, "cannot bring up eth0");
	memset(&rt, 0, sizeof(rt));
	set_sin(&rt.rt_dst, n->gw);
	set_sin(&rt.rt_genmask, 0xffffffffu);
	rt.rt_flags = RTF_UP | RTF_HOST;
	rt.rt_dev = dev;
	if (ioctl(fd, SIOCADDRT, &rt) < 0)
		return ward_error_sys(err, "cannot add the route to %s", WARD_NET_BRIDGE);
	memset(&rt, 0, sizeof(rt));
	set_sin(&rt.rt_dst, 0);
	set_sin(&rt.rt_genmask, 0);
	set_sin(&rt.rt_gateway, n->gw);
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	if (ioctl(fd, SIOCADDRT, &rt) < 0)
		return ward_error_sys(err, "cannot add the default route via %s", WARD_NET_BRIDGE);
	return 0;
}
