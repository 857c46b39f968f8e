/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ward as an OCI runtime: the operations of the runtime-spec's runtime.md
 * and runc's command line conventions that engines (podman via conmon,
 * containerd's ctr) rely on.
 *
 * Lifecycle (runtime-spec): create builds the container (namespaces,
 * mounts, cgroup, everything up to the user's program) and returns while the
 * container's init waits; start lets it execve the program; kill signals;
 * delete removes what create made.  State lives under ROOT/ID (ROOT is
 * --root, default /run/ward/oci): state.json, the exec.fifo whose presence
 * means "created", and the compiled seccomp programs that exec reuses.
 * Every operation that changes a container holds an flock on ROOT/ID.
 */
#ifndef WARD_OCI_H
#define WARD_OCI_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "../error.h"

#define WARD_OCI_DEFAULT_ROOT "/run/ward/oci"
/* The annotation that carries entitlements (same words as manifests). */
#define WARD_OCI_ENTITLEMENTS "org.ward.entitlements"

struct ward_oci_opts {
	const char *root; /* state root; NULL: WARD_OCI_DEFAULT_ROOT */
	const char *id;
	const char *bundle; /* NULL: the current directory */
	const char *pid_file;
	const char *console_socket;
	bool no_pivot;
	bool no_new_keyring;
	bool detach;	  /* run -d */
	int preserve_fds; /* fds 3 .. 3+N-1 go to the container's process */
	bool systemd_cgroup;
	const char *cgroup_root; /* NULL: /sys/fs/cgroup (tests point it at a stand-in) */
};

int ward_oci_create(const struct ward_oci_opts *o, ward_error_t *err);
/* create + start + wait + delete; *status: the container's exit status. */
int ward_oci_run(const struct ward_oci_opts *o, int *status, ward_error_t *err);
int ward_oci_start(const char *root, const char *id, ward_error_t *err);
int ward_oci_state(const char *root, const char *id, FILE *out, ward_error_t *err);
int ward_oci_kill(const char *root, const char *id, int sig, bool all, ward_error_t *err);
int ward_oci_delete(const char *root, const char *id, bool force, ward_error_t *err);
int ward_oci_pause(const char *root, const char *id, bool pause, ward_error_t *err);
int ward_oci_ps(const char *root, const char *id, bool json, FILE *out, ward_error_t *err);
int ward_oci_list(const char *root, bool json, bool quiet, FILE *out, ward_error_t *err);
/* `update`: new linux.resources (a JSON object; from names it in
 * messages), bounded by the container's entitlements. */
struct json_t;
int ward_oci_update(const char *root, const char *id, struct json_t *resources, const char *from,
		    ward_error_t *err);
/* `events`: runc's {"type":"stats","id","data"} lines; --stats prints one. */
int ward_oci_events(const char *root, const char *id, bool stats, unsigned interval_ms, FILE *out,
		    ward_error_t *err);

struct ward_oci_exec_opts {
	const char *root;
	const char *id;
	const char *process_file; /* --process: a runtime-spec process object */
	char *const *args;	  /* or the command line */
	char *const *env;	  /* --env K=V (added to the container's) */
	size_t n_env;
	const char *cwd;
	const char *user;  /* "UID[:GID]" */
	char *const *caps; /* --cap, added */
	size_t n_caps;
	bool tty, tty_set;
	bool detach;
	bool no_new_privs;
	const char *pid_file;
	const char *console_socket;
	int preserve_fds;
	const char *cgroup_root;
};
int ward_oci_exec(const struct ward_oci_exec_opts *o, int *status, ward_error_t *err);

/* `spec`: write a default config.json into bundle (NULL: "."). */
int ward_oci_spec(const char *bundle, bool rootless, ward_error_t *err);
/* `features`: the runtime-spec features document. */
int ward_oci_features(FILE *out, ward_error_t *err);
/* `ward explain --bundle DIR`: what the config and its entitlements
 * annotation give the container, layer by layer. */
int ward_oci_explain(const char *bundle, const char *root, FILE *out, bool json, ward_error_t *err);

/* CVE-2019-5736 (sealed.c): the commands that put a process into a
 * container call this first.  It re-executes ward from a copy of its binary
 * in a sealed memfd (it returns only on failure); in that copy it makes the
 * process undumpable and returns 0. */
int ward_oci_protect_self(ward_error_t *err);

/* Parse "KILL", "SIGKILL", "9". -1 when unknown. */
int ward_oci_signal_from_name(const char *s);

#endif
