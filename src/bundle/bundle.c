/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ward bundle: create, sign, verify, digest. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bundle/bundle.h"
#include "bundle_cli.h"
#include "cli.h"
#include "util.h"

int cmd_bundle(int argc, char **argv);

static void bundle_usage(FILE *f)
{
	fprintf(f,
		"usage: ward bundle create --rootfs DIR --cmd PROGRAM -o OUT [OPTIONS]\n"
		"       ward bundle sign --key FILE.key [--role ROLE] [--password-file FILE] "
		"BUNDLE\n"
		"       ward bundle verify [--trust FILE] [--key FILE.pub]... BUNDLE\n"
		"       ward bundle digest [--list] DIR\n"
		"\n"
		"A bundle is a root filesystem and a manifest (its entitlements, command and\n"
		"the digest of the root filesystem), signed with minisign keys.  OUT ending in\n"
		"\".ward\" makes a tar file, anything else a directory.  `ward run BUNDLE` runs\n"
		"it when the trust policy grants every entitlement it asks for.\n"
		"\n"
		"create:\n"
		"  --rootfs DIR          the root filesystem\n"
		"  -m, --manifest FILE   the entitlements (ward's manifest syntax)\n"
		"  --cmd PROGRAM         what runs; --arg ARG adds arguments (repeatable)\n"
		"  --env NAME=VALUE      environment (repeatable); --cwd DIR working directory\n"
		"  --name NAME, --version VERSION   metadata (name: OUT's base name)\n"
		"  --owner UID:GID       record every file as owned by UID:GID\n"
		"  --strip-setuid        clear setuid/setgid bits instead of refusing them\n"
		"  --skip-special        leave device nodes, fifos, sockets out instead of "
		"refusing\n"
		"  --force               replace OUT\n"
		"sign:\n"
		"  --key FILE.key        a minisign secret key (ward key generate, minisign -G)\n"
		"  --role ROLE           publisher (default), reviewer, ...: in the trusted "
		"comment\n"
		"  --legacy              a legacy (\"Ed\", not prehashed) signature\n"
		"verify:\n"
		"  --trust FILE          the trust policy (default: $WARD_TRUST or "
		"/etc/ward/trust)\n"
		"  --key FILE.pub        also check signatures by this key (not trusted for "
		"grants)\n");
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int parse_owner(const char *s, uint32_t *uid, uint32_t *gid)
{
	unsigned long u, g;
	char *end;

	errno = 0;
	u = strtoul(s, &end, 10);
	if (end == s || *end != ':' || errno)
		return -1;
	s = end + 1;
	g = strtoul(s, &end, 10);
	if (end == s || *end != '\0' || errno || u >= UINT32_MAX || g >= UINT32_MAX)
		return -1;
	*uid = (uint32_t)u;
	*gid = (uint32_t)g;
	return 0;
}

/* Check the entitlements as ward run would, before they are signed. */
static int check_entitlements(const char *text, size_t len, const char *path, ward_error_t *err)
{
	struct policy_args pa = {0};
	struct ward_policy p = {0};
	int rc;

	rc = ward_parse_manifest(&pa.reqs, text, len, path, err);
	if (rc == 0)
		rc = policy_args_resolve(&pa, &p, err);
	ward_policy_free(&p);
	policy_args_free(&pa);
	return rc;
}

static int bundle_create(int argc, char **argv)
{
	static const struct option opts[] = {
		{"rootfs", required_argument, NULL, 'r'},
		{"manifest", required_argument, NULL, 'm'},
		{"cmd", required_argument, NULL, 'c'},
		{"arg", required_argument, NULL, 'a'},
		{"env", required_argument, NULL, 'e'},
		{"cwd", required_argument, NULL, 'C'},
		{"name", required_argument, NULL, 'N'},
		{"version", required_argument, NULL, 'V'},
		{"owner", required_argument, NULL, 'O'},
		{"strip-setuid", no_argument, NULL, 'S'},
		{"skip-special", no_argument, NULL, 'K'},
		{"output", required_argument, NULL, 'o'},
		{"force", no_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct ward_bundle_create_opts o = {0};
	struct ward_manifest_input in = {0};
	cleanup_free char **cmd = NULL, **env = NULL;
	cleanup_free char *ent = NULL, *defname = NULL;
	size_t n_cmd = 0, n_env = 0, ent_len = 0, n_entries = 0, stripped = 0, skipped = 0;
	const char *manifest = NULL;
	ward_error_t err = NULL;
	uint8_t digest[32];
	char dstr[72];
	int c;

	cmd = ward_xcalloc(2, sizeof(*cmd));
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "m:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			o.rootfs = optarg;
			break;
		case 'm':
			manifest = optarg;
			break;
		case 'c':
			if (cmd[0])
				return usage_error("bundle",
						   "--cmd given twice (add arguments with "
						   "--arg)");
			cmd[0] = optarg;
			break;
		case 'a':
			/* cmd[0] is the program, whenever --cmd comes. */
			cmd = ward_xrealloc(cmd, (n_cmd + 3) * sizeof(*cmd));
			cmd[++n_cmd] = optarg;
			cmd[n_cmd + 1] = NULL;
			break;
		case 'e':
			env = ward_xrealloc(env, (n_env + 1) * sizeof(*env));
			env[n_env++] = optarg;
			break;
		case 'C':
			in.cwd = optarg;
			break;
		case 'N':
			in.name = optarg;
			break;
		case 'V':
			in.version = optarg;
			break;
		case 'O':
			if (parse_owner(optarg, &o.scan.uid, &o.scan.gid) < 0)
				return usage_error("bundle", "--owner %s: write UID:GID (numbers)",
						   optarg);
			o.scan.set_owner = true;
			break;
		case 'S':
			o.scan.strip_setuid = true;
			break;
		case 'K':
			o.scan.skip_special = true;
			break;
		case 'o':
			o.out = optarg;
			break;
		case 'f':
			o.force = true;
			break;
		case 'h':
			bundle_usage(stdout);
			return 0;
		default:
			return usage_error("bundle", "unknown option or missing value: %s",
					   argv[optind - 1]);
		}
	}
	if (optind != argc)
		return usage_error("bundle", "unexpected argument \"%s\"", argv[optind]);
	if (o.rootfs == NULL || o.out == NULL || cmd[0] == NULL)
		return usage_error("bundle", "write: ward bundle create --rootfs DIR --cmd PROGRAM "
					     "-o OUT.ward");
	if (manifest) {
		int r = ward_read_file(manifest, &ent, &ent_len);

		if (r < 0) {
			errno = -r;
			ward_error_sys(&err, "--manifest %s", manifest);
			return ward_error_print(&err);
		}
		if (check_entitlements(ent, ent_len, manifest, &err) < 0)
			return ward_error_print(&err);
	}
	if (in.name == NULL) {
		cleanup_free char *copy = ward_xstrdup(o.out);
		char *base = basename(copy);
		size_t bl = strlen(base);

		if (bl > 5 && ends_with(base, ".ward"))
			base[bl - 5] = '\0';
		defname = ward_xstrdup(base);
		in.name = defname;
	}
	in.argv = cmd;
	in.env = env;
	in.n_env = n_env;
	in.entitlements = ent;
	in.entitlements_len = ent_len;
	o.manifest = &in;
	o.scan.n_stripped = &stripped;
	o.scan.n_skipped = &skipped;
	if (ward_bundle_create(&o, digest, &n_entries, &err) < 0)
		return ward_error_print(&err);
	ward_digest_format(digest, dstr);
	if (stripped)
		fprintf(stderr,
			"ward: cleared setuid/setgid or file capabilities on %zu file%s "
			"(--strip-setuid)\n",
			stripped, stripped == 1 ? "" : "s");
	if (skipped)
		fprintf(stderr,
			"ward: left out %zu device node%s, fifo%s or socket%s "
			"(--skip-special)\n",
			skipped, skipped == 1 ? "" : "s", skipped == 1 ? "" : "s",
			skipped == 1 ? "" : "s");
	printf("%s\n", o.out);
	fprintf(stderr,
		"ward: created %s: %zu entries, root filesystem %s\n"
		"ward: sign it: ward bundle sign --key KEY.key %s\n",
		o.out, n_entries, dstr, o.out);
	return 0;
}

static bool role_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 64)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		      s[i] == '_'))
			return false;
	return true;
}

