/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Syscall groups, as data (see groups.h and docs/seccomp.md).
 *
 * Names are libseccomp's.  A name libseccomp does not know on the native
 * architecture (stime on x86_64, for instance) is skipped by the profile
 * compiler, so the lists may name calls that exist only elsewhere.
 *
 * Some syscalls are in no group on purpose, because their rules depend on
 * their arguments (profile.c): clone, clone3, unshare, socket, socketpair,
 * ioctl and personality; the calls that store a file mode (open, openat,
 * openat2, creat, chmod, fchmod, fchmodat, fchmodat2, mknod, mknodat,
 * mkdir, mkdirat), which must not carry S_ISUID or S_ISGID; setxattr,
 * lsetxattr and fsetxattr (file capabilities); and memfd_create (MFD_EXEC).
 * Calls that the kernel implements as "not
 * implemented" on x86_64 (afs_syscall, getpmsg, putpmsg, security, tuxcall,
 * vserver, epoll_ctl_old, epoll_wait_old) are in no group either: they get
 * the default ENOSYS, which is what the kernel would say.
 *
 * Every group but ward_sc_never is an allow list; a syscall in a group the
 * policy does not grant is denied with EPERM, naming the entitlement that
 * would grant it.
 */
#include <stddef.h>

#include "groups.h"

/* The lists are grouped by topic, several names a line: keep them so. */
/* clang-format off */

/*
 * security.confined: what an ordinary program, a shell, python3, git, tar
 * and coreutils need.  Modelled on the unconditional allow list of
 * Docker's default profile, minus everything that reaches namespaces,
 * mounts, other processes' memory, the clock, or large kernel attack
 * surface (io_uring, bpf, perf, keyrings, userfaultfd).
 */
const char *const ward_sc_base[] = {
	/* Files and descriptors. */
	"read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev",
	"preadv2", "pwritev2", "close", "close_range",
	"dup", "dup2", "dup3", "lseek", "fcntl", "flock", "fsync", "fdatasync", "sync",
	"syncfs", "sync_file_range", "truncate", "ftruncate", "fallocate", "fadvise64",
	"readahead", "sendfile", "copy_file_range", "splice", "tee", "vmsplice", "pipe",
	"pipe2", "memfd_secret", "cachestat",
	/* Metadata and directories. */
	"stat", "fstat", "lstat", "newfstatat", "statx", "statfs", "fstatfs", "access",
	"faccessat", "faccessat2", "getdents", "getdents64", "getcwd", "chdir", "fchdir",
	"rmdir", "rename", "renameat", "renameat2", "link", "linkat", "unlink", "unlinkat",
	"symlink", "symlinkat", "readlink", "readlinkat", "chown", "fchown", "fchownat",
	"lchown", "umask", "utime", "utimes", "utimensat", "futimesat",
	/* Extended attributes (security.* and trusted.* still need capabilities;
	 * setting them is argument-filtered in profile.c). */
	"getxattr", "lgetxattr", "fgetxattr", "listxattr", "llistxattr", "flistxattr", "removexattr", "lremovexattr",
	"fremovexattr",
	/* Waiting and events. */
	"poll", "ppoll", "select", "pselect6", "epoll_create", "epoll_create1", "epoll_ctl",
	"epoll_wait", "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2", "signalfd",
	"signalfd4", "timerfd_create", "timerfd_settime", "timerfd_gettime",
	"inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch",
	/* fanotify_mark is useless without a group from fanotify_init (admin). */
	"fanotify_mark",
	/* Asynchronous I/O (the old interface; io_uring is in ward_sc_never). */
	"io_setup", "io_destroy", "io_getevents", "io_pgetevents", "io_submit",
	"io_cancel",
	/* Memory. */
	"brk", "mmap", "munmap", "mremap", "mprotect", "msync", "mincore", "madvise",
	"remap_file_pages", "mlock", "mlock2", "munlock", "mlockall", "munlockall",
	"pkey_alloc", "pkey_free", "pkey_mprotect", "membarrier", "map_shadow_stack",
	/* Processes and threads; clone is argument-filtered in profile.c. */
	"fork", "vfork", "execve", "execveat", "exit", "exit_group", "wait4", "waitid",
	"kill", "tkill", "tgkill", "getpid", "getppid", "gettid", "getpgid", "setpgid",
	"getpgrp", "getsid", "setsid", "set_tid_address", "set_robust_list",
	"get_robust_list", "futex", "futex_waitv", "futex_wake", "futex_wait",
	"futex_requeue", "rseq", "restart_syscall", "arch_prctl", "set_thread_area",
	"get_thread_area", "prctl", "pidfd_open", "pidfd_send_signal", "process_mrelease",
	/* Signals. */
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending",
	"rt_sigtimedwait", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "rt_sigsuspend",
	"sigaltstack", "pause",
	/* Identity.  Without capabilities these only switch among the ids the
	 * process already holds, so they cannot raise privilege. */
	"getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid", "getgroups",
	"setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setfsuid",
	"setfsgid", "setgroups", "capget", "capset",
	/* Scheduling, priorities and limits (raising them needs capabilities). */
	"sched_yield", "sched_setparam", "sched_getparam", "sched_setscheduler",
	"sched_getscheduler", "sched_get_priority_max", "sched_get_priority_min",
	"sched_rr_get_interval", "sched_setaffinity", "sched_getaffinity",
	"sched_setattr", "sched_getattr", "getpriority", "setpriority", "ioprio_get",
	"ioprio_set", "getrlimit", "setrlimit", "prlimit64", "getrusage", "getcpu",
	/* Time (reading it, timers, sleeping; setting it is ward_sc_time). */
	"time", "gettimeofday", "clock_gettime", "clock_getres", "clock_nanosleep",
	"nanosleep", "alarm", "getitimer", "setitimer", "timer_create", "timer_settime",
	"timer_gettime", "timer_getoverrun", "timer_delete", "times",
	/* System information. */
	"uname", "sysinfo", "getrandom",
	/* Sockets; socket and socketpair are argument-filtered in profile.c. */
	"bind", "listen", "connect", "accept", "accept4", "shutdown", "getsockname",
	"getpeername", "setsockopt", "getsockopt", "sendto", "recvfrom", "sendmsg",
	"recvmsg", "sendmmsg", "recvmmsg",
	/* System V and POSIX IPC (private to the sandbox's IPC namespace). */
	"shmget", "shmat", "shmdt", "shmctl", "semget", "semop", "semtimedop", "semctl",
	"msgget", "msgsnd", "msgrcv", "msgctl", "mq_open", "mq_unlink", "mq_timedsend",
	"mq_timedreceive", "mq_notify", "mq_getsetattr",
	/* Restricting oneself further is always harmless. */
	"seccomp", "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
	NULL,
};

