/* node/net/peerseal.c: a private ring's peer-wire connections (peerconn.c, pnet_seal). Each
 * connection first runs the network-key handshake (node/net/secchan.h, over the buffers by
 * node/net/secbuf.h), under the same deadline as routing (peeradmit.c), before its owner hears
 * of it; afterwards every send is one encrypted record (a referenced body is copied into it and
 * released at once) and reads go to the node's scratch buffer as in peerconn.c, records opened
 * there in place. A keyed and an open node never mix: each recognises the other's first bytes,
 * answers with a fixed notice and logs "this ring uses a network key" (the open side is in
 * peerconn.c). A connection's channel and gathered sends are freed with it (pc_conn_free). */
#include "node/net/peerseal.h"

#include <errno.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "node/net/addr.h"
#include "node/net/peeradmit.h"
#include "node/net/secbuf.h"
#include "node/net/secchan.h"
#include "node/log.h"

#define CORK_MAX 1024 /* small sealed sends gathered into one record (peerconn.c, on_read) */
/* A sealed BLOCK frame fills one buffer of the record pool; the idle ones kept cover a high-water
 * mark's backlog. */
#define RECORD_BUF_LEN (WIRE_BLOCK_HEADER_LEN + WIRE_BLOCK_SIZE + SECCHAN_OVERHEAD)
#define RECORD_BUFS_KEPT (HIGH_WATER_MIN / WIRE_BLOCK_SIZE)

/* The channel is up: a dialled connection is now up for its owner; an inbound one waits for
 * its first record to be routed. Return false if C was closed. */
static bool sealed_up(struct pconn *c)
{
	char a[ADDR_STR_MAX];
	addr_format(&c->addr, a);
	log_debug("peer %s: network-key handshake done (%s)", a, secchan_cipher(c->sc));
	if (!c->outgoing)
		return true;
	return c->ops->up(c->owner, c) == 0 && !c->dead;
}

static void sealed_failed(struct pconn *c, enum secchan_status st)
{
	char a[ADDR_STR_MAX];
	addr_format(&c->addr, a);
	if (st == SECCHAN_PLAIN) {
		pc_send_notice(c, SECCHAN_NOTICE_NEED_KEY, "it has no network key (this ring uses a "
			    "network key)");
	} else if (st == SECCHAN_PEER_OPEN) {
		log_warn("peer %s: it has no network key (this ring uses a network key)", a);
		pc_drop(c, "the peer has no network key (this ring uses a network key)");
	} else if (c->outgoing) {
		log_warn("peer %s: failed the network-key handshake: another network key?", a);
		pc_drop(c, "failed the network-key handshake (another network key?)");
	} else {
		log_debug("peer %s: failed the network-key handshake: closed", a);
		pconn_close(c);
	}
}

/* Run the handshake on what has arrived, sending its answers. Return true once the channel is
 * up and C still open. */
static bool handshake(struct pconn *c)
{
	enum secchan_status st = secbuf_handshake(c->sc, bufferevent_get_input(c->bev),
						  bufferevent_get_output(c->bev));
	if (st == SECCHAN_DONE)
		return sealed_up(c);
	if (st != SECCHAN_NEED_MORE)
		sealed_failed(c, st);
	return false;
}

/* A record's plaintext, for the owner. An inbound connection is routed by the frame its first
 * record starts with (a peer sends each frame in one record). A secbuf_take_fn. */
static bool take_plain(void *arg, uint8_t *plain, size_t len)
{
	struct pconn *c = arg;
	struct wire_msg msg;
	size_t used;
	if (c->owner == NULL && !pc_route_frame(c, wire_frame(plain, len, &msg, &used), &msg))
		return false;
	return c->ops->input(c->owner, c, plain, len) == 0 && !c->dead &&
	       !pc_pause_if_backlogged(c);
}

/* End C if opening its records failed (ST): a peer past the handshake broke the stream, which
 * is no noise from outsiders (they never get this far), so say so. */
static void opened(struct pconn *c, enum secbuf_status st)
{
	static const char *const why[] = {
		[SECBUF_MALFORMED] = "sent a malformed record",
		[SECBUF_FORGED] = "sent a record that does not open (forged or replayed)",
		[SECBUF_NO_MEMORY] = "out of memory",
	};
	char a[ADDR_STR_MAX];
	if (st == SECBUF_OK || c->dead)
		return;
	addr_format(&c->addr, a);
	log_warn("peer %s: %s", a, why[st]);
	pc_drop(c, why[st]);
}

/* Open the records that have arrived whole in the input, while the output backlog allows. */
void pc_open_records(struct pconn *c)
{
	if (!c->dead && !pc_pause_if_backlogged(c))
		opened(c, secbuf_open_input(c->sc, bufferevent_get_input(c->bev), take_plain, c));
}

/* As read_direct: one large read, as the rate limits allow, into the node's scratch buffer
 * after the partial record the input held; the records are opened there in place, and what
 * is left (a partial record, or records held back by a backlog) goes back into the input. */
