/* The peer-wire codec: turns a TCP byte stream into messages and messages into frames. It judges
 * each frame on its own (lengths, known types, field ranges) and rejects a bad one as early as
 * the bytes allow, so a hostile peer cannot make us buffer a huge frame. It deliberately keeps no
 * state and knows nothing of sessions: whether a message is welcome now (a block we asked for, a
 * bitfield of the right size for this share) is the session's call. Payloads are never copied. */
#include "transfer/wire.h"

#include <string.h>

#define SPAN_BODY 12
#define HANDSHAKE_BODY (1 + WIRE_PROTOCOL_LEN + 1 + WIRE_NETWORK_ID_LEN + WIRE_CONTENT_ID_LEN + \
			WIRE_PEER_ID_LEN)

/* Body sizes (after the type byte) each type allows. */
struct body_limits {
	uint32_t min;
	uint32_t max;
};

static const struct body_limits limits[] = {
	[WIRE_HANDSHAKE] = { HANDSHAKE_BODY, HANDSHAKE_BODY },
	[WIRE_BITFIELD] = { 1, WIRE_MAX_BODY },
	[WIRE_HAVE] = { 4, 4 },
	[WIRE_INTERESTED] = { 0, 0 },
	[WIRE_NOT_INTERESTED] = { 0, 0 },
	[WIRE_CHOKE] = { 0, 0 },
	[WIRE_UNCHOKE] = { 0, 0 },
	[WIRE_REQUEST] = { SPAN_BODY, SPAN_BODY },
	[WIRE_BLOCK] = { 8 + 1, 8 + WIRE_BLOCK_SIZE },
	[WIRE_CANCEL] = { SPAN_BODY, SPAN_BODY },
	[WIRE_REJECT] = { SPAN_BODY, SPAN_BODY },
	[WIRE_MANIFEST_REQ] = { 4, 4 },
	[WIRE_MANIFEST_PIECE] = { 8 + 1, 8 + WIRE_MANIFEST_PIECE_SIZE },
	[WIRE_MANIFEST_REJECT] = { 4, 4 },
	[WIRE_LOST] = { 4, 4 },
};

static const char *const names[] = {
	[WIRE_KEEPALIVE] = "KEEPALIVE",
	[WIRE_HANDSHAKE] = "HANDSHAKE",
	[WIRE_BITFIELD] = "BITFIELD",
	[WIRE_HAVE] = "HAVE",
	[WIRE_INTERESTED] = "INTERESTED",
	[WIRE_NOT_INTERESTED] = "NOT_INTERESTED",
	[WIRE_CHOKE] = "CHOKE",
	[WIRE_UNCHOKE] = "UNCHOKE",
	[WIRE_REQUEST] = "REQUEST",
	[WIRE_BLOCK] = "BLOCK",
	[WIRE_CANCEL] = "CANCEL",
	[WIRE_REJECT] = "REJECT",
	[WIRE_MANIFEST_REQ] = "MANIFEST_REQ",
	[WIRE_MANIFEST_PIECE] = "MANIFEST_PIECE",
	[WIRE_MANIFEST_REJECT] = "MANIFEST_REJECT",
	[WIRE_LOST] = "LOST",
};

#define NTYPES (sizeof names / sizeof names[0])

const char *wire_type_name(enum wire_type type)
{
	return (unsigned)type < NTYPES ? names[type] : "?";
}

static const struct body_limits *limits_of(unsigned type)
{
	if (type == WIRE_KEEPALIVE || type >= NTYPES)
		return NULL;
	return &limits[type];
}

/* Offsets and lengths within a chunk: the sizes the decoder promises the session. */
static bool in_chunk(uint32_t offset, uint32_t len)
{
	return len >= 1 && len <= WIRE_BLOCK_SIZE && offset <= WIRE_MAX_CHUNK_SIZE - len;
}

