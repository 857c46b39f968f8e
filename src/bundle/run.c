/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ward run BUNDLE: verify, apply the trust policy, resolve, run.
 *
 * The bundle asks for entitlements, signers vouch for them and the trust
 * policy says what each signer may vouch for: the bundle runs with what it
 * asks for only if every entitlement is granted.  The operator may add
 * entitlements on the command line (--allow, --manifest); each addition is
 * printed, so that nothing runs with more than the bundle's signers and the
 * operator agreed to, and the operator sees what they added.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "attest_cli.h"
#include "broker/broker_cli.h"
#include "bundle/bundle.h"
#include "bundle_cli.h"
#include "cli.h"
#include "util.h"

bool bundle_cli_is_bundle(const char *path)
{
	return ward_bundle_looks_like(path);
}

static bool same_request(const struct ward_request *a, const struct ward_request *b)
{
	if (strcmp(a->name, b->name) != 0)
		return false;
	if (a->value == NULL || b->value == NULL)
		return a->value == b->value;
	return strcmp(a->value, b->value) == 0;
}

static void push_request(struct ward_request_list *l, const struct ward_request *r)
{
	struct ward_request *n;

	l->items = ward_xrealloc(l->items, (l->n + 1) * sizeof(*l->items));
	n = &l->items[l->n++];
	n->name = ward_xstrdup(r->name);
	n->value = r->value ? ward_xstrdup(r->value) : NULL;
	n->origin = ward_xstrdup(r->origin);
}

static size_t env_name_len(const char *kv)
{
	const char *eq = strchr(kv, '=');

	return eq ? (size_t)(eq - kv) : strlen(kv);
}

