/* Fuzz the peer-wire stream decoder: frame arbitrary bytes until they run out or turn malformed.
 * Every decoded message must re-encode to exactly the bytes it came from, every proper prefix of
 * it must ask for more, and a decoded bitfield must survive bitfield_decode/encode unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dht/bytes.h"
#include "transfer/bitfield.h"
#include "transfer/wire.h"

static uint8_t out[WIRE_MAX_FRAME];

static void check(int ok)
{
	if (!ok)
		abort();
}

static void check_bitfield(const struct wire_bits *b, uint8_t spare)
{
	uint32_t nbits = b->len * 8 - spare % 8;
	struct bitfield *bf = bitfield_new(nbits);
	check(bf != NULL);
	if (bitfield_decode(bf, b->bits, b->len) == 0) {
		struct bwriter w;
		bw_init(&w, out, sizeof out);
		check(bitfield_encode(bf, &w) == 0);
		check(w.len == b->len && memcmp(out, b->bits, b->len) == 0);
	}
	bitfield_free(bf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t pos = 0;
	while (pos < size) {
		struct wire_msg m, again;
		size_t used = 0, unused;
		enum wire_status st = wire_frame(data + pos, size - pos, &m, &used);
		if (st != WIRE_OK)
			break;
		check(used >= WIRE_PREFIX_LEN && used <= WIRE_MAX_FRAME && used <= size - pos);
		struct bwriter w;
		bw_init(&w, out, sizeof out);
		int n = wire_encode(&w, &m);
		check(n > 0 && (size_t)n == used && memcmp(out, data + pos, used) == 0);
		check(wire_frame(data + pos, used - 1, &again, &unused) == WIRE_NEED_MORE);
		if (m.type == WIRE_BITFIELD)
			check_bitfield(&m.u.bitfield, data[pos + used - 1]);
		pos += used;
	}
	return 0;
}
