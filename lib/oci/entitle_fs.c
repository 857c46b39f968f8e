// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The filesystem of a container under org.ward.entitlements: root.path,
 * mounts, maskedPaths and readonlyPaths (see entitle.c for the rest).
 *
 * A host path reaches the container only when something allows it, and
 * it is opened here, beneath what allows it, with openat2: never matched
 * as a string and opened again later.  The descriptor is what the runtime
 * turns into a mount (rootfs.c), so a symbolic link or a rename between
 * the check and the mount cannot send the container elsewhere.
 *
 *   root.path     beneath the bundle (RESOLVE_BENEATH); or the root of an
 *                 overlay mount that is not the host's root (an engine's
 *                 image: podman, CRI-O); or beneath an fs.read/fs.write
 *                 grant (fs.read makes the root read-only).  Mounted
 *                 nodev (and nosuid without process.setuid): the device
 *                 nodes are those bound in /dev, never one in the image.
 *   bind mounts   a source beneath the bundle (relative sources are);
 *                 beneath an fs.* grant (fs.read/fs.exec: read-only,
 *                 fs.read also noexec; idmapped so the container writes
 *                 as the directory's owner); a node host.devices grants;
 *                 or the engine's own file for this container: beneath a
 *                 directory named like the bundle's last two components,
 *                 one of them the container id (podman keeps hosts,
 *                 hostname, .containerenv in RUNROOT/.../ID/userdata
 *                 while the bundle is GRAPHROOT/.../ID/userdata), reached
 *                 without a symbolic link.  Anything else is refused,
 *                 naming the fs.read=/fs.write= that would allow it.
 *   other mounts  proc on /proc, sysfs on /sys (read-only), devpts on
 *                 /dev/pts, mqueue on /dev/mqueue, cgroup or cgroup2 on
 *                 /sys/fs/cgroup (read-only), tmpfs anywhere: filesystems that show
 *                 the container's own namespaces.  Any other type (a
 *                 block device, an overlay of host directories, nfs, ...)
 *                 is refused.  Every mount gets nosuid and nodev (a
 *                 device node's bind and the /dev tmpfs keep dev);
 *                 "remount" and shared propagation are refused.
 *   masked and    ward's own lists (spec.c) are the floor: the config may
 *   readonly      add paths, never remove one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../util.h"
#include "internal.h"

#ifndef OVERLAYFS_SUPER_MAGIC
#define OVERLAYFS_SUPER_MAGIC 0x794c7630
#endif
#ifndef STATX_ATTR_MOUNT_ROOT
#define STATX_ATTR_MOUNT_ROOT 0x00002000
#endif

static int openat2_path(int dirfd, const char *path, int flags, uint64_t resolve)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_PATH | O_CLOEXEC),
		.resolve = resolve | RESOLVE_NO_MAGICLINKS,
	};

	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

/* Is path at or below dir?  Both absolute and normalised. */
static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return true;
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* The part of path below dir ("." for dir itself). */
static const char *below(const char *path, const char *dir)
{
	size_t n = strcmp(dir, "/") == 0 ? 0 : strlen(dir);

	while (path[n] == '/')
		n++;
	return path[n] ? path + n : ".";
}

struct fs_ctx {
	struct ward_oci_config *c;
	struct oci_entitlements *e;
	const char *id;
	int bundle_fd;
	char *bundle;  /* canonical */
	int *grant_fd; /* one per policy path, -1 when it cannot be opened */
};

static char *fd_canonical(int fd)
{
	char link[64], buf[4096];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, sizeof(buf) - 1);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return ward_xstrdup(buf);
}

