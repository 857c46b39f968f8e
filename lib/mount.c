/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The sandbox's filesystem view.
 *
 * Default view: the host's /usr, /bin, /sbin, /lib*, /etc read-only; a
 * private tmpfs /tmp; a minimal /dev; a fresh /proc with Docker's masked
 * and read-only paths; a read-only sysfs; nothing else of the host (no
 * home, no /root, no /run and so no host sockets).  fs.* grants add exactly
 * the paths they name.
 *
 * Every bind uses the new mount API (open_tree + mount_setattr + move_mount)
 * so that recursive read-only and idmapping apply to whole trees atomically.
 * Host sources were opened by the supervisor with openat2(RESOLVE_NO_SYMLINKS)
 * and are mounted through their descriptors: a path cannot be swapped for a
 * symlink between the check and the mount.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "mount.h"
#include "ns.h"
#include "util.h"

/* The new root is built on a tmpfs mounted over /tmp, in the sandbox's own
 * mount namespace only: /tmp exists everywhere, and every host source was
 * opened before it is covered. */
#define NEWROOT "/tmp"

static const char *const host_system_dirs[] = {
	"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc",
};

/* Entries of a --rootfs that ward provides itself. */
static const char *const own_entries[] = {"proc", "dev", "sys", "tmp"};

/* openat2, or its walk where a filter around ward refuses it (util.h). */
static int sys_openat2(int dirfd, const char *path, uint64_t flags, uint64_t resolve)
{
	return ward_openat2(dirfd, path, flags, resolve);
}

static void src_free(struct ward_view_src *s)
{
	if (s->fd >= 0)
		close(s->fd);
	if (s->idmap_fd >= 0)
		close(s->idmap_fd);
	free(s->path);
	free(s->origin);
}

void ward_view_free(struct ward_view *v)
{
	size_t i;

	if (v == NULL)
		return;
	if (v->rootfs_fd >= 0)
		close(v->rootfs_fd);
	for (i = 0; i < v->n_sys; i++)
		src_free(&v->sys[i]);
	for (i = 0; i < v->n_grants; i++)
		src_free(&v->grants[i]);
	for (i = 0; i < v->n_devices; i++)
		src_free(&v->devices[i]);
	for (i = 0; i < v->n_files; i++)
		src_free(&v->files[i]);
	free(v->files);
	for (i = 0; i < v->n_links; i++)
		free(v->links[i]);
	free(v->hide[0]);
	free(v->hide[1]);
	free(v->sys);
	free(v->grants);
	free(v->devices);
	free(v->links);
	memset(v, 0, sizeof(*v));
	v->rootfs_fd = -1;
}

static struct ward_view_src *push_src(struct ward_view_src **arr, size_t *n)
{
	struct ward_view_src *s;

	*arr = ward_xrealloc(*arr, (*n + 1) * sizeof(**arr));
	s = &(*arr)[(*n)++];
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->idmap_fd = -1;
	return s;
}

static void push_link(struct ward_view *v, const char *name, const char *target)
{
	v->links = ward_xrealloc(v->links, (v->n_links + 2) * sizeof(*v->links));
	v->links[v->n_links++] = ward_xstrdup(name);
	v->links[v->n_links++] = ward_xstrdup(target);
}

/* Explain an ELOOP from RESOLVE_NO_SYMLINKS: find the component that is a link. */
static int explain_symlink(const char *what, const char *path, const char *origin,
			   ward_error_t *err)
{
	cleanup_free char *prefix = ward_xstrdup(path);
	size_t len = strlen(path), i;

	for (i = 1; i <= len; i++) {
		char target[4096];
		ssize_t n;

		if (path[i] != '/' && path[i] != '\0')
			continue;
		memcpy(prefix, path, i);
		prefix[i] = '\0';
		n = readlink(prefix, target, sizeof(target) - 1);
		if (n >= 0) {
			target[n] = '\0';
			return ward_error_set(err, ELOOP,
					      "%s=%s (%s): %s is a symbolic link (to %s); ward "
					      "does not follow links in granted paths: grant the "
					      "real path instead",
					      what, path, origin, prefix, target);
		}
	}
	return ward_error_set(err, ELOOP, "%s=%s (%s): the path goes through a symbolic link", what,
			      path, origin);
}

static int open_host_path(const char *what, const char *path, const char *origin, struct stat *st,
			  ward_error_t *err)
{
	int fd = sys_openat2(AT_FDCWD, path, O_PATH | O_CLOEXEC | O_NOFOLLOW,
			     RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);

	if (fd < 0) {
		if (errno == ENOENT)
			return ward_error_set(err, ENOENT,
					      "%s=%s (%s): %s does not exist on this host", what,
					      path, origin, path);
		if (errno == ELOOP)
			return explain_symlink(what, path, origin, err);
		return ward_error_sys(err, "%s=%s (%s): cannot open %s", what, path, origin, path);
	}
	if (fstat(fd, st) < 0) {
		ward_error_sys(err, "%s=%s: stat", what, path);
		close(fd);
		return -1;
	}
	if (S_ISLNK(st->st_mode)) {
		/* O_PATH|O_NOFOLLOW opens a final symlink itself. */
		close(fd);
		return explain_symlink(what, path, origin, err);
	}
	return fd;
}

static int prepare_host_system(struct ward_view *v, ward_error_t *err)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(host_system_dirs); i++) {
		const char *name = host_system_dirs[i];
		char path[64];
		struct stat st;

		snprintf(path, sizeof(path), "/%s", name);
		if (lstat(path, &st) < 0) {
			if (errno == ENOENT)
				continue;
			return ward_error_sys(err, "cannot inspect %s", path);
		}
		if (S_ISLNK(st.st_mode)) {
			char target[4096];
			ssize_t n = readlink(path, target, sizeof(target) - 1);

			if (n < 0)
				return ward_error_sys(err, "cannot read the link %s", path);
			target[n] = '\0';
			push_link(v, name, target);
		} else if (S_ISDIR(st.st_mode)) {
			struct ward_view_src *s = push_src(&v->sys, &v->n_sys);

			s->fd = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (s->fd < 0)
				return ward_error_sys(err, "cannot open %s", path);
			s->path = ward_xasprintf("/%s", name);
			s->is_dir = true;
			s->access = WARD_FS_READ | WARD_FS_EXEC;
			s->origin = ward_xstrdup("system directory");
		}
	}
	return 0;
}

