/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ward import: the nearest manifest for a Docker/podman seccomp profile, an
 * OCI config.json or a Kubernetes Pod (export.h).
 *
 * "Nearest": the fewest and least powerful entitlements under which ward
 * allows every syscall the profile allows, found by asking ward's own rule
 * list (ward_seccomp_rules()) of each candidate policy, never a table of
 * its own.  What has no entitlement (a syscall nothing allows, a syscall
 * the profile denies that ward always allows, a bind mount to another
 * place, privileged containers...) is listed as a "# NOT MAPPED:" comment.
 * The input is someone else's file: every string from it is escaped in the
 * comments, and a value becomes an entitlement line only when the manifest
 * parser reads the line back as exactly that entitlement.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#ifdef WARD_WITH_YAML
#include <yaml.h>
#endif

#include "../caps.h"
#include "../entitlements.h"
#include "../seccomp/seccomp.h"
#include "../util.h"
#include "export.h"

int ward_import_format_parse(const char *name)
{
	if (strcmp(name, "docker-seccomp") == 0)
		return WARD_IMPORT_DOCKER_SECCOMP;
	if (strcmp(name, "oci") == 0)
		return WARD_IMPORT_OCI;
	if (strcmp(name, "kubernetes") == 0)
		return WARD_IMPORT_KUBERNETES;
	return -1;
}

/* ---------------------------------------------------------------- the result */

struct result {
	struct ward_request_list reqs; /* what is granted (resolved together at the end) */
	char **lines;		       /* entitlement lines with their comments */
	size_t n_lines;
	char **unmapped;
	size_t n_unmapped;
};

static void note(struct result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct result *r, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	r->unmapped = ward_xrealloc(r->unmapped, (r->n_unmapped + 1) * sizeof(*r->unmapped));
	r->unmapped[r->n_unmapped++] = s;
}

static bool granted(const struct result *r, const char *name, const char *value)
{
	size_t i;

	for (i = 0; i < r->reqs.n; i++)
		if (strcmp(r->reqs.items[i].name, name) == 0 &&
		    ((value == NULL && r->reqs.items[i].value == NULL) ||
		     (value && r->reqs.items[i].value &&
		      strcmp(value, r->reqs.items[i].value) == 0)))
			return true;
	return false;
}

static void drop(struct result *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->reqs.n; i++)
		if (strcmp(r->reqs.items[i].name, name) == 0) {
			free(r->reqs.items[i].name);
			free(r->reqs.items[i].value);
			free(r->reqs.items[i].origin);
			r->reqs.items[i] = r->reqs.items[--r->reqs.n];
			i--;
		}
}

/* Grant NAME[=VALUE] when the parser reads the line back as exactly that
 * (a value from the input may hold anything). */
static void grant(struct result *r, const char *name, const char *value, const char *why, ...)
	__attribute__((format(printf, 4, 5)));
static void grant(struct result *r, const char *name, const char *value, const char *why, ...)
{
	struct ward_request_list l = {0};
	ward_error_t err = NULL;
	cleanup_free char *line = value ? ward_xasprintf("%s=%s", name, value) : ward_xstrdup(name);
	cleanup_free char *reason = NULL;
	va_list ap;

	va_start(ap, why);
	if (vasprintf(&reason, why, ap) < 0)
		abort();
	va_end(ap);
	if (granted(r, name, value))
		return;
	if (ward_parse_manifest(&l, line, strlen(line), "import", &err) < 0 || l.n != 1 ||
	    strcmp(l.items[0].name, name) != 0 ||
	    (value && (l.items[0].value == NULL || strcmp(l.items[0].value, value) != 0))) {
		cleanup_free char *esc = ward_escape(line, 200);

		ward_error_free(&err);
		ward_request_list_free(&l);
		note(r, "%s (%s): not a value a manifest can hold", esc, reason);
		return;
	}
	ward_request_list_free(&l);
	(void)ward_parse_allow(&r->reqs, line, "import", &err);
	ward_error_free(&err);
	r->lines = ward_xrealloc(r->lines, (r->n_lines + 1) * sizeof(*r->lines));
	{
		cleanup_free char *esc = ward_escape(reason, 300);

		r->lines[r->n_lines++] = ward_xasprintf("%s  # %s", line, esc);
	}
}

static void result_free(struct result *r)
{
	size_t i;

	ward_request_list_free(&r->reqs);
	for (i = 0; i < r->n_lines; i++)
		free(r->lines[i]);
	for (i = 0; i < r->n_unmapped; i++)
		free(r->unmapped[i]);
	free(r->lines);
	free(r->unmapped);
}

