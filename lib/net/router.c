/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The rootless user's router: netd, the holder of the router's namespaces,
 * and pasta; see router.h.
 *
 * State under the user's network directory (DIR = <state>/net, 0700):
 *   router.lock  held while the router is checked, made, joined or ended
 *   router       "NETD HOLDER USERNS-INODE NETNS-INODE COUNT SETGROUPS":
 *                written by netd once the router works, removed when it ends
 *   pasta.pid    pasta's pid file (its sign that it is ready)
 *   pasta.log    pasta's messages
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "net.h"
#include "ns.h"
#include "router.h"
#include "util.h"

struct router_rec {
	pid_t netd, holder;
	unsigned long long userns, netns;
	unsigned count;
	int setgroups;
};

static char *path_in(const char *dir, const char *name)
{
	return ward_xasprintf("%s/%s", dir, name);
}

/*
 * Lock DIR/NAME.  netd unlinks the router's files, lock files too, when the
 * router ends (holding those locks): a lock taken on a file that is no
 * longer DIR/NAME is dropped and taken again on the new one.
 */
static int lock_file(const char *dir, const char *name, ward_error_t *err)
{
	cleanup_free char *path = path_in(dir, name);

	for (;;) {
		struct stat a, b;
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

		if (fd < 0 && errno == ENOENT && ward_mkdir_p(dir, 0700) == 0)
			continue;
		if (fd < 0)
			return ward_error_sys(err, "cannot open %s", path);
		while (flock(fd, LOCK_EX) < 0)
			if (errno != EINTR) {
				ward_error_sys(err, "cannot lock %s", path);
				close(fd);
				return -1;
			}
		if (fstat(fd, &a) == 0 && lstat(path, &b) == 0 && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino)
			return fd;
		close(fd);
	}
}

static int read_rec(const char *dir, struct router_rec *r)
{
	cleanup_free char *path = path_in(dir, "router");
	cleanup_free char *text = NULL;
	size_t len = 0;
	int pn, ph;

	if (ward_read_file(path, &text, &len) < 0 || len == 0)
		return -1;
	if (sscanf(text, "%d %d %llu %llu %u %d", &pn, &ph, &r->userns, &r->netns, &r->count,
		   &r->setgroups) != 6 ||
	    pn <= 1 || ph <= 1 || r->count == 0)
		return -1;
	r->netd = pn;
	r->holder = ph;
	return 0;
}

/* Open the router's namespace (what: "user" or "net") through the holder's
 * /proc entry, and check it is the one recorded (a pid can be reused). */
