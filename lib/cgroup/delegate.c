// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Delegation: the cgroups an ordinary user may make sandboxes in.
 *
 * `ward delegate USER` (root) makes ward's per-user subtree in every
 * hierarchy ward uses, ROOT[/CONTROLLER]/ward-users/user-UID, and gives the user
 * the directory and the files that creating children and moving one's own
 * processes need (cgroup.procs, tasks on v1; cgroup.procs, cgroup.threads and
 * cgroup.subtree_control on v2).  Limits written there by an administrator
 * bound every sandbox of that user together; ward writes none.  The kernel's
 * own rules then apply (the subtree is apart from root mode's ward/, so that
 * limits an administrator sets on ward-users/ bound every user's sandboxes
 * together): on v1, a user may move only their own processes; on
 * v2, only between cgroups beneath one whose cgroup.procs they may write, so
 * the user's session must itself run inside the delegated subtree (systemd's
 * user@UID.service is such a subtree).
 *
 * ward_cgroup_delegated() finds, for a rootless run: $WARD_CGROUP, else
 * ward-users/user-UID when it belongs to the user.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "../rootless.h"
#include "../util.h"

#define DEFAULT_ROOT "/sys/fs/cgroup"

static const char *const v1_controllers[] = {"pids", "memory", "cpu"};
static const char *const v2_controllers = "+pids +memory +cpu";

/* Files the user gets in their directory. */
static const char *const v1_user_files[] = {"cgroup.procs", "tasks"};
static const char *const v2_user_files[] = {"cgroup.procs", "cgroup.threads",
					    "cgroup.subtree_control"};

static char *user_dir_name(uid_t uid)
{
	return ward_xasprintf(WARD_CG_USERS "/user-%u", (unsigned)uid);
}

/* Does the path have a ".." component? */
static bool has_dotdot(const char *p)
{
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return true;
		p += n;
		while (*p == '/')
			p++;
	}
	return false;
}

char *ward_cgroup_delegated(const char *root, uid_t uid, const char **how)
{
	const char *env = getenv("WARD_CGROUP");
	enum ward_cgroup_layout layout;
	cleanup_free char *rel = NULL;
	cleanup_free char *path = NULL;
	struct stat st;

	if (root == NULL)
		root = DEFAULT_ROOT;
	if (env && *env) {
		size_t n = strlen(root);
		const char *p = env;

		cleanup_free char *abs = NULL, *norm = NULL;

		/* A path as /proc/self/cgroup shows it, or beneath the root. */
		if (strncmp(p, root, n) == 0 && p[n] == '/')
			p += n;
		*how = "WARD_CGROUP";
		/* Below the hierarchy's root, or nothing: "..", which the
		 * kernel would follow out of the cgroup file system (into a
		 * directory of the user's own, where limits are just files),
		 * makes it no cgroup at all (NULL with *how set). */
		abs = ward_xasprintf("/%s", p);
		norm = ward_path_normalize(abs);
		if (norm == NULL || strcmp(norm, "/") == 0 || has_dotdot(p))
			return NULL;
		return ward_xstrdup(norm + 1);
	}
	layout = ward_cgroup_detect(root);
	if (layout == WARD_CGROUP_NONE)
		return NULL;
	/* Named by the host's uid; owned, as this namespace sees it, by us. */
	rel = user_dir_name(ward_host_uid());
	path = layout == WARD_CGROUP_V2 ? ward_xasprintf("%s/%s", root, rel)
					: ward_xasprintf("%s/pids/%s", root, rel);
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == uid) {
		*how = "ward delegate";
		return steal_pointer(&rel);
	}
	/* Inside a sandbox of security.admin: the root of the cgroup
	 * namespace's hierarchies is the sandbox's own cgroup, given to it
	 * (ward_cgroup_give); an inner ward divides it. */
	free(path);
	path = layout == WARD_CGROUP_V2 ? ward_xstrdup(root) : ward_xasprintf("%s/pids", root);
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == uid) {
		*how = "the sandbox's own cgroup (security.admin)";
		return ward_xstrdup(".");
	}
	return NULL;
}

