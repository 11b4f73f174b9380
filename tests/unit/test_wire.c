/* The peer-wire codec: every message round-trips through its encoder and the stream decoder,
 * known-answer frames, NEED_MORE for every proper prefix of every valid frame, and each malformed
 * case (oversize length, unknown type, wrong body size, bad fields) rejected as early as promised. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "dht/bytes.h"
#include "transfer/bitfield.h"
#include "transfer/wire.h"

static uint8_t block_data[WIRE_BLOCK_SIZE];
static uint8_t bits_data[WIRE_MAX_BODY];

static struct wire_msg sample(enum wire_type type)
{
	struct wire_msg m;
	memset(&m, 0, sizeof m);
	m.type = type;
	switch (type) {
	case WIRE_HANDSHAKE:
		m.u.handshake.version = WIRE_VERSION;
		memset(m.u.handshake.network, 0x11, WIRE_NETWORK_ID_LEN);
		memset(m.u.handshake.content, 0x22, WIRE_CONTENT_ID_LEN);
		memset(m.u.handshake.peer, 0x33, WIRE_PEER_ID_LEN);
		break;
	case WIRE_BITFIELD:
		m.u.bitfield = (struct wire_bits){ bits_data, 5 };
		break;
	case WIRE_HAVE:
		m.u.have = 0x01020304;
		break;
	case WIRE_LOST:
		m.u.lost = 0x0a0b0c0d;
		break;
	case WIRE_REQUEST:
	case WIRE_CANCEL:
	case WIRE_REJECT:
		m.u.span = (struct wire_span){ 7, 3 * WIRE_BLOCK_SIZE, WIRE_BLOCK_SIZE };
		break;
	case WIRE_BLOCK:
		m.u.block = (struct wire_block){ 9, WIRE_BLOCK_SIZE, block_data, 1000 };
		break;
	case WIRE_MANIFEST_REQ:
	case WIRE_MANIFEST_REJECT:
		m.u.piece_index = 2;
		break;
	case WIRE_MANIFEST_PIECE:
		m.u.piece = (struct wire_manifest_piece){ 1, WIRE_MANIFEST_PIECE_SIZE + 10,
							  block_data, 10 };
		break;
	default:
		break;
	}
	return m;
}

static void assert_msg_equal(const struct wire_msg *a, const struct wire_msg *b)
{
	assert_int_equal(a->type, b->type);
	switch (a->type) {
	case WIRE_HANDSHAKE:
		assert_memory_equal(&a->u.handshake, &b->u.handshake, sizeof a->u.handshake);
		break;
	case WIRE_BITFIELD:
		assert_int_equal(a->u.bitfield.len, b->u.bitfield.len);
		assert_memory_equal(a->u.bitfield.bits, b->u.bitfield.bits, a->u.bitfield.len);
		break;
	case WIRE_HAVE:
		assert_int_equal(a->u.have, b->u.have);
		break;
	case WIRE_LOST:
		assert_int_equal(a->u.lost, b->u.lost);
		break;
	case WIRE_REQUEST:
	case WIRE_CANCEL:
	case WIRE_REJECT:
		assert_int_equal(a->u.span.chunk, b->u.span.chunk);
		assert_int_equal(a->u.span.offset, b->u.span.offset);
		assert_int_equal(a->u.span.length, b->u.span.length);
		break;
	case WIRE_BLOCK:
		assert_int_equal(a->u.block.chunk, b->u.block.chunk);
		assert_int_equal(a->u.block.offset, b->u.block.offset);
		assert_int_equal(a->u.block.len, b->u.block.len);
		assert_memory_equal(a->u.block.data, b->u.block.data, a->u.block.len);
		break;
	case WIRE_MANIFEST_REQ:
	case WIRE_MANIFEST_REJECT:
		assert_int_equal(a->u.piece_index, b->u.piece_index);
		break;
	case WIRE_MANIFEST_PIECE:
		assert_int_equal(a->u.piece.index, b->u.piece.index);
		assert_int_equal(a->u.piece.total, b->u.piece.total);
		assert_int_equal(a->u.piece.len, b->u.piece.len);
		assert_memory_equal(a->u.piece.data, b->u.piece.data, a->u.piece.len);
		break;
	default:
		break;
	}
}

static void test_round_trip_all(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof block_data; i++)
		block_data[i] = (uint8_t)(i * 7 + 1);
	for (size_t i = 0; i < sizeof bits_data; i++)
		bits_data[i] = (uint8_t)(i * 13);
	static uint8_t buf[WIRE_MAX_FRAME];
	for (int t = WIRE_KEEPALIVE; t <= WIRE_LOST; t++) {
		struct wire_msg m = sample((enum wire_type)t), d;
		struct bwriter w;
		bw_init(&w, buf, sizeof buf);
		int n = wire_encode(&w, &m);
		assert_true(n > 0);
		assert_int_equal((size_t)n, w.len);
		size_t used = 0;
		assert_int_equal(wire_frame(buf, (size_t)n, &d, &used), WIRE_OK);
		assert_int_equal(used, (size_t)n);
		assert_msg_equal(&m, &d);
		assert_string_not_equal(wire_type_name((enum wire_type)t), "?");
	}
	assert_string_equal(wire_type_name((enum wire_type)99), "?");
}

/* LOST (type 15) carries a chunk index like HAVE: the bytes are fixed by the protocol. */
static void test_known_lost(void **state)
{
	(void)state;
	uint8_t buf[16];
	struct bwriter w;
	bw_init(&w, buf, sizeof buf);
	assert_int_equal(wire_put_lost(&w, 0x01020304), 9);
	const uint8_t want[] = { 0, 0, 0, 5, 15, 1, 2, 3, 4 };
	assert_memory_equal(buf, want, sizeof want);
	struct wire_msg d;
	size_t used;
	assert_int_equal(wire_frame(want, sizeof want, &d, &used), WIRE_OK);
	assert_int_equal(d.type, WIRE_LOST);
	assert_int_equal(d.u.lost, 0x01020304);
	assert_string_equal(wire_type_name(WIRE_LOST), "LOST");
	const uint8_t shortb[] = { 0, 0, 0, 4, 15, 1, 2, 3 };
	assert_int_equal(wire_frame(shortb, sizeof shortb, &d, &used), WIRE_MALFORMED);
}

