/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The launcher: policy -> a running, confined program.
 *
 * Supervisor (the caller, normally root):
 *   checks every input and opens every host source; compiles (or loads from
 *   the cache) the syscall filter; takes a free host uid range; creates the
 *   cgroup; then clones the sandbox's init into new mount, pid, ipc, uts and
 *   (unless network.host) net namespaces.
 * Init (pid 1 inside; still host root, so it can bind what the supervisor
 *   opened and mount proc and sysfs):
 *   builds the view and pivots into it, sets the hostname, brings lo up for
 *   network.loopback, waits until the supervisor has put it in the cgroup,
 *   unshares the cgroup and time namespaces, and clones the program into a
 *   new user namespace whose maps it writes.  Then it only reaps and
 *   forwards signals, holding nothing but CAP_KILL.
 * Program:
 *   takes uid/gid 0 inside (an unprivileged host range outside), and applies
 *   the remaining layers in this order: session, rlimits, no_new_privs,
 *   capabilities (bounding set, securebits), Landlock, seccomp last, then the
 *   final capability trim and execve.  (minijail's order: seccomp last so
 *   that the setup syscalls need not be in the filter.)
 *
 * Past the point where privileges are partly dropped, a failing step is not
 * recovered: the child writes the message to the error pipe and _exits.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "caps.h"
#include "cgroup/cgroup.h"
#include "denials/audit.h"
#include "landlock.h"
#include "launch.h"
#include "mount.h"
#include "net/net.h"
#include "net/rtnl.h"
#include "ns.h"
#include "rlimit.h"
#include "rootless.h"
#include "seccomp/learn.h"
#include "seccomp/notify.h"
#include "seccomp/seccomp.h"
#include "util.h"

#define DEFAULT_STATE_DIR "/run/ward"
#define SANDBOX_PATH	  "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define MAX_GROUPS	  32
#define WARD_CG_MAX_PATHS 8

struct launch {
	const struct ward_policy *p;
	const struct ward_run_options *o;
	struct ward_policy cg_policy; /* shallow copy with room for init in pids.max */
	struct ward_view view;
	struct ward_seccomp_prog prog;
	/* A pipe: the supervisor writes the filter (its length, then the
	 * instructions) once init is under way; the program reads it when it
	 * gets to seccomp, waiting for it if need be. */
	int prog_fd, prog_wfd;
	struct ward_landlock_plan ll;
	struct ward_cgroup *cg;
	struct ward_net net; /* network.outbound: address, veth, NAT (lib/net/net.c) */
	bool has_net;
	int id_lock_fd;
	uint32_t id_base;
	int go[2];	/* supervisor -> init: "you are in the cgroup" */
	int started[2]; /* init -> supervisor: "I run" (see ward_run) */
	int errp[2];	/* init, program -> supervisor: status byte + message */
	int nsock[2];	/* program -> supervisor: the seccomp listener (SCM_RIGHTS) */
	int audit_fd;	/* Landlock's audit records (lib/denials/audit.h), or -1 */
	enum ward_sc_mode sc_mode;
	char **envp;
	size_t n_env;
	const char *cwd;
	gid_t groups[MAX_GROUPS];
	size_t n_groups;
	/* Rootless (lib/rootless.c): init is cloned into a user namespace of
	 * its own whose ids are the caller's (and subordinate ranges), and
	 * builds the view from inside it. */
	bool rootless;
	struct ward_rootless_ids ids;
	int cleaner_fd; /* rootless: its closing tells the cleaner to remove the cgroup */
	sigset_t fwd_mask, old_mask;
	bool masked; /* fwd_mask is blocked: until the cleanup is done */
	bool cg_gc_done;
};

/* WARD_DEBUG_TIMING=1: phase timestamps on stderr (ms since ward_run began),
 * to see where a start spends its time. */
static bool timing;
static struct timespec timing_t0;

static void phase(const char *what)
{
	struct timespec t;

	if (!timing)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t);
	fprintf(stderr, "ward: timing: %7.3f ms  [%d] %s\n",
		(double)(t.tv_sec - timing_t0.tv_sec) * 1e3 +
			(double)(t.tv_nsec - timing_t0.tv_nsec) / 1e6,
		(int)getpid(), what);
}

static const int forwarded_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

/* ---- child side: report and die ---- */

static __attribute__((noreturn, format(printf, 3, 4))) void child_fail(int errfd, int status,
								       const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	int n;

	buf[0] = (char)status;
	va_start(ap, fmt);
	n = vsnprintf(buf + 1, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	(void)!write(errfd, buf, (size_t)n + 1);
	_exit(status);
}

static __attribute__((noreturn)) void child_fail_err(int errfd, int status, ward_error_t *err)
{
	child_fail(errfd, status, "%s", *err && (*err)->msg ? (*err)->msg : "unknown error");
}

/* ---- environment ---- */

static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static void env_set(struct launch *l, const char *kv)
{
	size_t klen = strcspn(kv, "=");
	size_t i;

	for (i = 0; i < l->n_env; i++) {
		if (strncmp(l->envp[i], kv, klen) == 0 && l->envp[i][klen] == '=') {
			free(l->envp[i]);
			l->envp[i] = ward_xstrdup(kv);
			return;
		}
	}
	l->envp = ward_xrealloc(l->envp, (l->n_env + 2) * sizeof(*l->envp));
	l->envp[l->n_env++] = ward_xstrdup(kv);
	l->envp[l->n_env] = NULL;
}

static int build_env(struct launch *l, ward_error_t *err)
{
	const char *home = "/";
	size_t i;

	/* HOME is the caller's only when a grant makes it visible inside. */
	if (l->o->home && l->o->home[0] == '/') {
		for (i = 0; i < l->p->n_paths; i++)
			if (under(l->o->home, l->p->paths[i].path))
				home = l->o->home;
	}
	env_set(l, "PATH=" SANDBOX_PATH);
	{
		cleanup_free char *h = ward_xasprintf("HOME=%s", home);

		env_set(l, h);
	}
	if (l->o->term && *l->o->term) {
		cleanup_free char *t = ward_xasprintf("TERM=%s", l->o->term);

		env_set(l, t);
	}
	for (i = 0; i < l->o->n_env; i++) {
		const char *kv = l->o->env[i];
		const char *eq = strchr(kv, '=');

		if (eq == NULL || eq == kv)
			return ward_error_set(err, EINVAL, "--setenv %s: expected NAME=VALUE", kv);
		env_set(l, kv);
	}
	if (l->o->broker_fd > 2) {
		cleanup_free char *n = ward_xasprintf("WARD_NAME=%s", l->o->name ? l->o->name : "");

		env_set(l, "WARD_BROKER_FD=3");
		env_set(l, n);
	}
	l->cwd = l->o->cwd ? l->o->cwd : home;
	return 0;
}

/* ---- host uid range ---- */

/* Each running sandbox holds a lock on one slot of the pool, so no two
 * sandboxes share a host uid: one cannot signal or ptrace another even where
 * they could see each other.  The pool is host-wide (WARD_ID_POOL_DIR), not
 * under --state-dir: a `ward run` and a `ward up --state-dir X` draw from
 * the same locks. */
static int take_id_range(struct launch *l, ward_error_t *err)
{
	const char *dir = l->o->id_pool_dir ? l->o->id_pool_dir : WARD_ID_POOL_DIR;
	unsigned start = (unsigned)getpid() % WARD_ID_POOL_SLOTS, i;
	cleanup_close int dfd = -1;
	struct stat st;

	if (l->o->uid_base) {
		l->id_base = l->o->uid_base;
		return 0;
	}
	if (ward_mkdir_p(dir, 0700) < 0)
		return ward_error_sys(err, "cannot create %s", dir);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return ward_error_sys(err, "cannot open %s", dir);
	/* Whoever can write here can hold or free slots of others. */
	if (fstat(dfd, &st) < 0)
		return ward_error_sys(err, "cannot stat %s", dir);
	if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)))
		return ward_error_set(err, EPERM,
				      "%s must belong to uid %u and be writable by nobody else "
				      "(it is uid %u, mode %04o): it holds the uid pool's locks",
				      dir, (unsigned)geteuid(), (unsigned)st.st_uid,
				      (unsigned)(st.st_mode & 07777));
	for (i = 0; i < WARD_ID_POOL_SLOTS; i++) {
		unsigned slot = (start + i) % WARD_ID_POOL_SLOTS;
		char name[32];
		int fd;

		snprintf(name, sizeof(name), "%u.lock", slot);
		fd = openat(dfd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK,
			    0600);
		if (fd < 0)
			return ward_error_sys(err, "cannot open %s/%s", dir, name);
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			l->id_lock_fd = fd;
			l->id_base = WARD_ID_POOL_BASE + slot * WARD_ID_RANGE;
			return 0;
		}
		close(fd);
	}
	return ward_error_set(
		err, EAGAIN,
		"all %u host uid ranges are in use by running sandboxes; wait for one "
		"to end or give --uid-base",
		WARD_ID_POOL_SLOTS);
}

/* ---- the program ---- */

