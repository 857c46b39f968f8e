/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ward attest init|quote|verify|log (docs/attestation.md). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attest/attest.h"
#include "attest_cli.h"
#include "cli.h"
#include "util.h"

static void attest_usage(FILE *f)
{
	fprintf(f,
		"usage: ward attest init --out NAME [--tcti T] [--pcr N] [--handle H] [--key "
		"FILE]\n"
		"                        [--new-log]\n"
		"       ward attest quote --nonce HEX --out DIR [--env NAME] [--tcti T]\n"
		"       ward attest verify --ak NAME.pub --nonce HEX --quote DIR [--env NAME]\n"
		"                          [--expect-bundle FILE] [--expect-policy ENT,...]\n"
		"       ward attest log [--raw] [--tcti T]\n"
		"\n"
		"Measured launch: every `ward run` of a bundle (and `ward run --measure`, and any\n"
		"run granted api.attest) appends an event to STATE/attest/log and extends a PCR\n"
		"with its SHA-256 (docs/attestation.md).\n"
		"\n"
		"  init    make (or find) the attestation key: a TPM's AK under the endorsement\n"
		"          hierarchy at a persistent handle (default 0x%08x), written as\n"
		"          NAME.pub (PEM) with the EK's public key (NAME.ek.pub); without a\n"
		"          TPM, the host's Ed25519 key (NAME.pub, minisign format).  Saves\n"
		"          the TCTI, PCR, handle and key in STATE/attest/config for every\n"
		"          later launch and quote.  --new-log starts a new log (and resets\n"
		"          the PCR, which PCRs 16 and 23 allow).\n"
		"  quote   TPM2_Quote over the measurement PCR with the nonce; DIR gets\n"
		"          quote.msg, quote.sig, quote.pcrs (as tpm2_quote writes them),\n"
		"          eventlog, kind, qualifying and, with --env, event.  Check it\n"
		"          with tpm2_checkquote -u NAME.pub -m DIR/quote.msg -s DIR/quote.sig\n"
		"          -f DIR/quote.pcrs -g sha256 -q HEX, or ward attest verify.\n"
		"  verify  the signature, the nonce, the log's replay, and that the\n"
		"          environment's launch is the one expected; each difference named\n"
		"  log     the events, their replay, and (TPM) the PCR's value\n"
		"\n"
		"  --tcti T         the TPM: device:/dev/tpmrm0 (default when present),\n"
		"                   swtpm:host=H,port=P, mssim:host=H,port=P, or none (software);\n"
		"                   also $WARD_TCTI\n"
		"  --pcr N          the PCR launches extend (default %u, the application PCR)\n"
		"  --state-dir DIR  ward's state directory (default /run/ward)\n"
		"\n"
		"Without a TPM every output says it is software-rooted: it proves only what\n"
		"the host's root reports.\n",
		WARD_ATTEST_AK_DEFAULT, WARD_ATTEST_PCR_DEFAULT);
}

static int nonce_arg(const char *s, uint8_t *out, size_t *len)
{
	ssize_t n = ward_attest_unhex(s, out, WARD_ATTEST_NONCE_MAX);

	if (n < (ssize_t)WARD_ATTEST_NONCE_MIN)
		return usage_error("attest",
				   "--nonce %s: give %u to %u bytes in hex (a fresh random value "
				   "from the verifier, e.g. $(openssl rand -hex 20))",
				   s, WARD_ATTEST_NONCE_MIN, WARD_ATTEST_NONCE_MAX);
	*len = (size_t)n;
	return 0;
}

enum {
	OPT_TCTI = 256,
	OPT_PCR,
	OPT_HANDLE,
	OPT_KEY,
	OPT_NEWLOG,
	OPT_STATE,
	OPT_NONCE,
	OPT_ENV,
	OPT_AK,
	OPT_QUOTE,
	OPT_BUNDLE,
	OPT_POLICY,
	OPT_RAW,
};

