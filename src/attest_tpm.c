/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ward-tpm: the TPM operations of measured launch and attestation, through
 * tpm2-tss's ESAPI, run by ward (lib/attest/tpm.c explains why this is a
 * separate, dynamically linked program).
 *
 *   extend TCTI PCR EXPECT DIGEST...   extend PCR (sha256 bank) with each
 *                                      DIGEST if it holds EXPECT; exit 3 if not
 *   pcrread TCTI PCR                   print its value
 *   reset TCTI PCR                     TPM2_PCR_Reset (PCRs 16 and 23)
 *   init TCTI HANDLE AK.pub EK.pub     create (or find) the AK at HANDLE and
 *                                      write it and the EK's public key as PEM
 *   quote TCTI HANDLE PCR QUAL DIR     TPM2_Quote, written as tpm2_quote does
 *   check AK.pub MSG SIG PCRS          check a quote's signature and PCR digest
 *
 * Answers are "key value" lines on stdout; a failure is "error TEXT" and a
 * non-zero exit.  ward checked the TCTI string before (only the device,
 * swtpm and mssim modules), and runs this with an empty environment.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	printf("error ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(1);
}

static void check(TSS2_RC rc, const char *what)
{
	if (rc != TSS2_RC_SUCCESS)
		die("%s: %s", what, Tss2_RC_Decode(rc));
}

static void hex(const uint8_t *d, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		printf("%02x", d[i]);
}

static size_t unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n = strlen(s), i;

	if (n % 2 || n / 2 > max)
		die("bad hex \"%.80s\"", s);
	for (i = 0; i < n / 2; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			die("bad hex \"%.80s\"", s);
		out[i] = (uint8_t)v;
	}
	return n / 2;
}

static unsigned parse_pcr(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*end || v > 23)
		die("bad PCR index \"%.20s\"", s);
	return (unsigned)v;
}

static uint32_t parse_handle(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 16);

	if (*end || v < 0x81000000UL || v > 0x81ffffffUL)
		die("bad persistent handle \"%.20s\"", s);
	return (uint32_t)v;
}

static ESYS_CONTEXT *open_tpm(const char *tcti_conf, TSS2_TCTI_CONTEXT **tcti)
{
	ESYS_CONTEXT *ctx = NULL;

	check(Tss2_TctiLdr_Initialize(tcti_conf, tcti), "cannot reach the TPM");
	check(Esys_Initialize(&ctx, *tcti, NULL), "Esys_Initialize");
	return ctx;
}

static void close_tpm(ESYS_CONTEXT *ctx, TSS2_TCTI_CONTEXT *tcti)
{
	Esys_Finalize(&ctx);
	Tss2_TctiLdr_Finalize(&tcti);
}

static TPML_PCR_SELECTION selection(unsigned pcr)
{
	TPML_PCR_SELECTION sel = {.count = 1};

	sel.pcrSelections[0].hash = TPM2_ALG_SHA256;
	sel.pcrSelections[0].sizeofSelect = 3;
	sel.pcrSelections[0].pcrSelect[pcr / 8] = (uint8_t)(1u << (pcr % 8));
	return sel;
}

static void pcr_read(ESYS_CONTEXT *ctx, unsigned pcr, uint8_t out[32], TPML_PCR_SELECTION *sel_out,
		     TPML_DIGEST *values_out)
{
	TPML_PCR_SELECTION sel = selection(pcr), *osel = NULL;
	TPML_DIGEST *vals = NULL;
	UINT32 counter;

	check(Esys_PCR_Read(ctx, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &sel, &counter, &osel,
			    &vals),
	      "TPM2_PCR_Read");
	if (vals->count != 1 || vals->digests[0].size != 32)
		die("PCR %u has no SHA-256 bank on this TPM", pcr);
	memcpy(out, vals->digests[0].buffer, 32);
	if (sel_out)
		*sel_out = *osel;
	if (values_out)
		*values_out = *vals;
	Esys_Free(osel);
	Esys_Free(vals);
}

