/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Signed bundles and the trust policy (docs/bundles.md).
 *
 * A bundle is a manifest (entitlements in ward's manifest syntax plus "#@"
 * header lines: command, environment, name, version and the digest of the
 * root filesystem) and a root filesystem, as a directory or as a tar file
 * ("app.ward").  Signatures over the manifest bytes are minisign files; the
 * manifest binds the root filesystem through its digest, so a signature
 * covers the whole tree.  The trust policy says which keys may grant which
 * entitlements.
 *
 * Pure code (no I/O): minisign.c (keys, signatures), format.c (manifest,
 * digest listing), trust.c (policy file, matching, decision).  Code with
 * side effects: tree.c (walking a directory), tar.c (reading and writing
 * tar), extract.c (opening, verifying and extracting bundles), edit.c
 * (writing key files, signatures and the trust file).
 */
#ifndef WARD_BUNDLE_H
#define WARD_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "../entitlements.h"
#include "../error.h"

/* ------------------------------------------------------------ minisign */

#define WARD_KEYID_BYTES  8
#define WARD_PUBKEY_BYTES 32
#define WARD_SECKEY_BYTES 64
#define WARD_SIG_BYTES	  64
#define WARD_KEYID_HEXLEN 17 /* 16 hex digits and a NUL */
/* minisign's limits on comment lines. */
#define WARD_COMMENT_MAX	 1024
#define WARD_TRUSTED_COMMENT_MAX 8192
/* Longest signature or key file ward reads. */
#define WARD_SIGFILE_MAX (16u << 10)

struct ward_pubkey {
	uint8_t keyid[WARD_KEYID_BYTES];
	uint8_t pk[WARD_PUBKEY_BYTES];
};

/* A decrypted secret key (libsodium layout: seed then public key). */
struct ward_seckey {
	uint8_t keyid[WARD_KEYID_BYTES];
	uint8_t sk[WARD_SECKEY_BYTES];
};

enum ward_sig_alg {
	WARD_SIG_PREHASHED, /* "ED": Ed25519 over BLAKE2b-512 of the data (minisign's default) */
	WARD_SIG_LEGACY,    /* "Ed": Ed25519 over the data itself */
};

struct ward_signature {
	enum ward_sig_alg alg;
	uint8_t keyid[WARD_KEYID_BYTES];
	uint8_t sig[WARD_SIG_BYTES];
	uint8_t global_sig[WARD_SIG_BYTES]; /* over sig || trusted comment */
	char *untrusted_comment;
	char *trusted_comment;
};

/* The cost of the scrypt derivation that protects a secret key. */
struct ward_kdf {
	uint64_t opslimit;
	uint64_t memlimit;
};
/* minisign's own choice (1 GiB, a few seconds) and a fast one for tests. */
extern const struct ward_kdf ward_kdf_sensitive;
extern const struct ward_kdf ward_kdf_interactive;

/* Key ids are printed as minisign prints them: 16 upper-case hex digits of
 * the little-endian 64-bit number. */
void ward_keyid_hex(const uint8_t id[WARD_KEYID_BYTES], char out[WARD_KEYID_HEXLEN]);
int ward_keyid_parse(const char *hex, uint8_t id[WARD_KEYID_BYTES]);

/* A public key file ("untrusted comment: ..." + base64 line), or the bare
 * base64 string that `minisign -P` takes. */
int ward_pubkey_parse(const char *text, size_t len, const char *origin, struct ward_pubkey *pk,
		      ward_error_t *err);
char *ward_pubkey_base64(const struct ward_pubkey *pk);
char *ward_pubkey_format(const struct ward_pubkey *pk);

/* Is this secret key file encrypted (a password is needed)?  -1 when the
 * text is not a minisign secret key. */
int ward_seckey_encrypted(const char *text, size_t len, const char *origin, bool *encrypted,
			  ward_error_t *err);
/* Decode (and decrypt, with password, which may be NULL for an unencrypted
 * key) a secret key file.  A wrong password is an error with code EKEYREJECTED. */
int ward_seckey_parse(const char *text, size_t len, const char *origin, const char *password,
		      struct ward_seckey *sk, ward_error_t *err);
