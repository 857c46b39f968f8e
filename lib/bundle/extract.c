/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Opening bundles: a directory (checked in place) or a tar file (checked
 * while it is read, then extracted into a private directory).
 *
 * A .ward file is read twice.  The first pass writes nothing: it checks the
 * structure of every entry, keeps the manifest and the signatures in memory
 * and hashes the root filesystem, so that a bundle whose digest, signatures
 * or entitlements are refused never reaches the disk.  The second pass
 * extracts into <state>/bundles/<pid>-XXXXXX/rootfs and hashes what it
 * wrote; that digest must match the manifest again (the file could have
 * changed between the passes).  The manifest and signatures of the first
 * pass are the ones used.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <time.h>

#include "../rootless.h"
#include "../util.h"
#include "bundle.h"

/* ------------------------------------------------------------ small files */

int ward_read_small_file(const char *path, size_t max, char **out, size_t *len, ward_error_t *err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	char *buf;
	ssize_t n;

	if (fd < 0)
		return ward_error_sys(err, "%s", path);
	if (fstat(fd, &st) < 0)
		return ward_error_sys(err, "%s", path);
	if (!S_ISREG(st.st_mode))
		return ward_error_set(err, EINVAL, "%s: not a regular file", path);
	if ((uint64_t)st.st_size > max)
		return ward_error_set(err, EFBIG, "%s: larger than %zu bytes", path, max);
	buf = ward_xmalloc(max + 1);
	n = ward_read_all(fd, buf, max + 1);
	if (n < 0) {
		free(buf);
		return ward_error_sys(err, "reading %s", path);
	}
	if ((size_t)n > max) {
		free(buf);
		return ward_error_set(err, EFBIG, "%s: larger than %zu bytes", path, max);
	}
	buf[n] = '\0';
	*out = buf;
	*len = (size_t)n;
	return 0;
}

static int read_at(int dfd, const char *name, const char *what, size_t max, char **out, size_t *len,
		   ward_error_t *err)
{
	cleanup_close int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	char *buf;
	ssize_t n;

	if (fd < 0) {
		if (errno == ELOOP)
			return ward_error_set(err, ELOOP, "%s: is a symbolic link", what);
		return ward_error_sys(err, "%s", what);
	}
	if (fstat(fd, &st) < 0)
		return ward_error_sys(err, "%s", what);
	if (!S_ISREG(st.st_mode))
		return ward_error_set(err, EINVAL, "%s: not a regular file", what);
	if ((uint64_t)st.st_size > max)
		return ward_error_set(err, EFBIG, "%s: larger than %zu bytes", what, max);
	buf = ward_xmalloc(max + 1);
	n = ward_read_all(fd, buf, max + 1);
	if (n < 0 || (size_t)n > max) {
		free(buf);
		if (n < 0)
			return ward_error_sys(err, "reading %s", what);
		return ward_error_set(err, EFBIG, "%s: larger than %zu bytes", what, max);
	}
	buf[n] = '\0';
	*out = buf;
	*len = (size_t)n;
	return 0;
}

/* ------------------------------------------------------------ names */

/* Signature files: "manifest.minisig" or "manifest.<anything safe>.minisig". */
static bool is_signame(const char *name)
{
	size_t n = strlen(name), i;

	if (strcmp(name, "manifest.minisig") == 0)
		return true;
	if (n <= strlen("manifest..minisig") || n > 255 ||
	    !ward_str_has_prefix(name, "manifest.") || strcmp(name + n - 8, ".minisig") != 0)
		return false;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-' || c == '_'))
			return false;
	}
	return true;
}

char *ward_bundle_signame(const char *role, const char keyid[WARD_KEYID_HEXLEN])
{
	return ward_xasprintf("manifest.%s.%s.minisig", role, keyid);
}

/* Normalise an archive member name: "./" prefixes, "." components and
 * trailing slashes go; ".." and absolute names are errors.  Returns ""
 * for the archive's own root. */
static int normalize_member(const char *name, const char *what, char **out, ward_error_t *err)
{
	size_t len = strlen(name), o = 0;
	const char *p = name;
	char *buf;

	if (len == 0)
		return ward_error_set(err, EINVAL, "%s: an entry has an empty name", what);
	if (len > WARD_BUNDLE_PATH_MAX)
		return ward_error_set(err, ENAMETOOLONG, "%s: entry name longer than %u bytes",
				      what, WARD_BUNDLE_PATH_MAX);
	if (name[0] == '/')
		return ward_error_set(err, EINVAL,
				      "%s: entry \"%s\" has an absolute name (refused: entries are "
				      "relative to the bundle)",
				      what, name);
	buf = ward_xmalloc(len + 1);
	while (*p) {
		const char *s;
		size_t n;

		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		s = p;
		while (*p && *p != '/')
			p++;
		n = (size_t)(p - s);
		if (n == 1 && s[0] == '.')
			continue;
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			free(buf);
			return ward_error_set(err, EINVAL,
					      "%s: entry \"%s\" contains \"..\" (refused: it could "
					      "reach outside the bundle)",
					      what, name);
		}
		if (o)
			buf[o++] = '/';
		memcpy(buf + o, s, n);
		o += n;
	}
	buf[o] = '\0';
	*out = buf;
	return 0;
}

static int cmp_tree_path(const void *a, const void *b)
{
	return strcmp(((const struct ward_tree_entry *)a)->path,
		      ((const struct ward_tree_entry *)b)->path);
}

/* ------------------------------------------------------------ a path index */

/* Hard links name an earlier entry: an open-addressing table from path to
 * tree index keeps that lookup cheap for any archive. */
