/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ward run: parse, resolve, launch, print the error once. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest_cli.h"
#include "broker/broker_cli.h"
#include "bundle/bundle_cli.h"
#include "cli.h"
#include "launch.h"
#include "util.h"

static void run_usage(FILE *f)
{
	fprintf(f,
		"usage: ward run [OPTIONS] [--] PROGRAM [ARGS...]\n"
		"       ward run [OPTIONS] BUNDLE [ARGS...]   (a .ward file or bundle directory)\n"
		"\n"
		"Run PROGRAM confined by every kernel layer its entitlements compile to.\n"
		"A signed bundle runs its own command with its own root filesystem, if the\n"
		"trust policy grants each of its entitlements (docs/bundles.md).\n"
		"\n"
		"  -a, --allow NAME[=VALUE]  grant an entitlement (repeatable; see `ward "
		"entitlements`)\n"
		"  -m, --manifest FILE       read entitlements from FILE, one per line "
		"(repeatable)\n"
		"      --rootfs DIR          use DIR as the root filesystem instead of the host's "
		"system dirs\n"
		"  -C, --chdir DIR           start in DIR inside the sandbox (default: HOME or /)\n"
		"  -e, --setenv NAME=VALUE   add to the program's clean environment (repeatable)\n"
		"      --name NAME           register the environment with the broker as NAME "
		"(its\n"
		"                            mailbox and identity; docs/broker.md)\n"
		"      --publish HPORT:PORT  forward the host's TCP port HPORT to PORT of the "
		"sandbox\n"
		"                            (needs network.listen=PORT; repeatable)\n"
		"      --add-host NAME:ADDR  NAME resolves to ADDR inside (/etc/hosts) and in\n"
		"                            network.connect=NAME:PORT (repeatable)\n"
		"      --hostname NAME       the sandbox's host name (default: ward)\n"
		"      --notify-fd N         write \"ready pid=P address=A\" to fd N once the "
		"program\n"
		"                            runs (used by ward up)\n"
		"      --best-effort         run even if a layer (Landlock, cgroups) cannot be "
		"applied,\n"
		"                            saying which guarantee is missing\n"
		"      --uid-base N          map the sandbox to host ids N..N+65535 instead of a "
		"free\n"
		"                            range of ward's pool\n"
		"      --cgroup-root DIR     cgroup hierarchy root (default /sys/fs/cgroup)\n"
		"      --state-dir DIR       ward's runtime state (default /run/ward)\n"
		"      --trust FILE          trust policy for bundles (default $WARD_TRUST or "
		"/etc/ward/trust)\n"
		"      --measure             measure this launch (a bundle's always is; so is one "
		"granted\n"
		"                            api.attest): docs/attestation.md\n"
		"      --quiet-denials       do not explain denied syscalls and refused files on "
		"stderr\n"
		"      --denials-log FILE    append every denial to FILE as a JSON line\n"
		"      --enable-audit        turn the kernel's audit subsystem on (host-wide, it "
		"stays on)\n"
		"                            so that Landlock's refusals are explained "
		"(docs/denials.md)\n"
		"  -q, --quiet               no warnings\n"
		"  -h, --help                this text\n"
		"\n"
		"Exit status: the program's; 128+N if signal N ended it; 125 if ward failed;\n"
		"126 if the program could not be executed; 127 if it was not found.\n");
}