static void src_from_fd(struct oci_src *s, enum oci_src_kind kind, int fd)
{
	struct stat st;

	s->kind = kind;
	s->fd = fd;
	s->is_dir = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Beneath the bundle: relative paths are; absolute ones under its path. */
static bool in_bundle(struct fs_ctx *x, const char *norm_or_rel, struct oci_src *s, int flags,
		      int *err_out)
{
	const char *rel;
	int fd;

	if (norm_or_rel[0] != '/')
		rel = norm_or_rel;
	else if (under(norm_or_rel, x->bundle))
		rel = below(norm_or_rel, x->bundle);
	else if (under(norm_or_rel, x->c->bundle))
		rel = below(norm_or_rel, x->c->bundle);
	else
		return false;
	fd = openat2_path(x->bundle_fd, rel, flags, RESOLVE_BENEATH);
	if (fd < 0) {
		*err_out = errno;
		return true;
	}
	src_from_fd(s, OCI_SRC_BUNDLE, fd);
	return true;
}

/* Beneath an fs.* grant: the longest grant that covers the path gives the
 * directory it is opened beneath; the access is every covering grant's. */
static bool in_grant(struct fs_ctx *x, const char *norm, struct oci_src *s, int flags, int *err_out)
{
	const struct ward_policy *p = &x->e->policy;
	size_t k, best = (size_t)-1;
	unsigned access = 0;
	int fd;

	for (k = 0; k < p->n_paths; k++) {
		if (!under(norm, p->paths[k].path))
			continue;
		access |= p->paths[k].access;
		if (best == (size_t)-1 || strlen(p->paths[k].path) > strlen(p->paths[best].path))
			best = k;
	}
	if (best == (size_t)-1)
		return false;
	if (x->grant_fd[best] < 0) {
		*err_out = ENOENT;
		return true;
	}
	fd = openat2_path(x->grant_fd[best], below(norm, p->paths[best].path), flags,
			  RESOLVE_BENEATH);
	if (fd < 0) {
		*err_out = errno;
		return true;
	}
	src_from_fd(s, OCI_SRC_GRANT, fd);
	s->access = access;
	s->grant = ward_xstrdup(p->paths[best].path);
	return true;
}

/* The engine's own file for this container (see the head comment). */
static bool engine_file(struct fs_ctx *x, const char *norm, struct oci_src *s, int *err_out)
{
	cleanup_free char *b = ward_xstrdup(x->bundle);
	cleanup_free char *needle = NULL;
	char *bb, *bp;
	const char *at;
	int fd;

	bb = strrchr(b, '/');
	if (bb == NULL || bb == b || x->id == NULL)
		return false;
	*bb++ = '\0';
	bp = strrchr(b, '/');
	if (bp == NULL)
		return false;
	bp++;
	if (strcmp(bb, x->id) != 0 && strcmp(bp, x->id) != 0)
		return false;
	needle = ward_xasprintf("/%s/%s/", bp, bb);
	at = strstr(norm, needle);
	if (at == NULL || at[strlen(needle)] == '\0')
		return false;
	fd = openat2_path(AT_FDCWD, norm, 0, RESOLVE_NO_SYMLINKS);
	if (fd < 0) {
		*err_out = errno;
		return true;
	}
	src_from_fd(s, OCI_SRC_ENGINE, fd);
	return true;
}

static void refuse_open(struct fs_ctx *x, const char *field, const char *path, int e)
{
	cleanup_free char *v = ward_escape(path, 256);

	ward_oci_refuse(x->e,
			"%s \"%s\": %s (under %s a host path is opened beneath the bundle or the "
			"entitlement that allows it, without leaving it through a symbolic link "
			"or \"..\")",
			field, v, strerror(e), WARD_OCI_ENTITLEMENTS);
}

static void check_root(struct fs_ctx *x)
{
	struct ward_oci_config *c = x->c;
	struct oci_entitlements *e = x->e;
	cleanup_free char *norm = ward_path_normalize(c->root_path);
	cleanup_free char *v = ward_escape(c->root_path, 256);
	struct statfs sf;
	struct statx sx;
	struct stat st, hostroot;
	int err = 0, fd;

	if (norm == NULL) {
		ward_oci_refuse(e, "root.path \"%s\" is not a clean absolute path", v);
		return;
	}
	if (in_bundle(x, norm, &e->root, O_DIRECTORY, &err) ||
	    in_grant(x, norm, &e->root, O_DIRECTORY, &err)) {
		if (err)
			refuse_open(x, "root.path", c->root_path, err);
		else if (e->root.kind == OCI_SRC_GRANT && !(e->root.access & WARD_FS_WRITE) &&
			 !c->root_readonly) {
			c->root_readonly = true;
			ward_oci_note(e, "root.readonly: true (only fs.read/fs.exec covers %s)", v);
		}
		return;
	}
	fd = openat2_path(AT_FDCWD, norm, O_DIRECTORY, RESOLVE_NO_SYMLINKS);
	if (fd >= 0 && fstatfs(fd, &sf) == 0 && sf.f_type == OVERLAYFS_SUPER_MAGIC &&
	    statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx) == 0 &&
	    (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT) && fstat(fd, &st) == 0 &&
	    stat("/", &hostroot) == 0 &&
	    !(st.st_dev == hostroot.st_dev && st.st_ino == hostroot.st_ino)) {
		src_from_fd(&e->root, OCI_SRC_OVERLAY, fd);
		return;
	}
	if (fd >= 0)
		close(fd);
	ward_oci_refuse(e,
			"root.path \"%s\": the container's root must be in the bundle, the root of "
			"an overlay mount (an engine's image), or a directory an fs.read= or "
			"fs.write= entitlement grants",
			v);
}

