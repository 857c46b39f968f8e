// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Kubernetes pods under org.ward.entitlements (containerd's CRI plugin and
 * its runc v2 shim).
 *
 * A pod is a sandbox container (the pause process) and the application
 * containers, which join the sandbox's network, IPC and UTS namespaces
 * (and its pid namespace with shareProcessNamespace) by path:
 * /proc/SANDBOX_PID/ns/TYPE.  The entitlements refuse every namespace
 * path (it would give the container whatever that namespace holds), so
 * without this file no CRI container could run under the annotation.
 *
 * What is allowed, and why it gives nothing the entitlements do not:
 *
 *  - The sandbox (annotation io.kubernetes.cri.container-type "sandbox")
 *    comes with the network namespace the CRI made for the pod and the CNI
 *    configured.  Under network.none or network.loopback that pod network
 *    is more than the entitlements give: the path is dropped and the
 *    sandbox gets a new network namespace of its own, which the pod's
 *    containers then share (loopback only, as the entitlement says).
 *    Under network.outbound, network.connect or network.listen the
 *    sandbox joins the pod network (Landlock still limits the TCP ports
 *    to the entitlements'), but only a namespace that is the engine's
 *    fresh pod network: an nsfs file right under /run/netns (containerd's
 *    /var/run/netns/cni-*), not the runtime's own network namespace, and
 *    with no process in it yet, so it is no other pod's or the host's.
 *    That namespace belongs to the host's user namespace, where the
 *    container's root cannot mount sysfs: the runtime mounts the
 *    container's /sys in it (ward_oci_pod_sysfs).
 *
 *  - An application container (container-type "container") may join the
 *    net, ipc, uts and pid namespaces of its sandbox
 *    (io.kubernetes.cri.sandbox-id), and then joins the sandbox's user
 *    namespace too (the pod is one host uid range of the OCI pool: the
 *    namespaces it joins belong to that user namespace, and a container
 *    root of another range could not mount /dev/mqueue or sysfs in them).
 *    Only when every one of these holds:
 *      1. the sandbox is a running ward container of the same --root,
 *         created as a sandbox (its state's annotations say so);
 *      2. it was created under exactly the same org.ward.entitlements text:
 *         the pod shares one set of bounds;
 *      3. its init's parent is the process that runs this create: the
 *         engine's per-pod shim (containerd's runc v2 shim serves every
 *         container of a pod, grouped by the sandbox id).  A bundle run by
 *         anyone else, or by another pod's shim, cannot name a sandbox
 *         that is not its own;
 *      4. each path names that sandbox's namespace of that type (compared
 *         by nsfs device and inode), and the identity is pinned: the
 *         runtime checks it again on the descriptor it joins.
 *    Never the mount, cgroup or time namespace of another container.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../util.h"
#include "internal.h"

#define CRI_TYPE       "io.kubernetes.cri.container-type"
#define CRI_SANDBOX_ID "io.kubernetes.cri.sandbox-id"

static const char *ns_file(int type)
{
	switch (type) {
	case CLONE_NEWNET:
		return "net";
	case CLONE_NEWIPC:
		return "ipc";
	case CLONE_NEWUTS:
		return "uts";
	case CLONE_NEWPID:
		return "pid";
	case CLONE_NEWUSER:
		return "user";
	default:
		return NULL;
	}
}

static pid_t parent_of(pid_t pid)
{
	char path[64], line[256];
	FILE *f;
	long ppid = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "PPid: %ld", &ppid) == 1)
			break;
	fclose(f);
	return (pid_t)ppid;
}

/* The sandbox's init if conditions 1-3 hold; 0 with *why set otherwise. */
static pid_t find_sandbox(const char *root, const char *sid, const char *text, bool shim,
			  char **why)
{
	struct oci_state s;
	ward_error_t err = NULL;
	json_t *ann, *ent;
	const char *t;
	pid_t pid = 0;

	if (ward_oci_state_load(root, sid, false, &s, &err) < 0) {
		*why = ward_xasprintf("%s", err && err->msg ? err->msg : "no such container");
		ward_error_free(&err);
		goto out;
	}
	ann = json_object_get(s.json, "annotations");
	t = json_string_value(json_object_get(ann, CRI_TYPE));
	ent = json_object_get(s.json, "entitlements");
	if (t == NULL || strcmp(t, "sandbox") != 0) {
		*why = ward_xstrdup("that container is not a pod sandbox");
	} else if (!json_is_string(ent) || strcmp(json_string_value(ent), text) != 0) {
		*why = ward_xstrdup("the sandbox was created under other entitlements (a pod "
				    "shares one set: give every container the pod's annotation)");
	} else if (s.pid <= 0 || s.start_time == 0 ||
		   ward_oci_proc_start_time(s.pid) != s.start_time) {
		*why = ward_xstrdup("the sandbox is not running");
	} else if (shim && parent_of(s.pid) != getppid()) {
		*why = ward_xstrdup("the sandbox was not started by the process that runs this "
				    "create (the pod's shim)");
	} else {
		pid = s.pid;
	}
out:
	ward_oci_state_free(&s);
	return pid;
}

