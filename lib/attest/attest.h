/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Measured launch and attestation (docs/attestation.md).
 *
 * Every measured launch appends an event to ward's measurement log and
 * extends a PCR with the event's SHA-256: the TPM's (through the ward-tpm
 * helper, tpm2-tss ESAPI) or, without a TPM, a software chain that is the
 * log's own replay, signed by a host key when quoted.
 *
 *   event.c   the canonical text of an event (pure)
 *   log.c     records, parsing, torn tails, replay (pure)
 *   config.c  TCTI strings, PCR index, AK handle, host key (pure checks)
 *   store.c   the log on disk: lock, append, recovery, rotation
 *   tpm.c     running the ward-tpm helper
 *   soft.c    software-rooted quotes (Ed25519, minisign format)
 *   quote.c   ward attest quote: the quote directory; api.attest's stream
 *   verify.c  ward attest verify: signature, nonce, replay, expectations
 */
#ifndef WARD_ATTEST_H
#define WARD_ATTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../error.h"

#define WARD_ATTEST_DIGEST	 32u
#define WARD_ATTEST_HEX		 (2u * WARD_ATTEST_DIGEST + 1u)
#define WARD_ATTEST_PCR_DEFAULT	 23u
#define WARD_ATTEST_AK_DEFAULT	 0x81010020u
#define WARD_ATTEST_TCTI_DEFAULT "device:/dev/tpmrm0"
#define WARD_ATTEST_EVENT_MAX	 (512u << 10) /* one event's body */
#define WARD_ATTEST_LOG_MAX	 (64u << 20)  /* a log ward will read */
#define WARD_ATTEST_NONCE_MIN	 8u
#define WARD_ATTEST_NONCE_MAX	 64u

/* What every software-rooted output says. */
#define WARD_ATTEST_SOFT_LABEL                                                                     \
	"SOFTWARE-ROOTED: no TPM; the chain is the log's own replay, signed with the host's key. " \
	"It proves only that whoever holds that key (root on the host; rootless, the user) "       \
	"produced this log; it does not prove the host booted what it claims, nor that root "      \
	"did not rewrite the log"

/* What a TPM quote of a resettable PCR (16, 23) does not prove. */
#define WARD_ATTEST_RESETTABLE_NOTE                                                               \
	"PCR %u can be reset (TPM2_PCR_Reset, locality 0) by whoever reaches the TPM: root, and " \
	"members of the tss group through /dev/tpmrm0.  The quote proves that this TPM signed "   \
	"it, fresh, over a PCR that this log replays to; that the log is the host's whole "       \
	"history since boot holds only as far as they are trusted (a PCR that cannot be reset "   \
	"binds the log to the boot: ward attest init --pcr N)"

/* ------------------------------------------------------------ event text (event.c) */

struct ward_attest_signer {
	char keyid[17];
	const char *name;      /* the trust policy's name for the key */
	const char *roles;     /* the roles the policy gives it, comma separated ("" none) */
	const char *signed_as; /* the role in its trusted comment ("" none) */
};

struct ward_attest_grant {
	char *text;	/* "name" or "name=value" */
	const char *by; /* a signer's key id, "operator" or "default" */
};

/* One launch, as measured.  Every field is what ward_run() receives. */
struct ward_attest_launch {
	const char *env; /* the environment's broker name, NULL for none */
	uint8_t ward[WARD_ATTEST_DIGEST];
	bool bundle;
	const char *bundle_name, *bundle_version; /* NULL when absent */
	uint8_t manifest[WARD_ATTEST_DIGEST];
	uint8_t rootfs[WARD_ATTEST_DIGEST];
	const char *rootfs_dir; /* not a bundle: --rootfs DIR, or NULL (the host's) */
	const struct ward_attest_signer *signers;
	size_t n_signers;
	const char *decision;		  /* "trusted", "trusted+operator", "operator" */
	struct ward_attest_grant *grants; /* sorted by ward_attest_launch_body() */
	size_t n_grants;
	char *const *argv;
	char *const *envp;
	size_t n_envp;
	const char *cwd;
	char **options; /* what else changes enforcement: "best-effort", "publish 8080:80" */
	size_t n_options;
};

/* The canonical body: the same launch gives the same bytes. */
char *ward_attest_launch_body(struct ward_attest_launch *l, size_t *len);
/* The log's first event: mode ("tpm" or "software"), PCR, boot id. */
char *ward_attest_header_body(const char *mode, unsigned pcr, const char *boot_id, size_t *len);

/* A value as events write it: bytes outside '!'..'~' and '\' as \xHH. */
char *ward_attest_escape(const char *s, size_t len);
/* The first value of key in a body (unescaped, allocated), or NULL.  With
 * a cursor, the next one after *pos. */
char *ward_attest_field(const char *body, size_t len, const char *key, size_t *pos);
/* The same, escaped as written (for lines of several values). */
char *ward_attest_field_raw(const char *body, size_t len, const char *key, size_t *pos);
char *ward_attest_unescape(const char *v, size_t n);

