/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: minisign signature, public key and secret key files (the
 * first byte picks which), and verification of what parses. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bundle/bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A real key (minisign -G -W), so that verification runs to the end. */
static const char pub[] = "RWT5D7/jDjdfkT+LfaGMu/d1Tc4nufxKsAOutqFfJ5jmX7sUY1djxDv+";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data + 1;
	ward_error_t err = NULL;

	if (size < 1)
		return 0;
	size--;
	switch (data[0] % 3) {
	case 0: {
		struct ward_signature sig;
		struct ward_pubkey pk;

		if (ward_signature_parse(text, size, "fuzz", &sig, &err) == 0) {
			char *again = ward_signature_format(&sig);
			char *role = ward_trusted_comment_field(sig.trusted_comment, "role");

			if (ward_pubkey_parse(pub, strlen(pub), "pub", &pk, &err) < 0)
				abort();
			memcpy(pk.keyid, sig.keyid, sizeof(pk.keyid));
			ward_verify(&pk, &sig, "hello, ward\n", 12, &err);
			ward_error_free(&err);
			free(role);
			free(again);
			ward_signature_free(&sig);
		}
		break;
	}
	case 1: {
		struct ward_pubkey pk;

		if (ward_pubkey_parse(text, size, "fuzz", &pk, &err) == 0)
			free(ward_pubkey_format(&pk));
		break;
	}
	default: {
		struct ward_seckey sk;
		bool enc;

		/* No password: an encrypted key stops before scrypt. */
		if (ward_seckey_encrypted(text, size, "fuzz", &enc, &err) == 0)
			ward_seckey_parse(text, size, "fuzz", NULL, &sk, &err);
		break;
	}
	}
	ward_error_free(&err);
	return 0;
}
