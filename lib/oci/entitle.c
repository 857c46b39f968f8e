// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The annotation org.ward.entitlements: the same words as a manifest,
 * comma separated ("network.loopback,fs.read=/srv/data,process.limit=64").
 * They resolve to a struct ward_policy with the pure resolver, and then
 * bound the config: every field that could give the container more than
 * the entitlements allow is trimmed to them (a note each, which `ward
 * explain --bundle` prints and create logs) or, where trimming would
 * change what the container is, refused with a message naming the field
 * and the entitlement that would allow it.  Without the annotation the
 * config is honoured as runc would (the engine is trusted).
 *
 * The rules, field by field (docs/oci.md has the same table):
 *
 *   process.capabilities  each set intersected with the entitlements' level.
 *   noNewPrivileges       forced on, unless process.setuid.
 *   process.rlimits       RLIMIT_NOFILE <= files.limit, RLIMIT_NPROC <=
 *                         process.limit, RLIMIT_CORE 0, the others <= the
 *                         runtime's own hard limits.
 *   process.oomScoreAdj   not below 0 (an OOM-proof container starves the
 *                         host).
 *   apparmor/selinux      refused: neither LSM is on this host, so a
 *   labels, mountLabel    label would promise confinement nobody applies.
 *   hostname, domainname  no control characters, at most 64 bytes.
 *   linux.namespaces      no "path" at all (joining a namespace by path
 *                         joins whatever it holds: the host's, another
 *                         container's); mount, pid, ipc, uts, cgroup and
 *                         network (unless network.host) added when missing.
 *   user namespace        required: a config without one gets one from
 *                         ward's OCI pool (userns.c); a config's own maps
 *                         may not map host uid or gid 0.
 *   linux.sysctl          only namespaced ones: net.* (own network
 *                         namespace), kernel.shm*, kernel.msg*,
 *                         kernel.sem, fs.mqueue.* (own IPC namespace).
 *   linux.devices         only nodes host.devices grants, the same device
 *                         (type, major, minor) as the host's node there.
 *   resources.devices     allow rules only for granted devices.
 *   resources             pids, memory (swap = memory) and cpu quota the
 *                         smaller of the config's and the entitlements';
 *                         unified: only keys that restrict the container.
 *   cgroupsPath           only a cgroup ward creates (runtime.c).
 *   hooks                 refused, every kind: they run on the host (or,
 *                         startContainer, before ward's filter).
 *   seccomp               the config's filter stays and ward's filter for
 *                         the entitlements is stacked on it (a syscall runs
 *                         only if both allow it); a listenerPath (a host
 *                         socket ward would connect to as root) is refused.
 *   rootfsPropagation     not shared.
 *   personality           LINUX or LINUX32 (only those are parsed).
 *   root, mounts,         entitle_fs.c.
 *   masked/readonly paths
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../caps.h"
#include "../entitlements.h"
#include "../util.h"
#include "internal.h"

static void vrecord(char ***list, size_t *n, const char *prefix, const char *fmt, va_list ap)
{
	char *s = NULL, *t = NULL;

	if (vasprintf(&s, fmt, ap) < 0)
		return;
	if (prefix) {
		if (asprintf(&t, "%s: %s", prefix, s) < 0)
			t = NULL;
		free(s);
		s = t;
	}
	if (s == NULL)
		return;
	*list = ward_xrealloc(*list, (*n + 1) * sizeof(char *));
	(*list)[(*n)++] = s;
}

void ward_oci_note(struct oci_entitlements *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vrecord(&e->notes, &e->n_notes, NULL, fmt, ap);
	va_end(ap);
}

void ward_oci_refuse(struct oci_entitlements *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vrecord(&e->refusals, &e->n_refusals, e->file, fmt, ap);
	va_end(ap);
}

int ward_oci_entitlements_parse(const char *text, struct ward_policy *p, ward_error_t *err)
{
	struct ward_request_list l = {0};
	struct ward_resolve_ctx ctx = {0};
	cleanup_free char *copy = ward_xstrdup(text);
	char *item, *save = NULL;
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	int rc;

	if (pages > 0 && psize > 0)
		ctx.physical_memory = (uint64_t)pages * (uint64_t)psize;
	/* Commas separate entitlements; blanks too, for command lines (podman's
	 * --annotation) that split values at commas. */
	for (item = strtok_r(copy, ", \t\n", &save); item; item = strtok_r(NULL, ", \t\n", &save)) {
		if (ward_parse_allow(&l, item, "annotation " WARD_OCI_ENTITLEMENTS, err) < 0) {
			ward_request_list_free(&l);
			return -1;
		}
	}
	rc = ward_resolve(&l, &ctx, p, err);
	ward_request_list_free(&l);
	return rc;
}

static const char *cap_list(uint64_t caps, char *buf, size_t len)
{
	size_t used = 0;
	int cap;

	buf[0] = '\0';
	for (cap = 0; cap < 64; cap++) {
		const char *n;

		if (!(caps & (UINT64_C(1) << cap)) || (n = ward_cap_name(cap)) == NULL)
			continue;
		used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%s",
					 used ? " " : "", n);
	}
	if (buf[0] == '\0')
		snprintf(buf, len, "none");
	return buf;
}

/* ---- process ---- */

static void clamp_rlimit(struct ward_oci_process *p, int resource, uint64_t max, const char *why,
			 struct oci_entitlements *e, const char *field, bool add)
{
	size_t i;

	for (i = 0; i < p->n_rlimits; i++) {
		struct ward_oci_rlimit *l = &p->rlimits[i];

		if (l->resource != resource)
			continue;
		if (l->hard > max || l->soft > max) {
			if (e)
				ward_oci_note(e, "%s: %s %llu (%s)", field,
					      ward_oci_rlimit_name(resource),
					      (unsigned long long)max, why);
			if (l->hard > max)
				l->hard = max;
			if (l->soft > max)
				l->soft = max;
		}
		return;
	}
	if (!add)
		return;
	p->rlimits = ward_xrealloc(p->rlimits, (p->n_rlimits + 1) * sizeof(*p->rlimits));
	p->rlimits[p->n_rlimits].resource = resource;
	p->rlimits[p->n_rlimits].soft = p->rlimits[p->n_rlimits].hard = max;
	p->n_rlimits++;
	if (e)
		ward_oci_note(e, "%s: %s %llu (%s)", field, ward_oci_rlimit_name(resource),
			      (unsigned long long)max, why);
}

void ward_oci_entitlements_process(struct ward_oci_process *p, const struct ward_policy *pol,
				   struct oci_entitlements *e, const char *field)
{
	struct ward_oci_caps *k = &p->caps;
	uint64_t before = k->bounding | k->effective | k->permitted | k->inheritable | k->ambient;
	char buf[1024];
	size_t i;

	k->bounding &= pol->caps;
	k->effective &= pol->caps;
	k->permitted &= pol->caps;
	k->inheritable &= pol->caps;
	k->ambient &= pol->caps;
	if ((before & ~pol->caps) && e)
		ward_oci_note(e, "%s.capabilities: removed %s (not granted by the entitlements)",
			      field, cap_list(before & ~pol->caps, buf, sizeof(buf)));
	if (!pol->setuid && !p->no_new_privileges) {
		p->no_new_privileges = true;
		if (e)
			ward_oci_note(e, "%s.noNewPrivileges: true (no process.setuid)", field);
	}
	clamp_rlimit(p, RLIMIT_NOFILE, pol->nofile, "files.limit", e, field, true);
	/* RLIMIT_NPROC counts the processes of a host uid: the container's
	 * range is its own, so this is its process count. */
	clamp_rlimit(p, RLIMIT_NPROC, pol->pids_max, "process.limit", e, field, true);
	/* A core dump may be handed to the host's core_pattern handler. */
	clamp_rlimit(p, RLIMIT_CORE, 0, "no core dumps under the entitlements", e, field, true);
	/* The others cannot be raised above the runtime's own hard limits
	 * from the container's user namespace: say so now rather than fail
	 * at setrlimit. */
	for (i = 0; i < p->n_rlimits; i++) {
		struct rlimit cur;
		int r = p->rlimits[i].resource;

		if (r == RLIMIT_NOFILE || r == RLIMIT_NPROC || r == RLIMIT_CORE ||
		    getrlimit(r, &cur) < 0 || cur.rlim_max == RLIM_INFINITY)
			continue;
		clamp_rlimit(p, r, cur.rlim_max, "the runtime's hard limit", e, field, false);
	}
	if (p->has_oom_score_adj && p->oom_score_adj < 0) {
		if (e)
			ward_oci_note(e,
				      "%s.oomScoreAdj: 0 instead of %d (a container may not be "
				      "spared by the OOM killer at the host's expense)",
				      field, p->oom_score_adj);
		p->oom_score_adj = 0;
	}
	if (e && p->apparmor_profile && *p->apparmor_profile) {
		cleanup_free char *v = ward_escape(p->apparmor_profile, 128);

		ward_oci_refuse(
			e,
			"%s.apparmorProfile \"%s\": AppArmor is not enabled on this host, so "
			"the confinement the config asks for cannot be applied (remove it)",
			field, v);
	}
	if (e && p->selinux_label && *p->selinux_label) {
		cleanup_free char *v = ward_escape(p->selinux_label, 128);

		ward_oci_refuse(e,
				"%s.selinuxLabel \"%s\": SELinux is not enabled on this host, so "
				"the label cannot be applied (remove it)",
				field, v);
	}
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static void check_names(struct ward_oci_config *c, struct oci_entitlements *e)
{
	const char *const names[] = {"hostname", "domainname"};
	const char *vals[] = {c->hostname, c->domainname};
	size_t i;

	for (i = 0; i < 2; i++) {
		cleanup_free char *v = NULL;

		if (vals[i] == NULL || (printable(vals[i]) && strlen(vals[i]) <= 64))
			continue;
		v = ward_escape(vals[i], 80);
		ward_oci_refuse(e, "%s \"%s\": at most 64 bytes and no control characters",
				names[i], v);
	}
}

/* ---- namespaces ---- */

static void add_ns(struct ward_oci_config *c, int type)
{
	c->namespaces =
		ward_xrealloc(c->namespaces, (c->n_namespaces + 1) * sizeof(*c->namespaces));
	memset(&c->namespaces[c->n_namespaces], 0, sizeof(c->namespaces[0]));
	c->namespaces[c->n_namespaces].type = type;
	c->n_namespaces++;
}

static bool maps_host_zero(const struct ward_oci_idmap *m, size_t n, size_t *which)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (m[i].host_id == 0) {
			*which = i;
			return true;
		}
	return false;
}

static void check_namespaces(struct ward_oci_config *c, struct oci_entitlements *e)
{
	static const int want[] = {CLONE_NEWNS,	 CLONE_NEWPID,	  CLONE_NEWIPC,
				   CLONE_NEWUTS, CLONE_NEWCGROUP, CLONE_NEWNET};
	size_t i, which;

	/* A Kubernetes pod's containers share its sandbox's namespaces (pod.c
	 * says exactly when); any other path is refused. */
	ward_oci_pod_namespaces(c, e, e->state_root);
	for (i = 0; i < c->n_namespaces; i++) {
		const struct ward_oci_ns *ns = &c->namespaces[i];
		cleanup_free char *v = NULL;
		cleanup_free char *why = NULL;

		if (ns->path == NULL || *ns->path == '\0' || ns->pinned)
			continue;
		v = ward_escape(ns->path, 256);
		if (e->pod_why)
			why = ward_xasprintf("; as a pod's namespace it is refused too: %s",
					     e->pod_why);
		ward_oci_refuse(
			e,
			"linux.namespaces[%zu].path \"%s\": joining a %s namespace by path is not "
			"allowed under %s (it would give the container whatever that namespace "
			"holds; %s%s)",
			i, v, ward_oci_ns_name(ns->type), WARD_OCI_ENTITLEMENTS,
			ns->type == CLONE_NEWNET ? "grant network.host to share the host's network"
						 : "remove the path",
			why ? why : "");
	}
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		if (!(e->policy.namespaces & (unsigned long)want[i]) ||
		    ward_oci_ns_find(c, want[i]))
			continue;
		add_ns(c, want[i]);
		ward_oci_note(e, "linux.namespaces: a new %s namespace added",
			      ward_oci_ns_name(want[i]));
	}
	/* The user namespace: container uid 0 must not be host uid 0. */
	if (!ward_oci_ns_find(c, CLONE_NEWUSER)) {
		add_ns(c, CLONE_NEWUSER);
		free(c->uid_maps);
		free(c->gid_maps);
		c->uid_maps = c->gid_maps = NULL;
		c->n_uid_maps = c->n_gid_maps = 0;
		e->userns_added = true;
		ward_oci_note(e, "linux.namespaces: a new user namespace added: container ids "
				 "0-65535 map to a host range of ward's OCI pool, so the "
				 "container's root is not the host's");
		return;
	}
	if (maps_host_zero(c->uid_maps, c->n_uid_maps, &which))
		ward_oci_refuse(
			e,
			"linux.uidMappings[%zu] maps host uid 0 into the container: under %s "
			"the container's users may not include the host's root (map a range "
			"of unused host ids, or drop the user namespace and let ward add one)",
			which, WARD_OCI_ENTITLEMENTS);
	if (maps_host_zero(c->gid_maps, c->n_gid_maps, &which))
		ward_oci_refuse(
			e,
			"linux.gidMappings[%zu] maps host gid 0 into the container: under %s "
			"the container's groups may not include the host's root group",
			which, WARD_OCI_ENTITLEMENTS);
}

