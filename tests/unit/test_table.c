/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The entitlement table is data; these tests keep it consistent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "entitlements.h"
#include "seccomp/groups.h"

static void test_names_unique_and_wellformed(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; i < ward_n_entitlements; i++) {
		const char *n = ward_entitlements[i].name;

		assert_non_null(strchr(n, '.'));
		for (const char *c = n; *c; c++)
			assert_true((*c >= 'a' && *c <= 'z') || *c == '.' || *c == '_');
		for (j = i + 1; j < ward_n_entitlements; j++)
			assert_string_not_equal(n, ward_entitlements[j].name);
		assert_non_null(ward_entitlements[i].summary);
		assert_int_equal(ward_entitlement_lookup(n), (int)i);
	}
}

/* Every available entitlement says what it does in at least one layer, and
 * every one the spec names is in the table. */
static void test_coverage(void **state)
{
	static const char *const spec[] = {
		"network.none",	    "network.loopback",
		"network.outbound", "network.connect",
		"network.listen",   "network.host",
		"network.admin",    "fs.read",
		"fs.write",	    "fs.exec",
		"process.limit",    "memory.limit",
		"cpu.limit",	    "files.limit",
		"process.debug",    "process.setuid",
		"process.host",	    "security.confined",
		"security.user",    "security.admin",
		"host.devices",	    "host.devices.admin",
		"host.time",	    "ipc.send",
		"ipc.recv",	    "service.connect",
		"service.provide",  "api.open",
		"api.attest",
	};
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(spec) / sizeof(spec[0]); i++)
		assert_true(ward_entitlement_lookup(spec[i]) >= 0);
	for (i = 0; i < ward_n_entitlements; i++) {
		const struct ward_entitlement *e = &ward_entitlements[i];
		int layers = 0;

		if (e->flags & WARD_ENT_UNAVAILABLE)
			continue;
		for (j = 0; j < WARD_LAYER_COUNT; j++)
			layers += e->layers[j] != NULL;
		if (layers == 0)
			fail_msg("%s describes no layer", e->name);
	}
}

/* Every available entitlement resolves (with a sample value) — so the
 * resolver has a case for each row of the table. */
static void test_every_available_entitlement_resolves(void **state)
{
	static const struct ward_resolve_ctx ctx = {.physical_memory = 1ULL << 30, .home = "/root"};
	size_t i;

	(void)state;
	for (i = 0; i < ward_n_entitlements; i++) {
		const struct ward_entitlement *e = &ward_entitlements[i];
		struct ward_request_list l = {0};
		struct ward_policy p = {0};
		ward_error_t err = NULL;
		char text[128];
		const char *sample = NULL;
		int r;

		switch (e->arg) {
		case WARD_ARG_NONE:
			break;
		case WARD_ARG_PATH:
			sample = strncmp(e->name, "host.", 5) == 0 ? "/dev/fuse" : "/srv";
			break;
		case WARD_ARG_COUNT:
			sample = "64";
			break;
		case WARD_ARG_SIZE:
			sample = "64M";
			break;
		case WARD_ARG_CPUS:
			sample = "1.5";
			break;
		case WARD_ARG_HOSTPORT:
			sample = "db:5432";
			break;
		case WARD_ARG_PORT:
			sample = "8080";
			break;
		case WARD_ARG_NAME:
			sample = strcmp(e->name, "host.devices.admin") == 0 ? "fuse" : "db";
			break;
		case WARD_ARG_PATHMODE:
			sample = "/srv:ro";
			break;
		default:
			fail();
		}
		if (sample)
			snprintf(text, sizeof(text), "%s=%s", e->name, sample);
		else
			snprintf(text, sizeof(text), "%s", e->name);
		assert_int_equal(ward_parse_allow(&l, text, "--allow", &err), 0);
		r = ward_resolve(&l, &ctx, &p, &err);
		if (e->flags & WARD_ENT_UNAVAILABLE) {
			assert_int_equal(r, -1);
			assert_non_null(strstr(err->msg, "not yet available"));
			ward_error_free(&err);
		} else {
			if (r < 0)
				fail_msg("%s: %s", text, err->msg);
			assert_non_null(ward_policy_find(&p, e->name));
		}
		ward_policy_free(&p);
		ward_request_list_free(&l);
	}
}

static void test_groups_have_one_default(void **state)
{
	static const char *const groups[] = {"network", "security"};
	size_t g, i;

	(void)state;
	for (g = 0; g < 2; g++) {
		int defaults = 0;

		for (i = 0; i < ward_n_entitlements; i++) {
			const struct ward_entitlement *e = &ward_entitlements[i];

			if (e->group && strcmp(e->group, groups[g]) == 0 &&
			    (e->flags & WARD_ENT_DEFAULT))
				defaults++;
		}
		assert_int_equal(defaults, 1);
	}
}

static void test_syscall_lookup(void **state)
{
	int out[8];
	size_t n;

	(void)state;
	n = ward_entitlements_for_syscall("mount", out, 8);
	assert_int_equal(n, 1);
	assert_string_equal(ward_entitlements[out[0]].name, "security.admin");
	n = ward_entitlements_for_syscall("ptrace", out, 8);
	assert_true(n >= 1);
	assert_string_equal(ward_entitlements[out[0]].name, "process.debug");
	n = ward_entitlements_for_syscall("clock_settime", out, 8);
	assert_int_equal(n, 1);
	assert_string_equal(ward_entitlements[out[0]].name, "host.time");
	assert_int_equal(ward_entitlements_for_syscall("getpid", out, 8), 0);
}

static void test_suggest(void **state)
{
	(void)state;
	assert_string_equal(ward_entitlement_suggest("netwrok.none"), "network.none");
	assert_string_equal(ward_entitlement_suggest("fs.raed"), "fs.read");
	assert_string_equal(ward_entitlement_suggest("proces.limit"), "process.limit");
	assert_null(ward_entitlement_suggest("qqqqqqqqqqqqqqqq"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_unique_and_wellformed),
		cmocka_unit_test(test_coverage),
		cmocka_unit_test(test_every_available_entitlement_resolves),
		cmocka_unit_test(test_groups_have_one_default),
		cmocka_unit_test(test_syscall_lookup),
		cmocka_unit_test(test_suggest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
