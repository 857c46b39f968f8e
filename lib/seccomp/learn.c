/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ward learn: the recorder and the manifest writer (see learn.h).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "../entitlements.h"
#include "../util.h"
#include "learn.h"

#define NS_FLAGS                                                                                   \
	(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | \
	 CLONE_NEWCGROUP | CLONE_NEWTIME)
#define MAX_RECORDS 65536

struct path_rec {
	char *path;
	unsigned access;
	unsigned long count;
};

struct call_rec {
	char *name;
	char *key;
	unsigned long count;
};

/* More destinations than this: network.outbound instead of one
 * network.connect line each. */
#define LEARN_MAX_CONNECT 8

struct inet_rec {
	int family;
	char addr[INET6_ADDRSTRLEN];
	unsigned port;
	bool loopback;
	bool listen;
};

struct ward_learn {
	struct path_rec *paths;
	size_t n_paths;
	struct call_rec *calls;
	size_t n_calls;
	struct inet_rec *inet;
	size_t n_inet;
	bool inet_socket, netlink_socket;
	unsigned long processes;
	uint64_t memory_peak;
};

struct ward_learn *ward_learn_new(void)
{
	return ward_xcalloc(1, sizeof(struct ward_learn));
}

void ward_learn_free(struct ward_learn *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n_paths; i++)
		free(l->paths[i].path);
	for (i = 0; i < l->n_calls; i++) {
		free(l->calls[i].name);
		free(l->calls[i].key);
	}
	free(l->paths);
	free(l->calls);
	free(l->inet);
	free(l);
}

/* ---- recording ---- */

/* Lexically absolute-ise: collapse "//", "." and ".." (".." at the root
 * stays at the root, as the kernel does). */
static char *clean_path(const char *base, const char *path)
{
	cleanup_free char *joined =
		path[0] == '/' ? ward_xstrdup(path) : ward_xasprintf("%s/%s", base, path);
	char *out = ward_xmalloc(strlen(joined) + 2);
	size_t o = 0;
	const char *p = joined;

	while (*p) {
		const char *start;
		size_t n;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		start = p;
		while (*p && *p != '/')
			p++;
		n = (size_t)(p - start);
		if (n == 1 && start[0] == '.')
			continue;
		if (n == 2 && start[0] == '.' && start[1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
			continue;
		}
		out[o++] = '/';
		memcpy(out + o, start, n);
		o += n;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return out;
}

void ward_learn_path(struct ward_learn *l, const char *path, unsigned access)
{
	size_t i;

	for (i = 0; i < l->n_paths; i++) {
		if (strcmp(l->paths[i].path, path) == 0) {
			l->paths[i].access |= access;
			l->paths[i].count++;
			return;
		}
	}
	if (l->n_paths >= MAX_RECORDS)
		return;
	l->paths = ward_xrealloc(l->paths, (l->n_paths + 1) * sizeof(*l->paths));
	l->paths[l->n_paths].path = ward_xstrdup(path);
	l->paths[l->n_paths].access = access;
	l->paths[l->n_paths].count = 1;
	l->n_paths++;
}

void ward_learn_denied(struct ward_learn *l, const char *syscall, const char *key)
{
	size_t i;

	for (i = 0; i < l->n_calls; i++) {
		if (strcmp(l->calls[i].name, syscall) == 0 &&
		    strcmp(l->calls[i].key, key ? key : "") == 0) {
			l->calls[i].count++;
			return;
		}
	}
	if (l->n_calls >= MAX_RECORDS)
		return;
	l->calls = ward_xrealloc(l->calls, (l->n_calls + 1) * sizeof(*l->calls));
	l->calls[l->n_calls].name = ward_xstrdup(syscall);
	l->calls[l->n_calls].key = ward_xstrdup(key ? key : "");
	l->calls[l->n_calls].count = 1;
	l->n_calls++;
}

void ward_learn_inet(struct ward_learn *l, int family, const char *addr, unsigned port,
		     bool loopback, bool listen)
{
	size_t i;

	l->inet_socket = true;
	for (i = 0; i < l->n_inet; i++)
		if (l->inet[i].family == family && l->inet[i].port == port &&
		    l->inet[i].listen == listen && strcmp(l->inet[i].addr, addr) == 0)
			return;
	if (l->n_inet >= 1024)
		return;
	l->inet = ward_xrealloc(l->inet, (l->n_inet + 1) * sizeof(*l->inet));
	l->inet[l->n_inet].family = family;
	snprintf(l->inet[l->n_inet].addr, sizeof(l->inet[0].addr), "%s", addr);
	l->inet[l->n_inet].port = port;
	l->inet[l->n_inet].loopback = loopback;
	l->inet[l->n_inet].listen = listen;
	l->n_inet++;
}

void ward_learn_process(struct ward_learn *l)
{
	l->processes++;
}

void ward_learn_memory_peak(struct ward_learn *l, uint64_t bytes)
{
	if (bytes > l->memory_peak)
		l->memory_peak = bytes;
}

void ward_learn_merge(struct ward_learn *l, const struct ward_learn *from)
{
	size_t i;
	unsigned long k;

	for (i = 0; i < from->n_paths; i++)
		for (k = 0; k < from->paths[i].count; k++)
			ward_learn_path(l, from->paths[i].path, from->paths[i].access);
	for (i = 0; i < from->n_calls; i++)
		for (k = 0; k < from->calls[i].count; k++)
			ward_learn_denied(l, from->calls[i].name, from->calls[i].key);
	for (i = 0; i < from->n_inet; i++)
		ward_learn_inet(l, from->inet[i].family, from->inet[i].addr, from->inet[i].port,
				from->inet[i].loopback, from->inet[i].listen);
	l->inet_socket |= from->inet_socket;
	l->netlink_socket |= from->netlink_socket;
	l->processes += from->processes;
	ward_learn_memory_peak(l, from->memory_peak);
}

static ssize_t read_mem(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = {.iov_base = buf, .iov_len = len};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)addr, .iov_len = len};

	return process_vm_readv(pid, &local, 1, &remote, 1, 0);
}

