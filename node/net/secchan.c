/* The handshake and record layer of a private ring's TCP connections. The handshake is Noise
 * XX's shape with a pre-shared key mixed into every step, built only from libsodium:
 *
 *   I -> R  HELLO  magic | version | 1 | flags | eI | MAC_K(HELLO so far)
 *   R -> I  REPLY  magic | version | 2 | flags | eR | MAC_K(HELLO | REPLY so far)
 *   R -> I  record { pkR | sign_R("dhtnode-tcp R" | h) }
 *   I -> R  record { pkI | sign_I("dhtnode-tcp I" | h) }     then records of peer wire
 *
 * K is the network key's stream subkey, MAC_K keyed BLAKE2b (16 bytes), e the connection's
 * ephemeral X25519 keys (crypto_kx), h = BLAKE2b_K(HELLO | REPLY) the transcript. The key of
 * each direction is BLAKE2b_K(label | h | crypto_kx's key for that direction): it needs the
 * network key, an ephemeral secret and this very transcript. The responder answers nothing
 * until the HELLO's MAC proves the network key, so an outsider learns nothing but a closed
 * connection; a replayed HELLO gets a REPLY whose keys the replayer cannot compute. Each end
 * proves its node key by signing h, only once the channel is encrypted, so node keys are not
 * shown to eavesdroppers, and a signature cannot be moved to another connection.
 *
 * Records: u32 length | AEAD(plaintext) with the length as associated data and a per-direction
 * counter as nonce, so a record replayed, dropped or reordered fails to open. AES-256-GCM if
 * both ends say they run it in hardware (flags bit 0), through OpenSSL (aesgcm.h: libsodium
 * 1.0.18's runs at half the speed), else ChaCha20-Poly1305 (IETF) through libsodium. Flags bit 1
 * marks a remote control channel (dhtctl --network-key): a responder takes only HELLOs of its own
 * purpose, and the MAC and h bind the bit, so a control channel cannot pass for peer wire or the
 * reverse. Not done here: reading or writing sockets, deadlines. */
#include "node/net/secchan.h"

#include "node/net/aesgcm.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define VERSION 1
#define KIND_HELLO 1
#define KIND_REPLY 2
#define FLAG_AES 0x01
#define FLAG_CONTROL 0x02 /* remote control, not peer wire: neither end takes the other */
#define MAC_LEN 16
#define MAC_AT (SECCHAN_HELLO_LEN - MAC_LEN)
#define EPH_AT 7
#define SIG_LEN crypto_sign_BYTES
#define NONCE_LEN 12
#define AUTH_RECORD_LEN (SECCHAN_AUTH_LEN + SECCHAN_OVERHEAD)

static const uint8_t magic[SECCHAN_MAGIC_LEN] = { 'd', 'h', 't', 'K' };

enum state { WAIT_HELLO, WAIT_REPLY, WAIT_AUTH, UP, FAILED };

struct dir {
	uint8_t key[32];
	uint64_t counter;
	struct aesgcm *aes; /* NULL under ChaCha20-Poly1305 */
};

struct secchan {
	struct dir tx, rx;
	const struct secchan_config *cfg;
	enum state state;
	bool initiator, aes;
	uint8_t epk[crypto_kx_PUBLICKEYBYTES], esk[crypto_kx_SECRETKEYBYTES];
	uint8_t hello[SECCHAN_HELLO_LEN], reply[SECCHAN_HELLO_LEN];
	uint8_t h[32];
	uint8_t peer_pk[SECCHAN_PK_LEN];
};

struct secchan *secchan_new(const struct secchan_config *cfg, bool initiator,
			    const uint8_t seed[SECCHAN_SEED_LEN])
{
	struct secchan *s = calloc(1, sizeof *s);
	if (s == NULL)
		return NULL;
	s->cfg = cfg;
	s->initiator = initiator;
	s->state = initiator ? WAIT_REPLY : WAIT_HELLO;
	crypto_kx_seed_keypair(s->epk, s->esk, seed);
	return s;
}

void secchan_free(struct secchan *s)
{
	if (s == NULL)
		return;
	aesgcm_free(s->tx.aes);
	aesgcm_free(s->rx.aes);
	sodium_memzero(s, sizeof *s);
	free(s);
}

static void mac(const struct secchan *s, const uint8_t *a, size_t alen, const uint8_t *b,
		size_t blen, uint8_t out[MAC_LEN])
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, s->cfg->stream_key, SECCHAN_KEY_LEN, MAC_LEN);
	crypto_generichash_update(&st, a, alen);
	crypto_generichash_update(&st, b, blen);
	crypto_generichash_final(&st, out, MAC_LEN);
}