static void read_sealed(struct pconn *c)
{
	struct pnet *n = c->n;
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t keep = evbuffer_get_length(in), used = 0;
	ev_ssize_t allowed = bufferevent_get_max_to_read(c->bev);
	if (keep > SECCHAN_RECORD_MAX + SECCHAN_OVERHEAD || allowed <= 0)
		return;
	if (allowed > (ev_ssize_t)(sizeof n->rbuf - keep))
		allowed = (ev_ssize_t)(sizeof n->rbuf - keep);
	evbuffer_remove(in, n->rbuf, keep);
	ssize_t got;
	do
		got = read(bufferevent_getfd(c->bev), n->rbuf + keep, (size_t)allowed);
	while (got < 0 && errno == EINTR);
	size_t have = keep + (got > 0 ? (size_t)got : 0);
	if (got > 0 && n->group)
		bufferevent_rate_limit_group_decrement_read(n->group, got);
	if (got > 0)
		opened(c, secbuf_open_span(c->sc, n->rbuf, have, &used, take_plain, c));
	/* The input is empty now, and libevent freezes its end outside its own reads: put the
	 * rest back at the front. */
	if (!c->dead && evbuffer_prepend(in, n->rbuf + used, have - used) != 0)
		pc_drop(c, "out of memory");
}

void pc_sealed_read(struct pconn *c)
{
	if (!secchan_up(c->sc) && !handshake(c))
		return;
	pc_open_records(c);
	if (!c->dead && !c->paused)
		read_sealed(c);
	pc_pause_if_backlogged(c);
}

static void seal_now(struct pconn *c, const uint8_t *head, size_t hlen, const uint8_t *body,
		     size_t blen)
{
	/* The stream cannot skip a record: end the connection, from the loop. */
	if (secbuf_seal_pooled(c->sc, c->n->records, bufferevent_get_output(c->bev), head, hlen, body,
			       blen) != 0)
		bufferevent_trigger_event(c->bev, BEV_EVENT_ERROR, BEV_TRIG_DEFER_CALLBACKS);
	pc_want_write(c);
}

static void flush_pend(struct pconn *c)
{
	size_t len = c->npend;
	c->npend = 0;
	if (len > 0 && !c->dead)
		seal_now(c, c->pend, len, NULL, 0);
}

/* Seal every connection's gathered sends, each as one record. */
void pc_uncork(struct pnet *n)
{
	n->corked = false;
	while (n->pend_list) {
		struct pconn *c = n->pend_list;
		n->pend_list = c->pend_next;
		c->pend_next = NULL;
		c->listed = false;
		flush_pend(c);
	}
}

/* A record costs 20 bytes: answers to a read's records (REQUESTs, HAVEs to every peer) are
 * small and many, so while corked they are gathered per connection, in order, and sealed
 * together when the read is done (or before anything larger). */
void pc_sealed_send(struct pconn *c, const uint8_t *head, size_t hlen, const uint8_t *body,
			size_t blen)
{
	size_t len = hlen + blen;
	if (c->n->corked && len <= CORK_MAX && (c->pend || (c->pend = malloc(CORK_MAX)))) {
		if (c->npend + len > CORK_MAX)
			flush_pend(c);
		if (!c->listed) {
			c->listed = true;
			c->pend_next = c->n->pend_list;
			c->n->pend_list = c;
		}
		memcpy(c->pend + c->npend, head, hlen);
		if (blen > 0)
			memcpy(c->pend + c->npend + hlen, body, blen);
		c->npend += len;
		return;
	}
	flush_pend(c);
	seal_now(c, head, hlen, body, blen);
}

/* Give C its channel in a private ring. Return 0, or -1 on no memory. */
int pc_seal_conn(struct pconn *c)
{
	uint8_t seed[SECCHAN_SEED_LEN];
	if (c->n->seal == NULL)
		return 0;
	randombytes_buf(seed, sizeof seed);
	c->sc = secchan_new(c->n->seal, c->outgoing, seed);
	sodium_memzero(seed, sizeof seed);
	return c->sc ? 0 : -1;
}

int pnet_seal(struct pnet *n, const struct netkey *key, const uint8_t pk[SECCHAN_PK_LEN],
	      const uint8_t sk[SECCHAN_SK_LEN])
{
	n->seal = sodium_malloc(sizeof *n->seal);
	n->records = recpool_new(RECORD_BUF_LEN, RECORD_BUFS_KEPT);
	if (n->seal == NULL || n->records == NULL)
		return -1;
	netkey_derive(key, NETKEY_STREAM, n->seal->stream_key, sizeof n->seal->stream_key);
	memcpy(n->seal->pk, pk, SECCHAN_PK_LEN);
	memcpy(n->seal->sk, sk, SECCHAN_SK_LEN);
	n->seal->aes = crypto_aead_aes256gcm_is_available() != 0;
	n->seal->control = false;
	return 0;
}
