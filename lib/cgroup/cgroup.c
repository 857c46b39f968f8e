// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The cgroup layer, common part: layout detection, name checks, the public
 * entry points, and the helpers both backends share (reading and writing
 * interface files beneath a directory fd, killing what is left in a cgroup,
 * removing directories).
 *
 * Every path below ROOT is reached with openat()/mkdirat()/unlinkat() relative
 * to a directory fd; strings built from ROOT are used only in messages.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "../util.h"

#define DEFAULT_ROOT "/sys/fs/cgroup"

/* How long destroy waits for killed processes to leave, and for the kernel to
 * stop reporting EBUSY on rmdir. */
#define KILL_TIMEOUT_NS	 (2 * 1000000000LL)
#define RMDIR_TIMEOUT_NS (1 * 1000000000LL)

/* v1 controller hierarchies that count as "v1 is in use" for detection. */
static const char *const v1_hierarchies[] = {
	"cpu",	"cpuacct", "cpuset",   "memory",     "devices", "freezer", "blkio",
	"pids", "net_cls", "net_prio", "perf_event", "hugetlb", "rdma",	   "misc",
};

const char *ward_cgroup_layout_name(enum ward_cgroup_layout l)
{
	switch (l) {
	case WARD_CGROUP_NONE:
		return "none";
	case WARD_CGROUP_V1:
		return "v1";
	case WARD_CGROUP_V2:
		return "v2";
	case WARD_CGROUP_HYBRID:
		return "hybrid";
	default:
		return "unknown";
	}
}

bool ward_cg_fs_is(int fd, long magic)
{
	struct statfs sfs;

	if (fd < 0 || fstatfs(fd, &sfs) < 0)
		return false;
	return (long)sfs.f_type == magic;
}

bool ward_cg_exists_at(int dirfd, const char *file)
{
	return faccessat(dirfd, file, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

static int open_dir_at(int dirfd, const char *name, bool nofollow)
{
	return openat(dirfd, name,
		      O_RDONLY | O_DIRECTORY | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));
}

static enum ward_cgroup_layout detect(const char *root);

/* The host's layout (root NULL) does not change while one ward runs; ward
 * run asks several times per start (about ten system calls each), so the
 * first answer is kept.  Other roots (stand-in trees) are asked every time. */
enum ward_cgroup_layout ward_cgroup_detect(const char *root)
{
	static int host = -1;

	if (root)
		return detect(root);
	if (host < 0)
		host = (int)detect(NULL);
	return (enum ward_cgroup_layout)host;
}

static enum ward_cgroup_layout detect(const char *root)
{
	cleanup_close int rootfd = -1;
	cleanup_close int ufd = -1;
	struct stat st;
	bool has_v1 = false;
	size_t i;

	rootfd = open(root ? root : DEFAULT_ROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return WARD_CGROUP_NONE;
	if (ward_cg_fs_is(rootfd, CGROUP2_SUPER_MAGIC))
		return WARD_CGROUP_V2;
	/* Test stand-in: a plain directory holding a regular cgroup.controllers
	 * file is treated as a v2 root (see docs/cgroups.md).  A v1 hierarchy is
	 * never taken for one. */
	if (!ward_cg_fs_is(rootfd, CGROUP_SUPER_MAGIC) &&
	    fstatat(rootfd, "cgroup.controllers", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode))
		return WARD_CGROUP_V2;
	/* v1: controllers mounted one per directory (cpu may be a symlink to
	 * cpu,cpuacct, so follow symlinks here). */
	for (i = 0; i < ARRAY_SIZE(v1_hierarchies) && !has_v1; i++) {
		cleanup_close int fd = open_dir_at(rootfd, v1_hierarchies[i], false);

		has_v1 = ward_cg_fs_is(fd, CGROUP_SUPER_MAGIC);
	}
	if (!has_v1)
		return WARD_CGROUP_NONE;
	ufd = open_dir_at(rootfd, "unified", true);
	if (ward_cg_fs_is(ufd, CGROUP2_SUPER_MAGIC))
		return WARD_CGROUP_HYBRID;
	return WARD_CGROUP_V1;
}

/* Names become directory names under ROOT/.../ward: a conservative charset,
 * no '/', not "." or "..", nothing starting with '.'. */
static int validate_name(const char *name, ward_error_t *err)
{
	size_t len, i;

	if (name == NULL || name[0] == '\0')
		return ward_error_set(err, EINVAL, "cgroup name is empty");
	len = strlen(name);
	if (len > WARD_CG_NAME_MAX)
		return ward_error_set(err, EINVAL,
				      "cgroup name is %zu characters long; the limit is %d", len,
				      WARD_CG_NAME_MAX);
	if (name[0] == '.')
		return ward_error_set(err, EINVAL,
				      "cgroup name \"%s\" starts with '.'; use letters, digits, "
				      "'-', '_', '.' or ':' and do not start with '.'",
				      name);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == ':')
			continue;
		return ward_error_set(err, EINVAL,
				      "cgroup name \"%s\" contains the character 0x%02x at offset "
				      "%zu; use letters, digits, '-', '_', '.' or ':'",
				      name, c, i);
	}
	return 0;
}

