// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The container's filesystem, built by its init in a fresh mount namespace
 * (which still sees the host until pivot_root).
 *
 * prepare: propagation of "/" (rootfsPropagation, default rslave as runc:
 *   host mounts still reach the container, the container's never reach
 *   the host), the rootfs bound onto itself, every entry of "mounts" in
 *   order, /sys/fs/cgroup, then /dev (the default devices, linux.devices,
 *   the usual symlinks).
 * pivot: pivot_root(".", ".") and a lazy unmount of the old root (made a
 *   slave first, so the unmount does not propagate to the host); or, with
 *   --no-pivot, MS_MOVE + chroot.
 * finish: sysctls, readonlyPaths, maskedPaths, then root.readonly.
 *
 * Destinations are resolved with openat2(RESOLVE_IN_ROOT) beneath the
 * rootfs, creating what is missing from the resolved parent's descriptor,
 * and mounts are attached to that descriptor (through /proc/self/fd or
 * move_mount): a symbolic link in an image can never send a mount outside
 * the rootfs.  Bind mounts use the new mount API so their attributes
 * (ro, nosuid, nodev, noexec, atime) are set on the detached tree,
 * recursively for rbind, before it becomes visible.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../ns.h"
#include "../util.h"
#include "internal.h"
#include "log.h"

static int rootfd = -1;

#define IGNORE(x) ((void)!(x))

static int open_in_root_at(int root, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};

	while (*path == '/')
		path++;
	if (*path == '\0')
		path = ".";
	return (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
}

static int open_in_root(const char *path, int flags)
{
	return open_in_root_at(rootfd, path, flags);
}

/* Make PATH (and its parents) beneath root; return an O_PATH fd on it. */
static int make_beneath_at(int root, const char *path, bool file, ward_error_t *err)
{
	cleanup_free char *copy = ward_xstrdup(path);
	cleanup_free char *prefix = ward_xcalloc(1, strlen(path) + 2);
	char *comp, *save = NULL, *next;
	int cur = open_in_root_at(root, "/", O_PATH | O_DIRECTORY);

	if (cur < 0)
		return ward_error_sys(err, "cannot open the rootfs");
	for (comp = strtok_r(copy, "/", &save); comp; comp = next) {
		int fd;

		next = strtok_r(NULL, "/", &save);
		strcat(prefix, "/");
		strcat(prefix, comp);
		fd = open_in_root_at(root, prefix, O_PATH);
		if (fd < 0 && errno == ENOENT) {
			if (next == NULL && file) {
				int f = openat(cur, comp,
					       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
					       0644);

				if (f >= 0)
					close(f);
			} else {
				(void)mkdirat(cur, comp, 0755);
			}
			fd = open_in_root_at(root, prefix, O_PATH);
		}
		if (fd < 0) {
			int e = errno;

			close(cur);
			errno = e;
			return ward_error_sys(err, "cannot create %s in the rootfs", prefix);
		}
		close(cur);
		cur = fd;
	}
	return cur;
}

static int make_beneath(const char *path, bool file, ward_error_t *err)
{
	return make_beneath_at(rootfd, path, file, err);
}

static char *fd_path(int fd)
{
	return ward_xasprintf("/proc/self/fd/%d", fd);
}

static uint64_t attr_from_flags(unsigned long ms, uint64_t *atime)
{
	uint64_t a = 0;

	if (ms & MS_RDONLY)
		a |= MOUNT_ATTR_RDONLY;
	if (ms & MS_NOSUID)
		a |= MOUNT_ATTR_NOSUID;
	if (ms & MS_NODEV)
		a |= MOUNT_ATTR_NODEV;
	if (ms & MS_NOEXEC)
		a |= MOUNT_ATTR_NOEXEC;
	if (ms & MS_NODIRATIME)
		a |= MOUNT_ATTR_NODIRATIME;
	if (ms & MS_NOSYMFOLLOW)
		a |= MOUNT_ATTR_NOSYMFOLLOW;
	*atime = (ms & MS_NOATIME)	 ? MOUNT_ATTR_NOATIME
		 : (ms & MS_STRICTATIME) ? MOUNT_ATTR_STRICTATIME
		 : (ms & MS_RELATIME)	 ? MOUNT_ATTR_RELATIME
					 : (uint64_t)-1;
	return a;
}