/* A NUL-terminated string from the tracee, read page by page so that a
 * string near the end of a mapping is still read. */
static bool read_string(pid_t pid, uint64_t addr, char *buf, size_t len)
{
	size_t got = 0;

	if (addr == 0)
		return false;
	while (got < len - 1) {
		size_t page_left = 4096 - ((addr + got) & 4095);
		size_t want = len - 1 - got < page_left ? len - 1 - got : page_left;
		ssize_t n = read_mem(pid, addr + got, buf + got, want);

		if (n <= 0)
			return false;
		if (memchr(buf + got, '\0', (size_t)n))
			return true;
		got += (size_t)n;
	}
	buf[len - 1] = '\0';
	return true;
}

static bool proc_link(pid_t pid, const char *what, char *buf, size_t len)
{
	char p[64];
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/%d/%s", pid, what);
	n = readlink(p, buf, len - 1);
	if (n < 0)
		return false;
	buf[n] = '\0';
	return buf[0] == '/';
}

/* Path argument at args[pi], relative to the dirfd at args[di] (or the cwd
 * when di < 0 or the dirfd is AT_FDCWD). */
static void record_path(struct ward_learn *l, pid_t pid, const uint64_t *args, int di, int pi,
			unsigned access)
{
	char path[4096], base[4096];
	cleanup_free char *full = NULL;

	if (!read_string(pid, args[pi], path, sizeof(path)) || path[0] == '\0')
		return;
	if (path[0] != '/') {
		int dirfd = di >= 0 ? (int)(int32_t)args[di] : AT_FDCWD;
		char what[32];

		if (dirfd == AT_FDCWD)
			snprintf(what, sizeof(what), "cwd");
		else
			snprintf(what, sizeof(what), "fd/%d", dirfd);
		if (!proc_link(pid, what, base, sizeof(base)))
			return;
	} else {
		base[0] = '/';
		base[1] = '\0';
	}
	full = clean_path(base, path);
	ward_learn_path(l, full, access);
}

static unsigned open_access(uint64_t flags)
{
	unsigned a = (flags & O_ACCMODE) == O_RDONLY ? WARD_LEARN_READ : WARD_LEARN_WRITE;

	if (flags & (O_CREAT | O_TRUNC))
		a |= WARD_LEARN_WRITE;
	if (flags & O_DIRECTORY)
		a |= WARD_LEARN_DIR;
	if ((flags & O_ACCMODE) == O_RDWR)
		a |= WARD_LEARN_READ;
	return a;
}

