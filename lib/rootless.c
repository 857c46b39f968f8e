/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Rootless mode: the mode decision, the refusal to run set-id, the per-user
 * state directory and the identity of a rootless sandbox (its uid/gid maps).
 * See rootless.h and docs/rootless.md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "policy.h"
#include "rootless.h"
#include "util.h"

/* The helpers of Debian's uidmap package; no $PATH lookup: ward runs them
 * with the caller's environment cleared. */
static const char *const uidmap_dirs[] = {"/usr/bin", "/usr/sbin", "/bin", "/sbin"};

/* Is this the host's user namespace?  Its uid map is the identity over
 * every id: "0 0 4294967295". */
static bool initial_userns(void)
{
	cleanup_free char *map = NULL;
	size_t len = 0;
	unsigned long a, b, c;

	if (ward_read_file("/proc/self/uid_map", &map, &len) < 0)
		return true; /* no /proc: nothing to tell; root mode fails closed */
	return sscanf(map, " %lu %lu %lu", &a, &b, &c) == 3 && a == 0 && b == 0 &&
	       c == 4294967295UL && strchr(map, '\n') == map + len - 1;
}

uid_t ward_host_uid(void)
{
	cleanup_free char *map = NULL;
	size_t len = 0;
	uid_t me = geteuid();
	char *line, *save = NULL;

	if (ward_read_file("/proc/self/uid_map", &map, &len) < 0)
		return me;
	for (line = strtok_r(map, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long in, out, n;

		if (sscanf(line, " %lu %lu %lu", &in, &out, &n) == 3 && me >= in && me - in < n)
			return (uid_t)(out + (me - in));
	}
	return me;
}

bool ward_rootless(void)
{
	static int cached = -1;

	/* Root of a user namespace that is not the host's (podman's rootless
	 * namespace, `unshare -r`) has no host privilege either. */
	if (cached < 0)
		cached = geteuid() != 0 || !initial_userns();
	return cached != 0;
}

int ward_refuse_setid(ward_error_t *err)
{
	struct stat st;

	/* AT_SECURE: the kernel ran this image with more privilege than its
	 * caller has (set-id bits or file capabilities). */
	if (getauxval(AT_SECURE) || getuid() != geteuid() || getgid() != getegid())
		return ward_error_set(err, EPERM,
				      "ward is running set-user-ID, set-group-ID or with file "
				      "capabilities (uid %u, euid %u); it is not written to be a "
				      "privilege boundary against its caller: remove them (chmod "
				      "u-s,g-s %s; setcap -r %s)",
				      (unsigned)getuid(), (unsigned)geteuid(),
				      "/usr/local/bin/ward", "/usr/local/bin/ward");
	/* Root running a set-user-ID ward gets no AT_SECURE: look at the file. */
	if (stat("/proc/self/exe", &st) == 0 && (st.st_mode & (S_ISUID | S_ISGID)))
		return ward_error_set(err, EPERM,
				      "the ward binary is installed set-user-ID or set-group-ID "
				      "(mode %04o); ward never needs that (rootless mode uses "
				      "unprivileged user namespaces): chmod u-s,g-s it",
				      (unsigned)(st.st_mode & 07777));
	return 0;
}

/* A directory of the caller's, not writable by anyone else. */
static bool own_private_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
	       !(st.st_mode & (S_IWGRP | S_IWOTH));
}

/* The user's name and home from /etc/passwd (field 1 and 6 of the line
 * whose field 3 is uid).  ward is linked statically: no NSS modules. */