/* ------------------------------------------------------------ log records (log.c) */

enum ward_attest_type {
	WARD_EVENT_LOG,	   /* the header */
	WARD_EVENT_LAUNCH, /* a launch */
};

struct ward_attest_event {
	uint64_t seq;
	enum ward_attest_type type;
	uint8_t digest[WARD_ATTEST_DIGEST];
	const char *body; /* into the log's bytes */
	size_t body_len;
	size_t offset, end; /* of the whole record in the log */
};

struct ward_attest_log {
	struct ward_attest_event *ev;
	size_t n;
	size_t good_end; /* bytes of complete records */
	size_t torn;	 /* bytes of an incomplete record after them (0: none) */
	uint8_t replay[WARD_ATTEST_DIGEST];
	/* from the header */
	char mode[16];
	unsigned pcr;
	char boot[64];
};

/* One record's text: "event SEQ TYPE sha256:HEX LEN\n" then the body. */
char *ward_attest_record(uint64_t seq, enum ward_attest_type type, const char *body, size_t len,
			 uint8_t digest[WARD_ATTEST_DIGEST], size_t *out_len);
/* Parse a whole log.  An incomplete last record is a torn tail (counted in
 * torn, not an error); anything else malformed, a body that does not match
 * its digest, or sequence numbers out of order are errors naming the event. */
int ward_attest_log_parse(const char *data, size_t len, const char *origin,
			  struct ward_attest_log *log, ward_error_t *err);
void ward_attest_log_free(struct ward_attest_log *log);
/* pcr = SHA-256(pcr || digest), as TPM2_PCR_Extend does. */
void ward_attest_extend(uint8_t pcr[WARD_ATTEST_DIGEST], const uint8_t digest[WARD_ATTEST_DIGEST]);
/* The replay of the first n events. */
void ward_attest_replay(const struct ward_attest_log *log, size_t n,
			uint8_t out[WARD_ATTEST_DIGEST]);
/* The last launch event of environment env (NULL: the last launch), or -1. */
ssize_t ward_attest_find_env(const struct ward_attest_log *log, const char *env);

void ward_attest_hex(const uint8_t *d, size_t n, char *out);
/* Parse hex (even length, at most max bytes); returns the byte count or -1. */
ssize_t ward_attest_unhex(const char *s, uint8_t *out, size_t max);
void ward_attest_sha256(const void *data, size_t len, uint8_t out[WARD_ATTEST_DIGEST]);

/* What an api.attest quote's qualifying data is: the verifier's nonce
 * bound to the asking environment's launch event, so that one
 * environment's quote cannot pass for another's. */
void ward_attest_bind(const uint8_t *nonce, size_t n, uint64_t seq,
		      const uint8_t digest[WARD_ATTEST_DIGEST], uint8_t out[WARD_ATTEST_DIGEST]);

/* ------------------------------------------------------------ configuration (config.c) */

struct ward_attest_config {
	char *dir;  /* <state>/attest */
	char *tcti; /* NULL: software-rooted */
	unsigned pcr;
	uint32_t ak_handle;
	char *key;	       /* the software host key */
	const char *tcti_from; /* "--tcti", "WARD_TCTI", "<dir>/config", "default" */
};

/* Is a TCTI string one ward accepts?  Only "device:/dev/tpmrmN",
 * "device:/dev/tpmN", "swtpm:host=H,port=P" and "mssim:host=H,port=P":
 * any other module name is a shared library the TCTI loader would load
 * into a root process. */
int ward_attest_tcti_check(const char *tcti, const char *from, ward_error_t *err);
/* Load: tcti_opt (--tcti) > $WARD_TCTI > <state>/attest/config >
 * /dev/tpmrm0 if present > software.  "none" means software. */
int ward_attest_config_load(const char *state_dir, const char *tcti_opt,
			    struct ward_attest_config *c, ward_error_t *err);
/* Write <state>/attest/config (ward attest init). */
int ward_attest_config_save(const struct ward_attest_config *c, ward_error_t *err);
void ward_attest_config_free(struct ward_attest_config *c);
/* <state>/attest, created 0700 and checked: ours, a directory, writable by
 * nobody else.  Returns an O_DIRECTORY descriptor. */
int ward_attest_dir_open(const char *dir, bool create, ward_error_t *err);

/* ------------------------------------------------------------ the log on disk (store.c) */

struct ward_attest_result {
	uint64_t seq;
	uint8_t digest[WARD_ATTEST_DIGEST];
	uint8_t pcr[WARD_ATTEST_DIGEST]; /* after the extend */
};

/* Append a launch event under the log's lock and extend the PCR with it
 * (the TPM's, or the software chain).  Fails closed: the launch must not
 * go on when this fails. */
int ward_attest_measure(const struct ward_attest_config *c, const char *body, size_t len,
			struct ward_attest_result *res, ward_error_t *err);
/* The digest of ward's own binary (/proc/self/exe), cached in the attest
 * directory by device, inode, size, mtime and ctime. */
