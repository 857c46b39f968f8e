/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The measurement log on disk: <state>/attest/log (docs/attestation.md).
 *
 * Only its owner (root) may write the directory, the log, its lock and its
 * caches; every file is opened beneath the directory's descriptor with
 * O_NOFOLLOW.  Appends are serialised by flock() on "lock" (two launches at
 * once never interleave their records), and each one is:
 *
 *   1. find where the log stands: "state" caches the log's size, event
 *      count and replay; when the size differs (a crash), the log is
 *      replayed from the start and a torn tail is cut off;
 *   2. write the record and fsync it;
 *   3. extend the PCR (TPM: only if it still holds the replay, checked and
 *      extended by one helper run);
 *   4. update "state".
 *
 * A crash between 2 and 3 leaves an event the PCR never saw: the next
 * append finds the PCR equal to the replay without it, and moves it out of
 * the log into log.unmeasured.  It is never extended late: that launch
 * never ran (a launch runs only once measured), and an event the PCR never
 * saw may as well have been appended by something else.  A
 * PCR equal to none of the log's replays (another program extends it, or
 * the TPM was reset) refuses the launch, except for a PCR of zeros, which
 * starts a new log (the old one is kept as log.1).  A log of the other mode
 * (software vs TPM), PCR or boot also starts a new one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util.h"
#include "attest.h"

#define LOG_NAME   "log"
#define STATE_NAME "state"
#define ENV_DIR	   "env"

int ward_attest_lock(int dirfd, bool exclusive, ward_error_t *err)
{
	int fd = openat(dirfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		return ward_error_sys(err, "cannot open the measurement log's lock");
	while (flock(fd, exclusive ? LOCK_EX : LOCK_SH) < 0) {
		if (errno != EINTR) {
			close(fd);
			return ward_error_sys(err, "cannot lock the measurement log");
		}
	}
	return fd;
}

static int check_file(int fd, const char *what, ward_error_t *err)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return ward_error_sys(err, "%s", what);
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022))
		return ward_error_set(err, EPERM,
				      "%s: not a regular file of uid %u that only it can write",
				      what, (unsigned)geteuid());
	return 0;
}

static int read_fd(int fd, size_t max, char **data, size_t *len, const char *what,
		   ward_error_t *err)
{
	struct stat st;
	char *buf;
	size_t done = 0;

	if (fstat(fd, &st) < 0)
		return ward_error_sys(err, "%s", what);
	if ((uint64_t)st.st_size > max)
		return ward_error_set(err, EFBIG, "%s is larger than %zu bytes", what, max);
	buf = ward_xmalloc((size_t)st.st_size + 1);
	while (done < (size_t)st.st_size) {
		ssize_t r = pread(fd, buf + done, (size_t)st.st_size - done, (off_t)done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		done += (size_t)r;
	}
	buf[done] = '\0';
	*data = buf;
	*len = done;
	return 0;
}

int ward_attest_read_log(int dirfd, char **data, size_t *len, ward_error_t *err)
{
	cleanup_close int fd = openat(dirfd, LOG_NAME, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOENT) {
			*data = ward_xstrdup("");
			*len = 0;
			return 0;
		}
		return ward_error_sys(err, "the measurement log");
	}
	if (check_file(fd, "the measurement log", err) < 0)
		return -1;
	return read_fd(fd, WARD_ATTEST_LOG_MAX, data, len, "the measurement log", err);
}

/* The cached position: "SIZE COUNT REPLAYHEX MODE PCR BOOT". */
struct pos {
	size_t size, count;
	uint8_t replay[32];
	char mode[16];
	unsigned pcr;
	char boot[64];
};

