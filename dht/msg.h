/* dht/msg.h: the DHT message codec. One message per UDP datagram (at most DHT_MSG_MAX bytes):
 * a fixed header (magic, version, type, id width, transaction id, sender id) and a typed body.
 * Decoding is bounds-checked and total: anything malformed, truncated, oversized, of an unknown
 * type or of another id width is refused with a reason, never half-trusted. Nothing allocates:
 * a decoded struct dht_msg is a plain value owned by the caller. */
#ifndef DHT_MSG_H
#define DHT_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "dht/id.h"

#define DHT_MSG_MAX 1200
#define DHT_MSG_MAGIC 0x4448 /* "DH" */
/* 2: token extensions (dht/guard.c), pushes; 3: signed values (dht/item.h), id proofs
 * (dht/proof.h) */
#define DHT_MSG_VERSION 3
#define DHT_MAX_NODES 24 /* node references in one message: fits DHT_MSG_MAX with IPv6 */
#define DHT_MAX_DEAD 4   /* dead-node hints in one FIND */
#define DHT_MAX_VALUE 1000 /* bytes of one stored value */
#define DHT_MAX_PEERS 50   /* peer addresses in one PEERS answer */
#define DHT_MAX_REPL 40    /* entries in one REPLICATE datagram */
#define DHT_MAX_FALLBACK 8 /* successors named in a VALUE answer, to ask for replicas */

/* A transport address. The simulator uses the same shape with made-up addresses. */
struct dht_addr {
	uint8_t family; /* 4 or 6; 0 means none */
	uint8_t ip[16]; /* IPv4 in the first 4 bytes */
	uint16_t port;
};

/* A reference to another node: its id and where to reach it. */
struct dht_node {
	struct dht_id id;
	struct dht_addr addr;
};

enum dht_msg_type {
	DHT_PING = 1,      /* are you alive?                      -> PONG */
	DHT_PONG = 2,
	DHT_GET_NEIGH = 3, /* your predecessor and successor list -> NEIGH */
	DHT_NEIGH = 4,
	DHT_FIND = 5,      /* one step of an iterative lookup     -> FOUND */
	DHT_FOUND = 6,
	DHT_NOTIFY = 7,    /* "I think I am your predecessor" (Zave's rectify); no reply */
	DHT_LEAVE = 8,     /* "I am leaving the ring"; no reply */
	DHT_ERROR = 9,     /* a request refused, with a code */
	DHT_PUT = 10,      /* store a value                       -> STORED */
	DHT_STORED = 11,
	DHT_GET = 12,      /* read a value                        -> VALUE */
	DHT_VALUE = 13,
	DHT_ANNOUNCE = 14, /* add a peer to a key's announcements -> STORED */
	DHT_GET_PEERS = 15, /* some of a key's announced peers    -> PEERS */
	DHT_PEERS = 16,
	DHT_REPLICATE = 17, /* copies of entries, owner to replica or old owner to new; no reply */
	DHT_JOIN = 18,     /* "I join as your predecessor": rectify, then answer as GET_NEIGH -> NEIGH */
	/* Application messages: the core carries them (rpc.c) but serves none; it hands the
	 * requests to the node (dht_env.app_request). */
	DHT_PUSH = 19,        /* "fetch this content", signed by the pusher -> PUSH_ACK */
	DHT_PUSH_ACK = 20,
	DHT_PUSH_STATUS = 21, /* how far is your copy of this content?    -> PUSH_STATE */
	DHT_PUSH_STATE = 22,
	/* Node identities (dht/proof.c): "sign this nonce with the key your id comes from". */
	DHT_PROVE = 23,       /* a nonce to sign                          -> PROOF */
	DHT_PROOF = 24,       /* the prover's public key and its signature */
};

#define DHT_PUSH_CID_LEN 32   /* a content id (transfer/manifest.h's MANIFEST_ID_LEN) */
#define DHT_PUSH_NONCE_LEN 16
#define DHT_PUSH_PK_LEN 32    /* an Ed25519 public key */
#define DHT_PUSH_SIG_LEN 64   /* an Ed25519 signature */
#define DHT_PROOF_NONCE_LEN 16
#define DHT_PROOF_PK_LEN 32   /* an Ed25519 public key */
#define DHT_PROOF_SIG_LEN 64  /* an Ed25519 signature */
/* A type the core does not serve but hands to the node. */
#define DHT_MSG_IS_APP(t) ((t) >= DHT_PUSH && (t) <= DHT_PUSH_STATE)

