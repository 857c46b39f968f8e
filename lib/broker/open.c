/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * api.open: the broker opens a file for an environment and hands over the
 * descriptor.  The grant chooses the directory; the kernel keeps the
 * resolution beneath it (openat2 RESOLVE_BENEATH), so neither "..", nor an
 * absolute symbolic link, nor a magic link in /proc can lead out of it.  A
 * string prefix check would not hold against a symbolic link planted under
 * the granted directory.
 *
 * Whose access: the broker runs as root, and root's capabilities ignore file
 * modes and owners.  So beneath the granted path, everything is opened with
 * the access checks of the granted path's owner: fsuid and fsgid become its
 * uid and gid, the capabilities that bypass file permissions are dropped
 * from the effective set (the broker has no supplementary groups), and new
 * files belong to that owner, for the time of the opens (the broker is one
 * thread).  That is what fs.write does with its idmapped mount: the sandbox
 * acts as the directory's owner.  A file the owner may not read is refused,
 * also through a hard link planted beneath the grant; the granted path
 * itself is reached as root (its parents need not be the owner's).  A
 * rootless broker is the user itself and has nothing to drop.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/fsuid.h>
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

/* The capabilities that let root past file modes and owners. */
#define FS_CAPS_LO                                                                    \
	((1u << CAP_CHOWN) | (1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH) | \
	 (1u << CAP_FOWNER) | (1u << CAP_FSETID) | (1u << CAP_MKNOD) |                \
	 (1u << CAP_LINUX_IMMUTABLE))
#define FS_CAPS_HI (1u << (CAP_MAC_OVERRIDE - 32))

struct identity {
	bool switched;
	uid_t fsuid;
	gid_t fsgid;
	struct __user_cap_header_struct h;
	struct __user_cap_data_struct caps[2];
};

/* Take the access checks of owner uid:gid until identity_restore(). */
static int identity_take(struct identity *id, uid_t uid, gid_t gid)
{
	struct __user_cap_data_struct less[2];

	id->switched = false;
	if (geteuid() != 0)
		return 0;
	memset(&id->h, 0, sizeof(id->h));
	id->h.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capget, &id->h, id->caps) < 0)
		return -errno;
	memcpy(less, id->caps, sizeof(less));
	less[0].effective &= ~FS_CAPS_LO;
	less[1].effective &= ~FS_CAPS_HI;
	if (syscall(SYS_capset, &id->h, less) < 0)
		return -errno;
	id->switched = true;
	id->fsgid = (gid_t)setfsgid(gid);
	id->fsuid = (uid_t)setfsuid(uid);
	/* setfsuid() does not fail: it is asked again what it is now. */
	if ((uid_t)setfsuid((uid_t)-1) != uid || (gid_t)setfsgid((gid_t)-1) != gid)
		return -EPERM;
	return 0;
}

static void identity_restore(struct identity *id)
{
	if (!id->switched)
		return;
	setfsuid(id->fsuid);
	setfsgid(id->fsgid);
	/* Back to exactly what it was (setfsuid(0) raised some of it). */
	(void)syscall(SYS_capset, &id->h, id->caps);
	id->switched = false;
}

/* Why an open beneath the grant failed. */
static int failed(char *whybuf, size_t whysize, const char *norm, int e, const char *grant,
		  const struct stat *owner)
{
	if (e == EACCES || e == EPERM)
		snprintf(whybuf, whysize,
			 "%s: permission denied to uid %u, the owner of the granted %s (api.open "
			 "opens files with the owner's access)",
			 norm, (unsigned)owner->st_uid, grant);
	else
		snprintf(whybuf, whysize, "%s: %s", norm, strerror(e));
	return -e;
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
	__attribute__((cleanup(identity_restore))) struct identity id = {0};
	cleanup_close int root = -1;
	cleanup_close int fd = -1;
	const struct ward_broker_grant *grant;
	const char *rel = "";
	bool ro_match = false;
	char proc[64];
	struct stat st, owner;
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
	/* From here on, as the granted path's owner (see the top). */
	e = fstat(root, &owner) < 0 ? errno : -identity_take(&id, owner.st_uid, owner.st_gid);
	if (e) {
		snprintf(whybuf, whysize, "cannot take the identity of the owner of %s: %s",
			 grant->name, strerror(e));
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
				return failed(whybuf, whysize, norm, e, grant->name, &owner);
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

		if (r < 0)
			return failed(whybuf, whysize, norm, errno, grant->name, &owner);
		return r;
	}
}
