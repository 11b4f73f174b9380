/* The DHT message codec. Layout (big-endian):
 *   (PING, PONG, GET_NEIGH, NOTIFY, LEAVE and JOIN have no body)
 *   header  magic u16 | version u8 | type u8 | bits u8 | txid u32 | from id (20 bytes)
 *   node    id (20) | family u8 (0, 4 or 6) | ip (0, 4 or 16 bytes) | port u16
 *   NEIGH   has_pred u8 | [pred node] | count u8 | nodes
 *   FIND    key id | flags u8 | ndead u8 | dead ids
 *   FOUND   status u8 | has_pred u8 | [pred node] | count u8 | nodes
 *   ERROR   code u8
 *   PUT     key id | ttl_s u32 | has_cas u8 | [cas u64] | item       STORED  status u8
 *   GET     key id | by_writer u8 | index u8 or pk (32)
 *   VALUE   status u8 | ttl_s u32 | count u8 | [item, if status is 0] | count u8 | nodes
 *   ANNOUNCE key id | ttl_s u32 | addr                   PEERS   status u8 | count u8 | addrs
 *   GET_PEERS key id | max u8
 *   REPLICATE count u8 | entries: key id | kind u8 | ttl_ms u32 | item or addr
 *   PUSH    cid (32) | pusher addr | time_s u64 | nonce (16) | pk (32) | sig (64)
 *   PUSH_ACK status u8 | reason u8        PUSH_STATUS cid (32)
 *   PUSH_STATE state u8 | reason u8 | done u64 | total u64
 *   PROVE   nonce (16)                     PROOF   pk (32) | sig (64)
 *   then optional extensions (any type), tags ascending: tag u8 | len u8 | bytes (ECHO, GIVE: a
 *   token; PAD: zeros)
 * where addr = family u8 (0, 4 or 6) | ip (0, 4 or 16 bytes) | port u16, and item = flags u8 |
 * [pk (32) | seq u64 | sig (64), unless IMMUTABLE] | vlen u16 | value (a tombstone has none).
 * Ids travel as 20 bytes whatever the width, and must fit in the network's width. The decoder
 * checks every count against its maximum before reading and refuses unknown or repeated
 * extensions and trailing bytes, so a datagram
 * either decodes exactly or is rejected. It never allocates. */
#include "dht/msg.h"

#include <stdbool.h>
#include <string.h>

#include "dht/bytes.h"

#define HEADER_LEN 29

static int put_id(struct bwriter *w, const struct dht_id *id)
{
	return bw_bytes(w, id->b, ID_BYTES);
}

static int put_addr(struct bwriter *w, const struct dht_addr *a)
{
	size_t iplen = a->family == 4 ? 4 : a->family == 6 ? 16 : 0;
	if (a->family != 0 && iplen == 0)
		return -1;
	bw_u8(w, a->family);
	bw_bytes(w, a->ip, iplen);
	return bw_u16(w, a->port);
}

static int put_node(struct bwriter *w, const struct dht_node *n)
{
	put_id(w, &n->id);
	return put_addr(w, &n->addr);
}

/* Flags an item may carry: one kind at most, and a tombstone holds no bytes. */
static bool item_flags_ok(uint8_t flags, uint16_t vlen)
{
	if (flags & ~(DHT_ITEM_TOMBSTONE | DHT_ITEM_IMMUTABLE))
		return false;
	if (flags == (DHT_ITEM_TOMBSTONE | DHT_ITEM_IMMUTABLE))
		return false;
	return !(flags & DHT_ITEM_TOMBSTONE) || vlen == 0;
}

static int put_item(struct bwriter *w, const struct dht_item *it)
{
	if (it->vlen > DHT_MAX_VALUE || !item_flags_ok(it->flags, it->vlen))
		return -1;
	bw_u8(w, it->flags);
	if (!(it->flags & DHT_ITEM_IMMUTABLE)) {
		bw_bytes(w, it->pk, DHT_ITEM_PK_LEN);
		bw_u64(w, it->seq);
		bw_bytes(w, it->sig, DHT_ITEM_SIG_LEN);
	}
	bw_u16(w, it->vlen);
	return bw_bytes(w, it->value, it->vlen);
}

