// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * exec: a new process in a running container.
 *
 * The process is the bundle's process with the command line's changes
 * (args, --env, --cwd, --user, --cap, --tty, --no-new-privs), as runc does,
 * or the whole process object of --process FILE (what conmon and
 * containerd's shim pass).  It joins every namespace of the container's init
 * that differs from ours (the user namespace first, the mount namespace
 * last), its cgroup, and gets the same seccomp filters (compiled at create,
 * kept in the state directory), the same Landlock scoping, and, under an
 * entitlements annotation, the same trimming of capabilities and limits.
 *
 * Process tree: ward exec -> stage (joins, exits) -> the process.  ward exec
 * is a child subreaper, so the process becomes its child when the stage
 * exits; with --detach ward exec then exits too and the process goes to
 * the engine's subreaper (conmon), which waits on the --pid-file pid.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../caps.h"
#include "../entitlements.h"
#include "../ns.h"
#include "../util.h"
#include "internal.h"
#include "log.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

struct exec_ctx {
	const struct ward_oci_exec_opts *o;
	struct ward_oci_process proc;
	struct ward_seccomp_prog sc, ward_sc;
	unsigned sc_flags;
	struct ward_landlock_plan ll;
	bool has_ll;
	int ns_fd[8];
	int ns_type[8];
	size_t n_ns;
	bool userns;
	int root_fd; /* the init's root (/proc/PID/root), to chroot into */
	int sync[2];
	int console_fd;
};

static const struct {
	const char *name;
	int type;
} ns_order[] = {
	/* user first (the others may be owned by it), mount last (it changes
	 * what paths mean). */
	{"user", CLONE_NEWUSER}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},
	{"net", CLONE_NEWNET},	 {"pid", CLONE_NEWPID}, {"cgroup", CLONE_NEWCGROUP},
	{"time", CLONE_NEWTIME}, {"mnt", CLONE_NEWNS},
};

