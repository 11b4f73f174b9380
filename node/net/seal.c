/* Sealed datagrams: libsodium's XChaCha20-Poly1305 (IETF) over the format in seal.h, and the
 * replay state. A datagram is checked in this order: shape and magic (not_sealed), tag
 * (other_key), the MAC (forged), the send time (stale), the window (replay); state changes
 * only for a datagram that passed all of them, so nothing an outsider sends can create,
 * touch or evict a sender (only holders of the key can). The sender table is bounded
 * (SEAL_SENDERS, least recently heard forgotten first); forgetting a boot that is still
 * sending would let its remembered datagrams in again, so the newest send time of every
 * boot forgotten becomes a floor below which an unknown boot is refused as stale. With the
 * skew bound, a boot silent for SEAL_MAX_SKEW_S leaves a floor that refuses nothing fresh.
 * The window is WireGuard's (RFC 6479's bitmap in 64-bit words, one word of slack). */
#include "node/net/seal.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "dht/bytes.h"

#define WORDS (SEAL_WINDOW_BITS / 64)
#define BUCKETS (2 * SEAL_SENDERS)

_Static_assert(SEAL_KEY_LEN == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "key size");
_Static_assert(SEAL_OVERHEAD - SEAL_HEADER_LEN == crypto_aead_xchacha20poly1305_ietf_ABYTES,
	       "MAC size");
_Static_assert(2 * SEAL_BOOT_LEN + 8 == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
	       "the nonce is boot id, counter and send time");
_Static_assert((BUCKETS & (BUCKETS - 1)) == 0, "buckets: a power of two");

/* One sender boot. Indices are 1-based so that a zeroed table is empty (0: none). */
struct sender {
	uint8_t boot[SEAL_BOOT_LEN];
	uint64_t top;      /* highest counter accepted */
	uint64_t newest_s; /* latest send time accepted */
	uint64_t bits[WORDS];
	uint32_t chain;        /* next in its bucket */
	uint32_t older, newer; /* the recency list */
};

struct seal {
	uint8_t key[SEAL_KEY_LEN], tag[SEAL_TAG_LEN], boot[SEAL_BOOT_LEN];
	uint64_t counter;
	uint64_t floor_s; /* an unknown boot's datagram sent at or before this is refused */
	uint32_t used, oldest, newest;
	uint32_t buckets[BUCKETS];
	struct sender *senders; /* SEAL_SENDERS, touched only as boots arrive */
};

/* The header, as read. */
struct head {
	uint8_t tag[SEAL_TAG_LEN], boot[SEAL_BOOT_LEN];
	uint64_t counter, sent_s;
};

struct seal *seal_new(const uint8_t key[SEAL_KEY_LEN], const uint8_t tag[SEAL_TAG_LEN],
		      const uint8_t boot[SEAL_BOOT_LEN])
{
	struct seal *s = calloc(1, sizeof *s);
	if (s == NULL)
		return NULL;
	s->senders = calloc(SEAL_SENDERS, sizeof *s->senders);
	if (s->senders == NULL) {
		free(s);
		return NULL;
	}
	memcpy(s->key, key, SEAL_KEY_LEN);
	memcpy(s->tag, tag, SEAL_TAG_LEN);
	memcpy(s->boot, boot, SEAL_BOOT_LEN);
	return s;
}

void seal_free(struct seal *s)
{
	if (s == NULL)
		return;
	sodium_memzero(s->key, sizeof s->key);
	free(s->senders);
	free(s);
}

static void put_header(const struct seal *s, uint64_t counter, uint64_t now_s, uint8_t *out)
{
	out[0] = SEAL_MAGIC;
	out[1] = SEAL_VERSION;
	memcpy(out + 2, s->tag, SEAL_TAG_LEN);
	memcpy(out + 6, s->boot, SEAL_BOOT_LEN);
	be64_put(out + 14, counter);
	be64_put(out + 22, now_s);
}

/* The associated data: the header, then the receiver's name. */
static size_t make_ad(const uint8_t *header, const struct seal_to *to, uint8_t *ad)
{
	size_t n = to->len < SEAL_TO_MAX ? to->len : SEAL_TO_MAX;
	memcpy(ad, header, SEAL_HEADER_LEN);
	memcpy(ad + SEAL_HEADER_LEN, to->b, n);
	return SEAL_HEADER_LEN + n;
}

size_t seal_wrap(struct seal *s, uint64_t now_s, const struct seal_to *to, const uint8_t *msg,
		 size_t len, uint8_t *out, size_t cap)
{
	uint8_t ad[SEAL_HEADER_LEN + SEAL_TO_MAX];
	unsigned long long clen;
	if (cap < SEAL_OVERHEAD || len > cap - SEAL_OVERHEAD)
		return 0;
	s->counter++;
	put_header(s, s->counter, now_s, out);
	size_t adlen = make_ad(out, to, ad);
	/* The nonce is header bytes 6..29: boot id, counter, send time. */
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + SEAL_HEADER_LEN, &clen, msg, len, ad,
						   adlen, NULL, out + 6, s->key);
	return SEAL_HEADER_LEN + (size_t)clen;
}

bool seal_is_sealed(const uint8_t *buf, size_t len)
{
	return len >= SEAL_OVERHEAD && buf[0] == SEAL_MAGIC && buf[1] == SEAL_VERSION;
}

void seal_peek_tag(const uint8_t *buf, uint8_t tag[SEAL_TAG_LEN])
{
	memcpy(tag, buf + 2, SEAL_TAG_LEN);
}

