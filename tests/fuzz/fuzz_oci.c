/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: an OCI config.json as ward reads it (lib/oci/config.c), bounded
 * by its org.ward.entitlements annotation (entitle.c, entitle_fs.c), and its
 * linux.seccomp compiled (seccomp_oci.c).  Invariants of a config the
 * entitlements accept: no capability beyond the policy's, no_new_privs unless
 * process.setuid, a user namespace, no namespace joined by path, no hook, and
 * every bind mount's source opened. */
#define _GNU_SOURCE
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci/internal.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char bundle[64];

static void cleanup(void)
{
	char rootfs[96];

	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", bundle);
	(void)rmdir(rootfs);
	(void)rmdir(bundle);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char rootfs[96];

	(void)argc;
	(void)argv;
	/* A bundle with a rootfs, so that root.path "rootfs" is accepted. */
	snprintf(bundle, sizeof(bundle), "/tmp/ward-fuzz-oci-XXXXXX");
	if (mkdtemp(bundle) == NULL)
		abort();
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", bundle);
	(void)mkdir(rootfs, 0755);
	atexit(cleanup);
	return 0;
}

static void check(const struct ward_oci_config *c, const struct oci_entitlements *e)
{
	const struct ward_oci_caps *k = &c->process.caps;
	uint64_t all = k->bounding | k->effective | k->permitted | k->inheritable | k->ambient;
	size_t i;

	if (all & ~e->policy.caps)
		abort();
	if (!e->policy.setuid && !c->process.no_new_privileges)
		abort();
	if (!ward_oci_ns_find(c, CLONE_NEWUSER))
		abort();
	for (i = 0; i < c->n_namespaces; i++)
		if (c->namespaces[i].path)
			abort();
	for (i = 0; i < WARD_HOOK_NKINDS; i++)
		if (c->hooks[i].n)
			abort();
	if (e->n_srcs != c->n_mounts)
		abort();
	for (i = 0; i < c->n_mounts; i++) {
		struct ward_oci_mount_flags f;

		ward_oci_mount_flags_parse(&c->mounts[i], &f);
		if (f.bind && e->srcs[i].fd < 0)
			abort();
		if (!(f.set & MS_NOSUID))
			abort();
		ward_oci_mount_flags_free(&f);
	}
	if (e->root.fd < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ward_oci_config c;
	struct oci_entitlements e;
	struct oci_seccomp sc;
	ward_error_t err = NULL;

	memset(&e, 0, sizeof(e));
	e.root.fd = -1;
	memset(&sc, 0, sizeof(sc));
	if (ward_oci_config_parse((const char *)data, size, bundle, &c, &err) == 0) {
		if (ward_oci_entitlements_apply(&c, "fuzz", NULL, &e, &err) == 0) {
			if (e.present)
				check(&c, &e);
			if (c.seccomp &&
			    ward_oci_seccomp_compile(c.seccomp, c.path, &sc, &err) == 0)
				ward_oci_seccomp_free(&sc);
		}
		ward_oci_entitlements_free(&e);
	}
	ward_error_free(&err);
	ward_oci_config_free(&c);
	return 0;
}
