/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: the space file parser (lib/space/), and the invariants of what
 * it accepts: the start order is a permutation with every environment after
 * the ones it connects to. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "space/space.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ward_space s;
	ward_error_t err = NULL;
	size_t i, j, k;

	if (ward_space_parse(&s, "fuzz/space.toml", "/fuzz", (const char *)data, size, &err) == 0) {
		bool *started = calloc(s.n_envs ? s.n_envs : 1, sizeof(bool));

		if (started == NULL || s.name == NULL || s.n_envs == 0)
			abort();
		for (i = 0; i < s.n_envs; i++) {
			const struct ward_space_env *env = &s.envs[s.order[i]];

			if (s.order[i] >= s.n_envs || started[s.order[i]] || env->argv == NULL)
				abort();
			if (env->argc == 0 && env->bundle == NULL)
				abort();
			for (j = 0; j < env->n_deps; j++)
				if (!started[env->deps[j]])
					abort();
			for (k = 1; k < env->n_listen; k++)
				if (env->listen[k - 1] >= env->listen[k])
					abort();
			started[s.order[i]] = true;
		}
		free(started);
		ward_space_free(&s);
	} else if (err == NULL || s.envs != NULL || s.name != NULL) {
		abort();
	}
	ward_error_free(&err);
	return 0;
}
