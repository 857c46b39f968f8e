/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Writing: bundles, signatures into bundles, and the trust policy.  Every
 * file is written to a temporary name in its directory and renamed into
 * place, so a reader sees the old file or the new one, never half of one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../util.h"
#include "bundle.h"

/* ------------------------------------------------------------ atomic files */

struct tmpfile {
	char *path; /* temporary name, NULL once renamed */
	int fd;
};

static int tmp_open(const char *path, struct tmpfile *t, ward_error_t *err)
{
	t->path = ward_xasprintf("%s.tmp-XXXXXX", path);
	t->fd = mkostemp(t->path, O_CLOEXEC);
	if (t->fd < 0) {
		int e = errno;

		free(t->path);
		t->path = NULL;
		errno = e;
		return ward_error_sys(err, "creating a file next to %s", path);
	}
	return 0;
}

static void tmp_discard(struct tmpfile *t)
{
	if (t->fd >= 0)
		close(t->fd);
	if (t->path)
		unlink(t->path);
	free(t->path);
	t->path = NULL;
	t->fd = -1;
}

static int tmp_commit(struct tmpfile *t, const char *path, mode_t mode, bool replace,
		      ward_error_t *err)
{
	if (fchmod(t->fd, mode) < 0 || fsync(t->fd) < 0)
		return ward_error_sys(err, "writing %s", path);
	if (close(t->fd) < 0) {
		t->fd = -1;
		return ward_error_sys(err, "writing %s", path);
	}
	t->fd = -1;
	if (renameat2(AT_FDCWD, t->path, AT_FDCWD, path, replace ? 0 : RENAME_NOREPLACE) < 0) {
		if (errno == EEXIST)
			return ward_error_set(err, EEXIST, "%s exists (--force replaces it)", path);
		return ward_error_sys(err, "renaming into %s", path);
	}
	free(t->path);
	t->path = NULL;
	return 0;
}

int ward_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
			   bool replace, ward_error_t *err)
{
	struct tmpfile t = {.fd = -1};

	if (tmp_open(path, &t, err) < 0)
		return -1;
	if (ward_write_all(t.fd, data, len) < 0) {
		ward_error_sys(err, "writing %s", path);
		goto fail;
	}
	if (tmp_commit(&t, path, mode, replace, err) < 0)
		goto fail;
	return 0;
fail:
	tmp_discard(&t);
	return -1;
}

/* ------------------------------------------------------------ creating bundles */

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Copy a scanned file into the archive, hashing it again: a file that
 * changed since the scan would make a bundle that fails verification. */
static int tar_file(struct ward_tar_writer *w, int srcfd, const struct ward_tree_entry *e,
		    const char *what, ward_error_t *err)
{
	cleanup_close int fd = -1;
	crypto_hash_sha256_state h;
	uint8_t got[32];
	char buf[65536];
	uint64_t n = 0;

	fd = ward_openat_beneath(srcfd, e->path + 1, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
				 0);
	if (fd < 0)
		return ward_error_sys(err, "%s: opening %s", what, e->path);
	crypto_hash_sha256_init(&h);
	while (n < e->size) {
		size_t want = e->size - n > sizeof(buf) ? sizeof(buf) : (size_t)(e->size - n);
		ssize_t r = ward_read_all(fd, buf, want);

		if (r < 0)
			return ward_error_sys(err, "%s: reading %s", what, e->path);
		if ((size_t)r != want)
			break;
		crypto_hash_sha256_update(&h, (const unsigned char *)buf, (unsigned long long)r);
		if (ward_tar_write_data(w, buf, (size_t)r, err) < 0)
			return -1;
		n += (uint64_t)r;
	}
	crypto_hash_sha256_final(&h, got);
	if (n != e->size || read(fd, buf, 1) != 0 || sodium_memcmp(got, e->sha256, 32) != 0)
		return ward_error_set(err, EAGAIN, "%s: %s changed while the bundle was made", what,
				      e->path);
	return ward_tar_write_pad(w, e->size, err);
}

