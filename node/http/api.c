/* /api/transfers: what a person wants to see of each transfer that the control protocol's
 * list does not say: the chunk map (held, in flight, missing, and on how many peers each
 * chunk is: its rarity), every peer with its state and rates, and the choker's last rounds.
 * It reads the session core through transfer/session_view.h and names peers by address. */
#include "node/http/api.h"

#include <stdlib.h>

#include "node/clock.h"
#include "node/net/addr.h"
#include "node/control/control.h"
#include "node/xfer/xfer_view.h"
#include "transfer/session_view.h"

/* "h" held, "f" in flight, "m" missing, one letter per chunk; and the peer counts. */
static int set_chunks(json_t *o, const struct session *s)
{
	uint8_t *state = malloc(API_MAX_CHUNKS);
	uint32_t *peers = malloc(API_MAX_CHUNKS * sizeof *peers);
	char *map = malloc(API_MAX_CHUNKS + 1);
	json_t *rarity = json_array();
	int rc = -1;
	if (state == NULL || peers == NULL || map == NULL || rarity == NULL)
		goto out;
	uint32_t total = session_view_chunks(s, state, peers, API_MAX_CHUNKS);
	uint32_t n = total < API_MAX_CHUNKS ? total : API_MAX_CHUNKS;
	static const char letter[] = { [SESSION_CHUNK_MISSING] = 'm', [SESSION_CHUNK_FLIGHT] = 'f',
				       [SESSION_CHUNK_HELD] = 'h' };
	rc = 0;
	for (uint32_t i = 0; i < n; i++) {
		map[i] = letter[state[i]];
		rc |= json_array_append_new(rarity, json_integer(peers[i]));
	}
	map[n] = '\0';
	rc |= json_object_set_new(o, "chunks", json_integer(total)) |
	      json_object_set_new(o, "chunks_shown", json_integer(n)) |
	      json_object_set_new(o, "chunk_map", json_string(map)) |
	      json_object_set(o, "rarity", rarity);
out:
	json_decref(rarity);
	free(state);
	free(peers);
	free(map);
	return rc;
}

static const char *addr_of(const struct session_peer_view *v)
{
	static char buf[ADDR_STR_MAX];
	addr_format(xfer_view_peer_addr(v->conn), buf);
	return buf;
}

static json_t *peer_json(const struct session_peer_view *v)
{
	return json_pack("{s:s, s:i, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:I, s:I, s:I, s:i, s:i}",
			 "addr", addr_of(v), "slot", (int)v->slot, "handshaken", v->handshaken,
			 "unchoked", !v->am_choking, "interested", v->peer_interested,
			 "interesting", v->am_interested, "choking_us", v->peer_choking,
			 "optimistic", v->optimistic, "snubbed", v->snubbed, "rate_down",
			 (json_int_t)v->rate_down, "received", (json_int_t)v->received,
			 "uploaded", (json_int_t)v->uploaded, "has", (int)v->has, "requests",
			 (int)v->requests);
}

static int set_peers(json_t *o, const struct session *s, uint64_t now,
		     struct session_peer_view *views)
{
	size_t n = session_view_peers(s, now, views, API_MAX_PEERS);
	json_t *arr = json_array();
	int rc = arr == NULL;
	for (size_t i = 0; arr != NULL && i < n; i++)
		rc |= json_array_append_new(arr, peer_json(&views[i]));
	return rc | json_object_set_new(o, "peers", arr);
}

/* The address of the peer in SLOT among the N VIEWS, or NULL (gone). */
static json_t *slot_addr(const struct session_peer_view *views, size_t n, int32_t slot)
{
	for (size_t i = 0; slot >= 0 && i < n; i++)
		if (views[i].slot == (uint32_t)slot)
			return json_string(addr_of(&views[i]));
	return json_null();
}

static json_t *round_json(const struct choker_round *r, const int32_t *slots,
			  const struct session_peer_view *views, size_t nviews, uint64_t now)
{
	json_t *holders = json_array();
	for (uint32_t k = 0; holders != NULL && k < r->npeers; k++) {
		json_t *h = json_pack("{s:o, s:s, s:I}", "addr", slot_addr(views, nviews, slots[k]),
				      "why", choker_why_str(r->peers[k].why), "rate_down",
				      (json_int_t)r->peers[k].rate);
		if (json_array_append_new(holders, h) != 0) {
			json_decref(holders);
			return NULL;
		}
	}
	double ago = now > r->at_us ? (double)(now - r->at_us) / 1e6 : 0.0;
	return json_pack("{s:f, s:b, s:b, s:i, s:o}", "ago_s", ago,
			 "regular", r->regular_due, "optimistic", r->optimistic_due, "changes",
			 (int)r->changes, "unchoked", holders);
}

static int set_rounds(json_t *o, const struct session *s, uint64_t now,
		      struct session_peer_view *views)
{
	struct choker_round rounds[CHOKER_ROUNDS];
	int32_t slots[CHOKER_ROUNDS * CHOKER_ROUND_PEERS];
	size_t nviews = session_view_peers(s, now, views, API_MAX_PEERS);
	size_t n = session_view_rounds(s, rounds, slots, CHOKER_ROUNDS);
	json_t *arr = json_array();
	int rc = arr == NULL;
	for (size_t i = 0; arr != NULL && i < n; i++)
		rc |= json_array_append_new(arr, round_json(&rounds[i],
							    &slots[i * CHOKER_ROUND_PEERS], views,
							    nviews, now));
	return rc | json_object_set_new(o, "rounds", arr);
}

static json_t *transfer_json(const struct xfer *x, struct session_peer_view *views)
{
	struct xfer_info in;
	xfer_get_info(x, &in);
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:i, s:i}", "content_id",
			      in.cid_hex, "name", in.name != NULL ? in.name : "", "role",
			      in.seed ? "seed" : "leech", "state", xfer_state_name(in.state),
			      "bytes_done", (json_int_t)in.bytes_done, "bytes_total",
			      (json_int_t)in.bytes_total, "rate_down", (json_int_t)in.rate_down,
			      "rate_up", (json_int_t)in.rate_up, "peer_count", (int)in.peers,
			      "bans", (int)in.bans);
	const struct session *s = xfer_view_session(x);
	uint64_t now = mono_now_us();
	if (o == NULL)
		return NULL;
	int rc = 0;
	if (s != NULL)
		rc = set_chunks(o, s) | set_peers(o, s, now, views) | set_rounds(o, s, now, views);
	else
		rc = json_object_set_new(o, "chunks", json_integer(in.chunks)) |
		     json_object_set_new(o, "chunk_map", json_null()) |
		     json_object_set_new(o, "peers", json_array()) |
		     json_object_set_new(o, "rounds", json_array());
	if (rc != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *api_transfers(struct xfer_mgr *m)
{
	struct session_peer_view *views = malloc(API_MAX_PEERS * sizeof *views);
	json_t *arr = json_array();
	int rc = views == NULL || arr == NULL;
	for (struct xfer *x = m != NULL ? xfer_first(m) : NULL; rc == 0 && x; x = xfer_next(x))
		rc |= json_array_append_new(arr, transfer_json(x, views));
	free(views);
	if (rc != 0) {
		json_decref(arr);
		return NULL;
	}
	return json_pack("{s:b, s:o}", "ok", 1, "transfers", arr);
}