static void record_sockaddr(struct ward_learn *l, pid_t pid, uint64_t addr, uint64_t len,
			    bool listen)
{
	union {
		struct sockaddr sa;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
		struct sockaddr_storage ss;
	} u;
	char text[INET6_ADDRSTRLEN] = "";
	size_t n = len < sizeof(u) ? (size_t)len : sizeof(u);

	memset(&u, 0, sizeof(u));
	if (n < sizeof(sa_family_t) || read_mem(pid, addr, &u, n) != (ssize_t)n)
		return;
	if (u.sa.sa_family == AF_INET && n >= sizeof(u.in4)) {
		inet_ntop(AF_INET, &u.in4.sin_addr, text, sizeof(text));
		ward_learn_inet(l, AF_INET, text, ntohs(u.in4.sin_port),
				(ntohl(u.in4.sin_addr.s_addr) >> 24) == 127, listen);
	} else if (u.sa.sa_family == AF_INET6 && n >= sizeof(u.in6)) {
		bool lo = IN6_IS_ADDR_LOOPBACK(&u.in6.sin6_addr) ||
			  (IN6_IS_ADDR_V4MAPPED(&u.in6.sin6_addr) &&
			   u.in6.sin6_addr.s6_addr[12] == 127);

		inet_ntop(AF_INET6, &u.in6.sin6_addr, text, sizeof(text));
		ward_learn_inet(l, AF_INET6, text, ntohs(u.in6.sin6_port), lo, listen);
	}
}

void ward_learn_syscall(struct ward_learn *l, pid_t pid, const char *name, const char *key,
			const uint64_t *args)
{
	const unsigned R = WARD_LEARN_READ, W = WARD_LEARN_WRITE, X = WARD_LEARN_EXEC;

	if (strcmp(name, "open") == 0) {
		record_path(l, pid, args, -1, 0, open_access(args[1]));
	} else if (strcmp(name, "openat") == 0) {
		record_path(l, pid, args, 0, 1, open_access(args[2]));
	} else if (strcmp(name, "openat2") == 0) {
		struct open_how how = {0};

		if (read_mem(pid, args[2], &how, sizeof(how.flags)) == sizeof(how.flags))
			record_path(l, pid, args, 0, 1, open_access(how.flags));
	} else if (strcmp(name, "creat") == 0 || strcmp(name, "truncate") == 0 ||
		   strcmp(name, "mkdir") == 0 || strcmp(name, "rmdir") == 0 ||
		   strcmp(name, "unlink") == 0 || strcmp(name, "chmod") == 0 ||
		   strcmp(name, "chown") == 0 || strcmp(name, "lchown") == 0 ||
		   strcmp(name, "mknod") == 0) {
		record_path(l, pid, args, -1, 0, W);
	} else if (strcmp(name, "mkdirat") == 0 || strcmp(name, "unlinkat") == 0 ||
		   strcmp(name, "fchmodat") == 0 || strcmp(name, "fchownat") == 0 ||
		   strcmp(name, "mknodat") == 0) {
		record_path(l, pid, args, 0, 1, W);
	} else if (strcmp(name, "rename") == 0 || strcmp(name, "link") == 0) {
		record_path(l, pid, args, -1, 0, W);
		record_path(l, pid, args, -1, 1, W);
	} else if (strcmp(name, "renameat") == 0 || strcmp(name, "renameat2") == 0 ||
		   strcmp(name, "linkat") == 0) {
		record_path(l, pid, args, 0, 1, W);
		record_path(l, pid, args, 2, 3, W);
	} else if (strcmp(name, "symlink") == 0) {
		record_path(l, pid, args, -1, 1, W);
	} else if (strcmp(name, "symlinkat") == 0) {
		record_path(l, pid, args, 1, 2, W);
	} else if (strcmp(name, "execve") == 0) {
		record_path(l, pid, args, -1, 0, R | X);
	} else if (strcmp(name, "execveat") == 0) {
		record_path(l, pid, args, 0, 1, R | X);
	} else if (strcmp(name, "chdir") == 0) {
		record_path(l, pid, args, -1, 0, R | WARD_LEARN_DIR);
	} else if (strcmp(name, "socket") == 0) {
		int af = (int)(args[0] & 0xffffffff);

		if (af == AF_INET || af == AF_INET6)
			l->inet_socket = true;
		else if (af == AF_NETLINK)
			l->netlink_socket = true;
		else if (af != AF_UNIX)
			ward_learn_denied(l, name, key);
	} else if (strcmp(name, "connect") == 0 || strcmp(name, "bind") == 0) {
		record_sockaddr(l, pid, args[1], args[2], name[0] == 'b');
	} else if (strcmp(name, "listen") == 0) {
		/* The address came with bind. */
	} else if (strcmp(name, "clone") == 0 || strcmp(name, "unshare") == 0) {
		if (args[0] & NS_FLAGS)
			ward_learn_denied(l, name, key);
		if (name[0] == 'c')
			ward_learn_process(l);
	} else if (strcmp(name, "fork") == 0 || strcmp(name, "vfork") == 0) {
		ward_learn_process(l);
	} else {
		ward_learn_denied(l, name, key);
	}
}

