/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small helpers shared by the whole library: cleanup attributes and strings. */
#ifndef WARD_UTIL_H
#define WARD_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#include "error.h"

static inline void ward_freep(void *p)
{
	free(*(void **)p);
}

static inline void ward_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

#define cleanup_free  __attribute__((cleanup(ward_freep)))
#define cleanup_close __attribute__((cleanup(ward_closep)))

/* Hand ownership of a pointer on: returns it and clears the variable. */
#define steal_pointer(pp)                     \
	({                                    \
		__typeof__(*(pp)) _p = *(pp); \
		*(pp) = NULL;                 \
		_p;                           \
	})

/* Hand ownership of a descriptor on: returns it and sets the variable to -1. */
static inline int steal_fd(int *fd)
{
	int r = *fd;

	*fd = -1;
	return r;
}

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Memory helpers that abort on exhaustion: allocation failure is not a
 * recoverable condition anywhere in ward. */
void *ward_xmalloc(size_t n);
void *ward_xcalloc(size_t n, size_t size);
void *ward_xrealloc(void *p, size_t n);
char *ward_xstrdup(const char *s);
char *ward_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Append the formatted text to *buf (NULL: empty), reallocating it. */
void ward_xappendf(char **buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Pure string helpers. */
bool ward_str_has_prefix(const char *s, const char *prefix);
/* Levenshtein distance, bounded: returns a value > max when larger. */
unsigned ward_edit_distance(const char *a, const char *b, unsigned max);
/* Parse a size with optional K/M/G/T suffix (powers of 1024; "KB", "KiB" also accepted). */
int ward_parse_size(const char *s, uint64_t *out);
/* Parse a decimal with up to 3 fractional digits ("0.5", "2") into
 * thousandths; the whole part may not exceed max_whole (-ERANGE). */
int ward_parse_milli(const char *s, uint64_t max_whole, uint64_t *milli);
/* Parse a decimal unsigned integer, no sign, no trailing garbage. */
int ward_parse_u64(const char *s, uint64_t *out);
/* A TCP/UDP port: 1 to 5 decimal digits, value 1..65535.  s need not be
 * NUL-terminated: len bytes are read.  0, or -1 when it is not a port. */
int ward_parse_port(const char *s, size_t len, uint16_t *out);
/* Normalise an absolute path lexically: collapse "//" and "/./", refuse "..".
 * Returns a newly allocated string, or NULL (errno = EINVAL) when the path is
 * not absolute or contains "..". */
char *ward_path_normalize(const char *path);

/*
 * Strings that come from outside ward's trust (the sandboxed program, a
 * bundle, a config.json, a space file, a broker peer) before they reach a
 * terminal or a log line.  Bytes below 0x20, DEL, backslash, invalid UTF-8,
 * the C1 controls (U+0080..U+009F) and the bidirectional overrides
 * (U+202A..U+202E, U+2066..U+2069) become \n, \t, \r, \\ or \xHH; other
 * UTF-8 passes as it is.  So the result is one line that cannot move the
 * cursor, set a title or forge another "ward:" line.  At most max input
 * bytes are shown (0: no limit); a longer input ends in "...(+N bytes)".
 * Allocated; never NULL.
 */
char *ward_escape(const char *s, size_t max);
char *ward_escape_mem(const void *data, size_t len, size_t max);

/* I/O helpers (side effects). */
/* mkdir -p: every missing component with mode; -1 with errno on failure. */
int ward_mkdir_p(const char *path, mode_t mode);
int ward_write_file(const char *path, const char *data, size_t len); /* -errno on failure */
int ward_write_file_at(int dirfd, const char *name, const char *data, size_t len);
int ward_read_file(const char *path, char **out, size_t *len); /* -errno on failure */
ssize_t ward_write_all(int fd, const void *buf, size_t len);
ssize_t ward_read_all(int fd, void *buf, size_t len);

/* openat2(2) with flags (mode 0) and resolve; where a seccomp filter around
 * ward answers ENOSYS (ward inside ward), a walk of one component at a time
 * with O_NOFOLLOW for callers that ask for RESOLVE_NO_SYMLINKS: stricter
 * than openat2 (".." refused), never looser.  -1 with errno. */
int ward_openat2(int dirfd, const char *path, uint64_t flags, uint64_t resolve);
/* The walk alone (what ward_openat2 falls back to); for tests. */
int ward_openat2_walk(int dirfd, const char *path, uint64_t flags, uint64_t resolve);

#endif
