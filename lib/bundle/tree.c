/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Root filesystems on disk: walking one into a digest tree, creating
 * entries beneath a directory, and removing a tree.
 *
 * Nothing here follows a symbolic link.  The walk opens every child by name
 * with O_NOFOLLOW relative to its directory's descriptor and takes the
 * metadata from the opened descriptor.  Creation resolves the directory of
 * every entry with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
 * RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV) from the root's descriptor, then
 * creates the last component with O_CREAT | O_EXCL (or mkdirat, symlinkat),
 * which never follows a link either: an archive cannot make ward write
 * outside the target, whatever its links point to.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../util.h"
#include "bundle.h"

#define RESOLVE_STRICT \
	(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)

int ward_openat_beneath(int dirfd, const char *path, uint64_t flags, mode_t mode)
{
	struct open_how how = {.flags = flags, .mode = mode, .resolve = RESOLVE_STRICT};
	int fd;

	do
		fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN);
	return fd;
}

/* ------------------------------------------------------------ the walk */

struct scan {
	const struct ward_scan_opts *o;
	struct ward_tree *t;
	const char *what;
};

static int add_common(struct scan *s, struct ward_tree_entry *e, const struct stat *st)
{
	e->mode = st->st_mode & 07777;
	e->uid = s->o->set_owner ? s->o->uid : st->st_uid;
	e->gid = s->o->set_owner ? s->o->gid : st->st_gid;
	if (s->t->n > WARD_BUNDLE_MAX_ENTRIES)
		return -E2BIG;
	return 0;
}

static int hash_fd(int fd, const char *what, const char *path, uint64_t *size, uint8_t out[32],
		   ward_error_t *err)
{
	crypto_hash_sha256_state h;
	char buf[65536];
	uint64_t n = 0;

	crypto_hash_sha256_init(&h);
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return ward_error_sys(err, "%s: reading %s", what, path);
		}
		if (r == 0)
			break;
		crypto_hash_sha256_update(&h, (const unsigned char *)buf, (unsigned long long)r);
		n += (uint64_t)r;
	}
	crypto_hash_sha256_final(&h, out);
	*size = n;
	return 0;
}

static int scan_dir(struct scan *s, int dfd, const char *path, unsigned depth, ward_error_t *err);

static int scan_child(struct scan *s, int dfd, const char *dirpath, const char *name,
		      unsigned depth, ward_error_t *err)
{
	cleanup_free char *path = NULL;
	cleanup_close int fd = -1;
	struct ward_tree_entry *e;
	struct stat st;

	path = strcmp(dirpath, "/") == 0 ? ward_xasprintf("/%s", name)
					 : ward_xasprintf("%s/%s", dirpath, name);
	if (strlen(path) > WARD_BUNDLE_PATH_MAX)
		return ward_error_set(err, ENAMETOOLONG, "%s: %.64s...: path longer than %u bytes",
				      s->what, path, WARD_BUNDLE_PATH_MAX);
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return ward_error_sys(err, "%s: %s", s->what, path);

	if (S_ISLNK(st.st_mode)) {
		char target[WARD_BUNDLE_PATH_MAX + 1];
		ssize_t n = readlinkat(dfd, name, target, sizeof(target));

		if (n < 0)
			return ward_error_sys(err, "%s: reading the link %s", s->what, path);
		if (n == 0 || (size_t)n > WARD_BUNDLE_PATH_MAX)
			return ward_error_set(err, EINVAL, "%s: %s: link target empty or too long",
					      s->what, path);
		e = ward_tree_push(s->t);
		e->path = steal_pointer(&path);
		e->type = 'l';
		e->target = strndup(target, (size_t)n);
		if (e->target == NULL)
			abort();
		if (add_common(s, e, &st) < 0)
			goto too_many;
		e->mode = 0777;
		return 0;
	}
	if (S_ISDIR(st.st_mode)) {
		if (depth + 1 > WARD_BUNDLE_MAX_DEPTH)
			return ward_error_set(err, ELOOP, "%s: %s: deeper than %u directories",
					      s->what, path, WARD_BUNDLE_MAX_DEPTH);
		fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) < 0)
			return ward_error_sys(err, "%s: opening %s", s->what, path);
		e = ward_tree_push(s->t);
		e->path = ward_xstrdup(path);
		e->type = 'd';
		if (add_common(s, e, &st) < 0)
			goto too_many;
		return scan_dir(s, fd, path, depth + 1, err);
	}
	if (S_ISREG(st.st_mode)) {
		uint64_t size;

		/* O_NONBLOCK: if the file was swapped for a fifo meanwhile, the
		 * open does not hang; the fstat below then refuses it. */
		fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) < 0)
			return ward_error_sys(err, "%s: opening %s", s->what, path);
		if (!S_ISREG(st.st_mode))
			return ward_error_set(err, EAGAIN, "%s: %s changed while it was read",
					      s->what, path);
		if (st.st_mode & (S_ISUID | S_ISGID)) {
			if (!s->o->strip_setuid)
				return ward_error_set(err, EPERM,
						      "%s: %s is set%cid: bundles carry no "
						      "privilege-raising files (ward bundle create "
						      "--strip-setuid clears the bits)",
						      s->what, path,
						      (st.st_mode & S_ISUID) ? 'u' : 'g');
			st.st_mode &= ~(mode_t)(S_ISUID | S_ISGID);
			if (s->o->n_stripped)
				(*s->o->n_stripped)++;
		}
		/* File capabilities raise privileges like setuid does.  A tar
		 * does not carry them; a directory bundle would. */
		if (fgetxattr(fd, "security.capability", NULL, 0) >= 0) {
			if (!s->o->strip_setuid)
				return ward_error_set(err, EPERM,
						      "%s: %s has file capabilities: bundles carry "
						      "no privilege-raising files (--strip-setuid "
						      "leaves them out)",
						      s->what, path);
			if (s->o->n_stripped)
				(*s->o->n_stripped)++;
		}
		e = ward_tree_push(s->t);
		e->path = steal_pointer(&path);
		e->type = 'f';
		if (add_common(s, e, &st) < 0)
			goto too_many;
		if (hash_fd(fd, s->what, e->path, &size, e->sha256, err) < 0)
			return -1;
		if (size != (uint64_t)st.st_size)
			return ward_error_set(err, EAGAIN, "%s: %s changed while it was read",
					      s->what, e->path);
		e->size = size;
		s->t->total_bytes += size;
		if (s->t->total_bytes > WARD_BUNDLE_MAX_BYTES)
			return ward_error_set(err, EFBIG, "%s: more than %llu bytes of files",
					      s->what, (unsigned long long)WARD_BUNDLE_MAX_BYTES);
		return 0;
	}
	if (s->o->skip_special) {
		if (s->o->n_skipped)
			(*s->o->n_skipped)++;
		return 0;
	}
	return ward_error_set(err, EPERM,
			      "%s: %s is a %s: bundles hold only files, directories and symbolic "
			      "links (ward gives the sandbox its own /dev; --skip-special leaves "
			      "such files out)",
			      s->what, path,
			      S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "device node"
			      : S_ISFIFO(st.st_mode)			 ? "fifo"
									 : "socket");
