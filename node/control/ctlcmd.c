/* The control commands: each request becomes a call into the core (dht_put, dht_get,
 * dht_lookup, dht_announce, dht_get_peers), a snapshot of local state (status), a walk of
 * the ring (ring, in ctlring.c) or a file command (ctlfiles.c), and ends as one JSON line.
 * An operation (ctlop.c) stays allocated until the core can no longer call back for it, even
 * when the client has gone, because the core keeps its pointer until then. This file owns no
 * sockets. */
#include "node/control/ctlcmd.h"

#include <stdlib.h>
#include <string.h>

#include "dht/kv.h"
#include "node/control/ctlfiles.h"
#include "node/control/ctlop.h"
#include "node/control/ctlpush.h"
#include "node/control/ctlring.h"
#include "node/net/udp.h"
#include "node/push/push.h"

struct ctlcmd *ctlcmd_new(struct event_base *base, struct dht *d)
{
	struct ctlcmd *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	c->base = base;
	c->d = d;
	return c;
}

void ctlcmd_set_files(struct ctlcmd *c, struct xfer_mgr *m)
{
	c->files = m;
}

void ctlcmd_set_push(struct ctlcmd *c, struct push_node *p)
{
	c->push = p;
}

void ctlcmd_set_writer(struct ctlcmd *c, const uint8_t *sk)
{
	c->writer.sk = sk;
}

void ctlcmd_set_seal(struct ctlcmd *c, const struct udp_seal_stats *st)
{
	c->seal = st;
}

void ctlcmd_free(struct ctlcmd *c)
{
	if (c == NULL)
		return;
	while (c->ops) {
		ring_free(c->ops->walk);
		pushcmd_free(c->ops);
		op_free(c->ops);
	}
	free(c);
}

void ctlcmd_cancel(struct ctl_op *op)
{
	op->reply = NULL;
	if (op->push != NULL)
		pushcmd_cancel(op);
	else if (op->watch != NULL || op->copy != NULL)
		files_cancel(op);
}

/* Set "hops" and "ms" from how the owner was found. */
static int set_timing(json_t *obj, const struct ctl_op *op, const struct dht_lookup_result *lk)
{
	return json_object_set_new(obj, "hops", json_integer(lk != NULL ? lk->hops : 0)) |
	       json_object_set_new(obj, "ms", json_real(op_ms(op)));
}

static int set_peers(json_t *obj, const struct dht_value_result *res)
{
	json_t *peers = json_array();
	for (size_t i = 0; peers != NULL && i < res->npeers; i++)
		if (json_array_append_new(peers, ctl_addr_json(&res->peers[i])) != 0) {
			json_decref(peers);
			return -1;
		}
	return json_object_set_new(obj, "peers", peers);
}

static json_t *value_reply(const struct ctl_op *op, const struct dht_value_result *res)
{
	unsigned bits = dht_bits(op->c->d);
	json_t *obj = ctl_ok(&res->key, bits);
	if (obj == NULL)
		return NULL;
	int rc = json_object_set_new(obj, "owner", ctl_node_json(&res->owner, bits));
	switch (op->req.cmd) {
	case CTL_GET:
		rc |= ctlvalue_set_json(obj, res) | set_timing(obj, op, res->lookup);
		break;
	case CTL_PUT:
		rc |= ctlvalue_set_stored(obj, &op->item) | set_timing(obj, op, res->lookup);
		break;
	case CTL_GET_PEERS:
		rc |= set_peers(obj, res);
		break;
	default:
		break;
	}
	if (rc != 0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

static void on_value(void *arg, const struct dht_value_result *res)
{
	struct ctl_op *op = arg;
	if (res->status == DHT_OK)
		op_reply_json(op, value_reply(op, res));
	else
		op_reply_status(op, res->status);
	op_finish(op);
}

static void on_lookup(void *arg, const struct dht_lookup_result *res)
{
	struct ctl_op *op = arg;
	unsigned bits = dht_bits(op->c->d);
	if (res->status != DHT_OK) {
		op_reply_status(op, res->status);
		op_finish(op);
		return;
	}
	json_t *obj = ctl_ok(&res->key, bits);
	if (obj != NULL &&
	    (json_object_set_new(obj, "owner", ctl_node_json(&res->owner, bits)) |
	     set_timing(obj, op, res) |
	     json_object_set_new(obj, "path", ctl_path_json(res, bits))) != 0) {
		json_decref(obj);
		obj = NULL;
	}
	op_reply_json(op, obj);
	op_finish(op);
}

static const char *state_name(enum dht_state s)
{
	static const char *const names[] = {
		[DHT_IDLE] = "idle", [DHT_JOINING] = "joining", [DHT_JOINED] = "joined",
		[DHT_LEFT] = "left",
	};
	return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "unknown";
}

/* A neighbour as {id, addr}, with the public key it proved to us if it did (issue 11). */
static json_t *neighbour_json(struct dht *d, const struct dht_node *n, unsigned bits)
{
	uint8_t pk[DHT_SIGN_PK_LEN];
	char hex[2 * DHT_SIGN_PK_LEN + 1];
	json_t *o = ctl_node_json(n, bits);
	if (o != NULL && dht_node_key(d, n, pk) == 0) {
		sodium_bin2hex(hex, sizeof hex, pk, sizeof pk);
		json_object_set_new(o, "public_key", json_string(hex));
	}
	return o;
}

static json_t *nodes_json(struct dht *d, const struct dht_node *nodes, size_t n, unsigned bits)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr != NULL && i < n; i++)
		if (json_array_append_new(arr, neighbour_json(d, &nodes[i], bits)) != 0) {
			json_decref(arr);
			return NULL;
		}
	return arr;
}