/* ---------------------------------------------------------------- syscalls */

/* Does ward allow SYSCALL (under any argument) with the requests so far
 * plus EXTRA (may be NULL)? */
static bool ward_allows(const struct result *r, const char *extra, const char *syscall)
{
	struct ward_request_list l = {0};
	struct ward_policy p = {0};
	struct ward_sc_rules rules = {0};
	ward_error_t err = NULL;
	bool yes = false;
	size_t i;

	for (i = 0; i < r->reqs.n; i++) {
		const struct ward_request *q = &r->reqs.items[i];
		cleanup_free char *t = q->value ? ward_xasprintf("%s=%s", q->name, q->value)
						: ward_xstrdup(q->name);
		int qd = ward_entitlement_lookup(q->name),
		    xd = extra ? ward_entitlement_lookup(extra) : -1;

		/* EXTRA replaces a choice of the same group (a higher level). */
		if (qd >= 0 && xd >= 0 && ward_entitlements[qd].group &&
		    ward_entitlements[xd].group &&
		    strcmp(ward_entitlements[qd].group, ward_entitlements[xd].group) == 0)
			continue;
		(void)ward_parse_allow(&l, t, "import", &err);
		ward_error_free(&err);
	}
	if (extra)
		(void)ward_parse_allow(&l, extra, "import", &err);
	ward_error_free(&err);
	if (ward_resolve(&l, NULL, &p, &err) == 0 && ward_seccomp_rules(&p, &rules, &err) == 0) {
		for (i = 0; i < rules.n && !yes; i++)
			yes = rules.rules[i].action == WARD_SC_ALLOW &&
			      strcmp(rules.rules[i].syscall, syscall) == 0;
		ward_sc_rules_free(&rules);
	}
	ward_error_free(&err);
	ward_policy_free(&p);
	ward_request_list_free(&l);
	return yes;
}

/* Does ward know SYSCALL at all: a rule (allowing or refusing) in the
 * profile of the policies that allow the most (host.time cannot be
 * combined with a security level)? */
static bool knows_under(const char *const *allow, const char *syscall)
{
	struct ward_request_list l = {0};
	struct ward_policy p = {0};
	struct ward_sc_rules rules = {0};
	ward_error_t err = NULL;
	bool yes = false;
	size_t i;

	for (; *allow; allow++)
		(void)ward_parse_allow(&l, *allow, "import", &err);
	ward_error_free(&err);
	if (ward_resolve(&l, NULL, &p, &err) == 0 && ward_seccomp_rules(&p, &rules, &err) == 0) {
		for (i = 0; i < rules.n && !yes; i++)
			yes = strcmp(rules.rules[i].syscall, syscall) == 0;
		ward_sc_rules_free(&rules);
	}
	ward_error_free(&err);
	ward_policy_free(&p);
	ward_request_list_free(&l);
	return yes;
}

static bool ward_knows(const char *syscall)
{
	static const char *const admin[] = {"security.admin", "process.debug", NULL};
	static const char *const time_[] = {"host.time", NULL};

	return knows_under(admin, syscall) || knows_under(time_, syscall);
}

static int level_of(const char *name)
{
	if (strcmp(name, "security.user") == 0)
		return 1;
	if (strcmp(name, "security.admin") == 0)
		return 2;
	return 0;
}

/* The least powerful entitlement that lets ward allow SYSCALL on top of
 * what is granted: one of the table's, tried in order of power (not
 * dangerous before dangerous, user before admin). */
static void need_syscall(struct result *r, const char *syscall, const char *why)
{
	int defs[16];
	size_t n = ward_entitlements_for_syscall(syscall, defs, ARRAY_SIZE(defs)), i, pass;

	if (ward_allows(r, NULL, syscall))
		return;
	for (pass = 0; pass < 3; pass++) {
		for (i = 0; i < n && i < ARRAY_SIZE(defs); i++) {
			const struct ward_entitlement *e = &ward_entitlements[defs[i]];
			bool dangerous = (e->flags & WARD_ENT_DANGEROUS) != 0;
			int lvl = level_of(e->name);

			if (e->arg != WARD_ARG_NONE)
				continue;
			if ((pass == 0 && (dangerous || lvl)) || (pass == 1 && (lvl != 1)) ||
			    (pass == 2 && !(dangerous || lvl == 2)))
				continue;
			/* One security level: never a second one beside admin. */
			if (lvl && granted(r, "security.admin", NULL))
				return;
			if (!ward_allows(r, e->name, syscall))
				continue;
			/* A profile allows; the capabilities decide.  A dangerous
			 * entitlement is never granted on a profile's word. */
			if (dangerous || lvl == 2) {
				note(r,
				     "%s allows %s(2), which only %s [dangerous] allows: grant it "
				     "by hand if the program needs it",
				     why, syscall, e->name);
				return;
			}
			grant(r, e->name, NULL, "%s allows %s(2)", why, syscall);
			return;
		}
	}
	note(r, "%s allows %s(2), which no entitlement of ward allows", why, syscall);
}

