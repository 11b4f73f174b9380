/* Fuzz target for ring discovery's datagrams (node/net/discocore.c): any bytes through the
 * decoder and through a member's and a seeker's input. A datagram that decodes encodes back to
 * the same bytes; a member never answers more than its burst at one instant, and a candidate it
 * hands on has an id that fits the width. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/net/discocore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dht_addr self = { .family = 4, .ip = { 10, 77, 0, 2 }, .port = 4000 }, via;
	struct disco_core member, seeker;
	struct disco_msg m;
	uint8_t back[DISCO_MSG_MAX];
	struct dht_id id = { { 0 } };
	int answers = 0;

	if (disco_decode(data, size, &m) == 0 &&
	    (disco_encode(&m, back) != size || memcmp(back, data, size) != 0))
		abort();
	disco_core_init(&member, &self, 160, DISCO_IDLE, 0);
	disco_core_member(&member, &id);
	disco_core_init(&seeker, &self, 160, DISCO_SEEKING, 0);
	for (int i = 0; i < 20; i++) {
		enum disco_action a = disco_core_input(&member, data, size, 5, &via);
		answers += a == DISCO_SEND_ANSWER;
		if (a == DISCO_CANDIDATE && id_log2(&member.heard.id) >= 160)
			abort();
		if (disco_core_input(&seeker, data, size, 5, &via) == DISCO_JOIN &&
		    (via.family != 4 || via.port == 0))
			abort();
	}
	if (answers > DISCO_ANSWER_BURST)
		abort();
	return 0;
}
