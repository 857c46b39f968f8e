// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Container state under ROOT/ID.
 *
 *   ROOT/ID/            0700, flocked (exclusive) by every operation that
 *                       changes the container, for its whole duration
 *   ROOT/ID/state.json  written once by create (temp file + rename), so a
 *                       reader sees the old or the new file, never half
 *   ROOT/ID/exec.fifo   exists from create until start: "created"
 *   ROOT/ID/NAME.bpf    compiled seccomp programs, reused by exec
 *
 * The status is derived, not stored, as runc does: the init's pid is alive
 * (and is the same process: its start time matches) or the container is
 * stopped; the fifo means created; the freezer means paused.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../util.h"
#include "internal.h"
#include "log.h"

const char *ward_oci_status_name(enum ward_oci_status s)
{
	switch (s) {
	case WARD_OCI_CREATING:
		return "creating";
	case WARD_OCI_CREATED:
		return "created";
	case WARD_OCI_RUNNING:
		return "running";
	case WARD_OCI_PAUSED:
		return "paused";
	case WARD_OCI_STOPPED:
		return "stopped";
	default:
		return "unknown";
	}
}

bool ward_oci_id_ok(const char *id, ward_error_t *err)
{
	size_t i, n = id ? strlen(id) : 0;

	if (n == 0 || n > 1024 || strcmp(id, ".") == 0 || strcmp(id, "..") == 0) {
		ward_error_set(err, EINVAL, "invalid container id \"%s\"", id ? id : "");
		return false;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)id[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '+')
			continue;
		ward_error_set(err, EINVAL,
			       "invalid container id \"%s\": use letters, digits, '-', '_', '.' "
			       "and '+'",
			       id);
		return false;
	}
	return true;
}

char *ward_oci_now_rfc3339(void)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	return ward_xasprintf("%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
			      tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			      ts.tv_nsec);
}

int ward_oci_write_pid_file(const char *path, pid_t pid, ward_error_t *err)
{
	cleanup_free char *tmp = NULL;
	char buf[32];
	int n, fd;

	if (path == NULL)
		return 0;
	/* Written to a temporary name and renamed: conmon reads the file as
	 * soon as create returns and must never see it half written. */
	{
		const char *slash = strrchr(path, '/');

		if (slash)
			tmp = ward_xasprintf("%.*s/.%s.tmp", (int)(slash - path), path, slash + 1);
		else
			tmp = ward_xasprintf(".%s.tmp", path);
	}
	n = snprintf(buf, sizeof(buf), "%d", (int)pid);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return ward_error_sys(err, "cannot write the pid file %s", tmp);
	if (ward_write_all(fd, buf, (size_t)n) < 0) {
		close(fd);
		return ward_error_sys(err, "cannot write the pid file %s", tmp);
	}
	close(fd);
	if (rename(tmp, path) < 0)
		return ward_error_sys(err, "cannot rename %s to %s", tmp, path);
	return 0;
}

int ward_oci_root_open(const char *root, bool create, ward_error_t *err)
{
	int fd;

	if (root == NULL)
		root = WARD_OCI_DEFAULT_ROOT;
	if (create && ward_mkdir_p(root, 0700) < 0)
		return ward_error_sys(err, "cannot create the state root %s", root);
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return ward_error_sys(err, "cannot open the state root %s", root);
	return fd;
}