static bool is_allow(const char *action)
{
	return action && strcmp(action, "SCMP_ACT_ALLOW") == 0;
}

/* Docker's and podman's profiles hold entries for other architectures
 * and entries that hold only when the container keeps a capability
 * ("includes": {"arches": [...], "caps": [...]}, "excludes"): an entry
 * for another architecture is skipped; one that needs a capability is
 * taken as the container without it (ward's capabilities come from the
 * security level, not from the profile), and said. */
static bool applies(struct result *r, json_t *e, const char *what)
{
	json_t *inc = json_object_get(e, "includes"), *v;
	json_t *arches = json_object_get(inc, "arches"), *caps = json_object_get(inc, "caps");
	size_t i;
	bool native = json_array_size(arches) == 0;

	json_array_foreach(arches, i, v)
	{
		const char *a = json_string_value(v);

		native |= a && (strcmp(a, "amd64") == 0 || strcmp(a, "x86_64") == 0);
	}
	if (!native)
		return false;
	if (json_array_size(caps)) {
		json_t *names = json_object_get(e, "names"), *n0 = json_array_get(names, 0);
		cleanup_free char *en =
			ward_escape(json_string_value(n0) ? json_string_value(n0) : "?", 64);
		cleanup_free char *ec =
			ward_escape(json_string_value(json_array_get(caps, 0))
					    ? json_string_value(json_array_get(caps, 0))
					    : "?",
				    64);

		if (json_string_value(json_object_get(e, "action")) &&
		    is_allow(json_string_value(json_object_get(e, "action"))))
			note(r, "%s allows %s(2)%s only with %s: taken as without it", what, en,
			     json_array_size(names) > 1 ? " and others" : "", ec);
		return false;
	}
	return json_array_size(json_object_get(json_object_get(e, "excludes"), "caps")) || true;
}

