/* The swarm: node 0 is the seed, nodes 1..N the peers. Each node runs the real session core;
 * this file is its environment: frames go through net.c, verify() is answered from a per-chunk
 * taint mask (bit b set while block b holds bytes from a liar), and reads return one shared
 * buffer of zeros. Peers find each other as real nodes do, through the peer book and a
 * simulated DHT (find.c). It measures what the bench needs: completion times, the D_p2p and
 * D_cs bounds, upload utilization over the busy part of the run, duplicates, bans, who traded
 * with whom, and how discovery went; trace.c prints the timeline. It does not model connection
 * set-up time or loss. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dht/bytes.h"
#include "tools/lib/bound.h"
#include "tools/swarmsim/pages.h"
#include "tools/swarmsim/swarm_int.h"

#define TICK_MIN_US 1000u
#define TICK_MAX_US 2000000u
#define PAGES_EVERY_US 1000000u

static const uint8_t zeros[BLOCK];

/* ---- the session env ---- */

static void e_send(void *arg, void *conn, const uint8_t *head, size_t hlen, const uint8_t *body,
		   size_t blen)
{
	(void)arg;
	(void)body; /* always our zeros: the net carries only its length */
	/* A closed end's connection is closed too: the net refuses the frame. */
	net_side_send(conn, head, hlen, blen);
}

static size_t e_backlog(void *arg, void *conn)
{
	(void)arg;
	return net_side_backlog(conn);
}

static void ev_gone(void *ctx, void *arg, uint64_t u);

static void end_shut(struct end *e)
{
	e->open = false;
	e->node->nopen--;
}

static void e_close(void *arg, void *conn, enum session_close why)
{
	(void)why;
	struct snode *nd = arg;
	struct end *e = net_side_owner(conn);
	if (!e->open)
		return;
	end_shut(e);
	net_close(e->c);
	find_closed(nd->sw, e, why);
	at(nd->sw, evq_now(nd->sw->q) + nd->sw->cfg->latency_us, ev_gone, e->other, 0);
}

static void e_store(void *arg, void *conn, uint32_t chunk, uint32_t offset, const uint8_t *data,
		    size_t len)
{
	(void)data;
	struct snode *nd = arg;
	uint32_t from = net_side_word(conn);
	uint32_t bit = 1u << (offset / BLOCK);
	if (from & FROM_LIAR)
		nd->taint[chunk] |= bit;
	else
		nd->taint[chunk] &= ~bit;
	nd->sw->payload += len;
	if ((from & FROM_SEED) && nd->sw->seed_blocks != NULL &&
	    ++nd->sw->seed_blocks[chunk] > nd->sw->cfg->chunk_size / BLOCK)
		nd->sw->seed_waste += len;
	if (!(from & FROM_SEED))
		nd->sw->cls_bytes[from >> FROM_CLS_SHIFT][nd->cls] += len;
}

static const uint8_t *e_read(void *arg, uint32_t chunk, uint32_t offset, uint32_t len)
{
	(void)arg;
	(void)chunk;
	(void)offset;
	return len <= BLOCK ? zeros : NULL;
}

static void ev_verify(void *ctx, void *arg, uint64_t u);

static void e_verify(void *arg, uint32_t chunk, bool want)
{
	struct snode *nd = arg;
	at(nd->sw, evq_now(nd->sw->q), ev_verify, nd, (uint64_t)chunk << 1 | want);
}

static void e_manifest(void *arg, const struct manifest *m)
{
	(void)m;
	struct snode *nd = arg;
	find_kick(nd->sw, nd);
}

static void e_ban(void *arg, const uint8_t *id)
{
	struct snode *nd = arg;
	uint32_t who = be32_get(id);
	if (who < nd->sw->n)
		nd->sw->nodes[who].banned_by++;
}

static uint64_t e_now(void *arg)
{
	struct snode *nd = arg;
	return evq_now(nd->sw->q);
}

static uint64_t e_rand(void *arg)
{
	struct snode *nd = arg;
	return rng_next(&nd->sw->rng);
}

/* ---- the network's callbacks ---- */

static void tick_sooner(struct swarm *sw, struct snode *nd);

/* The net's user for each side is that node, its tag the slot: see connect_nodes(). */
static void n_deliver(void *ctx, void *user, uint32_t tag, const uint8_t *frame, size_t len)
{
	struct snode *nd = user;
	if (nd->s == NULL)
		return;
	session_input(nd->s, tag, frame, len);
	tick_sooner(ctx, nd);
}