static void test_known_frames(void **state)
{
	(void)state;
	uint8_t buf[128];
	struct bwriter w;
	bw_init(&w, buf, sizeof buf);
	assert_int_equal(wire_put_keepalive(&w), 4);
	assert_int_equal(wire_put_have(&w, 42), 9);
	assert_int_equal(wire_put_bare(&w, WIRE_UNCHOKE), 5);
	assert_int_equal(wire_put_span(&w, WIRE_REQUEST, 1, 0x4000, 0x4000), 17);
	const uint8_t want[] = {
		0, 0, 0, 0,
		0, 0, 0, 5, 3, 0, 0, 0, 42,
		0, 0, 0, 1, 7,
		0, 0, 0, 13, 8, 0, 0, 0, 1, 0, 0, 0x40, 0, 0, 0, 0x40, 0,
	};
	assert_int_equal(w.len, sizeof want);
	assert_memory_equal(buf, want, sizeof want);

	struct wire_msg hs = sample(WIRE_HANDSHAKE);
	bw_init(&w, buf, sizeof buf);
	assert_int_equal(wire_put_handshake(&w, &hs.u.handshake), 4 + 1 + 74);
	const uint8_t head[] = { 0, 0, 0, 75, 1, 12, 'd', 'h', 't', 'n', 'o', 'd', 'e', '-',
				 'w', 'i', 'r', 'e', WIRE_VERSION, 0x11 };
	assert_memory_equal(buf, head, sizeof head);
	assert_int_equal(buf[4 + 1 + 1 + 12 + 1 + 8], 0x22);
	assert_int_equal(buf[78], 0x33);
}