static char *find_executable(const char *name, bool *noexec)
{
	const char *path = SANDBOX_PATH;

	*noexec = false;
	if (strchr(name, '/'))
		return ward_xstrdup(name);
	while (*path) {
		size_t n = strcspn(path, ":");
		char *cand = ward_xasprintf("%.*s/%s", (int)n, path, name);
		struct stat st;

		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(cand, X_OK) == 0)
				return cand;
			*noexec = true;
		}
		free(cand);
		path += n;
		if (*path == ':')
			path++;
	}
	return NULL;
}

static int send_fd(int sock, int fd)
{
	char c = 'L';
	struct iovec iov = {.iov_base = &c, .iov_len = 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c_msg;

	memset(&u, 0, sizeof(u));
	c_msg = CMSG_FIRSTHDR(&msg);
	c_msg->cmsg_level = SOL_SOCKET;
	c_msg->cmsg_type = SCM_RIGHTS;
	c_msg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c_msg), &fd, sizeof(int));
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char c;
	struct iovec iov = {.iov_base = &c, .iov_len = 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c_msg;
	int fd = -1;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	c_msg = CMSG_FIRSTHDR(&msg);
	if (c_msg && c_msg->cmsg_level == SOL_SOCKET && c_msg->cmsg_type == SCM_RIGHTS &&
	    c_msg->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&fd, CMSG_DATA(c_msg), sizeof(int));
	return fd;
}

static int read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

static int load_prog(struct launch *l)
{
	uint32_t size;

	if (read_full(l->prog_fd, &size, sizeof(size)) < 0)
		return -1;
	if (size == 0 || size % 8 != 0 || size > 4096 * 8) {
		errno = EINVAL;
		return -1;
	}
	l->prog.insns = ward_xmalloc(size);
	l->prog.n_insns = size / 8;
	return read_full(l->prog_fd, l->prog.insns, size);
}

/* fd, or a copy of it above WARD_RUN_BROKER_FD if it is that number: the
 * broker descriptor is about to be put there (dup3 would close it). */
static int off_broker_fd(int efd, int fd, const char *what)
{
	int moved;

	if (fd != WARD_RUN_BROKER_FD)
		return fd;
	moved = fcntl(fd, F_DUPFD_CLOEXEC, WARD_RUN_BROKER_FD + 1);
	if (moved < 0)
		child_fail(efd, WARD_EXIT_FAILURE, "cannot move %s out of fd %d: %s", what,
			   WARD_RUN_BROKER_FD, strerror(errno));
	return moved;
}

static __attribute__((noreturn)) void run_program(struct launch *l, int ab_read, int execd_write)
{
	const struct ward_policy *p = l->p;
	ward_error_t err = NULL;
	int efd = l->errp[1];
	bool userns = (p->namespaces & CLONE_NEWUSER) != 0;
	cleanup_free char *exe = NULL;
	bool noexec = false;
	char c;

	/* Wait for init to write our uid/gid maps, and to be done with the
	 * memory we share (ward_spawn_shared). */
	if (read(ab_read, &c, 1) != 1)
		child_fail(efd, WARD_EXIT_FAILURE, "the sandbox's init died during setup");
	if (userns) {
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
			child_fail(efd, WARD_EXIT_FAILURE,
				   "cannot take uid 0 in the user namespace: %s", strerror(errno));
	} else {
		/* host.time: no user namespace; become the unprivileged host uid
		 * and keep only what the policy grants (CAP_SYS_TIME). */
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
			child_fail(efd, WARD_EXIT_FAILURE, "PR_SET_KEEPCAPS: %s", strerror(errno));
		if (setresgid(l->id_base, l->id_base, l->id_base) < 0 ||
		    setresuid(l->id_base, l->id_base, l->id_base) < 0)
			child_fail(efd, WARD_EXIT_FAILURE, "cannot take host uid %u: %s",
				   l->id_base, strerror(errno));
	}
	close(ab_read);
	/* A change of credentials clears the parent-death signal: set it now. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		child_fail(efd, WARD_EXIT_FAILURE, "PR_SET_PDEATHSIG: %s", strerror(errno));

	if (p->level == WARD_LEVEL_ADMIN && userns) {
		/* security.admin mounts in a mount namespace of its own user
		 * namespace: everything init mounted stays locked beneath it. */
		if (unshare(CLONE_NEWNS) < 0)
			child_fail(efd, WARD_EXIT_FAILURE,
				   "cannot create security.admin's mount namespace: %s",
				   strerror(errno));
	}
	/* A new session: no controlling terminal, so no TIOCSTI into the
	 * caller's terminal even if the filter were absent. */
	if (setsid() < 0)
		child_fail(efd, WARD_EXIT_FAILURE, "setsid: %s", strerror(errno));
	if (chdir(l->cwd) < 0)
		child_fail(efd, WARD_EXIT_FAILURE,
			   "cannot change to the directory %s inside the sandbox: %s (grant it "
			   "with fs.read=, or choose another with --chdir)",
			   l->cwd, strerror(errno));
	/* CVE-2024-21626: a working directory reached through a descriptor
	 * this process still holds (/proc/self/fd/N, or a link to it in a
	 * bundle's tree) could lie outside the sandbox's root, and it would
	 * survive execve.  The kernel's getcwd says "(unreachable)" for such
	 * a directory, which glibc turns into ENOENT. */
	{
		char where[4096];

		if (getcwd(where, sizeof(where)) == NULL || where[0] != '/')
			child_fail(efd, WARD_EXIT_FAILURE,
				   "the working directory %s is outside the sandbox's root (%s); "
				   "choose another with --chdir",
				   l->cwd, strerror(errno ? errno : ENOENT));
	}

	if (ward_rlimits_apply(p, &err) < 0)
		child_fail_err(efd, WARD_EXIT_FAILURE, &err);
	if (p->no_new_privs && ward_set_no_new_privs(&err) < 0)
		child_fail_err(efd, WARD_EXIT_FAILURE, &err);
	if (ward_caps_drop_bounding(p->caps, &err) < 0)
		child_fail_err(efd, WARD_EXIT_FAILURE, &err);

	exe = find_executable(l->o->argv[0], &noexec);
	if (exe == NULL) {
		if (noexec)
			child_fail(efd, WARD_EXIT_CANNOT,
				   "%s: found in the sandbox but not executable there (grant its "
				   "directory with fs.exec=DIR)",
				   l->o->argv[0]);
		child_fail(efd, WARD_EXIT_NOT_FOUND,
			   "%s: command not found in the sandbox (PATH=%s); give a full path, and "
			   "grant its directory with fs.exec=DIR if it is not a system directory",
			   l->o->argv[0], SANDBOX_PATH);
	}

	if (l->ll.abi > 0 && ward_landlock_apply(&l->ll, &err) < 0)
		child_fail_err(efd, WARD_EXIT_FAILURE, &err);

	if (sigprocmask(SIG_SETMASK, &l->old_mask, NULL) < 0)
		child_fail(efd, WARD_EXIT_FAILURE, "sigprocmask: %s", strerror(errno));
	/* Only 0-2 reach the program: everything else closes at execve,
	 * including the error pipe, whose closing tells the supervisor that
	 * execve succeeded. */
	/* ... except the broker descriptor, which the program gets as fd 3
	 * (WARD_BROKER_FD=3 in its environment): its one channel out. */
	/* What ward still needs after that must not sit where the broker
	 * descriptor goes: the error pipe, the listener's socket, the
	 * filter's pipe, and the pipe whose closing at execve tells init that
	 * the program has memory of its own (ward_spawn_shared). */
	if (l->o->broker_fd > 2 && l->o->broker_fd != WARD_RUN_BROKER_FD) {
		efd = off_broker_fd(efd, efd, "the error pipe");
		if (l->nsock[1] >= 0)
			l->nsock[1] = off_broker_fd(efd, l->nsock[1], "the listener's socket");
		l->prog_fd = off_broker_fd(efd, l->prog_fd, "the filter's pipe");
		(void)off_broker_fd(efd, execd_write, "init's exec pipe");
	}
	if (l->o->broker_fd > 2 && l->o->broker_fd != WARD_RUN_BROKER_FD &&
	    dup3(l->o->broker_fd, WARD_RUN_BROKER_FD, 0) < 0)
		child_fail(efd, WARD_EXIT_FAILURE, "cannot hand over the broker descriptor: %s",
			   strerror(errno));
	if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		child_fail(efd, WARD_EXIT_FAILURE, "close_range: %s", strerror(errno));
	if (l->o->broker_fd > 2 && fcntl(WARD_RUN_BROKER_FD, F_SETFD, 0) < 0)
		child_fail(efd, WARD_EXIT_FAILURE, "cannot hand over the broker descriptor: %s",
			   strerror(errno));

	/* The supervisor prepared the filter while init was building the view,
	 * and wrote it to the memfd before telling init to go on. */
	if (load_prog(l) < 0)
		child_fail(efd, WARD_EXIT_FAILURE, "cannot read the prepared syscall filter: %s",
			   strerror(errno));
	if (l->sc_mode == WARD_SC_ENFORCE) {
		if (ward_seccomp_install(&l->prog, 0, &err) < 0)
			child_fail_err(efd, WARD_EXIT_FAILURE, &err);
	} else {
		int listener =
			ward_seccomp_install(&l->prog, SECCOMP_FILTER_FLAG_NEW_LISTENER, &err);

		if (listener < 0)
			child_fail_err(efd, WARD_EXIT_FAILURE, &err);
		/* Hand the listener to the supervisor, which explains denials;
		 * the program itself keeps no way to answer its own. */
		if (send_fd(l->nsock[1], listener) < 0)
			child_fail(efd, WARD_EXIT_FAILURE, "cannot pass the seccomp listener: %s",
				   strerror(errno));
		close(listener);
		close(l->nsock[1]);
	}
	if (ward_caps_finish(p->caps, &err) < 0)
		child_fail_err(efd, WARD_EXIT_FAILURE, &err);

	phase("program: layers applied, execve");
	/* Reporting: execveat with AT_EMPTY_PATH (which a non-empty path
	 * ignores) is the one exec the filter does not send to the supervisor
	 * for an explanation (seccomp.c): the program starts without waiting
	 * for it. */
	if (l->sc_mode == WARD_SC_REPORT)
		syscall(SYS_execveat, AT_FDCWD, exe, l->o->argv, l->envp, AT_EMPTY_PATH);
	else
		execve(exe, l->o->argv, l->envp);
	{
		int e = errno;

		if (e == ENOENT)
			child_fail(efd, WARD_EXIT_NOT_FOUND,
				   "%s: not found in the sandbox (grant its directory with "
				   "fs.exec=DIR)",
				   exe);
		if (e == EACCES || e == EPERM)
			child_fail(efd, WARD_EXIT_CANNOT,
				   "%s: permission denied executing it in the sandbox (grant its "
				   "directory with fs.exec=DIR)",
				   exe);
		child_fail(efd, WARD_EXIT_CANNOT, "cannot execute %s: %s", exe, strerror(e));
	}
}