/* Drop every spelling of a flag and append the one wanted, so that a later
 * option of the config cannot undo it. */
static void force_option(struct ward_oci_mount *m, const char *want, const char *opposite)
{
	size_t i, j;

	for (i = 0, j = 0; i < m->n_options; i++) {
		if (strcmp(m->options[i], want) == 0 ||
		    (opposite && strcmp(m->options[i], opposite) == 0)) {
			free(m->options[i]);
			continue;
		}
		m->options[j++] = m->options[i];
	}
	m->options = ward_xrealloc(m->options, (j + 2) * sizeof(char *));
	m->options[j++] = ward_xstrdup(want);
	m->options[j] = NULL;
	m->n_options = j;
}

static bool has_option(const struct ward_oci_mount *m, const char *o)
{
	size_t i;

	for (i = 0; i < m->n_options; i++)
		if (strcmp(m->options[i], o) == 0)
			return true;
	return false;
}

static const struct {
	const char *type, *dest; /* dest NULL: anywhere */
} kernel_fs[] = {
	{"proc", "/proc"},
	{"sysfs", "/sys"},
	{"devpts", "/dev/pts"},
	{"mqueue", "/dev/mqueue"},
	{"cgroup", "/sys/fs/cgroup"},
	{"cgroup2", "/sys/fs/cgroup"},
	{"tmpfs", NULL},
};