static bool hostname_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{"allow", required_argument, NULL, 'a'},
		{"manifest", required_argument, NULL, 'm'},
		{"rootfs", required_argument, NULL, 'r'},
		{"chdir", required_argument, NULL, 'C'},
		{"setenv", required_argument, NULL, 'e'},
		{"best-effort", no_argument, NULL, 'B'},
		{"uid-base", required_argument, NULL, 'U'},
		{"cgroup-root", required_argument, NULL, 'G'},
		{"state-dir", required_argument, NULL, 'S'},
		{"quiet", no_argument, NULL, 'q'},
		{"quiet-denials", no_argument, NULL, 'Q'},
		{"denials-log", required_argument, NULL, 'D'},
		{"enable-audit", no_argument, NULL, 'A'},
		{"trust", required_argument, NULL, 'T'},
		{"name", required_argument, NULL, 'N'},
		{"publish", required_argument, NULL, 'P'},
		{"add-host", required_argument, NULL, 'H'},
		{"hostname", required_argument, NULL, 'n'},
		{"notify-fd", required_argument, NULL, 'F'},
		{"measure", no_argument, NULL, 'M'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct policy_args pa = {0};
	struct ward_run_options o = {0};
	struct ward_policy p = {0};
	ward_error_t err = NULL;
	cleanup_free char **env = NULL;
	const char *trust = NULL;
	struct broker_attach ba = {.ctl = -1, .env_fd = -1};
	struct attest_hook measured = {0};
	bool measure = false;
	struct ward_net_host *hosts = NULL;
	struct ward_net_publish *publish = NULL;
	size_t n_env = 0, n_hosts = 0, n_publish = 0, i;
	int c, rc, status = WARD_EXIT_FAILURE;

	opterr = 0;
	optind = 1;
	/* "+": stop at the first non-option, which is the program. */
	while ((c = getopt_long(argc, argv, "+a:m:C:e:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (policy_args_allow(&pa, optarg, &err) < 0)
				goto fail;
			break;
		case 'm':
			if (policy_args_manifest(&pa, optarg, &err) < 0)
				goto fail;
			break;
		case 'r':
			o.rootfs = optarg;
			break;
		case 'C':
			if (optarg[0] != '/') {
				status = usage_error("run",
						     "--chdir %s: give an absolute path inside "
						     "the sandbox",
						     optarg);
				goto out;
			}
			o.cwd = optarg;
			break;
		case 'e':
			env = ward_xrealloc(env, (n_env + 1) * sizeof(*env));
			env[n_env++] = optarg;
			break;
		case 'B':
			o.best_effort = true;
			break;
		case 'U': {
			uint64_t v;

			if (ward_parse_u64(optarg, &v) < 0 || v == 0 ||
			    v > 0xffffffffULL - WARD_ID_RANGE) {
				status = usage_error("run",
						     "--uid-base %s: expected a host uid above 0 "
						     "with room for 65536 ids",
						     optarg);
				goto out;
			}
			o.uid_base = (uint32_t)v;
			break;
		}
		case 'G':
			o.cgroup_root = optarg;
			break;
		case 'S':
			o.state_dir = optarg;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'Q':
			o.quiet_denials = true;
			break;
		case 'D':
			o.denials_log = optarg;
			break;
		case 'A':
			o.enable_audit = true;
			break;
		case 'T':
			trust = optarg;
			break;
		case 'N':
			if (!broker_cli_name_ok || !broker_cli_name_ok(optarg)) {
				status = usage_error(
					"run", "--name %s: a name is 1 to 64 of a-z 0-9 . _ -",
					optarg);
				goto out;
			}
			o.name = optarg;
			break;
		case 'P':
			publish = ward_xrealloc(publish, (n_publish + 1) * sizeof(*publish));
			if (ward_net_parse_publish(optarg, &publish[n_publish], &err) < 0)
				goto usage_err;
			n_publish++;
			break;
		case 'H':
			hosts = ward_xrealloc(hosts, (n_hosts + 1) * sizeof(*hosts));
			if (ward_net_parse_host(optarg, &hosts[n_hosts], &err) < 0)
				goto usage_err;
			n_hosts++;
			break;
		case 'n':
			if (!hostname_ok(optarg)) {
				status = usage_error(
					"run",
					"--hostname %s: 1 to 63 of a-z A-Z 0-9 and '-', "
					"not starting or ending with '-'",
					optarg);
				goto out;
			}
			o.hostname = optarg;
			break;
		case 'F': {
			uint64_t v;

			if (ward_parse_u64(optarg, &v) < 0 || v < 3 || v > 1023 ||
			    fcntl((int)v, F_GETFD) < 0) {
				status = usage_error("run",
						     "--notify-fd %s: give an open descriptor "
						     "number above 2",
						     optarg);
				goto out;
			}
			/* Moved above the low descriptors at once: the broker
			 * attachment puts the environment's descriptor at fd 3
			 * (what the program gets), and `ward up` passes the
			 * notify descriptor as 3, which dup3() would close.
			 * Close-on-exec: the program must never hold it (it
			 * could claim readiness). */
			o.notify_fd = fcntl((int)v, F_DUPFD_CLOEXEC, 10);
			if (o.notify_fd < 0) {
				status = usage_error("run", "--notify-fd %s: %s", optarg,
						     strerror(errno));
				goto out;
			}
			close((int)v);
			break;
		}
		case 'M':
			measure = true;
			break;
		case 'h':
			run_usage(stdout);
			status = 0;
			goto out;
		case ':':
			status = usage_error("run", "option %s needs a value", argv[optind - 1]);
			goto out;
		case '?':
		default:
			status = usage_error("run", "unknown option %s", argv[optind - 1]);
			goto out;
		}
	}
	if (optind >= argc) {
		status =
			usage_error("run", "no program given (write: ward run [OPTIONS] -- PROGRAM "
					   "[ARGS...])");
		goto out;
	}
	o.hosts = hosts;
	o.n_hosts = n_hosts;
	o.publish = publish;
	o.n_publish = n_publish;
	/* ward run [OPTIONS] BUNDLE [ARGS...] (not after "--"): src/bundle/run.c. */
	if (bundle_cli_run && strcmp(argv[optind - 1], "--") != 0 &&
	    bundle_cli_is_bundle(argv[optind])) {
		if (bundle_cli_run(argv[optind], argv + optind + 1, &pa.reqs, trust, &o, env, n_env,
				   &status, &err) < 0)
			goto fail;
		goto out;
	}
	if (policy_args_resolve(&pa, &p, &err) < 0)
		goto fail;

	o.argv = argv + optind;
	o.env = env;
	o.n_env = n_env;
	o.home = getenv("HOME");
	o.term = getenv("TERM");
	/* An environment with a name or a broker entitlement gets its one
	 * descriptor to the broker (started on demand). */
	if ((o.name || p.n_broker) && broker_cli_attach) {
		if (broker_cli_attach(&ba, o.state_dir, o.name, &p,
				      o.quiet_denials && !o.denials_log, &err) < 0)
			goto fail;
		o.broker_fd = ba.env_fd;
		o.name = ba.name;
	}
	/* Measured launch (src/attest_hook.c): on request, and whenever the
	 * environment may ask for an attestation of its own launch. */
	if ((measure || ward_policy_find(&p, "api.attest")) && attest_hook_launch &&
	    attest_hook_launch(&p, &o, NULL, &measured, &err) < 0) {
		if (o.broker_fd > 2)
			broker_cli_detach(&ba);
		goto fail;
	}
	/* Unmeasured, the sandbox still must not reach the log that later
	 * launches are measured into. */
	if (!measured.measured && attest_hook_guard && attest_hook_guard(&p, &o, false, &err) < 0) {
		if (o.broker_fd > 2)
			broker_cli_detach(&ba);
		goto fail;
	}
	rc = ward_run(&p, &o, &status, &err);
	if (attest_hook_done)
		attest_hook_done(&measured);
	if (o.broker_fd > 2)
		broker_cli_detach(&ba);
	if (rc < 0)
		goto fail;
	goto out;
usage_err:
	status = usage_error("run", "%s", err->msg);
	ward_error_free(&err);
	goto out;
fail:
	status = ward_error_print(&err);
	if (status < 2 || status == 1)
		status = WARD_EXIT_FAILURE;
out:
	for (i = 0; i < n_hosts; i++)
		free(hosts[i].name);
	free(hosts);
	free(publish);
	ward_policy_free(&p);
	policy_args_free(&pa);
	return status;
}
