/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: the trust policy file, and matching its patterns against a
 * fixed set of requests. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bundle/bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const requests[] = {
	"network.loopback", "network.host",	   "fs.read=/srv/a/b",	    "fs.read=/srv/../etc",
	"fs.write=~/x",	    "process.limit=64",	   "memory.limit=2G",	    "cpu.limit=0.5",
	"ipc.send=logger",  "network.listen=8080", "host.devices=/dev/kvm",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ward_trust t;
	ward_error_t err = NULL;
	size_t i, j, k;

	if (ward_trust_parse((const char *)data, size, "fuzz:trust", &t, &err) < 0) {
		ward_error_free(&err);
		return 0;
	}
	{
		struct ward_request_list l = {0};
		struct ward_signer *s = calloc(t.n_keys + 1, sizeof(*s));
		struct ward_trust_report rep;

		for (i = 0; i < sizeof(requests) / sizeof(requests[0]); i++)
			ward_parse_allow(&l, requests[i], "fuzz", &err);
		for (i = 0; i < t.n_keys; i++) {
			s[i].file = "manifest.minisig";
			memcpy(s[i].keyid, t.keys[i].keyid, sizeof(s[i].keyid));
			s[i].role = "";
			s[i].key = &t.keys[i];
			s[i].status = (enum ward_signer_status)(i % 6);
			for (j = 0; j < t.keys[i].n_may; j++)
				for (k = 0; k < l.n; k++)
					ward_trust_pattern_match(&t.keys[i].may[j], &l.items[k]);
		}
		ward_trust_decide(&t, s, t.n_keys, &l, &rep, &err);
		ward_error_free(&err);
		ward_trust_report_free(&rep);
		ward_request_list_free(&l);
		free(s);
	}
	ward_trust_free(&t);
	return 0;
}
