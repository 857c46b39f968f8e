/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Build, cache and install the syscall filter.
 *
 * ward_seccomp_prepare() runs in the supervisor: it compiles the policy's
 * rules (profile.c) into classic BPF with libseccomp, or loads the same
 * program from the cache.  ward_seccomp_install() runs in the sandboxed
 * child as the last step before execve: it only hands the prepared
 * instructions to seccomp(2), so libseccomp (and its allocations) never run
 * in the child.
 *
 * Cache: <cache_dir>/<key>.bpf, where key is the SHA-256 of the canonical
 * rule list, ward's version, the generator's version, libseccomp's version
 * and the native architecture: anything that can change the program
 * changes the key, so entries never need invalidating, only collecting.
 * File: the raw struct sock_filter[] followed by a 32-byte SHA-256 of the
 * key and the instructions, which catches truncated or damaged files.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../util.h"
#include "seccomp.h"

#ifndef WARD_VERSION
#error "WARD_VERSION must be defined by the build"
#endif

/* Bump when the way rules become BPF changes (attributes, rule encoding):
 * it is part of the cache key. */
#define GENERATOR_VERSION 1u

#define CACHE_TRAILER 32u

/* ------------------------------------------------------------------ */
/* SHA-256, FIPS 180-4.                                                */

static const uint32_t sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2,
};

