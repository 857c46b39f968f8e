/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading and writing tar archives: ustar headers, pax extended headers
 * ("x"; "g" is skipped) and GNU long names ("L", "K").  The reader only
 * splits the archive into entries and checks its structure (checksums,
 * numbers, sizes, truncation); what an entry may be is decided by its
 * caller (extract.c).  The writer makes ustar, with a pax header for a
 * field that does not fit, and zero times, so the same tree gives the
 * same archive.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../util.h"
#include "bundle.h"

#define BLOCK	     512u
#define META_MAX     (64u << 10) /* pax headers, GNU long names */
#define OFF_NAME     0
#define OFF_MODE     100
#define OFF_UID	     108
#define OFF_GID	     116
#define OFF_SIZE     124
#define OFF_MTIME    136
#define OFF_CHKSUM   148
#define OFF_TYPE     156
#define OFF_LINKNAME 157
#define OFF_MAGIC    257
#define OFF_VERSION  263
#define OFF_PREFIX   345

struct pending {
	char *path, *linkpath;
	bool has_size, has_uid, has_gid;
	uint64_t size, uid, gid;
};

static void pending_free(struct pending *p)
{
	free(p->path);
	free(p->linkpath);
	memset(p, 0, sizeof(*p));
}

void ward_tar_reader_init(struct ward_tar_reader *r, int fd)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
}

static void entry_clear(struct ward_tar_entry *e)
{
	free(e->path);
	free(e->linkname);
	memset(e, 0, sizeof(*e));
}

void ward_tar_reader_free(struct ward_tar_reader *r)
{
	entry_clear(&r->cur);
}

/* Read exactly len bytes; a short read is a truncated archive. */
static int read_exact(struct ward_tar_reader *r, void *buf, size_t len, const char *what,
		      ward_error_t *err)
{
	ssize_t n = ward_read_all(r->fd, buf, len);

	if (n < 0)
		return ward_error_sys(err, "reading the archive at offset %llu",
				      (unsigned long long)r->offset);
	r->offset += (uint64_t)n;
	if ((size_t)n != len)
		return ward_error_set(
			err, EPIPE, "the archive is truncated (it ends inside %s, at offset %llu)",
			what, (unsigned long long)r->offset);
	return 0;
}

static int skip(struct ward_tar_reader *r, uint64_t n, const char *what, ward_error_t *err)
{
	char buf[8192];

	while (n > 0) {
		size_t k = n > sizeof(buf) ? sizeof(buf) : (size_t)n;

		if (read_exact(r, buf, k, what, err) < 0)
			return -1;
		n -= k;
	}
	return 0;
}

/* Octal (space or NUL terminated, leading spaces) or GNU base-256. */
static int parse_num(const unsigned char *f, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	if (f[0] & 0x80) {
		if (f[0] != 0x80)
			return -EINVAL; /* negative, or larger than we take */
		for (i = 1; i < len; i++) {
			if (v >> 56)
				return -ERANGE;
			v = (v << 8) | f[i];
		}
		*out = v;
		return 0;
	}
	while (i < len && f[i] == ' ')
		i++;
	if (i == len || f[i] < '0' || f[i] > '7')
		return -EINVAL;
	for (; i < len && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v >> 60)
			return -ERANGE;
		v = (v << 3) | (uint64_t)(f[i] - '0');
	}
	for (; i < len; i++)
		if (f[i] != ' ' && f[i] != '\0')
			return -EINVAL;
	*out = v;
	return 0;
}

static char *field_str(const unsigned char *f, size_t len)
{
	size_t n = strnlen((const char *)f, len);
	char *s = ward_xmalloc(n + 1);

	memcpy(s, f, n);
	s[n] = '\0';
	return s;
}

static bool is_zero_block(const unsigned char *b)
{
	size_t i;

	for (i = 0; i < BLOCK; i++)
		if (b[i])
			return false;
	return true;
}

static int check_checksum(const unsigned char *b, uint64_t offset, ward_error_t *err)
{
	uint64_t want, got_u = 0;
	int64_t got_s = 0;
	size_t i;

	if (parse_num(b + OFF_CHKSUM, 8, &want) < 0)
		return ward_error_set(err, EINVAL,
				      "corrupt tar header at offset %llu (unreadable checksum)",
				      (unsigned long long)offset);
	for (i = 0; i < BLOCK; i++) {
		unsigned char c = (i >= OFF_CHKSUM && i < OFF_CHKSUM + 8) ? ' ' : b[i];

		got_u += c;
		got_s += (signed char)c;
	}
	/* Some old tars summed signed chars. */
	if (want != got_u && (int64_t)want != got_s)
		return ward_error_set(err, EINVAL,
				      "corrupt tar header at offset %llu (checksum mismatch)",
				      (unsigned long long)offset);
	return 0;
}

