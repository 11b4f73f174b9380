/* The peer-wire session core, bottom layer: what every other part needs to talk to one peer
 * (encode a frame and send it, stamping when we last spoke), to log, and to free a peer's slot.
 * It decides nothing and calls no other part of the session: the parts above it all import it,
 * and it imports none of them. */
#include "transfer/session_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sess_log(struct session *s, const char *fmt, ...)
{
	if (s->env.log == NULL)
		return;
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	s->env.log(s->env.arg, msg);
}

void sess_send(struct session *s, struct peer *p, const uint8_t *buf, size_t len)
{
	s->env.send(s->env.arg, p->conn, buf, len, NULL, 0);
	p->last_sent = s->now;
}

void sess_send_bare(struct session *s, struct peer *p, enum wire_type type)
{
	uint8_t buf[8];
	struct bwriter w;
	bw_init(&w, buf, sizeof buf);
	if (type == WIRE_KEEPALIVE)
		wire_put_keepalive(&w);
	else
		wire_put_bare(&w, type);
	sess_send(s, p, buf, w.len);
}

void sess_send_span(struct session *s, struct peer *p, enum wire_type type, uint32_t chunk,
		    uint32_t offset, uint32_t length)
{
	uint8_t buf[32];
	struct bwriter w;
	bw_init(&w, buf, sizeof buf);
	wire_put_span(&w, type, chunk, offset, length);
	sess_send(s, p, buf, w.len);
}

void sess_send_have(struct session *s, struct peer *p, uint32_t chunk)
{
	uint8_t buf[16];
	struct bwriter w;
	bw_init(&w, buf, sizeof buf);
	wire_put_have(&w, chunk);
	sess_send(s, p, buf, w.len);
}

void sess_peer_free(struct peer *p)
{
	free(p->early_bits);
	free(p->early_haves);
	free(p->early_lost);
	free(p->in);
	free(p->rq);
	free(p->out);
	bitfield_free(p->shown);
	memset(p, 0, sizeof *p);
}