/* Piece INDEX of a TOTAL-byte manifest must carry exactly what is left, up to a full piece. */
static bool piece_ok(const struct wire_manifest_piece *p)
{
	if (p->total == 0 || p->total > WIRE_MAX_MANIFEST)
		return false;
	uint64_t start = (uint64_t)p->index * WIRE_MANIFEST_PIECE_SIZE;
	if (start >= p->total)
		return false;
	uint64_t left = p->total - start;
	return p->len == (left < WIRE_MANIFEST_PIECE_SIZE ? left : WIRE_MANIFEST_PIECE_SIZE);
}

/* The field rules of the header, shared by the decoder and the encoders so that we never send
 * what we would refuse. Body sizes are checked separately against limits[]. */
static bool fields_ok(const struct wire_msg *m)
{
	switch (m->type) {
	case WIRE_REQUEST:
	case WIRE_CANCEL:
	case WIRE_REJECT:
		return in_chunk(m->u.span.offset, m->u.span.length);
	case WIRE_BLOCK:
		return in_chunk(m->u.block.offset, m->u.block.len);
	case WIRE_MANIFEST_PIECE:
		return piece_ok(&m->u.piece);
	default:
		return true;
	}
}

static void read_span(struct breader *r, struct wire_span *s)
{
	br_u32(r, &s->chunk);
	br_u32(r, &s->offset);
	br_u32(r, &s->length);
}

static bool read_handshake(struct breader *r, struct wire_handshake *hs)
{
	uint8_t namelen;
	const uint8_t *name;
	br_u8(r, &namelen);
	if (namelen != WIRE_PROTOCOL_LEN || br_ref(r, &name, WIRE_PROTOCOL_LEN) != 0 ||
	    memcmp(name, WIRE_PROTOCOL, WIRE_PROTOCOL_LEN) != 0)
		return false;
	br_u8(r, &hs->version);
	br_bytes(r, hs->network, sizeof hs->network);
	br_bytes(r, hs->content, sizeof hs->content);
	br_bytes(r, hs->peer, sizeof hs->peer);
	return !r->bad;
}

/* Decode a body whose size already fits its type's limits; the reader covers exactly the body,
 * so a fixed-size body cannot run short and every variable part is "what is left". */
static bool read_body(struct breader *r, struct wire_msg *m)
{
	switch (m->type) {
	case WIRE_HANDSHAKE:
		return read_handshake(r, &m->u.handshake);
	case WIRE_BITFIELD:
		m->u.bitfield.len = (uint32_t)br_left(r);
		br_ref(r, &m->u.bitfield.bits, m->u.bitfield.len);
		break;
	case WIRE_HAVE:
		br_u32(r, &m->u.have);
		break;
	case WIRE_LOST:
		br_u32(r, &m->u.lost);
		break;
	case WIRE_REQUEST:
	case WIRE_CANCEL:
	case WIRE_REJECT:
		read_span(r, &m->u.span);
		break;
	case WIRE_BLOCK:
		br_u32(r, &m->u.block.chunk);
		br_u32(r, &m->u.block.offset);
		m->u.block.len = (uint32_t)br_left(r);
		br_ref(r, &m->u.block.data, m->u.block.len);
		break;
	case WIRE_MANIFEST_REQ:
	case WIRE_MANIFEST_REJECT:
		br_u32(r, &m->u.piece_index);
		break;
	case WIRE_MANIFEST_PIECE:
		br_u32(r, &m->u.piece.index);
		br_u32(r, &m->u.piece.total);
		m->u.piece.len = (uint32_t)br_left(r);
		br_ref(r, &m->u.piece.data, m->u.piece.len);
		break;
	default:
		break;
	}
	return !r->bad && br_left(r) == 0 && fields_ok(m);
}

/* With only the first LEN (< 4) bytes of the prefix, is even the smallest length they can
 * still spell too large? A stream starting 0x7f... is refused after one byte. */
static bool prefix_too_big(const uint8_t *buf, size_t len)
{
	uint8_t p[WIRE_PREFIX_LEN] = { 0 };
	memcpy(p, buf, len);
	return be32_get(p) > 1 + WIRE_MAX_BODY;
}

