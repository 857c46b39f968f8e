/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rtnetlink requests for lib/net/net.c; see rtnl.h.
 *
 * A request is built in a fixed buffer: the netlink header, the family
 * header (ifinfomsg or ifaddrmsg), then attributes, some nested.  The answer
 * to NLM_F_ACK is an NLMSG_ERROR whose error is 0 or -errno.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rtnl.h"
#include "util.h"

struct req {
	union {
		struct nlmsghdr h;
		char buf[1024];
	};
	bool overflow;
};

static void *tail(struct req *r)
{
	return r->buf + NLMSG_ALIGN(r->h.nlmsg_len);
}

static struct rtattr *add_attr(struct req *r, unsigned short type, const void *data, size_t len)
{
	struct rtattr *a = tail(r);
	size_t need = RTA_SPACE(len);

	if (NLMSG_ALIGN(r->h.nlmsg_len) + need > sizeof(r->buf)) {
		r->overflow = true;
		return NULL;
	}
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	r->h.nlmsg_len = (uint32_t)(NLMSG_ALIGN(r->h.nlmsg_len) + need);
	return a;
}

static void add_str(struct req *r, unsigned short type, const char *s)
{
	add_attr(r, type, s, strlen(s) + 1);
}

static void add_u32(struct req *r, unsigned short type, uint32_t v)
{
	add_attr(r, type, &v, sizeof(v));
}

static struct rtattr *nest(struct req *r, unsigned short type)
{
	return add_attr(r, type | NLA_F_NESTED, NULL, 0);
}

static void nest_end(struct req *r, struct rtattr *a)
{
	if (a)
		a->rta_len = (unsigned short)((char *)tail(r) - (char *)a);
}

static void init_link(struct req *r, int type, unsigned flags, int index)
{
	struct ifinfomsg *ifi;

	memset(r, 0, sizeof(*r));
	r->h.nlmsg_len = NLMSG_LENGTH(sizeof(*ifi));
	r->h.nlmsg_type = (unsigned short)type;
	r->h.nlmsg_flags = (unsigned short)(NLM_F_REQUEST | NLM_F_ACK | flags);
	ifi = NLMSG_DATA(&r->h);
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = index;
}

/* Send and wait for the acknowledgement: 0 or -errno. */
static int talk(struct req *r)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	char answer[4096];
	cleanup_close int fd = -1;
	ssize_t n;

	if (r->overflow)
		return -E2BIG;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	r->h.nlmsg_seq = 1;
	if (sendto(fd, r->buf, r->h.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	for (;;) {
		struct nlmsghdr *h;

		n = recv(fd, answer, sizeof(answer), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (h = (struct nlmsghdr *)answer; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != 1)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				return e->error;
			}
		}
	}
}

/* errno for ward_error_sys from talk()'s -errno. */
static int set_errno(int rc)
{
	errno = -rc;
	return rc;
}

static int index_of(const char *ifname, ward_error_t *err)
{
	unsigned idx = if_nametoindex(ifname);

	if (idx == 0)
		return ward_error_sys(err, "network: no link %s", ifname);
	return (int)idx;
}