static void n_writable(void *ctx, void *user, uint32_t tag)
{
	struct snode *nd = user;
	(void)ctx;
	if (nd->s != NULL)
		session_writable(nd->s, tag);
}

static void n_uplink(void *ctx, uint32_t node, bool idle)
{
	trace_uplink(ctx, node, idle);
}

/* ---- events ---- */

static void ev_gone(void *ctx, void *arg, uint64_t u)
{
	(void)u;
	struct end *e = arg;
	if (!e->open)
		return;
	end_shut(e);
	if (e->slot >= 0)
		session_peer_gone(e->node->s, (uint32_t)e->slot);
	find_gone(ctx, e);
}

static void note_done(struct swarm *sw, struct snode *nd);

static void ev_verify(void *ctx, void *arg, uint64_t u)
{
	struct swarm *sw = ctx;
	struct snode *nd = arg;
	if (nd->s == NULL)
		return;
	uint32_t chunk = (uint32_t)(u >> 1);
	uint32_t mask = nd->taint[chunk];
	uint8_t dig[MAX_BLOCKS * SESSION_DIGEST_LEN];
	for (uint32_t b = 0; b < MAX_BLOCKS; b++)
		memset(dig + b * SESSION_DIGEST_LEN, (mask >> b & 1) ? 0xff : 0, SESSION_DIGEST_LEN);
	bool ok = mask == 0;
	session_chunk_verified(nd->s, chunk, ok, ok && !(u & 1) ? NULL : dig);
	tick_sooner(sw, nd);
	if (!ok || nd->idx == 0)
		return;
	find_kick(sw, nd);
	if (nd->first_s < 0)
		nd->first_s = now_s(sw);
	sw->verified += manifest_chunk_len(sw->m, chunk);
	if (!sw->window_open) {
		sw->window_open = true;
		sw->from_s = now_s(sw);
		for (uint32_t i = 0; i < sw->n; i++)
			sw->nodes[i].up_from = net_node_uploaded(sw->net, sw->nodes[i].net_id);
	}
	if (!sw->window_closed && sw->verified >= sw->target95) {
		sw->window_closed = true;
		sw->to_s = now_s(sw);
		for (uint32_t i = 0; i < sw->n; i++)
			sw->nodes[i].up_to = net_node_uploaded(sw->net, sw->nodes[i].net_id);
	}
	if (!nd->done && session_complete(nd->s))
		note_done(sw, nd);
}

static void ev_tick(void *ctx, void *arg, uint64_t u);

/* Run ND's session tick at WHEN, kept between TICK_MIN_US and TICK_MAX_US from now; a tick
 * planned before is void. */
static void plan_tick(struct swarm *sw, struct snode *nd, uint64_t when)
{
	uint64_t now = evq_now(sw->q);
	if (when < now + TICK_MIN_US)
		when = now + TICK_MIN_US;
	if (when > now + TICK_MAX_US)
		when = now + TICK_MAX_US;
	nd->tick_due = when;
	at(sw, when, ev_tick, nd, ++nd->tick_gen);
}

/* As the node does after feeding its session: a peer interested while an upload slot is free
 * is unchoked now, not at a tick planned before it came. */
static void tick_sooner(struct swarm *sw, struct snode *nd)
{
	if (nd->s == NULL)
		return;
	uint64_t due = session_deadline(nd->s);
	if (due < nd->tick_due)
		plan_tick(sw, nd, due);
}

static void ev_tick(void *ctx, void *arg, uint64_t u)
{
	struct swarm *sw = ctx;
	struct snode *nd = arg;
	if (nd->s == NULL || u != nd->tick_gen)
		return;
	plan_tick(sw, nd, session_tick(nd->s, evq_now(sw->q)));
}

static void ev_leave(void *ctx, void *arg, uint64_t u)
{
	struct swarm *sw = ctx;
	struct snode *nd = arg;
	(void)u;
	struct session_stats st;
	session_stats(nd->s, &st);
	sw->dup_left += st.duplicate;
	for (size_t i = 0; i < nd->nends; i++) {
		struct end *e = nd->ends[i];
		if (!e->open)
			continue;
		end_shut(e);
		net_close(e->c);
		at(sw, evq_now(sw->q) + sw->cfg->latency_us, ev_gone, e->other, 0);
	}
	find_leave(sw, nd);
	session_free(nd->s);
	nd->s = NULL;
	nd->leave_s = now_s(sw);
}

