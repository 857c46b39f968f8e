// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The process steps shared by a container's init and by exec: capability
 * sets as the runtime-spec defines them, the user, rlimits, the terminal,
 * and finding the program.
 *
 * Why not lib/caps.c: ward's own sandboxes lock securebits (SECBIT_NOROOT)
 * and make every kept capability ambient, so uid 0 is not special.  An OCI
 * config instead sets the five sets one by one and expects the kernel's
 * usual rules at execve (uid 0 regains its bounding set as permitted; a
 * non-root user keeps only ambient).  Containers from podman rely on that:
 * their root has effective capabilities and an empty ambient set.  So the
 * sets are applied exactly as written, in runc's order:
 *   bounding (needs CAP_SETPCAP) -> user (with PR_SET_KEEPCAPS so the
 *   uid change keeps permitted) -> effective/permitted/inheritable in one
 *   capset -> ambient raised one by one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "../caps.h"
#include "../util.h"
#include "internal.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

int ward_oci_caps_bounding(uint64_t bounding, ward_error_t *err)
{
	int last = ward_cap_last(), cap;

	for (cap = 0; cap <= last; cap++) {
		if (cap < 64 && (bounding & (UINT64_C(1) << cap)))
			continue;
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) <= 0)
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			return ward_error_sys(err, "dropping %s from the bounding set",
					      ward_cap_name(cap) ? ward_cap_name(cap) : "?");
	}
	return 0;
}

int ward_oci_set_user(const struct ward_oci_process *p, bool setgroups_ok, ward_error_t *err)
{
	/* Keep the permitted set across the uid change; the final capset
	 * decides what remains. */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return ward_error_sys(err, "prctl(PR_SET_KEEPCAPS)");
	/* Supplementary groups: exactly additionalGids (root's host groups
	 * must not leak in).  In a user namespace whose setgroups is "deny"
	 * the call is refused; the groups are then those of the namespace. */
	if (setgroups(p->n_additional_gids, p->additional_gids) < 0 &&
	    !(errno == EPERM && !setgroups_ok))
		return ward_error_sys(err, "setgroups(additionalGids)");
	if (setresgid(p->gid, p->gid, p->gid) < 0)
		return ward_error_sys(err,
				      "cannot set gid %u (is it mapped in the user namespace?)",
				      (unsigned)p->gid);
	if (setresuid(p->uid, p->uid, p->uid) < 0)
		return ward_error_sys(err,
				      "cannot set uid %u (is it mapped in the user namespace?)",
				      (unsigned)p->uid);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return ward_error_sys(err, "prctl(PR_SET_KEEPCAPS, 0)");
	return 0;
}

int ward_oci_caps_final(const struct ward_oci_caps *caps, ward_error_t *err)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	int last = ward_cap_last(), cap;

	memset(d, 0, sizeof(d));
	d[0].effective = (uint32_t)caps->effective;
	d[1].effective = (uint32_t)(caps->effective >> 32);
	d[0].permitted = (uint32_t)caps->permitted;
	d[1].permitted = (uint32_t)(caps->permitted >> 32);
	d[0].inheritable = (uint32_t)caps->inheritable;
	d[1].inheritable = (uint32_t)(caps->inheritable >> 32);
	if (syscall(SYS_capset, &h, d) < 0)
		return ward_error_sys(
			err,
			"capset (effective %#llx, permitted %#llx, inheritable %#llx; "
			"effective must be within permitted)",
			(unsigned long long)caps->effective, (unsigned long long)caps->permitted,
			(unsigned long long)caps->inheritable);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return ward_error_sys(err, "prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
	for (cap = 0; cap <= last && cap < 64; cap++) {
		if (!(caps->ambient & (UINT64_C(1) << cap)))
			continue;
		/* The kernel takes an ambient capability only when it is both
		 * permitted and inheritable; runc warns and goes on. */
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0 && errno != EPERM)
			return ward_error_sys(err, "raising %s as ambient", ward_cap_name(cap));
	}
	return 0;
}

int ward_oci_rlimits(const struct ward_oci_process *p, ward_error_t *err)
{
	size_t i;

	for (i = 0; i < p->n_rlimits; i++) {
		struct rlimit rl = {(rlim_t)p->rlimits[i].soft, (rlim_t)p->rlimits[i].hard};

		if (p->rlimits[i].soft == UINT64_MAX)
			rl.rlim_cur = RLIM_INFINITY;
		if (p->rlimits[i].hard == UINT64_MAX)
			rl.rlim_max = RLIM_INFINITY;
		if (setrlimit(p->rlimits[i].resource, &rl) < 0) {
			struct rlimit cur = {0, 0};

			getrlimit(p->rlimits[i].resource, &cur);
			return ward_error_sys(err,
					      "setrlimit %s soft %llu hard %llu (the runtime runs "
					      "with hard limit "
					      "%llu and raising it needs CAP_SYS_RESOURCE)",
					      ward_oci_rlimit_name(p->rlimits[i].resource),
					      (unsigned long long)p->rlimits[i].soft,
					      (unsigned long long)p->rlimits[i].hard,
					      (unsigned long long)cur.rlim_max);
		}
	}
	return 0;
}

