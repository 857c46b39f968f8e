// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cgroups for OCI containers: linux.cgroupsPath in every hierarchy, and the
 * runtime-spec's linux.resources written to it (declared in lib/oci/cgroup.h).
 *
 * ward's own sandboxes use cgroup.c/v1.c/v2.c (ROOT/.../ward/NAME, a fixed
 * set of controllers).  An OCI engine instead names the cgroup and expects
 * the container in every hierarchy the host has (podman and conmon read
 * /proc/PID/cgroup for the freezer and the memory controller, systemd in a
 * container reads name=systemd), so this file enumerates the mounted v1
 * hierarchies instead of picking four.  It reuses the interface-file
 * helpers of internal.h, and creates nothing but directories: the host's
 * mounts are never touched, and only the levels it made are removed.
 *
 * Values: the runtime-spec units are the kernel's v1 units.  On v2 they are
 * converted as runc and crun do (cpu.weight from shares, io.weight from the
 * blkio weight, memory.swap.max = swap - limit).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../oci/cgroup.h"
#include "../oci/internal.h"
#include "../oci/log.h"
#include "../util.h"
#include "internal.h"

#define DEFAULT_ROOT "/sys/fs/cgroup"

/* ---- small helpers ---- */

static void nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Does a v1 hierarchy directory name ("cpu,cpuacct") hold controller c? */
static bool name_has(const char *name, const char *c)
{
	size_t n = strlen(c);
	const char *p = name;

	while (*p) {
		size_t len = strcspn(p, ",");

		if (len == n && strncmp(p, c, n) == 0)
			return true;
		p += len;
		if (*p == ',')
			p++;
	}
	return false;
}

static struct ward_oci_cg_dir *dir_for(struct ward_oci_cgroup *cg, const char *controller)
{
	size_t i;

	if (cg->layout == WARD_CGROUP_V2)
		return cg->n_dirs ? &cg->dirs[0] : NULL;
	for (i = 0; i < cg->n_dirs; i++)
		if (name_has(cg->dirs[i].name, controller) && cg->dirs[i].fd >= 0)
			return &cg->dirs[i];
	return NULL;
}

static int cg_write(struct ward_oci_cgroup *cg, struct ward_oci_cg_dir *d, const char *file,
		    const char *value, ward_error_t *err)
{
	int r = ward_cg_write_at(d->fd, file, value, cg->standin);

	if (r < 0)
		return ward_error_set(err, -r, "cgroup: writing \"%s\" to %s/%s: %s", value,
				      d->path, file, strerror(-r));
	return 0;
}

static int cg_write_u64(struct ward_oci_cgroup *cg, struct ward_oci_cg_dir *d, const char *file,
			uint64_t v, ward_error_t *err)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return cg_write(cg, d, file, buf, err);
}

static int cg_write_i64(struct ward_oci_cgroup *cg, struct ward_oci_cg_dir *d, const char *file,
			int64_t v, ward_error_t *err)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return cg_write(cg, d, file, buf, err);
}

static bool cg_has(const struct ward_oci_cgroup *cg, const struct ward_oci_cg_dir *d,
		   const char *file)
{
	/* In a stand-in tree nothing exists until written: treat every file
	 * as present so what would be written is recorded. */
	return cg->standin || ward_cg_exists_at(d->fd, file);
}

/* ---- path ---- */

char *ward_oci_cgroup_path(const char *cgroups_path, const char *id, bool systemd,
			   ward_error_t *err)
{
	cleanup_free char *norm = NULL;

	if (cgroups_path == NULL || *cgroups_path == '\0')
		return ward_xasprintf("/ward/oci/%s", id);
	if (systemd || (cgroups_path[0] != '/' && strchr(cgroups_path, ':'))) {
		ward_error_set(err, ENOTSUP,
			       "cgroupsPath \"%s\" is in systemd's slice:prefix:name form, but "
			       "this host has no systemd to manage cgroups: configure the engine "
			       "for cgroupfs (podman: cgroup_manager = \"cgroupfs\"; containerd: "
			       "SystemdCgroup = false)",
			       cgroups_path);
		return NULL;
	}
	if (cgroups_path[0] == '/')
		norm = ward_path_normalize(cgroups_path);
	else {
		cleanup_free char *abs = ward_xasprintf("/%s", cgroups_path);

		norm = ward_path_normalize(abs);
	}
	if (norm == NULL || strcmp(norm, "/") == 0) {
		ward_error_set(err, EINVAL,
			       "cgroupsPath \"%s\" is not usable: it must name a cgroup below the "
			       "root, without \"..\"",
			       cgroups_path);
		return NULL;
	}
	return steal_pointer(&norm);
}

/* ---- open / create ---- */

static void dir_init(struct ward_oci_cg_dir *d)
{
	memset(d, 0, sizeof(*d));
	d->fd = -1;
}

/* cpuset: a new v1 cpuset cgroup starts with empty cpus and mems and takes
 * no task until they are set; copy them from the parent (as runc does). */
static int cpuset_inherit(int parentfd, int fd, const char *path, ward_error_t *err)
{
	static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(files); i++) {
		cleanup_free char *mine = NULL, *theirs = NULL;
		int r;

		if (ward_cg_read_at(fd, files[i], &mine) == 0 && mine[strspn(mine, " \n")] != '\0')
			continue;
		r = ward_cg_read_at(parentfd, files[i], &theirs);
		if (r < 0)
			return ward_error_set(err, -r, "cgroup: reading the parent's %s for %s: %s",
					      files[i], path, strerror(-r));
		theirs[strcspn(theirs, "\n")] = '\0';
		r = ward_cg_write_at(fd, files[i], theirs, false);
		if (r < 0)
			return ward_error_set(err, -r, "cgroup: copying %s into %s: %s", files[i],
					      path, strerror(-r));
	}
	return 0;
}

/* v2: enable every available controller for the children of dirfd. */
static void v2_enable(int dirfd, const char *path, bool standin)
{
	static const char *const wanted[] = {"cpuset", "cpu",	  "io",	  "memory",
					     "pids",   "hugetlb", "rdma", "misc"};
	cleanup_free char *avail = NULL, *cur = NULL;
	char buf[128] = "";
	size_t i;
	int r;

	if (ward_cg_read_at(dirfd, "cgroup.controllers", &avail) < 0)
		return;
	if (ward_cg_read_at(dirfd, "cgroup.subtree_control", &cur) < 0)
		cur = ward_xstrdup("");
	for (i = 0; i < ARRAY_SIZE(wanted); i++) {
		if (!ward_cg_list_has(avail, wanted[i]) || ward_cg_list_has(cur, wanted[i]))
			continue;
		if (buf[0])
			strcat(buf, " ");
		strcat(buf, "+");
		strcat(buf, wanted[i]);
	}
	if (buf[0] == '\0')
		return;
	if (standin) {
		cleanup_free char *all = ward_xasprintf("%s%s%s", cur, *cur ? " " : "", buf);

		r = ward_cg_write_at(dirfd, "cgroup.subtree_control", all, true);
	} else {
		r = ward_cg_write_at(dirfd, "cgroup.subtree_control", buf, false);
	}
	if (r < 0)
		ward_oci_log(WARD_LOG_WARN,
			     "cgroup: cannot enable \"%s\" in %s/cgroup.subtree_control: %s", buf,
			     path, strerror(-r));
}