int bundle_cli_run(const char *bundle, char **args, const struct ward_request_list *operator_reqs,
		   const char *trust, struct ward_run_options *o, char **env, size_t n_env,
		   int *status, ward_error_t *err)
{
	struct ward_bundle b = {.fd = -1};
	struct ward_trust t = {0};
	struct ward_trust_report rep = {0}, first = {0};
	struct attest_hook measured = {0};
	struct broker_attach ba = {.ctl = -1, .env_fd = -1};
	struct ward_signer *signers = NULL;
	struct policy_args pa = {0};
	struct ward_policy p = {0};
	cleanup_free char **argv = NULL, **envp = NULL;
	size_t n_signers = 0, i, j, n_args = 0, n = 0;
	bool own_cwd;
	int rc = -1;

	*status = WARD_EXIT_FAILURE;
	if (o->rootfs)
		return ward_error_set(err, EINVAL,
				      "%s: a bundle brings its own root filesystem; --rootfs does "
				      "not apply",
				      bundle);
	if (ward_bundle_open(bundle, &b, err) < 0)
		goto out;
	if (ward_trust_load(trust, &t, err) < 0)
		goto out;
	if (ward_bundle_signers(&b, &t, NULL, 0, time(NULL), &signers, &n_signers, err) < 0)
		goto out;
	bundle_cli_warn_signers(b.path, &t, signers, n_signers);
	/* Every entitlement the bundle asks for needs a trusted signer whose
	 * key may grant it, or the operator's own grant on the command line. */
	{
		struct ward_request_list need = {0}, by_operator = {0}, by_signers = {0};
		ward_error_t ignored = NULL;

		ward_trust_decide(&t, signers, n_signers, &b.manifest.reqs, &first, &ignored);
		ward_error_free(&ignored);
		for (i = 0; i < b.manifest.reqs.n; i++) {
			const struct ward_request *r = &b.manifest.reqs.items[i];
			const struct ward_request *op = NULL;

			for (j = 0; operator_reqs && j < operator_reqs->n && !op; j++)
				if (same_request(r, &operator_reqs->items[j]))
					op = &operator_reqs->items[j];
			if (i < first.n && first.items[i].granted)
				continue;
			if (op)
				push_request(&by_operator, op);
			else
				push_request(&need, r);
		}
		for (i = 0; i < b.manifest.reqs.n && i < first.n; i++)
			if (first.items[i].granted)
				push_request(&by_signers, &b.manifest.reqs.items[i]);
		/* Rootless: bounded by the system's policy (lib/bundle/extract.c). */
		rc = ward_trust_check_bound(&b, trust ? trust : ward_trust_default_path(),
					    &by_signers, err);
		ward_request_list_free(&by_signers);
		if (rc < 0) {
			ward_request_list_free(&need);
			ward_request_list_free(&by_operator);
			goto out;
		}
		rc = ward_trust_decide(&t, signers, n_signers, &need, &rep, err);
		ward_request_list_free(&need);
		if (rc < 0) {
			ward_error_wrap(err, "%s", b.path);
			ward_request_list_free(&by_operator);
			goto out;
		}
		rc = -1;
		for (i = 0; i < by_operator.n; i++) {
			const struct ward_request *r = &by_operator.items[i];

			fprintf(stderr,
				"ward: operator grants %s%s%s (%s), which the trust policy does "
				"not "
				"grant to the bundle's signers\n",
				r->name, r->value ? "=" : "", r->value ? r->value : "", r->origin);
		}
		ward_request_list_free(&by_operator);
	}

	/* What runs: the bundle's entitlements, plus the operator's, each
	 * printed when the bundle did not ask for it already. */
	for (i = 0; i < b.manifest.reqs.n; i++)
		push_request(&pa.reqs, &b.manifest.reqs.items[i]);
	for (i = 0; operator_reqs && i < operator_reqs->n; i++) {
		const struct ward_request *r = &operator_reqs->items[i];
		bool known = false;

		for (j = 0; j < b.manifest.reqs.n && !known; j++)
			known = same_request(r, &b.manifest.reqs.items[j]);
		if (!known)
			fprintf(stderr,
				"ward: operator adds %s%s%s (%s) beyond the bundle's signed "
				"entitlements\n",
				r->name, r->value ? "=" : "", r->value ? r->value : "", r->origin);
		push_request(&pa.reqs, r);
	}
	if (policy_args_resolve(&pa, &p, err) < 0)
		goto out;

	/* Nothing is written before the bundle is known to be trusted. */
	if (ward_bundle_extract(&b, o->state_dir, err) < 0)
		goto out;

	while (args && args[n_args])
		n_args++;
	argv = ward_xcalloc(b.manifest.argc + n_args + 1, sizeof(*argv));
	for (i = 0; i < b.manifest.argc; i++)
		argv[i] = b.manifest.argv[i];
	for (i = 0; i < n_args; i++)
		argv[b.manifest.argc + i] = args[i];
	/* The manifest's environment, then the operator's --setenv, which
	 * replaces a variable of the same name. */
	envp = ward_xcalloc(b.manifest.n_env + n_env + 1, sizeof(*envp));
	n = 0;
	for (i = 0; i < b.manifest.n_env; i++) {
		const char *kv = b.manifest.env[i];
		bool replaced = false;

		for (j = 0; j < n_env && !replaced; j++)
			replaced = env_name_len(env[j]) == env_name_len(kv) &&
				   strncmp(env[j], kv, env_name_len(kv)) == 0;
		if (!replaced)
			envp[n++] = b.manifest.env[i];
	}
	for (i = 0; i < n_env; i++)
		envp[n++] = env[i];

	o->argv = argv;
	o->rootfs = b.rootfs;
	o->env = envp;
	o->n_env = n;
	own_cwd = o->cwd == NULL;
	if (own_cwd)
		o->cwd = b.manifest.cwd;
	if (o->home == NULL)
		o->home = getenv("HOME");
	if (o->term == NULL)
		o->term = getenv("TERM");
	/* A bundle's environment with a name or a broker entitlement gets
	 * its descriptor to the broker, as `ward run --name` does. */
	if ((o->name || p.n_broker) && broker_cli_attach) {
		if (broker_cli_attach(&ba, o->state_dir, o->name, &p,
				      o->quiet_denials && !o->denials_log, err) < 0) {
			rc = -1;
			goto restore;
		}
		o->broker_fd = ba.env_fd;
		o->name = ba.name;
	}
	/* Measured launch: what runs next, exactly (src/attest_hook.c). */
	if (attest_hook_launch) {
		struct attest_hook_bundle hb = {&b, signers, n_signers, &first};

		if (attest_hook_launch(&p, o, &hb, &measured, err) < 0) {
			rc = -1;
			goto restore;
		}
	}
	rc = ward_run(&p, o, status, err);
restore:
	if (attest_hook_done)
		attest_hook_done(&measured);
	if (ba.env_fd > 2 || ba.ctl >= 0) {
		o->broker_fd = 0;
		o->name = NULL;
		broker_cli_detach(&ba);
	}
	if (own_cwd)
		o->cwd = NULL;
	o->rootfs = NULL;
	o->argv = NULL;
	o->env = NULL;
out:
	ward_policy_free(&p);
	policy_args_free(&pa);
	ward_trust_report_free(&rep);
	ward_trust_report_free(&first);
	ward_signers_free(signers, n_signers);
	ward_trust_free(&t);
	/* Removes the extracted root filesystem, on success and on failure. */
	ward_bundle_close(&b);
	return rc;
}
