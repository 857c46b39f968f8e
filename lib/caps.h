/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The capability layer: bounding, permitted, effective, inheritable, ambient,
 * securebits.  And no_new_privs. */
#ifndef WARD_CAPS_H
#define WARD_CAPS_H

#include <stdint.h>

#include "error.h"
#include "policy.h"

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
