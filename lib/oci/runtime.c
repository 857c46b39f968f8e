// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The runtime side of the OCI operations: create (and run), start, state,
 * kill, delete, pause/resume, ps, list.
 *
 * create, in the runtime (host root):
 *   lock ROOT/ID; read and check config.json; merge the entitlements
 *   annotation; compile seccomp (libseccomp, before any namespace exists);
 *   make the cgroup and write its resources; make exec.fifo; connect to
 *   --console-socket; open the namespaces to join; then clone the init:
 *   one clone3 with every new namespace when nothing is joined, or a stage
 *   1 process that joins first (a user or pid namespace given by path must
 *   be entered before the others are made).  Then write the id maps, move
 *   the init into the cgroup, run prestart/createRuntime hooks when it
 *   asks, and wait until it is ready.  The pid file and state.json are
 *   written last; create returns and the init (now the engine's child, via
 *   its subreaper) waits on exec.fifo for start.
 * The init is never a grandchild kept alive by ward: conmon and containerd's
 * shim wait on the pid they read from --pid-file, so it must become theirs.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../cgroup/cgroup.h"
#include "../launch.h"
#include "../ns.h"
#include "../rootless.h"
#include "../util.h"
#include "internal.h"
#include "log.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef NS_GET_NSTYPE
#define NS_GET_NSTYPE 0xb703
#endif

/* ---- signals ---- */