/* ---- sysctl ---- */

static void check_sysctl(struct ward_oci_config *c, struct oci_entitlements *e)
{
	static const char *const ipc[] = {"kernel.msgmax", "kernel.msgmnb",	    "kernel.msgmni",
					  "kernel.sem",	   "kernel.shmall",	    "kernel.shmmax",
					  "kernel.shmmni", "kernel.shm_rmid_forced"};
	size_t i, k;

	for (i = 0; i < c->n_sysctl; i++) {
		cleanup_free char *key = ward_xstrdup(c->sysctl[i].key);
		cleanup_free char *v = NULL;
		bool ok = false;
		char *p;

		/* "net/ipv4/ip_forward" and "net.ipv4.ip_forward" are one key. */
		for (p = key; *p; p++)
			if (*p == '/')
				*p = '.';
		if (strstr(key, "..") == NULL && key[0] != '.') {
			if (ward_str_has_prefix(key, "net.") && ward_oci_ns_find(c, CLONE_NEWNET) &&
			    e->policy.net != WARD_NET_HOST)
				ok = true;
			if (ward_str_has_prefix(key, "fs.mqueue."))
				ok = true;
			for (k = 0; k < ARRAY_SIZE(ipc); k++)
				ok |= strcmp(key, ipc[k]) == 0;
		}
		if (ok)
			continue;
		v = ward_escape(c->sysctl[i].key, 128);
		ward_oci_refuse(
			e,
			"linux.sysctl \"%s\": not a sysctl of the container's own namespaces "
			"(under %s only net.* with a network namespace of its own, "
			"kernel.shm*, kernel.msg*, kernel.sem and fs.mqueue.* may be set)",
			v, WARD_OCI_ENTITLEMENTS);
	}
}