static int op_extend(int argc, char **argv)
{
	TSS2_TCTI_CONTEXT *tcti = NULL;
	ESYS_CONTEXT *ctx;
	unsigned pcr;
	uint8_t expect[32], cur[32];
	int i;

	if (argc < 5)
		die("usage: extend TCTI PCR EXPECT DIGEST...");
	pcr = parse_pcr(argv[2]);
	if (unhex(argv[3], expect, 32) != 32)
		die("EXPECT is a SHA-256 value");
	ctx = open_tpm(argv[1], &tcti);
	pcr_read(ctx, pcr, cur, NULL, NULL);
	printf("before ");
	hex(cur, 32);
	printf("\n");
	if (memcmp(cur, expect, 32) != 0) {
		close_tpm(ctx, tcti);
		return 3;
	}
	for (i = 4; i < argc; i++) {
		TPML_DIGEST_VALUES v = {.count = 1};

		v.digests[0].hashAlg = TPM2_ALG_SHA256;
		if (unhex(argv[i], v.digests[0].digest.sha256, 32) != 32)
			die("DIGEST is a SHA-256 value");
		check(Esys_PCR_Extend(ctx, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
				      ESYS_TR_NONE, &v),
		      "TPM2_PCR_Extend");
	}
	close_tpm(ctx, tcti);
	return 0;
}

static int op_pcrread(int argc, char **argv)
{
	TSS2_TCTI_CONTEXT *tcti = NULL;
	ESYS_CONTEXT *ctx;
	uint8_t cur[32];
	unsigned pcr;

	if (argc != 3)
		die("usage: pcrread TCTI PCR");
	pcr = parse_pcr(argv[2]);
	ctx = open_tpm(argv[1], &tcti);
	pcr_read(ctx, pcr, cur, NULL, NULL);
	printf("pcr ");
	hex(cur, 32);
	printf("\n");
	close_tpm(ctx, tcti);
	return 0;
}

static int op_reset(int argc, char **argv)
{
	TSS2_TCTI_CONTEXT *tcti = NULL;
	ESYS_CONTEXT *ctx;
	unsigned pcr;

	if (argc != 3)
		die("usage: reset TCTI PCR");
	pcr = parse_pcr(argv[2]);
	ctx = open_tpm(argv[1], &tcti);
	check(Esys_PCR_Reset(ctx, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE),
	      "TPM2_PCR_Reset (only PCRs 16 and 23 can be reset)");
	close_tpm(ctx, tcti);
	printf("reset %u\n", pcr);
	return 0;
}

/* ------------------------------------------------------------ keys as PEM */

static EVP_PKEY *pkey_of(const TPMT_PUBLIC *p)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *n = NULL, *e = NULL;
	uint8_t point[1 + 2 * 66];

	if (bld == NULL)
		die("out of memory");
	if (p->type == TPM2_ALG_ECC) {
		const TPMS_ECC_POINT *q = &p->unique.ecc;
		const char *group;

		switch (p->parameters.eccDetail.curveID) {
		case TPM2_ECC_NIST_P256:
			group = "prime256v1";
			break;
		case TPM2_ECC_NIST_P384:
			group = "secp384r1";
			break;
		default:
			die("unsupported ECC curve %u", p->parameters.eccDetail.curveID);
		}
		if (q->x.size != q->y.size || q->x.size > 66)
			die("malformed ECC point");
		point[0] = 0x04;
		memcpy(point + 1, q->x.buffer, q->x.size);
		memcpy(point + 1 + q->x.size, q->y.buffer, q->y.size);
		OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
		OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point,
						 1 + 2u * q->x.size);
		pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	} else if (p->type == TPM2_ALG_RSA) {
		uint32_t exp =
			p->parameters.rsaDetail.exponent ? p->parameters.rsaDetail.exponent : 65537;

		n = BN_bin2bn(p->unique.rsa.buffer, p->unique.rsa.size, NULL);
		e = BN_new();
		BN_set_word(e, exp);
		OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n);
		OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e);
		pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	} else {
		die("unsupported key type %u", p->type);
	}
	params = OSSL_PARAM_BLD_to_param(bld);
	if (pctx == NULL || params == NULL || EVP_PKEY_fromdata_init(pctx) <= 0 ||
	    EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		die("cannot convert the TPM's public key");
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(pctx);
	BN_free(n);
	BN_free(e);
	return pkey;
}

