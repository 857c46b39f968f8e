// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * config.json -> struct ward_oci_config.  Pure apart from reading the file.
 *
 * Every field is type-checked; an error names the file and the field path
 * ("config.json: linux.resources.memory.limit: expected an integer").
 * Fields ward does not know are ignored, as the runtime-spec asks
 * ("unknown properties MUST be ignored").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>

#include "../caps.h"
#include "../util.h"
#include "config.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

struct ctx {
	const char *file;
	ward_error_t *err;
};

static int bad(struct ctx *x, const char *field, const char *what)
{
	return ward_error_set(x->err, EINVAL, "%s: %s: %s", x->file, field, what);
}

static json_t *get(json_t *obj, const char *key)
{
	json_t *v = obj ? json_object_get(obj, key) : NULL;

	return json_is_null(v) ? NULL : v;
}

static int get_str(struct ctx *x, json_t *obj, const char *key, const char *field, char **out)
{
	json_t *v = get(obj, key);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!json_is_string(v))
		return bad(x, field, "expected a string");
	*out = ward_xstrdup(json_string_value(v));
	return 0;
}

static int get_bool(struct ctx *x, json_t *obj, const char *key, const char *field, bool *out)
{
	json_t *v = get(obj, key);

	if (v == NULL)
		return 0;
	if (!json_is_boolean(v))
		return bad(x, field, "expected true or false");
	*out = json_is_true(v);
	return 0;
}

/* An integer into *out; *has set when present. */
static int get_int(struct ctx *x, json_t *obj, const char *key, const char *field, int64_t *out,
		   bool *has)
{
	json_t *v = get(obj, key);

	if (has)
		*has = false;
	if (v == NULL)
		return 0;
	if (!json_is_integer(v))
		return bad(x, field, "expected an integer");
	*out = (int64_t)json_integer_value(v);
	if (has)
		*has = true;
	return 0;
}

static int get_uint(struct ctx *x, json_t *obj, const char *key, const char *field, uint64_t *out,
		    bool *has)
{
	int64_t v = 0;
	bool h = false;

	if (get_int(x, obj, key, field, &v, &h) < 0)
		return -1;
	if (has)
		*has = h;
	if (!h)
		return 0;
	if (v < 0)
		return bad(x, field, "expected a non-negative integer");
	*out = (uint64_t)v;
	return 0;
}

/* Array of strings into a NULL-terminated vector. */
static int get_strv(struct ctx *x, json_t *obj, const char *key, const char *field, char ***out,
		    size_t *n_out)
{
	json_t *v = get(obj, key), *e;
	size_t i, n;
	char **vec;

	*out = NULL;
	if (n_out)
		*n_out = 0;
	if (v == NULL)
		return 0;
	if (!json_is_array(v))
		return bad(x, field, "expected an array of strings");
	n = json_array_size(v);
	vec = ward_xcalloc(n + 1, sizeof(*vec));
	json_array_foreach(v, i, e)
	{
		if (!json_is_string(e)) {
			size_t k;

			for (k = 0; k < i; k++)
				free(vec[k]);
			free(vec);
			return bad(x, field, "expected an array of strings");
		}
		vec[i] = ward_xstrdup(json_string_value(e));
	}
	*out = vec;
	if (n_out)
		*n_out = n;
	return 0;
}

static void strv_free(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

/* ---- tables ---- */

static const struct {
	const char *name;
	int type;
} ns_table[] = {
	{"pid", CLONE_NEWPID},	     {"network", CLONE_NEWNET}, {"mount", CLONE_NEWNS},
	{"ipc", CLONE_NEWIPC},	     {"uts", CLONE_NEWUTS},	{"user", CLONE_NEWUSER},
	{"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
};

int ward_oci_ns_type(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ns_table); i++)
		if (strcmp(ns_table[i].name, name) == 0)
			return ns_table[i].type;
	return -1;
}

const char *ward_oci_ns_name(int type)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ns_table); i++)
		if (ns_table[i].type == type)
			return ns_table[i].name;
	return "?";
}

static const struct {
	const char *name;
	int resource;
} rlimit_table[] = {
	{"RLIMIT_CPU", RLIMIT_CPU},	      {"RLIMIT_FSIZE", RLIMIT_FSIZE},
	{"RLIMIT_DATA", RLIMIT_DATA},	      {"RLIMIT_STACK", RLIMIT_STACK},
	{"RLIMIT_CORE", RLIMIT_CORE},	      {"RLIMIT_RSS", RLIMIT_RSS},
	{"RLIMIT_NPROC", RLIMIT_NPROC},	      {"RLIMIT_NOFILE", RLIMIT_NOFILE},
	{"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},   {"RLIMIT_AS", RLIMIT_AS},
	{"RLIMIT_LOCKS", RLIMIT_LOCKS},	      {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
	{"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
	{"RLIMIT_RTPRIO", RLIMIT_RTPRIO},     {"RLIMIT_RTTIME", RLIMIT_RTTIME},
};

int ward_oci_rlimit_from_name(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(rlimit_table); i++)
		if (strcmp(rlimit_table[i].name, name) == 0)
			return rlimit_table[i].resource;
	return -1;
}

const char *ward_oci_rlimit_name(int resource)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(rlimit_table); i++)
		if (rlimit_table[i].resource == resource)
			return rlimit_table[i].name;
	return "?";
}

static const struct {
	const char *name;
	bool clear;
	unsigned long flag;
} mount_flag_table[] = {
	{"ro", false, MS_RDONLY},
	{"rw", true, MS_RDONLY},
	{"nosuid", false, MS_NOSUID},
	{"suid", true, MS_NOSUID},
	{"nodev", false, MS_NODEV},
	{"dev", true, MS_NODEV},
	{"noexec", false, MS_NOEXEC},
	{"exec", true, MS_NOEXEC},
	{"sync", false, MS_SYNCHRONOUS},
	{"async", true, MS_SYNCHRONOUS},
	{"dirsync", false, MS_DIRSYNC},
	{"remount", false, MS_REMOUNT},
	{"mand", false, MS_MANDLOCK},
	{"nomand", true, MS_MANDLOCK},
	{"atime", true, MS_NOATIME},
	{"noatime", false, MS_NOATIME},
	{"diratime", true, MS_NODIRATIME},
	{"nodiratime", false, MS_NODIRATIME},
	{"relatime", false, MS_RELATIME},
	{"norelatime", true, MS_RELATIME},
	{"strictatime", false, MS_STRICTATIME},
	{"nostrictatime", true, MS_STRICTATIME},
	{"silent", false, MS_SILENT},
	{"loud", true, MS_SILENT},
	{"nosymfollow", false, MS_NOSYMFOLLOW},
	{"symfollow", true, MS_NOSYMFOLLOW},
};