/* What the program's process starts with (ward_spawn_shared). */
struct program_start {
	struct launch *l;
	int ab_read, ab_write, execd_read, execd_write;
};

static int program_main(void *arg)
{
	struct program_start *s = arg;

	close(s->ab_write);
	close(s->execd_read);
	run_program(s->l, s->ab_read, s->execd_write);
}

/* ---- init ---- */

/* Init never executes anything, so its bounding set does not matter: the
 * permitted and effective sets are what it could use.  One capset. */
static int keep_only_cap_kill(void)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	d[0].effective = d[0].permitted = 1u << CAP_KILL;
	return (int)syscall(SYS_capset, &h, d);
}

/*
 * vm.memfd_noexec=2 in the sandbox's pid namespace: every memfd is created
 * non-executable and sealed so (MFD_NOEXEC_SEAL), and memfd_create(MFD_EXEC)
 * fails with EACCES, so a program cannot execveat() bytes it wrote into a
 * memfd (the exec rule of Landlock does not see memfds).  The sysctl is per
 * pid namespace: its handler acts on the writer's own namespace (init is
 * pid 1 of the new one), whichever procfs the file is reached through, and a
 * nested pid namespace cannot lower it.  Init writes it while it is still
 * host root with the host's /proc mounted.  Linux 6.3 and later; on an
 * older kernel ward refuses to run unless --best-effort.
 */
static void memfd_noexec(struct launch *l)
{
	int rc = ward_write_file("/proc/sys/vm/memfd_noexec", "2", 1);

	if (rc == -ENOENT && l->o->best_effort)
		return;
	/* Rootless: only the host's root may write a pid namespace's sysctl
	 * (its file mode is checked against the global uid 0), so the sandbox
	 * keeps what its pid namespace inherited from the host.  The filter
	 * still refuses memfd_create(MFD_EXEC); docs/rootless.md and `ward
	 * explain` say what is weaker. */
	if (l->rootless && (rc == -EACCES || rc == -EPERM))
		return;
	if (rc < 0)
		child_fail(l->errp[1], WARD_EXIT_FAILURE,
			   "cannot set vm.memfd_noexec=2 in the sandbox's pid namespace: %s%s",
			   strerror(-rc),
			   rc == -ENOENT ? " (this kernel is older than Linux 6.3: memfds the "
					   "program writes could be executed; run with "
					   "--best-effort to accept that)"
					 : "");
}

/*
 * network.admin.  The sandbox's first network namespace was made by the
 * supervisor (or by init, rootless) and belongs to a user namespace above
 * the program's, where its CAP_NET_ADMIN means nothing: the kernel checks a
 * network capability against the user namespace that owns the network
 * namespace.  So the program is cloned into a second network namespace,
 * which its own user namespace owns (clone makes the user namespace first).
 * Init, still root of the user namespace above, prepares it before the
 * program runs: the rules and IPv6 default of ward_net_setup_inside (the
 * program may change them: what must hold is enforced on the host, see
 * docs/engines.md), then eth0 moved in and configured, or lo brought up
 * for network.loopback.  Init stays in that namespace; it never uses it.
 */
static int net_admin_enter(struct launch *l, pid_t child, ward_error_t *err)
{
	const struct ward_policy *p = l->p;
	cleanup_close int self = -1, ns = -1;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)child);
	ns = open(path, O_RDONLY | O_CLOEXEC);
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (ns < 0 || self < 0)
		return ward_error_sys(err, "network.admin: cannot open the network namespaces");
	if (WARD_NET_HAS_VETH(p)) {
		if (setns(ns, CLONE_NEWNET) < 0)
			return ward_error_sys(err, "network.admin: cannot enter the program's "
						   "network namespace");
		/* The netlink socket stays open until init's close_range,
		 * after the program was let go: closing one that sent a
		 * transaction waits for an RCU grace period (lib/net/net.h). */
		int nft_fd = -1;

		if (ward_net_setup_inside(&l->net, &nft_fd, err) < 0)
			return -1;
		if (setns(self, CLONE_NEWNET) < 0)
			return ward_error_sys(err, "network.admin: cannot return to init's "
						   "network namespace");
		if (ward_rtnl_set_netns("eth0", ns, err) < 0)
			return -1;
	}
	if (setns(ns, CLONE_NEWNET) < 0)
		return ward_error_sys(
			err, "network.admin: cannot enter the program's network namespace");
	if (WARD_NET_HAS_VETH(p))
		return ward_net_configure_inside(&l->net, err);
	if (p->net == WARD_NET_LOOPBACK)
		return ward_ns_loopback_up(err);
	return 0;
}

/* Does the sandbox get its cgroup to divide (security.admin, root mode,
 * a cgroup made)? */
static bool admin_cgroup(const struct launch *l)
{
	return l->p->level == WARD_LEVEL_ADMIN && !l->rootless && l->cg &&
	       (l->p->namespaces & CLONE_NEWUSER) && !l->o->learn;
}