static void note_done(struct swarm *sw, struct snode *nd)
{
	nd->done = true;
	sw->ndone += !nd->liar;
	nd->done_s = now_s(sw);
	if (!nd->liar && sw->waiting > 0)
		sw->waiting--;
	if (sw->cfg->leave_when_done)
		at(sw, evq_now(sw->q), ev_leave, nd, 0);
}

/* ---- joining ---- */

static struct session *make_session(struct swarm *sw, struct snode *nd)
{
	struct session_config sc;
	session_config_default(&sc);
	memcpy(sc.network, "swarmsim", WIRE_NETWORK_ID_LEN);
	memcpy(sc.content, manifest_id(sw->m), WIRE_CONTENT_ID_LEN);
	be32_put(sc.peer_id, nd->idx);
	memcpy(sc.peer_id + 4, "swarmsim-peer-id", 16);
	sc.max_peers = sw->cfg->max_conns;
	sc.upload_slots = sw->cfg->upload_slots;
	sc.upload_rate = sw->cfg->rate_slots ? nd->up : 0;
	sc.interest_linger_us = sw->cfg->interest_linger_us;
	sc.no_upload = nd->free_rider;
	sc.super_seed = nd->idx == 0 && sw->cfg->super_seed;
	struct bitfield *all = NULL;
	if (nd->idx == 0 || !sw->cfg->fetch_manifest)
		sc.manifest = sw->m;
	if (nd->idx == 0) {
		all = bitfield_new(manifest_chunk_count(sw->m));
		if (all == NULL)
			return NULL;
		bitfield_set_all(all);
		sc.have = all;
	}
	struct session_env env = {
		.arg = nd, .send = e_send, .backlog = e_backlog, .close = e_close, .store = e_store,
		.read = e_read, .verify = e_verify, .ban = e_ban, .manifest = e_manifest,
		.now = e_now, .rand64 = e_rand,
	};
	struct session *s = session_new(&sc, &env);
	bitfield_free(all);
	return s;
}

static void ev_join(void *ctx, void *arg, uint64_t u)
{
	struct swarm *sw = ctx;
	struct snode *nd = arg;
	(void)u;
	nd->s = make_session(sw, nd);
	if (nd->s == NULL) {
		sw->failed = true;
		return;
	}
	nd->join_s = now_s(sw);
	find_join(sw, nd);
	plan_tick(sw, nd, 0);
}

/* ---- set-up ---- */

void swarm_config_default(struct swarm_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->peers = 100;
	cfg->file_bytes = 256ull << 20;
	cfg->seed_up = 4u << 20;
	cfg->peer_up[0] = 1u << 20;
	cfg->npeer_up = 1;
	cfg->latency_us = 40000;
	cfg->fetch_manifest = true;
	cfg->super_seed = true;
	cfg->rate_slots = true;
	cfg->seed = 1;
	cfg->neighbours = 50;
	cfg->max_conns = 80;
	cfg->upload_slots = 4;
	cfg->max_time_s = 100000;
}

static const char *config_error(const struct swarm_config *c)
{
	if (c->peers == 0 || c->peers > 100000)
		return "peers must be 1..100000";
	if (c->file_bytes == 0)
		return "the file must not be empty";
	if (c->chunk_size % BLOCK || c->chunk_size / BLOCK > MAX_BLOCKS ||
	    !manifest_chunk_size_valid(c->chunk_size))
		return "chunk size must be a power of two from 16 KiB to 512 KiB";
	if ((c->file_bytes + c->chunk_size - 1) / c->chunk_size > MANIFEST_MAX_CHUNKS)
		return "too many chunks for one manifest";
	if (c->seed_up == 0 || c->npeer_up == 0 || c->npeer_up > SWARM_MAX_RATES)
		return "upload rates must be positive";
	for (unsigned i = 0; i < c->npeer_up; i++)
		if (c->peer_up[i] == 0)
			return "upload rates must be positive";
	if (c->up_range && (c->npeer_up != 2 || c->peer_up[1] < c->peer_up[0]))
		return "an upload range needs LOW..HIGH";
	if (!(c->free_riders >= 0 && c->liars >= 0 && c->free_riders + c->liars <= 1))
		return "free-rider and liar fractions must be in 0..1 and add up to at most 1";
	if (!(c->join_spread_s >= 0) || !(c->max_time_s > 0))
		return "times must not be negative";
	if (c->neighbours == 0 || c->max_conns == 0 || c->upload_slots == 0)
		return "neighbours, connections and slots must be positive";
	return NULL;
}