/* A linux.seccomp object or a Docker profile. */
static void import_seccomp(struct result *r, json_t *sc, const char *what)
{
	const char *def = json_string_value(json_object_get(sc, "defaultAction"));
	json_t *calls = json_object_get(sc, "syscalls"), *e;
	size_t i, j;

	if (def == NULL) {
		note(r, "%s has no defaultAction: not a seccomp profile", what);
		return;
	}
	if (is_allow(def)) {
		note(r,
		     "%s allows every syscall it does not list (defaultAction "
		     "SCMP_ACT_ALLOW); ward allows only what it knows: the nearest is "
		     "security.admin's list",
		     what);
	}
	json_array_foreach(calls, i, e)
	{
		const char *action = json_string_value(json_object_get(e, "action"));
		json_t *names = json_object_get(e, "names"), *nm;
		json_t *args = json_object_get(e, "args");

		if (!applies(r, e, what))
			continue;
		if (names == NULL && json_object_get(e, "name"))
			names = json_pack("[O]", json_object_get(e, "name"));
		else
			json_incref(names);
		json_array_foreach(names, j, nm)
		{
			const char *name = json_string_value(nm);
			cleanup_free char *esc = NULL;

			if (name == NULL)
				continue;
			esc = ward_escape(name, 64);
			if (is_allow(action)) {
				if (!ward_knows(name)) {
					if (seccomp_syscall_resolve_name(name) >= 0)
						note(r,
						     "%s allows %s(2), which ward does not know "
						     "(ENOSYS under ward)",
						     what, esc);
					continue;
				}
				if (strcmp(name, "socket") == 0 || strcmp(name, "socketpair") == 0)
					continue; /* the families decide (below) */
				need_syscall(r, name, what);
				if (json_array_size(args) && !ward_allows(r, NULL, name))
					note(r,
					     "%s allows %s(2) only with argument conditions "
					     "ward cannot mirror",
					     what, esc);
			} else if (action && !is_allow(def) && json_array_size(args) == 0 &&
				   ward_allows(r, NULL, name) && !ward_allows(r, NULL, "mount") &&
				   ward_knows(name)) {
				note(r,
				     "%s refuses %s(2) (%s), which ward allows: ward cannot "
				     "refuse more than its levels do",
				     what, esc, action);
			}
		}
		json_decref(names);
	}
	/* Socket families: the network entitlements are choices, not syscalls. */
	json_array_foreach(calls, i, e)
	{
		json_t *names = json_object_get(e, "names"), *nm, *a;
		const char *action = json_string_value(json_object_get(e, "action"));

		if (!is_allow(action))
			continue;
		json_array_foreach(names, j, nm)
		{
			size_t k;
			bool inet = false;
			json_t *args = json_object_get(e, "args");

			if (json_string_value(nm) == NULL ||
			    strcmp(json_string_value(nm), "socket") != 0)
				continue;
			if (json_array_size(args) == 0)
				inet = true;
			json_array_foreach(args, k, a)
			{
				const char *op = json_string_value(json_object_get(a, "op"));
				json_int_t v = json_integer_value(json_object_get(a, "value"));

				/* EQ FAMILY, or MASKED_EQ 0xffffffff FAMILY (the
				 * family is a 32-bit int). */
				if (op && strcmp(op, "SCMP_CMP_MASKED_EQ") == 0)
					v = json_integer_value(json_object_get(a, "valueTwo"));
				if (json_integer_value(json_object_get(a, "index")) == 0 &&
				    (v == AF_INET || v == AF_INET6))
					inet = true;
			}
			if (inet && !granted(r, "network.outbound", NULL))
				note(r,
				     "%s allows IP sockets: choose network.loopback, "
				     "network.outbound or network.connect=HOST:PORT (ward's "
				     "default is no network)",
				     what);
			if (inet)
				return;
		}
	}
}

/* ---------------------------------------------------------------- capabilities */

static void import_caps(struct result *r, json_t *list, const char *what)
{
	struct ward_request_list l = {0};
	struct ward_policy user = {0}, admin = {0};
	ward_error_t err = NULL;
	uint64_t caps = 0;
	size_t i;
	json_t *c;
	int k;

	json_array_foreach(list, i, c)
	{
		const char *name = json_string_value(c);

		for (k = 0; name && k < 64; k++)
			if (ward_cap_name(k) && (strcmp(ward_cap_name(k), name) == 0 ||
						 strcmp(ward_cap_name(k) + 4, name) == 0))
				caps |= 1ULL << k;
		if (name && strcmp(name, "ALL") == 0)
			caps = ~0ULL;
	}
	/* CAP_NET_ADMIN: network.admin gives it (with CAP_NET_RAW) in the
	 * sandbox's own network namespace only. */
	if (caps != ~0ULL && (caps & (1ULL << CAP_NET_ADMIN))) {
		grant(r, "network.admin", NULL,
		      "%s keeps CAP_NET_ADMIN (ward gives it in the sandbox's own network "
		      "namespace only) [dangerous]",
		      what);
		caps &= ~((1ULL << CAP_NET_ADMIN) | (1ULL << CAP_NET_RAW));
	}
	(void)ward_parse_allow(&l, "security.user", "import", &err);
	(void)ward_resolve(&l, NULL, &user, &err);
	ward_request_list_free(&l);
	(void)ward_parse_allow(&l, "security.admin", "import", &err);
	(void)ward_resolve(&l, NULL, &admin, &err);
	ward_request_list_free(&l);
	ward_error_free(&err);
	if (caps == 0) {
		/* security.confined: the default */
	} else if ((caps & ~user.caps) == 0) {
		grant(r, "security.user", NULL, "%s keeps capabilities of Docker's default set",
		      what);
	} else {
		if (!granted(r, "security.admin", NULL)) {
			drop(r, "security.user");
			grant(r, "security.admin", NULL,
			      "%s keeps capabilities beyond Docker's set "
			      "[dangerous]",
			      what);
		}
		for (k = 0; k < 64; k++)
			if (((caps & ~admin.caps) >> k) & 1 && ward_cap_name(k) && caps != ~0ULL)
				note(r, "%s keeps %s, which no entitlement gives", what,
				     ward_cap_name(k));
		if (caps == ~0ULL)
			note(r,
			     "%s keeps ALL capabilities; security.admin gives Docker's set and "
			     "CAP_SYS_ADMIN only",
			     what);
	}
	ward_policy_free(&user);
	ward_policy_free(&admin);
}

