// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `ward explain --bundle DIR [--json]`: what a bundle's config.json gives
 * the container once its org.ward.entitlements annotation has bounded it
 * (entitle.c, entitle_fs.c): every refusal, every change, the policy layer
 * by layer, and the bounded result field by field.  The same functions as
 * create run here, so the explanation is what create enforces.  Every
 * string taken from the config is escaped (ward_escape): a config can put
 * anything in a hostname or a path.
 *
 * The container id is not known here; podman's layout (the bundle is
 * .../ID/userdata) gives it, otherwise the bundle's name stands in.  It
 * matters only for recognising the engine's own files.
 *
 * The exit status is 1 when the config asks for more than the
 * entitlements allow (create would fail), 0 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include "../caps.h"
#include "../explain.h"
#include "../util.h"
#include "internal.h"

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

static char *guess_id(const char *bundle)
{
	cleanup_free char *b = ward_xstrdup(bundle);
	char *slash = strrchr(b, '/');

	while (slash && slash[1] == '\0' && slash > b) {
		*slash = '\0';
		slash = strrchr(b, '/');
	}
	if (slash && strcmp(slash + 1, "userdata") == 0) {
		*slash = '\0';
		slash = strrchr(b, '/');
	}
	return ward_xstrdup(slash ? slash + 1 : b);
}

static char *options_text(const struct ward_oci_mount *m)
{
	size_t i, len = 1;
	char *s;

	for (i = 0; i < m->n_options; i++)
		len += strlen(m->options[i]) + 1;
	s = ward_xcalloc(1, len);
	for (i = 0; i < m->n_options; i++) {
		if (i)
			strcat(s, ",");
		strcat(s, m->options[i]);
	}
	return s;
}