int ward_oci_enter_cwd(const char *cwd, ward_error_t *err)
{
	char buf[PATH_MAX];
	long n;

	if (chdir(cwd) < 0) {
		cleanup_free char *e = ward_escape(cwd, 256);

		return ward_error_sys(err, "chdir to cwd (\"%s\") set in config.json failed", e);
	}
	/* The kernel's getcwd marks a directory outside the root
	 * "(unreachable)": a working directory reached through a descriptor
	 * (/proc/self/fd/N) can be one (CVE-2024-21626). */
	n = syscall(SYS_getcwd, buf, sizeof(buf));
	if (n < 0 || buf[0] != '/') {
		cleanup_free char *e = ward_escape(cwd, 256);

		if (n < 0)
			return ward_error_sys(err, "cwd \"%s\": getcwd", e);
		return ward_error_set(err, EPERM,
				      "cwd \"%s\" is outside the container's root: refused", e);
	}
	return 0;
}

static const char *env_get(char *const *env, const char *key)
{
	size_t n = strlen(key), i;

	for (i = 0; env && env[i]; i++)
		if (strncmp(env[i], key, n) == 0 && env[i][n] == '=')
			return env[i] + n + 1;
	return NULL;
}

char *ward_oci_find_exe(const struct ward_oci_process *p, int *status, ward_error_t *err)
{
	const char *name = p->args[0];
	const char *path = env_get(p->env, "PATH");
	bool denied = false;
	struct stat st;

	*status = 127;
	if (name[0] == '\0') {
		ward_error_set(err, ENOENT, "exec: \"\": executable file not found in $PATH");
		return NULL;
	}
	if (strchr(name, '/')) {
		if (stat(name, &st) < 0) {
			ward_error_set(err, ENOENT,
				       "exec: \"%s\": stat %s: no such file or directory", name,
				       name);
			return NULL;
		}
		if (S_ISDIR(st.st_mode) || access(name, X_OK) < 0) {
			*status = 126;
			ward_error_set(err, EACCES, "exec: \"%s\": permission denied", name);
			return NULL;
		}
		return ward_xstrdup(name);
	}
	if (path == NULL)
		path = DEFAULT_PATH;
	while (*path) {
		size_t n = strcspn(path, ":");
		char *cand = n ? ward_xasprintf("%.*s/%s", (int)n, path, name)
			       : ward_xasprintf("./%s", name);

		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(cand, X_OK) == 0)
				return cand;
			denied = true;
		}
		free(cand);
		path += n;
		if (*path == ':')
			path++;
	}
	if (denied) {
		*status = 126;
		ward_error_set(err, EACCES, "exec: \"%s\": permission denied", name);
		return NULL;
	}
	ward_error_set(err, ENOENT, "exec: \"%s\": executable file not found in $PATH", name);
	return NULL;
}

static int send_fd(int sock, int fd, const char *name, ward_error_t *err)
{
	struct msghdr msg;
	struct iovec iov;
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct cmsghdr *cm;

	memset(&msg, 0, sizeof(msg));
	memset(cbuf, 0, sizeof(cbuf));
	iov.iov_base = (void *)name;
	iov.iov_len = strlen(name);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
		return ward_error_sys(err, "sending the terminal to the console socket");
	return 0;
}

int ward_oci_setup_tty(int sock_fd, const struct ward_oci_process *p, char **slave_name,
		       ward_error_t *err)
{
	cleanup_close int master = -1;
	cleanup_close int slave = -1;
	char name[128];
	int unlock = 0;

	*slave_name = NULL;
	master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return ward_error_sys(err, "cannot open /dev/ptmx in the container (is /dev/pts "
					   "mounted?)");
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		return ward_error_sys(err, "unlockpt");
	if (ptsname_r(master, name, sizeof(name)) != 0)
		return ward_error_sys(err, "ptsname");
	slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return ward_error_sys(err, "cannot open the terminal %s", name);
	/* The program may run as another user: it must own its terminal. */
	if (fchown(slave, p->uid, (gid_t)-1) < 0 && errno != EPERM && errno != EINVAL)
		return ward_error_sys(err, "chown %s", name);
	if (p->console_width || p->console_height) {
		struct winsize ws = {.ws_row = (unsigned short)p->console_height,
				     .ws_col = (unsigned short)p->console_width};

		(void)ioctl(slave, TIOCSWINSZ, &ws);
	}
	if (send_fd(sock_fd, master, name, err) < 0)
		return -1;
	/* Session leader already (setsid at start): take it as controlling
	 * terminal, and make it the program's stdio. */
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return ward_error_sys(err, "TIOCSCTTY");
	if (dup2(slave, 0) < 0 || dup2(slave, 1) < 0 || dup2(slave, 2) < 0)
		return ward_error_sys(err, "dup2 of the terminal");
	*slave_name = ward_xstrdup(name);
	return 0;
}