/* Check the resources before anything is created, so a bad value never leaves
 * a half made cgroup behind and the message names the policy, not a file. */
static int validate_policy(const struct ward_policy *p, ward_error_t *err)
{
	if (p == NULL)
		return ward_error_set(err, EINVAL, "no policy given to the cgroup layer");
	if (p->memory_max == 0)
		return ward_error_set(err, EINVAL,
				      "memory limit is 0 bytes; give memory.limit a positive size");
	if (p->cpu_quota_us != 0) {
		uint64_t period = p->cpu_period_us ? p->cpu_period_us : WARD_DEFAULT_CPU_PERIOD;

		/* The kernel's CFS bandwidth bounds: period 1 ms .. 1 s, quota
		 * at least 1 ms. */
		if (period < 1000 || period > 1000000)
			return ward_error_set(err, EINVAL,
					      "cpu period %" PRIu64
					      " us is out of range; the kernel "
					      "accepts 1000 to 1000000 us",
					      period);
		if (p->cpu_quota_us < 1000)
			return ward_error_set(err, EINVAL,
					      "cpu quota %" PRIu64
					      " us is below the kernel's minimum "
					      "of 1000 us per period",
					      p->cpu_quota_us);
	}
	return 0;
}

int ward_cg_read_at(int dirfd, const char *file, char **out)
{
	cleanup_close int fd = -1;
	size_t cap = 1024, n = 0;
	char *buf;

	/* Interface files report st_size 0: read until EOF. */
	fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	buf = ward_xmalloc(cap + 1);
	for (;;) {
		ssize_t r = read(fd, buf + n, cap - n);

		if (r < 0) {
			int saved = errno;

			if (saved == EINTR)
				continue;
			free(buf);
			return -saved;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n == cap) {
			cap *= 2;
			buf = ward_xrealloc(buf, cap + 1);
		}
	}
	buf[n] = '\0';
	*out = buf;
	return 0;
}

int ward_cg_write_at(int dirfd, const char *file, const char *data, bool create)
{
	cleanup_close int fd = -1;
	size_t len = strlen(data);

	if (!create)
		return ward_write_file_at(dirfd, file, data, len);
	/* Stand-in tree only: the file records exactly what ward wrote. */
	fd = openat(dirfd, file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW,
		    0644);
	if (fd < 0)
		return -errno;
	if (ward_write_all(fd, data, len) < 0)
		return -errno;
	return 0;
}