static void read_header(const uint8_t *in, struct head *h)
{
	memcpy(h->tag, in + 2, SEAL_TAG_LEN);
	memcpy(h->boot, in + 6, SEAL_BOOT_LEN);
	h->counter = be64_get(in + 14);
	h->sent_s = be64_get(in + 22);
}

/* Boot ids are random draws of key holders (members are trusted to run the protocol), so a
 * multiplicative hash spreads them; no outsider can choose one. */
static uint32_t bucket_of(const uint8_t boot[SEAL_BOOT_LEN])
{
	uint64_t v;
	memcpy(&v, boot, sizeof v);
	return (uint32_t)((v * UINT64_C(0x9E3779B97F4A7C15)) >> 40) & (BUCKETS - 1);
}

static struct sender *at(struct seal *s, uint32_t i)
{
	return &s->senders[i - 1];
}

static uint32_t find(struct seal *s, const uint8_t boot[SEAL_BOOT_LEN])
{
	for (uint32_t i = s->buckets[bucket_of(boot)]; i != 0; i = at(s, i)->chain)
		if (memcmp(at(s, i)->boot, boot, SEAL_BOOT_LEN) == 0)
			return i;
	return 0;
}

static void lru_unlink(struct seal *s, uint32_t i)
{
	struct sender *e = at(s, i);
	if (e->older != 0)
		at(s, e->older)->newer = e->newer;
	else
		s->oldest = e->newer;
	if (e->newer != 0)
		at(s, e->newer)->older = e->older;
	else
		s->newest = e->older;
	e->older = e->newer = 0;
}

static void lru_push(struct seal *s, uint32_t i)
{
	struct sender *e = at(s, i);
	e->older = s->newest;
	e->newer = 0;
	if (s->newest != 0)
		at(s, s->newest)->newer = i;
	else
		s->oldest = i;
	s->newest = i;
}

/* Forget the least recently heard boot; its datagrams stay refused through the floor. */
static uint32_t evict(struct seal *s)
{
	uint32_t i = s->oldest;
	struct sender *e = at(s, i);
	uint32_t *p = &s->buckets[bucket_of(e->boot)];
	while (*p != i)
		p = &at(s, *p)->chain;
	*p = e->chain;
	lru_unlink(s, i);
	if (e->newest_s > s->floor_s)
		s->floor_s = e->newest_s;
	return i;
}

static uint32_t add(struct seal *s, const struct head *h)
{
	uint32_t i = s->used < SEAL_SENDERS ? ++s->used : evict(s);
	struct sender *e = at(s, i);
	uint32_t b = bucket_of(h->boot);
	memset(e, 0, sizeof *e);
	memcpy(e->boot, h->boot, SEAL_BOOT_LEN);
	e->top = h->counter;
	e->chain = s->buckets[b];
	s->buckets[b] = i;
	lru_push(s, i);
	return i;
}

static bool seen(const struct sender *e, uint64_t c)
{
	if (c > e->top)
		return false;
	if (e->top - c >= SEAL_WINDOW_BITS - 64)
		return true;
	return (e->bits[(c / 64) % WORDS] >> (c % 64)) & 1u;
}

static void mark(struct sender *e, uint64_t c, uint64_t sent_s)
{
	if (c > e->top) {
		uint64_t cur = e->top / 64, diff = c / 64 - cur;
		if (diff > WORDS)
			diff = WORDS;
		for (uint64_t k = 1; k <= diff; k++)
			e->bits[(cur + k) % WORDS] = 0;
		e->top = c;
	}
	e->bits[(c / 64) % WORDS] |= UINT64_C(1) << (c % 64);
	if (sent_s > e->newest_s)
		e->newest_s = sent_s;
}

/* The checks after the MAC: time, then the window; on SEAL_OK the counter is spent. */
static enum seal_result admit(struct seal *s, uint64_t now_s, const struct head *h)
{
	if (h->sent_s > now_s + SEAL_MAX_SKEW_S || h->sent_s + SEAL_MAX_SKEW_S < now_s)
		return SEAL_STALE;
	uint32_t i = find(s, h->boot);
	if (i == 0 && h->sent_s <= s->floor_s)
		return SEAL_STALE;
	if (i != 0 && seen(at(s, i), h->counter))
		return SEAL_REPLAY;
	if (i == 0) {
		i = add(s, h);
	} else {
		lru_unlink(s, i);
		lru_push(s, i);
	}
	mark(at(s, i), h->counter, h->sent_s);
	return SEAL_OK;
}

enum seal_result seal_open(struct seal *s, uint64_t now_s, const struct seal_to *me,
			   const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
	uint8_t ad[SEAL_HEADER_LEN + SEAL_TO_MAX];
	unsigned long long mlen;
	struct head h;
	if (!seal_is_sealed(in, len))
		return SEAL_NOT_SEALED;
	read_header(in, &h);
	if (memcmp(h.tag, s->tag, SEAL_TAG_LEN) != 0)
		return SEAL_OTHER_KEY;
	if (cap < len - SEAL_OVERHEAD)
		return SEAL_FORGED;
	size_t adlen = make_ad(in, me, ad);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, &mlen, NULL, in + SEAL_HEADER_LEN,
						       len - SEAL_HEADER_LEN, ad, adlen, in + 6,
						       s->key) != 0)
		return SEAL_FORGED;
	enum seal_result r = admit(s, now_s, &h);
	if (r == SEAL_OK)
		*outlen = (size_t)mlen;
	return r;
}

const char *seal_result_name(enum seal_result r)
{
	static const char *const names[SEAL_NRESULTS] = {
		"ok", "not_sealed", "other_key", "forged", "replay", "stale",
	};
	return (unsigned)r < SEAL_NRESULTS ? names[r] : "unknown";
}