struct index {
	size_t *slots; /* tree index + 1; 0 = empty */
	size_t cap, n;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void index_put(struct index *ix, const struct ward_tree *t, size_t item)
{
	size_t i;

	if (2 * (ix->n + 1) > ix->cap) {
		size_t old = ix->cap, j;
		size_t *prev = ix->slots;

		ix->cap = ix->cap ? ix->cap * 2 : 1024;
		ix->slots = ward_xcalloc(ix->cap, sizeof(*ix->slots));
		ix->n = 0;
		for (j = 0; j < old; j++)
			if (prev[j])
				index_put(ix, t, prev[j] - 1);
		free(prev);
	}
	i = (size_t)hash_str(t->items[item].path) & (ix->cap - 1);
	while (ix->slots[i])
		i = (i + 1) & (ix->cap - 1);
	ix->slots[i] = item + 1;
	ix->n++;
}

static const struct ward_tree_entry *index_get(const struct index *ix, const struct ward_tree *t,
					       const char *path)
{
	size_t i;

	if (ix->cap == 0)
		return NULL;
	i = (size_t)hash_str(path) & (ix->cap - 1);
	while (ix->slots[i]) {
		const struct ward_tree_entry *e = &t->items[ix->slots[i] - 1];

		if (strcmp(e->path, path) == 0)
			return e;
		i = (i + 1) & (ix->cap - 1);
	}
	return NULL;
}

/* ------------------------------------------------------------ reading a .ward */

struct tar_pass {
	struct ward_bundle *b;
	struct ward_tar_reader r;
	struct ward_extract *x; /* NULL: check only */
	struct ward_tree tree;
	struct index ix;
	bool keep_meta; /* keep the manifest and signatures (first pass) */
	bool have_manifest;
};

static ssize_t tar_readfn(void *ctx, void *buf, size_t len, ward_error_t *err)
{
	return ward_tar_read(ctx, buf, len, err);
}

static int read_member(struct tar_pass *tp, const char *what, size_t max, char **out, size_t *len,
		       ward_error_t *err)
{
	struct ward_tar_reader *r = &tp->r;
	char *buf;
	ssize_t n;

	if (r->cur.type != '0')
		return ward_error_set(err, EINVAL, "%s: %s must be a regular file", tp->b->path,
				      what);
	if (r->cur.size > max)
		return ward_error_set(err, EFBIG, "%s: %s is %llu bytes; ward takes at most %zu",
				      tp->b->path, what, (unsigned long long)r->cur.size, max);
	buf = ward_xmalloc((size_t)r->cur.size + 1);
	n = ward_tar_read(r, buf, (size_t)r->cur.size, err);
	if (n < 0 || (uint64_t)n != r->cur.size) {
		free(buf);
		return n < 0 ? -1 : ward_error_set(err, EIO, "%s: short read", what);
	}
	buf[n] = '\0';
	*out = buf;
	*len = (size_t)n;
	return 0;
}

static int hash_member(struct ward_tar_reader *r, struct ward_tree_entry *e, ward_error_t *err)
{
	crypto_hash_sha256_state h;
	char buf[65536];
	uint64_t n = 0;

	crypto_hash_sha256_init(&h);
	for (;;) {
		ssize_t k = ward_tar_read(r, buf, sizeof(buf), err);

		if (k < 0)
			return -1;
		if (k == 0)
			break;
		crypto_hash_sha256_update(&h, (const unsigned char *)buf, (unsigned long long)k);
		n += (uint64_t)k;
	}
	crypto_hash_sha256_final(&h, e->sha256);
	e->size = n;
	return 0;
}

/* The entry of the first pass's tree (sorted by path) at path. */
static const struct ward_tree_entry *expected_entry(const struct ward_bundle *b, const char *path)
{
	struct ward_tree_entry key = {.path = (char *)path};

	if (b->tree.n == 0)
		return NULL;
	return bsearch(&key, b->tree.items, b->tree.n, sizeof(key), cmp_tree_path);
}

static int changed_error_at(struct tar_pass *tp, const char *member, ward_error_t *err)
{
	return ward_error_set(err, EBADMSG,
			      "%s: %s differs from what was verified (the file changed while "
			      "ward read it): nothing of it is used",
			      tp->b->path, member);
}

static int rootfs_member(struct tar_pass *tp, const char *member, const char *rel,
			 ward_error_t *err)
{
	struct ward_tar_reader *r = &tp->r;
	const char *what = tp->b->path;
	struct ward_tree_entry *e;
	const struct ward_tree_entry *target = NULL;
	cleanup_free char *link_target = NULL;
	size_t item;

	if (tp->tree.n >= WARD_BUNDLE_MAX_ENTRIES)
		return ward_error_set(err, E2BIG, "%s: more than %u entries", what,
				      WARD_BUNDLE_MAX_ENTRIES);
	{
		/* As for directory bundles (tree.c); it also keeps removal, which
		 * recurses, within its bound. */
		size_t depth = 0, i;

		for (i = 0; rel[i]; i++)
			if (rel[i] == '/')
				depth++;
		if (depth >= WARD_BUNDLE_MAX_DEPTH)
			return ward_error_set(err, ELOOP, "%s: %s: deeper than %u directories",
					      what, member, WARD_BUNDLE_MAX_DEPTH);
	}
	switch (r->cur.type) {
	case '0':
	case '7':
	case '5':
	case '2':
		break;
	case '1': {
		cleanup_free char *norm = NULL;

		if (normalize_member(r->cur.linkname, what, &norm, err) < 0)
			return -1;
		if (!ward_str_has_prefix(norm, "rootfs/"))
			return ward_error_set(err, EINVAL,
					      "%s: %s is a hard link to \"%s\", outside the root "
					      "filesystem (refused)",
					      what, member, r->cur.linkname);
		link_target = ward_xasprintf("/%s", norm + strlen("rootfs/"));
		target = index_get(&tp->ix, &tp->tree, link_target);
		if (target == NULL || target->type != 'f')
			return ward_error_set(err, EINVAL,
					      "%s: %s is a hard link to %s, which is not a regular "
					      "file earlier in the archive (refused)",
					      what, member, r->cur.linkname);
		break;
	}
	case '3':
	case '4':
		return ward_error_set(err, EPERM,
				      "%s: %s is a device node: refused (a bundle holds files, "
				      "directories and links; ward gives the sandbox its own /dev)",
				      what, member);
	case '6':
		return ward_error_set(err, EPERM, "%s: %s is a fifo: refused", what, member);
	default:
		return ward_error_set(err, EINVAL,
				      "%s: %s has tar type '%c', which bundles do not use "
				      "(files, directories, symbolic and hard links only)",
				      what, member,
				      r->cur.type >= 0x20 && r->cur.type < 0x7f ? r->cur.type
										: '?');
	}
	if ((r->cur.type == '0' || r->cur.type == '7') && (r->cur.mode & (S_ISUID | S_ISGID)))
		return ward_error_set(err, EPERM,
				      "%s: %s is set%cid: refused (bundles carry no "
				      "privilege-raising files)",
				      what, member, (r->cur.mode & S_ISUID) ? 'u' : 'g');

	e = ward_tree_push(&tp->tree);
	item = tp->tree.n - 1;
	e->path = rel[0] ? ward_xasprintf("/%s", rel) : ward_xstrdup("/");
	e->mode = r->cur.mode & 07777;
	e->uid = r->cur.uid;
	e->gid = r->cur.gid;
	switch (r->cur.type) {
	case '5':
		e->type = 'd';
		break;
	case '2':
		e->type = 'l';
		e->mode = 0777;
		if (r->cur.linkname == NULL || r->cur.linkname[0] == '\0' ||
		    strlen(r->cur.linkname) > WARD_BUNDLE_PATH_MAX)
			return ward_error_set(err, EINVAL, "%s: %s: empty or too long link target",
					      what, member);
		/* Stored as it is: an absolute or ".." target is harmless in the
		 * sandbox (it resolves inside it), and extraction never
		 * follows links. */
		e->target = ward_xstrdup(r->cur.linkname);
		break;
	case '1':
		/* A hard link shares its target's inode: same content, mode
		 * and owner, whatever its header says. */
		e->type = 'f';
		e->mode = target->mode;
		e->uid = target->uid;
		e->gid = target->gid;
		e->size = target->size;
		memcpy(e->sha256, target->sha256, 32);
		break;
	default:
		e->type = 'f';
		break;
	}
	if (e->type != 'd' && strcmp(e->path, "/") == 0)
		return ward_error_set(err, EINVAL, "%s: rootfs must be a directory", what);

	if (tp->x) {
		/* e may move when the tree grows: work on a copy. */
		struct ward_tree_entry copy = *e;
		const struct ward_tree_entry *want = expected_entry(tp->b, e->path);
		int rc;

		/* The second pass writes only what the first pass hashed: the
		 * file may have changed in between, and its new content must
		 * not reach the disk (nor fill it) before the digest says so. */
		if (want == NULL || want->type != e->type || want->mode != e->mode ||
		    want->uid != e->uid || want->gid != e->gid ||
		    (e->type == 'l' && strcmp(want->target, e->target) != 0) ||
		    (e->type == 'f' && r->cur.type != '1' && want->size != r->cur.size) ||
		    (e->type == 'f' && r->cur.type == '1' &&
		     (want->size != e->size || memcmp(want->sha256, e->sha256, 32) != 0)))
			return changed_error_at(tp, member, err);
		rc = ward_extract_entry(tp->x, &copy, link_target, tar_readfn, &tp->r, err);
		e = &tp->tree.items[item];
		if (rc < 0)
			return -1;
		if (r->cur.type != '1') {
			e->size = copy.size;
			memcpy(e->sha256, copy.sha256, 32);
			if (e->type == 'f' && (e->size != want->size ||
					       sodium_memcmp(e->sha256, want->sha256, 32) != 0))
				return changed_error_at(tp, member, err);
		}
	} else if (e->type == 'f' && r->cur.type != '1') {
		if (hash_member(r, e, err) < 0)
			return -1;
	}
	if (e->type == 'f') {
		tp->tree.total_bytes += e->size;
		if (tp->tree.total_bytes > WARD_BUNDLE_MAX_BYTES)
			return ward_error_set(err, EFBIG,
					      "%s: the root filesystem is larger than %llu bytes",
					      what, (unsigned long long)WARD_BUNDLE_MAX_BYTES);
	}
	if (e->type == 'f')
		index_put(&tp->ix, &tp->tree, item);
	return 0;
}

static int tar_pass_run(struct tar_pass *tp, ward_error_t *err)
{
	struct ward_bundle *b = tp->b;
	int rc;

	while ((rc = ward_tar_next(&tp->r, err)) > 0) {
		cleanup_free char *member = NULL;

		if (normalize_member(tp->r.cur.path, b->path, &member, err) < 0)
			return -1;
		if (member[0] == '\0') {
			if (tp->r.cur.type != '5')
				return ward_error_set(err, EINVAL,
						      "%s: the archive's root is not a directory",
						      b->path);
			continue;
		}
		if (strcmp(member, "rootfs") == 0 || ward_str_has_prefix(member, "rootfs/")) {
			const char *rel = member[6] == '/' ? member + 7 : "";

			if (rootfs_member(tp, member, rel, err) < 0)
				return -1;
			continue;
		}
		if (strcmp(member, "manifest") == 0) {
			if (tp->have_manifest)
				return ward_error_set(err, EEXIST, "%s: manifest appears twice",
						      b->path);
			tp->have_manifest = true;
			if (tp->keep_meta &&
			    read_member(tp, "manifest", WARD_BUNDLE_MANIFEST_MAX, &b->manifest_text,
					&b->manifest_len, err) < 0)
				return -1;
			continue;
		}
		if (is_signame(member)) {
			struct ward_bundle_sigfile *s;
			size_t i;

			if (!tp->keep_meta)
				continue;
			for (i = 0; i < b->n_sigs; i++)
				if (strcmp(b->sigs[i].name, member) == 0)
					return ward_error_set(err, EEXIST, "%s: %s appears twice",
							      b->path, member);
			if (b->n_sigs >= WARD_BUNDLE_MAX_SIGS)
				return ward_error_set(err, E2BIG, "%s: more than %u signatures",
						      b->path, WARD_BUNDLE_MAX_SIGS);
			b->sigs = ward_xrealloc(b->sigs, (b->n_sigs + 1) * sizeof(*b->sigs));
			s = &b->sigs[b->n_sigs];
			memset(s, 0, sizeof(*s));
			if (read_member(tp, member, WARD_SIGFILE_MAX, &s->text, &s->len, err) < 0)
				return -1;
			s->name = steal_pointer(&member);
			b->n_sigs++;
			continue;
		}
		return ward_error_set(err, EINVAL,
				      "%s: unexpected entry \"%s\" (a bundle holds manifest, "
				      "manifest*.minisig and rootfs/)",
				      b->path, member);
	}
	if (rc < 0)
		return -1;
	if (!tp->have_manifest)
		return ward_error_set(err, ENOENT, "%s: no manifest in the bundle", b->path);
	if (tp->tree.n == 0)
		return ward_error_set(err, ENOENT, "%s: no rootfs/ in the bundle", b->path);
	return ward_tree_finish(&tp->tree, b->path, err);
}

static void tar_pass_free(struct tar_pass *tp)
{
	ward_tar_reader_free(&tp->r);
	ward_tree_free(&tp->tree);
	free(tp->ix.slots);
}

/* ------------------------------------------------------------ safety */

/* Errors of reading a bundle quote its names (members, link targets),
 * which the bundle's maker chose: escaped once here, where they leave. */
static int escape_error(ward_error_t *err)
{
	if (err && *err && (*err)->msg) {
		char *e = ward_escape((*err)->msg, 0);

		free((*err)->msg);
		(*err)->msg = e;
	}
	return -1;
}

/* Keep the verified root filesystem open and run it through
 * /proc/self/fd: renaming it, or a directory above it, afterwards does
 * not change what runs. */
static int pin_rootfs(struct ward_bundle *b, int dirfd, const char *what, ward_error_t *err)
{
	struct stat st;

	b->rootfs_fd = openat(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (b->rootfs_fd < 0 || fstat(b->rootfs_fd, &st) < 0)
		return ward_error_sys(err, "%s", what);
	free(b->rootfs);
	b->rootfs = ward_xasprintf("/proc/self/fd/%d", b->rootfs_fd);
	return 0;
}

/* A directory that extraction trusts must be the running user's, and no
 * one else may write to it: whoever could would rename the verified tree
 * away and put another in its place, or read what is being checked. */
static int private_dir(int fd, const char *path, bool make_private, ward_error_t *err)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return ward_error_sys(err, "%s", path);
	if (st.st_uid != geteuid())
		return ward_error_set(err, EPERM,
				      "%s belongs to uid %u, not to the user running ward "
				      "(uid %u): refused (bundles are extracted there after "
				      "they are verified; remove it, or choose another "
				      "--state-dir)",
				      path, (unsigned)st.st_uid, (unsigned)geteuid());
	if ((st.st_mode & 07777) == 0700 || (!make_private && !(st.st_mode & 022)))
		return 0;
	if (!make_private)
		return ward_error_set(err, EPERM,
				      "%s can be changed by others (mode %04o): refused (chmod "
				      "go-w it, or choose another --state-dir)",
				      path, (unsigned)(st.st_mode & 07777));
	if (fchmod(fd, 0700) < 0)
		return ward_error_sys(err, "making %s private", path);
	return 0;
}

/* ------------------------------------------------------------ opening */

bool ward_bundle_looks_like(const char *path)
{
	struct stat st;
	size_t n = strlen(path);
	cleanup_free char *m = NULL, *r = NULL;

	if (n > 5 && strcmp(path + n - 5, ".ward") == 0)
		return true;
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return false;
	m = ward_xasprintf("%s/manifest", path);
	r = ward_xasprintf("%s/rootfs", path);
	return stat(m, &st) == 0 && S_ISREG(st.st_mode) && stat(r, &st) == 0 && S_ISDIR(st.st_mode);
}

static int check_digest(struct ward_bundle *b, const uint8_t got[32], ward_error_t *err)
{
	char want_s[72], got_s[72];

	if (sodium_memcmp(got, b->manifest.rootfs_digest, 32) == 0)
		return 0;
	ward_digest_format(b->manifest.rootfs_digest, want_s);
	ward_digest_format(got, got_s);
	return ward_error_set(err, EBADMSG,
			      "%s: the root filesystem does not match the manifest: the manifest "
			      "binds %s, the bundle holds %s (a file, mode, owner or link was "
			      "changed, added or removed after the manifest was made; `ward bundle "
			      "digest` lists a tree)",
			      b->path, want_s, got_s);
}

static int open_dir_bundle(struct ward_bundle *b, ward_error_t *err)
{
	cleanup_close int dfd = -1, rfd = -1;
	cleanup_free char *mwhat = NULL;
	struct dirent *de;
	DIR *d;
	int lfd;

	dfd = open(b->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return ward_error_sys(err, "bundle %s", b->path);
	mwhat = ward_xasprintf("%s/manifest", b->path);
	if (read_at(dfd, "manifest", mwhat, WARD_BUNDLE_MANIFEST_MAX, &b->manifest_text,
		    &b->manifest_len, err) < 0)
		return -1;
	lfd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = lfd >= 0 ? fdopendir(lfd) : NULL;
	if (d == NULL) {
		if (lfd >= 0)
			close(lfd);
		return ward_error_sys(err, "listing %s", b->path);
	}
	while ((de = readdir(d)) != NULL) {
		struct ward_bundle_sigfile *s;
		cleanup_free char *what = NULL;

		if (!is_signame(de->d_name))
			continue;
		if (b->n_sigs >= WARD_BUNDLE_MAX_SIGS) {
			closedir(d);
			return ward_error_set(err, E2BIG, "%s: more than %u signatures", b->path,
					      WARD_BUNDLE_MAX_SIGS);
		}
		what = ward_xasprintf("%s/%s", b->path, de->d_name);
		b->sigs = ward_xrealloc(b->sigs, (b->n_sigs + 1) * sizeof(*b->sigs));
		s = &b->sigs[b->n_sigs];
		memset(s, 0, sizeof(*s));
		if (read_at(dfd, de->d_name, what, WARD_SIGFILE_MAX, &s->text, &s->len, err) < 0) {
			closedir(d);
			return -1;
		}
		s->name = ward_xstrdup(de->d_name);
		b->n_sigs++;
	}
	closedir(d);
	rfd = openat(dfd, "rootfs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rfd < 0)
		return ward_error_sys(err,
				      "%s/rootfs (a bundle directory holds manifest and "
				      "rootfs/)",
				      b->path);
	b->rootfs = ward_xasprintf("%s/rootfs", b->path);
	if (ward_tree_scan(rfd, b->rootfs, NULL, &b->tree, err) < 0)
		return -1;
	return pin_rootfs(b, rfd, b->rootfs, err);
}

static int cmp_sig(const void *a, const void *b)
{
	return strcmp(((const struct ward_bundle_sigfile *)a)->name,
		      ((const struct ward_bundle_sigfile *)b)->name);
}

int ward_bundle_open(const char *path, struct ward_bundle *b, ward_error_t *err)
{
	struct stat st;

	memset(b, 0, sizeof(*b));
	b->fd = b->rootfs_fd = b->base_fd = -1;
	b->path = ward_xstrdup(path);
	if (sodium_init() < 0)
		return ward_error_set(err, EIO, "libsodium could not be initialised");
	if (stat(path, &st) < 0)
		return ward_error_sys(err, "bundle %s", path);
	if (S_ISDIR(st.st_mode)) {
		b->is_dir = true;
		b->origin = ward_xasprintf("%s/manifest", path);
		if (open_dir_bundle(b, err) < 0)
			return escape_error(err);
	} else if (S_ISREG(st.st_mode)) {
		struct tar_pass tp = {.b = b, .keep_meta = true};
		int rc;

		b->origin = ward_xasprintf("%s:manifest", path);
		/* O_NONBLOCK and fstat: a file swapped for a fifo after the stat
		 * above is refused, not waited on. */
		b->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (b->fd < 0)
			return ward_error_sys(err, "bundle %s", path);
		if (fstat(b->fd, &st) < 0 || !S_ISREG(st.st_mode))
			return ward_error_set(err, EINVAL, "bundle %s: not a regular file", path);
		ward_tar_reader_init(&tp.r, b->fd);
		tp.r.what = b->path;
		rc = tar_pass_run(&tp, err);
		if (rc == 0) {
			b->tree = tp.tree;
			memset(&tp.tree, 0, sizeof(tp.tree));
		}
		tar_pass_free(&tp);
		if (rc < 0)
			return escape_error(err);
	} else {
		return ward_error_set(err, EINVAL,
				      "bundle %s: neither a .ward file nor a bundle directory",
				      path);
	}
	if (b->n_sigs > 1)
		qsort(b->sigs, b->n_sigs, sizeof(*b->sigs), cmp_sig);
	if (ward_manifest_parse(b->manifest_text, b->manifest_len, b->origin, &b->manifest, err) <
	    0)
		return escape_error(err);
	ward_tree_digest(&b->tree, b->digest);
	return check_digest(b, b->digest, err);
}

/* Leftovers of ward processes that died without cleaning up. */
static void sweep_stale(int dfd)
{
	struct dirent *de;
	DIR *d;
	int lfd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (lfd < 0)
		return;
	d = fdopendir(lfd);
	if (d == NULL) {
		close(lfd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		char *end = NULL;
		long pid = strtol(de->d_name, &end, 10);

		if (pid <= 0 || end == NULL || *end != '-')
			continue;
		if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
			ward_remove_tree_at(dirfd(d), de->d_name, NULL);
	}
	closedir(d);
}

/* Will the tree fit?  Checked before anything is written, so that a large
 * bundle fails with a message instead of filling the file system (/run is
 * usually a tmpfs: memory) for the host's other services.  5% of the file
 * system stays free. */
static int check_room(const struct ward_bundle *b, int dfd, const char *where, ward_error_t *err)
{
	struct statvfs sv;
	uint64_t need, have, reserve;

	if (fstatvfs(dfd, &sv) < 0)
		return ward_error_sys(err, "%s", where);
	/* Contents, plus a block for each entry's metadata. */
	need = b->tree.total_bytes + (uint64_t)b->tree.n * 4096;
	have = (uint64_t)sv.f_bavail * sv.f_frsize;
	reserve = (uint64_t)sv.f_blocks * sv.f_frsize / 20;
	if (have < reserve || need > have - reserve)
		return ward_error_set(err, ENOSPC,
				      "%s: the root filesystem (%llu bytes in %zu entries) does "
				      "not fit in %s (%llu bytes free, 5%% of it kept free); "
				      "give a --state-dir with room",
				      b->path, (unsigned long long)b->tree.total_bytes, b->tree.n,
				      where, (unsigned long long)have);
	if (sv.f_files > 0 && ((uint64_t)sv.f_favail < sv.f_files / 20 ||
			       (uint64_t)b->tree.n > sv.f_favail - sv.f_files / 20))
		return ward_error_set(err, ENOSPC,
				      "%s: the root filesystem has %zu entries; %s has %llu free "
				      "inodes (5%% of them kept free): give a --state-dir with "
				      "room",
				      b->path, b->tree.n, where, (unsigned long long)sv.f_favail);
	return 0;
}

int ward_bundle_extract(struct ward_bundle *b, const char *state_dir, ward_error_t *err)
{
	struct tar_pass tp = {.b = b};
	struct ward_extract x = {.rootfd = -1};
	const char *state = state_dir;
	cleanup_free char *own_state = NULL;
	cleanup_free char *base = NULL, *tmpl = NULL;
	cleanup_close int sfd = -1, tfd = -1;
	uint8_t digest[32];
	int rc = -1;

	if (b->is_dir)
		return 0;
	if (state == NULL) {
		/* /run/ward, or the user's own (lib/rootless.c), made and checked. */
		own_state = ward_default_state_dir(err);
		if (own_state == NULL)
			return -1;
		state = own_state;
	}
	base = ward_xasprintf("%s/bundles", state);
	if (mkdir(state, 0755) < 0 && errno != EEXIST)
		return ward_error_sys(err, "creating %s", state);
	sfd = open(state, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0)
		return ward_error_sys(err, "%s", state);
	if (private_dir(sfd, state, false, err) < 0)
		return -1;
	/* 0700: nobody else may look at, or change, what is being verified. */
	if (mkdirat(sfd, "bundles", 0700) < 0 && errno != EEXIST)
		return ward_error_sys(err, "creating %s", base);
	b->base_fd = openat(sfd, "bundles", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (b->base_fd < 0)
		return ward_error_sys(err, "%s", base);
	if (private_dir(b->base_fd, base, true, err) < 0)
		return -1;
	sweep_stale(b->base_fd);
	if (check_room(b, b->base_fd, base, err) < 0)
		return -1;
	/* mkdtemp needs a path; the directory is then opened beneath the
	 * descriptor and checked to be the one just made (ours, 0700). */
	tmpl = ward_xasprintf("%d-XXXXXX", (int)getpid());
	{
		cleanup_free char *full = ward_xasprintf("/proc/self/fd/%d/%s", b->base_fd, tmpl);
		struct stat st;

		if (mkdtemp(full) == NULL)
			return ward_error_sys(err, "creating a directory in %s", base);
		b->tmpname = ward_xstrdup(full + strlen(full) - strlen(tmpl));
		b->tmpdir = ward_xasprintf("%s/%s", base, b->tmpname);
		tfd = openat(b->base_fd, b->tmpname,
			     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (tfd < 0 || fstat(tfd, &st) < 0)
			return ward_error_sys(err, "%s", b->tmpdir);
		if (st.st_uid != geteuid() || (st.st_mode & 07777) != 0700)
			return ward_error_set(err, EPERM, "%s was replaced while it was made",
					      b->tmpdir);
	}
	if (mkdirat(tfd, "rootfs", 0700) < 0)
		return ward_error_sys(err, "%s", b->tmpdir);
	x.rootfd = openat(tfd, "rootfs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (x.rootfd < 0)
		return ward_error_sys(err, "%s/rootfs", b->tmpdir);
	x.what = b->path;
	tp.x = &x;
	if (lseek(b->fd, 0, SEEK_SET) < 0) {
		ward_error_sys(err, "%s", b->path);
		goto out;
	}
	ward_tar_reader_init(&tp.r, b->fd);
	tp.r.what = b->path;
	if (tar_pass_run(&tp, err) < 0 || ward_extract_finish(&x, err) < 0) {
		escape_error(err);
		goto out;
	}
	ward_tree_digest(&tp.tree, digest);
	if (check_digest(b, digest, err) < 0)
		goto out;
	if (pin_rootfs(b, x.rootfd, b->tmpdir, err) < 0)
		goto out;
	rc = 0;
out:
	tar_pass_free(&tp);
	close(x.rootfd);
	ward_extract_free(&x);
	return rc;
}

void ward_bundle_close(struct ward_bundle *b)
{
	size_t i;

	if (b == NULL)
		return;
	/* Only a bundle that went through ward_bundle_open owns descriptors. */
	if (b->path) {
		if (b->rootfs_fd >= 0)
			close(b->rootfs_fd);
		if (b->base_fd >= 0 && b->tmpname)
			ward_remove_tree_at(b->base_fd, b->tmpname, NULL);
		if (b->base_fd >= 0)
			close(b->base_fd);
		if (b->fd >= 0)
			close(b->fd);
	}
	for (i = 0; i < b->n_sigs; i++) {
		free(b->sigs[i].name);
		free(b->sigs[i].text);
	}
	free(b->sigs);
	free(b->path);
	free(b->rootfs);
	free(b->tmpdir);
	free(b->tmpname);
	free(b->manifest_text);
	free(b->origin);
	ward_manifest_free(&b->manifest);
	ward_tree_free(&b->tree);
	memset(b, 0, sizeof(*b));
	b->fd = b->rootfs_fd = b->base_fd = -1;
}

/* ------------------------------------------------------------ signatures and trust */

void ward_signers_free(struct ward_signer *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(s[i].file);
		free(s[i].role);
		free(s[i].trusted_comment);
		free(s[i].problem);
	}
	free(s);
}

static bool printable_role(const char *r)
{
	size_t i, n = strlen(r);

	if (n > 64)
		return false;
	for (i = 0; i < n; i++)
		if (!((r[i] >= 'a' && r[i] <= 'z') || (r[i] >= '0' && r[i] <= '9') || r[i] == '-' ||
		      r[i] == '_'))
			return false;
	return true;
}

/* Take the message of err (escaped: it may quote the bundle) and free it. */
static char *take_problem(ward_error_t *err)
{
	char *p = ward_escape(*err ? (*err)->msg : "?", 512);

	ward_error_free(err);
	return p;
}

int ward_bundle_signers(const struct ward_bundle *b, const struct ward_trust *t,
			const struct ward_pubkey *extra, size_t n_extra, time_t now,
			struct ward_signer **out, size_t *n_out, ward_error_t *err)
{
	struct ward_signer *list = ward_xcalloc(b->n_sigs ? b->n_sigs : 1, sizeof(*list));
	size_t i, j;

	(void)err;
	for (i = 0; i < b->n_sigs; i++) {
		const struct ward_bundle_sigfile *f = &b->sigs[i];
		struct ward_signer *s = &list[i];
		struct ward_signature sig;
		const struct ward_trust_key *k = NULL;
		const struct ward_pubkey *pk = NULL;
		cleanup_free char *ts = NULL;
		ward_error_t why = NULL;
		bool candidates = false;

		s->file = ward_xstrdup(f->name);
		/* A file that is not a signature is reported and ignored: whoever
		 * can add a file to the bundle could otherwise have it refused. */
		if (ward_signature_parse(f->text, f->len, f->name, &sig, &why) < 0) {
			s->status = WARD_SIGNER_MALFORMED;
			s->role = ward_xstrdup("");
			s->trusted_comment = ward_xstrdup("");
			s->problem = take_problem(&why);
			continue;
		}
		ward_keyid_hex(sig.keyid, s->keyid);
		s->alg = sig.alg;
		s->trusted_comment = ward_xstrdup(sig.trusted_comment);
		s->role = ward_trusted_comment_field(sig.trusted_comment, "role");
		if (s->role == NULL)
			s->role = ward_xstrdup("");
		else if (!printable_role(s->role)) {
			free(s->role);
			s->role = ward_xstrdup("invalid");
		}
		ts = ward_trusted_comment_field(sig.trusted_comment, "timestamp");
		if (ts) {
			uint64_t v;

			if (ward_parse_u64(ts, &v) == 0 && v < (1ULL << 40))
				s->timestamp = (time_t)v;
		}
		/* Key ids are chosen by the maker of a key: try every key of the
		 * policy with this id, and use the one the signature verifies
		 * with.  A signature that verifies with none is ignored. */
		for (j = 0; t && j < t->n_keys && k == NULL; j++) {
			if (memcmp(t->keys[j].pk.keyid, sig.keyid, WARD_KEYID_BYTES) != 0)
				continue;
			if (!candidates)
				s->key = &t->keys[j];
			candidates = true;
			ward_error_free(&why);
			if (ward_verify(&t->keys[j].pk, &sig, b->manifest_text, b->manifest_len,
					&why) == 0)
				k = &t->keys[j];
		}
		if (k == NULL && !candidates) {
			for (j = 0; j < n_extra && pk == NULL; j++) {
				if (memcmp(extra[j].keyid, sig.keyid, WARD_KEYID_BYTES) != 0)
					continue;
				candidates = true;
				ward_error_free(&why);
				if (ward_verify(&extra[j], &sig, b->manifest_text, b->manifest_len,
						&why) == 0)
					pk = &extra[j];
			}
		}
		ward_signature_free(&sig);
		if (k == NULL && pk == NULL) {
			if (candidates) {
				s->status = WARD_SIGNER_INVALID;
				s->problem = take_problem(&why);
			} else {
				s->status = WARD_SIGNER_UNKNOWN;
			}
			continue;
		}
		ward_error_free(&why);
		s->key = k;
		if (k == NULL)
			s->status = WARD_SIGNER_VERIFIED;
		else if (k->revoked)
			s->status = WARD_SIGNER_REVOKED;
		else if (k->expires && now >= k->expires)
			s->status = WARD_SIGNER_EXPIRED;
		else
			s->status = WARD_SIGNER_TRUSTED;
	}
	*out = list;
	*n_out = b->n_sigs;
	return 0;
}

/* ------------------------------------------------------------ the policy file */

const char *ward_trust_default_path(void)
{
	static char *own;
	const char *env = getenv("WARD_TRUST");
	const char *cfg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");

	if (env && env[0])
		return env;
	if (!ward_rootless())
		return WARD_TRUST_DEFAULT;
	/* An ordinary user's own policy, for their own bundles; bounded by the
	 * system's (ward_trust_check_bound). */
	if (own == NULL && cfg && cfg[0] == '/')
		own = ward_xasprintf("%s/ward/trust", cfg);
	else if (own == NULL && home && home[0] == '/')
		own = ward_xasprintf("%s/.config/ward/trust", home);
	return own ? own : WARD_TRUST_DEFAULT;
}

int ward_trust_check_bound(const struct ward_bundle *b, const char *used,
			   const struct ward_request_list *reqs, ward_error_t *err)
{
	struct ward_trust sys = {0};
	struct ward_trust_report rep = {0};
	struct ward_signer *signers = NULL;
	/* $WARD_TRUST_SYSTEM names another bounding file (tests).  It is no
	 * way around anything: the bound protects the user from bundles'
	 * signers, and the user may grant their own sandboxes anything with
	 * --allow. */
	const char *bound = getenv("WARD_TRUST_SYSTEM");
	size_t n_signers = 0;
	struct stat st;
	int rc;

	if (bound == NULL || bound[0] != '/')
		bound = WARD_TRUST_DEFAULT;
	if (!ward_rootless() || reqs->n == 0 || (used && strcmp(used, bound) == 0) ||
	    stat(bound, &st) < 0)
		return 0;
	if (ward_trust_load(bound, &sys, err) < 0)
		return ward_error_wrap(err, "the system's trust policy bounds yours");
	rc = ward_bundle_signers(b, &sys, NULL, 0, time(NULL), &signers, &n_signers, err);
	if (rc == 0)
		rc = ward_trust_decide(&sys, signers, n_signers, reqs, &rep, err);
	if (rc < 0)
		ward_error_wrap(err, "%s: %s bounds your trust policy (%s) and does not grant it",
				b->path, bound, used ? used : "?");
	ward_trust_report_free(&rep);
	ward_signers_free(signers, n_signers);
	ward_trust_free(&sys);
	return rc < 0 ? -1 : 0;
}

int ward_trust_load(const char *path, struct ward_trust *t, ward_error_t *err)
{
	cleanup_close int fd = -1, dfd = -1;
	cleanup_free char *text = NULL;
	struct stat st;
	ssize_t n;

	memset(t, 0, sizeof(*t));
	if (path == NULL)
		path = ward_trust_default_path();
	/* The directory too: whoever can write to it can put another file in
	 * the policy's place.  Open the file beneath the checked directory.
	 * A sticky directory (/tmp) lets no one else replace root's file. */
	{
		cleanup_free char *copy = ward_xstrdup(path);
		const char *dir = dirname(copy);
		uid_t me = geteuid();

		dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			if (fstat(dfd, &st) < 0)
				return ward_error_sys(err, "trust policy %s", path);
			/* An ordinary user's own policy may live in their own
			 * directory; nobody else's. */
			if ((st.st_uid != 0 && st.st_uid != me) ||
			    ((st.st_mode & 022) && !(st.st_mode & S_ISVTX)))
				return ward_error_set(
					err, EPERM,
					"trust policy %s: its directory %s can be changed by "
					"others "
					"than %s (owner uid %u, mode %04o): refused (chown it "
					"and chmod go-w it)",
					path, dir, me ? "you or root" : "root", (unsigned)st.st_uid,
					(unsigned)(st.st_mode & 07777));
		}
	}
	if (dfd >= 0) {
		cleanup_free char *copy = ward_xstrdup(path);

		/* No link: its target's directory would go unchecked. */
		fd = openat(dfd, basename(copy),
			    O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
		if (fd < 0 && errno == ELOOP)
			return ward_error_set(err, ELOOP,
					      "trust policy %s is a symbolic link: refused (name "
					      "the file itself)",
					      path);
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	}
	if (fd < 0) {
		if (errno == ENOENT)
			return ward_error_set(err, ENOENT,
					      "no trust policy at %s: no key is trusted, so no "
					      "bundle may run (trust one: ward trust add --key "
					      "PUBLISHER.pub --may ENTITLEMENTS)",
					      path);
		return ward_error_sys(err, "trust policy %s", path);
	}
	if (fstat(fd, &st) < 0)
		return ward_error_sys(err, "trust policy %s", path);
	if (!S_ISREG(st.st_mode))
		return ward_error_set(err, EINVAL, "trust policy %s: not a regular file", path);
	/* Whoever can change the policy decides what bundles may do: as root,
	 * accept only a file that root alone can change (as sudo does); as an
	 * ordinary user, a file of theirs or root's that no one else can change
	 * (another user who could would grant bundles anything in the user's
	 * sandboxes), as its directory above. */
	if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & 022))
		return ward_error_set(err, EPERM,
				      "trust policy %s can be changed by others than %s (owner "
				      "uid %u, mode %04o): refused (%s and chmod go-w it)",
				      path, geteuid() ? "you or root" : "root", (unsigned)st.st_uid,
				      (unsigned)(st.st_mode & 07777),
				      geteuid() ? "chown it to yourself" : "chown root");
	if ((uint64_t)st.st_size > WARD_TRUST_MAX)
		return ward_error_set(err, EFBIG, "trust policy %s: larger than %u bytes", path,
				      WARD_TRUST_MAX);
	text = ward_xmalloc(WARD_TRUST_MAX + 1);
	n = ward_read_all(fd, text, WARD_TRUST_MAX + 1);
	if (n < 0)
		return ward_error_sys(err, "reading %s", path);
	return ward_trust_parse(text, (size_t)n, path, t, err);
}