/* Encode a secret key; encrypted with scrypt when password is not NULL. */
char *ward_seckey_format(const struct ward_seckey *sk, const char *password,
			 const struct ward_kdf *kdf, ward_error_t *err);
void ward_seckey_public(const struct ward_seckey *sk, struct ward_pubkey *pk);
void ward_seckey_wipe(struct ward_seckey *sk);
int ward_key_generate(struct ward_pubkey *pk, struct ward_seckey *sk, ward_error_t *err);

int ward_signature_parse(const char *text, size_t len, const char *origin,
			 struct ward_signature *sig, ward_error_t *err);
char *ward_signature_format(const struct ward_signature *sig);
void ward_signature_free(struct ward_signature *sig);
/* Sign data; trusted_comment must be one line. */
int ward_sign(const struct ward_seckey *sk, const void *data, size_t len, enum ward_sig_alg alg,
	      const char *trusted_comment, const char *untrusted_comment,
	      struct ward_signature *out, ward_error_t *err);
/* Check the key id, the signature over data and the global signature over
 * the trusted comment, as `minisign -V` does. */
int ward_verify(const struct ward_pubkey *pk, const struct ward_signature *sig, const void *data,
		size_t len, ward_error_t *err);
/* The value of KEY in a trusted comment of tab-separated KEY:VALUE fields
 * (newly allocated), or NULL. */
char *ward_trusted_comment_field(const char *comment, const char *key);

/* ------------------------------------------------------------ root filesystem digest */

/* One entry of a root filesystem, as the digest sees it. */
struct ward_tree_entry {
	char *path;    /* "/" for the root, "/bin/sh" below it */
	char type;     /* 'd', 'f' or 'l' */
	uint32_t mode; /* permission bits (07777) */
	uint32_t uid, gid;
	uint64_t size;	    /* regular files */
	uint8_t sha256[32]; /* regular files: SHA-256 of the content */
	char *target;	    /* symbolic links */
};

struct ward_tree {
	struct ward_tree_entry *items;
	size_t n, cap;
	uint64_t total_bytes;
};

void ward_tree_free(struct ward_tree *t);
struct ward_tree_entry *ward_tree_push(struct ward_tree *t);
/* Sort by path; every entry but the root must have its directory in the
 * tree, and no path may appear twice. */
int ward_tree_finish(struct ward_tree *t, const char *what, ward_error_t *err);
/* The listing the digest is taken over (docs/bundles.md), one line per entry. */
char *ward_tree_listing(const struct ward_tree *t, size_t *len);
void ward_tree_digest(const struct ward_tree *t, uint8_t out[32]);
/* "sha256:<64 hex digits>" */
void ward_digest_format(const uint8_t d[32], char out[72]);

/* Limits on what ward accepts in a bundle. */
#define WARD_BUNDLE_MANIFEST_MAX (256u << 10)
#define WARD_BUNDLE_MAX_SIGS	 64u
#define WARD_BUNDLE_MAX_ENTRIES	 1000000u
#define WARD_BUNDLE_MAX_BYTES	 (8ULL << 30)
#define WARD_BUNDLE_MAX_DEPTH	 128u
#define WARD_BUNDLE_PATH_MAX	 4096u

/* ------------------------------------------------------------ manifest */

struct ward_bundle_manifest {
	char *name;    /* NULL when absent */
	char *version; /* NULL when absent */
	char **argv;   /* command and arguments, NULL-terminated */
	size_t argc;
	char **env; /* KEY=VALUE */
	size_t n_env;
	char *cwd; /* NULL: the default */
	uint8_t rootfs_digest[32];
	struct ward_request_list reqs; /* the entitlements, origin "ORIGIN:LINE" */
};

/* Parse a bundle manifest; origin names it in messages ("app.ward:manifest"). */
int ward_manifest_parse(const char *text, size_t len, const char *origin,
			struct ward_bundle_manifest *m, ward_error_t *err);
void ward_manifest_free(struct ward_bundle_manifest *m);