/* ---- devices ---- */

static void check_devices(struct ward_oci_config *c, struct oci_entitlements *e)
{
	struct ward_oci_resources *r = &c->resources;
	size_t i, k, j;

	for (i = 0; i < c->n_devices; i++) {
		const struct ward_oci_device *d = &c->devices[i];
		cleanup_free char *v = ward_escape(d->path, 256);
		struct stat st;
		bool ok = false;

		for (k = 0; k < e->policy.n_devices; k++)
			ok |= strcmp(e->policy.devices[k].path, d->path) == 0;
		if (!ok) {
			ward_oci_refuse(e,
					"linux.devices[%zu] \"%s\" is not allowed by %s: add "
					"host.devices=%s to the annotation",
					i, v, WARD_OCI_ENTITLEMENTS, v);
			continue;
		}
		/* The container gets the host's node at that path (bound, in
		 * its user namespace): the config must describe that node. */
		if (lstat(d->path, &st) < 0 ||
		    !(d->type == 'b' ? S_ISBLK(st.st_mode) : S_ISCHR(st.st_mode)) ||
		    (int64_t)major(st.st_rdev) != d->major ||
		    (int64_t)minor(st.st_rdev) != d->minor)
			ward_oci_refuse(
				e,
				"linux.devices[%zu] \"%s\" (%c %lld:%lld) is not the host's "
				"node at that path, which host.devices grants",
				i, v, d->type, (long long)d->major, (long long)d->minor);
	}
	/* Allow rules stay only for granted devices (the runtime adds its
	 * defaults itself); deny rules always stay. */
	for (i = 0, j = 0; i < r->n_devices; i++) {
		struct ward_oci_devrule *d = &r->devices[i];
		bool keep = !d->allow;

		for (k = 0; !keep && k < e->policy.n_devices; k++) {
			struct stat st;

			if (stat(e->policy.devices[k].path, &st) == 0 && d->major >= 0 &&
			    d->minor >= 0 && (int64_t)major(st.st_rdev) == d->major &&
			    (int64_t)minor(st.st_rdev) == d->minor)
				keep = true;
		}
		if (keep) {
			r->devices[j++] = *d;
			continue;
		}
		if (d->major < 0 || d->minor < 0)
			ward_oci_note(
				e,
				"linux.resources.devices[%zu]: allow rule %c %s:%s %s dropped "
				"(only devices host.devices grants)",
				i, d->type, d->major < 0 ? "*" : "N", d->minor < 0 ? "*" : "N",
				d->access);
		else
			ward_oci_note(
				e,
				"linux.resources.devices[%zu]: allow rule %c %lld:%lld %s dropped "
				"(only devices host.devices grants)",
				i, d->type, (long long)d->major, (long long)d->minor, d->access);
	}
	r->n_devices = j;
}

