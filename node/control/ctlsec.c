/* The keyed control transport: secbuf's handshake and records around one control connection's
 * line stream. Records are opened as they come into a plaintext buffer that the control
 * server's line reader takes lines from, so it reads plain and keyed connections alike; its size
 * is bounded by the server's read watermark, since reading stops once a request is taken. */
#include "node/control/ctlsec.h"

#include <stdlib.h>
#include <string.h>

#include "node/net/secbuf.h"

struct ctlsec {
	struct secchan *sc;
	struct evbuffer *plain;
	bool no_memory;
};

struct ctlsec *ctlsec_new(const struct secchan_config *cfg, const uint8_t seed[SECCHAN_SEED_LEN])
{
	struct ctlsec *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	c->sc = secchan_new(cfg, false, seed);
	c->plain = evbuffer_new();
	if (c->sc == NULL || c->plain == NULL) {
		ctlsec_free(c);
		return NULL;
	}
	return c;
}

void ctlsec_free(struct ctlsec *c)
{
	if (c == NULL)
		return;
	secchan_free(c->sc);
	if (c->plain)
		evbuffer_free(c->plain);
	free(c);
}

enum secchan_status ctlsec_handshake(struct ctlsec *c, struct evbuffer *in, struct evbuffer *out)
{
	return secbuf_handshake(c->sc, in, out);
}

static bool take(void *arg, uint8_t *plain, size_t len)
{
	struct ctlsec *c = arg;
	c->no_memory = evbuffer_add(c->plain, plain, len) != 0;
	return !c->no_memory;
}

int ctlsec_open(struct ctlsec *c, struct evbuffer *in)
{
	return secbuf_open_input(c->sc, in, take, c) == SECBUF_OK && !c->no_memory ? 0 : -1;
}

struct evbuffer *ctlsec_plain(struct ctlsec *c)
{
	return c->plain;
}

int ctlsec_send_line(struct ctlsec *c, struct evbuffer *out, const char *line)
{
	return secbuf_seal(c->sc, out, (const uint8_t *)line, strlen(line), (const uint8_t *)"\n", 1);
}