/* What this node knows of the ring: its fingers, successors, predecessor and itself. */
static size_t known_nodes(const struct dht *d, struct dht_node *out, size_t cap)
{
	size_t n = dht_fingers(d, out, NULL, ID_MAX_BITS);
	n += dht_successors(d, out + n, CTL_MAX_SUCC);
	if (n < cap && dht_predecessor(d, &out[n]) == 0)
		n++;
	out[n++] = *dht_self(d);
	return n;
}

/* The first of the N nodes KNOWN at or after START clockwise: successor(START) as this node's
 * routing state has it, which is finger i's node when START is finger i's start. */
static const struct dht_node *first_from(const struct dht_node *known, size_t n,
					 const struct dht_id *start, unsigned bits)
{
	const struct dht_node *best = &known[0];
	struct dht_id dist, best_dist;
	id_sub(&best_dist, &known[0].id, start, bits);
	for (size_t k = 1; k < n; k++) {
		id_sub(&dist, &known[k].id, start, bits);
		if (id_cmp(&dist, &best_dist) < 0) {
			best_dist = dist;
			best = &known[k];
		}
	}
	return best;
}

/* Every finger i of the textbook table: start = id + 2^i mod 2^m, the interval
 * [start_i, start_i+1) (the last one ends at the node's own id) and the node. */
