/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Bundles on disk: create, open, extract, and hostile archives.  Runs as
 * any user (files are recorded as owned by the caller); nothing is written
 * outside a temporary directory. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "bundle/bundle.h"

static char base[64];

static void expect_err(ward_error_t *err, const char *want)
{
	assert_non_null(*err);
	if (strstr((*err)->msg, want) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", (*err)->msg, want);
	ward_error_free(err);
}

static char *path_of(const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", base, name) < 0)
		abort();
	return p;
}

static void write_file(const char *path, const char *content, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
	chmod(path, mode);
}

static int setup(void **state)
{
	(void)state;
	snprintf(base, sizeof(base), "/tmp/ward-bundle-test-XXXXXX");
	if (mkdtemp(base) == NULL)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ward_remove_tree_at(AT_FDCWD, base, NULL);
	return 0;
}

/* ------------------------------------------------------------ archives by hand */

struct member {
	const char *name;
	char type;
	uint32_t mode;
	const char *content;
	const char *link;
};

static char *make_tar(const char *name, const struct member *m, size_t n)
{
	char *path = path_of(name);
	struct ward_tar_writer w;
	ward_error_t err = NULL;
	size_t i;

	w.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	w.offset = 0;
	assert_true(w.fd >= 0);
	for (i = 0; i < n; i++) {
		struct ward_tar_entry e = {
			.path = (char *)m[i].name,
			.type = m[i].type,
			.mode = m[i].mode,
			.uid = getuid(),
			.gid = getgid(),
			.size = m[i].content ? strlen(m[i].content) : 0,
			.linkname = (char *)m[i].link,
		};

		assert_int_equal(ward_tar_write_header(&w, &e, &err), 0);
		if (m[i].content) {
			assert_int_equal(
				ward_tar_write_data(&w, m[i].content, strlen(m[i].content), &err),
				0);
			assert_int_equal(ward_tar_write_pad(&w, e.size, &err), 0);
		}
	}
	assert_int_equal(ward_tar_write_end(&w, &err), 0);
	close(w.fd);
	return path;
}

#define MANIFEST                                       \
	"#@ward-bundle 1\n#@command /bin/x\n#@rootfs " \
	"sha256:0000000000000000000000000000000000000000000000000000000000000000\n"

static void open_error(const struct member *m, size_t n, const char *want)
{
	char *path = make_tar("hostile.ward", m, n);
	struct ward_bundle b;
	ward_error_t err = NULL;

	assert_int_equal(ward_bundle_open(path, &b, &err), -1);
	expect_err(&err, want);
	ward_bundle_close(&b);
	free(path);
}

#define M(...)		   ((const struct member[]){__VA_ARGS__})
#define N(...)		   (sizeof((const struct member[]){__VA_ARGS__}) / sizeof(struct member))
#define HOSTILE(want, ...) open_error(M(__VA_ARGS__), N(__VA_ARGS__), want)

#define MAN                                           \
	{                                             \
		"manifest", '0', 0644, MANIFEST, NULL \
	}
#define ROOT                                     \
	{                                        \
		"rootfs/", '5', 0755, NULL, NULL \
	}

static void test_hostile_archives(void **state)
{
	(void)state;
	HOSTILE("contains \"..\"", MAN, ROOT, {"rootfs/../../etc/passwd", '0', 0644, "x", NULL});
	HOSTILE("contains \"..\"", MAN, ROOT, {"../x", '0', 0644, "x", NULL});
	HOSTILE("absolute name", MAN, ROOT, {"/etc/passwd", '0', 0644, "x", NULL});
	HOSTILE("device node", MAN, ROOT, {"rootfs/null", '3', 0666, NULL, NULL});
	HOSTILE("device node", MAN, ROOT, {"rootfs/sda", '4', 0666, NULL, NULL});
	HOSTILE("fifo", MAN, ROOT, {"rootfs/p", '6', 0666, NULL, NULL});
	HOSTILE("is setuid", MAN, ROOT, {"rootfs/su", '0', 04755, "x", NULL});
	HOSTILE("is setgid", MAN, ROOT, {"rootfs/sg", '0', 02755, "x", NULL});
	HOSTILE("absolute name", MAN, ROOT, {"rootfs/pw", '1', 0644, NULL, "/etc/passwd"});
	HOSTILE("outside the root filesystem", MAN, ROOT,
		{"rootfs/pw", '1', 0644, NULL, "manifest"});
	HOSTILE("contains \"..\"", MAN, ROOT, {"rootfs/pw", '1', 0644, NULL, "rootfs/../../x"});
	/* A hard link to the root directory itself (once read past the name). */
	HOSTILE("outside the root filesystem", MAN, ROOT, {"rootfs/pw", '1', 0644, NULL, "rootfs"});
	HOSTILE("outside the root filesystem", MAN, ROOT,
		{"rootfs/pw", '1', 0644, NULL, "./rootfs/"});
	HOSTILE("not a regular file earlier", MAN, ROOT,
		{"rootfs/pw", '1', 0644, NULL, "rootfs/later"},
		{"rootfs/later", '0', 0644, "x", NULL});
	HOSTILE("not a directory", MAN, ROOT, {"rootfs/evil", '2', 0777, NULL, "/etc"},
		{"rootfs/evil/passwd", '0', 0644, "x", NULL});
	HOSTILE("unexpected entry \"README\"", MAN, ROOT, {"README", '0', 0644, "x", NULL});
	HOSTILE("manifest must be a regular file", {"manifest", '2', 0777, NULL, "/etc/passwd"},
		ROOT);
	HOSTILE("manifest appears twice", MAN, MAN, ROOT);
	HOSTILE("appears twice", MAN, ROOT, {"rootfs/a", '0', 0644, "x", NULL},
		{"rootfs/a", '0', 0644, "y", NULL});
	HOSTILE("no manifest", ROOT);
	HOSTILE("no rootfs", MAN);
	HOSTILE("rootfs must be a directory", MAN, {"rootfs", '2', 0777, NULL, "/"});
	HOSTILE("type 'S'", MAN, ROOT, {"rootfs/sparse", 'S', 0644, NULL, NULL});
	HOSTILE("does not match the manifest", MAN, ROOT);
	/* Names longer than ustar's fields go through pax headers; ".." in
	 * one is refused like anywhere else. */
	HOSTILE("contains \"..\"", MAN, ROOT,
		{"rootfs/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/../../../etc/passwd",
		 '0', 0644, "x", NULL});
}

static void test_oversized(void **state)
{
	char *big = malloc(WARD_BUNDLE_MANIFEST_MAX + 2);

	(void)state;
	memset(big, '#', WARD_BUNDLE_MANIFEST_MAX + 1);
	big[WARD_BUNDLE_MANIFEST_MAX + 1] = '\0';
	HOSTILE("ward takes at most", {"manifest", '0', 0644, big, NULL}, ROOT);
	big[WARD_SIGFILE_MAX + 1] = '\0';
	HOSTILE("ward takes at most", MAN, {"manifest.minisig", '0', 0644, big, NULL}, ROOT);
	free(big);
}

/* Byte-level damage: truncation, a corrupt checksum, garbage. */
static void test_damaged(void **state)
{
	const struct member ok[] = {MAN, ROOT, {"rootfs/a", '0', 0644, "hello", NULL}};
	char *path = make_tar("ok.ward", ok, 3);
	struct ward_bundle b;
	ward_error_t err = NULL;
	struct stat st;
	char buf[4096];
	int fd;

	(void)state;
	assert_int_equal(stat(path, &st), 0);
	/* Cut inside the last file's content, then inside a header. */
	assert_int_equal(truncate(path, 512 * 5 + 2), 0);
	assert_int_equal(ward_bundle_open(path, &b, &err), -1);
	expect_err(&err, "truncated");
	ward_bundle_close(&b);
	assert_int_equal(truncate(path, 512 * 4 + 100), 0);
	assert_int_equal(ward_bundle_open(path, &b, &err), -1);
	expect_err(&err, "truncated");
	ward_bundle_close(&b);
	free(path);

	path = make_tar("ok.ward", ok, 3);
	fd = open(path, O_RDWR);
	assert_int_equal(pread(fd, buf, 1, 512 * 2 + 3), 1);
	buf[0] ^= 1; /* inside "rootfs/" 's header name */
	assert_int_equal(pwrite(fd, buf, 1, 512 * 2 + 3), 1);
	close(fd);
	assert_int_equal(ward_bundle_open(path, &b, &err), -1);
	expect_err(&err, "checksum");
	ward_bundle_close(&b);

	memset(buf, 'z', sizeof(buf));
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	close(fd);
	assert_int_equal(ward_bundle_open(path, &b, &err), -1);
	expect_err(&err, "corrupt tar header");
	ward_bundle_close(&b);
	free(path);
}

/* ------------------------------------------------------------ a real bundle */

static void make_rootfs(const char *dir)
{
	char *p;

	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(asprintf(&p, "%s/bin", dir) > 0, 1);
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	assert_int_equal(asprintf(&p, "%s/bin/app", dir) > 0, 1);
	write_file(p, "#!/bin/sh\necho hi\n", 0755);
	free(p);
	assert_int_equal(asprintf(&p, "%s/bin/sh", dir) > 0, 1);
	assert_int_equal(symlink("/bin/app", p), 0);
	free(p);
	assert_int_equal(asprintf(&p, "%s/ro", dir) > 0, 1);
	assert_int_equal(mkdir(p, 0555), 0);
	free(p);
}

static void test_create_open_extract(void **state)
{
	char *root = path_of("root"), *out = path_of("app.ward"), *dirout = path_of("appdir");
	char *state_dir = path_of("state");
	char *argv[] = {"/bin/app", NULL};
	struct ward_manifest_input in = {
		.name = "app",
		.argv = argv,
		.entitlements = "network.loopback\n",
		.entitlements_len = 17,
	};
	struct ward_bundle_create_opts o = {
		.rootfs = root,
		.out = out,
		.manifest = &in,
		.scan = {.set_owner = true, .uid = getuid(), .gid = getgid()},
	};
	struct ward_bundle b, d;
	ward_error_t err = NULL;
	uint8_t digest[32];
	size_t n = 0;
	char *tmp, *p, buf[64];
	struct stat st;
	int fd;

	(void)state;
	make_rootfs(root);
	assert_int_equal(ward_bundle_create(&o, digest, &n, &err), 0);
	assert_int_equal(n, 5);
	/* Again, to the same file: refused without force; the same digest with. */
	assert_int_equal(ward_bundle_create(&o, digest, &n, &err), -1);
	expect_err(&err, "exists");
	o.force = true;
	assert_int_equal(ward_bundle_create(&o, digest, &n, &err), 0);

	assert_int_equal(ward_bundle_open(out, &b, &err), 0);
	assert_memory_equal(b.digest, digest, 32);
	assert_string_equal(b.manifest.name, "app");
	assert_int_equal(b.manifest.reqs.n, 1);
	assert_int_equal(b.n_sigs, 0);
	assert_null(b.rootfs);
	assert_int_equal(ward_bundle_extract(&b, state_dir, &err), 0);
	tmp = strdup(b.tmpdir);
	assert_int_equal(asprintf(&p, "%s/bin/app", b.rootfs) > 0, 1);
	fd = open(p, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 18);
	close(fd);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	free(p);
	assert_int_equal(asprintf(&p, "%s/ro", b.rootfs) > 0, 1);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0555);
	free(p);
	/* The private directory is not readable by others. */
	assert_int_equal(stat(tmp, &st), 0);
	assert_int_equal(st.st_mode & 077, 0);
	ward_bundle_close(&b);
	/* Closing removes the extracted tree. */
	assert_int_equal(stat(tmp, &st), -1);
	free(tmp);

	/* A directory bundle of the same tree has the same digest. */
	o.out = dirout;
	assert_int_equal(ward_bundle_create(&o, digest, &n, &err), 0);
	assert_int_equal(ward_bundle_open(dirout, &d, &err), 0);
	assert_true(d.is_dir);
	assert_memory_equal(d.digest, digest, 32);
	ward_bundle_close(&d);

	/* Changing one byte of a file of the directory bundle breaks it. */
	assert_int_equal(asprintf(&p, "%s/rootfs/bin/app", dirout) > 0, 1);
	write_file(p, "#!/bin/sh\necho HI\n", 0755);
	assert_int_equal(ward_bundle_open(dirout, &d, &err), -1);
	expect_err(&err, "does not match the manifest");
	ward_bundle_close(&d);
	/* So does a mode. */
	write_file(p, "#!/bin/sh\necho hi\n", 0700);
	assert_int_equal(ward_bundle_open(dirout, &d, &err), -1);
	expect_err(&err, "does not match the manifest");
	ward_bundle_close(&d);
	free(p);

	free(root);
	free(out);
	free(dirout);
	free(state_dir);
}