/* ---- the manifest ---- */

static int depth(const char *path)
{
	int d = 0;

	for (; *path; path++)
		d += *path == '/';
	return strcmp(path, "/") == 0 ? 0 : d;
}

static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return true;
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static int kind_of(const struct ward_learn_context *ctx, const char *path)
{
	return ctx->stat_kind ? ctx->stat_kind(path) : 0;
}

/* What the default view already gives, read-only or private.  /tmp and
 * /dev/shm are private in the sandbox: what the program made there is its
 * own, but a file that exists on the host under /tmp must be granted. */
static const char *const system_dirs[] = {"/usr",   "/bin",   "/sbin",	 "/lib",
					  "/lib32", "/lib64", "/libx32", "/etc"};

/* A write grant the learner does not propose on its own: into the host's
 * system directories (or /boot), or a whole top-level directory.  What the
 * observed program wrote there during learning (and was discarded) must not
 * become, unread, a grant to change the host in later runs. */
static const char *broad_write(const char *path)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(system_dirs); i++)
		if (under(path, system_dirs[i]))
			return "a system directory of the host";
	if (under(path, "/boot"))
		return "the host's boot files";
	if (depth(path) < 2)
		return "a whole top-level directory";
	return NULL;
}

static char *parent_of(const char *path);

/*
 * /tmp and /dev/shm start empty in every sandbox: what the program made
 * there is its own.  A path there is private only when neither it nor any
 * directory between it and the scratch root existed on the host: writing
 * into a directory the host has under /tmp (mktemp -d before the run)
 * needs a grant, which ward run then binds into the private /tmp.
 */
static bool scratch_private(const struct ward_learn_context *ctx, const char *path)
{
	const char *top = "/tmp";
	cleanup_free char *p = NULL;

	/* No host path under /dev can be granted (fs.* refuses /dev): the
	 * host's /dev/shm stays out of reach, whatever the program used. */
	if (!under(path, "/tmp"))
		return true;
	p = ward_xstrdup(path);

	while (strcmp(p, top) != 0 && strcmp(p, "/") != 0) {
		char *q;

		if (kind_of(ctx, p) >= 0)
			return false;
		q = parent_of(p);
		free(p);
		p = q;
	}
	return true;
}

static bool in_default_view(const struct ward_learn_context *ctx, const char *path, unsigned access)
{
	static const char *const own[] = {"/proc", "/sys", "/dev"};
	size_t i;

	if (under(path, "/tmp") || under(path, "/dev/shm"))
		return scratch_private(ctx, path);
	for (i = 0; i < ARRAY_SIZE(own); i++)
		if (under(path, own[i]))
			return true;
	if (access & WARD_LEARN_WRITE)
		return false;
	for (i = 0; i < ARRAY_SIZE(system_dirs); i++)
		if (under(path, system_dirs[i]))
			return true;
	return strcmp(path, "/") == 0;
}

static char *parent_of(const char *path)
{
	char *p = ward_xstrdup(path);
	char *slash = strrchr(p, '/');

	if (slash == p)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	return p;
}

struct grant {
	char *path;
	unsigned access;
	unsigned long files;
	char *example;
	bool dropped;
};

static int cmp_grant_path(const void *a, const void *b)
{
	return strcmp(((const struct grant *)a)->path, ((const struct grant *)b)->path);
}