/* ---- resources ---- */

static void cap_resources(struct ward_oci_config *c, struct oci_entitlements *e)
{
	c->has_resources = true;
	ward_oci_entitlements_resources(&c->resources, e);
}

/* Also `update`: the engine may change limits later (a Kubernetes resize),
 * never past the entitlements. */
void ward_oci_entitlements_resources(struct ward_oci_resources *r, struct oci_entitlements *e)
{
	/* linux.resources.unified: interface files written verbatim on v2.
	 * Only those that restrict the container further; memory.max,
	 * pids.max, cpu.max are the entitlements', cgroup.* are the cgroup's
	 * own (cgroup.procs would move another process in). */
	static const char *const unified_ok[] = {
		"cpu.weight",	    "cpu.weight.nice",	"cpu.idle",	    "cpuset.cpus",
		"cpuset.mems",	    "io.weight",	"io.bfq.weight",    "io.max",
		"io.latency",	    "memory.low",	"memory.min",	    "memory.high",
		"memory.swap.high", "memory.oom.group", "memory.zswap.max",
	};
	const struct ward_policy *p = &e->policy;
	size_t i, k;

	if (!r->has_pids_limit || r->pids_limit <= 0 || (uint64_t)r->pids_limit > p->pids_max) {
		ward_oci_note(e, "linux.resources.pids.limit: %llu (process.limit)",
			      (unsigned long long)p->pids_max);
		r->has_pids_limit = true;
		r->pids_limit = (int64_t)p->pids_max;
	}
	if (!r->has_mem_limit || r->mem_limit <= 0 || (uint64_t)r->mem_limit > p->memory_max) {
		ward_oci_note(e, "linux.resources.memory.limit: %llu bytes (memory.limit)",
			      (unsigned long long)p->memory_max);
		r->has_mem_limit = true;
		r->mem_limit = (int64_t)p->memory_max;
	}
	/* No swap beyond the limit: a memory bomb must stop, not page. */
	if (!r->has_mem_swap || r->mem_swap < 0 || r->mem_swap > r->mem_limit) {
		r->has_mem_swap = true;
		r->mem_swap = r->mem_limit;
	}
	if (p->cpu_quota_us) {
		uint64_t period =
			r->has_cpu_period && r->cpu_period ? r->cpu_period : p->cpu_period_us;
		uint64_t want =
			p->cpu_quota_us * period / (p->cpu_period_us ? p->cpu_period_us : 1);

		if (!r->has_cpu_quota || r->cpu_quota <= 0 || (uint64_t)r->cpu_quota > want) {
			ward_oci_note(e,
				      "linux.resources.cpu: quota %llu us per %llu us (cpu.limit)",
				      (unsigned long long)want, (unsigned long long)period);
			r->has_cpu_quota = r->has_cpu_period = true;
			r->cpu_quota = (int64_t)want;
			r->cpu_period = period;
		}
	}
	for (i = 0; i < r->n_unified; i++) {
		cleanup_free char *v = NULL;
		bool ok = false;

		for (k = 0; k < ARRAY_SIZE(unified_ok); k++)
			ok |= strcmp(r->unified[i].key, unified_ok[k]) == 0;
		if (ok || (ward_str_has_prefix(r->unified[i].key, "hugetlb.") &&
			   strchr(r->unified[i].key, '/') == NULL))
			continue;
		v = ward_escape(r->unified[i].key, 64);
		ward_oci_refuse(
			e,
			"linux.resources.unified \"%s\": under %s the limits on memory, "
			"processes and CPU are the entitlements' (memory.limit, "
			"process.limit, cpu.limit), and cgroup.* files are not the config's",
			v, WARD_OCI_ENTITLEMENTS);
	}
}