static inline uint32_t ror32(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

static void sha256_block(uint32_t h[8], const uint8_t *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, hh;
	unsigned i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
	for (i = 16; i < 64; i++) {
		uint32_t s0 = ror32(w[i - 15], 7) ^ ror32(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ror32(w[i - 2], 17) ^ ror32(w[i - 2], 19) ^ (w[i - 2] >> 10);

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
	for (i = 0; i < 64; i++) {
		uint32_t t1 = hh + (ror32(e, 6) ^ ror32(e, 11) ^ ror32(e, 25)) +
			      ((e & f) ^ (~e & g)) + sha256_k[i] + w[i];
		uint32_t t2 =
			(ror32(a, 2) ^ ror32(a, 13) ^ ror32(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));

		hh = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
}

void ward_sha256_init(struct ward_sha256 *s)
{
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};

	memcpy(s->h, iv, sizeof(iv));
	s->len = 0;
	s->n = 0;
}

void ward_sha256_update(struct ward_sha256 *s, const void *data, size_t len)
{
	const uint8_t *p = data;

	s->len += len;
	if (s->n > 0) {
		size_t take = 64 - s->n < len ? 64 - s->n : len;

		memcpy(s->buf + s->n, p, take);
		s->n += take;
		p += take;
		len -= take;
		if (s->n < 64)
			return;
		sha256_block(s->h, s->buf);
		s->n = 0;
	}
	for (; len >= 64; p += 64, len -= 64)
		sha256_block(s->h, p);
	memcpy(s->buf, p, len);
	s->n = len;
}

void ward_sha256_final(struct ward_sha256 *s, uint8_t out[32])
{
	uint64_t bits = s->len * 8;
	unsigned i;

	/* Padding: 0x80, zeros up to 56 mod 64, then the length in bits. */
	s->buf[s->n++] = 0x80;
	if (s->n > 56) {
		memset(s->buf + s->n, 0, 64 - s->n);
		sha256_block(s->h, s->buf);
		s->n = 0;
	}
	memset(s->buf + s->n, 0, 56 - s->n);
	for (i = 0; i < 8; i++)
		s->buf[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
	sha256_block(s->h, s->buf);
	for (i = 0; i < 32; i++)
		out[i] = (uint8_t)(s->h[i / 4] >> (24 - 8 * (i % 4)));
	memset(s, 0, sizeof(*s));
}

void ward_sha256(const void *data, size_t len, uint8_t out[32])
{
	struct ward_sha256 s;

	ward_sha256_init(&s);
	ward_sha256_update(&s, data, len);
	ward_sha256_final(&s, out);
}

/* ------------------------------------------------------------------ */
/* Cache key.                                                          */

static void hash_u32(struct ward_sha256 *s, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};

	ward_sha256_update(s, b, sizeof(b));
}

static void hash_u64(struct ward_sha256 *s, uint64_t v)
{
	hash_u32(s, (uint32_t)(v >> 32));
	hash_u32(s, (uint32_t)v);
}

static void hash_str(struct ward_sha256 *s, const char *str)
{
	ward_sha256_update(s, str, strlen(str) + 1); /* with its NUL: unambiguous */
}

/*
 * The key covers everything that shapes the program: the rules (without
 * the entitlement names, which only feed messages), the default action,
 * the generator, libseccomp's version (its syscall tables and code
 * generator) and the architecture.
 */
static void cache_key(const struct ward_sc_rules *r, char hex[65])
{
	const struct scmp_version *v = seccomp_version();
	struct ward_sha256 s;
	uint8_t d[32];
	size_t i;
	unsigned j;

	ward_sha256_init(&s);
	hash_str(&s, "ward-seccomp");
	hash_u32(&s, GENERATOR_VERSION);
	hash_str(&s, WARD_VERSION);
	hash_u32(&s, v ? v->major : 0);
	hash_u32(&s, v ? v->minor : 0);
	hash_u32(&s, v ? v->micro : 0);
	hash_u32(&s, seccomp_arch_native());
	hash_u32(&s, (uint32_t)r->default_errno);
	hash_u64(&s, r->n);
	for (i = 0; i < r->n; i++) {
		const struct ward_sc_rule *rule = &r->rules[i];

		hash_str(&s, rule->syscall);
		hash_u32(&s, rule->action);
		hash_u32(&s, (uint32_t)rule->err);
		hash_u32(&s, rule->n_args);
		for (j = 0; j < rule->n_args; j++) {
			hash_u32(&s, rule->args[j].index);
			hash_u32(&s, rule->args[j].op);
			hash_u64(&s, rule->args[j].a);
			hash_u64(&s, rule->args[j].b);
		}
	}
	ward_sha256_final(&s, d);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

/* ------------------------------------------------------------------ */
/* Generation with libseccomp.                                         */

static void seccomp_releasep(scmp_filter_ctx *ctx)
{
	if (*ctx)
		seccomp_release(*ctx);
}

static int to_scmp_cmp(const struct ward_sc_arg *a, struct scmp_arg_cmp *c)
{
	memset(c, 0, sizeof(*c));
	c->arg = a->index;
	switch (a->op) {
	case WARD_SC_OP_EQ:
		c->op = SCMP_CMP_EQ;
		c->datum_a = a->a;
		return 0;
	case WARD_SC_OP_NE:
		c->op = SCMP_CMP_NE;
		c->datum_a = a->a;
		return 0;
	case WARD_SC_OP_MASKED_EQ:
		c->op = SCMP_CMP_MASKED_EQ;
		c->datum_a = a->a; /* mask */
		c->datum_b = a->b; /* value */
		return 0;
	case WARD_SC_OP_LT:
		c->op = SCMP_CMP_LT;
		c->datum_a = a->a;
		return 0;
	case WARD_SC_OP_GT:
		c->op = SCMP_CMP_GT;
		c->datum_a = a->a;
		return 0;
	default:
		return -1;
	}
}

static int set_attr(scmp_filter_ctx ctx, enum scmp_filter_attr attr, uint32_t value,
		    const char *what, ward_error_t *err)
{
	int rc = seccomp_attr_set(ctx, attr, value);

	if (rc < 0) {
		errno = -rc;
		return ward_error_sys(err, "seccomp: cannot set %s", what);
	}
	return 0;
}

/* seccomp_export_bpf_mem() appeared in libseccomp 2.6; 2.5 only exports to
 * a descriptor, so export into a memfd and read it back. */
static int export_bpf(scmp_filter_ctx ctx, struct sock_filter **out, size_t *n_out,
		      ward_error_t *err)
{
	cleanup_close int fd = memfd_create("ward-seccomp", MFD_CLOEXEC);
	cleanup_free struct sock_filter *insns = NULL;
	struct stat st;
	size_t n;
	int rc;

	if (fd < 0)
		return ward_error_sys(err, "seccomp: memfd_create");
	rc = seccomp_export_bpf(ctx, fd);
	if (rc < 0) {
		errno = -rc;
		return ward_error_sys(err, "seccomp: exporting the BPF program");
	}
	if (fstat(fd, &st) < 0)
		return ward_error_sys(err, "seccomp: fstat of the exported program");
	if (st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) != 0)
		return ward_error_set(err, EINVAL,
				      "seccomp: exported program has a bad size (%lld)",
				      (long long)st.st_size);
	n = (size_t)st.st_size / sizeof(struct sock_filter);
	if (n > BPF_MAXINSNS)
		return ward_error_set(err, E2BIG,
				      "seccomp: the filter has %zu instructions, the kernel takes "
				      "at most %d",
				      n, BPF_MAXINSNS);
	insns = ward_xmalloc(n * sizeof(*insns));
	if (pread(fd, insns, n * sizeof(*insns), 0) != (ssize_t)(n * sizeof(*insns)))
		return ward_error_sys(err, "seccomp: reading the exported program back");
	*out = steal_pointer(&insns);
	*n_out = n;
	return 0;
}

static int generate(const struct ward_sc_rules *r, struct sock_filter **out, size_t *n_out,
		    ward_error_t *err)
{
	__attribute__((cleanup(seccomp_releasep))) scmp_filter_ctx ctx = NULL;
	/* default_errno < 0: learning, the default action notifies too. */
	uint32_t def =
		r->default_errno < 0 ? SCMP_ACT_NOTIFY : SCMP_ACT_ERRNO((uint32_t)r->default_errno);
	size_t i;

	ctx = seccomp_init(def);
	if (ctx == NULL)
		return ward_error_set(err, ENOMEM, "seccomp: seccomp_init failed");
	/* Native architecture only.  A syscall made through another ABI
	 * (int 0x80 i386 calls from a 64-bit process) carries another
	 * AUDIT_ARCH and kills the process.  The x86_64 filter also kills x32
	 * calls (nr >= 0x40000000, same AUDIT_ARCH): libseccomp emits that
	 * check whenever the x32 ABI is not part of the filter. */
	if (set_attr(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS, "the bad-arch action",
		     err) < 0)
		return -1;
	/* The launcher sets no_new_privs itself, at the point it chooses
	 * (or not at all with process.setuid); the program is never loaded
	 * through libseccomp anyway. */
	if (set_attr(ctx, SCMP_FLTATR_CTL_NNP, 0, "no_new_privs", err) < 0)
		return -1;
	/* A binary tree over syscall numbers instead of a linear chain:
	 * an allowed syscall costs O(log n) comparisons, not O(n). */
	if (set_attr(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2, "the binary tree optimisation", err) < 0)
		return -1;

	for (i = 0; i < r->n; i++) {
		const struct ward_sc_rule *rule = &r->rules[i];
		struct scmp_arg_cmp cmp[3];
		uint32_t action;
		unsigned j;
		int nr, rc;

		nr = seccomp_syscall_resolve_name(rule->syscall);
		if (nr < 0)
			continue; /* not a syscall of this architecture */
		if (rule->n_args > ARRAY_SIZE(cmp))
			return ward_error_set(err, EINVAL, "seccomp: too many conditions for %s",
					      rule->syscall);
		for (j = 0; j < rule->n_args; j++)
			if (to_scmp_cmp(&rule->args[j], &cmp[j]) < 0)
				return ward_error_set(err, EINVAL, "seccomp: bad comparison for %s",
						      rule->syscall);
		action = rule->action == WARD_SC_ALLOW	  ? SCMP_ACT_ALLOW
			 : rule->action == WARD_SC_NOTIFY ? SCMP_ACT_NOTIFY
							  : SCMP_ACT_ERRNO((uint32_t)rule->err);
		/* libseccomp refuses (EACCES) a rule whose action is the
		 * default one; it would change nothing (clone3's ENOSYS). */
		if (action == def)
			continue;
		/* _exact: fail rather than let libseccomp rewrite the rule. */
		rc = seccomp_rule_add_exact_array(ctx, action, nr, rule->n_args, cmp);
		if (rc < 0) {
			errno = -rc;
			return ward_error_sys(err, "seccomp: adding the rule for %s",
					      rule->syscall);
		}
	}
	return export_bpf(ctx, out, n_out, err);
}

/* ------------------------------------------------------------------ */
/* Cache.  Failures here are never fatal: the filter is regenerated.   */

static void cache_digest(const char *key, const void *insns, size_t size, uint8_t out[32])
{
	struct ward_sha256 s;

	ward_sha256_init(&s);
	hash_str(&s, key);
	ward_sha256_update(&s, insns, size);
	ward_sha256_final(&s, out);
}

/*
 * The cache directory, or -1.  It must be ours and writable by nobody else:
 * whoever can write a cache entry chooses the filter of the next sandbox.
 */
static int cache_open_dir(const char *dir)
{
	int fd;
	struct stat st;

	(void)ward_mkdir_p(dir, 0700);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool cache_load(int dfd, const char *key, struct sock_filter **out, size_t *n_out)
{
	cleanup_free char *name = ward_xasprintf("%s.bpf", key);
	cleanup_free uint8_t *buf = NULL;
	cleanup_close int fd = -1;
	uint8_t digest[32];
	struct stat st;
	size_t size, n;

	/* O_NONBLOCK: a FIFO planted under that name must not hang us. */
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)))
		return false;
	if (st.st_size < (off_t)(sizeof(struct sock_filter) + CACHE_TRAILER) ||
	    st.st_size > (off_t)(BPF_MAXINSNS * sizeof(struct sock_filter) + CACHE_TRAILER))
		return false;
	size = (size_t)st.st_size - CACHE_TRAILER;
	if (size % sizeof(struct sock_filter) != 0)
		return false;
	n = size / sizeof(struct sock_filter);
	buf = ward_xmalloc(size + CACHE_TRAILER);
	if (ward_read_all(fd, buf, size + CACHE_TRAILER) != (ssize_t)(size + CACHE_TRAILER))
		return false;
	cache_digest(key, buf, size, digest);
	if (memcmp(digest, buf + size, CACHE_TRAILER) != 0)
		return false;
	*out = (struct sock_filter *)steal_pointer(&buf);
	*n_out = n;
	return true;
}

/* Write to a temporary name and rename over the entry: readers see the old
 * file or the new one, never half of one.  No fsync: a file damaged by a
 * crash fails the digest check and is rewritten. */
static void cache_store(int dfd, const char *key, const struct sock_filter *insns, size_t n)
{
	cleanup_free char *name = ward_xasprintf("%s.bpf", key);
	cleanup_free char *tmp = ward_xasprintf(".%s.%ld.tmp", key, (long)getpid());
	size_t size = n * sizeof(*insns);
	uint8_t digest[32];
	int fd;
	bool ok;

	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	cache_digest(key, insns, size, digest);
	ok = ward_write_all(fd, insns, size) == (ssize_t)size &&
	     ward_write_all(fd, digest, sizeof(digest)) == (ssize_t)sizeof(digest);
	if (close(fd) < 0)
		ok = false;
	if (!ok || renameat(dfd, tmp, dfd, name) < 0)
		(void)unlinkat(dfd, tmp, 0);
}

/* ------------------------------------------------------------------ */

const char *const ward_sc_observed[] = {
	"open",	    "openat",	"openat2", "creat",	"execve",    "execveat",
	"mkdir",    "mkdirat",	"rename",  "renameat",	"renameat2", "unlink",
	"unlinkat", "rmdir",	"symlink", "symlinkat", "link",	     "linkat",
	"truncate", "chdir",	"socket",  "connect",	"bind",	     "listen",
	"clone",    "fork",	"vfork",   "unshare",	"mknod",     "mknodat",
	"chmod",    "fchmodat", "chown",   "fchownat",	"lchown",    NULL,
};

static bool is_observed(const char *name)
{
	const char *const *o;

	for (o = ward_sc_observed; *o; o++)
		if (strcmp(*o, name) == 0)
			return true;
	return false;
}

/* Rewrite the rule list for the mode (see seccomp.h).  The rewritten list
 * is what gets hashed, so each mode has its own cache entry. */
static void apply_mode(struct ward_sc_rules *r, enum ward_sc_mode mode)
{
	size_t i;

	if (mode == WARD_SC_ENFORCE)
		return;
	for (i = 0; i < r->n; i++) {
		struct ward_sc_rule *rule = &r->rules[i];

		if (rule->action == WARD_SC_ERRNO && rule->err == EPERM)
			rule->action = WARD_SC_NOTIFY;
		else if (mode == WARD_SC_LEARN && rule->action == WARD_SC_ALLOW &&
			 is_observed(rule->syscall))
			rule->action = WARD_SC_NOTIFY;
	}
	/* clone3 keeps its ENOSYS in both modes: its flags live in memory,
	 * and libc falls back to clone, which is observed. */
	if (mode == WARD_SC_LEARN)
		r->default_errno = -1;
}

int ward_seccomp_prepare(const struct ward_policy *p, const char *cache_dir,
			 struct ward_seccomp_prog *out, ward_error_t *err)
{
	return ward_seccomp_prepare_mode(p, WARD_SC_ENFORCE, cache_dir, out, err);
}

int ward_seccomp_prepare_mode(const struct ward_policy *p, enum ward_sc_mode mode,
			      const char *cache_dir, struct ward_seccomp_prog *out,
			      ward_error_t *err)
{
	struct ward_sc_rules rules = {0};
	struct sock_filter *insns = NULL;
	cleanup_close int dfd = -1;
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	if (ward_seccomp_rules(p, &rules, err) < 0)
		return -1;
	apply_mode(&rules, mode);
	/* network.connect without network.loopback: every connect(2) goes past
	 * the supervisor, which explains a refused destination and lets the
	 * call go on (Landlock and nftables refuse it; notify.c). */
	if (mode == WARD_SC_REPORT && p->net == WARD_NET_PORTS && !p->net_lo_open)
		for (size_t i = 0; i < rules.n; i++)
			if (strcmp(rules.rules[i].syscall, "connect") == 0 &&
			    rules.rules[i].action == WARD_SC_ALLOW && rules.rules[i].n_args == 0)
				rules.rules[i].action = WARD_SC_NOTIFY;
	/* execve(2) and execveat(2) go past the supervisor too, which explains
	 * one that the mount layer or Landlock will refuse, and lets every one
	 * go on (SECCOMP_USER_NOTIF_FLAG_CONTINUE: the layers decide).  Except
	 * execveat with AT_EMPTY_PATH: fexecve's "" names no path to explain,
	 * and it is how the launcher executes the program (with its path,
	 * where the flag changes nothing) without waiting for a supervisor
	 * that has nothing to say about it (ward checked the path itself).
	 * Only the explanation depends on it: the call goes on in both
	 * branches, and the layers refuse it or not alike. */
	if (mode == WARD_SC_REPORT) {
		size_t n_before = rules.n;

		for (size_t i = 0; i < n_before; i++) {
			struct ward_sc_rule *r = &rules.rules[i];

			if ((strcmp(r->syscall, "execve") != 0 &&
			     strcmp(r->syscall, "execveat") != 0) ||
			    r->action != WARD_SC_ALLOW || r->n_args != 0)
				continue;
			r->action = WARD_SC_NOTIFY;
			if (strcmp(r->syscall, "execveat") != 0)
				continue;
			r->n_args = 1;
			r->args[0] = (struct ward_sc_arg){
				.index = 4, .op = WARD_SC_OP_MASKED_EQ, .a = AT_EMPTY_PATH, .b = 0};
			rules.rules =
				ward_xrealloc(rules.rules, (rules.n + 1) * sizeof(*rules.rules));
			r = &rules.rules[i];
			rules.rules[rules.n] = *r;
			rules.rules[rules.n].action = WARD_SC_ALLOW;
			rules.rules[rules.n].args[0].b = AT_EMPTY_PATH;
			rules.n++;
		}
	}
	cache_key(&rules, out->hash);

	if (cache_dir) {
		dfd = cache_open_dir(cache_dir);
		if (dfd >= 0 && cache_load(dfd, out->hash, &insns, &n)) {
			ward_sc_rules_free(&rules);
			out->insns = insns;
			out->n_insns = n;
			out->from_cache = true;
			return 0;
		}
	}

	if (generate(&rules, &insns, &n, err) < 0) {
		ward_sc_rules_free(&rules);
		return ward_error_wrap(err, "building the syscall filter");
	}
	ward_sc_rules_free(&rules);
	if (dfd >= 0)
		cache_store(dfd, out->hash, insns, n);
	out->insns = insns;
	out->n_insns = n;
	return 0;
}

int ward_seccomp_install(const struct ward_seccomp_prog *prog, unsigned flags, ward_error_t *err)
{
	struct sock_fprog fprog;
	long rc;

	if (prog == NULL || prog->insns == NULL || prog->n_insns == 0 ||
	    prog->n_insns > BPF_MAXINSNS)
		return ward_error_set(err, EINVAL, "seccomp: no prepared filter to install");
	fprog.len = (unsigned short)prog->n_insns;
	fprog.filter = prog->insns;
	/* The kernel takes a filter from a task that has no_new_privs set or
	 * holds CAP_SYS_ADMIN in its user namespace; otherwise EACCES. */
	rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog);
	if (rc < 0) {
		if (errno == EACCES)
			return ward_error_sys(err, "seccomp: installing the filter (no_new_privs "
						   "is not set and CAP_SYS_ADMIN is gone)");
		return ward_error_sys(err, "seccomp: installing the filter");
	}
	/* With SECCOMP_FILTER_FLAG_NEW_LISTENER the kernel returns the
	 * notification descriptor. */
	return (int)rc;
}

void ward_seccomp_prog_free(struct ward_seccomp_prog *prog)
{
	if (prog == NULL)
		return;
	free(prog->insns);
	prog->insns = NULL;
	prog->n_insns = 0;
}
