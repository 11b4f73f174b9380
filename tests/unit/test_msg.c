/* The DHT message codec: every type round-trips, a known-answer encoding, and every malformed
 * shape (truncation at every length, wrong magic, version, width, counts, flags, trailing bytes)
 * is refused with the right reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "dht/msg.h"

static struct dht_node node(unsigned v, unsigned bits, int family)
{
	struct dht_node n;
	memset(&n, 0, sizeof n);
	id_from_u64(&n.id, v, bits);
	n.addr.family = (uint8_t)family;
	for (int i = 0; i < (family == 6 ? 16 : 4); i++)
		n.addr.ip[i] = (uint8_t)(v + i);
	n.addr.port = (uint16_t)(4000 + v);
	return n;
}

static void assert_node_eq(const struct dht_node *a, const struct dht_node *b)
{
	assert_true(id_eq(&a->id, &b->id));
	assert_true(dht_addr_eq(&a->addr, &b->addr));
}

static const uint8_t value[DHT_MAX_VALUE] = { 1, 2, 3 };

static struct dht_item item(uint16_t vlen, uint8_t flags)
{
	struct dht_item it = { .flags = flags, .seq = 0x0102030405060708u, .vlen = vlen,
			       .value = value };
	memset(it.pk, 0xa5, sizeof it.pk);
	memset(it.sig, 0x5a, sizeof it.sig);
	return it;
}

static void assert_item_eq(const struct dht_item *a, const struct dht_item *b)
{
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->vlen, b->vlen);
	assert_memory_equal(a->value, b->value, a->vlen);
	if (a->flags & DHT_ITEM_IMMUTABLE)
		return;
	assert_int_equal(a->seq, b->seq);
	assert_memory_equal(a->pk, b->pk, DHT_ITEM_PK_LEN);
	assert_memory_equal(a->sig, b->sig, DHT_ITEM_SIG_LEN);
}

static void sample_kv(struct dht_msg *m, unsigned bits)
{
	switch (m->type) {
	case DHT_PUT:
		id_from_u64(&m->u.put.key, 9, bits);
		m->u.put.ttl_s = 3600;
		m->u.put.has_cas = 1;
		m->u.put.cas = 42;
		m->u.put.item = item(DHT_MAX_VALUE, 0);
		break;
	case DHT_STORED:
		m->u.stored.status = 7;
		break;
	case DHT_GET:
		id_from_u64(&m->u.get.key, 9, bits);
		m->u.get.by_writer = 1;
		memset(m->u.get.pk, 0x33, sizeof m->u.get.pk);
		break;
	case DHT_VALUE:
		m->u.value.status = 0;
		m->u.value.ttl_s = 12;
		m->u.value.count = 3;
		m->u.value.item = item(3, 0);
		m->u.value.nnodes = DHT_MAX_FALLBACK;
		for (int i = 0; i < DHT_MAX_FALLBACK; i++)
			m->u.value.nodes[i] = node((unsigned)i + 30, bits, 4);
		break;
	case DHT_ANNOUNCE:
		id_from_u64(&m->u.announce.key, 11, bits);
		m->u.announce.ttl_s = 60;
		m->u.announce.peer = node(12, bits, 6).addr;
		break;
	case DHT_GET_PEERS:
		id_from_u64(&m->u.get_peers.key, 11, bits);
		m->u.get_peers.max = 50;
		break;
	case DHT_PEERS:
		m->u.peers.npeers = DHT_MAX_PEERS;
		for (int i = 0; i < DHT_MAX_PEERS; i++)
			m->u.peers.peers[i] = node((unsigned)i, bits, i % 2 ? 4 : 6).addr;
		break;
	case DHT_REPLICATE:
		m->u.repl.n = 3;
		for (int i = 0; i < 3; i++) {
			struct dht_repl_entry *e = &m->u.repl.e[i];
			id_from_u64(&e->key, (uint64_t)i + 1, bits);
			e->kind = i == 1 ? DHT_ENTRY_PEER : DHT_ENTRY_VALUE;
			e->ttl_ms = 1000u * (unsigned)i;
			e->item = item(100, i == 2 ? DHT_ITEM_IMMUTABLE : 0);
			if (e->kind == DHT_ENTRY_PEER)
				e->peer = node(5, bits, 4).addr;
		}
		break;
	default:
		break;
	}
}

static struct dht_msg sample(uint8_t type, unsigned bits)
{
	struct dht_msg m;
	memset(&m, 0, sizeof m);
	m.type = type;
	m.bits = (uint8_t)bits;
	m.txid = 0xdeadbeef;
	id_from_u64(&m.from, 77, bits);
	switch (type) {
	case DHT_NEIGH:
		m.u.neigh.has_pred = 1;
		m.u.neigh.pred = node(3, bits, 4);
		m.u.neigh.nsucc = DHT_MAX_NODES;
		for (int i = 0; i < DHT_MAX_NODES; i++)
			m.u.neigh.succ[i] = node((unsigned)i + 10, bits, i % 2 ? 6 : 4);
		break;
	case DHT_FIND:
		id_from_u64(&m.u.find.key, 200, bits);
		m.u.find.flags = DHT_FIND_AS_OWNER;
		m.u.find.ndead = DHT_MAX_DEAD;
		for (int i = 0; i < DHT_MAX_DEAD; i++)
			id_from_u64(&m.u.find.dead[i], (uint64_t)i + 50, bits);
		break;
	case DHT_FOUND:
		m.u.found.status = DHT_FOUND_OWNER;
		m.u.found.nnodes = 3;
		for (int i = 0; i < 3; i++)
			m.u.found.nodes[i] = node((unsigned)i + 90, bits, 6);
		break;
	case DHT_ERROR:
		m.u.error.code = DHT_ERR_NOT_READY;
		break;
	default:
		sample_kv(&m, bits);
		break;
	}
	return m;
}

static void assert_kv_eq(const struct dht_msg *a, const struct dht_msg *b)
{
	switch (a->type) {
	case DHT_PUT:
		assert_true(id_eq(&a->u.put.key, &b->u.put.key));
		assert_int_equal(a->u.put.ttl_s, b->u.put.ttl_s);
		assert_int_equal(a->u.put.has_cas, b->u.put.has_cas);
		assert_int_equal(a->u.put.cas, b->u.put.cas);
		assert_item_eq(&a->u.put.item, &b->u.put.item);
		break;
	case DHT_STORED:
		assert_int_equal(a->u.stored.status, b->u.stored.status);
		break;
	case DHT_GET:
		assert_true(id_eq(&a->u.get.key, &b->u.get.key));
		assert_int_equal(a->u.get.by_writer, b->u.get.by_writer);
		assert_memory_equal(a->u.get.pk, b->u.get.pk, DHT_ITEM_PK_LEN);
		break;
	case DHT_VALUE:
		assert_int_equal(a->u.value.status, b->u.value.status);
		assert_int_equal(a->u.value.ttl_s, b->u.value.ttl_s);
		assert_int_equal(a->u.value.count, b->u.value.count);
		assert_item_eq(&a->u.value.item, &b->u.value.item);
		assert_int_equal(a->u.value.nnodes, b->u.value.nnodes);
		for (int i = 0; i < a->u.value.nnodes; i++)
			assert_node_eq(&a->u.value.nodes[i], &b->u.value.nodes[i]);
		break;
	case DHT_ANNOUNCE:
		assert_true(id_eq(&a->u.announce.key, &b->u.announce.key));
		assert_int_equal(a->u.announce.ttl_s, b->u.announce.ttl_s);
		assert_true(dht_addr_eq(&a->u.announce.peer, &b->u.announce.peer));
		break;
	case DHT_GET_PEERS:
		assert_true(id_eq(&a->u.get_peers.key, &b->u.get_peers.key));
		assert_int_equal(a->u.get_peers.max, b->u.get_peers.max);
		break;
	case DHT_PEERS:
		assert_int_equal(a->u.peers.npeers, b->u.peers.npeers);
		for (int i = 0; i < a->u.peers.npeers; i++)
			assert_true(dht_addr_eq(&a->u.peers.peers[i], &b->u.peers.peers[i]));
		break;
	case DHT_REPLICATE:
		assert_int_equal(a->u.repl.n, b->u.repl.n);
		for (int i = 0; i < a->u.repl.n; i++) {
			const struct dht_repl_entry *x = &a->u.repl.e[i], *y = &b->u.repl.e[i];
			assert_true(id_eq(&x->key, &y->key));
			assert_int_equal(x->kind, y->kind);
			assert_int_equal(x->ttl_ms, y->ttl_ms);
			if (x->kind == DHT_ENTRY_VALUE)
				assert_item_eq(&x->item, &y->item);
			else
				assert_true(dht_addr_eq(&x->peer, &y->peer));
		}
		break;
	default:
		fail();
	}
}

static void assert_msg_eq(const struct dht_msg *a, const struct dht_msg *b)
{
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->txid, b->txid);
	assert_true(id_eq(&a->from, &b->from));
	switch (a->type) {
	case DHT_NEIGH:
		assert_int_equal(a->u.neigh.has_pred, b->u.neigh.has_pred);
		assert_node_eq(&a->u.neigh.pred, &b->u.neigh.pred);
		assert_int_equal(a->u.neigh.nsucc, b->u.neigh.nsucc);
		for (int i = 0; i < a->u.neigh.nsucc; i++)
			assert_node_eq(&a->u.neigh.succ[i], &b->u.neigh.succ[i]);
		break;
	case DHT_FIND:
		assert_true(id_eq(&a->u.find.key, &b->u.find.key));
		assert_int_equal(a->u.find.flags, b->u.find.flags);
		assert_int_equal(a->u.find.ndead, b->u.find.ndead);
		for (int i = 0; i < a->u.find.ndead; i++)
			assert_true(id_eq(&a->u.find.dead[i], &b->u.find.dead[i]));
		break;
	case DHT_FOUND:
		assert_int_equal(a->u.found.status, b->u.found.status);
		assert_int_equal(a->u.found.nnodes, b->u.found.nnodes);
		for (int i = 0; i < a->u.found.nnodes; i++)
			assert_node_eq(&a->u.found.nodes[i], &b->u.found.nodes[i]);
		break;
	case DHT_ERROR:
		assert_int_equal(a->u.error.code, b->u.error.code);
		break;
	default:
		if (a->type >= DHT_PUT && a->type <= DHT_REPLICATE)
			assert_kv_eq(a, b);
		break;
	}
}

static void test_round_trip_every_type(void **state)
{
	(void)state;
	unsigned widths[] = { 8, 32, 160 };
	for (size_t w = 0; w < 3; w++)
		for (uint8_t t = DHT_PING; t <= DHT_JOIN; t++) {
			struct dht_msg m = sample(t, widths[w]), out;
			uint8_t buf[DHT_MSG_MAX];
			int len = dht_msg_encode(&m, buf, sizeof buf);
			assert_true(len > 0 && len <= DHT_MSG_MAX);
			assert_int_equal(dht_msg_decode(&out, buf, (size_t)len, widths[w]),
					 DHT_DECODE_OK);
			assert_msg_eq(&m, &out);
			/* Every shorter prefix is refused as truncated. */
			for (int cut = 0; cut < len; cut++)
				assert_int_equal(dht_msg_decode(&out, buf, (size_t)cut, widths[w]),
						 DHT_DECODE_SHORT);
			/* One byte more is refused as trailing. */
			buf[len] = 0;
			assert_int_equal(dht_msg_decode(&out, buf, (size_t)len + 1, widths[w]),
					 DHT_DECODE_TRAILING);
		}
}

