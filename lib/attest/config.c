/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where measurements go: the TCTI (which TPM), the PCR, the AK's handle and
 * the software host key; and the attest directory that holds the log.
 *
 * A TCTI string names a module of tpm2-tss and its configuration.  The TCTI
 * loader turns any other name into a shared library to dlopen, or (the
 * "cmd" module) a command to run: as ward runs as root, a TCTI string
 * from an environment variable would be code execution as root.  So ward
 * accepts three modules, with their arguments checked, and nothing else.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../rootless.h"
#include "../util.h"
#include "attest.h"

#define CONFIG_NAME "config"
#define CONFIG_MAX  4096u

static bool host_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 253)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '-' || s[i] == ':'))
			return false;
	return true;
}

int ward_attest_tcti_check(const char *tcti, const char *from, ward_error_t *err)
{
	static const char hint[] = "ward accepts device:/dev/tpmrmN, device:/dev/tpmN, "
				   "swtpm:host=HOST,port=PORT or mssim:host=HOST,port=PORT (any "
				   "other TCTI module is a library or command the TPM library "
				   "would load as root)";
	cleanup_free char *esc = ward_escape(tcti, 200);

	if (strncmp(tcti, "device:", 7) == 0) {
		const char *p = tcti + 7, *d;

		if (strncmp(p, "/dev/tpmrm", 10) == 0)
			d = p + 10;
		else if (strncmp(p, "/dev/tpm", 8) == 0)
			d = p + 8;
		else
			d = NULL;
		if (d && *d && strspn(d, "0123456789") == strlen(d) && strlen(d) <= 3)
			return 0;
		return ward_error_set(err, EINVAL,
				      "%s: TCTI \"%s\": a device is /dev/tpmrmN or "
				      "/dev/tpmN; %s",
				      from, esc, hint);
	}
	if (strncmp(tcti, "swtpm:", 6) == 0 || strncmp(tcti, "mssim:", 6) == 0) {
		const char *p = tcti + 6;
		bool host = false, port = false;

		while (*p) {
			const char *comma = strchr(p, ',');
			size_t n = comma ? (size_t)(comma - p) : strlen(p);
			uint16_t v;

			if (n > 5 && strncmp(p, "host=", 5) == 0 && !host && host_ok(p + 5, n - 5))
				host = true;
			else if (n > 5 && strncmp(p, "port=", 5) == 0 && !port &&
				 ward_parse_port(p + 5, n - 5, &v) == 0)
				port = true;
			else
				return ward_error_set(err, EINVAL,
						      "%s: TCTI \"%s\": \"%.*s\" is not host=HOST "
						      "or port=PORT; %s",
						      from, esc, (int)(n > 64 ? 64 : n), p, hint);
			p += n;
			if (*p == ',')
				p++;
		}
		if (host && port)
			return 0;
		return ward_error_set(err, EINVAL, "%s: TCTI \"%s\": give both host= and port=; %s",
				      from, esc, hint);
	}
	return ward_error_set(err, EINVAL, "%s: TCTI \"%s\" is not accepted: %s", from, esc, hint);
}

void ward_attest_config_free(struct ward_attest_config *c)
{
	free(c->dir);
	free(c->tcti);
	free(c->key);
	memset(c, 0, sizeof(*c));
}

int ward_attest_dir_open(const char *dir, bool create, ward_error_t *err)
{
	struct stat st;
	int fd;

	if (create && mkdir(dir, 0700) < 0 && errno != EEXIST) {
		if (errno == ENOENT) {
			cleanup_free char *parent = ward_xstrdup(dir);
			char *slash = strrchr(parent, '/');

			if (slash && slash != parent) {
				*slash = '\0';
				if (ward_mkdir_p(parent, 0700) == 0 &&
				    (mkdir(dir, 0700) == 0 || errno == EEXIST))
					goto made;
			}
		}
		return ward_error_sys(err, "cannot create the attestation directory %s", dir);
	}
made:
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return ward_error_sys(err, "%s", dir);
	if (fstat(fd, &st) < 0) {
		close(fd);
		return ward_error_sys(err, "%s", dir);
	}
	/* The log decides what the host attests: only its owner may write
	 * anywhere on its path inside the state directory. */
	if (st.st_uid != geteuid() || (st.st_mode & 022)) {
		close(fd);
		return ward_error_set(err, EPERM,
				      "%s: the attestation directory must belong to uid %u and be "
				      "writable by nobody else (owner %u, mode %04o): fix it with "
				      "chown %u %s && chmod 0700 %s",
				      dir, (unsigned)geteuid(), (unsigned)st.st_uid,
				      (unsigned)(st.st_mode & 07777), (unsigned)geteuid(), dir,
				      dir);
	}
	if (st.st_mode & 077)
		(void)fchmod(fd, 0700);
	return fd;
}

static char *default_key(const char *dir)
{
	if (geteuid() == 0)
		return ward_xstrdup("/var/lib/ward/attest/host.key");
	return ward_xasprintf("%s/host.key", dir);
}