static int put_repl(struct bwriter *w, const struct dht_msg *m)
{
	if (m->u.repl.n > DHT_MAX_REPL)
		return -1;
	bw_u8(w, m->u.repl.n);
	for (uint8_t i = 0; i < m->u.repl.n; i++) {
		const struct dht_repl_entry *e = &m->u.repl.e[i];
		put_id(w, &e->key);
		bw_u8(w, e->kind);
		bw_u32(w, e->ttl_ms);
		int rc = e->kind == DHT_ENTRY_VALUE ? put_item(w, &e->item)
			 : e->kind == DHT_ENTRY_PEER ? put_addr(w, &e->peer) : -1;
		if (rc != 0)
			return -1;
	}
	return w->bad ? -1 : 0;
}

/* The store's messages (types 10 and up). */
static int put_kv_body(struct bwriter *w, const struct dht_msg *m)
{
	switch (m->type) {
	case DHT_PUT:
		if (m->u.put.has_cas > 1)
			return -1;
		put_id(w, &m->u.put.key);
		bw_u32(w, m->u.put.ttl_s);
		bw_u8(w, m->u.put.has_cas);
		if (m->u.put.has_cas)
			bw_u64(w, m->u.put.cas);
		return put_item(w, &m->u.put.item);
	case DHT_STORED:
		return bw_u8(w, m->u.stored.status);
	case DHT_GET:
		if (m->u.get.by_writer > 1)
			return -1;
		put_id(w, &m->u.get.key);
		bw_u8(w, m->u.get.by_writer);
		return m->u.get.by_writer ? bw_bytes(w, m->u.get.pk, DHT_ITEM_PK_LEN)
					  : bw_u8(w, m->u.get.index);
	case DHT_VALUE:
		if (m->u.value.nnodes > DHT_MAX_FALLBACK)
			return -1;
		bw_u8(w, m->u.value.status);
		bw_u32(w, m->u.value.ttl_s);
		bw_u8(w, m->u.value.count);
		if (m->u.value.status == 0 /* DHT_OK */ && put_item(w, &m->u.value.item) != 0)
			return -1;
		bw_u8(w, m->u.value.nnodes);
		for (uint8_t i = 0; i < m->u.value.nnodes; i++)
			if (put_node(w, &m->u.value.nodes[i]) != 0)
				return -1;
		return w->bad ? -1 : 0;
	case DHT_ANNOUNCE:
		put_id(w, &m->u.announce.key);
		bw_u32(w, m->u.announce.ttl_s);
		return put_addr(w, &m->u.announce.peer);
	case DHT_GET_PEERS:
		put_id(w, &m->u.get_peers.key);
		return bw_u8(w, m->u.get_peers.max);
	case DHT_PEERS:
		if (m->u.peers.npeers > DHT_MAX_PEERS)
			return -1;
		bw_u8(w, m->u.peers.status);
		bw_u8(w, m->u.peers.npeers);
		for (uint8_t i = 0; i < m->u.peers.npeers; i++)
			if (put_addr(w, &m->u.peers.peers[i]) != 0)
				return -1;
		return w->bad ? -1 : 0;
	case DHT_REPLICATE:
		return put_repl(w, m);
	default:
		return -1;
	}
}

/* The push messages (types 19 to 22): the codec checks lengths; node/push the meaning. */
static int put_push_body(struct bwriter *w, const struct dht_msg *m)
{
	switch (m->type) {
	case DHT_PUSH:
		bw_bytes(w, m->u.push.cid, DHT_PUSH_CID_LEN);
		if (put_addr(w, &m->u.push.pusher) != 0)
			return -1;
		bw_u64(w, m->u.push.time_s);
		bw_bytes(w, m->u.push.nonce, DHT_PUSH_NONCE_LEN);
		bw_bytes(w, m->u.push.pk, DHT_PUSH_PK_LEN);
		return bw_bytes(w, m->u.push.sig, DHT_PUSH_SIG_LEN);
	case DHT_PUSH_ACK:
		bw_u8(w, m->u.push_ack.status);
		return bw_u8(w, m->u.push_ack.reason);
	case DHT_PUSH_STATUS:
		return bw_bytes(w, m->u.push_status.cid, DHT_PUSH_CID_LEN);
	default: /* DHT_PUSH_STATE */
		bw_u8(w, m->u.push_state.state);
		bw_u8(w, m->u.push_state.reason);
		bw_u64(w, m->u.push_state.done);
		return bw_u64(w, m->u.push_state.total);
	}
}