static const struct option attest_opts[] = {
	{"out", required_argument, NULL, 'o'},
	{"tcti", required_argument, NULL, OPT_TCTI},
	{"pcr", required_argument, NULL, OPT_PCR},
	{"handle", required_argument, NULL, OPT_HANDLE},
	{"key", required_argument, NULL, OPT_KEY},
	{"new-log", no_argument, NULL, OPT_NEWLOG},
	{"state-dir", required_argument, NULL, OPT_STATE},
	{"nonce", required_argument, NULL, OPT_NONCE},
	{"env", required_argument, NULL, OPT_ENV},
	{"ak", required_argument, NULL, OPT_AK},
	{"quote", required_argument, NULL, OPT_QUOTE},
	{"expect-bundle", required_argument, NULL, OPT_BUNDLE},
	{"expect-policy", required_argument, NULL, OPT_POLICY},
	{"raw", no_argument, NULL, OPT_RAW},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

struct args {
	const char *out, *tcti, *key, *state, *env, *ak, *quote, *bundle;
	bool new_log, raw, any_policy;
	int pcr;
	uint32_t handle;
	uint8_t nonce[WARD_ATTEST_NONCE_MAX];
	size_t nonce_len;
	char **policy;
	size_t n_policy;
};

static int parse(int argc, char **argv, struct args *a)
{
	int c;

	a->pcr = -1;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", attest_opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			a->out = optarg;
			break;
		case OPT_TCTI:
			a->tcti = optarg;
			break;
		case OPT_PCR: {
			uint64_t v;

			if (ward_parse_u64(optarg, &v) < 0 || v > 23)
				return usage_error("attest", "--pcr %s: a PCR index, 0 to 23",
						   optarg);
			a->pcr = (int)v;
			break;
		}
		case OPT_HANDLE: {
			char *end;
			unsigned long v = strtoul(optarg, &end, 16);

			if (*end || v < 0x81000000UL || v > 0x81ffffffUL)
				return usage_error("attest",
						   "--handle %s: a persistent handle, 0x81000000 "
						   "to 0x81ffffff",
						   optarg);
			a->handle = (uint32_t)v;
			break;
		}
		case OPT_KEY:
			if (optarg[0] != '/')
				return usage_error("attest", "--key %s: give an absolute path",
						   optarg);
			a->key = optarg;
			break;
		case OPT_NEWLOG:
			a->new_log = true;
			break;
		case OPT_STATE:
			a->state = optarg;
			break;
		case OPT_NONCE:
			if (nonce_arg(optarg, a->nonce, &a->nonce_len) != 0)
				return 2;
			break;
		case OPT_ENV:
			a->env = optarg;
			break;
		case OPT_AK:
			a->ak = optarg;
			break;
		case OPT_QUOTE:
			a->quote = optarg;
			break;
		case OPT_BUNDLE:
			a->bundle = optarg;
			break;
		case OPT_POLICY: {
			char *copy = ward_xstrdup(optarg), *tok, *save = NULL;

			a->any_policy = true;
			for (tok = strtok_r(copy, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save)) {
				a->policy = ward_xrealloc(a->policy,
							  (a->n_policy + 1) * sizeof(*a->policy));
				a->policy[a->n_policy++] = ward_xstrdup(tok);
			}
			free(copy);
			break;
		}
		case OPT_RAW:
			a->raw = true;
			break;
		case 'h':
			attest_usage(stdout);
			return 1;
		case ':':
			return usage_error("attest", "option %s needs a value", argv[optind - 1]);
		default:
			return usage_error("attest", "unknown option %s", argv[optind - 1]);
		}
	}
	if (optind != argc)
		return usage_error("attest", "unexpected argument %s", argv[optind]);
	return 0;
}