/* ---- hooks, seccomp, labels, propagation ---- */

static void check_hooks(struct ward_oci_config *c, struct oci_entitlements *e)
{
	static const char *const names[WARD_HOOK_NKINDS] = {
		"prestart",	  "createRuntime", "createContainer",
		"startContainer", "poststart",	   "poststop",
	};
	size_t k, i;

	/* Hooks run as the runtime: host root, in the host's namespaces
	 * (createContainer and startContainer in the container's, but before
	 * ward's syscall filter).  No entitlement describes that. */
	for (k = 0; k < WARD_HOOK_NKINDS; k++)
		for (i = 0; i < c->hooks[k].n; i++) {
			cleanup_free char *v = ward_escape(c->hooks[k].list[i].path, 256);

			ward_oci_refuse(e,
					"hooks.%s[%zu] \"%s\": hooks run as the runtime, outside "
					"the container's bounds, and are not allowed under %s "
					"(remove them, or run without the annotation)",
					names[k], i, v, WARD_OCI_ENTITLEMENTS);
		}
}

static void check_seccomp(struct ward_oci_config *c, struct oci_entitlements *e)
{
	json_t *lp = c->seccomp ? json_object_get(c->seccomp, "listenerPath") : NULL;

	if (json_is_string(lp) && *json_string_value(lp)) {
		cleanup_free char *v = ward_escape(json_string_value(lp), 256);

		ward_oci_refuse(
			e,
			"linux.seccomp.listenerPath \"%s\": ward would connect to that host "
			"socket as root and hand it the container's syscalls to decide; not "
			"allowed under %s",
			v, WARD_OCI_ENTITLEMENTS);
	}
	ward_oci_note(e, "linux.seccomp: ward's filter for these entitlements is stacked on %s",
		      c->seccomp ? "the config's" : "the (absent) config filter");
}