/* mkdir -p PATH beneath hierfd; d->created counts the levels made. */
static int make_path(struct ward_oci_cgroup *cg, struct ward_oci_cg_dir *d, int hierfd, bool create,
		     bool cpuset, ward_error_t *err)
{
	cleanup_free char *copy = ward_xstrdup(cg->path + 1);
	char *comp, *save = NULL;
	int cur = dup(hierfd);
	int attempt = 0;

	if (cur < 0)
		return ward_error_sys(err, "dup");
	for (comp = strtok_r(copy, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		int next;
		bool made = false;

		if (cg->layout == WARD_CGROUP_V2 && create)
			v2_enable(cur, d->path, cg->standin);
	again:
		next = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (next < 0 && errno == ENOENT && create) {
			if (mkdirat(cur, comp, 0755) < 0 && errno != EEXIST) {
				int e = errno;

				close(cur);
				errno = e;
				return ward_error_sys(err, "cgroup: cannot create %s", d->path);
			}
			made = errno != EEXIST;
			if (++attempt < 8)
				goto again;
		}
		if (next < 0) {
			int e = errno;

			close(cur);
			errno = e;
			if (e == ENOENT)
				return ward_error_set(err, ENOENT, "cgroup %s does not exist",
						      d->path);
			return ward_error_sys(err, "cgroup: cannot open %s", d->path);
		}
		if (made || d->created)
			d->created++;
		if (made && cpuset && cpuset_inherit(cur, next, d->path, err) < 0) {
			close(cur);
			close(next);
			return -1;
		}
		close(cur);
		cur = next;
	}
	d->fd = cur;
	return 0;
}

static int add_dir(struct ward_oci_cgroup *cg, int rootfd, const char *name, bool create,
		   ward_error_t *err)
{
	struct ward_oci_cg_dir *d;
	cleanup_close int hfd = -1;

	if (cg->n_dirs == WARD_OCI_CG_MAX)
		return 0;
	d = &cg->dirs[cg->n_dirs];
	dir_init(d);
	d->name = ward_xstrdup(name);
	d->path = *name ? ward_xasprintf("%s/%s%s", cg->root, name, cg->path)
			: ward_xasprintf("%s%s", cg->root, cg->path);
	cg->n_dirs++;
	hfd = *name ? openat(rootfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)
		    : dup(rootfd);
	if (hfd < 0)
		return ward_error_sys(err, "cgroup: cannot open %s/%s", cg->root, name);
	return make_path(cg, d, hfd, create, *name && name_has(name, "cpuset"), err);
}

/* Enumerate the v1 hierarchies mounted under root: real directories that
 * are cgroup (v1) filesystems; symlinks ("cpuacct" -> "cpu,cpuacct") are
 * remembered for the container's view. */
static int list_v1(struct ward_oci_cgroup *cg, int rootfd, char ***names, size_t *n,
		   ward_error_t *err)
{
	int fd = dup(rootfd);
	DIR *dir;
	struct dirent *e;

	*names = NULL;
	*n = 0;
	if (fd < 0 || (dir = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return ward_error_sys(err, "cgroup: cannot list %s", cg->root);
	}
	while ((e = readdir(dir)) != NULL) {
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		if (fstatat(rootfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISLNK(st.st_mode)) {
			char target[256];
			ssize_t len = readlinkat(rootfd, e->d_name, target, sizeof(target) - 1);

			if (len > 0 && !strchr(target, '/')) {
				target[len] = '\0';
				cg->symlinks = ward_xrealloc(
					cg->symlinks, (cg->n_symlinks + 1) * 2 * sizeof(char *));
				cg->symlinks[cg->n_symlinks * 2] = ward_xstrdup(e->d_name);
				cg->symlinks[cg->n_symlinks * 2 + 1] = ward_xstrdup(target);
				cg->n_symlinks++;
			}
			continue;
		}
		if (!S_ISDIR(st.st_mode))
			continue;
		{
			cleanup_close int h = openat(
				rootfd, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

			/* Only v1 hierarchies: the hybrid layout's cgroup2 mount
			 * at ROOT/unified holds no controller ward can use. */
			if (!ward_cg_fs_is(h, CGROUP_SUPER_MAGIC))
				continue;
		}
		*names = ward_xrealloc(*names, (*n + 1) * sizeof(char *));
		(*names)[(*n)++] = ward_xstrdup(e->d_name);
	}
	closedir(dir);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static struct ward_oci_cgroup *cg_new(const char *root, const char *path)
{
	struct ward_oci_cgroup *cg = ward_xcalloc(1, sizeof(*cg));

	cg->root = ward_xstrdup(root ? root : DEFAULT_ROOT);
	cg->path = ward_xstrdup(path);
	return cg;
}

static void rm_levels(struct ward_oci_cgroup *cg, struct ward_oci_cg_dir *d);

/* Partial (rootless): a hierarchy where the caller may not make or open the
 * path is left out, when nothing was made in it. */
static int add_dir_partial(struct ward_oci_cgroup *cg, int rootfd, const char *name, bool create,
			   ward_error_t *err)
{
	ward_error_t e = NULL;
	struct ward_oci_cg_dir *d;

	if (!cg->partial)
		return add_dir(cg, rootfd, name, create, err);
	if (add_dir(cg, rootfd, name, create, &e) == 0)
		return 0;
	d = &cg->dirs[cg->n_dirs - 1];
	if (d->created ||
	    (e->code != EACCES && e->code != EPERM && e->code != ENOENT && e->code != EROFS)) {
		*err = e;
		return -1;
	}
	ward_error_free(&e);
	if (d->fd >= 0)
		close(d->fd);
	free(d->name);
	free(d->path);
	dir_init(d);
	cg->n_dirs--;
	return 0;
}

static int open_cgroup(const char *root, const char *path, bool create, bool partial,
		       struct ward_oci_cgroup **out, ward_error_t *err)
{
	struct ward_oci_cgroup *cg = cg_new(root, path);
	cleanup_close int rootfd = -1;
	size_t i;

	*out = NULL;
	cg->partial = partial;
	cg->no_devices = partial;
	cg->layout = ward_cgroup_detect(cg->root);
	rootfd = open(cg->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg->layout == WARD_CGROUP_NONE || rootfd < 0) {
		ward_error_set(err, ENOENT,
			       "no cgroup hierarchy found at %s: resources cannot be enforced",
			       cg->root);
		ward_oci_cgroup_free(cg);
		return -1;
	}
	if (cg->layout == WARD_CGROUP_V2) {
		cg->standin = !ward_cg_fs_is(rootfd, CGROUP2_SUPER_MAGIC);
		if (add_dir_partial(cg, rootfd, "", create, err) < 0)
			goto fail;
	} else {
		char **names = NULL;
		size_t n = 0;

		if (list_v1(cg, rootfd, &names, &n, err) < 0)
			goto fail;
		qsort(names, n, sizeof(char *), cmp_str);
		for (i = 0; i < n; i++) {
			if (add_dir_partial(cg, rootfd, names[i], create, err) < 0) {
				for (; i < n; i++)
					free(names[i]);
				free(names);
				goto fail;
			}
			free(names[i]);
		}
		free(names);
	}
	if (cg->n_dirs == 0 && partial) {
		ward_oci_cgroup_free(cg);
		return 0;
	}
	*out = cg;
	return 0;
fail:
	if (create) {
		ward_error_t ignored = NULL;

		(void)ward_oci_cgroup_destroy(cg, &ignored);
		ward_error_free(&ignored);
	} else {
		ward_oci_cgroup_free(cg);
	}
	return -1;
}

int ward_oci_cgroup_open(const char *root, const char *path, bool create,
			 struct ward_oci_cgroup **out, ward_error_t *err)
{
	return open_cgroup(root, path, create, false, out, err);
}

int ward_oci_cgroup_open_partial(const char *root, const char *path, bool create,
				 struct ward_oci_cgroup **out, ward_error_t *err)
{
	return open_cgroup(root, path, create, true, out, err);
}

/* ---- resources, v1 ---- */

static void warn_missing(const char *what, const char *file)
{
	ward_oci_log(WARD_LOG_WARN, "cgroup: %s is not supported by this kernel (no %s); ignored",
		     what, file);
}

/*
 * A resource the config sets but this host has no controller or file for.
 * runtime.md (create): "If the runtime cannot apply a property as
 * specified in the configuration, it MUST generate an error" and no
 * container is created (crun does the same; runc mostly ignores).  Two
 * exceptions, warnings instead, because engines set them on every
 * container whatever the host: memory.swap without swap accounting, and
 * the deprecated memory.kernel (see v1_memory).
 */
static int missing(ward_error_t *err, const char *what, const char *file)
{
	return ward_error_set(err, EOPNOTSUPP,
			      "%s is set, but this host cannot apply it (no %s): remove it from "
			      "config.json, or run the container on a host that has it",
			      what, file);
}

static int v1_memory(struct ward_oci_cgroup *cg, const struct ward_oci_resources *r,
		     ward_error_t *err)
{
	struct ward_oci_cg_dir *d = dir_for(cg, "memory");

	if (!(r->has_mem_limit || r->has_mem_swap || r->has_mem_reservation || r->has_swappiness ||
	      r->disable_oom_killer || r->has_kmem || r->has_kmem_tcp))
		return 0;
	if (d == NULL)
		return ward_error_set(err, ENOENT,
				      "linux.resources.memory is set but no memory controller is "
				      "mounted under %s",
				      cg->root);
	if (r->has_mem_limit) {
		int64_t lim = r->mem_limit > 0 ? r->mem_limit : -1;
		bool swap = r->has_mem_swap && cg_has(cg, d, "memory.memsw.limit_in_bytes");
		int64_t sw = r->mem_swap > 0 ? r->mem_swap : -1;

		/* The kernel wants limit <= memsw at every moment: when raising,
		 * memsw goes first; when lowering, the limit does. */
		if (swap && ward_cg_write_at(d->fd, "memory.limit_in_bytes", lim < 0 ? "-1" : "0",
					     cg->standin) == -EINVAL) {
			if (cg_write_i64(cg, d, "memory.memsw.limit_in_bytes", sw, err) < 0 ||
			    cg_write_i64(cg, d, "memory.limit_in_bytes", lim, err) < 0)
				return -1;
		} else {
			if (cg_write_i64(cg, d, "memory.limit_in_bytes", lim, err) < 0)
				return -1;
			if (swap && cg_write_i64(cg, d, "memory.memsw.limit_in_bytes", sw, err) < 0)
				return -1;
		}
		if (r->has_mem_swap && !swap)
			warn_missing("linux.resources.memory.swap", "memory.memsw.limit_in_bytes");
	} else if (r->has_mem_swap) {
		if (cg_has(cg, d, "memory.memsw.limit_in_bytes")) {
			if (cg_write_i64(cg, d, "memory.memsw.limit_in_bytes",
					 r->mem_swap > 0 ? r->mem_swap : -1, err) < 0)
				return -1;
		} else {
			warn_missing("linux.resources.memory.swap", "memory.memsw.limit_in_bytes");
		}
	}
	if (r->has_mem_reservation &&
	    cg_write_i64(cg, d, "memory.soft_limit_in_bytes",
			 r->mem_reservation > 0 ? r->mem_reservation : -1, err) < 0)
		return -1;
	if (r->has_swappiness && r->swappiness <= 100 &&
	    cg_write_u64(cg, d, "memory.swappiness", r->swappiness, err) < 0)
		return -1;
	if (r->disable_oom_killer && cg_write(cg, d, "memory.oom_control", "1", err) < 0)
		return -1;
	/* kernelTCP: the kernel still enforces memory.kmem.tcp.limit_in_bytes. */
	if (r->has_kmem_tcp) {
		if (!cg_has(cg, d, "memory.kmem.tcp.limit_in_bytes"))
			return missing(err, "linux.resources.memory.kernelTCP",
				       "memory.kmem.tcp.limit_in_bytes");
		if (cg_write_i64(cg, d, "memory.kmem.tcp.limit_in_bytes",
				 r->kmem_tcp > 0 ? r->kmem_tcp : -1, err) < 0)
			return -1;
	}
	/* kernel: Linux 5.16 made memory.kmem.limit_in_bytes a file that takes
	 * any value and enforces none (kernel memory is charged to
	 * memory.limit_in_bytes).  Written for a kernel that still has it;
	 * where the value does not stick, said (deprecated in the spec too). */
	if (r->has_kmem && r->kmem > 0) {
		cleanup_free char *back = NULL;

		if (!cg_has(cg, d, "memory.kmem.limit_in_bytes")) {
			warn_missing("linux.resources.memory.kernel", "memory.kmem.limit_in_bytes");
		} else {
			if (cg_write_i64(cg, d, "memory.kmem.limit_in_bytes", r->kmem, err) < 0)
				return -1;
			if (!cg->standin &&
			    (ward_cg_read_at(d->fd, "memory.kmem.limit_in_bytes", &back) < 0 ||
			     strtoll(back, NULL, 10) != r->kmem))
				ward_oci_log(WARD_LOG_WARN,
					     "cgroup: linux.resources.memory.kernel: this kernel "
					     "no longer limits kernel memory on its own (it counts "
					     "in memory.limit_in_bytes); ignored");
		}
	}
	return 0;
}

static int v1_cpu(struct ward_oci_cgroup *cg, const struct ward_oci_resources *r, ward_error_t *err)
{
	struct ward_oci_cg_dir *d = dir_for(cg, "cpu");
	struct ward_oci_cg_dir *cs = dir_for(cg, "cpuset");

	if (r->has_cpu_shares || r->has_cpu_quota || r->has_cpu_period || r->has_rt_runtime ||
	    r->has_rt_period || r->has_cpu_idle) {
		if (d == NULL)
			return ward_error_set(err, ENOENT,
					      "linux.resources.cpu is set but no cpu controller is "
					      "mounted under %s",
					      cg->root);
		if (r->has_cpu_shares && r->cpu_shares &&
		    cg_write_u64(cg, d, "cpu.shares", r->cpu_shares, err) < 0)
			return -1;
		/* The period first: the quota is checked against it. */
		if (r->has_cpu_period && r->cpu_period &&
		    cg_write_u64(cg, d, "cpu.cfs_period_us", r->cpu_period, err) < 0)
			return -1;
		if (r->has_cpu_quota && cg_write_i64(cg, d, "cpu.cfs_quota_us",
						     r->cpu_quota > 0 ? r->cpu_quota : -1, err) < 0)
			return -1;
		if (r->has_rt_period && r->rt_period) {
			if (!cg_has(cg, d, "cpu.rt_period_us"))
				return missing(err, "linux.resources.cpu.realtimePeriod",
					       "cpu.rt_period_us");
			else if (cg_write_u64(cg, d, "cpu.rt_period_us", r->rt_period, err) < 0)
				return -1;
		}
		if (r->has_rt_runtime && r->rt_runtime) {
			if (!cg_has(cg, d, "cpu.rt_runtime_us"))
				return missing(err, "linux.resources.cpu.realtimeRuntime",
					       "cpu.rt_runtime_us");
			else if (cg_write_i64(cg, d, "cpu.rt_runtime_us", r->rt_runtime, err) < 0)
				return -1;
		}
		if (r->has_cpu_idle) {
			if (!cg_has(cg, d, "cpu.idle"))
				return missing(err, "linux.resources.cpu.idle", "cpu.idle");
			else if (cg_write_i64(cg, d, "cpu.idle", r->cpu_idle, err) < 0)
				return -1;
		}
	}
	if (r->cpus || r->mems) {
		if (cs == NULL)
			return ward_error_set(err, ENOENT,
					      "linux.resources.cpu.cpus/mems are set but no cpuset "
					      "controller is mounted under %s",
					      cg->root);
		if (r->cpus && cg_write(cg, cs, "cpuset.cpus", r->cpus, err) < 0)
			return -1;
		if (r->mems && cg_write(cg, cs, "cpuset.mems", r->mems, err) < 0)
			return -1;
	}
	return 0;
}

static int v1_blkio(struct ward_oci_cgroup *cg, const struct ward_oci_resources *r,
		    ward_error_t *err)
{
	static const char *const tfile[4] = {
		"blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
		"blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device"};
	struct ward_oci_cg_dir *d = dir_for(cg, "blkio");
	size_t i, k;
	bool any = r->blkio_weight >= 0 || r->blkio_leaf_weight >= 0 || r->n_weight_devices;

	for (k = 0; k < 4; k++)
		any |= r->n_throttle[k] > 0;
	if (!any)
		return 0;
	if (d == NULL)
		return missing(err, "linux.resources.blockIO", "blkio controller");
	if (r->blkio_weight >= 0) {
		/* CFQ's blkio.weight, or BFQ's blkio.bfq.weight; this kernel
		 * (mq-deadline/none schedulers) may have neither. */
		const char *f = cg_has(cg, d, "blkio.weight")	    ? "blkio.weight"
				: cg_has(cg, d, "blkio.bfq.weight") ? "blkio.bfq.weight"
								    : NULL;

		if (f == NULL)
			return missing(err, "linux.resources.blockIO.weight",
				       "blkio.weight or blkio.bfq.weight");
		else if (cg_write_u64(cg, d, f, (uint64_t)r->blkio_weight, err) < 0)
			return -1;
	}
	if (r->blkio_leaf_weight >= 0) {
		if (!cg_has(cg, d, "blkio.leaf_weight"))
			return missing(err, "linux.resources.blockIO.leafWeight",
				       "blkio.leaf_weight");
		else if (cg_write_u64(cg, d, "blkio.leaf_weight", (uint64_t)r->blkio_leaf_weight,
				      err) < 0)
			return -1;
	}
	for (i = 0; i < r->n_weight_devices; i++) {
		const struct ward_oci_weight_device *w = &r->weight_devices[i];
		char buf[64];

		if (w->weight < 0)
			continue;
		if (!cg_has(cg, d, "blkio.weight_device"))
			return missing(err, "linux.resources.blockIO.weightDevice",
				       "blkio.weight_device");
		snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %d", w->major, w->minor,
			 w->weight);
		if (cg_write(cg, d, "blkio.weight_device", buf, err) < 0)
			return -1;
	}
	for (k = 0; k < 4; k++) {
		for (i = 0; i < r->n_throttle[k]; i++) {
			char buf[80];

			snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %" PRIu64,
				 r->throttle[k][i].major, r->throttle[k][i].minor,
				 r->throttle[k][i].rate);
			if (cg_write(cg, d, tfile[k], buf, err) < 0)
				return -1;
		}
	}
	return 0;
}

/* Device rules every container gets after its own, as runc does: mknod of
 * anything (access is still checked at open), and the nodes the runtime-spec
 * says a runtime MUST provide. */
static const char *const default_allow[] = {
	"c *:* m",   "b *:* m",	  "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm",   "c 1:8 rwm",
	"c 1:9 rwm", "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm",
};

static void rule_text(const struct ward_oci_devrule *d, char *buf, size_t len)
{
	char maj[24], min[24];

	if (d->type == 'a' && d->major < 0 && d->minor < 0) {
		snprintf(buf, len, "a");
		return;
	}
	if (d->major < 0)
		strcpy(maj, "*");
	else
		snprintf(maj, sizeof(maj), "%" PRId64, d->major);
	if (d->minor < 0)
		strcpy(min, "*");
	else
		snprintf(min, sizeof(min), "%" PRId64, d->minor);
	snprintf(buf, len, "%c %s:%s %s", d->type, maj, min, d->access[0] ? d->access : "rwm");
}

static int v1_devices(struct ward_oci_cgroup *cg, const struct ward_oci_resources *r, bool defaults,
		      ward_error_t *err)
{
	struct ward_oci_cg_dir *d = dir_for(cg, "devices");
	size_t i;

	if (d == NULL)
		return ward_error_set(err, ENOENT,
				      "no devices controller is mounted under %s: device access "
				      "could not be restricted",
				      cg->root);
	/* Start from nothing, whatever the parent allows; then the config's
	 * rules in order (a later rule overrides an earlier one, as in the
	 * kernel's list); then the defaults. */
	if (cg_write(cg, d, "devices.deny", "a", err) < 0)
		return -1;
	for (i = 0; i < r->n_devices; i++) {
		char buf[80];

		rule_text(&r->devices[i], buf, sizeof(buf));
		if (cg_write(cg, d, r->devices[i].allow ? "devices.allow" : "devices.deny", buf,
			     err) < 0)
			return -1;
	}
	for (i = 0; defaults && i < ARRAY_SIZE(default_allow); i++)
		if (cg_write(cg, d, "devices.allow", default_allow[i], err) < 0)
			return -1;
	return 0;
}

static int v1_apply(struct ward_oci_cgroup *cg, const struct ward_oci_resources *r, bool defaults,
		    ward_error_t *err)
{
	struct ward_oci_cg_dir *d;
	size_t i;

	if (v1_memory(cg, r, err) < 0 || v1_cpu(cg, r, err) < 0)
		return -1;
	if (r->has_pids_limit) {
		d = dir_for(cg, "pids");
		if (d == NULL)
			return ward_error_set(
				err, ENOENT,
				"linux.resources.pids is set but no pids controller is "
				"mounted under %s",
				cg->root);
		if (r->pids_limit > 0 ? cg_write_i64(cg, d, "pids.max", r->pids_limit, err) < 0
				      : cg_write(cg, d, "pids.max", "max", err) < 0)
			return -1;
	}
	if (v1_blkio(cg, r, err) < 0 || (!cg->no_devices && v1_devices(cg, r, defaults, err) < 0))
		return -1;
	if (r->has_net_classid) {
		d = dir_for(cg, "net_cls");
		if (d == NULL)
			return missing(err, "linux.resources.network.classID",
				       "net_cls controller");
		if (cg_write_u64(cg, d, "net_cls.classid", r->net_classid, err) < 0)
			return -1;
	}
	for (i = 0; i < r->n_net_priorities; i++) {
		cleanup_free char *line = NULL;

		d = dir_for(cg, "net_prio");
		if (d == NULL)
			return missing(err, "linux.resources.network.priorities",
				       "net_prio controller");
		line = ward_xasprintf("%s %s", r->net_priorities[i].key,
				      r->net_priorities[i].value);
		if (cg_write(cg, d, "net_prio.ifpriomap", line, err) < 0)
			return -1;
	}
	for (i = 0; i < r->n_hugepages; i++) {
		char file[96];

		d = dir_for(cg, "hugetlb");
		snprintf(file, sizeof(file), "hugetlb.%s.limit_in_bytes", r->hugepages[i].key);
		if (d == NULL)
			return missing(err, "linux.resources.hugepageLimits",
				       "hugetlb controller in the container's hierarchies");
		if (cg_write(cg, d, file, r->hugepages[i].value, err) < 0)
			return -1;
	}
	if (r->n_unified)
		return ward_error_set(
			err, EINVAL,
			"linux.resources.unified is set, but this host uses cgroup "
			"%s for the container's controllers (unified needs cgroup v2)",
			ward_cgroup_layout_name(cg->layout));
	return 0;
}

/* ---- resources, v2 ---- */

/*
 * v2 has no devices controller: a BPF_PROG_TYPE_CGROUP_DEVICE program
 * decides instead.  The program below checks the rules from last to first
 * (a later rule overrides an earlier one, as on v1) and denies what no rule
 * matches.  ctx is struct bpf_cgroup_dev_ctx { u32 access_type (access << 16
 * | type); u32 major; u32 minor; }.
 */
struct insn_buf {
	struct bpf_insn *v;
	size_t n, cap;
};

static void emit(struct insn_buf *b, struct bpf_insn i)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 64;
		b->v = ward_xrealloc(b->v, b->cap * sizeof(*b->v));
	}
	b->v[b->n++] = i;
}

#define INSN(c, d, s, o, i) \
	((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})

static void devrule_insns(struct insn_buf *b, const struct ward_oci_devrule *d)
{
	unsigned access = 0;
	size_t start = b->n, k;
	int type = d->type == 'c' ? BPF_DEVCG_DEV_CHAR : d->type == 'b' ? BPF_DEVCG_DEV_BLOCK : 0;

	for (k = 0; d->access[k]; k++)
		access |= d->access[k] == 'r'	? BPF_DEVCG_ACC_READ
			  : d->access[k] == 'w' ? BPF_DEVCG_ACC_WRITE
						: BPF_DEVCG_ACC_MKNOD;
	/* Jumps to "next rule" are patched to point past this rule's block
	 * (their offset is filled in at the end, marked with off = -1). */
	if (type)
		emit(b, INSN(BPF_JMP | BPF_JNE | BPF_K, 2, 0, -1, type));
	if (d->major >= 0)
		emit(b, INSN(BPF_JMP | BPF_JNE | BPF_K, 4, 0, -1, (int)d->major));
	if (d->minor >= 0)
		emit(b, INSN(BPF_JMP | BPF_JNE | BPF_K, 5, 0, -1, (int)d->minor));
	/* r6 = requested access */
	emit(b, INSN(BPF_ALU64 | BPF_MOV | BPF_X, 6, 3, 0, 0));
	if (d->allow) {
		/* matches when nothing requested lies outside the rule */
		emit(b, INSN(BPF_ALU64 | BPF_AND | BPF_K, 6, 0, 0, (int)(~access & 7)));
		emit(b, INSN(BPF_JMP | BPF_JNE | BPF_K, 6, 0, -1, 0));
	} else {
		/* a deny rule matches when any requested access is in it */
		emit(b, INSN(BPF_ALU64 | BPF_AND | BPF_K, 6, 0, 0, (int)access));
		emit(b, INSN(BPF_JMP | BPF_JEQ | BPF_K, 6, 0, -1, 0));
	}
	emit(b, INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, d->allow ? 1 : 0));
	emit(b, INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
	for (k = start; k < b->n; k++)
		if (BPF_CLASS(b->v[k].code) == BPF_JMP && b->v[k].off == -1)
			b->v[k].off = (short)(b->n - k - 1);
}

static int v2_devices(struct ward_oci_cgroup *cg, struct ward_oci_cg_dir *d,
		      const struct ward_oci_resources *r, bool defaults, ward_error_t *err)
{
	struct insn_buf b = {0};
	struct ward_oci_devrule *all;
	size_t n = 0, i;
	union bpf_attr attr;
	char log[4096] = "";
	int prog, rc = 0;

	all = ward_xcalloc(r->n_devices + ARRAY_SIZE(default_allow) + 1, sizeof(*all));
	for (i = 0; i < r->n_devices; i++)
		all[n++] = r->devices[i];
	for (i = 0; defaults && i < ARRAY_SIZE(default_allow); i++) {
		struct ward_oci_devrule *x = &all[n++];
		char t, maj[16], min[16], acc[4];

		if (sscanf(default_allow[i], "%c %15[^:]:%15s %3s", &t, maj, min, acc) != 4)
			continue;
		x->allow = true;
		x->type = t;
		x->major = maj[0] == '*' ? -1 : atoll(maj);
		x->minor = min[0] == '*' ? -1 : atoll(min);
		memcpy(x->access, acc, sizeof(x->access));
	}
	/* r2 = type, r3 = access, r4 = major, r5 = minor */
	emit(&b, INSN(BPF_LDX | BPF_MEM | BPF_W, 2, 1, 0, 0));
	emit(&b, INSN(BPF_ALU | BPF_AND | BPF_K, 2, 0, 0, 0xffff));
	emit(&b, INSN(BPF_LDX | BPF_MEM | BPF_W, 3, 1, 0, 0));
	emit(&b, INSN(BPF_ALU | BPF_RSH | BPF_K, 3, 0, 0, 16));
	emit(&b, INSN(BPF_LDX | BPF_MEM | BPF_W, 4, 1, 4, 0));
	emit(&b, INSN(BPF_LDX | BPF_MEM | BPF_W, 5, 1, 8, 0));
	for (i = n; i-- > 0;)
		devrule_insns(&b, &all[i]);
	emit(&b, INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0));
	emit(&b, INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
	free(all);

	if (cg->standin) {
		/* A stand-in tree cannot hold a program: record its size so a
		 * test sees that one was built. */
		char buf[64];

		snprintf(buf, sizeof(buf), "%zu instructions\n", b.n);
		rc = cg_write(cg, d, "ward.devices.bpf", buf, err);
		free(b.v);
		return rc;
	}
	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	attr.insns = (uint64_t)(uintptr_t)b.v;
	attr.insn_cnt = (uint32_t)b.n;
	attr.license = (uint64_t)(uintptr_t) "GPL";
	attr.log_buf = (uint64_t)(uintptr_t)log;
	attr.log_size = sizeof(log);
	attr.log_level = 1;
	prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	free(b.v);
	if (prog < 0)
		return ward_error_sys(
			err, "cgroup: loading the device eBPF program (verifier: %.200s)", log);
	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)d->fd;
	attr.attach_bpf_fd = (uint32_t)prog;
	attr.attach_type = BPF_CGROUP_DEVICE;
	attr.attach_flags = BPF_F_ALLOW_MULTI;
	if (syscall(SYS_bpf, BPF_PROG_ATTACH, &attr, sizeof(attr)) < 0)
		rc = ward_error_sys(err, "cgroup: attaching the device eBPF program to %s",
				    d->path);
	close(prog);
	return rc;
}