static int put_nodes(struct bwriter *w, const struct dht_node *nodes, uint8_t n)
{
	if (n > DHT_MAX_NODES)
		return -1;
	bw_u8(w, n);
	for (uint8_t i = 0; i < n; i++)
		if (put_node(w, &nodes[i]) != 0)
			return -1;
	return w->bad ? -1 : 0;
}

static int put_pred(struct bwriter *w, uint8_t has, const struct dht_node *pred)
{
	if (has > 1)
		return -1;
	bw_u8(w, has);
	return has ? put_node(w, pred) : (w->bad ? -1 : 0);
}

static int put_body(struct bwriter *w, const struct dht_msg *m)
{
	switch (m->type) {
	case DHT_PING:
	case DHT_PONG:
	case DHT_GET_NEIGH:
	case DHT_NOTIFY:
	case DHT_LEAVE:
	case DHT_JOIN:
		return 0;
	case DHT_NEIGH:
		if (put_pred(w, m->u.neigh.has_pred, &m->u.neigh.pred) != 0)
			return -1;
		return put_nodes(w, m->u.neigh.succ, m->u.neigh.nsucc);
	case DHT_FIND:
		if (m->u.find.ndead > DHT_MAX_DEAD || (m->u.find.flags & ~DHT_FIND_AS_OWNER))
			return -1;
		put_id(w, &m->u.find.key);
		bw_u8(w, m->u.find.flags);
		bw_u8(w, m->u.find.ndead);
		for (uint8_t i = 0; i < m->u.find.ndead; i++)
			put_id(w, &m->u.find.dead[i]);
		return w->bad ? -1 : 0;
	case DHT_FOUND:
		if (m->u.found.status > DHT_FOUND_PRED)
			return -1;
		bw_u8(w, m->u.found.status);
		if (put_pred(w, m->u.found.has_pred, &m->u.found.pred) != 0)
			return -1;
		return put_nodes(w, m->u.found.nodes, m->u.found.nnodes);
	case DHT_ERROR:
		return bw_u8(w, m->u.error.code);
	case DHT_PROVE:
		return bw_bytes(w, m->u.prove.nonce, DHT_PROOF_NONCE_LEN);
	case DHT_PROOF:
		bw_bytes(w, m->u.proof.pk, DHT_PROOF_PK_LEN);
		return bw_bytes(w, m->u.proof.sig, DHT_PROOF_SIG_LEN);
	default:
		return DHT_MSG_IS_APP(m->type) ? put_push_body(w, m) : put_kv_body(w, m);
	}
}

/* --- extensions (address tokens, padding) -------------------------------------------------- */

static void put_token(struct bwriter *w, uint8_t tag, const uint8_t *token)
{
	bw_u8(w, tag);
	bw_u8(w, DHT_TOKEN_LEN);
	bw_bytes(w, token, DHT_TOKEN_LEN);
}

static int put_ext(struct bwriter *w, const struct dht_msg_ext *x)
{
	static const uint8_t zeros[DHT_PAD_MAX];
	if (x->pad > DHT_PAD_MAX)
		return -1;
	if (x->has_echo)
		put_token(w, DHT_EXT_ECHO, x->echo);
	if (x->has_give)
		put_token(w, DHT_EXT_GIVE, x->give);
	if (x->pad) {
		bw_u8(w, DHT_EXT_PAD);
		bw_u8(w, x->pad);
		bw_bytes(w, zeros, x->pad);
	}
	return w->bad ? -1 : 0;
}

int dht_msg_ext_encode(const struct dht_msg_ext *x, uint8_t *buf, size_t cap)
{
	struct bwriter w;
	bw_init(&w, buf, cap);
	return put_ext(&w, x) == 0 ? (int)w.len : -1;
}

/* Read one extension; false if it is malformed, unknown, or out of order (the tags ascend, so
 * each comes at most once and the encoding stays canonical). */
static bool get_ext_one(struct breader *r, struct dht_msg_ext *x, uint8_t *last)
{
	uint8_t tag, len;
	if (br_u8(r, &tag) != 0 || br_u8(r, &len) != 0 || tag <= *last)
		return false;
	*last = tag;
	if (tag == DHT_EXT_ECHO || tag == DHT_EXT_GIVE) {
		bool echo = tag == DHT_EXT_ECHO;
		if (len != DHT_TOKEN_LEN)
			return false;
		*(echo ? &x->has_echo : &x->has_give) = 1;
		return br_bytes(r, echo ? x->echo : x->give, len) == 0;
	}
	uint8_t pad[DHT_PAD_MAX];
	static const uint8_t zeros[DHT_PAD_MAX];
	if (tag != DHT_EXT_PAD || len == 0 || len > DHT_PAD_MAX || br_bytes(r, pad, len) != 0)
		return false;
	x->pad = len;
	return memcmp(pad, zeros, len) == 0;
}