/* Bind src onto the object dest refers to, with attributes. */
static int bind_tree(const char *src, int src_fd, int dest, unsigned long set, unsigned long clear,
		     bool recursive, unsigned long propagation, ward_error_t *err)
{
	struct mount_attr ma;
	uint64_t atime = (uint64_t)-1, dummy;
	int tree;

	tree = src_fd >= 0 ? open_tree(src_fd, "",
				       OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH |
					       (recursive ? AT_RECURSIVE : 0))
			   : open_tree(AT_FDCWD, src,
				       OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
					       (recursive ? AT_RECURSIVE : 0));
	if (tree < 0)
		return ward_error_sys(err, "cannot bind %s", src);
	memset(&ma, 0, sizeof(ma));
	ma.attr_set = attr_from_flags(set, &atime);
	ma.attr_clr = attr_from_flags(clear, &dummy);
	if (atime != (uint64_t)-1) {
		ma.attr_set |= atime;
		ma.attr_clr |= MOUNT_ATTR__ATIME;
	}
	if ((ma.attr_set || ma.attr_clr) &&
	    mount_setattr(tree, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &ma,
			  sizeof(ma)) < 0) {
		int e = errno;

		close(tree);
		errno = e;
		return ward_error_sys(err, "cannot set the attributes of the bind mount of %s",
				      src);
	}
	if (move_mount(tree, "", dest, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
		int e = errno;

		close(tree);
		errno = e;
		return ward_error_sys(err, "cannot attach the bind mount of %s", src);
	}
	close(tree);
	(void)propagation;
	return 0;
}

static int set_propagation(const char *dest, unsigned long prop, ward_error_t *err)
{
	int fd;
	cleanup_free char *p = NULL;

	if (prop == 0)
		return 0;
	fd = open_in_root(dest, O_PATH);
	if (fd < 0)
		return ward_error_sys(err, "cannot open %s in the rootfs", dest);
	p = fd_path(fd);
	if (mount(NULL, p, NULL, prop, NULL) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return ward_error_sys(err, "cannot set the propagation of %s", dest);
	}
	close(fd);
	return 0;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ---- in the runtime: detached trees (under the entitlements) ---- */

static int apply_recursive(int tree, const char *destination, const struct ward_oci_mount_flags *f,
			   ward_error_t *err);

static bool host_id(const struct ward_oci_idmap *m, size_t n, uint32_t id, uint32_t *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (id >= m[i].container_id && id - m[i].container_id < m[i].size) {
			*out = m[i].host_id + (id - m[i].container_id);
			return true;
		}
	return false;
}

/* A detached copy of the tree at src_fd with its final attributes.  The
 * propagation is set here (the copy of a shared mount would otherwise be
 * a peer of the host's and carry the container's mounts back to it). */
static int runtime_tree(int src_fd, bool recursive, unsigned long set, unsigned long clear,
			uint64_t propagation, int idmap_fd, const char *what, ward_error_t *err)
{
	struct mount_attr ma;
	uint64_t atime = (uint64_t)-1, dummy;
	int tree = open_tree(src_fd, "",
			     OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH |
				     (recursive ? AT_RECURSIVE : 0));

	if (tree < 0)
		return ward_error_sys(err, "cannot clone the mount of %s", what);
	memset(&ma, 0, sizeof(ma));
	ma.attr_set = attr_from_flags(set, &atime);
	ma.attr_clr = attr_from_flags(clear, &dummy);
	if (atime != (uint64_t)-1) {
		ma.attr_set |= atime;
		ma.attr_clr |= MOUNT_ATTR__ATIME;
	}
	ma.propagation = propagation;
	if (idmap_fd >= 0) {
		ma.attr_set |= MOUNT_ATTR_IDMAP;
		ma.userns_fd = (uint64_t)idmap_fd;
	}
	if (mount_setattr(tree, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &ma,
			  sizeof(ma)) < 0) {
		int e = errno;

		close(tree);
		/* A submount's filesystem cannot be idmapped: the top alone. */
		if (idmap_fd >= 0 && e == EINVAL && recursive)
			return runtime_tree(src_fd, false, set, clear, propagation, idmap_fd, what,
					    err);
		errno = e;
		return ward_error_sys(err,
				      idmap_fd >= 0 ? "cannot make an idmapped mount of %s (does "
						      "its filesystem support idmapped mounts?)"
						    : "cannot set the mount attributes of %s",
				      what);
	}
	return tree;
}

static int grant_idmap(const struct oci_container *c, int src_fd, ward_error_t *err)
{
	const struct ward_oci_config *cfg = c->cfg;
	uint32_t uid, gid;
	struct stat st;

	if (fstat(src_fd, &st) < 0)
		return ward_error_sys(err, "fstat");
	if (!host_id(cfg->uid_maps, cfg->n_uid_maps, cfg->process.uid, &uid) ||
	    !host_id(cfg->gid_maps, cfg->n_gid_maps, cfg->process.gid, &gid))
		return ward_error_set(err, EINVAL,
				      "process.user %u:%u is not mapped by the user namespace",
				      (unsigned)cfg->process.uid, (unsigned)cfg->process.gid);
	/* The directory's owner appears as the container's user, there only. */
	return ward_ns_idmap_userns(st.st_uid, uid, st.st_gid, gid, 1, err);
}

/* Is dest at or below an earlier mount's destination?  Then the init makes
 * it, inside that mount. */
static bool inside_earlier_mount(const struct ward_oci_config *cfg, size_t i)
{
	cleanup_free char *d = ward_path_normalize(cfg->mounts[i].destination);
	size_t j;

	for (j = 0; d && j < i; j++) {
		cleanup_free char *e = ward_path_normalize(cfg->mounts[j].destination);
		size_t n = e ? strlen(e) : 0;

		if (e && strncmp(d, e, n) == 0 && (d[n] == '/' || (d[n] == '\0' && n > 1)))
			return true;
	}
	return false;
}

/*
 * The mount points the rootfs lacks, made by the runtime (host root) in the
 * tree it checked, beneath it (RESOLVE_IN_ROOT), as runc does without a
 * user namespace: the container's root in the user namespace ward adds is
 * nobody to the image's root-owned directories.  Those inside an earlier
 * mount (/dev/pts in the /dev tmpfs) are made by the init, in that mount.
 */
static int make_mountpoints(struct oci_container *c, int root, ward_error_t *err)
{
	const struct ward_oci_config *cfg = c->cfg;
	size_t i;

	for (i = 0; i < cfg->n_mounts; i++) {
		bool file = i < c->ent.n_srcs && c->ent.srcs[i].fd >= 0 && !c->ent.srcs[i].is_dir;
		int fd;

		if (inside_earlier_mount(cfg, i))
			continue;
		fd = make_beneath_at(root, cfg->mounts[i].destination, file, err);
		if (fd < 0)
			return ward_error_wrap(err, "mounts[%zu]", i);
		close(fd);
	}
	return 0;
}

int ward_oci_rootfs_trees(struct oci_container *c, ward_error_t *err)
{
	const struct oci_entitlements *e = &c->ent;
	const struct ward_oci_config *cfg = c->cfg;
	size_t i;

	c->trees = ward_xcalloc(cfg->n_mounts + 1, sizeof(int));
	c->n_trees = cfg->n_mounts;
	for (i = 0; i < c->n_trees; i++)
		c->trees[i] = -1;
	if (e->root.fd >= 0) {
		cleanup_close int idmap =
			e->root.kind == OCI_SRC_GRANT ? grant_idmap(c, e->root.fd, err) : -1;

		if (e->root.kind == OCI_SRC_GRANT && idmap < 0)
			return ward_error_wrap(err, "root.path");
		/* nodev: the devices the container uses are the ones bound in
		 * its /dev; a node shipped in a bundle or an image (the host's
		 * disk, made by whoever extracted it) opens nothing.  nosuid
		 * unless process.setuid.  Read-only from the start when only
		 * fs.read grants the root.  rslave, as runc: the host's later
		 * mounts still reach the container, the container's never
		 * reach the host. */
		unsigned long set = MS_NODEV | (e->policy.setuid ? 0 : MS_NOSUID);

		if (e->root.kind == OCI_SRC_GRANT && !(e->root.access & WARD_FS_WRITE))
			set |= MS_RDONLY;
		c->root_tree =
			runtime_tree(e->root.fd, true, set, 0, MS_SLAVE, idmap, "root.path", err);
		if (c->root_tree < 0)
			return -1;
		/* Through the checked descriptor, not the (maybe idmapped) tree;
		 * never in a granted host directory (the init makes what the
		 * grant lets it make, as the directory's owner). */
		if (e->root.kind != OCI_SRC_GRANT && make_mountpoints(c, e->root.fd, err) < 0)
			return -1;
	}
	for (i = 0; i < e->n_srcs && i < cfg->n_mounts; i++) {
		const struct oci_src *s = &e->srcs[i];
		struct ward_oci_mount_flags f;
		cleanup_close int idmap = -1;
		cleanup_free char *what = NULL;

		if (s->fd < 0)
			continue;
		what = ward_escape(cfg->mounts[i].destination, 256);
		if (s->kind == OCI_SRC_GRANT && (idmap = grant_idmap(c, s->fd, err)) < 0)
			return ward_error_wrap(err, "mounts[%zu] (%s)", i, what);
		ward_oci_mount_flags_parse(&cfg->mounts[i], &f);
		c->trees[i] = runtime_tree(s->fd, f.rbind, f.set & ~MS_REMOUNT, f.clear, MS_PRIVATE,
					   idmap, what, err);
		/* Recursive options restrict further (entitle_fs.c refuses the
		 * clearing ones). */
		if (c->trees[i] >= 0 &&
		    apply_recursive(c->trees[i], cfg->mounts[i].destination, &f, err) < 0) {
			ward_oci_mount_flags_free(&f);
			return -1;
		}
		ward_oci_mount_flags_free(&f);
		if (c->trees[i] < 0)
			return -1;
	}
	return 0;
}

/* ---- in the init ---- */

/* /sys/fs/cgroup: a tmpfs holding the container's own cgroup directory of
 * every hierarchy (bound from the host, so the container sees its cgroup
 * as the root of each hierarchy, as a cgroup namespace would show it), and
 * the co-mount symlinks.  On v2 the container's directory itself. */
static int mount_cgroup(struct oci_container *c, const struct ward_oci_mount *m,
			const struct ward_oci_mount_flags *f, ward_error_t *err)
{
	struct ward_oci_cgroup *cg = c->cg;
	unsigned long ro = f->set & MS_RDONLY;
	unsigned long base = MS_NOSUID | MS_NODEV | MS_NOEXEC;
	cleanup_close int dest = -1;
	cleanup_free char *p = NULL;
	size_t i;

	dest = make_beneath(m->destination, false, err);
	if (dest < 0)
		return -1;
	if (cg == NULL) {
		ward_oci_log(WARD_LOG_WARN, "no cgroup: %s left empty", m->destination);
		return 0;
	}
	if (cg->layout == WARD_CGROUP_V2)
		return bind_tree(cg->dirs[0].path, -1, dest, base | ro, 0, false, 0, err);
	p = fd_path(dest);
	if (mount("tmpfs", p, "tmpfs", base, "mode=755") < 0)
		return ward_error_sys(err, "cannot mount a tmpfs on %s", m->destination);
	for (i = 0; i < cg->n_dirs; i++) {
		cleanup_free char *sub = ward_xasprintf("%s/%s", m->destination, cg->dirs[i].name);
		cleanup_close int sfd = make_beneath(sub, false, err);

		if (sfd < 0)
			return -1;
		if (bind_tree(cg->dirs[i].path, -1, sfd, base | ro, 0, false, 0, err) < 0)
			return -1;
	}
	for (i = 0; i < cg->n_symlinks; i++) {
		cleanup_close int dfd = open_in_root(m->destination, O_PATH | O_DIRECTORY);

		if (dfd >= 0)
			IGNORE(symlinkat(cg->symlinks[2 * i + 1], dfd, cg->symlinks[2 * i]));
	}
	if (ro) {
		cleanup_close int again = open_in_root(m->destination, O_PATH);
		struct mount_attr ma = {.attr_set = MOUNT_ATTR_RDONLY};

		if (again < 0 || mount_setattr(again, "", AT_EMPTY_PATH, &ma, sizeof(ma)) < 0)
			return ward_error_sys(err, "cannot make %s read-only", m->destination);
	}
	return 0;
}

/* Attach a tree the runtime made (entitlements) at the destination. */
/* The recursive options (rro, rnosuid, ...) of a mount just made at
 * destination: on it and every mount beneath it. */
static int apply_recursive(int tree, const char *destination, const struct ward_oci_mount_flags *f,
			   ward_error_t *err)
{
	struct mount_attr ma;
	cleanup_close int fd = -1;

	if (f->rset == 0 && f->rclear == 0)
		return 0;
	if (tree < 0) {
		fd = open_in_root(destination, O_PATH);
		if (fd < 0)
			return ward_error_sys(err, "cannot open %s in the rootfs", destination);
		tree = fd;
	}
	memset(&ma, 0, sizeof(ma));
	ma.attr_set = f->rset;
	ma.attr_clr = f->rclear;
	if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &ma, sizeof(ma)) < 0) {
		cleanup_free char *v = ward_escape(destination, 256);

		return ward_error_sys(err, "cannot set the recursive mount options of %s", v);
	}
	return 0;
}