static void test_known_answer_ping(void **state)
{
	(void)state;
	struct dht_msg m = sample(DHT_PING, 8);
	uint8_t buf[64];
	int len = dht_msg_encode(&m, buf, sizeof buf);
	const uint8_t expect[29] = { 0x44, 0x48, 3, 1, 8, 0xde, 0xad, 0xbe, 0xef,
				     0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 77 };
	assert_int_equal(len, sizeof expect);
	assert_memory_equal(buf, expect, sizeof expect);
}

static void test_largest_message_fits(void **state)
{
	(void)state;
	struct dht_msg m = sample(DHT_NEIGH, 160);
	for (int i = 0; i < DHT_MAX_NODES; i++)
		m.u.neigh.succ[i] = node((unsigned)i, 160, 6);
	m.u.neigh.pred = node(1, 160, 6);
	uint8_t buf[DHT_MSG_MAX];
	assert_true(dht_msg_encode(&m, buf, sizeof buf) > 0);
	/* A buffer one byte too small is refused, not overrun. */
	int len = dht_msg_encode(&m, buf, sizeof buf);
	assert_int_equal(dht_msg_encode(&m, buf, (size_t)len - 1), -1);
}

static int encode(struct dht_msg *m, uint8_t *buf)
{
	int len = dht_msg_encode(m, buf, DHT_MSG_MAX);
	assert_true(len > 0);
	return len;
}