static int v2_apply(struct ward_oci_cgroup *cg, const struct ward_oci_resources *r, bool defaults,
		    ward_error_t *err)
{
	struct ward_oci_cg_dir *d = &cg->dirs[0];
	char buf[128];
	size_t i;

	if (r->has_mem_limit &&
	    (r->mem_limit > 0 ? cg_write_i64(cg, d, "memory.max", r->mem_limit, err)
			      : cg_write(cg, d, "memory.max", "max", err)) < 0)
		return -1;
	if (r->has_mem_reservation &&
	    (r->mem_reservation > 0 ? cg_write_i64(cg, d, "memory.low", r->mem_reservation, err)
				    : cg_write(cg, d, "memory.low", "0", err)) < 0)
		return -1;
	/* v2 has no kernel-memory or network-class files. */
	if (r->has_kmem_tcp)
		return missing(err, "linux.resources.memory.kernelTCP",
			       "cgroup v2 equivalent of memory.kmem.tcp.limit_in_bytes");
	if (r->has_kmem && r->kmem > 0)
		warn_missing("linux.resources.memory.kernel", "cgroup v2 kernel-memory limit");
	if (r->has_net_classid || r->n_net_priorities)
		return missing(err, "linux.resources.network",
			       "net_cls or net_prio controller: cgroup v2 has neither");
	if (r->has_mem_swap) {
		/* OCI's swap is memory + swap; v2's swap.max is swap alone. */
		if (!cg_has(cg, d, "memory.swap.max"))
			warn_missing("linux.resources.memory.swap", "memory.swap.max");
		else if (r->mem_swap <= 0
				 ? cg_write(cg, d, "memory.swap.max", "max", err) < 0
				 : cg_write_i64(cg, d, "memory.swap.max",
						r->mem_swap - (r->has_mem_limit && r->mem_limit > 0
								       ? r->mem_limit
								       : 0),
						err) < 0)
			return -1;
	}
	if (r->disable_oom_killer)
		ward_oci_log(WARD_LOG_WARN,
			     "cgroup: disableOOMKiller has no cgroup v2 equivalent; ignored");
	if (r->has_cpu_shares && r->cpu_shares) {
		uint64_t s = r->cpu_shares < 2	      ? 2
			     : r->cpu_shares > 262144 ? 262144
						      : r->cpu_shares;

		if (cg_write_u64(cg, d, "cpu.weight", 1 + ((s - 2) * 9999) / 262142, err) < 0)
			return -1;
	}
	if (r->has_cpu_quota || r->has_cpu_period) {
		uint64_t period = r->has_cpu_period && r->cpu_period ? r->cpu_period : 100000;

		if (r->has_cpu_quota && r->cpu_quota > 0)
			snprintf(buf, sizeof(buf), "%" PRId64 " %" PRIu64, r->cpu_quota, period);
		else
			snprintf(buf, sizeof(buf), "max %" PRIu64, period);
		if (cg_write(cg, d, "cpu.max", buf, err) < 0)
			return -1;
	}
	if (r->has_cpu_idle && cg_write_i64(cg, d, "cpu.idle", r->cpu_idle, err) < 0)
		return -1;
	if (r->cpus && cg_write(cg, d, "cpuset.cpus", r->cpus, err) < 0)
		return -1;
	if (r->mems && cg_write(cg, d, "cpuset.mems", r->mems, err) < 0)
		return -1;
	if (r->has_pids_limit &&
	    (r->pids_limit > 0 ? cg_write_i64(cg, d, "pids.max", r->pids_limit, err)
			       : cg_write(cg, d, "pids.max", "max", err)) < 0)
		return -1;
	if (r->blkio_weight > 0) {
		uint64_t w = 1 + ((uint64_t)(r->blkio_weight < 10 ? 10 : r->blkio_weight) - 10) *
					 9999 / 990;

		if (!cg_has(cg, d, "io.weight"))
			return missing(err, "linux.resources.blockIO.weight", "io.weight");
		else if (cg_write_u64(cg, d, "io.weight", w, err) < 0)
			return -1;
	}
	{
		static const char *const key[4] = {"rbps", "wbps", "riops", "wiops"};
		size_t k;

		for (k = 0; k < 4; k++)
			for (i = 0; i < r->n_throttle[k]; i++) {
				snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %s=%" PRIu64,
					 r->throttle[k][i].major, r->throttle[k][i].minor, key[k],
					 r->throttle[k][i].rate);
				if (cg_write(cg, d, "io.max", buf, err) < 0)
					return -1;
			}
	}
	for (i = 0; i < r->n_hugepages; i++) {
		char file[96];

		snprintf(file, sizeof(file), "hugetlb.%s.max", r->hugepages[i].key);
		if (!cg_has(cg, d, file))
			return missing(err, "linux.resources.hugepageLimits", file);
		if (cg_write(cg, d, file, r->hugepages[i].value, err) < 0)
			return -1;
	}
	for (i = 0; i < r->n_unified; i++) {
		const char *k = r->unified[i].key;

		if (strchr(k, '/') || k[0] == '.')
			return ward_error_set(err, EINVAL,
					      "linux.resources.unified: \"%s\" is not a cgroup "
					      "interface file name",
					      k);
		if (cg_write(cg, d, k, r->unified[i].value, err) < 0)
			return -1;
	}
	if (cg->no_devices)
		return 0;
	return v2_devices(cg, d, r, defaults, err);
}

