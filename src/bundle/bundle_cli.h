/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `ward key`, `ward bundle`, `ward trust`, and `ward run BUNDLE`. */
#ifndef WARD_BUNDLE_CLI_H
#define WARD_BUNDLE_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "entitlements.h"
#include "error.h"
#include "launch.h"

/* Declared weak so that ward run builds while src/bundle is absent. */

/* Does the first operand of `ward run` name a bundle (a file ending in
 * .ward, or a directory holding manifest and rootfs/)? */
bool bundle_cli_is_bundle(const char *path) __attribute__((weak));

/* ward run BUNDLE [ARGS...]: verify the bundle, apply the trust policy
 * (trust: --trust FILE or NULL), add the operator's entitlements (printed),
 * resolve, and run the manifest's command (ARGS appended) with the bundle's
 * root filesystem.  o holds run's other options; env/n_env its --setenv. */
int bundle_cli_run(const char *bundle, char **args, const struct ward_request_list *operator_reqs,
		   const char *trust, struct ward_run_options *o, char **env, size_t n_env,
		   int *status, ward_error_t *err) __attribute__((weak));

/* Shared by the bundle commands (src/bundle/common.c). */

/* A password: from a file (first line), else asked on the terminal (twice
 * when confirm), else none (*out NULL).  prompt names the key. */
int bundle_cli_password(const char *file, const char *prompt, bool confirm, bool needed, char **out,
			ward_error_t *err);
void bundle_cli_password_free(char *pw);
/* "2026-11-23 06:57:54 UTC" */
void bundle_cli_time(time_t t, char *buf, size_t len);
/* Print s escaped (ward_escape), so that text from a bundle cannot drive
 * the terminal or forge a line. */
void bundle_cli_print_safe(FILE *f, const char *s);
struct ward_trust;
struct ward_signer;
/* One stderr line per signature that is ignored (does not verify, or is not
 * a signature at all). */
void bundle_cli_warn_signers(const char *bundle, const struct ward_trust *t,
			     const struct ward_signer *signers, size_t n);
/* The trust policy path: --trust, else $WARD_TRUST, else /etc/ward/trust. */
const char *bundle_cli_trust_path(const char *opt);

#endif
