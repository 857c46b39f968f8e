/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * network.outbound: veth + bridge + NAT.
 *
 * Choice: the host side runs /usr/sbin/ip and /usr/sbin/nft with fixed
 * argument vectors instead of speaking rtnetlink/nfnetlink itself.  It is
 * a handful of operations per sandbox, the tools are part of every Debian
 * system, and their error messages are passed on to the user as they are.
 * The sandbox side needs no tool: init sets the address and the default
 * route with ioctls.
 *
 * State under STATE/net/:
 *   lock        held (flock) while ward0, the nft table or stale entries
 *               are being created or removed
 *   SLOT.lock   held by the supervisor owning address net+2+SLOT for the
 *               sandbox's life; contains "IFNAME ADDRESS\n", so the next
 *               start can remove what a killed supervisor left behind.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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
#include <sys/wait.h>
#include <unistd.h>

#include "net.h"
#include "ns.h"
#include "util.h"

#define IP_BIN	  "/usr/sbin/ip"
#define NFT_BIN	  "/usr/sbin/nft"
#define NAT_TABLE "ward_nat"
#define NAT_SET	  "sandboxes"

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

/* ---- running ip and nft ---- */

/* Run a fixed argv with an empty environment; stdout is discarded, stderr
 * is kept (trimmed) in msg for the error.  Returns the exit status, or -1. */