int ward_cg_keyed_get(int dirfd, const char *file, const char *key, uint64_t *val)
{
	cleanup_free char *buf = NULL;
	size_t klen = strlen(key);
	char *line, *save = NULL;
	int r;

	r = ward_cg_read_at(dirfd, file, &buf);
	if (r < 0)
		return r;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, key, klen) != 0 || line[klen] != ' ')
			continue;
		return ward_parse_u64(line + klen + 1, val);
	}
	return -ENOENT;
}

int ward_cg_read_u64(int dirfd, const char *file, uint64_t *val)
{
	cleanup_free char *buf = NULL;
	int r;

	r = ward_cg_read_at(dirfd, file, &buf);
	if (r < 0)
		return r;
	buf[strcspn(buf, "\n")] = '\0';
	return ward_parse_u64(buf, val);
}

bool ward_cg_list_has(const char *list, const char *word)
{
	size_t wlen = strlen(word);
	const char *p = list;

	while (*p) {
		const char *start;

		while (*p == ' ' || *p == '\n' || *p == '\t')
			p++;
		start = p;
		while (*p && *p != ' ' && *p != '\n' && *p != '\t')
			p++;
		/* Stand-in trees record the "+name" ward wrote; the kernel never
		 * prints the '+'. */
		if (*start == '+')
			start++;
		if ((size_t)(p - start) == wlen && strncmp(start, word, wlen) == 0)
			return true;
	}
	return false;
}

void ward_cg_dir_init(struct ward_cg_dir *d)
{
	memset(d, 0, sizeof(*d));
	d->hierfd = -1;
	d->wardfd = -1;
	d->fd = -1;
}

int ward_cg_make_dir(struct ward_cg_dir *d, const char *name, bool standin,
		     ward_cg_prepare_fn prepare, ward_error_t *err)
{
	const char *parent = d->parent ? d->parent : WARD_CG_PARENT;
	cleanup_free char *wardpath = ward_xasprintf("%s/%s", d->hierpath, parent);
	int attempt, r;

	free(d->path);
	d->path = ward_xasprintf("%s/%s", wardpath, name);
	/*
	 * ward/ is shared by every sandbox; the one that made it removes it if
	 * it is empty at its destroy.  A concurrent removal between our mkdir of ward/ and of
	 * ward/NAME shows as ENOENT (the directory our fd refers to is dead) or,
	 * for an interface file of a removed cgroup, ENODEV: start over then.
	 * The VFS holds the parent's lock across mkdir and rmdir, so the two
	 * never interleave inside one call.
	 */
	for (attempt = 0;; attempt++) {
		bool retry = attempt < 8;

		if (d->wardfd < 0) {
			/* A delegated parent is never made here: it is the
			 * administrator's (ward delegate) or the user's. */
			d->made_ward = !d->parent_fixed && mkdirat(d->hierfd, parent, 0755) == 0;
			if (!d->parent_fixed && !d->made_ward && errno != EEXIST)
				return ward_error_sys(err, "cannot create %s", wardpath);
			d->wardfd = open_dir_at(d->hierfd, parent, true);
			if (d->wardfd < 0) {
				if (errno == ENOENT && retry && !d->parent_fixed)
					continue;
				return ward_error_sys(err, "cannot open %s", wardpath);
			}
		}
		if (prepare) {
			r = prepare(d->wardfd, wardpath, standin, err);
			if (r < 0) {
				if ((r == -ENOENT || r == -ENODEV) && retry) {
					ward_error_free(err);
					ward_closep(&d->wardfd);
					d->wardfd = -1;
					continue;
				}
				return -1;
			}
		}
		if (mkdirat(d->wardfd, name, 0755) == 0)
			break;
		if (errno == ENOENT && retry) {
			ward_closep(&d->wardfd);
			d->wardfd = -1;
			continue;
		}
		if (errno == EEXIST)
			return ward_error_set(err, EEXIST,
					      "cgroup %s already exists (another sandbox of that "
					      "name runs, or one crashed): choose another name, or "
					      "remove the stale one with rmdir once it is empty",
					      d->path);
		return ward_error_sys(err, "cannot create cgroup %s", d->path);
	}
	d->created = true;
	d->fd = open_dir_at(d->wardfd, name, true);
	if (d->fd < 0)
		return ward_error_sys(err, "cannot open cgroup %s", d->path);
	return 0;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_ns(long ns)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = ns};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Parse cgroup.procs (one pid a line).  ENOENT (a stand-in tree where nothing
 * ever entered) reads as an empty list. */
