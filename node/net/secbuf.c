/* The network-key channel between secchan's pure state machine and libevent's buffers. Records
 * are sealed straight into space reserved at the output's end, or into a pool's buffer that the
 * output references (bulk records: no allocation each), and opened in place: in the input after
 * a pullup, or in the caller's read buffer. Not done here: reading sockets, deciding what a
 * failure means for a connection. */
#include "node/net/secbuf.h"

enum secchan_status secbuf_handshake(struct secchan *s, struct evbuffer *in,
				     struct evbuffer *out)
{
	uint8_t reply[SECCHAN_OUT_MAX];
	enum secchan_status st;
	do {
		size_t have = evbuffer_get_length(in), used, outlen;
		size_t look = have < SECCHAN_OUT_MAX ? have : SECCHAN_OUT_MAX;
		const uint8_t *p = look ? evbuffer_pullup(in, (ev_ssize_t)look) : NULL;
		st = secchan_handshake(s, p, p ? look : 0, &used, reply, &outlen);
		evbuffer_drain(in, used);
		if (outlen > 0 && evbuffer_add(out, reply, outlen) != 0)
			return SECCHAN_REJECT;
	} while (st == SECCHAN_OK);
	return st;
}

int secbuf_seal(struct secchan *s, struct evbuffer *out, const uint8_t *head, size_t hlen,
		const uint8_t *body, size_t blen)
{
	while (hlen + blen > 0) {
		size_t h = hlen < SECCHAN_RECORD_MAX ? hlen : SECCHAN_RECORD_MAX;
		size_t b = blen < SECCHAN_RECORD_MAX - h ? blen : SECCHAN_RECORD_MAX - h;
		struct evbuffer_iovec v;
		if (evbuffer_reserve_space(out, (ev_ssize_t)(h + b + SECCHAN_OVERHEAD), &v, 1) != 1)
			return -1;
		if (secchan_seal(s, head, h, body, b, v.iov_base) != 0)
			return -1;
		v.iov_len = h + b + SECCHAN_OVERHEAD;
		if (evbuffer_commit_space(out, &v, 1) != 0)
			return -1;
		head += h;
		hlen -= h;
		body += b;
		blen -= b;
	}
	return 0;
}

int secbuf_seal_pooled(struct secchan *s, struct recpool *pool, struct evbuffer *out,
		       const uint8_t *head, size_t hlen, const uint8_t *body, size_t blen)
{
	size_t len = hlen + blen + SECCHAN_OVERHEAD, room = recpool_buf_len(pool);
	if (len > room || 2 * len < room || hlen + blen > SECCHAN_RECORD_MAX)
		return secbuf_seal(s, out, head, hlen, body, blen);
	uint8_t *buf = recpool_take(pool);
	if (buf == NULL)
		return -1;
	if (secchan_seal(s, head, hlen, body, blen, buf) != 0) {
		recpool_give(pool, buf);
		return -1;
	}
	return recpool_add(pool, out, buf, len);
}

/* Open the record REC of LEN bytes and hand it on; set *GO to what the taker said. */
static enum secbuf_status open_one(struct secchan *s, uint8_t *rec, size_t len,
				   secbuf_take_fn *take, void *arg, bool *go)
{
	uint8_t *plain;
	size_t plen;
	if (secchan_open(s, rec, len, &plain, &plen) != 0)
		return SECBUF_FORGED;
	*go = take(arg, plain, plen);
	return SECBUF_OK;
}

enum secbuf_status secbuf_open_input(struct secchan *s, struct evbuffer *in, secbuf_take_fn *take,
				     void *arg)
{
	uint8_t hdr[SECCHAN_HEADER_LEN], *rec;
	bool go = true;
	while (go && evbuffer_copyout(in, hdr, sizeof hdr) == (ev_ssize_t)sizeof hdr) {
		size_t len = secchan_record_len(hdr);
		if (len == 0)
			return SECBUF_MALFORMED;
		if (evbuffer_get_length(in) < len)
			break;
		if ((rec = evbuffer_pullup(in, (ev_ssize_t)len)) == NULL)
			return SECBUF_NO_MEMORY;
		enum secbuf_status st = open_one(s, rec, len, take, arg, &go);
		if (st != SECBUF_OK)
			return st;
		evbuffer_drain(in, len);
	}
	return SECBUF_OK;
}

enum secbuf_status secbuf_open_span(struct secchan *s, uint8_t *buf, size_t len, size_t *used,
				    secbuf_take_fn *take, void *arg)
{
	bool go = true;
	*used = 0;
	while (go && len - *used >= SECCHAN_HEADER_LEN) {
		size_t rl = secchan_record_len(buf + *used);
		if (rl == 0)
			return SECBUF_MALFORMED;
		if (len - *used < rl)
			break;
		enum secbuf_status st = open_one(s, buf + *used, rl, take, arg, &go);
		if (st != SECBUF_OK)
			return st;
		*used += rl;
	}
	return SECBUF_OK;
}