static int passwd_find(const char *by_name, uid_t uid, char **name, char **home, gid_t *gid)
{
	cleanup_free char *text = NULL;
	size_t len = 0;
	char *line, *save = NULL;

	if (ward_read_file("/etc/passwd", &text, &len) < 0)
		return -1;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[7], *p = line;
		size_t i;
		uint64_t v;

		for (i = 0; i < 7 && p; i++) {
			f[i] = p;
			p = strchr(p, ':');
			if (p)
				*p++ = '\0';
		}
		if (i < 7 || ward_parse_u64(f[2], &v) < 0 || v > UINT32_MAX)
			continue;
		if (by_name ? strcmp(f[0], by_name) != 0 : v != uid)
			continue;
		if (gid) {
			uint64_t g;

			if (ward_parse_u64(f[3], &g) < 0 || g > UINT32_MAX)
				continue;
			*gid = (gid_t)g;
		}
		if (by_name)
			uid = (uid_t)v;
		if (name)
			*name = ward_xstrdup(f[0]);
		if (home)
			*home = ward_xstrdup(f[5]);
		return (int)uid;
	}
	return -1;
}

static int passwd_lookup(uid_t uid, char **name, char **home)
{
	return passwd_find(NULL, uid, name, home, NULL) < 0 ? -1 : 0;
}

int ward_user_lookup(const char *user, uid_t *uid, gid_t *gid, ward_error_t *err)
{
	uint64_t v;
	int r;

	if (user == NULL || *user == '\0')
		return ward_error_set(err, EINVAL, "no user given");
	if (ward_parse_u64(user, &v) == 0 && v <= UINT32_MAX)
		r = passwd_find(NULL, (uid_t)v, NULL, NULL, gid);
	else
		r = passwd_find(user, 0, NULL, NULL, gid);
	if (r < 0)
		return ward_error_set(err, ENOENT,
				      "user \"%s\" is not in /etc/passwd (give a user name or uid)",
				      user);
	*uid = (uid_t)r;
	return 0;
}

static bool owned_dir(const char *path)
{
	struct stat st;

	return path && path[0] == '/' && stat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
	       st.st_uid == geteuid();
}

/* The user's home, a directory of theirs: /etc/passwd's (whatever HOME the
 * environment claims: ward's state belongs in the user's own directory),
 * else $HOME (root of a user namespace: passwd's /root is not theirs). */
static char *home_dir(void)
{
	const char *home = getenv("HOME");
	char *pw_home = NULL;

	if (passwd_lookup(geteuid(), NULL, &pw_home) == 0 && owned_dir(pw_home))
		return pw_home;
	free(pw_home);
	if (owned_dir(home))
		return ward_xstrdup(home);
	return NULL;
}

char *ward_default_state_dir_path(void)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	const char *state = getenv("XDG_STATE_HOME");
	cleanup_free char *home = NULL;

	if (!ward_rootless())
		return ward_xstrdup("/run/ward");
	if (xdg && xdg[0] == '/' && own_private_dir(xdg))
		return ward_xasprintf("%s/ward", xdg);
	/* No runtime directory of the user's own (no logind, or su/runuser
	 * without a session): the state directory under their home, which no
	 * other user can create first. */
	if (state && state[0] == '/')
		return ward_xasprintf("%s/ward/run", state);
	home = home_dir();
	if (home == NULL)
		return NULL;
	return ward_xasprintf("%s/.local/state/ward/run", home);
}

/* May owner (as this namespace sees it) be trusted with a directory above
 * the state directory?  Root and the caller; in a user namespace other than
 * the host's (podman's), host root is unmapped and shows as the overflow
 * id, which then stands for it (as it does for every unmapped user: there is
 * no telling them apart from inside). */
static bool trusted_owner(uid_t owner, bool init_ns)
{
	static uid_t overflow = (uid_t)-1;

	if (owner == 0 || owner == geteuid())
		return true;
	if (init_ns)
		return false;
	if (overflow == (uid_t)-1) {
		cleanup_free char *t = NULL;
		size_t len = 0;

		overflow = 65534;
		if (ward_read_file("/proc/sys/kernel/overflowuid", &t, &len) == 0)
			overflow = (uid_t)strtoul(t, NULL, 10);
	}
	return owner == overflow;
}

