// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The annotation org.ward.entitlements: the same words as a manifest,
 * comma separated ("network.loopback,fs.read=/srv/data,process.limit=64").
 * They resolve to a struct ward_policy with the pure resolver, and the
 * config is then trimmed so the container gets no more than the policy
 * allows.  The rules, layer by layer (docs/oci.md repeats them):
 *
 *   capabilities  every set (bounding, effective, permitted, inheritable,
 *                 ambient) is intersected with the policy's capabilities.
 *   no_new_privs  forced on, unless process.setuid is granted.
 *   namespaces    every namespace the policy creates (mount, pid, ipc,
 *                 uts, cgroup; network unless network.host) is added to
 *                 the config when missing; joining one of them by path is
 *                 an error (ward cannot tell what it holds).  The user
 *                 namespace and its maps stay the config's.
 *   mounts        a bind mount of a host path needs an fs.* grant covering
 *                 it, unless it is the engine's own file for this container
 *                 (under the bundle, or under a directory named after the
 *                 container's id: podman's hosts, hostname, .containerenv): fs.read and fs.exec
 * make it read-only (and fs.read noexec), fs.write leaves it writable.  Without a grant it is an
 * error naming the mount and the entitlement to add.  proc, sysfs, tmpfs, devpts, mqueue and cgroup
 *                 mounts create nothing of the host's and are kept.
 *   devices       linux.devices entries need a host.devices grant of the
 *                 same path; device-cgroup allow rules are dropped except
 *                 for the runtime's defaults and granted devices.
 *   resources     pids, memory and cpu quota become the smaller of the
 *                 config's and the policy's (the policy's are always
 *                 finite); RLIMIT_NOFILE at most files.limit.
 *   seccomp       the config's filter stays, and ward's filter for the
 *                 policy is stacked on it (installed last, before execve):
 *                 a syscall runs only if both allow it.
 *   Landlock      the policy's TCP rules and scoping (filesystem rules are
 *                 for ward's own host view, not for an image's rootfs).
 * Each change is recorded as a note, which `ward explain --bundle` prints
 * and the create logs at debug level.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../caps.h"
#include "../entitlements.h"
#include "../explain.h"
#include "../util.h"
#include "internal.h"

static void note(struct oci_entitlements *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void note(struct oci_entitlements *e, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s == NULL)
		return;
	e->notes = ward_xrealloc(e->notes, (e->n_notes + 1) * sizeof(char *));
	e->notes[e->n_notes++] = s;
}

static int parse_annotation(const char *text, struct ward_policy *p, ward_error_t *err)
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
		while (*item == ' ' || *item == '\t' || *item == '\n')
			item++;
		{
			size_t n = strlen(item);

			while (n &&
			       (item[n - 1] == ' ' || item[n - 1] == '\t' || item[n - 1] == '\n'))
				item[--n] = '\0';
		}
		if (*item == '\0')
			continue;
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

static void trim_caps(struct ward_oci_config *c, struct oci_entitlements *e)
{
	struct ward_oci_caps *k = &c->process.caps;
	uint64_t allow = e->policy.caps;
	uint64_t before = k->bounding | k->effective | k->permitted | k->inheritable | k->ambient;
	char buf[1024];

	k->bounding &= allow;
	k->effective &= allow;
	k->permitted &= allow;
	k->inheritable &= allow;
	k->ambient &= allow;
	if (before & ~allow)
		note(e, "capabilities: removed %s (not granted by the entitlements)",
		     cap_list(before & ~allow, buf, sizeof(buf)));
}

/* Is path at or below dir? (both normalised, absolute) */
static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return true;
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static void add_option(struct ward_oci_mount *m, const char *opt)
{
	size_t i;

	for (i = 0; i < m->n_options; i++)
		if (strcmp(m->options[i], opt) == 0)
			return;
	m->options = ward_xrealloc(m->options, (m->n_options + 2) * sizeof(char *));
	m->options[m->n_options++] = ward_xstrdup(opt);
	m->options[m->n_options] = NULL;
}

static void drop_option(struct ward_oci_mount *m, const char *opt)
{
	size_t i, j;

	for (i = 0, j = 0; i < m->n_options; i++) {
		if (strcmp(m->options[i], opt) == 0) {
			free(m->options[i]);
			continue;
		}
		m->options[j++] = m->options[i];
	}
	m->n_options = j;
	if (m->options)
		m->options[j] = NULL;
}