static const struct {
	const char *name;
	int sig;
} signals[] = {
	{"HUP", SIGHUP},       {"INT", SIGINT},	  {"QUIT", SIGQUIT},	 {"ILL", SIGILL},
	{"TRAP", SIGTRAP},     {"ABRT", SIGABRT}, {"IOT", SIGIOT},	 {"BUS", SIGBUS},
	{"FPE", SIGFPE},       {"KILL", SIGKILL}, {"USR1", SIGUSR1},	 {"SEGV", SIGSEGV},
	{"USR2", SIGUSR2},     {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},	 {"TERM", SIGTERM},
	{"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT},	 {"STOP", SIGSTOP},
	{"TSTP", SIGTSTP},     {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},	 {"URG", SIGURG},
	{"XCPU", SIGXCPU},     {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
	{"WINCH", SIGWINCH},   {"IO", SIGIO},	  {"POLL", SIGPOLL},	 {"PWR", SIGPWR},
	{"SYS", SIGSYS},
};

int ward_oci_signal_from_name(const char *s)
{
	uint64_t n;
	size_t i;

	if (s == NULL || *s == '\0')
		return -1;
	if (ward_parse_u64(s, &n) == 0)
		return n > 0 && n < 65 ? (int)n : -1;
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (i = 0; i < ARRAY_SIZE(signals); i++)
		if (strcasecmp(s, signals[i].name) == 0)
			return signals[i].sig;
	if (strncasecmp(s, "RTMIN", 5) == 0) {
		int off = s[5] == '+' ? atoi(s + 6) : 0;

		return SIGRTMIN + off <= SIGRTMAX ? SIGRTMIN + off : -1;
	}
	return -1;
}

/* ---- create ---- */

static void container_free(struct oci_container *c)
{
	size_t i;

	for (i = 0; i < c->n_joins; i++)
		if (c->joins[i].fd >= 0)
			close(c->joins[i].fd);
	for (i = 0; i < 2; i++)
		if (c->sync[i] >= 0)
			close(c->sync[i]);
	if (c->fifo_fd >= 0)
		close(c->fifo_fd);
	if (c->console_fd >= 0)
		close(c->console_fd);
	ward_oci_seccomp_free(&c->sc);
	free(c->ward_sc.insns);
	ward_landlock_plan_free(&c->ll);
	ward_oci_entitlements_free(&c->ent);
	free(c->state_json);
	free(c->notify_msg);
	if (c->notify_fd >= 0)
		close(c->notify_fd);
	if (c->root_tree >= 0)
		close(c->root_tree);
	for (i = 0; i < c->n_trees; i++)
		if (c->trees[i] >= 0)
			close(c->trees[i]);
	free(c->trees);
}

/*
 * A sysctl is written in the container's namespaces, after pivot_root: one
 * that is not namespaced, or whose namespace is the runtime's, would be the
 * host's (runc refuses the same).  net.* needs a network namespace,
 * kernel.shm*, kernel.msg*, kernel.sem and fs.mqueue.* an IPC namespace,
 * kernel.hostname and kernel.domainname a UTS namespace: new, or joined
 * and not the runtime's own.
 */
static int check_sysctl_namespaces(struct oci_container *c, ward_error_t *err)
{
	const struct ward_oci_config *cfg = c->cfg;
	size_t i, j;

	for (i = 0; i < cfg->n_sysctl; i++) {
		cleanup_free char *key = ward_xstrdup(cfg->sysctl[i].key);
		const char *what;
		char *p;
		int need;

		for (p = key; *p; p++)
			if (*p == '/')
				*p = '.';
		if (ward_str_has_prefix(key, "net.")) {
			need = CLONE_NEWNET;
			what = "network";
		} else if (ward_str_has_prefix(key, "fs.mqueue.") ||
			   ward_str_has_prefix(key, "kernel.shm") ||
			   ward_str_has_prefix(key, "kernel.msg") ||
			   strcmp(key, "kernel.sem") == 0) {
			need = CLONE_NEWIPC;
			what = "ipc";
		} else if (strcmp(key, "kernel.hostname") == 0 ||
			   strcmp(key, "kernel.domainname") == 0) {
			need = CLONE_NEWUTS;
			what = "uts";
		} else {
			cleanup_free char *k = ward_escape(cfg->sysctl[i].key, 128);

			return ward_error_set(
				err, EINVAL,
				"%s: linux.sysctl \"%s\" is not namespaced: it would "
				"change the host (only net.*, kernel.shm*, kernel.msg*, "
				"kernel.sem, fs.mqueue.*, kernel.hostname and "
				"kernel.domainname, each with a namespace of its own)",
				cfg->path, k);
		}
		if (c->new_ns & need)
			continue;
		for (j = 0; j < c->n_joins; j++) {
			struct stat a, b;
			char self[64];

			if (c->joins[j].type != need)
				continue;
			snprintf(self, sizeof(self), "/proc/self/ns/%s",
				 need == CLONE_NEWNET ? "net" : what);
			if (fstat(c->joins[j].fd, &a) == 0 && stat(self, &b) == 0 &&
			    (a.st_dev != b.st_dev || a.st_ino != b.st_ino))
				break;
		}
		if (j == c->n_joins) {
			cleanup_free char *k = ward_escape(cfg->sysctl[i].key, 128);

			return ward_error_set(
				err, EINVAL,
				"%s: linux.sysctl \"%s\" needs a %s namespace of the "
				"container's own (new, or joined and not the runtime's): "
				"add {\"type\": \"%s\"} to linux.namespaces",
				cfg->path, k, what, what);
		}
	}
	return 0;
}

static int plan_namespaces(struct oci_container *c, ward_error_t *err)
{
	const struct ward_oci_config *cfg = c->cfg;
	size_t i;

	for (i = 0; i < cfg->n_namespaces; i++) {
		const struct ward_oci_ns *ns = &cfg->namespaces[i];
		int fd, t;

		if (ns->path == NULL || *ns->path == '\0') {
			c->new_ns |= (unsigned long)ns->type;
			continue;
		}
		if (c->n_joins == ARRAY_SIZE(c->joins))
			return ward_error_set(err, E2BIG, "too many namespaces to join");
		fd = open(ns->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return ward_error_sys(err, "cannot open the %s namespace %s",
					      ward_oci_ns_name(ns->type), ns->path);
		if (ns->pinned) {
			struct stat st;

			/* pod.c checked this namespace by its identity. */
			if (fstat(fd, &st) < 0 || st.st_dev != ns->dev || st.st_ino != ns->ino) {
				close(fd);
				return ward_error_set(err, ESTALE,
						      "the pod sandbox's %s namespace changed "
						      "since it was checked (%s)",
						      ward_oci_ns_name(ns->type), ns->path);
			}
		}
		t = ioctl(fd, NS_GET_NSTYPE);
		if (t >= 0 && t != ns->type) {
			close(fd);
			return ward_error_set(err, EINVAL,
					      "%s is not a %s namespace (linux.namespaces)",
					      ns->path, ward_oci_ns_name(ns->type));
		}
		c->joins[c->n_joins].type = ns->type;
		c->joins[c->n_joins].fd = fd;
		c->n_joins++;
	}
	if ((c->new_ns & CLONE_NEWUSER) && (cfg->n_uid_maps == 0 || cfg->n_gid_maps == 0))
		return ward_error_set(err, EINVAL,
				      "%s: a new user namespace needs linux.uidMappings and "
				      "linux.gidMappings",
				      cfg->path);
	/* hostname and domainname are the UTS namespace's: in the runtime's
	 * they would rename the host (runc refuses them too). */
	if ((cfg->hostname || cfg->domainname) && !(c->new_ns & CLONE_NEWUTS) &&
	    !ward_oci_ns_find(cfg, CLONE_NEWUTS))
		return ward_error_set(err, EINVAL,
				      "%s: %s is set but linux.namespaces has no uts namespace: "
				      "it would be the host's; add {\"type\": \"uts\"} or remove "
				      "it",
				      cfg->path, cfg->hostname ? "hostname" : "domainname");
	if (check_sysctl_namespaces(c, err) < 0)
		return -1;
	/* No mount namespace: the container shares the runtime's, as the
	 * spec allows, and gets its root with chroot (runc and crun do the
	 * same).  Its mounts are made in the runtime's namespace, beneath a
	 * bind of the rootfs that delete detaches.  Not under the
	 * entitlements, which add a mount namespace (entitle.c): chroot is
	 * no boundary for a process with CAP_SYS_CHROOT. */
	if (!(c->new_ns & CLONE_NEWNS) && !ward_oci_ns_find(cfg, CLONE_NEWNS)) {
		/* The init builds the root by mounting in the runtime's mount
		 * namespace, which a user namespace of its own cannot do. */
		if (ward_oci_ns_find(cfg, CLONE_NEWUSER))
			return ward_error_set(
				err, EINVAL,
				"%s: linux.namespaces has a user namespace but no "
				"mount namespace: ward builds the container's root by "
				"mounting, which the container's user namespace may "
				"not do in the runtime's mount namespace; add "
				"{\"type\": \"mount\"}",
				cfg->path);
		c->chroot_style = true;
		c->root_mnt_id = ward_oci_chroot_mnt_id(cfg->root_path);
		if (c->root_mnt_id == 0)
			return ward_error_sys(err, "%s: root.path %s: cannot read its mount",
					      cfg->path, cfg->root_path);
	}
	return 0;
}

static int write_map(pid_t pid, const char *file, const struct ward_oci_idmap *m, size_t n,
		     ward_error_t *err)
{
	char path[64];
	char *buf = NULL;
	size_t len = 0, i;
	int r;

	for (i = 0; i < n; i++) {
		char line[64];
		int l = snprintf(line, sizeof(line), "%u %u %u\n", m[i].container_id, m[i].host_id,
				 m[i].size);

		buf = ward_xrealloc(buf, len + (size_t)l + 1);
		memcpy(buf + len, line, (size_t)l + 1);
		len += (size_t)l;
	}
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	r = ward_write_file(path, buf ? buf : "", len);
	free(buf);
	if (r < 0) {
		errno = -r;
		return ward_error_sys(err, "cannot write %s (linux.%s)", path,
				      strcmp(file, "uid_map") == 0 ? "uidMappings" : "gidMappings");
	}
	return 0;
}

static int write_maps(const struct ward_oci_config *cfg, pid_t pid, ward_error_t *err)
{
	if (write_map(pid, "uid_map", cfg->uid_maps, cfg->n_uid_maps, err) < 0 ||
	    write_map(pid, "gid_map", cfg->gid_maps, cfg->n_gid_maps, err) < 0)
		return -1;
	return 0;
}

static int connect_console(const char *path, ward_error_t *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return ward_error_set(err, ENAMETOOLONG, "--console-socket %s: path too long",
				      path);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ward_error_sys(err, "socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return ward_error_sys(err, "cannot connect to --console-socket %s", path);
	}
	return fd;
}

static char *hook_state(const char *id, const char *status, pid_t pid, const char *bundle,
			const struct ward_oci_config *cfg);

/* Read one message from the init.  Returns its type, 0 at EOF.  (The init
 * sends no descriptors: any would be dropped by the kernel here.) */
static int recv_msg(int fd, char *buf, size_t size, ssize_t *len)
{
	ssize_t n;

	do
		n = recv(fd, buf, size - 1, 0);
	while (n < 0 && errno == EINTR);
	*len = n;
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return (unsigned char)buf[0];
}

/* Does the config ask for a limit that only a cgroup enforces?  (Device
 * rules are left out: rootless, the user namespace stands for them.) */
static bool resources_limit(const struct ward_oci_resources *r)
{
	size_t i;

	for (i = 0; i < 4; i++)
		if (r->n_throttle[i])
			return true;
	return r->has_mem_limit || r->has_mem_reservation || r->has_mem_swap || r->has_swappiness ||
	       r->disable_oom_killer || r->has_cpu_shares || r->has_cpu_quota ||
	       r->has_cpu_period || r->has_rt_runtime || r->has_rt_period || r->has_cpu_idle ||
	       r->cpus || r->mems || r->has_pids_limit || r->blkio_weight >= 0 ||
	       r->blkio_leaf_weight >= 0 || r->n_weight_devices || r->n_unified || r->n_hugepages ||
	       r->has_net_classid || r->n_net_priorities || r->has_kmem || r->has_kmem_tcp;
}

/*
 * Rootless (podman's rootless user namespace; docs/rootless.md, OCI): the
 * container's cgroup is made only where the user may make it.  The
 * config's cgroupsPath when it names one; else oci-ID in the cgroup
 * delegated to the user (`ward delegate`, $WARD_CGROUP), in the
 * hierarchies delegated (pids, memory, cpu); else none, as podman itself
 * runs rootless containers on cgroup v1: the container then stays in the
 * engine's cgroup, which is said, and a config that asks for limits is
 * refused with the command that gives the user a cgroup.
 */
static int rootless_cgroup(struct oci_container *c, ward_error_t *err)
{
	const struct ward_oci_opts *o = c->o;
	const struct ward_oci_config *cfg = c->cfg;
	cleanup_free char *path = NULL;
	cleanup_free char *deleg = NULL;
	const char *how = NULL;
	uid_t host = ward_host_uid();

	if (cfg->cgroups_path && *cfg->cgroups_path) {
		path = ward_oci_cgroup_path(cfg->cgroups_path, o->id, o->systemd_cgroup, err);
		if (path == NULL)
			return -1;
	} else {
		deleg = ward_cgroup_delegated(o->cgroup_root, getuid(), &how);
		if (deleg == NULL && how)
			return ward_error_set(err, EINVAL,
					      "WARD_CGROUP names no usable cgroup: it must name a "
					      "cgroup below the root, without \"..\"");
		if (deleg) {
			cleanup_free char *abs = ward_xasprintf("/%s/oci-%s", deleg, o->id);

			path = ward_path_normalize(abs);
			if (path == NULL || strcmp(path, "/") == 0)
				return ward_error_set(err, EINVAL,
						      "%s names no usable cgroup: it must name a "
						      "cgroup below the root, without \"..\"",
						      how);
		}
	}
	if (path && ward_oci_cgroup_open_partial(o->cgroup_root, path, true, &c->cg, err) < 0)
		return ward_error_wrap(err, "cannot create the container's cgroup");
	if (c->cg)
		return 0;
	if (how && strcmp(how, "WARD_CGROUP") == 0) {
		cleanup_free char *e = ward_escape(getenv("WARD_CGROUP"), 256);

		if (resources_limit(&cfg->resources))
			return ward_error_set(
				err, EACCES,
				"%s: linux.resources sets limits, but WARD_CGROUP=\"%s\" "
				"names no cgroup where you (uid %u) may make the "
				"container's: name a cgroup delegated to you, or unset "
				"it (`sudo ward delegate %u` gives you one; "
				"docs/rootless.md)",
				cfg->path, e, (unsigned)host, (unsigned)host);
		ward_oci_log(WARD_LOG_WARN,
			     "rootless: WARD_CGROUP=\"%s\" names no cgroup where you (uid %u) "
			     "may make the container's: it stays in the engine's cgroup",
			     e, (unsigned)host);
		return 0;
	}
	if (resources_limit(&cfg->resources))
		return ward_error_set(err, EACCES,
				      "%s: linux.resources sets limits, but no cgroup is delegated "
				      "to you (uid %u) where rootless ward could enforce them: "
				      "`sudo ward delegate %u` gives you one (docs/rootless.md), "
				      "or leave the limits out",
				      cfg->path, (unsigned)host, (unsigned)host);
	ward_oci_log(WARD_LOG_WARN,
		     "rootless: no cgroup is delegated to you (uid %u): the container stays "
		     "in the engine's cgroup, without a cgroup of its own; `sudo ward delegate "
		     "%u` gives it one (docs/rootless.md)",
		     (unsigned)host, (unsigned)host);
	return 0;
}

/*
 * runtime-spec seccomp notify: connect to listenerPath (a host socket,
 * reached by the runtime before the container exists in its root) and hand
 * the init the connected socket with the message it sends along with the
 * listener once its filter is in (the format runc and crun use:
 * {"ociVersion", "fds": ["seccompFd"], "pid", "metadata", "state"}).
 */
static int send_notify_channel(struct oci_container *c, pid_t pid, ward_error_t *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	cleanup_free char *st = hook_state(c->o->id, "creating", pid, c->cfg->bundle, c->cfg);
	json_t *msg = json_pack("{s:s,s:[s],s:i,s:s,s:o}", "ociVersion", WARD_OCI_VERSION, "fds",
				"seccompFd", "pid", (int)pid, "metadata",
				c->sc.listener_metadata ? c->sc.listener_metadata : "", "state",
				json_loads(st, 0, NULL));
	cleanup_free char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
	cleanup_free char *wire = NULL;
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov;
	struct msghdr mh;
	struct cmsghdr *cm;
	cleanup_close int s = -1;

	json_decref(msg);
	if (text == NULL || strlen(c->sc.listener_path) >= sizeof(sa.sun_path)) {
		cleanup_free char *e = ward_escape(c->sc.listener_path, 256);

		return ward_error_set(err, EINVAL, "seccomp listenerPath \"%s\" is not usable", e);
	}
	strcpy(sa.sun_path, c->sc.listener_path);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		cleanup_free char *e = ward_escape(c->sc.listener_path, 256);

		return ward_error_sys(err, "cannot connect to the seccomp listener \"%s\"", e);
	}
	wire = ward_xasprintf("%c%s", SYNC_NOTIFY, text);
	memset(&mh, 0, sizeof(mh));
	memset(cbuf, 0, sizeof(cbuf));
	iov.iov_base = wire;
	iov.iov_len = strlen(wire);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &s, sizeof(int));
	if (sendmsg(c->sync[0], &mh, MSG_NOSIGNAL) < 0)
		return ward_error_sys(err, "cannot pass the listenerPath socket to the init");
	return 0;
}

static char *hook_state(const char *id, const char *status, pid_t pid, const char *bundle,
			const struct ward_oci_config *cfg)
{
	json_t *ann = json_object(), *o;
	char *s;
	size_t i;

	for (i = 0; cfg && i < cfg->n_annotations; i++)
		json_object_set_new(ann, cfg->annotations[i].key,
				    json_string(cfg->annotations[i].value));
	o = json_pack("{s:s,s:s,s:s,s:i,s:s,s:o}", "ociVersion", WARD_OCI_VERSION, "id", id,
		      "status", status, "pid", (int)pid, "bundle", bundle, "annotations", ann);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

static json_t *build_state(const struct oci_container *c, pid_t pid)
{
	const struct ward_oci_config *cfg = c->cfg;
	json_t *ann = json_object(), *s;
	cleanup_free char *created = ward_oci_now_rfc3339();
	size_t i;

	for (i = 0; i < cfg->n_annotations; i++)
		json_object_set_new(ann, cfg->annotations[i].key,
				    json_string(cfg->annotations[i].value));
	s = json_pack("{s:s,s:s,s:i,s:I,s:s,s:s,s:s,s:o,s:b,s:b}", "ociVersion", cfg->oci_version,
		      "id", c->o->id, "pid", (int)pid, "start_time",
		      (json_int_t)ward_oci_proc_start_time(pid), "bundle", cfg->bundle, "rootfs",
		      cfg->root_path, "created", created, "annotations", ann, "userns",
		      (c->new_ns & CLONE_NEWUSER) != 0 || ward_oci_ns_find(cfg, CLONE_NEWUSER),
		      "seccomp", c->sc.prog.n_insns > 0);
	if (c->cg)
		json_object_set_new(s, "cgroup", ward_oci_cgroup_to_json(c->cg));
	if (c->cg && c->cg->scope.pidns)
		json_object_set_new(s, "pidns",
				    json_pack("{s:I,s:I}", "dev",
					      (json_int_t)c->cg->scope.pidns_dev, "ino",
					      (json_int_t)c->cg->scope.pidns_ino));
	/* poststart and poststop run later, from the state: config.json may
	 * have changed by then, and must not affect the container. */
	if (cfg->hooks[WARD_HOOK_POSTSTART].n)
		json_object_set_new(s, "poststart",
				    ward_oci_hooks_to_json(&cfg->hooks[WARD_HOOK_POSTSTART]));
	if (cfg->hooks[WARD_HOOK_POSTSTOP].n)
		json_object_set_new(s, "poststop",
				    ward_oci_hooks_to_json(&cfg->hooks[WARD_HOOK_POSTSTOP]));
	if (c->ent.present)
		json_object_set_new(s, "entitlements", json_string(c->ent.text));
	if (c->pool_held)
		json_object_set_new(s, "uid_pool_slot", json_integer(c->pool_slot));
	if (c->pod_member) {
		json_object_set_new(s, "pod_sandbox", json_string(c->ent.pod_sandbox));
		if (c->pod_slot >= 0)
			json_object_set_new(s, "uid_pool_slot", json_integer(c->pod_slot));
	}
	if (c->has_ll)
		json_object_set_new(s, "landlock", json_true());
	if (c->chroot_style)
		json_object_set_new(s, "chroot_root",
				    json_pack("{s:s,s:I}", "path", cfg->root_path, "before_mnt_id",
					      (json_int_t)c->root_mnt_id));
	return s;
}

static void kill_and_reap(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

static int prepare(struct oci_container *c, int dirfd, ward_error_t *err)
{
	struct ward_oci_config *cfg = c->cfg;
	const struct ward_oci_opts *o = c->o;
	cleanup_free char *cgpath = NULL;

	if (!cfg->has_process)
		return ward_error_set(err, EINVAL,
				      "%s: \"process\" is required to create a container",
				      cfg->path);
	if (cfg->process.terminal && o->console_socket == NULL)
		return ward_error_set(err, EINVAL,
				      "process.terminal is true: give --console-socket (ward does "
				      "not hold a terminal for the container itself)");
	if (ward_oci_entitlements_apply(cfg, o->id, o->root, &c->ent, err) < 0)
		return -1;
	/* A pod's container shares its sandbox's uid range (pod.c): it
	 * records the sandbox's slot, which the sandbox's delete hands over
	 * while a member still lives (cleanup_state). */
	c->pod_slot = -1;
	if (c->ent.pod_sandbox) {
		struct oci_state sb;
		ward_error_t e2 = NULL;

		c->pod_member = true;
		if (ward_oci_state_load(o->root, c->ent.pod_sandbox, false, &sb, &e2) == 0) {
			json_t *slot = json_object_get(sb.json, "uid_pool_slot");

			if (json_is_integer(slot))
				c->pod_slot = (int)json_integer_value(slot);
		}
		ward_error_free(&e2);
		ward_oci_state_free(&sb);
	}
	/* Without the entitlements (which refuse them), a label that cannot
	 * be applied is said, not silently dropped. */
	if (cfg->process.apparmor_profile && *cfg->process.apparmor_profile) {
		cleanup_free char *v = ward_escape(cfg->process.apparmor_profile, 128);

		ward_oci_log(WARD_LOG_WARN,
			     "AppArmor is not enabled on this host: "
			     "process.apparmorProfile \"%s\" is not applied",
			     v);
	}
	if ((cfg->process.selinux_label && *cfg->process.selinux_label) ||
	    json_is_string(json_object_get(json_object_get(cfg->json, "linux"), "mountLabel")))
		ward_oci_log(WARD_LOG_WARN,
			     "SELinux is not enabled on this host: "
			     "process.selinuxLabel and linux.mountLabel are not applied");
	/* A bind mount takes no filesystem data: an option ward does not
	 * know (a typo of nosuid, an option of a newer spec) would be dropped
	 * by the kernel without a word.  Said, with the mount. */
	{
		size_t i;

		for (i = 0; i < cfg->n_mounts; i++) {
			struct ward_oci_mount_flags f;

			ward_oci_mount_flags_parse(&cfg->mounts[i], &f);
			if (f.bind && f.data) {
				cleanup_free char *d = ward_escape(cfg->mounts[i].destination, 256);
				cleanup_free char *opt = ward_escape(f.data, 256);

				ward_oci_log(WARD_LOG_WARN,
					     "mounts[%zu] (%s): option(s) \"%s\" are not mount "
					     "options ward knows, and a bind mount takes no "
					     "filesystem data: not applied",
					     i, d, opt);
			}
			ward_oci_mount_flags_free(&f);
		}
	}
	if (c->ent.present) {
		size_t i;

		for (i = 0; i < c->ent.n_notes; i++)
			ward_oci_log(WARD_LOG_DEBUG, "entitlements: %s", c->ent.notes[i]);
		/* A user namespace of ward's: a host range of the OCI pool. */
		if (c->ent.userns_added) {
			cleanup_free char *dir = ward_xasprintf(
				"%s/%s", o->root ? o->root : WARD_OCI_DEFAULT_ROOT, o->id);
			uint32_t base;

			if (ward_oci_pool_take(o->id, dir, &c->pool_slot, err) < 0)
				return -1;
			c->pool_held = true;
			base = ward_oci_pool_base(c->pool_slot);
			cfg->uid_maps = ward_xcalloc(1, sizeof(*cfg->uid_maps));
			cfg->gid_maps = ward_xcalloc(1, sizeof(*cfg->gid_maps));
			cfg->uid_maps[0] = (struct ward_oci_idmap){0, base, WARD_ID_RANGE};
			cfg->gid_maps[0] = cfg->uid_maps[0];
			cfg->n_uid_maps = cfg->n_gid_maps = 1;
		}
		/* Every host source as a detached tree, from the descriptors
		 * the checks opened. */
		if (ward_oci_rootfs_trees(c, err) < 0 || ward_oci_pod_sysfs(c, err) < 0)
			return -1;
		/* ward's own filter for the policy, stacked on the config's. */
		if (ward_seccomp_prepare(&c->ent.policy, "/run/ward/seccomp", &c->ward_sc, err) < 0)
			return ward_error_wrap(err, "%s", WARD_OCI_ENTITLEMENTS);
		/* Landlock: the policy's network rules and scoping; its
		 * filesystem rules describe ward's host view, not an image. */
		ward_landlock_plan(&c->ent.policy, ward_landlock_abi(), &c->ll);
		for (i = 0; i < c->ll.n_rules; i++) {
			free(c->ll.rules[i].path);
			free(c->ll.rules[i].origin);
		}
		free(c->ll.rules);
		c->ll.rules = NULL;
		c->ll.n_rules = 0;
		c->ll.handled_fs = 0;
		c->has_ll = c->ll.abi > 0 && (c->ll.handled_net || c->ll.scoped);
	}
	if (plan_namespaces(c, err) < 0)
		return -1;
	/* ward's addition that cannot break a container: Landlock scoping of
	 * abstract unix sockets and signals to the container's own domain.
	 * Entitlements add their rules (entitle.c fills c->ll then). */
	if (!c->has_ll) {
		int abi = ward_landlock_abi();

		if (abi >= 6) {
			memset(&c->ll, 0, sizeof(c->ll));
			c->ll.abi = abi;
			c->ll.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
			c->has_ll = true;
		}
	}
	/* No mount namespace: chroot(2) is answered EPERM, and Landlock
	 * keeps every filesystem access beneath the root (rootfs.c). */
	if (c->chroot_style &&
	    (ward_oci_chroot_filter(&c->ward_sc, cfg->path, err) < 0 ||
	     ward_oci_chroot_confine(&c->ll, &c->has_ll, cfg->process.caps.bounding, cfg->path,
				     err) < 0))
		return -1;
	if (cfg->seccomp) {
		if (ward_oci_seccomp_prepare(cfg->seccomp, cfg->path, &c->sc, err) < 0)
			return -1;
		if (ward_oci_prog_save(dirfd, "seccomp.bpf", &c->sc.prog, c->sc.flags, err) < 0)
			return -1;
	}
	if (c->ward_sc.n_insns &&
	    ward_oci_prog_save(dirfd, "ward-seccomp.bpf", &c->ward_sc, 0, err) < 0)
		return -1;

	if (ward_rootless()) {
		if (rootless_cgroup(c, err) < 0)
			return -1;
	} else {
		cgpath = ward_oci_cgroup_path(cfg->cgroups_path, o->id, o->systemd_cgroup, err);
		if (cgpath == NULL)
			return -1;
		if (ward_oci_cgroup_open(o->cgroup_root, cgpath, true, &c->cg, err) < 0)
			return ward_error_wrap(err, "cannot create the container's cgroup");
	}
	/* A cgroup that exists already belongs to somebody else: writing the
	 * container's limits there, or killing what it holds, is taking it
	 * over.  Under the entitlements only a cgroup ward makes is used. */
	if (c->ent.present && !ward_oci_cgroup_owned(c->cg)) {
		cleanup_free char *e =
			ward_escape(cfg->cgroups_path ? cfg->cgroups_path : cgpath, 256);

		return ward_error_set(err, EEXIST,
				      "%s: linux.cgroupsPath \"%s\": the cgroup exists already; "
				      "under %s a container gets only a cgroup that ward creates "
				      "(remove linux.cgroupsPath, or name a new cgroup)",
				      cfg->path, e, WARD_OCI_ENTITLEMENTS);
	}
	if (c->cg && ward_oci_cgroup_apply(c->cg, &cfg->resources, true, err) < 0)
		return -1;

	if (!c->run_mode) {
		if (mkfifoat(dirfd, "exec.fifo", 0600) < 0)
			return ward_error_sys(err, "cannot make the exec fifo");
		c->fifo_fd = openat(dirfd, "exec.fifo", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (c->fifo_fd < 0)
			return ward_error_sys(err, "cannot open the exec fifo");
	}
	if (o->console_socket && cfg->process.terminal) {
		c->console_fd = connect_console(o->console_socket, err);
		if (c->console_fd < 0)
			return -1;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, c->sync) < 0)
		return ward_error_sys(err, "socketpair");
	c->state_json = hook_state(o->id, "creating", 0, cfg->bundle, cfg);
	return 0;
}

/* Clone the init; returns its pid (the runtime's child). */
static pid_t spawn(struct oci_container *c, ward_error_t *err)
{
	const struct ward_oci_config *cfg = c->cfg;
	bool staged = c->n_joins > 0;
	pid_t pid;
	char buf[3000];
	ssize_t n;
	int t;

	fflush(NULL);
	if (!staged) {
		unsigned long flags = c->new_ns & ~(unsigned long)CLONE_NEWCGROUP;

		pid = ward_clone3(flags, ward_oci_cgroup_dirfd(c->cg));
		if (pid < 0)
			return ward_error_sys(err, "cannot create the container's namespaces (%s)",
					      "clone3");
		if (pid == 0)
			ward_oci_init(c, false);
		close(c->sync[1]);
		c->sync[1] = -1;
		if ((c->new_ns & CLONE_NEWUSER) && write_maps(cfg, pid, err) < 0) {
			kill_and_reap(pid);
			return -1;
		}
		if (c->new_ns & CLONE_NEWUSER)
			(void)send(c->sync[0], (char[]){SYNC_MAPS}, 1, MSG_NOSIGNAL);
		return pid;
	}
	/* The init is stage 1's child; when stage 1 exits it must become
	 * ours, not the host init's. */
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	pid = ward_clone3(0, -1);
	if (pid < 0)
		return ward_error_sys(err, "fork");
	if (pid == 0)
		ward_oci_stage1(c);
	close(c->sync[1]);
	c->sync[1] = -1;
	for (;;) {
		t = recv_msg(c->sync[0], buf, sizeof(buf), &n);
		if (t == SYNC_USERNS) {
			if (write_maps(cfg, pid, err) < 0) {
				kill_and_reap(pid);
				return -1;
			}
			(void)send(c->sync[0], (char[]){SYNC_MAPS}, 1, MSG_NOSIGNAL);
			continue;
		}
		if (t == SYNC_PID && n == 1 + (ssize_t)sizeof(pid_t)) {
			pid_t init;

			memcpy(&init, buf + 1, sizeof(init));
			while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
				;
			return init;
		}
		kill_and_reap(pid);
		if (t == SYNC_ERROR && n > 2)
			return ward_error_set(err, 0, "%s", buf + 2);
		return ward_error_set(err, ECHILD, "the container's first stage died");
	}
}

/* Drive the init until it is ready (waiting for start). */
static int finish_create(struct oci_container *c, pid_t pid, ward_error_t *err)
{
	const struct ward_oci_config *cfg = c->cfg;
	char buf[3000];
	ssize_t n;

	if (cfg->process.has_oom_score_adj) {
		char path[64], val[16];
		int r;

		snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)pid);
		snprintf(val, sizeof(val), "%d", cfg->process.oom_score_adj);
		r = ward_write_file(path, val, strlen(val));
		if (r < 0) {
			errno = -r;
			return ward_error_sys(err,
					      "cannot set process.oomScoreAdj to %s (lowering it "
					      "needs CAP_SYS_RESOURCE)",
					      val);
		}
	}
	/* v1 (and the hybrid layout): join after clone.  The first write may
	 * wait for an RCU grace period; the init builds its root meanwhile. */
	if (c->cg && (ward_oci_cgroup_dirfd(c->cg) < 0 || ward_clone3_missing()) &&
	    ward_oci_cgroup_enter(c->cg, pid, err) < 0)
		return -1;
	if (send(c->sync[0], (char[]){SYNC_CGROUP}, 1, MSG_NOSIGNAL) != 1)
		goto died;
	if (c->sc.notify && send_notify_channel(c, pid, err) < 0)
		return -1;
	for (;;) {
		int t = recv_msg(c->sync[0], buf, sizeof(buf), &n);

		switch (t) {
		case SYNC_HOOKS: {
			/* prestart (deprecated) comes from the spec's first
			 * lifecycle, where it ran after create: its state says
			 * "created", as crun's does and runtime-tools checks;
			 * createRuntime runs during create: "creating". */
			cleanup_free char *pre =
				hook_state(c->o->id, "created", pid, cfg->bundle, cfg);
			cleanup_free char *st =
				hook_state(c->o->id, "creating", pid, cfg->bundle, cfg);

			if (ward_oci_hooks_run(&cfg->hooks[WARD_HOOK_PRESTART], "prestart", pre,
					       err) < 0 ||
			    ward_oci_hooks_run(&cfg->hooks[WARD_HOOK_CREATE_RUNTIME],
					       "createRuntime", st, err) < 0)
				return -1;
			if (send(c->sync[0], (char[]){SYNC_HOOKS_OK}, 1, MSG_NOSIGNAL) != 1)
				goto died;
			break;
		}
		case SYNC_READY:
			return 0;
		case SYNC_ERROR:
			ward_error_set(err, 0, "%s", n > 2 ? buf + 2 : "container init failed");
			(*err)->status = n > 1 ? (unsigned char)buf[1] : 1;
			return -1;
		case 0:
			goto died;
		default:
			return ward_error_set(err, EPROTO, "unexpected message %d from the init",
					      t);
		}
	}
died:
	/* The init may have failed before it read our message (a mount of the
	 * rootfs, made before the cgroup step): its error is still queued on
	 * the socket, behind which the peer's close reads as EOF. */
	{
		ssize_t k;
		int t = 0;

		do
			k = recv(c->sync[0], buf, sizeof(buf) - 1, MSG_DONTWAIT);
		while (k < 0 && errno == EINTR);
		if (k > 0)
			t = (unsigned char)buf[0];
		while (k > 0 && t != SYNC_ERROR) {
			k = recv(c->sync[0], buf, sizeof(buf) - 1, MSG_DONTWAIT);
			t = k > 0 ? (unsigned char)buf[0] : 0;
		}
		if (t == SYNC_ERROR) {
			buf[k] = '\0';
			ward_error_set(err, 0, "%s", k > 2 ? buf + 2 : "container init failed");
			(*err)->status = k > 1 ? (unsigned char)buf[1] : 1;
			return -1;
		}
	}
	return ward_error_set(err, ECHILD, "the container's init died during creation");
}

/* What the runtime may kill in the cgroup later: the init, and the
 * processes of its pid namespace when it has one of its own. */
static void scope_cgroup(struct oci_container *c, pid_t pid)
{
	struct ward_oci_cg_scope *sc;
	char path[64];
	struct stat mine, its;

	if (c->cg == NULL)
		return;
	sc = &c->cg->scope;
	sc->init = pid;
	sc->init_start = ward_oci_proc_start_time(pid);
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
	if (stat(path, &its) == 0 && stat("/proc/self/ns/pid", &mine) == 0 &&
	    (its.st_ino != mine.st_ino || its.st_dev != mine.st_dev)) {
		sc->pidns = true;
		sc->pidns_dev = its.st_dev;
		sc->pidns_ino = its.st_ino;
	}
}

static int do_create(const struct ward_oci_opts *o, pid_t *out_pid, struct oci_container *c,
		     struct oci_state *st, ward_error_t *err)
{
	cleanup_close int rootfd = -1;
	int dirfd = -1;
	pid_t pid = -1;

	memset(st, 0, sizeof(*st));
	st->dirfd = -1;
	if (!ward_oci_id_ok(o->id, err))
		return -1;
	rootfd = ward_oci_root_open(o->root, true, err);
	if (rootfd < 0)
		return -1;
	if (mkdirat(rootfd, o->id, 0700) < 0) {
		if (errno == EEXIST)
			return ward_error_set(err, EEXIST, "container \"%s\" already exists",
					      o->id);
		return ward_error_sys(err, "cannot create the state directory for %s", o->id);
	}
	dirfd = openat(rootfd, o->id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	st->dirfd = dirfd;
	st->id = ward_xstrdup(o->id);
	st->dir = ward_xasprintf("%s/%s", o->root ? o->root : WARD_OCI_DEFAULT_ROOT, o->id);
	if (dirfd < 0 || flock(dirfd, LOCK_EX) < 0) {
		ward_error_sys(err, "cannot lock %s", st->dir);
		goto fail;
	}
	if (prepare(c, dirfd, err) < 0)
		goto fail;
	pid = spawn(c, err);
	if (pid < 0)
		goto fail;
	scope_cgroup(c, pid);
	/* The uid range is the init's from now on (it outlives create). */
	if (c->pool_held && ward_oci_pool_hold(c->pool_slot, pid, st->dir, err) < 0)
		goto fail;
	if (finish_create(c, pid, err) < 0)
		goto fail;
	st->json = build_state(c, pid);
	st->pid = pid;
	if (ward_oci_state_save(st, err) < 0)
		goto fail;
	if (ward_oci_write_pid_file(o->pid_file, pid, err) < 0)
		goto fail;
	*out_pid = pid;
	return 0;
fail:
	if (pid > 0)
		kill_and_reap(pid);
	/* runtime.md lifecycle 4: a failing prestart hook (or any failure once
	 * the init exists) stops the container and goes on at step 9: it is
	 * destroyed below, and the poststop hooks run (warnings only). */
	if (pid > 0 && c->cfg->hooks[WARD_HOOK_POSTSTOP].n) {
		cleanup_free char *text = hook_state(o->id, "stopped", pid, c->cfg->bundle, c->cfg);

		ward_oci_hooks_run_warn(&c->cfg->hooks[WARD_HOOK_POSTSTOP], "poststop", text);
	}
	if (c->pool_held) {
		ward_oci_pool_release(c->pool_slot, st->dir ? st->dir : "");
		c->pool_held = false;
	}
	if (c->cg) {
		(void)ward_oci_cgroup_destroy(c->cg, NULL);
		c->cg = NULL;
	}
	if (c->chroot_style)
		ward_oci_chroot_detach(c->cfg->root_path, c->root_mnt_id);
	(void)ward_oci_state_remove(st, NULL);
	return -1;
}

int ward_oci_create(const struct ward_oci_opts *o, ward_error_t *err)
{
	struct ward_oci_config cfg;
	struct oci_container c;
	struct oci_state st;
	pid_t pid;
	int rc;

	memset(&c, 0, sizeof(c));
	c.o = o;
	c.cfg = &cfg;
	c.sync[0] = c.sync[1] = c.fifo_fd = c.console_fd = c.root_tree = c.notify_fd = -1;
	if (ward_oci_config_load(o->bundle, &cfg, err) < 0) {
		ward_oci_config_free(&cfg);
		return -1;
	}
	rc = do_create(o, &pid, &c, &st, err);
	if (c.cg)
		ward_oci_cgroup_free(c.cg);
	container_free(&c);
	ward_oci_state_free(&st);
	ward_oci_config_free(&cfg);
	return rc;
}

/* ---- start ---- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The poststart or poststop hooks kept in the state file, given the
 * container's public state as STATUS; a failing hook is a warning. */
static void run_saved_hooks(const struct oci_state *s, const char *kind,
			    enum ward_oci_status status)
{
	struct ward_oci_hooks hooks;

	ward_oci_hooks_from_json(json_object_get(s->json, kind), &hooks);
	if (hooks.n) {
		json_t *pub = ward_oci_state_public(s, status);
		cleanup_free char *text = json_dumps(pub, JSON_COMPACT);

		json_decref(pub);
		ward_oci_hooks_run_warn(&hooks, kind, text);
	}
	ward_oci_hooks_free(&hooks);
}

int ward_oci_start(const char *root, const char *id, ward_error_t *err)
{
	struct oci_state s;
	struct ward_oci_cgroup *cg = NULL;
	enum ward_oci_status status;
	int fd = -1, rc = -1;
	int64_t deadline;
	bool execd = false;

	if (ward_oci_state_load(root, id, true, &s, err) < 0)
		goto out;
	cg = ward_oci_state_cgroup(&s);
	status = ward_oci_state_status(&s, cg);
	if (status != WARD_OCI_CREATED) {
		ward_error_set(err, EINVAL, "cannot start container \"%s\": it is %s, not created",
			       id, ward_oci_status_name(status));
		goto out;
	}
	/* The init holds the read end: with O_NONBLOCK, ENXIO means it is
	 * gone. */
	fd = openat(s.dirfd, "exec.fifo", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		ward_error_sys(err, "cannot start container \"%s\" (its init is not waiting)", id);
		goto out;
	}
	if (write(fd, "0", 1) != 1) {
		ward_error_sys(err, "cannot start container \"%s\"", id);
		goto out;
	}
	(void)unlinkat(s.dirfd, "exec.fifo", 0);
	/* The read end closes at execve (close-on-exec): poll reports POLLERR
	 * on the write end once no reader is left.  Then the program runs (and
	 * may already have ended: a short program is not an error).  Death of
	 * the init before execve looks the same; its message went to the
	 * container's stderr, and the engine sees the exit status. */
	deadline = now_ms() + 10000;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = 0};

		if (poll(&p, 1, 100) > 0 && (p.revents & (POLLERR | POLLHUP))) {
			execd = true;
			break;
		}
		if (now_ms() > deadline)
			break;
	}
	if (!execd) {
		ward_error_set(err, ETIMEDOUT,
			       "container \"%s\" did not start its program within 10 s", id);
		goto out;
	}
	run_saved_hooks(&s, "poststart", WARD_OCI_RUNNING);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	ward_oci_cgroup_free(cg);
	ward_oci_state_free(&s);
	return rc;
}