/* One directory (or link, with lstat) above the state directory. */
static int check_above(const char *dir, const char *p, const struct stat *st, bool init_ns,
		       ward_error_t *err)
{
	if (trusted_owner(st->st_uid, init_ns) &&
	    (S_ISLNK(st->st_mode) || !(st->st_mode & (S_IWGRP | S_IWOTH)) ||
	     (st->st_mode & S_ISVTX)))
		return 0;
	return ward_error_set(err, EPERM,
			      "the state directory %s lies beneath %s, which belongs to uid %u "
			      "(mode %04o): another user could put a directory of theirs in the "
			      "state directory's place; set XDG_RUNTIME_DIR or XDG_STATE_HOME to "
			      "a path of your own (every directory above it yours or root's, or "
			      "sticky), or give --state-dir DIR",
			      dir, p, (unsigned)st->st_uid, (unsigned)(st->st_mode & 07777));
}

/*
 * Every directory above the state directory, on the path as given (a link
 * on it, with its own owner) and on the path it resolves to, must be root's
 * or the user's, and writable by nobody else unless sticky (/tmp): whoever
 * may rename an entry on the way (another user's directory or link in
 * XDG_STATE_HOME or XDG_RUNTIME_DIR) could swap the state directory for one
 * of theirs after ward checked it.  Checks from (which exists) and every
 * directory above it.
 */
static int check_chain(const char *dir, const char *from, ward_error_t *err)
{
	bool init_ns = initial_userns();
	cleanup_free char *real = realpath(from, NULL);
	const char *paths[2] = {from, real};
	size_t k;

	if (real == NULL)
		return ward_error_sys(err, "cannot resolve %s, above the state directory %s", from,
				      dir);
	for (k = 0; k < 2; k++) {
		cleanup_free char *p = ward_xstrdup(paths[k]);

		for (;;) {
			char *slash = strrchr(p, '/');
			struct stat st;

			if ((k == 0 ? lstat(p, &st) : stat(p, &st)) < 0)
				return ward_error_sys(err,
						      "cannot check %s, above the state "
						      "directory %s",
						      p, dir);
			if (check_above(dir, p, &st, init_ns, err) < 0)
				return -1;
			if (slash == NULL || (slash == p && p[1] == '\0'))
				break;
			if (slash == p)
				slash[1] = '\0';
			else
				*slash = '\0';
		}
	}
	return 0;
}

char *ward_default_state_dir(ward_error_t *err)
{
	cleanup_free char *dir = ward_default_state_dir_path();
	cleanup_close int fd = -1;
	struct stat st;

	if (dir == NULL) {
		ward_error_set(err, ENOENT,
			       "no state directory for uid %u: set XDG_RUNTIME_DIR (a directory "
			       "of yours, mode 0700) or HOME, or give --state-dir DIR",
			       (unsigned)geteuid());
		return NULL;
	}
	{
		/* Before anything is made there: the part that exists. */
		cleanup_free char *e = ward_xstrdup(dir);
		struct stat lst;
		char *slash;

		while (lstat(e, &lst) < 0 && (slash = strrchr(e, '/')) != NULL && slash != e)
			*slash = '\0';
		if (strcmp(e, dir) != 0 && check_chain(dir, e, err) < 0)
			return NULL;
	}
	if (ward_mkdir_p(dir, 0700) < 0) {
		ward_error_sys(err, "cannot create the state directory %s", dir);
		return NULL;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		ward_error_sys(err, "cannot open the state directory %s", dir);
		return NULL;
	}
	if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		ward_error_set(err, EPERM,
			       "the state directory %s belongs to uid %u with mode %04o: it must "
			       "be yours (uid %u) and writable by nobody else; remove it, or give "
			       "--state-dir DIR",
			       dir, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777),
			       (unsigned)geteuid());
		return NULL;
	}
	{
		cleanup_free char *parent = ward_xstrdup(dir);
		char *slash = strrchr(parent, '/');

		if (slash && slash != parent)
			*slash = '\0';
		else if (slash)
			slash[1] = '\0';
		if (check_chain(dir, parent, err) < 0)
			return NULL;
	}
	return steal_pointer(&dir);
}