static bool is_own_entry(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(own_entries); i++)
		if (strcmp(name, own_entries[i]) == 0)
			return true;
	return false;
}

static int prepare_rootfs(struct ward_view *v, const char *rootfs, ward_error_t *err)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int dfd;

	v->rootfs_fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (v->rootfs_fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return ward_error_set(
				err, errno,
				"--rootfs %s: not a directory (give the directory that "
				"holds the root filesystem)",
				rootfs);
		return ward_error_sys(err, "--rootfs %s", rootfs);
	}
	dfd = openat(v->rootfs_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return ward_error_sys(err, "--rootfs %s: cannot list it", rootfs);
	d = fdopendir(dfd);
	if (d == NULL) {
		close(dfd);
		return ward_error_sys(err, "--rootfs %s", rootfs);
	}
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name;

		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || is_own_entry(name))
			continue;
		if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISLNK(st.st_mode)) {
			char target[4096];
			ssize_t n = readlinkat(dirfd(d), name, target, sizeof(target) - 1);

			if (n < 0)
				continue;
			target[n] = '\0';
			push_link(v, name, target);
		} else if (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)) {
			struct ward_view_src *s = push_src(&v->sys, &v->n_sys);

			s->fd = openat(dirfd(d), name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
			if (s->fd < 0) {
				closedir(d);
				return ward_error_sys(err, "--rootfs %s: cannot open %s", rootfs,
						      name);
			}
			s->path = ward_xasprintf("/%s", name);
			s->is_dir = S_ISDIR(st.st_mode);
			s->access = WARD_FS_READ | WARD_FS_EXEC;
			s->origin = ward_xstrdup("--rootfs");
		}
	}
	closedir(d);
	return 0;
}

int ward_view_prepare(const struct ward_policy *p, const char *rootfs, struct ward_view *v,
		      ward_error_t *err)
{
	size_t i;

	memset(v, 0, sizeof(*v));
	v->rootfs_fd = -1;
	v->tmp_size = p->memory_max;
	v->nosuid = !p->setuid;
	v->proc_sys = true;
	v->tmp_noexec = !p->scratch_exec;
	v->proc_net_rw = p->net_admin;
	v->nest_proc = p->level == WARD_LEVEL_ADMIN;

	if (rootfs) {
		if (prepare_rootfs(v, rootfs, err) < 0)
			goto fail;
	} else if (prepare_host_system(v, err) < 0) {
		goto fail;
	}

	for (i = 0; i < p->n_paths; i++) {
		const struct ward_path_grant *g = &p->paths[i];
		const char *what = (g->access & WARD_FS_WRITE)	? "fs.write"
				   : (g->access & WARD_FS_EXEC) ? "fs.exec"
								: "fs.read";
		struct ward_view_src *s = push_src(&v->grants, &v->n_grants);
		struct stat st;

		s->path = ward_xstrdup(g->path);
		s->origin = ward_xstrdup(g->origin);
		s->access = g->access;
		s->fd = open_host_path(what, g->path, g->origin, &st, err);
		if (s->fd < 0)
			goto fail;
		if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
			ward_error_set(err, EINVAL,
				       "%s=%s (%s): not a regular file or directory (device nodes "
				       "are granted with host.devices=PATH)",
				       what, g->path, g->origin);
			goto fail;
		}
		s->is_dir = S_ISDIR(st.st_mode);
		s->owner = st.st_uid;
		s->group = st.st_gid;
	}

	for (i = 0; i < p->n_devices; i++) {
		const struct ward_device_grant *g = &p->devices[i];
		struct ward_view_src *s = push_src(&v->devices, &v->n_devices);
		struct stat st;

		s->path = ward_xstrdup(g->path);
		s->origin = ward_xstrdup(g->origin);
		s->access = WARD_FS_READ | WARD_FS_WRITE;
		s->fd = open_host_path("host.devices", g->path, g->origin, &st, err);
		if (s->fd < 0)
			goto fail;
		if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) {
			ward_error_set(err, EINVAL, "host.devices=%s (%s): not a device node",
				       g->path, g->origin);
			goto fail;
		}
		/* The program gets the node's group, never its owner: a node only
		 * its owner may open cannot be granted without host root. */
		if (!(st.st_mode & (S_IROTH | S_IWOTH)) && !(st.st_mode & (S_IRGRP | S_IWGRP))) {
			ward_error_set(
				err, EACCES,
				"host.devices=%s (%s): only its owner (uid %u) may open it "
				"(mode %04o); ward grants a device through its group: give the "
				"node a group with read/write access",
				g->path, g->origin, (unsigned)st.st_uid,
				(unsigned)(st.st_mode & 07777));
			goto fail;
		}
		s->rdev = st.st_rdev;
		s->owner = st.st_uid;
		s->group = st.st_gid;
	}
	return 0;
fail:
	ward_view_free(v);
	return -1;
}

int ward_view_prepare_learn(const struct ward_policy *p, struct ward_view *v, ward_error_t *err)
{
	static const char *const skip[] = {"proc", "dev", "sys", "tmp", "run", "lost+found"};
	struct dirent *de;
	DIR *d;

	memset(v, 0, sizeof(*v));
	v->rootfs_fd = -1;
	v->tmp_size = p->memory_max;
	v->nosuid = true;
	v->proc_sys = true;
	v->learn = true;
	d = opendir("/");
	if (d == NULL)
		return ward_error_sys(err, "cannot list /");
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		struct stat st;
		bool skipped = name[0] == '.';
		size_t i;

		for (i = 0; i < ARRAY_SIZE(skip) && !skipped; i++)
			skipped = strcmp(name, skip[i]) == 0;
		/* Overlay options are comma separated: odd names are left out. */
		if (skipped || strpbrk(name, ",:= \\") ||
		    fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISLNK(st.st_mode)) {
			char target[4096];
			ssize_t n = readlinkat(dirfd(d), name, target, sizeof(target) - 1);

			if (n >= 0) {
				target[n] = '\0';
				push_link(v, name, target);
			}
		} else if (S_ISDIR(st.st_mode)) {
			struct ward_view_src *s = push_src(&v->sys, &v->n_sys);

			s->path = ward_xasprintf("/%s", name);
			s->is_dir = true;
			s->access = WARD_FS_READ | WARD_FS_WRITE | WARD_FS_EXEC;
			s->origin = ward_xstrdup("ward learn");
		}
	}
	closedir(d);
	/* The host's /tmp too, through its own overlay (ward_view_build covers
	 * /tmp with the new root, so it is reached through its tree). */
	{
		struct ward_view_src *s = push_src(&v->sys, &v->n_sys);

		s->path = ward_xstrdup("/tmp");
		s->is_dir = true;
		s->access = WARD_FS_READ | WARD_FS_WRITE | WARD_FS_EXEC;
		s->origin = ward_xstrdup("ward learn");
	}
	return 0;
}