/* Read extensions to the end of the datagram: anything else left over is trailing bytes. */
static enum dht_decode_result get_ext(struct breader *r, struct dht_msg_ext *x)
{
	uint8_t last = 0;
	while (br_left(r) != 0)
		if (!get_ext_one(r, x, &last))
			return DHT_DECODE_TRAILING;
	return DHT_DECODE_OK;
}

int dht_msg_encode(const struct dht_msg *m, uint8_t *buf, size_t cap)
{
	struct bwriter w;
	bw_init(&w, buf, cap < DHT_MSG_MAX ? cap : DHT_MSG_MAX);
	bw_u16(&w, DHT_MSG_MAGIC);
	bw_u8(&w, DHT_MSG_VERSION);
	bw_u8(&w, m->type);
	bw_u8(&w, m->bits);
	bw_u32(&w, m->txid);
	put_id(&w, &m->from);
	if (put_body(&w, m) != 0 || put_ext(&w, &m->ext) != 0 || w.bad)
		return -1;
	return (int)w.len;
}

/* Ids must fit in the network's width: the bits above it are zero. */
static enum dht_decode_result get_id(struct breader *r, struct dht_id *id, unsigned bits)
{
	if (br_bytes(r, id->b, ID_BYTES) != 0)
		return DHT_DECODE_SHORT;
	return id_log2(id) < (int)bits ? DHT_DECODE_OK : DHT_DECODE_BITS;
}

static enum dht_decode_result get_addr(struct breader *r, struct dht_addr *a)
{
	memset(a, 0, sizeof *a);
	if (br_u8(r, &a->family) != 0)
		return DHT_DECODE_SHORT;
	size_t iplen = a->family == 4 ? 4 : a->family == 6 ? 16 : 0;
	if (a->family != 0 && iplen == 0)
		return DHT_DECODE_FIELD;
	if (br_bytes(r, a->ip, iplen) != 0 || br_u16(r, &a->port) != 0)
		return DHT_DECODE_SHORT;
	return DHT_DECODE_OK;
}

static enum dht_decode_result get_node(struct breader *r, struct dht_node *n, unsigned bits)
{
	enum dht_decode_result res = get_id(r, &n->id, bits);
	return res == DHT_DECODE_OK ? get_addr(r, &n->addr) : res;
}

static enum dht_decode_result get_item(struct breader *r, struct dht_item *it)
{
	if (br_u8(r, &it->flags) != 0)
		return DHT_DECODE_SHORT;
	if (!(it->flags & DHT_ITEM_IMMUTABLE) &&
	    (br_bytes(r, it->pk, DHT_ITEM_PK_LEN) | br_u64(r, &it->seq) |
	     br_bytes(r, it->sig, DHT_ITEM_SIG_LEN)) != 0)
		return DHT_DECODE_SHORT;
	if (br_u16(r, &it->vlen) != 0)
		return DHT_DECODE_SHORT;
	if (it->vlen > DHT_MAX_VALUE || !item_flags_ok(it->flags, it->vlen))
		return DHT_DECODE_FIELD;
	return br_ref(r, &it->value, it->vlen) == 0 ? DHT_DECODE_OK : DHT_DECODE_SHORT;
}

/* ID then a u32 (a key and its TTL, as PUT and ANNOUNCE start). */
static enum dht_decode_result get_key_ttl(struct breader *r, struct dht_id *key, uint32_t *ttl,
					  unsigned bits)
{
	enum dht_decode_result res = get_id(r, key, bits);
	if (res != DHT_DECODE_OK)
		return res;
	return br_u32(r, ttl) == 0 ? DHT_DECODE_OK : DHT_DECODE_SHORT;
}