static int load_seckey(const char *path, const char *pwfile, struct ward_seckey *sk,
		       ward_error_t *err)
{
	cleanup_free char *text = NULL;
	char *password = NULL;
	struct stat st;
	size_t len;
	bool encrypted;
	int rc;

	if (stat(path, &st) < 0)
		return ward_error_sys(err, "--key %s", path);
	/* As ssh does: a secret key others can read is no secret. */
	if (st.st_mode & 077)
		return ward_error_set(err, EPERM,
				      "--key %s: the secret key is accessible to others (mode "
				      "%04o): chmod 600 it",
				      path, (unsigned)(st.st_mode & 07777));
	if (ward_read_small_file(path, WARD_SIGFILE_MAX, &text, &len, err) < 0 ||
	    ward_seckey_encrypted(text, len, path, &encrypted, err) < 0)
		return -1;
	if (encrypted && bundle_cli_password(pwfile, path, false, true, &password, err) < 0)
		return -1;
	rc = ward_seckey_parse(text, len, path, password, sk, err);
	bundle_cli_password_free(password);
	explicit_bzero(text, len);
	return rc;
}

static int bundle_sign(int argc, char **argv)
{
	static const struct option opts[] = {
		{"key", required_argument, NULL, 'k'},
		{"role", required_argument, NULL, 'r'},
		{"password-file", required_argument, NULL, 'p'},
		{"legacy", no_argument, NULL, 'l'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *keyfile = NULL, *role = "publisher", *pwfile = NULL;
	enum ward_sig_alg alg = WARD_SIG_PREHASHED;
	struct ward_bundle b = {.fd = -1};
	struct ward_signature sig = {0};
	struct ward_seckey sk;
	ward_error_t err = NULL;
	cleanup_free char *comment = NULL, *text = NULL, *name = NULL;
	char id[WARD_KEYID_HEXLEN];
	int c, status = 1;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "k:h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			keyfile = optarg;
			break;
		case 'r':
			role = optarg;
			break;
		case 'p':
			pwfile = optarg;
			break;
		case 'l':
			alg = WARD_SIG_LEGACY;
			break;
		case 'h':
			bundle_usage(stdout);
			return 0;
		default:
			return usage_error("bundle", "unknown option or missing value: %s",
					   argv[optind - 1]);
		}
	}
	if (keyfile == NULL || optind + 1 != argc)
		return usage_error("bundle", "write: ward bundle sign --key KEY.key BUNDLE");
	if (!role_ok(role))
		return usage_error("bundle", "--role %s: lower-case letters, digits, - and _",
				   role);
	/* The bundle is checked (structure, digest) before anyone vouches for it. */
	if (ward_bundle_open(argv[optind], &b, &err) < 0)
		goto fail;
	if (load_seckey(keyfile, pwfile, &sk, &err) < 0)
		goto fail;
	comment = ward_xasprintf("timestamp:%lld\tfile:manifest\trole:%s%s%s%s%s",
				 (long long)time(NULL), role, b.manifest.name ? "\tname:" : "",
				 b.manifest.name ? b.manifest.name : "",
				 b.manifest.version ? "\tversion:" : "",
				 b.manifest.version ? b.manifest.version : "");
	ward_keyid_hex(sk.keyid, id);
	{
		cleanup_free char *untrusted =
			ward_xasprintf("ward %s signature by key %s", role, id);

		c = ward_sign(&sk, b.manifest_text, b.manifest_len, alg, comment, untrusted, &sig,
			      &err);
	}
	ward_seckey_wipe(&sk);
	if (c < 0)
		goto fail;
	text = ward_signature_format(&sig);
	name = ward_bundle_signame(role, id);
	if (ward_bundle_add_signature(argv[optind], name, text, &err) < 0)
		goto fail;
	fprintf(stderr, "ward: %s: signed by key %s as %s (%s)\n", argv[optind], id, role, name);
	status = 0;
	goto out;
fail:
	status = ward_error_print(&err);
out:
	ward_signature_free(&sig);
	ward_bundle_close(&b);
	return status;
}

