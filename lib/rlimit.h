/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef WARD_RLIMIT_H
#define WARD_RLIMIT_H

#include "error.h"
#include "policy.h"

/* Check, without changing anything, that the policy's limits can be set
 * (no limit above the hard limit ward itself runs under). */
int ward_rlimits_check(const struct ward_policy *p, ward_error_t *err);
/* Apply: RLIMIT_CORE 0, RLIMIT_NOFILE = files.limit (soft and hard). */
int ward_rlimits_apply(const struct ward_policy *p, ward_error_t *err);

#endif
