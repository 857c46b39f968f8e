/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>

#include "entitlements.h"
#include "policy.h"

void ward_policy_free(struct ward_policy *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n_grants; i++) {
		free(p->grants[i].value);
		free(p->grants[i].origin);
	}
	for (i = 0; i < p->n_paths; i++) {
		free(p->paths[i].path);
		free(p->paths[i].origin);
	}
	for (i = 0; i < p->n_devices; i++) {
		free(p->devices[i].path);
		free(p->devices[i].origin);
	}
	for (i = 0; i < p->n_broker; i++) {
		free(p->broker[i].name);
		free(p->broker[i].origin);
	}
	for (i = 0; i < p->n_net_rules; i++) {
		free(p->net_rules[i].host);
		free(p->net_rules[i].origin);
	}
	free(p->net_rules);
	free(p->broker);
	free(p->grants);
	free(p->paths);
	free(p->devices);
	memset(p, 0, sizeof(*p));
}

const struct ward_grant *ward_policy_find(const struct ward_policy *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->n_grants; i++)
		if (strcmp(ward_entitlements[p->grants[i].def].name, name) == 0)
			return &p->grants[i];
	return NULL;
}
