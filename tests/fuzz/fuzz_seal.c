/* Fuzz target for sealed datagrams (node/net/seal.c): any bytes through a member's opener: a
 * refusal touches no state (the same bytes again get the same refusal), an accepted datagram is
 * accepted once (again: a replay); then the
 * same bytes as a message, sealed and opened: they come back whole, once (a second open is a
 * replay). The key, tag and receiver are the known-answer test's, so the corpus's sealed seed
 * reaches the MAC check. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/net/seal.h"

#define NOW 1764000000u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t tag[SEAL_TAG_LEN] = { 0xde, 0xad, 0xbe, 0xef };
	static const struct seal_to me = { { 4, 127, 0, 0, 1, [17] = 0x0f, [18] = 0xa0 }, 19 };
	static uint8_t out[65536 + SEAL_OVERHEAD], sealed[65536 + SEAL_OVERHEAD];
	uint8_t key[SEAL_KEY_LEN], rboot[SEAL_BOOT_LEN] = { 9 }, sboot[SEAL_BOOT_LEN] = { 7 };
	size_t len;
	if (size > 65536)
		return 0;
	for (int i = 0; i < SEAL_KEY_LEN; i++)
		key[i] = (uint8_t)i;
	struct seal *r = seal_new(key, tag, rboot), *s = seal_new(key, tag, sboot);
	if (r == NULL || s == NULL)
		abort();
	enum seal_result first = seal_open(r, NOW, &me, data, size, out, sizeof out, &len);
	if (seal_open(r, NOW, &me, data, size, out, sizeof out, &len) !=
	    (first == SEAL_OK ? SEAL_REPLAY : first))
		abort();
	size_t n = seal_wrap(s, NOW, &me, data, size, sealed, sizeof sealed);
	if (n != size + SEAL_OVERHEAD || !seal_is_sealed(sealed, n))
		abort();
	if (seal_open(r, NOW, &me, sealed, n, out, sizeof out, &len) != SEAL_OK || len != size ||
	    (size > 0 && memcmp(out, data, size) != 0))
		abort();
	if (seal_open(r, NOW, &me, sealed, n, out, sizeof out, &len) != SEAL_REPLAY)
		abort();
	seal_free(r);
	seal_free(s);
	return 0;
}