static int open_ns(const struct router_rec *r, const char *what, unsigned long long ino)
{
	char path[64];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)r->holder, what);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || (unsigned long long)st.st_ino != ino) {
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- --publish: the holder's relay ---- */

/*
 * A rootless --publish HOSTPORT:PORT: the supervisor listens on the host's
 * port (as the user, in the host's network namespace, before it joins the
 * router) and hands the listening socket to the holder over router.sock,
 * with the sandbox's address and port.  The holder accepts, connects to
 * the sandbox from the router (its own network namespace) and relays the
 * bytes in a child of its own, one per connection.  The listening socket
 * goes when the supervisor's connection to router.sock closes (however the
 * supervisor ends), so the host's port is free again when the sandbox is
 * gone.  The sandbox sees connections come from the router (ward0's
 * address), not from the client.  pasta (of Debian 12) cannot add a
 * forwarded port while it runs, hence ward's own relay.
 */
#define MAX_PUB 256

struct pub {
	int sup, lfd; /* the supervisor's connection; the host's listening socket */
	struct sockaddr_in to;
};

static void relay(int a, int b) __attribute__((noreturn));
static void relay(int a, int b)
{
	char buf[2][65536];
	size_t len[2] = {0, 0}, off[2] = {0, 0};
	bool eof[2] = {false, false}, shut[2] = {false, false};
	int fd[2] = {a, b};

	/* buf[i] holds what was read from fd[i], to be written to fd[!i]. */
	for (;;) {
		struct pollfd pfd[2];
		int i;

		for (i = 0; i < 2; i++) {
			pfd[i].fd = fd[i];
			pfd[i].events = (short)((!eof[i] && len[i] == 0 ? POLLIN : 0) |
						(len[!i] > off[!i] ? POLLOUT : 0));
		}
		if ((eof[0] && eof[1] && len[0] == 0 && len[1] == 0))
			_exit(0);
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		for (i = 0; i < 2; i++) {
			if (pfd[i].revents & (POLLERR | POLLNVAL))
				_exit(0);
			if ((pfd[i].revents & (POLLIN | POLLHUP)) && !eof[i] && len[i] == 0) {
				ssize_t n = read(fd[i], buf[i], sizeof(buf[i]));

				if (n > 0) {
					len[i] = (size_t)n;
					off[i] = 0;
				} else if (n == 0 || errno != EAGAIN) {
					eof[i] = true;
				}
			}
			if ((pfd[i].revents & POLLOUT) && len[!i] > off[!i]) {
				ssize_t n = write(fd[i], buf[!i] + off[!i], len[!i] - off[!i]);

				if (n < 0 && errno != EAGAIN)
					_exit(0);
				if (n > 0)
					off[!i] += (size_t)n;
				if (off[!i] == len[!i])
					len[!i] = off[!i] = 0;
			}
		}
		/* Half-close: what ended on one side ends on the other once
		 * everything read was written. */
		for (i = 0; i < 2; i++)
			if (eof[i] && len[i] == 0 && !shut[!i]) {
				shutdown(fd[!i], SHUT_WR);
				shut[!i] = true;
			}
	}
}

/* Relays at once, of all the user's published ports: a client that opens
 * connections without end gets no more processes of the user's than this
 * (the connections beyond are closed at once); and at most
 * MAX_RELAYS_PER_CLIENT of them for one client address, so that one
 * client cannot take every relay of the user's published ports. */
#define MAX_RELAYS	      512
#define MAX_RELAYS_PER_CLIENT 64
static struct {
	pid_t pid;
	uint8_t from[16]; /* the client's address (IPv4: the first 4 bytes) */
} relays[MAX_RELAYS];
static unsigned n_relays;

static void pub_accept(const struct pub *p)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int c = accept4(p->lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC), s;
	uint8_t from[16] = {0};
	unsigned i, same = 0;
	pid_t pid;

	if (c < 0)
		return;
	while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
		for (i = 0; i < n_relays; i++)
			if (relays[i].pid == pid) {
				relays[i] = relays[--n_relays];
				break;
			}
	if (ss.ss_family == AF_INET)
		memcpy(from, &((struct sockaddr_in *)(void *)&ss)->sin_addr, 4);
	else if (ss.ss_family == AF_INET6)
		memcpy(from, &((struct sockaddr_in6 *)(void *)&ss)->sin6_addr, 16);
	for (i = 0; i < n_relays; i++)
		same += memcmp(relays[i].from, from, sizeof(from)) == 0;
	pid = n_relays < MAX_RELAYS && same < MAX_RELAYS_PER_CLIENT ? fork() : -1;
	if (pid != 0) {
		if (pid > 0) {
			relays[n_relays].pid = pid;
			memcpy(relays[n_relays].from, from, sizeof(from));
			n_relays++;
		}
		close(c);
		return;
	}
	/* The relay: the client and a connection to the sandbox, made here,
	 * in the router's network namespace; nothing else.  It ends with the
	 * holder (it would keep the router's namespace alive). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || dup3(c, 3, 0) < 0)
		_exit(1);
	syscall(SYS_close_range, 4, ~0U, 0);
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (const struct sockaddr *)&p->to, sizeof(p->to)) < 0)
		_exit(1);
	relay(3, s);
}

/* One request of a supervisor: "pub A.B.C.D PORT" and the listening socket. */
static bool pub_request(int sup, struct pub *pubs, size_t *n)
{
	char msg[64], ctl[CMSG_SPACE(sizeof(int))], a[INET_ADDRSTRLEN + 1];
	struct iovec iov = {.iov_base = msg, .iov_len = sizeof(msg) - 1};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl,
			    .msg_controllen = sizeof(ctl)};
	struct cmsghdr *cm;
	unsigned port;
	int lfd = -1;
	ssize_t r = recvmsg(sup, &mh, MSG_CMSG_CLOEXEC);
	size_t i;

	if (r <= 0) {
		/* The supervisor is gone: its ports close. */
		for (i = 0; i < *n;)
			if (pubs[i].sup == sup) {
				close(pubs[i].lfd);
				pubs[i] = pubs[--*n];
			} else {
				i++;
			}
		close(sup);
		return false;
	}
	msg[r] = '\0';
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&lfd, CMSG_DATA(cm), sizeof(int));
	if (lfd < 0 || *n >= MAX_PUB || sscanf(msg, "pub %15s %u", a, &port) != 2 || port == 0 ||
	    port > 65535) {
		if (lfd >= 0)
			close(lfd);
		(void)!write(sup, "e", 1);
		return true;
	}
	memset(&pubs[*n].to, 0, sizeof(pubs[*n].to));
	pubs[*n].to.sin_family = AF_INET;
	pubs[*n].to.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, a, &pubs[*n].to.sin_addr) != 1) {
		close(lfd);
		(void)!write(sup, "e", 1);
		return true;
	}
	pubs[*n].sup = sup;
	pubs[*n].lfd = lfd;
	++*n;
	(void)!write(sup, "o", 1);
	return true;
}