/* "key value" lines: tcti, pcr, ak, key. */
static int read_config(int dirfd, struct ward_attest_config *c, ward_error_t *err)
{
	char buf[CONFIG_MAX + 1];
	cleanup_close int fd = openat(dirfd, CONFIG_NAME, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	ssize_t n;
	char *line, *save = NULL;
	unsigned lineno = 0;

	if (fd < 0)
		return errno == ENOENT ? 0 : ward_error_sys(err, "%s/" CONFIG_NAME, c->dir);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 022))
		return ward_error_set(err, EPERM,
				      "%s/" CONFIG_NAME
				      ": not a regular file of uid %u writable by "
				      "it alone",
				      c->dir, (unsigned)geteuid());
	n = read(fd, buf, CONFIG_MAX + 1);
	if (n < 0)
		return ward_error_sys(err, "%s/" CONFIG_NAME, c->dir);
	if ((size_t)n > CONFIG_MAX)
		return ward_error_set(err, EFBIG, "%s/" CONFIG_NAME ": too large", c->dir);
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' ');
		uint64_t v;

		lineno++;
		if (line[0] == '#')
			continue;
		if (sp == NULL)
			goto bad;
		*sp++ = '\0';
		if (strcmp(line, "tcti") == 0) {
			free(c->tcti);
			c->tcti = strcmp(sp, "none") == 0 ? NULL : ward_xstrdup(sp);
			c->tcti_from = "config";
		} else if (strcmp(line, "pcr") == 0) {
			if (ward_parse_u64(sp, &v) < 0 || v > 23)
				goto bad;
			c->pcr = (unsigned)v;
		} else if (strcmp(line, "ak") == 0) {
			char *end;

			v = strtoull(sp, &end, 16);
			if (*end || v < 0x81000000ULL || v > 0x81ffffffULL)
				goto bad;
			c->ak_handle = (uint32_t)v;
		} else if (strcmp(line, "key") == 0 && sp[0] == '/') {
			free(c->key);
			c->key = ward_xstrdup(sp);
		} else {
			goto bad;
		}
	}
	return 0;
bad:
	return ward_error_set(err, EINVAL,
			      "%s/" CONFIG_NAME
			      ":%u: expected \"tcti T\", \"pcr N\", \"ak HANDLE\" "
			      "or \"key /PATH\" (written by ward attest init)",
			      c->dir, lineno);
}

int ward_attest_config_load(const char *state_dir, const char *tcti_opt,
			    struct ward_attest_config *c, ward_error_t *err)
{
	cleanup_close int dirfd = -1;
	const char *env = getenv("WARD_TCTI");
	struct stat st;

	memset(c, 0, sizeof(*c));
	if (state_dir) {
		c->dir = ward_xasprintf("%s/attest", state_dir);
	} else {
		cleanup_free char *def = ward_default_state_dir_path();

		c->dir = ward_xasprintf("%s/attest", def);
	}
	c->pcr = WARD_ATTEST_PCR_DEFAULT;
	c->ak_handle = WARD_ATTEST_AK_DEFAULT;
	c->tcti_from = "default";
	dirfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd >= 0 && read_config(dirfd, c, err) < 0)
		goto fail;
	if (c->key == NULL)
		c->key = default_key(c->dir);
	if (tcti_opt) {
		free(c->tcti);
		c->tcti = strcmp(tcti_opt, "none") == 0 ? NULL : ward_xstrdup(tcti_opt);
		c->tcti_from = "--tcti";
	} else if (env && env[0]) {
		free(c->tcti);
		c->tcti = strcmp(env, "none") == 0 ? NULL : ward_xstrdup(env);
		c->tcti_from = "WARD_TCTI";
	} else if (strcmp(c->tcti_from, "default") == 0 && stat("/dev/tpmrm0", &st) == 0 &&
		   S_ISCHR(st.st_mode)) {
		c->tcti = ward_xstrdup(WARD_ATTEST_TCTI_DEFAULT);
	}
	if (c->tcti && ward_attest_tcti_check(c->tcti, c->tcti_from, err) < 0)
		goto fail;
	return 0;
fail:
	ward_attest_config_free(c);
	return -1;
}

int ward_attest_config_save(const struct ward_attest_config *c, ward_error_t *err)
{
	cleanup_close int dirfd = ward_attest_dir_open(c->dir, true, err);
	cleanup_free char *text = NULL;
	cleanup_free char *tmp = NULL;
	int fd, r;

	if (dirfd < 0)
		return -1;
	text = ward_xasprintf("# written by ward attest init\ntcti %s\npcr %u\nak %08x\nkey %s\n",
			      c->tcti ? c->tcti : "none", c->pcr, (unsigned)c->ak_handle, c->key);
	tmp = ward_xasprintf(CONFIG_NAME ".%d", (int)getpid());
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return ward_error_sys(err, "%s/%s", c->dir, tmp);
	r = ward_write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0 ? -1 : 0;
	close(fd);
	if (r < 0 || renameat(dirfd, tmp, dirfd, CONFIG_NAME) < 0) {
		ward_error_sys(err, "%s/" CONFIG_NAME, c->dir);
		unlinkat(dirfd, tmp, 0);
		return -1;
	}
	return 0;
}