static int write_tar_bundle(const struct ward_bundle_create_opts *o, int srcfd,
			    const struct ward_tree *t, const char *manifest, size_t mlen,
			    ward_error_t *err)
{
	struct tmpfile tf = {.fd = -1};
	struct ward_tar_writer w;
	struct ward_tar_entry me = {.path = "manifest", .type = '0', .mode = 0644};
	size_t i;

	if (tmp_open(o->out, &tf, err) < 0)
		return -1;
	w.fd = tf.fd;
	w.offset = 0;
	me.size = mlen;
	if (ward_tar_write_header(&w, &me, err) < 0 ||
	    ward_tar_write_data(&w, manifest, mlen, err) < 0 ||
	    ward_tar_write_pad(&w, mlen, err) < 0)
		goto fail;
	for (i = 0; i < t->n; i++) {
		const struct ward_tree_entry *e = &t->items[i];
		cleanup_free char *name = NULL;
		struct ward_tar_entry te = {.mode = e->mode, .uid = e->uid, .gid = e->gid};

		if (strcmp(e->path, "/") == 0)
			name = ward_xstrdup("rootfs/");
		else
			name = ward_xasprintf("rootfs%s%s", e->path, e->type == 'd' ? "/" : "");
		te.path = name;
		te.type = e->type == 'd' ? '5' : e->type == 'l' ? '2' : '0';
		te.linkname = e->target;
		te.size = e->type == 'f' ? e->size : 0;
		if (ward_tar_write_header(&w, &te, err) < 0)
			goto fail;
		if (e->type == 'f' && tar_file(&w, srcfd, e, o->rootfs, err) < 0)
			goto fail;
	}
	if (ward_tar_write_end(&w, err) < 0 || tmp_commit(&tf, o->out, 0644, o->force, err) < 0)
		goto fail;
	return 0;
fail:
	tmp_discard(&tf);
	return -1;
}

static ssize_t fd_readfn(void *ctx, void *buf, size_t len, ward_error_t *err)
{
	ssize_t r;

	do
		r = read(*(int *)ctx, buf, len);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return ward_error_sys(err, "reading");
	return r;
}

static int write_dir_bundle(const struct ward_bundle_create_opts *o, int srcfd,
			    const struct ward_tree *t, const char *manifest, size_t mlen,
			    ward_error_t *err)
{
	struct ward_extract x = {.rootfd = -1, .what = o->out};
	cleanup_close int dfd = -1;
	cleanup_free char *mpath = NULL;
	size_t i;
	int rc = -1;

	if (mkdir(o->out, 0755) < 0) {
		if (errno == EEXIST)
			return ward_error_set(
				err, EEXIST,
				"%s exists (remove it first: ward does not write into "
				"an existing directory)",
				o->out);
		return ward_error_sys(err, "creating %s", o->out);
	}
	dfd = open(o->out, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0 || mkdirat(dfd, "rootfs", 0700) < 0) {
		ward_error_sys(err, "%s", o->out);
		goto out;
	}
	x.rootfd = openat(dfd, "rootfs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (x.rootfd < 0) {
		ward_error_sys(err, "%s/rootfs", o->out);
		goto out;
	}
	for (i = 0; i < t->n; i++) {
		struct ward_tree_entry e = t->items[i];
		cleanup_close int fd = -1;

		if (e.type == 'f') {
			fd = ward_openat_beneath(srcfd, e.path + 1,
						 O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0);
			if (fd < 0) {
				ward_error_sys(err, "%s: opening %s", o->rootfs, e.path);
				goto out;
			}
		}
		if (ward_extract_entry(&x, &e, NULL, fd_readfn, &fd, err) < 0)
			goto out;
		if (e.type == 'f' && (e.size != t->items[i].size ||
				      sodium_memcmp(e.sha256, t->items[i].sha256, 32) != 0)) {
			ward_error_set(err, EAGAIN, "%s: %s changed while the bundle was made",
				       o->rootfs, e.path);
			goto out;
		}
	}
	if (ward_extract_finish(&x, err) < 0)
		goto out;
	mpath = ward_xasprintf("%s/manifest", o->out);
	if (ward_write_file_atomic(mpath, manifest, mlen, 0644, false, err) < 0)
		goto out;
	rc = 0;
out:
	if (x.rootfd >= 0)
		close(x.rootfd);
	ward_extract_free(&x);
	if (rc < 0)
		ward_remove_tree_at(AT_FDCWD, o->out, NULL);
	return rc;
}