/* The engine's own files for this container (podman's /etc/hosts,
 * /etc/hostname, /run/.containerenv, /dev/shm): under the bundle, or under a
 * directory named after the container's id (podman keeps some in its
 * runroot's overlay-containers/ID/userdata). */
static bool engine_file(const struct ward_oci_config *c, const char *id, const char *src)
{
	cleanup_free char *needle = NULL;

	if (under(src, c->bundle))
		return true;
	if (id == NULL || *id == '\0')
		return false;
	needle = ward_xasprintf("/%s/", id);
	return strstr(src, needle) != NULL;
}

static int check_mounts(struct ward_oci_config *c, const char *id, struct oci_entitlements *e,
			ward_error_t *err)
{
	size_t i, k;

	for (i = 0; i < c->n_mounts; i++) {
		struct ward_oci_mount *m = &c->mounts[i];
		struct ward_oci_mount_flags f;
		cleanup_free char *src = NULL;
		unsigned access = 0;
		bool bind;

		ward_oci_mount_flags_parse(m, &f);
		bind = f.bind;
		ward_oci_mount_flags_free(&f);
		if (!bind)
			continue;
		src = ward_path_normalize(m->source && m->source[0] == '/'
						  ? m->source
						  : "/nonexistent-relative-source");
		if (m->source && m->source[0] != '/') {
			/* Relative to the bundle: part of the image, like the rootfs. */
			continue;
		}
		if (src == NULL)
			return ward_error_set(err, EINVAL,
					      "mounts[%zu]: source %s is not a clean path", i,
					      m->source ? m->source : "(none)");
		if (engine_file(c, id, src))
			continue;
		for (k = 0; k < e->policy.n_paths; k++)
			if (under(src, e->policy.paths[k].path))
				access |= e->policy.paths[k].access;
		for (k = 0; k < e->policy.n_devices; k++)
			if (strcmp(src, e->policy.devices[k].path) == 0)
				access |= WARD_FS_READ | WARD_FS_WRITE;
		if (access == 0)
			return ward_error_set(err, EACCES,
					      "mounts[%zu]: the bind mount of the host path %s on "
					      "%s is not allowed "
					      "by %s: add fs.read=%s (read-only) or fs.write=%s to "
					      "the annotation",
					      i, src, m->destination, WARD_OCI_ENTITLEMENTS, src,
					      src);
		if (!(access & WARD_FS_WRITE)) {
			bool had_ro = false;

			for (k = 0; k < m->n_options; k++)
				had_ro |= strcmp(m->options[k], "ro") == 0;
			drop_option(m, "rw");
			add_option(m, "ro");
			if (!(access & WARD_FS_EXEC))
				add_option(m, "noexec");
			add_option(m, "nosuid");
			add_option(m, "nodev");
			if (!had_ro)
				note(e,
				     "mounts: %s (from %s) made read-only: only fs.read/fs.exec "
				     "covers it",
				     m->destination, src);
		} else {
			add_option(m, "nosuid");
			add_option(m, "nodev");
		}
	}
	return 0;
}

static int check_devices(struct ward_oci_config *c, struct oci_entitlements *e, ward_error_t *err)
{
	struct ward_oci_resources *r = &c->resources;
	size_t i, k, j;

	for (i = 0; i < c->n_devices; i++) {
		bool ok = false;

		for (k = 0; k < e->policy.n_devices; k++)
			ok |= strcmp(e->policy.devices[k].path, c->devices[i].path) == 0;
		if (!ok)
			return ward_error_set(err, EACCES,
					      "linux.devices: %s is not allowed by %s: add "
					      "host.devices=%s to the annotation",
					      c->devices[i].path, WARD_OCI_ENTITLEMENTS,
					      c->devices[i].path);
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
		if (keep)
			r->devices[j++] = *d;
		else
			note(e,
			     "linux.resources.devices: allow rule %c %lld:%lld %s dropped (no "
			     "host.devices grant)",
			     d->type, (long long)d->major, (long long)d->minor, d->access);
	}
	r->n_devices = j;
	return 0;
}