static int do_init(struct args *a, ward_error_t *err)
{
	struct ward_attest_config c;
	cleanup_free char *pub = NULL;
	cleanup_free char *ek = NULL;

	if (a->out == NULL) {
		usage_error("attest", "init needs --out NAME (NAME.pub is written)");
		return 2;
	}
	if (ward_attest_config_load(a->state, a->tcti, &c, err) < 0)
		return -1;
	if (a->pcr >= 0)
		c.pcr = (unsigned)a->pcr;
	if (a->handle)
		c.ak_handle = a->handle;
	if (a->key) {
		free(c.key);
		c.key = ward_xstrdup(a->key);
	}
	pub = ward_xasprintf("%s.pub", a->out);
	ek = ward_xasprintf("%s.ek.pub", a->out);
	if (c.tcti) {
		char handle[16];
		const char *argv[] = {"init", c.tcti, handle, pub, ek, NULL};
		cleanup_free char *out = NULL;
		cleanup_free char *ak = NULL;
		cleanup_free char *ekhow = NULL;

		snprintf(handle, sizeof(handle), "0x%08x", (unsigned)c.ak_handle);
		if (ward_attest_tpm(argv, &out, err) != 0)
			goto fail;
		ak = ward_attest_tpm_field(out, "ak");
		ekhow = ward_attest_tpm_field(out, "ek");
		printf("AK: %s (TPM %s, endorsement hierarchy), public key %s\n", ak ? ak : handle,
		       c.tcti, pub);
		printf("EK: %s (%s)\n", ek,
		       ekhow && strcmp(ekhow, "persistent") == 0
			       ? "the TPM's persistent EK"
			       : "the TCG default ECC P-256 EK, template L-2");
	} else {
		if (ward_soft_pub(c.key, pub, err) < 0)
			goto fail;
		printf("%s\n", WARD_ATTEST_SOFT_LABEL);
		printf("host key: %s, public key %s (no TPM, no EK)\n", c.key, pub);
	}
	if (ward_attest_config_save(&c, err) < 0)
		goto fail;
	printf("measurements: PCR %u, log %s/log (config %s/config)\n", c.pcr, c.dir, c.dir);
	if (c.tcti && (c.pcr == 16 || c.pcr == 23))
		printf("note: " WARD_ATTEST_RESETTABLE_NOTE "\n", c.pcr);
	if (a->new_log) {
		cleanup_close int dirfd = ward_attest_dir_open(c.dir, true, err);
		cleanup_close int lock = dirfd < 0 ? -1 : ward_attest_lock(dirfd, true, err);
		cleanup_free char *log = NULL;
		cleanup_free char *old = NULL;

		if (lock < 0)
			goto fail;
		log = ward_xasprintf("%s/log", c.dir);
		old = ward_xasprintf("%s/log.1", c.dir);
		if (rename(log, old) < 0 && errno != ENOENT) {
			ward_error_sys(err, "%s", log);
			goto fail;
		}
		unlinkat(dirfd, "state", 0);
		if (c.tcti) {
			char pcr[8];
			const char *argv[] = {"reset", c.tcti, pcr, NULL};
			cleanup_free char *out = NULL;

			snprintf(pcr, sizeof(pcr), "%u", c.pcr);
			if (ward_attest_tpm(argv, &out, err) != 0)
				goto fail;
		}
		printf("new log: the old one is %s\n", old);
	}
	ward_attest_config_free(&c);
	return 0;
fail:
	ward_attest_config_free(&c);
	return -1;
}

static int do_quote(struct args *a, ward_error_t *err)
{
	struct ward_attest_config c;
	struct ward_quote q;
	int r;

	if (a->nonce_len == 0 || a->out == NULL) {
		usage_error("attest", "quote needs --nonce HEX and --out DIR");
		return 2;
	}
	if (ward_attest_config_load(a->state, a->tcti, &c, err) < 0)
		return -1;
	r = ward_attest_quote(&c, a->nonce, a->nonce_len, a->env, false, 0, &q, err);
	if (r == 0)
		r = ward_quote_write_dir(&q, a->out, err);
	if (r == 0) {
		if (q.software)
			printf("%s\n", WARD_ATTEST_SOFT_LABEL);
		printf("quote of PCR %u (%s) written to %s\n", c.pcr,
		       q.software ? "software-rooted" : c.tcti, a->out);
	}
	ward_quote_free(&q);
	ward_attest_config_free(&c);
	return r;
}

static int do_verify(struct args *a, ward_error_t *err)
{
	struct ward_attest_expect x = {
		.ak = a->ak,
		.nonce = a->nonce,
		.nonce_len = a->nonce_len,
		.quote_dir = a->quote,
		.env = a->env,
		.bundle = a->bundle,
		.policy = a->policy,
		.n_policy = a->n_policy,
		.any_policy = a->any_policy,
	};
	cleanup_free char *report = NULL;

	if (a->ak == NULL || a->nonce_len == 0 || a->quote == NULL) {
		usage_error("attest", "verify needs --ak NAME.pub, --nonce HEX and --quote DIR");
		return 2;
	}
	if (ward_attest_verify(&x, &report, err) < 0)
		return -1;
	fputs(report, stdout);
	printf("verified\n");
	return 0;
}