static json_t *fingers_json(const struct dht *d)
{
	struct dht_node known[ID_MAX_BITS + CTL_MAX_SUCC + 2];
	unsigned bits = dht_bits(d);
	size_t n = known_nodes(d, known, sizeof known / sizeof known[0]);
	const struct dht_id *self = &dht_self(d)->id;
	json_t *arr = json_array();
	for (unsigned i = 0; arr != NULL && i < bits; i++) {
		struct dht_id start, end = *self;
		id_add_pow2(&start, self, i, bits);
		if (i + 1 < bits)
			id_add_pow2(&end, self, i + 1, bits);
		const struct dht_node *node = first_from(known, n, &start, bits);
		json_t *f = json_pack("{s:i, s:o, s:[o, o], s:o, s:o}", "index", (int)i, "start",
				      ctl_id_json(&start, bits), "interval", ctl_id_json(&start, bits),
				      ctl_id_json(&end, bits), "id", ctl_id_json(&node->id, bits),
				      "addr", ctl_addr_json(&node->addr));
		if (json_array_append_new(arr, f) != 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

struct entries_ctx {
	json_t *arr;
	unsigned bits;
	int rc;
};

static void add_entry(void *arg, const struct dht_kv_entry_info *e)
{
	struct entries_ctx *x = arg;
	json_t *o = json_pack("{s:o, s:s, s:I, s:I, s:b}", "key_id", ctl_id_json(&e->key, x->bits),
			      "kind", e->kind == KV_PEERS ? "peers" : "value", "bytes",
			      (json_int_t)e->bytes, "ttl", (json_int_t)e->ttl_s, "owned", e->owned);
	x->rc |= json_array_append_new(x->arr, o);
}

static json_t *stats_json(const struct dht *d)
{
	const struct dht_stats *st = dht_get_stats(d);
	uint64_t dropped = st->dropped_unsolicited;
	for (int i = 0; i < DHT_DECODE_NRESULTS; i++)
		dropped += st->dropped[i];
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "sent",
			 (json_int_t)st->sent, "received", (json_int_t)st->received, "dropped",
			 (json_int_t)dropped, "timeouts", (json_int_t)st->timeouts, "lookups",
			 (json_int_t)st->lookups, "lookups_failed", (json_int_t)st->lookups_failed,
			 "dropped_rate", (json_int_t)st->dropped_rate, "dropped_unproven",
			 (json_int_t)st->dropped_unproven, "dropped_refused",
			 (json_int_t)st->dropped_refused, "challenges", (json_int_t)st->challenges,
			 "values_forged", (json_int_t)st->values_forged, "values_stale",
			 (json_int_t)st->values_stale, "ids_refused", (json_int_t)st->ids_refused);
}

/* "network": open or keyed (the key's tag), and the datagrams refused before the core. */
static json_t *network_json(const struct udp_seal_stats *st)
{
	char tag[2 * NETKEY_TAG_LEN + 1];
	json_t *refused = json_object();
	for (int r = SEAL_NOT_SEALED; r < SEAL_NRESULTS; r++)
		json_object_set_new(refused, seal_result_name(r),
				    json_integer((json_int_t)st->refused[r]));
	json_object_set_new(refused, "sealed", json_integer((json_int_t)st->sealed));
	sodium_bin2hex(tag, sizeof tag, st->tag, sizeof st->tag);
	return json_pack("{s:b, s:o, s:o}", "keyed", st->keyed, "tag",
			 st->keyed ? json_string(tag) : json_null(), "refused", refused);
}

static json_t *status_json(struct dht *d)
{
	unsigned bits = dht_bits(d);
	struct dht_node succ[CTL_MAX_SUCC], pred;
	size_t nsucc = dht_successors(d, succ, CTL_MAX_SUCC);
	struct entries_ctx x = { .arr = json_array(), .bits = bits };
	if (x.arr != NULL)
		dht_kv_foreach(d, CTL_STATUS_MAX_ENTRIES, add_entry, &x);
	json_t *obj = json_pack(
		"{s:b, s:o, s:o, s:i, s:s, s:o, s:o, s:o, s:I, s:I, s:o, s:o}", "ok", 1, "id",
		ctl_id_json(&dht_self(d)->id, bits), "addr", ctl_addr_json(&dht_self(d)->addr),
		"bits", (int)bits, "state", state_name(dht_get_state(d)), "predecessor",
		dht_predecessor(d, &pred) == 0 ? neighbour_json(d, &pred, bits) : json_null(),
		"successors", nodes_json(d, succ, nsucc, bits), "fingers", fingers_json(d), "keys",
		(json_int_t)dht_kv_count(d), "store_bytes", (json_int_t)dht_kv_bytes(d), "entries",
		x.rc == 0 ? x.arr : NULL, "stats", stats_json(d));
	if (x.rc != 0)
		json_decref(x.arr);
	return obj;
}

/* Hand OP to the core. Return DHT_OK if it took it (and will call back), else why not. */
static enum dht_status start_core_call(struct ctl_op *op)
{
	struct dht *d = op->c->d;
	const struct ctl_request *r = &op->req;
	int rc = -1;
	switch (r->cmd) {
	case CTL_PUT:
		if (ctlvalue_item(&op->c->writer, r, &op->item) != 0)
			return DHT_ERR_NO_MEMORY;
		rc = dht_put(d, &r->key, &op->item, r->ttl_s, r->has_cas ? &r->cas : NULL, on_value,
			     op);
		break;
	case CTL_GET:
		rc = dht_get(d, &r->key, r->has_writer ? r->writer : NULL, on_value, op);
		break;
	case CTL_LOOKUP:
		rc = dht_lookup(d, &r->key, on_lookup, op);
		break;
	case CTL_ANNOUNCE:
		rc = dht_announce(d, &r->key, &r->peer, r->ttl_s, on_value, op);
		break;
	case CTL_GET_PEERS:
		rc = dht_get_peers(d, &r->key, r->max, on_value, op);
		break;
	default:
		break; /* not core calls: see ctlcmd_start */
	}
	if (rc == 0)
		return DHT_OK;
	return dht_get_state(d) == DHT_JOINED ? DHT_ERR_NO_MEMORY : DHT_ERR_NOT_JOINED;
}

static void reply_now(ctl_reply_cb *reply, void *arg, char *line)
{
	reply(arg, line != NULL ? line : op_oom_line, false);
	free(line);
}

struct ctl_op *ctlcmd_start(struct ctlcmd *c, const struct ctl_request *req, ctl_reply_cb *reply,
			    void *arg)
{
	if (req->cmd == CTL_STATUS) {
		json_t *st = status_json(c->d);
		char pk[2 * crypto_sign_PUBLICKEYBYTES + 1];
		if (st != NULL && c->seal != NULL)
			json_object_set_new(st, "network", network_json(c->seal));
		if (st != NULL && c->push != NULL) {
			sodium_bin2hex(pk, sizeof pk, push_node_pk(c->push), crypto_sign_PUBLICKEYBYTES);
			json_object_set_new(st, "public_key", json_string(pk));
		}
		if (st != NULL && c->files != NULL)
			json_object_set_new(st, "uplink",
					    json_integer((json_int_t)xfer_mgr_uplink(c->files)));
		reply_now(reply, arg, ctl_line(st));
		return NULL;
	}
	struct ctl_op *op = op_new(c, req, reply, arg);
	if (op == NULL) {
		reply(arg, op_oom_line, false);
		return NULL;
	}
	/* The core may call back before it returns (a key this node owns): op_finish then leaves
	 * the freeing to us. */
	op->starting = true;
	enum dht_status st = DHT_OK;
	if (req->cmd == CTL_PUSH)
		pushcmd_start(op);
	else if (req->cmd >= CTL_SHARE)
		files_start(op);
	else
		st = req->cmd == CTL_RING ? ring_start(op) : start_core_call(op);
	op->starting = false;
	if (st != DHT_OK) {
		reply_now(reply, arg, ctl_error_line(ctl_code_of(st), ctl_status_advice(st)));
		op_free(op);
		return NULL;
	}
	if (op->finished) { /* every way to finish answers first */
		op_free(op);
		return NULL;
	}
	return op->replied ? NULL : op;
}