/* ---------------------------------------------------------------- mounts */

static void import_bind(struct result *r, const char *src, const char *dst, bool rw, bool exec,
			const char *what)
{
	cleanup_free char *esrc = ward_escape(src ? src : "?", 200);
	cleanup_free char *edst = ward_escape(dst ? dst : "?", 200);

	if (src == NULL || dst == NULL || strcmp(src, dst) != 0) {
		note(r, "%s binds %s at %s: ward grants a host path at the same place only", what,
		     esrc, edst);
		return;
	}
	if (strcmp(src, "/tmp") == 0) {
		grant(r, "host.tmp", NULL, "%s shares the host's /tmp [dangerous]", what);
		return;
	}
	if (strncmp(src, "/dev/", 5) == 0) {
		grant(r, "host.devices", src, "%s binds a host device [dangerous]", what);
		return;
	}
	grant(r,
	      rw     ? "fs.write"
	      : exec ? "fs.exec"
		     : "fs.read",
	      src, "%s binds it%s", what, rw ? " read-write" : "");
	if (rw && exec)
		grant(r, "fs.exec", src, "%s binds it executable", what);
}

/* ---------------------------------------------------------------- OCI */

static void import_oci(struct result *r, json_t *cfg)
{
	json_t *proc = json_object_get(cfg, "process"), *linux_ = json_object_get(cfg, "linux");
	json_t *res = json_object_get(linux_, "resources"), *m, *ns;
	size_t i;
	bool netns = false;

	import_caps(r, json_object_get(json_object_get(proc, "capabilities"), "bounding"),
		    "config.json's process.capabilities");
	if (json_object_get(linux_, "seccomp"))
		import_seccomp(r, json_object_get(linux_, "seccomp"),
			       "config.json's linux.seccomp");
	else
		note(r, "config.json has no linux.seccomp: ward always filters syscalls");
	if (json_is_false(json_object_get(proc, "noNewPrivileges")) ||
	    json_object_get(proc, "noNewPrivileges") == NULL)
		grant(r, "process.setuid", NULL,
		      "config.json's process does not set noNewPrivileges [dangerous]");
	json_array_foreach(json_object_get(proc, "rlimits"), i, m)
	{
		const char *type = json_string_value(json_object_get(m, "type"));

		if (type && strcmp(type, "RLIMIT_NOFILE") == 0) {
			cleanup_free char *v = ward_xasprintf(
				"%lld", (long long)json_integer_value(json_object_get(m, "hard")));

			grant(r, "files.limit", v, "config.json's RLIMIT_NOFILE");
		}
	}
	{
		json_int_t pids =
			json_integer_value(json_object_get(json_object_get(res, "pids"), "limit"));
		json_int_t mem = json_integer_value(
			json_object_get(json_object_get(res, "memory"), "limit"));
		json_t *cpu = json_object_get(res, "cpu");
		json_int_t quota = json_integer_value(json_object_get(cpu, "quota"));
		json_int_t period = json_integer_value(json_object_get(cpu, "period"));

		if (pids > 0) {
			cleanup_free char *v = ward_xasprintf("%lld", (long long)pids);

			grant(r, "process.limit", v, "config.json's linux.resources.pids");
		}
		if (mem > 0) {
			cleanup_free char *v = ward_xasprintf("%lld", (long long)mem);

			grant(r, "memory.limit", v, "config.json's linux.resources.memory");
		}
		if (quota > 0 && period > 0) {
			cleanup_free char *v =
				ward_xasprintf("%.2f", (double)quota / (double)period);

			grant(r, "cpu.limit", v, "config.json's linux.resources.cpu");
		}
	}
	json_array_foreach(json_object_get(linux_, "namespaces"), i, ns)
	{
		const char *t = json_string_value(json_object_get(ns, "type"));

		if (t && strcmp(t, "network") == 0)
			netns = json_object_get(ns, "path") == NULL;
		if (t && json_object_get(ns, "path")) {
			cleanup_free char *e = ward_escape(t, 32);

			note(r,
			     "config.json joins an existing %s namespace: ward always makes its "
			     "own",
			     e);
		}
	}
	if (!netns && linux_)
		grant(r, "network.host", NULL,
		      "config.json has no network namespace of its own [dangerous]");
	json_array_foreach(json_object_get(cfg, "mounts"), i, m)
	{
		const char *type = json_string_value(json_object_get(m, "type"));
		json_t *opts = json_object_get(m, "options"), *o;
		bool bind = type && strcmp(type, "bind") == 0, rw = true, exec = true;
		size_t k;

		json_array_foreach(opts, k, o)
		{
			const char *s = json_string_value(o);

			if (s && (strcmp(s, "bind") == 0 || strcmp(s, "rbind") == 0))
				bind = true;
			if (s && strcmp(s, "ro") == 0)
				rw = false;
			if (s && strcmp(s, "noexec") == 0)
				exec = false;
		}
		if (!bind)
			continue; /* proc, tmpfs, sysfs...: the view's own */
		import_bind(r, json_string_value(json_object_get(m, "source")),
			    json_string_value(json_object_get(m, "destination")), rw, exec,
			    "config.json");
	}
	if (json_array_size(json_object_get(linux_, "devices")))
		note(r, "config.json creates device nodes (linux.devices): grant each with "
			"host.devices=/dev/NAME");
	if (!json_is_true(json_object_get(json_object_get(cfg, "root"), "readonly")))
		note(r, "config.json's root is writable: ward's view is read-only; grant what "
			"must be written with fs.write=PATH");
}