static int read_pids(int fd, pid_t **out, size_t *n_out)
{
	cleanup_free char *buf = NULL;
	char *line, *save = NULL;
	pid_t *pids = NULL;
	size_t n = 0, cap = 0;
	int r;

	*out = NULL;
	*n_out = 0;
	r = ward_cg_read_at(fd, "cgroup.procs", &buf);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		uint64_t v;

		if (ward_parse_u64(line, &v) < 0 || v == 0 || v > INT_MAX)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			pids = ward_xrealloc(pids, cap * sizeof(*pids));
		}
		pids[n++] = (pid_t)v;
	}
	*out = pids;
	*n_out = n;
	return 0;
}

static bool pid_listed(const pid_t *pids, size_t n, pid_t pid)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

/*
 * SIGKILL every pid listed in fd's cgroup.procs without ever signalling a
 * process outside the cgroup: a listed pid may exit and be reused by an
 * unrelated process before we signal it.  So take a pidfd first (it pins one
 * process), then read the list again; a pid still listed now names a process
 * in the cgroup, and signalling through the pidfd reaches either that process
 * or, if it died since, nobody.
 */
static void kill_listed(int fd, const pid_t *pids, size_t n)
{
	cleanup_free int *pidfds = ward_xcalloc(n, sizeof(int));
	cleanup_free pid_t *again = NULL;
	size_t n_again = 0, i;

	for (i = 0; i < n; i++) {
#ifdef SYS_pidfd_open
		pidfds[i] = (int)syscall(SYS_pidfd_open, pids[i], 0);
		if (pidfds[i] < 0 && errno == ENOSYS)
			pidfds[i] = -2;
#else
		pidfds[i] = -2;
#endif
	}
	if (read_pids(fd, &again, &n_again) == 0) {
		for (i = 0; i < n; i++) {
			if (!pid_listed(again, n_again, pids[i]))
				continue;
#ifdef SYS_pidfd_send_signal
			if (pidfds[i] >= 0)
				(void)syscall(SYS_pidfd_send_signal, pidfds[i], SIGKILL, NULL, 0);
#endif
			/* Kernels without pidfds (before 5.3): plain kill. */
			if (pidfds[i] == -2)
				(void)kill(pids[i], SIGKILL);
		}
	}
	for (i = 0; i < n; i++)
		if (pidfds[i] >= 0)
			close(pidfds[i]);
}

/* Empty the cgroup: cgroup.kill when the kernel has it (v2, 5.14+), then
 * SIGKILL what is listed until nothing is, for at most KILL_TIMEOUT_NS. */
static int kill_all(const struct ward_cg_dir *d, ward_error_t *err)
{
	int64_t deadline = now_ns() + KILL_TIMEOUT_NS;
	long delay = 100000; /* 0.1 ms, doubling to 10 ms */
	pid_t self = getpid();

	if (ward_cg_exists_at(d->fd, "cgroup.kill"))
		(void)ward_cg_write_at(d->fd, "cgroup.kill", "1", false);
	for (;;) {
		cleanup_free pid_t *pids = NULL;
		size_t n = 0;
		int r;

		r = read_pids(d->fd, &pids, &n);
		if (r < 0)
			return ward_error_set(err, -r, "cannot read %s/cgroup.procs: %s", d->path,
					      strerror(-r));
		if (n == 0)
			return 0;
		/* Never kill the caller: report instead. */
		if (pid_listed(pids, n, self))
			return ward_error_set(err, EBUSY,
					      "the calling process %d is itself in cgroup %s; move "
					      "it out before destroying the cgroup",
					      (int)self, d->path);
		kill_listed(d->fd, pids, n);
		if (now_ns() > deadline)
			return ward_error_set(err, EBUSY,
					      "%zu process(es) still in cgroup %s %lld ms after "
					      "SIGKILL (first: pid %d); a process in "
					      "uninterruptible sleep cannot die until its I/O ends",
					      n, d->path, KILL_TIMEOUT_NS / 1000000, (int)pids[0]);
		sleep_ns(delay);
		if (delay < 10000000)
			delay *= 2;
	}
}