int ward_bundle_create(const struct ward_bundle_create_opts *o, uint8_t digest[32],
		       size_t *n_entries, ward_error_t *err)
{
	struct ward_manifest_input in = *o->manifest;
	struct ward_tree t = {0};
	cleanup_close int srcfd = -1;
	cleanup_free char *manifest = NULL;
	size_t mlen = 0;
	int rc = -1;

	srcfd = open(o->rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (srcfd < 0)
		return ward_error_sys(err, "--rootfs %s", o->rootfs);
	if (ward_tree_scan(srcfd, o->rootfs, &o->scan, &t, err) < 0)
		goto out;
	ward_tree_digest(&t, digest);
	in.rootfs_digest = digest;
	manifest = ward_manifest_compose(&in, &mlen, err);
	if (manifest == NULL)
		goto out;
	if (ends_with(o->out, ".ward"))
		rc = write_tar_bundle(o, srcfd, &t, manifest, mlen, err);
	else
		rc = write_dir_bundle(o, srcfd, &t, manifest, mlen, err);
	if (n_entries)
		*n_entries = t.n;
out:
	ward_tree_free(&t);
	return rc;
}

/* ------------------------------------------------------------ adding a signature */

static int copy_entry(struct ward_tar_reader *r, struct ward_tar_writer *w, ward_error_t *err)
{
	char buf[65536];
	ssize_t n;

	if (ward_tar_write_header(w, &r->cur, err) < 0)
		return -1;
	if (r->cur.type != '0' && r->cur.type != '7')
		return 0;
	while ((n = ward_tar_read(r, buf, sizeof(buf), err)) > 0)
		if (ward_tar_write_data(w, buf, (size_t)n, err) < 0)
			return -1;
	if (n < 0)
		return -1;
	return ward_tar_write_pad(w, r->cur.size, err);
}

static int write_sig_entry(struct ward_tar_writer *w, const char *signame, const char *text,
			   ward_error_t *err)
{
	struct ward_tar_entry e = {
		.path = (char *)signame,
		.type = '0',
		.mode = 0644,
		.size = strlen(text),
	};

	if (ward_tar_write_header(w, &e, err) < 0 ||
	    ward_tar_write_data(w, text, strlen(text), err) < 0)
		return -1;
	return ward_tar_write_pad(w, e.size, err);
}

static bool member_is(const char *path, const char *name)
{
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	return strcmp(path, name) == 0;
}

static bool member_in_rootfs(const char *path)
{
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	return strcmp(path, "rootfs") == 0 || ward_str_has_prefix(path, "rootfs/");
}

int ward_bundle_add_signature(const char *path, const char *signame, const char *sigtext,
			      ward_error_t *err)
{
	struct ward_tar_reader r;
	struct ward_tar_writer w;
	struct tmpfile tf = {.fd = -1};
	cleanup_close int fd = -1;
	struct stat st;
	bool written = false;
	int rc;

	if (stat(path, &st) < 0)
		return ward_error_sys(err, "bundle %s", path);
	if (S_ISDIR(st.st_mode)) {
		cleanup_free char *p = ward_xasprintf("%s/%s", path, signame);

		return ward_write_file_atomic(p, sigtext, strlen(sigtext), 0644, true, err);
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ward_error_sys(err, "bundle %s", path);
	if (tmp_open(path, &tf, err) < 0)
		return -1;
	w.fd = tf.fd;
	w.offset = 0;
	ward_tar_reader_init(&r, fd);
	r.what = path;
	/* The new signature goes after the manifest and the other signatures,
	 * before the root filesystem; one by the same name is replaced. */
	while ((rc = ward_tar_next(&r, err)) > 0) {
		if (member_is(r.cur.path, signame))
			continue;
		if (!written && member_in_rootfs(r.cur.path)) {
			if (write_sig_entry(&w, signame, sigtext, err) < 0)
				goto fail;
			written = true;
		}
		if (copy_entry(&r, &w, err) < 0)
			goto fail;
	}
	if (rc < 0)
		goto fail;
	if (!written && write_sig_entry(&w, signame, sigtext, err) < 0)
		goto fail;
	if (ward_tar_write_end(&w, err) < 0 ||
	    tmp_commit(&tf, path, st.st_mode & 0777, true, err) < 0)
		goto fail;
	ward_tar_reader_free(&r);
	return 0;
fail:
	ward_tar_reader_free(&r);
	tmp_discard(&tf);
	return ward_error_wrap(err, "adding %s to %s", signame, path);
}

/* ------------------------------------------------------------ the trust policy */

struct lines {
	char **v;
	size_t n;
};

static void lines_free(struct lines *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static void lines_split(struct lines *l, const char *text, size_t len)
{
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - text - pos) : len - pos;

		l->v = ward_xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
		l->v[l->n] = strndup(text + pos, n);
		if (l->v[l->n] == NULL)
			abort();
		l->n++;
		pos += n + 1;
	}
}

static char *lines_join(const struct lines *l, size_t *len)
{
	char *out = ward_xstrdup("");
	size_t i;

	for (i = 0; i < l->n; i++) {
		char *next;

		if (l->v[i] == NULL)
			continue;
		next = ward_xasprintf("%s%s\n", out, l->v[i]);
		free(out);
		out = next;
	}
	*len = strlen(out);
	return out;
}

/* Lock the policy's directory, read and parse the policy (an absent file
 * is an empty policy). */
static int policy_open(const char *path, bool create_dir, int *lockfd, struct lines *l,
		       struct ward_trust *t, ward_error_t *err)
{
	cleanup_free char *copy = ward_xstrdup(path);
	cleanup_free char *text = NULL;
	const char *dir = dirname(copy);
	size_t len = 0;
	int r;

	if (create_dir && mkdir(dir, 0755) < 0 && errno != EEXIST)
		return ward_error_sys(err, "creating %s", dir);
	*lockfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*lockfd < 0)
		return ward_error_sys(err, "%s", dir);
	/* Two edits at once would lose one: serialise on the directory. */
	if (flock(*lockfd, LOCK_EX) < 0)
		return ward_error_sys(err, "locking %s", dir);
	r = ward_read_file(path, &text, &len);
	if (r == -ENOENT) {
		text = ward_xstrdup("");
		len = 0;
	} else if (r < 0) {
		errno = -r;
		return ward_error_sys(err, "reading %s", path);
	}
	if (ward_trust_parse(text, len, path, t, err) < 0)
		return ward_error_wrap(err, "the trust policy has an error; fix it first");
	lines_split(l, text, len);
	return 0;
}