static void write_pem(const TPMT_PUBLIC *p, const char *path)
{
	EVP_PKEY *k = pkey_of(p);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (f == NULL)
		die("cannot write %s: %s", path, strerror(errno));
	if (!PEM_write_PUBKEY(f, k) || fclose(f) != 0)
		die("cannot write %s", path);
	EVP_PKEY_free(k);
}

static int op_init(int argc, char **argv)
{
	TSS2_TCTI_CONTEXT *tcti = NULL;
	ESYS_CONTEXT *ctx;
	ESYS_TR ak = ESYS_TR_NONE;
	TPM2B_PUBLIC *pub = NULL;
	uint32_t handle;
	bool made = false;

	if (argc != 5)
		die("usage: init TCTI HANDLE AK.pub EK.pub");
	handle = parse_handle(argv[2]);
	ctx = open_tpm(argv[1], &tcti);
	if (Esys_TR_FromTPMPublic(ctx, handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &ak) ==
	    TSS2_RC_SUCCESS) {
		TPMA_OBJECT need = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT |
				   TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
				   TPMA_OBJECT_SENSITIVEDATAORIGIN;

		check(Esys_ReadPublic(ctx, ak, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, NULL,
				      NULL),
		      "TPM2_ReadPublic of the AK");
		if ((pub->publicArea.objectAttributes & need) != need ||
		    (pub->publicArea.objectAttributes & TPMA_OBJECT_DECRYPT))
			die("the key at 0x%08x is not a restricted signing key of this TPM (an "
			    "attestation key): choose another handle (--handle)",
			    handle);
	} else {
		/* A primary key of the endorsement hierarchy: ECC P-256, ECDSA
		 * with SHA-256, restricted to signing what the TPM itself
		 * produced (quotes), never leaving the TPM. */
		TPM2B_SENSITIVE_CREATE sens = {0};
		TPM2B_PUBLIC tmpl = {0};
		TPM2B_DATA outside = {0};
		TPML_PCR_SELECTION none = {0};
		ESYS_TR obj;

		tmpl.publicArea.type = TPM2_ALG_ECC;
		tmpl.publicArea.nameAlg = TPM2_ALG_SHA256;
		tmpl.publicArea.objectAttributes =
			TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
			TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
			TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;
		tmpl.publicArea.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
		tmpl.publicArea.parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
		tmpl.publicArea.parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
		tmpl.publicArea.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
		tmpl.publicArea.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
		check(Esys_CreatePrimary(ctx, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD,
					 ESYS_TR_NONE, ESYS_TR_NONE, &sens, &tmpl, &outside, &none,
					 &obj, &pub, NULL, NULL, NULL),
		      "TPM2_CreatePrimary of the AK under the endorsement hierarchy");
		check(Esys_EvictControl(ctx, ESYS_TR_RH_OWNER, obj, ESYS_TR_PASSWORD, ESYS_TR_NONE,
					ESYS_TR_NONE, handle, &ak),
		      "TPM2_EvictControl (making the AK persistent)");
		Esys_FlushContext(ctx, obj);
		made = true;
	}
	write_pem(&pub->publicArea, argv[3]);
	Esys_Free(pub);
	pub = NULL;
	/* The EK's public part, for whoever registers the host: the
	 * persistent EK if the TPM has one, else the TCG default ECC P-256
	 * EK (template L-2), recreated from the endorsement seed. */
	{
		static const uint8_t policy[32] = {
			0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xB3, 0xF8, 0x1A, 0x90, 0xCC,
			0x8D, 0x46, 0xA5, 0xD7, 0x24, 0xFD, 0x52, 0xD7, 0x6E, 0x06, 0x52,
			0x0B, 0x64, 0xF2, 0xA1, 0xDA, 0x1B, 0x33, 0x14, 0x69, 0xAA,
		};
		ESYS_TR ek = ESYS_TR_NONE;

		if (Esys_TR_FromTPMPublic(ctx, 0x81010001, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
					  &ek) == TSS2_RC_SUCCESS ||
		    Esys_TR_FromTPMPublic(ctx, 0x81010002, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
					  &ek) == TSS2_RC_SUCCESS) {
			check(Esys_ReadPublic(ctx, ek, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
					      &pub, NULL, NULL),
			      "TPM2_ReadPublic of the EK");
			printf("ek persistent\n");
		} else {
			TPM2B_SENSITIVE_CREATE sens = {0};
			TPM2B_PUBLIC tmpl = {0};
			TPM2B_DATA outside = {0};
			TPML_PCR_SELECTION none = {0};
			TPMT_PUBLIC *t = &tmpl.publicArea;

			t->type = TPM2_ALG_ECC;
			t->nameAlg = TPM2_ALG_SHA256;
			t->objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
					      TPMA_OBJECT_SENSITIVEDATAORIGIN |
					      TPMA_OBJECT_ADMINWITHPOLICY | TPMA_OBJECT_RESTRICTED |
					      TPMA_OBJECT_DECRYPT;
			t->authPolicy.size = 32;
			memcpy(t->authPolicy.buffer, policy, 32);
			t->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_AES;
			t->parameters.eccDetail.symmetric.keyBits.aes = 128;
			t->parameters.eccDetail.symmetric.mode.aes = TPM2_ALG_CFB;
			t->parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
			t->parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
			t->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
			t->unique.ecc.x.size = 32;
			t->unique.ecc.y.size = 32;
			check(Esys_CreatePrimary(ctx, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD,
						 ESYS_TR_NONE, ESYS_TR_NONE, &sens, &tmpl, &outside,
						 &none, &ek, &pub, NULL, NULL, NULL),
			      "TPM2_CreatePrimary of the EK");
			Esys_FlushContext(ctx, ek);
			printf("ek template-L2\n");
		}
		write_pem(&pub->publicArea, argv[4]);
		Esys_Free(pub);
	}
	printf("ak 0x%08x %s\n", handle, made ? "created" : "existing");
	close_tpm(ctx, tcti);
	return 0;
}