/* netd's list of the host's addresses (router.c's netd_watch): added to
 * the router's set of addresses it refuses (net.c).  An EOF: netd is gone
 * (and this holder with it, its parent-death signal). */
static void host_addrs_in(int *fd)
{
	uint32_t be[1024];
	ssize_t r = read(*fd, be, sizeof(be));

	if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) {
		close(*fd);
		*fd = -1;
		return;
	}
	if (r >= 4)
		(void)ward_net_router_hostaddrs(be, (size_t)r / 4);
}

static __attribute__((noreturn)) void holder_serve(const char *dir, int addrs)
{
	cleanup_free char *path = path_in(dir, "router.sock");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct pub pubs[MAX_PUB];
	int sups[MAX_PUB], ls;
	size_t n_pub = 0, n_sup = 0, i;

	/* Relays are reaped, and counted, by pub_accept(). */
	ls = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (ls < 0 || strlen(path) >= sizeof(sa.sun_path))
		for (;;)
			pause();
	strcpy(sa.sun_path, path);
	unlink(path);
	if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 16) < 0)
		for (;;)
			pause();
	for (;;) {
		struct pollfd pfd[2 + 2 * MAX_PUB];
		size_t k = 0, j, nsup = n_sup, ka;

		pfd[k++] = (struct pollfd){.fd = ls, .events = POLLIN};
		for (i = 0; i < n_sup; i++)
			pfd[k++] = (struct pollfd){.fd = sups[i], .events = POLLIN};
		for (i = 0; i < n_pub; i++)
			pfd[k++] = (struct pollfd){.fd = pubs[i].lfd, .events = POLLIN};
		ka = k;
		pfd[k++] = (struct pollfd){.fd = addrs, .events = POLLIN};
		if (poll(pfd, k, -1) < 0)
			continue;
		if (pfd[ka].revents)
			host_addrs_in(&addrs);
		k = ka;
		/* By descriptor, not by position: a supervisor that is gone
		 * takes its listening sockets with it in this round. */
		for (j = 1; j < k; j++) {
			if (pfd[j].revents == 0)
				continue;
			if (j <= nsup) {
				if (!pub_request(pfd[j].fd, pubs, &n_pub))
					for (i = 0; i < n_sup; i++)
						if (sups[i] == pfd[j].fd) {
							sups[i] = sups[--n_sup];
							break;
						}
				continue;
			}
			for (i = 0; i < n_pub; i++)
				if (pubs[i].lfd == pfd[j].fd) {
					pub_accept(&pubs[i]);
					break;
				}
		}
		if (pfd[0].revents & POLLIN) {
			int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
			struct ucred cr;
			socklen_t cl = sizeof(cr);

			/* Only the user's own processes (the socket's directory
			 * is theirs, 0700): checked anyway. */
			if (c >= 0 && (n_sup >= MAX_PUB ||
				       getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0 ||
				       cr.uid != getuid()))
				close(steal_fd(&c));
			if (c >= 0)
				sups[n_sup++] = c;
		}
	}
}

/* ---- the holder: in the router's namespaces ---- */

