/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The syscall rules ward installs (ward_seccomp_rules(), enforce mode), as
 * the seccomp object of Docker, podman and the OCI runtime spec:
 * defaultAction ERRNO with defaultErrnoRet ENOSYS (ward's answer for a
 * syscall it does not know), one entry per rule with an argument
 * condition, and the argument-free rules of one action grouped by name.
 *
 * ward's rules of one syscall never overlap (seccomp.h), so the order of
 * the entries, which the formats leave to the runtime, changes nothing.
 * Each entry holds at most one condition per argument (several on the same
 * argument would be ORed by runc, not ANDed): checked, never written.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <seccomp.h>
#include <stdint.h>
#include <string.h>

#include "../seccomp/seccomp.h"
#include "../util.h"
#include "internal.h"

static const char *op_name(enum ward_sc_op op)
{
	switch (op) {
	case WARD_SC_OP_EQ:
		return "SCMP_CMP_EQ";
	case WARD_SC_OP_NE:
		return "SCMP_CMP_NE";
	case WARD_SC_OP_MASKED_EQ:
		return "SCMP_CMP_MASKED_EQ";
	case WARD_SC_OP_LT:
		return "SCMP_CMP_LT";
	case WARD_SC_OP_GT:
		return "SCMP_CMP_GT";
	default:
		return NULL;
	}
}

/* The native architecture's name in the profile format. */
const char *ward_export_native_arch(void)
{
	switch (seccomp_arch_native()) {
	case SCMP_ARCH_X86_64:
		return "SCMP_ARCH_X86_64";
	case SCMP_ARCH_AARCH64:
		return "SCMP_ARCH_AARCH64";
	case SCMP_ARCH_X86:
		return "SCMP_ARCH_X86";
	case SCMP_ARCH_ARM:
		return "SCMP_ARCH_ARM";
	case SCMP_ARCH_PPC64LE:
		return "SCMP_ARCH_PPC64LE";
	case SCMP_ARCH_S390X:
		return "SCMP_ARCH_S390X";
	case SCMP_ARCH_RISCV64:
		return "SCMP_ARCH_RISCV64";
	default:
		return NULL;
	}
}

static json_t *action_entry(const struct ward_sc_rule *r)
{
	json_t *e = json_object();

	json_object_set_new(e, "names", json_array());
	if (r->action == WARD_SC_ALLOW) {
		json_object_set_new(e, "action", json_string("SCMP_ACT_ALLOW"));
	} else {
		json_object_set_new(e, "action", json_string("SCMP_ACT_ERRNO"));
		json_object_set_new(e, "errnoRet", json_integer(r->err));
	}
	return e;
}

static int add_args(json_t *e, const struct ward_sc_rule *r, ward_error_t *err)
{
	json_t *args = json_array();
	unsigned used = 0, i;

	for (i = 0; i < r->n_args; i++) {
		const struct ward_sc_arg *a = &r->args[i];
		const char *op = op_name(a->op);
		json_t *c;

		if (op == NULL || a->index > 5 || (used & (1u << a->index)) || a->a > INT64_MAX ||
		    a->b > INT64_MAX) {
			json_decref(args);
			return ward_error_set(err, EINVAL,
					      "ward export: the rule for %s has a condition the "
					      "profile format cannot hold",
					      r->syscall);
		}
		used |= 1u << a->index;
		c = json_object();
		json_object_set_new(c, "index", json_integer(a->index));
		json_object_set_new(c, "value", json_integer((json_int_t)a->a));
		json_object_set_new(c, "valueTwo", json_integer((json_int_t)a->b));
		json_object_set_new(c, "op", json_string(op));
		json_array_append_new(args, c);
	}
	json_object_set_new(e, "args", args);
	return 0;
}

json_t *ward_export_seccomp_json(const struct ward_policy *p, bool docker, ward_error_t *err)
{
	struct ward_sc_rules r = {0};
	json_t *root = NULL, *list, *groups[2] = {NULL, NULL}; /* ALLOW, ERRNO EPERM */
	const char *arch = ward_export_native_arch();
	size_t i;

	if (arch == NULL) {
		ward_error_set(err, ENOTSUP, "ward export: this architecture has no profile name");
		return NULL;
	}
	if (ward_seccomp_rules(p, &r, err) < 0)
		return NULL;
	root = json_object();
	json_object_set_new(root, "defaultAction", json_string("SCMP_ACT_ERRNO"));
	json_object_set_new(root, "defaultErrnoRet", json_integer(r.default_errno));
	/*
	 * The native architecture only, as ward's own filter: a syscall made
	 * through another ABI (i386's int 0x80 from a 64-bit process, x32's
	 * numbers with bit 30 set) matches no architecture of the profile, and
	 * the runtime answers it with its bad-architecture action (runc and
	 * crun: kill), never with a rule written for x86_64 numbers.
	 */
	json_object_set_new(root, "architectures", json_pack("[s]", arch));
	/* Docker refuses a profile with both architectures and archMap;
	 * archMap would add the 32-bit ABIs, which ward never allows. */
	(void)docker;
	list = json_array();
	for (i = 0; i < r.n; i++) {
		const struct ward_sc_rule *rule = &r.rules[i];
		json_t *e;

		if (rule->action == WARD_SC_NOTIFY)
			continue; /* never in enforce mode */
		/* A rule of the default action changes nothing (clone3's ENOSYS). */
		if (rule->action == WARD_SC_ERRNO && rule->err == r.default_errno &&
		    rule->n_args == 0)
			continue;
		if (rule->n_args == 0 && (rule->action == WARD_SC_ALLOW ||
					  (rule->action == WARD_SC_ERRNO && rule->err == EPERM))) {
			json_t **g = &groups[rule->action == WARD_SC_ALLOW ? 0 : 1];

			if (*g == NULL) {
				*g = action_entry(rule);
				json_array_append(list, *g);
			}
			json_array_append_new(json_object_get(*g, "names"),
					      json_string(rule->syscall));
			continue;
		}
		e = action_entry(rule);
		json_array_append_new(json_object_get(e, "names"), json_string(rule->syscall));
		if (rule->n_args && add_args(e, rule, err) < 0) {
			json_decref(e);
			json_decref(list);
			json_decref(root);
			for (size_t k = 0; k < 2; k++)
				json_decref(groups[k]);
			ward_sc_rules_free(&r);
			return NULL;
		}
		json_array_append_new(list, e);
	}
	for (i = 0; i < 2; i++)
		json_decref(groups[i]); /* the list holds them */
	json_object_set_new(root, "syscalls", list);
	ward_sc_rules_free(&r);
	return root;
}
