/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * File refusals explained from the kernel's own records: Landlock (ABI 7,
 * Linux 6.15+) logs each denial of a domain created with
 * LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON to the audit subsystem, and the
 * supervisor reads them from the audit multicast group
 * (AUDIT_NLGRP_READLOG, CAP_AUDIT_READ), next to auditd if one runs,
 * without owning the audit daemon's place.  The kernel logs only while
 * audit is enabled (auditd, audit=1, or ward run --enable-audit).
 *
 * The records are the kernel's: the program cannot make one (only the
 * kernel writes to the multicast group, and a sandbox is not in the
 * initial user namespace, where AUDIT_USER messages are accepted).  The
 * paths in them are the program's choice and are escaped before they are
 * printed.  Nothing is decided on a record: Landlock has already refused.
 */
#ifndef WARD_DENIALS_AUDIT_H
#define WARD_DENIALS_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../error.h"
#include "../policy.h"

#define WARD_AUDIT_LANDLOCK_ACCESS 1423
#define WARD_AUDIT_LANDLOCK_DOMAIN 1424

/* Is the kernel's audit subsystem enabled?  1 yes, 0 no, -1 with err. */
int ward_audit_enabled(ward_error_t *err);
/* How many records wait in the kernel's queue for its audit thread, which
 * sends them, in order, to the readers; -1 with err. */
int ward_audit_backlog(ward_error_t *err);
/* Turn it on (AUDIT_SET enabled=1): host-wide, and it stays on. */
int ward_audit_enable(ward_error_t *err);
/* A non-blocking socket on the audit multicast group, or -1 with err. */
int ward_audit_open(ward_error_t *err);

/* One Landlock record, parsed (pure). */
struct ward_audit_record {
	int type;	    /* WARD_AUDIT_LANDLOCK_* */
	uint64_t domain;    /* domain=HEX */
	char blockers[128]; /* ACCESS: "fs.write_file,fs.make_reg" */
	char path[1024];    /* ACCESS: path=, decoded (raw bytes, NUL-terminated) */
	bool allocated;	    /* DOMAIN: status=allocated */
	pid_t pid;	    /* DOMAIN: the pid that created the domain */
	char daddr[64];	    /* ACCESS (net): daddr= */
	unsigned dport;	    /* ACCESS (net): dest= */
};

/* Parse the text of an audit message of TYPE.  Returns 0, or -1 when it is
 * not a Landlock record ward reads. */
int ward_audit_parse(int type, const char *text, size_t len, struct ward_audit_record *r);

/* The explanation of one refused access, from the policy (pure):
 * *op: "execute", "write", "read", "create"...; fix: "grant fs.write=/srv
 * to allow" or why nothing allows it.  path is the raw path from the record. */
void ward_audit_explain(const struct ward_policy *p, const struct ward_audit_record *r,
			const char **op, char *fix, size_t fixlen);

#endif
