// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `spec` (a default config.json, as `runc spec` writes one) and `features`
 * (the runtime-spec features document: what this runtime implements).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../caps.h"
#include "../util.h"
#include "internal.h"

/* Docker's lists, plus the powercap interface.  Also the floor under the
 * entitlements annotation (entitle_fs.c). */
const char *const ward_oci_masked_paths[] = {
	"/proc/acpi",
	"/proc/asound",
	"/proc/kcore",
	"/proc/keys",
	"/proc/latency_stats",
	"/proc/timer_list",
	"/proc/timer_stats",
	"/proc/sched_debug",
	"/sys/firmware",
	"/proc/scsi",
	"/sys/devices/virtual/powercap",
	NULL,
};
const char *const ward_oci_readonly_paths[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

static size_t count(const char *const *v)
{
	size_t n = 0;

	while (v[n])
		n++;
	return n;
}

static json_t *strings(const char *const *v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *mount(const char *dest, const char *type, const char *src, const char *opts)
{
	json_t *o = json_pack("{s:s,s:s,s:s}", "destination", dest, "type", type, "source", src);
	json_t *a = json_array();
	cleanup_free char *copy = ward_xstrdup(opts);
	char *tok, *save = NULL;

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		json_array_append_new(a, json_string(tok));
	json_object_set_new(o, "options", a);
	return o;
}

int ward_oci_spec(const char *bundle, bool rootless, ward_error_t *err)
{
	static const char *const caps[] = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
	cleanup_free char *path = ward_xasprintf("%s/config.json", bundle ? bundle : ".");
	json_t *mounts = json_array(), *ns, *cfg, *capo;
	char *text;
	int fd;

	json_array_append_new(mounts, mount("/proc", "proc", "proc", "nosuid,noexec,nodev"));
	json_array_append_new(
		mounts, mount("/dev", "tmpfs", "tmpfs", "nosuid,strictatime,mode=755,size=65536k"));
	json_array_append_new(mounts, mount("/dev/pts", "devpts", "devpts",
					    "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620"
					    ",gid=5"));
	json_array_append_new(mounts, mount("/dev/shm", "tmpfs", "shm",
					    "nosuid,noexec,nodev,mode=1777,size=65536k"));
	json_array_append_new(mounts,
			      mount("/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev"));
	json_array_append_new(mounts, mount("/sys", "sysfs", "sysfs", "nosuid,noexec,nodev,ro"));
	json_array_append_new(mounts, mount("/sys/fs/cgroup", "cgroup", "cgroup",
					    "nosuid,noexec,nodev,relatime,ro"));
	ns = json_pack("[{s:s},{s:s},{s:s},{s:s},{s:s},{s:s}]", "type", "pid", "type", "network",
		       "type", "ipc", "type", "uts", "type", "mount", "type", "cgroup");
	capo = json_pack("{s:o,s:o,s:o,s:o}", "bounding", strings(caps, 3), "effective",
			 strings(caps, 3), "permitted", strings(caps, 3), "ambient",
			 strings(caps, 3));
	cfg = json_pack(
		"{s:s,s:{s:b,s:{s:i,s:i},s:[s],s:[s,s],s:s,s:o,s:[{s:s,s:i,s:i}],s:b},"
		"s:{s:s,s:b},s:s,s:o,s:{s:{s:[{s:b,s:s}]},s:o,s:o,s:o},s:{s:s}}",
		"ociVersion", WARD_OCI_VERSION, "process", "terminal", 1, "user", "uid", 0, "gid",
		0, "args", "sh", "env",
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
		"/sbin:/bin",
		"TERM=xterm", "cwd", "/", "capabilities", capo, "rlimits", "type", "RLIMIT_NOFILE",
		"hard", 1024, "soft", 1024, "noNewPrivileges", 1, "root", "path", "rootfs",
		"readonly", 1, "hostname", "ward", "mounts", mounts, "linux", "resources",
		"devices", "allow", 0, "access", "rwm", "namespaces", ns, "maskedPaths",
		strings(ward_oci_masked_paths, count(ward_oci_masked_paths)), "readonlyPaths",
		strings(ward_oci_readonly_paths, count(ward_oci_readonly_paths)), "annotations",
		WARD_OCI_ENTITLEMENTS, "");
	if (cfg == NULL)
		return ward_error_set(err, EINVAL, "spec: building the default config failed");
	json_object_del(json_object_get(cfg, "annotations"), WARD_OCI_ENTITLEMENTS);
	if (rootless) {
		json_t *lx = json_object_get(cfg, "linux");

		json_array_append_new(json_object_get(lx, "namespaces"),
				      json_pack("{s:s}", "type", "user"));
		json_object_set_new(lx, "uidMappings",
				    json_pack("[{s:i,s:i,s:i}]", "containerID", 0, "hostID",
					      (int)getuid(), "size", 1));
		json_object_set_new(lx, "gidMappings",
				    json_pack("[{s:i,s:i,s:i}]", "containerID", 0, "hostID",
					      (int)getgid(), "size", 1));
		json_object_del(lx, "resources");
	}
	text = json_dumps(cfg, JSON_INDENT(8) | JSON_PRESERVE_ORDER);
	json_decref(cfg);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		free(text);
		if (errno == EEXIST)
			return ward_error_set(err, EEXIST, "%s already exists; remove it first",
					      path);
		return ward_error_sys(err, "cannot create %s", path);
	}
	if (ward_write_all(fd, text, strlen(text)) < 0 || ward_write_all(fd, "\n", 1) < 0) {
		free(text);
		close(fd);
		return ward_error_sys(err, "cannot write %s", path);
	}
	free(text);
	close(fd);
	return 0;
}

int ward_oci_features(FILE *out, ward_error_t *err)
{
	static const char *const hooks[] = {"prestart",	      "createRuntime", "createContainer",
					    "startContainer", "poststart",     "poststop"};
	static const char *const nss[] = {"cgroup", "ipc",  "mount", "network",
					  "pid",    "time", "user",  "uts"};
	static const char *const actions[] = {
		"SCMP_ACT_ALLOW",	 "SCMP_ACT_ERRNO",	 "SCMP_ACT_KILL",
		"SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
		"SCMP_ACT_NOTIFY",	 "SCMP_ACT_TRACE",	 "SCMP_ACT_TRAP"};
	static const char *const ops[] = {"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
					  "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ",
					  "SCMP_CMP_NE"};
	static const char *const archs[] = {"SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32",
					    "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64"};
	static const char *const flags[] = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
					    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
					    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
	json_t *caps = json_array(), *opts = json_array(), *f;
	int cap, last = ward_cap_last();
	size_t i;

	for (cap = 0; cap <= last; cap++)
		if (ward_cap_name(cap))
			json_array_append_new(caps, json_string(ward_cap_name(cap)));
	for (i = 0; ward_oci_mount_option_names[i]; i++)
		json_array_append_new(opts, json_string(ward_oci_mount_option_names[i]));
	f = json_pack("{s:s,s:s,s:o,s:o,s:{s:o,s:o,s:{s:b,s:b,s:b,s:b,s:b},"
		      "s:{s:b,s:o,s:o,s:o,s:o,s:o},s:{s:b},s:{s:b},s:{s:b},s:{s:{s:b}}},"
		      "s:{s:s,s:s,s:s}}",
		      "ociVersionMin", WARD_OCI_VERSION_MIN, "ociVersionMax", WARD_OCI_VERSION_MAX,
		      "hooks", strings(hooks, ARRAY_SIZE(hooks)), "mountOptions", opts, "linux",
		      "namespaces", strings(nss, ARRAY_SIZE(nss)), "capabilities", caps, "cgroup",
		      "v1", 1, "v2", 1, "systemd", 0, "systemdUser", 0, "rdma", 0, "seccomp",
		      "enabled", 1, "actions", strings(actions, ARRAY_SIZE(actions)), "operators",
		      strings(ops, ARRAY_SIZE(ops)), "archs", strings(archs, ARRAY_SIZE(archs)),
		      "knownFlags", strings(flags, ARRAY_SIZE(flags)), "supportedFlags",
		      strings(flags, ARRAY_SIZE(flags)), "apparmor", "enabled", 0, "selinux",
		      "enabled", 0, "intelRdt", "enabled", 0, "mountExtensions", "idmap", "enabled",
		      0, "annotations", "org.opencontainers.runc.version", WARD_VERSION,
		      "org.ward.entitlements", "supported", "org.ward.libseccomp.version", "2.5");
	if (f == NULL)
		return ward_error_set(err, EINVAL, "features: building the document failed");
	{
		const struct scmp_version *v = seccomp_version();
		char buf[32];

		snprintf(buf, sizeof(buf), "%u.%u.%u", v->major, v->minor, v->micro);
		json_object_set_new(json_object_get(f, "annotations"),
				    "org.ward.libseccomp.version", json_string(buf));
	}
	json_dumpf(f, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', out);
	json_decref(f);
	return 0;
}
