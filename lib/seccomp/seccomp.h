/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The syscall layer.
 *
 * ward_seccomp_rules() is pure: policy -> the exact rule list (tested rule
 * by rule).  ward_seccomp_prepare() turns the rules into a BPF program with
 * libseccomp, or loads the same program from the cache (keyed by a SHA-256
 * of the rules, ward's version, libseccomp's version and the architecture),
 * in the supervisor, before any namespace is made.  ward_seccomp_install()
 * runs in the child as the very last step before execve.
 */
#ifndef WARD_SECCOMP_H
#define WARD_SECCOMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../error.h"
#include "../policy.h"

enum ward_sc_action {
	WARD_SC_ALLOW,
	WARD_SC_ERRNO,	/* fail with .err (EPERM for known-denied, ENOSYS for clone3) */
	WARD_SC_NOTIFY, /* ask the supervisor (only made by ward_seccomp_prepare_mode) */
};

enum ward_sc_op {
	WARD_SC_OP_EQ,	      /* arg == a */
	WARD_SC_OP_NE,	      /* arg != a */
	WARD_SC_OP_MASKED_EQ, /* (arg & a) == b */
	WARD_SC_OP_LT,	      /* arg < a (unsigned, 64 bits) */
	WARD_SC_OP_GT,	      /* arg > a (unsigned, 64 bits) */
};

struct ward_sc_arg {
	unsigned index; /* 0..5 */
	enum ward_sc_op op;
	uint64_t a, b;
};

struct ward_sc_rule {
	const char *syscall; /* libseccomp name */
	enum ward_sc_action action;
	int err;	 /* errno when action is WARD_SC_ERRNO */
	unsigned n_args; /* argument conditions, all must match (AND) */
	struct ward_sc_arg args[3];
	const char *entitlement; /* the entitlement that grants it, when denied; NULL if none can */
	/* Why an argument class is refused whatever is granted (a denial
	 * message says it); NULL for the plain group rules. */
	const char *reason;
};

struct ward_sc_rules {
	struct ward_sc_rule *rules;
	size_t n;
	int default_errno; /* action for syscalls the profile does not know: ENOSYS */
};

int ward_seccomp_rules(const struct ward_policy *p, struct ward_sc_rules *out, ward_error_t *err);
void ward_sc_rules_free(struct ward_sc_rules *r);
/*
 * The rule that decides a call of `syscall` with arguments args[0..5] (NULL:
 * all zero), or NULL when none does and default_errno applies.  The rules of
 * one syscall never overlap, so at most one matches.  For denial messages:
 * the supervisor maps a notified syscall to the entitlement that grants it.
 */
const struct ward_sc_rule *ward_sc_rules_match(const struct ward_sc_rules *r, const char *syscall,
					       const uint64_t *args);

/*
 * The key argument of a call that an argument filter of profile.c refused,
 * in words ("mode 04755", "O_CREAT, mode 06755", "size 20", "MFD_EXEC"), for
 * denial messages.  Returns false (buf empty) for other syscalls.
 */
bool ward_sc_decode_key(const char *syscall, const uint64_t *args, char *buf, size_t len);

/* The argument filters that hold under every policy, for `ward explain`:
 * "chmod(2), fchmod(2), ... with S_ISUID or S_ISGID in the mode". */
struct ward_sc_arg_filter {
	const char *what;   /* the refused calls, in words */
	const char *reason; /* why */
};
/* Fills out[] (at most max) for this policy; returns the count. */
size_t ward_sc_arg_filters(const struct ward_policy *p, struct ward_sc_arg_filter *out, size_t max);

struct ward_seccomp_prog {
	void *insns; /* struct sock_filter[] */
	size_t n_insns;
	char hash[65]; /* hex SHA-256 cache key */
	bool from_cache;
};

/* cache_dir may be NULL (no cache). */
int ward_seccomp_prepare(const struct ward_policy *p, const char *cache_dir,
			 struct ward_seccomp_prog *out, ward_error_t *err);
/* How denials reach the supervisor.
 *  ENFORCE: the filter alone answers (EPERM, ENOSYS).
 *  REPORT:  every EPERM rule becomes a user notification; the supervisor
 *           explains it and answers EPERM (notify.h).  Unknown syscalls still
 *           get ENOSYS from the filter.
 *  LEARN:   every denying rule and the default action notify, and so do the
 *           syscalls ward learn observes (files, sockets, processes); the
 *           supervisor records and lets the call go on. */
enum ward_sc_mode {
	WARD_SC_ENFORCE,
	WARD_SC_REPORT,
	WARD_SC_LEARN,
};

/* Syscalls observed in learning mode (NULL-terminated). */
extern const char *const ward_sc_observed[];

int ward_seccomp_prepare_mode(const struct ward_policy *p, enum ward_sc_mode mode,
			      const char *cache_dir, struct ward_seccomp_prog *out,
			      ward_error_t *err);

/* Install in the calling thread.  flags: SECCOMP_FILTER_FLAG_*.  Returns 0
 * (or the listener fd with SECCOMP_FILTER_FLAG_NEW_LISTENER), -1 on error.
 * Needs no_new_privs or CAP_SYS_ADMIN in the caller's user namespace. */
int ward_seccomp_install(const struct ward_seccomp_prog *prog, unsigned flags, ward_error_t *err);
void ward_seccomp_prog_free(struct ward_seccomp_prog *prog);

/* SHA-256 (FIPS 180-4), used for the cache key. */
struct ward_sha256 {
	uint32_t h[8];
	uint64_t len; /* bytes hashed so far */
	uint8_t buf[64];
	size_t n; /* bytes waiting in buf */
};

void ward_sha256_init(struct ward_sha256 *s);
void ward_sha256_update(struct ward_sha256 *s, const void *data, size_t len);
void ward_sha256_final(struct ward_sha256 *s, uint8_t out[32]);
void ward_sha256(const void *data, size_t len, uint8_t out[32]);

#endif
