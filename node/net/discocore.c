/* The discovery decision and its datagrams. Rules, in the order the code applies them:
 *  1. A seeker probes every DISCO_PROBE_MS. The first answer from a ring of its id width is
 *     joined at once (a node that comes later finds the ring in one round trip).
 *  2. Seekers that start together hear each other's probes. Only one of them should found: the
 *     lowest address (two rings would merge, rule 4, but later). A seeker that heard a lower one within
 *     DISCO_LOWER_TTL_MS keeps probing instead; the lowest founds after DISCO_WAIT_MS, answers
 *     their next probes, and they join it (rule 1).
 *  3. A member answers probes, at most DISCO_ANSWER_BURST at once and that many a second, so a
 *     flood of probes costs a bounded number of answers.
 *  4. Rule 2 can fail (probes lost or crossing, a ring founded with --new-ring, a network
 *     joined to another): two rings then live on one network. So a member beacons its id and
 *     address every DISCO_BEACON_MS or so (jittered, so that beacons do not bunch), and hands
 *     every beacon it hears to the Chord core, which probes it only if its id lies where our
 *     ring has no node (dht/merge.c): that is a node of another ring, and the rings unify. A
 *     seeker takes a beacon as it takes an answer.
 * An answer says only that a ring of this width is reachable at this HOST:PORT: nothing about
 * the keys or files in it. Malformed datagrams are dropped and counted. */
#include "node/net/discocore.h"

#include <string.h>

static const uint8_t magic[4] = { 'D', 'H', 'T', 'd' };

size_t disco_encode(const struct disco_msg *m, uint8_t *buf)
{
	memcpy(buf, magic, 4);
	buf[4] = DISCO_VERSION;
	buf[5] = m->type;
	buf[6] = m->bits;
	buf[7] = m->addr.family;
	buf[8] = (uint8_t)(m->addr.port >> 8);
	buf[9] = (uint8_t)m->addr.port;
	memcpy(buf + 10, m->addr.ip, 16);
	if (m->addr.family == 4)
		memset(buf + 14, 0, 12);
	if (m->type != DISCO_BEACON)
		return DISCO_MSG_LEN;
	memcpy(buf + DISCO_MSG_LEN, m->id.b, ID_BYTES);
	return DISCO_BEACON_LEN;
}

/* The length a datagram of TYPE has; 0 for an unknown type. */
static size_t msg_len(uint8_t type)
{
	if (type == DISCO_PROBE || type == DISCO_ANSWER)
		return DISCO_MSG_LEN;
	return type == DISCO_BEACON ? DISCO_BEACON_LEN : 0;
}

int disco_decode(const uint8_t *buf, size_t len, struct disco_msg *out)
{
	static const uint8_t zero[12];

	if (len < DISCO_MSG_LEN || len != msg_len(buf[5]) || memcmp(buf, magic, 4) != 0 ||
	    buf[4] != DISCO_VERSION)
		return -1;
	if (buf[6] < ID_MIN_BITS || buf[6] > ID_MAX_BITS || (buf[7] != 4 && buf[7] != 6))
		return -1;
	if (buf[7] == 4 && memcmp(buf + 14, zero, sizeof zero) != 0)
		return -1;
	memset(out, 0, sizeof *out);
	out->type = buf[5];
	out->bits = buf[6];
	out->addr.family = buf[7];
	out->addr.port = (uint16_t)(buf[8] << 8 | buf[9]);
	memcpy(out->addr.ip, buf + 10, 16);
	if (out->type == DISCO_BEACON) {
		memcpy(out->id.b, buf + DISCO_MSG_LEN, ID_BYTES);
		if (id_log2(&out->id) >= (int)out->bits)
			return -1;
	}
	return out->addr.port ? 0 : -1;
}

int disco_addr_cmp(const struct dht_addr *a, const struct dht_addr *b)
{
	int d;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if ((d = memcmp(a->ip, b->ip, a->family == 4 ? 4 : 16)) != 0)
		return d;
	return a->port < b->port ? -1 : a->port > b->port;
}