enum wire_status wire_frame(const uint8_t *buf, size_t len, struct wire_msg *msg,
			    size_t *consumed)
{
	if (len < WIRE_PREFIX_LEN)
		return prefix_too_big(buf, len) ? WIRE_MALFORMED : WIRE_NEED_MORE;
	uint32_t flen = be32_get(buf);
	if (flen == 0) {
		memset(msg, 0, sizeof *msg);
		msg->type = WIRE_KEEPALIVE;
		*consumed = WIRE_PREFIX_LEN;
		return WIRE_OK;
	}
	if (flen > 1 + WIRE_MAX_BODY)
		return WIRE_MALFORMED;
	if (len < WIRE_PREFIX_LEN + 1)
		return WIRE_NEED_MORE;
	const struct body_limits *lim = limits_of(buf[WIRE_PREFIX_LEN]);
	if (lim == NULL || flen - 1 < lim->min || flen - 1 > lim->max)
		return WIRE_MALFORMED;
	if (len - WIRE_PREFIX_LEN < flen)
		return WIRE_NEED_MORE;
	struct wire_msg m;
	memset(&m, 0, sizeof m);
	m.type = (enum wire_type)buf[WIRE_PREFIX_LEN];
	struct breader r;
	br_init(&r, buf + WIRE_PREFIX_LEN + 1, flen - 1);
	if (!read_body(&r, &m))
		return WIRE_MALFORMED;
	*msg = m;
	*consumed = WIRE_PREFIX_LEN + (size_t)flen;
	return WIRE_OK;
}

/* The body size M needs, or -1 if it breaks the type's limits or field rules. */
static long body_size(const struct wire_msg *m)
{
	const struct body_limits *lim = limits_of(m->type);
	if (lim == NULL || !fields_ok(m))
		return -1;
	long n = lim->min;
	if (m->type == WIRE_BITFIELD)
		n = m->u.bitfield.len;
	else if (m->type == WIRE_BLOCK)
		n = 8 + (long)m->u.block.len;
	else if (m->type == WIRE_MANIFEST_PIECE)
		n = 8 + (long)m->u.piece.len;
	return n >= lim->min && n <= lim->max ? n : -1;
}

static void write_body(struct bwriter *w, const struct wire_msg *m)
{
	switch (m->type) {
	case WIRE_HANDSHAKE:
		bw_u8(w, WIRE_PROTOCOL_LEN);
		bw_bytes(w, WIRE_PROTOCOL, WIRE_PROTOCOL_LEN);
		bw_u8(w, m->u.handshake.version);
		bw_bytes(w, m->u.handshake.network, WIRE_NETWORK_ID_LEN);
		bw_bytes(w, m->u.handshake.content, WIRE_CONTENT_ID_LEN);
		bw_bytes(w, m->u.handshake.peer, WIRE_PEER_ID_LEN);
		break;
	case WIRE_BITFIELD:
		bw_bytes(w, m->u.bitfield.bits, m->u.bitfield.len);
		break;
	case WIRE_HAVE:
		bw_u32(w, m->u.have);
		break;
	case WIRE_LOST:
		bw_u32(w, m->u.lost);
		break;
	case WIRE_REQUEST:
	case WIRE_CANCEL:
	case WIRE_REJECT:
		bw_u32(w, m->u.span.chunk);
		bw_u32(w, m->u.span.offset);
		bw_u32(w, m->u.span.length);
		break;
	case WIRE_BLOCK:
		bw_u32(w, m->u.block.chunk);
		bw_u32(w, m->u.block.offset);
		bw_bytes(w, m->u.block.data, m->u.block.len);
		break;
	case WIRE_MANIFEST_REQ:
	case WIRE_MANIFEST_REJECT:
		bw_u32(w, m->u.piece_index);
		break;
	case WIRE_MANIFEST_PIECE:
		bw_u32(w, m->u.piece.index);
		bw_u32(w, m->u.piece.total);
		bw_bytes(w, m->u.piece.data, m->u.piece.len);
		break;
	default:
		break;
	}
}

