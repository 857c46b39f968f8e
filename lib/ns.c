/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ns.h"
#include "util.h"

/* Set once clone3 has answered ENOSYS in this process: a seccomp filter
 * around ward (ward inside ward, a container engine's default profile)
 * refuses it that way because a filter cannot read flags passed in memory,
 * expecting callers to fall back to clone(2), as glibc does. */
static bool clone3_missing;

bool ward_clone3_missing(void)
{
	return clone3_missing;
}

pid_t ward_clone3(uint64_t flags, int cgroup_fd)
{
	struct clone_args args;
	pid_t pid;

	if (!clone3_missing) {
		memset(&args, 0, sizeof(args));
		args.flags = flags;
		args.exit_signal = SIGCHLD;
		if (cgroup_fd >= 0) {
			args.flags |= CLONE_INTO_CGROUP;
			args.cgroup = (uint64_t)cgroup_fd;
		}
		/* The raw syscall returns twice like fork(); glibc's cached
		 * state is not involved (2.36 caches no pid). */
		pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
		if (pid >= 0 || errno != ENOSYS)
			return pid;
		clone3_missing = true;
	}
	/*
	 * clone(2) cannot start a child in a cgroup (CLONE_INTO_CGROUP is
	 * clone3's) nor create a time namespace (CLONE_NEWTIME's bit is part
	 * of clone's exit-signal byte): the caller moves the child into its
	 * cgroup afterwards (ward_clone3_missing() tells it to), and ward
	 * creates time namespaces with unshare(2) only.  Without a stack
	 * argument, clone returns twice like fork().  The argument order of
	 * the raw call (flags, stack, parent_tid, child_tid, tls) is x86-64's
	 * and arm64's.
	 */
	if (flags & ~(uint64_t)(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC |
				CLONE_NEWUTS | CLONE_NEWUSER | CLONE_NEWCGROUP)) {
		errno = ENOSYS;
		return -1;
	}
	return (pid_t)syscall(SYS_clone, (unsigned long)flags | SIGCHLD, NULL, NULL, NULL, 0UL);
}

/*
 * Why share: on a machine where page tables are costly (a virtual machine),
 * fork's copy of them, the copy-on-write faults that follow on both sides
 * and the teardown of the copy at execve cost about a millisecond, more
 * than everything the child does before it executes.  The stack is 1 MiB,
 * reserved but untouched until used, above a guard page.
 */
pid_t ward_spawn_shared(unsigned long flags, int (*fn)(void *), void *arg, void **stack,
			size_t *stack_len)
{
	const size_t guard = 4096, len = guard + ((size_t)1 << 20);
	char *s = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
	pid_t pid;
	int e;

	if (s == MAP_FAILED)
		return -1;
	if (mprotect(s, guard, PROT_NONE) < 0) {
		e = errno;
		munmap(s, len);
		errno = e;
		return -1;
	}
	pid = clone(fn, s + len, (int)(flags | CLONE_VM | SIGCHLD), arg);
	if (pid < 0) {
		e = errno;
		munmap(s, len);
		errno = e;
		return -1;
	}
	*stack = s;
	*stack_len = len;
	return pid;
}

int ward_ns_write_maps(pid_t pid, uint32_t uid_base, uint32_t gid_base, uint32_t count,
		       bool allow_setgroups, ward_error_t *err)
{
	char path[64], map[64];
	int r;

	snprintf(map, sizeof(map), "0 %u %u\n", uid_base, count);
	snprintf(path, sizeof(path), "/proc/%d/uid_map", pid);
	r = ward_write_file(path, map, strlen(map));
	if (r < 0) {
		errno = -r;
		return ward_error_sys(err, "cannot write the uid map (%s)", path);
	}
	/* "deny" keeps the supplementary groups the program was given (device
	 * groups); dropping a group can widen access where a file denies its
	 * group but allows others. */
	snprintf(path, sizeof(path), "/proc/%d/setgroups", pid);
	r = ward_write_file(path, allow_setgroups ? "allow" : "deny", allow_setgroups ? 5 : 4);
	if (r < 0) {
		errno = -r;
		return ward_error_sys(err, "cannot write %s", path);
	}
	snprintf(map, sizeof(map), "0 %u %u\n", gid_base, count);
	snprintf(path, sizeof(path), "/proc/%d/gid_map", pid);
	r = ward_write_file(path, map, strlen(map));
	if (r < 0) {
		errno = -r;
		return ward_error_sys(err, "cannot write the gid map (%s)", path);
	}
	return 0;
}

