// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The container's init: from clone to execve of process.args.
 *
 * It is host root in its new namespaces (or root of a new user namespace
 * whose maps the runtime wrote).  The order, and why:
 *   1. user namespace: wait for the maps, become its root;
 *   2. join the namespaces given by path (already done by stage 1 when a
 *      user or pid namespace is joined);
 *   3. new session; the filesystem up to pivot_root (overlaps with the
 *      runtime moving us into the v1 cgroups, a write that may wait for an
 *      RCU grace period);
 *   4. wait until in the cgroup; then the cgroup namespace (its root is
 *      the container's cgroup only if made after joining it);
 *   5. prestart/createRuntime hooks (run by the runtime, which we wait
 *      for), createContainer hooks (run here, before pivot_root);
 *   6. pivot_root; sysctls, readonly and masked paths, root.readonly;
 *   7. hostname; terminal (the master goes to --console-socket);
 *      oom_score_adj is written by the runtime; personality; umask; rlimits;
 *   8. Landlock scoping (ward's addition; plus rules from entitlements);
 *   9. bounding set, user and groups, effective/permitted/inheritable,
 *      ambient; no_new_privs (see keep_admin for the filter's capability);
 *  10. working directory; find the program (a missing program is a create
 *      error, as with crun and runc, so engines report it at once);
 *  11. every descriptor above 2 (and --preserve-fds) close-on-exec;
 *      tell the runtime we are ready; wait for start on exec.fifo
 *      (create) or the sync socket (run); startContainer hooks;
 *  12. the filters, last: ward's own from the entitlements, then the
 *      config's (with a notify listener, one sendmsg hands it on); execve.
 *      Nothing of ward's runs under the config's filter but execve, so a
 *      profile needs to allow only what its program calls (issue 12: a
 *      strict allow-list used to deny ward's own close_range and wait).
 * Any failure is reported on the sync socket and ends the process: past
 * step 1 nothing is recovered.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../ns.h"
#include "../util.h"
#include "internal.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

void ward_oci_child_fail(int fd, int status, const char *fmt, ...)
{
	char buf[3000];
	va_list ap;
	int n;

	buf[0] = SYNC_ERROR;
	buf[1] = (char)status;
	va_start(ap, fmt);
	n = vsnprintf(buf + 2, sizeof(buf) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(buf) - 4)
		n = (int)sizeof(buf) - 4;
	/* After start, nobody reads the socket any more: the message goes
	 * to the container's stderr, where the engine's log collects it.
	 * Plain write(2)s, not stdio: past the config's filter (a failed
	 * execve) a profile may allow write and little else, and dprintf
	 * would give up on a denied lseek. */
	if (fd < 0 || send(fd, buf, (size_t)n + 2, MSG_NOSIGNAL) < 0) {
		buf[n + 2] = '\n';
		if (write(2, "ward: ", 6) == 6)
			(void)!write(2, buf + 2, (size_t)n + 1);
	}
	_exit(status ? status : 1);
}

static void __attribute__((noreturn)) fail_err(int fd, int status, ward_error_t *err)
{
	ward_oci_child_fail(fd, status, "%s", *err && (*err)->msg ? (*err)->msg : "unknown error");
}

static void wait_msg(int fd, char want)
{
	char c = 0;
	ssize_t n;

	do
		n = recv(fd, &c, 1, 0);
	while (n < 0 && errno == EINTR);
	if (n != 1 || c != want)
		_exit(1); /* the runtime went away: nothing to report to */
}

static void send_msg(int fd, char m)
{
	if (send(fd, &m, 1, MSG_NOSIGNAL) != 1)
		_exit(1);
}

/* Join every namespace given by path, the user namespace first (the
 * others may be owned by it), the mount namespace last (it changes what
 * paths mean). */
enum join_which {
	JOIN_USER,  /* the user namespace */
	JOIN_EARLY, /* all but the user and mount namespaces, where allowed yet */
	JOIN_REST,  /* all not joined yet but the user namespace, the mount one last */
};

/*
 * Join the namespaces given by path.  The user namespace is joined (or
 * made) between the two other passes.  JOIN_EARLY comes before it: with
 * the runtime's credentials, setns into a namespace owned by another user
 * namespace (a pod network the engine made belongs to the host's) works,
 * from inside a new user namespace it would not; a namespace the runtime
 * may not join yet (a rootless runtime, one owned by the user namespace
 * to join) is left for JOIN_REST, after the user namespace.  The mount
 * namespace is always joined last (it changes what paths mean).
 */
static void join_namespaces(struct oci_container *c, int fd, enum join_which which)
{
	size_t i;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < c->n_joins; i++) {
			int t = c->joins[i].type;

			if (c->joins[i].fd < 0 || (t == CLONE_NEWUSER) != (which == JOIN_USER))
				continue;
			if ((t == CLONE_NEWNS) != (pass == 1) || (which == JOIN_EARLY && pass == 1))
				continue;
			if (setns(c->joins[i].fd, t) < 0) {
				if (which == JOIN_EARLY && errno == EPERM)
					continue;
				ward_oci_child_fail(fd, 1, "cannot join the %s namespace: %s",
						    ward_oci_ns_name(t), strerror(errno));
			}
			close(c->joins[i].fd);
			c->joins[i].fd = -1;
			/* The container's root is built by propagation changes,
			 * mounts and a pivot_root, and pivot_root moves the root
			 * of every process of the namespace that had the old
			 * one: done in a joined namespace (the host's, another
			 * container's), it would take over theirs.  So the
			 * container gets a copy of the joined namespace of its
			 * own (made a slave below, mounts made there after still
			 * reach it). */
			if (t == CLONE_NEWNS && unshare(CLONE_NEWNS) < 0)
				ward_oci_child_fail(fd, 1,
						    "cannot copy the joined mount namespace: %s",
						    strerror(errno));
		}
	}
}

static void become_root_in_userns(int fd)
{
	/* Root inside, if 0 is mapped; otherwise stay as mapped (the user
	 * switch later sets the configured ids). */
	if (setresgid(0, 0, 0) < 0 && errno != EINVAL)
		ward_oci_child_fail(fd, 1, "setresgid(0) in the user namespace: %s",
				    strerror(errno));
	if (setresuid(0, 0, 0) < 0 && errno != EINVAL)
		ward_oci_child_fail(fd, 1, "setresuid(0) in the user namespace: %s",
				    strerror(errno));
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/*
 * Right after clone: close every descriptor of the runtime the init does not
 * use (the state directory, whose flock would otherwise outlive create, the
 * cgroup directories, the log).  What remains: stdio, the preserved fds,
 * the sync socket, the exec fifo, the console socket, namespaces to join,
 * and the mount trees to attach (closed once attached).
 */
static void close_inherited(struct oci_container *c)
{
	size_t cap = 8 + c->n_joins + c->n_trees, n = 0, i;
	int *keep = ward_xcalloc(cap, sizeof(int));
	int lo;

	keep[n++] = c->sync[1];
	keep[n++] = c->fifo_fd;
	keep[n++] = c->console_fd;
	keep[n++] = c->root_tree;
	for (i = 0; i < c->n_joins; i++)
		keep[n++] = c->joins[i].fd;
	for (i = 0; i < c->n_trees; i++)
		keep[n++] = c->trees[i];
	qsort(keep, n, sizeof(int), cmp_int);
	lo = 3 + c->o->preserve_fds;
	for (i = 0; i < n; i++) {
		if (keep[i] < lo)
			continue;
		if (keep[i] > lo)
			syscall(SYS_close_range, lo, keep[i] - 1, 0);
		lo = keep[i] + 1;
	}
	syscall(SYS_close_range, lo, ~0U, 0);
	free(keep);
}

void ward_oci_stage1(struct oci_container *c)
{
	int fd = c->sync[1];
	unsigned long flags;
	pid_t child;
	char msg[1 + sizeof(pid_t)];

	close(c->sync[0]);
	close_inherited(c);
	join_namespaces(c, fd, JOIN_EARLY);
	join_namespaces(c, fd, JOIN_USER);
	if (c->new_ns & CLONE_NEWUSER) {
		if (unshare(CLONE_NEWUSER) < 0)
			ward_oci_child_fail(fd, 1, "cannot create the user namespace: %s",
					    strerror(errno));
		send_msg(fd, SYNC_USERNS);
		wait_msg(fd, SYNC_MAPS);
		become_root_in_userns(fd);
	} else if (ward_oci_ns_find(c->cfg, CLONE_NEWUSER)) {
		become_root_in_userns(fd);
	}
	join_namespaces(c, fd, JOIN_REST);
	/* New namespaces, except the cgroup one (made by init once it is in
	 * the cgroup); a new pid or time namespace applies to children. */
	flags = c->new_ns & ~(unsigned long)(CLONE_NEWUSER | CLONE_NEWCGROUP);
	if (flags && unshare((int)flags) < 0)
		ward_oci_child_fail(fd, 1, "cannot create the namespaces: %s", strerror(errno));
	/* The runtime is a child subreaper while it creates: when this
	 * stage exits, the init becomes the runtime's child (and, once the
	 * runtime exits, its own subreaper's: conmon's). */
	child = ward_clone3(0, -1);
	if (child < 0)
		ward_oci_child_fail(fd, 1, "cannot start the container's init: %s",
				    strerror(errno));
	if (child == 0)
		ward_oci_init(c, true);
	msg[0] = SYNC_PID;
	memcpy(msg + 1, &child, sizeof(child));
	if (send(fd, msg, sizeof(msg), MSG_NOSIGNAL) < 0)
		kill(child, SIGKILL);
	_exit(0);
}

/*
 * seccomp notify (runtime-spec: listenerPath).  The runtime, host root,
 * connects to listenerPath at create (the path names a host socket and
 * means nothing after pivot_root) and passes the connected socket here
 * with the message text it composed (the container's state); see
 * recv_notify_channel().  Once the config's filter is in, one sendmsg
 * hands the listener on: the profile must allow sendmsg (and must not
 * notify on it: nobody could answer yet).
 */
static void send_listener(struct oci_container *c, int fd, int listener)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct msghdr mh;
	struct iovec iov = {.iov_base = c->notify_msg, .iov_len = strlen(c->notify_msg)};
	struct cmsghdr *cm;
	ssize_t n;

	memset(&mh, 0, sizeof(mh));
	memset(cbuf, 0, sizeof(cbuf));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &listener, sizeof(int));
	do
		n = sendmsg(c->notify_fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		ward_oci_child_fail(fd, 1,
				    "cannot pass the seccomp listener to listenerPath: %s (the "
				    "profile must allow sendmsg)",
				    strerror(errno));
	/* The listener and the socket are close-on-exec: no close(2) needed
	 * under the filter. */
}

/* The runtime's SYNC_NOTIFY message: the state text, and the socket
 * connected to listenerPath. */
static void recv_notify_channel(struct oci_container *c, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov;
	struct msghdr mh;
	struct cmsghdr *cm;
	ssize_t size, n;
	char *buf;

	do
		size = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
	while (size < 0 && errno == EINTR);
	if (size < 2)
		_exit(1);
	buf = ward_xmalloc((size_t)size + 1);
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = buf;
	iov.iov_len = (size_t)size;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n != size || buf[0] != SYNC_NOTIFY)
		_exit(1);
	buf[n] = '\0';
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(&c->notify_fd, CMSG_DATA(cm), sizeof(int));
	if (c->notify_fd < 0)
		ward_oci_child_fail(fd, 1,
				    "no socket to listenerPath came with the notify message");
	memmove(buf, buf + 1, (size_t)n);
	c->notify_msg = buf;
}

/*
 * The filters go in last, after everything ward itself does: ward's own
 * filter from the entitlements first (it allows seccomp(2), so the second
 * install passes it), then the config's, so that nothing but execve (and,
 * for a notify profile, the one sendmsg) runs under the config's filter.
 * Stacked filters all apply; the most restrictive action wins.
 */
static void install_filters(struct oci_container *c, int fd)
{
	ward_error_t err = NULL;
	int r;

	if (c->ward_sc.n_insns && ward_seccomp_install(&c->ward_sc, 0, &err) < 0)
		fail_err(fd, 1, &err);
	if (c->sc.prog.n_insns == 0)
		return;
	r = ward_seccomp_install(&c->sc.prog, c->sc.flags, &err);
	if (r < 0)
		fail_err(fd, 1, &err);
	if (c->sc.notify)
		send_listener(c, fd, r);
}

static void run_hooks_here(struct oci_container *c, int fd, int kind, const char *name)
{
	ward_error_t err = NULL;

	if (c->cfg->hooks[kind].n == 0)
		return;
	if (ward_oci_hooks_run(&c->cfg->hooks[kind], name, c->state_json ? c->state_json : "{}",
			       &err) < 0)
		fail_err(fd, 1, &err);
}

void ward_oci_init(struct oci_container *c, bool ns_done)
{
	const struct ward_oci_config *cfg = c->cfg;
	const struct ward_oci_process *p = &cfg->process;
	ward_error_t err = NULL;
	cleanup_free char *exe = NULL;
	cleanup_free char *slave = NULL;
	int fd = c->sync[1];
	int status = 1;

	if (!ns_done) {
		close(c->sync[0]);
		close_inherited(c);
		if (c->new_ns & CLONE_NEWUSER) {
			wait_msg(fd, SYNC_MAPS);
			become_root_in_userns(fd);
		}
		join_namespaces(c, fd, JOIN_REST);
	}
	/* ward run waits for the container: it must not outlive ward.  (Not
	 * after a stage 1, whose exit would fire it.) */
	if (c->run_mode && !c->o->detach && !ns_done)
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (setsid() < 0)
		ward_oci_child_fail(fd, 1, "setsid: %s", strerror(errno));

	if (ward_oci_rootfs_prepare(c, &err) < 0)
		fail_err(fd, 1, &err);
	wait_msg(fd, SYNC_CGROUP);
	if (c->sc.notify)
		recv_notify_channel(c, fd);
	if ((c->new_ns & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0)
		ward_oci_child_fail(fd, 1, "cannot create the cgroup namespace: %s",
				    strerror(errno));
	if (cfg->hooks[WARD_HOOK_PRESTART].n || cfg->hooks[WARD_HOOK_CREATE_RUNTIME].n) {
		send_msg(fd, SYNC_HOOKS);
		wait_msg(fd, SYNC_HOOKS_OK);
	}
	run_hooks_here(c, fd, WARD_HOOK_CREATE_CONTAINER, "createContainer");

	if (ward_oci_rootfs_pivot(c, &err) < 0 || ward_oci_rootfs_finish(c, &err) < 0)
		fail_err(fd, 1, &err);

	if (cfg->hostname) {
		if (!(c->new_ns & CLONE_NEWUTS) && !ward_oci_ns_find(cfg, CLONE_NEWUTS))
			ward_oci_child_fail(fd, 1,
					    "cannot set the hostname without a private UTS "
					    "namespace (add {\"type\": \"uts\"} to "
					    "linux.namespaces)");
		if (sethostname(cfg->hostname, strlen(cfg->hostname)) < 0)
			ward_oci_child_fail(fd, 1, "sethostname: %s", strerror(errno));
	}
	/* A new network namespace gets its loopback up, as crun does (and as
	 * network.loopback promises); network.none keeps it down. */
	if ((c->new_ns & CLONE_NEWNET) && !(c->ent.present && c->ent.policy.net == WARD_NET_NONE) &&
	    ward_ns_loopback_up(&err) < 0)
		fail_err(fd, 1, &err);
	if (cfg->domainname) {
		/* Never the runtime's UTS namespace (runtime.c refuses the
		 * config before; this is the second look). */
		if (!(c->new_ns & CLONE_NEWUTS) && !ward_oci_ns_find(cfg, CLONE_NEWUTS))
			ward_oci_child_fail(fd, 1,
					    "cannot set the domainname without a private UTS "
					    "namespace (add {\"type\": \"uts\"} to "
					    "linux.namespaces)");
		if (setdomainname(cfg->domainname, strlen(cfg->domainname)) < 0)
			ward_oci_child_fail(fd, 1, "setdomainname: %s", strerror(errno));
	}

	if (p->terminal) {
		if (ward_oci_setup_tty(c->console_fd, p, &slave, &err) < 0 ||
		    ward_oci_rootfs_console(slave, &err) < 0)
			fail_err(fd, 1, &err);
		close(c->console_fd);
		c->console_fd = -1;
	}
	if (ward_oci_rootfs_propagation(c, &err) < 0)
		fail_err(fd, 1, &err);
	if (cfg->has_personality && personality(cfg->personality) < 0)
		ward_oci_child_fail(fd, 1, "personality: %s", strerror(errno));
	umask(p->has_umask ? p->umask : 022);
	if (ward_oci_rlimits(p, &err) < 0)
		fail_err(fd, 1, &err);

	if (c->has_ll && ward_landlock_apply(&c->ll, &err) < 0)
		fail_err(fd, 1, &err);

	/*
	 * Capabilities and the user, before the filters.  Without
	 * no_new_privs the kernel takes a filter only from a task holding
	 * CAP_SYS_ADMIN in its user namespace, and the user switch and the
	 * config's sets may drop it; the filters must still go in last, after
	 * ward's own calls (close_range, the wait for start, the hooks).  So
	 * CAP_SYS_ADMIN stays in the effective and permitted sets, and in
	 * those only, until execve: it is never inheritable or ambient, and
	 * at execve the kernel computes the program's permitted and
	 * effective sets from the bounding, inheritable and ambient sets and
	 * the file's capabilities alone (for uid 0: inheritable | bounding),
	 * so the program gets exactly what the config says.  Meanwhile only
	 * ward's code runs, undumpable (sealed.c), its mm owned by the host's
	 * user namespace: no process of the container can ptrace it.
	 */
	if (ward_oci_caps_bounding(p->caps.bounding, &err) < 0 ||
	    ward_oci_set_user(p, !(c->new_ns & CLONE_NEWUSER), &err) < 0)
		fail_err(fd, 1, &err);
	{
		struct ward_oci_caps caps = p->caps;
		bool filters = c->sc.prog.n_insns || c->ward_sc.n_insns;

		if (filters && !p->no_new_privileges) {
			caps.effective |= UINT64_C(1) << CAP_SYS_ADMIN;
			caps.permitted |= UINT64_C(1) << CAP_SYS_ADMIN;
		}
		if (ward_oci_caps_final(&caps, &err) < 0)
			fail_err(fd, 1, &err);
	}
	if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		ward_oci_child_fail(fd, 1, "prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(errno));
	if (ward_oci_enter_cwd(p->cwd, &err) < 0)
		fail_err(fd, 1, &err);
	exe = ward_oci_find_exe(p, &status, &err);
	if (exe == NULL)
		fail_err(fd, status, &err);

	/* Only 0-2 and the preserved descriptors reach the program. */
	if (syscall(SYS_close_range, 3 + c->o->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		ward_oci_child_fail(fd, 1, "close_range: %s", strerror(errno));

	send_msg(fd, SYNC_READY);
	if (c->run_mode) {
		wait_msg(fd, SYNC_START);
	} else {
		struct pollfd pf = {.fd = c->fifo_fd, .events = POLLIN};
		char b;

		/* No writer has ever opened the fifo, so poll does not report
		 * a hang-up: it sleeps until `start` writes its byte. */
		for (;;) {
			int r = poll(&pf, 1, -1);

			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				ward_oci_child_fail(-1, 1, "waiting for start: %s",
						    strerror(errno));
			if (read(c->fifo_fd, &b, 1) == 1)
				break;
			/* A writer came and went without a byte: wait again. */
			pf.revents = 0;
			{
				struct timespec ts = {0, 1000000};

				nanosleep(&ts, NULL);
			}
		}
		/* From here on errors go to stderr: nobody reads the socket. */
		close(fd);
		fd = -1;
	}
	run_hooks_here(c, fd, WARD_HOOK_START_CONTAINER, "startContainer");
	install_filters(c, fd);
	execve(exe, p->args, p->env);
	ward_oci_child_fail(fd, errno == ENOENT ? 127 : 126, "exec %s: %s", exe, strerror(errno));
}