static __attribute__((noreturn)) void run_init(struct launch *l)
{
	const struct ward_policy *p = l->p;
	ward_error_t err = NULL;
	int efd = l->errp[1];
	int ab[2], execd[2], dumpable;
	struct program_start spawn;
	void *stack = NULL;
	size_t stack_len = 0;
	pid_t child;
	char c;

	/* First of all: the supervisor waits for this (ward_run). */
	(void)!write(l->started[1], "s", 1);
	close(l->started[1]);
	close(l->started[0]);
	close(l->go[1]);
	close(l->errp[0]);
	if (l->nsock[0] >= 0)
		close(l->nsock[0]);
	/* The supervisor's own: the cgroup directory (cgroup v2) and the uid
	 * pool's lock.  Neither init nor the program needs them, and a host
	 * directory must never be within the program's reach, even before
	 * execve closes what is left. */
	if (l->cg && ward_cgroup_dirfd(l->cg) >= 0)
		close(ward_cgroup_dirfd(l->cg));
	if (l->cleaner_fd >= 0)
		close(l->cleaner_fd);
	if (l->id_lock_fd >= 0)
		close(l->id_lock_fd);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		child_fail(efd, WARD_EXIT_FAILURE, "PR_SET_PDEATHSIG: %s", strerror(errno));
	/* Out of the caller's process group: a ^C reaches the supervisor, which
	 * forwards it once. */
	if (setsid() < 0)
		child_fail(efd, WARD_EXIT_FAILURE, "setsid: %s", strerror(errno));
	if (l->rootless) {
		/* Nothing can be done in the new user namespace before the
		 * supervisor has written its maps ("m"). */
		if (read(l->go[0], &c, 1) != 1 || c != 'm')
			_exit(WARD_EXIT_FAILURE);
		/* The host sources were opened in the host's mount namespace,
		 * whose mounts this one may not clone: reopen each here, check
		 * it is the same file, and detach its tree. */
		if (ward_view_rootless_detach(&l->view, &err) < 0)
			child_fail_err(efd, WARD_EXIT_FAILURE, &err);
	}
	if (!p->scratch_exec)
		memfd_noexec(l);

	if (ward_view_build(&l->view, &err) < 0)
		child_fail_err(efd, WARD_EXIT_FAILURE, &err);
	phase("init: view built");
	{
		const char *hn = l->o->hostname ? l->o->hostname : "ward";

		if (sethostname(hn, strlen(hn)) < 0)
			child_fail(efd, WARD_EXIT_FAILURE, "sethostname: %s", strerror(errno));
	}
	if (p->net == WARD_NET_LOOPBACK && ward_ns_loopback_up(&err) < 0)
		child_fail_err(efd, WARD_EXIT_FAILURE, &err);

	/* The cgroup namespace must be made after joining the cgroup, so that
	 * its root is the sandbox's cgroup. */
	/* "G": and the cgroup is the sandbox's to divide (admin_cgroup: the
	 * supervisor decides once the cgroup exists, after init was cloned). */
	if (read(l->go[0], &c, 1) != 1 || (c != 'g' && c != 'G'))
		_exit(WARD_EXIT_FAILURE);
	close(l->go[0]);
	/* A veth (network.outbound/connect/listen): the supervisor has created
	 * the pair (eth0 here), the host side and the rules before "go";
	 * configure this side before the program exists. */
	if (WARD_NET_HAS_VETH(p) && !p->net_admin && ward_net_configure_inside(&l->net, &err) < 0)
		child_fail_err(efd, WARD_EXIT_FAILURE, &err);
	if (unshare(CLONE_NEWCGROUP | (p->namespaces & CLONE_NEWTIME)) < 0)
		child_fail(efd, WARD_EXIT_FAILURE, "cannot create the cgroup/time namespaces: %s",
			   strerror(errno));
	/* security.admin: the sandbox's cgroup, given to it by the supervisor
	 * (ward_cgroup_give), is the root of what it sees at /sys/fs/cgroup,
	 * to divide among what it runs (an inner ward, an engine's
	 * containers); everything there counts against its limits. */
	if (c == 'G' && ward_cgroup_mount_inside("/sys/fs/cgroup", &err) < 0)
		child_fail_err(efd, WARD_EXIT_FAILURE, &err);
	/* Host root's supplementary groups must not reach the program; it gets
	 * only the groups of granted devices.  Rootless, the caller's groups
	 * can be dropped only where newgidmap left setgroups allowed, and are
	 * kept when a granted device is reached through one of them (its gid
	 * is not mapped in the namespace, so it cannot be set back). */
	if ((!l->rootless || (l->ids.subids && l->n_groups == 0)) &&
	    setgroups(l->n_groups, l->groups) < 0)
		child_fail(efd, WARD_EXIT_FAILURE, "setgroups: %s", strerror(errno));

	if (pipe2(ab, O_CLOEXEC) < 0 || pipe2(execd, O_CLOEXEC) < 0)
		child_fail(efd, WARD_EXIT_FAILURE, "pipe: %s", strerror(errno));
	/* The program shares init's memory until its execve (see
	 * ward_spawn_shared): from here on init only writes its maps while
	 * it waits for "g", then waits for the execve.  Its change of ids
	 * makes the shared memory non-dumpable; init restores its own
	 * state once the program has its own memory. */
	dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	spawn = (struct program_start){l, ab[0], ab[1], execd[0], execd[1]};
	child = ward_spawn_shared((p->namespaces & CLONE_NEWUSER) |
					  (p->net_admin ? CLONE_NEWNET : 0),
				  program_main, &spawn, &stack, &stack_len);
	if (child < 0)
		child_fail(efd, WARD_EXIT_FAILURE, "cannot start the program: %s", strerror(errno));
	close(ab[0]);
	close(execd[1]);
	if (p->namespaces & CLONE_NEWUSER) {
		bool allow_setgroups = p->level != WARD_LEVEL_CONFINED && l->n_groups == 0;

		/* ward learn too maps the program onto its unprivileged host
		 * range: its view shows the host's files with their owners
		 * through idmapped overlays (ward_view_learn_trees), and
		 * nothing outside them takes it for host root.  It may set its
		 * groups, as on the host: init left it none to drop. */
		/* Rootless: the program's namespace nests in init's, whose
		 * ids [0, count) it maps onto itself; setgroups can only stay
		 * allowed where it is allowed in init's namespace. */
		if (l->rootless)
			allow_setgroups = (allow_setgroups || l->o->learn) && l->ids.subids;
		else
			allow_setgroups = allow_setgroups || l->o->learn;
		if ((l->rootless
			     ? ward_ns_write_maps_nested(child, l->ids.count, allow_setgroups, &err)
			     : ward_ns_write_maps(child, l->id_base, l->id_base, WARD_ID_RANGE,
						  allow_setgroups, &err)) < 0) {
			kill(child, SIGKILL);
			child_fail_err(efd, WARD_EXIT_FAILURE, &err);
		}
		if (p->net_admin && net_admin_enter(l, child, &err) < 0) {
			kill(child, SIGKILL);
			child_fail_err(efd, WARD_EXIT_FAILURE, &err);
		}
	}
	phase("init: program cloned, maps written");
	if (write(ab[1], "g", 1) != 1) {
		kill(child, SIGKILL);
		child_fail(efd, WARD_EXIT_FAILURE, "sync with the program: %s", strerror(errno));
	}
	close(ab[1]);
	/* Nothing but this wait until the program has its own memory: the
	 * write end of execd closes at its execve, or when it dies. */
	while (read(execd[0], &c, 1) < 0 && errno == EINTR)
		;
	close(execd[0]);
	munmap(stack, stack_len);
	if (dumpable >= 0)
		prctl(PR_SET_DUMPABLE, dumpable, 0, 0, 0);
	/* Init keeps nothing of the host: no descriptor, no capability but
	 * CAP_KILL (to forward signals into the program's user namespace). */
	syscall(SYS_close_range, 3, ~0U, 0);
	if (keep_only_cap_kill() < 0)
		_exit(WARD_EXIT_FAILURE);

	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&l->fwd_mask, &si);

		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			kill(child, sig);
			continue;
		}
		for (;;) {
			int st;
			pid_t w = waitpid(-1, &st, WNOHANG);

			if (w <= 0)
				break;
			if (w == child) {
				/* When pid 1 exits the kernel kills the rest. */
				if (WIFEXITED(st))
					_exit(WEXITSTATUS(st));
				_exit(128 + WTERMSIG(st));
			}
		}
	}
}

/* ---- supervisor ---- */

/* Is this process already under a seccomp filter (Seccomp: 2 in its
 * status)? */
static bool under_seccomp_filter(void)
{
	cleanup_free char *st = NULL;
	size_t len = 0;
	const char *f;

	if (ward_read_file("/proc/self/status", &st, &len) < 0)
		return false;
	f = strstr(st, "\nSeccomp:");
	return f && strtol(f + 9, NULL, 10) == SECCOMP_MODE_FILTER;
}

