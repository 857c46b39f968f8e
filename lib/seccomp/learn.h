/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ward learn: record what a program does under observation, and write the
 * smallest manifest that lets it run.
 *
 * The recorder is fed by the seccomp notification handler (notify.c) with
 * every observed call: denied syscalls, file opens and changes, executions,
 * sockets and their addresses, process creation.  The manifest writer is
 * pure: it turns the recording into entitlements, each with a comment that
 * says why it is there.
 */
#ifndef WARD_SECCOMP_LEARN_H
#define WARD_SECCOMP_LEARN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "../error.h"

#define WARD_LEARN_READ	 0x1u
#define WARD_LEARN_WRITE 0x2u
#define WARD_LEARN_EXEC	 0x4u
#define WARD_LEARN_DIR	 0x8u /* the path is (or was opened as) a directory */

struct ward_learn;

struct ward_learn *ward_learn_new(void);
void ward_learn_free(struct ward_learn *l);

/* From the notification handler: one observed call of process pid (host
 * pid; its memory and /proc entries are read for paths and addresses). */
void ward_learn_syscall(struct ward_learn *l, pid_t pid, const char *name, const char *key,
			const uint64_t *args);

/* Add everything from recorded (one observed call, read into a recorder of
 * its own) to l: the notification handler records a call only once the
 * kernel has confirmed that the caller it read from is still the one. */
void ward_learn_merge(struct ward_learn *l, const struct ward_learn *from);

/* Recording primitives (also used by the unit tests). */
void ward_learn_path(struct ward_learn *l, const char *path, unsigned access);
void ward_learn_denied(struct ward_learn *l, const char *syscall, const char *key);
void ward_learn_inet(struct ward_learn *l, int family, const char *addr, unsigned port,
		     bool loopback, bool listen);
void ward_learn_process(struct ward_learn *l);
void ward_learn_memory_peak(struct ward_learn *l, uint64_t bytes);

struct ward_learn_context {
	const char *command; /* the command line, for the header comment */
	const char *home;    /* the caller's HOME: paths under it are host-specific */
	/* Does a path exist on the host, and is it a directory?  (NULL: assume
	 * files; the unit tests pass a fake.) */
	int (*stat_kind)(const char *path); /* -1 missing, 0 file, 1 directory */
};

/* Write the manifest.  Returns the number of entitlements written. */
int ward_learn_write_manifest(const struct ward_learn *l, const struct ward_learn_context *ctx,
			      FILE *out);

#endif
