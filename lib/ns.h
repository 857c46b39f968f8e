/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The namespace layer: creating namespaces and the identity mapping. */
#ifndef WARD_NS_H
#define WARD_NS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

/* fork()-like clone3: returns 0 in the child, the pid in the parent, -1 with
 * errno on failure.  cgroup_fd >= 0 adds CLONE_INTO_CGROUP.  Falls back to
 * clone(2) when clone3 answers ENOSYS. */
pid_t ward_clone3(uint64_t flags, int cgroup_fd);
/* clone3 answered ENOSYS (a seccomp filter around ward): ward_clone3 fell
 * back to clone(2), which ignored cgroup_fd; the caller must move the child
 * into its cgroup itself. */
bool ward_clone3_missing(void);

/* A child that shares the caller's memory until it executes (posix_spawn's
 * way): fn runs on a stack of its own, *stack (of *stack_len bytes), which
 * the caller unmaps with munmap once the child has executed or died.  The
 * caller must not run concurrently with the child: it may only wait for it
 * (a pipe the child holds with O_CLOEXEC) or for what it sends.  flags are
 * namespace flags of clone(2); the exit signal is SIGCHLD.  Returns the pid,
 * or -1 with errno. */
pid_t ward_spawn_shared(unsigned long flags, int (*fn)(void *), void *arg, void **stack,
			size_t *stack_len);
/* Map inside ids [0, count) of pid's user namespace to host [base, base+count). */
/* A user namespace whose only mapping is the COUNT ids from from_uid ->
 * host to_uid and from from_gid -> host to_gid (setgroups denied), for
 * MOUNT_ATTR_IDMAP: its descriptor keeps it alive after the child that made
 * it has exited.  Used by the view (ward_view_idmap, ward learn's lower
 * layers) and the OCI runtime (rootfs.c). */
int ward_ns_idmap_userns(uid_t from_uid, uid_t to_uid, gid_t from_gid, gid_t to_gid, uint32_t count,
			 ward_error_t *err);

int ward_ns_write_maps(pid_t pid, uint32_t uid_base, uint32_t gid_base, uint32_t count,
		       bool allow_setgroups, ward_error_t *err);
/* Rootless: map ids [0, count) of pid's user namespace onto the same ids of
 * its parent (a nested namespace inside the sandbox's own). */
int ward_ns_write_maps_nested(pid_t pid, uint32_t count, bool allow_setgroups, ward_error_t *err);
/* Bring up "lo" in the current network namespace. */
int ward_ns_loopback_up(ward_error_t *err);
/* Names of the namespaces in a CLONE_NEW* mask, space separated, into buf. */
const char *ward_ns_names(unsigned long mask, char *buf, size_t len);

#endif