static void test_malformed(void **state)
{
	(void)state;
	uint8_t buf[DHT_MSG_MAX];
	struct dht_msg m = sample(DHT_FIND, 16), out;
	int len = encode(&m, buf);

	buf[0] ^= 1;
	assert_int_equal(dht_msg_decode(&out, buf, (size_t)len, 16), DHT_DECODE_MAGIC);
	buf[0] ^= 1;
	buf[2] = 1; /* the version before token extensions */
	assert_int_equal(dht_msg_decode(&out, buf, (size_t)len, 16), DHT_DECODE_VERSION);
	buf[2] = DHT_MSG_VERSION;
	buf[3] = 99;
	assert_int_equal(dht_msg_decode(&out, buf, (size_t)len, 16), DHT_DECODE_TYPE);
	buf[3] = DHT_FIND;
	/* Another network's width. */
	assert_int_equal(dht_msg_decode(&out, buf, (size_t)len, 20), DHT_DECODE_BITS);
	/* An id with bits above the width (the sender id's top byte). */
	buf[9] = 1;
	assert_int_equal(dht_msg_decode(&out, buf, (size_t)len, 16), DHT_DECODE_BITS);
	buf[9] = 0;
	/* Unknown flag bits and a dead count above the maximum. */
	size_t flags_at = 29 + 20;
	buf[flags_at] = 0x80;
	assert_int_equal(dht_msg_decode(&out, buf, (size_t)len, 16), DHT_DECODE_FIELD);
	buf[flags_at] = 0;
	buf[flags_at + 1] = DHT_MAX_DEAD + 1;
	assert_int_equal(dht_msg_decode(&out, buf, (size_t)len, 16), DHT_DECODE_FIELD);

	/* A node count above the maximum, an unknown address family, has_pred not 0/1. */
	m = sample(DHT_FOUND, 16);
	len = encode(&m, buf);
	size_t count_at = 29 + 2;
	buf[count_at] = DHT_MAX_NODES + 1;
	assert_int_equal(dht_msg_decode(&out, buf, (size_t)len, 16), DHT_DECODE_FIELD);
	buf[count_at] = 3;
	buf[count_at + 1 + 20] = 5;
	assert_int_equal(dht_msg_decode(&out, buf, (size_t)len, 16), DHT_DECODE_FIELD);
	buf[count_at + 1 + 20] = 6;
	buf[29 + 1] = 2;
	assert_int_equal(dht_msg_decode(&out, buf, (size_t)len, 16), DHT_DECODE_FIELD);
	buf[29] = 7; /* status */
	assert_int_equal(dht_msg_decode(&out, buf, (size_t)len, 16), DHT_DECODE_FIELD);

	/* Oversized datagrams are refused before reading. */
	uint8_t big[DHT_MSG_MAX + 1];
	memset(big, 0, sizeof big);
	assert_int_equal(dht_msg_decode(&out, big, sizeof big, 16), DHT_DECODE_FIELD);
	assert_int_equal(dht_msg_decode(&out, NULL, 0, 16), DHT_DECODE_SHORT);
}