/* The nearest ancestor (or the path itself) that exists on the host. */
static char *existing(const struct ward_learn_context *ctx, const char *path, bool *is_dir)
{
	char *p = ward_xstrdup(path);

	for (;;) {
		int k = kind_of(ctx, p);

		if (k >= 0 || strcmp(p, "/") == 0) {
			*is_dir = k == 1 || strcmp(p, "/") == 0;
			return p;
		}
		{
			char *q = parent_of(p);

			free(p);
			p = q;
		}
	}
}

/* How many different direct children of parent hold a live grant (a file
 * or a subtree), e.g. 2 for /p/a.c, /p/sub/x.c and /p/sub/y.c. */
static size_t distinct_children(const struct grant *g, size_t n, const char *parent)
{
	size_t plen = strcmp(parent, "/") == 0 ? 0 : strlen(parent);
	const char *seen[64];
	size_t n_seen = 0, i, k;

	for (i = 0; i < n; i++) {
		const char *rest;
		size_t len;
		bool dup = false;

		if (g[i].dropped || !under(g[i].path, parent) || strcmp(g[i].path, parent) == 0)
			continue;
		rest = g[i].path + plen + 1;
		len = strcspn(rest, "/");
		for (k = 0; k < n_seen && !dup; k++)
			dup = strncmp(seen[k], rest, len) == 0 &&
			      (seen[k][len] == '/' || seen[k][len] == '\0');
		if (!dup && n_seen < ARRAY_SIZE(seen))
			seen[n_seen++] = rest;
	}
	return n_seen;
}

/* Turn recorded paths into a few grants: writes grant their directory,
 * executables their directory, reads the file or directory itself; then
 * a directory holding three or more granted entries is granted whole (never
 * "/", a top-level directory or HOME itself), and grants beneath a grant
 * with at least their access disappear. */
static size_t plan_paths(const struct ward_learn *l, const struct ward_learn_context *ctx,
			 struct grant **out)
{
	struct grant *g = NULL;
	size_t n = 0, i, j;
	bool changed = true;

	for (i = 0; i < l->n_paths; i++) {
		const struct path_rec *r = &l->paths[i];
		unsigned acc = r->access & (WARD_LEARN_READ | WARD_LEARN_WRITE | WARD_LEARN_EXEC);
		bool is_dir = false;
		char *target;

		if (in_default_view(ctx, r->path, r->access))
			continue;
		if (acc & (WARD_LEARN_WRITE | WARD_LEARN_EXEC)) {
			cleanup_free char *ex = existing(ctx, r->path, &is_dir);

			target = is_dir && strcmp(ex, r->path) != 0 ? ward_xstrdup(ex)
								    : parent_of(ex);
			if (is_dir && strcmp(ex, r->path) == 0 && (acc & WARD_LEARN_WRITE))
				target = (free(target), ward_xstrdup(ex));
		} else {
			target = existing(ctx, r->path, &is_dir);
		}
		/* A host file directly in /tmp: the file, never /tmp itself
		 * (which would replace the whole private /tmp). */
		if (strcmp(target, "/tmp") == 0 && strcmp(r->path, "/tmp") != 0) {
			free(target);
			target = existing(ctx, r->path, &is_dir);
		}
		if (acc & WARD_LEARN_WRITE)
			acc |= WARD_LEARN_READ;
		if (in_default_view(ctx, target, acc) || strcmp(target, "/") == 0) {
			free(target);
			continue;
		}
		for (j = 0; j < n; j++)
			if (strcmp(g[j].path, target) == 0)
				break;
		if (j == n) {
			g = ward_xrealloc(g, (n + 1) * sizeof(*g));
			memset(&g[n], 0, sizeof(*g));
			g[n].path = target;
			g[n].example = ward_xstrdup(r->path);
			n++;
		} else {
			free(target);
		}
		g[j].access |= acc;
		g[j].files++;
	}

