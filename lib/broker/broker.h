/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The broker (docs/broker.md): one daemon per host (per user when rootless)
 * through which isolated environments talk.  Each environment holds one
 * descriptor, the broker's end of which identifies it; every request on it
 * is checked against the environment's entitlements (ipc.*, service.*,
 * api.open).
 *
 *   proto.c     the wire format (pure; also in libward-client)
 *   wire.c      one packet in or out, with a descriptor (libc only)
 *   policy.c    which grant allows a request (pure)
 *   open.c      api.open: openat2 beneath the granted directory
 *   daemon.c    the event loop: mailboxes, services, ps
 *   control.c   the operator's side: start on demand, register, ps, send
 */
#ifndef WARD_BROKER_H
#define WARD_BROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../error.h"
#include "../policy.h"
#include "proto.h"

/* Inside the environment: the broker descriptor is this fd, and
 * WARD_BROKER_FD=3 and WARD_NAME=<name> are in the environment. */
#define WARD_BROKER_FD 3

#define WARD_BROKER_SOCK "broker.sock"
#define WARD_BROKER_LOCK "broker.lock"
#define WARD_BROKER_PID	 "broker.pid"
#define WARD_BROKER_LOG	 "broker.log"

#define WARD_BROKER_DEFAULT_DEPTH 256u	     /* messages per mailbox */
#define WARD_BROKER_DEFAULT_BYTES (4u << 20) /* bytes per mailbox */

/* The log (lib/broker/log.c): broker.log is renamed to broker.log.1 when it
 * would pass LOG_MAX bytes; a string from an environment is logged escaped
 * and cut to LOG_STR bytes; an environment's refusals are logged DENY_BURST
 * at once, then DENY_RATE a second, and the rest counted. */
#define WARD_BROKER_LOG_MAX    (4u << 20)
#define WARD_BROKER_LOG_STR    200u
#define WARD_BROKER_DENY_BURST 20u
#define WARD_BROKER_DENY_RATE  2u

/* The broker's directory: dir if given, else $WARD_STATE_DIR, else
 * /run/ward (root) or $XDG_RUNTIME_DIR/ward (rootless).  Allocated. */
char *ward_broker_dir(const char *dir);

struct ward_remote_config;

/* ---- pure policy (policy.c) ---- */

/* Does pattern ("db", "db-*", "*") match the exact name? */
bool ward_broker_name_match(const char *pattern, const char *name);
/* The first grant of KIND whose pattern matches name, or NULL. */
const struct ward_broker_grant *ward_broker_allows(const struct ward_broker_grant *g, size_t n,
						   enum ward_broker_kind kind, const char *name);
/* api.open: the grant to resolve path beneath (the deepest one containing
 * it, component by component, that allows the access).  *rel gets the rest
 * of the path ("" for the granted path itself).  NULL when none; then
 * *readonly_match tells whether a read-only grant contained it. */
const struct ward_broker_grant *ward_broker_open_grant(const struct ward_broker_grant *g, size_t n,
						       const char *path, bool write,
						       const char **rel, bool *readonly_match);
/* The entitlement text of a grant: "ipc.send=db", "api.open=/srv:ro". */
char *ward_broker_grant_text(const struct ward_broker_grant *g);
/* Does the policy ask for the broker at all? */
bool ward_policy_uses_broker(const struct ward_policy *p);
/* Parse entitlement texts (as REGISTER carries them) into broker grants
 * with the one resolver, so the broker accepts exactly what ward run does. */
int ward_broker_grants_parse(char *const *ents, size_t n, struct ward_policy *out,
			     ward_error_t *err);

/* ---- packets (wire.c) ---- */

/* Send one packet, with a descriptor when pass_fd >= 0.  flags are
 * MSG_* (MSG_DONTWAIT); MSG_NOSIGNAL is always added.  -1 with errno. */
ssize_t ward_wire_send(int sock, const void *buf, size_t len, int pass_fd, int flags);
/* Receive one packet; a descriptor that came with it goes to *fd_out (or
 * is closed when fd_out is NULL; -1 when none).  *truncated is set when the
 * packet was larger than cap.  Returns the length (0: end of stream), or -1
 * with errno. */