/*
 * ward learn's program runs in a user namespace whose ids are an
 * unprivileged host range (0 inside = host_uid), as under ward run: host root
 * never runs the observed program, so nothing it reaches outside its view
 * (the device nodes bound into /dev, a host service's socket under
 * network.host) takes it for root.  To still show it the
 * host's files as their owners have them, each lower layer of the overlays is
 * an idmapped tree: host ids [0, count) appear as host_uid + id, which
 * the program's namespace maps back to the same id.  Its capabilities there
 * (CAP_DAC_OVERRIDE and friends, given by ward learn) then apply to those
 * files, and only through the overlays, whose writes land in the throw-away
 * upper layer.  Files of higher host ids show as the overflow id (nobody).
 */
static int learn_userns(uid_t host_uid, uint32_t count, ward_error_t *err)
{
	int fd = ward_ns_idmap_userns(0, host_uid, 0, host_uid, count, err);

	if (fd < 0)
		ward_error_wrap(err, "ward learn: the idmapping of its overlays");
	return fd;
}

int ward_view_learn_trees(struct ward_view *v, uid_t host_uid, uint32_t count, char **skipped,
			  ward_error_t *err)
{
	cleanup_close int userns = -1;
	cleanup_close int root = -1;
	size_t i;

	if (!v->learn)
		return 0;
	userns = learn_userns(host_uid, count, err);
	if (userns < 0)
		return -1;
	root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return ward_error_sys(err, "cannot open /");
	for (i = 0; i < v->n_sys; i++) {
		struct ward_view_src *s = &v->sys[i];
		struct mount_attr ma = {
			.attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
			.propagation = MS_PRIVATE, /* no peer of the host's (make_tree) */
			.userns_fd = (uint64_t)userns,
		};

		/* Not recursive: an overlay's lower layer stops at its
		 * filesystem anyway.  A top-level name that became a link
		 * since it was listed is not followed. */
		s->fd = open_tree(root, s->path + 1,
				  OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_SYMLINK_NOFOLLOW);
		if (s->fd < 0)
			return ward_error_sys(err, "ward learn: cannot clone the mount of %s",
					      s->path);
		if (mount_setattr(s->fd, "", AT_EMPTY_PATH, &ma, sizeof(ma)) < 0) {
			char *more;

			/* A filesystem that cannot be idmapped (NFS, FUSE...) at
			 * the top: left out of the view (fail closed), and said. */
			if (errno != EINVAL && errno != EOPNOTSUPP && errno != EPERM)
				return ward_error_sys(err,
						      "ward learn: cannot make an idmapped mount "
						      "of %s",
						      s->path);
			close(s->fd);
			s->fd = -1;
			more = ward_xasprintf("%s%s%s", *skipped ? *skipped : "",
					      *skipped ? " " : "", s->path);
			free(*skipped);
			*skipped = more;
		}
	}
	return 0;
}

int ward_view_idmap(struct ward_view *v, uid_t host_uid, gid_t host_gid, ward_error_t *err)
{
	size_t i, j;

	for (i = 0; i < v->n_grants; i++) {
		struct ward_view_src *s = &v->grants[i];

		/* Every grant is idmapped, read-only ones too: a granted path is
		 * meant to be usable, and the sandbox's host uid is nobody to a
		 * directory only its owner may enter (a home directory is 0700).
		 * The mapping makes the sandbox's user the owner, and only
		 * there.  Reuse a namespace made for the same owner. */
		for (j = 0; j < i; j++) {
			struct ward_view_src *o = &v->grants[j];

			if (o->idmap_fd >= 0 && o->owner == s->owner && o->group == s->group) {
				s->idmap_fd = fcntl(o->idmap_fd, F_DUPFD_CLOEXEC, 3);
				break;
			}
		}
		if (s->idmap_fd < 0)
			s->idmap_fd = ward_ns_idmap_userns(s->owner, host_uid, s->group, host_gid,
							   1, err);
		if (s->idmap_fd < 0)
			return ward_error_wrap(err, "fs.write=%s (%s)", s->path, s->origin);
	}
	return 0;
}

/* ---- in the sandbox's init process ---- */