static void test_malformed_kv(void **state)
{
	(void)state;
	uint8_t buf[DHT_MSG_MAX];
	struct dht_msg m = sample(DHT_PUT, 16), out;
	int len = encode(&m, buf);
	/* A value length above the maximum, even with the bytes there. */
	size_t vlen_at = 29 + 20 + 4;
	buf[vlen_at] = 0x03;
	buf[vlen_at + 1] = 0xe9; /* 1001 */
	assert_int_equal(dht_msg_decode(&out, buf, (size_t)len + 1, 16), DHT_DECODE_FIELD);
	/* An unknown entry kind in a REPLICATE. */
	m = sample(DHT_REPLICATE, 16);
	len = encode(&m, buf);
	buf[29 + 1 + 20] = 9;
	assert_int_equal(dht_msg_decode(&out, buf, (size_t)len, 16), DHT_DECODE_FIELD);
	/* Counts above their maximum. */
	m = sample(DHT_PEERS, 16);
	len = encode(&m, buf);
	buf[29 + 1] = DHT_MAX_PEERS + 1;
	assert_int_equal(dht_msg_decode(&out, buf, (size_t)len, 16), DHT_DECODE_FIELD);
	m = sample(DHT_REPLICATE, 16);
	m.u.repl.n = DHT_MAX_REPL + 1;
	assert_int_equal(dht_msg_encode(&m, buf, sizeof buf), -1);
	/* A full REPLICATE of the largest values does not fit: the encoder says so. */
	m = sample(DHT_REPLICATE, 16);
	m.u.repl.n = 2;
	m.u.repl.e[0].item.vlen = m.u.repl.e[1].item.vlen = DHT_MAX_VALUE;
	m.u.repl.e[1].kind = DHT_ENTRY_VALUE;
	assert_int_equal(dht_msg_encode(&m, buf, sizeof buf), -1);
}