static int policy_commit(const char *path, const struct lines *l, ward_error_t *err)
{
	struct ward_trust check;
	size_t len;
	cleanup_free char *text = lines_join(l, &len);

	if (ward_trust_parse(text, len, path, &check, err) < 0)
		return -1;
	ward_trust_free(&check);
	return ward_write_file_atomic(path, text, len, 0644, true, err);
}

/* The key named by e: its public key (--key FILE.pub), or an id or a name,
 * which must be unique (ids are chosen by a key's maker: two keys can share
 * one). */
static const struct ward_trust_key *find_key(const struct ward_trust *t,
					     const struct ward_trust_edit *e, ward_error_t *err)
{
	const struct ward_trust_key *found = NULL;
	uint8_t raw[WARD_KEYID_BYTES];
	const char *id = e->keyid;
	size_t i;

	if (e->pk) {
		found = ward_trust_find_pk(t, e->pk);
		if (found == NULL) {
			char hex[WARD_KEYID_HEXLEN];

			ward_keyid_hex(e->pk->keyid, hex);
			ward_error_set(err, ENOENT, "%s: key %s is not in the policy", t->path,
				       hex);
		}
		return found;
	}
	if (ward_keyid_parse(id, raw) == 0) {
		for (i = 0; i < t->n_keys; i++) {
			if (memcmp(t->keys[i].pk.keyid, raw, WARD_KEYID_BYTES) != 0)
				continue;
			if (found) {
				ward_error_set(err, EINVAL,
					       "%s: keys at lines %u and %u share the id %s: name "
					       "the key with --key FILE.pub",
					       t->path, found->line, t->keys[i].line, id);
				return NULL;
			}
			found = &t->keys[i];
		}
		if (found)
			return found;
	}
	for (i = 0; i < t->n_keys; i++) {
		if (t->keys[i].name && strcmp(t->keys[i].name, id) == 0) {
			if (found) {
				ward_error_set(
					err, EINVAL,
					"%s: several keys are named \"%s\" (lines %u and %u): "
					"give the key id",
					t->path, id, found->line, t->keys[i].line);
				return NULL;
			}
			found = &t->keys[i];
		}
	}
	if (found == NULL)
		ward_error_set(err, ENOENT, "%s: no key %s (see `ward trust list`)", t->path, id);
	return found;
}