/* A stored value (dht/item.h says what it means). VALUE points into the decoded datagram. On
 * the wire: flags u8 | [pk (32) | seq u64 | sig (64), unless IMMUTABLE] | vlen u16 | value. */
#define DHT_ITEM_PK_LEN 32
#define DHT_ITEM_SIG_LEN 64
enum dht_item_flag {
	DHT_ITEM_TOMBSTONE = 0x01, /* its writer deleted the value: no bytes */
	DHT_ITEM_IMMUTABLE = 0x02, /* stored under the hash of its bytes: no writer, seq or sig */
};
struct dht_item {
	uint8_t flags;
	uint8_t pk[DHT_ITEM_PK_LEN];
	uint64_t seq;
	uint8_t sig[DHT_ITEM_SIG_LEN];
	uint16_t vlen;
	const uint8_t *value;
};

/* Kinds of stored entries, in REPLICATE. */
enum dht_entry_kind { DHT_ENTRY_VALUE = 1, DHT_ENTRY_PEER = 2 };

/* One entry of a REPLICATE. */
struct dht_repl_entry {
	struct dht_id key;
	uint8_t kind;     /* enum dht_entry_kind */
	uint32_t ttl_ms;  /* time left */
	struct dht_item item; /* DHT_ENTRY_VALUE */
	struct dht_addr peer; /* DHT_ENTRY_PEER */
};

/* FOUND statuses: where the responder thinks the key lives. */
enum dht_found_status {
	DHT_FOUND_NEXT = 0,  /* nodes: closer nodes preceding the key, closest first */
	DHT_FOUND_OWNER = 1, /* nodes[1] owns the key by the responder's successor list: the key lies
			      * in (nodes[0], nodes[1]], nodes[0] being the entry before (the responder
			      * itself for its first successor); nodes[2..] follow nodes[1], fallbacks */
	DHT_FOUND_SELF = 2,  /* the responder owns the key (key in (predecessor, responder]) */
	DHT_FOUND_PRED = 3,  /* asked as owner: the responder's predecessor nodes[0] lies between
			      * the key and it, ask that one */
};

#define DHT_FIND_AS_OWNER 0x01 /* the asker was told the responder owns the key */

enum dht_error_code {
	DHT_ERR_NOT_READY = 1, /* the responder has not joined a ring yet */
	DHT_ERR_TOKEN = 2,     /* prove your address first: echo the token this ERROR gives */
	DHT_ERR_UNPROVEN = 3,  /* refused: the sender could not prove the id it claims (JOIN) */
};

/* Address tokens (BEP 5's idea): a node gives an asker a token, a keyed hash of the asker's IP;
 * echoing it proves the asker receives at the address it sends from. Tokens travel in optional
 * extensions after the body, each tag u8 | len u8 | bytes, each at most once. */
#define DHT_TOKEN_LEN 8
#define DHT_PAD_MAX 16
enum dht_ext_tag {
	DHT_EXT_ECHO = 1, /* a token the receiver gave the sender */
	DHT_EXT_GIVE = 2, /* a token for the receiver to echo back to the sender */
	DHT_EXT_PAD = 3,  /* padding: a request without a token is no smaller than its challenge */
};
#define DHT_EXT_MAX (2 * (2 + DHT_TOKEN_LEN) + 2 + DHT_PAD_MAX) /* bytes of extensions, at most */
struct dht_msg_ext {
	uint8_t has_echo, has_give;
	uint8_t echo[DHT_TOKEN_LEN], give[DHT_TOKEN_LEN];
	uint8_t pad; /* bytes of padding (0: none), at most DHT_PAD_MAX */
};

