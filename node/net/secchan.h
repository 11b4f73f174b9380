/* node/net/secchan.h: the encrypted, authenticated channel of a private ring's TCP connections
 * (issue 11): the handshake that proves both ends hold the network key and their node key, and
 * the record layer that runs after it. Pure: no I/O, no clock; the caller feeds bytes in and
 * sends what comes out. The caller owns every buffer; a secchan owns only its keys (wiped by
 * secchan_free). */
#ifndef NODE_SECCHAN_H
#define NODE_SECCHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SECCHAN_KEY_LEN 32      /* the stream subkey of the network key */
#define SECCHAN_PK_LEN 32       /* Ed25519 public key */
#define SECCHAN_SK_LEN 64       /* Ed25519 secret key (libsodium's layout) */
#define SECCHAN_SEED_LEN 32     /* the seed of a connection's ephemeral X25519 pair */
#define SECCHAN_MAGIC_LEN 4
#define SECCHAN_HELLO_LEN 55    /* magic | version | kind | flags | ephemeral key | tag */
#define SECCHAN_NOTICE_LEN 6    /* magic | version | kind */
#define SECCHAN_HEADER_LEN 4    /* a record's plaintext length, u32 big-endian */
#define SECCHAN_TAG_LEN 16
#define SECCHAN_OVERHEAD (SECCHAN_HEADER_LEN + SECCHAN_TAG_LEN)
#define SECCHAN_RECORD_MAX 65536u /* plaintext bytes in one record */
#define SECCHAN_AUTH_LEN (SECCHAN_PK_LEN + 64)
/* The most one secchan_handshake call writes: the reply and the responder's identity record. */
#define SECCHAN_OUT_MAX (SECCHAN_HELLO_LEN + SECCHAN_AUTH_LEN + SECCHAN_OVERHEAD)

struct secchan;

struct secchan_config {
	uint8_t stream_key[SECCHAN_KEY_LEN]; /* netkey_derive(NETKEY_STREAM) */
	uint8_t pk[SECCHAN_PK_LEN];          /* this node's identity */
	uint8_t sk[SECCHAN_SK_LEN];
	bool aes;                            /* AES-256-GCM runs in hardware here */
	bool control;                        /* a remote control channel, not peer wire */
};

enum secchan_status {
	SECCHAN_NEED_MORE,  /* nothing consumed: call again with more bytes */
	SECCHAN_OK,         /* a message consumed; send what was written, call again */
	SECCHAN_DONE,       /* the channel is up; what follows are records */
	SECCHAN_REJECT,     /* a forged, tampered or replayed message, or another network key */
	SECCHAN_PLAIN,      /* the peer did not start the handshake: it has no network key */
	SECCHAN_PEER_OPEN,  /* the peer said it has no network key */
};

/* Notices: what an end tells a peer that cannot be part of its ring, before closing. */
enum secchan_notice {
	SECCHAN_NOTICE_NO_KEY = 3,   /* sent by an open node to a keyed one */
	SECCHAN_NOTICE_NEED_KEY = 4, /* sent by a keyed node to an open one */
};

/* Return a channel for one connection (INITIATOR: we dialled), its ephemeral key pair made
 * from SEED (random in the node, fixed in tests), or NULL on no memory. The caller keeps CFG. */
struct secchan *secchan_new(const struct secchan_config *cfg, bool initiator,
			    const uint8_t seed[SECCHAN_SEED_LEN]);
/* Wipe and free S. Accepts NULL. */
void secchan_free(struct secchan *s);

/* The initiator's first message: write SECCHAN_HELLO_LEN bytes into OUT. */
void secchan_hello(struct secchan *s, uint8_t out[SECCHAN_HELLO_LEN]);

/* Feed LEN bytes of handshake input IN. Set *USED to the bytes consumed and *OUTLEN to the
 * bytes written into OUT (SECCHAN_OUT_MAX of room), to be sent before anything else. The
 * responder writes nothing before the peer's hello has proved the network key. */
enum secchan_status secchan_handshake(struct secchan *s, const uint8_t *in, size_t len,
				      size_t *used, uint8_t out[SECCHAN_OUT_MAX], size_t *outlen);

bool secchan_up(const struct secchan *s);
/* The peer's Ed25519 key, proved by its signature over the handshake; NULL until up. */
const uint8_t *secchan_peer_pk(const struct secchan *s);
/* "aes256gcm" or "chacha20poly1305", as agreed (both ends must run AES in hardware for it). */
const char *secchan_cipher(const struct secchan *s);

/* Seal HLEN bytes of HEAD then BLEN bytes of BODY (1..SECCHAN_RECORD_MAX in all) as one record
 * into OUT (HLEN + BLEN + SECCHAN_OVERHEAD bytes). Only once up. Return 0, or -1 if the cipher
 * failed (OpenSSL's AES-GCM can, on no memory): the connection must end then. */
int secchan_seal(struct secchan *s, const uint8_t *head, size_t hlen, const uint8_t *body,
		 size_t blen, uint8_t *out);
/* The whole length of the record whose first SECCHAN_HEADER_LEN bytes are HDR, or 0 if no
 * record may have that header. */
size_t secchan_record_len(const uint8_t hdr[SECCHAN_HEADER_LEN]);
/* Open the record REC of LEN bytes (secchan_record_len's) in place. Return 0 with *PLAIN and
 * *PLEN set (into REC), or -1 if it is forged, replayed, out of order or under another key:
 * the connection must end then. Only once up. */
int secchan_open(struct secchan *s, uint8_t *rec, size_t len, uint8_t **plain, size_t *plen);

/* Whether IN (LEN bytes, at least SECCHAN_MAGIC_LEN) starts with the handshake's magic: an
 * open node's way to recognise a keyed peer. */
bool secchan_is_handshake(const uint8_t *in, size_t len);
/* Whether IN (LEN bytes) starts a control channel's HELLO (secchan_config.control): 1 yes, 0
 * no, -1 if the bytes so far begin a handshake but are too few to say. Only routing: the
 * responder still rejects a HELLO whose purpose is not its own, and the MAC binds it. */
int secchan_control_hello(const uint8_t *in, size_t len);
/* The notice KIND, SECCHAN_NOTICE_LEN bytes, into OUT. */
void secchan_notice(enum secchan_notice kind, uint8_t out[SECCHAN_NOTICE_LEN]);

#endif