static int run_tool(char *const argv[], char *msg, size_t msglen)
{
	static char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
	int ep[2], st;
	ssize_t n = 0, r;
	pid_t pid;

	msg[0] = '\0';
	if (pipe2(ep, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
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
		dprintf(2, "cannot run %s: %s", argv[0], strerror(errno));
		_exit(127);
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

#define RUN(err, what, ...)                                                                 \
	({                                                                                  \
		char *const av_[] = {__VA_ARGS__, NULL};                                    \
		char m_[512];                                                               \
		int s_ = run_tool(av_, m_, sizeof(m_));                                     \
		s_ == 0 ? 0                                                                 \
			: ward_error_set(err, EIO, "network.outbound: %s failed: %s", what, \
					 m_[0] ? m_ : "(no message)");                      \
	})

/* Quiet: for removals, where "already gone" is fine. */
static void run_quiet(char *const argv[])
{
	char m[256];

	(void)run_tool(argv, m, sizeof(m));
}

static bool link_exists(const char *name)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/class/net/%s", name);
	return access(path, F_OK) == 0;
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
	return fd;
}

/* Remove the veth and NAT element recorded in a slot file (whose owner is
 * gone or is us). */
static void remove_recorded(int fd)
{
	char buf[64], ifname[IFNAMSIZ + 1], addr[INET_ADDRSTRLEN + 1];
	ssize_t r = pread(fd, buf, sizeof(buf) - 1, 0);

	if (r <= 0)
		return;
	buf[r] = '\0';
	if (sscanf(buf, "%15s %15s", ifname, addr) == 2) {
		cleanup_free char *elem = ward_xasprintf("{ %s }", addr);

		if (strncmp(ifname, "wv", 2) == 0 && link_exists(ifname))
			run_quiet((char *const[]){IP_BIN, "link", "del", ifname, NULL});
		run_quiet((char *const[]){NFT_BIN, "delete", "element", "ip", NAT_TABLE, NAT_SET,
					  elem, NULL});
	}
	if (ftruncate(fd, 0) < 0) {
		/* Nothing more to do: the next start tries again. */
	}
}

/* Leftovers of supervisors that died without cleaning up (SIGKILL): their
 * slot files are unlocked but not empty.  Caller holds the global lock. */
static void gc(const struct ward_net *n)
{
	DIR *d = opendir(n->dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		int fd;

		if (len < 6 || strcmp(e->d_name + len - 5, ".lock") != 0 || e->d_name[0] < '0' ||
		    e->d_name[0] > '9')
			continue;
		fd = openat(dirfd(d), e->d_name, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			remove_recorded(fd);
		close(fd);
	}
	closedir(d);
}

int ward_net_prepare(struct ward_net *n, const char *state_dir, ward_error_t *err)
{
	const char *range = getenv("WARD_NET_RANGE");
	unsigned nslots, i, start;
	int lk;

	memset(n, 0, sizeof(*n));
	n->slot_fd = -1;
	if (range == NULL || *range == '\0')
		range = WARD_NET_DEFAULT_RANGE;
	if (ward_net_parse_range(range, &n->net, &n->prefix, err) < 0)
		return -1;
	if (access(IP_BIN, X_OK) < 0 || access(NFT_BIN, X_OK) < 0)
		return ward_error_set(err, ENOENT,
				      "network.outbound needs %s and %s (apt-get install "
				      "iproute2 nftables)",
				      IP_BIN, NFT_BIN);
	n->gw = n->net + 1;
	nslots = (1u << (32 - n->prefix)) - 3; /* network, gateway, broadcast */
	if (nslots > WARD_NET_MAX_SLOTS)
		nslots = WARD_NET_MAX_SLOTS;
	n->dir = ward_xasprintf("%s/net", state_dir);
	if (mkdir(n->dir, 0700) < 0 && errno != EEXIST)
		return ward_error_sys(err, "cannot create %s", n->dir);
	if (check_routes(n, range, err) < 0)
		return -1;
	lk = global_lock(n, err);
	if (lk < 0)
		return -1;
	gc(n);
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
			char a[INET_ADDRSTRLEN], rec[64];
			int len;

			remove_recorded(fd); /* gc skipped it only if it was locked */
			n->slot_fd = fd;
			n->slot = slot;
			n->addr = n->net + 2 + slot;
			snprintf(n->host_if, sizeof(n->host_if), "wv%d", (int)getpid());
			fmt_addr(n->addr, a);
			len = snprintf(rec, sizeof(rec), "%s %s\n", n->host_if, a);
			if (pwrite(fd, rec, (size_t)len, 0) != len) {
				ward_error_sys(err, "cannot write %s", path);
				close(lk);
				return -1;
			}
			close(lk);
			return 0;
		}
		close(fd);
	}
	close(lk);
	return ward_error_set(err, EAGAIN,
			      "network.outbound: all %u addresses of %s are in use by running "
			      "sandboxes; wait for one to end or set a larger WARD_NET_RANGE",
			      nslots, range);
}

/* ---- host side ---- */

/* ward0 and the NAT table, if missing.  Caller holds the global lock. */
static int ensure_bridge_and_table(const struct ward_net *n, ward_error_t *err)
{
	char gw[INET_ADDRSTRLEN], netb[INET_ADDRSTRLEN];
	cleanup_free char *gwcidr = NULL, *rangecidr = NULL, *fwd = NULL, *script = NULL;
	char m[256];

	fmt_addr(n->gw, gw);
	fmt_addr(n->net, netb);
	gwcidr = ward_xasprintf("%s/%u", gw, n->prefix);
	rangecidr = ward_xasprintf("%s/%u", netb, n->prefix);
	if (!link_exists(WARD_NET_BRIDGE)) {
		if (RUN(err, "creating the bridge " WARD_NET_BRIDGE, IP_BIN, "link", "add",
			WARD_NET_BRIDGE, "type", "bridge") < 0 ||
		    RUN(err, "addressing " WARD_NET_BRIDGE, IP_BIN, "addr", "add", gwcidr, "dev",
			WARD_NET_BRIDGE) < 0 ||
		    RUN(err, "bringing up " WARD_NET_BRIDGE, IP_BIN, "link", "set", WARD_NET_BRIDGE,
			"up") < 0)
			return -1;
	}
	/* Forwarding on the bridge only: packets from sandboxes may be routed.
	 * The host-wide switch (net.ipv4.ip_forward) is left as it is; see
	 * docs/network.md. */
	fwd = ward_xasprintf("/proc/sys/net/ipv4/conf/%s/forwarding", WARD_NET_BRIDGE);
	if (ward_write_file(fwd, "1", 1) < 0)
		return ward_error_sys(err, "cannot enable forwarding on %s", WARD_NET_BRIDGE);
	/* The input chain is made last: if it exists, everything does. */
	if (run_tool((char *const[]){NFT_BIN, "list", "chain", "ip", NAT_TABLE, "input", NULL}, m,
		     sizeof(m)) != 0) {
		/* One transaction, idempotent (the chains are flushed, the set's
		 * elements are kept): the table appears complete or not at all.
		 * postrouting: masquerade what sandboxes send out of the host.
		 * input: sandboxes reach no service of the host itself (on any
		 * of its addresses); only replies to the host come in. */
		script = ward_xasprintf(
			"add table ip " NAT_TABLE "; "
			"add set ip " NAT_TABLE " " NAT_SET " { type ipv4_addr; }; "
			"add chain ip " NAT_TABLE " postrouting { type nat hook postrouting "
			"priority srcnat; policy accept; }; "
			"flush chain ip " NAT_TABLE " postrouting; "
			"add rule ip " NAT_TABLE " postrouting ip saddr @" NAT_SET
			" ip daddr != %s oifname != \"" WARD_NET_BRIDGE "\" masquerade; "
			"add chain ip " NAT_TABLE " input { type filter hook input priority "
			"filter; policy accept; }; "
			"flush chain ip " NAT_TABLE " input; "
			"add rule ip " NAT_TABLE " input iifname \"" WARD_NET_BRIDGE
			"\" ct state established,related accept; "
			"add rule ip " NAT_TABLE " input iifname \"" WARD_NET_BRIDGE
			"\" reject with icmp type admin-prohibited",
			rangecidr);
		if (RUN(err, "creating the nftables table ip " NAT_TABLE, NFT_BIN, script) < 0)
			return -1;
	}
	return 0;
}

int ward_net_attach(struct ward_net *n, pid_t init, ward_error_t *err)
{
	char pid[16], a[INET_ADDRSTRLEN];
	cleanup_free char *elem = NULL;
	int lk, rc = -1;

	lk = global_lock(n, err);
	if (lk < 0)
		return -1;
	if (ensure_bridge_and_table(n, err) < 0)
		goto out;
	snprintf(pid, sizeof(pid), "%d", (int)init);
	/* One command: the host side joins ward0 and goes up; the peer is born
	 * in init's namespace as eth0, so no name can clash on the host. */
	if (RUN(err, "creating the veth pair", IP_BIN, "link", "add", n->host_if, "up", "master",
		WARD_NET_BRIDGE, "type", "veth", "peer", "name", "eth0", "netns", pid) < 0)
		goto out;
	n->veth = true;
	/* An isolated bridge port talks only to the bridge (the host), never
	 * to another sandbox's port. */
	if (RUN(err, "isolating the veth on " WARD_NET_BRIDGE, IP_BIN, "link", "set", n->host_if,
		"type", "bridge_slave", "isolated", "on") < 0)
		goto out;
	fmt_addr(n->addr, a);
	elem = ward_xasprintf("{ %s }", a);
	if (RUN(err, "adding the sandbox's address to the NAT set", NFT_BIN, "add", "element", "ip",
		NAT_TABLE, NAT_SET, elem) < 0)
		goto out;
	n->nat = true;
	rc = 0;
out:
	close(lk);
	return rc;
}

void ward_net_release(struct ward_net *n)
{
	if (n->slot_fd >= 0) {
		/* The veth usually died with the namespace; the element did not. */
		remove_recorded(n->slot_fd);
		close(n->slot_fd);
		n->slot_fd = -1;
	}
	n->veth = n->nat = false;
	free(n->dir);
	n->dir = NULL;
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
	cleanup_close int fd = -1;

	if (ward_ns_loopback_up(err) < 0)
		return -1;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ward_error_sys(err, "socket for configuring eth0");
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "eth0");
	set_sin(&ifr.ifr_addr, n->addr);
	if (ioctl(fd, SIOCSIFADDR, &ifr) < 0)
		return ward_error_sys(err, "cannot set the address of eth0");
	set_sin(&ifr.ifr_netmask, mask_of(n->prefix));
	if (ioctl(fd, SIOCSIFNETMASK, &ifr) < 0)
		return ward_error_sys(err, "cannot set the netmask of eth0");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return ward_error_sys(err, "cannot read the flags of eth0");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		return ward_error_sys(err, "cannot bring up eth0");
	memset(&rt, 0, sizeof(rt));
	set_sin(&rt.rt_dst, 0);
	set_sin(&rt.rt_genmask, 0);
	set_sin(&rt.rt_gateway, n->gw);
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	if (ioctl(fd, SIOCADDRT, &rt) < 0)
		return ward_error_sys(err, "cannot add the default route via %s", WARD_NET_BRIDGE);
	return 0;
}