static struct manifest *fake_manifest(const struct swarm_config *c)
{
	struct manifest_builder *b = manifest_builder_new(c->chunk_size);
	struct manifest *m = NULL;
	if (b == NULL || manifest_builder_add_file(b, "swarm.bin", c->file_bytes) < 0)
		goto out;
	uint32_t n = (uint32_t)((c->file_bytes + c->chunk_size - 1) / c->chunk_size);
	for (uint32_t i = 0; i < n; i++) {
		uint8_t h[MANIFEST_HASH_LEN] = { 0 };
		be32_put(h, i);
		if (manifest_builder_add_hash(b, h) < 0)
			goto out;
	}
	m = manifest_builder_finish(b);
out:
	manifest_builder_free(b);
	return m;
}

/* Rates and rate classes: a cycled list gives one class per distinct rate; a range is cut into
 * four classes of equal width. */
static unsigned assign_rate(const struct swarm_config *c, uint32_t p, uint64_t *up)
{
	if (c->up_range) {
		uint64_t lo = c->peer_up[0], hi = c->peer_up[1];
		*up = c->peers > 1 ? lo + (hi - lo) * p / (c->peers - 1) : lo;
		return hi > lo ? (unsigned)((*up - lo) * 4 / (hi - lo + 1)) : 0;
	}
	*up = c->peer_up[p % c->npeer_up];
	for (unsigned k = 0; k < c->npeer_up; k++)
		if (c->peer_up[k] == *up)
			return k;
	return 0;
}

static void assign_roles(struct swarm *sw)
{
	const struct swarm_config *c = sw->cfg;
	uint32_t N = c->peers;
	uint32_t *order = sw->scratch;
	for (uint32_t i = 0; i < N; i++)
		order[i] = i + 1;
	for (uint32_t i = N; i > 1; i--) {
		uint32_t j = (uint32_t)rng_below(&sw->rng, i);
		uint32_t t = order[i - 1];
		order[i - 1] = order[j];
		order[j] = t;
	}
	uint32_t nfree = (uint32_t)llround(c->free_riders * N);
	uint32_t nliar = (uint32_t)llround(c->liars * N);
	for (uint32_t i = 0; i < N; i++) {
		sw->nodes[order[i]].free_rider = i < nfree;
		sw->nodes[order[i]].liar = i >= nfree && i < nfree + nliar;
	}
}

static int nodes_make(struct swarm *sw)
{
	const struct swarm_config *c = sw->cfg;
	uint32_t nchunks = manifest_chunk_count(sw->m);
	for (uint32_t i = 0; i < sw->n; i++) {
		struct snode *nd = &sw->nodes[i];
		nd->sw = sw;
		nd->idx = i;
		nd->done_s = nd->leave_s = nd->first_s = -1;
		nd->up = c->seed_up;
		if (i > 0) {
			nd->cls = assign_rate(c, i - 1, &nd->up);
			nd->down = c->peer_down;
		}
		nd->net_id = net_node_add(sw->net, nd->up, nd->down);
		nd->taint = calloc(nchunks, sizeof *nd->taint);
		if (nd->net_id < 0 || nd->taint == NULL)
			return -1;
	}
	assign_roles(sw);
	for (uint32_t i = 1; i < sw->n; i++)
		sw->waiting += !sw->nodes[i].liar;
	at(sw, 0, ev_join, &sw->nodes[0], 0);
	if (trace_start(sw) < 0)
		return -1;
	for (uint32_t i = 1; i < sw->n; i++) {
		double t = c->join_spread_s > 0 ? rng_unit(&sw->rng) * c->join_spread_s : 0;
		at(sw, (uint64_t)(t * 1e6), ev_join, &sw->nodes[i], 0);
	}
	return sw->failed ? -1 : 0;
}