int ward_cgroup_mount_inside(const char *target, ward_error_t *err)
{
	cleanup_free char *self = NULL;
	const unsigned long fl = MS_NOSUID | MS_NODEV | MS_NOEXEC;
	size_t len = 0;
	bool v1 = false;
	char *line, *save = NULL;
	int r;

	r = ward_read_file("/proc/self/cgroup", &self, &len);
	if (r < 0) {
		errno = -r;
		return ward_error_sys(err, "security.admin: cannot read /proc/self/cgroup");
	}
	if (mount("tmpfs", target, "tmpfs", fl, "mode=0755,size=16k") < 0)
		return ward_error_sys(err, "security.admin: cannot mount a tmpfs on %s", target);
	for (line = strtok_r(self, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *ctl = strchr(line, ':'), *end;
		cleanup_free char *dir = NULL;

		if (ctl == NULL || (end = strchr(++ctl, ':')) == NULL)
			continue;
		*end = '\0';
		/* pids, memory and cpu (with cpuacct where they share a
		 * hierarchy): the ones ward made the sandbox's cgroup in and
		 * gave to it.  Never devices, never a named hierarchy. */
		if (strcmp(ctl, "pids") != 0 && strcmp(ctl, "memory") != 0 &&
		    strcmp(ctl, "cpu") != 0 && strcmp(ctl, "cpu,cpuacct") != 0 &&
		    strcmp(ctl, "cpuacct,cpu") != 0)
			continue;
		v1 = true;
		dir = ward_xasprintf("%s/%s", target, ctl);
		if (mkdir(dir, 0755) < 0 || mount("cgroup", dir, "cgroup", fl, ctl) < 0)
			return ward_error_sys(
				err, "security.admin: cannot mount the %s cgroup on %s", ctl, dir);
		if (strcmp(ctl, "pids") && strcmp(ctl, "memory") && strcmp(ctl, "cpu")) {
			cleanup_free char *link = ward_xasprintf("%s/cpu", target);

			if (symlink(ctl, link) < 0 && errno != EEXIST)
				return ward_error_sys(err, "security.admin: cannot link %s", link);
		}
	}
	if (!v1) {
		/* v2: the unified hierarchy, rooted at the sandbox's cgroup by
		 * the cgroup namespace. */
		if (umount2(target, MNT_DETACH) < 0 ||
		    mount("cgroup2", target, "cgroup2", fl, NULL) < 0)
			return ward_error_sys(err, "security.admin: cannot mount cgroup2 on %s",
					      target);
		return 0;
	}
	/* The tmpfs holding the mount points: read-only from now on. */
	if (mount(NULL, target, NULL, MS_REMOUNT | MS_RDONLY | fl, "mode=0755,size=16k") < 0)
		return ward_error_sys(err, "security.admin: cannot make %s read-only", target);
	return 0;
}

/* mkdir that is idempotent, then chown the directory and the user's files. */
static int give(int hierfd, const char *hierpath, const char *rel, uid_t uid, gid_t gid,
		const char *const *files, size_t n_files, bool standin, ward_error_t *err)
{
	cleanup_close int fd = -1;
	size_t i;

	if (mkdirat(hierfd, WARD_CG_USERS, 0755) < 0 && errno != EEXIST)
		return ward_error_sys(err, "cannot create %s/" WARD_CG_USERS, hierpath);
	if (mkdirat(hierfd, rel, 0755) < 0 && errno != EEXIST)
		return ward_error_sys(err, "cannot create %s/%s", hierpath, rel);
	fd = openat(hierfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return ward_error_sys(err, "cannot open %s/%s", hierpath, rel);
	if (fchown(fd, uid, gid) < 0)
		return ward_error_sys(err, "cannot give %s/%s to uid %u", hierpath, rel,
				      (unsigned)uid);
	for (i = 0; i < n_files; i++) {
		if (standin && !ward_cg_exists_at(fd, files[i]))
			(void)ward_cg_write_at(fd, files[i], "", true);
		if (fchownat(fd, files[i], uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
			return ward_error_sys(err, "cannot give %s/%s/%s to uid %u", hierpath, rel,
					      files[i], (unsigned)uid);
	}
	return 0;
}

/* Remove the user's directory: empty stale children first (a supervisor
 * killed with SIGKILL leaves its empty cgroup), then the directory, then
 * ward/ if that left it empty.  A cgroup with processes is not touched. */
static int take_back(int hierfd, const char *hierpath, const char *rel, bool standin,
		     ward_error_t *err)
{
	cleanup_close int fd = openat(hierfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return ward_error_sys(err, "cannot open %s/%s", hierpath, rel);
	}
	{
		int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		DIR *dir = dfd >= 0 ? fdopendir(dfd) : NULL;
		struct dirent *de;
		char **names = NULL;
		bool *isdir = NULL;
		size_t n = 0, i;

		/* Listed first, removed after: removing while reading a
		 * directory may skip entries. */
		while (dir && (de = readdir(dir)) != NULL) {
			struct stat st;

			if (de->d_name[0] == '.' ||
			    fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			names = ward_xrealloc(names, (n + 1) * sizeof(*names));
			isdir = ward_xrealloc(isdir, (n + 1) * sizeof(*isdir));
			names[n] = ward_xstrdup(de->d_name);
			isdir[n++] = S_ISDIR(st.st_mode);
		}
		if (dir)
			closedir(dir);
		else if (dfd >= 0)
			close(dfd);
		/* Empty stale children (rmdir removes only an empty cgroup); on a
		 * stand-in, the "interface files" are ours to remove. */
		for (i = 0; i < n; i++) {
			if (isdir[i] && !standin)
				(void)unlinkat(fd, names[i], AT_REMOVEDIR);
			else if (!isdir[i] && standin)
				(void)unlinkat(fd, names[i], 0);
			free(names[i]);
		}
		free(names);
		free(isdir);
	}
	if (unlinkat(hierfd, rel, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return ward_error_sys(
			err, "cannot remove %s/%s (sandboxes of the user still run in it?)",
			hierpath, rel);
	(void)unlinkat(hierfd, WARD_CG_USERS, AT_REMOVEDIR);
	return 0;
}

static int enable_v2(int dirfd, const char *path, bool standin, ward_error_t *err)
{
	cleanup_free char *cur = NULL;
	int r;

	if (ward_cg_read_at(dirfd, "cgroup.subtree_control", &cur) == 0 &&
	    ward_cg_list_has(cur, "pids") && ward_cg_list_has(cur, "memory") &&
	    ward_cg_list_has(cur, "cpu"))
		return 0;
	r = ward_cg_write_at(dirfd, "cgroup.subtree_control", v2_controllers, standin);
	if (r < 0)
		return ward_error_set(
			err, -r,
			"cannot enable pids, memory and cpu in %s/cgroup.subtree_control: "
			"%s",
			path, strerror(-r));
	return 0;
}

int ward_cgroup_delegate(const char *root, uid_t uid, gid_t gid, bool undo, char **done,
			 ward_error_t *err)
{
	enum ward_cgroup_layout layout;
	cleanup_close int rootfd = -1;
	cleanup_free char *rel = user_dir_name(uid);
	char *list = NULL;
	size_t i;

	*done = NULL;
	if (root == NULL)
		root = DEFAULT_ROOT;
	layout = ward_cgroup_detect(root);
	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (layout == WARD_CGROUP_NONE || rootfd < 0)
		return ward_error_set(err, ENOENT,
				      "no cgroup hierarchy found at %s: nothing to delegate", root);
	if (layout == WARD_CGROUP_V2) {
		bool standin = !ward_cg_fs_is(rootfd, CGROUP2_SUPER_MAGIC);
		cleanup_close int wardfd = -1;

		if (undo) {
			if (take_back(rootfd, root, rel, standin, err) < 0)
				return -1;
		} else {
			if (enable_v2(rootfd, root, standin, err) < 0)
				return -1;
			if (mkdirat(rootfd, WARD_CG_USERS, 0755) < 0 && errno != EEXIST)
				return ward_error_sys(err, "cannot create %s/" WARD_CG_USERS, root);
			wardfd = openat(rootfd, WARD_CG_USERS,
					O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (wardfd < 0)
				return ward_error_sys(err, "cannot open %s/" WARD_CG_USERS, root);
			if (enable_v2(wardfd, root, standin, err) < 0 ||
			    give(rootfd, root, rel, uid, gid, v2_user_files,
				 ARRAY_SIZE(v2_user_files), standin, err) < 0)
				return -1;
		}
		*done = ward_xasprintf("%s/%s", root, rel);
		return 0;
	}
	/* v1 and hybrid: the controllers ward joins when rootless (the
	 * devices list can only be written with CAP_SYS_ADMIN). */
	for (i = 0; i < ARRAY_SIZE(v1_controllers); i++) {
		cleanup_free char *hierpath = ward_xasprintf("%s/%s", root, v1_controllers[i]);
		cleanup_close int hierfd =
			openat(rootfd, v1_controllers[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		char *more;

		if (hierfd < 0 || !ward_cg_fs_is(hierfd, CGROUP_SUPER_MAGIC))
			return ward_error_set(
				err, ENOENT, "the cgroup v1 \"%s\" controller is not mounted at %s",
				v1_controllers[i], hierpath);
		if ((undo ? take_back(hierfd, hierpath, rel, false, err)
			  : give(hierfd, hierpath, rel, uid, gid, v1_user_files,
				 ARRAY_SIZE(v1_user_files), false, err)) < 0) {
			free(list);
			return -1;
		}
		more = ward_xasprintf("%s%s%s/%s", list ? list : "", list ? " " : "", hierpath,
				      rel);
		free(list);
		list = more;
	}
	*done = list;
	return 0;
}

int ward_cgroup_give(struct ward_cgroup *cg, uid_t uid, gid_t gid, ward_error_t *err)
{
	size_t i, j;

	if (cg == NULL)
		return 0;
	for (i = 0; i < cg->n_dirs; i++) {
		const struct ward_cg_dir *d = &cg->dirs[i];
		const char *const *files =
			cg->layout == WARD_CGROUP_V2 ? v2_user_files : v1_user_files;
		size_t n = cg->layout == WARD_CGROUP_V2 ? ARRAY_SIZE(v2_user_files)
							: ARRAY_SIZE(v1_user_files);

		/* A device list can be changed only with CAP_SYS_ADMIN of the
		 * host's user namespace; the sandbox's stays exactly ward's. */
		if (i == WARD_CG_DEVICES || d->fd < 0)
			continue;
		if (fchown(d->fd, uid, gid) < 0)
			return ward_error_sys(err, "cannot give cgroup %s to the sandbox", d->path);
		for (j = 0; j < n; j++) {
			if (cg->standin && !ward_cg_exists_at(d->fd, files[j]))
				(void)ward_cg_write_at(d->fd, files[j], "", true);
			if (fchownat(d->fd, files[j], uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
				return ward_error_sys(err, "cannot give %s/%s to the sandbox",
						      d->path, files[j]);
		}
	}
	return 0;
}
