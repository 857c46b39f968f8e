/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ward export: the profile is exactly ward_seccomp_rules(), rule by rule. */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "entitlements.h"
#include "export/export.h"
#include "export/internal.h"
#include "seccomp/seccomp.h"

static void resolve(const char *const *allow, struct ward_policy *p)
{
	struct ward_request_list l = {0};
	ward_error_t err = NULL;

	for (; *allow; allow++)
		assert_int_equal(ward_parse_allow(&l, *allow, "--allow", &err), 0);
	assert_int_equal(ward_resolve(&l, NULL, p, &err), 0);
	ward_request_list_free(&l);
}

static const char *op_name(enum ward_sc_op op)
{
	static const char *const n[] = {"SCMP_CMP_EQ", "SCMP_CMP_NE", "SCMP_CMP_MASKED_EQ",
					"SCMP_CMP_LT", "SCMP_CMP_GT"};
	return n[op];
}

/* Does an entry of the profile say exactly this rule? */
static bool found(json_t *prof, const struct ward_sc_rule *r)
{
	json_t *e, *n;
	size_t i, j;

	json_array_foreach(json_object_get(prof, "syscalls"), i, e)
	{
		const char *action = json_string_value(json_object_get(e, "action"));
		json_t *args = json_object_get(e, "args");
		bool name = false;

		json_array_foreach(json_object_get(e, "names"), j, n) name |=
			strcmp(json_string_value(n), r->syscall) == 0;
		if (!name)
			continue;
		if (r->action == WARD_SC_ALLOW
			    ? strcmp(action, "SCMP_ACT_ALLOW") != 0
			    : (strcmp(action, "SCMP_ACT_ERRNO") != 0 ||
			       json_integer_value(json_object_get(e, "errnoRet")) != r->err))
			continue;
		if (json_array_size(args) != r->n_args)
			continue;
		for (j = 0; j < r->n_args; j++) {
			json_t *a = json_array_get(args, j);

			if (json_integer_value(json_object_get(a, "index")) != r->args[j].index ||
			    (uint64_t)json_integer_value(json_object_get(a, "value")) !=
				    r->args[j].a ||
			    (uint64_t)json_integer_value(json_object_get(a, "valueTwo")) !=
				    r->args[j].b ||
			    strcmp(json_string_value(json_object_get(a, "op")),
				   op_name(r->args[j].op)) != 0)
				break;
		}
		if (j == r->n_args)
			return true;
	}
	return false;
}

static void check(const char *const *allow)
{
	struct ward_policy p = {0};
	struct ward_sc_rules r = {0};
	ward_error_t err = NULL;
	json_t *prof;
	json_t *e;
	size_t i, entries_args = 0, rules_args = 0;

	resolve(allow, &p);
	assert_int_equal(ward_seccomp_rules(&p, &r, &err), 0);
	prof = ward_export_seccomp_json(&p, true, &err);
	assert_non_null(prof);
	assert_int_equal(json_integer_value(json_object_get(prof, "defaultErrnoRet")),
			 r.default_errno);
	for (i = 0; i < r.n; i++) {
		const struct ward_sc_rule *rule = &r.rules[i];

		if (rule->action == WARD_SC_ERRNO && rule->err == r.default_errno &&
		    rule->n_args == 0)
			continue; /* the default action (clone3) */
		if (!found(prof, rule))
			fail_msg("%s: rule %zu for %s is not in the profile",
				 allow[0] ? allow[0] : "default", i, rule->syscall);
		rules_args += rule->n_args > 0;
	}
	/* ...and nothing else: one entry per argument rule. */
	json_array_foreach(json_object_get(prof, "syscalls"), i, e) entries_args +=
		json_array_size(json_object_get(e, "args")) > 0;
	assert_int_equal(entries_args, rules_args);
	json_decref(prof);
	ward_sc_rules_free(&r);
	ward_policy_free(&p);
}

static void test_profile_is_the_rule_list(void **state)
{
	static const char *const none[] = {NULL};
	static const char *const user[] = {"security.user", "network.loopback", NULL};
	static const char *const admin[] = {"security.admin", "fs.scratch.noexec", NULL};
	static const char *const time_[] = {"host.time", "process.debug", NULL};

	(void)state;
	check(none);
	check(user);
	check(admin);
	check(time_);
}

static void test_weaker_is_said(void **state)
{
	static const char *const none[] = {NULL};
	struct ward_policy p = {0};
	const char *w[32];
	size_t n;

	(void)state;
	resolve(none, &p);
	n = ward_export_weaker(&p, WARD_EXPORT_DOCKER_SECCOMP, w, 32);
	assert_true(n >= 2);
	assert_non_null(strstr(w[0], "no Landlock"));
	n = ward_export_weaker(&p, WARD_EXPORT_SYSTEMD, w, 32);
	assert_non_null(strstr(w[0], "cannot filter arguments"));
	assert_int_equal(ward_export_format_parse("systemd"), WARD_EXPORT_SYSTEMD);
	assert_int_equal(ward_export_format_parse("docker"), -1);
	ward_policy_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profile_is_the_rule_list),
		cmocka_unit_test(test_weaker_is_said),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