/* The .ward changes between the pass that verifies and the pass that
 * extracts: every entry of the second pass must be the one the first pass
 * hashed, checked before its content is written (so a larger file never
 * reaches the disk) and after (same size, other bytes). */
static void copy_over(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_TRUNC);
	ssize_t n;

	assert_true(in >= 0 && out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	close(in);
	close(out);
}

static void test_changed_between_passes(void **state)
{
	char *ra = path_of("ra"), *rb = path_of("rb"), *rc = path_of("rc");
	char *a = path_of("a.ward"), *bw = path_of("b.ward"), *cw = path_of("c.ward");
	char *state_dir = path_of("state2"), *p, *big;
	char *argv[] = {"/bin/app", NULL};
	struct ward_manifest_input in = {.argv = argv};
	struct ward_bundle_create_opts o = {
		.manifest = &in,
		.scan = {.set_owner = true, .uid = getuid(), .gid = getgid()},
	};
	struct ward_bundle b;
	ward_error_t err = NULL;
	uint8_t digest[32];
	struct stat st;

	(void)state;
	make_rootfs(ra);
	make_rootfs(rb);
	make_rootfs(rc);
	big = malloc(1 << 20);
	memset(big, 'x', 1 << 20);
	big[(1 << 20) - 1] = '\0';
	assert_int_equal(asprintf(&p, "%s/bin/app", rb) > 0, 1);
	write_file(p, big, 0755);
	free(p);
	assert_int_equal(asprintf(&p, "%s/bin/app", rc) > 0, 1);
	write_file(p, "#!/bin/sh\necho HI\n", 0755);
	free(p);
	o.rootfs = ra;
	o.out = a;
	assert_int_equal(ward_bundle_create(&o, digest, NULL, &err), 0);
	o.rootfs = rb;
	o.out = bw;
	assert_int_equal(ward_bundle_create(&o, digest, NULL, &err), 0);
	o.rootfs = rc;
	o.out = cw;
	assert_int_equal(ward_bundle_create(&o, digest, NULL, &err), 0);

	/* A larger file: refused before anything of it is written. */
	assert_int_equal(ward_bundle_open(a, &b, &err), 0);
	copy_over(bw, a);
	assert_int_equal(ward_bundle_extract(&b, state_dir, &err), -1);
	expect_err(&err, "rootfs/bin/app differs from what was verified");
	assert_int_equal(asprintf(&p, "%s/rootfs/bin/app", b.tmpdir) > 0, 1);
	assert_int_equal(stat(p, &st), -1);
	free(p);
	ward_bundle_close(&b);

	/* The same size, other bytes: refused once written, and removed. */
	o.rootfs = ra;
	o.out = a;
	o.force = true;
	assert_int_equal(ward_bundle_create(&o, digest, NULL, &err), 0);
	assert_int_equal(ward_bundle_open(a, &b, &err), 0);
	copy_over(cw, a);
	assert_int_equal(ward_bundle_extract(&b, state_dir, &err), -1);
	expect_err(&err, "rootfs/bin/app differs from what was verified");
	assert_null(b.rootfs);
	p = strdup(b.tmpdir);
	ward_bundle_close(&b);
	assert_int_equal(stat(p, &st), -1);
	free(p);

	free(big);
	free(ra);
	free(rb);
	free(rc);
	free(a);
	free(bw);
	free(cw);
	free(state_dir);
}

