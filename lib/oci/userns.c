// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * User namespaces for OCI containers under the entitlements annotation.
 *
 * A config without a user namespace runs its uid 0 as the host's uid 0:
 * only capabilities then stand between the container and every file and
 * sysctl of the host.  Under org.ward.entitlements ward adds a user
 * namespace when the config has none, mapping the container's ids 0..65535
 * onto a host range of their own, taken from a pool like `ward run`'s but
 * apart from it (OCI_POOL_BASE + 65536 x slot, 1024 slots above ward run's
 * 1024).  No two running containers share a range.
 *
 * A container outlives `ward create`, so its slot cannot be a lock held by
 * a process: it is a lease, /run/ward/oci-ids/SLOT, holding the pid and
 * start time of the container's init and its state directory.  A slot is
 * free when its file is missing or names a process that is gone (or
 * another process under a reused pid).  `delete` removes the lease; a
 * runtime that died before it could is cleaned up by the next take (the
 * holder gone and its state directory too).
 *
 * Idmapped mounts: a directory an fs.* entitlement grants is mounted with
 * its owner mapped onto the container process's host ids (as `ward run`
 * does), so that fs.write lets the container write as the directory's
 * owner there, and only there.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../launch.h"
#include "../util.h"
#include "internal.h"

#define POOL_DIR "/run/ward/oci-ids"

uint32_t ward_oci_pool_base(unsigned slot)
{
	return WARD_ID_POOL_BASE + (WARD_ID_POOL_SLOTS + slot) * WARD_ID_RANGE;
}

/* Is the lease's holder alive (the same process)? */
static bool lease_live(int dirfd, const char *name)
{
	cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	char buf[256];
	ssize_t n;
	long long pid = 0;
	unsigned long long start = 0;

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	if (sscanf(buf, "%lld %llu", &pid, &start) != 2 || pid <= 0 || pid > INT32_MAX)
		return false;
	return start && ward_oci_proc_start_time((pid_t)pid) == start;
}

static int lease_write(int dirfd, const char *name, pid_t pid, const char *state_dir)
{
	cleanup_free char *text =
		ward_xasprintf("%d %llu %s\n", (int)pid, ward_oci_proc_start_time(pid), state_dir);
	cleanup_free char *tmp = ward_xasprintf(".%s.tmp", name);
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (ward_write_all(fd, text, strlen(text)) < 0)
		r = -errno;
	close(fd);
	/* Renamed into place: a reader sees the old lease or the new one. */
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		r = -errno;
	return r;
}

/* Remove the leases of runtimes that died before they could give theirs
 * back (holder gone, state directory gone).  Called with the pool locked. */
static void pool_gc(int dirfd)
{
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		char buf[4200], *dir;
		ssize_t n;
		int lf;

		if (de->d_name[0] < '0' || de->d_name[0] > '9' || lease_live(dirfd, de->d_name))
			continue;
		lf = openat(dirfd, de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		n = lf >= 0 ? read(lf, buf, sizeof(buf) - 1) : -1;
		if (lf >= 0)
			close(lf);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		dir = strchr(buf, ' ');
		dir = dir ? strchr(dir + 1, ' ') : NULL;
		if (dir && access(dir + 1, F_OK) < 0 && errno == ENOENT)
			(void)unlinkat(dirfd, de->d_name, 0);
	}
	closedir(d);
}

int ward_oci_pool_take(const char *id, const char *state_dir, unsigned *slot, ward_error_t *err)
{
	cleanup_close int dirfd = -1;
	unsigned start = 0, i;
	const char *p;

	if (ward_mkdir_p(POOL_DIR, 0700) < 0)
		return ward_error_sys(err, "cannot create %s", POOL_DIR);
	dirfd = open(POOL_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dirfd < 0 || flock(dirfd, LOCK_EX) < 0)
		return ward_error_sys(err, "cannot lock %s", POOL_DIR);
	pool_gc(dirfd);
	for (p = id; *p; p++)
		start = start * 31 + (unsigned char)*p;
	for (i = 0; i < WARD_ID_POOL_SLOTS; i++) {
		char name[16];
		int r;

		*slot = (start + i) % WARD_ID_POOL_SLOTS;
		snprintf(name, sizeof(name), "%u", *slot);
		if (lease_live(dirfd, name))
			continue;
		/* Held by this runtime until the init exists (ward_oci_pool_hold). */
		r = lease_write(dirfd, name, getpid(), state_dir);
		if (r < 0) {
			errno = -r;
			return ward_error_sys(err, "cannot write %s/%s", POOL_DIR, name);
		}
		return 0;
	}
	return ward_error_set(err, EAGAIN,
			      "all %u host uid ranges for OCI containers are in use (%s): delete "
			      "stopped containers, or give the config a user namespace of its own",
			      WARD_ID_POOL_SLOTS, POOL_DIR);
}

int ward_oci_pool_hold(unsigned slot, pid_t init, const char *state_dir, ward_error_t *err)
{
	cleanup_close int dirfd = open(POOL_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	char name[16];
	int r;

	snprintf(name, sizeof(name), "%u", slot);
	if (dirfd < 0 || flock(dirfd, LOCK_EX) < 0)
		return ward_error_sys(err, "cannot lock %s", POOL_DIR);
	r = lease_write(dirfd, name, init, state_dir);
	if (r < 0) {
		errno = -r;
		return ward_error_sys(err, "cannot write %s/%s", POOL_DIR, name);
	}
	return 0;
}

void ward_oci_pool_release(unsigned slot, const char *state_dir)
{
	cleanup_close int dirfd = open(POOL_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	cleanup_free char *text = NULL;
	char name[16];
	const char *dir;

	snprintf(name, sizeof(name), "%u", slot);
	if (dirfd < 0 || flock(dirfd, LOCK_EX) < 0)
		return;
	{
		cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		char buf[4200];
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

		if (n <= 0)
			return;
		buf[n] = '\0';
		text = ward_xstrdup(buf);
	}
	/* Only our own lease: the slot may have been taken again since. */
	dir = strchr(text, ' ');
	dir = dir ? strchr(dir + 1, ' ') : NULL;
	if (dir && strncmp(dir + 1, state_dir, strlen(state_dir)) == 0 &&
	    dir[1 + strlen(state_dir)] == '\n')
		(void)unlinkat(dirfd, name, 0);
}