int ward_oci_cgroup_apply(struct ward_oci_cgroup *cg, const struct ward_oci_resources *r,
			  bool devices_default, ward_error_t *err)
{
	if (cg->layout == WARD_CGROUP_V2)
		return v2_apply(cg, r, devices_default, err);
	return v1_apply(cg, r, devices_default, err);
}

int ward_oci_cgroup_update(struct ward_oci_cgroup *cg, const struct ward_oci_resources *r,
			   ward_error_t *err)
{
	int rc;

	cg->no_devices = true;
	rc = ward_oci_cgroup_apply(cg, r, false, err);
	cg->no_devices = false;
	return rc;
}

/* ---- statistics (events --stats) ---- */

static json_t *read_u64_json(struct ward_oci_cgroup *cg, const char *ctrl, const char *file)
{
	struct ward_oci_cg_dir *d = dir_for(cg, ctrl);
	uint64_t v;

	if (d == NULL || ward_cg_read_u64(d->fd, file, &v) < 0)
		return json_integer(0);
	return json_integer((json_int_t)v);
}

/* "max" (v2) and v1's page-rounded LONG_MAX both mean no limit: 0, as
 * runc reports an unlimited pids.max. */
static json_t *limit_json(struct ward_oci_cgroup *cg, const char *ctrl, const char *file)
{
	struct ward_oci_cg_dir *d = dir_for(cg, ctrl);
	cleanup_free char *text = NULL;
	unsigned long long v;

	if (d == NULL || ward_cg_read_at(d->fd, file, &text) < 0 || strncmp(text, "max", 3) == 0)
		return json_integer(0);
	v = strtoull(text, NULL, 10);
	return json_integer(v >= (1ULL << 62) ? 0 : (json_int_t)v);
}

