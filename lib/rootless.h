/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Rootless mode: ward run by an ordinary user (docs/rootless.md).
 *
 * Which mode ward is in is decided by one thing, its effective uid: root
 * (euid 0) builds the sandbox from the host's user namespace and gives it a
 * host uid range of its own; any other user gets the same layers built from
 * inside an unprivileged user namespace, whose ids are the user's own and,
 * where /etc/subuid and /etc/subgid grant them, the user's subordinate
 * ranges (written through the set-user-ID newuidmap/newgidmap of the uidmap
 * package).  ward itself is never set-user-ID: it refuses to run if it is.
 *
 * Where the per-user state lives: $XDG_RUNTIME_DIR/ward when the runtime
 * directory is the user's own (mode 0700, owned by them), else
 * $XDG_STATE_HOME/ward/run (default ~/.local/state/ward/run).  Never a
 * shared path such as /tmp/ward-UID, which another user could create first.
 */
#ifndef WARD_ROOTLESS_H
#define WARD_ROOTLESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

/* Rootless when the effective uid is not 0, or ward runs in a user
 * namespace other than the host's (as root of podman's rootless namespace,
 * or under `unshare -r`): no host privilege either way. */
bool ward_rootless(void);

/* The caller's uid in the host's user namespace (its euid, mapped out
 * through /proc/self/uid_map; in a nested namespace, its parent's view). */
uid_t ward_host_uid(void);

/* Refuse to run set-user-ID or set-group-ID (the file's mode, or an
 * effective id other than the real one): ward is not written to be a
 * privilege boundary against its own caller.  0, or -1 with *err. */
int ward_refuse_setid(ward_error_t *err);

/* The default state directory: /run/ward for root, else the user's own
 * (see above).  Created (0700) and checked to belong to the caller and to be
 * writable by nobody else.  Returns a new string, or NULL with *err. */
char *ward_default_state_dir(ward_error_t *err);
/* The same choice without creating or checking anything (for messages and
 * for callers that check themselves). */
char *ward_default_state_dir_path(void);

/* A user by name or decimal uid, from /etc/passwd: uid and primary gid. */
int ward_user_lookup(const char *user, uid_t *uid, gid_t *gid, ward_error_t *err);

/* A subordinate id range of /etc/subuid or /etc/subgid. */
struct ward_subid {
	uint32_t start;
	uint32_t count;
};

/* Find the first range of the user (by name or by decimal uid) in a
 * subuid/subgid file.  Pure apart from reading the file: 0 when found,
 * -ENOENT when the user has none, another negative errno when the file
 * cannot be read. */
int ward_subid_find(const char *file, const char *user, uid_t uid, struct ward_subid *out);
/* The same over a file's text (unit tests). */
int ward_subid_parse(const char *text, const char *user, uid_t uid, struct ward_subid *out);

/*
 * The identity of a rootless sandbox: inside ids 0 is the caller's uid/gid,
 * 1..count the subordinate range (when subids is true).
 */
struct ward_rootless_ids {
	uid_t uid;
	gid_t gid;
	bool subids; /* newuidmap/newgidmap with the ranges below */
	struct ward_subid sub_uid, sub_gid;
	uint32_t count;	     /* ids mapped inside: 1 + the smaller range */
	const char *why_not; /* !subids: why only the own id is mapped (static text) */
};

/* Decide the identity: subordinate ranges when the policy can use more than
 * one id (want_range: capabilities to change ids or owners, set-id programs,
 * ward learn), the user has both ranges, capped at 65535 ids, and both
 * helpers are installed; else only the own ids.  A sandbox that can never
 * hold another id gains nothing from a range, and the two set-user-ID
 * helpers would cost more than the rest of its start. */
void ward_rootless_ids_plan(struct ward_rootless_ids *ids, bool want_range);
/* Does the policy make use of a range of ids (see above)? */
struct ward_policy;
bool ward_rootless_wants_range(const struct ward_policy *p, bool learn);
/* Write the maps of pid's (new) user namespace, from its parent: the
 * helpers, started at once and waited for together, or the kernel files
 * directly (own ids only; setgroups is then denied, as the kernel demands).
 * 0, or -1 with *err naming the helper and its message. */
int ward_rootless_write_maps(pid_t pid, const struct ward_rootless_ids *ids, ward_error_t *err);

/* Is pid (a socket peer, from SO_PEERCRED) in the caller's own user
 * namespace?  Rootless, every sandbox of a user runs as the user's uid: a
 * peer's uid cannot tell the user's own ward from a sandboxed program that
 * reached a socket of ward's, but the sandbox's user namespace (init's, or
 * the program's nested in it) is never the user's.  false when it cannot be
 * told (the process is gone, its /proc entry is closed to us). */
bool ward_peer_in_my_userns(pid_t pid);

#endif
