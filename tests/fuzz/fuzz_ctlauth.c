/* Fuzz target for the control connection's auth lines (node/control/ctlauth.c), which the node
 * reads from any client before it knows who that is: any bytes as a line. A proof is only ever
 * reported with its MAC filled, and a proof never verifies against a challenge it was not made
 * for. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/control/ctlauth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t mac[CTLAUTH_MAC_LEN], key[CTLAUTH_KEY_LEN] = { 1 };
	uint8_t challenge[CTLAUTH_CHALLENGE_LEN] = { 2 };

	memset(mac, 0, sizeof mac);
	enum ctlauth_kind k = ctlauth_parse((const char *)data, size, mac);
	if (k != CTLAUTH_NONE && k != CTLAUTH_BEGIN && k != CTLAUTH_PROOF && k != CTLAUTH_BAD)
		abort();
	if (k == CTLAUTH_PROOF && ctlauth_verify(mac, challenge, key))
		abort();
	return 0;
}