json_t *ward_oci_cgroup_stats(struct ward_oci_cgroup *cg)
{
	json_t *cpu = json_object(), *usage = json_object(), *percpu = json_array();
	json_t *mem = json_object(), *mu = json_object(), *pids = json_object();
	struct ward_oci_cg_dir *d;

	if (cg->layout == WARD_CGROUP_V2) {
		uint64_t us = 0;

		d = dir_for(cg, "cpu");
		if (d)
			(void)ward_cg_keyed_get(d->fd, "cpu.stat", "usage_usec", &us);
		json_object_set_new(usage, "total", json_integer((json_int_t)(us * 1000)));
		json_object_set_new(mu, "usage", read_u64_json(cg, "memory", "memory.current"));
		json_object_set_new(mu, "limit", limit_json(cg, "memory", "memory.max"));
	} else {
		cleanup_free char *text = NULL;
		char *p, *end;

		json_object_set_new(usage, "total", read_u64_json(cg, "cpuacct", "cpuacct.usage"));
		d = dir_for(cg, "cpuacct");
		if (d && ward_cg_read_at(d->fd, "cpuacct.usage_percpu", &text) == 0)
			for (p = text;; p = end) {
				unsigned long long v = strtoull(p, &end, 10);

				if (end == p)
					break;
				json_array_append_new(percpu, json_integer((json_int_t)v));
			}
		json_object_set_new(mu, "usage",
				    read_u64_json(cg, "memory", "memory.usage_in_bytes"));
		json_object_set_new(mu, "max",
				    read_u64_json(cg, "memory", "memory.max_usage_in_bytes"));
		json_object_set_new(mu, "failcnt", read_u64_json(cg, "memory", "memory.failcnt"));
		json_object_set_new(mu, "limit", limit_json(cg, "memory", "memory.limit_in_bytes"));
	}
	json_object_set_new(usage, "percpu", percpu);
	json_object_set_new(cpu, "usage", usage);
	json_object_set_new(mem, "usage", mu);
	json_object_set_new(pids, "current", read_u64_json(cg, "pids", "pids.current"));
	json_object_set_new(pids, "limit", limit_json(cg, "pids", "pids.max"));
	return json_pack("{s:o,s:o,s:o}", "cpu", cpu, "memory", mem, "pids", pids);
}