	while (changed) {
		changed = false;
		for (i = 0; i < n && !changed; i++) {
			cleanup_free char *parent = NULL;
			size_t count = 0;

			if (g[i].dropped)
				continue;
			parent = parent_of(g[i].path);
			if (depth(parent) < 2 || (ctx->home && strcmp(parent, ctx->home) == 0))
				continue;
			count = distinct_children(g, n, parent);
			if (count < 3)
				continue;
			/* Collapse everything beneath parent into one grant. */
			g = ward_xrealloc(g, (n + 1) * sizeof(*g));
			memset(&g[n], 0, sizeof(*g));
			g[n].path = ward_xstrdup(parent);
			for (j = 0; j < n; j++) {
				if (g[j].dropped || !under(g[j].path, parent))
					continue;
				g[n].access |= g[j].access;
				g[n].files += g[j].files;
				if (g[n].example == NULL)
					g[n].example = ward_xstrdup(g[j].example);
				g[j].dropped = true;
			}
			n++;
			changed = true;
		}
	}
	/* Drop grants covered by an ancestor grant with the same or more access. */
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			if (i != j && !g[i].dropped && !g[j].dropped &&
			    under(g[i].path, g[j].path) && strcmp(g[i].path, g[j].path) != 0 &&
			    (g[i].access & ~g[j].access &
			     (WARD_LEARN_WRITE | WARD_LEARN_EXEC | WARD_LEARN_READ)) == 0) {
				g[j].files += g[i].files;
				g[i].dropped = true;
			}
	if (n > 1)
		qsort(g, n, sizeof(*g), cmp_grant_path);
	*out = g;
	return n;
}

static uint64_t round_up_pow2(uint64_t v)
{
	uint64_t p = 1;

	while (p < v && p < (1ULL << 62))
		p <<= 1;
	return p;
}

/*
 * What the observed program chose must never become an entitlement it did
 * not earn: a file it names "a\nsecurity.admin" must not add a line.  A
 * value is written only when the manifest parser reads "NAME=VALUE" back as
 * exactly that one entitlement (the parser also refuses what is not plain
 * text: control characters, invalid UTF-8, bidirectional overrides, so what
 * a reviewer sees is what is granted).  Anything else becomes a comment that
 * holds the value escaped (ward_escape) and says why: a comment line cannot
 * be read as an entitlement, whatever it holds.  Comments of written lines
 * (an example path) are escaped too.  See docs/denials.md.
 */
#define LEARN_MAX_VALUE	  3072 /* bytes; with the comment, a line stays below the parser's 4096 */
#define LEARN_MAX_EXAMPLE 200  /* bytes of an example path shown in a comment */

static const char *value_problem(const char *name, const char *value)
{
	struct ward_request_list back = {0};
	ward_error_t err = NULL;
	cleanup_free char *line = NULL;
	const char *why = NULL;

	if (strlen(value) > LEARN_MAX_VALUE)
		return "more bytes than a manifest line may hold";
	line = ward_xasprintf("%s=%s", name, value);
	/* The parser refuses what is not plain text (parse.c: plain_text). */
	if (ward_parse_manifest(&back, line, strlen(line), "learned", &err) < 0)
		why = "a control character, a bidirectional override or invalid UTF-8";
	else if (back.n != 1 || strcmp(back.items[0].name, name) != 0 ||
		 back.items[0].value == NULL || strcmp(back.items[0].value, value) != 0)
		why = "\" #\" or blanks at an end, which a manifest would read as another path";
	ward_error_free(&err);
	ward_request_list_free(&back);
	return why;
}

/* "NAME=VALUE" followed by "  # " and the comment (printf-style), or, when
 * VALUE cannot be written safely, a comment saying so.  Returns 1 when an
 * entitlement was written. */
