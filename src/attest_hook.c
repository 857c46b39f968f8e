/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The measurement of a launch, at the command line's level: `ward run
 * BUNDLE` (always), `ward run --measure`, and any run that grants
 * api.attest.  It is taken from the very policy and options that ward_run()
 * receives next, after every decision (trust, operator additions, the
 * broker's name) and before anything of the sandbox exists: what is
 * measured is what is enforced, and nothing runs unmeasured (a failure
 * to measure refuses the launch).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attest/attest.h"
#include "attest_cli.h"
#include "bundle/bundle.h"
#include "entitlements.h"
#include "launch.h"
#include "net/net.h"
#include "rootless.h"
#include "util.h"

static void add_option(char ***v, size_t *n, char *s)
{
	*v = ward_xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = s;
}

/* Which signer granted a request of the bundle, "operator", or "default". */
static const char *granted_by(const struct ward_grant *g, const struct attest_hook_bundle *hb)
{
	size_t i;

	if (strcmp(g->origin, "default") == 0)
		return "default";
	if (hb == NULL || hb->rep == NULL)
		return "operator";
	for (i = 0; i < hb->b->manifest.reqs.n && i < hb->rep->n; i++) {
		const struct ward_decision *d = &hb->rep->items[i];

		if (strcmp(hb->b->manifest.reqs.items[i].origin, g->origin) != 0)
			continue;
		if (d->by_default)
			return "default";
		if (d->granted && d->signer)
			return d->signer->keyid;
		return "operator";
	}
	return "operator";
}

/* Does a grant of path a reach b (a is b or one of its ancestors), or is a
 * beneath b?  Both as the kernel resolves them, where they exist. */
static bool overlaps(const char *a, const char *b)
{
	char ra[PATH_MAX], rb[PATH_MAX];
	size_t na, nb;

	if (realpath(a, ra) == NULL)
		snprintf(ra, sizeof(ra), "%s", a);
	if (realpath(b, rb) == NULL)
		snprintf(rb, sizeof(rb), "%s", b);
	na = strlen(ra);
	nb = strlen(rb);
	if (strcmp(ra, "/") == 0 || strcmp(rb, "/") == 0)
		return true;
	if (na <= nb)
		return strncmp(ra, rb, na) == 0 && (rb[na] == '/' || rb[na] == '\0');
	return strncmp(ra, rb, nb) == 0 && ra[nb] == '/';
}

/* Rootless, the view covers this run's state directory and the user's
 * default one with an empty read-only tmpfs wherever a grant would show
 * them (lib/mount.c, hide_state): what lies beneath them is out of the
 * sandbox's reach whatever it is granted, so a grant of the home does not
 * need refusing for the attestation files kept there. */
static bool hidden_rootless(const char *path, const struct ward_run_options *o)
{
	cleanup_free char *def = NULL;
	char rp[PATH_MAX];
	const char *dirs[2];
	size_t i;

	if (!ward_rootless())
		return false;
	if (realpath(path, rp) == NULL) {
		/* Not there yet (the key of a first launch): its directory. */
		cleanup_free char *d = ward_xstrdup(path);
		char *slash = strrchr(d, '/');

		if (slash == NULL || slash == d)
			return false;
		*slash = '\0';
		if (realpath(d, rp) == NULL)
			return false;
	}
	def = ward_default_state_dir_path();
	dirs[0] = o->state_dir;
	dirs[1] = def;
	for (i = 0; i < 2; i++) {
		char rd[PATH_MAX];
		size_t n;

		if (dirs[i] == NULL || realpath(dirs[i], rd) == NULL)
			continue;
		n = strlen(rd);
		if (strncmp(rp, rd, n) == 0 && (rp[n] == '/' || rp[n] == '\0'))
			return true;
	}
	return false;
}

static int guard_refuse(const char *grant, const char *origin, const char *what, const char *path,
			ward_error_t *err)
{
	cleanup_free char *g = ward_escape(grant, 300);
	cleanup_free char *o = ward_escape(origin ? origin : "--allow", 100);

	return ward_error_set(err, EPERM,
			      "%s (%s) reaches %s %s: the sandbox could %s.  Grant a path that "
			      "neither contains it nor lies beneath it (or move ward's state "
			      "with --state-dir)",
			      g, o, what, path,
			      strstr(what, "key") ? "read the key that signs software-rooted "
						    "quotes, and forge them"
						  : "rewrite the measurement log and the records "
						    "that bind its quotes to environments");
}

int attest_hook_guard(const struct ward_policy *p, const struct ward_run_options *o, bool measured,
		      ward_error_t *err)
{
	struct ward_attest_config c;
	ward_error_t ignored = NULL;
	bool key, dir;
	size_t i;
	int rc = -1;

	/* Software or not, the key is guarded where it exists; a broken
	 * configuration is the measured launch's own refusal (it loads it
	 * next), not every run's. */
	if (ward_attest_config_load(o->state_dir, "none", &c, &ignored) < 0) {
		ward_error_free(&ignored);
		return 0;
	}
	/* An unmeasured launch where nothing was ever measured has no log to
	 * protect: what it could plant there, the first measured launch
	 * refuses or starts over (docs/threat-model/attest.md).  The key is
	 * guarded wherever it exists all the same: root's default key lies
	 * outside every state directory (/var/lib/ward/attest) and outlives
	 * an attestation directory in /run. */
	key = access(c.key, F_OK) == 0 && !hidden_rootless(c.key, o);
	dir = (measured || access(c.dir, F_OK) == 0) && !hidden_rootless(c.dir, o);
	if (!dir && !key) {
		ward_attest_config_free(&c);
		return 0;
	}
	for (i = 0; i < p->n_paths; i++) {
		const struct ward_path_grant *g = &p->paths[i];
		cleanup_free char *text =
			ward_xasprintf("%s=%s",
				       g->access & WARD_FS_WRITE
					       ? "fs.write"
					       : (g->access & WARD_FS_EXEC ? "fs.exec" : "fs.read"),
				       g->path);

		if (dir && (g->access & WARD_FS_WRITE) && overlaps(g->path, c.dir)) {
			guard_refuse(text, g->origin, "ward's attestation directory", c.dir, err);
			goto out;
		}
		if (key && overlaps(g->path, c.key)) {
			guard_refuse(text, g->origin, "the software-rooted host key", c.key, err);
			goto out;
		}
	}
	/* api.open: the broker opens files with the grant owner's rights. */
	for (i = 0; i < p->n_broker; i++) {
		const struct ward_broker_grant *b = &p->broker[i];
		cleanup_free char *text = NULL;

		if (b->kind != WARD_BROKER_OPEN || b->name == NULL)
			continue;
		text = ward_xasprintf("api.open=%s:%s", b->name, b->write ? "rw" : "ro");
		if (dir && b->write && overlaps(b->name, c.dir)) {
			guard_refuse(text, b->origin, "ward's attestation directory", c.dir, err);
			goto out;
		}
		if (key && overlaps(b->name, c.key)) {
			guard_refuse(text, b->origin, "the software-rooted host key", c.key, err);
			goto out;
		}
	}
	rc = 0;
out:
	ward_attest_config_free(&c);
	return rc;
}

int attest_hook_launch(const struct ward_policy *p, const struct ward_run_options *o,
		       const struct attest_hook_bundle *hb, struct attest_hook *h,
		       ward_error_t *err)
{
	struct ward_attest_launch l = {0};
	struct ward_attest_signer *signers = NULL;
	struct ward_attest_result res;
	cleanup_free char *body = NULL;
	size_t len, i, n_signers = 0;
	bool operator_part = false;
	int rc = -1;

	memset(h, 0, sizeof(*h));
	if (attest_hook_guard(p, o, true, err) < 0)
		return -1;
	if (ward_attest_config_load(o->state_dir, NULL, &h->cfg, err) < 0)
		return ward_error_wrap(err, "measured launch");
	h->loaded = true;
	if (ward_attest_self_digest(&h->cfg, l.ward, err) < 0)
		goto out;
	l.env = o->name;
	if (hb) {
		l.bundle = true;
		l.bundle_name = hb->b->manifest.name;
		l.bundle_version = hb->b->manifest.version;
		ward_attest_sha256(hb->b->manifest_text, hb->b->manifest_len, l.manifest);
		memcpy(l.rootfs, hb->b->manifest.rootfs_digest, 32);
		signers = ward_xcalloc(hb->n_signers + 1, sizeof(*signers));
		for (i = 0; i < hb->n_signers; i++) {
			const struct ward_signer *s = &hb->signers[i];
			char *roles = NULL;
			size_t r;

			/* Only the signers the decision could use. */
			if (s->status != WARD_SIGNER_TRUSTED || s->key == NULL)
				continue;
			roles = ward_xstrdup("");
			for (r = 0; r < s->key->n_roles; r++) {
				char *t = ward_xasprintf("%s%s%s", roles, r ? "," : "",
							 s->key->roles[r]);

				free(roles);
				roles = t;
			}
			memcpy(signers[n_signers].keyid, s->keyid,
			       sizeof(signers[n_signers].keyid));
			signers[n_signers].name = s->key->name ? s->key->name : "";
			signers[n_signers].roles = roles;
			signers[n_signers].signed_as = s->role ? s->role : "";
			n_signers++;
		}
		l.signers = signers;
		l.n_signers = n_signers;
	} else {
		l.rootfs_dir = o->rootfs;
	}
	l.grants = ward_xcalloc(p->n_grants + 1, sizeof(*l.grants));
	for (i = 0; i < p->n_grants; i++) {
		const struct ward_grant *g = &p->grants[i];
		const char *name = ward_entitlements[g->def].name;

		l.grants[i].text =
			g->value ? ward_xasprintf("%s=%s", name, g->value) : ward_xstrdup(name);
		l.grants[i].by = granted_by(g, hb);
		if (strcmp(l.grants[i].by, "operator") == 0)
			operator_part = true;
	}
	l.n_grants = p->n_grants;
	l.decision = hb ? (operator_part ? "trusted+operator" : "trusted") : "operator";
	/* What else decides what the sandbox may do, beyond its entitlements. */
	if (o->best_effort)
		add_option(&l.options, &l.n_options, ward_xstrdup("best-effort"));
	if (o->uid_base)
		add_option(&l.options, &l.n_options, ward_xasprintf("uid-base %u", o->uid_base));
	if (o->cgroup_root)
		add_option(&l.options, &l.n_options,
			   ward_xasprintf("cgroup-root %s", o->cgroup_root));
	if (o->hostname)
		add_option(&l.options, &l.n_options, ward_xasprintf("hostname %s", o->hostname));
	for (i = 0; i < o->n_publish; i++)
		add_option(&l.options, &l.n_options,
			   ward_xasprintf("publish %u:%u", o->publish[i].host_port,
					  o->publish[i].port));
	for (i = 0; i < o->n_hosts; i++) {
		uint32_t a = o->hosts[i].addr;

		add_option(&l.options, &l.n_options,
			   ward_xasprintf("add-host %s:%u.%u.%u.%u", o->hosts[i].name, a >> 24,
					  (a >> 16) & 255, (a >> 8) & 255, a & 255));
	}
	l.argv = o->argv;
	l.envp = o->env;
	l.n_envp = o->n_env;
	l.cwd = o->cwd;
	body = ward_attest_launch_body(&l, &len);
	if (ward_attest_measure(&h->cfg, body, len, &res, err) < 0) {
		ward_error_wrap(err, "measured launch");
		goto out;
	}
	h->measured = true;
	h->seq = res.seq;
	if (o->name) {
		if (ward_attest_env_record(&h->cfg, o->name, getpid(), &res, err) < 0)
			goto out;
		h->name = ward_xstrdup(o->name);
	}
	rc = 0;
out:
	for (i = 0; i < l.n_grants; i++)
		free(l.grants[i].text);
	free(l.grants);
	for (i = 0; i < l.n_options; i++)
		free(l.options[i]);
	free(l.options);
	for (i = 0; i < n_signers; i++)
		free((char *)signers[i].roles);
	free(signers);
	return rc;
}

void attest_hook_done(struct attest_hook *h)
{
	if (h->name)
		ward_attest_env_forget(&h->cfg, h->name, getpid());
	free(h->name);
	if (h->loaded)
		ward_attest_config_free(&h->cfg);
	memset(h, 0, sizeof(*h));
}