void disco_core_init(struct disco_core *c, const struct dht_addr *self, unsigned bits,
		     enum disco_state state, uint64_t now)
{
	memset(c, 0, sizeof *c);
	c->self = *self;
	c->bits = (uint8_t)bits;
	c->state = state;
	c->seek_ms = c->tokens_ms = now;
	c->tokens = DISCO_ANSWER_BURST;
}

enum disco_action disco_core_tick(struct disco_core *c, uint64_t now)
{
	if (c->state != DISCO_SEEKING)
		return DISCO_NONE;
	if (c->lower && now - c->lower_ms >= DISCO_LOWER_TTL_MS)
		c->lower = false;
	if (now - c->seek_ms >= DISCO_WAIT_MS && !c->lower) {
		c->state = DISCO_MEMBER;
		return DISCO_FOUND;
	}
	return DISCO_SEND_PROBE;
}

/* Rule 3's bucket: refill at DISCO_ANSWER_BURST a second, take one if there is one. */
static bool may_answer(struct disco_core *c, uint64_t now)
{
	c->tokens += (double)(now - c->tokens_ms) * DISCO_ANSWER_BURST / 1000.0;
	c->tokens_ms = now;
	if (c->tokens > DISCO_ANSWER_BURST)
		c->tokens = DISCO_ANSWER_BURST;
	if (c->tokens < 1)
		return false;
	c->tokens -= 1;
	return true;
}

enum disco_action disco_core_input(struct disco_core *c, const uint8_t *buf, size_t len,
				   uint64_t now, struct dht_addr *via)
{
	struct disco_msg m;

	if (disco_decode(buf, len, &m) != 0 || m.bits != c->bits) {
		c->dropped++;
		return DISCO_NONE;
	}
	if (m.addr.family != c->self.family || disco_addr_cmp(&m.addr, &c->self) == 0)
		return DISCO_NONE; /* our own datagram looped back, or another family's ring */
	if (m.type == DISCO_PROBE && c->state == DISCO_MEMBER)
		return may_answer(c, now) ? DISCO_SEND_ANSWER : DISCO_NONE;
	if (m.type == DISCO_PROBE && c->state == DISCO_SEEKING &&
	    disco_addr_cmp(&m.addr, &c->self) < 0) {
		c->lower = true;
		c->lower_ms = now;
	}
	if ((m.type == DISCO_ANSWER || m.type == DISCO_BEACON) && c->state == DISCO_SEEKING) {
		c->state = DISCO_JOINING;
		*via = m.addr;
		return DISCO_JOIN;
	}
	if (m.type == DISCO_BEACON && c->state == DISCO_MEMBER) {
		c->heard.id = m.id;
		c->heard.addr = m.addr;
		return DISCO_CANDIDATE;
	}
	return DISCO_NONE;
}

void disco_core_member(struct disco_core *c, const struct dht_id *id)
{
	c->state = DISCO_MEMBER;
	c->id = *id;
	c->beacon_ms = 0;
}

enum disco_action disco_core_beacon(struct disco_core *c, uint64_t now, uint32_t rnd)
{
	if (c->state != DISCO_MEMBER)
		return DISCO_NONE;
	if (c->beacon_ms == 0) {
		c->beacon_ms = now + 1 + rnd % DISCO_BEACON_MS;
		return DISCO_NONE;
	}
	if (now < c->beacon_ms)
		return DISCO_NONE;
	c->beacon_ms = now + DISCO_BEACON_MS / 2 + rnd % DISCO_BEACON_MS;
	return DISCO_SEND_BEACON;
}

uint64_t disco_core_beacon_at(const struct disco_core *c)
{
	return c->beacon_ms;
}

void disco_core_retry(struct disco_core *c, uint64_t now)
{
	c->state = DISCO_SEEKING;
	c->seek_ms = now;
	c->lower = false;
}