/* ---- processes ---- */

int ward_oci_cgroup_enter(struct ward_oci_cgroup *cg, pid_t pid, ward_error_t *err)
{
	char buf[32];
	size_t i;

	snprintf(buf, sizeof(buf), "%d", (int)pid);
	for (i = 0; i < cg->n_dirs; i++) {
		struct ward_oci_cg_dir *d = &cg->dirs[i];
		int r;

		if (d->fd < 0)
			continue;
		r = ward_cg_write_at(d->fd, "cgroup.procs", buf, cg->standin);
		if (r < 0)
			return ward_error_set(err, -r, "cgroup: cannot move process %d into %s: %s",
					      (int)pid, d->path, strerror(-r));
	}
	return 0;
}

int ward_oci_cgroup_dirfd(const struct ward_oci_cgroup *cg)
{
	if (cg == NULL || cg->layout != WARD_CGROUP_V2 || cg->standin || cg->n_dirs == 0)
		return -1;
	return cg->dirs[0].fd;
}

bool ward_oci_cgroup_frozen(const struct ward_oci_cgroup *cg)
{
	struct ward_oci_cgroup *m = (struct ward_oci_cgroup *)cg;
	cleanup_free char *s = NULL;
	struct ward_oci_cg_dir *d;

	if (cg == NULL)
		return false;
	if (cg->layout == WARD_CGROUP_V2) {
		d = dir_for(m, "");
		return d && ward_cg_read_at(d->fd, "cgroup.freeze", &s) == 0 && s[0] == '1';
	}
	d = dir_for(m, "freezer");
	return d && ward_cg_read_at(d->fd, "freezer.state", &s) == 0 &&
	       (strncmp(s, "FROZEN", 6) == 0 || strncmp(s, "FREEZING", 8) == 0);
}