static int mkdir_beneath(int rootfd, const char *rel, bool last_is_dir, const char *origin,
			 ward_error_t *err)
{
	cleanup_free char *copy = ward_xstrdup(rel);
	cleanup_close int cur = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	char *save = NULL, *comp, *next;

	comp = strtok_r(copy, "/", &save);
	while (comp) {
		struct stat st;
		int nfd;

		next = strtok_r(NULL, "/", &save);
		if (fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			int r;

			if (errno != ENOENT)
				return ward_error_sys(err, "%s: mount point /%s", origin, rel);
			if (next || last_is_dir) {
				r = mkdirat(cur, comp, 0755);
			} else {
				r = openat(cur, comp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC,
					   0644);
				if (r >= 0)
					close(r);
			}
			if (r < 0 && errno != EEXIST) {
				if (errno == EROFS)
					return ward_error_set(
						err, EROFS,
						"%s: cannot create the mount point /%s: "
						"its parent is read-only in the sandbox's "
						"view (create it in the root filesystem)",
						origin, rel);
				return ward_error_sys(err, "%s: cannot create the mount point /%s",
						      origin, rel);
			}
		} else if (S_ISLNK(st.st_mode)) {
			return ward_error_set(err, ELOOP,
					      "%s: /%s goes through a symbolic link inside the "
					      "sandbox's view",
					      origin, rel);
		}
		if (next == NULL)
			break;
		nfd = sys_openat2(cur, comp, O_PATH | O_DIRECTORY | O_CLOEXEC,
				  RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
		if (nfd < 0)
			return ward_error_sys(err, "%s: mount point /%s", origin, rel);
		close(cur);
		cur = nfd;
		comp = next;
	}
	return 0;
}

/* Clone the tree at src_fd (or src_path) into a detached mount and set its
 * attributes.  The supervisor does this for host sources before the sandbox's
 * mount namespace exists: open_tree(OPEN_TREE_CLONE) only clones mounts of
 * the caller's own namespace, while a detached tree may then be attached in
 * any namespace its holder is privileged over.
 *
 * Every copy is made private.  A copy of a shared mount (the host's "/" on
 * any systemd machine) is a peer of the original: a grant mounted beneath
 * /etc in the view would otherwise appear on the host's /etc as well, and
 * stay there after the sandbox is gone. */
static int make_tree(int src_fd, const char *src_path, uint64_t attr, int idmap_fd, bool recursive,
		     const char *origin, const char *what, ward_error_t *err)
{
	struct mount_attr ma = {0};
	unsigned tflags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC;
	int tree;

	if (recursive)
		tflags |= AT_RECURSIVE;
	if (src_fd >= 0)
		tree = open_tree(src_fd, "", tflags | AT_EMPTY_PATH);
	else
		tree = open_tree(AT_FDCWD, src_path, tflags);
	if (tree < 0)
		return ward_error_sys(err, "%s: cannot clone the mount of %s", origin, what);

	ma.attr_set = attr;
	ma.propagation = MS_PRIVATE;
	if (idmap_fd >= 0) {
		ma.attr_set |= MOUNT_ATTR_IDMAP;
		ma.userns_fd = (uint64_t)idmap_fd;
	}
	if (mount_setattr(tree, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &ma,
			  sizeof(ma)) < 0) {
		int saved = errno;

		close(tree);
		errno = saved;
		if (idmap_fd >= 0 && saved == EINVAL && recursive) {
			/* A submount's filesystem cannot be idmapped: map the top
			 * mount alone rather than fail. */
			return make_tree(src_fd, src_path, attr, idmap_fd, false, origin, what,
					 err);
		}
		if (idmap_fd >= 0)
			return ward_error_sys(err,
					      "%s: cannot make an idmapped mount of %s (its "
					      "filesystem may not support idmapped mounts)",
					      origin, what);
		return ward_error_sys(err, "%s: cannot set mount attributes on %s", origin, what);
	}
	return tree;
}

/* Attach a detached tree at NEWROOT/rel, creating the mount point. */
static int place_tree(int rootfd, int tree, const char *rel, bool is_dir, const char *origin,
		      ward_error_t *err)
{
	cleanup_close int dest = -1;

	if (mkdir_beneath(rootfd, rel, is_dir, origin, err) < 0)
		return -1;
	dest = sys_openat2(rootfd, rel, O_PATH | O_CLOEXEC | O_NOFOLLOW,
			   RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
	if (dest < 0)
		return ward_error_sys(err, "%s: mount point /%s", origin, rel);
	if (move_mount(tree, "", dest, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return ward_error_sys(err, "%s: cannot mount /%s", origin, rel);
	return 0;
}

/* Bind a path of the current namespace (init's own /dev, /proc) at rel. */
static int attach(int rootfd, const char *src_path, const char *rel, bool is_dir, uint64_t attr,
		  bool recursive, const char *origin, ward_error_t *err)
{
	cleanup_close int tree =
		make_tree(-1, src_path, attr, -1, recursive, origin, src_path, err);

	if (tree < 0)
		return -1;
	return place_tree(rootfd, tree, rel, is_dir, origin, err);
}

static uint64_t attrs_for(unsigned access, bool nosuid)
{
	uint64_t a = MOUNT_ATTR_NODEV;

	if (nosuid)
		a |= MOUNT_ATTR_NOSUID;
	if (!(access & WARD_FS_WRITE))
		a |= MOUNT_ATTR_RDONLY;
	if (!(access & WARD_FS_EXEC))
		a |= MOUNT_ATTR_NOEXEC;
	return a;
}

static bool exists_at(int dirfd, const char *rel)
{
	struct stat st;

	return fstatat(dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static int mount_tmpfs(const char *target, unsigned long flags, const char *data, ward_error_t *err)
{
	if (mount("tmpfs", target, "tmpfs", flags, data) < 0)
		return ward_error_sys(err, "cannot mount a tmpfs on %s", target + strlen(NEWROOT));
	return 0;
}

static const char *const dev_nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};

static int build_dev(int rootfd, const struct ward_view *v, ward_error_t *err)
{
	static const char *const links[][2] = {
		{"fd", "/proc/self/fd"},       {"stdin", "/proc/self/fd/0"},
		{"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"},
		{"ptmx", "pts/ptmx"},
	};
	cleanup_free char *shm_opts = NULL;
	cleanup_close int devfd = -1;
	size_t i;

	if (mkdirat(rootfd, "dev", 0755) < 0 && errno != EEXIST)
		return ward_error_sys(err, "cannot create /dev");
	if (mount_tmpfs(NEWROOT "/dev", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=64k",
			err) < 0)
		return -1;
	/* The nodes go into the tmpfs just mounted, which only init can reach:
	 * one descriptor of it, a file made with O_EXCL for each (so it is ours,
	 * not a link), and the node's bind moved onto it (six system calls a
	 * node instead of fourteen through place_tree's walk). */
	devfd = sys_openat2(rootfd, "dev", O_PATH | O_DIRECTORY | O_CLOEXEC,
			    RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
	if (devfd < 0)
		return ward_error_sys(err, "cannot open /dev");
	for (i = 0; i < ARRAY_SIZE(dev_nodes); i++) {
		char src[32];
		cleanup_close int tree = -1;
		int fd;

		snprintf(src, sizeof(src), "/dev/%s", dev_nodes[i]);
		tree = make_tree(-1, src, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, -1, false, "/dev",
				 src, err);
		if (tree < 0)
			return -1;
		fd = openat(devfd, dev_nodes[i], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0)
			return ward_error_sys(err, "/dev: mount point /dev/%s", dev_nodes[i]);
		close(fd);
		if (move_mount(tree, "", devfd, dev_nodes[i], MOVE_MOUNT_F_EMPTY_PATH) < 0)
			return ward_error_sys(err, "/dev: cannot mount /dev/%s", dev_nodes[i]);
	}
	if (mkdirat(rootfd, "dev/pts", 0755) < 0)
		return ward_error_sys(err, "cannot create /dev/pts");
	/* A private devpts instance: the sandbox cannot see or inject into the
	 * host's terminals. */
	if (mount("devpts", NEWROOT "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		  "newinstance,ptmxmode=0666,mode=0620") < 0)
		return ward_error_sys(err, "cannot mount devpts on /dev/pts");
	if (mkdirat(rootfd, "dev/shm", 01777) < 0)
		return ward_error_sys(err, "cannot create /dev/shm");
	shm_opts = ward_xasprintf("mode=1777,size=%llu", (unsigned long long)v->tmp_size);
	/* Scratch space: executable unless fs.scratch.noexec (policy.h). */
	if (mount_tmpfs(NEWROOT "/dev/shm", MS_NOSUID | MS_NODEV | (v->tmp_noexec ? MS_NOEXEC : 0),
			shm_opts, err) < 0)
		return -1;
	for (i = 0; i < ARRAY_SIZE(links); i++) {
		char rel[32];

		snprintf(rel, sizeof(rel), "dev/%s", links[i][0]);
		if (symlinkat(links[i][1], rootfd, rel) < 0)
			return ward_error_sys(err, "cannot create /dev/%s", links[i][0]);
	}

	for (i = 0; i < v->n_devices; i++) {
		const struct ward_view_src *s = &v->devices[i];
		bool dup = false;
		size_t j;

		for (j = 0; j < ARRAY_SIZE(dev_nodes); j++)
			if (strcmp(s->path + 5, dev_nodes[j]) == 0)
				dup = true;
		if (dup)
			continue;
		if (place_tree(rootfd, s->fd, s->path + 1, false, s->origin, err) < 0)
			return -1;
	}
	return 0;
}

/* Docker's lists, which runc, crun and podman share. */
static const char *const proc_masked_files[] = {
	"kcore", "keys", "timer_list", "sched_debug", "latency_stats", "timer_stats",
};
static const char *const proc_masked_dirs[] = {"acpi", "scsi", "asound"};
static const char *const proc_readonly[] = {"sys", "sysrq-trigger", "irq", "bus", "fs"};
static const char *const sys_masked_dirs[] = {
	"firmware", "devices/virtual/powercap", "kernel/security", "kernel/debug", "fs/bpf",
};

static int build_proc(int rootfd, const struct ward_view *v, ward_error_t *err)
{
	const uint64_t ro =
		MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
	char rel[64], abs[96];
	cleanup_close int net_tree = -1;
	size_t i;

	if (mkdirat(rootfd, "proc", 0555) < 0)
		return ward_error_sys(err, "cannot create /proc");
	/* proc of the sandbox's pid namespace: it shows only the sandbox. */
	if (mount("proc", NEWROOT "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return ward_error_sys(err, "cannot mount /proc");
	/*
	 * security.admin.  The kernel lets a user namespace mount a procfs
	 * only if one is already "fully visible" in its mount namespace: not
	 * covered, beneath any mount locked from it, except on empty
	 * directories (mount_too_revealing).  The sandbox's /proc has masked
	 * files and read-only directories, so an engine inside could never
	 * mount the /proc of its containers.  A second procfs of the same pid
	 * namespace, with no mount beneath it, fulfils the rule; it is put
	 * in a directory that a read-only, empty tmpfs then covers, so the
	 * program cannot reach it (the covering mount is locked in the
	 * program's namespace).  What this gives up: a procfs the program
	 * mounts for its own pid namespace is unmasked (docs/engines.md).
	 */
	if (v->nest_proc) {
		if (mkdirat(rootfd, "dev/.ward-nest", 0700) < 0 ||
		    mkdirat(rootfd, "dev/.ward-nest/proc", 0555) < 0)
			return ward_error_sys(err, "security.admin: cannot create /dev/.ward-nest");
		if (mount("proc", NEWROOT "/dev/.ward-nest/proc", "proc",
			  MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
			return ward_error_sys(err, "security.admin: cannot mount the nested /proc");
		if (mount_tmpfs(NEWROOT "/dev/.ward-nest",
				MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0000,size=4k",
				err) < 0)
			return -1;
	}
	for (i = 0; i < ARRAY_SIZE(proc_masked_files); i++) {
		snprintf(rel, sizeof(rel), "proc/%s", proc_masked_files[i]);
		if (!exists_at(rootfd, rel))
			continue;
		if (attach(rootfd, "/dev/null", rel, false, ro, false, "masked /proc", err) < 0)
			return -1;
	}
	for (i = 0; i < ARRAY_SIZE(proc_masked_dirs); i++) {
		snprintf(rel, sizeof(rel), "proc/%s", proc_masked_dirs[i]);
		snprintf(abs, sizeof(abs), NEWROOT "/%s", rel);
		if (!exists_at(rootfd, rel))
			continue;
		if (mount_tmpfs(abs, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
				"mode=0555,size=4k", err) < 0)
			return -1;
	}
	/* network.admin: a writable clone of /proc/sys/net, taken before
	 * /proc/sys turns read-only and placed over it after (ward_view). */
	if (v->proc_net_rw && exists_at(rootfd, "proc/sys/net")) {
		net_tree = make_tree(-1, NEWROOT "/proc/sys/net",
				     MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, -1,
				     false, "network.admin's /proc/sys/net", "/proc/sys/net", err);
		if (net_tree < 0)
			return -1;
	}
	for (i = 0; i < ARRAY_SIZE(proc_readonly); i++) {
		snprintf(rel, sizeof(rel), "proc/%s", proc_readonly[i]);
		snprintf(abs, sizeof(abs), NEWROOT "/%s", rel);
		if (!exists_at(rootfd, rel))
			continue;
		if (attach(rootfd, abs, rel, false, ro, true, "read-only /proc", err) < 0)
			return -1;
	}
	if (net_tree >= 0 && place_tree(rootfd, net_tree, "proc/sys/net", true,
					"network.admin's /proc/sys/net", err) < 0)
		return -1;
	return 0;
}

static int build_sys(int rootfd, bool sys_bind, bool rootless, ward_error_t *err)
{
	char rel[64], abs[96];
	size_t i;

	if (mkdirat(rootfd, "sys", 0555) < 0)
		return ward_error_sys(err, "cannot create /sys");
	if (!sys_bind && mount("sysfs", NEWROOT "/sys", "sysfs",
			       MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		/* Inside another sandbox (ward inside ward), the kernel refuses
		 * a new sysfs because the outer /sys has masked directories
		 * (mount_too_revealing): bind that one, masks and all. */
		if (!rootless || errno != EPERM)
			return ward_error_sys(err, "cannot mount a read-only /sys");
		sys_bind = true;
	}
	if (sys_bind) {
		/* A sysfs belongs to a network namespace: without one of its
		 * own, a rootless sandbox binds the host's, read-only. */
		if (attach(rootfd, "/sys", "sys", true,
			   MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
				   MOUNT_ATTR_NOEXEC,
			   true, "/sys", err) < 0)
			return -1;
	}
	for (i = 0; i < ARRAY_SIZE(sys_masked_dirs); i++) {
		snprintf(rel, sizeof(rel), "sys/%s", sys_masked_dirs[i]);
		snprintf(abs, sizeof(abs), NEWROOT "/%s", rel);
		if (!exists_at(rootfd, rel))
			continue;
		if (mount_tmpfs(abs, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
				"mode=0555,size=4k", err) < 0)
			return -1;
	}
	return 0;
}

/* ward learn: each host directory through an overlay whose upper layer is a
 * tmpfs that disappears with the sandbox.  The tmpfs is mounted inside the
 * new root only while the overlays are made, then detached (the overlays
 * keep it alive) so the program cannot see it.  The lower layer is the
 * idmapped tree made by ward_view_learn_trees(), reached through its
 * descriptor. */
/* Rootless learn: make PATH's directories below the overlay root of s in
 * its upper layer (see learn_paths in mount.h).  Each gets the host
 * directory's mode and, where init's user namespace maps them, its owner
 * and group (the overflow id, as the view shows an unmapped owner, is
 * mapped when the subordinate ranges are); a write bit of an owner or
 * group that cannot be given is dropped, so that the directory is no more
 * writable than on the host.  Best effort: a write beneath a directory
 * not made here fails as before. */
static void learn_precreate(const struct ward_view_src *s, const char *upper, const char *path)
{
	size_t n = strlen(s->path);
	cleanup_free char *rel = NULL;
	char *p;

	if (path == NULL || strncmp(path, s->path, n) != 0 || path[n] != '/')
		return;
	rel = ward_xstrdup(path + n + 1);
	for (p = rel;;) {
		char *slash = strchr(p, '/');
		cleanup_free char *dst = NULL;
		struct stat st;
		mode_t mode;

		if (slash)
			*slash = '\0';
		if (*p == '\0' || strcmp(p, ".") == 0 || strcmp(p, "..") == 0)
			return;
		if (fstatat(s->fd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			return;
		dst = ward_xasprintf("%s/%s", upper, rel);
		if (mkdir(dst, 0700) < 0 && errno != EEXIST)
			return;
		mode = st.st_mode & 07777;
		if (chown(dst, st.st_uid, (gid_t)-1) < 0)
			mode &= ~(mode_t)S_IWUSR;
		if (chown(dst, (uid_t)-1, st.st_gid) < 0)
			mode &= ~(mode_t)S_IWGRP;
		(void)chmod(dst, mode);
		if (slash == NULL)
			return;
		*slash = '/';
		p = slash + 1;
	}
}

static int learn_overlay(int rootfd, const struct ward_view_src *s, const struct ward_view *v,
			 ward_error_t *err)
{
	bool v_rootless = v->rootless;
	const char *name = s->path + 1;
	cleanup_free char *u = ward_xasprintf(NEWROOT "/.ward-learn/u-%s", name);
	cleanup_free char *w = ward_xasprintf(NEWROOT "/.ward-learn/w-%s", name);
	cleanup_free char *target = ward_xasprintf(NEWROOT "/%s", name);
	cleanup_free char *data = NULL;
	struct stat st;

	if (s->fd < 0)
		return 0; /* left out: its filesystem cannot be idmapped */
	if (mkdir(u, 0755) < 0 || mkdir(w, 0700) < 0 ||
	    (mkdirat(rootfd, name, 0755) < 0 && errno != EEXIST))
		return ward_error_sys(err, "ward learn: overlay directories for /%s", name);
	/* The merged root directory shows the upper one's owner and mode:
	 * give it the host directory's, as the idmapped tree shows them. */
	/* Rootless, an owner the user namespace does not map (host root)
	 * cannot be given: the directory stays the user's. */
	if (fstat(s->fd, &st) < 0 ||
	    (chown(u, st.st_uid, st.st_gid) < 0 && !(v_rootless && errno == EINVAL)) ||
	    chmod(u, st.st_mode & 07777) < 0)
		return ward_error_sys(err, "ward learn: the overlay directory of /%s", name);
	if (v_rootless) {
		size_t i;

		for (i = 0; i < ARRAY_SIZE(v->learn_paths); i++)
			learn_precreate(s, u, v->learn_paths[i]);
	}
	/* In a user namespace overlayfs may not use trusted.* attributes:
	 * userxattr keeps its own in user.* (tmpfs has them since 6.6). */
	data = ward_xasprintf("lowerdir=/proc/self/fd/%d,upperdir=%s,workdir=%s%s", s->fd, u, w,
			      v_rootless ? ",userxattr" : "");
	if (mount("overlay", target, "overlay", MS_NOSUID | MS_NODEV, data) < 0) {
		/* Rootless: overlayfs clones its lower layer, which the kernel
		 * refuses for a directory with mounts beneath it that the user
		 * namespace may not reveal (locked).  Left out, and said, as
		 * root mode does for what cannot be idmapped. */
		if (v_rootless && (errno == EINVAL || errno == EPERM)) {
			fprintf(stderr,
				"ward: warning: ward learn: /%s is left out of the view (mounts "
				"beneath it cannot be overlaid in a user namespace)\n",
				name);
			(void)unlinkat(rootfd, name, AT_REMOVEDIR);
			return 0;
		}
		return ward_error_sys(err, "ward learn: cannot mount an overlay on /%s", name);
	}
	return 0;
}

static int build_learn_overlays(int rootfd, const struct ward_view *v, ward_error_t *err)
{
	cleanup_free char *opts =
		ward_xasprintf("mode=0700,size=%llu", (unsigned long long)v->tmp_size);
	size_t i;

	if (mkdirat(rootfd, ".ward-learn", 0700) < 0)
		return ward_error_sys(err, "ward learn: cannot create the overlay area");
	if (mount("tmpfs", NEWROOT "/.ward-learn", "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
		return ward_error_sys(err, "ward learn: cannot mount the overlay tmpfs");
	for (i = 0; i < v->n_sys; i++)
		if (learn_overlay(rootfd, &v->sys[i], v, err) < 0)
			return -1;
	if (umount2(NEWROOT "/.ward-learn", MNT_DETACH) < 0 ||
	    unlinkat(rootfd, ".ward-learn", AT_REMOVEDIR) < 0)
		return ward_error_sys(err, "ward learn: cannot hide the overlay area");
	return 0;
}

static int detach_one(struct ward_view_src *s, uint64_t attr, bool recursive, ward_error_t *err)
{
	int tree = make_tree(s->fd, NULL, attr, s->idmap_fd, recursive, s->origin, s->path, err);

	/* A filesystem that cannot be idmapped (NFS, FUSE, an old tmpfs) can
	 * still be granted read-only: the sandbox then reads it with the
	 * permissions of "others".  A write grant cannot work that way. */
	if (tree < 0 && s->idmap_fd >= 0 && !(s->access & WARD_FS_WRITE)) {
		ward_error_free(err);
		close(s->idmap_fd);
		s->idmap_fd = -1;
		tree = make_tree(s->fd, NULL, attr, -1, recursive, s->origin, s->path, err);
	}
	if (tree < 0)
		return -1;
	close(s->fd);
	s->fd = tree;
	return 0;
}

int ward_view_detach(struct ward_view *v, ward_error_t *err)
{
	size_t i;

	for (i = 0; i < v->n_sys; i++)
		if (!v->learn &&
		    detach_one(&v->sys[i], attrs_for(WARD_FS_READ | WARD_FS_EXEC, v->nosuid), true,
			       err) < 0)
			return -1;
	for (i = 0; i < v->n_grants; i++)
		if (detach_one(&v->grants[i], attrs_for(v->grants[i].access, true), true, err) < 0)
			return -1;
	for (i = 0; i < v->n_devices; i++)
		if (detach_one(&v->devices[i], MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, false, err) <
		    0)
			return -1;
	return 0;
}

int ward_view_add_file(struct ward_view *v, const char *host_path, const char *inside,
		       ward_error_t *err)
{
	struct ward_view_src *s = push_src(&v->files, &v->n_files);
	struct stat st;
	int tree;

	s->fd = -1;
	s->idmap_fd = -1;
	s->path = ward_xstrdup(inside);
	s->origin = ward_xasprintf("the sandbox's %s", inside);
	if (v->rootless) {
		/* Detached later, by init (ward_view_rootless_detach). */
		s->fd = open_host_path(s->origin, host_path, "ward", &st, err);
		return s->fd < 0 ? -1 : 0;
	}
	tree = make_tree(-1, host_path,
			 MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
				 MOUNT_ATTR_NOEXEC,
			 -1, false, s->origin, host_path, err);
	if (tree < 0)
		return -1;
	s->fd = tree;
	return 0;
}

/* Rootless: the same file as the supervisor's descriptor, opened again in
 * this mount namespace by its path, links refused. */
static int reopen_same(struct ward_view_src *s, ward_error_t *err)
{
	char link[64], path[4096];
	struct stat was, now;
	ssize_t n;
	int fd;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", s->fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0 || fstat(s->fd, &was) < 0)
		return ward_error_sys(err, "%s: cannot find %s again", s->origin, s->path);
	path[n] = '\0';
	fd = sys_openat2(AT_FDCWD, path, O_PATH | O_CLOEXEC | O_NOFOLLOW,
			 RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
	if (fd < 0)
		return ward_error_sys(err, "%s: cannot open %s again in the sandbox's namespace",
				      s->origin, path);
	if (fstat(fd, &now) < 0 || now.st_dev != was.st_dev || now.st_ino != was.st_ino ||
	    (now.st_mode & S_IFMT) != (was.st_mode & S_IFMT)) {
		close(fd);
		return ward_error_set(err, ESTALE,
				      "%s: %s was replaced while the sandbox was being made; "
				      "try again",
				      s->origin, path);
	}
	close(s->fd);
	s->fd = fd;
	return 0;
}

int ward_view_rootless_detach(struct ward_view *v, ward_error_t *err)
{
	struct ward_view_src *lists[] = {v->sys, v->grants, v->devices, v->files};
	size_t counts[] = {v->n_sys, v->n_grants, v->n_devices, v->n_files};
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(lists); i++) {
		for (j = 0; j < counts[i]; j++) {
			struct ward_view_src *s = &lists[i][j];

			if (v->learn && i == 0) {
				/* An overlay's lower layer: the directory of this
				 * namespace, which it reaches by descriptor. */
				s->fd = open(s->path,
					     O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				continue;
			}
			if (s->fd >= 0 && reopen_same(s, err) < 0)
				return -1;
		}
	}
	if (ward_view_detach(v, err) < 0)
		return -1;
	for (i = 0; i < v->n_files; i++) {
		struct ward_view_src *s = &v->files[i];
		int tree = make_tree(s->fd, NULL,
				     MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
					     MOUNT_ATTR_NOEXEC,
				     -1, false, s->origin, s->path, err);

		if (tree < 0)
			return -1;
		close(s->fd);
		s->fd = tree;
	}
	return 0;
}

/*
 * Rootless: ward's state directory (the broker's control socket, the seccomp
 * cache, extracted bundles, spaces) belongs to the user, and so does every
 * sandbox of the user's (its uid is the user's): the directory's owner and
 * mode keep no sandbox out.  Where a grant (fs.read or fs.write of the home,
 * say) or learn's overlay of /home would show it, an empty read-only tmpfs
 * covers it; the mount is locked beneath the program's user namespace.  The
 * path is found in the view without following links; a link on the way is
 * refused (the view would show the directory elsewhere).
 */
static int hide_state(int rootfd, const char *path, ward_error_t *err)
{
	cleanup_close int fd = -1;
	char target[64];

	if (path == NULL || path[0] != '/' || path[1] == '\0')
		return 0;
	fd = sys_openat2(rootfd, path + 1, O_PATH | O_DIRECTORY | O_CLOEXEC,
			 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
	if (fd < 0) {
		if (errno == ENOENT || errno == EACCES)
			return 0; /* not in the view */
		return ward_error_sys(err,
				      "cannot hide ward's state directory %s in the sandbox's view "
				      "(choose another with --state-dir)",
				      path);
	}
	snprintf(target, sizeof(target), "/proc/self/fd/%d", fd);
	if (mount("ward-state", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=0000,size=4k") < 0)
		return ward_error_sys(err, "cannot hide ward's state directory %s in the view",
				      path);
	return 0;
}

int ward_view_build(const struct ward_view *v, ward_error_t *err)
{
	cleanup_close int rootfd = -1;
	cleanup_free char *tmp_opts = NULL;
	size_t i;

	/* Nothing done from here on may propagate back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return ward_error_sys(err, "cannot make the mount namespace private");
	if (mount("ward", NEWROOT, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") < 0)
		return ward_error_sys(err, "cannot mount the sandbox's root tmpfs");
	rootfd = open(NEWROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return ward_error_sys(err, "cannot open the new root");

	for (i = 0; i + 1 < v->n_links; i += 2)
		if (symlinkat(v->links[i + 1], rootfd, v->links[i]) < 0)
			return ward_error_sys(err, "cannot create the link /%s", v->links[i]);

	if (v->learn) {
		if (build_learn_overlays(rootfd, v, err) < 0)
			return -1;
	} else {
		for (i = 0; i < v->n_sys; i++) {
			const struct ward_view_src *s = &v->sys[i];

			if (place_tree(rootfd, s->fd, s->path + 1, s->is_dir, s->origin, err) < 0)
				return -1;
		}
	}

	if (!v->learn) {
		/* Scratch space: executable unless fs.scratch.noexec (policy.h). */
		unsigned long scratch = v->tmp_noexec ? MS_NOEXEC : 0;

		if (mkdirat(rootfd, "tmp", 01777) < 0)
			return ward_error_sys(err, "cannot create /tmp");
		tmp_opts = ward_xasprintf("mode=1777,size=%llu", (unsigned long long)v->tmp_size);
		if (mount_tmpfs(NEWROOT "/tmp", MS_NOSUID | MS_NODEV | scratch, tmp_opts, err) < 0)
			return -1;
	}

	if (build_dev(rootfd, v, err) < 0 || build_proc(rootfd, v, err) < 0)
		return -1;
	if (v->proc_sys && build_sys(rootfd, v->sys_bind, v->rootless, err) < 0)
		return -1;

	/* Grants are sorted by path: a parent is mounted before its children. */
	for (i = 0; i < v->n_grants; i++) {
		const struct ward_view_src *s = &v->grants[i];

		if (place_tree(rootfd, s->fd, s->path + 1, s->is_dir, s->origin, err) < 0)
			return -1;
	}

	/* Generated files cover the view's own; the file must be there (a
	 * regular file, not a link that could lead anywhere). */
	for (i = 0; i < v->n_files; i++) {
		const struct ward_view_src *s = &v->files[i];
		struct stat st;

		if (fstatat(rootfd, s->path + 1, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			return ward_error_set(err, ENOENT,
					      "%s: the view has no regular file %s to cover (with "
					      "--rootfs, create an empty one in it)",
					      s->origin, s->path);
		if (place_tree(rootfd, s->fd, s->path + 1, false, s->origin, err) < 0)
			return -1;
	}

	for (i = 0; i < ARRAY_SIZE(v->hide); i++)
		if (v->rootless && hide_state(rootfd, v->hide[i], err) < 0)
			return -1;

	/* /dev holds only what was placed there. */
	{
		struct mount_attr ma = {.attr_set = MOUNT_ATTR_RDONLY};

		if (mount_setattr(AT_FDCWD, NEWROOT "/dev", 0, &ma, sizeof(ma)) < 0)
			return ward_error_sys(err, "cannot make /dev read-only");
	}

	/* pivot_root(".", ".") stacks the old root under the new one; detaching
	 * "." then removes every host mount from this namespace. */
	if (chdir(NEWROOT) < 0)
		return ward_error_sys(err, "chdir to the new root");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return ward_error_sys(err, "pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		return ward_error_sys(err, "cannot detach the host's root");
	if (chdir("/") < 0)
		return ward_error_sys(err, "chdir /");
	{
		struct mount_attr ma = {.attr_set = MOUNT_ATTR_RDONLY};

		if (mount_setattr(AT_FDCWD, "/", 0, &ma, sizeof(ma)) < 0)
			return ward_error_sys(err, "cannot make the new root read-only");
	}
	return 0;
}

/* The masked (masked != 0) or read-only paths of /proc and /sys, as
 * absolute paths, for `ward export`: the lists build_proc and build_sys
 * apply.  A NULL-terminated array; free each string and the array. */
char **ward_view_special_paths(bool masked)
{
	char **out = ward_xcalloc(32, sizeof(*out));
	size_t n = 0, i;

	if (masked) {
		for (i = 0; i < ARRAY_SIZE(proc_masked_files); i++)
			out[n++] = ward_xasprintf("/proc/%s", proc_masked_files[i]);
		for (i = 0; i < ARRAY_SIZE(proc_masked_dirs); i++)
			out[n++] = ward_xasprintf("/proc/%s", proc_masked_dirs[i]);
		for (i = 0; i < ARRAY_SIZE(sys_masked_dirs); i++)
			out[n++] = ward_xasprintf("/sys/%s", sys_masked_dirs[i]);
	} else {
		for (i = 0; i < ARRAY_SIZE(proc_readonly); i++)
			out[n++] = ward_xasprintf("/proc/%s", proc_readonly[i]);
	}
	return out;
}