static int do_log(struct args *a, ward_error_t *err)
{
	struct ward_attest_config c;
	struct ward_attest_log log;
	cleanup_close int dirfd = -1;
	cleanup_close int lock = -1;
	cleanup_free char *data = NULL;
	cleanup_free char *origin = NULL;
	char hex[WARD_ATTEST_HEX];
	size_t len, i;
	int rc = -1;

	if (ward_attest_config_load(a->state, a->tcti, &c, err) < 0)
		return -1;
	origin = ward_xasprintf("%s/log", c.dir);
	dirfd = ward_attest_dir_open(c.dir, false, err);
	if (dirfd < 0)
		goto out;
	lock = ward_attest_lock(dirfd, false, err);
	if (lock < 0 || ward_attest_read_log(dirfd, &data, &len, err) < 0)
		goto out;
	if (a->raw) {
		rc = ward_write_all(1, data, len) < 0 ? ward_error_sys(err, "stdout") : 0;
		goto out;
	}
	if (ward_attest_log_parse(data, len, origin, &log, err) < 0)
		goto out;
	if (strcmp(log.mode, "software") == 0)
		printf("%s\n", WARD_ATTEST_SOFT_LABEL);
	printf("log %s: %zu events, %s, PCR %u, boot %s\n", origin, log.n,
	       log.n ? log.mode : "empty", log.pcr, log.n ? log.boot : "-");
	for (i = 0; i < log.n; i++) {
		const struct ward_attest_event *e = &log.ev[i];
		const char *p = e->body, *end = e->body + e->body_len;

		ward_attest_hex(e->digest, 32, hex);
		printf("event %llu %s sha256:%s\n", (unsigned long long)e->seq,
		       e->type == WARD_EVENT_LOG ? "log" : "launch", hex);
		/* The parser let through printable ASCII and newlines only:
		 * every value is escaped in the event itself. */
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

			printf("  %.*s\n", (int)n, p);
			p += n + 1;
		}
	}
	if (log.torn)
		printf("torn tail: %zu bytes of an event never measured (cut off at the next "
		       "launch)\n",
		       log.torn);
	ward_attest_hex(log.replay, 32, hex);
	printf("replay: %s\n", hex);
	if (c.tcti && strcmp(log.mode, "tpm") == 0) {
		char pcr[8];
		const char *argv[] = {"pcrread", c.tcti, pcr, NULL};
		cleanup_free char *out = NULL;
		cleanup_free char *v = NULL;

		snprintf(pcr, sizeof(pcr), "%u", log.pcr);
		if (ward_attest_tpm(argv, &out, err) != 0) {
			ward_attest_log_free(&log);
			goto out;
		}
		v = ward_attest_tpm_field(out, "pcr");
		printf("PCR %u:  %s (%s)\n", log.pcr, v ? v : "?",
		       v && strcmp(v, hex) == 0 ? "matches the replay"
						: "DOES NOT MATCH the replay");
	}
	ward_attest_log_free(&log);
	rc = 0;
out:
	ward_attest_config_free(&c);
	return rc;
}

int cmd_attest(int argc, char **argv)
{
	struct args a = {0};
	ward_error_t err = NULL;
	const char *sub;
	int r;
	size_t i;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		attest_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	sub = argv[1];
	r = parse(argc - 1, argv + 1, &a);
	if (r != 0) {
		r = r == 1 ? 0 : r;
		goto out;
	}
	if (strcmp(sub, "init") == 0)
		r = do_init(&a, &err);
	else if (strcmp(sub, "quote") == 0)
		r = do_quote(&a, &err);
	else if (strcmp(sub, "verify") == 0)
		r = do_verify(&a, &err);
	else if (strcmp(sub, "log") == 0)
		r = do_log(&a, &err);
	else
		r = usage_error("attest", "unknown subcommand \"%s\" (init, quote, verify, log)",
				sub);
	if (r < 0) {
		ward_error_print(&err);
		r = 1;
	}
out:
	for (i = 0; i < a.n_policy; i++)
		free(a.policy[i]);
	free(a.policy);
	return r;
}