/* ---- state, list, ps ---- */

int ward_oci_state(const char *root, const char *id, FILE *out, ward_error_t *err)
{
	struct oci_state s;
	struct ward_oci_cgroup *cg;
	json_t *pub;

	if (ward_oci_state_load(root, id, false, &s, err) < 0) {
		ward_oci_state_free(&s);
		return -1;
	}
	cg = ward_oci_state_cgroup(&s);
	pub = ward_oci_state_public(&s, ward_oci_state_status(&s, cg));
	json_dumpf(pub, out, JSON_INDENT(2));
	fputc('\n', out);
	json_decref(pub);
	ward_oci_cgroup_free(cg);
	ward_oci_state_free(&s);
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int ward_oci_list(const char *root, bool json, bool quiet, FILE *out, ward_error_t *err)
{
	const char *r = root ? root : WARD_OCI_DEFAULT_ROOT;
	json_t *arr = json_array();
	char **names = NULL;
	size_t n = 0, i;
	DIR *d = opendir(r);
	struct dirent *e;

	(void)err;
	while (d && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		names = ward_xrealloc(names, (n + 1) * sizeof(char *));
		names[n++] = ward_xstrdup(e->d_name);
	}
	if (d)
		closedir(d);
	if (n)
		qsort(names, n, sizeof(char *), cmp_names);
	if (!json && !quiet)
		fprintf(out, "%-24s %-8s %-10s %-40s %s\n", "ID", "PID", "STATUS", "BUNDLE",
			"CREATED");
	for (i = 0; i < n; i++) {
		struct oci_state s;
		struct ward_oci_cgroup *cg;
		enum ward_oci_status st;
		json_t *pub;
		ward_error_t e2 = NULL;

		if (ward_oci_state_load(r, names[i], false, &s, &e2) < 0) {
			ward_error_free(&e2);
			ward_oci_state_free(&s);
			free(names[i]);
			continue;
		}
		cg = ward_oci_state_cgroup(&s);
		st = ward_oci_state_status(&s, cg);
		pub = ward_oci_state_public(&s, st);
		if (json) {
			json_array_append(arr, pub);
		} else if (quiet) {
			fprintf(out, "%s\n", s.id);
		} else {
			json_t *cr = json_object_get(pub, "created");

			fprintf(out, "%-24s %-8d %-10s %-40s %s\n", s.id,
				st == WARD_OCI_STOPPED ? 0 : (int)s.pid, ward_oci_status_name(st),
				s.bundle, json_is_string(cr) ? json_string_value(cr) : "");
		}
		json_decref(pub);
		ward_oci_cgroup_free(cg);
		ward_oci_state_free(&s);
		free(names[i]);
	}
	free(names);
	if (json) {
		json_dumpf(arr, out, JSON_COMPACT);
		fputc('\n', out);
	}
	json_decref(arr);
	return 0;
}

int ward_oci_ps(const char *root, const char *id, bool json, FILE *out, ward_error_t *err)
{
	struct oci_state s;
	struct ward_oci_cgroup *cg = NULL;
	cleanup_free pid_t *pids = NULL;
	size_t n = 0, i;
	int rc = -1;

	if (ward_oci_state_load(root, id, false, &s, err) < 0)
		goto out;
	cg = ward_oci_state_cgroup(&s);
	if (cg == NULL) {
		ward_error_set(err, ENOENT, "container \"%s\" has no cgroup", id);
		goto out;
	}
	if (ward_oci_cgroup_pids(cg, &pids, &n, err) < 0)
		goto out;
	if (json) {
		fputc('[', out);
		for (i = 0; i < n; i++)
			fprintf(out, "%s%d", i ? "," : "", (int)pids[i]);
		fputs("]\n", out);
	} else {
		fprintf(out, "PID CMD\n");
		for (i = 0; i < n; i++) {
			char path[64], comm[64] = "?";
			FILE *f;

			snprintf(path, sizeof(path), "/proc/%d/comm", (int)pids[i]);
			f = fopen(path, "re");
			if (f) {
				if (fgets(comm, sizeof(comm), f))
					comm[strcspn(comm, "\n")] = '\0';
				fclose(f);
			}
			/* The container names its processes: a name is not
			 * allowed to move the operator's cursor. */
			{
				cleanup_free char *e = ward_escape(comm, 64);

				fprintf(out, "%d %s\n", (int)pids[i], e);
			}
		}
	}
	rc = 0;
out:
	ward_oci_cgroup_free(cg);
	ward_oci_state_free(&s);
	return rc;
}

/* ---- kill, pause ---- */

static int signal_init(const struct oci_state *s, int sig, ward_error_t *err)
{
	int pfd = (int)syscall(SYS_pidfd_open, s->pid, 0);
	int rc = 0;

	if (pfd < 0)
		return ward_error_sys(err, "container \"%s\": cannot reach its init (pid %d)",
				      s->id, (int)s->pid);
	/* The pidfd pins the process; check it is still the init we made. */
	if (ward_oci_proc_start_time(s->pid) != s->start_time)
		rc = ward_error_set(err, ESRCH, "container \"%s\" is not running", s->id);
	else if (syscall(SYS_pidfd_send_signal, pfd, sig, NULL, 0) < 0)
		rc = ward_error_sys(err, "cannot signal container \"%s\"", s->id);
	close(pfd);
	return rc;
}

int ward_oci_kill(const char *root, const char *id, int sig, bool all, ward_error_t *err)
{
	struct oci_state s;
	struct ward_oci_cgroup *cg = NULL;
	enum ward_oci_status st;
	int rc = -1;

	if (ward_oci_state_load(root, id, false, &s, err) < 0)
		goto out;
	cg = ward_oci_state_cgroup(&s);
	st = ward_oci_state_status(&s, cg);
	if (st == WARD_OCI_STOPPED && !all) {
		ward_error_set(err, ESRCH, "container \"%s\" is not running", id);
		goto out;
	}
	if (all && cg) {
		rc = ward_oci_cgroup_signal(cg, sig, err);
		/* A stopped process cannot act on the signal until woken. */
		if (rc == 0 && st == WARD_OCI_PAUSED && sig == SIGKILL)
			(void)ward_oci_cgroup_freeze(cg, false, NULL);
		goto out;
	}
	rc = signal_init(&s, sig, err);
	if (rc == 0 && st == WARD_OCI_PAUSED && sig == SIGKILL && cg)
		(void)ward_oci_cgroup_freeze(cg, false, NULL);
out:
	ward_oci_cgroup_free(cg);
	ward_oci_state_free(&s);
	return rc;
}

int ward_oci_pause(const char *root, const char *id, bool pause, ward_error_t *err)
{
	struct oci_state s;
	struct ward_oci_cgroup *cg = NULL;
	enum ward_oci_status st;
	int rc = -1;

	if (ward_oci_state_load(root, id, true, &s, err) < 0)
		goto out;
	cg = ward_oci_state_cgroup(&s);
	if (cg == NULL) {
		ward_error_set(err, ENOENT, "container \"%s\" has no cgroup to freeze", id);
		goto out;
	}
	st = ward_oci_state_status(&s, cg);
	if (pause && st != WARD_OCI_RUNNING && st != WARD_OCI_CREATED) {
		ward_error_set(err, EINVAL, "cannot pause container \"%s\": it is %s", id,
			       ward_oci_status_name(st));
		goto out;
	}
	if (!pause && st != WARD_OCI_PAUSED) {
		ward_error_set(err, EINVAL, "cannot resume container \"%s\": it is %s, not paused",
			       id, ward_oci_status_name(st));
		goto out;
	}
	rc = ward_oci_cgroup_freeze(cg, pause, err);
out:
	ward_oci_cgroup_free(cg);
	ward_oci_state_free(&s);
	return rc;
}

/* ---- delete ---- */

static void wait_gone(pid_t pid, unsigned long long start, int ms)
{
	int64_t deadline = now_ms() + ms;

	while (ward_oci_proc_start_time(pid) == start && start && now_ms() < deadline) {
		struct timespec ts = {0, 2000000};

		/* Reap it if it is ours (ward run). */
		(void)waitpid(pid, NULL, WNOHANG);
		nanosleep(&ts, NULL);
	}
}

/*
 * A pod sandbox deleted while a container of its pod still runs (pod.c):
 * that container is in the sandbox's user namespace, so the uid range must
 * not go back to the pool.  The lease goes to the first live member; its
 * delete gives the range back (ward_oci_pool_release releases only the
 * lease that names its own state directory).
 */
static void pod_hand_over(const struct oci_state *s, unsigned slot)
{
	cleanup_free char *root = ward_xstrdup(s->dir);
	char *slash = strrchr(root, '/');
	DIR *d;
	struct dirent *de;

	if (slash == NULL)
		return;
	*slash = '\0';
	d = opendir(root);
	while (d && (de = readdir(d)) != NULL) {
		struct oci_state m;
		ward_error_t e = NULL;
		const char *sb;
		bool done = false;

		if (de->d_name[0] == '.' || strcmp(de->d_name, s->id) == 0)
			continue;
		if (ward_oci_state_load(root, de->d_name, false, &m, &e) == 0) {
			sb = json_string_value(json_object_get(m.json, "pod_sandbox"));
			if (sb && strcmp(sb, s->id) == 0 && m.start_time &&
			    ward_oci_proc_start_time(m.pid) == m.start_time)
				done = ward_oci_pool_hold(slot, m.pid, m.dir, NULL) == 0;
		}
		ward_error_free(&e);
		ward_oci_state_free(&m);
		if (done)
			break;
	}
	if (d)
		closedir(d);
}

static int cleanup_state(struct oci_state *s, struct ward_oci_cgroup *cg, ward_error_t *err)
{
	ward_error_t e = NULL;
	int rc = 0;

	if (cg && ward_oci_cgroup_destroy(cg, &e) < 0) {
		ward_oci_log(WARD_LOG_WARN, "%s", e->msg);
		ward_error_free(&e);
	}
	run_saved_hooks(s, "poststop", WARD_OCI_STOPPED);
	{
		json_t *cr = json_object_get(s->json, "chroot_root");
		json_t *path = json_object_get(cr, "path"),
		       *id = json_object_get(cr, "before_mnt_id");

		if (json_is_string(path) && json_is_integer(id))
			ward_oci_chroot_detach(json_string_value(path),
					       (uint64_t)json_integer_value(id));
	}
	{
		json_t *slot = json_object_get(s->json, "uid_pool_slot");

		if (json_is_integer(slot)) {
			if (!json_is_string(json_object_get(s->json, "pod_sandbox")))
				pod_hand_over(s, (unsigned)json_integer_value(slot));
			ward_oci_pool_release((unsigned)json_integer_value(slot), s->dir);
		}
	}
	if (ward_oci_state_remove(s, err) < 0)
		rc = -1;
	return rc;
}

int ward_oci_delete(const char *root, const char *id, bool force, ward_error_t *err)
{
	struct oci_state s;
	struct ward_oci_cgroup *cg = NULL;
	enum ward_oci_status st;
	int rc = -1;

	/* An id that is not one is an error even with --force (which
	 * forgives only a container that does not exist). */
	if (!ward_oci_id_ok(id, err))
		return -1;
	if (ward_oci_state_load(root, id, true, &s, err) < 0) {
		/* A directory without state.json is a create that died half
		 * way: --force removes it. */
		if (force && s.dirfd >= 0 && s.json == NULL) {
			ward_error_free(err);
			rc = ward_oci_state_remove(&s, err);
		} else if (force && s.dirfd < 0) {
			/* runc: deleting what does not exist with --force is not
			 * an error. */
			ward_error_free(err);
			rc = 0;
		}
		ward_oci_state_free(&s);
		return rc;
	}
	cg = ward_oci_state_cgroup(&s);
	st = ward_oci_state_status(&s, cg);
	if (st != WARD_OCI_STOPPED) {
		/* runc deletes a created container without --force (its init
		 * only waits); a running or paused one needs --force. */
		if (st != WARD_OCI_CREATED && !force) {
			ward_error_set(
				err, EBUSY,
				"cannot delete container \"%s\": it is %s (stop it first, or "
				"use delete --force)",
				id, ward_oci_status_name(st));
			goto out;
		}
		if (cg)
			(void)ward_oci_cgroup_signal(cg, SIGKILL, NULL);
		(void)signal_init(&s, SIGKILL, NULL);
		if (cg && st == WARD_OCI_PAUSED)
			(void)ward_oci_cgroup_freeze(cg, false, NULL);
		wait_gone(s.pid, s.start_time, 3000);
	}
	rc = cleanup_state(&s, cg, err);
	cg = NULL;
out:
	ward_oci_cgroup_free(cg);
	ward_oci_state_free(&s);
	return rc;
}

/* ---- run ---- */

static volatile sig_atomic_t forward_pid;

static void forward(int sig)
{
	if (forward_pid > 0)
		kill(forward_pid, sig);
}

int ward_oci_run(const struct ward_oci_opts *o, int *status, ward_error_t *err)
{
	static const int fwd[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
	struct ward_oci_config cfg;
	struct oci_container c;
	struct oci_state st;
	pid_t pid = -1;
	char buf[3000];
	ssize_t n;
	int rc = -1, t, ws = 0;
	size_t i;

	*status = 125;
	memset(&c, 0, sizeof(c));
	c.o = o;
	c.cfg = &cfg;
	c.run_mode = true;
	c.sync[0] = c.sync[1] = c.fifo_fd = c.console_fd = c.root_tree = c.notify_fd = -1;
	if (ward_oci_config_load(o->bundle, &cfg, err) < 0) {
		ward_oci_config_free(&cfg);
		return -1;
	}
	/* Be the reaper of the init even when a stage 1 made it. */
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	if (do_create(o, &pid, &c, &st, err) < 0)
		goto out;
	forward_pid = pid;
	for (i = 0; i < ARRAY_SIZE(fwd); i++) {
		struct sigaction sa = {.sa_handler = forward, .sa_flags = SA_RESTART};

		sigaction(fwd[i], &sa, NULL);
	}
	if (send(c.sync[0], (char[]){SYNC_START}, 1, MSG_NOSIGNAL) != 1) {
		ward_error_set(err, ECHILD, "the container's init died before start");
		goto reap;
	}
	/* EOF: the init's socket closed at execve.  An error message instead
	 * means execve or a startContainer hook failed. */
	t = recv_msg(c.sync[0], buf, sizeof(buf), &n);
	if (t == SYNC_ERROR) {
		ward_error_set(err, 0, "%s", n > 2 ? buf + 2 : "container init failed");
		(*err)->status = n > 1 ? (unsigned char)buf[1] : 125;
		goto reap;
	}
	run_saved_hooks(&st, "poststart", WARD_OCI_RUNNING);
	if (o->detach) {
		*status = 0;
		rc = 0;
		ward_oci_cgroup_free(c.cg);
		c.cg = NULL;
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
reap:
	forward_pid = 0;
	if (rc < 0)
		kill_and_reap(pid);
	{
		ward_error_t e = NULL;

		if (cleanup_state(&st, c.cg, &e) < 0) {
			ward_oci_log(WARD_LOG_WARN, "%s", e->msg);
			ward_error_free(&e);
		}
		c.cg = NULL;
	}
out:
	if (c.cg)
		ward_oci_cgroup_free(c.cg);
	container_free(&c);
	ward_oci_state_free(&st);
	ward_oci_config_free(&cfg);
	return rc;
}

/* ---- update, events ---- */

int ward_oci_update(const char *root, const char *id, json_t *resources, const char *from,
		    ward_error_t *err)
{
	struct ward_oci_resources r;
	struct oci_state s;
	struct ward_oci_cgroup *cg = NULL;
	enum ward_oci_status st;
	json_t *ent;
	int rc = -1;

	memset(&r, 0, sizeof(r));
	r.blkio_weight = r.blkio_leaf_weight = -1;
	if (ward_oci_state_load(root, id, true, &s, err) < 0)
		goto out;
	cg = ward_oci_state_cgroup(&s);
	st = ward_oci_state_status(&s, cg);
	if (st == WARD_OCI_STOPPED) {
		ward_error_set(err, EINVAL, "cannot update container \"%s\": it is stopped", id);
		goto out;
	}
	if (cg == NULL) {
		ward_error_set(err, ENOENT, "container \"%s\" has no cgroup to update", id);
		goto out;
	}
	if (ward_oci_resources_parse(resources, from, &r, err) < 0)
		goto out;
	/* Device rules are create's (runc's update leaves them too). */
	if (r.n_devices)
		ward_oci_log(WARD_LOG_WARN, "update: linux.resources.devices is not changed by "
					    "update; ignored");
	ent = json_object_get(s.json, "entitlements");
	if (json_is_string(ent)) {
		struct oci_entitlements bound;
		size_t i;

		memset(&bound, 0, sizeof(bound));
		bound.root.fd = -1;
		bound.file = ward_xstrdup(from);
		if (ward_oci_entitlements_parse(json_string_value(ent), &bound.policy, err) < 0) {
			ward_oci_entitlements_free(&bound);
			goto out;
		}
		bound.present = true;
		ward_oci_entitlements_resources(&r, &bound);
		for (i = 0; i < bound.n_notes; i++)
			ward_oci_log(WARD_LOG_DEBUG, "entitlements: %s", bound.notes[i]);
		if (bound.n_refusals) {
			ward_error_set(err, EACCES, "%s", bound.refusals[0]);
			ward_oci_entitlements_free(&bound);
			goto out;
		}
		ward_oci_entitlements_free(&bound);
	}
	rc = ward_oci_cgroup_update(cg, &r, err);
out:
	ward_oci_resources_free(&r);
	ward_oci_cgroup_free(cg);
	ward_oci_state_free(&s);
	return rc;
}

static int print_stats(struct oci_state *s, struct ward_oci_cgroup *cg, FILE *out)
{
	json_t *ev = json_pack("{s:s,s:s,s:o}", "type", "stats", "id", s->id, "data",
			       ward_oci_cgroup_stats(cg));

	json_dumpf(ev, out, JSON_COMPACT);
	fputc('\n', out);
	json_decref(ev);
	return fflush(out);
}

int ward_oci_events(const char *root, const char *id, bool stats, unsigned interval_ms, FILE *out,
		    ward_error_t *err)
{
	struct oci_state s;
	struct ward_oci_cgroup *cg = NULL;
	int rc = -1;

	if (ward_oci_state_load(root, id, false, &s, err) < 0)
		goto out;
	cg = ward_oci_state_cgroup(&s);
	if (cg == NULL) {
		ward_error_set(err, ENOENT, "container \"%s\" has no cgroup", id);
		goto out;
	}
	if (ward_oci_state_status(&s, cg) == WARD_OCI_STOPPED) {
		ward_error_set(err, EINVAL, "container \"%s\" is stopped", id);
		goto out;
	}
	/* --stats: one event, now.  Otherwise one every interval while the
	 * container lives (runc also reports OOM events; ward's stats carry
	 * memory.failcnt). */
	for (;;) {
		struct timespec ts = {interval_ms / 1000, (long)(interval_ms % 1000) * 1000000L};

		if (print_stats(&s, cg, out) != 0)
			break;
		if (stats)
			break;
		nanosleep(&ts, NULL);
		if (ward_oci_state_status(&s, cg) == WARD_OCI_STOPPED)
			break;
	}
	rc = 0;
out:
	ward_oci_cgroup_free(cg);
	ward_oci_state_free(&s);
	return rc;
}