static void print_request(const struct ward_request *r)
{
	bundle_cli_print_safe(stdout, r->name);
	if (r->value) {
		putchar('=');
		bundle_cli_print_safe(stdout, r->value);
	}
}

static int bundle_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{"trust", required_argument, NULL, 't'},
		{"key", required_argument, NULL, 'k'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *trust_opt = NULL;
	struct ward_bundle b = {.fd = -1};
	struct ward_trust t = {0};
	struct ward_trust_report rep = {0};
	struct ward_signer *signers = NULL;
	cleanup_free struct ward_pubkey *extra = NULL;
	size_t n_extra = 0, n_signers = 0, i;
	ward_error_t err = NULL, trust_err = NULL, decide_err = NULL;
	bool have_trust;
	char dstr[72];
	int c, status = 1;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "k:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			trust_opt = optarg;
			break;
		case 'k': {
			cleanup_free char *text = NULL;
			size_t len;

			extra = ward_xrealloc(extra, (n_extra + 1) * sizeof(*extra));
			if (ward_read_small_file(optarg, WARD_SIGFILE_MAX, &text, &len, &err) < 0 ||
			    ward_pubkey_parse(text, len, optarg, &extra[n_extra], &err) < 0)
				return ward_error_print(&err);
			n_extra++;
			break;
		}
		case 'h':
			bundle_usage(stdout);
			return 0;
		default:
			return usage_error("bundle", "unknown option or missing value: %s",
					   argv[optind - 1]);
		}
	}
	if (optind + 1 != argc)
		return usage_error("bundle", "write: ward bundle verify BUNDLE");
	if (ward_bundle_open(argv[optind], &b, &err) < 0)
		goto fail;
	have_trust = ward_trust_load(bundle_cli_trust_path(trust_opt), &t, &trust_err) == 0;
	if (ward_bundle_signers(&b, have_trust ? &t : NULL, extra, n_extra, time(NULL), &signers,
				&n_signers, &err) < 0)
		goto fail;

	printf("bundle:       ");
	bundle_cli_print_safe(stdout, b.path);
	printf(" (%s)\n", b.is_dir ? "directory" : "tar file");
	printf("name:         %s%s%s\n", b.manifest.name ? b.manifest.name : "(none)",
	       b.manifest.version ? " " : "", b.manifest.version ? b.manifest.version : "");
	printf("command:     ");
	for (i = 0; i < b.manifest.argc; i++) {
		putchar(' ');
		bundle_cli_print_safe(stdout, b.manifest.argv[i]);
	}
	ward_digest_format(b.digest, dstr);
	printf("\nroot fs:      %s, %zu entries, %llu bytes: matches the manifest\n", dstr,
	       b.tree.n, (unsigned long long)b.tree.total_bytes);
	printf("signatures:   %s\n", n_signers ? "" : "none");
	for (i = 0; i < n_signers; i++) {
		const struct ward_signer *s = &signers[i];
		char when[64];

		if (s->status == WARD_SIGNER_MALFORMED) {
			printf("  %s\n    %s: %s\n", s->file, ward_signer_status_str(s->status),
			       s->problem ? s->problem : "?");
			continue;
		}
		bundle_cli_time(s->timestamp, when, sizeof(when));
		/* The role in the trusted comment is the signer's own claim; the
		 * roles that count are the ones the policy gives the key. */
		printf("  %s\n    key %s, signed as %s, %s, %s: %s", s->file, s->keyid,
		       s->role[0] ? s->role : "(no role)", when,
		       s->alg == WARD_SIG_PREHASHED ? "prehashed" : "legacy",
		       ward_signer_status_str(s->status));
		if (s->key) {
			size_t r;

			printf(" (%s:%u", t.path, s->key->line);
			if (s->key->name)
				printf(" \"%s\"", s->key->name);
			for (r = 0; r < s->key->n_roles; r++)
				printf("%s%s", r ? "," : ", role ", s->key->roles[r]);
			printf(")");
		}
		if (s->problem)
			printf("\n    why: %s", s->problem);
		printf("\n    trusted comment: ");
		bundle_cli_print_safe(stdout, s->trusted_comment);
		printf("\n");
	}
	if (have_trust)
		ward_trust_decide(&t, signers, n_signers, &b.manifest.reqs, &rep, &decide_err);
	printf("entitlements: %s%s\n", b.manifest.reqs.n ? "" : "none (the default sandbox)",
	       have_trust ? "" : " (no trust policy)");
	for (i = 0; i < b.manifest.reqs.n; i++) {
		const struct ward_decision *d = i < rep.n ? &rep.items[i] : NULL;

		printf("  ");
		print_request(&b.manifest.reqs.items[i]);
		if (d && d->by_default)
			printf(": a default, nothing to grant\n");
		else if (d && d->granted)
			printf(": granted by key %s with \"%s\" (%s:%u)\n", d->signer->keyid,
			       d->pattern->text, t.path, d->signer->key->line);
		else
			printf(": NOT GRANTED\n");
	}
	if (!have_trust) {
		printf("verdict:      refused (no usable trust policy)\n");
		ward_error_print(&trust_err);
		status = 1;
		goto out;
	}
	if (decide_err) {
		printf("verdict:      refused\n");
		ward_error_wrap(&decide_err, "%s", b.path);
		ward_error_print(&decide_err);
		status = 1;
		goto out;
	}
	printf("verdict:      trusted: `ward run %s` may run it\n", b.path);
	status = 0;
	goto out;