/* Issue 11: the largest signed messages fit a datagram with the tokens a request or an answer
 * carries (rpc.c: a request gives a token and echoes one), and item flags are checked. */
static void test_signed_values_fit(void **state)
{
	(void)state;
	uint8_t buf[DHT_MSG_MAX];
	struct dht_msg m = sample(DHT_PUT, 160), out; /* a 1000-byte value, with cas */
	m.ext.has_echo = m.ext.has_give = 1;
	int len = encode(&m, buf);
	assert_int_equal(len, 29 + 20 + 4 + 1 + 8 + 1 + 32 + 8 + 64 + 2 + DHT_MAX_VALUE + 20);
	m = sample(DHT_VALUE, 160);
	m.u.value.item.vlen = DHT_MAX_VALUE;
	m.u.value.nnodes = 0;
	m.ext.has_give = 1;
	encode(&m, buf);
	/* A tombstone holding bytes, unknown flags, or both kinds at once are refused. */
	m = sample(DHT_PUT, 160);
	m.u.put.item.vlen = 0;
	len = encode(&m, buf);
	size_t flags_at = 29 + 20 + 4 + 1 + 8;
	for (uint8_t f = 0; f < 8; f++) {
		buf[flags_at] = f;
		/* (IMMUTABLE reads the writer's key as a length: too large.) */
		enum dht_decode_result want = f == 0 || f == DHT_ITEM_TOMBSTONE ? DHT_DECODE_OK
									  : DHT_DECODE_FIELD;
		assert_int_equal(dht_msg_decode(&out, buf, (size_t)len, 160), want);
	}
	m.u.put.item.flags = DHT_ITEM_TOMBSTONE;
	m.u.put.item.vlen = 1;
	assert_int_equal(dht_msg_encode(&m, buf, sizeof buf), -1);
}

/* Issue 10: address tokens and padding travel after any body, round-trip, and are refused when
 * unknown, repeated, out of order, of the wrong length or (padding) not zero. */
static void test_extensions(void **state)
{
	(void)state;
	uint8_t buf[DHT_MSG_MAX], ext[DHT_EXT_MAX];
	struct dht_msg m = sample(DHT_GET, 16), out;
	m.ext.has_echo = m.ext.has_give = 1;
	memset(m.ext.echo, 0xe1, DHT_TOKEN_LEN);
	memset(m.ext.give, 0x61, DHT_TOKEN_LEN);
	m.ext.pad = 3;
	int len = encode(&m, buf);
	assert_int_equal(dht_msg_decode(&out, buf, (size_t)len, 16), DHT_DECODE_OK);
	assert_memory_equal(&out.ext, &m.ext, sizeof m.ext);
	/* The extensions alone encode to the tail of the message. */
	int n = dht_msg_ext_encode(&m.ext, ext, sizeof ext);
	assert_int_equal(n, 2 * (2 + DHT_TOKEN_LEN) + 2 + 3);
	assert_memory_equal(buf + len - n, ext, (size_t)n);
	int body = len - n;
	/* Out of order: GIVE before ECHO. */
	memcpy(buf + body, ext + 2 + DHT_TOKEN_LEN, 2 + DHT_TOKEN_LEN);
	memcpy(buf + body + 2 + DHT_TOKEN_LEN, ext, 2 + DHT_TOKEN_LEN);
	assert_int_equal(dht_msg_decode(&out, buf, (size_t)(body + 20), 16), DHT_DECODE_TRAILING);
	/* Repeated, unknown tag, wrong token length, padding that is not zero. */
	memcpy(buf + body, ext, 2 + DHT_TOKEN_LEN);
	memcpy(buf + body + 2 + DHT_TOKEN_LEN, ext, 2 + DHT_TOKEN_LEN);
	assert_int_equal(dht_msg_decode(&out, buf, (size_t)(body + 20), 16), DHT_DECODE_TRAILING);
	const uint8_t unknown[] = { 9, 1, 0 }, short_token[] = { DHT_EXT_ECHO, 4, 1, 2, 3, 4 },
		      dirty_pad[] = { DHT_EXT_PAD, 2, 0, 1 }, empty_pad[] = { DHT_EXT_PAD, 0 };
	const uint8_t *bad[] = { unknown, short_token, dirty_pad, empty_pad };
	size_t bad_len[] = { sizeof unknown, sizeof short_token, sizeof dirty_pad, sizeof empty_pad };
	for (size_t i = 0; i < 4; i++) {
		memcpy(buf + body, bad[i], bad_len[i]);
		assert_int_equal(dht_msg_decode(&out, buf, (size_t)body + bad_len[i], 16),
				 DHT_DECODE_TRAILING);
	}
	/* Too much padding is refused by the encoder too. */
	m.ext.pad = DHT_PAD_MAX + 1;
	assert_int_equal(dht_msg_encode(&m, buf, sizeof buf), -1);
}