static enum dht_decode_result get_put(struct breader *r, struct dht_msg *m, unsigned bits)
{
	enum dht_decode_result res = get_key_ttl(r, &m->u.put.key, &m->u.put.ttl_s, bits);
	if (res != DHT_DECODE_OK)
		return res;
	if (br_u8(r, &m->u.put.has_cas) != 0)
		return DHT_DECODE_SHORT;
	if (m->u.put.has_cas > 1)
		return DHT_DECODE_FIELD;
	if (m->u.put.has_cas && br_u64(r, &m->u.put.cas) != 0)
		return DHT_DECODE_SHORT;
	return get_item(r, &m->u.put.item);
}

static enum dht_decode_result get_get(struct breader *r, struct dht_msg *m, unsigned bits)
{
	enum dht_decode_result res = get_id(r, &m->u.get.key, bits);
	if (res != DHT_DECODE_OK)
		return res;
	if (br_u8(r, &m->u.get.by_writer) != 0)
		return DHT_DECODE_SHORT;
	if (m->u.get.by_writer > 1)
		return DHT_DECODE_FIELD;
	int bad = m->u.get.by_writer ? br_bytes(r, m->u.get.pk, DHT_ITEM_PK_LEN)
				     : br_u8(r, &m->u.get.index);
	return bad ? DHT_DECODE_SHORT : DHT_DECODE_OK;
}

static enum dht_decode_result get_repl(struct breader *r, struct dht_msg *m, unsigned bits)
{
	if (br_u8(r, &m->u.repl.n) != 0)
		return DHT_DECODE_SHORT;
	if (m->u.repl.n > DHT_MAX_REPL)
		return DHT_DECODE_FIELD;
	for (uint8_t i = 0; i < m->u.repl.n; i++) {
		struct dht_repl_entry *e = &m->u.repl.e[i];
		enum dht_decode_result res = get_id(r, &e->key, bits);
		if (res != DHT_DECODE_OK)
			return res;
		if (br_u8(r, &e->kind) != 0 || br_u32(r, &e->ttl_ms) != 0)
			return DHT_DECODE_SHORT;
		if (e->kind == DHT_ENTRY_VALUE)
			res = get_item(r, &e->item);
		else if (e->kind == DHT_ENTRY_PEER)
			res = get_addr(r, &e->peer);
		else
			res = DHT_DECODE_FIELD;
		if (res != DHT_DECODE_OK)
			return res;
	}
	return DHT_DECODE_OK;
}

static enum dht_decode_result get_value_reply(struct breader *r, struct dht_msg *m, unsigned bits)
{
	if (br_u8(r, &m->u.value.status) != 0 || br_u32(r, &m->u.value.ttl_s) != 0 ||
	    br_u8(r, &m->u.value.count) != 0)
		return DHT_DECODE_SHORT;
	enum dht_decode_result res = DHT_DECODE_OK;
	bool found = m->u.value.status == 0; /* DHT_OK: an item follows */
	if (found && (res = get_item(r, &m->u.value.item)) != DHT_DECODE_OK)
		return res;
	if (br_u8(r, &m->u.value.nnodes) != 0)
		return DHT_DECODE_SHORT;
	if (m->u.value.nnodes > DHT_MAX_FALLBACK)
		return DHT_DECODE_FIELD;
	for (uint8_t i = 0; i < m->u.value.nnodes; i++)
		if ((res = get_node(r, &m->u.value.nodes[i], bits)) != DHT_DECODE_OK)
			return res;
	return DHT_DECODE_OK;
}

static enum dht_decode_result get_peers_reply(struct breader *r, struct dht_msg *m)
{
	if (br_u8(r, &m->u.peers.status) != 0 || br_u8(r, &m->u.peers.npeers) != 0)
		return DHT_DECODE_SHORT;
	if (m->u.peers.npeers > DHT_MAX_PEERS)
		return DHT_DECODE_FIELD;
	for (uint8_t i = 0; i < m->u.peers.npeers; i++) {
		enum dht_decode_result res = get_addr(r, &m->u.peers.peers[i]);
		if (res != DHT_DECODE_OK)
			return res;
	}
	return DHT_DECODE_OK;
}