/* ---- subordinate ids ---- */

int ward_subid_parse(const char *text, const char *user, uid_t uid, struct ward_subid *out)
{
	char uidbuf[16];
	const char *line = text;

	snprintf(uidbuf, sizeof(uidbuf), "%u", (unsigned)uid);
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char buf[256], *name, *start, *count, *end, *save = NULL;
		uint64_t s, c;

		if (len < sizeof(buf) && line[0] != '#') {
			memcpy(buf, line, len);
			buf[len] = '\0';
			name = strtok_r(buf, ":", &save);
			start = strtok_r(NULL, ":", &save);
			count = strtok_r(NULL, ":\r", &save);
			end = strtok_r(NULL, "", &save);
			if (name && start && count && end == NULL &&
			    ((user && strcmp(name, user) == 0) || strcmp(name, uidbuf) == 0) &&
			    ward_parse_u64(start, &s) == 0 && ward_parse_u64(count, &c) == 0 &&
			    c > 0 && s > 0 && s <= UINT32_MAX && c <= UINT32_MAX &&
			    s + c <= UINT32_MAX) {
				out->start = (uint32_t)s;
				out->count = (uint32_t)c;
				return 0;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return -ENOENT;
}

int ward_subid_find(const char *file, const char *user, uid_t uid, struct ward_subid *out)
{
	cleanup_free char *text = NULL;
	size_t len = 0;
	int r = ward_read_file(file, &text, &len);

	if (r < 0)
		return r;
	return ward_subid_parse(text, user, uid, out);
}

static char *find_helper(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(uidmap_dirs); i++) {
		char *p = ward_xasprintf("%s/%s", uidmap_dirs[i], name);

		if (access(p, X_OK) == 0)
			return p;
		free(p);
	}
	return NULL;
}

bool ward_rootless_wants_range(const struct ward_policy *p, bool learn)
{
	return learn || p->setuid || p->level != WARD_LEVEL_CONFINED || p->caps != 0;
}

void ward_rootless_ids_plan(struct ward_rootless_ids *ids, bool want_range)
{
	cleanup_free char *user = NULL;
	cleanup_free char *nu = NULL;
	cleanup_free char *ng = NULL;

	memset(ids, 0, sizeof(*ids));
	ids->uid = geteuid();
	ids->gid = getegid();
	ids->count = 1;
	if (!want_range) {
		ids->why_not = "this policy holds no capability to use other ids "
			       "(security.confined): none needed";
		return;
	}
	(void)passwd_lookup(ids->uid, &user, NULL);
	if (ward_subid_find("/etc/subuid", user, ids->uid, &ids->sub_uid) < 0 ||
	    ward_subid_find("/etc/subgid", user, ids->uid, &ids->sub_gid) < 0) {
		ids->why_not = "no range for this user in /etc/subuid and /etc/subgid";
		return;
	}
	nu = find_helper("newuidmap");
	ng = find_helper("newgidmap");
	if (nu == NULL || ng == NULL) {
		ids->why_not = "newuidmap/newgidmap are not installed (Debian package uidmap)";
		return;
	}
	ids->subids = true;
	/* Inside: 0 is the caller, 1..N the range; N at most 65535 so that the
	 * sandbox sees the ids a distribution uses and no more. */
	ids->count = 1 + (ids->sub_uid.count < ids->sub_gid.count ? ids->sub_uid.count
								  : ids->sub_gid.count);
	if (ids->count > 65536)
		ids->count = 65536;
}

/* Start one helper with stderr into a pipe; *errfd gets the read end. */
static pid_t spawn_helper(const char *path, char *const argv[], int *errfd)
{
	static char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
	posix_spawn_file_actions_t fa;
	int p[2];
	pid_t pid;
	int r;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	r = posix_spawn(&pid, path, &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (r != 0) {
		close(p[0]);
		errno = r;
		return -1;
	}
	*errfd = p[0];
	return pid;
}

static int wait_helper(const char *name, pid_t pid, int errfd, pid_t target, ward_error_t *err)
{
	char msg[512];
	ssize_t n = ward_read_all(errfd, msg, sizeof(msg) - 1);
	int st = 0;

	close(errfd);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (n < 0)
		n = 0;
	msg[n] = '\0';
	msg[strcspn(msg, "\n")] = '\0';
	if (*err)
		return -1; /* the first failure is the one reported */
	return ward_error_set(err, EPERM,
			      "%s failed for the sandbox (pid %d): %s (check your entries in "
			      "/etc/subuid and /etc/subgid, or remove them to map only your own "
			      "id)",
			      name, (int)target, msg[0] ? msg : "no message");
}

int ward_rootless_write_maps(pid_t pid, const struct ward_rootless_ids *ids, ward_error_t *err)
{
	char map[64], path[64];
	int r;

	if (ids->subids) {
		cleanup_free char *nu = find_helper("newuidmap");
		cleanup_free char *ng = find_helper("newgidmap");
		char spid[16], own_u[16], own_g[16], su[16], sg[16], cnt[16];
		int efu = -1, efg = -1;
		pid_t hu, hg;
		int rc = 0;

		if (nu == NULL || ng == NULL)
			return ward_error_set(err, ENOENT,
					      "newuidmap/newgidmap disappeared (Debian package "
					      "uidmap)");
		snprintf(spid, sizeof(spid), "%d", (int)pid);
		snprintf(own_u, sizeof(own_u), "%u", (unsigned)ids->uid);
		snprintf(own_g, sizeof(own_g), "%u", (unsigned)ids->gid);
		snprintf(su, sizeof(su), "%u", ids->sub_uid.start);
		snprintf(sg, sizeof(sg), "%u", ids->sub_gid.start);
		snprintf(cnt, sizeof(cnt), "%u", ids->count - 1);
		{
			char *const au[] = {"newuidmap", spid, "0", own_u, "1", "1", su, cnt, NULL};
			char *const ag[] = {"newgidmap", spid, "0", own_g, "1", "1", sg, cnt, NULL};

			/* Both at once: each is a set-user-ID program that reads
			 * the subid files, two starts in parallel. */
			hu = spawn_helper(nu, au, &efu);
			if (hu < 0)
				return ward_error_sys(err, "cannot run %s", nu);
			hg = spawn_helper(ng, ag, &efg);
			if (hg < 0) {
				ward_error_sys(err, "cannot run %s", ng);
				(void)wait_helper("newuidmap", hu, efu, pid, err);
				return -1;
			}
		}
		rc |= wait_helper("newuidmap", hu, efu, pid, err);
		rc |= wait_helper("newgidmap", hg, efg, pid, err);
		return rc ? -1 : 0;
	}
	/* Own ids only: an unprivileged process may map its own uid, and its
	 * own gid once setgroups is denied in the namespace. */
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)ids->uid);
	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
	r = ward_write_file(path, map, strlen(map));
	if (r == 0) {
		snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)pid);
		r = ward_write_file(path, "deny", 4);
	}
	if (r == 0) {
		snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)ids->gid);
		snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
		r = ward_write_file(path, map, strlen(map));
	}
	if (r < 0) {
		errno = -r;
		return ward_error_sys(err, "cannot write the sandbox's user namespace maps (%s)",
				      path);
	}
	return 0;
}

bool ward_peer_in_my_userns(pid_t pid)
{
	char path[64];
	struct stat mine, its;

	if (pid <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	if (stat("/proc/self/ns/user", &mine) < 0 || stat(path, &its) < 0)
		return false;
	return mine.st_dev == its.st_dev && mine.st_ino == its.st_ino;
}