static int open_namespaces(struct exec_ctx *x, const struct oci_state *s, ward_error_t *err)
{
	pid_t pid = s->pid;
	char rp[64];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ns_order); i++) {
		char p1[64], p2[64];
		struct stat a, b;
		int fd;

		snprintf(p1, sizeof(p1), "/proc/%d/ns/%s", (int)pid, ns_order[i].name);
		snprintf(p2, sizeof(p2), "/proc/self/ns/%s", ns_order[i].name);
		if (stat(p1, &a) < 0) {
			if (errno == ENOENT && ns_order[i].type == CLONE_NEWTIME)
				continue;
			return ward_error_sys(err, "cannot find the container's %s namespace",
					      ns_order[i].name);
		}
		if (stat(p2, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
			continue;
		fd = open(p1, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return ward_error_sys(err, "cannot open %s", p1);
		x->ns_fd[x->n_ns] = fd;
		x->ns_type[x->n_ns] = ns_order[i].type;
		x->n_ns++;
		if (ns_order[i].type == CLONE_NEWUSER)
			x->userns = true;
	}
	/* The init's root: the process chroots into it after joining.  Its
	 * mount namespace gives the same root, but only if it differs from
	 * ours; a process that shares the caller's would otherwise keep the
	 * host's root, working directory and program lookup. */
	snprintf(rp, sizeof(rp), "/proc/%d/root", (int)pid);
	x->root_fd = open(rp, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (x->root_fd < 0)
		return ward_error_sys(err, "cannot open the container's root (%s)", rp);
	/* Everything above was opened by pid: if the init has died and its
	 * pid was reused meanwhile, it was another process's. */
	if (s->start_time == 0 || ward_oci_proc_start_time(pid) != s->start_time)
		return ward_error_set(err, ESRCH, "container \"%s\" is not running", s->id);
	return 0;
}

static int parse_user(const char *s, struct ward_oci_process *p, ward_error_t *err)
{
	char *end;
	unsigned long uid = strtoul(s, &end, 10);

	if (end == s || (*end != '\0' && *end != ':'))
		return ward_error_set(err, EINVAL, "--user %s: expected UID[:GID] (numbers)", s);
	p->uid = (uid_t)uid;
	if (*end == ':') {
		const char *g = end + 1;
		unsigned long gid = strtoul(g, &end, 10);

		if (end == g || *end != '\0')
			return ward_error_set(err, EINVAL,
					      "--user %s: expected UID[:GID] (numbers)", s);
		p->gid = (gid_t)gid;
	}
	return 0;
}

static char **strv_dup(char *const *v)
{
	size_t n = 0, i;
	char **out;

	while (v && v[n])
		n++;
	out = ward_xcalloc(n + 1, sizeof(char *));
	for (i = 0; i < n; i++)
		out[i] = ward_xstrdup(v[i]);
	return out;
}

static void env_put(char ***envp, const char *kv)
{
	size_t klen = strcspn(kv, "="), n = 0;
	char **env = *envp;

	for (n = 0; env[n]; n++) {
		if (strncmp(env[n], kv, klen) == 0 && env[n][klen] == '=') {
			free(env[n]);
			env[n] = ward_xstrdup(kv);
			return;
		}
	}
	env = ward_xrealloc(env, (n + 2) * sizeof(char *));
	env[n] = ward_xstrdup(kv);
	env[n + 1] = NULL;
	*envp = env;
}

/* The process to run, and the container's layers to reapply to it. */
static int build_process(struct exec_ctx *x, const struct oci_state *s, ward_error_t *err)
{
	const struct ward_oci_exec_opts *o = x->o;
	json_t *ent = json_object_get(s->json, "entitlements");
	size_t i;

	if (o->process_file) {
		json_error_t je;
		json_t *j = json_load_file(o->process_file, 0, &je);
		int rc;

		if (j == NULL)
			return ward_error_set(err, EINVAL, "--process %s: %s", o->process_file,
					      je.text);
		rc = ward_oci_process_parse(j, o->process_file, &x->proc, err);
		json_decref(j);
		if (rc < 0)
			return -1;
	} else {
		struct ward_oci_config cfg;

		if (ward_oci_config_load(s->bundle, &cfg, err) < 0) {
			ward_oci_config_free(&cfg);
			return ward_error_wrap(err, "exec needs the container's bundle");
		}
		x->proc = cfg.process;
		memset(&cfg.process, 0, sizeof(cfg.process));
		ward_oci_config_free(&cfg);
		for (i = 0; x->proc.args && x->proc.args[i]; i++)
			free(x->proc.args[i]);
		free(x->proc.args);
		x->proc.args = strv_dup(o->args);
		x->proc.terminal = false;
	}
	for (i = 0; i < o->n_env; i++) {
		if (strchr(o->env[i], '=') == NULL)
			return ward_error_set(err, EINVAL, "--env %s: expected NAME=VALUE",
					      o->env[i]);
		env_put(&x->proc.env, o->env[i]);
	}
	if (o->cwd) {
		free(x->proc.cwd);
		x->proc.cwd = ward_xstrdup(o->cwd);
	}
	if (o->user && parse_user(o->user, &x->proc, err) < 0)
		return -1;
	for (i = 0; i < o->n_caps; i++) {
		int cap = ward_cap_from_name(o->caps[i]);
		uint64_t bit;

		if (cap < 0 || cap > 63)
			return ward_error_set(err, EINVAL, "--cap %s: unknown capability",
					      o->caps[i]);
		bit = UINT64_C(1) << cap;
		x->proc.caps.bounding |= bit;
		x->proc.caps.effective |= bit;
		x->proc.caps.permitted |= bit;
		x->proc.caps.inheritable |= bit;
		x->proc.caps.ambient |= bit;
	}
	if (o->tty_set)
		x->proc.terminal = o->tty;
	if (o->no_new_privs)
		x->proc.no_new_privileges = true;
	if (x->proc.terminal && o->console_socket == NULL)
		return ward_error_set(err, EINVAL,
				      "exec with a terminal needs --console-socket (ward does not "
				      "hold a terminal itself)");

	/* The container's filters. */
	if (json_is_true(json_object_get(s->json, "seccomp")) &&
	    ward_oci_prog_load(s->dirfd, "seccomp.bpf", &x->sc, &x->sc_flags) < 0)
		return ward_error_set(err, ENOENT,
				      "the container's seccomp program is missing from %s", s->dir);
	/* A notify listener belongs to the container's init; exec'd
	 * processes get the same filter without a new listener (runc too). */
	x->sc_flags &= ~(unsigned)SECCOMP_FILTER_FLAG_NEW_LISTENER;
	if (json_is_string(ent)) {
		struct ward_policy p;
		struct oci_entitlements bound;

		/* The same bounds as at create (entitle.c), for this process:
		 * a --process file or --cap asks for no more either. */
		if (ward_oci_entitlements_parse(json_string_value(ent), &p, err) < 0)
			return -1;
		memset(&bound, 0, sizeof(bound));
		bound.root.fd = -1;
		bound.file = ward_xstrdup(o->process_file ? "--process" : "exec");
		ward_oci_entitlements_process(&x->proc, &p, &bound, "process");
		if (bound.n_refusals) {
			ward_error_set(err, EACCES, "%s", bound.refusals[0]);
			ward_oci_entitlements_free(&bound);
			ward_policy_free(&p);
			return -1;
		}
		ward_oci_entitlements_free(&bound);
		ward_landlock_plan(&p, ward_landlock_abi(), &x->ll);
		for (i = 0; i < x->ll.n_rules; i++) {
			free(x->ll.rules[i].path);
			free(x->ll.rules[i].origin);
		}
		free(x->ll.rules);
		x->ll.rules = NULL;
		x->ll.n_rules = 0;
		x->ll.handled_fs = 0;
		x->has_ll = x->ll.abi > 0 && (x->ll.handled_net || x->ll.scoped);
		ward_policy_free(&p);
		if (ward_oci_prog_load(s->dirfd, "ward-seccomp.bpf", &x->ward_sc, NULL) < 0)
			return ward_error_set(err, ENOENT,
					      "ward's seccomp program is missing from %s", s->dir);
	} else if (json_is_true(json_object_get(s->json, "landlock"))) {
		x->ll.abi = ward_landlock_abi();
		x->ll.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
		x->has_ll = x->ll.abi >= 6;
	}
	/* A container without a mount namespace: the same confinement to its
	 * root as the init's (rootfs.c, ward_oci_chroot_confine). */
	if (json_object_get(s->json, "chroot_root")) {
		if (ward_oci_chroot_confine(&x->ll, &x->has_ll, x->proc.caps.bounding, "exec",
					    err) < 0)
			return -1;
		if (ward_oci_prog_load(s->dirfd, "ward-seccomp.bpf", &x->ward_sc, NULL) < 0)
			return ward_error_set(err, ENOENT,
					      "the chroot(2) filter of the container is missing "
					      "from %s",
					      s->dir);
	}
	return 0;
}

static __attribute__((noreturn)) void exec_process(struct exec_ctx *x)
{
	const struct ward_oci_process *p = &x->proc;
	ward_error_t err = NULL;
	cleanup_free char *exe = NULL;
	cleanup_free char *slave = NULL;
	int fd = x->sync[1], status = 1;
	char c;

	if (recv(fd, &c, 1, 0) != 1 || c != SYNC_CGROUP)
		_exit(1);
	if (setsid() < 0)
		ward_oci_child_fail(fd, 1, "setsid: %s", strerror(errno));
	/* The container's root, whether or not its mount namespace differs
	 * from ours (then this changes nothing). */
	if (fchdir(x->root_fd) < 0 || chroot(".") < 0 || chdir("/") < 0)
		ward_oci_child_fail(fd, 1, "cannot enter the container's root: %s",
				    strerror(errno));
	close(x->root_fd);
	x->root_fd = -1;
	if (p->terminal && ward_oci_setup_tty(x->console_fd, p, &slave, &err) < 0)
		ward_oci_child_fail(fd, 1, "%s", err->msg);
	umask(p->has_umask ? p->umask : 022);
	if (ward_oci_rlimits(p, &err) < 0)
		ward_oci_child_fail(fd, 1, "%s", err->msg);
	if (x->has_ll && ward_landlock_apply(&x->ll, &err) < 0)
		ward_oci_child_fail(fd, 1, "%s", err->msg);
	/* As in the init (init.c): capabilities and the user first, the
	 * filters last; without no_new_privs CAP_SYS_ADMIN stays effective
	 * and permitted (never inheritable or ambient) for the filters, and
	 * execve computes the program's sets without it. */
	if (ward_oci_caps_bounding(p->caps.bounding, &err) < 0 ||
	    ward_oci_set_user(p, !x->userns, &err) < 0)
		ward_oci_child_fail(fd, 1, "%s", err->msg);
	{
		struct ward_oci_caps caps = p->caps;

		if ((x->sc.n_insns || x->ward_sc.n_insns) && !p->no_new_privileges) {
			caps.effective |= UINT64_C(1) << CAP_SYS_ADMIN;
			caps.permitted |= UINT64_C(1) << CAP_SYS_ADMIN;
		}
		if (ward_oci_caps_final(&caps, &err) < 0)
			ward_oci_child_fail(fd, 1, "%s", err->msg);
	}
	if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		ward_oci_child_fail(fd, 1, "prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(errno));
	if (ward_oci_enter_cwd(p->cwd, &err) < 0)
		ward_oci_child_fail(fd, 1, "%s", err->msg);
	exe = ward_oci_find_exe(p, &status, &err);
	if (exe == NULL)
		ward_oci_child_fail(fd, status, "%s", err->msg);
	if (syscall(SYS_close_range, 3 + x->o->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		ward_oci_child_fail(fd, 1, "close_range: %s", strerror(errno));
	/* ward's filter first (it allows seccomp(2)), the config's last:
	 * under it nothing runs but execve. */
	if (x->ward_sc.n_insns && ward_seccomp_install(&x->ward_sc, 0, &err) < 0)
		ward_oci_child_fail(fd, 1, "%s", err->msg);
	if (x->sc.n_insns && ward_seccomp_install(&x->sc, x->sc_flags, &err) < 0)
		ward_oci_child_fail(fd, 1, "%s", err->msg);
	execve(exe, p->args, p->env);
	ward_oci_child_fail(fd, errno == ENOENT ? 127 : 126, "exec %s: %s", exe, strerror(errno));
}

/*
 * First thing in the stage: close every descriptor of ward exec that the
 * process does not need (the state directory, the cgroup directories, the
 * log).  Any of them would be a door to the host: a working directory of
 * /proc/self/fd/N (from --cwd, a --process file or the bundle's
 * process.cwd) would start the program outside its root (CVE-2024-21626).
 * What stays: stdio, the preserved descriptors, the sync socket, the
 * console socket, the namespaces to join and the container's root.
 */
static void close_inherited(struct exec_ctx *x)
{
	int keep[16], n = 0, i, j, lo;

	keep[n++] = x->sync[1];
	keep[n++] = x->console_fd;
	keep[n++] = x->root_fd;
	for (i = 0; i < (int)x->n_ns; i++)
		keep[n++] = x->ns_fd[i];
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
			int t = keep[j];

			keep[j] = keep[j - 1];
			keep[j - 1] = t;
		}
	lo = 3 + x->o->preserve_fds;
	for (i = 0; i < n; i++) {
		if (keep[i] < lo)
			continue;
		if (keep[i] > lo)
			syscall(SYS_close_range, lo, keep[i] - 1, 0);
		lo = keep[i] + 1;
	}
	syscall(SYS_close_range, lo, ~0U, 0);
}

static __attribute__((noreturn)) void stage(struct exec_ctx *x)
{
	int fd = x->sync[1];
	char msg[1 + sizeof(pid_t)];
	pid_t child;
	size_t i;

	close(x->sync[0]);
	close_inherited(x);
	for (i = 0; i < x->n_ns; i++) {
		if (setns(x->ns_fd[i], x->ns_type[i]) < 0)
			ward_oci_child_fail(fd, 1, "cannot join the container's %s namespace: %s",
					    ward_oci_ns_name(x->ns_type[i]), strerror(errno));
		close(x->ns_fd[i]);
		if (x->ns_type[i] == CLONE_NEWUSER &&
		    (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) && errno != EINVAL)
			ward_oci_child_fail(fd, 1,
					    "cannot become root in the container's user "
					    "namespace: %s",
					    strerror(errno));
	}
	child = ward_clone3(0, -1);
	if (child < 0)
		ward_oci_child_fail(fd, 1, "fork: %s", strerror(errno));
	if (child == 0)
		exec_process(x);
	msg[0] = SYNC_PID;
	memcpy(msg + 1, &child, sizeof(child));
	if (send(fd, msg, sizeof(msg), MSG_NOSIGNAL) < 0)
		kill(child, SIGKILL);
	_exit(0);
}

static volatile sig_atomic_t fwd_pid;

static void forward(int sig)
{
	if (fwd_pid > 0)
		kill(fwd_pid, sig);
}

int ward_oci_exec(const struct ward_oci_exec_opts *o, int *status, ward_error_t *err)
{
	static const int fwd[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
	struct exec_ctx x;
	struct oci_state s;
	struct ward_oci_cgroup *cg = NULL;
	enum ward_oci_status st;
	pid_t stage_pid, pid = -1;
	char buf[3000];
	ssize_t n;
	int rc = -1, ws = 0;
	size_t i;

	*status = 125;
	memset(&x, 0, sizeof(x));
	x.o = o;
	x.sync[0] = x.sync[1] = x.console_fd = x.root_fd = -1;
	if (ward_oci_state_load(o->root, o->id, false, &s, err) < 0)
		goto out;
	cg = ward_oci_state_cgroup(&s);
	st = ward_oci_state_status(&s, cg);
	if (st != WARD_OCI_RUNNING && st != WARD_OCI_CREATED) {
		ward_error_set(err, EINVAL, "cannot exec in container \"%s\": it is %s", o->id,
			       ward_oci_status_name(st));
		goto out;
	}
	if (build_process(&x, &s, err) < 0 || open_namespaces(&x, &s, err) < 0)
		goto out;
	if (x.proc.terminal) {
		struct sockaddr_un {
			sa_family_t sun_family;
			char sun_path[108];
		} sa = {.sun_family = AF_UNIX};

		if (strlen(o->console_socket) >= sizeof(sa.sun_path)) {
			ward_error_set(err, ENAMETOOLONG, "--console-socket: path too long");
			goto out;
		}
		strcpy(sa.sun_path, o->console_socket);
		x.console_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (x.console_fd < 0 ||
		    connect(x.console_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			ward_error_sys(err, "cannot connect to --console-socket %s",
				       o->console_socket);
			goto out;
		}
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, x.sync) < 0) {
		ward_error_sys(err, "socketpair");
		goto out;
	}
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	fflush(NULL);
	stage_pid = ward_clone3(0, -1);
	if (stage_pid < 0) {
		ward_error_sys(err, "fork");
		goto out;
	}
	if (stage_pid == 0)
		stage(&x);
	close(x.sync[1]);
	x.sync[1] = -1;
	n = recv(x.sync[0], buf, sizeof(buf) - 1, 0);
	while (waitpid(stage_pid, NULL, 0) < 0 && errno == EINTR)
		;
	if (n == 1 + (ssize_t)sizeof(pid_t) && buf[0] == SYNC_PID) {
		memcpy(&pid, buf + 1, sizeof(pid));
	} else {
		if (n > 2 && buf[0] == SYNC_ERROR) {
			buf[n] = '\0';
			ward_error_set(err, 0, "%s", buf + 2);
		} else {
			ward_error_set(err, ECHILD, "exec: joining the container failed");
		}
		goto out;
	}
	if (cg && ward_oci_cgroup_enter(cg, pid, err) < 0) {
		kill(pid, SIGKILL);
		goto reap;
	}
	fwd_pid = pid;
	for (i = 0; i < ARRAY_SIZE(fwd); i++) {
		struct sigaction sa = {.sa_handler = forward, .sa_flags = SA_RESTART};

		sigaction(fwd[i], &sa, NULL);
	}
	(void)send(x.sync[0], (char[]){SYNC_CGROUP}, 1, MSG_NOSIGNAL);
	/* EOF: execve closed the process's end.  Otherwise an error. */
	n = recv(x.sync[0], buf, sizeof(buf) - 1, 0);
	if (n > 0 && buf[0] == SYNC_ERROR) {
		buf[n] = '\0';
		ward_error_set(err, 0, "%s", n > 2 ? buf + 2 : "exec failed");
		(*err)->status = n > 1 ? (unsigned char)buf[1] : 125;
		goto reap;
	}
	if (ward_oci_write_pid_file(o->pid_file, pid, err) < 0) {
		kill(pid, SIGKILL);
		goto reap;
	}
	if (o->detach) {
		*status = 0;
		rc = 0;
		goto out;
	}
	for (;;) {
		pid_t w = waitpid(-1, &ws, 0);

		if (w == pid)
			break;
		if (w < 0 && errno == ECHILD)
			break;
	}
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	rc = 0;
	goto out;
reap:
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
out:
	fwd_pid = 0;
	for (i = 0; i < x.n_ns; i++)
		close(x.ns_fd[i]);
	if (x.root_fd >= 0)
		close(x.root_fd);
	for (i = 0; i < 2; i++)
		if (x.sync[i] >= 0)
			close(x.sync[i]);
	if (x.console_fd >= 0)
		close(x.console_fd);
	free(x.sc.insns);
	free(x.ward_sc.insns);
	ward_landlock_plan_free(&x.ll);
	ward_oci_process_free(&x.proc);
	ward_oci_cgroup_free(cg);
	ward_oci_state_free(&s);
	return rc;
}