/* ------------------------------------------------------------ quotes */

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len || close(fd) != 0)
		die("cannot write %s: %s", path, strerror(errno));
}

static int op_quote(int argc, char **argv)
{
	TSS2_TCTI_CONTEXT *tcti = NULL;
	ESYS_CONTEXT *ctx;
	ESYS_TR ak;
	TPM2B_DATA qual = {0};
	TPMT_SIG_SCHEME scheme = {.scheme = TPM2_ALG_NULL};
	TPML_PCR_SELECTION sel, osel;
	TPML_DIGEST vals;
	TPM2B_ATTEST *quoted = NULL;
	TPMT_SIGNATURE *sig = NULL;
	uint8_t buf[sizeof(TPMT_SIGNATURE) + 16], cur[32];
	size_t off = 0;
	unsigned pcr;
	uint32_t handle, count = 1;

	if (argc != 6)
		die("usage: quote TCTI HANDLE PCR QUALIFYING DIR");
	handle = parse_handle(argv[2]);
	pcr = parse_pcr(argv[3]);
	qual.size = (UINT16)unhex(argv[4], qual.buffer, sizeof(qual.buffer));
	sel = selection(pcr);
	ctx = open_tpm(argv[1], &tcti);
	if (Esys_TR_FromTPMPublic(ctx, handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &ak) !=
	    TSS2_RC_SUCCESS)
		die("no attestation key at 0x%08x: create it with ward attest init", handle);
	check(Esys_Quote(ctx, ak, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &qual, &scheme,
			 &sel, &quoted, &sig),
	      "TPM2_Quote");
	write_file(argv[5], "quote.msg", quoted->attestationData, quoted->size);
	check(Tss2_MU_TPMT_SIGNATURE_Marshal(sig, buf, sizeof(buf), &off), "marshal signature");
	write_file(argv[5], "quote.sig", buf, off);
	/* quote.pcrs as tpm2_quote -o writes it: the selection, the number
	 * of digest lists, the lists, each as the C structures are laid out. */
	pcr_read(ctx, pcr, cur, &osel, &vals);
	{
		char path[4096];
		FILE *f;

		snprintf(path, sizeof(path), "%s/quote.pcrs", argv[5]);
		f = fopen(path, "we");
		if (f == NULL || fwrite(&osel, sizeof(osel), 1, f) != 1 ||
		    fwrite(&count, sizeof(count), 1, f) != 1 ||
		    fwrite(&vals, sizeof(vals), 1, f) != 1 || fclose(f) != 0)
			die("cannot write %s", path);
	}
	Esys_Free(quoted);
	Esys_Free(sig);
	close_tpm(ctx, tcti);
	printf("quoted %u\n", pcr);
	return 0;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	uint8_t *buf = malloc(1 << 20);
	size_t n;

	if (f == NULL || buf == NULL)
		die("cannot read %s: %s", path, strerror(errno));
	n = fread(buf, 1, 1 << 20, f);
	fclose(f);
	*len = n;
	return buf;
}