int ward_oci_cgroup_freeze(struct ward_oci_cgroup *cg, bool freeze, ward_error_t *err)
{
	int64_t deadline = mono_ms() + 5000;
	struct ward_oci_cg_dir *d;

	if (cg->layout == WARD_CGROUP_V2) {
		d = dir_for(cg, "");
		if (d == NULL || cg_write(cg, d, "cgroup.freeze", freeze ? "1" : "0", err) < 0)
			return -1;
		if (cg->standin)
			return 0;
		for (;;) {
			uint64_t v = 0;

			if (ward_cg_keyed_get(d->fd, "cgroup.events", "frozen", &v) == 0 &&
			    v == (freeze ? 1u : 0u))
				return 0;
			if (mono_ms() > deadline)
				return ward_error_set(err, ETIMEDOUT,
						      "cgroup: %s did not %s within 5 s", d->path,
						      freeze ? "freeze" : "thaw");
			nap_ms(1);
		}
	}
	d = dir_for(cg, "freezer");
	if (d == NULL)
		return ward_error_set(err, ENOENT,
				      "no freezer controller is mounted under %s: pause and resume "
				      "need it",
				      cg->root);
	for (;;) {
		cleanup_free char *s = NULL;
		const char *want = freeze ? "FROZEN" : "THAWED";

		/* FREEZING can stay while a task is in an uninterruptible
		 * state: write again until the kernel reports FROZEN. */
		if (cg_write(cg, d, "freezer.state", want, err) < 0)
			return -1;
		if (ward_cg_read_at(d->fd, "freezer.state", &s) == 0 &&
		    strncmp(s, want, strlen(want)) == 0)
			return 0;
		if (mono_ms() > deadline) {
			if (freeze)
				(void)ward_cg_write_at(d->fd, "freezer.state", "THAWED", false);
			return ward_error_set(err, ETIMEDOUT, "cgroup: %s did not %s within 5 s",
					      d->path, freeze ? "freeze" : "thaw");
		}
		nap_ms(1);
	}
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

int ward_oci_cgroup_pids(const struct ward_oci_cgroup *cg, pid_t **out, size_t *n_out,
			 ward_error_t *err)
{
	struct ward_oci_cgroup *m = (struct ward_oci_cgroup *)cg;
	struct ward_oci_cg_dir *d = dir_for(m, cg->layout == WARD_CGROUP_V2 ? "" : "pids");
	cleanup_free char *buf = NULL;
	char *line, *save = NULL;
	pid_t *pids = NULL;
	size_t n = 0;
	int r;

	*out = NULL;
	*n_out = 0;
	if (d == NULL && cg->n_dirs)
		d = &m->dirs[0];
	if (d == NULL || d->fd < 0)
		return 0;
	r = ward_cg_read_at(d->fd, "cgroup.procs", &buf);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return ward_error_set(err, -r, "cgroup: reading %s/cgroup.procs: %s", d->path,
				      strerror(-r));
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		uint64_t v;

		if (ward_parse_u64(line, &v) < 0 || v == 0 || v > INT32_MAX)
			continue;
		pids = ward_xrealloc(pids, (n + 1) * sizeof(*pids));
		pids[n++] = (pid_t)v;
	}
	if (n)
		qsort(pids, n, sizeof(*pids), cmp_pid);
	*out = pids;
	*n_out = n;
	return 0;
}

bool ward_oci_cgroup_owned(const struct ward_oci_cgroup *cg)
{
	size_t i;

	for (i = 0; i < cg->n_dirs; i++)
		if (cg->dirs[i].created < 1)
			return false;
	return cg->n_dirs > 0;
}