static __attribute__((noreturn)) void holder_main(const char *dir, pid_t netd, int up, int down)
{
	char c;
	int rc;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != netd)
		_exit(1);
	prctl(PR_SET_NAME, "ward-router", 0, 0, 0);
	/* A user namespace of the user's (only the owner of the parent may
	 * make one) and a network namespace it owns. */
	if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0) {
		dprintf(up, "ecannot make the router's namespaces: %s", strerror(errno));
		_exit(1);
	}
	if (write(up, "u", 1) != 1 || read(down, &c, 1) != 1 || c != 'm')
		_exit(1);
	/* Root here now (the maps are written).  The router forwards between
	 * ward0 and the uplink; it has no IPv6 at all. */
	{
		ward_error_t err = NULL;

		if (ward_ns_loopback_up(&err) < 0) {
			dprintf(up, "e%s", err->msg);
			_exit(1);
		}
	}
	rc = ward_write_file("/proc/sys/net/ipv4/ip_forward", "1", 1);
	if (rc == 0) {
		int r6 = ward_write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1", 1);

		if (r6 == 0)
			r6 = ward_write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1", 1);
		if (r6 < 0 && r6 != -ENOENT)
			rc = r6;
	}
	if (rc < 0) {
		dprintf(up, "ecannot configure the router's network namespace: %s", strerror(-rc));
		_exit(1);
	}
	if (write(up, "r", 1) != 1)
		_exit(1);
	close(up);
	holder_serve(dir, down);
}

/* ---- netd: in the host's namespaces ---- */

static pid_t spawn_pasta(const char *dir, pid_t holder)
{
	cleanup_free char *pidf = path_in(dir, "pasta.pid");
	cleanup_free char *logf = path_in(dir, "pasta.log");
	char netns[64], userns[64];
	pid_t self = getpid(), pid;

	snprintf(netns, sizeof(netns), "/proc/%d/ns/net", (int)holder);
	snprintf(userns, sizeof(userns), "/proc/%d/ns/user", (int)holder);
	unlink(pidf);
	unlink(logf);
	pid = fork();
	if (pid != 0)
		return pid;
	{
		/*
		 * What pasta may do, narrowed to what the router needs:
		 * --config-net: the uplink gets the host's address and default
		 *   route (copied from the host's interface with the default
		 *   route), up;
		 * -4: IPv4 only (ward gives sandboxes no IPv6);
		 * --no-map-gw: the gateway's address is the gateway, not the
		 *   host's loopback (which would make the host's services on
		 *   127.0.0.1 reachable);
		 * -T none -U none: no port of the host's loopback is forwarded
		 *   into the router (pasta's default "auto" forwards every port
		 *   the host listens on);
		 * -t none -u none: no port of the host is forwarded in;
		 * no DHCP, NDP, DHCPv6 or router advertisements: nothing in the
		 *   router asks for them.
		 */
		char *const argv[] = {"pasta",	    "-f",	   "-q",	  "--config-net",
				      "-4",	    "--no-map-gw", "-T",	  "none",
				      "-U",	    "none",	   "-t",	  "none",
				      "-u",	    "none",	   "-I",	  WARD_NET_UPLINK,
				      "--no-dhcp",  "--no-ndp",	   "--no-dhcpv6", "--no-ra",
				      "-P",	    pidf,	   "-l",	  logf,
				      "--log-size", "65536",	   "--netns",	  netns,
				      "--userns",   userns,	   NULL};
		static char *const envp[] = {"PATH=/usr/bin:/bin", NULL};
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != self ||
		    null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
			_exit(127);
		execve(WARD_NET_PASTA, argv, envp);
		_exit(127);
	}
}

/* Wait until pasta has written its pid file (it does once the uplink is
 * configured), or has ended.  0, or -1 with a message in msg. */
static int wait_pasta(const char *dir, pid_t pasta, char *msg, size_t len)
{
	cleanup_free char *pidf = path_in(dir, "pasta.pid");
	cleanup_free char *logf = path_in(dir, "pasta.log");
	struct timespec t0, t;
	int st;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct stat sb;

		if (stat(pidf, &sb) == 0 && sb.st_size > 0)
			return 0;
		if (waitpid(pasta, &st, WNOHANG) == pasta) {
			cleanup_free char *log = NULL;
			size_t n = 0;

			if (ward_read_file(logf, &log, &n) == 0 && n > 0) {
				while (n > 0 && (log[n - 1] == '\n' || log[n - 1] == ' '))
					log[--n] = '\0';
				snprintf(msg, len, "pasta ended: %s", log);
			} else {
				snprintf(msg, len, "pasta ended (%s %d) without a message",
					 WIFEXITED(st) ? "status" : "signal",
					 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
			}
			return -1;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 30) {
			snprintf(msg, len, "pasta did not start within 30 s (see %s)", logf);
			return -1;
		}
		usleep(1000);
	}
}