static int read_meta(struct ward_tar_reader *r, uint64_t size, char **out, const char *what,
		     ward_error_t *err)
{
	char *buf;
	uint64_t padded = (size + BLOCK - 1) / BLOCK * BLOCK;

	if (size > META_MAX)
		return ward_error_set(
			err, E2BIG, "%s of %llu bytes at offset %llu: ward takes at most %u", what,
			(unsigned long long)size, (unsigned long long)r->offset, META_MAX);
	buf = ward_xmalloc(size + 1);
	if (read_exact(r, buf, size, what, err) < 0 || skip(r, padded - size, what, err) < 0) {
		free(buf);
		return -1;
	}
	buf[size] = '\0';
	*out = buf;
	return 0;
}

static int pax_parse(const char *buf, size_t len, struct pending *p, uint64_t offset,
		     ward_error_t *err)
{
	size_t pos = 0;

	while (pos < len) {
		const char *rec = buf + pos, *sp, *eq;
		uint64_t rl = 0;
		size_t i, klen, vlen;

		for (i = 0; pos + i < len && rec[i] >= '0' && rec[i] <= '9'; i++) {
			rl = rl * 10 + (uint64_t)(rec[i] - '0');
			if (rl > len)
				break;
		}
		if (i == 0 || rl > len - pos || rl < i + 4 || rec[i] != ' ' || rec[rl - 1] != '\n')
			return ward_error_set(err, EINVAL,
					      "malformed pax header record at offset %llu",
					      (unsigned long long)offset);
		sp = rec + i;
		eq = memchr(sp + 1, '=', rl - i - 1);
		if (eq == NULL)
			return ward_error_set(err, EINVAL,
					      "malformed pax header record (no '=') at offset %llu",
					      (unsigned long long)offset);
		klen = (size_t)(eq - sp - 1);
		vlen = (size_t)(rec + rl - 1 - eq - 1);
#define IS(k) (klen == strlen(k) && memcmp(sp + 1, k, klen) == 0)
		if (IS("path") || IS("linkpath")) {
			char **slot = IS("path") ? &p->path : &p->linkpath;

			if (memchr(eq + 1, '\0', vlen))
				return ward_error_set(err, EINVAL,
						      "NUL byte in a pax path at offset %llu",
						      (unsigned long long)offset);
			free(*slot);
			*slot = strndup(eq + 1, vlen);
			if (*slot == NULL)
				abort();
		} else if (IS("size") || IS("uid") || IS("gid")) {
			cleanup_free char *v = strndup(eq + 1, vlen);
			uint64_t n;

			if (v == NULL)
				abort();
			if (ward_parse_u64(v, &n) < 0 || (!IS("size") && n > UINT32_MAX - 1))
				return ward_error_set(err, EINVAL,
						      "invalid pax number \"%.*s\" at offset %llu",
						      (int)(klen > 32 ? 32 : klen), sp + 1,
						      (unsigned long long)offset);
			if (IS("size")) {
				p->size = n;
				p->has_size = true;
			} else if (IS("uid")) {
				p->uid = n;
				p->has_uid = true;
			} else {
				p->gid = n;
				p->has_gid = true;
			}
		}
		/* Other keys (times, names of owners, xattrs) carry nothing ward
		 * restores: they are ignored. */
#undef IS
		pos += rl;
	}
	return 0;
}

