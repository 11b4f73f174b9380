/* node/control/control.h: the JSON side of the control protocol (docs/control.md): parse one
 * request line into a struct ctl_request, and build the pieces and lines of responses. Pure: no
 * sockets and no calls into the running core, so the parser can be fuzzed on its own. Lines
 * returned are malloc'd, NUL-terminated, without the newline; the caller frees them. json_t values
 * returned are new references, owned by the caller. */
#ifndef NODE_CONTROL_H
#define NODE_CONTROL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "dht/chord.h"
#include "dht/kv.h"
#include "transfer/manifest.h"

#define CTL_MAX_LINE (64 * 1024)   /* bytes in one request line, newline excluded */
#define CTL_RING_DEFAULT_MAX 1024
#define CTL_RING_MAX 4096
#define CTL_STATUS_MAX_ENTRIES 1000
#define CTL_PATH_MAX 4096          /* bytes in a path, NUL included */
#define CTL_MAX_TIMEOUT_S 3600
#define CTL_MAX_PUSH_TIMEOUT_S 86400

enum ctl_cmd {
	CTL_PUT, CTL_GET, CTL_LOOKUP, CTL_STATUS, CTL_RING, CTL_ANNOUNCE, CTL_GET_PEERS,
	CTL_SHARE, CTL_FETCH, CTL_LIST, CTL_STOP, CTL_WATCH, CTL_FORGET, CTL_PUSH,
};

/* The parser gives only USAGE and TOO_LARGE; running a command may give any of them. */
enum ctl_code {
	CTL_USAGE, CTL_NOT_FOUND, CTL_TIMEOUT, CTL_TOO_LARGE, CTL_FULL, CTL_NOT_JOINED, CTL_INTERNAL,
	CTL_IO, CTL_BAD_MANIFEST, CTL_DENIED, CTL_FORGED, CTL_STALE, CTL_CAS,
};

struct ctl_request {
	enum ctl_cmd cmd;
	struct dht_id key;             /* put, get, lookup, announce, get_peers */
	size_t value_len;              /* put */
	uint8_t value[KV_MAX_VALUE];
	bool immutable;                /* put: under the hash of the value (no key given) */
	bool del;                      /* put: a tombstone (the writer deletes its value) */
	bool has_cas;                  /* put: only if the writer's value there has seq CAS */
	uint64_t cas;
	bool has_writer;               /* put: signed by the client (WRITER, SEQ, SIG); get: only
					* WRITER's value */
	uint8_t writer[DHT_ITEM_PK_LEN];
	uint64_t seq;
	uint8_t sig[DHT_ITEM_SIG_LEN];
	uint32_t ttl_s;                /* put, announce: 0 means the node's default */
	unsigned max;                  /* ring, get_peers */
	struct dht_addr peer;          /* announce */
	char path[CTL_PATH_MAX];       /* share, push: what to share; fetch: the output directory */
	uint32_t chunk_size;           /* share: 0 means the default */
	bool follow;                   /* share, fetch, push: stream progress lines */
	bool leave_when_done;          /* fetch */
	uint32_t timeout_s;            /* fetch: how long to look for a holder; push: how long to
					* wait for the members' copies; 0: the default */
	/* fetch, stop, watch, forget: the content id or a prefix of it (4 to 64 hex digits), and
	 * the id it names, which the file commands resolve among the node's transfers. */
	char content_hex[2 * MANIFEST_ID_LEN + 1];
	uint8_t content[MANIFEST_ID_LEN];
};

struct ctl_error {
	enum ctl_code code;
	char msg[256];                 /* a sentence a person can act on */
};

/* Parse one request LINE of LEN bytes (no newline; need not be NUL-terminated) in a network of
 * id width BITS. Return 0, or -1 with ERR filled (CTL_USAGE, or CTL_TOO_LARGE for a value
 * above KV_MAX_VALUE bytes). */
int ctl_parse_request(const char *line, size_t len, unsigned bits, struct ctl_request *req,
		      struct ctl_error *err);

const char *ctl_code_str(enum ctl_code code);
/* The code and a sentence for a core status other than DHT_OK. */
enum ctl_code ctl_code_of(enum dht_status s);
const char *ctl_status_advice(enum dht_status s);

json_t *ctl_id_json(const struct dht_id *id, unsigned bits);      /* "hex" */
json_t *ctl_addr_json(const struct dht_addr *a);                  /* "IP:PORT" */
json_t *ctl_node_json(const struct dht_node *n, unsigned bits);   /* {id, addr} */
/* {"ok": true}, with "key_id" if KEY is not NULL. */
json_t *ctl_ok(const struct dht_id *key, unsigned bits);
/* [{id, addr, rtt_ms, answered}] for the hops of RES. */
json_t *ctl_path_json(const struct dht_lookup_result *res, unsigned bits);
/* Set "value" in OBJ to the value as text, or, for bytes that are not UTF-8 (not written by
 * dhtctl), set "value" to null and "value_hex" to their hex. Return 0, or -1 on no memory. */
int ctl_set_value(json_t *obj, const uint8_t *value, size_t len);

/* Dump OBJ as one compact line and release it. Return the line, or NULL on no memory. */
char *ctl_line(json_t *obj);
/* {"ok": false, "code": CODE, "error": MSG} as a line; NULL on no memory. */
char *ctl_error_line(enum ctl_code code, const char *msg);

#endif
