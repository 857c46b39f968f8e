/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * api.open: the broker opens a file for an environment and hands over the
 * descriptor.  The grant chooses the directory; the kernel keeps the
 * resolution beneath it (openat2 RESOLVE_BENEATH), so neither "..", nor an
 * absolute symbolic link, nor a magic link in /proc can lead out of it.  A
 * string prefix check would not hold against a symbolic link planted under
 * the granted directory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../util.h"
#include "broker.h"

static int sys_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve)
{
	struct open_how how;

	memset(&how, 0, sizeof(how));
	how.flags = flags;
	how.mode = mode;
	how.resolve = resolve;
	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

static char *parent_of(const char *path)
{
	char *d = ward_xstrdup(path);
	char *slash = strrchr(d, '/');

	if (slash && slash != d)
		*slash = '\0';
	return d;
}

int ward_broker_open(const struct ward_broker_grant *g, size_t n, const char *path, unsigned flags,
		     char *whybuf, size_t whysize, char *missbuf, size_t misssize)
{
	bool write = (flags & WARD_OPEN_F_WRITE) != 0;
	cleanup_free char *norm = NULL;
	cleanup_close int root = -1;
	cleanup_close int fd = -1;
	const struct ward_broker_grant *grant;
	const char *rel = "";
	bool ro_match = false;
	char proc[64];
	struct stat st;
	int oflags, e;

	missbuf[0] = '\0';
	if (flags & ~WARD_OPEN_F_ALL) {
		snprintf(whybuf, whysize, "unknown open flags 0x%x", flags);
		return -EINVAL;
	}
	if ((flags & (WARD_OPEN_F_CREATE | WARD_OPEN_F_TRUNC | WARD_OPEN_F_APPEND)) && !write) {
		snprintf(whybuf, whysize, "create, truncate and append need a read-write open");
		return -EINVAL;
	}
	norm = ward_path_normalize(path);
	if (norm == NULL) {
		snprintf(whybuf, whysize, "%s: give an absolute path without \"..\"", path);
		return -EINVAL;
	}
	grant = ward_broker_open_grant(g, n, norm, write, &rel, &ro_match);
	if (grant == NULL) {
		cleanup_free char *dir = parent_of(norm);

		if (ro_match)
			snprintf(whybuf, whysize,
				 "open %s for writing refused: only read-only access "
				 "is granted there",
				 norm);
		else
			snprintf(whybuf, whysize, "open %s refused: no api.open grant contains it",
				 norm);
		snprintf(missbuf, misssize, "api.open=%s:%s", dir, write ? "rw" : "ro");
		return -EACCES;
	}

	/* The granted path itself may not be reached through a symbolic link:
	 * like fs.* grants, it is named by its real path. */
	root = sys_openat2(AT_FDCWD, grant->name, O_PATH | O_CLOEXEC, 0,
			   RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
	if (root < 0) {
		e = errno;
		snprintf(whybuf, whysize, "the granted path %s cannot be opened: %s", grant->name,
			 strerror(e));
		return -e;
	}
	if (*rel == '\0') {
		fd = steal_fd(&root);
	} else {
		/* O_PATH first: nothing is opened for real (no FIFO blocks the
		 * broker, no device is touched) before we know it is a file. */
		fd = sys_openat2(root, rel, O_PATH | O_CLOEXEC, 0,
				 RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
		if (fd < 0 && errno == ENOENT && (flags & WARD_OPEN_F_CREATE)) {
			/* O_EXCL: only a new regular file is ever created, and an
			 * existing name (even a dangling link) is not followed. */
			oflags = O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY |
				 ((flags & WARD_OPEN_F_APPEND) ? O_APPEND : 0);
			fd = sys_openat2(root, rel, (uint64_t)oflags, 0644,
					 RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
			if (fd >= 0)
				return steal_fd(&fd);
		}
		if (fd < 0) {
			e = errno;
			if (e == EXDEV)
				snprintf(whybuf, whysize,
					 "%s leads outside the granted %s (a symbolic link or "
					 "\"..\"): refused",
					 norm, grant->name);
			else
				snprintf(whybuf, whysize, "%s: %s", norm, strerror(e));
			return -e;
		}
	}
	if (fstat(fd, &st) < 0) {
		e = errno;
		snprintf(whybuf, whysize, "%s: %s", norm, strerror(e));
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(whybuf, whysize, "%s is not a regular file: api.open hands out files only",
			 norm);
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	}
	/* Reopen the very inode found above with the access asked for. */
	oflags = (write ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY |
		 ((flags & WARD_OPEN_F_TRUNC) ? O_TRUNC : 0) |
		 ((flags & WARD_OPEN_F_APPEND) ? O_APPEND : 0);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	{
		int r = open(proc, oflags);

		if (r < 0) {
			e = errno;
			snprintf(whybuf, whysize, "%s: %s", norm, strerror(e));
			return -e;
		}
		return r;
	}
}