/* Is any sandbox of the router running?  A live one holds its slot file's
 * lock (lib/net/net.c); netd takes the network directory's lock first. */
static bool busy(const char *dir)
{
	ward_error_t err = NULL;
	int lk = lock_file(dir, "lock", &err);
	bool found = false;
	DIR *d;

	ward_error_free(&err);
	if (lk < 0)
		return true;
	d = opendir(dir);
	if (d) {
		struct dirent *e;

		while (!found && (e = readdir(d)) != NULL) {
			size_t n = strlen(e->d_name);
			int fd;

			if (n <= 5 || e->d_name[0] < '0' || e->d_name[0] > '9' ||
			    strcmp(e->d_name + n - 5, ".lock") != 0)
				continue;
			fd = openat(dirfd(d), e->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
			if (fd < 0)
				continue;
			if (flock(fd, LOCK_SH | LOCK_NB) < 0)
				found = true;
			close(fd);
		}
		closedir(d);
	}
	close(lk);
	return found;
}

/*
 * What the router leaves when it ends: the files of every slot no sandbox
 * holds (those of supervisors killed with SIGKILL included), and, when no
 * sandbox holds one, everything else too, the directory included.  Under
 * the network directory's lock (net.c), and router.lock when OWN_RLK; a
 * lock file is unlinked only by its holder (lock_file() then takes the new
 * one).
 */
static void sweep(const char *dir, bool own_rlk)
{
	static const char *const files[] = {"router",	 "router.tmp", "router.sock",
					    "pasta.pid", "pasta.log",  NULL};
	ward_error_t err = NULL;
	int lk = lock_file(dir, "lock", &err), dfd, i;
	bool live = false;
	DIR *d;
	struct dirent *e;

	ward_error_free(&err);
	if (lk < 0)
		return;
	d = opendir(dir);
	dfd = d ? dirfd(d) : -1;
	while (d && (e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		char base[256];
		int fd;

		if (n <= 5 || n >= sizeof(base) || e->d_name[0] < '0' || e->d_name[0] > '9' ||
		    strcmp(e->d_name + n - 5, ".lock") != 0)
			continue;
		fd = openat(dfd, e->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			live = true;
		} else {
			char other[300];

			snprintf(base, sizeof(base), "%.*s", (int)(n - 5), e->d_name);
			snprintf(other, sizeof(other), "%s.hosts", base);
			unlinkat(dfd, other, 0);
			snprintf(other, sizeof(other), "%s.resolv", base);
			unlinkat(dfd, other, 0);
			unlinkat(dfd, e->d_name, 0);
		}
		close(fd);
	}
	if (d && !live) {
		for (i = 0; files[i]; i++)
			unlinkat(dfd, files[i], 0);
		unlinkat(dfd, "lock", 0);
		if (own_rlk) {
			unlinkat(dfd, "router.lock", 0);
			rmdir(dir);
		}
	}
	if (d)
		closedir(d);
	close(lk);
}

/* netd's end: under router.lock (once it runs), so that no supervisor is
 * between reading the record and joining; then the children go. */
#define LOCK_TAKE (-1) /* netd_end takes router.lock */
#define LOCK_NONE (-2) /* starting: the supervisor that started netd holds it */

static __attribute__((noreturn)) void netd_end(const char *dir, pid_t holder, pid_t pasta, int lk)
{
	ward_error_t err = NULL;
	cleanup_free char *rec = path_in(dir, "router");
	cleanup_free char *pidf = path_in(dir, "pasta.pid");
	struct router_rec r;

	if (lk == LOCK_TAKE)
		lk = lock_file(dir, "router.lock", &err);

	if (read_rec(dir, &r) == 0 && r.netd == getpid())
		unlink(rec);
	if (pasta > 0)
		kill(pasta, SIGKILL);
	if (holder > 0)
		kill(holder, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	unlink(pidf);
	sweep(dir, lk >= 0);
	if (lk >= 0)
		close(lk);
	_exit(0);
}

/* A netlink socket that hears of every IPv4 address the host gains or
 * loses (in netd, the host's network namespace); -1 if there is none (the
 * list then goes over only at the router's start). */
static int netd_watch(void)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK,
				 .nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV4_ROUTE};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);

	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

struct addr_list {
	uint32_t be[1024];
	size_t n;
};

/* The addresses of the host's local routes (AnyIP), as the supervisor
 * lists them (net.c's collect_host_addresses; one wider than
 * WARD_NET_LOCAL_ROUTE_MIN stops a start there; here the first 1024). */
static void local_route_out(uint32_t net, unsigned prefix, void *arg)
{
	struct addr_list *l = arg;
	uint32_t i;

	if (prefix < WARD_NET_LOCAL_ROUTE_MIN)
		prefix = WARD_NET_LOCAL_ROUTE_MIN;
	for (i = 0; i < (1u << (32 - prefix)) && l->n < 1024; i++)
		l->be[l->n++] = htonl(net + i);
}

/* The host's IPv4 addresses but 127.0.0.0/8, and those of its local routes,
 * in one write (at most 1024: one pipe buffer), to the holder
 * (host_addrs_in). */
static void host_addrs_out(int fd)
{
	struct ifaddrs *ifa, *i;
	static struct addr_list l;
	uint32_t *be = l.be;
	size_t n;

	l.n = 0;
	if (fd >= 0)
		(void)ward_net_host_local_routes(local_route_out, &l);
	n = l.n;
	if (fd < 0 || getifaddrs(&ifa) < 0)
		return;
	for (i = ifa; i && n < 1024; i = i->ifa_next) {
		uint32_t a;

		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET)
			continue;
		a = ((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr.s_addr;
		if ((ntohl(a) >> 24) != 127)
			be[n++] = a;
	}
	freeifaddrs(ifa);
	if (n)
		(void)!write(fd, be, n * 4);
}

static __attribute__((noreturn)) void netd_main(const char *dir,
						const struct ward_rootless_ids *ids, int report)
{
	int up[2], down[2], sig, sfd, nl;
	char buf[512];
	ssize_t n;
	pid_t holder, pasta, self = getpid();
	sigset_t set;
	struct stat un, nn;
	time_t idle_since = 0, last_look = 0;

	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
	/* A daemon of the user's: its own session, no terminal, no descriptor
	 * of the supervisor it came from (the report pipe aside). */
	setsid();
	prctl(PR_SET_NAME, "ward-netd", 0, 0, 0);
	if (dup3(report, 3, O_CLOEXEC) < 0)
		_exit(1);
	report = 3;
	syscall(SYS_close_range, 4, ~0U, 0);
	{
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
			_exit(1);
		if (null > 3)
			close(null);
	}
	if (chdir("/") < 0)
		_exit(1);
	if (pipe2(up, O_CLOEXEC) < 0 || pipe2(down, O_CLOEXEC) < 0)
		_exit(1);
	holder = fork();
	if (holder < 0)
		_exit(1);
	if (holder == 0) {
		close(up[0]);
		close(down[1]);
		close(report);
		holder_main(dir, self, up[1], down[0]);
	}
	close(up[1]);
	close(down[0]);
	n = read(up[0], buf, sizeof(buf) - 1);
	if (n != 1 || buf[0] != 'u')
		goto fail_holder;
	{
		ward_error_t err = NULL;

		if (ward_rootless_write_maps(holder, ids, &err) < 0) {
			dprintf(report, "%s", err->msg);
			netd_end(dir, holder, -1, LOCK_NONE);
		}
	}
	if (write(down[1], "m", 1) != 1)
		goto fail_holder;
	n = read(up[0], buf, sizeof(buf) - 1);
	if (n != 1 || buf[0] != 'r')
		goto fail_holder;
	close(up[0]);

	pasta = spawn_pasta(dir, holder);
	if (pasta < 0) {
		dprintf(report, "cannot start %s: %s", WARD_NET_PASTA, strerror(errno));
		netd_end(dir, holder, -1, LOCK_NONE);
	}
	if (wait_pasta(dir, pasta, buf, sizeof(buf)) < 0) {
		dprintf(report, "%s", buf);
		netd_end(dir, holder, -1, LOCK_NONE);
	}

	/* Working: the record says where the router is. */
	snprintf(buf, sizeof(buf), "/proc/%d/ns/user", (int)holder);
	if (stat(buf, &un) < 0)
		netd_end(dir, holder, pasta, LOCK_NONE);
	snprintf(buf, sizeof(buf), "/proc/%d/ns/net", (int)holder);
	if (stat(buf, &nn) < 0)
		netd_end(dir, holder, pasta, LOCK_NONE);
	{
		cleanup_free char *tmp = path_in(dir, "router.tmp");
		cleanup_free char *rec = path_in(dir, "router");
		int len = snprintf(buf, sizeof(buf), "%d %d %llu %llu %u %d\n", (int)self,
				   (int)holder, (unsigned long long)un.st_ino,
				   (unsigned long long)nn.st_ino, ids->count, ids->subids ? 1 : 0);

		int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);

		if (fd < 0 || write(fd, buf, (size_t)len) != len || close(fd) < 0 ||
		    rename(tmp, rec) < 0) {
			dprintf(report, "cannot write %s: %s", rec, strerror(errno));
			netd_end(dir, holder, pasta, LOCK_NONE);
		}
	}
	if (write(report, "ok", 2) != 2)
		netd_end(dir, holder, pasta, LOCK_NONE);
	close(report);

	/* Until a child ends, SIGTERM, or idleness; meanwhile every address
	 * the host gains goes to the holder at once (netd_watch). */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		netd_end(dir, holder, pasta, LOCK_TAKE);
	nl = netd_watch();
	/* Never wait for the holder: a list it has not read yet is replaced
	 * by the next one. */
	fcntl(down[1], F_SETFL, O_NONBLOCK);
	host_addrs_out(down[1]);
	for (;;) {
		struct pollfd pf[2] = {{.fd = sfd, .events = POLLIN}, {.fd = nl, .events = POLLIN}};
		struct signalfd_siginfo si;
		time_t now;
		pid_t gone;

		sig = 0;
		if (poll(pf, nl >= 0 ? 2 : 1, 1000) > 0) {
			if ((pf[0].revents & POLLIN) && read(sfd, &si, sizeof(si)) == sizeof(si))
				sig = (int)si.ssi_signo;
			if (nl >= 0 && pf[1].revents) {
				char drain[8192];

				while (recv(nl, drain, sizeof(drain), MSG_DONTWAIT) > 0)
					;
				host_addrs_out(down[1]);
			}
		}
		if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP) {
			/* `ward gc` found the router idle; a sandbox may have
			 * taken a slot since (it joins after): look again. */
			ward_error_t err = NULL;
			int lk = lock_file(dir, "router.lock", &err);

			ward_error_free(&err);
			if (!busy(dir))
				netd_end(dir, holder, pasta, lk);
			if (lk >= 0)
				close(lk);
		}
		while ((gone = waitpid(-1, NULL, WNOHANG)) > 0)
			if (gone == holder || gone == pasta)
				netd_end(dir, gone == holder ? -1 : holder,
					 gone == pasta ? -1 : pasta, LOCK_TAKE);
		now = time(NULL);
		if (now == last_look)
			continue;
		last_look = now;
		if (busy(dir)) {
			/* Now and then the list again: one that came before
			 * the first sandbox made the router's tables was lost. */
			if (now % 5 == 0)
				host_addrs_out(down[1]);
			idle_since = 0;
		} else if (idle_since == 0) {
			idle_since = now;
		} else if (now - idle_since >= WARD_NET_ROUTER_IDLE) {
			/* Idle: end, unless a sandbox started meanwhile (it
			 * takes its slot before it joins the router). */
			ward_error_t err = NULL;
			int lk = lock_file(dir, "router.lock", &err);

			ward_error_free(&err);
			if (!busy(dir))
				netd_end(dir, holder, pasta, lk);
			if (lk >= 0)
				close(lk);
			idle_since = 0;
		}
	}
fail_holder:
	if (n > 1 && buf[0] == 'e') {
		buf[n] = '\0';
		dprintf(report, "%s", buf + 1);
	} else {
		dprintf(report, "the router's namespace holder ended early");
	}
	netd_end(dir, holder, -1, LOCK_NONE);
}

