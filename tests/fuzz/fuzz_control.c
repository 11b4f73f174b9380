/* Fuzz target for the control request parser (node/control/control.c): any bytes as one
 * request line, at any id width (the first byte picks it). A request that parses must be within
 * the limits the runner relies on; one that is refused must still give an error line that
 * encodes, since that line is what the client gets back. The same bytes, as text, also go
 * through the HOST:PORT parser and its explanations (node/net/addr.c), which read what users
 * type into --node, --join and $DHTNODE. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/control/control.h"
#include "node/net/addr.h"

static void fuzz_addr(const uint8_t *data, size_t size)
{
	char s[300], host[ADDR_HOST_MAX], err[200];
	uint16_t port;
	size_t n = size < sizeof s - 1 ? size : sizeof s - 1;
	memcpy(s, data, n);
	s[n] = '\0';
	bool split = addr_split(s, host, sizeof host, &port) == 0;
	if (split && (port == 0 || strlen(host) == 0))
		abort();
	addr_explain(s, data[0] & 1, err, sizeof err);
	if (strlen(err) == 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	fuzz_addr(data, size);
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