int ward_attest_self_digest(const struct ward_attest_config *c, uint8_t out[WARD_ATTEST_DIGEST],
			    ward_error_t *err);
/* Take the log's lock (shared: quoting; exclusive: appending).  The
 * descriptor to close. */
int ward_attest_lock(int dirfd, bool exclusive, ward_error_t *err);
/* Read the log (holding the lock); *data allocated. */
int ward_attest_read_log(int dirfd, char **data, size_t *len, ward_error_t *err);
/* Record which event launched environment env, with the supervisor's pid
 * (what the broker registered), and remove it when it ends. */
int ward_attest_env_record(const struct ward_attest_config *c, const char *env, pid_t pid,
			   const struct ward_attest_result *res, ward_error_t *err);
void ward_attest_env_forget(const struct ward_attest_config *c, const char *env, pid_t pid);
/* Read it back: the event's seq for env launched by pid, or -1 with err. */
int ward_attest_env_lookup(const char *dir, const char *env, pid_t pid, uint64_t *seq,
			   ward_error_t *err);

/* ------------------------------------------------------------ the TPM helper (tpm.c) */

/* Run ward-tpm with argv (argv[0] is the operation); its "key value"
 * lines go to *out (allocated).  Returns its exit status (0 ok, 3 PCR
 * mismatch) or -1 with err. */
int ward_attest_tpm(const char *const *argv, char **out, ward_error_t *err);
/* The value of key in the helper's output, or NULL. */
char *ward_attest_tpm_field(const char *out, const char *key);
/* Extend pcr with digests if it holds expect; *actual gets its value
 * (before) when it does not (return 1). */
int ward_attest_tpm_extend(const struct ward_attest_config *c, const uint8_t expect[32],
			   const uint8_t (*digests)[32], size_t n, uint8_t actual[32],
			   ward_error_t *err);

/* ------------------------------------------------------------ quotes (soft.c, quote.c) */

/* Files of a quote directory. */
#define WARD_QUOTE_MSG	  "quote.msg"
#define WARD_QUOTE_SIG	  "quote.sig"
#define WARD_QUOTE_PCRS	  "quote.pcrs"
#define WARD_QUOTE_LOG	  "eventlog"
#define WARD_QUOTE_KIND	  "kind"
#define WARD_QUOTE_EVENT  "event"
#define WARD_QUOTE_QUALIF "qualifying"

struct ward_quote_file {
	const char *name;
	char *data;
	size_t len;
};

struct ward_quote {
	bool software;
	struct ward_quote_file files[7];
	size_t n;
};

/* Quote (under the log's lock): qualifying data = nonce, or the nonce
 * bound to env's launch event (seq, for api.attest; the event must name
 * env when env is given). */
int ward_attest_quote(const struct ward_attest_config *c, const uint8_t *nonce, size_t nonce_len,
		      const char *env, bool bind, uint64_t bind_seq, struct ward_quote *q,
		      ward_error_t *err);
void ward_quote_free(struct ward_quote *q);
int ward_quote_write_dir(const struct ward_quote *q, const char *dir, ward_error_t *err);
/* The stream api.attest hands to an environment, and its reader. */
int ward_quote_write_stream(const struct ward_quote *q, int fd);
int ward_quote_read_stream(int fd, struct ward_quote *q, ward_error_t *err);

/* The software quote's signed text, and its signing and checking. */
char *ward_soft_quote_text(const uint8_t *qual, size_t qual_len, unsigned pcr,
			   const uint8_t value[32], size_t n_events, size_t *len);
int ward_soft_key_load(const char *path, bool create, ward_error_t *err);
int ward_soft_sign(const char *key_path, const char *data, size_t len, char **sig,
		   ward_error_t *err);
struct ward_soft_quote {
	uint8_t qual[WARD_ATTEST_NONCE_MAX];
	size_t qual_len;
	unsigned pcr;
	uint8_t value[32];
};
int ward_soft_check(const char *pub_text, size_t pub_len, const char *msg, size_t msg_len,
		    const char *sig, size_t sig_len, struct ward_soft_quote *out,
		    ward_error_t *err);
/* Write the host key's public half (minisign format). */
int ward_soft_pub(const char *key_path, const char *out, ward_error_t *err);

/* ------------------------------------------------------------ verification (verify.c) */

struct ward_attest_expect {
	const char *ak; /* NAME.pub: PEM (TPM) or minisign (software) */
	const uint8_t *nonce;
	size_t nonce_len;
	const char *quote_dir;
	const char *env;    /* NULL: the quote's own event, or the last launch */
	const char *bundle; /* --expect-bundle FILE */
	char **policy;	    /* --expect-policy: the non-default entitlements */
	size_t n_policy;
	bool any_policy; /* --expect-policy given (possibly empty) */
};

/* Verify; prints what was verified to out.  Every difference is named in
 * err (all of them, one per line). */
int ward_attest_verify(const struct ward_attest_expect *x, char **report, ward_error_t *err);

#endif
