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
 * Capabilities no sandbox ever holds, whatever it is granted: CAP_FSETID
 * (keep S_ISUID/S_ISGID when writing a set-id file, set S_ISGID without
 * being in the group) and CAP_SETFCAP (write security.capability).  A
 * fs.write grant makes the sandbox's root the owner of the granted files
 * on the host, so with either of them a program could leave a privileged
 * file there; inside the sandbox they are useless, since every mount is
 * nosuid and no_new_privs is set.  ward_caps_drop_bounding() refuses them.
 */
#define WARD_CAPS_NEVER ((UINT64_C(1) << CAP_FSETID) | (UINT64_C(1) << CAP_SETFCAP))

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