static bool word_ok(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0' || strlen(s) > 128)
		return false;
	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || strchr("._-@+", s[i])))
			return false;
	return true;
}

int ward_trust_add(const struct ward_trust_edit *e, ward_error_t *err)
{
	struct ward_trust t = {0};
	struct lines l = {0};
	cleanup_free char *b64 = NULL, *line = NULL;
	const struct ward_trust_key *old;
	int lockfd = -1, rc = -1;
	time_t when;

	if (e->name && !word_ok(e->name))
		return ward_error_set(err, EINVAL, "--name %s: letters, digits and . _ - @ + only",
				      e->name);
	if (e->role &&
	    (strlen(e->role) > 1024 || strspn(e->role, "abcdefghijklmnopqrstuvwxyz"
						       "0123456789-_,") != strlen(e->role)))
		return ward_error_set(
			err, EINVAL,
			"--role %s: role words (lower-case letters, digits, - and _), "
			"comma separated",
			e->role);
	if (e->expires && ward_parse_date(e->expires, &when) < 0)
		return ward_error_set(err, EINVAL, "--expires %s: write YYYY-MM-DD", e->expires);
	if (e->may && (strchr(e->may, ' ') || strchr(e->may, '\t') || strchr(e->may, '#')))
		return ward_error_set(err, EINVAL,
				      "--may \"%s\": patterns are separated by commas, without "
				      "spaces",
				      e->may);
	if (policy_open(e->path, true, &lockfd, &l, &t, err) < 0)
		goto out;
	b64 = ward_pubkey_base64(e->pk);
	line = ward_xasprintf("key %s%s%s%s%s%s%s%s%s", b64, e->name ? " name=" : "",
			      e->name ? e->name : "", e->role ? " role=" : "",
			      e->role ? e->role : "", e->may && e->may[0] ? " may=" : "",
			      e->may && e->may[0] ? e->may : "", e->expires ? " expires=" : "",
			      e->expires ? e->expires : "");
	/* The same public key: its entry is set anew.  Another key with the
	 * same id is another key: it gets its own line. */
	old = ward_trust_find_pk(&t, e->pk);
	if (old) {
		/* Adding a key again sets its entry anew. */
		free(l.v[old->line - 1]);
		l.v[old->line - 1] = steal_pointer(&line);
	} else {
		if (l.n == 0) {
			l.v = ward_xrealloc(l.v, sizeof(*l.v));
			l.v[l.n++] = ward_xstrdup("# ward trust policy: which keys may grant which "
						  "entitlements (docs/bundles.md)");
		}
		l.v = ward_xrealloc(l.v, (l.n + 1) * sizeof(*l.v));
		l.v[l.n++] = steal_pointer(&line);
	}
	rc = policy_commit(e->path, &l, err);
out:
	if (lockfd >= 0)
		close(lockfd);
	lines_free(&l);
	ward_trust_free(&t);
	return rc;
}