/* What `ward bundle create` puts into a manifest. */
struct ward_manifest_input {
	const char *name, *version, *cwd;
	char *const *argv; /* NULL-terminated */
	char *const *env;
	size_t n_env;
	const uint8_t *rootfs_digest;
	const char *entitlements; /* the text of an entitlement manifest, or NULL */
	size_t entitlements_len;
};
/* Compose (and check, by parsing it back) a manifest. */
char *ward_manifest_compose(const struct ward_manifest_input *in, size_t *len, ward_error_t *err);

/* ------------------------------------------------------------ trust policy */

enum ward_pattern_op {
	WARD_PAT_NOVALUE, /* NAME: the entitlement without a value */
	WARD_PAT_VALUE,	  /* NAME=GLOB */
	WARD_PAT_LE,	  /* NAME<=N */
	WARD_PAT_GE,	  /* NAME>=N */
	WARD_PAT_ANY,	  /* "*" or "PREFIX.*": any value of any matching name */
};

/* The host part of a network.connect pattern.  Addresses and names never
 * match each other: a CIDR pattern matches only requests for an address, a
 * name pattern only requests for a name. */
enum ward_host_pattern {
	WARD_HOSTPAT_ANY,  /* "*": any address and any name */
	WARD_HOSTPAT_CIDR, /* "10.0.0.0/24" or "10.0.0.7" (a /32) */
	WARD_HOSTPAT_NAME, /* a glob over names; '*', '?' and [...] stay within one label */
};

struct ward_trust_pattern {
	char *text; /* as written */
	char *name; /* exact name, or the prefix (with the dot) of "PREFIX.*"; "" for "*" */
	bool name_glob;
	enum ward_pattern_op op;
	/* WARD_PAT_VALUE: the glob; for api.open the path part (before :ro/:rw),
	 * for network.connect the host part (a name glob, lower case). */
	char *value;
	uint64_t bound; /* WARD_PAT_LE/GE, in the unit of the entitlement (bytes, milli-CPUs) */
	/* WARD_PAT_VALUE of network.connect: the host part. */
	enum ward_host_pattern host;
	uint32_t net, prefix; /* WARD_HOSTPAT_CIDR, host byte order */
	/* WARD_PAT_VALUE of network.connect and network.listen: ports lo..hi. */
	uint16_t port_lo, port_hi;
	/* WARD_PAT_VALUE of api.open: the pattern grants read-write opens (":rw"). */
	bool rw;
};

struct ward_trust_key {
	unsigned line;
	struct ward_pubkey pk;
	char keyid[WARD_KEYID_HEXLEN];
	char *name;
	/* The roles the operator gives the key (role=publisher,reviewer).  The
	 * role a signer writes into its trusted comment decides nothing: the
	 * key's holder chooses it. */
	char **roles;
	size_t n_roles;
	struct ward_trust_pattern *may;
	size_t n_may;
	time_t expires; /* 0: never */
	bool revoked;
	char *revoked_on; /* the date given, or NULL */
};

/* "require PATTERNS by=ROLE,ROLE": a requested entitlement that one of the
 * patterns covers is granted only when, for each role listed, a different
 * usable signer whose key the policy gives that role may grant it. */
#define WARD_TRUST_MAX_REQUIRED_ROLES 16u
struct ward_trust_require {
	unsigned line;
	char *text; /* the patterns as written */
	struct ward_trust_pattern *pats;
	size_t n_pats;
	char **roles;
	size_t n_roles;
};

struct ward_trust {
	char *path;
	struct ward_trust_key *keys;
	size_t n_keys;
	struct ward_trust_require *reqs;
	size_t n_reqs;
};

#define WARD_TRUST_DEFAULT "/etc/ward/trust"
#define WARD_TRUST_MAX	   (1u << 20)

int ward_trust_parse(const char *text, size_t len, const char *path, struct ward_trust *t,
		     ward_error_t *err);
void ward_trust_free(struct ward_trust *t);
/* The first key of the policy with that id (ids are chosen by a key's
 * maker: several keys may share one). */
const struct ward_trust_key *ward_trust_find(const struct ward_trust *t,
					     const uint8_t keyid[WARD_KEYID_BYTES]);
/* The key of the policy with exactly that public key, or NULL. */
const struct ward_trust_key *ward_trust_find_pk(const struct ward_trust *t,
						const struct ward_pubkey *pk);