/* Stand-in rmdir: the "interface files" are regular files we created, so
 * unlink them first, unless the directory holds a subdirectory (a child
 * cgroup: then it is not ours to empty). */
static int standin_rmdir(int parentfd, const char *name)
{
	struct dirent *e;
	DIR *dir;
	int fd;

	fd = open_dir_at(parentfd, name, true);
	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (dir == NULL) {
		int saved = errno;

		close(fd);
		return -saved;
	}
	while ((e = readdir(dir)) != NULL) {
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
			closedir(dir);
			return -ENOTEMPTY;
		}
	}
	rewinddir(dir);
	while ((e = readdir(dir)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		(void)unlinkat(fd, e->d_name, 0);
	}
	closedir(dir);
	if (unlinkat(parentfd, name, AT_REMOVEDIR) < 0)
		return -errno;
	return 0;
}

/* rmdir, retrying while the kernel still says EBUSY (the last task's exit may
 * not have been accounted yet). */
static int cg_rmdir(int parentfd, const char *name, bool standin)
{
	int64_t deadline = now_ns() + RMDIR_TIMEOUT_NS;
	long delay = 100000;

	for (;;) {
		int r;

		if (standin)
			r = standin_rmdir(parentfd, name);
		else
			r = unlinkat(parentfd, name, AT_REMOVEDIR) < 0 ? -errno : 0;
		if (r != -EBUSY || now_ns() > deadline)
			return r;
		sleep_ns(delay);
		if (delay < 10000000)
			delay *= 2;
	}
}

/* The name of one child cgroup (a directory) of FD, into NAME; false when
 * there is none.  Every name counts, those starting with a dot too. */
static bool first_child_dir(int fd, char name[static NAME_MAX + 1])
{
	int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	bool found = false;
	DIR *dir;

	if (dfd < 0)
		return false;
	dir = fdopendir(dfd);
	if (dir == NULL) {
		close(dfd);
		return false;
	}
	while (!found && (de = readdir(dir)) != NULL) {
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (de->d_type == DT_DIR ||
		    (de->d_type == DT_UNKNOWN &&
		     fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		     S_ISDIR(st.st_mode))) {
			snprintf(name, NAME_MAX + 1, "%s", de->d_name);
			found = true;
		}
	}
	closedir(dir);
	return found;
}

/*
 * Child cgroups a sandbox made in its own (security.admin gives it): removed
 * depth first, however deep the sandbox nested them (cgroup v1 has no depth
 * limit) and whatever their names (a leading dot too): a recursion with a
 * depth limit, or one that skipped dot names, left the rest, and with them
 * the sandbox's cgroup, on the host after the sandbox was gone.  The walk
 * goes down one directory at a time and back up through "..", holding two
 * descriptors at most, and counts its depth so that it never climbs above
 * FD (a cgroup can be renamed only within its parent, and the sandbox's
 * processes are gone).  A child that cannot be removed (still busy once
 * cg_rmdir stops waiting) ends the walk; the rmdir of the sandbox's cgroup
 * then says so.
 */