/* ---- the supervisor's side ---- */

/* Start netd (through an intermediate child, so that netd is nobody's
 * child here) and wait for its report. */
static int start_router(const char *dir, const struct ward_rootless_ids *ids, ward_error_t *err)
{
	char msg[600];
	int p[2], st;
	ssize_t n;
	pid_t mid;

	if (access(WARD_NET_PASTA, X_OK) < 0)
		return ward_error_set(err, ENOENT,
				      "network without root goes through pasta, which is not "
				      "installed (%s; Debian package passt: apt-get install passt)",
				      WARD_NET_PASTA);
	if (access("/dev/net/tun", R_OK | W_OK) < 0)
		return ward_error_set(
			err, EACCES,
			"network without root goes through pasta, which needs /dev/net/tun, "
			"and you (uid %u) may not open it (%s); distributions with udev make "
			"it mode 0666; an administrator fixes it with: chmod 0666 /dev/net/tun",
			(unsigned)geteuid(), strerror(errno));
	if (pipe2(p, O_CLOEXEC) < 0)
		return ward_error_sys(err, "pipe");
	mid = fork();
	if (mid < 0) {
		close(p[0]);
		close(p[1]);
		return ward_error_sys(err, "fork");
	}
	if (mid == 0) {
		pid_t d = fork();

		if (d == 0)
			netd_main(dir, ids, p[1]);
		_exit(d < 0 ? 1 : 0);
	}
	close(p[1]);
	while (waitpid(mid, &st, 0) < 0 && errno == EINTR)
		;
	n = ward_read_all(p[0], msg, sizeof(msg) - 1);
	close(p[0]);
	if (n < 0)
		n = 0;
	msg[n] = '\0';
	if (strcmp(msg, "ok") == 0)
		return 0;
	return ward_error_set(err, EIO, "network: the router of your sandboxes could not start: %s",
			      msg[0] ? msg : "netd ended without a message");
}