static void cap_resources(struct ward_oci_config *c, struct oci_entitlements *e)
{
	struct ward_oci_resources *r = &c->resources;
	const struct ward_policy *p = &e->policy;
	size_t i;
	bool found = false;

	c->has_resources = true;
	if (!r->has_pids_limit || r->pids_limit <= 0 || (uint64_t)r->pids_limit > p->pids_max) {
		note(e, "pids.limit: %llu (process.limit)", (unsigned long long)p->pids_max);
		r->has_pids_limit = true;
		r->pids_limit = (int64_t)p->pids_max;
	}
	if (!r->has_mem_limit || r->mem_limit <= 0 || (uint64_t)r->mem_limit > p->memory_max) {
		note(e, "memory.limit: %llu bytes (memory.limit)",
		     (unsigned long long)p->memory_max);
		r->has_mem_limit = true;
		r->mem_limit = (int64_t)p->memory_max;
		/* No swap beyond the limit: a memory bomb must stop, not page. */
		r->has_mem_swap = true;
		r->mem_swap = (int64_t)p->memory_max;
	}
	if (p->cpu_quota_us) {
		uint64_t period =
			r->has_cpu_period && r->cpu_period ? r->cpu_period : p->cpu_period_us;
		uint64_t want =
			p->cpu_quota_us * period / (p->cpu_period_us ? p->cpu_period_us : 1);

		if (!r->has_cpu_quota || r->cpu_quota <= 0 || (uint64_t)r->cpu_quota > want) {
			note(e, "cpu quota: %llu us per %llu us (cpu.limit)",
			     (unsigned long long)want, (unsigned long long)period);
			r->has_cpu_quota = r->has_cpu_period = true;
			r->cpu_quota = (int64_t)want;
			r->cpu_period = period;
		}
	}
	for (i = 0; i < c->process.n_rlimits; i++) {
		struct ward_oci_rlimit *l = &c->process.rlimits[i];

		if (l->resource != RLIMIT_NOFILE)
			continue;
		found = true;
		if (l->hard > p->nofile || l->soft > p->nofile) {
			note(e, "RLIMIT_NOFILE: %llu (files.limit)", (unsigned long long)p->nofile);
			if (l->hard > p->nofile)
				l->hard = p->nofile;
			if (l->soft > p->nofile)
				l->soft = p->nofile;
		}
	}
	if (!found) {
		struct ward_oci_process *pr = &c->process;

		pr->rlimits =
			ward_xrealloc(pr->rlimits, (pr->n_rlimits + 1) * sizeof(*pr->rlimits));
		pr->rlimits[pr->n_rlimits].resource = RLIMIT_NOFILE;
		pr->rlimits[pr->n_rlimits].soft = pr->rlimits[pr->n_rlimits].hard = p->nofile;
		pr->n_rlimits++;
		note(e, "RLIMIT_NOFILE: %llu (files.limit)", (unsigned long long)p->nofile);
	}
}

static int check_namespaces(struct ward_oci_config *c, struct oci_entitlements *e,
			    ward_error_t *err)
{
	static const int want[] = {CLONE_NEWNS,	 CLONE_NEWPID,	  CLONE_NEWIPC,
				   CLONE_NEWUTS, CLONE_NEWCGROUP, CLONE_NEWNET};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(want); i++) {
		const struct ward_oci_ns *ns;

		if (!(e->policy.namespaces & (unsigned long)want[i]))
			continue;
		ns = ward_oci_ns_find(c, want[i]);
		if (ns && ns->path)
			return ward_error_set(
				err, EACCES,
				"linux.namespaces: joining the %s namespace %s is not allowed "
				"under "
				"%s (the entitlements need a new one; %s)",
				ward_oci_ns_name(want[i]), ns->path, WARD_OCI_ENTITLEMENTS,
				want[i] == CLONE_NEWNET ? "grant network.host to share the host's"
							: "remove the path");
		if (ns == NULL) {
			c->namespaces = ward_xrealloc(
				c->namespaces, (c->n_namespaces + 1) * sizeof(*c->namespaces));
			c->namespaces[c->n_namespaces].type = want[i];
			c->namespaces[c->n_namespaces].path = NULL;
			c->n_namespaces++;
			note(e, "namespaces: a new %s namespace added", ward_oci_ns_name(want[i]));
		}
	}
	return 0;
}

int ward_oci_entitlements_apply(struct ward_oci_config *c, const char *id,
				struct oci_entitlements *e, ward_error_t *err)
{
	const char *text = ward_oci_annotation(c, WARD_OCI_ENTITLEMENTS);