/* ---------------------------------------------------------------- Kubernetes */

/* "64Mi", "1G", "500m" (CPU), "2" -> bytes or CPUs as ward writes them. */
static bool kube_quantity(const char *s, bool cpu, char *out, size_t len)
{
	char *end;
	double v = strtod(s, &end);
	static const struct {
		const char *suffix;
		double mul;
	} units[] = {
		{"Ki", 1024.0}, {"Mi", 1048576.0}, {"Gi", 1073741824.0}, {"Ti", 1099511627776.0},
		{"k", 1e3},	{"M", 1e6},	   {"G", 1e9},		 {"T", 1e12},
		{"m", 1e-3},	{"", 1.0},
	};
	size_t i;

	if (end == s || v <= 0)
		return false;
	for (i = 0; i < ARRAY_SIZE(units); i++)
		if (strcmp(end, units[i].suffix) == 0)
			break;
	if (i == ARRAY_SIZE(units))
		return false;
	v *= units[i].mul;
	if (cpu)
		snprintf(out, len, "%.3g", v);
	else
		snprintf(out, len, "%.0f", v);
	return true;
}

static void import_kube_container(struct result *r, json_t *pod_spec, json_t *c)
{
	json_t *sc = json_object_get(c, "securityContext");
	json_t *psc = json_object_get(pod_spec, "securityContext");
	json_t *caps = json_object_get(sc, "capabilities"), *add = json_object_get(caps, "add");
	json_t *drop_ = json_object_get(caps, "drop"), *lim, *vm, *v;
	json_t *seccomp = json_object_get(sc, "seccompProfile");
	const char *stype;
	bool drops_all = false;
	size_t i, j;
	char buf[64];

	json_array_foreach(drop_, i, v) drops_all |=
		json_string_value(v) && strcmp(json_string_value(v), "ALL") == 0;
	if (!drops_all) {
		/* The runtime's default set stays: Docker's. */
		json_t *dflt = json_pack("[s]", "CHOWN");

		import_caps(r, dflt, "the container keeps the runtime's default capabilities");
		json_decref(dflt);
	}
	import_caps(r, add, "securityContext.capabilities.add");
	if (json_is_true(json_object_get(sc, "privileged"))) {
		note(r, "privileged: true has no ward equivalent (every device, every "
			"capability, no seccomp); the nearest is security.admin");
		grant(r, "security.admin", NULL, "privileged: true [dangerous]");
	}
	if (json_is_true(json_object_get(sc, "allowPrivilegeEscalation")))
		grant(r, "process.setuid", NULL, "allowPrivilegeEscalation: true [dangerous]");
	if (json_is_false(json_object_get(sc, "readOnlyRootFilesystem")) ||
	    json_object_get(sc, "readOnlyRootFilesystem") == NULL)
		note(r, "the root filesystem is writable: ward's view is read-only; grant what "
			"must be written with fs.write=PATH");
	if (seccomp == NULL)
		seccomp = json_object_get(psc, "seccompProfile");
	stype = json_string_value(json_object_get(seccomp, "type"));
	if (stype && strcmp(stype, "Localhost") == 0)
		note(r,
		     "seccompProfile Localhost %s: import that file with `ward import --from "
		     "docker-seccomp`",
		     json_string_value(json_object_get(seccomp, "localhostProfile"))
			     ? "(a file on the node)"
			     : "");
	else if (stype && strcmp(stype, "Unconfined") == 0)
		note(r, "seccompProfile Unconfined: ward always filters syscalls");
	lim = json_object_get(json_object_get(c, "resources"), "limits");
	if (json_string_value(json_object_get(lim, "memory")) &&
	    kube_quantity(json_string_value(json_object_get(lim, "memory")), false, buf,
			  sizeof(buf)))
		grant(r, "memory.limit", buf, "resources.limits.memory");
	if (json_string_value(json_object_get(lim, "cpu")) &&
	    kube_quantity(json_string_value(json_object_get(lim, "cpu")), true, buf, sizeof(buf)))
		grant(r, "cpu.limit", buf, "resources.limits.cpu");
	if (json_is_true(json_object_get(pod_spec, "hostNetwork")))
		grant(r, "network.host", NULL, "hostNetwork: true [dangerous]");
	if (json_is_true(json_object_get(pod_spec, "hostPID")))
		note(r, "hostPID: true: process.host is not available in this version of ward");
	if (json_is_true(json_object_get(pod_spec, "hostIPC")))
		note(r, "hostIPC: true has no ward equivalent");
	json_array_foreach(json_object_get(c, "volumeMounts"), i, vm)
	{
		const char *name = json_string_value(json_object_get(vm, "name"));
		const char *path = json_string_value(json_object_get(vm, "mountPath"));
		json_t *vol;

		json_array_foreach(json_object_get(pod_spec, "volumes"), j, vol)
		{
			const char *vn = json_string_value(json_object_get(vol, "name"));
			json_t *hp = json_object_get(vol, "hostPath");

			if (!vn || !name || strcmp(vn, name) != 0)
				continue;
			if (hp)
				import_bind(r, json_string_value(json_object_get(hp, "path")), path,
					    !json_is_true(json_object_get(vm, "readOnly")), false,
					    "a hostPath volume");
			else if (json_object_get(vol, "emptyDir") == NULL) {
				cleanup_free char *e = ward_escape(vn, 64);

				note(r,
				     "volume %s is neither hostPath nor emptyDir: no ward "
				     "equivalent",
				     e);
			}
		}
	}
}

