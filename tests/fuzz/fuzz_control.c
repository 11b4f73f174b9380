/* Fuzz target for the control request parser (node/control/control.c): any bytes as one request line,
 * at any id width (the first byte picks it). A request that parses must be within the limits
 * the runner relies on; one that is refused must still give an error line that encodes, since
 * that line is what the client gets back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/control/control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned bits = ID_MIN_BITS + data[0] % (ID_MAX_BITS - ID_MIN_BITS + 1);
	struct ctl_request req;
	struct ctl_error err;
	if (ctl_parse_request((const char *)data + 1, size - 1, bits, &req, &err) != 0) {
		char *line = ctl_error_line(err.code, err.msg);
		if (line == NULL || err.code > CTL_INTERNAL)
			abort();
		free(line);
		return 0;
	}
	if (req.value_len > KV_MAX_VALUE || id_log2(&req.key) >= (int)bits)
		abort();
	if ((req.cmd == CTL_RING && (req.max < 1 || req.max > CTL_RING_MAX)) ||
	    (req.cmd == CTL_GET_PEERS && (req.max < 1 || req.max > KV_MAX_PEERS_REPLY)) ||
	    (req.cmd == CTL_ANNOUNCE && req.peer.family != 4 && req.peer.family != 6))
		abort();
	return 0;
}