struct dht_msg {
	uint8_t type;     /* enum dht_msg_type */
	uint8_t bits;     /* id width of the sender's network */
	uint32_t txid;    /* echoed by the reply */
	struct dht_id from; /* the sender's id */
	union {
		struct { /* NEIGH */
			uint8_t has_pred;
			struct dht_node pred;
			uint8_t nsucc;
			struct dht_node succ[DHT_MAX_NODES];
		} neigh;
		struct { /* FIND */
			struct dht_id key;
			uint8_t flags; /* DHT_FIND_* */
			uint8_t ndead;
			struct dht_id dead[DHT_MAX_DEAD];
		} find;
		struct { /* FOUND */
			uint8_t status; /* enum dht_found_status */
			uint8_t has_pred;
			struct dht_node pred;
			uint8_t nnodes;
			struct dht_node nodes[DHT_MAX_NODES];
		} found;
		struct { /* ERROR */
			uint8_t code; /* enum dht_error_code */
		} error;
		struct { /* PUT */
			struct dht_id key;
			uint32_t ttl_s;
			uint8_t has_cas; /* compare and swap: only if the writer's seq is CAS */
			uint64_t cas;    /* 0: only if the writer has no value there */
			struct dht_item item;
		} put;
		struct { /* STORED */
			uint8_t status; /* enum dht_status */
		} stored;
		struct { /* GET: the INDEXth of the key's values, or the writer PK's */
			struct dht_id key;
			uint8_t by_writer;
			uint8_t index;
			uint8_t pk[DHT_ITEM_PK_LEN];
		} get;
		struct { /* VALUE */
			uint8_t status; /* DHT_OK or DHT_ERR_NOT_FOUND */
			uint32_t ttl_s;
			uint8_t count;  /* values the answerer holds under the key */
			struct dht_item item; /* DHT_OK */
			uint8_t nnodes; /* the answerer's successors: where replicas live */
			struct dht_node nodes[DHT_MAX_FALLBACK];
		} value;
		struct { /* ANNOUNCE */
			struct dht_id key;
			uint32_t ttl_s;
			struct dht_addr peer;
		} announce;
		struct { /* GET_PEERS */
			struct dht_id key;
			uint8_t max;
		} get_peers;
		struct { /* PEERS */
			uint8_t status;
			uint8_t npeers;
			struct dht_addr peers[DHT_MAX_PEERS];
		} peers;
		struct { /* REPLICATE */
			uint8_t n;
			struct dht_repl_entry e[DHT_MAX_REPL];
		} repl;
		struct { /* PUSH: node/push checks the signature, the codec only the lengths */
			uint8_t cid[DHT_PUSH_CID_LEN];
			struct dht_addr pusher; /* where the content is seeded */
			uint64_t time_s;        /* the pusher's wall clock (Unix seconds) */
			uint8_t nonce[DHT_PUSH_NONCE_LEN];
			uint8_t pk[DHT_PUSH_PK_LEN];
			uint8_t sig[DHT_PUSH_SIG_LEN];
		} push;
		struct { /* PUSH_ACK */
			uint8_t status; /* the node's own codes (node/push/pushauth.h) */
			uint8_t reason;
		} push_ack;
		struct { /* PUSH_STATUS */
			uint8_t cid[DHT_PUSH_CID_LEN];
		} push_status;
		struct { /* PUSH_STATE */
			uint8_t state;  /* the node's own codes (node/push/pushauth.h) */
			uint8_t reason;
			uint64_t done, total; /* bytes */
		} push_state;
		struct { /* PROVE */
			uint8_t nonce[DHT_PROOF_NONCE_LEN];
		} prove;
		struct { /* PROOF: dht/idproof.c checks the signature, the codec only the lengths */
			uint8_t pk[DHT_PROOF_PK_LEN];
			uint8_t sig[DHT_PROOF_SIG_LEN];
		} proof;
	} u;
	struct dht_msg_ext ext;
};

enum dht_decode_result {
	DHT_DECODE_OK = 0,
	DHT_DECODE_SHORT,     /* truncated: a field runs past the end */
	DHT_DECODE_MAGIC,     /* not ours */
	DHT_DECODE_VERSION,   /* a version we do not speak */
	DHT_DECODE_TYPE,      /* an unknown message type */
	DHT_DECODE_BITS,      /* another id width, or an id that does not fit in it */
	DHT_DECODE_FIELD,     /* a count, flag or address out of range */
	DHT_DECODE_TRAILING,  /* bytes left over after the body */
	DHT_DECODE_NRESULTS
};

/* Encode M into BUF (at most CAP bytes). Return the length, or -1 if it does not fit or M is
 * invalid (an unknown type, a count above the maximum). */
int dht_msg_encode(const struct dht_msg *m, uint8_t *buf, size_t cap);

/* Decode one datagram of LEN bytes sent in a network of id width BITS. Value pointers in M point
 * into BUF: they are valid as long as BUF is. */
enum dht_decode_result dht_msg_decode(struct dht_msg *m, const uint8_t *buf, size_t len,
				      unsigned bits);

/* Encode the extensions X alone into BUF (at most CAP bytes), to replace those of an encoded
 * message: return their length, or -1 if they do not fit or X is invalid. */
int dht_msg_ext_encode(const struct dht_msg_ext *x, uint8_t *buf, size_t cap);

/* A short human-readable name for a decode result or a message type (static strings). */
const char *dht_decode_result_str(enum dht_decode_result r);
const char *dht_msg_type_str(unsigned type);

/* Two addresses are the same transport endpoint. */
int dht_addr_eq(const struct dht_addr *a, const struct dht_addr *b);

#endif
