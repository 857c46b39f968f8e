/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ward trust: edit and show the trust policy. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bundle/bundle.h"
#include "bundle_cli.h"
#include "cli.h"
#include "util.h"

int cmd_trust(int argc, char **argv);

static void trust_usage(FILE *f)
{
	fprintf(f,
		"usage: ward trust add --key FILE.pub [--may PATTERNS] [--name NAME] [--role "
		"ROLE]\n"
		"                      [--expires YYYY-MM-DD]\n"
		"       ward trust remove KEYID|NAME|--key FILE.pub\n"
		"       ward trust revoke KEYID|NAME|--key FILE.pub [--reason TEXT]\n"
		"       ward trust require PATTERNS --by ROLE,ROLE...\n"
		"       ward trust list\n"
		"options of every command: --trust FILE (default: $WARD_TRUST or "
		"/etc/ward/trust)\n"
		"\n"
		"The trust policy says which keys may grant which entitlements to a bundle they\n"
		"signed.  PATTERNS, comma separated: an entitlement (network.loopback), a value\n"
		"or glob (fs.read=/srv/data, fs.read=/srv/*, fs.read=*), a bound\n"
		"(process.limit<=256, memory.limit<=1G), a domain (network.*) or *.  Dangerous\n"
		"entitlements are granted only when named exactly.  --role gives the key roles\n"
		"(publisher,reviewer); `require PATTERNS --by publisher,reviewer` grants what the\n"
		"patterns cover only when a different trusted key in each role may grant it.\n"
		"Adding a key again replaces its entry; a revoked key stays listed so that its\n"
		"signatures are recognised and refused.\n");
}

struct trust_opts {
	const char *trust, *key, *may, *name, *role, *expires, *reason, *by;
};

static int parse_opts(int argc, char **argv, struct trust_opts *o, int *status)
{
	static const struct option opts[] = {
		{"trust", required_argument, NULL, 't'},  {"key", required_argument, NULL, 'k'},
		{"may", required_argument, NULL, 'm'},	  {"name", required_argument, NULL, 'n'},
		{"role", required_argument, NULL, 'r'},	  {"expires", required_argument, NULL, 'e'},
		{"reason", required_argument, NULL, 'R'}, {"by", required_argument, NULL, 'b'},
		{"help", no_argument, NULL, 'h'},	  {NULL, 0, NULL, 0},
	};
	int c;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "k:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			o->trust = optarg;
			break;
		case 'k':
			o->key = optarg;
			break;
		case 'm':
			o->may = optarg;
			break;
		case 'n':
			o->name = optarg;
			break;
		case 'r':
			o->role = optarg;
			break;
		case 'e':
			o->expires = optarg;
			break;
		case 'R':
			o->reason = optarg;
			break;
		case 'b':
			o->by = optarg;
			break;
		case 'h':
			trust_usage(stdout);
			*status = 0;
			return -1;
		default:
			*status = usage_error("trust", "unknown option or missing value: %s",
					      argv[optind - 1]);
			return -1;
		}
	}
	return 0;
}

static int read_pub(const char *path, struct ward_pubkey *pk, ward_error_t *err)
{
	cleanup_free char *text = NULL;
	size_t len;

	if (ward_read_small_file(path, WARD_SIGFILE_MAX, &text, &len, err) < 0)
		return ward_error_wrap(err, "--key");
	return ward_pubkey_parse(text, len, path, pk, err);
}

static int trust_add(int argc, char **argv)
{
	struct trust_opts o = {0};
	struct ward_trust_edit e = {0};
	struct ward_pubkey pk;
	ward_error_t err = NULL;
	cleanup_free char *defname = NULL;
	char id[WARD_KEYID_HEXLEN];
	int status = 2;

	if (parse_opts(argc, argv, &o, &status) < 0)
		return status;
	if (o.key == NULL || optind != argc)
		return usage_error("trust", "write: ward trust add --key FILE.pub --may PATTERNS");
	if (read_pub(o.key, &pk, &err) < 0)
		return ward_error_print(&err);
	if (o.name == NULL) {
		/* The key's file name, without .pub, names it in the policy. */
		cleanup_free char *copy = ward_xstrdup(o.key);
		char *base = basename(copy);
		size_t n = strlen(base);

		if (n > 4 && strcmp(base + n - 4, ".pub") == 0)
			base[n - 4] = '\0';
		defname = ward_xstrdup(base);
		o.name = defname;
	}
	e.path = bundle_cli_trust_path(o.trust);
	e.pk = &pk;
	e.name = o.name;
	e.role = o.role;
	e.may = o.may;
	e.expires = o.expires;
	if (ward_trust_add(&e, &err) < 0)
		return ward_error_print(&err);
	ward_keyid_hex(pk.keyid, id);
	fprintf(stderr, "ward: %s: key %s (%s) may grant %s\n", e.path, id, o.name,
		o.may && o.may[0] ? o.may : "nothing (it may only vouch for default sandboxes)");
	return 0;
}