/* Does the key hold the role? */
bool ward_trust_key_has_role(const struct ward_trust_key *k, const char *role);
/* Parse one "may" pattern (checked against the entitlement table). */
int ward_trust_pattern_parse(const char *text, const char *origin, struct ward_trust_pattern *p,
			     ward_error_t *err);
void ward_trust_pattern_free(struct ward_trust_pattern *p);
/* Does the pattern grant the request?  Dangerous entitlements are granted
 * only by a pattern that names them exactly. */
bool ward_trust_pattern_match(const struct ward_trust_pattern *p, const struct ward_request *r);
/* Does the broker-name pattern cover every name the request names?  A
 * request ending in '*' names every name with that prefix. */
bool ward_trust_name_covers(const char *pattern, const char *request);
/* Parse "YYYY-MM-DD" (UTC midnight). */
int ward_parse_date(const char *s, time_t *out);

/* One signature of a bundle, after verification.  Only TRUSTED signers
 * grant anything; a signature that does not verify (INVALID) or cannot be
 * read (MALFORMED) is reported and ignored, never fatal by itself: anyone
 * can add a file claiming a trusted key's id, and that must not be enough
 * to have a bundle refused. */
enum ward_signer_status {
	WARD_SIGNER_TRUSTED,   /* verified with a key of the policy, usable */
	WARD_SIGNER_VERIFIED,  /* verified with a key given for checking only (not trusted) */
	WARD_SIGNER_UNKNOWN,   /* key not in the policy: not verified */
	WARD_SIGNER_REVOKED,   /* verified, but the key is revoked */
	WARD_SIGNER_EXPIRED,   /* verified, but the key's trust expired */
	WARD_SIGNER_INVALID,   /* does not verify with any key of that id: ignored */
	WARD_SIGNER_MALFORMED, /* not a minisign signature: ignored */
};

struct ward_signer {
	char *file;		       /* the signature's file name inside the bundle */
	char keyid[WARD_KEYID_HEXLEN]; /* "" when MALFORMED */
	char *role;	  /* from the trusted comment ("" when absent): shown, decides nothing */
	time_t timestamp; /* from the trusted comment (0 when absent) */
	char *trusted_comment;
	enum ward_sig_alg alg;
	enum ward_signer_status status;
	const struct ward_trust_key *key; /* the policy's key (for INVALID: one with that id) */
	char *problem;			  /* INVALID, MALFORMED: why (escaped), else NULL */
};

/* How each requested entitlement was decided. */
struct ward_decision {
	const struct ward_request *req;
	bool granted;
	bool by_default;			  /* a default entitlement: nothing to grant */
	const struct ward_signer *signer;	  /* who granted it */
	const struct ward_trust_pattern *pattern; /* with which pattern */
	/* A signer may grant it, but this requirement of the policy is not met. */
	const struct ward_trust_require *unmet;
};

struct ward_trust_report {
	struct ward_decision *items;
	size_t n;
	size_t n_refused;
	size_t n_trusted_signers;
};

/* Decide every request against the trusted signers: a request is granted
 * when some usable signer's key may grant it.  Fails (naming every refused
 * entitlement, the keys and the policy lines) unless all are granted. */
int ward_trust_decide(const struct ward_trust *t, const struct ward_signer *signers, size_t n,
		      const struct ward_request_list *reqs, struct ward_trust_report *rep,
		      ward_error_t *err);
void ward_trust_report_free(struct ward_trust_report *rep);
const char *ward_signer_status_str(enum ward_signer_status s);

/* ------------------------------------------------------------ tar */

struct ward_tar_entry {
	char *path;    /* as stored (pax/GNU long names applied) */
	char type;     /* '0' file, '1' hard link, '2' symlink, '5' directory, others */
	uint32_t mode; /* the mode field, all bits */
	uint32_t uid, gid;
	uint64_t size;
	char *linkname;
};

struct ward_tar_reader {
	int fd;
	const char *what;   /* prefixes errors ("app.ward"), or NULL */
	uint64_t offset;    /* bytes consumed */
	uint64_t remaining; /* content bytes of the current entry not read yet */
	uint64_t padding;   /* after the content */
	bool done;
	struct ward_tar_entry cur;
};