static enum dht_decode_result get_kv_body(struct breader *r, struct dht_msg *m, unsigned bits)
{
	enum dht_decode_result res;
	switch (m->type) {
	case DHT_PUT:
		return get_put(r, m, bits);
	case DHT_STORED:
		return br_u8(r, &m->u.stored.status) == 0 ? DHT_DECODE_OK : DHT_DECODE_SHORT;
	case DHT_GET:
		return get_get(r, m, bits);
	case DHT_VALUE:
		return get_value_reply(r, m, bits);
	case DHT_ANNOUNCE:
		res = get_key_ttl(r, &m->u.announce.key, &m->u.announce.ttl_s, bits);
		return res != DHT_DECODE_OK ? res : get_addr(r, &m->u.announce.peer);
	case DHT_GET_PEERS:
		res = get_id(r, &m->u.get_peers.key, bits);
		if (res != DHT_DECODE_OK)
			return res;
		return br_u8(r, &m->u.get_peers.max) == 0 ? DHT_DECODE_OK : DHT_DECODE_SHORT;
	case DHT_PEERS:
		return get_peers_reply(r, m);
	case DHT_REPLICATE:
		return get_repl(r, m, bits);
	default:
		return DHT_DECODE_TYPE;
	}
}

static enum dht_decode_result get_push_body(struct breader *r, struct dht_msg *m)
{
	enum dht_decode_result res;
	int bad = 0;
	switch (m->type) {
	case DHT_PUSH:
		if (br_bytes(r, m->u.push.cid, DHT_PUSH_CID_LEN) != 0)
			return DHT_DECODE_SHORT;
		res = get_addr(r, &m->u.push.pusher);
		if (res != DHT_DECODE_OK)
			return res;
		bad = br_u64(r, &m->u.push.time_s) | br_bytes(r, m->u.push.nonce, DHT_PUSH_NONCE_LEN) |
		      br_bytes(r, m->u.push.pk, DHT_PUSH_PK_LEN) |
		      br_bytes(r, m->u.push.sig, DHT_PUSH_SIG_LEN);
		break;
	case DHT_PUSH_ACK:
		bad = br_u8(r, &m->u.push_ack.status) | br_u8(r, &m->u.push_ack.reason);
		break;
	case DHT_PUSH_STATUS:
		bad = br_bytes(r, m->u.push_status.cid, DHT_PUSH_CID_LEN);
		break;
	default: /* DHT_PUSH_STATE */
		bad = br_u8(r, &m->u.push_state.state) | br_u8(r, &m->u.push_state.reason) |
		      br_u64(r, &m->u.push_state.done) | br_u64(r, &m->u.push_state.total);
		break;
	}
	return bad ? DHT_DECODE_SHORT : DHT_DECODE_OK;
}

static enum dht_decode_result get_nodes(struct breader *r, struct dht_node *nodes, uint8_t *n,
					unsigned bits)
{
	if (br_u8(r, n) != 0)
		return DHT_DECODE_SHORT;
	if (*n > DHT_MAX_NODES)
		return DHT_DECODE_FIELD;
	for (uint8_t i = 0; i < *n; i++) {
		enum dht_decode_result res = get_node(r, &nodes[i], bits);
		if (res != DHT_DECODE_OK)
			return res;
	}
	return DHT_DECODE_OK;
}

static enum dht_decode_result get_pred(struct breader *r, uint8_t *has, struct dht_node *pred,
				       unsigned bits)
{
	if (br_u8(r, has) != 0)
		return DHT_DECODE_SHORT;
	if (*has > 1)
		return DHT_DECODE_FIELD;
	return *has ? get_node(r, pred, bits) : DHT_DECODE_OK;
}

static enum dht_decode_result get_find(struct breader *r, struct dht_msg *m, unsigned bits)
{
	enum dht_decode_result res = get_id(r, &m->u.find.key, bits);
	if (res != DHT_DECODE_OK)
		return res;
	if (br_u8(r, &m->u.find.flags) != 0 || br_u8(r, &m->u.find.ndead) != 0)
		return DHT_DECODE_SHORT;
	if ((m->u.find.flags & ~DHT_FIND_AS_OWNER) || m->u.find.ndead > DHT_MAX_DEAD)
		return DHT_DECODE_FIELD;
	for (uint8_t i = 0; i < m->u.find.ndead; i++)
		if ((res = get_id(r, &m->u.find.dead[i], bits)) != DHT_DECODE_OK)
			return res;
	return DHT_DECODE_OK;
}

