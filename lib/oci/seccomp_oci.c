// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * linux.seccomp (runtime-spec config-linux.md#seccomp) -> a BPF program,
 * built with libseccomp in the runtime (before any namespace exists) and
 * installed by the container's init with seccomp(2).
 *
 * As podman, Docker and runc write and read it: defaultAction with
 * defaultErrnoRet; architectures (SCMP_ARCH_*); flags
 * (SECCOMP_FILTER_FLAG_*); syscalls[] with names, action, errnoRet and
 * argument conditions.  Syscall names libseccomp does not know on this
 * architecture are skipped (profiles list syscalls of every arch).  Several
 * conditions on the same argument cannot be ANDed in one libseccomp rule:
 * as runc does, each of them becomes a rule of its own together with the
 * conditions on the other arguments (so they are ORed).  A rule whose
 * action is the default action is dropped (libseccomp refuses it, and it
 * changes nothing).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util.h"
#include "internal.h"
#include "log.h"

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

static int parse_action(const char *s, uint32_t errno_ret, bool has_errno, uint32_t *out,
			bool *notify)
{
	uint32_t e = has_errno ? errno_ret : EPERM;

	if (strcmp(s, "SCMP_ACT_ALLOW") == 0)
		*out = SCMP_ACT_ALLOW;
	else if (strcmp(s, "SCMP_ACT_ERRNO") == 0)
		*out = SCMP_ACT_ERRNO(e);
	else if (strcmp(s, "SCMP_ACT_KILL") == 0 || strcmp(s, "SCMP_ACT_KILL_THREAD") == 0)
		*out = SCMP_ACT_KILL_THREAD;
	else if (strcmp(s, "SCMP_ACT_KILL_PROCESS") == 0)
		*out = SCMP_ACT_KILL_PROCESS;
	else if (strcmp(s, "SCMP_ACT_TRAP") == 0)
		*out = SCMP_ACT_TRAP;
	else if (strcmp(s, "SCMP_ACT_TRACE") == 0)
		*out = SCMP_ACT_TRACE(e);
	else if (strcmp(s, "SCMP_ACT_LOG") == 0)
		*out = SCMP_ACT_LOG;
	else if (strcmp(s, "SCMP_ACT_NOTIFY") == 0) {
		*out = SCMP_ACT_NOTIFY;
		*notify = true;
	} else
		return -1;
	return 0;
}