/* Is any process in the network namespace (dev, ino)?  Processes whose
 * entry cannot be read are not counted (pid 1 of this VM hides its own). */
static bool netns_in_use(dev_t dev, ino_t ino)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	bool used = false;

	while (d && !used && (de = readdir(d)) != NULL) {
		char path[300];
		struct stat st;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", de->d_name);
		used = stat(path, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
	}
	if (d)
		closedir(d);
	return used;
}

/* The sandbox under a network entitlement: join the engine's fresh pod
 * network, or leave the path for the caller to refuse (with the reason). */
static void pod_network(struct ward_oci_ns *ns, struct oci_entitlements *e)
{
	cleanup_free char *real = realpath(ns->path, NULL);
	cleanup_close int fd = -1;
	struct stat st, mine;
	struct statfs sfs;

	if (real == NULL || !ward_str_has_prefix(real, "/run/netns/") ||
	    strchr(real + strlen("/run/netns/"), '/') != NULL) {
		e->pod_why = ward_xstrdup("a pod network must be an nsfs file right under "
					  "/run/netns (the engine's)");
		return;
	}
	fd = open(real, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstatfs(fd, &sfs) < 0 || sfs.f_type != NSFS_MAGIC || fstat(fd, &st) < 0 ||
	    ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
		e->pod_why = ward_xstrdup("it is not a network namespace");
		return;
	}
	if (stat("/proc/self/ns/net", &mine) == 0 && mine.st_dev == st.st_dev &&
	    mine.st_ino == st.st_ino) {
		e->pod_why = ward_xstrdup("it is the host's network namespace (grant "
					  "network.host with hostNetwork instead)");
		return;
	}
	if (netns_in_use(st.st_dev, st.st_ino)) {
		e->pod_why = ward_xstrdup("processes are in it already: it is not a fresh pod "
					  "network");
		return;
	}
	free(ns->path);
	ns->path = steal_pointer(&real);
	ns->pinned = true;
	ns->dev = st.st_dev;
	ns->ino = st.st_ino;
	ward_oci_note(e,
		      "linux.namespaces: joins the pod network %s (fresh, made by the "
		      "engine; TCP ports still as the network entitlements say)",
		      ns->path);
}

static int ns_id(const char *path, dev_t *dev, ino_t *ino)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -1;
	*dev = st.st_dev;
	*ino = st.st_ino;
	return 0;
}

void ward_oci_pod_namespaces(struct ward_oci_config *c, struct oci_entitlements *e,
			     const char *root)
{
	const char *type = ward_oci_annotation(c, CRI_TYPE);
	const char *sid = ward_oci_annotation(c, CRI_SANDBOX_ID);
	cleanup_free char *why = NULL;
	pid_t sandbox = 0;
	bool joined = false;
	size_t i;

	if (type && strcmp(type, "sandbox") == 0) {
		for (i = 0; i < c->n_namespaces; i++) {
			struct ward_oci_ns *ns = &c->namespaces[i];

			if (ns->type != CLONE_NEWNET || ns->path == NULL || *ns->path == '\0')
				continue;
			if (e->policy.net != WARD_NET_NONE && e->policy.net != WARD_NET_LOOPBACK) {
				pod_network(ns, e);
				continue;
			}
			free(ns->path);
			ns->path = NULL;
			ward_oci_note(e,
				      "linux.namespaces[%zu]: the pod network namespace the "
				      "engine made is replaced by a new one (%s: loopback only)",
				      i,
				      e->policy.net == WARD_NET_NONE ? "network.none"
								     : "network.loopback");
		}
		return;
	}
	if (type == NULL || strcmp(type, "container") != 0 || sid == NULL)
		return;
	for (i = 0; i < c->n_namespaces; i++)
		if (c->namespaces[i].path && *c->namespaces[i].path)
			break;
	if (i == c->n_namespaces)
		return;
	if (!ward_oci_id_ok(sid, NULL)) {
		why = ward_xstrdup("the sandbox id is not a container id");
	} else {
		sandbox = find_sandbox(root ? root : WARD_OCI_DEFAULT_ROOT, sid, e->text,
				       !e->admission, &why);
	}
	for (i = 0; i < c->n_namespaces; i++) {
		struct ward_oci_ns *ns = &c->namespaces[i];
		const char *f = ns_file(ns->type);
		cleanup_free char *mine = NULL;
		dev_t d1, d2;
		ino_t i1, i2;

		if (ns->path == NULL || *ns->path == '\0')
			continue;
		if (sandbox <= 0 || f == NULL || ns->type == CLONE_NEWUSER)
			continue; /* refused by the caller */
		mine = ward_xasprintf("/proc/%d/ns/%s", (int)sandbox, f);
		if (ns_id(ns->path, &d1, &i1) < 0 || ns_id(mine, &d2, &i2) < 0 || d1 != d2 ||
		    i1 != i2)
			continue;
		/* The sandbox's own namespace: joined through the sandbox's
		 * /proc entry, and checked again on the descriptor. */
		free(ns->path);
		ns->path = steal_pointer(&mine);
		ns->pinned = true;
		ns->dev = d2;
		ns->ino = i2;
		joined = true;
	}
	if (why && !e->pod_why)
		e->pod_why = steal_pointer(&why);
	if (!joined)
		return;
	/* And the sandbox's user namespace: the pod is one uid range. */
	if (ward_oci_ns_find(c, CLONE_NEWUSER) == NULL) {
		struct ward_oci_ns *ns;
		cleanup_free char *up = ward_xasprintf("/proc/%d/ns/user", (int)sandbox);
		dev_t d;
		ino_t in;

		if (ns_id(up, &d, &in) < 0)
			return;
		c->namespaces = ward_xrealloc(c->namespaces,
					      (c->n_namespaces + 1) * sizeof(*c->namespaces));
		ns = &c->namespaces[c->n_namespaces++];
		memset(ns, 0, sizeof(*ns));
		ns->type = CLONE_NEWUSER;
		ns->path = steal_pointer(&up);
		ns->pinned = true;
		ns->dev = d;
		ns->ino = in;
		e->pod_sandbox = ward_xstrdup(sid);
		ward_oci_note(e,
			      "linux.namespaces: joins the namespaces of its pod sandbox \"%s\" "
			      "(same entitlements, %s), and its user namespace: the pod "
			      "is one uid range",
			      sid,
			      e->admission ? "and create checks that it runs under the sandbox's "
					     "shim"
					   : "same shim");
	}
}

