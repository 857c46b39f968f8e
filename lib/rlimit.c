/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The rlimit layer: no core dumps, a finite number of open files.
 *
 * Raising a hard limit needs CAP_SYS_RESOURCE in the *initial* user namespace
 * (rlimits are checked with capable(), not ns_capable()), which ward does not
 * have inside the sandbox and which root on some hosts does not have at all.
 * So every limit must be at or below the hard limit ward itself runs under:
 * ward_rlimits_check() says so before anything is started.
 *
 * RLIMIT_NPROC is a second layer under the pids cgroup (process.limit).
 * fork() compares it with the number of processes of the caller's real uid,
 * counted per user namespace and host uid.  That is a per-sandbox count
 * because every sandbox takes a host uid range of its own from ward's pool
 * (launch.c); sandboxes started with the same --uid-base share the count,
 * which docs/capabilities.md points out.  It is not enforced for tasks with
 * CAP_SYS_ADMIN or CAP_SYS_RESOURCE in the host's user namespace, which a
 * sandboxed program never has.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/resource.h>

#include "rlimit.h"
#include "util.h"

int ward_rlimits_check(const struct ward_policy *p, ward_error_t *err)
{
	struct rlimit rl;

	if (p->nofile == 0)
		return ward_error_set(err, EINVAL,
				      "files.limit=0: the program could not open any file, not "
				      "even its own libraries");
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return ward_error_sys(err, "getrlimit(RLIMIT_NOFILE)");
	if (rl.rlim_max != RLIM_INFINITY && p->nofile > (uint64_t)rl.rlim_max)
		return ward_error_set(
			err, EPERM,
			"files.limit=%llu is above the hard limit %llu that ward runs "
			"under; lower files.limit or raise the hard limit of the shell "
			"that starts ward (ulimit -Hn)",
			(unsigned long long)p->nofile, (unsigned long long)rl.rlim_max);
	return 0;
}

int ward_rlimits_apply(const struct ward_policy *p, ward_error_t *err)
{
	struct rlimit rl = {0, 0};

	/*
	 * No core dumps: a core file would be written where the program's
	 * cwd is, could hold secrets the program read, and with a host
	 * core_pattern pipe would run a host helper.  Lowering both limits
	 * needs no privilege and cannot be undone without CAP_SYS_RESOURCE.
	 */
	if (setrlimit(RLIMIT_CORE, &rl) < 0)
		return ward_error_sys(err, "setrlimit(RLIMIT_CORE, 0)");

	if (ward_rlimits_check(p, err) < 0)
		return -1;
	rl.rlim_cur = rl.rlim_max = (rlim_t)p->nofile;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return ward_error_sys(err, "setrlimit(RLIMIT_NOFILE, %llu) for files.limit",
				      (unsigned long long)p->nofile);

	/* One above process.limit: the pids cgroup is checked later in fork()
	 * than RLIMIT_NPROC, and should be the one that trips (its pids.events
	 * counter lets ward explain the refusal); the rlimit is the backstop. */
	/* A lower hard limit set from outside (ward inside a sandbox, whose
	 * process.limit set it) stays: raising it needs CAP_SYS_RESOURCE of
	 * the host, and the lower one is the stricter. */
	{
		struct rlimit now;

		rl.rlim_cur = rl.rlim_max = (rlim_t)p->pids_max + 1;
		if (getrlimit(RLIMIT_NPROC, &now) == 0 && now.rlim_max != RLIM_INFINITY &&
		    now.rlim_max < rl.rlim_max)
			rl.rlim_cur = rl.rlim_max = now.rlim_max;
	}
	if (setrlimit(RLIMIT_NPROC, &rl) < 0)
		return ward_error_sys(err, "setrlimit(RLIMIT_NPROC, %llu) for process.limit",
				      (unsigned long long)p->pids_max);

	/* Read back: a limit that did not take is a limit that does not hold. */
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return ward_error_sys(err, "getrlimit(RLIMIT_NOFILE)");
	if (rl.rlim_cur != (rlim_t)p->nofile || rl.rlim_max != (rlim_t)p->nofile)
		return ward_error_set(err, EPERM, "RLIMIT_NOFILE is %llu/%llu after setting %llu",
				      (unsigned long long)rl.rlim_cur,
				      (unsigned long long)rl.rlim_max,
				      (unsigned long long)p->nofile);
	if (getrlimit(RLIMIT_CORE, &rl) < 0)
		return ward_error_sys(err, "getrlimit(RLIMIT_CORE)");
	if (rl.rlim_cur != 0 || rl.rlim_max != 0)
		return ward_error_set(err, EPERM, "RLIMIT_CORE is %llu/%llu after setting 0",
				      (unsigned long long)rl.rlim_cur,
				      (unsigned long long)rl.rlim_max);
	return 0;
}