static struct swarm *swarm_new(const struct swarm_config *c)
{
	struct swarm *sw = calloc(1, sizeof *sw);
	if (sw == NULL)
		return NULL;
	sw->cfg = c;
	rng_seed(&sw->rng, c->seed);
	sw->n = c->peers + 1;
	sw->q = evq_new(sw);
	struct net_ops ops = { n_deliver, n_writable, n_uplink };
	sw->net = sw->q ? net_new(sw->q, &ops, sw, c->latency_us) : NULL;
	sw->m = fake_manifest(c);
	sw->nodes = calloc(sw->n, sizeof *sw->nodes);
	sw->scratch = calloc(sw->n, sizeof *sw->scratch);
	sw->answer = calloc(sw->n, sizeof *sw->answer);
	if (sw->m != NULL)
		sw->seed_blocks = calloc(manifest_chunk_count(sw->m), sizeof *sw->seed_blocks);
	sw->book_left.min_redial_wait_us = UINT64_MAX;
	if (sw->net == NULL || sw->m == NULL || sw->nodes == NULL || sw->scratch == NULL ||
	    sw->answer == NULL)
		return sw;
	sw->target95 = (uint64_t)(0.95 * (double)c->file_bytes * c->peers);
	if (nodes_make(sw) < 0)
		sw->failed = true;
	return sw;
}

static void swarm_free(struct swarm *sw)
{
	if (sw == NULL)
		return;
	for (uint32_t i = 0; sw->nodes && i < sw->n; i++) {
		struct snode *nd = &sw->nodes[i];
		session_free(nd->s);
		peerbook_free(nd->book);
		for (size_t k = 0; k < nd->nends; k++)
			free(nd->ends[k]);
		free(nd->ends);
		free(nd->taint);
	}
	net_free(sw->net);
	evq_free(sw->q);
	manifest_free(sw->m);
	free(sw->nodes);
	free(sw->scratch);
	free(sw->answer);
	free(sw->seed_blocks);
	trace_free(sw);
	free(sw);
}

/* ---- results ---- */

static void bounds(const struct swarm *sw, struct swarm_result *r)
{
	const struct swarm_config *c = sw->cfg;
	struct bound_swarm b = { .file_bytes = c->file_bytes, .n = c->peers, .seed_up = c->seed_up,
				 .up = r->up, .d_min = c->peer_down };

	r->d_p2p = bound_p2p(&b);
	r->d_cs = bound_cs(&b);
}

static void utilization(const struct swarm *sw, struct swarm_result *r, double end_s)
{
	double from = sw->window_open ? sw->from_s : 0;
	double to = sw->window_closed ? sw->to_s : end_s;
	double cap = 0, used = 0;
	for (uint32_t i = 0; i < sw->n; i++) {
		const struct snode *nd = &sw->nodes[i];
		if (nd->free_rider)
			continue;
		double leave = nd->leave_s >= 0 ? nd->leave_s : end_s;
		double span = fmin(to, leave) - fmax(from, nd->join_s);
		if (span > 0)
			cap += span * (double)nd->up;
		uint64_t up_to = sw->window_closed ? nd->up_to : net_node_uploaded(sw->net, nd->net_id);
		used += (double)(up_to - nd->up_from);
	}
	r->util_from = from;
	r->util_to = to;
	r->upload_utilization = cap > 0 ? fmin(1.0, used / cap) : 0;
}

static void trading(const struct swarm *sw, struct swarm_result *r)
{
	const struct swarm_config *c = sw->cfg;
	unsigned K = c->up_range ? 4 : c->npeer_up;
	uint32_t count[SWARM_MAX_RATES] = { 0 };
	for (uint32_t i = 1; i < sw->n; i++) {
		const struct snode *nd = &sw->nodes[i];
		if (count[nd->cls]++ == 0 || nd->up < r->class_up[nd->cls])
			r->class_up[nd->cls] = nd->up;
	}
	memcpy(r->class_bytes, sw->cls_bytes, sizeof r->class_bytes);
	memcpy(r->class_peers, count, sizeof r->class_peers);
	double total = 0, same = 0, expect = 0;
	for (unsigned a = 0; a < K; a++)
		for (unsigned b = 0; b < K; b++)
			total += (double)sw->cls_bytes[a][b];
	for (unsigned a = 0; a < K && total > 0 && c->peers > 1; a++) {
		double sent = 0;
		for (unsigned b = 0; b < K; b++)
			sent += (double)sw->cls_bytes[a][b];
		same += (double)sw->cls_bytes[a][a];
		expect += sent / total * (count[a] ? count[a] - 1.0 : 0) / (c->peers - 1.0);
	}
	r->classes = K;
	r->same_class_share = total > 0 ? same / total : 0;
	r->same_class_expected = expect;
}

