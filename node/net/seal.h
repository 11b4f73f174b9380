/* node/net/seal.h: sealed datagrams of a private ring (issue 11). Every datagram between
 * members is encrypted and authenticated under a subkey of the network key, and a datagram
 * is accepted once: a replay window per sender boot, and a send time that must be near the
 * receiver's clock. Pure: no I/O; the wall-clock time comes in as seconds from the caller.
 * struct seal is the caller's (seal_new/seal_free); opened bytes go into the caller's buffer.
 *
 * Format (version 1), 46 bytes more than the message:
 *   magic 0xE5 | version 1 | key tag (4) | boot id (8) | counter u64 | send time u64 (s)
 *   | XChaCha20-Poly1305 ciphertext of the message and its 16-byte MAC
 * The associated data is the 30-byte header and the receiver's name (udp.c: its address), so
 * a datagram captured on its way to one member does not open at another; the nonce is
 * boot id | counter | send time (24 bytes). 0xE5 is not the first byte of any open datagram (DHT messages begin with "DH",
 * discovery's with "DHTd"), so an open node can tell a sealed datagram from garbage and say
 * why it cannot read it. The tag, public (node/net/netkey.h), lets a member tell another
 * ring's traffic from a forgery. XChaCha20 rather than AES-GCM: its 24-byte nonce holds the
 * whole boot id and counter, it needs no CPU support, and one format keeps one set of
 * known answers. A sender draws a random boot id at start and counts from 1, so a nonce
 * never repeats under one key unless two boots draw the same 64 bits in the same second. */
#ifndef NODE_SEAL_H
#define NODE_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SEAL_MAGIC 0xE5
#define SEAL_VERSION 1
#define SEAL_KEY_LEN 32
#define SEAL_TAG_LEN 4
#define SEAL_BOOT_LEN 8
#define SEAL_HEADER_LEN 30
#define SEAL_OVERHEAD (SEAL_HEADER_LEN + 16)
/* A datagram sent more than this far from the receiver's clock is refused: so a boot id not
 * heard from for this long can be forgotten without letting its old datagrams back in. */
#define SEAL_MAX_SKEW_S 180
/* Counters remembered per sender: a sender's counter runs over all its destinations, so a
 * receiver sees gaps; the window tolerates reordering by this many (less one word: 960). */
#define SEAL_WINDOW_BITS 1024
#define SEAL_SENDERS 4096 /* boot ids remembered (least recently heard forgotten first) */

enum seal_result {
	SEAL_OK,
	SEAL_NOT_SEALED, /* no seal at all (an open node), or a header cut short */
	SEAL_OTHER_KEY,  /* sealed under another ring's key (another tag) */
	SEAL_FORGED,     /* our tag, but it does not authenticate */
	SEAL_REPLAY,     /* seen already, or older than the window */
	SEAL_STALE,      /* sent too far from our clock (or before a forgotten boot's last) */
	SEAL_NRESULTS
};

struct seal;

/* A sealer and opener for KEY (a datagram subkey) and TAG, sending as boot BOOT (random,
 * drawn by the caller at start). Return NULL when memory is short. */
struct seal *seal_new(const uint8_t key[SEAL_KEY_LEN], const uint8_t tag[SEAL_TAG_LEN],
		      const uint8_t boot[SEAL_BOOT_LEN]);
void seal_free(struct seal *s); /* accepts NULL; wipes the key */

/* The receiver a datagram is for: bytes both ends agree on (at most SEAL_TO_MAX). */
#define SEAL_TO_MAX 32
struct seal_to {
	uint8_t b[SEAL_TO_MAX];
	size_t len;
};

/* Seal MSG (LEN bytes) for TO, sent at NOW_S, into OUT (CAP bytes). Return the sealed length,
 * or 0 if CAP is less than LEN + SEAL_OVERHEAD. */
size_t seal_wrap(struct seal *s, uint64_t now_s, const struct seal_to *to, const uint8_t *msg,
		 size_t len, uint8_t *out, size_t cap);

/* Open the datagram IN (LEN bytes) received by ME at NOW_S: on SEAL_OK the message is in OUT
 * (CAP bytes, at least LEN) and its length in *OUTLEN, and its counter is now spent. On any
 * other result nothing in S changed. */
enum seal_result seal_open(struct seal *s, uint64_t now_s, const struct seal_to *me,
			   const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *outlen);

/* Whether BUF (LEN bytes) is shaped like a sealed datagram (magic and a whole header): what
 * an open node checks to say why it cannot read it. */
bool seal_is_sealed(const uint8_t *buf, size_t len);

/* The tag a sealed datagram names (BUF must pass seal_is_sealed). */
void seal_peek_tag(const uint8_t *buf, uint8_t tag[SEAL_TAG_LEN]);

/* A short name of R for counters and metrics labels ("not_sealed", "replay", ...). */
const char *seal_result_name(enum seal_result r);

#endif