static void test_specific_encoders(void **state)
{
	(void)state;
	static uint8_t buf[WIRE_MAX_FRAME];
	struct bwriter w;
	struct wire_msg d;
	size_t used;

	struct bitfield *bf = bitfield_new(BITFIELD_MAX_BITS);
	bitfield_set(bf, 0);
	bitfield_set(bf, BITFIELD_MAX_BITS - 1);
	bw_init(&w, buf, sizeof buf);
	assert_int_equal(wire_put_bitfield(&w, bf), WIRE_MAX_FRAME); /* the largest frame */
	assert_int_equal(wire_frame(buf, w.len, &d, &used), WIRE_OK);
	assert_int_equal(d.type, WIRE_BITFIELD);
	assert_ptr_equal(d.u.bitfield.bits, buf + 5);
	struct bitfield *back = bitfield_new(BITFIELD_MAX_BITS);
	assert_int_equal(bitfield_decode(back, d.u.bitfield.bits, d.u.bitfield.len), 0);
	assert_int_equal(bitfield_count(back), 2);
	bitfield_free(back);
	bitfield_free(bf);

	uint8_t data[WIRE_BLOCK_SIZE];
	memset(data, 0xab, sizeof data);
	bw_init(&w, buf, sizeof buf);
	assert_int_equal(wire_put_block(&w, 5, 0, data, WIRE_BLOCK_SIZE), 13 + WIRE_BLOCK_SIZE);
	assert_int_equal(wire_frame(buf, w.len, &d, &used), WIRE_OK);
	assert_ptr_equal(d.u.block.data, buf + WIRE_BLOCK_HEADER_LEN); /* not copied */
	assert_int_equal(d.u.block.len, WIRE_BLOCK_SIZE);

	/* A header written alone, then the payload, is the same frame. */
	static uint8_t buf2[WIRE_MAX_FRAME];
	bw_init(&w, buf2, sizeof buf2);
	assert_int_equal(wire_put_block_header(&w, 5, 0, WIRE_BLOCK_SIZE), WIRE_BLOCK_HEADER_LEN);
	bw_bytes(&w, data, sizeof data);
	assert_memory_equal(buf, buf2, w.len);

	bw_init(&w, buf, sizeof buf);
	assert_int_equal(wire_put_piece_index(&w, WIRE_MANIFEST_REQ, 3), 9);
	assert_int_equal(wire_put_piece_index(&w, WIRE_MANIFEST_REJECT, 3), 9);
	assert_int_equal(wire_put_manifest_piece(&w, 0, 1, data, 1), 14);
	assert_int_equal(wire_frame(buf + 18, w.len - 18, &d, &used), WIRE_OK);
	assert_int_equal(d.u.piece.total, 1);
}

static void test_encoder_rejects(void **state)
{
	(void)state;
	uint8_t buf[64], data[WIRE_BLOCK_SIZE + 1] = { 0 };
	struct bwriter w;
	bw_init(&w, buf, sizeof buf);
	assert_int_equal(wire_put_bare(&w, WIRE_HAVE), -1);
	assert_int_equal(wire_put_span(&w, WIRE_BLOCK, 0, 0, 1), -1);
	assert_int_equal(wire_put_span(&w, WIRE_REQUEST, 0, 0, 0), -1);
	assert_int_equal(wire_put_span(&w, WIRE_REQUEST, 0, 0, WIRE_BLOCK_SIZE + 1), -1);
	assert_int_equal(wire_put_span(&w, WIRE_CANCEL, 0, WIRE_MAX_CHUNK_SIZE, 1), -1);
	assert_int_equal(wire_put_piece_index(&w, WIRE_HAVE, 0), -1);
	assert_int_equal(wire_put_block(&w, 0, 0, data, 0), -1);
	assert_int_equal(wire_put_block_header(&w, 0, 0, WIRE_BLOCK_SIZE + 1), -1);
	/* Manifest pieces: all but the last must be full, the last exactly what is left. */
	assert_int_equal(wire_put_manifest_piece(&w, 0, 100, data, 99), -1);
	assert_int_equal(wire_put_manifest_piece(&w, 1, 100, data, 1), -1);
	assert_int_equal(wire_put_manifest_piece(&w, 0, 0, data, 1), -1);
	assert_int_equal(wire_put_manifest_piece(&w, 0, WIRE_MAX_MANIFEST + 1, data, 1), -1);
	struct wire_msg m = { .type = WIRE_BITFIELD, .u.bitfield = { data, 0 } };
	assert_int_equal(wire_encode(&w, &m), -1);
	m.type = (enum wire_type)16;
	assert_int_equal(wire_encode(&w, &m), -1);
	assert_int_equal(w.len, 0);
	assert_false(w.bad);
	/* No room: nothing written. */
	bw_init(&w, buf, 8);
	assert_int_equal(wire_put_have(&w, 1), -1);
	assert_int_equal(w.len, 0);
	bw_init(&w, buf, 3);
	assert_int_equal(wire_put_keepalive(&w), -1);
	assert_int_equal(w.len, 0);
}

/* Every proper prefix of a valid frame asks for more, and never claims a frame. */
static void test_need_more_every_prefix(void **state)
{
	(void)state;
	static uint8_t buf[WIRE_MAX_FRAME];
	for (int t = WIRE_KEEPALIVE; t <= WIRE_LOST; t++) {
		struct wire_msg m = sample((enum wire_type)t), d;
		struct bwriter w;
		bw_init(&w, buf, sizeof buf);
		int n = wire_encode(&w, &m);
		for (int k = 0; k < n; k++) {
			size_t used = 12345;
			assert_int_equal(wire_frame(buf, (size_t)k, &d, &used), WIRE_NEED_MORE);
			assert_int_equal(used, 12345);
		}
	}
}