unsigned long long ward_oci_proc_start_time(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	ssize_t n;
	int fd, field;
	char state;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* The command name may contain spaces and parentheses: fields start
	 * after the last ')'. */
	p = strrchr(buf, ')');
	if (p == NULL || p[1] != ' ')
		return 0;
	p += 2;
	state = *p;
	/* A zombie (or dead) init has stopped, whoever reaps it. */
	if (state == 'Z' || state == 'X' || state == 'x')
		return 0;
	for (field = 3; field < 22 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (p == NULL || sscanf(p, "%llu", &start) != 1)
		return 0;
	return start;
}

int ward_oci_state_load(const char *root, const char *id, bool lock, struct oci_state *s,
			ward_error_t *err)
{
	cleanup_close int rootfd = -1;
	json_error_t je;
	json_t *v;
	int fd;

	memset(s, 0, sizeof(*s));
	s->dirfd = -1;
	if (!ward_oci_id_ok(id, err))
		return -1;
	rootfd = ward_oci_root_open(root, false, NULL);
	s->id = ward_xstrdup(id);
	s->dir = ward_xasprintf("%s/%s", root ? root : WARD_OCI_DEFAULT_ROOT, id);
	if (rootfd >= 0)
		s->dirfd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (s->dirfd < 0)
		return ward_error_set(err, ENOENT, "container \"%s\" does not exist", id);
	if (lock && flock(s->dirfd, LOCK_EX) < 0)
		return ward_error_sys(err, "cannot lock %s", s->dir);
	fd = openat(s->dirfd, "state.json", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return ward_error_set(err, ENOENT,
					      "container \"%s\" does not exist (no state: it is "
					      "being created or was deleted)",
					      id);
		return ward_error_sys(err, "cannot read %s/state.json", s->dir);
	}
	s->json = json_loadfd(fd, 0, &je);
	close(fd);
	if (s->json == NULL)
		return ward_error_set(err, EINVAL, "%s/state.json: %s", s->dir, je.text);
	v = json_object_get(s->json, "pid");
	s->pid = json_is_integer(v) ? (pid_t)json_integer_value(v) : 0;
	v = json_object_get(s->json, "start_time");
	s->start_time = json_is_integer(v) ? (unsigned long long)json_integer_value(v) : 0;
	v = json_object_get(s->json, "bundle");
	s->bundle = json_is_string(v) ? json_string_value(v) : "";
	return 0;
}

int ward_oci_state_save(struct oci_state *s, ward_error_t *err)
{
	cleanup_free char *text = json_dumps(s->json, JSON_COMPACT);
	int fd;

	if (text == NULL)
		return ward_error_set(err, ENOMEM, "cannot serialise the state");
	fd = openat(s->dirfd, "state.json.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return ward_error_sys(err, "cannot write %s/state.json.tmp", s->dir);
	if (ward_write_all(fd, text, strlen(text)) < 0) {
		close(fd);
		return ward_error_sys(err, "cannot write %s/state.json.tmp", s->dir);
	}
	close(fd);
	if (renameat(s->dirfd, "state.json.tmp", s->dirfd, "state.json") < 0)
		return ward_error_sys(err, "cannot write %s/state.json", s->dir);
	return 0;
}

void ward_oci_state_free(struct oci_state *s)
{
	if (s->dirfd >= 0)
		close(s->dirfd); /* also drops the flock */
	if (s->json)
		json_decref(s->json);
	free(s->id);
	free(s->dir);
	memset(s, 0, sizeof(*s));
	s->dirfd = -1;
}

struct ward_oci_cgroup *ward_oci_state_cgroup(const struct oci_state *s)
{
	json_t *j = json_object_get(s->json, "cgroup");
	struct ward_oci_cgroup *cg = NULL;
	ward_error_t e = NULL;

	if (!json_is_object(j))
		return NULL;
	json_t *ns = json_object_get(s->json, "pidns");

	if (ward_oci_cgroup_from_json(j, &cg, &e) < 0) {
		ward_oci_log(WARD_LOG_DEBUG, "%s", e->msg);
		ward_error_free(&e);
		return NULL;
	}
	cg->scope.init = s->pid;
	cg->scope.init_start = s->start_time;
	if (json_is_object(ns)) {
		cg->scope.pidns = true;
		cg->scope.pidns_dev = (dev_t)json_integer_value(json_object_get(ns, "dev"));
		cg->scope.pidns_ino = (ino_t)json_integer_value(json_object_get(ns, "ino"));
	}
	return cg;
}

enum ward_oci_status ward_oci_state_status(const struct oci_state *s, struct ward_oci_cgroup *cg)
{
	unsigned long long st = ward_oci_proc_start_time(s->pid);

	if (st == 0 || (s->start_time && st != s->start_time))
		return WARD_OCI_STOPPED;
	if (faccessat(s->dirfd, "exec.fifo", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return WARD_OCI_CREATED;
	if (cg && ward_oci_cgroup_frozen(cg))
		return WARD_OCI_PAUSED;
	return WARD_OCI_RUNNING;
}

json_t *ward_oci_state_public(const struct oci_state *s, enum ward_oci_status st)
{
	json_t *o = json_object();
	json_t *v;

	v = json_object_get(s->json, "ociVersion");
	json_object_set_new(
		o, "ociVersion",
		json_string(json_is_string(v) ? json_string_value(v) : WARD_OCI_VERSION));
	json_object_set_new(o, "id", json_string(s->id));
	json_object_set_new(o, "status", json_string(ward_oci_status_name(st)));
	/* The spec: pid is REQUIRED when created or running (and runc keeps it
	 * for paused); a stopped container reports 0. */
	json_object_set_new(o, "pid", json_integer(st == WARD_OCI_STOPPED ? 0 : s->pid));
	json_object_set_new(o, "bundle", json_string(s->bundle));
	v = json_object_get(s->json, "rootfs");
	if (json_is_string(v))
		json_object_set(o, "rootfs", v);
	v = json_object_get(s->json, "created");
	if (json_is_string(v))
		json_object_set(o, "created", v);
	json_object_set_new(o, "owner", json_string(""));
	v = json_object_get(s->json, "annotations");
	json_object_set_new(o, "annotations", json_is_object(v) ? json_copy(v) : json_object());
	return o;
}

static int rm_tree_at(int dirfd)
{
	DIR *d;
	struct dirent *e;
	int fd = dup(dirfd);

	if (fd < 0)
		return -1;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd, e->d_name, 0) < 0 && errno == EISDIR) {
			int sub = openat(dirfd, e->d_name,
					 O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

			if (sub >= 0) {
				rm_tree_at(sub);
				close(sub);
			}
			(void)unlinkat(dirfd, e->d_name, AT_REMOVEDIR);
		}
	}
	closedir(d);
	return 0;
}

int ward_oci_state_remove(struct oci_state *s, ward_error_t *err)
{
	if (s->dirfd >= 0)
		rm_tree_at(s->dirfd);
	if (rmdir(s->dir) < 0 && errno != ENOENT)
		return ward_error_sys(err, "cannot remove %s", s->dir);
	return 0;
}