static bool read_state(int dirfd, struct pos *p)
{
	char buf[256], hex[80];
	cleanup_close int fd = openat(dirfd, STATE_NAME, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n;
	ward_error_t ignored = NULL;

	if (fd < 0)
		return false;
	if (check_file(fd, STATE_NAME, &ignored) < 0) {
		ward_error_free(&ignored);
		return false;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	if (sscanf(buf, "%zu %zu %79s %15s %u %63s", &p->size, &p->count, hex, p->mode, &p->pcr,
		   p->boot) != 6 ||
	    ward_attest_unhex(hex, p->replay, 32) != 32)
		return false;
	return true;
}

static int write_state(int dirfd, const struct pos *p, ward_error_t *err)
{
	char hex[WARD_ATTEST_HEX], buf[256];
	int fd, n;

	ward_attest_hex(p->replay, 32, hex);
	n = snprintf(buf, sizeof(buf), "%zu %zu %s %s %u %s\n", p->size, p->count, hex, p->mode,
		     p->pcr, p->boot);
	fd = openat(dirfd, STATE_NAME ".new", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		    0600);
	if (fd < 0)
		return ward_error_sys(err, "the measurement log's state");
	if (ward_write_all(fd, buf, (size_t)n) < 0) {
		close(fd);
		return ward_error_sys(err, "the measurement log's state");
	}
	close(fd);
	if (renameat(dirfd, STATE_NAME ".new", dirfd, STATE_NAME) < 0)
		return ward_error_sys(err, "the measurement log's state");
	return 0;
}

static void boot_id(char out[64])
{
	char buf[64] = "";
	cleanup_close int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (n > 0) {
		buf[n] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
	}
	snprintf(out, 64, "%s", buf[0] ? buf : "unknown");
}

/* Where the log stands, from the cache or by replaying it; cuts a torn tail. */
static int position(int dirfd, int logfd, const char *dir, struct pos *p, ward_error_t *err)
{
	struct stat st;
	cleanup_free char *data = NULL;
	cleanup_free char *origin = NULL;
	struct ward_attest_log log;
	size_t len;

	if (fstat(logfd, &st) < 0)
		return ward_error_sys(err, "%s/" LOG_NAME, dir);
	if (read_state(dirfd, p) && p->size == (size_t)st.st_size)
		return 0;
	memset(p, 0, sizeof(*p));
	if (read_fd(logfd, WARD_ATTEST_LOG_MAX, &data, &len, "the measurement log", err) < 0)
		return -1;
	origin = ward_xasprintf("%s/" LOG_NAME, dir);
	if (ward_attest_log_parse(data, len, origin, &log, err) < 0)
		return ward_error_wrap(err, "cannot append to the measurement log (move it away to "
					    "start a new one; it no longer matches the PCR)");
	if (log.torn) {
		fprintf(stderr,
			"ward: %s: cut off %zu bytes of an event that was being written when "
			"ward stopped (it was never measured)\n",
			origin, log.torn);
		if (ftruncate(logfd, (off_t)log.good_end) < 0) {
			ward_attest_log_free(&log);
			return ward_error_sys(err, "%s: cannot cut off the torn tail", origin);
		}
	}
	p->size = log.good_end;
	p->count = log.n;
	memcpy(p->replay, log.replay, 32);
	snprintf(p->mode, sizeof(p->mode), "%s", log.n ? log.mode : "-");
	p->pcr = log.pcr;
	snprintf(p->boot, sizeof(p->boot), "%s", log.n ? log.boot : "-");
	ward_attest_log_free(&log);
	return 0;
}

/* Keep the old log as log.1 and start an empty one. */
static int rotate(int dirfd, int *logfd, const char *dir, const char *why, ward_error_t *err)
{
	int fd;

	fprintf(stderr,
		"ward: %s/" LOG_NAME ": %s; it is kept as " LOG_NAME ".1 and a new log "
		"starts\n",
		dir, why);
	if (renameat(dirfd, LOG_NAME, dirfd, LOG_NAME ".1") < 0)
		return ward_error_sys(err, "%s/" LOG_NAME, dir);
	fd = openat(dirfd, LOG_NAME, O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW | O_CLOEXEC,
		    0600);
	if (fd < 0)
		return ward_error_sys(err, "%s/" LOG_NAME, dir);
	close(*logfd);
	*logfd = fd;
	return 0;
}

/* The replays of every prefix of the log, to find where a PCR stands: the
 * number of events whose replay it holds (-1: none, -2: error), and where
 * the first event it does not hold starts. */
static ssize_t find_prefix(int logfd, const uint8_t actual[32], size_t *count, size_t *cut,
			   ward_error_t *err)
{
	cleanup_free char *data = NULL;
	struct ward_attest_log log;
	uint8_t v[32] = {0};
	size_t len, i;
	ssize_t found = -1;

	if (read_fd(logfd, WARD_ATTEST_LOG_MAX, &data, &len, "the measurement log", err) < 0)
		return -2;
	if (ward_attest_log_parse(data, len, "the measurement log", &log, err) < 0)
		return -2;
	*count = log.n;
	*cut = log.good_end;
	if (memcmp(v, actual, 32) == 0)
		found = 0;
	for (i = 0; i < log.n && found < 0; i++) {
		ward_attest_extend(v, log.ev[i].digest);
		if (memcmp(v, actual, 32) == 0)
			found = (ssize_t)i + 1;
	}
	if (found >= 0 && (size_t)found < log.n)
		*cut = log.ev[found].offset;
	ward_attest_log_free(&log);
	return found;
}

/* Events the PCR never saw: move them out of the log into log.unmeasured
 * (kept for whoever investigates) and cut the log where the PCR stands. */
static int cut_unmeasured(int dirfd, int logfd, size_t cut, const char *dir, ward_error_t *err)
{
	cleanup_free char *data = NULL;
	cleanup_close int fd = -1;
	size_t len;

	if (read_fd(logfd, WARD_ATTEST_LOG_MAX, &data, &len, "the measurement log", err) < 0)
		return -1;
	if (cut > len)
		return ward_error_set(err, EIO, "%s/" LOG_NAME " shrank while locked", dir);
	fd = openat(dirfd, LOG_NAME ".unmeasured",
		    O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || ward_write_all(fd, data + cut, len - cut) < 0 || fdatasync(fd) < 0)
		return ward_error_sys(err, "%s/" LOG_NAME ".unmeasured", dir);
	if (ftruncate(logfd, (off_t)cut) < 0 || fdatasync(logfd) < 0)
		return ward_error_sys(err, "%s/" LOG_NAME ": cannot cut off unmeasured events",
				      dir);
	(void)unlinkat(dirfd, STATE_NAME, 0);
	return 0;
}

static int append(int logfd, const char *rec, size_t len, const char *dir, ward_error_t *err)
{
	if (ward_write_all(logfd, rec, len) < 0 || fdatasync(logfd) < 0)
		return ward_error_sys(err, "cannot append to %s/" LOG_NAME, dir);
	return 0;
}

int ward_attest_measure(const struct ward_attest_config *c, const char *body, size_t len,
			struct ward_attest_result *res, ward_error_t *err)
{
	cleanup_close int dirfd = ward_attest_dir_open(c->dir, true, err);
	cleanup_close int lockfd = -1;
	cleanup_close int logfd = -1;
	cleanup_free char *rec = NULL;
	cleanup_free char *hrec = NULL;
	const char *mode = c->tcti ? "tpm" : "software";
	char boot[64];
	struct pos p;
	uint8_t hdigest[32], edigest[32];
	size_t rlen = 0, hlen = 0;
	bool header;
	int attempt;

	if (dirfd < 0)
		return -1;
	lockfd = ward_attest_lock(dirfd, true, err);
	if (lockfd < 0)
		return -1;
	logfd = openat(dirfd, LOG_NAME, O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (logfd < 0)
		return ward_error_sys(err, "%s/" LOG_NAME, c->dir);
	if (check_file(logfd, "the measurement log", err) < 0)
		return -1;
	if (position(dirfd, logfd, c->dir, &p, err) < 0)
		return -1;
	boot_id(boot);
	if (p.count > 0 && (strcmp(p.mode, mode) != 0 || p.pcr != c->pcr)) {
		cleanup_free char *why =
			ward_xasprintf("it measures into %s PCR %u, this launch into %s PCR %u",
				       p.mode, p.pcr, mode, c->pcr);

		if (rotate(dirfd, &logfd, c->dir, why, err) < 0)
			return -1;
		memset(&p, 0, sizeof(p));
	} else if (p.count > 0 && strcmp(p.boot, boot) != 0) {
		if (rotate(dirfd, &logfd, c->dir, "it was written before the host's last boot",
			   err) < 0)
			return -1;
		memset(&p, 0, sizeof(p));
	}

	for (attempt = 0; attempt < 2; attempt++) {
		uint8_t actual[32], before[32];
		size_t n = 0, nd = 0;
		off_t start = (off_t)p.size;

		header = p.count == 0;
		free(hrec);
		hrec = NULL;
		hlen = 0;
		if (header) {
			cleanup_free char *hb = ward_attest_header_body(mode, c->pcr, boot, &n);

			hrec = ward_attest_record(0, WARD_EVENT_LOG, hb, n, hdigest, &hlen);
		}
		free(rec);
		rec = ward_attest_record(p.count + (header ? 1 : 0), WARD_EVENT_LAUNCH, body, len,
					 edigest, &rlen);
		if ((hrec && append(logfd, hrec, hlen, c->dir, err) < 0) ||
		    append(logfd, rec, rlen, c->dir, err) < 0) {
			if (ftruncate(logfd, start) < 0) { /* the next append replays and sees it */
			}
			return -1;
		}
		memcpy(before, p.replay, 32);
		if (c->tcti) {
			uint8_t d[2][32];
			int r;

			nd = 0;
			if (header)
				memcpy(d[nd++], hdigest, 32);
			memcpy(d[nd++], edigest, 32);
			r = ward_attest_tpm_extend(c, before, (const uint8_t(*)[32])d, nd, actual,
						   err);
			if (r < 0) {
				if (ftruncate(logfd, start) <
				    0) { /* the next append replays and sees it */
				}
				return ward_error_wrap(err,
						       "the launch is not measured, so it does "
						       "not run");
			}
			if (r == 1) {
				ssize_t at;
				size_t count = 0, cut = 0;
				char hex[WARD_ATTEST_HEX];

				/* The PCR does not hold the log's replay: take our
				 * records back and see where it stands. */
				if (ftruncate(logfd, start) < 0)
					return ward_error_sys(err, "%s/" LOG_NAME, c->dir);
				at = find_prefix(logfd, actual, &count, &cut, err);
				if (at == -2)
					return -1;
				ward_attest_hex(actual, 32, hex);
				if (at == 0 && count > 0 && attempt == 0) {
					if (rotate(dirfd, &logfd, c->dir,
						   "the PCR holds zeros (the TPM was reset)",
						   err) < 0)
						return -1;
					memset(&p, 0, sizeof(p));
					continue;
				}
				if (at > 0 && (size_t)at < count && attempt == 0) {
					/* Events in the log that the PCR never saw:
					 * ward stopped between its append and its
					 * extend (that launch never ran: it runs only
					 * once measured), or someone appended them.
					 * Either way they describe nothing that ran
					 * measured: never extend them late, cut them
					 * off (kept in log.unmeasured). */
					fprintf(stderr,
						"ward: %s/" LOG_NAME
						": %zu event(s) from event %zd were never "
						"extended into PCR %u (ward stopped in between, or "
						"they were appended by something else): moved to "
						"%s/" LOG_NAME ".unmeasured, not measured\n",
						c->dir, count - (size_t)at, at, c->pcr, c->dir);
					if (cut_unmeasured(dirfd, logfd, cut, c->dir, err) < 0 ||
					    position(dirfd, logfd, c->dir, &p, err) < 0)
						return ward_error_wrap(err, "measured launch");
					continue;
				}
				return ward_error_set(
					err, EBADMSG,
					"PCR %u holds %s, which no part of the log %s/" LOG_NAME
					" replays to: something else extends PCR %u, or "
					"this log belongs to another TPM.  The launch is "
					"refused (it could not be verified).  Start a new "
					"log with `ward attest init --new-log` (it resets "
					"PCR %u), or choose another PCR (--pcr)",
					c->pcr, hex, c->dir, c->pcr, c->pcr);
			}
		}
		/* Done: the event is in the log and in the PCR. */
		if (header) {
			ward_attest_extend(p.replay, hdigest);
			p.count++;
		}
		res->seq = p.count;
		memcpy(res->digest, edigest, 32);
		ward_attest_extend(p.replay, edigest);
		memcpy(res->pcr, p.replay, 32);
		p.count++;
		p.size = (size_t)start + hlen + rlen;
		snprintf(p.mode, sizeof(p.mode), "%s", mode);
		p.pcr = c->pcr;
		snprintf(p.boot, sizeof(p.boot), "%s", boot);
		/* A stale cache only costs a replay: not an error. */
		{
			ward_error_t ignored = NULL;

			if (write_state(dirfd, &p, &ignored) < 0)
				ward_error_free(&ignored);
		}
		return 0;
	}
	return ward_error_set(err, EAGAIN,
			      "the measurement log could not be brought in line "
			      "with the PCR");
}

/* ------------------------------------------------------------ ward's own binary */

int ward_attest_self_digest(const struct ward_attest_config *c, uint8_t out[32], ward_error_t *err)
{
	cleanup_close int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	cleanup_close int dirfd = -1;
	cleanup_free char *key = NULL;
	struct stat st;
	char buf[256];
	ssize_t n;

	if (exe < 0 || fstat(exe, &st) < 0)
		return ward_error_sys(err, "cannot read ward's own binary (/proc/self/exe)");
	/* ctime changes with any change of the file, and nobody can set it:
	 * with the inode, a changed binary never matches the cache. */
	key = ward_xasprintf("%llu %llu %lld %lld.%09ld %lld.%09ld", (unsigned long long)st.st_dev,
			     (unsigned long long)st.st_ino, (long long)st.st_size,
			     (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
			     (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
	dirfd = ward_attest_dir_open(c->dir, true, err);
	if (dirfd < 0)
		return -1;
	{
		cleanup_close int fd = openat(dirfd, "exe", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		ward_error_t ignored = NULL;

		if (fd >= 0 && check_file(fd, "exe", &ignored) == 0 &&
		    (n = read(fd, buf, sizeof(buf) - 1)) > 0) {
			char *sp;

			buf[n] = '\0';
			sp = strrchr(buf, ' ');
			if (sp && (size_t)(sp - buf) == strlen(key) &&
			    strncmp(buf, key, strlen(key)) == 0) {
				sp[1 + 64] = '\0';
				if (ward_attest_unhex(sp + 1, out, 32) == 32)
					return 0;
			}
		}
		ward_error_free(&ignored);
	}
	{
		cleanup_free char *data = NULL;
		cleanup_free char *line = NULL;
		char hex[WARD_ATTEST_HEX];
		size_t len;

		if (read_fd(exe, 1u << 30, &data, &len, "ward's own binary", err) < 0)
			return -1;
		ward_attest_sha256(data, len, out);
		ward_attest_hex(out, 32, hex);
		line = ward_xasprintf("%s %s\n", key, hex);
		{
			/* A cache: failing to write it costs the next launch a hash. */
			cleanup_free char *tmp = ward_xasprintf("exe.%d", (int)getpid());
			int fd =
				openat(dirfd, tmp,
				       O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);

			if (fd >= 0) {
				bool ok = ward_write_all(fd, line, strlen(line)) >= 0;

				close(fd);
				if (!ok || renameat(dirfd, tmp, dirfd, "exe") < 0)
					(void)unlinkat(dirfd, tmp, 0);
			}
		}
	}
	return 0;
}

/* ------------------------------------------------------------ environments */

static char *env_name(const char *env)
{
	return ward_xasprintf(ENV_DIR "/%s", env);
}

int ward_attest_env_record(const struct ward_attest_config *c, const char *env, pid_t pid,
			   const struct ward_attest_result *res, ward_error_t *err)
{
	cleanup_close int dirfd = ward_attest_dir_open(c->dir, true, err);
	cleanup_free char *name = env_name(env);
	cleanup_free char *tmp = NULL;
	char hex[WARD_ATTEST_HEX], buf[160];
	int fd, n;

	if (dirfd < 0)
		return -1;
	if (mkdirat(dirfd, ENV_DIR, 0700) < 0 && errno != EEXIST)
		return ward_error_sys(err, "%s/" ENV_DIR, c->dir);
	ward_attest_hex(res->digest, 32, hex);
	n = snprintf(buf, sizeof(buf), "%llu %d %s\n", (unsigned long long)res->seq, (int)pid, hex);
	tmp = ward_xasprintf("%s.%d", name, (int)getpid());
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return ward_error_sys(err, "%s/%s", c->dir, tmp);
	if (ward_write_all(fd, buf, (size_t)n) < 0) {
		close(fd);
		return ward_error_sys(err, "%s/%s", c->dir, tmp);
	}
	close(fd);
	if (renameat(dirfd, tmp, dirfd, name) < 0)
		return ward_error_sys(err, "%s/%s", c->dir, name);
	return 0;
}

void ward_attest_env_forget(const struct ward_attest_config *c, const char *env, pid_t pid)
{
	cleanup_close int dirfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	cleanup_free char *name = env_name(env);
	ward_error_t ignored = NULL;
	uint64_t seq;

	if (dirfd < 0)
		return;
	/* Only our own record: another launch may have taken the name since. */
	if (ward_attest_env_lookup(c->dir, env, pid, &seq, &ignored) == 0)
		unlinkat(dirfd, name, 0);
	ward_error_free(&ignored);
}

int ward_attest_env_lookup(const char *dir, const char *env, pid_t pid, uint64_t *seq,
			   ward_error_t *err)
{
	cleanup_free char *path = ward_xasprintf("%s/" ENV_DIR "/%s", dir, env);
	cleanup_close int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	unsigned long long s;
	char buf[160];
	int p;
	ssize_t n;

	if (fd < 0 || check_file(fd, path, err) < 0) {
		if (fd < 0)
			ward_error_set(
				err, ENOENT,
				"the launch of environment \"%s\" was not measured (a bundle "
				"is measured; a manifest run with --measure)",
				env);
		return -1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return ward_error_set(err, EIO, "%s: empty", path);
	buf[n] = '\0';
	if (sscanf(buf, "%llu %d", &s, &p) != 2)
		return ward_error_set(err, EBADMSG, "%s: malformed", path);
	if (p != (int)pid)
		return ward_error_set(err, ESRCH,
				      "the launch of environment \"%s\" (pid %d) was not measured; "
				      "the record of that name is another launch's (pid %d)",
				      env, (int)pid, p);
	*seq = s;
	return 0;
}