static void warn(const struct launch *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void warn(const struct launch *l, const char *fmt, ...)
{
	va_list ap;

	if (l->o->quiet)
		return;
	fputs("ward: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * --denials-log under a filter of another sandbox: no listener, so no denial
 * can be recorded.  An empty (or absent) log would read as "nothing was
 * denied"; the log gets one record that says so instead, also under -q and
 * --quiet-denials (the text is ward's own: no escaping needed).
 */
static void denials_log_unrecorded(const struct launch *l)
{
	struct timespec ts;
	int fd = open(l->o->denials_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		      0600);

	if (fd < 0) {
		warn(l, "cannot open --denials-log %s: %s", l->o->denials_log, strerror(errno));
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	dprintf(fd,
		"{\"time\":%lld.%09ld,\"layer\":\"seccomp\",\"syscall\":null,"
		"\"unrecorded\":true,\"hint\":\"ward runs under a seccomp filter of another "
		"sandbox: the kernel allows one listener per filter chain, so this sandbox's "
		"denials are enforced but not recorded here\"}\n",
		(long long)ts.tv_sec, ts.tv_nsec);
	close(fd);
}

static int prepare_landlock(struct launch *l, ward_error_t *err)
{
	int abi = ward_landlock_abi();
	cleanup_free char *missing = NULL;

	/* ward learn observes: Landlock has no observing mode, so it is off. */
	if (l->o->learn) {
		memset(&l->ll, 0, sizeof(l->ll));
		return 0;
	}
	ward_landlock_plan(l->p, abi, &l->ll);
	if (abi <= 0) {
		if (!l->o->best_effort)
			return ward_error_set(
				err, ENOTSUP,
				"Landlock is not available in this kernel: the LSM "
				"layer (filesystem and TCP rules, socket and signal "
				"scoping) would be missing; run with --best-effort to "
				"accept the weaker sandbox");
		warn(l, "Landlock is not available: running without the LSM layer (--best-effort)");
		return 0;
	}
	missing = ward_landlock_missing_text(l->ll.missing);
	if (missing) {
		char *line = missing, *nl;

		while (line && *line) {
			nl = strchr(line, '\n');
			if (nl)
				*nl = '\0';
			warn(l, "%s", line);
			line = nl ? nl + 1 : NULL;
		}
	}
	return 0;
}

/*
 * What rootless mode cannot do, refused before anything is made, with the
 * reason (docs/rootless.md): the entitlements that need the host's
 * privilege.
 */
static int rootless_check(struct launch *l, ward_error_t *err)
{
	const struct ward_policy *p = l->p;

	if (p->host_time)
		return ward_error_set(err, EPERM,
				      "host.time needs host privilege: setting the host's clock "
				      "takes CAP_SYS_TIME in the host's user namespace, which an "
				      "ordinary user (uid %u) cannot give; run ward as root",
				      (unsigned)geteuid());
	if (l->o->uid_base)
		return ward_error_set(err, EINVAL,
				      "--uid-base needs root: an ordinary user maps only their own "
				      "ids and their ranges of /etc/subuid and /etc/subgid");
	ward_rootless_ids_plan(&l->ids, ward_rootless_wants_range(p, l->o->learn != NULL));
	return 0;
}

static int prepare_groups(struct launch *l, ward_error_t *err)
{
	size_t i, j;

	for (i = 0; i < l->view.n_devices; i++) {
		const struct ward_view_src *s = &l->view.devices[i];
		struct stat st;
		bool dup = false;

		if (fstat(s->fd, &st) < 0)
			return ward_error_sys(err, "host.devices=%s", s->path);
		if ((st.st_mode & (S_IROTH | S_IWOTH)) == (S_IROTH | S_IWOTH))
			continue;
		for (j = 0; j < l->n_groups; j++)
			dup |= l->groups[j] == st.st_gid;
		if (dup)
			continue;
		if (l->n_groups == MAX_GROUPS)
			return ward_error_set(err, E2BIG, "too many device groups");
		l->groups[l->n_groups++] = st.st_gid;
	}
	return 0;
}

/*
 * Rootless: a process that removes the sandbox's cgroup once the supervisor
 * is gone, however it went.  Root mode's next run removes what a supervisor
 * killed with SIGKILL left (ward_cgroup_gc); a user's next run may be days
 * away, and the cgroup is in a subtree an administrator gave them.  The
 * cleaner holds the read end of a pipe whose only writer is the supervisor:
 * end of file comes when the supervisor closes it after its own cleanup, or
 * when it dies.  The sandbox dies with it (init's parent-death signal), so the
 * cgroup is empty within moments; rmdir is retried while the kernel says
 * EBUSY.  It holds no other descriptor.
 */
static void start_cleaner(struct launch *l)
{
	const char *paths[WARD_CG_MAX_PATHS];
	size_t n = ward_cgroup_paths(l->cg, paths, ARRAY_SIZE(paths)), i;
	int p[2];
	pid_t pid;

	if (n == 0 || pipe2(p, O_CLOEXEC) < 0)
		return;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return;
	}
	if (pid == 0) {
		sigset_t none;
		char c;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* Not in the caller's session: a ^C or hangup there must not end
		 * it before the sandbox's cgroup is gone. */
		setsid();
		if (dup3(p[0], 3, 0) < 0)
			_exit(1);
		syscall(SYS_close_range, 4, ~0U, 0);
		while (read(3, &c, 1) < 0 && errno == EINTR)
			;
		for (i = 0; i < n; i++) {
			int tries = 200;

			while (rmdir(paths[i]) < 0 && errno == EBUSY && tries-- > 0)
				usleep(10000);
		}
		_exit(0);
	}
	close(p[0]);
	l->cleaner_fd = p[1];
}

/* Rootless: a write grant of the state directory or of a directory above
 * it lets the sandbox put a directory of its own in the state directory's
 * place for the next ward (hide_state covers only the directory itself):
 * such a grant is the user's account, as ~/.bashrc is.  Said, not refused
 * (docs/rootless.md, State). */
static void warn_state_writable(const struct launch *l)
{
	size_t i, j;

	for (i = 0; i < l->view.n_grants; i++) {
		const struct ward_view_src *g = &l->view.grants[i];

		if (!(g->access & WARD_FS_WRITE))
			continue;
		for (j = 0; j < ARRAY_SIZE(l->view.hide); j++) {
			const char *h = l->view.hide[j];
			size_t n = strlen(g->path);

			if (h == NULL || strncmp(h, g->path, n) != 0 ||
			    (h[n] != '/' && h[n] != '\0' && strcmp(g->path, "/") != 0))
				continue;
			{
				cleanup_free char *e = ward_escape(g->path, 256);

				warn(l,
				     "fs.write=%s covers ward's state directory %s: a program that "
				     "writes there can change what your later sandboxes run with "
				     "(as it could change ~/.bashrc); set XDG_RUNTIME_DIR, or "
				     "--state-dir, to a directory outside the grant",
				     e, h);
			}
			return;
		}
	}
}

/* Rootless: a cgroup delegated to the user, or a refusal that prints the
 * one command that fixes it (docs/rootless.md#limits). */
static int rootless_cgroup(struct launch *l, ward_error_t *err)
{
	struct ward_cgroup_where w = {.root = l->o->cgroup_root, .no_devices = true};
	const char *how = NULL;
	cleanup_free char *parent = ward_cgroup_delegated(l->o->cgroup_root, geteuid(), &how);
	char name[64];

	if (parent == NULL && how) {
		cleanup_free char *e = ward_escape(getenv("WARD_CGROUP"), 256);

		return ward_error_set(err, EINVAL,
				      "WARD_CGROUP=\"%s\" is not a cgroup: it must name a cgroup "
				      "delegated to you, below the hierarchy's root and without "
				      "\"..\" (or unset it)",
				      e);
	}
	if (parent == NULL) {
		if (!l->o->best_effort)
			return ward_error_set(
				err, EACCES,
				"no cgroup is delegated to you (uid %u), so process.limit, "
				"memory.limit and cpu.limit cannot be enforced (a fork bomb or "
				"memory bomb would not be contained); an administrator fixes it "
				"once with: sudo ward delegate %u  (or set WARD_CGROUP to a cgroup "
				"delegated to you; run with --best-effort to accept the weaker "
				"sandbox)",
				(unsigned)ward_host_uid(), (unsigned)ward_host_uid());
		warn(l,
		     "no cgroup delegated to uid %u: resource limits are not enforced "
		     "(--best-effort; fix: sudo ward delegate %u)",
		     (unsigned)ward_host_uid(), (unsigned)ward_host_uid());
		return 0;
	}
	w.parent = parent;
	l->cg_policy = *l->p;
	l->cg_policy.pids_max = l->p->pids_max + 1;
	snprintf(name, sizeof(name), "run-%d", (int)getpid());
	ward_cgroup_gc_at(&w);
	l->cg_gc_done = true;
	if (ward_cgroup_create_at(&l->cg_policy, &w, name, &l->cg, err) < 0) {
		if (!l->o->best_effort)
			return ward_error_wrap(err,
					       "cannot create the sandbox's cgroup in %s (from %s; "
					       "run with --best-effort to accept no resource "
					       "limits)",
					       parent, how);
		warn(l, "%s; resource limits are not enforced (--best-effort)", (*err)->msg);
		ward_error_free(err);
	}
	start_cleaner(l);
	return 0;
}

static int prepare_cgroup(struct launch *l, ward_error_t *err)
{
	enum ward_cgroup_layout layout = ward_cgroup_detect(l->o->cgroup_root);
	char name[64];

	if (layout == WARD_CGROUP_NONE) {
		if (!l->o->best_effort)
			return ward_error_set(
				err, ENOTSUP,
				"no cgroup hierarchy found under %s: process.limit, "
				"memory.limit and cpu.limit cannot be enforced (a fork "
				"bomb or memory bomb would not be contained); run with "
				"--best-effort to accept the weaker sandbox",
				l->o->cgroup_root ? l->o->cgroup_root : "/sys/fs/cgroup");
		warn(l, "no cgroups: resource limits are not enforced (--best-effort)");
		return 0;
	}
	if (l->rootless)
		return rootless_cgroup(l, err);
	/* init counts against pids.max too: give the program the number it was
	 * promised. */
	l->cg_policy = *l->p;
	l->cg_policy.pids_max = l->p->pids_max + 1;
	snprintf(name, sizeof(name), "run-%d", (int)getpid());
	/* A supervisor killed with SIGKILL leaves its empty cgroups behind, and
	 * pids are reused: one of an earlier ward with our pid is removed
	 * first.  The others are collected once the sandbox starts. */
	if (ward_cgroup_create(&l->cg_policy, l->o->cgroup_root, name, &l->cg, err) < 0 &&
	    (*err)->code == EEXIST) {
		ward_error_free(err);
		ward_cgroup_gc(l->o->cgroup_root);
		l->cg_gc_done = true;
		(void)ward_cgroup_create(&l->cg_policy, l->o->cgroup_root, name, &l->cg, err);
	}
	if (l->cg == NULL) {
		if (!l->o->best_effort)
			return ward_error_wrap(err, "cannot create the sandbox's cgroup (run with "
						    "--best-effort to accept no resource limits)");
		warn(l, "%s; resource limits are not enforced (--best-effort)", (*err)->msg);
		ward_error_free(err);
	}
	if (admin_cgroup(l) && ward_cgroup_give(l->cg, l->id_base, l->id_base, err) < 0)
		return -1;
	return 0;
}

static void launch_free(struct launch *l)
{
	size_t i;

	ward_view_free(&l->view);
	ward_seccomp_prog_free(&l->prog);
	ward_landlock_plan_free(&l->ll);
	if (l->audit_fd >= 0)
		close(l->audit_fd);
	if (l->cg) {
		ward_error_t e = NULL;

		if (ward_cgroup_destroy(l->cg, &e) < 0)
			fprintf(stderr, "ward: warning: %s\n", e->msg);
		ward_error_free(&e);
		l->cg = NULL;
	}
	if (l->cleaner_fd >= 0)
		close(l->cleaner_fd);
	if (l->has_net) {
		/* Init has been reaped on every path that made a veth. */
		ward_net_release(&l->net, true);
		l->has_net = false;
	}
	if (l->id_lock_fd >= 0)
		close(l->id_lock_fd);
	if (l->prog_fd >= 0)
		close(l->prog_fd);
	if (l->prog_wfd >= 0)
		close(l->prog_wfd);
	for (i = 0; i < 2; i++) {
		if (l->go[i] >= 0)
			close(l->go[i]);
		if (l->started[i] >= 0)
			close(l->started[i]);
		if (l->errp[i] >= 0)
			close(l->errp[i]);
		if (l->nsock[i] >= 0)
			close(l->nsock[i]);
	}
	for (i = 0; i < l->n_env; i++)
		free(l->envp[i]);
	free(l->envp);
}

static void explain_limits(const struct launch *l, int status)
{
	if (l->cg == NULL || l->o->quiet)
		return;
	if (ward_cgroup_oom_killed(l->cg))
		fprintf(stderr,
			"ward: the program was killed by the memory limit (%llu MiB); grant a "
			"larger memory.limit to allow more\n",
			(unsigned long long)(l->p->memory_max >> 20));
	if (ward_cgroup_pids_exhausted(l->cg))
		fprintf(stderr,
			"ward: the program hit process.limit=%llu (a fork failed); grant a larger "
			"process.limit to allow more\n",
			(unsigned long long)l->p->pids_max);
	(void)status;
}

/* The supervisor's loop: forward signals to init, receive the seccomp
 * listener from the program, explain denials, until init exits.  The
 * denial machinery is only built when the first denial arrives, so a
 * program that is never refused anything pays nothing for it. */
static void notify_ready(const struct launch *l, int fd, pid_t init)
{
	char a[INET_ADDRSTRLEN] = "-";

	if (l->has_net) {
		struct in_addr in = {.s_addr = htonl(l->net.addr)};

		inet_ntop(AF_INET, &in, a, sizeof(a));
	}
	if (dprintf(fd, "ready pid=%d address=%s\n", (int)init, a) < 0)
		warn(l, "cannot write to --notify-fd: %s", strerror(errno));
}

/*
 * Landlock's refusals explained from its audit records (ABI 7): only when
 * the program's other denials are explained too, and only while the
 * kernel's audit is enabled (it logs nothing otherwise).  --enable-audit
 * turns it on, host-wide, and says so.  The socket is open before the
 * program exists, so that no record of it is missed.
 */
static void prepare_audit(struct launch *l)
{
	ward_error_t aerr = NULL;
	int on;

	if (l->sc_mode != WARD_SC_REPORT || l->ll.restrict_flags == 0)
		return;
	on = ward_audit_enabled(&aerr);
	if (on == 0 && l->o->enable_audit) {
		if (ward_audit_enable(&aerr) < 0) {
			warn(l, "%s; Landlock's refusals are not explained", aerr->msg);
			ward_error_free(&aerr);
			return;
		}
		warn(l, "turned the kernel's audit subsystem on (host-wide; it stays on) so "
			"that Landlock's refusals are explained");
		on = 1;
	}
	if (on > 0)
		l->audit_fd = ward_audit_open(&aerr);
	ward_error_free(&aerr);
}

/* The program's host pid (the one that created the Landlock domain): init's
 * one child while it hands its listener over, before its execve. */
static pid_t program_pid(pid_t init)
{
	char path[64], buf[64];
	cleanup_close int fd = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)init, (int)init);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || (n = read(fd, buf, sizeof(buf) - 1)) <= 0)
		return 0;
	buf[n] = '\0';
	return (pid_t)strtol(buf, NULL, 10);
}

/* The supervisor's explainer of denials: the rules by system call number
 * (libseccomp's names resolved once each), the --denials-log file. */
static struct ward_denials *open_denials(struct launch *l, FILE **jsonl, ward_error_t *err)
{
	struct ward_denials_options dopt = {0};

	if (l->o->denials_log) {
		int fd = open(l->o->denials_log,
			      O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

		if (fd >= 0 && (*jsonl = fdopen(fd, "a")) == NULL)
			close(fd);
		if (*jsonl == NULL)
			warn(l, "cannot open --denials-log %s: %s", l->o->denials_log,
			     strerror(errno));
	}
	dopt.human = l->o->quiet_denials ? NULL : stderr;
	dopt.jsonl = *jsonl;
	dopt.learn = l->o->learn;
	if (l->has_net && l->p->net == WARD_NET_PORTS && !l->p->net_lo_open) {
		dopt.explain_connect = true;
		dopt.peers = l->net.peers;
		dopt.n_peers = l->net.n_peers;
		dopt.landlock_net = (l->ll.handled_net & LANDLOCK_ACCESS_NET_CONNECT_TCP) != 0;
	}
	dopt.explain_exec = l->sc_mode == WARD_SC_REPORT;
	dopt.ll = &l->ll;
	dopt.landlock_audited = l->audit_fd >= 0;
	return ward_denials_new(l->p, &dopt, err);
}

static uint64_t monotonic_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/*
 * Records of the program's last refusals may still be on their way when it
 * has exited: Landlock queues them in the refused call itself, and the
 * kernel's audit thread sends them to every reader one by one, in order,
 * some time later (an access record, then its domain's, which is what
 * makes it ours).  So when the program has exited, the records ahead in
 * the kernel's queue include the program's: read at least as many records
 * as were queued then, or until the queue is empty.  On a host whose audit
 * thread is held up, stop after half a second: a record missed loses only
 * an explanation.
 */
static void last_audit_records(struct launch *l, struct ward_denials *d, pid_t prog)
{
	struct pollfd pf = {.fd = l->audit_fd, .events = POLLIN};
	uint64_t until = monotonic_ns() + 500 * 1000000ull;
	int ahead = ward_audit_backlog(NULL);
	size_t got = ward_denials_audit(d, l->audit_fd, &prog, 1);

	while (ahead > 0 && got < (size_t)ahead && monotonic_ns() < until) {
		(void)poll(&pf, 1, 5);
		got += ward_denials_audit(d, l->audit_fd, &prog, 1);
		if (got < (size_t)ahead && ward_audit_backlog(NULL) <= 0) {
			/* Fewer came than were queued: other readers' turn, or
			 * the last one is between the queue and the socket. */
			(void)poll(&pf, 1, 1);
			ward_denials_audit(d, l->audit_fd, &prog, 1);
			return;
		}
	}
}

static int supervise(struct launch *l, pid_t init, int *wstatus, ward_error_t *err)
{
	struct ward_denials *d = NULL;
	struct pollfd pf[5];
	pid_t prog = 0;
	cleanup_close int sfd = signalfd(-1, &l->fwd_mask, SFD_CLOEXEC | SFD_NONBLOCK);
	int notify = -1;
	cleanup_close int listener = -1;
	FILE *jsonl = NULL;
	int rc = 0;

	if (sfd < 0)
		return ward_error_sys(err, "signalfd");
	if (l->o->notify_fd > 2)
		notify = l->o->notify_fd;
	/* A listener will come (the filter reports or learns): its first
	 * notification is the program's execve, which waits for the answer.
	 * Make the explainer now, while init builds the view, not then. */
	if (l->nsock[0] >= 0 && (d = open_denials(l, &jsonl, err)) == NULL) {
		rc = -1;
		goto done;
	}
	for (;;) {
		nfds_t n = 0;
		struct signalfd_siginfo si;

		pf[n++] = (struct pollfd){.fd = sfd, .events = POLLIN};
		if (notify >= 0)
			pf[n++] = (struct pollfd){.fd = l->errp[0], .events = POLLIN};
		if (l->nsock[0] >= 0)
			pf[n++] = (struct pollfd){.fd = l->nsock[0], .events = POLLIN};
		if (listener >= 0)
			pf[n++] = (struct pollfd){.fd = listener, .events = POLLIN};
		if (l->audit_fd >= 0 && prog > 0)
			pf[n++] = (struct pollfd){.fd = l->audit_fd, .events = POLLIN};
		if (poll(pf, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			rc = ward_error_sys(err, "poll");
			break;
		}
		for (nfds_t i = 1; i < n; i++) {
			if (notify >= 0 && pf[i].fd == l->errp[0] && pf[i].revents) {
				/* Every copy of the error pipe is closed and nothing
				 * was written: the program was executed.  Data means
				 * a failure, read after init exits. */
				if (!(pf[i].revents & POLLIN))
					notify_ready(l, notify, init);
				close(notify);
				notify = -1;
			} else if (pf[i].fd == l->nsock[0] && pf[i].revents) {
				listener = recv_fd(l->nsock[0]);
				close(l->nsock[0]);
				l->nsock[0] = -1;
				prog = program_pid(init);
			} else if ((pf[i].fd == listener || pf[i].fd == l->audit_fd) &&
				   (pf[i].revents & POLLIN)) {
				if (d == NULL && (d = open_denials(l, &jsonl, err)) == NULL) {
					rc = -1;
					goto done;
				}
				if (pf[i].fd == l->audit_fd) {
					ward_denials_audit(d, l->audit_fd, &prog, 1);
					continue;
				}
				if (ward_denials_handle(d, listener, err) < 0) {
					/* Without the supervisor the kernel answers
					 * ENOSYS: still denied.  Say so once. */
					warn(l, "%s; denials are no longer explained", (*err)->msg);
					ward_error_free(err);
					close(listener);
					listener = -1;
				}
			} else if (pf[i].fd == listener && (pf[i].revents & (POLLHUP | POLLERR))) {
				close(listener);
				listener = -1;
			}
		}
		if (!(pf[0].revents & POLLIN))
			continue;
		while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			if (si.ssi_signo != SIGCHLD) {
				kill(init, (int)si.ssi_signo);
				continue;
			}
			if (waitpid(init, wstatus, WNOHANG) == init)
				goto done;
		}
	}
done:
	if (d && l->audit_fd >= 0 && prog > 0)
		last_audit_records(l, d, prog);
	if (d) {
		ward_denials_summary(d);
		ward_denials_free(d);
	}
	if (jsonl)
		fclose(jsonl);
	return rc;
}

static void abort_init(pid_t init)
{
	kill(init, SIGKILL);
	while (waitpid(init, NULL, 0) < 0 && errno == EINTR)
		;
}

/* The forwarded signals stay blocked until the cgroup, the veth and the
 * uid range are released: a second SIGTERM that arrives after init exited
 * (a caller that terminates twice) would otherwise kill the supervisor
 * halfway through its cleanup and leave the cgroup behind.  What arrived
 * meanwhile was meant for a sandbox that is gone: it is dropped, and ward
 * exits with the program's status. */
static void release_signals(struct launch *l)
{
	const struct timespec zero = {0, 0};

	if (!l->masked)
		return;
	while (sigtimedwait(&l->fwd_mask, NULL, &zero) > 0)
		;
	sigprocmask(SIG_SETMASK, &l->old_mask, NULL);
	l->masked = false;
}

static int write_prog(struct launch *l, ward_error_t *err)
{
	uint32_t size = (uint32_t)(l->prog.n_insns * 8);

	/* At most 32 KiB: the pipe takes it without a reader. */
	if (ward_write_all(l->prog_wfd, &size, sizeof(size)) != (ssize_t)sizeof(size) ||
	    ward_write_all(l->prog_wfd, l->prog.insns, size) != (ssize_t)size)
		return ward_error_sys(err, "cannot hand the syscall filter over");
	return 0;
}

int ward_run(const struct ward_policy *p, const struct ward_run_options *o, int *status,
	     ward_error_t *err)
{
	bool cg_first;
	struct launch l;
	const char *state_dir = o->state_dir ? o->state_dir : DEFAULT_STATE_DIR;
	cleanup_free char *own_state_dir = NULL;
	cleanup_free char *cache_dir = NULL;
	pid_t init;
	int wstatus = 0, rc = -1;
	size_t i;

	timing = getenv("WARD_DEBUG_TIMING") != NULL;
	if (timing)
		clock_gettime(CLOCK_MONOTONIC, &timing_t0);
	memset(&l, 0, sizeof(l));
	l.p = p;
	l.o = o;
	l.id_lock_fd = -1;
	l.cleaner_fd = -1;
	l.prog_fd = l.prog_wfd = -1;
	l.go[0] = l.go[1] = l.errp[0] = l.errp[1] = l.nsock[0] = l.nsock[1] = -1;
	l.started[0] = l.started[1] = -1;
	l.audit_fd = -1;
	l.sc_mode = o->learn				  ? WARD_SC_LEARN
		    : o->quiet_denials && !o->denials_log ? WARD_SC_ENFORCE
							  : WARD_SC_REPORT;
	l.view.rootfs_fd = -1;
	*status = WARD_EXIT_FAILURE;
	/* Under a filter of another sandbox (ward inside ward), the kernel
	 * refuses a second listener in the chain (EBUSY): enforce without
	 * reports (the outer ward still reports what its own filter denies). */
	if (l.sc_mode == WARD_SC_REPORT && under_seccomp_filter()) {
		l.sc_mode = WARD_SC_ENFORCE;
		if (!o->quiet_denials)
			warn(&l, "ward runs under a seccomp filter (inside another sandbox?): "
				 "the kernel allows one listener per filter chain, so denials are "
				 "enforced but not reported");
		if (o->denials_log)
			denials_log_unrecorded(&l);
	}

	if (o->argv == NULL || o->argv[0] == NULL || o->argv[0][0] == '\0') {
		ward_error_set(err, EINVAL,
			       "no program given (write: ward run [OPTIONS] -- PROGRAM "
			       "[ARGS...])");
		goto out;
	}
	l.rootless = ward_rootless();
	if (l.rootless) {
		if (rootless_check(&l, err) < 0)
			goto out;
		if (o->state_dir == NULL) {
			own_state_dir = ward_default_state_dir(err);
			if (own_state_dir == NULL)
				goto out;
			state_dir = own_state_dir;
		}
	}
	if (ward_rlimits_check(p, err) < 0 || build_env(&l, err) < 0)
		goto out;
	if ((o->learn ? ward_view_prepare_learn(p, &l.view, err)
		      : ward_view_prepare(p, o->rootfs, &l.view, err)) < 0)
		goto out;
	if (prepare_landlock(&l, err) < 0)
		goto out;
	/* A --rootfs brings its own top-level entries, bound like the host's
	 * system directories: Landlock must let them be read and run too. */
	if (o->rootfs)
		for (i = 0; i < l.view.n_sys; i++)
			ward_landlock_plan_add_system(&l.ll, l.view.sys[i].path);
	phase("supervisor: landlock planned, view opened");
	if (prepare_groups(&l, err) < 0)
		goto out;
	if (ward_mkdir_p(state_dir, 0700) < 0) {
		ward_error_sys(err, "cannot create the state directory %s", state_dir);
		goto out;
	}
	if (l.rootless) {
		/* No host uid range, no idmapped mounts (they need the host's
		 * CAP_SYS_ADMIN): init opens and detaches the trees inside its
		 * own user namespace (ward_view_rootless_detach). */
		l.view.rootless = true;
		l.view.sys_bind = !(p->namespaces & CLONE_NEWNET);
		{
			/* This run's state directory and the user's default
			 * one (the broker's), as they are on the host. */
			cleanup_free char *def = ward_default_state_dir_path();

			l.view.hide[0] = realpath(state_dir, NULL);
			l.view.hide[1] = def ? realpath(def, NULL) : NULL;
			if (l.view.hide[1] && l.view.hide[0] &&
			    strcmp(l.view.hide[0], l.view.hide[1]) == 0) {
				free(l.view.hide[1]);
				l.view.hide[1] = NULL;
			}
			if (l.view.hide[0] == NULL) {
				ward_error_sys(err, "cannot resolve the state directory %s",
					       state_dir);
				goto out;
			}
		}
		warn_state_writable(&l);
		if (o->learn) {
			l.view.learn_paths[0] = l.cwd;
			l.view.learn_paths[1] = "/var/tmp";
		}
		goto ids_done;
	}
	if (take_id_range(&l, err) < 0)
		goto out;
	{
		cleanup_free char *skipped = NULL;

		if (ward_view_learn_trees(&l.view, l.id_base, WARD_ID_RANGE, &skipped, err) < 0)
			goto out;
		if (skipped)
			warn(&l,
			     "ward learn: left out of the view (their filesystems cannot be "
			     "idmapped): %s",
			     skipped);
	}
	if (ward_view_idmap(&l.view, l.id_base, l.id_base, err) < 0 ||
	    ward_view_detach(&l.view, err) < 0)
		goto out;
ids_done:
	phase("supervisor: ids taken, trees detached");
	/* On cgroup v2 the sandbox is cloned straight into its cgroup
	 * (CLONE_INTO_CGROUP), so the cgroup comes first; on v1 and hybrid
	 * layouts it is made after clone, while init builds the view.
	 * Rootless with a network, first too: the supervisor is about to join
	 * the user's router (lib/net/router.h), where its uid reads 0, and
	 * the delegated cgroup is found by the user's own uid. */
	cg_first = ward_cgroup_detect(o->cgroup_root) == WARD_CGROUP_V2 ||
		   (l.rootless && WARD_NET_HAS_VETH(p));
	if (cg_first && prepare_cgroup(&l, err) < 0)
		goto out;
	/* A veth: check the range, resolve network.connect hosts, check
	 * --publish and take an address before init exists (init inherits
	 * it); the veth is made once init's pid is known.  Rootless, the
	 * supervisor joins the user's router at the end of this (and the
	 * sandbox's user namespace then nests in the router's). */
	if (WARD_NET_HAS_VETH(p)) {
		/* Rootless: one router per user, whatever --state-dir says. */
		cleanup_free char *user_dir = l.rootless ? ward_default_state_dir(err) : NULL;
		cleanup_free char *net_dir = user_dir ? ward_xasprintf("%s/net", user_dir) : NULL;
		/* The router maps every id the user may have (the subordinate
		 * ranges when there are any), whatever this sandbox maps: the
		 * next sandbox of the user may need them. */
		struct ward_rootless_ids router_ids = {0};
		struct ward_net_opts no = {
			.hosts = o->hosts,
			.n_hosts = o->n_hosts,
			.publish = o->publish,
			.n_publish = o->n_publish,
			.hostname = o->hostname,
			.name = o->name,
			.state_dir = state_dir,
			.rootless_ids = l.rootless ? &router_ids : NULL,
			.net_dir = net_dir,
		};

		if (l.rootless && user_dir == NULL)
			goto out;
		if (l.rootless)
			ward_rootless_ids_plan(&router_ids, true);
		l.has_net = true;
		if (ward_net_prepare(&l.net, p, &no, err) < 0 ||
		    ward_view_add_file(&l.view, l.net.hosts_path, "/etc/hosts", err) < 0 ||
		    (l.net.resolv_path &&
		     ward_view_add_file(&l.view, l.net.resolv_path, "/etc/resolv.conf", err) < 0))
			goto out;
	} else if (o->n_publish) {
		/* --add-host is harmless without an interface (nothing to reach);
		 * --publish would be a promise ward cannot keep. */
		ward_error_set(err, EINVAL,
			       "--publish needs a network interface: grant network.listen=PORT");
		goto out;
	}
	{
		int pp[2];

		if (pipe2(pp, O_CLOEXEC) < 0) {
			ward_error_sys(err, "pipe");
			goto out;
		}
		l.prog_fd = pp[0];
		l.prog_wfd = pp[1];
	}

	if (pipe2(l.go, O_CLOEXEC) < 0 || pipe2(l.errp, O_CLOEXEC) < 0 ||
	    pipe2(l.started, O_CLOEXEC) < 0) {
		ward_error_sys(err, "pipe");
		goto out;
	}
	if (l.sc_mode != WARD_SC_ENFORCE &&
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, l.nsock) < 0) {
		ward_error_sys(err, "socketpair");
		goto out;
	}
	sigemptyset(&l.fwd_mask);
	for (i = 0; i < ARRAY_SIZE(forwarded_signals); i++)
		sigaddset(&l.fwd_mask, forwarded_signals[i]);
	sigaddset(&l.fwd_mask, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &l.fwd_mask, &l.old_mask) < 0) {
		ward_error_sys(err, "sigprocmask");
		goto out;
	}
	l.masked = true;
	fflush(NULL);
	phase("supervisor: cloning init");

	/* Rootless: init gets a user namespace of its own, which owns every
	 * other namespace of the sandbox; the program's nests inside it. */
	init = ward_clone3((p->namespaces & (CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET |
					     CLONE_NEWIPC | CLONE_NEWUTS)) |
				   (l.rootless ? CLONE_NEWUSER : 0),
			   l.cg ? ward_cgroup_dirfd(l.cg) : -1);
	if (init < 0) {
		/* Rootless on cgroup v2: the kernel moves a process only between
		 * cgroups beneath one whose cgroup.procs the user may write
		 * (docs/rootless.md#limits-delegation). */
		if (l.rootless && errno == EACCES && l.cg && ward_cgroup_dirfd(l.cg) >= 0)
			ward_error_set(
				err, EACCES,
				"cannot start the sandbox in its cgroup: on cgroup v2 a user "
				"may move processes only within a subtree delegated to them, "
				"and ward runs outside it (see /proc/self/cgroup); start your "
				"session inside the delegated cgroup, or set WARD_CGROUP to "
				"one that holds it");
		else
			ward_error_sys(err, "cannot create the sandbox's namespaces");
		goto out;
	}
	if (init == 0)
		run_init(&l);
	phase("supervisor: clone returned");
	/* Wait until init runs.  The kernel places a new process on its
	 * parent's CPU more often than not here, even with the other CPU idle,
	 * and init, whose view is the longest part of a start, would wait for
	 * the supervisor's next sleep; a wake-up, unlike a fork, is placed on
	 * an idle CPU.  (0.65 ms off the median start, 150 interleaved rounds,
	 * twice: docs/bench.md.)  An init that dies first closes the pipe. */
	close(l.started[1]);
	l.started[1] = -1;
	{
		char c;

		while (read(l.started[0], &c, 1) < 0 && errno == EINTR)
			;
	}
	close(l.started[0]);
	l.started[0] = -1;
	phase("supervisor: init cloned");

	close(l.go[0]);
	l.go[0] = -1;
	close(l.errp[1]);
	l.errp[1] = -1;
	if (l.nsock[1] >= 0) {
		close(l.nsock[1]);
		l.nsock[1] = -1;
	}
	if (l.rootless) {
		/* In the user's router, the supervisor is root of the parent
		 * user namespace and writes the maps itself: the ids the router
		 * maps, from 0 (lib/net/router.h). */
		if ((l.has_net ? ward_ns_write_maps_nested(init, l.ids.count,
							   l.ids.subids && l.net.router.setgroups,
							   err)
			       : ward_rootless_write_maps(init, &l.ids, err)) < 0 ||
		    write(l.go[1], "m", 1) != 1) {
			if (*err == NULL)
				ward_error_sys(err, "cannot start the sandbox");
			abort_init(init);
			goto out;
		}
		phase("supervisor: user namespace mapped");
	}
	/* Init builds the view meanwhile: (on v1) the cgroup is made in its
	 * shadow, and init is told to go on as soon as it is in it.  The first
	 * write to a v1 cgroup.procs can wait for an RCU grace period; that
	 * wait overlaps too. */
	if (!cg_first && prepare_cgroup(&l, err) < 0) {
		abort_init(init);
		goto out;
	}
	if (l.cg && (ward_cgroup_dirfd(l.cg) < 0 || ward_clone3_missing()) &&
	    ward_cgroup_enter(l.cg, init, err) < 0) {
		abort_init(init);
		goto out;
	}
	if (l.has_net && ward_net_attach(&l.net, init, err) < 0) {
		abort_init(init);
		goto out;
	}
	if (l.has_net)
		phase("supervisor: network attached");
	/* Landlock's records: subscribed while init builds the view (asking
	 * the audit subsystem makes the kernel start a thread for its reply),
	 * and still before the program exists, so none of its records is
	 * missed.  Init never holds the socket. */
	prepare_audit(&l);
	if (write(l.go[1], admin_cgroup(&l) ? "G" : "g", 1) != 1) {
		ward_error_sys(err, "cannot start the sandbox");
		abort_init(init);
		goto out;
	}
	close(l.go[1]);
	l.go[1] = -1;
	phase("supervisor: init in the cgroup");
	/* The syscall filter last: the program needs it only after its user
	 * namespace, capabilities and Landlock, and reads it from the pipe. */
	cache_dir = ward_xasprintf("%s/seccomp", state_dir);
	if (ward_seccomp_prepare_mode(p, l.sc_mode, cache_dir, &l.prog, err) < 0 ||
	    write_prog(&l, err) < 0) {
		abort_init(init);
		goto out;
	}
	phase(l.prog.from_cache ? "supervisor: seccomp loaded from cache"
				: "supervisor: seccomp compiled");
	/* Empty cgroups of supervisors killed with SIGKILL: removed while the
	 * sandbox starts, not before it (a scan of every hierarchy). */
	if (l.cg && !l.cg_gc_done)
		ward_cgroup_gc_others(o->cgroup_root);

	if (supervise(&l, init, &wstatus, err) < 0) {
		abort_init(init);
		goto out;
	}

	{
		char buf[2048];
		ssize_t n = ward_read_all(l.errp[0], buf, sizeof(buf) - 1);

		if (n > 0) {
			buf[n] = '\0';
			ward_error_set(err, 0, "%s", buf + 1);
			(*err)->status = (unsigned char)buf[0];
			*status = (unsigned char)buf[0];
			goto out;
		}
	}
	if (WIFEXITED(wstatus))
		*status = WEXITSTATUS(wstatus);
	else
		*status = 128 + WTERMSIG(wstatus);
	phase("supervisor: init exited");
	explain_limits(&l, *status);
	if (o->learn && l.cg)
		ward_learn_memory_peak(o->learn, ward_cgroup_memory_peak(l.cg));
	rc = 0;
out:
	launch_free(&l);
	release_signals(&l);
	phase("supervisor: cleaned up");
	return rc;
}
