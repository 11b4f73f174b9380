/* transfer/wire.h: the peer-wire codec for chunk exchange over TCP: message framing only (the
 * session state machine lives elsewhere). Nothing allocates: decoded payloads point into the
 * caller's input buffer and live as long as it; encoders write into a caller's bwriter. */
#ifndef TRANSFER_WIRE_H
#define TRANSFER_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dht/bytes.h"
#include "transfer/bitfield.h"

/* Frame: u32 length (of what follows) | u8 type | body. A length of 0 is a KEEPALIVE. */
#define WIRE_PROTOCOL "dhtnode-wire"
#define WIRE_PROTOCOL_LEN 12
#define WIRE_VERSION 1
#define WIRE_NETWORK_ID_LEN 8
#define WIRE_CONTENT_ID_LEN 32
#define WIRE_PEER_ID_LEN 20
#define WIRE_BLOCK_SIZE 16384u          /* the largest BLOCK payload and REQUEST length */
#define WIRE_MANIFEST_PIECE_SIZE 16384u /* every MANIFEST_PIECE but the last carries this many */
#define WIRE_MAX_CHUNK_SIZE (16u * 1024 * 1024) /* offset + length within a chunk stays below */
#define WIRE_MAX_MANIFEST (16u * 1024 * 1024)   /* the largest total manifest length */
#define WIRE_PREFIX_LEN 4
#define WIRE_MAX_BODY BITFIELD_MAX_BYTES        /* the largest body: a full-size bitfield */
#define WIRE_MAX_FRAME (WIRE_PREFIX_LEN + 1 + WIRE_MAX_BODY) /* bytes, prefix included */

/* Type bytes on the wire. KEEPALIVE has none (it is the empty frame); type byte 0 is malformed. */
enum wire_type {
	WIRE_KEEPALIVE = 0,
	WIRE_HANDSHAKE = 1,
	WIRE_BITFIELD = 2,
	WIRE_HAVE = 3,
	WIRE_INTERESTED = 4,
	WIRE_NOT_INTERESTED = 5,
	WIRE_CHOKE = 6,
	WIRE_UNCHOKE = 7,
	WIRE_REQUEST = 8,
	WIRE_BLOCK = 9,
	WIRE_CANCEL = 10,
	WIRE_REJECT = 11,         /* the answer to a REQUEST we will not serve */
	WIRE_MANIFEST_REQ = 12,
	WIRE_MANIFEST_PIECE = 13,
	WIRE_MANIFEST_REJECT = 14, /* the answer to a MANIFEST_REQ we cannot serve */
	WIRE_LOST = 15,           /* a chunk we announced we hold no longer (our file changed) */
};

enum wire_status {
	WIRE_OK = 0,
	WIRE_NEED_MORE = 1,
	WIRE_MALFORMED = 2,
};

/* HANDSHAKE body: name length u8 (12) | "dhtnode-wire" | version u8 | network id | content id |
 * peer id. The codec checks the name; judging the version is the session's business. */
struct wire_handshake {
	uint8_t version;
	uint8_t network[WIRE_NETWORK_ID_LEN];
	uint8_t content[WIRE_CONTENT_ID_LEN];
	uint8_t peer[WIRE_PEER_ID_LEN];
};

/* REQUEST, CANCEL and REJECT: chunk u32 | offset u32 | length u32, with 1 <= length <=
 * WIRE_BLOCK_SIZE and offset + length <= WIRE_MAX_CHUNK_SIZE. */
struct wire_span {
	uint32_t chunk;
	uint32_t offset;
	uint32_t length;
};

/* BLOCK: chunk u32 | offset u32 | 1..WIRE_BLOCK_SIZE data bytes, offset + len <=
 * WIRE_MAX_CHUNK_SIZE. */
struct wire_block {
	uint32_t chunk;
	uint32_t offset;
	const uint8_t *data; /* into the decoded buffer: not copied */
	uint32_t len;
};

