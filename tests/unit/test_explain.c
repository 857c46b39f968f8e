/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "entitlements.h"
#include "explain.h"

static void policy_for(const char *const *allow, struct ward_policy *p)
{
	static const struct ward_resolve_ctx ctx = {.physical_memory = 4ULL << 30};
	struct ward_request_list l = {0};
	ward_error_t err = NULL;

	for (; *allow; allow++)
		assert_int_equal(ward_parse_allow(&l, *allow, "--allow", &err), 0);
	assert_int_equal(ward_resolve(&l, &ctx, p, &err), 0);
	ward_request_list_free(&l);
}

static const struct ward_threat *find(const struct ward_threat *t, size_t n, const char *op)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(t[i].operation, op) == 0)
			return &t[i];
	fail_msg("no operation \"%s\" in the matrix", op);
	return NULL;
}

/* Under the default policy every sensitive operation of SPEC.md §2 is stopped
 * by at least two layers, except a memory bomb, which only the memory cgroup
 * stops (and explain warns about it). */
static void test_default_depth(void **state)
{
	const char *none[] = {NULL};
	struct ward_policy p = {0};
	struct ward_threat t[32];
	size_t n, i;

	(void)state;
	policy_for(none, &p);
	n = ward_threat_matrix(&p, 7, t, 32);
	assert_true(n >= 12);
	assert_int_equal(find(t, n, "memory bomb")->n_layers, 1);
	for (i = 0; i < n; i++)
		if (t[i].n_layers < 2 && strcmp(t[i].operation, "memory bomb") != 0)
			fail_msg("\"%s\" is stopped by %zu layer(s) by default", t[i].operation,
				 t[i].n_layers);
	assert_true(find(t, n, "mount a filesystem")->n_layers >= 4);
	ward_policy_free(&p);
}

static void test_dangerous_policies_warn(void **state)
{
	const char *host[] = {"network.host", NULL};
	const char *admin[] = {"security.admin", NULL};
	struct ward_policy p = {0};
	struct ward_threat t[32];
	size_t n;

	(void)state;
	policy_for(host, &p);
	n = ward_threat_matrix(&p, 7, t, 32);
	assert_int_equal(find(t, n, "reach the network")->n_layers, 0);
	ward_policy_free(&p);

	policy_for(admin, &p);
	n = ward_threat_matrix(&p, 7, t, 32);
	/* Nothing stands between security.admin and a mount in its own namespace:
	 * that is what it grants (Landlock would forbid it, so it is not applied). */
	assert_int_equal(find(t, n, "mount a filesystem")->n_layers, 0);
	ward_policy_free(&p);
}

static void test_landlock_abi_changes_depth(void **state)
{
	const char *none[] = {NULL};
	struct ward_policy p = {0};
	struct ward_threat t[32];
	size_t n7, n0, a7, a0;

	(void)state;
	policy_for(none, &p);
	n7 = ward_threat_matrix(&p, 7, t, 32);
	a7 = find(t, n7, "reach the network")->n_layers;
	n0 = ward_threat_matrix(&p, 0, t, 32);
	a0 = find(t, n0, "reach the network")->n_layers;
	assert_true(a0 < a7);
	ward_policy_free(&p);
}

static char *capture(int (*fn)(const struct ward_policy *, int, FILE *, ward_error_t *),
		     const struct ward_policy *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ward_error_t err = NULL;

	assert_non_null(f);
	assert_int_equal(fn(p, 7, f, &err), 0);
	fclose(f);
	return buf;
}

static void test_text_and_json(void **state)
{
	const char *allow[] = {"fs.write=/srv/data", "process.limit=64", NULL};
	struct ward_policy p = {0};
	char *text, *js;
	json_t *root, *m;
	json_error_t jerr;
	size_t i;

	(void)state;
	policy_for(allow, &p);
	text = capture(ward_explain_text, &p);
	for (i = 0; i < WARD_LAYER_COUNT; i++)
		if (strstr(text, ward_layer_name((enum ward_layer)i)) == NULL)
			fail_msg("explain does not mention the %s layer",
				 ward_layer_name((enum ward_layer)i));
	assert_non_null(strstr(text, "fs.write=/srv/data"));
	assert_non_null(strstr(text, "pids.max 64"));
	assert_non_null(strstr(text, "Defense in depth"));
	free(text);

	js = capture(ward_explain_json, &p);
	root = json_loads(js, 0, &jerr);
	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(root, "network")), "none");
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(root, "resources"), "pids_max")),
		64);
	m = json_object_get(root, "defense_in_depth");
	assert_true(json_is_array(m) && json_array_size(m) >= 12);
	json_decref(root);
	free(js);
	ward_policy_free(&p);
}

static void test_catalog(void **state)
{
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	ward_catalog_text(f);
	fclose(f);
	for (i = 0; i < ward_n_entitlements; i++)
		assert_non_null(strstr(buf, ward_entitlements[i].name));
	assert_non_null(strstr(buf, "not yet available"));
	assert_non_null(strstr(buf, "dangerous"));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_depth),
		cmocka_unit_test(test_dangerous_policies_warn),
		cmocka_unit_test(test_landlock_abi_changes_depth),
		cmocka_unit_test(test_text_and_json),
		cmocka_unit_test(test_catalog),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