static int result_fill(struct swarm *sw, struct swarm_result *r, uint64_t dup)
{
	uint32_t N = sw->cfg->peers;
	memset(r, 0, sizeof *r);
	r->peers = N;
	r->file_bytes = sw->cfg->file_bytes;
	r->chunk_size = sw->cfg->chunk_size;
	r->seed_up = sw->cfg->seed_up;
	r->up = calloc(N, sizeof *r->up);
	r->down = calloc(N, sizeof *r->down);
	r->join = calloc(N, sizeof *r->join);
	r->done = calloc(N, sizeof *r->done);
	r->free_rider = calloc(N, sizeof *r->free_rider);
	r->liar = calloc(N, sizeof *r->liar);
	r->banned_by = calloc(N, sizeof *r->banned_by);
	if (!r->up || !r->down || !r->join || !r->done || !r->free_rider || !r->liar || !r->banned_by)
		return -1;
	double end_s = now_s(sw), last = 0;
	r->all_started = 0;
	for (uint32_t p = 0; p < N; p++) {
		const struct snode *nd = &sw->nodes[p + 1];
		r->up[p] = nd->up;
		r->down[p] = nd->down;
		r->join[p] = nd->join_s;
		r->done[p] = nd->done ? nd->done_s : -1;
		r->free_rider[p] = nd->free_rider;
		r->liar[p] = nd->liar;
		r->banned_by[p] = nd->banned_by;
		if (nd->liar) {
			r->liars_banned += nd->banned_by > 0;
			continue;
		}
		r->honest_banned += nd->banned_by > 0;
		r->honest_incomplete += !nd->done;
		if (!nd->free_rider && (nd->first_s < 0 || r->all_started < 0))
			r->all_started = -1;
		else if (!nd->free_rider)
			r->all_started = fmax(r->all_started, nd->first_s);
		last = fmax(last, nd->done_s);
	}
	r->honest_banned += sw->nodes[0].banned_by > 0;
	bounds(sw, r);
	r->last_done = r->honest_incomplete ? -1 : last;
	r->ratio = r->last_done > 0 ? r->last_done / r->d_p2p : 0;
	utilization(sw, r, end_s);
	trading(sw, r);
	r->duplicate_bytes = dup;
	r->payload_bytes = sw->payload;
	r->sim_time = end_s;
	return 0;
}

void swarm_result_free(struct swarm_result *r)
{
	free(r->up);
	free(r->down);
	free(r->join);
	free(r->done);
	free(r->free_rider);
	free(r->liar);
	free(r->banned_by);
	memset(r, 0, sizeof *r);
}

int swarm_run(const struct swarm_config *given, struct swarm_result *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	struct swarm_config c = *given, *cfg = &c;
	if (c.chunk_size == 0)
		c.chunk_size = manifest_default_chunk(c.file_bytes);
	const char *why = config_error(cfg);
	if (why) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	struct swarm *sw = swarm_new(cfg);
	int rc = -1;
	if (sw == NULL || sw->failed)
		goto out;
	uint64_t limit = (uint64_t)(cfg->max_time_s * 1e6), pages_at = PAGES_EVERY_US;
	while (sw->waiting > 0 && !sw->failed && evq_step(sw->q, limit)) {
		/* The heap grows as peers meet and fetch the manifest, and as they trade: back
		 * what it has grown by with huge pages, once a virtual second. */
		if (evq_now(sw->q) >= pages_at) {
			pages_huge_heap();
			pages_at = evq_now(sw->q) + PAGES_EVERY_US;
		}
	}
	if (sw->failed)
		goto out;
	uint64_t dup = sw->dup_left;
	for (uint32_t i = 0; i < sw->n; i++) {
		struct session_stats st;
		if (sw->nodes[i].s == NULL)
			continue;
		session_stats(sw->nodes[i].s, &st);
		dup += st.duplicate;
		if (i == 0)
			out->seed_uploaded_bytes = st.uploaded;
	}
	uint64_t seed_up = out->seed_uploaded_bytes;
	rc = result_fill(sw, out, dup);
	find_totals(sw, out);
	out->seed_uploaded_bytes = seed_up;
out:
	if (rc < 0) {
		snprintf(err, errlen, "out of memory");
		swarm_result_free(out);
	}
	swarm_free(sw);
	return rc;
}