	memset(e, 0, sizeof(*e));
	if (text == NULL)
		return 0;
	e->present = true;
	e->text = ward_xstrdup(text);
	if (parse_annotation(text, &e->policy, err) < 0)
		return ward_error_wrap(err, "%s", c->path);
	trim_caps(c, e);
	if (!e->policy.setuid && !c->process.no_new_privileges) {
		c->process.no_new_privileges = true;
		note(e, "noNewPrivileges: true (no process.setuid)");
	}
	if (check_namespaces(c, e, err) < 0 || check_mounts(c, id, e, err) < 0 ||
	    check_devices(c, e, err) < 0)
		return ward_error_wrap(err, "%s", c->path);
	cap_resources(c, e);
	note(e, "seccomp: ward's filter for these entitlements is stacked on the config's");
	return 0;
}

void ward_oci_entitlements_free(struct oci_entitlements *e)
{
	size_t i;

	if (e->present)
		ward_policy_free(&e->policy);
	free(e->text);
	for (i = 0; i < e->n_notes; i++)
		free(e->notes[i]);
	free(e->notes);
	memset(e, 0, sizeof(*e));
}

int ward_oci_explain(const char *bundle, FILE *out, bool json, ward_error_t *err)
{
	struct ward_oci_config cfg;
	struct oci_entitlements e;
	int rc = -1, abi = ward_landlock_abi();
	size_t i;

	memset(&e, 0, sizeof(e));
	if (ward_oci_config_load(bundle, &cfg, err) < 0)
		goto out;
	if (ward_oci_entitlements_apply(&cfg, NULL, &e, err) < 0)
		goto out;
	if (json) {
		json_t *o = json_object(), *notes = json_array();
		char buf[1024];

		for (i = 0; i < e.n_notes; i++)
			json_array_append_new(notes, json_string(e.notes[i]));
		json_object_set_new(o, "bundle", json_string(cfg.bundle));
		json_object_set_new(o, "entitlements",
				    e.present ? json_string(e.text) : json_null());
		json_object_set_new(o, "changes", notes);
		json_object_set_new(
			o, "capabilities",
			json_string(cap_list(cfg.process.caps.bounding, buf, sizeof(buf))));
		json_object_set_new(o, "noNewPrivileges",
				    json_boolean(cfg.process.no_new_privileges));
		json_object_set_new(o, "seccomp", json_boolean(cfg.seccomp != NULL));
		json_dumpf(o, out, JSON_INDENT(2));
		fputc('\n', out);
		json_decref(o);
		rc = 0;
		goto out;
	}
	fprintf(out, "Bundle %s\n", cfg.bundle);
	if (!e.present) {
		fprintf(out,
			"No %s annotation: the config is honoured as written (as crun would),\n"
			"plus ward's additions that cannot break a container: Landlock scoping of\n"
			"abstract unix sockets and signals%s.\n",
			WARD_OCI_ENTITLEMENTS,
			abi >= 6 ? "" : " (not available: Landlock ABI < 6)");
	} else {
		fprintf(out, "Entitlements (%s): %s\n", WARD_OCI_ENTITLEMENTS, e.text);
		fprintf(out, "\nWhat the entitlements changed in the config:\n");
		for (i = 0; i < e.n_notes; i++)
			fprintf(out, "  - %s\n", e.notes[i]);
		if (e.n_notes == 0)
			fprintf(out, "  nothing: the config already asks for no more\n");
		fprintf(out, "\n");
		if (ward_explain_text(&e.policy, abi, out, err) < 0)
			goto out;
	}
	{
		char buf[1024];

		fprintf(out, "\nThe container gets:\n");
		fprintf(out, "  capabilities (bounding): %s\n",
			cap_list(cfg.process.caps.bounding, buf, sizeof(buf)));
		fprintf(out, "  no_new_privs: %s\n", cfg.process.no_new_privileges ? "yes" : "no");
		fprintf(out, "  seccomp: %s%s\n",
			cfg.seccomp ? "the config's filter" : "none from the config",
			e.present ? " + ward's filter" : "");
		fprintf(out, "  namespaces:");
		for (i = 0; i < cfg.n_namespaces; i++)
			fprintf(out, " %s%s", ward_oci_ns_name(cfg.namespaces[i].type),
				cfg.namespaces[i].path ? "(joined)" : "");
		fprintf(out, "\n");
		if (cfg.resources.has_pids_limit)
			fprintf(out, "  pids limit: %lld\n", (long long)cfg.resources.pids_limit);
		if (cfg.resources.has_mem_limit)
			fprintf(out, "  memory limit: %lld bytes\n",
				(long long)cfg.resources.mem_limit);
	}
	rc = 0;
out:
	ward_oci_entitlements_free(&e);
	ward_oci_config_free(&cfg);
	return rc;
}