/* Extraction refuses a state directory someone else can change. */
static void test_private_state_dir(void **state)
{
	char *root = path_of("rpriv"), *out = path_of("priv.ward"), *sd = path_of("open-state");
	char *argv[] = {"/bin/app", NULL};
	struct ward_manifest_input in = {.argv = argv};
	struct ward_bundle_create_opts o = {
		.rootfs = root,
		.out = out,
		.manifest = &in,
		.scan = {.set_owner = true, .uid = getuid(), .gid = getgid()},
	};
	struct ward_bundle b;
	ward_error_t err = NULL;
	uint8_t digest[32];
	struct stat st;
	char *bd;

	(void)state;
	make_rootfs(root);
	if (ward_bundle_create(&o, digest, NULL, &err) < 0)
		fail_msg("%s", err->msg);
	assert_int_equal(mkdir(sd, 0777), 0);
	assert_int_equal(chmod(sd, 0777), 0);
	assert_int_equal(ward_bundle_open(out, &b, &err), 0);
	assert_int_equal(ward_bundle_extract(&b, sd, &err), -1);
	expect_err(&err, "can be changed by others (mode 0777)");
	ward_bundle_close(&b);
	/* Its own bundles directory, left open, is made private again; the
	 * root filesystem runs through the pinned descriptor. */
	assert_int_equal(chmod(sd, 0755), 0);
	assert_int_equal(asprintf(&bd, "%s/bundles", sd) > 0, 1);
	assert_int_equal(mkdir(bd, 0777), 0);
	assert_int_equal(chmod(bd, 0777), 0);
	assert_int_equal(ward_bundle_open(out, &b, &err), 0);
	assert_int_equal(ward_bundle_extract(&b, sd, &err), 0);
	assert_int_equal(stat(bd, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_true(strncmp(b.rootfs, "/proc/self/fd/", 14) == 0);
	{
		char *app;

		assert_int_equal(asprintf(&app, "%s/bin/app", b.rootfs) > 0, 1);
		assert_int_equal(stat(app, &st), 0);
		free(app);
	}
	ward_bundle_close(&b);
	free(bd);
	free(root);
	free(out);
	free(sd);
}

static void test_signature_in_bundle(void **state)
{
	char *root = path_of("root2"), *out = path_of("s.ward");
	char *argv[] = {"/bin/app", NULL};
	struct ward_manifest_input in = {.argv = argv};
	struct ward_bundle_create_opts o = {
		.rootfs = root,
		.out = out,
		.manifest = &in,
		.scan = {.set_owner = true, .uid = getuid(), .gid = getgid()},
	};
	struct ward_pubkey pk;
	struct ward_seckey sk;
	struct ward_signature sig;
	struct ward_bundle b;
	struct ward_signer *s = NULL;
	size_t n = 0;
	ward_error_t err = NULL;
	uint8_t digest[32];
	char id[WARD_KEYID_HEXLEN], *text, *name;

	(void)state;
	make_rootfs(root);
	assert_int_equal(ward_bundle_create(&o, digest, NULL, &err), 0);
	assert_int_equal(ward_bundle_open(out, &b, &err), 0);
	assert_int_equal(ward_key_generate(&pk, &sk, &err), 0);
	assert_int_equal(ward_sign(&sk, b.manifest_text, b.manifest_len, WARD_SIG_PREHASHED,
				   "timestamp:1\trole:reviewer", NULL, &sig, &err),
			 0);
	ward_bundle_close(&b);
	ward_keyid_hex(pk.keyid, id);
	text = ward_signature_format(&sig);
	name = ward_bundle_signame("reviewer", id);
	assert_int_equal(ward_bundle_add_signature(out, name, text, &err), 0);
	/* Twice: replaced, not duplicated. */
	assert_int_equal(ward_bundle_add_signature(out, name, text, &err), 0);
	assert_int_equal(ward_bundle_open(out, &b, &err), 0);
	assert_int_equal(b.n_sigs, 1);
	assert_string_equal(b.sigs[0].name, name);
	/* Checked with the key given on the side. */
	assert_int_equal(ward_bundle_signers(&b, NULL, &pk, 1, 0, &s, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(s[0].status, WARD_SIGNER_VERIFIED);
	assert_string_equal(s[0].role, "reviewer");
	ward_signers_free(s, n);
	/* Without it: not checked. */
	assert_int_equal(ward_bundle_signers(&b, NULL, NULL, 0, 0, &s, &n, &err), 0);
	assert_int_equal(s[0].status, WARD_SIGNER_UNKNOWN);
	ward_signers_free(s, n);
	/* A tampered manifest fails the signature of a known key: reported as
	 * invalid and ignored, not an error by itself. */
	b.manifest_text[b.manifest_len - 2] ^= 1;
	assert_int_equal(ward_bundle_signers(&b, NULL, &pk, 1, 0, &s, &n, &err), 0);
	assert_int_equal(s[0].status, WARD_SIGNER_INVALID);
	assert_non_null(strstr(s[0].problem, "does not match the signed file"));
	ward_signers_free(s, n);
	ward_bundle_close(&b);
	ward_signature_free(&sig);
	free(text);
	free(name);
	free(root);
	free(out);
}

/* Extraction itself never follows a link, whatever the archive planted. */
static void test_extract_beneath(void **state)
{
	char *target = path_of("x"), *outside = path_of("outside"), *p;
	struct ward_extract x = {.what = "test"};
	struct ward_tree_entry e = {0};
	ward_error_t err = NULL;
	struct stat st;
	int fd;

	(void)state;
	assert_int_equal(mkdir(target, 0700), 0);
	assert_int_equal(mkdir(outside, 0700), 0);
	x.rootfd = open(target, O_RDONLY | O_DIRECTORY);
	assert_true(x.rootfd >= 0);
	assert_int_equal(asprintf(&p, "%s/evil", target) > 0, 1);
	assert_int_equal(symlink(outside, p), 0);
	free(p);
	assert_int_equal(asprintf(&p, "%s/up", target) > 0, 1);
	assert_int_equal(symlink("..", p), 0);
	free(p);

	e.path = "/evil/pwned";
	e.type = 'f';
	e.mode = 0644;
	e.uid = getuid();
	e.gid = getgid();
	fd = open("/dev/null", O_RDONLY);
	assert_int_equal(ward_extract_entry(&x, &e, NULL, NULL, NULL, &err), -1);
	expect_err(&err, "symbolic link");
	e.path = "/up/x/pwned";
	assert_int_equal(ward_extract_entry(&x, &e, NULL, NULL, NULL, &err), -1);
	expect_err(&err, "symbolic link");
	/* The link itself is not replaced or written through. */
	e.path = "/evil";
	assert_int_equal(ward_extract_entry(&x, &e, NULL, NULL, NULL, &err), -1);
	expect_err(&err, "appears twice");
	/* Hard links to a link, or through one, are refused. */
	e.path = "/h";
	assert_int_equal(ward_extract_entry(&x, &e, "/evil", NULL, NULL, &err), -1);
	ward_error_free(&err);
	close(fd);
	assert_int_equal(asprintf(&p, "%s/pwned", outside) > 0, 1);
	assert_int_equal(stat(p, &st), -1);
	free(p);
	close(x.rootfd);
	ward_extract_free(&x);
	free(target);
	free(outside);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostile_archives),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_damaged),
		cmocka_unit_test(test_create_open_extract),
		cmocka_unit_test(test_signature_in_bundle),
		cmocka_unit_test(test_extract_beneath),
		cmocka_unit_test(test_changed_between_passes),
		cmocka_unit_test(test_private_state_dir),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