int ward_rtnl_add_bridge(const char *name, unsigned mtu, const uint8_t mac[6], ward_error_t *err)
{
	struct req r;
	struct rtattr *info;
	int rc;

	init_link(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
	add_str(&r, IFLA_IFNAME, name);
	add_u32(&r, IFLA_MTU, mtu);
	/* A bridge without a MAC of its own takes the lowest of its ports'
	 * and changes it as ports come and go, which flushes its neighbour
	 * table each time; a set MAC stays. */
	if (mac)
		add_attr(&r, IFLA_ADDRESS, mac, 6);
	info = nest(&r, IFLA_LINKINFO);
	add_str(&r, IFLA_INFO_KIND, "bridge");
	nest_end(&r, info);
	rc = talk(&r);
	if (rc < 0 && set_errno(rc))
		return ward_error_sys(err, "network: cannot create the bridge %s", name);
	return 0;
}

int ward_rtnl_add_addr4(const char *ifname, uint32_t addr, unsigned prefix, ward_error_t *err)
{
	struct req r;
	struct ifaddrmsg *ifa;
	uint32_t be = htonl(addr);
	int idx = index_of(ifname, err), rc;

	if (idx < 0)
		return -1;
	memset(&r, 0, sizeof(r));
	r.h.nlmsg_len = NLMSG_LENGTH(sizeof(*ifa));
	r.h.nlmsg_type = RTM_NEWADDR;
	r.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
	ifa = NLMSG_DATA(&r.h);
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (unsigned char)prefix;
	ifa->ifa_index = (unsigned)idx;
	add_attr(&r, IFA_LOCAL, &be, sizeof(be));
	add_attr(&r, IFA_ADDRESS, &be, sizeof(be));
	rc = talk(&r);
	if (rc < 0 && rc != -EEXIST && set_errno(rc))
		return ward_error_sys(err, "network: cannot add the address of %s", ifname);
	return 0;
}

int ward_rtnl_set_mac(const char *ifname, const uint8_t mac[6], ward_error_t *err)
{
	struct req r;
	int idx = index_of(ifname, err), rc;

	if (idx < 0)
		return -1;
	init_link(&r, RTM_NEWLINK, 0, idx);
	add_attr(&r, IFLA_ADDRESS, mac, 6);
	rc = talk(&r);
	if (rc < 0 && set_errno(rc))
		return ward_error_sys(err, "network: cannot set the MAC address of %s", ifname);
	return 0;
}

int ward_rtnl_set_up(const char *ifname, unsigned mtu, ward_error_t *err)
{
	struct req r;
	struct ifinfomsg *ifi;
	int idx = index_of(ifname, err), rc;

	if (idx < 0)
		return -1;
	init_link(&r, RTM_NEWLINK, 0, idx);
	ifi = NLMSG_DATA(&r.h);
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	if (mtu)
		add_u32(&r, IFLA_MTU, mtu);
	rc = talk(&r);
	if (rc < 0 && set_errno(rc))
		return ward_error_sys(err, "network: cannot bring up %s", ifname);
	return 0;
}

int ward_rtnl_add_veth(const char *host_if, const char *master, const char *peer_if, pid_t peer_pid,
		       const uint8_t peer_mac[6], unsigned mtu, ward_error_t *err)
{
	struct req r;
	struct ifinfomsg *ifi, *peer;
	struct rtattr *info, *data, *pa;
	int midx = index_of(master, err), rc;

	if (midx < 0)
		return -1;
	init_link(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
	ifi = NLMSG_DATA(&r.h);
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	add_str(&r, IFLA_IFNAME, host_if);
	add_u32(&r, IFLA_MTU, mtu);
	add_u32(&r, IFLA_MASTER, (uint32_t)midx);
	/* One queue each way, as the veth driver would set anyway: said at
	 * creation, so the driver does not lower the count of a registered
	 * device afterwards, which waits for an RCU grace period
	 * (netif_set_real_num_tx_queues -> synchronize_net) on each end. */
	add_u32(&r, IFLA_NUM_TX_QUEUES, 1);
	add_u32(&r, IFLA_NUM_RX_QUEUES, 1);
	info = nest(&r, IFLA_LINKINFO);
	add_str(&r, IFLA_INFO_KIND, "veth");
	data = nest(&r, IFLA_INFO_DATA);
	/* VETH_INFO_PEER carries an ifinfomsg, then the peer's attributes. */
	pa = nest(&r, VETH_INFO_PEER);
	peer = tail(&r);
	if (!r.overflow && NLMSG_ALIGN(r.h.nlmsg_len) + sizeof(*peer) <= sizeof(r.buf)) {
		memset(peer, 0, sizeof(*peer));
		peer->ifi_family = AF_UNSPEC;
		r.h.nlmsg_len = (uint32_t)(NLMSG_ALIGN(r.h.nlmsg_len) + NLMSG_ALIGN(sizeof(*peer)));
	} else {
		r.overflow = true;
	}
	add_str(&r, IFLA_IFNAME, peer_if);
	/* The peer's MAC address is chosen, not random: the host's bridge
	 * filter binds it to the port and the address (see net.c). */
	if (peer_mac)
		add_attr(&r, IFLA_ADDRESS, peer_mac, 6);
	add_u32(&r, IFLA_MTU, mtu);
	add_u32(&r, IFLA_NUM_TX_QUEUES, 1);
	add_u32(&r, IFLA_NUM_RX_QUEUES, 1);
	add_u32(&r, IFLA_NET_NS_PID, (uint32_t)peer_pid);
	nest_end(&r, pa);
	nest_end(&r, data);
	nest_end(&r, info);
	rc = talk(&r);
	if (rc < 0 && set_errno(rc))
		return ward_error_sys(err, "network: cannot create the veth pair %s/%s", host_if,
				      peer_if);
	return 0;
}

int ward_rtnl_isolate_port(const char *ifname, ward_error_t *err)
{
	struct req r;
	struct rtattr *info, *data;
	uint8_t on = 1;
	int idx = index_of(ifname, err), rc;

	if (idx < 0)
		return -1;
	init_link(&r, RTM_NEWLINK, 0, idx);
	info = nest(&r, IFLA_LINKINFO);
	add_str(&r, IFLA_INFO_SLAVE_KIND, "bridge");
	data = nest(&r, IFLA_INFO_SLAVE_DATA);
	add_attr(&r, IFLA_BRPORT_ISOLATED, &on, sizeof(on));
	nest_end(&r, data);
	nest_end(&r, info);
	rc = talk(&r);
	if (rc < 0 && set_errno(rc))
		return ward_error_sys(err, "network: cannot isolate the bridge port %s", ifname);
	return 0;
}

int ward_rtnl_del_link(const char *ifname, ward_error_t *err)
{
	struct req r;
	int rc;

	init_link(&r, RTM_DELLINK, 0, 0);
	add_str(&r, IFLA_IFNAME, ifname);
	rc = talk(&r);
	if (rc == -ENODEV || rc == -ENOENT)
		return 0;
	if (rc < 0 && set_errno(rc))
		return ward_error_sys(err, "network: cannot delete the link %s", ifname);
	return 0;
}

/* network.admin (w-admin): move a link into the network namespace nsfd. */
int ward_rtnl_set_netns(const char *ifname, int nsfd, ward_error_t *err)
{
	struct req r;
	int idx = index_of(ifname, err), rc;

	if (idx < 0)
		return -1;
	init_link(&r, RTM_NEWLINK, 0, idx);
	add_u32(&r, IFLA_NET_NS_FD, (uint32_t)nsfd);
	rc = talk(&r);
	if (rc < 0 && set_errno(rc))
		return ward_error_sys(err, "network: cannot move %s into the program's namespace",
				      ifname);
	return 0;
}