too_many:
	return ward_error_set(err, E2BIG, "%s: more than %u entries", s->what,
			      WARD_BUNDLE_MAX_ENTRIES);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int scan_dir(struct scan *s, int dfd, const char *path, unsigned depth, ward_error_t *err)
{
	char **names = NULL;
	size_t n = 0, i;
	struct dirent *de;
	DIR *d;
	int lfd, rc = 0;

	lfd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lfd < 0)
		return ward_error_sys(err, "%s: listing %s", s->what, path);
	d = fdopendir(lfd);
	if (d == NULL) {
		close(lfd);
		return ward_error_sys(err, "%s: listing %s", s->what, path);
	}
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		names = ward_xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = ward_xstrdup(de->d_name);
		if (n > WARD_BUNDLE_MAX_ENTRIES)
			break;
	}
	closedir(d);
	/* Sorted, so that errors come in the same order every time. */
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n && rc == 0; i++)
		rc = scan_child(s, dfd, path, names[i], depth, err);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

int ward_tree_scan(int dirfd, const char *what, const struct ward_scan_opts *o, struct ward_tree *t,
		   ward_error_t *err)
{
	static const struct ward_scan_opts none;
	struct scan s = {.o = o ? o : &none, .t = t, .what = what};
	struct ward_tree_entry *e;
	struct stat st;

	if (sodium_init() < 0)
		return ward_error_set(err, EIO, "libsodium could not be initialised");
	if (fstat(dirfd, &st) < 0)
		return ward_error_sys(err, "%s", what);
	if (!S_ISDIR(st.st_mode))
		return ward_error_set(err, ENOTDIR, "%s: not a directory", what);
	e = ward_tree_push(t);
	e->path = ward_xstrdup("/");
	e->type = 'd';
	add_common(&s, e, &st);
	if (scan_dir(&s, dirfd, "/", 0, err) < 0)
		return -1;
	return ward_tree_finish(t, what, err);
}

/* ------------------------------------------------------------ creating entries */

void ward_extract_free(struct ward_extract *x)
{
	size_t i;

	for (i = 0; i < x->n_dirs; i++)
		free(x->dirs[i].path);
	free(x->dirs);
	x->dirs = NULL;
	x->n_dirs = 0;
}

