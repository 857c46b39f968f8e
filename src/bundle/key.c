/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ward key: make and show minisign key pairs. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "bundle/bundle.h"
#include "bundle_cli.h"
#include "cli.h"
#include "util.h"

int cmd_key(int argc, char **argv);

static void key_usage(FILE *f)
{
	fprintf(f, "usage: ward key generate --out PREFIX [--password-file FILE | --no-password]\n"
		   "                         [--comment TEXT] [--kdf sensitive|interactive] "
		   "[--force]\n"
		   "       ward key show FILE.pub\n"
		   "\n"
		   "Key pairs in minisign's format (they work with the minisign tool too).\n"
		   "generate writes PREFIX.key (the secret key, mode 0600) and PREFIX.pub.  The\n"
		   "secret key is encrypted with a password read from --password-file, or asked\n"
		   "on the terminal (an empty answer leaves it unencrypted); with no terminal and\n"
		   "no file it is not encrypted.  --kdf interactive derives the key from the\n"
		   "password faster (16 MiB) than minisign's default (1 GiB); for tests.\n");
}

static int key_generate(int argc, char **argv)
{
	static const struct option opts[] = {
		{"out", required_argument, NULL, 'o'},
		{"password-file", required_argument, NULL, 'p'},
		{"no-password", no_argument, NULL, 'n'},
		{"comment", required_argument, NULL, 'c'},
		{"kdf", required_argument, NULL, 'k'},
		{"force", no_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *out = NULL, *pwfile = NULL, *comment = NULL;
	const struct ward_kdf *kdf = &ward_kdf_sensitive;
	bool no_password = false, force = false;
	struct ward_pubkey pk;
	struct ward_seckey sk;
	ward_error_t err = NULL;
	char *password = NULL;
	cleanup_free char *sktext = NULL, *pktext = NULL, *skpath = NULL, *pkpath = NULL;
	char id[WARD_KEYID_HEXLEN];
	int c, status = 1;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'p':
			pwfile = optarg;
			break;
		case 'n':
			no_password = true;
			break;
		case 'c':
			comment = optarg;
			break;
		case 'k':
			if (strcmp(optarg, "sensitive") == 0)
				kdf = &ward_kdf_sensitive;
			else if (strcmp(optarg, "interactive") == 0)
				kdf = &ward_kdf_interactive;
			else
				return usage_error("key", "--kdf %s: sensitive or interactive",
						   optarg);
			break;
		case 'f':
			force = true;
			break;
		case 'h':
			key_usage(stdout);
			return 0;
		default:
			return usage_error("key", "unknown option or missing value: %s",
					   argv[optind - 1]);
		}
	}
	if (out == NULL || optind != argc)
		return usage_error("key", "write: ward key generate --out PREFIX");
	if (no_password && pwfile)
		return usage_error("key", "--no-password and --password-file exclude each other");
	if (comment && (strchr(comment, '\n') || strlen(comment) > WARD_COMMENT_MAX))
		return usage_error("key", "--comment: one line of at most %u bytes",
				   WARD_COMMENT_MAX);
	skpath = ward_xasprintf("%s.key", out);
	pkpath = ward_xasprintf("%s.pub", out);
	if (!force && (access(skpath, F_OK) == 0 || access(pkpath, F_OK) == 0)) {
		fprintf(stderr, "ward: %s or %s exists (--force replaces them)\n", skpath, pkpath);
		return 1;
	}
	if (!no_password && bundle_cli_password(pwfile, skpath, true, false, &password, &err) < 0)
		goto fail;
	if (ward_key_generate(&pk, &sk, &err) < 0)
		goto fail;
	sktext = ward_seckey_format(&sk, password, kdf, &err);
	ward_seckey_wipe(&sk);
	if (sktext == NULL)
		goto fail;
	if (comment) {
		/* The untrusted comment of the secret key file. */
		char *nl = strchr(sktext, '\n');
		char *replaced = ward_xasprintf("untrusted comment: %s%s", comment, nl);

		explicit_bzero(sktext, strlen(sktext));
		free(sktext);
		sktext = replaced;
	}
	pktext = ward_pubkey_format(&pk);
	/* 0600 from the start: the secret key is never readable by others,
	 * not even for a moment. */
	if (ward_write_file_atomic(skpath, sktext, strlen(sktext), 0600, force, &err) < 0)
		goto fail;
	if (ward_write_file_atomic(pkpath, pktext, strlen(pktext), 0644, force, &err) < 0)
		goto fail;
	ward_keyid_hex(pk.keyid, id);
	printf("key %s\n", id);
	fprintf(stderr, "ward: wrote %s (secret, mode 0600, %s) and %s\n", skpath,
		password ? "encrypted" : "not encrypted", pkpath);
	status = 0;
	goto out;
fail:
	status = ward_error_print(&err);
out:
	if (sktext)
		explicit_bzero(sktext, strlen(sktext));
	bundle_cli_password_free(password);
	return status;
}

static int key_show(int argc, char **argv)
{
	cleanup_free char *text = NULL, *b64 = NULL;
	ward_error_t err = NULL;
	struct ward_pubkey pk;
	char id[WARD_KEYID_HEXLEN];
	size_t len;

	if (argc != 2)
		return usage_error("key", "write: ward key show FILE.pub");
	if (ward_read_small_file(argv[1], WARD_SIGFILE_MAX, &text, &len, &err) < 0 ||
	    ward_pubkey_parse(text, len, argv[1], &pk, &err) < 0)
		return ward_error_print(&err);
	ward_keyid_hex(pk.keyid, id);
	b64 = ward_pubkey_base64(&pk);
	printf("key id:     %s\npublic key: %s\n", id, b64);
	return 0;
}

int cmd_key(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		key_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "generate") == 0)
		return key_generate(argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0)
		return key_show(argc - 1, argv + 1);
	return usage_error("key", "unknown command \"%s\" (generate, show)", argv[1]);
}
