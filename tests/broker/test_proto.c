// SPDX-License-Identifier: GPL-2.0-or-later
/* The broker protocol's framing (lib/broker/proto.c): where a packet ends
 * inside a record of several, as the broker and libward-client split them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "broker/proto.h"

static size_t make_send(uint8_t *buf, size_t cap, uint32_t id, const char *data)
{
	struct ward_proto_buf b;

	ward_proto_begin(&b, buf, cap, WARD_MSG_SEND, id);
	ward_proto_put_str(&b, WARD_ATTR_NAME, "db");
	ward_proto_put(&b, WARD_ATTR_DATA, data, strlen(data));
	return (size_t)ward_proto_end(&b);
}

static void test_one_packet_is_its_own_length(void **state)
{
	uint8_t buf[256];
	size_t n = make_send(buf, sizeof(buf), 1, "hello");

	(void)state;
	assert_int_equal(ward_proto_packet_len(buf, n), n);
	/* More bytes behind it: still the first packet's length (a record). */
	assert_int_equal(ward_proto_packet_len(buf, n + 10), n);
}

static void test_short_or_overlong_headers_give_zero(void **state)
{
	uint8_t buf[256];
	size_t n = make_send(buf, sizeof(buf), 1, "hello"), k;

	(void)state;
	for (k = 0; k < WARD_PROTO_HDR_SIZE; k++)
		assert_int_equal(ward_proto_packet_len(buf, k), 0);
	/* The header claims more than is there: a packet cut short. */
	assert_int_equal(ward_proto_packet_len(buf, n - 1), 0);
	/* A length near 2^32 does not wrap around. */
	buf[8] = buf[9] = buf[10] = buf[11] = 0xff;
	assert_int_equal(ward_proto_packet_len(buf, n), 0);
}

static void test_a_record_splits_into_its_packets(void **state)
{
	uint8_t rec[1024];
	struct ward_proto_msg m;
	const char *why;
	size_t off = 0, len;
	uint32_t id;

	(void)state;
	for (id = 1; id <= 3; id++)
		off += make_send(rec + off, sizeof(rec) - off, id, id == 2 ? "bb" : "a");
	len = off;
	off = 0;
	for (id = 1; id <= 3; id++) {
		size_t k = ward_proto_packet_len(rec + off, len - off);

		assert_true(k > 0);
		assert_int_equal(ward_proto_decode(rec + off, k, &m, &why), 0);
		assert_int_equal(m.id, id);
		assert_int_equal(m.type, WARD_MSG_SEND);
		/* The whole rest is never one packet until the last. */
		assert_int_equal(ward_proto_decode(rec + off, len - off, &m, &why) == 0, id == 3);
		off += k;
	}
	assert_int_equal(off, len);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_packet_is_its_own_length),
		cmocka_unit_test(test_short_or_overlong_headers_give_zero),
		cmocka_unit_test(test_a_record_splits_into_its_packets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