/* HELLO or REPLY (KIND) into OUT; the REPLY's MAC also covers the HELLO. */
static void make_msg(struct secchan *s, uint8_t kind, uint8_t out[SECCHAN_HELLO_LEN])
{
	memcpy(out, magic, SECCHAN_MAGIC_LEN);
	out[4] = VERSION;
	out[5] = kind;
	out[6] = (uint8_t)((s->cfg->aes ? FLAG_AES : 0) | (s->cfg->control ? FLAG_CONTROL : 0));
	memcpy(out + EPH_AT, s->epk, sizeof s->epk);
	if (kind == KIND_HELLO)
		mac(s, out, MAC_AT, NULL, 0, out + MAC_AT);
	else
		mac(s, s->hello, sizeof s->hello, out, MAC_AT, out + MAC_AT);
}

void secchan_hello(struct secchan *s, uint8_t out[SECCHAN_HELLO_LEN])
{
	make_msg(s, KIND_HELLO, s->hello);
	memcpy(out, s->hello, SECCHAN_HELLO_LEN);
}

static void derive(const struct secchan *s, const char *label, const uint8_t kx[32],
		   uint8_t out[32])
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, s->cfg->stream_key, SECCHAN_KEY_LEN, 32);
	crypto_generichash_update(&st, (const uint8_t *)label, strlen(label));
	crypto_generichash_update(&st, s->h, sizeof s->h);
	crypto_generichash_update(&st, kx, 32);
	crypto_generichash_final(&st, out, 32);
}

/* The transcript hash and both directions' keys, once HELLO and REPLY are known. */
static int derive_keys(struct secchan *s, const uint8_t peer_epk[32], bool aes)
{
	uint8_t rx[crypto_kx_SESSIONKEYBYTES], tx[crypto_kx_SESSIONKEYBYTES];
	int rc = s->initiator ? crypto_kx_client_session_keys(rx, tx, s->epk, s->esk, peer_epk)
			      : crypto_kx_server_session_keys(rx, tx, s->epk, s->esk, peer_epk);
	if (rc != 0)
		return -1; /* a low-order point: a forged key */
	crypto_generichash_state st;
	crypto_generichash_init(&st, s->cfg->stream_key, SECCHAN_KEY_LEN, sizeof s->h);
	crypto_generichash_update(&st, s->hello, sizeof s->hello);
	crypto_generichash_update(&st, s->reply, sizeof s->reply);
	crypto_generichash_final(&st, s->h, sizeof s->h);
	derive(s, s->initiator ? "dhtnode-tcp I>R" : "dhtnode-tcp R>I", tx, s->tx.key);
	derive(s, s->initiator ? "dhtnode-tcp R>I" : "dhtnode-tcp I>R", rx, s->rx.key);
	sodium_memzero(rx, sizeof rx);
	sodium_memzero(tx, sizeof tx);
	sodium_memzero(s->esk, sizeof s->esk);
	s->aes = aes;
	if (!aes)
		return 0;
	s->tx.aes = aesgcm_new(s->tx.key, 1);
	s->rx.aes = aesgcm_new(s->rx.key, 0);
	return s->tx.aes != NULL && s->rx.aes != NULL ? 0 : -1; /* no memory: the connection ends */
}

static void nonce_of(uint64_t counter, uint8_t n[NONCE_LEN])
{
	memset(n, 0, NONCE_LEN);
	for (int i = 0; i < 8; i++)
		n[i] = (uint8_t)(counter >> (8 * i));
}

int secchan_seal(struct secchan *s, const uint8_t *head, size_t hlen, const uint8_t *body,
		 size_t blen, uint8_t *out)
{
	size_t len = hlen + blen;
	uint8_t nonce[NONCE_LEN];
	uint8_t *m = out + SECCHAN_HEADER_LEN;
	out[0] = (uint8_t)(len >> 24);
	out[1] = (uint8_t)(len >> 16);
	out[2] = (uint8_t)(len >> 8);
	out[3] = (uint8_t)len;
	nonce_of(s->tx.counter++, nonce);
	if (s->aes) {
		/* The body is read where it lies (a file map, for blocks): no copy before sealing. */
		const struct aesgcm_msg msg = { .head = head, .hlen = hlen, .body = body, .blen = blen };
		return aesgcm_seal(s->tx.aes, &msg, m, out, SECCHAN_HEADER_LEN, nonce, m + len);
	}
	memcpy(m, head, hlen);
	if (blen > 0)
		memcpy(m + hlen, body, blen);
	crypto_aead_chacha20poly1305_ietf_encrypt_detached(m, m + len, NULL, m, len, out,
							   SECCHAN_HEADER_LEN, NULL, nonce, s->tx.key);
	return 0;
}