static void check_bind(struct fs_ctx *x, size_t i, const struct ward_oci_mount_flags *f)
{
	struct ward_oci_mount *m = &x->c->mounts[i];
	struct oci_src *s = &x->e->srcs[i];
	const struct ward_policy *p = &x->e->policy;
	cleanup_free char *norm = NULL;
	cleanup_free char *vs = ward_escape(m->source ? m->source : "", 256);
	cleanup_free char *vd = ward_escape(m->destination, 256);
	char field[48];
	int err = 0;
	size_t k;

	snprintf(field, sizeof(field), "mounts[%zu].source", i);
	if (m->source == NULL || *m->source == '\0') {
		ward_oci_refuse(x->e, "mounts[%zu]: a bind mount of %s without a source", i, vd);
		return;
	}
	if (m->source[0] != '/') {
		if (!in_bundle(x, m->source, s, 0, &err))
			return;
		if (err)
			refuse_open(x, field, m->source, err);
		goto options;
	}
	norm = ward_path_normalize(m->source);
	if (norm == NULL) {
		ward_oci_refuse(x->e, "%s \"%s\" is not a clean absolute path", field, vs);
		return;
	}
	if (in_bundle(x, norm, s, 0, &err) || in_grant(x, norm, s, 0, &err)) {
		if (err)
			refuse_open(x, field, m->source, err);
		goto options;
	}
	for (k = 0; k < p->n_devices; k++) {
		int fd;
		struct stat st;

		if (strcmp(norm, p->devices[k].path) != 0)
			continue;
		fd = openat2_path(AT_FDCWD, norm, 0, RESOLVE_NO_SYMLINKS);
		if (fd < 0 || fstat(fd, &st) < 0 || !(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))) {
			if (fd >= 0)
				close(fd);
			ward_oci_refuse(x->e, "%s \"%s\": not a device node", field, vs);
			return;
		}
		src_from_fd(s, OCI_SRC_DEVICE, fd);
		goto options;
	}
	if (engine_file(x, norm, s, &err)) {
		if (err)
			refuse_open(x, field, m->source, err);
		goto options;
	}
	ward_oci_refuse(x->e,
			"mounts[%zu]: the bind mount of the host path %s on %s is not allowed by "
			"%s: add fs.read=%s (read-only) or fs.write=%s to the annotation",
			i, vs, vd, WARD_OCI_ENTITLEMENTS, vs, vs);
	return;
options:
	if (s->fd < 0)
		return;
	force_option(m, "nosuid", "suid");
	if (s->kind != OCI_SRC_DEVICE)
		force_option(m, "nodev", "dev");
	if (s->kind == OCI_SRC_GRANT && !(s->access & WARD_FS_WRITE)) {
		bool had_ro = (f->set & MS_RDONLY) != 0;

		force_option(m, "ro", "rw");
		if (!(s->access & WARD_FS_EXEC))
			force_option(m, "noexec", "exec");
		if (!had_ro)
			ward_oci_note(
				x->e,
				"mounts[%zu]: %s (from %s) made read-only: only fs.read/fs.exec "
				"covers it",
				i, vd, vs);
	}
}

static void check_mounts(struct fs_ctx *x)
{
	struct ward_oci_config *c = x->c;
	struct oci_entitlements *e = x->e;
	size_t i, k;

	e->srcs = ward_xcalloc(c->n_mounts + 1, sizeof(*e->srcs));
	e->n_srcs = c->n_mounts;
	for (i = 0; i < c->n_mounts; i++)
		e->srcs[i].fd = -1;
	for (i = 0; i < c->n_mounts; i++) {
		struct ward_oci_mount *m = &c->mounts[i];
		struct ward_oci_mount_flags f;
		cleanup_free char *dest = ward_path_normalize(m->destination);
		cleanup_free char *vd = ward_escape(m->destination, 256);
		cleanup_free char *vt = ward_escape(m->type ? m->type : "", 64);
		bool ok = false, bind;

		ward_oci_mount_flags_parse(m, &f);
		bind = f.bind;
		if (dest == NULL)
			ward_oci_refuse(e, "mounts[%zu].destination \"%s\" is not a clean path", i,
					vd);
		if (f.set & MS_REMOUNT)
			ward_oci_refuse(e,
					"mounts[%zu].options: \"remount\" changes a mount the "
					"container did not make; not allowed under %s",
					i, WARD_OCI_ENTITLEMENTS);
		if (f.propagation & MS_SHARED)
			ward_oci_refuse(e,
					"mounts[%zu].options: shared propagation would let the "
					"container's mounts reach other namespaces; not allowed "
					"under %s",
					i, WARD_OCI_ENTITLEMENTS);
		if (f.rclear & ~(uint64_t)MOUNT_ATTR__ATIME)
			ward_oci_refuse(
				e,
				"mounts[%zu].options: rrw, rsuid, rdev, rexec and rsymfollow "
				"clear a restriction on every mount beneath; not allowed under "
				"%s",
				i, WARD_OCI_ENTITLEMENTS);
		if (f.idmap)
			ward_oci_refuse(e,
					"mounts[%zu].options: idmapped mounts from the config are "
					"not supported by ward",
					i);
		if (bind) {
			ward_oci_mount_flags_free(&f);
			check_bind(x, i, &f);
			continue;
		}
		ward_oci_mount_flags_free(&f);
		for (k = 0; k < ARRAY_SIZE(kernel_fs) && !ok && dest; k++)
			ok = m->type && strcmp(m->type, kernel_fs[k].type) == 0 &&
			     (kernel_fs[k].dest == NULL || strcmp(dest, kernel_fs[k].dest) == 0);
		if (!ok) {
			ward_oci_refuse(
				e,
				"mounts[%zu].type \"%s\" on %s is not allowed under %s: only proc "
				"on /proc, sysfs on /sys, devpts on /dev/pts, mqueue on "
				"/dev/mqueue, "
				"cgroup on /sys/fs/cgroup, tmpfs, and bind mounts of what fs.* "
				"grants (fs.read=PATH, fs.write=PATH)",
				i, vt, vd, WARD_OCI_ENTITLEMENTS);
			continue;
		}
		force_option(m, "nosuid", "suid");
		if (!(strcmp(m->type, "tmpfs") == 0 && strcmp(dest, "/dev") == 0))
			force_option(m, "nodev", "dev");
		if ((strcmp(m->type, "sysfs") == 0 || ward_str_has_prefix(m->type, "cgroup")) &&
		    !has_option(m, "ro")) {
			force_option(m, "ro", "rw");
			ward_oci_note(e, "mounts[%zu]: %s on %s made read-only", i, vt, vd);
		}
	}
}

