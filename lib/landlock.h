/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The LSM layer: Landlock, best effort by ABI.
 *
 * ward_landlock_plan() is pure: given the policy and the kernel's ABI it
 * lists the rules and records what the ABI could not enforce.
 * ward_landlock_apply() runs in the child after pivot_root, before seccomp.
 */
#ifndef WARD_LANDLOCK_H
#define WARD_LANDLOCK_H

#include <stdint.h>
#include <stddef.h>
#include <linux/landlock.h>

#include "error.h"
#include "policy.h"

/*
 * Debian 12's linux-libc-dev (6.1) stops at Landlock ABI 2.  The values
 * below are the kernel's UAPI values (include/uapi/linux/landlock.h); they
 * are only used where the installed header lacks them.
 */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13) /* ABI 2 */
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0) /* ABI 4 */
#endif
#ifndef LANDLOCK_ACCESS_NET_CONNECT_TCP
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1) /* ABI 4 */
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#endif
#ifndef LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF
#define LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF (1U << 0) /* ABI 7 */
#define LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON	 (1U << 1) /* ABI 7 */
#endif
#ifndef LANDLOCK_SCOPE_SIGNAL
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1) /* ABI 6 */
#endif

/* The highest ABI whose features ward knows; a newer kernel is used as this. */
#define WARD_LL_ABI_KNOWN 7

struct ward_ll_path_rule {
	char *path;	 /* absolute path inside the sandbox view */
	uint64_t access; /* LANDLOCK_ACCESS_FS_*, already masked by the ABI */
	/*
	 * NULL for ward's own view (/usr, /tmp, /dev/null...): a path missing
	 * from the view, or reached through a symbolic link, is skipped.
	 * Otherwise the entitlement that asked for the rule, e.g.
	 * "fs.read=/data (app.ent:3)": missing is then an error naming it.
	 */
	char *origin;
};

/* What a lower ABI made ward drop (bits for the removed text). */
#define WARD_LL_MISSING_ALL	 0x01u /* no Landlock at all */
#define WARD_LL_MISSING_REFER	 0x02u /* ABI < 2 */
#define WARD_LL_MISSING_TRUNCATE 0x04u /* ABI < 3 */
#define WARD_LL_MISSING_NET	 0x08u /* ABI < 4: TCP bind/connect (none, connect, listen) */
#define WARD_LL_MISSING_IOCTL	 0x10u /* ABI < 5: ioctl on devices */
#define WARD_LL_MISSING_SCOPE	 0x20u /* ABI < 6: abstract sockets, signals */
#define WARD_LL_MISSING_ADMIN	 0x40u /* security.admin: not applied (it forbids mounts) */

struct ward_landlock_plan {
	int abi; /* the ABI the plan was made for (0: none) */
	uint64_t handled_fs;
	uint64_t handled_net;
	uint64_t scoped;
	struct ward_ll_path_rule *rules; /* owned; ward_landlock_plan_free() */
	size_t n_rules;
	/* LANDLOCK_RULE_NET_PORT rules: network.connect ports (CONNECT_TCP),
	 * network.listen ports (BIND_TCP).  Unique (port, access) pairs. */
	struct ward_ll_port_rule {
		uint16_t port;
		uint64_t access;
	} * ports;
	size_t n_ports;
	unsigned missing; /* WARD_LL_MISSING_* */
	/* landlock_restrict_self flags (ABI 7): log the program's denials to
	 * the audit subsystem (after its execve), not the launcher's own. */
	uint32_t restrict_flags;
};

/* Ask the kernel (landlock_create_ruleset with LANDLOCK_CREATE_RULESET_VERSION).
 * 0 when the kernel has no Landlock or it is disabled at boot. */
int ward_landlock_abi(void);
/* Pure; cannot fail (allocation failure aborts).  Free with ward_landlock_plan_free(). */
void ward_landlock_plan(const struct ward_policy *p, int abi, struct ward_landlock_plan *out);
void ward_landlock_plan_free(struct ward_landlock_plan *plan);
/* Read and execute beneath path: the top-level entries of a --rootfs, which
 * the launcher binds like the host's system directories. */
void ward_landlock_plan_add_system(struct ward_landlock_plan *plan, const char *path);
/* One line per missing guarantee, "\n"-separated, or NULL when nothing is missing. */
char *ward_landlock_missing_text(unsigned missing);
int ward_landlock_apply(const struct ward_landlock_plan *plan, ward_error_t *err);

#endif
