/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Syscall groups, as data.  NULL-terminated lists of libseccomp syscall
 * names.  The entitlement table (entitlements/table.c) points at the groups
 * an entitlement adds; the profile compiler (profile.c) reads the table.
 */
#ifndef WARD_SECCOMP_GROUPS_H
#define WARD_SECCOMP_GROUPS_H

/* Allowed under every policy (security.confined). */
extern const char *const ward_sc_base[];
/* Added by security.user (Docker's default profile beyond the base). */
extern const char *const ward_sc_user[];
/* Added by security.admin (on top of security.user): mount API, namespaces. */
extern const char *const ward_sc_admin[];
/* Added by process.debug: ptrace and friends. */
extern const char *const ward_sc_debug[];
/* Added by host.time: clock and time changes. */
extern const char *const ward_sc_time[];
/* Known and denied under every policy (EPERM): kexec, modules, bpf, ... */
extern const char *const ward_sc_never[];

#endif