static void import_kube(struct result *r, json_t *doc)
{
	const char *kind = json_string_value(json_object_get(doc, "kind"));
	json_t *spec = json_object_get(doc, "spec"), *cs;

	if (kind && strcmp(kind, "Pod") != 0) {
		json_t *tmpl = json_object_get(json_object_get(spec, "template"), "spec");

		if (tmpl)
			spec = tmpl; /* Deployment, Job, ...: the pod template */
	}
	cs = json_object_get(spec, "containers");
	if (spec && json_array_size(cs)) {
		if (json_array_size(cs) > 1)
			note(r, "the Pod has %zu containers: this manifest is the first one's",
			     json_array_size(cs));
		import_kube_container(r, spec, json_array_get(cs, 0));
		return;
	}
	/* A bare securityContext (or a container). */
	if (json_object_get(doc, "securityContext")) {
		import_kube_container(r, NULL, doc);
		return;
	}
	{
		json_t *c = json_pack("{s:O}", "securityContext", doc);

		import_kube_container(r, NULL, c);
		json_decref(c);
	}
}

#ifdef WARD_WITH_YAML
/* ---------------------------------------------------------------- YAML -> JSON */

static json_t *yaml_node_json(yaml_document_t *d, yaml_node_t *n, int depth)
{
	json_t *j;

	if (n == NULL || depth > 64)
		return json_null();
	switch (n->type) {
	case YAML_SCALAR_NODE: {
		const char *v = (const char *)n->data.scalar.value;
		char *end;
		long long i;

		if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
			if (strcmp(v, "true") == 0)
				return json_true();
			if (strcmp(v, "false") == 0)
				return json_false();
			if (strcmp(v, "null") == 0 || strcmp(v, "~") == 0 || *v == '\0')
				return json_null();
			errno = 0;
			i = strtoll(v, &end, 10);
			if (*end == '\0' && errno == 0)
				return json_integer(i);
		}
		return json_stringn(v, n->data.scalar.length);
	}
	case YAML_SEQUENCE_NODE: {
		yaml_node_item_t *it;

		j = json_array();
		for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++)
			json_array_append_new(
				j, yaml_node_json(d, yaml_document_get_node(d, *it), depth + 1));
		return j;
	}
	case YAML_MAPPING_NODE: {
		yaml_node_pair_t *pr;

		j = json_object();
		for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
			yaml_node_t *k = yaml_document_get_node(d, pr->key);

			if (k && k->type == YAML_SCALAR_NODE)
				json_object_set_new(
					j, (const char *)k->data.scalar.value,
					yaml_node_json(d, yaml_document_get_node(d, pr->value),
						       depth + 1));
		}
		return j;
	}
	default:
		return json_null();
	}
}