/* Several frames back to back, fed as a stream that arrives a few bytes at a time. */
static void test_stream(void **state)
{
	(void)state;
	static uint8_t buf[4 * WIRE_MAX_FRAME];
	struct bwriter w;
	bw_init(&w, buf, sizeof buf);
	enum wire_type order[] = { WIRE_HANDSHAKE, WIRE_BITFIELD, WIRE_KEEPALIVE, WIRE_INTERESTED,
				   WIRE_REQUEST, WIRE_BLOCK, WIRE_MANIFEST_PIECE, WIRE_CHOKE };
	size_t count = sizeof order / sizeof order[0];
	for (size_t i = 0; i < count; i++) {
		struct wire_msg m = sample(order[i]);
		assert_true(wire_encode(&w, &m) > 0);
	}
	size_t start = 0, have = 0, got = 0;
	while (got < count) {
		struct wire_msg d;
		size_t used;
		enum wire_status st = wire_frame(buf + start, have - start, &d, &used);
		if (st == WIRE_NEED_MORE) {
			assert_true(have < w.len);
			have = have + 7 < w.len ? have + 7 : w.len;
			continue;
		}
		assert_int_equal(st, WIRE_OK);
		struct wire_msg m = sample(order[got]);
		assert_msg_equal(&m, &d);
		start += used;
		got++;
	}
	assert_int_equal(start, w.len);
}

static enum wire_status frame_of(const uint8_t *buf, size_t len)
{
	struct wire_msg d;
	size_t used;
	return wire_frame(buf, len, &d, &used);
}

static void test_oversize_and_unknown(void **state)
{
	(void)state;
	/* A length over the maximum is refused from the first byte that shows it. */
	const uint8_t huge[] = { 0x01 };
	assert_int_equal(frame_of(huge, 1), WIRE_MALFORMED);
	const uint8_t big[] = { 0x00, 0x00, 0x80, 0x02 }; /* 1 + WIRE_MAX_BODY + 1 */
	assert_int_equal(frame_of(big, 3), WIRE_NEED_MORE);
	assert_int_equal(frame_of(big, 4), WIRE_MALFORMED);
	const uint8_t max[] = { 0x00, 0x00, 0x80, 0x01, WIRE_BITFIELD };
	assert_int_equal(frame_of(max, 4), WIRE_NEED_MORE);
	assert_int_equal(frame_of(max, 5), WIRE_NEED_MORE);
	/* Largest for one type is not largest for another: told at the type byte. */
	const uint8_t have_big[] = { 0x00, 0x00, 0x80, 0x01, WIRE_HAVE };
	assert_int_equal(frame_of(have_big, 5), WIRE_MALFORMED);
	const uint8_t block_big[] = { 0, 0, 0x40, 0x0a, WIRE_BLOCK }; /* 16385 data bytes */
	assert_int_equal(frame_of(block_big, 5), WIRE_MALFORMED);
	const uint8_t unknown[][5] = { { 0, 0, 0, 1, 0 }, { 0, 0, 0, 1, 16 }, { 0, 0, 0, 1, 0xff } };
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(frame_of(unknown[i], 5), WIRE_MALFORMED);
}

/* Each fixed-size body one byte short and one byte long: wrong at the type byte already. */
static void test_wrong_body_sizes(void **state)
{
	(void)state;
	const struct {
		enum wire_type type;
		uint32_t body;
	} fixed[] = {
		{ WIRE_HANDSHAKE, 74 }, { WIRE_HAVE, 4 }, { WIRE_INTERESTED, 0 },
		{ WIRE_NOT_INTERESTED, 0 }, { WIRE_CHOKE, 0 }, { WIRE_UNCHOKE, 0 },
		{ WIRE_REQUEST, 12 }, { WIRE_CANCEL, 12 }, { WIRE_REJECT, 12 },
		{ WIRE_MANIFEST_REQ, 4 }, { WIRE_MANIFEST_REJECT, 4 }, { WIRE_LOST, 4 },
	};
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
		uint8_t f[5];
		for (int delta = -1; delta <= 1; delta += 2) {
			if (fixed[i].body == 0 && delta < 0)
				continue;
			be32_put(f, 1 + fixed[i].body + (uint32_t)delta);
			f[4] = (uint8_t)fixed[i].type;
			assert_int_equal(frame_of(f, 5), WIRE_MALFORMED);
		}
	}
	/* Variable bodies below their minimum: an empty bitfield, a block or piece with no data. */
	const uint8_t empty_bits[] = { 0, 0, 0, 1, WIRE_BITFIELD };
	assert_int_equal(frame_of(empty_bits, 5), WIRE_MALFORMED);
	const uint8_t empty_block[] = { 0, 0, 0, 9, WIRE_BLOCK };
	assert_int_equal(frame_of(empty_block, 5), WIRE_MALFORMED);
	const uint8_t empty_piece[] = { 0, 0, 0, 9, WIRE_MANIFEST_PIECE };
	assert_int_equal(frame_of(empty_piece, 5), WIRE_MALFORMED);
}