static void test_encoder_refuses_invalid(void **state)
{
	(void)state;
	uint8_t buf[DHT_MSG_MAX];
	struct dht_msg m = sample(DHT_NEIGH, 16);
	m.u.neigh.nsucc = DHT_MAX_NODES + 1;
	assert_int_equal(dht_msg_encode(&m, buf, sizeof buf), -1);
	m = sample(DHT_PING, 16);
	m.type = 42;
	assert_int_equal(dht_msg_encode(&m, buf, sizeof buf), -1);
	m = sample(DHT_FOUND, 16);
	m.u.found.nodes[0].addr.family = 5;
	assert_int_equal(dht_msg_encode(&m, buf, sizeof buf), -1);
	assert_string_equal(dht_decode_result_str(DHT_DECODE_SHORT), "truncated");
	assert_string_equal(dht_msg_type_str(DHT_FIND), "FIND");
	assert_string_equal(dht_msg_type_str(200), "?");
}

/* The push messages: fields as node/push fills them. */
static struct dht_msg sample_push(uint8_t type)
{
	struct dht_msg m;
	memset(&m, 0, sizeof m);
	m.type = type;
	m.bits = 160;
	m.txid = 0x01020304;
	id_from_u64(&m.from, 5, 160);
	if (type == DHT_PUSH || type == DHT_PUSH_STATUS)
		for (int i = 0; i < DHT_PUSH_CID_LEN; i++)
			m.u.push.cid[i] = (uint8_t)i; /* push_status.cid overlays it */
	if (type == DHT_PUSH) {
		m.u.push.pusher = node(3, 160, 6).addr;
		m.u.push.time_s = 1700000000;
		memset(m.u.push.nonce, 0xab, sizeof m.u.push.nonce);
		memset(m.u.push.pk, 0xcd, sizeof m.u.push.pk);
		memset(m.u.push.sig, 0xef, sizeof m.u.push.sig);
	} else if (type == DHT_PUSH_ACK) {
		m.u.push_ack.status = 2;
		m.u.push_ack.reason = 3;
	} else if (type == DHT_PUSH_STATE) {
		m.u.push_state.state = 1;
		m.u.push_state.reason = 0;
		m.u.push_state.done = 1ull << 33;
		m.u.push_state.total = (1ull << 34) + 5;
	}
	return m;
}