static int op_check(int argc, char **argv)
{
	TPMS_ATTEST at;
	TPMT_SIGNATURE sig;
	EVP_PKEY *k;
	EVP_MD_CTX *md;
	EVP_PKEY_CTX *pctx = NULL;
	const EVP_MD *alg = EVP_sha256();
	uint8_t *msg, *sigbuf, *pcrs, der[256], digest[64];
	size_t mlen, slen, plen, off = 0, dlen = 0;
	unsigned char *sigp = NULL;
	unsigned dl = 0;
	TPML_PCR_SELECTION sel;
	uint32_t count, i, j;
	FILE *f;
	int ok;

	if (argc != 5)
		die("usage: check AK.pub MSG SIG PCRS");
	f = fopen(argv[1], "re");
	if (f == NULL)
		die("cannot read %s: %s", argv[1], strerror(errno));
	k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (k == NULL)
		die("%s is not a PEM public key", argv[1]);
	msg = slurp(argv[2], &mlen);
	sigbuf = slurp(argv[3], &slen);
	pcrs = slurp(argv[4], &plen);
	if (Tss2_MU_TPMT_SIGNATURE_Unmarshal(sigbuf, slen, &off, &sig) != TSS2_RC_SUCCESS ||
	    off != slen)
		die("quote.sig is not a TPMT_SIGNATURE");

	/* The signature, over quote.msg as it is. */
	switch (sig.sigAlg) {
	case TPM2_ALG_ECDSA: {
		ECDSA_SIG *es = ECDSA_SIG_new();
		BIGNUM *r = BN_bin2bn(sig.signature.ecdsa.signatureR.buffer,
				      sig.signature.ecdsa.signatureR.size, NULL);
		BIGNUM *s = BN_bin2bn(sig.signature.ecdsa.signatureS.buffer,
				      sig.signature.ecdsa.signatureS.size, NULL);
		unsigned char *p = der;
		int n;

		ECDSA_SIG_set0(es, r, s);
		n = i2d_ECDSA_SIG(es, NULL);
		if (n <= 0 || n > (int)sizeof(der))
			die("malformed ECDSA signature");
		n = i2d_ECDSA_SIG(es, &p);
		ECDSA_SIG_free(es);
		sigp = der;
		dlen = (size_t)n;
		if (sig.signature.ecdsa.hash == TPM2_ALG_SHA384)
			alg = EVP_sha384();
		break;
	}
	case TPM2_ALG_RSASSA:
	case TPM2_ALG_RSAPSS:
		sigp = sig.signature.rsassa.sig.buffer;
		dlen = sig.signature.rsassa.sig.size;
		if (sig.signature.rsassa.hash == TPM2_ALG_SHA384)
			alg = EVP_sha384();
		break;
	default:
		die("unsupported signature algorithm %u", sig.sigAlg);
	}
	md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestVerifyInit(md, &pctx, alg, NULL, k) <= 0)
		die("cannot verify with %s (its type does not match the signature)", argv[1]);
	if (sig.sigAlg == TPM2_ALG_RSAPSS) {
		EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
		EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO);
	}
	ok = EVP_DigestVerify(md, sigp, dlen, msg, mlen);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
	if (ok != 1)
		die("the quote is not signed by the key of %s (an unknown AK, or the quote was "
		    "altered)",
		    argv[1]);

	off = 0;
	if (Tss2_MU_TPMS_ATTEST_Unmarshal(msg, mlen, &off, &at) != TSS2_RC_SUCCESS || off != mlen)
		die("quote.msg is not a TPMS_ATTEST");
	if (at.magic != TPM2_GENERATED_VALUE || at.type != TPM2_ST_ATTEST_QUOTE)
		die("quote.msg is not a quote made by a TPM");

	/* quote.pcrs: the values must hash to the signed PCR digest. */
	if (plen < sizeof(sel) + sizeof(count))
		die("quote.pcrs is too short");
	memcpy(&sel, pcrs, sizeof(sel));
	memcpy(&count, pcrs + sizeof(sel), sizeof(count));
	if (count == 0 || count > 8 ||
	    plen != sizeof(sel) + sizeof(count) + count * sizeof(TPML_DIGEST))
		die("quote.pcrs is not as tpm2_quote writes it");
	if (sel.count != at.attested.quote.pcrSelect.count ||
	    memcmp(&sel.pcrSelections, &at.attested.quote.pcrSelect.pcrSelections,
		   sel.count * sizeof(sel.pcrSelections[0])) != 0)
		die("quote.pcrs selects other PCRs than the quote");
	{
		EVP_MD_CTX *h = EVP_MD_CTX_new();
		const uint8_t *first = NULL;
		unsigned idx = 99;

		EVP_DigestInit_ex(h, alg, NULL);
		for (i = 0; i < count; i++) {
			TPML_DIGEST d;

			memcpy(&d, pcrs + sizeof(sel) + sizeof(count) + i * sizeof(TPML_DIGEST),
			       sizeof(d));
			if (d.count > 8)
				die("quote.pcrs is malformed");
			for (j = 0; j < d.count; j++) {
				if (d.digests[j].size > sizeof(d.digests[j].buffer))
					die("quote.pcrs is malformed");
				EVP_DigestUpdate(h, d.digests[j].buffer, d.digests[j].size);
				if (first == NULL && d.digests[j].size == 32) {
					static uint8_t keep[32];

					memcpy(keep, d.digests[j].buffer, 32);
					first = keep;
				}
			}
		}
		EVP_DigestFinal_ex(h, digest, &dl);
		EVP_MD_CTX_free(h);
		if (dl != at.attested.quote.pcrDigest.size ||
		    memcmp(digest, at.attested.quote.pcrDigest.buffer, dl) != 0)
			die("the PCR values of quote.pcrs are not the ones the TPM quoted");
		for (i = 0; i < 24 && sel.count; i++)
			if (sel.pcrSelections[0].pcrSelect[i / 8] & (1u << (i % 8))) {
				idx = i;
				break;
			}
		if (first == NULL || idx == 99 || sel.pcrSelections[0].hash != TPM2_ALG_SHA256)
			die("the quote holds no SHA-256 PCR");
		printf("pcr %u ", idx);
		hex(first, 32);
		printf("\n");
	}
	printf("qualifying ");
	hex(at.extraData.buffer, at.extraData.size);
	printf("\nclock %llu reset %u restart %u safe %u\n", (unsigned long long)at.clockInfo.clock,
	       at.clockInfo.resetCount, at.clockInfo.restartCount, at.clockInfo.safe);
	free(msg);
	free(sigbuf);
	free(pcrs);
	return 0;
}

int main(int argc, char **argv)
{
	/* ward gives a TPM command a minute; a TPM that takes longer is stuck. */
	alarm(60);
	if (argc < 2)
		die("usage: ward-tpm extend|pcrread|reset|init|quote|check ...");
	if (strcmp(argv[1], "extend") == 0)
		return op_extend(argc - 1, argv + 1);
	if (strcmp(argv[1], "pcrread") == 0)
		return op_pcrread(argc - 1, argv + 1);
	if (strcmp(argv[1], "reset") == 0)
		return op_reset(argc - 1, argv + 1);
	if (strcmp(argv[1], "init") == 0)
		return op_init(argc - 1, argv + 1);
	if (strcmp(argv[1], "quote") == 0)
		return op_quote(argc - 1, argv + 1);
	if (strcmp(argv[1], "check") == 0)
		return op_check(argc - 1, argv + 1);
	die("unknown operation \"%.40s\"", argv[1]);
}