/* Why openat2 refused the directory of an entry, in words. */
static int explain_open(const struct ward_extract *x, const char *path, const char *dir,
			ward_error_t *err)
{
	switch (errno) {
	case ELOOP:
		return ward_error_set(err, ELOOP,
				      "%s: %s: its directory %s goes through a symbolic link (ward "
				      "never follows links while extracting)",
				      x->what, path, dir);
	case ENOENT:
		return ward_error_set(err, ENOENT,
				      "%s: %s comes before its directory %s (directories must "
				      "precede their contents in the archive)",
				      x->what, path, dir);
	case ENOTDIR:
		return ward_error_set(err, ENOTDIR, "%s: %s: %s is not a directory", x->what, path,
				      dir);
	case EXDEV:
		return ward_error_set(err, EXDEV, "%s: %s: %s escapes the target directory",
				      x->what, path, dir);
	default:
		return ward_error_sys(err, "%s: %s: opening %s", x->what, path, dir);
	}
}

static int set_owner_mode(const struct ward_extract *x, int fd, const char *path, uint32_t uid,
			  uint32_t gid, uint32_t mode, ward_error_t *err)
{
	/* Owner first: chown(2) clears setuid/setgid bits. */
	if (fchown(fd, uid, gid) < 0) {
		if (errno == EPERM)
			return ward_error_set(err, EPERM,
					      "%s: %s belongs to %u:%u, and only root can give "
					      "files away (run as root, or create the bundle with "
					      "--owner)",
					      x->what, path, uid, gid);
		return ward_error_sys(err, "%s: %s: chown", x->what, path);
	}
	if (fchmod(fd, mode & 07777) < 0)
		return ward_error_sys(err, "%s: %s: chmod", x->what, path);
	return 0;
}

static int copy_content(struct ward_extract *x, int out, const char *path, ward_read_fn readfn,
			void *ctx, struct ward_tree_entry *e, ward_error_t *err)
{
	crypto_hash_sha256_state h;
	char buf[65536];
	uint64_t n = 0;

	crypto_hash_sha256_init(&h);
	for (;;) {
		ssize_t r = readfn(ctx, buf, sizeof(buf), err);

		if (r < 0)
			return -1;
		if (r == 0)
			break;
		if (ward_write_all(out, buf, (size_t)r) < 0)
			return ward_error_sys(err, "%s: writing %s", x->what, path);
		crypto_hash_sha256_update(&h, (const unsigned char *)buf, (unsigned long long)r);
		n += (uint64_t)r;
	}
	crypto_hash_sha256_final(&h, e->sha256);
	e->size = n;
	return 0;
}

static ssize_t fd_read(void *ctx, void *buf, size_t len, ward_error_t *err)
{
	ssize_t r;

	do
		r = read(*(int *)ctx, buf, len);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return ward_error_sys(err, "reading");
	return r;
}

static int make_hardlink(struct ward_extract *x, int pfd, const char *base,
			 struct ward_tree_entry *e, const char *link_target, ward_error_t *err)
{
	cleanup_close int src = -1, in = -1, out = -1;
	struct stat st;

	if (link_target[0] != '/' || link_target[1] == '\0')
		return ward_error_set(err, EINVAL, "%s: %s: invalid hard link target", x->what,
				      e->path);
	src = ward_openat_beneath(x->rootfd, link_target + 1, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0);
	if (src < 0)
		return explain_open(x, e->path, link_target, err);
	if (fstat(src, &st) < 0)
		return ward_error_sys(err, "%s: %s", x->what, link_target);
	if (!S_ISREG(st.st_mode))
		return ward_error_set(err, EINVAL,
				      "%s: %s: hard links may only point to regular files of the "
				      "bundle (%s is not one)",
				      x->what, e->path, link_target);
	/* AT_EMPTY_PATH links the opened file itself: nothing is resolved
	 * again.  It needs CAP_DAC_READ_SEARCH; without it, copy. */
	if (linkat(src, "", pfd, base, AT_EMPTY_PATH) == 0)
		return 0;
	if (errno != EPERM && errno != ENOENT && errno != EXDEV)
		return ward_error_sys(err, "%s: %s: link", x->what, e->path);
	in = ward_openat_beneath(x->rootfd, link_target + 1, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0);
	if (in < 0)
		return explain_open(x, e->path, link_target, err);
	out = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		return ward_error_sys(err, "%s: creating %s", x->what, e->path);
	if (copy_content(x, out, e->path, fd_read, &in, e, err) < 0)
		return -1;
	return set_owner_mode(x, out, e->path, st.st_uid, st.st_gid, st.st_mode, err);
}

