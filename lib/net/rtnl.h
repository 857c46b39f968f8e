/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The few rtnetlink requests the network layer makes on the host (lib/net/net.c):
 * the bridge ward0, its address, a veth pair whose peer is born in a
 * sandbox's network namespace, bridge-port isolation, link deletion.
 *
 * Each call opens a NETLINK_ROUTE socket, sends one request with NLM_F_ACK
 * and reads the kernel's answer: no tool is executed, so a sandbox's
 * interface costs a few system calls instead of a fork and exec of ip(8).
 */
#ifndef WARD_RTNL_H
#define WARD_RTNL_H

#include <stdint.h>
#include <sys/types.h>

#include "error.h"

/* A bridge called name with the given MTU and MAC address (NULL: the
 * kernel's choice), down, no address. */
int ward_rtnl_add_bridge(const char *name, unsigned mtu, const uint8_t mac[6], ward_error_t *err);
/* Set a link's MAC address. */
int ward_rtnl_set_mac(const char *ifname, const uint8_t mac[6], ward_error_t *err);
/* addr/prefix (host byte order) on the link. */
int ward_rtnl_add_addr4(const char *ifname, uint32_t addr, unsigned prefix, ward_error_t *err);
/* Bring a link up, and set its MTU when mtu > 0. */
int ward_rtnl_set_up(const char *ifname, unsigned mtu, ward_error_t *err);
/* A veth pair: host_if (up, enslaved to master) and peer_if, born in the
 * network namespace of peer_pid with the MAC address peer_mac (NULL: a
 * random one); both with the given MTU. */
int ward_rtnl_add_veth(const char *host_if, const char *master, const char *peer_if, pid_t peer_pid,
		       const uint8_t peer_mac[6], unsigned mtu, ward_error_t *err);
/* Make a bridge port isolated: it talks to the bridge, never to another
 * isolated port. */
int ward_rtnl_isolate_port(const char *ifname, ward_error_t *err);
/* Delete a link; 0 when it is already gone. */
int ward_rtnl_del_link(const char *ifname, ward_error_t *err);

/* Move a link into the network namespace nsfd (network.admin). */
int ward_rtnl_set_netns(const char *ifname, int nsfd, ward_error_t *err);

#endif