static json_t *strv_json(char **v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static const char *userns_text(const struct ward_oci_config *c, const struct oci_entitlements *e,
			       char *buf, size_t len)
{
	if (e->userns_added)
		return "new (added by ward): container ids 0-65535 map to a host range of its "
		       "OCI pool, one per container";
	if (!ward_oci_ns_find(c, CLONE_NEWUSER))
		return "none: the container's uid 0 is the host's uid 0";
	if (e->pod_sandbox) {
		cleanup_free char *s = ward_escape(e->pod_sandbox, 128);

		snprintf(buf, len,
			 "its pod sandbox \"%s\"'s (joined): the pod is one host uid range of "
			 "the OCI pool",
			 s);
		return buf;
	}
	if (c->n_uid_maps)
		snprintf(buf, len, "the config's: container uid %u -> host uid %u (%u ids)%s",
			 c->uid_maps[0].container_id, c->uid_maps[0].host_id, c->uid_maps[0].size,
			 c->n_uid_maps > 1 ? ", ..." : "");
	else
		snprintf(buf, len, "the config's");
	return buf;
}

static json_t *caps_json(uint64_t caps)
{
	json_t *a = json_array();
	int cap;

	for (cap = 0; cap < 64; cap++) {
		const char *n;

		if ((caps & (UINT64_C(1) << cap)) && (n = ward_cap_name(cap)) != NULL)
			json_array_append_new(a, json_string(n));
	}
	return a;
}

/* What the container gets besides the filesystem, as create applies it:
 * the five capability sets, rlimits, the cgroup limits, the id maps. */
static void json_process_and_limits(const struct ward_oci_config *c, json_t *o)
{
	const struct ward_oci_process *p = &c->process;
	const struct ward_oci_resources *r = &c->resources;
	json_t *rl = json_array(), *res = json_object(), *maps = json_array();
	size_t i, k, n = 0;

	json_object_set_new(
		o, "capabilitySets",
		json_pack("{s:o,s:o,s:o,s:o,s:o}", "bounding", caps_json(p->caps.bounding),
			  "effective", caps_json(p->caps.effective), "permitted",
			  caps_json(p->caps.permitted), "inheritable",
			  caps_json(p->caps.inheritable), "ambient", caps_json(p->caps.ambient)));
	for (i = 0; i < p->n_rlimits; i++)
		json_array_append_new(rl, json_pack("{s:s,s:I,s:I}", "type",
						    ward_oci_rlimit_name(p->rlimits[i].resource),
						    "soft", (json_int_t)p->rlimits[i].soft, "hard",
						    (json_int_t)p->rlimits[i].hard));
	json_object_set_new(o, "rlimits", rl);
	if (r->has_pids_limit)
		json_object_set_new(res, "pidsLimit", json_integer(r->pids_limit));
	if (r->has_mem_limit)
		json_object_set_new(res, "memoryLimit", json_integer(r->mem_limit));
	if (r->has_mem_swap)
		json_object_set_new(res, "memorySwap", json_integer(r->mem_swap));
	if (r->has_cpu_quota)
		json_object_set_new(res, "cpuQuota", json_integer(r->cpu_quota));
	if (r->has_cpu_period)
		json_object_set_new(res, "cpuPeriod", json_integer((json_int_t)r->cpu_period));
	json_object_set_new(o, "resources", res);
	json_object_set_new(o, "cgroupsPath",
			    c->cgroups_path ? json_string(c->cgroups_path) : json_null());
	for (i = 0; i < c->n_uid_maps; i++)
		json_array_append_new(maps, json_pack("{s:I,s:I,s:I}", "containerID",
						      (json_int_t)c->uid_maps[i].container_id,
						      "hostID", (json_int_t)c->uid_maps[i].host_id,
						      "size", (json_int_t)c->uid_maps[i].size));
	json_object_set_new(o, "uidMappings", maps);
	for (k = 0; k < WARD_HOOK_NKINDS; k++)
		n += c->hooks[k].n;
	json_object_set_new(o, "hooks", json_integer((json_int_t)n));
}

static void print_json(const struct ward_oci_config *c, const struct oci_entitlements *e, FILE *out)
{
	json_t *o = json_object(), *mounts = json_array(), *ns = json_array(), *sys = json_object();
	char buf[1024];
	size_t i;

	for (i = 0; i < c->n_mounts; i++) {
		const struct ward_oci_mount *m = &c->mounts[i];
		json_t *mj = json_pack("{s:s,s:o,s:o,s:o}", "destination", m->destination, "type",
				       m->type ? json_string(m->type) : json_null(), "source",
				       m->source ? json_string(m->source) : json_null(), "options",
				       strv_json(m->options, m->n_options));

		if (e->present && i < e->n_srcs && e->srcs[i].kind != OCI_SRC_NONE)
			json_object_set_new(mj, "allowedAs",
					    json_string(ward_oci_src_kind_name(e->srcs[i].kind)));
		json_array_append_new(mounts, mj);
	}
	for (i = 0; i < c->n_namespaces; i++)
		json_array_append_new(ns, json_pack("{s:s,s:o}", "type",
						    ward_oci_ns_name(c->namespaces[i].type), "path",
						    c->namespaces[i].path
							    ? json_string(c->namespaces[i].path)
							    : json_null()));
	for (i = 0; i < c->n_sysctl; i++)
		json_object_set_new(sys, c->sysctl[i].key, json_string(c->sysctl[i].value));
	json_object_set_new(o, "bundle", json_string(c->bundle));
	json_object_set_new(o, "entitlements", e->present ? json_string(e->text) : json_null());
	json_object_set_new(o, "refusals", strv_json(e->refusals, e->n_refusals));
	json_object_set_new(o, "changes", strv_json(e->notes, e->n_notes));
	json_object_set_new(o, "userNamespace", json_string(userns_text(c, e, buf, sizeof(buf))));
	json_object_set_new(o, "namespaces", ns);
	json_object_set_new(o, "root",
			    json_pack("{s:s,s:b,s:s}", "path", c->root_path, "readonly",
				      c->root_readonly, "allowedAs",
				      ward_oci_src_kind_name(e->root.kind)));
	json_object_set_new(o, "mounts", mounts);
	json_object_set_new(o, "maskedPaths", strv_json(c->masked_paths, c->n_masked_paths));
	json_object_set_new(o, "readonlyPaths", strv_json(c->readonly_paths, c->n_readonly_paths));
	json_object_set_new(o, "sysctl", sys);
	json_object_set_new(o, "capabilities",
			    json_string(cap_list(c->process.caps.bounding, buf, sizeof(buf))));
	json_object_set_new(o, "noNewPrivileges", json_boolean(c->process.no_new_privileges));
	json_object_set_new(o, "seccomp", json_boolean(c->seccomp != NULL));
	json_object_set_new(o, "wardSeccomp", json_boolean(e->present));
	json_object_set_new(o, "hostname", c->hostname ? json_string(c->hostname) : json_null());
	json_object_set_new(o, "podSandbox",
			    e->pod_sandbox ? json_string(e->pod_sandbox) : json_null());
	json_process_and_limits(c, o);
	json_dumpf(o, out, JSON_INDENT(2));
	fputc('\n', out);
	json_decref(o);
}

static void print_list(FILE *out, const char *title, char **v, size_t n)
{
	size_t i;

	fprintf(out, "  %s:", title);
	for (i = 0; i < n; i++) {
		cleanup_free char *s = ward_escape(v[i], 256);

		fprintf(out, " %s", s);
	}
	fprintf(out, "%s\n", n ? "" : " none");
}

static void print_result(const struct ward_oci_config *c, const struct oci_entitlements *e,
			 FILE *out)
{
	const struct ward_oci_process *p = &c->process;
	char buf[1024];
	size_t i;

	fprintf(out, "\nThe container gets:\n");
	fprintf(out, "  user namespace: %s\n", userns_text(c, e, buf, sizeof(buf)));
	fprintf(out, "  namespaces:");
	for (i = 0; i < c->n_namespaces; i++) {
		cleanup_free char *v =
			c->namespaces[i].path ? ward_escape(c->namespaces[i].path, 128) : NULL;

		fprintf(out, " %s%s%s%s", ward_oci_ns_name(c->namespaces[i].type),
			v ? "(joins " : "", v ? v : "", v ? ")" : "");
	}
	fprintf(out, "\n");
	{
		cleanup_free char *v = ward_escape(c->root_path, 256);

		fprintf(out, "  root: %s (%s), %s\n", v,
			e->present ? ward_oci_src_kind_name(e->root.kind) : "as the config says",
			c->root_readonly ? "read-only" : "writable");
	}
	fprintf(out, "  mounts:\n");
	for (i = 0; i < c->n_mounts; i++) {
		const struct ward_oci_mount *m = &c->mounts[i];
		cleanup_free char *d = ward_escape(m->destination, 256);
		cleanup_free char *t = ward_escape(m->type ? m->type : "bind", 64);
		cleanup_free char *s = ward_escape(m->source ? m->source : "", 256);
		cleanup_free char *o = options_text(m);
		cleanup_free char *oe = ward_escape(o, 512);
		enum oci_src_kind k = e->present && i < e->n_srcs ? e->srcs[i].kind : OCI_SRC_NONE;

		fprintf(out, "    %s  %s", d, t);
		if (k != OCI_SRC_NONE)
			fprintf(out, " of %s (%s)", s, ward_oci_src_kind_name(k));
		fprintf(out, "  %s\n", oe);
	}
	print_list(out, "masked paths", c->masked_paths, c->n_masked_paths);
	print_list(out, "read-only paths", c->readonly_paths, c->n_readonly_paths);
	fprintf(out, "  sysctl:");
	for (i = 0; i < c->n_sysctl; i++) {
		cleanup_free char *k = ward_escape(c->sysctl[i].key, 128);
		cleanup_free char *v = ward_escape(c->sysctl[i].value, 128);

		fprintf(out, " %s=%s", k, v);
	}
	fprintf(out, "%s\n", c->n_sysctl ? "" : " none");
	fprintf(out, "  devices:");
	for (i = 0; i < c->n_devices; i++) {
		cleanup_free char *v = ward_escape(c->devices[i].path, 128);

		fprintf(out, " %s", v);
	}
	fprintf(out, "%s\n", c->n_devices ? "" : " the default ones");
	fprintf(out, "  capabilities (bounding): %s\n",
		cap_list(p->caps.bounding, buf, sizeof(buf)));
	fprintf(out, "  no_new_privs: %s\n", p->no_new_privileges ? "yes" : "no");
	fprintf(out, "  rlimits:");
	for (i = 0; i < p->n_rlimits; i++)
		fprintf(out, " %s=%llu/%llu", ward_oci_rlimit_name(p->rlimits[i].resource),
			(unsigned long long)p->rlimits[i].soft,
			(unsigned long long)p->rlimits[i].hard);
	fprintf(out, "%s\n", p->n_rlimits ? "" : " the runtime's");
	fprintf(out, "  seccomp: %s%s\n",
		c->seccomp ? "the config's filter" : "none from the config",
		e->present ? " + ward's filter for the entitlements" : "");
	{
		size_t k, n = 0;

		for (k = 0; k < WARD_HOOK_NKINDS; k++)
			n += c->hooks[k].n;
		fprintf(out, "  hooks: %zu%s\n", n, n ? " (run by the runtime on the host)" : "");
	}
	{
		cleanup_free char *v = c->cgroups_path ? ward_escape(c->cgroups_path, 256) : NULL;

		fprintf(out, "  cgroup: %s%s\n", v ? v : "/ward/oci/ID",
			e->present ? " (it must not exist: ward creates it)" : "");
	}
	if (c->resources.has_pids_limit)
		fprintf(out, "  pids limit: %lld\n", (long long)c->resources.pids_limit);
	if (c->resources.has_mem_limit)
		fprintf(out, "  memory limit: %lld bytes\n", (long long)c->resources.mem_limit);
	if (c->resources.has_cpu_quota)
		fprintf(out, "  cpu: %lld us per %llu us\n", (long long)c->resources.cpu_quota,
			(unsigned long long)c->resources.cpu_period);
}

int ward_oci_explain(const char *bundle, const char *root, FILE *out, bool json, ward_error_t *err)
{
	struct ward_oci_config cfg;
	struct oci_entitlements e;
	cleanup_free char *id = NULL;
	int rc = -1, abi = ward_landlock_abi();
	size_t i;

	memset(&e, 0, sizeof(e));
	e.root.fd = -1;
	if (ward_oci_config_load(bundle, &cfg, err) < 0)
		goto out;
	id = guess_id(cfg.bundle);
	if (ward_oci_entitlements_bound(&cfg, id, root, true, &e, err) < 0) {
		if (e.n_refusals == 0)
			goto out; /* the annotation itself is wrong */
		ward_error_free(err);
	}
	if (json) {
		print_json(&cfg, &e, out);
	} else {
		cleanup_free char *b = ward_escape(cfg.bundle, 512);

		fprintf(out, "Bundle %s\n", b);
		if (!e.present) {
			fprintf(out,
				"No %s annotation: the config is honoured as written (as runc "
				"would),\nplus ward's additions that cannot break a container: "
				"Landlock scoping of\nabstract unix sockets and signals%s.\n",
				WARD_OCI_ENTITLEMENTS,
				abi >= 6 ? "" : " (not available: Landlock ABI < 6)");
		} else {
			cleanup_free char *t = ward_escape(e.text, 1024);

			fprintf(out, "Entitlements (%s): %s\n", WARD_OCI_ENTITLEMENTS, t);
			if (e.n_refusals) {
				fprintf(out,
					"\nRefused: %zu field(s) ask for more than the "
					"entitlements "
					"allow (create fails):\n",
					e.n_refusals);
				/* Built from escaped pieces (entitle.c). */
				for (i = 0; i < e.n_refusals; i++)
					fprintf(out, "  - %s\n", e.refusals[i]);
			}
			fprintf(out, "\nWhat the entitlements changed in the config:\n");
			for (i = 0; i < e.n_notes; i++)
				fprintf(out, "  - %s\n", e.notes[i]);
			if (e.n_notes == 0)
				fprintf(out, "  nothing: the config already asks for no more\n");
			fprintf(out, "\n");
			if (ward_explain_text(&e.policy, abi, out, err) < 0)
				goto out;
		}
		print_result(&cfg, &e, out);
	}
	if (e.n_refusals) {
		ward_error_set(err, EACCES,
			       "%s: %zu field(s) ask for more than %s allows (listed above)",
			       cfg.path, e.n_refusals, WARD_OCI_ENTITLEMENTS);
		goto out;
	}
	rc = 0;
out:
	ward_oci_entitlements_free(&e);
	ward_oci_config_free(&cfg);
	return rc;
}