/* config.md (1.1): the recursive forms, applied with mount_setattr and
 * AT_RECURSIVE to the mount and every mount beneath it.  An atime entry
 * replaces the whole atime field (MOUNT_ATTR__ATIME). */
static const struct {
	const char *name;
	bool clear;
	uint64_t attr;
} recursive_table[] = {
	{"rro", false, MOUNT_ATTR_RDONLY},
	{"rrw", true, MOUNT_ATTR_RDONLY},
	{"rnosuid", false, MOUNT_ATTR_NOSUID},
	{"rsuid", true, MOUNT_ATTR_NOSUID},
	{"rnodev", false, MOUNT_ATTR_NODEV},
	{"rdev", true, MOUNT_ATTR_NODEV},
	{"rnoexec", false, MOUNT_ATTR_NOEXEC},
	{"rexec", true, MOUNT_ATTR_NOEXEC},
	{"rnodiratime", false, MOUNT_ATTR_NODIRATIME},
	{"rdiratime", true, MOUNT_ATTR_NODIRATIME},
	{"rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW},
	{"rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW},
	{"rnoatime", false, MOUNT_ATTR_NOATIME},
	{"ratime", false, MOUNT_ATTR_RELATIME}, /* "atime": the default, relatime */
	{"rrelatime", false, MOUNT_ATTR_RELATIME},
	{"rnorelatime", false, MOUNT_ATTR_STRICTATIME},
	{"rstrictatime", false, MOUNT_ATTR_STRICTATIME},
	{"rnostrictatime", false, MOUNT_ATTR_RELATIME},
};

static const struct {
	const char *name;
	unsigned long flag;
} propagation_table[] = {
	{"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
	{"shared", MS_SHARED},	       {"rshared", MS_SHARED | MS_REC},
	{"slave", MS_SLAVE},	       {"rslave", MS_SLAVE | MS_REC},
	{"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

const char *const ward_oci_mount_option_names[] = {
	"async",       "atime",	       "bind",	      "dev",
	"diratime",    "dirsync",      "exec",	      "loud",
	"mand",	       "noatime",      "nodev",	      "nodiratime",
	"noexec",      "nomand",       "norelatime",  "nostrictatime",
	"nosuid",      "nosymfollow",  "private",     "ratime",
	"rbind",       "rdev",	       "rdiratime",   "relatime",
	"remount",     "rexec",	       "rnoatime",    "rnodev",
	"rnodiratime", "rnoexec",      "rnorelatime", "rnostrictatime",
	"rnosuid",     "rnosymfollow", "ro",	      "rprivate",
	"rrelatime",   "rro",	       "rrw",	      "rshared",
	"rslave",      "rstrictatime", "rsuid",	      "rsymfollow",
	"runbindable", "rw",	       "shared",      "silent",
	"slave",       "strictatime",  "suid",	      "symfollow",
	"sync",	       "tmpcopyup",    "unbindable",  NULL,
};

void ward_oci_mount_flags_parse(const struct ward_oci_mount *m, struct ward_oci_mount_flags *f)
{
	size_t i, k;
	size_t dlen = 0;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < m->n_options; i++) {
		const char *o = m->options[i];
		bool known = false;

		for (k = 0; k < ARRAY_SIZE(mount_flag_table) && !known; k++) {
			if (strcmp(o, mount_flag_table[k].name) != 0)
				continue;
			known = true;
			if (mount_flag_table[k].clear) {
				f->clear |= mount_flag_table[k].flag;
				f->set &= ~mount_flag_table[k].flag;
			} else {
				f->set |= mount_flag_table[k].flag;
				f->clear &= ~mount_flag_table[k].flag;
			}
		}
		for (k = 0; k < ARRAY_SIZE(recursive_table) && !known; k++) {
			uint64_t a = recursive_table[k].attr;

			if (strcmp(o, recursive_table[k].name) != 0)
				continue;
			known = true;
			if (a == MOUNT_ATTR_NOATIME || a == MOUNT_ATTR_RELATIME ||
			    a == MOUNT_ATTR_STRICTATIME) {
				f->rset = (f->rset & ~MOUNT_ATTR__ATIME) | a;
				f->rclear |= MOUNT_ATTR__ATIME;
			} else if (recursive_table[k].clear) {
				f->rclear |= a;
				f->rset &= ~a;
			} else {
				f->rset |= a;
				f->rclear &= ~a;
			}
		}
		for (k = 0; k < ARRAY_SIZE(propagation_table) && !known; k++) {
			if (strcmp(o, propagation_table[k].name) == 0) {
				known = true;
				f->propagation = propagation_table[k].flag;
			}
		}
		if (known)
			continue;
		if (strcmp(o, "bind") == 0) {
			f->bind = true;
			continue;
		}
		if (strcmp(o, "rbind") == 0) {
			f->bind = f->rbind = true;
			continue;
		}
		if (strcmp(o, "idmap") == 0 || strcmp(o, "ridmap") == 0) {
			f->idmap = true;
			continue;
		}
		/* crun's tmpcopyup and the X- userspace options are not for the kernel. */
		if (strcmp(o, "tmpcopyup") == 0 || strncmp(o, "X-", 2) == 0 ||
		    strncmp(o, "x-", 2) == 0 || strcmp(o, "defaults") == 0)
			continue;
		/* Everything else is filesystem data (mode=755, size=64k, ...). */
		{
			size_t ol = strlen(o);

			f->data = ward_xrealloc(f->data, dlen + ol + 2);
			if (dlen)
				f->data[dlen++] = ',';
			memcpy(f->data + dlen, o, ol + 1);
			dlen += ol;
		}
	}
	/* A mount whose type is "bind" is a bind mount whatever its options say. */
	if (m->type && strcmp(m->type, "bind") == 0)
		f->bind = true;
}

void ward_oci_mount_flags_free(struct ward_oci_mount_flags *f)
{
	free(f->data);
	f->data = NULL;
}

bool ward_oci_version_ok(const char *v)
{
	unsigned major = 0, minor = 0;

	if (v == NULL || sscanf(v, "%u.%u", &major, &minor) != 2)
		return false;
	return major == 1 && minor <= 2;
}

/* ---- process ---- */

static int parse_caps(struct ctx *x, json_t *obj, struct ward_oci_caps *caps)
{
	static const char *const sets[] = {"bounding", "effective", "inheritable", "permitted",
					   "ambient"};
	uint64_t *dst[] = {&caps->bounding, &caps->effective, &caps->inheritable, &caps->permitted,
			   &caps->ambient};
	int last = ward_cap_last();
	size_t s;

	memset(caps, 0, sizeof(*caps));
	if (obj == NULL)
		return 0;
	if (!json_is_object(obj))
		return bad(x, "process.capabilities", "expected an object");
	for (s = 0; s < ARRAY_SIZE(sets); s++) {
		json_t *arr = get(obj, sets[s]), *e;
		char field[64];
		size_t i;

		snprintf(field, sizeof(field), "process.capabilities.%s", sets[s]);
		if (arr == NULL)
			continue;
		if (!json_is_array(arr))
			return bad(x, field, "expected an array of capability names");
		json_array_foreach(arr, i, e)
		{
			int cap;

			if (!json_is_string(e))
				return bad(x, field, "expected an array of capability names");
			cap = ward_cap_from_name(json_string_value(e));
			/* A name that is no capability: config-linux.md, "Any
			 * value which cannot be mapped to a relevant kernel
			 * interface MUST cause an error".  A capability this
			 * kernel does not have yet is skipped, as runc and crun
			 * do, so that a config written for a newer kernel still
			 * runs; it could not be granted anyway. */
			if (cap < 0)
				return ward_error_set(x->err, EINVAL,
						      "%s: %s: unknown capability \"%s\"", x->file,
						      field, json_string_value(e));
			if (cap > last || cap > 63)
				continue;
			*dst[s] |= UINT64_C(1) << cap;
		}
	}
	return 0;
}

int ward_oci_process_parse(json_t *j, const char *name, struct ward_oci_process *p,
			   ward_error_t *err)
{
	struct ctx x = {name, err};
	json_t *user, *rl, *e, *cs;
	int64_t v;
	bool has;
	size_t i;

	memset(p, 0, sizeof(*p));
	if (!json_is_object(j))
		return bad(&x, "process", "expected an object");
	{
		static const char *const unsupported[] = {"scheduler", "ioPriority",
							  "execCPUAffinity"};

		for (i = 0; i < ARRAY_SIZE(unsupported); i++)
			if (get(j, unsupported[i]))
				return ward_error_set(
					err, EOPNOTSUPP,
					"%s: process.%s is not supported by ward "
					"(remove it, or use a runtime that applies it)",
					name, unsupported[i]);
	}
	if (get_bool(&x, j, "terminal", "process.terminal", &p->terminal) < 0)
		return -1;
	cs = get(j, "consoleSize");
	if (cs) {
		uint64_t h = 0, w = 0;

		if (get_uint(&x, cs, "height", "process.consoleSize.height", &h, NULL) < 0 ||
		    get_uint(&x, cs, "width", "process.consoleSize.width", &w, NULL) < 0)
			return -1;
		p->console_height = (unsigned)h;
		p->console_width = (unsigned)w;
	}
	user = get(j, "user");
	if (user) {
		if (!json_is_object(user))
			return bad(&x, "process.user", "expected an object");
		if (get_int(&x, user, "uid", "process.user.uid", &v, &has) < 0)
			return -1;
		if (has && (v < 0 || v > UINT32_MAX - 1))
			return bad(&x, "process.user.uid", "out of range");
		p->uid = has ? (uid_t)v : 0;
		if (get_int(&x, user, "gid", "process.user.gid", &v, &has) < 0)
			return -1;
		if (has && (v < 0 || v > UINT32_MAX - 1))
			return bad(&x, "process.user.gid", "out of range");
		p->gid = has ? (gid_t)v : 0;
		if (get_int(&x, user, "umask", "process.user.umask", &v, &p->has_umask) < 0)
			return -1;
		p->umask = (mode_t)(v & 0777);
		e = get(user, "additionalGids");
		if (e) {
			json_t *g;

			if (!json_is_array(e))
				return bad(&x, "process.user.additionalGids",
					   "expected an array of integers");
			p->n_additional_gids = json_array_size(e);
			p->additional_gids = ward_xcalloc(p->n_additional_gids + 1, sizeof(gid_t));
			json_array_foreach(e, i, g)
			{
				if (!json_is_integer(g) || json_integer_value(g) < 0)
					return bad(&x, "process.user.additionalGids",
						   "expected an array of non-negative integers");
				p->additional_gids[i] = (gid_t)json_integer_value(g);
			}
		}
	}
	if (get_strv(&x, j, "args", "process.args", &p->args, NULL) < 0 ||
	    get_strv(&x, j, "env", "process.env", &p->env, NULL) < 0 ||
	    get_str(&x, j, "cwd", "process.cwd", &p->cwd) < 0)
		return -1;
	if (p->args == NULL || p->args[0] == NULL)
		return bad(&x, "process.args", "at least one argument (the program) is required");
	if (p->cwd == NULL)
		p->cwd = ward_xstrdup("/");
	if (p->cwd[0] != '/')
		return bad(&x, "process.cwd", "must be an absolute path");
	if (p->env == NULL)
		p->env = ward_xcalloc(1, sizeof(char *));
	if (parse_caps(&x, get(j, "capabilities"), &p->caps) < 0)
		return -1;
	rl = get(j, "rlimits");
	if (rl) {
		if (!json_is_array(rl))
			return bad(&x, "process.rlimits", "expected an array");
		p->n_rlimits = json_array_size(rl);
		p->rlimits = ward_xcalloc(p->n_rlimits + 1, sizeof(*p->rlimits));
		json_array_foreach(rl, i, e)
		{
			json_t *t = get(e, "type");
			char field[64];
			uint64_t soft = 0, hard = 0;

			snprintf(field, sizeof(field), "process.rlimits[%zu]", i);
			if (!json_is_object(e) || !json_is_string(t))
				return bad(&x, field, "expected {\"type\", \"soft\", \"hard\"}");
			p->rlimits[i].resource = ward_oci_rlimit_from_name(json_string_value(t));
			if (p->rlimits[i].resource < 0)
				return ward_error_set(err, EINVAL,
						      "%s: %s.type: unknown rlimit \"%s\"", name,
						      field, json_string_value(t));
			if (get_uint(&x, e, "soft", field, &soft, NULL) < 0 ||
			    get_uint(&x, e, "hard", field, &hard, NULL) < 0)
				return -1;
			p->rlimits[i].soft = soft;
			p->rlimits[i].hard = hard;
		}
	}
	if (get_bool(&x, j, "noNewPrivileges", "process.noNewPrivileges", &p->no_new_privileges) <
	    0)
		return -1;
	if (get_int(&x, j, "oomScoreAdj", "process.oomScoreAdj", &v, &p->has_oom_score_adj) < 0)
		return -1;
	if (p->has_oom_score_adj) {
		if (v < -1000 || v > 1000)
			return bad(&x, "process.oomScoreAdj", "must be between -1000 and 1000");
		p->oom_score_adj = (int)v;
	}
	if (get_str(&x, j, "apparmorProfile", "process.apparmorProfile", &p->apparmor_profile) <
		    0 ||
	    get_str(&x, j, "selinuxLabel", "process.selinuxLabel", &p->selinux_label) < 0)
		return -1;
	return 0;
}

void ward_oci_process_free(struct ward_oci_process *p)
{
	strv_free(p->args);
	strv_free(p->env);
	free(p->cwd);
	free(p->additional_gids);
	free(p->rlimits);
	free(p->apparmor_profile);
	free(p->selinux_label);
	memset(p, 0, sizeof(*p));
}

/* ---- linux ---- */

static int parse_idmaps(struct ctx *x, json_t *arr, const char *field, struct ward_oci_idmap **out,
			size_t *n_out)
{
	json_t *e;
	size_t i;

	if (arr == NULL)
		return 0;
	if (!json_is_array(arr))
		return bad(x, field, "expected an array");
	*n_out = json_array_size(arr);
	*out = ward_xcalloc(*n_out + 1, sizeof(**out));
	json_array_foreach(arr, i, e)
	{
		uint64_t c = 0, h = 0, s = 0;

		if (get_uint(x, e, "containerID", field, &c, NULL) < 0 ||
		    get_uint(x, e, "hostID", field, &h, NULL) < 0 ||
		    get_uint(x, e, "size", field, &s, NULL) < 0)
			return -1;
		if (c > UINT32_MAX || h > UINT32_MAX || s > UINT32_MAX || s == 0)
			return bad(x, field,
				   "containerID, hostID and size must be 32-bit, size > 0");
		(*out)[i].container_id = (uint32_t)c;
		(*out)[i].host_id = (uint32_t)h;
		(*out)[i].size = (uint32_t)s;
	}
	return 0;
}

static int parse_devtype(struct ctx *x, json_t *obj, const char *field, bool rule, char *out)
{
	json_t *t = get(obj, "type");
	const char *s;

	if (t == NULL) {
		if (!rule)
			return bad(x, field, "\"type\" is required");
		*out = 'a';
		return 0;
	}
	if (!json_is_string(t))
		return bad(x, field, "type: expected a string");
	s = json_string_value(t);
	if (strlen(s) != 1 || strchr(rule ? "acb" : "cbup", s[0]) == NULL)
		return bad(x, field,
			   rule ? "type must be \"a\", \"c\" or \"b\""
				: "type must be \"c\", \"b\", \"u\" or \"p\"");
	*out = s[0];
	return 0;
}

static int parse_devices(struct ctx *x, json_t *arr, struct ward_oci_config *c)
{
	json_t *e;
	size_t i;

	if (arr == NULL)
		return 0;
	if (!json_is_array(arr))
		return bad(x, "linux.devices", "expected an array");
	c->n_devices = json_array_size(arr);
	c->devices = ward_xcalloc(c->n_devices + 1, sizeof(*c->devices));
	json_array_foreach(arr, i, e)
	{
		struct ward_oci_device *d = &c->devices[i];
		char field[64];
		int64_t v;
		bool has;

		snprintf(field, sizeof(field), "linux.devices[%zu]", i);
		if (!json_is_object(e))
			return bad(x, field, "expected an object");
		if (get_str(x, e, "path", field, &d->path) < 0)
			return -1;
		if (d->path == NULL || d->path[0] != '/')
			return bad(x, field, "\"path\" must be an absolute path");
		if (parse_devtype(x, e, field, false, &d->type) < 0)
			return -1;
		if (get_int(x, e, "major", field, &d->major, NULL) < 0 ||
		    get_int(x, e, "minor", field, &d->minor, NULL) < 0)
			return -1;
		if (get_int(x, e, "fileMode", field, &v, &has) < 0)
			return -1;
		d->mode = has ? (uint32_t)v & 07777 : 0666;
		if (get_int(x, e, "uid", field, &v, &has) < 0)
			return -1;
		d->uid = has ? (uid_t)v : 0;
		if (get_int(x, e, "gid", field, &v, &has) < 0)
			return -1;
		d->gid = has ? (gid_t)v : 0;
	}
	return 0;
}

static int parse_devrules(struct ctx *x, json_t *arr, struct ward_oci_resources *r)
{
	json_t *e;
	size_t i;

	if (arr == NULL)
		return 0;
	if (!json_is_array(arr))
		return bad(x, "linux.resources.devices", "expected an array");
	r->n_devices = json_array_size(arr);
	r->devices = ward_xcalloc(r->n_devices + 1, sizeof(*r->devices));
	json_array_foreach(arr, i, e)
	{
		struct ward_oci_devrule *d = &r->devices[i];
		char field[64];
		json_t *a;
		bool has;

		snprintf(field, sizeof(field), "linux.resources.devices[%zu]", i);
		if (!json_is_object(e))
			return bad(x, field, "expected an object");
		if (!json_is_boolean(get(e, "allow")))
			return bad(x, field, "\"allow\" (true or false) is required");
		d->allow = json_is_true(get(e, "allow"));
		if (parse_devtype(x, e, field, true, &d->type) < 0)
			return -1;
		d->major = d->minor = -1;
		if (get_int(x, e, "major", field, &d->major, &has) < 0)
			return -1;
		if (!has)
			d->major = -1;
		if (get_int(x, e, "minor", field, &d->minor, &has) < 0)
			return -1;
		if (!has)
			d->minor = -1;
		a = get(e, "access");
		if (a == NULL) {
			strcpy(d->access, "rwm");
		} else {
			const char *s = json_is_string(a) ? json_string_value(a) : NULL;
			size_t k;

			if (s == NULL || strlen(s) > 3)
				return bad(x, field, "access: expected a subset of \"rwm\"");
			for (k = 0; s[k]; k++)
				if (strchr("rwm", s[k]) == NULL)
					return bad(x, field,
						   "access: expected a subset of \"rwm\"");
			strcpy(d->access, s);
		}
	}
	return 0;
}

static int parse_kv_object(struct ctx *x, json_t *obj, const char *field, struct ward_oci_kv **out,
			   size_t *n_out)
{
	const char *k;
	json_t *v;
	size_t i = 0;

	if (obj == NULL)
		return 0;
	if (!json_is_object(obj))
		return bad(x, field, "expected an object of strings");
	*out = ward_xcalloc(json_object_size(obj) + 1, sizeof(**out));
	json_object_foreach(obj, k, v)
	{
		if (!json_is_string(v))
			return bad(x, field, "expected string values");
		(*out)[i].key = ward_xstrdup(k);
		(*out)[i].value = ward_xstrdup(json_string_value(v));
		*n_out = ++i;
	}
	return 0;
}

static int parse_throttle(struct ctx *x, json_t *arr, const char *field,
			  struct ward_oci_throttle **out, size_t *n_out)
{
	json_t *e;
	size_t i;

	if (arr == NULL)
		return 0;
	if (!json_is_array(arr))
		return bad(x, field, "expected an array");
	*n_out = json_array_size(arr);
	*out = ward_xcalloc(*n_out + 1, sizeof(**out));
	json_array_foreach(arr, i, e)
	{
		if (get_int(x, e, "major", field, &(*out)[i].major, NULL) < 0 ||
		    get_int(x, e, "minor", field, &(*out)[i].minor, NULL) < 0 ||
		    get_uint(x, e, "rate", field, &(*out)[i].rate, NULL) < 0)
			return -1;
	}
	return 0;
}

static int parse_resources(struct ctx *x, json_t *res, struct ward_oci_resources *r)
{
	json_t *mem = get(res, "memory"), *cpu = get(res, "cpu"), *pids = get(res, "pids");
	json_t *blk = get(res, "blockIO"), *net = get(res, "network"), *hp, *e;
	int64_t v;
	bool has;
	size_t i;

	r->blkio_weight = r->blkio_leaf_weight = -1;
	if (!json_is_object(res))
		return bad(x, "linux.resources", "expected an object");
	if (mem) {
		if (get_int(x, mem, "limit", "linux.resources.memory.limit", &r->mem_limit,
			    &r->has_mem_limit) < 0 ||
		    get_int(x, mem, "reservation", "linux.resources.memory.reservation",
			    &r->mem_reservation, &r->has_mem_reservation) < 0 ||
		    get_int(x, mem, "swap", "linux.resources.memory.swap", &r->mem_swap,
			    &r->has_mem_swap) < 0 ||
		    get_uint(x, mem, "swappiness", "linux.resources.memory.swappiness",
			     &r->swappiness, &r->has_swappiness) < 0 ||
		    get_bool(x, mem, "disableOOMKiller", "linux.resources.memory.disableOOMKiller",
			     &r->disable_oom_killer) < 0)
			return -1;
		/* kernel and kernelTCP: v1's kmem files (cgroup/oci.c). */
		if (get_int(x, mem, "kernel", "linux.resources.memory.kernel", &r->kmem,
			    &r->has_kmem) < 0 ||
		    get_int(x, mem, "kernelTCP", "linux.resources.memory.kernelTCP", &r->kmem_tcp,
			    &r->has_kmem_tcp) < 0)
			return -1;
	}
	if (cpu) {
		if (get_uint(x, cpu, "shares", "linux.resources.cpu.shares", &r->cpu_shares,
			     &r->has_cpu_shares) < 0 ||
		    get_int(x, cpu, "quota", "linux.resources.cpu.quota", &r->cpu_quota,
			    &r->has_cpu_quota) < 0 ||
		    get_uint(x, cpu, "period", "linux.resources.cpu.period", &r->cpu_period,
			     &r->has_cpu_period) < 0 ||
		    get_int(x, cpu, "realtimeRuntime", "linux.resources.cpu.realtimeRuntime",
			    &r->rt_runtime, &r->has_rt_runtime) < 0 ||
		    get_uint(x, cpu, "realtimePeriod", "linux.resources.cpu.realtimePeriod",
			     &r->rt_period, &r->has_rt_period) < 0 ||
		    get_int(x, cpu, "idle", "linux.resources.cpu.idle", &r->cpu_idle,
			    &r->has_cpu_idle) < 0 ||
		    get_str(x, cpu, "cpus", "linux.resources.cpu.cpus", &r->cpus) < 0 ||
		    get_str(x, cpu, "mems", "linux.resources.cpu.mems", &r->mems) < 0)
			return -1;
		if (r->cpus && r->cpus[0] == '\0') {
			free(r->cpus);
			r->cpus = NULL;
		}
		if (r->mems && r->mems[0] == '\0') {
			free(r->mems);
			r->mems = NULL;
		}
	}
	if (pids && get_int(x, pids, "limit", "linux.resources.pids.limit", &r->pids_limit,
			    &r->has_pids_limit) < 0)
		return -1;
	if (blk) {
		static const char *const tn[4] = {"throttleReadBpsDevice", "throttleWriteBpsDevice",
						  "throttleReadIOPSDevice",
						  "throttleWriteIOPSDevice"};
		json_t *wd;

		if (get_int(x, blk, "weight", "linux.resources.blockIO.weight", &v, &has) < 0)
			return -1;
		if (has)
			r->blkio_weight = (int)v;
		if (get_int(x, blk, "leafWeight", "linux.resources.blockIO.leafWeight", &v, &has) <
		    0)
			return -1;
		if (has)
			r->blkio_leaf_weight = (int)v;
		for (i = 0; i < 4; i++) {
			char field[80];

			snprintf(field, sizeof(field), "linux.resources.blockIO.%s", tn[i]);
			if (parse_throttle(x, get(blk, tn[i]), field, &r->throttle[i],
					   &r->n_throttle[i]) < 0)
				return -1;
		}
		wd = get(blk, "weightDevice");
		if (wd) {
			if (!json_is_array(wd))
				return bad(x, "linux.resources.blockIO.weightDevice",
					   "expected an array");
			r->n_weight_devices = json_array_size(wd);
			r->weight_devices =
				ward_xcalloc(r->n_weight_devices + 1, sizeof(*r->weight_devices));
			json_array_foreach(wd, i, e)
			{
				struct ward_oci_weight_device *d = &r->weight_devices[i];
				const char *f = "linux.resources.blockIO.weightDevice";

				if (get_int(x, e, "major", f, &d->major, NULL) < 0 ||
				    get_int(x, e, "minor", f, &d->minor, NULL) < 0 ||
				    get_int(x, e, "weight", f, &v, &has) < 0)
					return -1;
				d->weight = has ? (int)v : -1;
				if (get_int(x, e, "leafWeight", f, &v, &has) < 0)
					return -1;
				d->leaf_weight = has ? (int)v : -1;
				if (d->weight < 0 && d->leaf_weight < 0)
					return ward_error_set(
						x->err, EINVAL,
						"%s: %s[%zu]: give weight or leafWeight "
						"(or both)",
						x->file, f, i);
			}
		}
	}
	if (net) {
		uint64_t id = 0;

		if (get_uint(x, net, "classID", "linux.resources.network.classID", &id,
			     &r->has_net_classid) < 0)
			return -1;
		r->net_classid = (uint32_t)id;
		e = get(net, "priorities");
		if (e && !json_is_array(e))
			return bad(x, "linux.resources.network.priorities", "expected an array");
		if (e) {
			json_t *pr;

			r->net_priorities =
				ward_xcalloc(json_array_size(e) + 1, sizeof(*r->net_priorities));
			json_array_foreach(e, i, pr)
			{
				json_t *nm = get(pr, "name"), *pv = get(pr, "priority");

				if (!json_is_string(nm) || !*json_string_value(nm) ||
				    strpbrk(json_string_value(nm), " \n/") ||
				    !json_is_integer(pv) || json_integer_value(pv) < 0 ||
				    json_integer_value(pv) > UINT32_MAX)
					return bad(
						x, "linux.resources.network.priorities",
						"expected {\"name\": INTERFACE, \"priority\": N}");
				r->net_priorities[i].key = ward_xstrdup(json_string_value(nm));
				r->net_priorities[i].value =
					ward_xasprintf("%lld", (long long)json_integer_value(pv));
				r->n_net_priorities = i + 1;
			}
		}
	}
	hp = get(res, "hugepageLimits");
	if (hp) {
		if (!json_is_array(hp))
			return bad(x, "linux.resources.hugepageLimits", "expected an array");
		r->hugepages = ward_xcalloc(json_array_size(hp) + 1, sizeof(*r->hugepages));
		json_array_foreach(hp, i, e)
		{
			char *ps = NULL;
			uint64_t lim = 0;

			if (get_str(x, e, "pageSize", "linux.resources.hugepageLimits", &ps) < 0)
				return -1;
			if (ps == NULL)
				return bad(x, "linux.resources.hugepageLimits",
					   "pageSize is required");
			/* It becomes part of a file name (hugetlb.SIZE.max). */
			if (strchr(ps, '/') || strchr(ps, '.')) {
				free(ps);
				return bad(x, "linux.resources.hugepageLimits",
					   "pageSize must be a size such as 2MB");
			}
			if (get_uint(x, e, "limit", "linux.resources.hugepageLimits", &lim, NULL) <
			    0) {
				free(ps);
				return -1;
			}
			r->hugepages[i].key = ps;
			r->hugepages[i].value = ward_xasprintf("%llu", (unsigned long long)lim);
			r->n_hugepages = i + 1;
		}
	}
	if (parse_devrules(x, get(res, "devices"), r) < 0)
		return -1;
	return parse_kv_object(x, get(res, "unified"), "linux.resources.unified", &r->unified,
			       &r->n_unified);
}

static int parse_linux(struct ctx *x, json_t *lx, struct ward_oci_config *c)
{
	json_t *nss = get(lx, "namespaces"), *e, *res, *pers, *sc;
	char *prop = NULL;
	size_t i;

	if (!json_is_object(lx))
		return bad(x, "linux", "expected an object");
	/* Properties of the spec that ward cannot apply: an error, not silence
	 * (runtime.md: a property that cannot be applied MUST be an error).
	 * Properties the spec does not know are ignored, as it asks. */
	{
		static const char *const unsupported[] = {"intelRdt", "timeOffsets", "memoryPolicy",
							  "netDevices"};

		for (i = 0; i < ARRAY_SIZE(unsupported); i++)
			if (get(lx, unsupported[i]))
				return ward_error_set(
					x->err, EOPNOTSUPP,
					"%s: linux.%s is not supported by ward (remove "
					"it, or use a runtime that applies it)",
					x->file, unsupported[i]);
	}
	if (nss) {
		if (!json_is_array(nss))
			return bad(x, "linux.namespaces", "expected an array");
		c->namespaces = ward_xcalloc(json_array_size(nss) + 1, sizeof(*c->namespaces));
		json_array_foreach(nss, i, e)
		{
			json_t *t = get(e, "type");
			char field[64];
			size_t k;
			int type;

			snprintf(field, sizeof(field), "linux.namespaces[%zu]", i);
			if (!json_is_string(t))
				return bad(x, field, "\"type\" is required");
			type = ward_oci_ns_type(json_string_value(t));
			if (type < 0)
				return ward_error_set(
					x->err, EINVAL,
					"%s: %s: unknown namespace type \"%s\" (known: "
					"pid, network, mount, ipc, uts, user, cgroup, "
					"time)",
					x->file, field, json_string_value(t));
			for (k = 0; k < c->n_namespaces; k++)
				if (c->namespaces[k].type == type)
					return ward_error_set(x->err, EINVAL,
							      "%s: %s: the %s namespace is listed "
							      "twice",
							      x->file, field, json_string_value(t));
			c->namespaces[c->n_namespaces].type = type;
			if (get_str(x, e, "path", field, &c->namespaces[c->n_namespaces].path) < 0)
				return -1;
			{
				const char *np = c->namespaces[c->n_namespaces].path;

				if (np && *np && np[0] != '/')
					return ward_error_set(x->err, EINVAL,
							      "%s: %s.path: \"%s\" must be an "
							      "absolute path in the "
							      "runtime's mount namespace",
							      x->file, field, np);
			}
			c->n_namespaces++;
		}
	}
	if (parse_idmaps(x, get(lx, "uidMappings"), "linux.uidMappings", &c->uid_maps,
			 &c->n_uid_maps) < 0 ||
	    parse_idmaps(x, get(lx, "gidMappings"), "linux.gidMappings", &c->gid_maps,
			 &c->n_gid_maps) < 0 ||
	    parse_devices(x, get(lx, "devices"), c) < 0)
		return -1;
	res = get(lx, "resources");
	if (res) {
		c->has_resources = true;
		if (parse_resources(x, res, &c->resources) < 0)
			return -1;
	} else {
		c->resources.blkio_weight = c->resources.blkio_leaf_weight = -1;
	}
	if (get_str(x, lx, "cgroupsPath", "linux.cgroupsPath", &c->cgroups_path) < 0 ||
	    parse_kv_object(x, get(lx, "sysctl"), "linux.sysctl", &c->sysctl, &c->n_sysctl) < 0 ||
	    get_strv(x, lx, "maskedPaths", "linux.maskedPaths", &c->masked_paths,
		     &c->n_masked_paths) < 0 ||
	    get_strv(x, lx, "readonlyPaths", "linux.readonlyPaths", &c->readonly_paths,
		     &c->n_readonly_paths) < 0 ||
	    get_str(x, lx, "rootfsPropagation", "linux.rootfsPropagation", &prop) < 0)
		return -1;
	for (size_t k = 0; k < c->n_masked_paths + c->n_readonly_paths; k++) {
		bool masked = k < c->n_masked_paths;
		const char *mp =
			masked ? c->masked_paths[k] : c->readonly_paths[k - c->n_masked_paths];

		if (mp[0] != '/')
			return ward_error_set(x->err, EINVAL,
					      "%s: linux.%s[%zu]: \"%s\" must be an absolute path "
					      "inside the container",
					      x->file, masked ? "maskedPaths" : "readonlyPaths",
					      masked ? k : k - c->n_masked_paths, mp);
	}
	if (prop && *prop) {
		bool found = false;

		for (i = 0; i < ARRAY_SIZE(propagation_table); i++)
			if (strcmp(prop, propagation_table[i].name) == 0) {
				c->rootfs_propagation = propagation_table[i].flag;
				found = true;
			}
		if (!found) {
			ward_error_set(x->err, EINVAL,
				       "%s: linux.rootfsPropagation: unknown value \"%s\" (use "
				       "private, shared, slave or unbindable, optionally with r)",
				       x->file, prop);
			free(prop);
			return -1;
		}
	}
	free(prop);
	sc = get(lx, "seccomp");
	if (sc) {
		if (!json_is_object(sc))
			return bad(x, "linux.seccomp", "expected an object");
		c->seccomp = sc;
	}
	pers = get(lx, "personality");
	if (pers) {
		json_t *d = get(pers, "domain");
		const char *s = json_is_string(d) ? json_string_value(d) : NULL;

		if (s == NULL)
			return bad(x, "linux.personality.domain",
				   "expected \"LINUX\" or \"LINUX32\"");
		if (strcmp(s, "LINUX") == 0)
			c->personality = PER_LINUX;
		else if (strcmp(s, "LINUX32") == 0)
			c->personality = PER_LINUX32;
		else
			return bad(x, "linux.personality.domain",
				   "expected \"LINUX\" or \"LINUX32\"");
		c->has_personality = true;
	}
	return 0;
}

/* ---- hooks, mounts ---- */

static int parse_hooks(struct ctx *x, json_t *hooks, struct ward_oci_config *c)
{
	static const char *const names[WARD_HOOK_NKINDS] = {
		"prestart",	  "createRuntime", "createContainer",
		"startContainer", "poststart",	   "poststop",
	};
	size_t k, i;

	if (hooks == NULL)
		return 0;
	if (!json_is_object(hooks))
		return bad(x, "hooks", "expected an object");
	for (k = 0; k < WARD_HOOK_NKINDS; k++) {
		json_t *arr = get(hooks, names[k]), *e;
		char field[64];

		snprintf(field, sizeof(field), "hooks.%s", names[k]);
		if (arr == NULL)
			continue;
		if (!json_is_array(arr))
			return bad(x, field, "expected an array");
		c->hooks[k].list =
			ward_xcalloc(json_array_size(arr) + 1, sizeof(struct ward_oci_hook));
		json_array_foreach(arr, i, e)
		{
			struct ward_oci_hook *h = &c->hooks[k].list[i];
			int64_t t = 0;
			bool has;

			c->hooks[k].n = i + 1;
			if (!json_is_object(e))
				return bad(x, field, "expected objects");
			if (get_str(x, e, "path", field, &h->path) < 0 ||
			    get_strv(x, e, "args", field, &h->args, NULL) < 0 ||
			    get_strv(x, e, "env", field, &h->env, NULL) < 0 ||
			    get_int(x, e, "timeout", field, &t, &has) < 0)
				return -1;
			if (h->path == NULL || h->path[0] != '/')
				return bad(x, field, "\"path\" must be an absolute path");
			if (has && t <= 0)
				return bad(x, field, "\"timeout\" must be greater than zero");
			h->timeout = (int)t;
			if (h->args == NULL) {
				h->args = ward_xcalloc(2, sizeof(char *));
				h->args[0] = ward_xstrdup(h->path);
			}
			if (h->env == NULL)
				h->env = ward_xcalloc(1, sizeof(char *));
		}
	}
	return 0;
}

static int parse_mounts(struct ctx *x, json_t *arr, struct ward_oci_config *c)
{
	json_t *e;
	size_t i;

	if (arr == NULL)
		return 0;
	if (!json_is_array(arr))
		return bad(x, "mounts", "expected an array");
	c->mounts = ward_xcalloc(json_array_size(arr) + 1, sizeof(*c->mounts));
	json_array_foreach(arr, i, e)
	{
		struct ward_oci_mount *m = &c->mounts[i];
		char field[64];

		c->n_mounts = i + 1;
		snprintf(field, sizeof(field), "mounts[%zu]", i);
		if (!json_is_object(e))
			return bad(x, field, "expected an object");
		if (get_str(x, e, "destination", field, &m->destination) < 0 ||
		    get_str(x, e, "type", field, &m->type) < 0 ||
		    get_str(x, e, "source", field, &m->source) < 0 ||
		    get_strv(x, e, "options", field, &m->options, &m->n_options) < 0)
			return -1;
		/* Idmapped mounts (config.md 1.1+): not made from a config
		 * yet; silently mounting without the mapping would give the
		 * container other owners than the config asks for. */
		if (get(e, "uidMappings") || get(e, "gidMappings"))
			return ward_error_set(
				x->err, EOPNOTSUPP,
				"%s: %s.uidMappings/gidMappings: idmapped mounts from "
				"the config are not supported by ward (remove the "
				"mappings)",
				x->file, field);
		if (m->destination == NULL || m->destination[0] == '\0')
			return ward_error_set(x->err, EINVAL,
					      "%s: %s.destination: must be a path inside the "
					      "container",
					      x->file, field);
		/* config.md (1.1): a relative destination "MUST be interpreted
		 * as relative to /" (deprecated; old configs have them). */
		if (m->destination[0] != '/') {
			char *abs = ward_xasprintf("/%s", m->destination);

			free(m->destination);
			m->destination = abs;
		}
		if (strstr(m->destination, "/../") || ward_str_has_prefix(m->destination, "/..") ||
		    (strlen(m->destination) >= 3 &&
		     strcmp(m->destination + strlen(m->destination) - 3, "/..") == 0))
			return ward_error_set(x->err, EINVAL,
					      "%s: %s.destination: \"..\" is not allowed (%s)",
					      x->file, field, m->destination);
	}
	return 0;
}

/* ---- the document ---- */

static int parse_document(struct ward_oci_config *c, ward_error_t *err);

static int set_bundle(const char *bundle, struct ward_oci_config *c, ward_error_t *err)
{
	char cwd[PATH_MAX];

	memset(c, 0, sizeof(*c));
	c->resources.blkio_weight = c->resources.blkio_leaf_weight = -1;
	if (bundle == NULL || bundle[0] != '/') {
		if (getcwd(cwd, sizeof(cwd)) == NULL)
			return ward_error_sys(err, "getcwd");
		if (bundle == NULL || strcmp(bundle, ".") == 0)
			c->bundle = ward_xstrdup(cwd);
		else
			c->bundle = ward_xasprintf("%s/%s", cwd, bundle);
	} else {
		c->bundle = ward_xstrdup(bundle);
	}
	c->path = ward_xasprintf("%s/config.json", c->bundle);
	return 0;
}

int ward_oci_config_load(const char *bundle, struct ward_oci_config *c, ward_error_t *err)
{
	json_error_t je;

	if (set_bundle(bundle, c, err) < 0)
		return -1;
	c->json = json_load_file(c->path, JSON_REJECT_DUPLICATES, &je);
	if (c->json == NULL) {
		if (je.line <= 0)
			return ward_error_set(
				err, ENOENT,
				"cannot read %s: %s (is --bundle the directory holding "
				"config.json?)",
				c->path, je.text);
		return ward_error_set(err, EINVAL, "%s:%d:%d: %s", c->path, je.line, je.column,
				      je.text);
	}
	return parse_document(c, err);
}

int ward_oci_config_parse(const char *text, size_t len, const char *bundle,
			  struct ward_oci_config *c, ward_error_t *err)
{
	json_error_t je;

	if (set_bundle(bundle, c, err) < 0)
		return -1;
	c->json = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (c->json == NULL)
		return ward_error_set(err, EINVAL, "%s:%d:%d: %s", c->path, je.line, je.column,
				      je.text);
	return parse_document(c, err);
}

static int parse_document(struct ward_oci_config *c, ward_error_t *err)
{
	struct ctx x = {c->path, err};
	json_t *root = c->json, *proc, *hooks, *lx, *ann;
	char *root_rel = NULL;

	if (!json_is_object(root))
		return bad(&x, "(document)", "expected a JSON object");
	if (get_str(&x, root, "ociVersion", "ociVersion", &c->oci_version) < 0)
		return -1;
	if (c->oci_version == NULL)
		return bad(&x, "ociVersion", "is required");
	if (!ward_oci_version_ok(c->oci_version))
		return ward_error_set(
			err, EINVAL,
			"%s: ociVersion \"%s\" is not supported (ward runs runtime-spec "
			"%s to %s)",
			c->path, c->oci_version, WARD_OCI_VERSION_MIN, WARD_OCI_VERSION_MAX);
	if (get(root, "root")) {
		if (get_str(&x, get(root, "root"), "path", "root.path", &root_rel) < 0 ||
		    get_bool(&x, get(root, "root"), "readonly", "root.readonly",
			     &c->root_readonly) < 0) {
			free(root_rel);
			return -1;
		}
	}
	if (root_rel == NULL)
		return bad(&x, "root.path", "is required");
	c->root_path = root_rel[0] == '/' ? ward_xstrdup(root_rel)
					  : ward_xasprintf("%s/%s", c->bundle, root_rel);
	free(root_rel);
	if (get_str(&x, root, "hostname", "hostname", &c->hostname) < 0 ||
	    get_str(&x, root, "domainname", "domainname", &c->domainname) < 0)
		return -1;
	proc = get(root, "process");
	if (proc) {
		if (ward_oci_process_parse(proc, c->path, &c->process, err) < 0)
			return -1;
		c->has_process = true;
	}
	if (parse_mounts(&x, get(root, "mounts"), c) < 0)
		return -1;
	hooks = get(root, "hooks");
	if (parse_hooks(&x, hooks, c) < 0)
		return -1;
	ann = get(root, "annotations");
	if (parse_kv_object(&x, ann, "annotations", &c->annotations, &c->n_annotations) < 0)
		return -1;
	for (size_t i = 0; i < c->n_annotations; i++)
		if (c->annotations[i].key[0] == '\0')
			return bad(&x, "annotations",
				   "a key is empty (config.md: keys MUST NOT be "
				   "an empty string)");
	lx = get(root, "linux");
	if (lx && parse_linux(&x, lx, c) < 0)
		return -1;
	return 0;
}

void ward_oci_config_free(struct ward_oci_config *c)
{
	size_t i, k;

	if (c->json)
		json_decref(c->json);
	free(c->path);
	free(c->bundle);
	free(c->oci_version);
	free(c->root_path);
	free(c->hostname);
	free(c->domainname);
	ward_oci_process_free(&c->process);
	for (i = 0; i < c->n_mounts; i++) {
		free(c->mounts[i].destination);
		free(c->mounts[i].type);
		free(c->mounts[i].source);
		strv_free(c->mounts[i].options);
	}
	free(c->mounts);
	for (k = 0; k < WARD_HOOK_NKINDS; k++) {
		for (i = 0; i < c->hooks[k].n; i++) {
			free(c->hooks[k].list[i].path);
			strv_free(c->hooks[k].list[i].args);
			strv_free(c->hooks[k].list[i].env);
		}
		free(c->hooks[k].list);
	}
	for (i = 0; i < c->n_annotations; i++) {
		free(c->annotations[i].key);
		free(c->annotations[i].value);
	}
	free(c->annotations);
	for (i = 0; i < c->n_namespaces; i++)
		free(c->namespaces[i].path);
	free(c->namespaces);
	free(c->uid_maps);
	free(c->gid_maps);
	for (i = 0; i < c->n_devices; i++)
		free(c->devices[i].path);
	free(c->devices);
	ward_oci_resources_free(&c->resources);
	free(c->cgroups_path);
	for (i = 0; i < c->n_sysctl; i++) {
		free(c->sysctl[i].key);
		free(c->sysctl[i].value);
	}
	free(c->sysctl);
	strv_free(c->masked_paths);
	strv_free(c->readonly_paths);
	memset(c, 0, sizeof(*c));
}

const char *ward_oci_annotation(const struct ward_oci_config *c, const char *key)
{
	size_t i;

	for (i = 0; i < c->n_annotations; i++)
		if (strcmp(c->annotations[i].key, key) == 0)
			return c->annotations[i].value;
	return NULL;
}

const struct ward_oci_ns *ward_oci_ns_find(const struct ward_oci_config *c, int type)
{
	size_t i;

	for (i = 0; i < c->n_namespaces; i++)
		if (c->namespaces[i].type == type)
			return &c->namespaces[i];
	return NULL;
}

void ward_oci_resources_free(struct ward_oci_resources *r)
{
	size_t i;

	free(r->cpus);
	free(r->mems);
	free(r->devices);
	free(r->weight_devices);
	for (i = 0; i < 4; i++)
		free(r->throttle[i]);
	for (i = 0; i < r->n_unified; i++) {
		free(r->unified[i].key);
		free(r->unified[i].value);
	}
	free(r->unified);
	for (i = 0; i < r->n_hugepages; i++) {
		free(r->hugepages[i].key);
		free(r->hugepages[i].value);
	}
	free(r->hugepages);
	for (i = 0; i < r->n_net_priorities; i++) {
		free(r->net_priorities[i].key);
		free(r->net_priorities[i].value);
	}
	free(r->net_priorities);
	memset(r, 0, sizeof(*r));
	r->blkio_weight = r->blkio_leaf_weight = -1;
}

int ward_oci_resources_parse(json_t *res, const char *file, struct ward_oci_resources *r,
			     ward_error_t *err)
{
	struct ctx x = {.file = file, .err = err};

	memset(r, 0, sizeof(*r));
	return parse_resources(&x, res, r);
}