/* Complete frames of the right size whose fields break the rules. */
static void test_bad_fields(void **state)
{
	(void)state;
	uint8_t buf[128];
	struct wire_msg hs = sample(WIRE_HANDSHAKE);
	struct bwriter w;
	bw_init(&w, buf, sizeof buf);
	int n = wire_put_handshake(&w, &hs.u.handshake);
	buf[6] = 'D'; /* the protocol name */
	assert_int_equal(frame_of(buf, (size_t)n), WIRE_MALFORMED);
	buf[6] = 'd';
	buf[5] = 11; /* its length byte */
	assert_int_equal(frame_of(buf, (size_t)n), WIRE_MALFORMED);
	buf[5] = 12;
	assert_int_equal(frame_of(buf, (size_t)n), WIRE_OK);

	const uint8_t req0[] = { 0, 0, 0, 13, WIRE_REQUEST, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0 };
	assert_int_equal(frame_of(req0, sizeof req0), WIRE_MALFORMED);
	const uint8_t req_big[] = { 0, 0, 0, 13, WIRE_CANCEL, 0, 0, 0, 1, 0, 0, 0, 0,
				    0, 0, 0x40, 0x01 };
	assert_int_equal(frame_of(req_big, sizeof req_big), WIRE_MALFORMED);
	const uint8_t req_far[] = { 0, 0, 0, 13, WIRE_REJECT, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff,
				    0, 0, 0, 1 };
	assert_int_equal(frame_of(req_far, sizeof req_far), WIRE_MALFORMED);
	const uint8_t block_far[] = { 0, 0, 0, 10, WIRE_BLOCK, 0, 0, 0, 1, 0x01, 0, 0, 0, 0xaa };
	assert_int_equal(frame_of(block_far, sizeof block_far), WIRE_MALFORMED);
	/* A manifest piece: index past the total, a short piece that is not the last, total 0. */
	const uint8_t piece_past[] = { 0, 0, 0, 10, WIRE_MANIFEST_PIECE, 0, 0, 0, 1, 0, 0, 0, 5,
				       0xaa };
	assert_int_equal(frame_of(piece_past, sizeof piece_past), WIRE_MALFORMED);
	const uint8_t piece_short[] = { 0, 0, 0, 10, WIRE_MANIFEST_PIECE, 0, 0, 0, 0, 0, 0, 0, 5,
					0xaa };
	assert_int_equal(frame_of(piece_short, sizeof piece_short), WIRE_MALFORMED);
	const uint8_t piece_zero[] = { 0, 0, 0, 10, WIRE_MANIFEST_PIECE, 0, 0, 0, 0, 0, 0, 0, 0,
				       0xaa };
	assert_int_equal(frame_of(piece_zero, sizeof piece_zero), WIRE_MALFORMED);
	const uint8_t piece_ok[] = { 0, 0, 0, 10, WIRE_MANIFEST_PIECE, 0, 0, 0, 0, 0, 0, 0, 1,
				     0xaa };
	assert_int_equal(frame_of(piece_ok, sizeof piece_ok), WIRE_OK);
}

/* The codec passes any bitfield length through; the spare-bit check is bitfield_decode's. */
static void test_bitfield_spare_bits(void **state)
{
	(void)state;
	const uint8_t frame[] = { 0, 0, 0, 3, WIRE_BITFIELD, 0xff, 0xe1 };
	struct wire_msg d;
	size_t used;
	assert_int_equal(wire_frame(frame, sizeof frame, &d, &used), WIRE_OK);
	struct bitfield *bf = bitfield_new(12);
	assert_int_equal(bitfield_decode(bf, d.u.bitfield.bits, d.u.bitfield.len), -1);
	bitfield_free(bf);
	bf = bitfield_new(16);
	assert_int_equal(bitfield_decode(bf, d.u.bitfield.bits, d.u.bitfield.len), 0);
	bitfield_free(bf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_all),
		cmocka_unit_test(test_known_frames),
		cmocka_unit_test(test_known_lost),
		cmocka_unit_test(test_specific_encoders),
		cmocka_unit_test(test_encoder_rejects),
		cmocka_unit_test(test_need_more_every_prefix),
		cmocka_unit_test(test_stream),
		cmocka_unit_test(test_oversize_and_unknown),
		cmocka_unit_test(test_wrong_body_sizes),
		cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_bitfield_spare_bits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
