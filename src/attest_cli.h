/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Measured launch at the command line's level (src/attest_hook.c) and
 * `ward attest` (src/attest.c). */
#ifndef WARD_ATTEST_CLI_H
#define WARD_ATTEST_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "attest/attest.h"
#include "error.h"
#include "launch.h"
#include "policy.h"

struct ward_bundle;
struct ward_signer;
struct ward_trust_report;

/* What a bundle's launch adds to its measurement. */
struct attest_hook_bundle {
	const struct ward_bundle *b;
	const struct ward_signer *signers;
	size_t n_signers;
	const struct ward_trust_report *rep; /* the decision on b's own requests */
};

struct attest_hook {
	struct ward_attest_config cfg;
	bool loaded, measured;
	uint64_t seq;
	char *name; /* the environment whose launch record to remove at the end */
};

/* Measure the launch ward_run(p, o) is about to make (hb: of a bundle).
 * Declared weak: ward builds without lib/attest. */
int attest_hook_launch(const struct ward_policy *p, const struct ward_run_options *o,
		       const struct attest_hook_bundle *hb, struct attest_hook *h,
		       ward_error_t *err) __attribute__((weak));
/* Refuse a policy whose fs.write or api.open grants reach the attestation
 * directory (the log, the records binding quotes to environments), or
 * whose grants reach the software host key: for every launch, measured or
 * not, as the sandbox would outlive the run's measurement. */
int attest_hook_guard(const struct ward_policy *p, const struct ward_run_options *o, bool measured,
		      ward_error_t *err) __attribute__((weak));
/* After the program ended. */
void attest_hook_done(struct attest_hook *h) __attribute__((weak));

int cmd_attest(int argc, char **argv) __attribute__((weak));

#endif