/*
 * process.debug: inspect and control other processes of the sandbox.  The
 * kernel still applies ptrace access checks (same credentials, Yama), and
 * the sandbox's pid namespace hides every process outside it.
 */
const char *const ward_sc_debug[] = {
	"ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
	"process_madvise",
	NULL,
};

/*
 * security.user: Docker's default profile beyond the base, given Docker's
 * default capabilities (chroot comes with CAP_SYS_CHROOT).  Docker allows
 * ptrace and process_vm_* unconditionally; kcmp, pidfd_getfd and
 * process_madvise are gated by the same ptrace access checks in the kernel,
 * so security.user includes the whole of process.debug.  adjtimex and
 * clock_adjtime only read the clock without CAP_SYS_TIME, as in Docker.
 * Beyond Docker: the NUMA memory-policy calls, which Docker reserves for
 * CAP_SYS_NICE although the kernel lets every process place its own memory
 * (moving another process's pages still needs CAP_SYS_NICE).
 */
const char *const ward_sc_user[] = {
	"ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
	"process_madvise", "chroot", "name_to_handle_at", "modify_ldt", "adjtimex",
	"clock_adjtime", "mbind", "get_mempolicy", "set_mempolicy",
	"set_mempolicy_home_node", "migrate_pages", "move_pages",
	NULL,
};

/*
 * security.admin (on top of security.user): CAP_SYS_ADMIN inside the
 * sandbox's own user namespace, so mounts, hostname and joining namespaces
 * only ever affect namespaces the sandbox owns.  Namespace flags of clone
 * and unshare follow struct ward_policy.allow_ns_clone (profile.c).
 */
const char *const ward_sc_admin[] = {
	"mount", "umount", "umount2", "pivot_root", "fsopen", "fsconfig", "fsmount",
	"fspick", "move_mount", "open_tree", "mount_setattr", "setns", "sethostname",
	"setdomainname", "quotactl", "quotactl_fd", "fanotify_init",
	NULL,
};

/* host.time: the clock is not namespaced; changing it changes the host's. */
const char *const ward_sc_time[] = {
	"settimeofday", "stime", "clock_settime", "clock_adjtime", "adjtimex",
	NULL,
};

/*
 * Denied with EPERM under every policy.  Each of these either acts on the
 * whole machine (kexec, modules, reboot, swap, acct, the kernel log, port
 * I/O), exposes a large kernel attack surface with a history of privilege
 * escalations (bpf, perf_event_open, keyrings, userfaultfd, io_uring), or
 * escapes path-based confinement (open_by_handle_at).  The obsolete ones
 * are listed so that they are denied rather than unknown.
 */
const char *const ward_sc_never[] = {
	"kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
	"create_module", "get_kernel_syms", "query_module", "reboot", "swapon", "swapoff",
	"acct", "syslog", "iopl", "ioperm", "vm86", "vm86old", "bpf", "perf_event_open",
	"add_key", "request_key", "keyctl", "userfaultfd", "io_uring_setup",
	"io_uring_enter", "io_uring_register", "open_by_handle_at", "lookup_dcookie",
	"vhangup", "uselib", "ustat", "sysfs", "_sysctl", "nfsservctl",
	"lsm_set_self_attr",
	NULL,
};
/* clang-format on */