static void check_misc(struct ward_oci_config *c, struct oci_entitlements *e)
{
	json_t *lx = json_object_get(c->json, "linux");
	json_t *ml = json_is_object(lx) ? json_object_get(lx, "mountLabel") : NULL;

	if (json_is_string(ml) && *json_string_value(ml)) {
		cleanup_free char *v = ward_escape(json_string_value(ml), 128);

		ward_oci_refuse(e,
				"linux.mountLabel \"%s\": SELinux is not enabled on this host, so "
				"the label cannot be applied (remove it)",
				v);
	}
	if (c->rootfs_propagation & MS_SHARED)
		ward_oci_refuse(e,
				"linux.rootfsPropagation: shared propagation would let the "
				"container's mounts reach other namespaces; use private or slave "
				"under %s",
				WARD_OCI_ENTITLEMENTS);
}

int ward_oci_entitlements_apply(struct ward_oci_config *c, const char *id, const char *state_root,
				struct oci_entitlements *e, ward_error_t *err)
{
	return ward_oci_entitlements_bound(c, id, state_root, false, e, err);
}

int ward_oci_entitlements_bound(struct ward_oci_config *c, const char *id, const char *state_root,
				bool admission, struct oci_entitlements *e, ward_error_t *err)
{
	const char *text = ward_oci_annotation(c, WARD_OCI_ENTITLEMENTS);

	memset(e, 0, sizeof(*e));
	e->root.fd = -1;
	e->state_root = state_root;
	e->admission = admission;
	if (text == NULL)
		return 0;
	e->present = true;
	e->file = ward_escape(c->path, 512);
	e->text = ward_xstrdup(text);
	if (ward_oci_entitlements_parse(text, &e->policy, err) < 0)
		return ward_error_wrap(err, "%s", c->path);
	ward_oci_entitlements_process(&c->process, &e->policy, e, "process");
	check_names(c, e);
	check_namespaces(c, e);
	check_sysctl(c, e);
	check_devices(c, e);
	cap_resources(c, e);
	check_hooks(c, e);
	check_seccomp(c, e);
	check_misc(c, e);
	ward_oci_entitle_fs(c, id, e);
	if (e->n_refusals == 0)
		return 0;
	ward_error_set(err, EACCES, "%s", e->refusals[0]);
	if (e->n_refusals > 1)
		ward_error_wrap(err,
				"%zu fields of the config are outside the entitlements (`ward "
				"explain --bundle` lists them all); the first",
				e->n_refusals);
	return -1;
}

