// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the broker's decoder (lib/broker/proto.c), which reads
 * whatever an environment sends.  A decoded message is encoded again and
 * must decode to the same thing.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Ilib \
 *       tests/fuzz/fuzz_broker.c lib/broker/proto.c -o build-fuzz/fuzz_broker
 *   build-fuzz/fuzz_broker -max_len=300000 tests/broker/corpus
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void put_str(struct ward_proto_buf *b, uint16_t tag, struct ward_proto_str s)
{
	ward_proto_put(b, tag, s.p, s.len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ward_proto_msg m, m2;
	static uint8_t out[WARD_PROTO_MAX_PACKET];
	struct ward_proto_buf b;
	const char *why;
	uint32_t i;
	long n;

	if (ward_proto_decode(data, size, &m, &why) < 0) {
		if (why == NULL)
			abort();
		return 0;
	}
	ward_proto_begin(&b, out, sizeof(out), m.type, m.id);
	if (ward_proto_has(&m, WARD_ATTR_NAME))
		put_str(&b, WARD_ATTR_NAME, m.name);
	if (ward_proto_has(&m, WARD_ATTR_DATA))
		ward_proto_put(&b, WARD_ATTR_DATA, m.data, m.data_len);
	if (ward_proto_has(&m, WARD_ATTR_CODE))
		ward_proto_put_u32(&b, WARD_ATTR_CODE, m.code);
	if (ward_proto_has(&m, WARD_ATTR_TEXT))
		put_str(&b, WARD_ATTR_TEXT, m.text);
	if (ward_proto_has(&m, WARD_ATTR_FLAGS))
		ward_proto_put_u32(&b, WARD_ATTR_FLAGS, m.flags);
	if (ward_proto_has(&m, WARD_ATTR_PATH))
		put_str(&b, WARD_ATTR_PATH, m.path);
	if (ward_proto_has(&m, WARD_ATTR_FROM))
		put_str(&b, WARD_ATTR_FROM, m.from);
	for (i = 0; i < m.n_ent; i++)
		put_str(&b, WARD_ATTR_ENT, m.ent[i]);
	if (ward_proto_has(&m, WARD_ATTR_PID))
		ward_proto_put_u32(&b, WARD_ATTR_PID, m.pid);
	if (ward_proto_has(&m, WARD_ATTR_DEPTH))
		ward_proto_put_u32(&b, WARD_ATTR_DEPTH, m.depth);
	if (ward_proto_has(&m, WARD_ATTR_LIMIT))
		ward_proto_put_u32(&b, WARD_ATTR_LIMIT, m.limit);
	if (ward_proto_has(&m, WARD_ATTR_COUNT))
		ward_proto_put_u32(&b, WARD_ATTR_COUNT, m.count);
	for (i = 0; i < m.n_service; i++)
		put_str(&b, WARD_ATTR_SERVICE, m.service[i]);
	n = ward_proto_end(&b);
	if (n < 0 || (size_t)n > size)
		abort(); /* the canonical form is never longer than the input */
	if (ward_proto_decode(out, (size_t)n, &m2, &why) < 0)
		abort();
	if (m2.type != m.type || m2.id != m.id || m2.present != m.present || m2.n_ent != m.n_ent ||
	    m2.n_service != m.n_service || m2.data_len != m.data_len || m2.name.len != m.name.len ||
	    m2.code != m.code || m2.flags != m.flags)
		abort();
	if (m.data_len && memcmp(m2.data, m.data, m.data_len) != 0)
		abort();
	return 0;
}
