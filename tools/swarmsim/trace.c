/* tools/swarmsim/trace.c: the timeline --trace-ms prints. Each line covers one interval: the
 * peers' upload as a share of their uplinks, the seed's, how far the file has spread, and why
 * peers' uplinks sat idle, each gap judged from the sessions' views when it began and again at
 * each line it spans. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/swarmsim/swarm_int.h"
#include "transfer/bitfield.h"
#include "transfer/manifest.h"
#include "transfer/session_view.h"

/* Peers one view looks at: a node with more (--max-conns) is judged by its first VIEW_MAX. */
#define VIEW_MAX 256

/* Why a peer's uplink is idle, first cause first. */
enum gap_why {
	GAP_EMPTY,     /* it holds no chunk */
	GAP_UNWANTED,  /* no peer it knows lacks one of its chunks */
	GAP_CHOKED,    /* those that lack one are all choked */
	GAP_ROUND,     /* an unchoked one has asked it and the request is on its way */
	GAP_UNASKED,   /* an unchoked one lacks a chunk of it and has asked no one for it */
	GAP_ELSEWHERE, /* the unchoked ones that lack its chunks have asked for them already: of
			* other peers, or of it, and the block is on its way */
};

_Static_assert(GAP_ELSEWHERE + 1 == SWARM_GAP_WHYS, "swarm_int.h counts the causes");

static const char *const gap_names[SWARM_GAP_WHYS] = {
	"no chunk", "unwanted", "choked", "round trip", "unasked", "asked elsewhere",
};

/* The other node of E, our end of a connection, if it is still in the swarm. */
static struct snode *other_node(const struct end *e)
{
	struct snode *d = e->other->node;
	return d->s != NULL ? d : NULL;
}

/* Requests the other node of E has out to us that have not reached us yet: those it counts
 * as unanswered, less the blocks we have sent it (UPLOADED, payload bytes) that it has yet to
 * receive. Our uplink is idle, so every block we sent is on the wire or there. */
static uint64_t coming_from(struct swarm *sw, struct end *e, uint64_t uploaded)
{
	struct snode *d = other_node(e);
	struct session_peer_view dv[VIEW_MAX];
	if (d == NULL)
		return 0;
	void *mine = net_conn_side(e->c, e->other->side);
	size_t dn = session_view_peers(d->s, evq_now(sw->q), dv, VIEW_MAX);
	for (size_t j = 0; j < dn; j++) {
		if (dv[j].conn != mine)
			continue;
		uint64_t flying = uploaded > dv[j].received ? uploaded - dv[j].received : 0;
		uint64_t blocks = (flying + BLOCK - 1) / BLOCK;
		return dv[j].requests > blocks ? dv[j].requests - blocks : 0;
	}
	return 0;
}

/* Whether the other node of E lacks a chunk ND holds and has asked no one for it. */
static bool lacks_unasked(struct swarm *sw, struct snode *nd, struct end *e)
{
	struct snode *d = other_node(e);
	if (d == NULL)
		return false;
	uint32_t n = session_view_chunks(d->s, sw->trace_state, sw->trace_holders,
					 manifest_chunk_count(sw->m));
	const struct bitfield *have = session_have(nd->s);
	for (uint32_t c = 0; c < n; c++)
		if (sw->trace_state[c] == SESSION_CHUNK_MISSING && bitfield_test(have, c))
			return true;
	return false;
}

static enum gap_why gap_why(struct swarm *sw, struct snode *nd)
{
	struct session_stats st;
	struct session_peer_view pv[VIEW_MAX];
	session_stats(nd->s, &st);
	if (st.have == 0)
		return GAP_EMPTY;
	size_t np = session_view_peers(nd->s, evq_now(sw->q), pv, VIEW_MAX);
	bool wanted = false, unchoked = false;
	for (size_t k = 0; k < np; k++) {
		if (!pv[k].peer_interested)
			continue;
		wanted = true;
		if (pv[k].am_choking)
			continue;
		unchoked = true;
		if (coming_from(sw, net_side_owner(pv[k].conn), pv[k].uploaded) > 0)
			return GAP_ROUND;
	}
	if (!wanted)
		return GAP_UNWANTED;
	if (!unchoked)
		return GAP_CHOKED;
	/* Only now the costly look at each lacker's chunks: most gaps are round trips. */
	for (size_t k = 0; k < np; k++)
		if (pv[k].peer_interested && !pv[k].am_choking &&
		    lacks_unasked(sw, nd, net_side_owner(pv[k].conn)))
			return GAP_UNASKED;
	return GAP_ELSEWHERE;
}

/* ND's uplink is idle from now on, for the cause the sessions show now. */
static void gap_open(struct swarm *sw, struct snode *nd)
{
	nd->gap_from = now_s(sw);
	nd->gap_why = nd->s != NULL ? (uint8_t)gap_why(sw, nd) : GAP_EMPTY;
}