static void remove_children(int fd)
{
	char name[NAME_MAX + 1], sub[NAME_MAX + 1];
	unsigned long depth = 0;
	int cur = fcntl(fd, F_DUPFD_CLOEXEC, 3);

	while (cur >= 0) {
		int next;

		if (first_child_dir(cur, name)) {
			next = openat(cur, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (next < 0)
				break;
			if (first_child_dir(next, sub)) {
				close(cur);
				cur = next;
				depth++;
				continue;
			}
			close(next);
			if (cg_rmdir(cur, name, false) < 0)
				break;
			continue;
		}
		if (depth == 0)
			break;
		next = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (next < 0)
			break;
		close(cur);
		cur = next;
		depth--;
	}
	if (cur >= 0)
		close(cur);
}

int ward_cg_dir_remove(struct ward_cg_dir *d, const char *name, bool standin, ward_error_t *err)
{
	int ret = 0, r;

	if (d->created) {
		/* The common case: the sandbox is gone and the cgroup is empty,
		 * so one rmdir does it.  Only a busy cgroup is emptied first.  A
		 * stand-in's cgroup.procs is just a file: never kill what it
		 * lists. */
		r = standin ? -EBUSY : (unlinkat(d->wardfd, name, AT_REMOVEDIR) < 0 ? -errno : 0);
		if (r == -EBUSY) {
			if (!standin && d->fd >= 0)
				remove_children(d->fd);
			if (!standin && d->fd >= 0 && kill_all(d, err) < 0)
				ret = -1;
			r = cg_rmdir(d->wardfd, name, standin);
		}
		if (r < 0 && r != -ENOENT) {
			if (ret == 0)
				ward_error_set(
					err, -r,
					"cannot remove cgroup %s: %s; remove it by hand with "
					"rmdir once its processes are gone",
					d->path, strerror(-r));
			ret = -1;
		}
		d->created = false;
	}
	ward_closep(&d->fd);
	d->fd = -1;
	ward_closep(&d->wardfd);
	d->wardfd = -1;
	/* Remove ward/ if we made it and this left it empty.  One we found
	 * already there may carry an administrator's settings (a limit for all
	 * sandboxes together): never touch it.  Another sandbox may still use
	 * ours (EBUSY/ENOTEMPTY: leave it), or be about to make its directory
	 * in it (its create then retries, see ward_cg_make_dir). */
	if (d->hierfd >= 0 && d->made_ward)
		(void)(standin ? standin_rmdir(d->hierfd, WARD_CG_PARENT)
			       : unlinkat(d->hierfd, WARD_CG_PARENT, AT_REMOVEDIR));
	ward_closep(&d->hierfd);
	d->hierfd = -1;
	free(d->path);
	d->path = NULL;
	free(d->hierpath);
	d->hierpath = NULL;
	return ret;
}

/* Remove every directory; *first gets the first failure, the rest go on. */
static void remove_all(struct ward_cgroup *cg, ward_error_t *first)
{
	size_t i;

	for (i = 0; i < WARD_CG_NSLOTS; i++)
		(void)ward_cg_dir_remove(&cg->dirs[i], cg->name, cg->standin,
					 *first == NULL ? first : NULL);
}

static void cgroup_free(struct ward_cgroup *cg)
{
	free(cg->parent);
	free(cg->root);
	free(cg->name);
	free(cg);
}

int ward_cgroup_create(const struct ward_policy *p, const char *root, const char *name,
		       struct ward_cgroup **out, ward_error_t *err)
{
	struct ward_cgroup_where w = {.root = root};

	return ward_cgroup_create_at(p, &w, name, out, err);
}

int ward_cgroup_create_at(const struct ward_policy *p, const struct ward_cgroup_where *w,
			  const char *name, struct ward_cgroup **out, ward_error_t *err)
{
	const char *root = w->root;
	struct ward_cgroup *cg;
	ward_error_t ignored = NULL;
	size_t i;
	int r;

	*out = NULL;
	if (validate_name(name, err) < 0 || validate_policy(p, err) < 0)
		return -1;
	if (root == NULL)
		root = DEFAULT_ROOT;
	cg = ward_xcalloc(1, sizeof(*cg));
	for (i = 0; i < WARD_CG_NSLOTS; i++)
		ward_cg_dir_init(&cg->dirs[i]);
	cg->root = ward_xstrdup(root);
	cg->name = ward_xstrdup(name);
	cg->parent = ward_xstrdup(w->parent ? w->parent : WARD_CG_PARENT);
	cg->parent_fixed = w->parent != NULL;
	cg->no_devices = w->no_devices;
	for (i = 0; i < WARD_CG_NSLOTS; i++) {
		cg->dirs[i].parent = cg->parent;
		cg->dirs[i].parent_fixed = cg->parent_fixed;
	}
	cg->layout = ward_cgroup_detect(root);
	switch (cg->layout) {
	case WARD_CGROUP_V2:
		r = ward_cg_v2_create(cg, p, err);
		break;
	case WARD_CGROUP_V1:
	case WARD_CGROUP_HYBRID:
		r = ward_cg_v1_create(cg, p, err);
		break;
	case WARD_CGROUP_NONE:
	default:
		r = ward_error_set(err, ENOENT,
				   "no cgroup hierarchy found at %s: mount cgroup2 there "
				   "(mount -t cgroup2 none %s) or the v1 pids, memory, cpu and "
				   "devices controllers beneath it",
				   root, root);
		break;
	}
	if (r < 0) {
		/* Nothing ran in it yet; the original error is the one to keep. */
		remove_all(cg, &ignored);
		ward_error_free(&ignored);
		cgroup_free(cg);
		return -1;
	}
	*out = cg;
	return 0;
}

int ward_cgroup_enter(struct ward_cgroup *cg, pid_t pid, ward_error_t *err)
{
	char buf[32];
	size_t i;

	if (cg == NULL)
		return ward_error_set(err, EINVAL, "no cgroup to enter");
	snprintf(buf, sizeof(buf), "%d", (int)pid);
	/* On v1 the first of these writes after an idle gap waits for an RCU
	 * grace period (6-8 ms here); the others follow right after it. */
	for (i = 0; i < cg->n_dirs; i++) {
		const struct ward_cg_dir *d = &cg->dirs[i];
		int r = ward_cg_write_at(d->fd, "cgroup.procs", buf, cg->standin);

		if (r < 0)
			return ward_error_set(err, -r,
					      "cannot move process %d into cgroup %s (writing "
					      "cgroup.procs): %s%s",
					      (int)pid, d->path, strerror(-r),
					      r == -ESRCH ? "; the process has already exited"
							  : "");
	}
	return 0;
}

int ward_cgroup_dirfd(const struct ward_cgroup *cg)
{
	if (cg == NULL || cg->layout != WARD_CGROUP_V2 || cg->standin)
		return -1;
	return cg->dirs[0].fd;
}

bool ward_cgroup_oom_killed(const struct ward_cgroup *cg)
{
	if (cg == NULL)
		return false;
	if (cg->layout == WARD_CGROUP_V2)
		return ward_cg_v2_oom_killed(cg);
	return ward_cg_v1_oom_killed(cg);
}

uint64_t ward_cgroup_memory_peak(const struct ward_cgroup *cg)
{
	uint64_t v = 0;
	size_t i;

	if (cg == NULL)
		return 0;
	for (i = 0; i < cg->n_dirs; i++) {
		const struct ward_cg_dir *d = &cg->dirs[i];

		if (cg->layout == WARD_CGROUP_V2) {
			if (ward_cg_read_u64(d->fd, "memory.peak", &v) == 0)
				return v;
		} else if (d->controller && strcmp(d->controller, "memory") == 0) {
			if (ward_cg_read_u64(d->fd, "memory.max_usage_in_bytes", &v) == 0)
				return v;
		}
	}
	return 0;
}

bool ward_cgroup_pids_exhausted(const struct ward_cgroup *cg)
{
	if (cg == NULL)
		return false;
	if (cg->layout == WARD_CGROUP_V2)
		return ward_cg_v2_pids_exhausted(cg);
	return ward_cg_v1_pids_exhausted(cg);
}

int ward_cgroup_destroy(struct ward_cgroup *cg, ward_error_t *err)
{
	ward_error_t first = NULL;
	int ret;

	if (cg == NULL)
		return 0;
	remove_all(cg, &first);
	ret = first ? -1 : 0;
	if (first) {
		if (err) {
			ward_error_free(err);
			*err = first;
		} else {
			ward_error_free(&first);
		}
	}
	cgroup_free(cg);
	return ret;
}

size_t ward_cgroup_paths(const struct ward_cgroup *cg, const char **out, size_t max)
{
	size_t i, n = 0;

	for (i = 0; cg && i < cg->n_dirs && n < max; i++)
		if (cg->dirs[i].created && cg->dirs[i].path && !cg->standin)
			out[n++] = cg->dirs[i].path;
	return n;
}

enum ward_cgroup_layout ward_cgroup_get_layout(const struct ward_cgroup *cg)
{
	return cg ? cg->layout : WARD_CGROUP_NONE;
}

/*
 * Remove the empty cgroups of supervisors that died without cleaning up
 * (SIGKILL of ward).  Sandboxes are named run-PID by the launcher; a cgroup
 * whose PID no longer exists, or is the caller itself (a previous ward with
 * the same pid), is stale.  rmdir only removes an empty cgroup, so a
 * sandbox that is still dying is left for the next time.
 */
static void gc_hierarchy(int hierfd, const char *parent, bool keep_own)
{
	cleanup_close int wardfd = open_dir_at(hierfd, parent, true);
	struct dirent *de;
	DIR *d;
	int dfd;

	if (wardfd < 0)
		return;
	dfd = fcntl(wardfd, F_DUPFD_CLOEXEC, 3);
	if (dfd < 0)
		return;
	d = fdopendir(dfd);
	if (d == NULL) {
		close(dfd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		char *end;
		long pid;

		if (strncmp(de->d_name, "run-", 4) != 0)
			continue;
		pid = strtol(de->d_name + 4, &end, 10);
		if (end == de->d_name + 4 || *end != '\0' || pid <= 0)
			continue;
		if (pid == (long)getpid() ? keep_own : (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
			continue;
		(void)unlinkat(wardfd, de->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}

static void gc_at(const struct ward_cgroup_where *w, bool keep_own);

void ward_cgroup_gc(const char *root)
{
	struct ward_cgroup_where w = {.root = root};

	gc_at(&w, false);
}

void ward_cgroup_gc_others(const char *root)
{
	struct ward_cgroup_where w = {.root = root};

	gc_at(&w, true);
}

void ward_cgroup_gc_at(const struct ward_cgroup_where *w)
{
	gc_at(w, false);
}

static void gc_at(const struct ward_cgroup_where *w, bool keep_own)
{
	const char *root = w->root;
	const char *parent = w->parent ? w->parent : WARD_CG_PARENT;
	enum ward_cgroup_layout layout = ward_cgroup_detect(root);
	cleanup_close int rootfd = -1;
	size_t i;

	if (layout == WARD_CGROUP_NONE)
		return;
	rootfd = open(root ? root : DEFAULT_ROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return;
	if (layout == WARD_CGROUP_V2) {
		/* Never on a stand-in tree: its files are plain files. */
		if (ward_cg_fs_is(rootfd, CGROUP2_SUPER_MAGIC))
			gc_hierarchy(rootfd, parent, keep_own);
		return;
	}
	for (i = 0; i < ARRAY_SIZE(v1_hierarchies); i++) {
		cleanup_close int fd = open_dir_at(rootfd, v1_hierarchies[i], false);

		if (ward_cg_fs_is(fd, CGROUP_SUPER_MAGIC))
			gc_hierarchy(fd, parent, keep_own);
	}
}
