/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ward export: one resolved policy, four formats (export.h).  Everything a
 * format says comes from the policy and from ward_seccomp_rules(); what a
 * format cannot say is listed by ward_export_weaker(), in the export itself
 * where the format has comments (YAML, systemd) and on stderr for JSON.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../caps.h"
#include "../entitlements.h"
#include "../mount.h"
#include "../seccomp/notify.h"
#include "../seccomp/seccomp.h"
#include "../util.h"
#include "export.h"
#include "internal.h"

static const char *const format_names[] = {
	[WARD_EXPORT_DOCKER_SECCOMP] = "docker-seccomp",
	[WARD_EXPORT_OCI] = "oci",
	[WARD_EXPORT_KUBERNETES] = "kubernetes",
	[WARD_EXPORT_SYSTEMD] = "systemd",
};

int ward_export_format_parse(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(format_names); i++)
		if (strcmp(name, format_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *ward_export_format_name(enum ward_export_format f)
{
	return (size_t)f < ARRAY_SIZE(format_names) ? format_names[f] : "?";
}

static bool has(const struct ward_policy *p, const char *name)
{
	return ward_policy_find(p, name) != NULL;
}

/* ---------------------------------------------------------------- weaker */

size_t ward_export_weaker(const struct ward_policy *p, enum ward_export_format f, const char **out,
			  size_t max)
{
	size_t n = 0;
	bool seccomp_only = f == WARD_EXPORT_DOCKER_SECCOMP;

#define W(text)                          \
	do {                             \
		if (n < max)             \
			out[n] = (text); \
		n++;                     \
	} while (0)

	if (f == WARD_EXPORT_SYSTEMD) {
		W("systemd's SystemCallFilter= cannot filter arguments: clone/unshare flags "
		  "(RestrictNamespaces= instead), socket families (RestrictAddressFamilies= "
		  "instead), set-id modes (RestrictSUIDSGID= instead) and personality "
		  "(LockPersonality=) are covered by other directives; ioctl requests "
		  "(TIOCSTI, TIOCLINUX), memfd_create(MFD_EXEC), the 20/24-byte xattr rule and "
		  "NETLINK_KOBJECT_UEVENT are not filtered");
		W("every syscall outside the allow-list gets ENOSYS (SystemCallErrorNumber=): "
		  "ward answers the ones it knows and denies with EPERM");
	}
	if (f == WARD_EXPORT_KUBERNETES)
		W("the seccomp profile is a file on each node (localhostProfile): export it with "
		  "--format docker-seccomp into the kubelet's seccomp directory");
	W("no Landlock: the LSM layer (execute only beneath the system directories and fs.exec "
	  "grants, no device nodes, TCP ports, scoping of signals and abstract Unix sockets) "
	  "has no counterpart in this format");
	W("no explanation of refusals (ward's denial lines and --denials-log)");
	if (seccomp_only) {
		W("only the syscall layer: capabilities, namespaces, mounts, cgroups, rlimits and "
		  "no_new_privs come from the engine's own options (--format oci or kubernetes "
		  "says them)");
		return n;
	}
	if (f != WARD_EXPORT_SYSTEMD)
		W("no user namespace on an unprivileged host uid range of its own: add one in the "
		  "engine (podman --userns=auto, Kubernetes hostUsers: false)");
	if (!p->scratch_exec)
		W("fs.scratch.noexec: vm.memfd_noexec=2 cannot be set per container; memfds stay "
		  "executable unless the host sets it (the MFD_EXEC rule still holds where the "
		  "format filters arguments)");
	if (p->n_net_rules)
		W("network.connect/listen: the nftables rules on addresses and ports have no "
		  "counterpart; only the socket families hold");
	if (p->net == WARD_NET_OUTBOUND)
		W("network.outbound: the host guard (no service of the host itself, no other "
		  "sandbox, no 169.254.0.0/16) is the engine's network's job");
	if (p->n_broker)
		W("ipc.*, service.*, api.open: the broker has no counterpart");
	if (f == WARD_EXPORT_KUBERNETES) {
		W("process.limit: a Pod cannot set pids.max (the kubelet's --pod-max-pids does, "
		  "per node)");
		W("files.limit (RLIMIT_NOFILE) and RLIMIT_NPROC: no Pod field");
		W("/proc and /sys masks: the runtime's defaults (procMount: Default), not ward's "
		  "list");
	}
	if (f == WARD_EXPORT_SYSTEMD) {
		W("the view: ProtectSystem=strict and ProtectHome=tmpfs make the host read-only "
		  "and "
		  "hide homes, but the rest of the host (/srv, /opt, /var, /run) stays visible, "
		  "read-only; ward shows nothing but the system directories and the grants");
		if (p->n_net_rules)
			W("network.connect: IPAddressAllow= names addresses, not ports");
	}
	if (f == WARD_EXPORT_OCI)
		W("the time namespace is not in the runtime spec this fragment targets (1.0.2)");
#undef W
	return n;
}

static void weaker_lines(const struct ward_policy *p, enum ward_export_format f, FILE *out,
			 const char *prefix)
{
	const char *w[32];
	size_t i, n = ward_export_weaker(p, f, w, ARRAY_SIZE(w));

	fprintf(out, "%sWeaker than under ward (what this format cannot express):\n", prefix);
	for (i = 0; i < n && i < ARRAY_SIZE(w); i++)
		fprintf(out, "%s- %s\n", prefix, w[i]);
}

/* ---------------------------------------------------------------- helpers */

static json_t *cap_list(uint64_t caps)
{
	json_t *a = json_array();
	int c;

	for (c = 0; c < 64; c++)
		if ((caps >> c) & 1 && ward_cap_name(c))
			json_array_append_new(a, json_string(ward_cap_name(c)));
	return a;
}

static const char *access_word(unsigned access)
{
	return (access & WARD_FS_WRITE)	 ? "fs.write"
	       : (access & WARD_FS_EXEC) ? "fs.exec"
					 : "fs.read";
}

static int dump_json(json_t *j, FILE *out, ward_error_t *err)
{
	int rc = json_dumpf(j, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	fputc('\n', out);
	json_decref(j);
	if (rc < 0)
		return ward_error_set(err, EIO, "ward export: cannot write the output");
	return 0;
}

/* ---------------------------------------------------------------- OCI */

static json_t *oci_mount(const char *dest, const char *type, const char *src, const char *opts)
{
	json_t *m = json_object(), *o = json_array();
	char *copy = ward_xstrdup(opts), *save = NULL, *tok;

	json_object_set_new(m, "destination", json_string(dest));
	json_object_set_new(m, "type", json_string(type));
	json_object_set_new(m, "source", json_string(src));
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		json_array_append_new(o, json_string(tok));
	json_object_set_new(m, "options", o);
	free(copy);
	return m;
}

/* The value of the org.ward.entitlements annotation (docs/export.md): the
 * policy's grants, without its defaults, as NAME[=VALUE] joined by commas,
 * as ward the OCI runtime reads them (docs/export.md).  Never NULL; free it. */
static char *entitlement_list(const struct ward_policy *p)
{
	char *list = ward_xstrdup("");
	size_t i;

	for (i = 0; i < p->n_grants; i++) {
		const struct ward_grant *g = &p->grants[i];

		if (strcmp(g->origin, "default") == 0)
			continue;
		ward_xappendf(&list, "%s%s%s%s", *list ? "," : "", ward_entitlements[g->def].name,
			      g->value ? "=" : "", g->value ? g->value : "");
	}
	return list;
}

static int export_oci(const struct ward_policy *p, const struct ward_export_options *o, FILE *out,
		      ward_error_t *err)
{
	json_t *root = json_object(), *proc = json_object(), *linux_ = json_object();
	json_t *caps = json_object(), *rl = json_array(), *ns = json_array(), *res = json_object();
	json_t *mounts = json_array(), *args = json_array(), *sc;
	char **masked = ward_view_special_paths(true), **ro = ward_view_special_paths(false);
	static const struct {
		unsigned long flag;
		const char *type;
	} nss[] = {
		{CLONE_NEWPID, "pid"}, {CLONE_NEWNET, "network"}, {CLONE_NEWIPC, "ipc"},
		{CLONE_NEWUTS, "uts"}, {CLONE_NEWNS, "mount"},	  {CLONE_NEWCGROUP, "cgroup"},
	};
	size_t i;
	char opts[128];

	sc = ward_export_seccomp_json(p, false, err);
	if (sc == NULL) {
		json_decref(root);
		json_decref(proc);
		json_decref(linux_);
		json_decref(caps);
		json_decref(rl);
		json_decref(ns);
		json_decref(res);
		json_decref(mounts);
		json_decref(args);
		for (i = 0; masked[i]; i++)
			free(masked[i]);
		for (i = 0; ro[i]; i++)
			free(ro[i]);
		free(masked);
		free(ro);
		return -1;
	}
	json_object_set_new(root, "ociVersion", json_string("1.0.2"));
	if (o->command && o->command[0])
		for (i = 0; o->command[i]; i++)
			json_array_append_new(args, json_string(o->command[i]));
	else
		json_array_append_new(args, json_string("sh"));
	json_object_set_new(proc, "args", args);
	json_object_set_new(proc, "cwd", json_string("/"));
	json_object_set_new(proc, "user", json_pack("{s:i, s:i}", "uid", 0, "gid", 0));
	json_object_set_new(proc, "noNewPrivileges", json_boolean(p->no_new_privs));
	json_object_set_new(caps, "bounding", cap_list(p->caps));
	json_object_set_new(caps, "effective", cap_list(p->caps));
	json_object_set_new(caps, "inheritable", cap_list(p->caps));
	json_object_set_new(caps, "permitted", cap_list(p->caps));
	json_object_set_new(caps, "ambient", cap_list(p->caps));
	json_object_set_new(proc, "capabilities", caps);
	json_array_append_new(rl, json_pack("{s:s, s:I, s:I}", "type", "RLIMIT_NOFILE", "hard",
					    (json_int_t)p->nofile, "soft", (json_int_t)p->nofile));
	json_array_append_new(
		rl, json_pack("{s:s, s:i, s:i}", "type", "RLIMIT_CORE", "hard", 0, "soft", 0));
	json_array_append_new(rl, json_pack("{s:s, s:I, s:I}", "type", "RLIMIT_NPROC", "hard",
					    (json_int_t)p->pids_max + 1, "soft",
					    (json_int_t)p->pids_max + 1));
	json_object_set_new(proc, "rlimits", rl);
	json_object_set_new(root, "process", proc);
	json_object_set_new(root, "root", json_pack("{s:s, s:b}", "path", "rootfs", "readonly", 1));
	json_object_set_new(root, "hostname", json_string("ward"));

	/* The view's own mounts, then the grants (parents first). */
	json_array_append_new(mounts, oci_mount("/proc", "proc", "proc", "nosuid,noexec,nodev"));
	json_array_append_new(mounts, oci_mount("/dev", "tmpfs", "tmpfs",
						"nosuid,noexec,strictatime,mode=755,size=65536k"));
	json_array_append_new(mounts,
			      oci_mount("/dev/pts", "devpts", "devpts",
					"nosuid,noexec,newinstance,ptmxmode=0666,mode=0620"));
	snprintf(opts, sizeof(opts), "nosuid,nodev%s,mode=1777,size=%llu",
		 p->scratch_exec ? "" : ",noexec", (unsigned long long)p->memory_max);
	json_array_append_new(mounts, oci_mount("/dev/shm", "tmpfs", "shm", opts));
	json_array_append_new(mounts,
			      oci_mount("/sys", "sysfs", "sysfs", "nosuid,noexec,nodev,ro"));
	if (!has(p, "host.tmp"))
		json_array_append_new(mounts, oci_mount("/tmp", "tmpfs", "tmpfs", opts));
	for (i = 0; i < p->n_paths; i++) {
		const struct ward_path_grant *g = &p->paths[i];

		snprintf(opts, sizeof(opts), "rbind,nosuid,nodev%s%s",
			 (g->access & WARD_FS_WRITE) ? ",rw" : ",ro",
			 (g->access & WARD_FS_EXEC) ? "" : ",noexec");
		json_array_append_new(mounts, oci_mount(g->path, "bind", g->path, opts));
	}
	for (i = 0; i < p->n_devices; i++)
		json_array_append_new(mounts, oci_mount(p->devices[i].path, "bind",
							p->devices[i].path, "rbind,nosuid"));
	json_object_set_new(root, "mounts", mounts);

	for (i = 0; i < ARRAY_SIZE(nss); i++)
		if (p->namespaces & nss[i].flag)
			json_array_append_new(ns, json_pack("{s:s}", "type", nss[i].type));
	json_object_set_new(linux_, "namespaces", ns);
	json_object_set_new(res, "pids", json_pack("{s:I}", "limit", (json_int_t)p->pids_max));
	json_object_set_new(res, "memory",
			    json_pack("{s:I, s:I}", "limit", (json_int_t)p->memory_max, "swap",
				      (json_int_t)p->memory_max));
	if (p->cpu_quota_us)
		json_object_set_new(res, "cpu",
				    json_pack("{s:I, s:I}", "quota", (json_int_t)p->cpu_quota_us,
					      "period", (json_int_t)p->cpu_period_us));
	json_object_set_new(linux_, "resources", res);
	json_object_set_new(linux_, "seccomp", sc);
	{
		json_t *m = json_array(), *r = json_array();

		for (i = 0; masked[i]; i++) {
			json_array_append_new(m, json_string(masked[i]));
			free(masked[i]);
		}
		for (i = 0; ro[i]; i++) {
			json_array_append_new(r, json_string(ro[i]));
			free(ro[i]);
		}
		json_object_set_new(linux_, "maskedPaths", m);
		json_object_set_new(linux_, "readonlyPaths", r);
	}
	free(masked);
	free(ro);
	json_object_set_new(root, "linux", linux_);
	/* The entitlements themselves, where ward is the runtime. */
	{
		char *list = entitlement_list(p);

		json_object_set_new(root, "annotations",
				    json_pack("{s:s}", "org.ward.entitlements", list));
		free(list);
	}
	return dump_json(root, out, err);
}

/* ---------------------------------------------------------------- Kubernetes */

/* A YAML scalar: quoted always (JSON string syntax is valid YAML). */
static void yq(FILE *out, const char *s)
{
	json_t *t = json_string(s);
	char *e = t ? json_dumps(t, JSON_ENCODE_ANY) : NULL;

	json_decref(t);
	fputs(e ? e : "\"\"", out);
	free(e);
}

static int export_kube(const struct ward_policy *p, const struct ward_export_options *o, FILE *out,
		       ward_error_t *err)
{
	const char *image = o->image ? o->image : "IMAGE";
	const char *profile = o->profile ? o->profile : "ward.json";
	bool root_caps = p->caps != 0;
	size_t i;
	int c;

	fprintf(out, "# Generated by `ward export --format kubernetes`");
	if (o->source)
		fprintf(out, " from %s", o->source);
	fprintf(out,
		"\n# The seccomp profile: `ward export --format docker-seccomp` (same "
		"entitlements)\n# saved as <kubelet root>/seccomp/%s on every node.\n",
		profile);
	weaker_lines(p, WARD_EXPORT_KUBERNETES, out, "# ");
	fprintf(out, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: ward-export\n");
	fprintf(out, "  annotations:\n    org.ward.entitlements: ");
	{
		char *list = entitlement_list(p);

		yq(out, list);
		free(list);
	}
	fprintf(out, "\nspec:\n");
	fprintf(out, "  hostNetwork: %s\n", p->net == WARD_NET_HOST ? "true" : "false");
	fprintf(out, "  hostPID: false\n  hostIPC: false\n  shareProcessNamespace: false\n");
	fprintf(out, "  automountServiceAccountToken: false\n");
	fprintf(out, "  securityContext:\n");
	fprintf(out, "    seccompProfile:\n      type: Localhost\n      localhostProfile: ");
	yq(out, profile);
	fprintf(out, "\n  containers:\n  - name: app\n    image: ");
	yq(out, image);
	fputc('\n', out);
	if (o->command && o->command[0]) {
		fprintf(out, "    command:\n");
		for (i = 0; o->command[i]; i++) {
			fprintf(out, "    - ");
			yq(out, o->command[i]);
			fputc('\n', out);
		}
	}
	fprintf(out, "    securityContext:\n");
	fprintf(out, "      allowPrivilegeEscalation: %s\n", p->no_new_privs ? "false" : "true");
	fprintf(out, "      privileged: false\n");
	fprintf(out, "      readOnlyRootFilesystem: true\n");
	/* No capability is needed: the program need not be root. */
	fprintf(out, "      runAsNonRoot: %s\n", root_caps ? "false" : "true");
	if (!root_caps)
		fprintf(out, "      runAsUser: 65534\n      runAsGroup: 65534\n");
	fprintf(out, "      procMount: Default\n");
	fprintf(out, "      capabilities:\n        drop:\n        - ALL\n");
	if (p->caps) {
		fprintf(out, "        add:\n");
		for (c = 0; c < 64; c++)
			if ((p->caps >> c) & 1 && ward_cap_name(c))
				fprintf(out, "        - %s\n", ward_cap_name(c) + 4);
	}
	fprintf(out, "    resources:\n      limits:\n");
	fprintf(out, "        memory: \"%llu\"\n", (unsigned long long)p->memory_max);
	if (p->cpu_quota_us)
		fprintf(out, "        cpu: \"%llum\"\n",
			(unsigned long long)(p->cpu_quota_us * 1000 / p->cpu_period_us));
	fprintf(out, "    volumeMounts:\n");
	fprintf(out, "    - name: tmp\n      mountPath: /tmp\n");
	fprintf(out, "    - name: shm\n      mountPath: /dev/shm\n");
	for (i = 0; i < p->n_paths; i++) {
		if (strcmp(p->paths[i].path, "/tmp") == 0)
			continue;
		fprintf(out, "    - name: grant-%zu\n      mountPath: ", i);
		yq(out, p->paths[i].path);
		fprintf(out, "\n      readOnly: %s\n",
			(p->paths[i].access & WARD_FS_WRITE) ? "false" : "true");
	}
	fprintf(out, "  volumes:\n");
	if (has(p, "host.tmp"))
		fprintf(out, "  - name: tmp\n    hostPath:\n      path: /tmp\n      type: "
			     "Directory\n");
	else
		fprintf(out, "  - name: tmp\n    emptyDir:\n      sizeLimit: \"%llu\"\n",
			(unsigned long long)p->memory_max);
	fprintf(out,
		"  - name: shm\n    emptyDir:\n      medium: Memory\n      sizeLimit: "
		"\"%llu\"\n",
		(unsigned long long)p->memory_max);
	for (i = 0; i < p->n_paths; i++) {
		if (strcmp(p->paths[i].path, "/tmp") == 0)
			continue;
		fprintf(out, "  - name: grant-%zu\n    # %s\n    hostPath:\n      path: ", i,
			access_word(p->paths[i].access));
		yq(out, p->paths[i].path);
		fputc('\n', out);
	}
	return ferror(out) ? ward_error_set(err, EIO, "ward export: cannot write the output") : 0;
}

/* ---------------------------------------------------------------- systemd */

static int export_systemd(const struct ward_policy *p, const struct ward_export_options *o,
			  FILE *out, ward_error_t *err)
{
	struct ward_sc_rules r = {0};
	size_t i, col;
	int c;
	bool lo = p->net == WARD_NET_LOOPBACK || p->net_lo_open;

	if (ward_seccomp_rules(p, &r, err) < 0)
		return -1;
	fprintf(out, "# Generated by `ward export --format systemd`");
	if (o->source)
		fprintf(out, " from %s", o->source);
	fprintf(out, "\n# The [Service] sandboxing directives of the same entitlements.\n");
	weaker_lines(p, WARD_EXPORT_SYSTEMD, out, "# ");
	fprintf(out, "[Service]\n");
	if (o->command && o->command[0]) {
		fprintf(out, "ExecStart=");
		for (i = 0; o->command[i]; i++)
			fprintf(out, "%s%s", i ? " " : "", o->command[i]);
		fputc('\n', out);
	}
	fprintf(out, "NoNewPrivileges=%s\n", p->no_new_privs ? "yes" : "no");
	fprintf(out, "CapabilityBoundingSet=");
	for (c = 0; c < 64; c++)
		if ((p->caps >> c) & 1 && ward_cap_name(c))
			fprintf(out, "%s ", ward_cap_name(c));
	fputc('\n', out);
	fprintf(out, "AmbientCapabilities=");
	for (c = 0; c < 64; c++)
		if ((p->caps >> c) & 1 && ward_cap_name(c))
			fprintf(out, "%s ", ward_cap_name(c));
	fputc('\n', out);

	/* The allow-list: every syscall some rule allows (its argument rules
	 * become the directives below); the rest gets ENOSYS. */
	fprintf(out, "SystemCallArchitectures=native\n");
	fprintf(out, "SystemCallFilter=");
	col = 17;
	for (i = 0; i < r.n; i++) {
		const struct ward_sc_rule *rule = &r.rules[i];
		size_t j;
		bool dup = false;

		if (rule->action != WARD_SC_ALLOW)
			continue;
		for (j = 0; j < i && !dup; j++)
			dup = r.rules[j].action == WARD_SC_ALLOW &&
			      strcmp(r.rules[j].syscall, rule->syscall) == 0;
		if (dup)
			continue;
		if (col > 90) {
			fprintf(out, "\nSystemCallFilter=");
			col = 17;
		}
		col += (size_t)fprintf(out, "%s ", rule->syscall);
	}
	fprintf(out, "\nSystemCallErrorNumber=ENOSYS\n");
	ward_sc_rules_free(&r);
	fprintf(out, "RestrictAddressFamilies=");
	for (c = 0; c < 64; c++)
		if ((p->socket_families >> c) & 1 && ward_af_name((unsigned long)c))
			fprintf(out, "%s ", ward_af_name((unsigned long)c));
	fputc('\n', out);
	fprintf(out, "RestrictNamespaces=%s\n", p->allow_ns_clone ? "no" : "yes");
	fprintf(out, "RestrictSUIDSGID=yes\n");
	fprintf(out, "LockPersonality=yes\n");
	fprintf(out, "RestrictRealtime=yes\n");
	fprintf(out, "KeyringMode=private\n");
	fprintf(out,
		"ProtectKernelTunables=yes\nProtectKernelModules=yes\nProtectKernelLogs=yes\n");
	fprintf(out, "ProtectControlGroups=yes\nProtectHostname=yes\n");
	fprintf(out, "ProtectClock=%s\n", p->host_time ? "no" : "yes");
	fprintf(out, "ProtectProc=invisible\nPrivateIPC=yes\n");
	fprintf(out, "PrivateDevices=%s\n", p->n_devices ? "no" : "yes");
	for (i = 0; i < p->n_devices; i++)
		fprintf(out, "DeviceAllow=%s rw\n", p->devices[i].path);
	if (p->net != WARD_NET_HOST && !WARD_NET_HAS_VETH(p))
		fprintf(out, "PrivateNetwork=yes\n");
	if (p->n_net_rules) {
		bool any_connect = false;

		for (i = 0; i < p->n_net_rules; i++)
			any_connect |= !p->net_rules[i].listen;
		if (any_connect && p->net != WARD_NET_OUTBOUND) {
			fprintf(out, "IPAddressDeny=any\nIPAddressAllow=%s",
				lo ? "localhost " : "");
			for (i = 0; i < p->n_net_rules; i++)
				if (!p->net_rules[i].listen)
					fprintf(out, "%s ", p->net_rules[i].host);
			fputc('\n', out);
		}
		fprintf(out, "SocketBindDeny=any\n");
		for (i = 0; i < p->n_net_rules; i++)
			if (p->net_rules[i].listen)
				fprintf(out, "SocketBindAllow=%u\n", p->net_rules[i].port);
	}
	fprintf(out, "PrivateTmp=%s\n", has(p, "host.tmp") ? "no" : "yes");
	fprintf(out, "ProtectSystem=strict\nProtectHome=tmpfs\n");
	/* Nothing executes but the system directories, fs.exec grants and,
	 * unless fs.scratch.noexec, the scratch space. */
	fprintf(out, "NoExecPaths=/\nExecPaths=/usr /bin /sbin /lib /lib32 /lib64 /libx32 /etc");
	for (i = 0; i < p->n_paths; i++)
		if (p->paths[i].access & WARD_FS_EXEC)
			fprintf(out, " %s", p->paths[i].path);
	if (p->scratch_exec)
		fprintf(out, " %s/dev/shm", has(p, "host.tmp") ? "" : "/tmp ");
	fputc('\n', out);
	for (i = 0; i < p->n_paths; i++) {
		const struct ward_path_grant *g = &p->paths[i];

		if (strcmp(g->path, "/tmp") == 0)
			continue;
		/* '-': a grant that does not exist is skipped, not fatal. */
		fprintf(out, "%s=-%s\n",
			(g->access & WARD_FS_WRITE) ? "BindPaths" : "BindReadOnlyPaths", g->path);
		if (g->access & WARD_FS_WRITE)
			fprintf(out, "ReadWritePaths=-%s\n", g->path);
	}
	if (has(p, "host.tmp"))
		fprintf(out, "ReadWritePaths=/tmp\n");
	fprintf(out, "TasksMax=%llu\n", (unsigned long long)p->pids_max);
	fprintf(out, "MemoryMax=%llu\nMemorySwapMax=0\n", (unsigned long long)p->memory_max);
	if (p->cpu_quota_us)
		fprintf(out, "CPUQuota=%llu%%\n",
			(unsigned long long)(p->cpu_quota_us * 100 / p->cpu_period_us));
	fprintf(out, "LimitNOFILE=%llu\nLimitCORE=0\nLimitNPROC=%llu\n",
		(unsigned long long)p->nofile, (unsigned long long)p->pids_max + 1);
	fprintf(out, "UMask=0077\n");
	return ferror(out) ? ward_error_set(err, EIO, "ward export: cannot write the output") : 0;
}

/* ---------------------------------------------------------------- entry */

int ward_export(const struct ward_policy *p, enum ward_export_format f,
		const struct ward_export_options *o, FILE *out, ward_error_t *err)
{
	json_t *j;

	switch (f) {
	case WARD_EXPORT_DOCKER_SECCOMP:
		j = ward_export_seccomp_json(p, true, err);
		return j ? dump_json(j, out, err) : -1;
	case WARD_EXPORT_OCI:
		return export_oci(p, o, out, err);
	case WARD_EXPORT_KUBERNETES:
		return export_kube(p, o, out, err);
	case WARD_EXPORT_SYSTEMD:
		return export_systemd(p, o, out, err);
	default:
		return ward_error_set(err, EINVAL, "ward export: unknown format");
	}
}