/* BITFIELD: 1..WIRE_MAX_BODY bytes; checking it against the chunk count is bitfield_decode()'s. */
struct wire_bits {
	const uint8_t *bits; /* into the decoded buffer */
	uint32_t len;
};

/* MANIFEST_PIECE: index u32 | total u32 | data. 1 <= total <= WIRE_MAX_MANIFEST; piece INDEX
 * covers bytes [index * WIRE_MANIFEST_PIECE_SIZE, ...) of the manifest and carries exactly
 * min(WIRE_MANIFEST_PIECE_SIZE, what is left) bytes. */
struct wire_manifest_piece {
	uint32_t index;
	uint32_t total;
	const uint8_t *data; /* into the decoded buffer */
	uint32_t len;
};

struct wire_msg {
	enum wire_type type;
	union {
		struct wire_handshake handshake;     /* HANDSHAKE */
		struct wire_bits bitfield;           /* BITFIELD */
		uint32_t have;                       /* HAVE: a chunk index */
		uint32_t lost;                       /* LOST: a chunk index */
		struct wire_span span;               /* REQUEST, CANCEL, REJECT */
		struct wire_block block;             /* BLOCK */
		uint32_t piece_index;                /* MANIFEST_REQ, MANIFEST_REJECT */
		struct wire_manifest_piece piece;    /* MANIFEST_PIECE */
	} u;                                         /* nothing for the body-less types */
};

/* Decode the first frame of a TCP stream held in BUF. On WIRE_OK fill MSG and set *CONSUMED to
 * the frame's size (drop that many bytes before the next call). WIRE_NEED_MORE: BUF holds only a
 * prefix of a frame that could still be valid. WIRE_MALFORMED, as soon as it can be told: a
 * declared length above what its type allows (checked before the body is buffered), a type byte
 * we do not know, a body whose length or contents break the rules above. The stream is then
 * beyond repair: end the session. *CONSUMED is set only on WIRE_OK. */
enum wire_status wire_frame(const uint8_t *buf, size_t len, struct wire_msg *msg,
			    size_t *consumed);

/* Return a name for TYPE ("HAVE"), or "?" for a value outside the enum. */
const char *wire_type_name(enum wire_type type);

/* Encoders. Each appends one whole frame to W and returns its size in bytes, or -1 if the
 * arguments break the rules the decoder checks or the frame does not fit; on -1 nothing is
 * written. */
int wire_encode(struct bwriter *w, const struct wire_msg *msg);
int wire_put_keepalive(struct bwriter *w);
int wire_put_handshake(struct bwriter *w, const struct wire_handshake *hs);
int wire_put_bitfield(struct bwriter *w, const struct bitfield *bf);
int wire_put_have(struct bwriter *w, uint32_t chunk);
/* LOST: body chunk u32, like HAVE. */
int wire_put_lost(struct bwriter *w, uint32_t chunk);
/* INTERESTED, NOT_INTERESTED, CHOKE or UNCHOKE. */
int wire_put_bare(struct bwriter *w, enum wire_type type);
/* REQUEST, CANCEL or REJECT. */
int wire_put_span(struct bwriter *w, enum wire_type type, uint32_t chunk, uint32_t offset,
		  uint32_t length);
int wire_put_block(struct bwriter *w, uint32_t chunk, uint32_t offset, const void *data,
		   uint32_t len);
/* Only the header of a BLOCK frame (WIRE_BLOCK_HEADER_LEN bytes), for a sender that writes the
 * LEN data bytes itself straight after, without copying them. */
#define WIRE_BLOCK_HEADER_LEN (WIRE_PREFIX_LEN + 1 + 8)
int wire_put_block_header(struct bwriter *w, uint32_t chunk, uint32_t offset, uint32_t len);
/* MANIFEST_REQ or MANIFEST_REJECT. */
int wire_put_piece_index(struct bwriter *w, enum wire_type type, uint32_t index);
int wire_put_manifest_piece(struct bwriter *w, uint32_t index, uint32_t total, const void *data,
			    uint32_t len);

#endif