static json_t *parse_yaml(const char *text, size_t len, const char *file, ward_error_t *err)
{
	yaml_parser_t p;
	yaml_document_t d;
	json_t *j = NULL;

	if (!yaml_parser_initialize(&p)) {
		ward_error_set(err, ENOMEM, "%s: cannot start the YAML parser", file);
		return NULL;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	if (!yaml_parser_load(&p, &d)) {
		ward_error_set(err, EINVAL, "%s:%zu: %s", file, p.problem_mark.line + 1,
			       p.problem ? p.problem : "not YAML");
		yaml_parser_delete(&p);
		return NULL;
	}
	j = yaml_node_json(&d, yaml_document_get_root_node(&d), 0);
	yaml_document_delete(&d);
	yaml_parser_delete(&p);
	return j;
}
#endif

/* ---------------------------------------------------------------- entry */

int ward_import(enum ward_import_format f, const char *text, size_t len, const char *file,
		FILE *out, size_t *unmapped, ward_error_t *err)
{
	struct result r = {0};
	json_error_t je;
	json_t *doc = json_loadb(text, len, 0, &je);
	cleanup_free char *efile = ward_escape(file, 200);
	struct ward_policy check = {0};
	size_t i;

	if (doc == NULL && f == WARD_IMPORT_KUBERNETES) {
#ifdef WARD_WITH_YAML
		doc = parse_yaml(text, len, efile, err);
		if (doc == NULL)
			return -1;
#else
		return ward_error_set(err, EINVAL,
				      "%s:%d: not JSON (%s); this ward was built "
				      "without YAML: convert it with `kubectl ... -o "
				      "json`",
				      efile, je.line, je.text);
#endif
	}
	if (doc == NULL)
		return ward_error_set(err, EINVAL, "%s:%d:%d: not JSON: %s", efile, je.line,
				      je.column, je.text);
	if (!json_is_object(doc)) {
		json_decref(doc);
		return ward_error_set(err, EINVAL, "%s: expected an object at the top", efile);
	}
	switch (f) {
	case WARD_IMPORT_DOCKER_SECCOMP:
		import_seccomp(&r, doc, "the profile");
		break;
	case WARD_IMPORT_OCI:
		import_oci(&r, doc);
		break;
	case WARD_IMPORT_KUBERNETES:
		import_kube(&r, doc);
		break;
	default:
		json_decref(doc);
		return ward_error_set(err, EINVAL, "ward import: unknown format");
	}
	json_decref(doc);
	/* What is written must resolve: conflicts (two security levels, a
	 * network choice and network.host) are the importer's to settle. */
	if (ward_resolve(&r.reqs, NULL, &check, err) < 0) {
		ward_error_wrap(err, "ward import: the nearest manifest does not resolve");
		result_free(&r);
		return -1;
	}
	ward_policy_free(&check);
	fprintf(out, "# Imported by `ward import` from %s\n", efile);
	fprintf(out, "# The nearest entitlements; review before use.\n");
	for (i = 0; i < r.n_lines; i++) {
		/* A line dropped for a higher level is not written. */
		char name[64];
		size_t k;
		bool live = false;

		snprintf(name, sizeof(name), "%.*s", (int)strcspn(r.lines[i], "= "), r.lines[i]);
		for (k = 0; k < r.reqs.n && !live; k++)
			live = strcmp(r.reqs.items[k].name, name) == 0;
		if (live)
			fprintf(out, "%s\n", r.lines[i]);
	}
	for (i = 0; i < r.n_unmapped; i++) {
		cleanup_free char *e = ward_escape(r.unmapped[i], 400);

		fprintf(out, "# NOT MAPPED: %s\n", e);
	}
	*unmapped = r.n_unmapped;
	result_free(&r);
	return ferror(out) ? ward_error_set(err, EIO, "ward import: cannot write the manifest") : 0;
}
