/* Fuzz target for a private ring's keyed control transport (node/control/ctlsec.c and the
 * listener's routing bytes, secchan_control_hello), which a node with --network-key runs on
 * bytes from anyone who connects to its port: the first byte is a chunk size, the rest the
 * client's handshake then its records, fed in chunks between libevent buffers. Keys and seeds
 * are fixed, so the seed corpus holds a real transcript whose records open. Checked: routed to
 * control only what starts with the handshake's magic; no answer to a HELLO that is not a
 * control one; no plaintext before the channel is up, and never more than came in. */
#include <event2/buffer.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/control/ctlsec.h"

static struct ctlsec *make(void)
{
	static struct secchan_config cfg;
	uint8_t seed[crypto_sign_SEEDBYTES], eph[SECCHAN_SEED_LEN];
	if (sodium_init() < 0)
		abort();
	memset(cfg.stream_key, 7, sizeof cfg.stream_key);
	memset(seed, 2, sizeof seed);
	crypto_sign_seed_keypair(cfg.pk, cfg.sk, seed);
	cfg.control = true;
	memset(eph, 12, sizeof eph);
	return ctlsec_new(&cfg, eph);
}

/* Feed DATA to C in chunks of CHUNK bytes; return whether the channel came up. */
static bool run(struct ctlsec *c, const uint8_t *data, size_t size, size_t chunk,
		struct evbuffer *in, struct evbuffer *out, int route)
{
	bool up = false;
	for (size_t at = 0; at < size; at += chunk) {
		size_t n = size - at < chunk ? size - at : chunk;
		if (evbuffer_add(in, data + at, n) != 0)
			abort();
		if (!up) {
			enum secchan_status st = ctlsec_handshake(c, in, out);
			if (route != 1 && evbuffer_get_length(out) > 0)
				abort();
			if (st != SECCHAN_DONE && st != SECCHAN_NEED_MORE)
				return false;
			up = st == SECCHAN_DONE;
			if (!up && evbuffer_get_length(ctlsec_plain(c)) > 0)
				abort();
		}
		if (up && ctlsec_open(c, in) != 0)
			return true;
	}
	return up;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t chunk = (size_t)data[0] + 1;
	data++;
	size--;
	int route = secchan_control_hello(data, size < 7 ? size : 7);
	if ((route == 1 && data[0] != 'd') || (route < 0 && size >= 7))
		abort();
	struct ctlsec *c = make();
	struct evbuffer *in = evbuffer_new(), *out = evbuffer_new();
	if (c == NULL || in == NULL || out == NULL)
		abort();
	run(c, data, size, chunk, in, out, route);
	if (evbuffer_get_length(ctlsec_plain(c)) > size)
		abort();
	evbuffer_free(in);
	evbuffer_free(out);
	ctlsec_free(c);
	return 0;
}