int ward_tar_next(struct ward_tar_reader *r, ward_error_t *err)
{
	struct pending p = {0};
	unsigned char b[BLOCK];
	int rc = -1;

	entry_clear(&r->cur);
	if (r->done)
		return 0;
	if (skip(r, r->remaining + r->padding, "an entry", err) < 0)
		return -1;
	r->remaining = r->padding = 0;
	for (;;) {
		uint64_t offset = r->offset, size, mode, uid, gid;
		char type;

		if (read_exact(r, b, BLOCK, "a header (no end-of-archive marker)", err) < 0)
			goto out;
		if (is_zero_block(b)) {
			if (p.path || p.linkpath || p.has_size) {
				ward_error_set(
					err, EINVAL,
					"the archive ends after an extended header at offset "
					"%llu",
					(unsigned long long)offset);
				goto out;
			}
			r->done = true;
			rc = 0;
			goto out;
		}
		if (check_checksum(b, offset, err) < 0)
			goto out;
		if (memcmp(b + OFF_MAGIC, "ustar", 5) != 0) {
			ward_error_set(err, EINVAL,
				       "not a ustar, pax or GNU tar header at offset %llu",
				       (unsigned long long)offset);
			goto out;
		}
		if (parse_num(b + OFF_SIZE, 12, &size) < 0 ||
		    parse_num(b + OFF_MODE, 8, &mode) < 0 || parse_num(b + OFF_UID, 8, &uid) < 0 ||
		    parse_num(b + OFF_GID, 8, &gid) < 0) {
			ward_error_set(err, EINVAL,
				       "corrupt tar header at offset %llu (a number field)",
				       (unsigned long long)offset);
			goto out;
		}
		type = (char)b[OFF_TYPE];
		if (type == 'x' || type == 'g' || type == 'L' || type == 'K') {
			cleanup_free char *meta = NULL;

			if (read_meta(r, size, &meta,
				      type == 'x' || type == 'g' ? "a pax header"
								 : "a GNU long name",
				      err) < 0)
				goto out;
			if (type == 'x') {
				if (pax_parse(meta, size, &p, offset, err) < 0)
					goto out;
			} else if (type == 'L' || type == 'K') {
				char **slot = type == 'L' ? &p.path : &p.linkpath;

				/* The name ends at its first NUL. */
				free(*slot);
				*slot = steal_pointer(&meta);
			}
			continue;
		}
		if (p.has_size)
			size = p.size;
		if (uid > UINT32_MAX - 1 || gid > UINT32_MAX - 1 || mode > 07777777) {
			ward_error_set(err, EINVAL, "tar header at offset %llu: value out of range",
				       (unsigned long long)offset);
			goto out;
		}
		r->cur.type = type == '\0' ? '0' : type;
		r->cur.mode = (uint32_t)mode;
		r->cur.uid = p.has_uid ? (uint32_t)p.uid : (uint32_t)uid;
		r->cur.gid = p.has_gid ? (uint32_t)p.gid : (uint32_t)gid;
		r->cur.size = size;
		if (p.path) {
			r->cur.path = steal_pointer(&p.path);
		} else {
			cleanup_free char *name = field_str(b + OFF_NAME, 100);

			/* POSIX ustar keeps a prefix; GNU uses that space for times. */
			if (memcmp(b + OFF_MAGIC, "ustar\0", 6) == 0 && b[OFF_PREFIX]) {
				cleanup_free char *prefix = field_str(b + OFF_PREFIX, 155);

				r->cur.path = ward_xasprintf("%s/%s", prefix, name);
			} else {
				r->cur.path = steal_pointer(&name);
			}
		}
		r->cur.linkname =
			p.linkpath ? steal_pointer(&p.linkpath) : field_str(b + OFF_LINKNAME, 100);
		r->remaining = size;
		r->padding = (BLOCK - size % BLOCK) % BLOCK;
		rc = 1;
		goto out;
	}
out:
	pending_free(&p);
	if (rc < 0 && r->what)
		ward_error_wrap(err, "%s", r->what);
	return rc;
}

ssize_t ward_tar_read(struct ward_tar_reader *r, void *buf, size_t len, ward_error_t *err)
{
	ssize_t n;

	if (r->remaining == 0)
		return 0;
	if (len > r->remaining)
		len = (size_t)r->remaining;
	n = ward_read_all(r->fd, buf, len);
	if (n < 0)
		return ward_error_sys(err, "%s: reading the archive", r->what ? r->what : "tar");
	r->offset += (uint64_t)n;
	if ((size_t)n != len)
		return ward_error_set(err, EPIPE,
				      "%s: the archive is truncated (it ends inside the content of "
				      "%s)",
				      r->what ? r->what : "tar", r->cur.path);
	r->remaining -= (uint64_t)n;
	return n;
}

/* ------------------------------------------------------------ writing */

static int write_out(struct ward_tar_writer *w, const void *data, size_t len, ward_error_t *err)
{
	if (ward_write_all(w->fd, data, len) < 0)
		return ward_error_sys(err, "writing the archive");
	w->offset += len;
	return 0;
}

