/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * noclone3: run a command under a seccomp filter that answers clone3(2)
 * with ENOSYS and allows everything else, as the filter of an outer
 * sandbox or container engine does (a filter cannot read clone3's flags,
 * which live in memory, so profiles refuse it "as unknown" and expect
 * callers to fall back to clone(2)).
 *
 *   noclone3 CMD [ARGS...]
 *
 * Exit status: CMD's; 3 when the filter cannot be installed.  Test code:
 * never installed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#else
#error "noclone3: unsupported architecture"
#endif

int main(int argc, char **argv)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};

	if (argc < 2) {
		fprintf(stderr, "usage: noclone3 CMD [ARGS...]\n");
		return 2;
	}
	/* No no_new_privs: the caller is root (CAP_SYS_ADMIN), and ward must
	 * still be able to run set-id programs where a test asks for it. */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) {
		fprintf(stderr, "noclone3: seccomp: %s\n", strerror(errno));
		return 3;
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "noclone3: %s: %s\n", argv[1], strerror(errno));
	return 127;
}
