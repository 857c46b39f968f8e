// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The runtime's own binary, protected from the containers it enters
 * (CVE-2019-5736).
 *
 * The attack: a process of the container opens /proc/PID/exe of a runtime
 * process that has joined the container (ward exec's process before its
 * execve, the init while a startContainer hook runs), or makes the runtime
 * execute a planted script that starts with "#!/proc/self/exe", which has
 * the kernel run the runtime's binary as the container's own process.
 * Either way it holds a descriptor of the host's ward binary; once no
 * process executes that file any more, reopening it through
 * /proc/self/fd/N for writing succeeds, and the next `ward` anybody runs on
 * the host is the container's.
 *
 * Two defences, both deliberate:
 *   1. The commands that put a process into a container (create, run,
 *      exec) first re-execute themselves from a copy of the binary in a
 *      memfd sealed against writing, growing, shrinking and further
 *      sealing.  /proc/self/exe of every process they start is that copy:
 *      not the host's file, and not writable by anybody.
 *   2. Once running from the copy, the process is not dumpable
 *      (PR_SET_DUMPABLE 0), and so are its children until their execve of
 *      the container's program: /proc/PID/exe, /proc/PID/fd, /proc/PID/mem
 *      and ptrace then need CAP_SYS_PTRACE in the host's user namespace,
 *      which no container holds under the entitlements.
 * Every descriptor the runtime opens is O_CLOEXEC, and the processes that
 * enter a container close every descriptor they do not need first thing
 * (init.c, exec.c).
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/memfd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../util.h"
#include "internal.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

extern char **environ;

/* argv as the kernel has it: main's argv is not at hand in the library. */
static char **own_argv(void)
{
	cleanup_free char *buf = NULL;
	size_t len = 0, n = 0, i;
	char **v;

	if (ward_read_file("/proc/self/cmdline", &buf, &len) < 0 || len == 0)
		return NULL;
	for (i = 0; i < len; i++)
		n += buf[i] == '\0';
	if (buf[len - 1] != '\0')
		n++;
	v = ward_xcalloc(n + 1, sizeof(char *));
	for (i = 0, n = 0; i < len; i += strlen(buf + i) + 1)
		v[n++] = ward_xstrdup(buf + i);
	return v;
}

static int copy_all(int to, int from, off_t size)
{
	off_t off = 0;

	while (off < size) {
		ssize_t n = sendfile(to, from, &off, (size_t)(size - off));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
	}
	return 0;
}

/*
 * How much of the binary the copy needs: up to the end of its last
 * loadable segment (and of its program headers).  What follows (section
 * headers, symbols, debugging information: half of a debugoptimized
 * build) is read by debuggers, never by execve; not copying it halves the
 * cost of every create, run and exec.  Anything unexpected: all of it.
 */
static off_t loadable_size(int fd, off_t size)
{
	Elf64_Ehdr eh;
	off_t end;
	int i;

	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > 64)
		return size;
	end = (off_t)(eh.e_phoff + (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr));
	for (i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (uint64_t)i * sizeof(ph))) !=
		    (ssize_t)sizeof(ph))
			return size;
		/* A segment the loader reads from the file, wherever it is. */
		if (ph.p_type != PT_NULL && (off_t)(ph.p_offset + ph.p_filesz) > end)
			end = (off_t)(ph.p_offset + ph.p_filesz);
	}
	return end > 0 && end <= size ? end : size;
}

/* The seals of the running binary; -1 when it is not a memfd. */
static int own_seals(void)
{
	cleanup_close int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);

	return self >= 0 ? fcntl(self, F_GET_SEALS) : -1;
}

int ward_oci_protect_self(ward_error_t *err)
{
	cleanup_close int self = -1;
	cleanup_close int mem = -1;
	char **argv;
	struct stat st;
	int seals = own_seals();

	if (seals >= 0 && (seals & SEALS) != SEALS)
		return ward_error_set(err, EPERM,
				      "ward runs from a memfd that is not sealed against writing");
	if (seals >= 0) {
		/* The copy: children stay undumpable until their own execve. */
		if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
			return ward_error_sys(err, "prctl(PR_SET_DUMPABLE, 0)");
		/* execveat(fd, "") names the process after the descriptor. */
		(void)prctl(PR_SET_NAME, "ward", 0, 0, 0);
		return 0;
	}
	self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (self < 0 || fstat(self, &st) < 0)
		return ward_error_sys(err, "cannot open ward's own binary (/proc/self/exe)");
	/* MFD_EXEC: executable even where vm.memfd_noexec makes memfds
	 * non-executable by default (refused only with memfd_noexec=2). */
	mem = memfd_create("ward", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (mem < 0 && errno == EINVAL)
		mem = memfd_create("ward", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mem < 0)
		return ward_error_sys(err, "memfd_create for a sealed copy of ward");
	if (copy_all(mem, self, loadable_size(self, st.st_size)) < 0)
		return ward_error_sys(err, "copying ward into a sealed memfd");
	if (fcntl(mem, F_ADD_SEALS, SEALS) < 0)
		return ward_error_sys(err, "sealing the copy of ward");
	argv = own_argv();
	if (argv == NULL)
		return ward_error_set(err, EINVAL, "cannot read /proc/self/cmdline");
	syscall(SYS_execveat, mem, "", argv, environ, AT_EMPTY_PATH);
	{
		int e = errno;
		size_t i;

		for (i = 0; argv[i]; i++)
			free(argv[i]);
		free(argv);
		errno = e;
	}
	return ward_error_sys(err,
			      "cannot run ward from a sealed copy of itself (the defence against "
			      "CVE-2019-5736; is vm.memfd_noexec 2?)");
}