/* The key to remove or revoke: --key FILE.pub or an operand (id or name). */
static int which_key(int argc, char **argv, const struct trust_opts *o, char *id,
		     struct ward_pubkey *pk, bool *have_pk, ward_error_t *err)
{
	if (o->key && optind == argc) {
		if (read_pub(o->key, pk, err) < 0)
			return -1;
		ward_keyid_hex(pk->keyid, id);
		*have_pk = true;
		return 0;
	}
	if (o->key == NULL && optind + 1 == argc && strlen(argv[optind]) < 130) {
		snprintf(id, 130, "%s", argv[optind]);
		return 0;
	}
	return ward_error_set(err, EINVAL, "name the key: KEYID, NAME or --key FILE.pub");
}

static int trust_remove_or_revoke(int argc, char **argv, bool revoke)
{
	struct trust_opts o = {0};
	struct ward_trust_edit e = {0};
	ward_error_t err = NULL;
	char id[130];
	struct ward_pubkey pk;
	bool have_pk = false;
	int status = 2;

	if (parse_opts(argc, argv, &o, &status) < 0)
		return status;
	if (which_key(argc, argv, &o, id, &pk, &have_pk, &err) < 0) {
		status = usage_error("trust", "%s", err->msg);
		ward_error_free(&err);
		return status;
	}
	e.path = bundle_cli_trust_path(o.trust);
	e.keyid = id;
	e.pk = have_pk ? &pk : NULL;
	e.reason = o.reason;
	if ((revoke ? ward_trust_revoke(&e, &err) : ward_trust_remove(&e, &err)) < 0)
		return ward_error_print(&err);
	fprintf(stderr, "ward: %s: key %s %s\n", e.path, id,
		revoke ? "revoked: its signatures are refused from now on" : "removed");
	return 0;
}

static int trust_list(int argc, char **argv)
{
	struct trust_opts o = {0};
	struct ward_trust t;
	ward_error_t err = NULL;
	size_t i, j;
	int status = 2;

	if (parse_opts(argc, argv, &o, &status) < 0)
		return status;
	if (optind != argc)
		return usage_error("trust", "write: ward trust list");
	if (ward_trust_load(bundle_cli_trust_path(o.trust), &t, &err) < 0)
		return ward_error_print(&err);
	printf("%s: %zu key%s\n", t.path, t.n_keys, t.n_keys == 1 ? "" : "s");
	for (i = 0; i < t.n_keys; i++) {
		const struct ward_trust_key *k = &t.keys[i];

		printf("  %s  %-12s line %-3u ", k->keyid, k->name ? k->name : "-", k->line);
		for (j = 0; j < k->n_roles; j++)
			printf("%s%s", j ? "," : "role ", k->roles[j]);
		if (k->n_roles)
			printf("  ");
		if (k->revoked)
			printf("REVOKED%s%s  ", k->revoked_on ? " " : "",
			       k->revoked_on ? k->revoked_on : "");
		if (k->expires) {
			char date[32];
			struct tm tm;

			gmtime_r(&k->expires, &tm);
			strftime(date, sizeof(date), "%Y-%m-%d", &tm);
			printf("%s %s  ", time(NULL) >= k->expires ? "EXPIRED" : "expires", date);
		}
		printf("may ");
		if (k->n_may == 0)
			printf("nothing");
		for (j = 0; j < k->n_may; j++)
			printf("%s%s", j ? "," : "", k->may[j].text);
		printf("\n");
	}
	for (i = 0; i < t.n_reqs; i++) {
		const struct ward_trust_require *q = &t.reqs[i];

		printf("  require %s by ", q->text);
		for (j = 0; j < q->n_roles; j++)
			printf("%s%s", j ? "," : "", q->roles[j]);
		printf("  line %u\n", q->line);
	}
	ward_trust_free(&t);
	return 0;
}

static int trust_require(int argc, char **argv)
{
	struct trust_opts o = {0};
	struct ward_trust_edit e = {0};
	ward_error_t err = NULL;
	int status = 2;

	if (parse_opts(argc, argv, &o, &status) < 0)
		return status;
	if (o.by == NULL || optind + 1 != argc)
		return usage_error("trust", "write: ward trust require PATTERNS --by ROLE,ROLE");
	e.path = bundle_cli_trust_path(o.trust);
	e.may = argv[optind];
	e.by = o.by;
	if (ward_trust_require(&e, &err) < 0)
		return ward_error_print(&err);
	fprintf(stderr, "ward: %s: %s now needs signers in the roles %s\n", e.path, e.may, e.by);
	return 0;
}

int cmd_trust(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		trust_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "add") == 0)
		return trust_add(argc - 1, argv + 1);
	if (strcmp(argv[1], "remove") == 0)
		return trust_remove_or_revoke(argc - 1, argv + 1, false);
	if (strcmp(argv[1], "revoke") == 0)
		return trust_remove_or_revoke(argc - 1, argv + 1, true);
	if (strcmp(argv[1], "list") == 0)
		return trust_list(argc - 1, argv + 1);
	if (strcmp(argv[1], "require") == 0)
		return trust_require(argc - 1, argv + 1);
	return usage_error("trust", "unknown command \"%s\" (add, remove, revoke, require, list)",
			   argv[1]);
}