const char *ward_oci_src_kind_name(enum oci_src_kind k)
{
	switch (k) {
	case OCI_SRC_GRANT:
		return "granted by fs.*";
	case OCI_SRC_DEVICE:
		return "granted by host.devices";
	case OCI_SRC_BUNDLE:
		return "in the bundle";
	case OCI_SRC_ENGINE:
		return "the engine's file for this container";
	case OCI_SRC_OVERLAY:
		return "an overlay mount (an engine's image)";
	case OCI_SRC_NONE:
	default:
		return "not a host path";
	}
}

void ward_oci_entitlements_free(struct oci_entitlements *e)
{
	free(e->pod_why);
	free(e->pod_sandbox);
	size_t i;

	if (e->present)
		ward_policy_free(&e->policy);
	free(e->text);
	free(e->file);
	for (i = 0; i < e->n_notes; i++)
		free(e->notes[i]);
	free(e->notes);
	for (i = 0; i < e->n_refusals; i++)
		free(e->refusals[i]);
	free(e->refusals);
	for (i = 0; i < e->n_srcs; i++) {
		if (e->srcs[i].fd >= 0)
			close(e->srcs[i].fd);
		free(e->srcs[i].grant);
	}
	free(e->srcs);
	if (e->root.fd >= 0)
		close(e->root.fd);
	free(e->root.grant);
	memset(e, 0, sizeof(*e));
	e->root.fd = -1;
}