size_t secchan_record_len(const uint8_t hdr[SECCHAN_HEADER_LEN])
{
	uint32_t len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 |
		       hdr[3];
	return len >= 1 && len <= SECCHAN_RECORD_MAX ? len + SECCHAN_OVERHEAD : 0;
}

int secchan_open(struct secchan *s, uint8_t *rec, size_t len, uint8_t **plain, size_t *plen)
{
	uint8_t nonce[NONCE_LEN];
	if (len < SECCHAN_HEADER_LEN || secchan_record_len(rec) != len)
		return -1;
	size_t mlen = len - SECCHAN_OVERHEAD;
	uint8_t *c = rec + SECCHAN_HEADER_LEN;
	nonce_of(s->rx.counter, nonce);
	int rc = s->aes ? aesgcm_open(s->rx.aes, c, mlen, rec, SECCHAN_HEADER_LEN, nonce, c + mlen)
			: crypto_aead_chacha20poly1305_ietf_decrypt_detached(
				  c, NULL, c, mlen, c + mlen, rec, SECCHAN_HEADER_LEN, nonce,
				  s->rx.key);
	if (rc != 0)
		return -1;
	s->rx.counter++;
	*plain = c;
	*plen = mlen;
	return 0;
}

/* Our identity record, AUTH_RECORD_LEN bytes: our key and our signature over the transcript.
 * Return 0, or -1 if the cipher failed. */
static int auth_record(struct secchan *s, uint8_t *out)
{
	uint8_t m[SECCHAN_AUTH_LEN], signed_msg[13 + sizeof s->h];
	memcpy(signed_msg, s->initiator ? "dhtnode-tcp I" : "dhtnode-tcp R", 13);
	memcpy(signed_msg + 13, s->h, sizeof s->h);
	memcpy(m, s->cfg->pk, SECCHAN_PK_LEN);
	crypto_sign_detached(m + SECCHAN_PK_LEN, NULL, signed_msg, sizeof signed_msg, s->cfg->sk);
	return secchan_seal(s, m, sizeof m, NULL, 0, out);
}

/* The peer's identity record: open it and check its signature. */
static enum secchan_status take_auth(struct secchan *s, const uint8_t *in, size_t len,
				     size_t *used)
{
	uint8_t rec[AUTH_RECORD_LEN], *m, signed_msg[13 + sizeof s->h];
	size_t mlen;
	if (len < SECCHAN_HEADER_LEN)
		return SECCHAN_NEED_MORE;
	if (secchan_record_len(in) != sizeof rec)
		return SECCHAN_REJECT;
	if (len < sizeof rec)
		return SECCHAN_NEED_MORE;
	memcpy(rec, in, sizeof rec);
	if (secchan_open(s, rec, sizeof rec, &m, &mlen) != 0)
		return SECCHAN_REJECT;
	memcpy(signed_msg, s->initiator ? "dhtnode-tcp R" : "dhtnode-tcp I", 13);
	memcpy(signed_msg + 13, s->h, sizeof s->h);
	if (crypto_sign_verify_detached(m + SECCHAN_PK_LEN, signed_msg, sizeof signed_msg, m) != 0)
		return SECCHAN_REJECT;
	memcpy(s->peer_pk, m, SECCHAN_PK_LEN);
	*used = sizeof rec;
	return SECCHAN_OK;
}

/* A HELLO or REPLY (KIND) of the peer, MAC checked: keep it in DST. */
static enum secchan_status take_msg(struct secchan *s, uint8_t kind, const uint8_t *in,
				    size_t len, uint8_t dst[SECCHAN_HELLO_LEN])
{
	uint8_t want[MAC_LEN];
	size_t head = len < SECCHAN_MAGIC_LEN ? len : SECCHAN_MAGIC_LEN;
	if (memcmp(in, magic, head) != 0)
		return s->initiator ? SECCHAN_REJECT : SECCHAN_PLAIN;
	if (len < SECCHAN_NOTICE_LEN)
		return SECCHAN_NEED_MORE;
	if (in[4] != VERSION)
		return SECCHAN_REJECT;
	if (s->initiator && in[5] == SECCHAN_NOTICE_NO_KEY)
		return SECCHAN_PEER_OPEN;
	if (in[5] != kind)
		return SECCHAN_REJECT;
	if (len < SECCHAN_HELLO_LEN)
		return SECCHAN_NEED_MORE;
	if (((in[6] & FLAG_CONTROL) != 0) != s->cfg->control)
		return SECCHAN_REJECT;
	if (kind == KIND_HELLO)
		mac(s, in, MAC_AT, NULL, 0, want);
	else
		mac(s, s->hello, sizeof s->hello, in, MAC_AT, want);
	if (crypto_verify_16(want, in + MAC_AT) != 0)
		return SECCHAN_REJECT;
	memcpy(dst, in, SECCHAN_HELLO_LEN);
	return SECCHAN_OK;
}

