/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The launcher: applies a resolved policy to a real process.
 *
 * Process tree:
 *   ward (supervisor, the caller's identity)
 *     └─ init  (pid 1 of the sandbox's pid namespace; host root in the new
 *        mount/pid/net/ipc/uts namespaces; builds the view, then only reaps
 *        and forwards signals)
 *          └─ program (in a new user namespace mapped to an unprivileged
 *             host uid range; all layers applied; execve)
 *
 * Exit status: the program's, 128+N when a signal N ended it, 125 when ward
 * failed, 126 when the program could not be executed, 127 when not found.
 */
#ifndef WARD_LAUNCH_H
#define WARD_LAUNCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "net/net.h"
#include "policy.h"

struct ward_learn;

#define WARD_EXIT_FAILURE   125
#define WARD_EXIT_CANNOT    126
#define WARD_EXIT_NOT_FOUND 127

/* Host uid pool: slot N is [BASE + N * SIZE, BASE + (N+1) * SIZE).  The
 * locks live in one host-wide directory, whatever --state-dir says: two
 * sandboxes with different state directories must never share a range. */
#define WARD_ID_POOL_BASE  0x70000000u
#define WARD_ID_POOL_SLOTS 1024u
#define WARD_ID_RANGE	   65536u
#define WARD_ID_POOL_DIR   "/run/ward/ids"

struct ward_run_options {
	char *const *argv;	 /* program and arguments */
	const char *rootfs;	 /* NULL: the host's system directories */
	bool best_effort;	 /* run even when a layer cannot be applied */
	const char *cgroup_root; /* NULL: /sys/fs/cgroup */
	uint32_t uid_base;	 /* 0: take a free range from the pool */
	const char *cwd;	 /* inside the sandbox; NULL: "/" (or HOME) */
	char *const *env;	 /* extra KEY=VALUE for the program */
	size_t n_env;
	const char *state_dir; /* NULL: /run/ward (seccomp cache, network slots) */
	/* The uid pool's lock directory; NULL: WARD_ID_POOL_DIR.  Not derived
	 * from state_dir on purpose; only tests point it elsewhere. */
	const char *id_pool_dir;
	const char *home;	  /* the caller's HOME, for HOME inside */
	const char *term;	  /* the caller's TERM */
	bool quiet;		  /* no warnings on stderr */
	bool quiet_denials;	  /* do not explain denied syscalls on stderr */
	const char *denials_log;  /* append every denial as a JSON line to this file */
	bool enable_audit;	  /* turn the kernel's audit on to explain Landlock's refusals */
	struct ward_learn *learn; /* ward learn: observe and record instead of deny */
	/* The environment's end of its broker connection (lib/broker/), handed
	 * to the program as fd WARD_RUN_BROKER_FD with WARD_BROKER_FD=3 and
	 * WARD_NAME=name in its environment.  0 or -1: none (descriptors 0-2
	 * are never it).  Best placed at fd 3 already: otherwise it is dup'ed
	 * onto 3 in the program, over whatever the launcher holds there. */
	int broker_fd;
	const char *name; /* the environment's name, as the broker knows it */
	/* Network (lib/net/net.c), for network.outbound/connect/listen: names for
	 * /etc/hosts and network.connect (--add-host), DNAT from host ports
	 * (--publish). */
	const struct ward_net_host *hosts;
	size_t n_hosts;
	const struct ward_net_publish *publish;
	size_t n_publish;
	const char *hostname; /* NULL: "ward" */
	/* > 2: once the program has been executed, write
	 * "ready pid=INIT address=A.B.C.D|-\n" here and close it (ward up).
	 * 0 or -1: none. */
	int notify_fd;
};

#define WARD_RUN_BROKER_FD 3

/* Run the program to completion.  *status gets the exit status to use. */
int ward_run(const struct ward_policy *p, const struct ward_run_options *o, int *status,
	     ward_error_t *err);

#endif