int ward_net_router_enter(const char *dir, const struct ward_rootless_ids *ids,
			  struct ward_net_router *out, ward_error_t *err)
{
	struct router_rec r;
	cleanup_close int lk = -1, ufd = -1, nfd = -1;

	out->holder_ctl = out->lock_fd = -1;
	if (ward_mkdir_p(dir, 0700) < 0)
		return ward_error_sys(err, "cannot create %s", dir);
	lk = lock_file(dir, "router.lock", err);
	if (lk < 0)
		return -1;
	if (read_rec(dir, &r) == 0 && kill(r.netd, 0) == 0) {
		ufd = open_ns(&r, "user", r.userns);
		nfd = open_ns(&r, "net", r.netns);
	}
	if (ufd < 0 || nfd < 0) {
		if (ufd >= 0)
			close(steal_fd(&ufd));
		if (nfd >= 0)
			close(steal_fd(&nfd));
		if (start_router(dir, ids, err) < 0)
			return -1;
		if (read_rec(dir, &r) < 0 || (ufd = open_ns(&r, "user", r.userns)) < 0 ||
		    (nfd = open_ns(&r, "net", r.netns)) < 0)
			return ward_error_set(err, EIO,
					      "network: the router started but cannot be found "
					      "(%s/router)",
					      dir);
	}
	if (ids->count > r.count)
		return ward_error_set(err, EINVAL,
				      "network: the router of your sandboxes maps %u ids, this "
				      "sandbox needs %u (your /etc/subuid or /etc/subgid changed "
				      "since it started); end it with `ward gc` and start again",
				      r.count, ids->count);
	/* The owner of a user namespace may join it (a single-threaded process
	 * that shares no filesystem information); root there, it may join the
	 * namespace's network namespace.  There is no way back to the host's
	 * network namespace, and none is needed: what needs the host's network
	 * (names, routes, host ports) was looked at before. */
	if (setns(ufd, CLONE_NEWUSER) < 0)
		return ward_error_sys(err, "network: cannot join the router's user namespace");
	if (setns(nfd, CLONE_NEWNET) < 0)
		return ward_error_sys(err, "network: cannot join the router's network namespace");
	out->count = r.count;
	out->setgroups = r.setgroups != 0;
	out->lock_fd = steal_fd(&lk);
	return 0;
}

int ward_net_router_join_if_running(const char *dir)
{
	ward_error_t err = NULL;
	struct router_rec r;
	int lk = lock_file(dir, "router.lock", &err), ufd = -1, nfd = -1, rc = 0;

	ward_error_free(&err);
	if (lk < 0)
		return 0;
	if (read_rec(dir, &r) == 0 && kill(r.netd, 0) == 0 &&
	    (ufd = open_ns(&r, "user", r.userns)) >= 0 &&
	    (nfd = open_ns(&r, "net", r.netns)) >= 0 && setns(ufd, CLONE_NEWUSER) == 0 &&
	    setns(nfd, CLONE_NEWNET) == 0)
		rc = 1;
	if (ufd >= 0)
		close(ufd);
	if (nfd >= 0)
		close(nfd);
	close(lk);
	return rc;
}

void ward_net_router_stop(const char *dir)
{
	struct router_rec r;

	if (read_rec(dir, &r) == 0 && kill(r.netd, 0) == 0)
		kill(r.netd, SIGTERM);
}