static enum secchan_status step(struct secchan *s, const uint8_t *in, size_t len, size_t *used,
				uint8_t *out, size_t *outlen)
{
	enum secchan_status st;
	switch (s->state) {
	case WAIT_HELLO:
		if ((st = take_msg(s, KIND_HELLO, in, len, s->hello)) != SECCHAN_OK)
			return st;
		make_msg(s, KIND_REPLY, s->reply);
		if (derive_keys(s, s->hello + EPH_AT, s->cfg->aes && (s->hello[6] & FLAG_AES)) != 0 ||
		    auth_record(s, out + sizeof s->reply) != 0)
			return SECCHAN_REJECT;
		memcpy(out, s->reply, sizeof s->reply);
		*outlen = sizeof s->reply + AUTH_RECORD_LEN;
		*used = SECCHAN_HELLO_LEN;
		s->state = WAIT_AUTH;
		return SECCHAN_OK;
	case WAIT_REPLY:
		if ((st = take_msg(s, KIND_REPLY, in, len, s->reply)) != SECCHAN_OK)
			return st;
		if (derive_keys(s, s->reply + EPH_AT, s->cfg->aes && (s->reply[6] & FLAG_AES)) != 0)
			return SECCHAN_REJECT;
		*used = SECCHAN_HELLO_LEN;
		s->state = WAIT_AUTH;
		return SECCHAN_OK;
	case WAIT_AUTH:
		if ((st = take_auth(s, in, len, used)) != SECCHAN_OK)
			return st;
		if (s->initiator) {
			if (auth_record(s, out) != 0)
				return SECCHAN_REJECT;
			*outlen = AUTH_RECORD_LEN;
		}
		s->state = UP;
		return SECCHAN_DONE;
	default:
		return SECCHAN_REJECT;
	}
}

enum secchan_status secchan_handshake(struct secchan *s, const uint8_t *in, size_t len,
				      size_t *used, uint8_t out[SECCHAN_OUT_MAX], size_t *outlen)
{
	*used = 0;
	*outlen = 0;
	if (s->state == UP)
		return SECCHAN_DONE;
	if (len == 0 && s->state != FAILED)
		return SECCHAN_NEED_MORE;
	enum secchan_status st = step(s, in, len, used, out, outlen);
	if (st != SECCHAN_OK && st != SECCHAN_DONE && st != SECCHAN_NEED_MORE)
		s->state = FAILED;
	if (st == SECCHAN_NEED_MORE)
		*outlen = 0;
	return st;
}

bool secchan_up(const struct secchan *s)
{
	return s->state == UP;
}

const uint8_t *secchan_peer_pk(const struct secchan *s)
{
	return s->state == UP ? s->peer_pk : NULL;
}

const char *secchan_cipher(const struct secchan *s)
{
	return s->aes ? "aes256gcm" : "chacha20poly1305";
}

bool secchan_is_handshake(const uint8_t *in, size_t len)
{
	return len >= SECCHAN_MAGIC_LEN && memcmp(in, magic, SECCHAN_MAGIC_LEN) == 0;
}

int secchan_control_hello(const uint8_t *in, size_t len)
{
	size_t head = len < SECCHAN_MAGIC_LEN ? len : SECCHAN_MAGIC_LEN;
	if (memcmp(in, magic, head) != 0)
		return 0;
	if (len < 7)
		return -1;
	return in[4] == VERSION && in[5] == KIND_HELLO && (in[6] & FLAG_CONTROL) ? 1 : 0;
}

void secchan_notice(enum secchan_notice kind, uint8_t out[SECCHAN_NOTICE_LEN])
{
	memcpy(out, magic, SECCHAN_MAGIC_LEN);
	out[4] = VERSION;
	out[5] = (uint8_t)kind;
}
