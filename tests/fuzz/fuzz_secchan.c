/* Fuzz target for the network-key channel (node/net/secchan.c), which a node runs on bytes
 * from anyone who connects: the first byte picks the role (bit 0: we dialled), a chunk size
 * (bits 1-6) and whether this end offers AES-256-GCM (bit 7, OpenSSL's records), the bytes
 * after it are the peer's handshake, then its records, fed in chunks.
 * Keys and seeds are fixed, so the seed corpus holds real transcripts that reach the records.
 * Checked: nothing is written beyond SECCHAN_OUT_MAX; a responder writes nothing before it
 * accepts a hello; a peer's key exists only once the channel is up; a record that opens lies
 * within the input. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/net/secchan.h"

static struct secchan *make(bool initiator, bool aes)
{
	static struct secchan_config cfg;
	uint8_t seed[crypto_sign_SEEDBYTES], eph[SECCHAN_SEED_LEN];
	if (sodium_init() < 0)
		abort();
	memset(cfg.stream_key, 7, sizeof cfg.stream_key);
	cfg.aes = aes;
	memset(seed, initiator ? 1 : 2, sizeof seed);
	crypto_sign_seed_keypair(cfg.pk, cfg.sk, seed);
	memset(eph, initiator ? 11 : 12, sizeof eph);
	return secchan_new(&cfg, initiator, eph);
}

/* Feed the records in DATA (copied: they are opened in place). */
static void records(struct secchan *s, const uint8_t *data, size_t size)
{
	while (size >= SECCHAN_HEADER_LEN) {
		size_t len = secchan_record_len(data), plen;
		uint8_t *rec, *plain;
		if (len == 0 || len > size)
			return;
		if ((rec = malloc(len)) == NULL)
			abort();
		memcpy(rec, data, len);
		int rc = secchan_open(s, rec, len, &plain, &plen);
		if (rc == 0 && (plain < rec || plain + plen > rec + len))
			abort();
		free(rec);
		if (rc != 0)
			return;
		data += len;
		size -= len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	bool initiator = data[0] & 1;
	size_t chunk = ((data[0] >> 1) & 0x3f) + 1, have = 0;
	struct secchan *s = make(initiator, data[0] & 0x80);
	uint8_t hello[SECCHAN_HELLO_LEN], out[SECCHAN_OUT_MAX + 1];
	enum secchan_status st = SECCHAN_NEED_MORE;
	if (s == NULL)
		abort();
	if (initiator)
		secchan_hello(s, hello);
	data++;
	size--;
	while (st == SECCHAN_NEED_MORE || st == SECCHAN_OK) {
		size_t used, outlen;
		have = have + chunk < size ? have + chunk : size;
		out[SECCHAN_OUT_MAX] = 0xa5;
		st = secchan_handshake(s, data, have, &used, out, &outlen);
		if (outlen > SECCHAN_OUT_MAX || out[SECCHAN_OUT_MAX] != 0xa5 || used > have)
			abort();
		if (!initiator && outlen > 0 && st != SECCHAN_OK)
			abort();
		if ((secchan_peer_pk(s) != NULL) != (st == SECCHAN_DONE))
			abort();
		data += used;
		size -= used;
		have -= used;
		if (st == SECCHAN_NEED_MORE && have == size)
			break;
	}
	if (st == SECCHAN_DONE)
		records(s, data, size);
	secchan_free(s);
	return 0;
}
