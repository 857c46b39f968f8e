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
 *    containers then share (loopback only, as the entitlement says).  A
 *    CNI network for network.outbound and the other network entitlements
 *    is refused for now (docs/kubernetes.md).
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
#include <sys/stat.h>
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
static pid_t find_sandbox(const char *root, const char *sid, const char *text, char **why)
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
	} else if (parent_of(s.pid) != getppid()) {
		*why = ward_xstrdup("the sandbox was not started by the process that runs this "
				    "create (the pod's shim)");
	} else {
		pid = s.pid;
	}
out:
	ward_oci_state_free(&s);
	return pid;
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

			if (ns->type != CLONE_NEWNET || ns->path == NULL || *ns->path == '\0' ||
			    (e->policy.net != WARD_NET_NONE && e->policy.net != WARD_NET_LOOPBACK))
				continue;
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
		sandbox = find_sandbox(root ? root : WARD_OCI_DEFAULT_ROOT, sid, e->text, &why);
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
			      "(same entitlements, same shim), and its user namespace: the pod "
			      "is one uid range",
			      sid);
	}
}
