/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Denials explained: the supervisor's side of seccomp user notification.
 *
 * Under `ward run` every syscall the profile denies with EPERM goes to the
 * supervisor instead (SCMP_ACT_NOTIFY).  The supervisor finds the rule that
 * matched, prints one line per distinct denial naming the entitlement that
 * would allow it (from the entitlement table), and answers with the rule's
 * errno, so the program sees exactly what the filter alone would give.  If
 * the supervisor is gone, the kernel fails the call with ENOSYS: the
 * notification path can only report, never allow.
 *
 * Under `ward learn` the same path records instead of denying (the answer
 * is SECCOMP_USER_NOTIF_FLAG_CONTINUE) and the recorder turns what it saw
 * into the smallest manifest.
 */
#ifndef WARD_SECCOMP_NOTIFY_H
#define WARD_SECCOMP_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../error.h"
#include "../landlock.h"
#include "../net/net.h"
#include "../policy.h"

struct ward_denials;
struct ward_learn;

struct ward_denials_options {
	FILE *human;		  /* one line per distinct denial; NULL: quiet */
	FILE *jsonl;		  /* every denial as a JSON line; NULL: none */
	unsigned max_lines;	  /* distinct denials printed before only counting (0: 20) */
	struct ward_learn *learn; /* learning: record and let the call go on */
	/* network.connect rules, resolved (lib/net/net.c): a connect(2) to anything
	 * else is explained, then goes on to be refused by Landlock and
	 * nftables.  explain_connect false: connect(2) is not notified. */
	bool explain_connect;
	const struct ward_net_peer *peers;
	size_t n_peers;
	bool landlock_net; /* Landlock handles TCP connect (ABI 4+) */
	/* execve(2) and execveat(2) go past the supervisor, which explains an
	 * execution the mount layer (noexec) or Landlock will refuse and lets
	 * the call go on (seccomp.c notifies them under WARD_SC_REPORT). */
	bool explain_exec;
	const struct ward_landlock_plan *ll; /* what Landlock lets execute */
	bool landlock_audited;		     /* Landlock's own records are read (audit.h) */
};

struct ward_denials *ward_denials_new(const struct ward_policy *p,
				      const struct ward_denials_options *o, ward_error_t *err);
/* Handle one pending notification on listener.  Returns 0, or -1 with err
 * set when the listener is unusable (the caller stops polling it). */
int ward_denials_handle(struct ward_denials *d, int listener, ward_error_t *err);
/* Print the summary of what was only counted ("ward: 1234 more denials of
 * getpmsg(2)"). */
void ward_denials_summary(struct ward_denials *d);
unsigned long ward_denials_count(const struct ward_denials *d);
void ward_denials_free(struct ward_denials *d);
/* Read the Landlock records waiting on fd (lib/denials/audit.h), at most
 * WARD_AUDIT_READ_MAX per call, and explain those of the domains the
 * program created (pids: the program's host pids, the creators ward knows).
 * Returns how many records of any kind were read. */
#define WARD_AUDIT_READ_MAX 256
size_t ward_denials_audit(struct ward_denials *d, int fd, const pid_t *pids, size_t n_pids);

/* Decoding helpers, pure (unit-tested). */
const char *ward_af_name(unsigned long af); /* "AF_INET" or NULL */
/* Names of CLONE_* bits in flags, '|'-separated, into buf. */
const char *ward_clone_flags_text(uint64_t flags, char *buf, size_t len);

#endif