static int write_entitlement(FILE *out, const char *name, const char *value, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int write_entitlement(FILE *out, const char *name, const char *value, const char *fmt, ...)
{
	const char *why = value_problem(name, value);
	cleanup_free char *comment = NULL;
	va_list ap;
	int r;

	if (why) {
		cleanup_free char *esc = ward_escape(value, LEARN_MAX_EXAMPLE);

		fprintf(out,
			"# NOT WRITTEN: %s=\"%s\" (the program used a path with %s; grant it by "
			"hand if you trust it)\n",
			name, esc, why);
		return 0;
	}
	va_start(ap, fmt);
	r = vasprintf(&comment, fmt, ap);
	va_end(ap);
	if (r < 0)
		abort();
	fprintf(out, "%s=%s  # %s", name, value, comment);
	return 1;
}

static void note_host_specific(const struct ward_learn_context *ctx, const char *path, FILE *out)
{
	if (ctx->home && under(path, ctx->home))
		fprintf(out, "  # host-specific (under HOME): review before sharing");
}

int ward_learn_write_manifest(const struct ward_learn *l, const struct ward_learn_context *ctx,
			      FILE *out)
{
	struct grant *g = NULL;
	size_t n, i, j;
	int written = 0;
	bool need_admin = false, need_user = false;
	int chosen[64];
	size_t n_chosen = 0;

	fprintf(out, "# Learned by `ward learn`");
	if (ctx->command) {
		/* One comment line whatever the command holds. */
		cleanup_free char *cmd = ward_escape(ctx->command, 200);

		fprintf(out, " from: %s", cmd);
	}
	fputs("\n", out);
	fprintf(out, "# Each line is what the program was seen to need; review before use.\n");

	/* Network: the narrowest entitlements that cover what was seen.  A few
	 * IPv4 destinations become network.connect lines, ports bound on a
	 * non-loopback address network.listen lines; loopback use adds
	 * network.loopback.  IPv6 destinations (which network.connect cannot
	 * name yet) or more than LEARN_MAX_CONNECT destinations need
	 * network.outbound. */
	{
		size_t n_far4 = 0, n_far6 = 0, n_listen = 0, loop = 0;
		const struct inet_rec *example = NULL;
		bool outbound;

		for (i = 0; i < l->n_inet; i++) {
			const struct inet_rec *r = &l->inet[i];
			bool wildcard =
				strcmp(r->addr, "0.0.0.0") == 0 || strcmp(r->addr, "::") == 0;

			if (r->loopback)
				loop++;
			else if (r->listen && r->port != 0)
				n_listen++;
			else if (r->listen)
				continue; /* bind to an ephemeral port: nothing to grant */
			else if (wildcard)
				loop++;
			else if (r->family == AF_INET6)
				n_far6++, example = example ? example : r;
			else
				n_far4++, example = example ? example : r;
		}
		outbound = n_far6 > 0 || n_far4 > LEARN_MAX_CONNECT;
		if (outbound) {
			fprintf(out,
				"network.outbound  # connected to %zu destination%s, e.g. %s port "
				"%u\n",
				n_far4 + n_far6, n_far4 + n_far6 == 1 ? "" : "s", example->addr,
				example->port);
			written++;
		} else if (loop ||
			   ((l->inet_socket || l->netlink_socket) && !n_far4 && !n_listen)) {
			fprintf(out, "network.loopback  # ");
			for (i = 0; i < l->n_inet && !l->inet[i].loopback; i++)
				;
			if (i < l->n_inet)
				fprintf(out, "%s %s port %u",
					l->inet[i].listen ? "bound" : "connected to",
					l->inet[i].addr, l->inet[i].port);
			else
				fprintf(out, "opened %s sockets",
					l->inet_socket ? "TCP/IP" : "netlink");
			fputc('\n', out);
			written++;
		}
		for (i = 0; i < l->n_inet; i++) {
			const struct inet_rec *r = &l->inet[i];
			size_t k;
			bool dup = false;

			if (r->loopback || r->port == 0)
				continue;
			if (r->listen) {
				for (k = 0; k < i; k++)
					dup |= l->inet[k].listen && !l->inet[k].loopback &&
					       l->inet[k].port == r->port;
				if (!dup) {
					fprintf(out, "network.listen=%u  # bound %s port %u\n",
						r->port, r->addr, r->port);
					written++;
				}
			} else if (!outbound && r->family == AF_INET &&
				   strcmp(r->addr, "0.0.0.0") != 0) {
				fprintf(out, "network.connect=%s:%u\n", r->addr, r->port);
				written++;
			}
		}
	}

	/* Syscalls the confined profile refuses, by the entitlement that allows them. */
	for (i = 0; i < l->n_calls; i++) {
		const struct call_rec *c = &l->calls[i];
		int ents[8];
		size_t k = 0;

		if (strcmp(c->name, "clone") == 0 || strcmp(c->name, "unshare") == 0) {
			need_admin = true;
			continue;
		}
		k = ward_entitlements_for_syscall(c->name, ents, ARRAY_SIZE(ents));
		if (k == 0) {
			fprintf(out,
				"# %s%s%s%s: refused, and no entitlement allows it (%lu call%s)\n",
				c->name, *c->key ? "(" : "(2", c->key, ")", c->count,
				c->count == 1 ? "" : "s");
			continue;
		}
		if (strcmp(ward_entitlements[ents[0]].name, "security.admin") == 0)
			need_admin = true;
		else if (strcmp(ward_entitlements[ents[0]].name, "security.user") == 0)
			need_user = true;
		else {
			for (j = 0; j < n_chosen; j++)
				if (chosen[j] == ents[0])
					break;
			if (j == n_chosen && n_chosen < ARRAY_SIZE(chosen)) {
				chosen[n_chosen++] = ents[0];
				fprintf(out, "%s  # %s(2)%s\n", ward_entitlements[ents[0]].name,
					c->name,
					(ward_entitlements[ents[0]].flags & WARD_ENT_DANGEROUS)
						? "; DANGEROUS"
						: "");
				written++;
			}
		}
	}
	if (need_admin) {
		fprintf(out, "security.admin  # DANGEROUS: mounts or namespaces (");
		for (i = 0, j = 0; i < l->n_calls; i++) {
			int ents[2];

			if (strcmp(l->calls[i].name, "clone") == 0 ||
			    strcmp(l->calls[i].name, "unshare") == 0 ||
			    (ward_entitlements_for_syscall(l->calls[i].name, ents, 2) > 0 &&
			     strcmp(ward_entitlements[ents[0]].name, "security.admin") == 0))
				fprintf(out, "%s%s", j++ ? ", " : "", l->calls[i].name);
		}
		fprintf(out, ")\n");
		written++;
	} else if (need_user) {
		fprintf(out, "security.user  # Docker's profile: ");
		for (i = 0, j = 0; i < l->n_calls; i++) {
			int ents[2];

			if (ward_entitlements_for_syscall(l->calls[i].name, ents, 2) > 0 &&
			    strcmp(ward_entitlements[ents[0]].name, "security.user") == 0)
				fprintf(out, "%s%s(2)", j++ ? ", " : "", l->calls[i].name);
		}
		fputc('\n', out);
		written++;
	}

	/* Files. */
	n = plan_paths(l, ctx, &g);
	for (int pass = 0; pass < 3; pass++) {
		static const unsigned want[] = {WARD_LEARN_WRITE, WARD_LEARN_EXEC, WARD_LEARN_READ};
		static const char *const names[] = {"fs.write", "fs.exec", "fs.read"};

		for (i = 0; i < n; i++) {
			if (g[i].dropped)
				continue;
			if (pass == 0 && !(g[i].access & WARD_LEARN_WRITE))
				continue;
			if (pass == 1 && !(g[i].access & WARD_LEARN_EXEC))
				continue;
			if (pass == 2 && (g[i].access & (WARD_LEARN_WRITE | WARD_LEARN_EXEC)))
				continue;
			(void)want;
			if (pass == 0 && broad_write(g[i].path)) {
				cleanup_free char *p = ward_escape(g[i].path, LEARN_MAX_EXAMPLE);

				fprintf(out,
					"# NOT WRITTEN: fs.write=%s (%s: the program wrote there "
					"while learning; grant it by hand if you mean it)\n",
					p, broad_write(g[i].path));
				continue;
			}
			{
				cleanup_free char *ex =
					ward_escape(g[i].example, LEARN_MAX_EXAMPLE);

				if (!write_entitlement(out, names[pass], g[i].path,
						       "%s %lu path%s, e.g. %s",
						       pass == 0   ? "wrote"
						       : pass == 1 ? "executed"
								   : "read",
						       g[i].files, g[i].files == 1 ? "" : "s", ex))
					continue;
			}
			note_host_specific(ctx, g[i].path, out);
			fputc('\n', out);
			written++;
		}
	}
	for (i = 0; i < n; i++) {
		free(g[i].path);
		free(g[i].example);
	}
	free(g);

	/* Resources: a tighter limit is less privilege; keep generous headroom. */
	{
		unsigned long procs = l->processes + 1;
		uint64_t limit = round_up_pow2(procs * 4);

		if (limit < 16)
			limit = 16;
		if (limit < 1024) {
			fprintf(out,
				"process.limit=%llu  # %lu process%s started; four times that, "
				"rounded up\n",
				(unsigned long long)limit, procs, procs == 1 ? "" : "es");
			written++;
		}
	}
	if (l->memory_peak) {
		uint64_t mib = (l->memory_peak + (1 << 20) - 1) >> 20;
		uint64_t limit = round_up_pow2(mib * 4);

		if (limit < 64)
			limit = 64;
		fprintf(out, "memory.limit=%lluM  # peak %llu MiB; four times that, rounded up\n",
			(unsigned long long)limit, (unsigned long long)mib);
		written++;
	}
	return written;
}