/* Count ND's gap, up to now, into the current line (a peer still in the swarm only). */
static void gap_count(struct swarm *sw, struct snode *nd)
{
	if (nd->s != NULL && !nd->free_rider)
		sw->gap_s[nd->gap_why] += now_s(sw) - nd->gap_from;
}

void trace_uplink(struct swarm *sw, uint32_t i, bool idle)
{
	struct snode *nd = &sw->nodes[i];
	if (sw->trace_state == NULL || i == 0)
		return;
	if (idle) {
		gap_open(sw, nd);
	} else if (nd->gap_from >= 0) {
		gap_count(sw, nd);
		nd->gap_from = -1;
	}
}

struct trace_line {
	double cap, used;         /* the peers' uplink capacity and what they sent, bytes */
	uint32_t idle, started;   /* peers that sent under a tenth of their uplink; with a chunk */
};

static void trace_peer(struct snode *nd, double sent, double span, struct trace_line *l)
{
	struct session_stats st;
	session_stats(nd->s, &st);
	l->started += st.have > 0;
	l->cap += span * (double)nd->up;
	l->used += sent;
	l->idle += sent < 0.1 * span * (double)nd->up;
}

/* Chunks some peer holds. */
static uint32_t trace_present(const struct swarm *sw)
{
	uint32_t nchunks = manifest_chunk_count(sw->m), present = 0;
	for (uint32_t c = 0; c < nchunks; c++)
		for (uint32_t i = 1; i < sw->n; i++) {
			const struct bitfield *h = sw->nodes[i].s ? session_have(sw->nodes[i].s) : NULL;
			if (h != NULL && bitfield_test(h, c)) {
				present++;
				break;
			}
		}
	return present;
}

/* The gaps of the line, as shares of the peers' uplink time. */
static void print_gaps(struct swarm *sw, double peer_s)
{
	fprintf(sw->cfg->trace, "  idle:");
	for (unsigned w = 0; w < SWARM_GAP_WHYS; w++)
		fprintf(sw->cfg->trace, "%s %s %.1f%%", w ? "," : "", gap_names[w],
			peer_s > 0 ? 100 * sw->gap_s[w] / peer_s : 0);
	memset(sw->gap_s, 0, sizeof sw->gap_s);
}

static void ev_trace(void *ctx, void *arg, uint64_t u)
{
	struct swarm *sw = ctx;
	(void)arg;
	(void)u;
	double span = (double)sw->cfg->trace_us / 1e6, seed = 0, peer_s = 0;
	struct trace_line l = { 0 };
	for (uint32_t i = 0; i < sw->n; i++) {
		struct snode *nd = &sw->nodes[i];
		uint64_t up = net_node_uploaded(sw->net, nd->net_id);
		double sent = (double)(up - nd->up_traced);
		nd->up_traced = up;
		if (i == 0) {
			seed = sent / (span * (double)nd->up);
			continue;
		}
		if (nd->gap_from >= 0) {
			gap_count(sw, nd);
			gap_open(sw, nd);
		}
		if (nd->s != NULL && !nd->free_rider) {
			trace_peer(nd, sent, span, &l);
			peer_s += span;
		}
	}
	double spread = (double)sw->verified / ((double)sw->cfg->file_bytes * sw->cfg->peers);
	fprintf(sw->cfg->trace,
		"t %.2f  peers up %.1f%% (idle %u)  seed up %.1f%% (sent %.1f MiB, again %.1f)  "
		"with a chunk %u  chunks out %u  spread %.1f%%  done %u",
		now_s(sw), l.cap > 0 ? 100 * l.used / l.cap : 0, l.idle, 100 * seed,
		(double)net_node_uploaded(sw->net, sw->nodes[0].net_id) / 1048576,
		(double)sw->seed_waste / 1048576, l.started, trace_present(sw), 100 * spread,
		sw->ndone);
	print_gaps(sw, peer_s);
	fputc('\n', sw->cfg->trace);
	at(sw, evq_now(sw->q) + sw->cfg->trace_us, ev_trace, NULL, 0);
}

int trace_start(struct swarm *sw)
{
	const struct swarm_config *c = sw->cfg;
	if (c->trace_us == 0 || c->trace == NULL)
		return 0;
	uint32_t n = manifest_chunk_count(sw->m);
	sw->trace_state = malloc(n ? n : 1);
	sw->trace_holders = malloc((n ? n : 1) * sizeof *sw->trace_holders);
	if (sw->trace_state == NULL || sw->trace_holders == NULL)
		return -1;
	/* Every uplink is idle until its first batch: with no chunk until the node has one. */
	for (uint32_t i = 1; i < sw->n; i++)
		sw->nodes[i].gap_from = 0;
	at(sw, c->trace_us, ev_trace, NULL, 0);
	return 0;
}

void trace_free(struct swarm *sw)
{
	free(sw->trace_state);
	free(sw->trace_holders);
}