void ward_tar_reader_init(struct ward_tar_reader *r, int fd);
void ward_tar_reader_free(struct ward_tar_reader *r);
/* 1: r->cur holds the next entry; 0: end of archive; -1: error. */
int ward_tar_next(struct ward_tar_reader *r, ward_error_t *err);
/* Read up to len bytes of the current entry's content; 0 at its end. */
ssize_t ward_tar_read(struct ward_tar_reader *r, void *buf, size_t len, ward_error_t *err);

struct ward_tar_writer {
	int fd;
	uint64_t offset;
};

/* Write a header (pax records when a field does not fit ustar). */
int ward_tar_write_header(struct ward_tar_writer *w, const struct ward_tar_entry *e,
			  ward_error_t *err);
int ward_tar_write_data(struct ward_tar_writer *w, const void *data, size_t len, ward_error_t *err);
/* Pad the content written so far to a block. */
int ward_tar_write_pad(struct ward_tar_writer *w, uint64_t size, ward_error_t *err);
int ward_tar_write_end(struct ward_tar_writer *w, ward_error_t *err);

/* ------------------------------------------------------------ scanning and extraction */

struct ward_scan_opts {
	bool strip_setuid; /* clear setuid/setgid on files instead of refusing */
	bool skip_special; /* leave out device nodes, fifos and sockets instead of refusing */
	bool set_owner;	   /* record owner as uid/gid below */
	uint32_t uid, gid;
	size_t *n_stripped, *n_skipped; /* counters for warnings (may be NULL) */
};

/* Walk a directory (never following a link) into a tree, hashing every file. */
int ward_tree_scan(int dirfd, const char *what, const struct ward_scan_opts *o, struct ward_tree *t,
		   ward_error_t *err);

/* Creates entries beneath a directory, resolving every path with openat2
 * and RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS. */
struct ward_extract_dir {
	char *path;
	uint32_t mode, uid, gid;
};

struct ward_extract {
	int rootfd;	  /* O_RDONLY | O_DIRECTORY */
	const char *what; /* for messages */
	/* Directories get their mode and owner at the end, deepest first, so
	 * that a read-only directory can still be filled. */
	struct ward_extract_dir *dirs;
	size_t n_dirs;
};

/* Create one entry; its directory must exist already.  Regular files take
 * their content from readfn, and get e->size and e->sha256 from what was
 * written.  A hard link (link_target: the tree path of an earlier regular
 * file) is made with linkat, or copied where that is not allowed. */
typedef ssize_t (*ward_read_fn)(void *ctx, void *buf, size_t len, ward_error_t *err);
int ward_extract_entry(struct ward_extract *x, struct ward_tree_entry *e, const char *link_target,
		       ward_read_fn readfn, void *ctx, ward_error_t *err);
int ward_extract_finish(struct ward_extract *x, ward_error_t *err);
void ward_extract_free(struct ward_extract *x);
/* openat2(dirfd, path, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
 * RESOLVE_NO_XDEV); -1 with errno on failure. */
int ward_openat_beneath(int dirfd, const char *path, uint64_t flags, mode_t mode);
/* Remove a directory tree beneath dirfd (never following links). */
int ward_remove_tree_at(int dirfd, const char *name, ward_error_t *err);

/* ------------------------------------------------------------ bundles */

struct ward_bundle_sigfile {
	char *name; /* "manifest.minisig", "manifest.reviewer.<KEYID>.minisig" */
	char *text;
	size_t len;
};

struct ward_bundle {
	char *path;  /* as given */
	bool is_dir; /* a directory bundle (verified in place) */
	/* The directory to run, as "/proc/self/fd/N" of rootfs_fd: the very
	 * directory that was verified (or extracted), whatever is renamed
	 * around it afterwards. */
	char *rootfs;
	int rootfs_fd; /* O_PATH, pinned by ward_bundle_open/extract; -1 */
	char *tmpdir;  /* extraction directory, for messages */
	char *tmpname; /* its name in the bundles directory (base_fd) */
	int base_fd;   /* <state>/bundles, or -1 */
	int fd;	       /* the tar file, or -1 */
	char *manifest_text;
	size_t manifest_len;
	char *origin; /* "app.ward:manifest" */
	struct ward_bundle_manifest manifest;
	struct ward_bundle_sigfile *sigs;
	size_t n_sigs;
	struct ward_tree tree;
	uint8_t digest[32]; /* of the root filesystem as found */
};

