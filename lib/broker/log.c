/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The broker's log: one line per event, with a timestamp, on stderr (the
 * log file when detached).
 *
 * What an environment can make the broker write is bounded three ways (an
 * environment with no entitlement at all used to grow the log by 50 MB a
 * second with refused requests carrying 4000-byte paths, on /run, which is
 * memory):
 *   - every string that comes from an environment (a path, a text) is
 *     escaped and capped with bk_esc() before it is written, and a line is
 *     at most LINE_MAX bytes;
 *   - refusals are rate-limited per environment (struct bk_ratelimit: a
 *     token bucket of WARD_BROKER_DENY_BURST refusals, refilled at
 *     WARD_BROKER_DENY_RATE a second); what is not logged is counted and
 *     reported as one "N more refusals ... were not logged" line;
 *   - the log file is capped: a line that would take it past its limit
 *     first renames it to broker.log.1 (replacing the one before) and starts
 *     a new one, so at most twice the limit is on disk.  If that fails, a
 *     last line says so and nothing more is written.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../util.h"
#include "internal.h"

#define LINE_MAX_BYTES 4096u

static struct {
	int fd;
	char *path; /* NULL: not a file of ours (foreground: the caller's stderr) */
	size_t max, size;
	bool stopped;
} L = {.fd = 2};

int bk_log_open(const char *path, size_t max)
{
	struct stat st;
	int fd;

	/* O_NOFOLLOW and a regular file: the broker (root) never appends to
	 * whatever a link planted in its directory points to. */
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	free(L.path);
	L.path = ward_xstrdup(path);
	L.max = max ? max : WARD_BROKER_LOG_MAX;
	L.size = (size_t)st.st_size;
	L.stopped = false;
	if (L.fd >= 0 && L.fd != 2)
		close(L.fd);
	L.fd = fd;
	return fd;
}

void bk_log_to_stderr(void)
{
	if (L.fd >= 0 && L.fd != 2) {
		dup2(L.fd, 2);
		close(L.fd);
	}
	L.fd = 2;
}

void bk_log_to_fd(int fd)
{
	free(L.path);
	L.path = NULL;
	L.fd = fd;
	L.stopped = false;
}

static void put(const char *s, size_t n)
{
	if (ward_write_all(L.fd, s, n) >= 0)
		L.size += n;
}

static int stamp(char *buf, size_t size)
{
	struct timespec t;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &t);
	localtime_r(&t.tv_sec, &tm);
	strftime(buf, size, "%Y-%m-%d %H:%M:%S ward-broker: ", &tm);
	return (int)strlen(buf);
}

/* The file is full: broker.log becomes broker.log.1 and a new one starts. */
static void rotate(void)
{
	cleanup_free char *old = ward_xasprintf("%s.1", L.path);
	char line[512];
	int fd, n, e = 0;

	if (rename(L.path, old) < 0)
		e = errno;
	fd = e ? -1
	       : open(L.path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
		      0600);
	if (fd < 0) {
		if (!e)
			e = errno;
		n = stamp(line, sizeof(line));
		snprintf(line + n, sizeof(line) - (size_t)n,
			 "the log reached %zu bytes and cannot be rotated to %s (%s): nothing more "
			 "is logged\n",
			 L.max, old, strerror(e));
		put(line, strlen(line));
		L.stopped = true;
		return;
	}
	/* stderr too: whatever else the daemon writes there (a sanitizer's
	 * report) goes to the current file. */
	if (L.fd == 2) {
		dup2(fd, 2);
		close(fd);
	} else {
		close(L.fd);
		L.fd = fd;
	}
	L.size = 0;
	n = stamp(line, sizeof(line));
	snprintf(line + n, sizeof(line) - (size_t)n,
		 "log continued (the previous %zu bytes are in %s)\n", L.max, old);
	put(line, strlen(line));
}

void bk_log(const char *fmt, ...)
{
	char line[LINE_MAX_BYTES];
	va_list ap;
	int n, m;

	if (L.stopped || L.fd < 0)
		return;
	n = stamp(line, sizeof(line));
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	if ((size_t)m >= sizeof(line) - (size_t)n - 1) {
		/* Cut, and say so. */
		m = (int)(sizeof(line) - (size_t)n - 5);
		memcpy(line + n + m, "...", 3);
		m += 3;
	}
	n += m;
	line[n++] = '\n';
	if (L.path && L.size + (size_t)n > L.max) {
		rotate();
		if (L.stopped)
			return;
	}
	put(line, (size_t)n);
}

char *bk_esc(const char *s)
{
	return ward_escape(s, WARD_BROKER_LOG_STR);
}

/* ---- rate limit ---- */

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

void bk_ratelimit_init(struct bk_ratelimit *r)
{
	r->milli = (uint64_t)WARD_BROKER_DENY_BURST * 1000u;
	r->last_ms = now_ms();
	r->suppressed = 0;
}

bool bk_ratelimit_take(struct bk_ratelimit *r)
{
	uint64_t t = now_ms(), cap = (uint64_t)WARD_BROKER_DENY_BURST * 1000u;

	/* Tokens in thousandths: RATE a second is RATE thousandths a ms. */
	if (t > r->last_ms) {
		r->milli += (t - r->last_ms) * WARD_BROKER_DENY_RATE;
		if (r->milli > cap)
			r->milli = cap;
		r->last_ms = t;
	}
	if (r->milli >= 1000u) {
		r->milli -= 1000u;
		return true;
	}
	if (r->suppressed < UINT32_MAX)
		r->suppressed++;
	return false;
}
