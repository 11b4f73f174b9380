/* The control protocol's JSON, with jansson: a maintained Debian library that gets escaping,
 * UTF-8 validation and number edge cases right, which a hand-written parser facing any local
 * process would have to get right too. Requests are checked field by field and every refusal
 * says which field and what is expected. This file does not run commands: ctlcmd.c does, and
 * ctlserver.c moves the lines. */
#include "node/control/control.h"

#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dht/item.h"
#include "node/net/addr.h"
#include "node/xfer/prefix.h"

static const char *const code_names[] = {
	[CTL_USAGE] = "usage",         [CTL_NOT_FOUND] = "not_found", [CTL_TIMEOUT] = "timeout",
	[CTL_TOO_LARGE] = "too_large", [CTL_FULL] = "full",          [CTL_NOT_JOINED] = "not_joined",
	[CTL_INTERNAL] = "internal",   [CTL_IO] = "io",               [CTL_BAD_MANIFEST] = "bad_manifest",
	[CTL_DENIED] = "denied",       [CTL_FORGED] = "forged",       [CTL_STALE] = "stale",
	[CTL_CAS] = "cas_mismatch",
};

static const struct {
	const char *name;
	enum ctl_cmd cmd;
	bool needs_key;
} commands[] = {
	{ "put", CTL_PUT, true },         { "get", CTL_GET, true },
	{ "lookup", CTL_LOOKUP, true },   { "status", CTL_STATUS, false },
	{ "ring", CTL_RING, false },      { "announce", CTL_ANNOUNCE, true },
	{ "get_peers", CTL_GET_PEERS, true },
	{ "share", CTL_SHARE, false },    { "fetch", CTL_FETCH, false },
	{ "list", CTL_LIST, false },      { "stop", CTL_STOP, false },
	{ "watch", CTL_WATCH, false },    { "forget", CTL_FORGET, false },
	{ "push", CTL_PUSH, false },
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

const char *ctl_code_str(enum ctl_code code)
{
	if ((unsigned)code < sizeof code_names / sizeof code_names[0])
		return code_names[code];
	return "internal";
}

enum ctl_code ctl_code_of(enum dht_status s)
{
	switch (s) {
	case DHT_ERR_TIMEOUT:
		return CTL_TIMEOUT;
	case DHT_ERR_NOT_JOINED:
		return CTL_NOT_JOINED;
	case DHT_ERR_NOT_FOUND:
		return CTL_NOT_FOUND;
	case DHT_ERR_TOO_LARGE:
		return CTL_TOO_LARGE;
	case DHT_ERR_FULL:
		return CTL_FULL;
	case DHT_ERR_FORGED:
		return CTL_FORGED;
	case DHT_ERR_STALE:
		return CTL_STALE;
	case DHT_ERR_CAS:
		return CTL_CAS;
	default:
		return CTL_INTERNAL;
	}
}

const char *ctl_status_advice(enum dht_status s)
{
	switch (s) {
	case DHT_ERR_TIMEOUT:
		return "no answer from the ring: the nodes on the way to the key did not respond; "
		       "retry in a few seconds, or check the ring with 'dhtctl ring'";
	case DHT_ERR_NOT_JOINED:
		return "this node is not in a ring (still joining, or leaving); wait for it to "
		       "join, or ask another node with --node";
	case DHT_ERR_NOT_FOUND:
		return "no value is stored under this key (never put, or its ttl ran out)";
	case DHT_ERR_TOO_LARGE:
		return "the value is too large: at most 1000 bytes are stored under one key";
	case DHT_ERR_FULL:
		return "the key's owner is full (its store size, or the peers under one key); "
		       "try again later or store less";
	case DHT_ERR_FORGED:
		return "the key's owner refused the value: its signature does not match its writer "
		       "and key (or an immutable value's bytes do not hash to its key)";
	case DHT_ERR_STALE:
		return "the writer's value under this key has a higher sequence number: a value "
		       "replaces it only with a higher one";
	case DHT_ERR_CAS:
		return "the writer's value under this key does not have the sequence number --cas "
		       "expected (someone wrote it meanwhile); read it again and retry";
	case DHT_ERR_NO_MEMORY:
		return "the node ran out of memory";
	default:
		return "the node failed unexpectedly; see its log";
	}
}

static int usage(struct ctl_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage(struct ctl_error *err, const char *fmt, ...)
{
	va_list ap;
	err->code = CTL_USAGE;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	/* Messages quote the request (a command name, jansson's "near '...'"), cut at a byte
	 * count that may split a character: keep them plain ASCII so they always encode. */
	for (char *p = err->msg; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	return -1;
}

/* Read optional integer field NAME into *OUT if present, checking [MIN, MAX]. */
static int get_uint(json_t *req, const char *name, uint64_t min, uint64_t max, uint64_t *out,
		    struct ctl_error *err)
{
	json_t *v = json_object_get(req, name);
	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) < min || (uint64_t)json_integer_value(v) > max)
		return usage(err, "\"%s\" must be a whole number from %llu to %llu", name,
			     (unsigned long long)min, (unsigned long long)max);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int get_key(json_t *req, unsigned bits, struct dht_id *out, struct ctl_error *err)
{
	json_t *key = json_object_get(req, "key"), *id = json_object_get(req, "id");
	if (key != NULL && id != NULL)
		return usage(err, "give either \"key\" (text) or \"id\" (hex), not both");
	if (key != NULL) {
		if (!json_is_string(key))
			return usage(err, "\"key\" must be a string");
		id_from_key(out, json_string_value(key), json_string_length(key), bits);
		return 0;
	}
	if (id != NULL) {
		if (!json_is_string(id) || id_from_hex(out, json_string_value(id), bits) != 0)
			return usage(err, "\"id\" must be 1 to %u hex digits whose value fits in "
				     "the network's %u bits", (bits + 3) / 4, bits);
		return 0;
	}
	return usage(err, "name the key with \"key\" (text) or \"id\" (hex)");
}

static int get_value(json_t *req, struct ctl_request *out, struct ctl_error *err)
{
	json_t *v = json_object_get(req, "value");
	if (!json_is_string(v))
		return usage(err, "put needs \"value\", a string");
	size_t len = json_string_length(v);
	if (len > KV_MAX_VALUE) {
		err->code = CTL_TOO_LARGE;
		snprintf(err->msg, sizeof err->msg, "the value is %zu bytes; at most %d bytes are "
			 "stored under one key", len, KV_MAX_VALUE);
		return -1;
	}
	memcpy(out->value, json_string_value(v), len);
	out->value_len = len;
	return 0;
}

static int get_bool(json_t *req, const char *name, bool *out, struct ctl_error *err)
{
	json_t *v = json_object_get(req, name);
	if (v == NULL)
		return 0;
	if (!json_is_boolean(v))
		return usage(err, "\"%s\" must be true or false", name);
	*out = json_is_true(v);
	return 0;
}

/* Exactly LEN bytes of hex in field NAME into OUT; 1 if the field is absent. */
static int get_hex(json_t *req, const char *name, uint8_t *out, size_t len,
		   struct ctl_error *err)
{
	json_t *v = json_object_get(req, name);
	size_t got = 0;
	if (v == NULL)
		return 1;
	if (!json_is_string(v) || json_string_length(v) != 2 * len ||
	    sodium_hex2bin(out, len, json_string_value(v), 2 * len, NULL, &got, NULL) != 0 ||
	    got != len)
		return usage(err, "\"%s\" must be %zu hex digits", name, 2 * len);
	return 0;
}

/* A value its client signed: "writer", "seq" and "sig" together, or none of them. */
static int get_signed(json_t *req, struct ctl_request *out, struct ctl_error *err)
{
	int w = get_hex(req, "writer", out->writer, DHT_ITEM_PK_LEN, err);
	int g = get_hex(req, "sig", out->sig, DHT_ITEM_SIG_LEN, err);
	if (w < 0 || g < 0 || get_uint(req, "seq", 1, UINT64_MAX >> 1, &out->seq, err) != 0)
		return -1;
	if (w != g || (w == 1) != (out->seq == 0))
		return usage(err, "a signed put gives \"writer\", \"seq\" and \"sig\" together");
	out->has_writer = w == 0;
	return 0;
}

static int get_put(json_t *req, struct ctl_request *out, struct ctl_error *err)
{
	uint64_t n = 0;
	if (get_value(req, out, err) != 0 || get_uint(req, "ttl", 0, UINT32_MAX, &n, err) != 0 ||
	    get_bool(req, "immutable", &out->immutable, err) != 0 ||
	    get_bool(req, "delete", &out->del, err) != 0 || get_signed(req, out, err) != 0)
		return -1;
	out->ttl_s = (uint32_t)n;
	out->has_cas = json_object_get(req, "cas") != NULL;
	if (get_uint(req, "cas", 0, UINT64_MAX >> 1, &out->cas, err) != 0)
		return -1;
	if (out->immutable && (out->del || out->has_cas || out->has_writer))
		return usage(err, "an immutable value has no writer: no \"delete\", \"cas\", "
			     "\"writer\", \"seq\" or \"sig\"");
	if (out->del && out->value_len != 0)
		return usage(err, "a delete carries an empty \"value\"");
	return 0;
}

static int get_peer(json_t *req, struct dht_addr *out, struct ctl_error *err)
{
	json_t *v = json_object_get(req, "peer");
	if (!json_is_string(v) || addr_parse(json_string_value(v), out) != 0)
		return usage(err, "announce needs \"peer\", an address like \"192.168.1.5:6881\" "
			     "or \"[::1]:6881\"");
	return 0;
}

/* An absolute path: the node may run in another directory than the client. */
static int get_path(json_t *req, const char *name, char *out, struct ctl_error *err)
{
	const char *p = json_string_value(json_object_get(req, name));
	if (p == NULL || p[0] != '/' || strlen(p) >= CTL_PATH_MAX)
		return usage(err, "\"%s\" must be an absolute path (starting with '/') of at most "
			     "%d bytes", name, CTL_PATH_MAX - 1);
	memcpy(out, p, strlen(p) + 1);
	return 0;
}

/* A prefix is resolved later, against the node's transfers (ctlfiles.c). */
static int get_content(json_t *req, char out[2 * MANIFEST_ID_LEN + 1], struct ctl_error *err)
{
	const char *hex = json_string_value(json_object_get(req, "content_id"));
	if (hex == NULL || !cid_prefix_valid(hex))
		return usage(err, "\"content_id\" must be the %d hex digits share printed, or at "
			     "least the first %d of them", CID_HEX_LEN, CID_PREFIX_MIN);
	memcpy(out, hex, strlen(hex) + 1);
	return 0;
}

static int get_file_fields(json_t *req, struct ctl_request *out, struct ctl_error *err)
{
	uint64_t n = 0;
	switch (out->cmd) {
	case CTL_PUSH:
		if (get_uint(req, "timeout_s", 1, CTL_MAX_PUSH_TIMEOUT_S, &n, err) != 0)
			return -1;
		out->timeout_s = (uint32_t)n;
		n = 0; /* the rest is a share's */
		/* fall through */
	case CTL_SHARE:
		if (get_path(req, "path", out->path, err) != 0 ||
		    get_uint(req, "chunk_size", MANIFEST_MIN_CHUNK, MANIFEST_MAX_CHUNK, &n, err) != 0 ||
		    get_bool(req, "follow", &out->follow, err) != 0)
			return -1;
		if (n != 0 && !manifest_chunk_size_valid((uint32_t)n))
			return usage(err, "\"chunk_size\" must be a power of two from %u to %u",
				     MANIFEST_MIN_CHUNK, MANIFEST_MAX_CHUNK);
		out->chunk_size = (uint32_t)n;
		return 0;
	case CTL_FETCH:
		if (get_content(req, out->content_hex, err) != 0 ||
		    get_path(req, "out", out->path, err) != 0 ||
		    get_bool(req, "leave_when_done", &out->leave_when_done, err) != 0 ||
		    get_bool(req, "follow", &out->follow, err) != 0 ||
		    get_uint(req, "timeout_s", 1, CTL_MAX_TIMEOUT_S, &n, err) != 0)
			return -1;
		out->timeout_s = (uint32_t)n;
		return 0;
	case CTL_STOP:
	case CTL_WATCH:
	case CTL_FORGET:
		return get_content(req, out->content_hex, err);
	default:
		return 0;
	}
}

/* The fields that depend on the command. */
static int get_fields(json_t *req, struct ctl_request *out, struct ctl_error *err)
{
	uint64_t n;
	switch (out->cmd) {
	case CTL_PUT:
		return get_put(req, out, err);
	case CTL_ANNOUNCE:
		n = 0;
		if (get_peer(req, &out->peer, err) != 0 ||
		    get_uint(req, "ttl", 0, UINT32_MAX, &n, err) != 0)
			return -1;
		out->ttl_s = (uint32_t)n;
		return 0;
	case CTL_RING:
		n = CTL_RING_DEFAULT_MAX;
		if (get_uint(req, "max", 1, CTL_RING_MAX, &n, err) != 0)
			return -1;
		out->max = (unsigned)n;
		return 0;
	case CTL_GET_PEERS:
		n = KV_MAX_PEERS_REPLY;
		if (get_uint(req, "max", 1, KV_MAX_PEERS_REPLY, &n, err) != 0)
			return -1;
		out->max = (unsigned)n;
		return 0;
	case CTL_GET: {
		int rc = get_hex(req, "writer", out->writer, DHT_ITEM_PK_LEN, err);
		out->has_writer = rc == 0;
		return rc < 0 ? -1 : 0;
	}
	case CTL_LOOKUP:
	case CTL_STATUS:
		return 0;
	default:
		return get_file_fields(req, out, err);
	}
}

static int parse_object(json_t *req, unsigned bits, struct ctl_request *out,
			struct ctl_error *err)
{
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	if (cmd == NULL)
		return usage(err, "the request needs \"cmd\", a string: put, get, lookup, status, "
			     "ring, announce, get_peers, share, fetch, list, stop, watch, forget or push");
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (strcmp(cmd, commands[i].name) != 0)
			continue;
		out->cmd = commands[i].cmd;
		bool immutable = json_is_true(json_object_get(req, "immutable"));
		if (commands[i].needs_key && !(out->cmd == CTL_PUT && immutable) &&
		    get_key(req, bits, &out->key, err) != 0)
			return -1;
		if (get_fields(req, out, err) != 0)
			return -1;
		if (out->immutable && (json_object_get(req, "key") || json_object_get(req, "id")))
			return usage(err, "an immutable value's key is the hash of its bytes: give "
				     "no \"key\" or \"id\"");
		if (out->immutable)
			item_immutable_key(&out->key, out->value, out->value_len, bits);
		return 0;
	}
	return usage(err, "unknown command \"%.40s\"; the commands are put, get, lookup, status, "
		     "ring, announce, get_peers, share, fetch, list, stop, watch, forget and push", cmd);
}

int ctl_parse_request(const char *line, size_t len, unsigned bits, struct ctl_request *req,
		      struct ctl_error *err)
{
	memset(req, 0, sizeof *req);
	if (len > CTL_MAX_LINE)
		return usage(err, "the request is longer than %d bytes", CTL_MAX_LINE);
	json_error_t jerr;
	/* Without JSON_ALLOW_NUL, jansson refuses "\u0000": every string is a plain C string. */
	json_t *obj = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (obj == NULL)
		return usage(err, "the request is not valid JSON (%.80s at column %d); send one "
			     "JSON object per line", jerr.text, jerr.column);
	int ret = json_is_object(obj) ? parse_object(obj, bits, req, err)
				      : usage(err, "the request must be a JSON object");
	json_decref(obj);
	return ret;
}

json_t *ctl_id_json(const struct dht_id *id, unsigned bits)
{
	char hex[ID_HEX_MAX];
	id_to_hex(id, bits, hex);
	return json_string(hex);
}

json_t *ctl_addr_json(const struct dht_addr *a)
{
	char s[ADDR_STR_MAX];
	addr_format(a, s);
	return json_string(s);
}

json_t *ctl_node_json(const struct dht_node *n, unsigned bits)
{
	return json_pack("{s:o, s:o}", "id", ctl_id_json(&n->id, bits), "addr",
			 ctl_addr_json(&n->addr));
}

json_t *ctl_ok(const struct dht_id *key, unsigned bits)
{
	if (key == NULL)
		return json_pack("{s:b}", "ok", 1);
	return json_pack("{s:b, s:o}", "ok", 1, "key_id", ctl_id_json(key, bits));
}

json_t *ctl_path_json(const struct dht_lookup_result *res, unsigned bits)
{
	json_t *path = json_array();
	for (size_t i = 0; path != NULL && i < res->npath; i++) {
		const struct dht_hop *h = &res->path[i];
		json_t *hop = json_pack("{s:o, s:o, s:f, s:b}", "id", ctl_id_json(&h->node.id, bits),
					"addr", ctl_addr_json(&h->node.addr), "rtt_ms",
					(double)h->rtt_us / 1000.0, "answered", h->answered);
		if (json_array_append_new(path, hop) != 0) {
			json_decref(path);
			path = NULL;
		}
	}
	return path;
}

int ctl_set_value(json_t *obj, const uint8_t *value, size_t len)
{
	json_t *text = json_stringn((const char *)value, len);
	if (text != NULL)
		return json_object_set_new(obj, "value", text);
	/* Not UTF-8 (or no memory): give the bytes in hex so nothing is lost. */
	char *hex = malloc(2 * len + 1);
	if (hex == NULL)
		return -1;
	sodium_bin2hex(hex, 2 * len + 1, value, len);
	int ret = json_object_set_new(obj, "value", json_null()) |
		  json_object_set_new(obj, "value_hex", json_string(hex));
	free(hex);
	return ret;
}

char *ctl_line(json_t *obj)
{
	if (obj == NULL)
		return NULL;
	/* Ten significant digits: "0.073" for a time in ms, not the double's 17-digit expansion. */
	char *s = json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(10));
	json_decref(obj);
	return s;
}

char *ctl_error_line(enum ctl_code code, const char *msg)
{
	return ctl_line(json_pack("{s:b, s:s, s:s}", "ok", 0, "code", ctl_code_str(code), "error",
				  msg));
}