static void put_octal(unsigned char *f, size_t len, uint64_t v)
{
	/* len-1 digits and a NUL */
	size_t i;

	for (i = len - 1; i-- > 0;) {
		f[i] = (unsigned char)('0' + (v & 7));
		v >>= 3;
	}
	f[len - 1] = '\0';
}

static void finish_block(unsigned char *b)
{
	unsigned sum = 0;
	size_t i;

	memset(b + OFF_CHKSUM, ' ', 8);
	for (i = 0; i < BLOCK; i++)
		sum += b[i];
	put_octal(b + OFF_CHKSUM, 7, sum);
	b[OFF_CHKSUM + 7] = ' ';
}

static void basic_header(unsigned char *b, const char *name, char type, uint32_t mode, uint32_t uid,
			 uint32_t gid, uint64_t size, const char *linkname)
{
	memset(b, 0, BLOCK);
	strncpy((char *)b + OFF_NAME, name, 100);
	put_octal(b + OFF_MODE, 8, mode & 07777);
	put_octal(b + OFF_UID, 8, uid);
	put_octal(b + OFF_GID, 8, gid);
	put_octal(b + OFF_SIZE, 12, size);
	put_octal(b + OFF_MTIME, 12, 0);
	b[OFF_TYPE] = (unsigned char)type;
	if (linkname)
		strncpy((char *)b + OFF_LINKNAME, linkname, 100);
	memcpy(b + OFF_MAGIC, "ustar\0", 6);
	memcpy(b + OFF_VERSION, "00", 2);
}

static void pax_record(char **buf, size_t *len, const char *key, const char *value)
{
	size_t body = 1 + strlen(key) + 1 + strlen(value) + 1; /* " key=value\n" */
	size_t digits = 1, total;
	char num[32];

	/* The length counts its own digits. */
	for (;;) {
		total = body + digits;
		snprintf(num, sizeof(num), "%zu", total);
		if (strlen(num) == digits)
			break;
		digits = strlen(num);
	}
	*buf = ward_xrealloc(*buf, *len + total + 1);
	snprintf(*buf + *len, total + 1, "%s %s=%s\n", num, key, value);
	*len += total;
}

int ward_tar_write_header(struct ward_tar_writer *w, const struct ward_tar_entry *e,
			  ward_error_t *err)
{
	unsigned char b[BLOCK];
	cleanup_free char *pax = NULL;
	size_t pax_len = 0;
	const char *link = e->linkname ? e->linkname : "";

	if (strlen(e->path) > 100)
		pax_record(&pax, &pax_len, "path", e->path);
	if (strlen(link) > 100)
		pax_record(&pax, &pax_len, "linkpath", link);
	if (e->size > 077777777777ULL) {
		char num[32];

		snprintf(num, sizeof(num), "%llu", (unsigned long long)e->size);
		pax_record(&pax, &pax_len, "size", num);
	}
	if (e->uid > 07777777 || e->gid > 07777777) {
		char num[32];

		snprintf(num, sizeof(num), "%u", e->uid);
		pax_record(&pax, &pax_len, "uid", num);
		snprintf(num, sizeof(num), "%u", e->gid);
		pax_record(&pax, &pax_len, "gid", num);
	}
	if (pax) {
		basic_header(b, "PaxHeader", 'x', 0644, 0, 0, pax_len, NULL);
		finish_block(b);
		if (write_out(w, b, BLOCK, err) < 0 || write_out(w, pax, pax_len, err) < 0 ||
		    ward_tar_write_pad(w, pax_len, err) < 0)
			return -1;
	}
	basic_header(b, e->path, e->type, e->mode, e->uid > 07777777 ? 0 : e->uid,
		     e->gid > 07777777 ? 0 : e->gid, e->size > 077777777777ULL ? 0 : e->size, link);
	finish_block(b);
	return write_out(w, b, BLOCK, err);
}

int ward_tar_write_data(struct ward_tar_writer *w, const void *data, size_t len, ward_error_t *err)
{
	return write_out(w, data, len, err);
}

int ward_tar_write_pad(struct ward_tar_writer *w, uint64_t size, ward_error_t *err)
{
	static const unsigned char zero[BLOCK];
	size_t pad = (size_t)((BLOCK - size % BLOCK) % BLOCK);

	return pad ? write_out(w, zero, pad, err) : 0;
}

int ward_tar_write_end(struct ward_tar_writer *w, ward_error_t *err)
{
	static const unsigned char zero[2 * BLOCK];

	return write_out(w, zero, sizeof(zero), err);
}