static enum dht_decode_result get_body(struct breader *r, struct dht_msg *m, unsigned bits)
{
	enum dht_decode_result res;
	switch (m->type) {
	case DHT_PING:
	case DHT_PONG:
	case DHT_GET_NEIGH:
	case DHT_NOTIFY:
	case DHT_LEAVE:
	case DHT_JOIN:
		return DHT_DECODE_OK;
	case DHT_NEIGH:
		res = get_pred(r, &m->u.neigh.has_pred, &m->u.neigh.pred, bits);
		if (res != DHT_DECODE_OK)
			return res;
		return get_nodes(r, m->u.neigh.succ, &m->u.neigh.nsucc, bits);
	case DHT_FIND:
		return get_find(r, m, bits);
	case DHT_FOUND:
		if (br_u8(r, &m->u.found.status) != 0)
			return DHT_DECODE_SHORT;
		if (m->u.found.status > DHT_FOUND_PRED)
			return DHT_DECODE_FIELD;
		res = get_pred(r, &m->u.found.has_pred, &m->u.found.pred, bits);
		if (res != DHT_DECODE_OK)
			return res;
		return get_nodes(r, m->u.found.nodes, &m->u.found.nnodes, bits);
	case DHT_ERROR:
		return br_u8(r, &m->u.error.code) == 0 ? DHT_DECODE_OK : DHT_DECODE_SHORT;
	case DHT_PROVE:
		return br_bytes(r, m->u.prove.nonce, DHT_PROOF_NONCE_LEN) ? DHT_DECODE_SHORT
									     : DHT_DECODE_OK;
	case DHT_PROOF:
		if (br_bytes(r, m->u.proof.pk, DHT_PROOF_PK_LEN) != 0)
			return DHT_DECODE_SHORT;
		return br_bytes(r, m->u.proof.sig, DHT_PROOF_SIG_LEN) ? DHT_DECODE_SHORT
									: DHT_DECODE_OK;
	default:
		return DHT_MSG_IS_APP(m->type) ? get_push_body(r, m) : get_kv_body(r, m, bits);
	}
}

enum dht_decode_result dht_msg_decode(struct dht_msg *m, const uint8_t *buf, size_t len,
				      unsigned bits)
{
	struct breader r;
	uint16_t magic;
	uint8_t version;
	memset(m, 0, sizeof *m);
	if (len > DHT_MSG_MAX)
		return DHT_DECODE_FIELD;
	br_init(&r, buf, len);
	if (br_u16(&r, &magic) != 0)
		return DHT_DECODE_SHORT;
	if (magic != DHT_MSG_MAGIC)
		return DHT_DECODE_MAGIC;
	if (br_u8(&r, &version) != 0 || br_u8(&r, &m->type) != 0 || br_u8(&r, &m->bits) != 0 ||
	    br_u32(&r, &m->txid) != 0)
		return DHT_DECODE_SHORT;
	if (version != DHT_MSG_VERSION)
		return DHT_DECODE_VERSION;
	if (m->bits != bits)
		return DHT_DECODE_BITS;
	enum dht_decode_result res = get_id(&r, &m->from, bits);
	if (res == DHT_DECODE_OK)
		res = get_body(&r, m, bits);
	if (res == DHT_DECODE_OK)
		res = get_ext(&r, &m->ext);
	return res;
}

const char *dht_decode_result_str(enum dht_decode_result r)
{
	static const char *names[DHT_DECODE_NRESULTS] = {
		"ok", "truncated", "bad magic", "unknown version", "unknown type",
		"wrong id width", "field out of range", "trailing bytes",
	};
	return (unsigned)r < DHT_DECODE_NRESULTS ? names[r] : "?";
}

const char *dht_msg_type_str(unsigned type)
{
	static const char *names[] = { "?", "PING", "PONG", "GET_NEIGH", "NEIGH", "FIND",
				       "FOUND", "NOTIFY", "LEAVE", "ERROR", "PUT", "STORED",
				       "GET", "VALUE", "ANNOUNCE", "GET_PEERS", "PEERS",
				       "REPLICATE", "JOIN", "PUSH", "PUSH_ACK",
				       "PUSH_STATUS", "PUSH_STATE", "PROVE", "PROOF" };
	return type < sizeof names / sizeof names[0] ? names[type] : "?";
}

int dht_addr_eq(const struct dht_addr *a, const struct dht_addr *b)
{
	if (a->family != b->family || a->port != b->port)
		return 0;
	size_t iplen = a->family == 4 ? 4 : a->family == 6 ? 16 : 0;
	return memcmp(a->ip, b->ip, iplen) == 0;
}