ssize_t ward_wire_recv(int sock, void *buf, size_t cap, int *fd_out, bool *truncated, int flags);

/* ---- api.open (open.c) ---- */

/* Open path for an environment with the grants it holds.  Returns a
 * descriptor, or -errno with *why (static or in whybuf) and *missing (the
 * entitlement that would allow it, in missbuf, or "" when none would). */
int ward_broker_open(const struct ward_broker_grant *g, size_t n, const char *path, unsigned flags,
		     char *whybuf, size_t whysize, char *missbuf, size_t misssize);

/* ---- the daemon (daemon.c) ---- */

struct ward_broker_options {
	const char *dir;      /* from ward_broker_dir() */
	bool foreground;      /* stay attached, log to stderr */
	bool on_demand;	      /* another broker running is not an error */
	unsigned queue_depth; /* 0: WARD_BROKER_DEFAULT_DEPTH */
	unsigned queue_bytes; /* 0: WARD_BROKER_DEFAULT_BYTES */
	size_t log_max;	      /* 0: WARD_BROKER_LOG_MAX */
	/* mailboxes across hosts (lib/broker/remote.h, docs/remote.md): NULL
	 * or no host for a local-only broker; its allocations pass to the
	 * broker */
	const struct ward_remote_config *remote;
};

/* Take the lock, bind the socket, and serve until SIGTERM or SIGINT.
 * Without foreground, the caller returns 0 with *detached set once the
 * socket listens, and a daemon serves.  *already is set (and 0 returned)
 * when on_demand and another broker holds the lock. */
int ward_broker_serve(const struct ward_broker_options *o, bool *detached, bool *already,
		      ward_error_t *err);

/* ---- the operator's side (control.c) ---- */

/* Is dir fit to be the broker's directory: a directory (not a link),
 * owned by us or root, writable by nobody else?  0, or -1 with err. */
int ward_broker_dir_check(const char *dir, ward_error_t *err);

/* Connect to the broker's control socket in dir.  When start_exe is not
 * NULL and nothing listens, start "start_exe broker --on-demand" and wait
 * for it.  Returns the descriptor. */
int ward_broker_connect(const char *dir, const char *start_exe, ward_error_t *err);

/* Register an environment: its name (NULL: the broker picks one), the
 * broker grants of its policy and the supervisor's pid.  *env_fd gets the
 * environment's end of its broker connection; *assigned the name (allocated). */
int ward_broker_register(int ctl, const char *name, const struct ward_policy *p, pid_t pid,
			 int *env_fd, char **assigned, ward_error_t *err);

/* Wait for the next DENIED notice on a control connection and format it
 * ("denied send to \"db\" by \"web\" - grant ipc.send=db to allow") into
 * buf.  Returns 1, 0 at end of stream, -1 on error. */
int ward_broker_next_denial(int ctl, char *buf, size_t size);

/* One environment as `ward ps` shows it. */
struct ward_broker_env_info {
	char name[WARD_PROTO_MAX_NAME + 1];
	pid_t pid;
	bool mailbox;
	unsigned depth, limit;
	char **ents; /* entitlement texts */
	size_t n_ents;
	char **services; /* services it provides now */
	size_t n_services;
};

int ward_broker_ps(int ctl, struct ward_broker_env_info **out, size_t *n, ward_error_t *err);
/* The same, and *remote (allocated, or left NULL) the state of the link to
 * other hosts (docs/remote.md): its lines as `ward ps` prints them. */
int ward_broker_ps_remote(int ctl, struct ward_broker_env_info **out, size_t *n, char **remote,
			  ward_error_t *err);
void ward_broker_env_info_free(struct ward_broker_env_info *v, size_t n);

/* Send data to the mailbox name with the operator's rights. */
int ward_broker_send(int ctl, const char *name, const void *data, size_t len, bool wait,
		     ward_error_t *err);

#endif
