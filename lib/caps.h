/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The capability layer: bounding, permitted, effective, inheritable, ambient,
 * securebits.  And no_new_privs. */
#ifndef WARD_CAPS_H
#define WARD_CAPS_H

#include <linux/capability.h>
#include <stdint.h>

#include "error.h"
#include "policy.h"

/*
 * Capabilities no sandbox ever holds, whatever it is granted: CAP_FSETID.
 * With it, chmod or a new file in a set-group-ID directory may keep
 * S_ISGID for a group the writer is not in, so a second layer behind the
 * syscall filter's mode rules (seccomp/profile.c): a fs.write grant makes
 * the sandbox's root the owner of the granted files on the host.  (Writing
 * into a set-id file clears S_ISUID, and S_ISGID of a group-executable
 * file, whatever the writer holds, on the kernels ward runs on.)  Inside
 * the sandbox it is useless: every mount is nosuid and no_new_privs is set.
 * ward_caps_drop_bounding() refuses it.
 *
 * CAP_SETFCAP (write security.capability) is granted by security.admin
 * only, because the kernel requires it of a process whose child user
 * namespace maps uid 0 (unshare -Ur, container tools); the syscall filter
 * refuses file-capability-sized extended attributes whenever a policy
 * holds it (seccomp/profile.c).
 */
#define WARD_CAPS_NEVER (UINT64_C(1) << CAP_FSETID)

const char *ward_cap_name(int cap);	  /* "CAP_SYS_ADMIN" or NULL */
int ward_cap_from_name(const char *name); /* accepts "CAP_X" and "x"; -1 if unknown */
int ward_cap_last(void);		  /* highest capability the kernel knows */

/* Step 1, before Landlock and seccomp: drop every capability not in keep from
 * the bounding set, lock securebits so uid 0 is not special (SECBIT_NOROOT and
 * friends), and set inheritable = keep.  Permitted/effective keep what the
 * remaining setup steps need. */
int ward_caps_drop_bounding(uint64_t keep, ward_error_t *err);
/* Step 2, last before execve: raise keep as ambient capabilities so they
 * survive execve, and trim permitted/effective to keep. */
int ward_caps_finish(uint64_t keep, ward_error_t *err);
int ward_set_no_new_privs(ward_error_t *err);

#endif