int ward_trust_remove(const struct ward_trust_edit *e, ward_error_t *err)
{
	struct ward_trust t = {0};
	struct lines l = {0};
	const struct ward_trust_key *k;
	int lockfd = -1, rc = -1;

	if (policy_open(e->path, false, &lockfd, &l, &t, err) < 0)
		goto out;
	k = find_key(&t, e, err);
	if (k == NULL)
		goto out;
	free(l.v[k->line - 1]);
	l.v[k->line - 1] = NULL;
	rc = policy_commit(e->path, &l, err);
out:
	if (lockfd >= 0)
		close(lockfd);
	lines_free(&l);
	ward_trust_free(&t);
	return rc;
}

int ward_trust_revoke(const struct ward_trust_edit *e, ward_error_t *err)
{
	struct ward_trust t = {0};
	struct lines l = {0};
	const struct ward_trust_key *k;
	int lockfd = -1, rc = -1;
	char today[16];
	time_t now = time(NULL);
	struct tm tm;

	if (e->reason && (strchr(e->reason, '\n') || strlen(e->reason) > 512))
		return ward_error_set(err, EINVAL, "--reason: one line of at most 512 bytes");
	gmtime_r(&now, &tm);
	strftime(today, sizeof(today), "%Y-%m-%d", &tm);
	if (policy_open(e->path, false, &lockfd, &l, &t, err) < 0)
		goto out;
	k = find_key(&t, e, err);
	if (k == NULL)
		goto out;
	if (k->revoked) {
		ward_error_set(err, EALREADY, "%s:%u: key %s is already revoked", t.path, k->line,
			       k->keyid);
		goto out;
	}
	{
		/* Keep the entry (so the key is still recognised) and mark it. */
		char *old = l.v[k->line - 1];
		char *hash = strstr(old, " #");

		if (hash)
			*hash = '\0';
		l.v[k->line - 1] =
			ward_xasprintf("%s revoked=%s%s%s", old, today, e->reason ? "  # " : "",
				       e->reason ? e->reason : "");
		free(old);
	}
	rc = policy_commit(e->path, &l, err);
out:
	if (lockfd >= 0)
		close(lockfd);
	lines_free(&l);
	ward_trust_free(&t);
	return rc;
}

int ward_trust_require(const struct ward_trust_edit *e, ward_error_t *err)
{
	struct ward_trust t = {0};
	struct lines l = {0};
	cleanup_free char *line = NULL;
	int lockfd = -1, rc = -1;
	size_t i;

	if (e->may == NULL || e->by == NULL || e->may[0] == '\0' || e->by[0] == '\0')
		return ward_error_set(err, EINVAL, "write: ward trust require PATTERNS --by ROLES");
	if (strpbrk(e->may, " \t#\n") || strpbrk(e->by, " \t#\n"))
		return ward_error_set(err, EINVAL,
				      "patterns and roles are separated by commas, without "
				      "spaces");
	if (policy_open(e->path, true, &lockfd, &l, &t, err) < 0)
		goto out;
	line = ward_xasprintf("require %s by=%s", e->may, e->by);
	for (i = 0; i < t.n_reqs; i++) {
		if (strcmp(t.reqs[i].text, e->may) == 0) {
			free(l.v[t.reqs[i].line - 1]);
			l.v[t.reqs[i].line - 1] = steal_pointer(&line);
			break;
		}
	}
	if (line) {
		l.v = ward_xrealloc(l.v, (l.n + 1) * sizeof(*l.v));
		l.v[l.n++] = steal_pointer(&line);
	}
	rc = policy_commit(e->path, &l, err);
out:
	if (lockfd >= 0)
		close(lockfd);
	lines_free(&l);
	ward_trust_free(&t);
	return rc;
}