static int parse_op(const char *s, enum scmp_compare *op)
{
	static const struct {
		const char *name;
		enum scmp_compare op;
	} t[] = {
		{"SCMP_CMP_NE", SCMP_CMP_NE},
		{"SCMP_CMP_LT", SCMP_CMP_LT},
		{"SCMP_CMP_LE", SCMP_CMP_LE},
		{"SCMP_CMP_EQ", SCMP_CMP_EQ},
		{"SCMP_CMP_GE", SCMP_CMP_GE},
		{"SCMP_CMP_GT", SCMP_CMP_GT},
		{"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++)
		if (strcmp(s, t[i].name) == 0) {
			*op = t[i].op;
			return 0;
		}
	return -1;
}

static int parse_flag(const char *s, unsigned *flags)
{
	if (strcmp(s, "SECCOMP_FILTER_FLAG_TSYNC") == 0)
		*flags |= SECCOMP_FILTER_FLAG_TSYNC;
	else if (strcmp(s, "SECCOMP_FILTER_FLAG_LOG") == 0)
		*flags |= SECCOMP_FILTER_FLAG_LOG;
	else if (strcmp(s, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
		*flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
	else if (strcmp(s, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") == 0)
		*flags |= SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
	else
		return -1;
	return 0;
}

/* "SCMP_ARCH_X86_64" -> libseccomp's "x86_64". */
static uint32_t arch_token(const char *s)
{
	char buf[64];
	size_t i;

	if (ward_str_has_prefix(s, "SCMP_ARCH_"))
		s += 10;
	for (i = 0; s[i] && i < sizeof(buf) - 1; i++)
		buf[i] = (char)tolower((unsigned char)s[i]);
	buf[i] = '\0';
	return seccomp_arch_resolve_name(buf);
}

static void release(scmp_filter_ctx *ctx)
{
	if (*ctx)
		seccomp_release(*ctx);
}

static int export(scmp_filter_ctx ctx, struct ward_seccomp_prog *out, ward_error_t *err)
{
	cleanup_close int fd = memfd_create("ward-oci-seccomp", MFD_CLOEXEC);
	struct stat st;
	int rc;

	if (fd < 0)
		return ward_error_sys(err, "seccomp: memfd_create");
	rc = seccomp_export_bpf(ctx, fd);
	if (rc < 0) {
		errno = -rc;
		return ward_error_sys(err, "seccomp: exporting the filter");
	}
	if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size % sizeof(struct sock_filter))
		return ward_error_set(err, EINVAL, "seccomp: the exported filter has a bad size");
	out->n_insns = (size_t)st.st_size / sizeof(struct sock_filter);
	if (out->n_insns > BPF_MAXINSNS)
		return ward_error_set(err, E2BIG,
				      "seccomp: the filter has %zu instructions; the kernel takes "
				      "at most %d",
				      out->n_insns, BPF_MAXINSNS);
	out->insns = ward_xmalloc((size_t)st.st_size);
	if (pread(fd, out->insns, (size_t)st.st_size, 0) != st.st_size)
		return ward_error_sys(err, "seccomp: reading the filter back");
	return 0;
}

static int add_rule(scmp_filter_ctx ctx, const char *name, int nr, uint32_t act,
		    const struct scmp_arg_cmp *conds, unsigned n, const char *file,
		    ward_error_t *err)
{
	int rc = seccomp_rule_add_array(ctx, act, nr, n, conds);

	if (rc < 0)
		return ward_error_set(err, -rc, "%s: linux.seccomp: cannot add the rule for %s: %s",
				      file, name, strerror(-rc));
	return 0;
}

/*
 * Compiled programs are cached (libseccomp takes about 10 ms for a
 * Docker-size profile, most of a container's start): /run/ward/seccomp-oci/
 * KEY.bpf, KEY the SHA-256 of the profile's canonical JSON (keys sorted),
 * ward's and libseccomp's versions and the native architecture, so any
 * change of what the program depends on changes the name.  A file holds a
 * header (magic, the seccomp(2) flags, notify), the instructions and a
 * SHA-256 over the key and all of that, which catches a damaged file.  The
 * directory and the files must be the runtime's and writable by nobody
 * else: whoever can write an entry chooses a container's filter.
 */
#define CACHE_DIR   "/run/ward/seccomp-oci"
#define CACHE_MAGIC 0x3143534fu /* "OSC1" */

struct cache_head {
	uint32_t magic;
	uint32_t flags;
	uint32_t notify;
	uint32_t n_insns;
};

static void cache_key(json_t *sc, char hex[65])
{
	const struct scmp_version *v = seccomp_version();
	cleanup_free char *canon = json_dumps(sc, JSON_COMPACT | JSON_SORT_KEYS);
	struct ward_sha256 h;
	uint8_t d[32];
	char buf[128];
	int i;

	/* The format number changes whenever the compiler's checks do: a
	 * profile an older ward cached must be checked again (2: syscalls[]
	 * without names is an error). */
	snprintf(buf, sizeof(buf), "ward-oci-seccomp/2 %s libseccomp %u.%u.%u arch %u",
		 WARD_VERSION, v ? v->major : 0, v ? v->minor : 0, v ? v->micro : 0,
		 seccomp_arch_native());
	ward_sha256_init(&h);
	ward_sha256_update(&h, buf, strlen(buf) + 1);
	if (canon)
		ward_sha256_update(&h, canon, strlen(canon));
	ward_sha256_final(&h, d);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

static void cache_digest(const char *key, const void *data, size_t len, uint8_t out[32])
{
	struct ward_sha256 h;

	ward_sha256_init(&h);
	ward_sha256_update(&h, key, strlen(key));
	ward_sha256_update(&h, data, len);
	ward_sha256_final(&h, out);
}

static int cache_dir(void)
{
	struct stat st;
	int fd;

	(void)ward_mkdir_p(CACHE_DIR, 0700);
	fd = open(CACHE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 &&
	    (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static bool cache_load(const char *key, struct oci_seccomp *out)
{
	cleanup_close int dfd = cache_dir();
	cleanup_close int fd = -1;
	cleanup_free char *name = ward_xasprintf("%s.bpf", key);
	cleanup_free uint8_t *buf = NULL;
	struct cache_head hd;
	struct stat st;
	uint8_t d[32];
	size_t size;

	if (dfd < 0)
		return false;
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) ||
	    st.st_size < (off_t)(sizeof(hd) + sizeof(struct sock_filter) + 32) ||
	    st.st_size > (off_t)(sizeof(hd) + BPF_MAXINSNS * sizeof(struct sock_filter) + 32))
		return false;
	size = (size_t)st.st_size;
	buf = ward_xmalloc(size);
	if (ward_read_all(fd, buf, size) != (ssize_t)size)
		return false;
	cache_digest(key, buf, size - 32, d);
	memcpy(&hd, buf, sizeof(hd));
	if (memcmp(d, buf + size - 32, 32) != 0 || hd.magic != CACHE_MAGIC ||
	    (size_t)hd.n_insns * sizeof(struct sock_filter) != size - 32 - sizeof(hd))
		return false;
	out->prog.n_insns = hd.n_insns;
	out->prog.insns = ward_xmalloc(size - 32 - sizeof(hd));
	memcpy(out->prog.insns, buf + sizeof(hd), size - 32 - sizeof(hd));
	out->prog.from_cache = true;
	out->flags = hd.flags;
	out->notify = hd.notify != 0;
	return true;
}

/* A temporary name renamed over the entry: readers see a whole file. */
static void cache_store(const char *key, const struct oci_seccomp *sc)
{
	cleanup_close int dfd = cache_dir();
	cleanup_free char *name = ward_xasprintf("%s.bpf", key);
	cleanup_free char *tmp = ward_xasprintf(".%s.%ld.tmp", key, (long)getpid());
	size_t n = sc->prog.n_insns * sizeof(struct sock_filter);
	struct cache_head hd = {CACHE_MAGIC, sc->flags, sc->notify, (uint32_t)sc->prog.n_insns};
	cleanup_free uint8_t *buf = ward_xmalloc(sizeof(hd) + n + 32);
	int fd;
	bool ok;

	if (dfd < 0)
		return;
	memcpy(buf, &hd, sizeof(hd));
	memcpy(buf + sizeof(hd), sc->prog.insns, n);
	cache_digest(key, buf, sizeof(hd) + n, buf + sizeof(hd) + n);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	ok = ward_write_all(fd, buf, sizeof(hd) + n + 32) == (ssize_t)(sizeof(hd) + n + 32);
	if (close(fd) < 0)
		ok = false;
	if (!ok || renameat(dfd, tmp, dfd, name) < 0)
		(void)unlinkat(dfd, tmp, 0);
}

int ward_oci_seccomp_prepare(json_t *sc, const char *file, struct oci_seccomp *out,
			     ward_error_t *err)
{
	char key[65];
	json_t *v;

	memset(out, 0, sizeof(*out));
	cache_key(sc, key);
	if (cache_load(key, out)) {
		/* It compiled before, as it is: the strings are all that is
		 * left to take from it. */
		v = json_object_get(sc, "listenerPath");
		if (json_is_string(v) && *json_string_value(v))
			out->listener_path = ward_xstrdup(json_string_value(v));
		v = json_object_get(sc, "listenerMetadata");
		if (json_is_string(v))
			out->listener_metadata = ward_xstrdup(json_string_value(v));
		memcpy(out->prog.hash, key, sizeof(key));
		ward_oci_log(WARD_LOG_DEBUG, "seccomp: the program of %s is %s in the cache", file,
			     key);
		return 0;
	}
	if (ward_oci_seccomp_compile(sc, file, out, err) < 0)
		return -1;
	memcpy(out->prog.hash, key, sizeof(key));
	cache_store(key, out);
	ward_oci_log(WARD_LOG_DEBUG, "seccomp: compiled the program of %s (cached as %s)", file,
		     key);
	return 0;
}

int ward_oci_seccomp_compile(json_t *sc, const char *file, struct oci_seccomp *out,
			     ward_error_t *err)
{
	__attribute__((cleanup(release))) scmp_filter_ctx ctx = NULL;
	json_t *v, *rule, *e;
	uint32_t def_act;
	size_t i, k;
	const char *s;

	memset(out, 0, sizeof(*out));
	v = json_object_get(sc, "defaultAction");
	if (!json_is_string(v))
		return ward_error_set(err, EINVAL, "%s: linux.seccomp.defaultAction is required",
				      file);
	{
		json_t *de = json_object_get(sc, "defaultErrnoRet");

		if (parse_action(json_string_value(v),
				 json_is_integer(de) ? (uint32_t)json_integer_value(de) : 0,
				 json_is_integer(de), &def_act, &out->notify) < 0)
			return ward_error_set(
				err, EINVAL,
				"%s: linux.seccomp.defaultAction: unknown action \"%s\"", file,
				json_string_value(v));
	}
	if (out->notify)
		return ward_error_set(err, EINVAL,
				      "%s: linux.seccomp.defaultAction cannot be SCMP_ACT_NOTIFY",
				      file);
	ctx = seccomp_init(def_act);
	if (ctx == NULL)
		return ward_error_set(err, ENOMEM, "seccomp_init failed");
	/* ward sets no_new_privs itself when the config asks for it. */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	/* Binary tree: O(log n) per syscall instead of a linear chain. */
	(void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);

	v = json_object_get(sc, "architectures");
	json_array_foreach(v, i, e)
	{
		uint32_t tok = json_is_string(e) ? arch_token(json_string_value(e)) : 0;
		int rc;

		if (tok == 0)
			return ward_error_set(err, EINVAL,
					      "%s: linux.seccomp.architectures: unknown "
					      "architecture %s",
					      file, json_is_string(e) ? json_string_value(e) : "?");
		rc = seccomp_arch_add(ctx, tok);
		if (rc < 0 && rc != -EEXIST)
			return ward_error_set(err, -rc, "seccomp: adding architecture %s: %s",
					      json_string_value(e), strerror(-rc));
	}
	v = json_object_get(sc, "flags");
	json_array_foreach(v, i, e)
	{
		if (!json_is_string(e) || parse_flag(json_string_value(e), &out->flags) < 0)
			return ward_error_set(err, EINVAL,
					      "%s: linux.seccomp.flags: unknown flag %s", file,
					      json_is_string(e) ? json_string_value(e) : "?");
	}
	v = json_object_get(sc, "listenerPath");
	if (json_is_string(v) && *json_string_value(v))
		out->listener_path = ward_xstrdup(json_string_value(v));
	v = json_object_get(sc, "listenerMetadata");
	if (json_is_string(v))
		out->listener_metadata = ward_xstrdup(json_string_value(v));

	v = json_object_get(sc, "syscalls");
	json_array_foreach(v, i, rule)
	{
		json_t *names = json_object_get(rule, "names"),
		       *args = json_object_get(rule, "args");
		json_t *er = json_object_get(rule, "errnoRet"), *nm;
		struct scmp_arg_cmp conds[6 * 4];
		unsigned count[6] = {0}, n = 0;
		uint32_t act;
		size_t j;

		s = json_string_value(json_object_get(rule, "action"));
		if (s == NULL ||
		    parse_action(s, json_is_integer(er) ? (uint32_t)json_integer_value(er) : 0,
				 json_is_integer(er), &act, &out->notify) < 0)
			return ward_error_set(
				err, EINVAL,
				"%s: linux.seccomp.syscalls[%zu].action: unknown action "
				"\"%s\"",
				file, i, s ? s : "");
		json_array_foreach(args, j, e)
		{
			json_t *idx = json_object_get(e, "index");
			const char *ops = json_string_value(json_object_get(e, "op"));
			enum scmp_compare op;

			if (!json_is_integer(idx) || json_integer_value(idx) < 0 ||
			    json_integer_value(idx) > 5 || ops == NULL || parse_op(ops, &op) < 0 ||
			    n >= ARRAY_SIZE(conds))
				return ward_error_set(err, EINVAL,
						      "%s: linux.seccomp.syscalls[%zu].args[%zu]: "
						      "expected index 0-5 and an SCMP_CMP_* op",
						      file, i, j);
			conds[n].arg = (unsigned)json_integer_value(idx);
			conds[n].op = op;
			conds[n].datum_a =
				(scmp_datum_t)json_integer_value(json_object_get(e, "value"));
			conds[n].datum_b =
				(scmp_datum_t)json_integer_value(json_object_get(e, "valueTwo"));
			count[conds[n].arg]++;
			n++;
		}
		/* Old profiles use "name" instead of "names". */
		if (names == NULL && json_is_string(json_object_get(rule, "name"))) {
			names = json_array();
			json_array_append(names, json_object_get(rule, "name"));
			json_object_set_new(rule, "names", names);
		}
		/* config-linux.md: names "MUST contain at least one entry". */
		if (!json_is_array(names) || json_array_size(names) == 0)
			return ward_error_set(
				err, EINVAL,
				"%s: linux.seccomp.syscalls[%zu].names: give at least "
				"one syscall name",
				file, i);
		if (act == def_act)
			continue;
		json_array_foreach(names, j, nm)
		{
			const char *name = json_string_value(nm);
			int nr = name ? seccomp_syscall_resolve_name(name) : __NR_SCMP_ERROR;
			bool multi = false;

			if (nr == __NR_SCMP_ERROR) {
				ward_oci_log(WARD_LOG_DEBUG, "seccomp: unknown syscall %s skipped",
					     name ? name : "?");
				continue;
			}
			for (k = 0; k < 6; k++)
				multi |= count[k] > 1;
			if (!multi) {
				if (add_rule(ctx, name, nr, act, conds, n, file, err) < 0)
					return -1;
				continue;
			}
			/* Several conditions on one argument: one rule per such
			 * condition, each with the single conditions on the
			 * other arguments. */
			for (k = 0; k < n; k++) {
				struct scmp_arg_cmp one[6];
				unsigned m = 0;
				size_t q;

				if (count[conds[k].arg] < 2)
					continue;
				one[m++] = conds[k];
				for (q = 0; q < n; q++)
					if (count[conds[q].arg] == 1)
						one[m++] = conds[q];
				if (add_rule(ctx, name, nr, act, one, m, file, err) < 0)
					return -1;
			}
		}
	}
	if (out->notify)
		out->flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
	if (out->notify && out->listener_path == NULL)
		return ward_error_set(err, EINVAL,
				      "%s: linux.seccomp uses SCMP_ACT_NOTIFY but has no "
				      "listenerPath to send the notification descriptor to",
				      file);
	return export(ctx, &out->prog, err);
}

void ward_oci_seccomp_free(struct oci_seccomp *s)
{
	free(s->prog.insns);
	free(s->listener_path);
	free(s->listener_metadata);
	memset(s, 0, sizeof(*s));
}

int ward_oci_prog_save(int dirfd, const char *name, const struct ward_seccomp_prog *p,
		       unsigned flags, ward_error_t *err)
{
	cleanup_close int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	uint32_t f = flags;

	if (fd < 0 || ward_write_all(fd, &f, sizeof(f)) < 0 ||
	    ward_write_all(fd, p->insns, p->n_insns * sizeof(struct sock_filter)) < 0)
		return ward_error_sys(err, "cannot save the seccomp program %s", name);
	return 0;
}

int ward_oci_prog_load(int dirfd, const char *name, struct ward_seccomp_prog *p, unsigned *flags)
{
	cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint32_t f;
	size_t size;

	memset(p, 0, sizeof(*p));
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size <= (off_t)sizeof(f))
		return -1;
	size = (size_t)st.st_size - sizeof(f);
	if (size % sizeof(struct sock_filter) || size / sizeof(struct sock_filter) > BPF_MAXINSNS)
		return -1;
	if (read(fd, &f, sizeof(f)) != sizeof(f))
		return -1;
	p->insns = ward_xmalloc(size);
	if (ward_read_all(fd, p->insns, size) != (ssize_t)size) {
		free(p->insns);
		p->insns = NULL;
		return -1;
	}
	p->n_insns = size / sizeof(struct sock_filter);
	if (flags)
		*flags = f;
	return 0;
}