fail:
	status = ward_error_print(&err);
out:
	ward_trust_report_free(&rep);
	ward_signers_free(signers, n_signers);
	ward_trust_free(&t);
	ward_bundle_close(&b);
	ward_error_free(&trust_err);
	ward_error_free(&decide_err);
	return status;
}

static int bundle_digest(int argc, char **argv)
{
	static const struct option opts[] = {
		{"list", no_argument, NULL, 'l'},	  {"owner", required_argument, NULL, 'O'},
		{"strip-setuid", no_argument, NULL, 'S'}, {"skip-special", no_argument, NULL, 'K'},
		{"help", no_argument, NULL, 'h'},	  {NULL, 0, NULL, 0},
	};
	struct ward_scan_opts so = {0};
	struct ward_tree t = {0};
	ward_error_t err = NULL;
	cleanup_close int fd = -1;
	bool list = false;
	uint8_t d[32];
	char dstr[72];
	int c;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			list = true;
			break;
		case 'O':
			if (parse_owner(optarg, &so.uid, &so.gid) < 0)
				return usage_error("bundle", "--owner UID:GID");
			so.set_owner = true;
			break;
		case 'S':
			so.strip_setuid = true;
			break;
		case 'K':
			so.skip_special = true;
			break;
		case 'h':
			bundle_usage(stdout);
			return 0;
		default:
			return usage_error("bundle", "unknown option or missing value: %s",
					   argv[optind - 1]);
		}
	}
	if (optind + 1 != argc)
		return usage_error("bundle", "write: ward bundle digest [--list] DIR");
	fd = open(argv[optind], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		ward_error_sys(&err, "%s", argv[optind]);
		return ward_error_print(&err);
	}
	if (ward_tree_scan(fd, argv[optind], &so, &t, &err) < 0) {
		ward_tree_free(&t);
		return ward_error_print(&err);
	}
	if (list) {
		size_t len;
		cleanup_free char *l = ward_tree_listing(&t, &len);

		fwrite(l, 1, len, stdout);
	}
	ward_tree_digest(&t, d);
	ward_digest_format(d, dstr);
	printf("%s\n", dstr);
	ward_tree_free(&t);
	return 0;
}

int cmd_bundle(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		bundle_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "create") == 0)
		return bundle_create(argc - 1, argv + 1);
	if (strcmp(argv[1], "sign") == 0)
		return bundle_sign(argc - 1, argv + 1);
	if (strcmp(argv[1], "verify") == 0)
		return bundle_verify(argc - 1, argv + 1);
	if (strcmp(argv[1], "digest") == 0)
		return bundle_digest(argc - 1, argv + 1);
	return usage_error("bundle", "unknown command \"%s\" (create, sign, verify, digest)",
			   argv[1]);
}
