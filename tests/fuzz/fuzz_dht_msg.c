/* Fuzz target for the DHT message decoder: any bytes, at any id width. A datagram that decodes
 * must re-encode to exactly the same bytes (the encoding is canonical), and decoding must never
 * read out of bounds. The first byte picks the width so one corpus covers them all. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dht/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned bits = ID_MIN_BITS + data[0] % (ID_MAX_BITS - ID_MIN_BITS + 1);
	data++;
	size--;
	struct dht_msg m;
	if (dht_msg_decode(&m, data, size, bits) != DHT_DECODE_OK)
		return 0;
	uint8_t buf[DHT_MSG_MAX];
	int len = dht_msg_encode(&m, buf, sizeof buf);
	if (len < 0 || (size_t)len != size || memcmp(buf, data, size) != 0)
		abort();
	return 0;
}