/* Room for N more bytes, checked up front so that a failed encode writes nothing. */
static bool room(struct bwriter *w, size_t n)
{
	if (w->bad || n > w->cap - w->len) {
		w->bad = true;
		return false;
	}
	return true;
}

int wire_encode(struct bwriter *w, const struct wire_msg *msg)
{
	if (msg->type == WIRE_KEEPALIVE)
		return wire_put_keepalive(w);
	long body = body_size(msg);
	if (body < 0 || !room(w, WIRE_PREFIX_LEN + 1 + (size_t)body))
		return -1;
	bw_u32(w, (uint32_t)(1 + body));
	bw_u8(w, (uint8_t)msg->type);
	write_body(w, msg);
	return (int)(WIRE_PREFIX_LEN + 1 + body);
}

int wire_put_keepalive(struct bwriter *w)
{
	return bw_u32(w, 0) == 0 ? WIRE_PREFIX_LEN : -1;
}

int wire_put_handshake(struct bwriter *w, const struct wire_handshake *hs)
{
	struct wire_msg m = { .type = WIRE_HANDSHAKE, .u.handshake = *hs };
	return wire_encode(w, &m);
}

int wire_put_bitfield(struct bwriter *w, const struct bitfield *bf)
{
	size_t n = bitfield_wire_len(bitfield_size(bf));
	if (!room(w, WIRE_PREFIX_LEN + 1 + n))
		return -1;
	bw_u32(w, (uint32_t)(1 + n));
	bw_u8(w, WIRE_BITFIELD);
	bitfield_encode(bf, w);
	return (int)(WIRE_PREFIX_LEN + 1 + n);
}

int wire_put_have(struct bwriter *w, uint32_t chunk)
{
	struct wire_msg m = { .type = WIRE_HAVE, .u.have = chunk };
	return wire_encode(w, &m);
}

int wire_put_lost(struct bwriter *w, uint32_t chunk)
{
	struct wire_msg m = { .type = WIRE_LOST, .u.lost = chunk };
	return wire_encode(w, &m);
}

int wire_put_bare(struct bwriter *w, enum wire_type type)
{
	if (type != WIRE_INTERESTED && type != WIRE_NOT_INTERESTED && type != WIRE_CHOKE &&
	    type != WIRE_UNCHOKE)
		return -1;
	struct wire_msg m = { .type = type };
	return wire_encode(w, &m);
}

int wire_put_span(struct bwriter *w, enum wire_type type, uint32_t chunk, uint32_t offset,
		  uint32_t length)
{
	if (type != WIRE_REQUEST && type != WIRE_CANCEL && type != WIRE_REJECT)
		return -1;
	struct wire_msg m = { .type = type, .u.span = { chunk, offset, length } };
	return wire_encode(w, &m);
}

int wire_put_block(struct bwriter *w, uint32_t chunk, uint32_t offset, const void *data,
		   uint32_t len)
{
	struct wire_msg m = { .type = WIRE_BLOCK, .u.block = { chunk, offset, data, len } };
	return wire_encode(w, &m);
}

int wire_put_block_header(struct bwriter *w, uint32_t chunk, uint32_t offset, uint32_t len)
{
	if (!in_chunk(offset, len) || !room(w, WIRE_BLOCK_HEADER_LEN))
		return -1;
	bw_u32(w, 1 + 8 + len);
	bw_u8(w, WIRE_BLOCK);
	bw_u32(w, chunk);
	bw_u32(w, offset);
	return WIRE_BLOCK_HEADER_LEN;
}

int wire_put_piece_index(struct bwriter *w, enum wire_type type, uint32_t index)
{
	if (type != WIRE_MANIFEST_REQ && type != WIRE_MANIFEST_REJECT)
		return -1;
	struct wire_msg m = { .type = type, .u.piece_index = index };
	return wire_encode(w, &m);
}

int wire_put_manifest_piece(struct bwriter *w, uint32_t index, uint32_t total, const void *data,
			    uint32_t len)
{
	struct wire_msg m = { .type = WIRE_MANIFEST_PIECE,
			      .u.piece = { index, total, data, len } };
	return wire_encode(w, &m);
}