int ward_ns_write_maps_nested(pid_t pid, uint32_t count, bool allow_setgroups, ward_error_t *err)
{
	char path[64], map[96];
	const char *files[] = {"uid_map", "setgroups", "gid_map"};
	size_t i;
	int r;

	/* Each line of a map must fall within one line of the parent's: the
	 * parent's own id (0) and its subordinate range (1..) are two. */
	if (count > 1)
		snprintf(map, sizeof(map), "0 0 1\n1 1 %u\n", count - 1);
	else
		snprintf(map, sizeof(map), "0 0 1\n");
	for (i = 0; i < ARRAY_SIZE(files); i++) {
		const char *data = i == 1 ? (allow_setgroups ? "allow" : "deny") : map;

		snprintf(path, sizeof(path), "/proc/%d/%s", pid, files[i]);
		r = ward_write_file(path, data, strlen(data));
		if (r < 0) {
			errno = -r;
			return ward_error_sys(err, "cannot write %s", path);
		}
	}
	return 0;
}

int ward_ns_loopback_up(ward_error_t *err)
{
	struct ifreq ifr;
	int fd, r;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ward_error_sys(err, "socket for configuring lo");
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	r = ioctl(fd, SIOCGIFFLAGS, &ifr);
	if (r == 0) {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		r = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	if (r < 0) {
		ward_error_sys(err, "cannot bring up lo");
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

const char *ward_ns_names(unsigned long mask, char *buf, size_t len)
{
	static const struct {
		unsigned long flag;
		const char *name;
	} names[] = {
		{CLONE_NEWUSER, "user"},     {CLONE_NEWNS, "mount"},  {CLONE_NEWPID, "pid"},
		{CLONE_NEWNET, "net"},	     {CLONE_NEWIPC, "ipc"},   {CLONE_NEWUTS, "uts"},
		{CLONE_NEWCGROUP, "cgroup"}, {CLONE_NEWTIME, "time"},
	};
	size_t i, o = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if (!(mask & names[i].flag))
			continue;
		o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "%s%s", o ? " " : "",
				      names[i].name);
		if (o >= len)
			break;
	}
	return buf;
}

/* Make a user namespace whose only mapping is inside `from` -> host `to`,
 * for uids and gids; used as the idmapping of a mount.  The namespace is kept
 * alive by the returned descriptor after its creating child has exited. */
int ward_ns_idmap_userns(uid_t from_uid, uid_t to_uid, gid_t from_gid, gid_t to_gid, uint32_t count,
			 ward_error_t *err)
{
	char path[64], map[64];
	int pipefd[2], fd = -1, r;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return ward_error_sys(err, "pipe");
	pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0);
	if (pid < 0) {
		ward_error_sys(err, "cannot create a user namespace for an idmapped mount");
		close(pipefd[0]);
		close(pipefd[1]);
		return -1;
	}
	if (pid == 0) {
		char c;

		close(pipefd[1]);
		/* Wait until the parent has what it needs, then go. */
		(void)!read(pipefd[0], &c, 1);
		_exit(0);
	}
	close(pipefd[0]);
	snprintf(map, sizeof(map), "%u %u %u\n", (unsigned)from_uid, (unsigned)to_uid, count);
	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
	r = ward_write_file(path, map, strlen(map));
	if (r == 0) {
		snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)pid);
		r = ward_write_file(path, "deny", 4);
	}
	if (r == 0) {
		snprintf(map, sizeof(map), "%u %u %u\n", (unsigned)from_gid, (unsigned)to_gid,
			 count);
		snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
		r = ward_write_file(path, map, strlen(map));
	}
	if (r == 0) {
		snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			r = -errno;
	}
	close(pipefd[1]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	if (r < 0) {
		errno = -r;
		return ward_error_sys(err, "cannot write the idmapping of a mount");
	}
	return fd;
}