static void add_paths(char ***list, size_t *n, const char *const *floor, const char *field,
		      struct oci_entitlements *e)
{
	size_t i, k;

	for (k = 0; floor[k]; k++) {
		bool have = false;

		for (i = 0; i < *n && !have; i++)
			have = strcmp((*list)[i], floor[k]) == 0;
		if (have)
			continue;
		*list = ward_xrealloc(*list, (*n + 2) * sizeof(char *));
		(*list)[(*n)++] = ward_xstrdup(floor[k]);
		(*list)[*n] = NULL;
		ward_oci_note(e, "%s: %s added (ward's own list is the floor)", field, floor[k]);
	}
}

void ward_oci_entitle_fs(struct ward_oci_config *c, const char *id, struct oci_entitlements *e)
{
	struct fs_ctx x = {.c = c, .e = e, .id = id, .bundle_fd = -1};
	size_t k;

	x.bundle_fd = open(c->bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
	x.bundle = x.bundle_fd >= 0 ? fd_canonical(x.bundle_fd) : NULL;
	if (x.bundle == NULL) {
		cleanup_free char *v = ward_escape(c->bundle, 256);

		ward_oci_refuse(e, "the bundle %s cannot be opened: %s", v, strerror(errno));
		if (x.bundle_fd >= 0)
			close(x.bundle_fd);
		return;
	}
	x.grant_fd = ward_xcalloc(e->policy.n_paths + 1, sizeof(int));
	for (k = 0; k < e->policy.n_paths; k++)
		x.grant_fd[k] =
			openat2_path(AT_FDCWD, e->policy.paths[k].path, 0, RESOLVE_NO_SYMLINKS);
	check_root(&x);
	check_mounts(&x);
	add_paths(&c->masked_paths, &c->n_masked_paths, ward_oci_masked_paths, "linux.maskedPaths",
		  e);
	add_paths(&c->readonly_paths, &c->n_readonly_paths, ward_oci_readonly_paths,
		  "linux.readonlyPaths", e);
	for (k = 0; k < e->policy.n_paths; k++)
		if (x.grant_fd[k] >= 0)
			close(x.grant_fd[k]);
	free(x.grant_fd);
	free(x.bundle);
	close(x.bundle_fd);
}