#ifndef NS_GET_PARENT
#define NS_GET_PARENT 0xb702
#endif

/* Is pid in the scope's pid namespace, or in one nested in it?  Walks the
 * process's pid namespace up to the caller's own (where NS_GET_PARENT
 * stops with EPERM). */
static bool in_pidns(pid_t pid, const struct ward_oci_cg_scope *sc)
{
	char path[64];
	int fd, depth;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	for (depth = 0; fd >= 0 && depth < 40; depth++) {
		struct stat st;
		int parent;

		if (fstat(fd, &st) == 0 && st.st_dev == sc->pidns_dev &&
		    st.st_ino == sc->pidns_ino) {
			close(fd);
			return true;
		}
		parent = ioctl(fd, NS_GET_PARENT);
		close(fd);
		fd = parent;
	}
	if (fd >= 0)
		close(fd);
	return false;
}

/* May the runtime signal pid, a member of the cgroup?  (Called with a
 * pidfd held on it, so the answer is about that very process.) */
static bool ours(const struct ward_oci_cgroup *cg, pid_t pid)
{
	const struct ward_oci_cg_scope *sc = &cg->scope;

	if (ward_oci_cgroup_owned(cg))
		return true;
	if (sc->init && pid == sc->init && sc->init_start &&
	    ward_oci_proc_start_time(pid) == sc->init_start)
		return true;
	return sc->pidns && in_pidns(pid, sc);
}

int ward_oci_cgroup_signal(const struct ward_oci_cgroup *cg, int sig, ward_error_t *err)
{
	cleanup_free pid_t *pids = NULL;
	size_t n = 0, i;

	if (cg->standin)
		return 0;
	if (ward_oci_cgroup_pids(cg, &pids, &n, err) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		/* A pidfd pins the process: if the pid was reused since the
		 * list was read, the check below sees it is not ours. */
		int pfd = (int)syscall(SYS_pidfd_open, pids[i], 0);
		cleanup_free pid_t *again = NULL;
		size_t m = 0, k;
		bool still = false;

		if (pfd < 0)
			continue;
		if (ward_oci_cgroup_pids(cg, &again, &m, NULL) == 0)
			for (k = 0; k < m; k++)
				still |= again[k] == pids[i];
		if (still && ours(cg, pids[i]))
			(void)syscall(SYS_pidfd_send_signal, pfd, sig, NULL, 0);
		close(pfd);
	}
	return 0;
}

/* How many of the cgroup's processes are ward's. */
static size_t count_ours(const struct ward_oci_cgroup *cg)
{
	cleanup_free pid_t *pids = NULL;
	size_t n = 0, i, k = 0;

	if (ward_oci_cgroup_pids(cg, &pids, &n, NULL) < 0)
		return 0;
	for (i = 0; i < n; i++)
		k += ours(cg, pids[i]);
	return k;
}

/* ---- removal ---- */

static void rm_levels(struct ward_oci_cgroup *cg, struct ward_oci_cg_dir *d)
{
	cleanup_free char *path = ward_xstrdup(d->path);
	int level;

	if (d->fd >= 0) {
		close(d->fd);
		d->fd = -1;
	}
	for (level = 0; level < d->created; level++) {
		int64_t deadline = mono_ms() + 1000;
		char *slash;

		for (;;) {
			int r = 0;

			if (cg->standin) {
				/* A stand-in directory holds the files ward wrote. */
				DIR *dir = opendir(path);
				struct dirent *e;

				while (dir && (e = readdir(dir)) != NULL) {
					cleanup_free char *f = NULL;

					if (e->d_name[0] == '.' || e->d_type == DT_DIR)
						continue;
					f = ward_xasprintf("%s/%s", path, e->d_name);
					(void)unlink(f);
				}
				if (dir)
					closedir(dir);
			}
			if (rmdir(path) < 0)
				r = errno;
			if (r != EBUSY || mono_ms() > deadline)
				break;
			nap_ms(2);
		}
		slash = strrchr(path, '/');
		if (slash == NULL)
			break;
		*slash = '\0';
	}
	d->created = 0;
}

int ward_oci_cgroup_destroy(struct ward_oci_cgroup *cg, ward_error_t *err)
{
	int64_t deadline;
	size_t i;

	if (cg == NULL)
		return 0;
	if (!cg->standin) {
		deadline = mono_ms() + 3000;
		for (;;) {
			size_t n = count_ours(cg);

			if (n == 0)
				break;
			(void)ward_oci_cgroup_signal(cg, SIGKILL, NULL);
			/* A frozen task dies only once thawed.  (A cgroup
			 * ward did not make is left as it was found.) */
			if (ward_oci_cgroup_owned(cg) && ward_oci_cgroup_frozen(cg))
				(void)ward_oci_cgroup_freeze(cg, false, NULL);
			if (mono_ms() > deadline) {
				ward_error_set(
					err, EBUSY,
					"cgroup %s still holds %zu process(es) after SIGKILL",
					cg->path, n);
				break;
			}
			nap_ms(2);
		}
	}
	for (i = 0; i < cg->n_dirs; i++)
		rm_levels(cg, &cg->dirs[i]);
	ward_oci_cgroup_free(cg);
	return err && *err ? -1 : 0;
}

void ward_oci_cgroup_free(struct ward_oci_cgroup *cg)
{
	size_t i;

	if (cg == NULL)
		return;
	for (i = 0; i < cg->n_dirs; i++) {
		if (cg->dirs[i].fd >= 0)
			close(cg->dirs[i].fd);
		free(cg->dirs[i].name);
		free(cg->dirs[i].path);
	}
	for (i = 0; i < cg->n_symlinks * 2; i++)
		free(cg->symlinks[i]);
	free(cg->symlinks);
	free(cg->root);
	free(cg->path);
	free(cg);
}

/* ---- state ---- */

json_t *ward_oci_cgroup_to_json(const struct ward_oci_cgroup *cg)
{
	json_t *created = json_object();
	size_t i;

	for (i = 0; i < cg->n_dirs; i++)
		json_object_set_new(created, cg->dirs[i].name, json_integer(cg->dirs[i].created));
	return json_pack("{s:s,s:s,s:s,s:o,s:b}", "root", cg->root, "path", cg->path, "layout",
			 ward_cgroup_layout_name(cg->layout), "created", created, "partial",
			 cg->partial);
}

int ward_oci_cgroup_from_json(json_t *j, struct ward_oci_cgroup **out, ward_error_t *err)
{
	const char *root = NULL, *path = NULL;
	json_t *created = NULL;
	struct ward_oci_cgroup *cg = NULL;
	int partial = 0;
	size_t i;

	*out = NULL;
	if (json_unpack(j, "{s:s,s:s,s?o,s?b}", "root", &root, "path", &path, "created", &created,
			"partial", &partial) < 0)
		return ward_error_set(err, EINVAL, "state: malformed cgroup entry");
	/* Finding fails only when the directories are gone: then there is
	 * nothing left to manage. */
	if (open_cgroup(root, path, false, partial, &cg, err) < 0)
		return -1;
	if (cg == NULL)
		return ward_error_set(err, ENOENT, "cgroup %s is gone", path);
	for (i = 0; created && i < cg->n_dirs; i++) {
		json_t *v = json_object_get(created, cg->dirs[i].name);

		cg->dirs[i].created = json_is_integer(v) ? (int)json_integer_value(v) : 0;
	}
	*out = cg;
	return 0;
}
