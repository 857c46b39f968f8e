/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "util.h"

static void oom(void)
{
	static const char msg[] = "ward: out of memory\n";

	(void)!write(2, msg, sizeof(msg) - 1);
	abort();
}

void *ward_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom();
	return p;
}

void *ward_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		oom();
	return p;
}

void *ward_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		oom();
	return q;
}

char *ward_xstrdup(const char *s)
{
	char *d = strdup(s ? s : "");

	if (d == NULL)
		oom();
	return d;
}

char *ward_xasprintf(const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		oom();
	return s;
}

void ward_xappendf(char **buf, const char *fmt, ...)
{
	char *add = NULL, *joined;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&add, fmt, ap);
	va_end(ap);
	if (r < 0)
		oom();
	joined = ward_xasprintf("%s%s", *buf ? *buf : "", add);
	free(add);
	free(*buf);
	*buf = joined;
}

bool ward_str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

unsigned ward_edit_distance(const char *a, const char *b, unsigned max)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned row[64 + 1];
	size_t i, j;

	if (lb > 64 || la > 64)
		return max + 1;
	for (j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (i = 1; i <= la; i++) {
		unsigned diag = row[0], best;

		row[0] = (unsigned)i;
		best = row[0];
		for (j = 1; j <= lb; j++) {
			unsigned up = row[j];
			unsigned cost = a[i - 1] == b[j - 1] ? 0 : 1;
			unsigned v = diag + cost;

			if (row[j - 1] + 1 < v)
				v = row[j - 1] + 1;
			if (up + 1 < v)
				v = up + 1;
			row[j] = v;
			diag = up;
			if (v < best)
				best = v;
		}
		if (best > max)
			return max + 1;
	}
	return row[lb];
}

int ward_parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (s == NULL || *s == '\0')
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

int ward_parse_port(const char *s, size_t len, uint16_t *out)
{
	unsigned v = 0;
	size_t i;

	if (len == 0 || len > 5)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

int ward_parse_size(const char *s, uint64_t *out)
{
	char num[32];
	const char *p = s;
	size_t n = 0;
	uint64_t v, mult = 1;
	int r;

	if (s == NULL)
		return -EINVAL;
	while (*p >= '0' && *p <= '9') {
		if (n + 1 >= sizeof(num))
			return -ERANGE;
		num[n++] = *p++;
	}
	num[n] = '\0';
	r = ward_parse_u64(num, &v);
	if (r < 0)
		return r;
	switch (*p) {
	case '\0':
		break;
	case 'k':
	case 'K':
		mult = 1ULL << 10;
		p++;
		break;
	case 'm':
	case 'M':
		mult = 1ULL << 20;
		p++;
		break;
	case 'g':
	case 'G':
		mult = 1ULL << 30;
		p++;
		break;
	case 't':
	case 'T':
		mult = 1ULL << 40;
		p++;
		break;
	default:
		return -EINVAL;
	}
	if (mult > 1) {
		if (strcmp(p, "iB") == 0 || strcmp(p, "B") == 0 || strcmp(p, "b") == 0)
			p += strlen(p);
	}
	if (*p != '\0')
		return -EINVAL;
	if (v > UINT64_MAX / mult)
		return -ERANGE;
	*out = v * mult;
	return 0;
}

int ward_parse_milli(const char *s, uint64_t max_whole, uint64_t *milli)
{
	uint64_t whole = 0, frac = 0;
	unsigned digits = 0;
	const char *p = s;

	if (p == NULL || *p < '0' || *p > '9')
		return -EINVAL;
	while (*p >= '0' && *p <= '9') {
		whole = whole * 10 + (uint64_t)(*p - '0');
		if (whole > max_whole)
			return -ERANGE;
		p++;
	}
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		while (*p >= '0' && *p <= '9') {
			if (digits == 3)
				return -EINVAL;
			frac = frac * 10 + (uint64_t)(*p - '0');
			digits++;
			p++;
		}
	}
	if (*p != '\0')
		return -EINVAL;
	while (digits++ < 3)
		frac *= 10;
	*milli = whole * 1000 + frac;
	return 0;
}

/* Length of the UTF-8 sequence at p (at most n bytes) if it is valid and
 * printable as it is, else 0.  Overlong forms, surrogates and code points
 * past U+10FFFF are invalid; C1 controls and bidi overrides are refused. */
static size_t utf8_printable(const unsigned char *p, size_t n)
{
	uint32_t cp;
	size_t len, i;

	if (p[0] < 0xc2 || p[0] > 0xf4)
		return 0;
	len = p[0] < 0xe0 ? 2 : p[0] < 0xf0 ? 3 : 4;
	if (n < len)
		return 0;
	cp = p[0] & (0x7f >> len);
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff)
		return 0;
	if (cp >= 0xd800 && cp <= 0xdfff)
		return 0;
	if (cp < 0xa0) /* C1 controls: CSI, OSC, ... */
		return 0;
	if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
		return 0;
	return len;
}

char *ward_escape_mem(const void *data, size_t len, size_t max)
{
	const unsigned char *p = data;
	size_t shown = (max && len > max) ? max : len, i = 0, o = 0;
	/* Worst case: every byte becomes \xHH, plus the tail. */
	char *out = ward_xmalloc(4 * shown + 40);

	while (i < shown) {
		unsigned char c = p[i];
		size_t u;

		if (c == '\\') {
			out[o++] = '\\';
			out[o++] = '\\';
			i++;
		} else if (c == '\n' || c == '\t' || c == '\r') {
			out[o++] = '\\';
			out[o++] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
			i++;
		} else if (c >= 0x20 && c < 0x7f) {
			out[o++] = (char)c;
			i++;
		} else if (c >= 0x80 && (u = utf8_printable(p + i, shown - i)) > 0) {
			memcpy(out + o, p + i, u);
			o += u;
			i += u;
		} else {
			o += (size_t)sprintf(out + o, "\\x%02x", c);
			i++;
		}
	}
	if (shown < len)
		o += (size_t)sprintf(out + o, "...(+%zu bytes)", len - shown);
	out[o] = '\0';
	return out;
}