static int attach_tree(struct oci_container *c, size_t i, ward_error_t *err)
{
	const struct ward_oci_mount *m = &c->cfg->mounts[i];
	cleanup_close int dest = make_beneath(m->destination, !c->ent.srcs[i].is_dir, err);
	int r;

	if (dest < 0)
		return -1;
	r = move_mount(c->trees[i], "", dest, "",
		       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
	close(c->trees[i]);
	c->trees[i] = -1;
	if (r < 0) {
		cleanup_free char *v = ward_escape(m->destination, 256);

		return ward_error_sys(err, "cannot attach the bind mount on %s", v);
	}
	return 0;
}

static int do_mount(struct oci_container *c, size_t i, ward_error_t *err)
{
	const struct ward_oci_mount *m = &c->cfg->mounts[i];
	struct ward_oci_mount_flags f;
	const char *type = m->type ? m->type : "none";
	cleanup_free char *src = NULL;
	cleanup_free char *target = NULL;
	cleanup_close int dest = -1;
	int rc = 0;

	if (i < c->n_trees && c->trees[i] >= 0)
		return attach_tree(c, i, err);
	ward_oci_mount_flags_parse(m, &f);
	if (f.idmap) {
		ward_oci_mount_flags_free(&f);
		return ward_error_set(err, ENOTSUP,
				      "mount %s: idmapped mounts from the config are not supported "
				      "by ward yet",
				      m->destination);
	}
	if (!f.bind && strcmp(type, "cgroup") == 0) {
		rc = mount_cgroup(c, m, &f, err);
		ward_oci_mount_flags_free(&f);
		return rc;
	}
	if (f.bind) {
		if (m->source == NULL) {
			ward_oci_mount_flags_free(&f);
			return ward_error_set(err, EINVAL, "bind mount %s has no source",
					      m->destination);
		}
		src = m->source[0] == '/' ? ward_xstrdup(m->source)
					  : ward_xasprintf("%s/%s", c->cfg->bundle, m->source);
		dest = make_beneath(m->destination, !is_dir(src), err);
		if (dest < 0) {
			ward_oci_mount_flags_free(&f);
			return -1;
		}
		rc = bind_tree(src, -1, dest, f.set & ~MS_REMOUNT, f.clear, f.rbind, f.propagation,
			       err);
		if (rc < 0)
			ward_error_wrap(err, "mount %s", m->destination);
		else
			rc = set_propagation(m->destination, f.propagation, err);
		if (rc == 0)
			rc = apply_recursive(-1, m->destination, &f, err);
		ward_oci_mount_flags_free(&f);
		return rc;
	}
	dest = make_beneath(m->destination, false, err);
	if (dest < 0) {
		ward_oci_mount_flags_free(&f);
		return -1;
	}
	target = fd_path(dest);
	if (mount(m->source ? m->source : type, target, type, f.set, f.data) < 0) {
		int e = errno;

		/* sysfs and mqueue need their namespace to be owned by the
		 * mounting user namespace (sysfs: the network one); when the
		 * container shares the host's, bind the host's instead, as
		 * runc does. */
		if ((e == EPERM || e == EBUSY) &&
		    (strcmp(type, "sysfs") == 0 || strcmp(type, "mqueue") == 0)) {
			const char *host = strcmp(type, "sysfs") == 0 ? "/sys" : "/dev/mqueue";

			rc = bind_tree(host, -1, dest, f.set | MS_NOSUID | MS_NODEV | MS_NOEXEC, 0,
				       true, 0, err);
		} else {
			errno = e;
			rc = ward_error_sys(err, "cannot mount %s (type %s%s%s) on %s",
					    m->source ? m->source : type, type, f.data ? ", " : "",
					    f.data ? f.data : "", m->destination);
		}
	}
	if (rc == 0)
		rc = set_propagation(m->destination, f.propagation, err);
	if (rc == 0)
		rc = apply_recursive(-1, m->destination, &f, err);
	ward_oci_mount_flags_free(&f);
	return rc;
}

/* ---- /dev ---- */

static const struct {
	const char *path;
	unsigned major, minor;
} default_devices[] = {
	{"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
	{"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
};

static bool config_has_device(const struct ward_oci_config *cfg, const char *path)
{
	size_t i;

	for (i = 0; i < cfg->n_devices; i++)
		if (strcmp(cfg->devices[i].path, path) == 0)
			return true;
	return false;
}

/* A device node: mknod where allowed; in a user namespace (mknod is
 * refused there) bind the host's node of the same path instead. */
static int make_device(struct oci_container *c, const char *path, char type, unsigned major,
		       unsigned minor, mode_t mode, uid_t uid, gid_t gid, ward_error_t *err)
{
	cleanup_free char *dir = ward_xstrdup(path);
	char *slash = strrchr(dir, '/');
	const char *name = slash + 1;
	cleanup_close int dfd = -1;
	mode_t fmt = type == 'b' ? S_IFBLK : type == 'p' ? S_IFIFO : S_IFCHR;

	*slash = '\0';
	dfd = make_beneath(*dir ? dir : "/", false, err);
	if (dfd < 0)
		return -1;
	{
		/* mknodat needs a real directory fd, not O_PATH. */
		cleanup_close int real = open_in_root(*dir ? dir : "/", O_RDONLY | O_DIRECTORY);

		if (real < 0)
			return ward_error_sys(err, "cannot open %s in the rootfs",
					      *dir ? dir : "/");
		/* config-linux.md: a file already at the path that is not the
		 * requested device is an error -- never removed (the rootfs may
		 * be a host directory).  The same device is made again, with
		 * the config's owner and mode. */
		{
			struct stat old;

			if (fstatat(real, name, &old, AT_SYMLINK_NOFOLLOW) == 0) {
				if ((old.st_mode & S_IFMT) != fmt ||
				    (fmt != S_IFIFO && old.st_rdev != makedev(major, minor)))
					return ward_error_set(
						err, EEXIST,
						"linux.devices: %s already exists in the rootfs "
						"and "
						"is not that device (%c %u:%u); remove it from the "
						"image or choose another path",
						path, type, major, minor);
				if (unlinkat(real, name, 0) < 0)
					return ward_error_sys(err, "cannot replace %s", path);
			} else if (errno != ENOENT) {
				return ward_error_sys(err, "cannot look at %s", path);
			}
		}
		if (!(c->new_ns & CLONE_NEWUSER) &&
		    mknodat(real, name, fmt | (mode & 07777), makedev(major, minor)) == 0) {
			/* Owner and mode through a descriptor of the node just
			 * made: by name, a node swapped for a symbolic link
			 * meanwhile would send chmod to the link's target. */
			cleanup_close int node =
				openat(real, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
			cleanup_free char *np = NULL;
			struct stat st;

			if (node < 0 || fstat(node, &st) < 0 || (st.st_mode & S_IFMT) != fmt)
				return ward_error_sys(err, "mknod %s: the node was replaced", path);
			if (fchownat(node, "", uid, gid, AT_EMPTY_PATH) < 0)
				return ward_error_sys(err, "chown %s", path);
			np = fd_path(node);
			if (chmod(np, mode & 07777) < 0)
				return ward_error_sys(err, "chmod %s", path);
			return 0;
		}
		if (type == 'p')
			return ward_error_sys(err, "mknod %s", path);
		{
			cleanup_close int dest = -1;
			int f = openat(real, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
				       0600);

			if (f >= 0)
				close(f);
			dest = open_in_root(path, O_PATH);
			if (dest < 0)
				return ward_error_sys(err, "cannot create %s", path);
			return bind_tree(path, -1, dest, MS_NOSUID | MS_NOEXEC, 0, false, 0, err);
		}
	}
}

static int setup_dev(struct oci_container *c, ward_error_t *err)
{
	const struct ward_oci_config *cfg = c->cfg;
	static const char *const links[][2] = {
		{"/proc/self/fd", "fd"},
		{"/proc/self/fd/0", "stdin"},
		{"/proc/self/fd/1", "stdout"},
		{"/proc/self/fd/2", "stderr"},
	};
	cleanup_close int devfd = -1;
	mode_t old = umask(0);
	size_t i;
	int rc = 0;

	for (i = 0; i < ARRAY_SIZE(default_devices) && rc == 0; i++) {
		if (config_has_device(cfg, default_devices[i].path))
			continue;
		rc = make_device(c, default_devices[i].path, 'c', default_devices[i].major,
				 default_devices[i].minor, 0666, 0, 0, err);
	}
	for (i = 0; i < cfg->n_devices && rc == 0; i++) {
		const struct ward_oci_device *d = &cfg->devices[i];

		rc = make_device(c, d->path, d->type == 'u' ? 'c' : d->type, (unsigned)d->major,
				 (unsigned)d->minor, d->mode, d->uid, d->gid, err);
	}
	umask(old);
	if (rc < 0)
		return -1;
	devfd = open_in_root("/dev", O_RDONLY | O_DIRECTORY);
	if (devfd < 0)
		return 0;
	for (i = 0; i < ARRAY_SIZE(links); i++)
		IGNORE(symlinkat(links[i][0], devfd, links[i][1]));
	/* /dev/ptmx: the devpts instance's own multiplexer. */
	if (faccessat(devfd, "pts/ptmx", F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		(void)unlinkat(devfd, "ptmx", 0);
		IGNORE(symlinkat("pts/ptmx", devfd, "ptmx"));
	}
	if (c->cfg->process.terminal) {
		int f = openat(devfd, "console", O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

		if (f >= 0)
			close(f);
	}
	return 0;
}

static bool dev_is_bound(const struct ward_oci_config *cfg, bool *has_dev)
{
	size_t i;

	*has_dev = false;
	for (i = 0; i < cfg->n_mounts; i++) {
		struct ward_oci_mount_flags f;
		bool bind;

		if (strcmp(cfg->mounts[i].destination, "/dev") != 0)
			continue;
		*has_dev = true;
		ward_oci_mount_flags_parse(&cfg->mounts[i], &f);
		bind = f.bind;
		ward_oci_mount_flags_free(&f);
		if (bind)
			return true;
	}
	return false;
}

int ward_oci_rootfs_prepare(struct oci_container *c, ward_error_t *err)
{
	const struct ward_oci_config *cfg = c->cfg;
	unsigned long prop = cfg->rootfs_propagation;
	bool has_dev;
	size_t i;

	/* Shared propagation on "/" would make pivot_root fail and send our
	 * mounts to the host, and an unbindable "/" could not be bound onto
	 * itself below (EINVAL): start from rslave (or private/slave as
	 * asked); a shared or unbindable rootfsPropagation is applied once
	 * the root is built (ward_oci_rootfs_propagation). */
	if (prop == 0 || (prop & (MS_SHARED | MS_UNBINDABLE)))
		prop = MS_SLAVE | MS_REC;
	/* Chroot-style, this is the runtime's own mount namespace: its "/"
	 * is not ours to change. */
	if (!c->chroot_style && mount(NULL, "/", NULL, prop, NULL) < 0)
		return ward_error_sys(err, "cannot set the propagation of / in the container's "
					   "mount namespace");
	if (rootfd >= 0)
		close(rootfd);
	rootfd = -1;
	if (c->root_tree >= 0) {
		/* The runtime's tree of the rootfs it checked: attached on top
		 * of "/" of this private namespace (where absolute lookups do
		 * not see it), reached only through its descriptor, and made
		 * the root by pivot_root.  No path of the host is walked again,
		 * so a rename or a symbolic link planted since cannot change
		 * what the root is. */
		if (move_mount(c->root_tree, "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH) < 0)
			return ward_error_sys(err, "cannot attach the rootfs");
		rootfd = c->root_tree;
		c->root_tree = -1;
	} else {
		if (mount(cfg->root_path, cfg->root_path, NULL, MS_BIND | MS_REC, NULL) < 0)
			return ward_error_sys(
				err, "cannot bind the rootfs %s onto itself (does it exist?)",
				cfg->root_path);
		rootfd = open(cfg->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (rootfd < 0)
			return ward_error_sys(err, "cannot open the rootfs %s", cfg->root_path);
	}
	for (i = 0; i < cfg->n_mounts; i++)
		if (do_mount(c, i, err) < 0)
			return -1;
	if (!dev_is_bound(cfg, &has_dev) && has_dev && setup_dev(c, err) < 0)
		return -1;
	return 0;
}

int ward_oci_rootfs_pivot(struct oci_container *c, ward_error_t *err)
{
	const char *root = c->cfg->root_path;

	/* The descriptor, not the path: the path could lead elsewhere by now
	 * (a rename, a symbolic link planted by whoever can write the
	 * bundle's directory). */
	if (fchdir(rootfd) < 0)
		return ward_error_sys(err, "chdir %s", root);
	if (c->o->no_pivot || c->chroot_style) {
		/* Chroot-style, the bind of the rootfs stays where it is in
		 * the runtime's namespace (delete detaches it). */
		if (c->chroot_style) {
			if (chroot(".") < 0)
				return ward_error_sys(err, "chroot into %s", root);
			goto rooted;
		}
		if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
			return ward_error_sys(err, "cannot move the rootfs to / (--no-pivot)");
		if (chroot(".") < 0)
			return ward_error_sys(err, "chroot");
	} else {
		if (syscall(SYS_pivot_root, ".", ".") < 0)
			return ward_error_sys(err, "pivot_root into %s", root);
		/* The old root is now stacked on "/": make it a slave so that
		 * detaching it does not unmount anything on the host, then
		 * detach it. */
		if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
			return ward_error_sys(err, "making the old root a slave");
		if (umount2(".", MNT_DETACH) < 0)
			return ward_error_sys(err, "detaching the old root");
	}
rooted:
	if (chdir("/") < 0)
		return ward_error_sys(err, "chdir /");
	if (rootfd >= 0) {
		close(rootfd);
		rootfd = -1;
	}
	return 0;
}

/* After every mount of the container's root, the terminal's bind onto
 * /dev/console included: an unbindable tree refuses to be the source of
 * a bind (readonlyPaths and the console are binds of paths inside it). */
int ward_oci_rootfs_propagation(struct oci_container *c, ward_error_t *err)
{
	unsigned long prop = c->cfg->rootfs_propagation;

	if ((prop & (MS_SHARED | MS_UNBINDABLE)) && mount(NULL, "/", NULL, prop, NULL) < 0)
		return ward_error_sys(err, "setting rootfsPropagation");
	return 0;
}

static int write_sysctl(const char *key, const char *value, ward_error_t *err)
{
	cleanup_free char *path = ward_xasprintf("/proc/sys/%s", key);
	char *p;
	int r;

	if (strstr(key, "..") || key[0] == '/')
		return ward_error_set(err, EINVAL, "sysctl \"%s\" is not a valid name", key);
	for (p = path + 10; *p; p++)
		if (*p == '.')
			*p = '/';
	r = ward_write_file(path, value, strlen(value));
	if (r < 0) {
		errno = -r;
		return ward_error_sys(err, "sysctl %s=%s (%s)", key, value, path);
	}
	return 0;
}

int ward_oci_rootfs_finish(struct oci_container *c, ward_error_t *err)
{
	const struct ward_oci_config *cfg = c->cfg;
	size_t i;

	for (i = 0; i < cfg->n_sysctl; i++)
		if (write_sysctl(cfg->sysctl[i].key, cfg->sysctl[i].value, err) < 0)
			return -1;
	for (i = 0; i < cfg->n_readonly_paths; i++) {
		const char *p = cfg->readonly_paths[i];
		cleanup_close int fd = open(p, O_PATH | O_CLOEXEC);

		if (fd < 0) {
			if (errno == ENOENT)
				continue;
			return ward_error_sys(err, "readonlyPaths: %s", p);
		}
		if (bind_tree(p, fd, fd, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 0, true, 0,
			      err) < 0)
			return ward_error_wrap(err, "readonlyPaths");
	}
	for (i = 0; i < cfg->n_masked_paths; i++) {
		const char *p = cfg->masked_paths[i];
		struct stat st;

		if (stat(p, &st) < 0) {
			if (errno == ENOENT)
				continue;
			return ward_error_sys(err, "maskedPaths: %s", p);
		}
		if (S_ISDIR(st.st_mode)) {
			if (mount("tmpfs", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
				  "size=0,nr_inodes=1") < 0)
				return ward_error_sys(err, "maskedPaths: mounting a tmpfs over %s",
						      p);
		} else {
			cleanup_close int fd = open(p, O_PATH | O_CLOEXEC);

			if (fd < 0 || bind_tree("/dev/null", -1, fd, 0, 0, false, 0, err) < 0) {
				if (fd < 0)
					return ward_error_sys(err, "maskedPaths: %s", p);
				return ward_error_wrap(err, "maskedPaths: %s (is /dev/null there?)",
						       p);
			}
		}
	}
	if (cfg->root_readonly) {
		struct mount_attr ma = {.attr_set = MOUNT_ATTR_RDONLY};

		if (mount_setattr(AT_FDCWD, "/", 0, &ma, sizeof(ma)) < 0)
			return ward_error_sys(err, "making the rootfs read-only (root.readonly)");
	}
	return 0;
}

int ward_oci_rootfs_console(const char *slave, ward_error_t *err)
{
	cleanup_close int dest = open("/dev/console", O_PATH | O_NOFOLLOW | O_CLOEXEC);

	if (dest < 0)
		return 0;
	return bind_tree(slave, -1, dest, 0, 0, false, 0, err);
}

/* Chroot-style (no mount namespace), in the runtime: the mount id of the
 * rootfs directory; 0 when it cannot be read. */
uint64_t ward_oci_chroot_mnt_id(const char *root)
{
	struct statx stx;

	if (statx(AT_FDCWD, root, AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &stx) < 0 ||
	    !(stx.stx_mask & STATX_MNT_ID))
		return 0;
	return stx.stx_mnt_id;
}

/*
 * Chroot-style: chroot(2) is no boundary for a process holding
 * CAP_SYS_CHROOT in its user namespace (chroot a subdirectory, walk ".."
 * from a working directory left outside it, chroot "."), and without a
 * mount namespace what lies above the root is the runtime's whole
 * filesystem.  Landlock walks a path up to the real root of the mount
 * namespace, not to the process's root: a ruleset that handles every
 * filesystem right and grants them all beneath the container's root
 * (the init's and exec's "/", after their chroot) leaves nothing outside
 * it to read, write, list or execute, whatever root the process chroots
 * to later.  Mounts beneath the root (the config's, the host sources it
 * binds) are reached through the root and stay usable.  Without Landlock
 * this cannot be made safe for a process that may hold CAP_SYS_CHROOT:
 * refused.  ll and has_ll are the container's plan (scoping may be in it
 * already); plan_path names the config in the error.
 */
int ward_oci_chroot_confine(struct ward_landlock_plan *ll, bool *has_ll, uint64_t bounding,
			    const char *plan_path, ward_error_t *err)
{
	int abi = ward_landlock_abi();
	uint64_t fs = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1: bits 0..12 */

	if (abi <= 0) {
		if (!(bounding & (UINT64_C(1) << CAP_SYS_CHROOT)))
			return 0;
		return ward_error_set(
			err, EPERM,
			"%s: without a mount namespace the container's root is a chroot, which "
			"CAP_SYS_CHROOT can leave, and this kernel has no Landlock to confine it "
			"to its root: add {\"type\": \"mount\"} to linux.namespaces, or remove "
			"CAP_SYS_CHROOT from process.capabilities.bounding",
			plan_path);
	}
	if (abi >= 2)
		fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	if (!*has_ll) {
		memset(ll, 0, sizeof(*ll));
		ll->abi = abi;
		*has_ll = true;
	}
	ll->handled_fs |= fs;
	ll->rules = ward_xrealloc(ll->rules, (ll->n_rules + 1) * sizeof(*ll->rules));
	ll->rules[ll->n_rules].path = ward_xstrdup("/");
	ll->rules[ll->n_rules].access = fs;
	ll->rules[ll->n_rules].origin = ward_xstrdup("root.path (a container without a mount "
						     "namespace)");
	ll->n_rules++;
	return 0;
}

/*
 * Chroot-style: the first layer.  Leaving a chroot takes chroot(2) itself
 * (pivot_root and setns of a mount namespace need CAP_SYS_ADMIN over the
 * runtime's mount namespace, which a container that has it holds the
 * host anyway); a filter that answers chroot(2) with EPERM, as it would
 * without CAP_SYS_CHROOT, closes the walk out.  Landlock (above) is the
 * second layer, for the ways around chroot(2): /proc/PID/root of a host
 * process the container may trace.  The filter is compiled like a
 * config's profile (and cached); ward's own filter slot is free, as a
 * chroot-style container is never one under the entitlements.
 */
int ward_oci_chroot_filter(struct ward_seccomp_prog *out, const char *plan_path, ward_error_t *err)
{
	struct oci_seccomp sc;
	json_t *p = json_pack("{s:s,s:[s],s:[{s:[s],s:s,s:i}]}", "defaultAction", "SCMP_ACT_ALLOW",
			      "architectures",
#if defined(__x86_64__)
			      "SCMP_ARCH_X86_64",
#elif defined(__aarch64__)
			      "SCMP_ARCH_AARCH64",
#else
			      "SCMP_ARCH_NATIVE",
#endif
			      "syscalls", "names", "chroot", "action", "SCMP_ACT_ERRNO", "errnoRet",
			      EPERM);
	int rc;

#if defined(__x86_64__)
	/* i386 and x32 programs run too: their chroot is filtered alike. */
	json_array_append_new(json_object_get(p, "architectures"), json_string("SCMP_ARCH_X86"));
	json_array_append_new(json_object_get(p, "architectures"), json_string("SCMP_ARCH_X32"));
#elif defined(__aarch64__)
	json_array_append_new(json_object_get(p, "architectures"), json_string("SCMP_ARCH_ARM"));
#endif
	rc = ward_oci_seccomp_prepare(p, plan_path, &sc, err);
	json_decref(p);
	if (rc < 0)
		return ward_error_wrap(err, "the chroot(2) filter of a container without a mount "
					    "namespace");
	*out = sc.prog;
	memset(&sc.prog, 0, sizeof(sc.prog));
	ward_oci_seccomp_free(&sc);
	return 0;
}

/*
 * Chroot-style, at delete or after a failed create: detach the bind of the
 * rootfs the init made in the runtime's mount namespace, and with it every
 * mount of the container beneath it (one lazy unmount of the subtree; on
 * a shared parent the unmount propagates like the mounts did).  Only a
 * mount that is on top of the rootfs now and was not there before the
 * container (before_id) is touched, through a descriptor of it.
 */
void ward_oci_chroot_detach(const char *root, uint64_t before_id)
{
	int i;

	/* The init binds once; a bind that failed half-way left nothing. */
	for (i = 0; i < 2; i++) {
		cleanup_close int fd = open(root, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		struct statx stx;
		char path[64];

		if (fd < 0 || before_id == 0)
			return;
		if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) < 0 ||
		    !(stx.stx_mask & STATX_MNT_ID) || stx.stx_mnt_id == before_id)
			return;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (umount2(path, MNT_DETACH) < 0) {
			cleanup_free char *e = ward_escape(root, 256);

			ward_oci_log(WARD_LOG_WARN, "cannot detach the container's root %s: %s", e,
				     strerror(errno));
			return;
		}
	}
}