/*
 * Under the entitlements, a container whose network namespace is joined
 * (a pod's) gets its /sys from the runtime: sysfs shows the network
 * namespace of whoever mounts it, and only a task with CAP_SYS_ADMIN over
 * that namespace's owner may mount it; a pod network made by the engine
 * belongs to the host's user namespace, where the container's root has
 * nothing.  So the runtime (host root) enters the namespace (the pinned
 * one, checked again), makes a read-only, nosuid, nodev, noexec sysfs
 * tree there and comes back; the init attaches the tree like the bind
 * mounts.
 */
int ward_oci_pod_sysfs(struct oci_container *c, ward_error_t *err)
{
	const struct ward_oci_config *cfg = c->cfg;
	struct ward_oci_ns *net = NULL;
	cleanup_close int self = -1;
	cleanup_close int nsfd = -1;
	struct stat st;
	size_t i;

	for (i = 0; i < cfg->n_namespaces; i++)
		if (cfg->namespaces[i].type == CLONE_NEWNET && cfg->namespaces[i].pinned)
			net = &cfg->namespaces[i];
	if (net == NULL || !c->ent.present || c->trees == NULL)
		return 0;
	for (i = 0; i < cfg->n_mounts && i < c->n_trees; i++) {
		const struct ward_oci_mount *m = &cfg->mounts[i];
		int fs, mnt = -1, r = 0;

		if (m->type == NULL || strcmp(m->type, "sysfs") != 0 || c->trees[i] >= 0)
			continue;
		if (self < 0) {
			self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
			nsfd = open(net->path, O_RDONLY | O_CLOEXEC);
			if (self < 0 || nsfd < 0 || fstat(nsfd, &st) < 0 || st.st_dev != net->dev ||
			    st.st_ino != net->ino)
				return ward_error_sys(err,
						      "cannot open the pod's network namespace "
						      "to mount its /sys");
		}
		if (setns(nsfd, CLONE_NEWNET) < 0)
			return ward_error_sys(err, "cannot enter the pod's network namespace");
		fs = (int)syscall(SYS_fsopen, "sysfs", FSOPEN_CLOEXEC);
		if (fs >= 0 && syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
			mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC,
					   MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
						   MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
		r = errno;
		if (fs >= 0)
			close(fs);
		/* Back first: the runtime must not go on in the pod's
		 * namespace (it cannot fail: host root, a descriptor of the
		 * namespace it came from; if it did, stop here). */
		if (setns(self, CLONE_NEWNET) < 0)
			abort();
		if (mnt < 0) {
			errno = r;
			return ward_error_sys(err,
					      "cannot mount sysfs in the pod's network namespace");
		}
		c->trees[i] = mnt;
		c->ent.srcs[i].is_dir = true;
	}
	return 0;
}