static void test_push_messages(void **state)
{
	(void)state;
	uint8_t buf[DHT_MSG_MAX + 1];
	int lens[DHT_PUSH_STATE + 1] = { 0 };
	for (uint8_t t = DHT_PUSH; t <= DHT_PUSH_STATE; t++) {
		struct dht_msg m = sample_push(t), out;
		int len = dht_msg_encode(&m, buf, DHT_MSG_MAX);
		assert_true(len > 0 && len <= DHT_MSG_MAX);
		lens[t] = len;
		assert_int_equal(dht_msg_decode(&out, buf, (size_t)len, 160), DHT_DECODE_OK);
		assert_int_equal(memcmp(&out.u, &m.u, sizeof m.u.push), 0);
		assert_true(DHT_MSG_IS_APP(out.type));
		for (int cut = 0; cut < len; cut++)
			assert_int_equal(dht_msg_decode(&out, buf, (size_t)cut, 160),
					 DHT_DECODE_SHORT);
		buf[len] = 0;
		assert_int_equal(dht_msg_decode(&out, buf, (size_t)len + 1, 160),
				 DHT_DECODE_TRAILING);
	}
	/* An answer is never longer than its request: no amplification through a node. */
	assert_true(lens[DHT_PUSH_ACK] <= lens[DHT_PUSH]);
	assert_true(lens[DHT_PUSH_STATE] <= lens[DHT_PUSH_STATUS]);
	/* PUSH with an IPv6 pusher: header, cid, addr (1 + 16 + 2), time, nonce, key, signature. */
	assert_int_equal(lens[DHT_PUSH], 29 + 32 + 19 + 8 + 16 + 32 + 64);
	/* Known answer: a PUSH_ACK. */
	struct dht_msg ack = sample_push(DHT_PUSH_ACK);
	assert_int_equal(dht_msg_encode(&ack, buf, DHT_MSG_MAX), 31);
	const uint8_t head[9] = { 0x44, 0x48, 3, DHT_PUSH_ACK, 160, 1, 2, 3, 4 };
	assert_memory_equal(buf, head, sizeof head);
	assert_int_equal(buf[29], 2);
	assert_int_equal(buf[30], 3);
	/* A pusher address of an unknown family is refused. */
	struct dht_msg m = sample_push(DHT_PUSH), out;
	int len = dht_msg_encode(&m, buf, DHT_MSG_MAX);
	buf[29 + 32] = 5;
	assert_int_equal(dht_msg_decode(&out, buf, (size_t)len, 160), DHT_DECODE_FIELD);
	assert_string_equal(dht_msg_type_str(DHT_PUSH_STATE), "PUSH_STATE");
}

/* PROVE and PROOF (dht/proof.c): fixed lengths, exact round trips, every cut refused. */
static void test_proof_messages(void **state)
{
	(void)state;
	struct dht_msg m[2], out;
	uint8_t buf[DHT_MSG_MAX + 1];
	memset(m, 0, sizeof m);
	m[0].type = DHT_PROVE;
	m[1].type = DHT_PROOF;
	for (int i = 0; i < DHT_PROOF_NONCE_LEN; i++)
		m[0].u.prove.nonce[i] = (uint8_t)(0xa0 + i);
	memset(m[1].u.proof.pk, 0x11, sizeof m[1].u.proof.pk);
	memset(m[1].u.proof.sig, 0x22, sizeof m[1].u.proof.sig);
	const int want[2] = { 29 + 16, 29 + 32 + 64 };
	for (int k = 0; k < 2; k++) {
		m[k].bits = 160;
		m[k].txid = 0x01020304;
		id_from_u64(&m[k].from, 9, 160);
		int len = dht_msg_encode(&m[k], buf, DHT_MSG_MAX);
		assert_int_equal(len, want[k]);
		assert_int_equal(buf[3], m[k].type);
		assert_int_equal(dht_msg_decode(&out, buf, (size_t)len, 160), DHT_DECODE_OK);
		assert_int_equal(out.type, m[k].type);
		assert_memory_equal(&out.u, &m[k].u, k ? sizeof m[k].u.proof : sizeof m[k].u.prove);
		for (int cut = 29; cut < len; cut++)
			assert_int_equal(dht_msg_decode(&out, buf, (size_t)cut, 160),
					 DHT_DECODE_SHORT);
		buf[len] = 0;
		assert_int_equal(dht_msg_decode(&out, buf, (size_t)len + 1, 160),
				 DHT_DECODE_TRAILING);
	}
	/* Known answer: the PROVE body is the nonce, as it is. */
	dht_msg_encode(&m[0], buf, DHT_MSG_MAX);
	const uint8_t head[4] = { 0x44, 0x48, 3, DHT_PROVE };
	assert_memory_equal(buf, head, sizeof head);
	assert_memory_equal(buf + 29, m[0].u.prove.nonce, DHT_PROOF_NONCE_LEN);
	assert_string_equal(dht_msg_type_str(DHT_PROOF), "PROOF");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_every_type),
		cmocka_unit_test(test_known_answer_ping),
		cmocka_unit_test(test_largest_message_fits),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_malformed_kv),
		cmocka_unit_test(test_encoder_refuses_invalid),
		cmocka_unit_test(test_push_messages),
		cmocka_unit_test(test_proof_messages),
		cmocka_unit_test(test_extensions),
		cmocka_unit_test(test_signed_values_fit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