char *ward_escape(const char *s, size_t max)
{
	if (s == NULL)
		return ward_xstrdup("(null)");
	return ward_escape_mem(s, strlen(s), max);
}

char *ward_path_normalize(const char *path)
{
	size_t len, o = 0;
	const char *p;
	char *out;

	if (path == NULL || path[0] != '/') {
		errno = EINVAL;
		return NULL;
	}
	len = strlen(path);
	out = ward_xmalloc(len + 2);
	p = path;
	while (*p) {
		const char *start;
		size_t clen;

		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		start = p;
		while (*p && *p != '/')
			p++;
		clen = (size_t)(p - start);
		if (clen == 1 && start[0] == '.')
			continue;
		if (clen == 2 && start[0] == '.' && start[1] == '.') {
			free(out);
			errno = EINVAL;
			return NULL;
		}
		out[o++] = '/';
		memcpy(out + o, start, clen);
		o += clen;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return out;
}

int ward_mkdir_p(const char *path, mode_t mode)
{
	cleanup_free char *copy = ward_xstrdup(path);
	char *p;

	for (p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, mode) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(copy, mode) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

ssize_t ward_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t w = write(fd, p + done, len - done);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		done += (size_t)w;
	}
	return (ssize_t)done;
}

ssize_t ward_read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t r = read(fd, p + done, len - done);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

int ward_write_file_at(int dirfd, const char *name, const char *data, size_t len)
{
	int fd, saved;

	fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	/* Kernel interface files want the value in one write(2). */
	if (write(fd, data, len) != (ssize_t)len) {
		saved = errno ? errno : EIO;
		close(fd);
		return -saved;
	}
	if (close(fd) < 0)
		return -errno;
	return 0;
}

int ward_write_file(const char *path, const char *data, size_t len)
{
	return ward_write_file_at(AT_FDCWD, path, data, len);
}

int ward_read_file(const char *path, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
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
			close(fd);
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
	close(fd);
	buf[n] = '\0';
	*out = buf;
	if (len)
		*len = n;
	return 0;
}

/*
 * openat2 without openat2: a seccomp filter around ward (ward inside ward)
 * answers it with ENOSYS, because the filter cannot see its mode.  Every
 * caller here opens with RESOLVE_NO_SYMLINKS (and some RESOLVE_BENEATH),
 * which a walk of one component at a time with O_NOFOLLOW gives: a symlink
 * anywhere (magic links of /proc included) is ELOOP, ".." is refused
 * (EXDEV; ward's paths are normalised, so it never asks for one), and an
 * absolute path beneath a directory is EXDEV.  Stricter than openat2, never
 * looser.
 */
int ward_openat2_walk(int dirfd, const char *path, uint64_t flags, uint64_t resolve)
{
	cleanup_free char *copy = ward_xstrdup(path);
	cleanup_close int cur = -1;
	char *comp, *next;
	struct stat st;
	int fd;

	/* Only what ward's callers ask for: no creation (there is no mode
	 * here), and no resolution rule but the ones below. */
	if (!(resolve & RESOLVE_NO_SYMLINKS) || (flags & O_CREAT) ||
	    (flags & O_TMPFILE) == O_TMPFILE ||
	    (resolve &
	     ~(uint64_t)(RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_BENEATH))) {
		errno = ENOSYS;
		return -1;
	}
	/* As openat2: an empty path names nothing (ENOENT), and a path that
	 * ends in "/" names a directory (the last open gets O_DIRECTORY). */
	if (path[0] == '\0') {
		errno = ENOENT;
		return -1;
	}
	if (path[strlen(path) - 1] == '/')
		flags |= O_DIRECTORY;
	if (path[0] == '/') {
		if (resolve & RESOLVE_BENEATH) {
			errno = EXDEV;
			return -1;
		}
		cur = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	} else {
		cur = dirfd == AT_FDCWD ? open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)
					: fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	}
	if (cur < 0)
		return -1;
	comp = copy;
	for (;;) {
		while (*comp == '/')
			comp++;
		next = strchr(comp, '/');
		if (next)
			*next++ = '\0';
		while (next && *next == '/')
			next++;
		if (strcmp(comp, "..") == 0) {
			errno = EXDEV;
			return -1;
		}
		if (*comp == '\0' || strcmp(comp, ".") == 0) {
			if (next == NULL || *next == '\0') {
				comp = (char *)".";
				next = NULL;
			} else {
				comp = next;
				continue;
			}
		}
		fd = openat(cur, comp,
			    next && *next ? O_PATH | O_NOFOLLOW | O_CLOEXEC
					  : (int)flags | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return -1;
		if (fstat(fd, &st) < 0 || S_ISLNK(st.st_mode)) {
			close(fd);
			errno = ELOOP;
			return -1;
		}
		close(cur);
		cur = fd;
		if (next == NULL || *next == '\0')
			return steal_fd(&cur);
		comp = next;
	}
}

int ward_openat2(int dirfd, const char *path, uint64_t flags, uint64_t resolve)
{
	struct open_how how = {.flags = flags, .mode = 0, .resolve = resolve};
	int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));

	if (fd < 0 && errno == ENOSYS)
		return ward_openat2_walk(dirfd, path, flags, resolve);
	return fd;
}
