/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ward explain: the resolved policy, layer by layer, and defense in depth. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "explain.h"
#include "landlock.h"

#ifdef WARD_WITH_OCI
#include "oci/oci.h"
#endif

int cmd_explain(int argc, char **argv)
{
	static const struct option opts[] = {
		{"allow", required_argument, NULL, 'a'},
		{"manifest", required_argument, NULL, 'm'},
		{"json", no_argument, NULL, 'j'},
		{"landlock-abi", required_argument, NULL, 'L'},
		{"bundle", required_argument, NULL, 'b'},
		{"root", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct policy_args pa = {0};
	struct ward_policy p = {0};
	ward_error_t err = NULL;
	bool json = false;
	const char *bundle = NULL, *root = NULL;
	int c, status = 1, abi = -1;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "a:m:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (policy_args_allow(&pa, optarg, &err) < 0)
				goto fail;
			break;
		case 'm':
			if (policy_args_manifest(&pa, optarg, &err) < 0)
				goto fail;
			break;
		case 'j':
			json = true;
			break;
		case 'b':
			bundle = optarg;
			break;
		case 'r':
			root = optarg;
			break;
		case 'L': {
			char *end;

			abi = (int)strtol(optarg, &end, 10);
			if (*end || abi < 0 || abi > 100) {
				status = usage_error("explain",
						     "--landlock-abi %s: expected a "
						     "number from 0",
						     optarg);
				goto out;
			}
			break;
		}
		case 'h':
			printf("usage: ward explain [--allow NAME[=VALUE]]... [--manifest FILE]... "
			       "[--json]\n"
			       "       ward explain --bundle DIR [--root DIR] [--json]   (an OCI "
			       "bundle)\n"
			       "                    [--landlock-abi N]\n\n"
			       "Print what the entitlements compile to in each layer, and for each "
			       "sensitive\noperation which layers stop it (a warning where only "
			       "one "
			       "does).\n--landlock-abi shows the policy as a kernel with that "
			       "Landlock ABI would enforce it.\n"
			       "--root is the OCI runtime's state directory (ward --root: "
			       "containerd's\nRoot option plus the namespace, e.g. "
			       "/run/containerd/ward/k8s.io), where\nthe sandbox of a Kubernetes "
			       "pod's container is found.\n");
			status = 0;
			goto out;
		case ':':
			status =
				usage_error("explain", "option %s needs a value", argv[optind - 1]);
			goto out;
		default:
			status = usage_error("explain", "unknown option %s", argv[optind - 1]);
			goto out;
		}
	}
	if (optind < argc) {
		status = usage_error("explain", "unexpected argument \"%s\"", argv[optind]);
		goto out;
	}
	if (bundle) {
		/* An OCI bundle: its config.json merged with the entitlements of
		 * its org.ward.entitlements annotation. */
		if (pa.reqs.n) {
			status = usage_error("explain",
					     "--bundle takes the entitlements from the "
					     "bundle's annotation; drop --allow/--manifest");
			goto out;
		}
#ifdef WARD_WITH_OCI
		if (ward_oci_explain(bundle, root, stdout, json, &err) < 0)
			goto fail;
		status = 0;
#else
		status = usage_error("explain", "--bundle: this ward was built without the OCI "
						"runtime");
#endif
		goto out;
	}
	if (policy_args_resolve(&pa, &p, &err) < 0)
		goto fail;
	if (abi < 0)
		abi = ward_landlock_abi();
	if ((json ? ward_explain_json(&p, abi, stdout, &err)
		  : ward_explain_text(&p, abi, stdout, &err)) < 0)
		goto fail;
	status = 0;
	goto out;
fail:
	status = ward_error_print(&err);
out:
	ward_policy_free(&p);
	policy_args_free(&pa);
	return status;
}
