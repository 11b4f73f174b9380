/* Fuzz target for the size and rate parser (dht/units.c): any bytes as one value and as a list.
 * A value that parses is at most UNITS_MAX and prints back within the buffer; a list never
 * reports more elements than it was given room for. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dht/units.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[256], out[32];
	uint64_t v, list[4];
	unsigned n;

	if (units_parse_n((const char *)data, size, &v) == 0) {
		if (v > UNITS_MAX)
			abort();
		units_format_rate(v, out, sizeof out);
		if (strlen(out) >= sizeof out)
			abort();
	}
	if (size >= sizeof text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (units_parse_list(text, list, 4, &n) == 0 ? n == 0 || n > 4 : n > 4)
		abort();
	return 0;
}