int ward_extract_entry(struct ward_extract *x, struct ward_tree_entry *e, const char *link_target,
		       ward_read_fn readfn, void *ctx, ward_error_t *err)
{
	cleanup_free char *dir = NULL;
	cleanup_close int pfd = -1, fd = -1;
	const char *base;
	char *slash;

	if (e->path[0] != '/')
		return ward_error_set(err, EINVAL, "%s: invalid path %s", x->what, e->path);
	if (strcmp(e->path, "/") == 0) {
		if (e->type != 'd')
			return ward_error_set(err, EINVAL, "%s: the root must be a directory",
					      x->what);
		goto record_dir;
	}
	dir = ward_xstrdup(e->path);
	slash = strrchr(dir, '/');
	*slash = '\0';
	base = e->path + (slash - dir) + 1;
	if (base[0] == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return ward_error_set(err, EINVAL, "%s: invalid path %s", x->what, e->path);
	if (dir[0] == '\0')
		pfd = ward_openat_beneath(x->rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
	else
		pfd = ward_openat_beneath(x->rootfd, dir + 1, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
	if (pfd < 0)
		return explain_open(x, e->path, dir[0] ? dir : "/", err);

	switch (e->type) {
	case 'd':
		if (mkdirat(pfd, base, 0700) < 0) {
			if (errno == EEXIST)
				return ward_error_set(err, EEXIST, "%s: %s appears twice", x->what,
						      e->path);
			return ward_error_sys(err, "%s: creating %s", x->what, e->path);
		}
		goto record_dir;
	case 'l':
		if (symlinkat(e->target, pfd, base) < 0) {
			if (errno == EEXIST)
				return ward_error_set(err, EEXIST, "%s: %s appears twice", x->what,
						      e->path);
			return ward_error_sys(err, "%s: creating the link %s", x->what, e->path);
		}
		if (fchownat(pfd, base, e->uid, e->gid, AT_SYMLINK_NOFOLLOW) < 0)
			return ward_error_sys(err, "%s: %s: chown", x->what, e->path);
		return 0;
	case 'f':
		if (link_target)
			return make_hardlink(x, pfd, base, e, link_target, err);
		if (e->mode & (S_ISUID | S_ISGID))
			return ward_error_set(err, EPERM, "%s: %s: setuid/setgid file refused",
					      x->what, e->path);
		fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			if (errno == EEXIST)
				return ward_error_set(err, EEXIST, "%s: %s appears twice", x->what,
						      e->path);
			return ward_error_sys(err, "%s: creating %s", x->what, e->path);
		}
		if (copy_content(x, fd, e->path, readfn, ctx, e, err) < 0)
			return -1;
		return set_owner_mode(x, fd, e->path, e->uid, e->gid, e->mode, err);
	default:
		return ward_error_set(err, EINVAL, "%s: %s: unsupported entry type", x->what,
				      e->path);
	}
record_dir:
	x->dirs = ward_xrealloc(x->dirs, (x->n_dirs + 1) * sizeof(*x->dirs));
	x->dirs[x->n_dirs].path = ward_xstrdup(e->path);
	x->dirs[x->n_dirs].mode = e->mode;
	x->dirs[x->n_dirs].uid = e->uid;
	x->dirs[x->n_dirs].gid = e->gid;
	x->n_dirs++;
	return 0;
}

int ward_extract_finish(struct ward_extract *x, ward_error_t *err)
{
	size_t i;

	for (i = x->n_dirs; i-- > 0;) {
		const struct ward_extract_dir *d = &x->dirs[i];
		cleanup_close int fd = -1;

		fd = ward_openat_beneath(x->rootfd, strcmp(d->path, "/") == 0 ? "." : d->path + 1,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
		if (fd < 0)
			return explain_open(x, d->path, d->path, err);
		if (set_owner_mode(x, fd, d->path, d->uid, d->gid, d->mode, err) < 0)
			return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ removal */

static int remove_rec(int dfd, const char *name, unsigned depth, ward_error_t *err)
{
	struct dirent *de;
	DIR *d;
	int fd;

	if (depth > 4 * WARD_BUNDLE_MAX_DEPTH)
		return ward_error_set(err, ELOOP, "removing %s: too deep", name);
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno == ENOTDIR || errno == ELOOP) {
			if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
				return ward_error_sys(err, "removing %s", name);
			return 0;
		}
		return ward_error_sys(err, "removing %s", name);
	}
	/* A read-only directory of the bundle cannot be emptied otherwise
	 * (without CAP_DAC_OVERRIDE). */
	(void)fchmod(fd, 0700);
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return ward_error_sys(err, "removing %s", name);
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (de->d_type == DT_DIR || de->d_type == DT_UNKNOWN) {
			if (remove_rec(dirfd(d), de->d_name, depth + 1, err) < 0) {
				closedir(d);
				return -1;
			}
		} else if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT) {
			closedir(d);
			return ward_error_sys(err, "removing %s", de->d_name);
		}
	}
	closedir(d);
	if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return ward_error_sys(err, "removing %s", name);
	return 0;
}

int ward_remove_tree_at(int dirfd, const char *name, ward_error_t *err)
{
	return remove_rec(dirfd, name, 0, err);
}
