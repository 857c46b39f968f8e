/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef WARD_EXPORT_INTERNAL_H
#define WARD_EXPORT_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>

#include "../error.h"
#include "../policy.h"

/* The seccomp object (Docker/podman profile, OCI linux.seccomp). */
json_t *ward_export_seccomp_json(const struct ward_policy *p, bool docker, ward_error_t *err);
const char *ward_export_native_arch(void);

#endif