/* Open a bundle and check it: tar structure (every hostile entry is an
 * error), manifest syntax, and the root filesystem digest against the
 * manifest.  Nothing is written. */
int ward_bundle_open(const char *path, struct ward_bundle *b, ward_error_t *err);
/* Extract a .ward bundle into a private directory under state_dir/bundles
 * (state_dir NULL: /run/ward) and check the digest of what was written
 * against the manifest again.  A directory bundle is used in place. */
int ward_bundle_extract(struct ward_bundle *b, const char *state_dir, ward_error_t *err);
/* Close; removes the extracted tree. */
void ward_bundle_close(struct ward_bundle *b);
bool ward_bundle_looks_like(const char *path);

/* Verify every signature of the bundle against the policy (t may be NULL:
 * nothing is trusted) and against extra keys given only to check them.  A
 * signature is tried with every key of that id; one that verifies with none
 * of them, or cannot be read, is listed (INVALID, MALFORMED) and ignored. */
int ward_bundle_signers(const struct ward_bundle *b, const struct ward_trust *t,
			const struct ward_pubkey *extra, size_t n_extra, time_t now,
			struct ward_signer **out, size_t *n, ward_error_t *err);
void ward_signers_free(struct ward_signer *s, size_t n);

/* Load the trust policy (path NULL: $WARD_TRUST or /etc/ward/trust).  When
 * running as root, a policy file that others than root could change is
 * refused. */
int ward_trust_load(const char *path, struct ward_trust *t, ward_error_t *err);
/* $WARD_TRUST, else /etc/ward/trust for root, else the user's own
 * ($XDG_CONFIG_HOME/ward/trust, default ~/.config/ward/trust). */
const char *ward_trust_default_path(void);
/* Rootless: what the user's policy (used) let the bundle's signers grant
 * (reqs) must also be granted by /etc/ward/trust, when that exists. */
int ward_trust_check_bound(const struct ward_bundle *b, const char *used,
			   const struct ward_request_list *reqs, ward_error_t *err);

/* ------------------------------------------------------------ writing */

/* Create a bundle from a root filesystem directory.  out ending in ".ward"
 * makes a tar file, anything else a directory bundle. */
struct ward_bundle_create_opts {
	const char *rootfs;
	const char *out;
	const struct ward_manifest_input *manifest; /* rootfs_digest is filled in */
	struct ward_scan_opts scan;
	bool force; /* replace out */
};
int ward_bundle_create(const struct ward_bundle_create_opts *o, uint8_t digest[32],
		       size_t *n_entries, ward_error_t *err);

/* Add (or replace) a signature file in a bundle. */
int ward_bundle_add_signature(const char *path, const char *signame, const char *sigtext,
			      ward_error_t *err);
/* The file name of a signature by KEYID in ROLE. */
char *ward_bundle_signame(const char *role, const char keyid[WARD_KEYID_HEXLEN]);

/* Write a file atomically (temporary file and rename), with mode; fails if
 * the file exists unless replace. */
int ward_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
			   bool replace, ward_error_t *err);

/* Read a key, signature or policy file, with a size limit. */
int ward_read_small_file(const char *path, size_t max, char **out, size_t *len, ward_error_t *err);

/* Trust policy edits: the file is rewritten atomically under a lock. */
struct ward_trust_edit {
	const char *path;
	const struct ward_pubkey *pk; /* add */
	const char *keyid;	      /* remove, revoke: hex id or unique name */
	const char *name, *role, *may, *expires, *reason;
	const char *by; /* ward_trust_require: the roles, comma separated */
};
int ward_trust_add(const struct ward_trust_edit *e, ward_error_t *err);
int ward_trust_remove(const struct ward_trust_edit *e, ward_error_t *err);
int ward_trust_revoke(const struct ward_trust_edit *e, ward_error_t *err);
/* Add "require MAY by=BY" (or replace the line with the same patterns). */
int ward_trust_require(const struct ward_trust_edit *e, ward_error_t *err);

#endif
