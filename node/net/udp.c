/* The UDP adapter: the real-world counterpart of the simulator's virtual network and clock.
 * It has no protocol logic. Every datagram is handed to the core whatever its size (up to the
 * 64 KiB a UDP datagram can hold): the core decides what is malformed and counts it, so that
 * garbage can never take a path through the node that the core's tests have not seen.
 * Send errors are logged (rate-limited) and dropped: the core's retries and timeouts are what
 * deal with a lost datagram, whatever lost it.
 * In a private ring the adapter is also the seal (node/net/seal.h): the core runs unsealed, in
 * the simulator as here, and the adapter seals what it sends and opens what it reads, so a
 * datagram from outside the ring never reaches the core; it is counted by reason and logged,
 * rate-limited per reason, saying why. A datagram names its receiver by the address the
 * sender dials, which is the receiver's own listen address (never a wildcard), so a datagram
 * captured on its way to one member opens at no other. */
#include "node/net/udp.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "node/clock.h"
#include "node/net/addr.h"
#include "node/log.h"

/* Datagrams read per readiness callback before yielding to other events (timers, control
 * connections); the read event stays armed, so the rest are read on the next turn. */
#define READ_BURST 256
/* Refusal log lines: a burst of LOG_BURST per reason, then one per LOG_EVERY_US, so that the
 * first few misconfigured neighbours are all named and a flood cannot fill the log. */
#define LOG_BURST 5
#define LOG_EVERY_US 10000000u
#define LOG_SEALED SEAL_OK /* an open node's one reason (a sealed datagram) takes this slot */

_Static_assert(NETKEY_TAG_LEN == SEAL_TAG_LEN, "the seal names the ring by its key's tag");

struct udp_dht {
	int fd;
	struct dht *d;
	struct event *rd, *timer;
	uint64_t last_send_warn, send_errors;
	udp_app_fn *app;
	void *app_arg;
	struct seal *seal; /* NULL: an open ring */
	struct seal_to me;
	struct udp_seal_stats stats;
	uint64_t log_credit_at[SEAL_NRESULTS]; /* when the reason's burst is whole again */
	uint8_t buf[65536], plain[65536], sealed[DHT_MSG_MAX + SEAL_OVERHEAD];
};

/* Family, 16 bytes of IP, port. */
void udp_seal_name(const struct dht_addr *a, struct seal_to *out)
{
	out->b[0] = a->family;
	memcpy(out->b + 1, a->ip, sizeof a->ip);
	out->b[17] = (uint8_t)(a->port >> 8);
	out->b[18] = (uint8_t)a->port;
	out->len = 19;
}

static uint64_t wall_s(void)
{
	return (uint64_t)time(NULL);
}

static void send_failed(struct udp_dht *u, const struct dht_addr *to, int e)
{
	uint64_t now = mono_now_us();
	u->send_errors++;
	if (now - u->last_send_warn < 1000000u && u->last_send_warn != 0)
		return;
	char a[ADDR_STR_MAX];
	addr_format(to, a);
	log_warn("udp: send to %s failed: %s (%llu send errors so far)", a, strerror(e),
		 (unsigned long long)u->send_errors);
	u->last_send_warn = now;
}

static void env_send(void *arg, const struct dht_addr *to, const uint8_t *buf, size_t len)
{
	struct udp_dht *u = arg;
	struct sockaddr_storage ss;
	socklen_t sl = addr_to_sockaddr(to, &ss);
	if (sl == 0) {
		send_failed(u, to, EAFNOSUPPORT);
		return;
	}
	if (u->seal != NULL) {
		struct seal_to name;
		udp_seal_name(to, &name);
		len = seal_wrap(u->seal, wall_s(), &name, buf, len, u->sealed, sizeof u->sealed);
		if (len == 0) {
			send_failed(u, to, EMSGSIZE);
			return;
		}
		buf = u->sealed;
	}
	if (sendto(u->fd, buf, len, 0, (struct sockaddr *)&ss, sl) != (ssize_t)len)
		send_failed(u, to, errno);
}

static void env_set_timer(void *arg, uint64_t at)
{
	struct udp_dht *u = arg;
	uint64_t now = mono_now_us(), wait = at > now ? at - now : 0;
	struct timeval tv = { .tv_sec = (time_t)(wait / 1000000u),
			      .tv_usec = (suseconds_t)(wait % 1000000u) };
	evtimer_add(u->timer, &tv);
}

static uint64_t env_now(void *arg)
{
	(void)arg;
	return mono_now_us();
}

static void env_random(void *arg, void *buf, size_t len)
{
	(void)arg;
	randombytes_buf(buf, len);
}

static void env_log(void *arg, enum dht_log_level level, const char *msg)
{
	(void)arg;
	log_msg(level, "dht: %s", msg);
}

static void env_app_request(void *arg, const struct dht_msg *m, const struct dht_addr *from)
{
	struct udp_dht *u = arg;
	if (u->app != NULL)
		u->app(u->app_arg, m, from);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct udp_dht *u = arg;
	(void)fd;
	(void)what;
	/* The core announces a deadline only when it changes; a timer that fired a little early
	 * leaves the deadline unchanged, so re-arm from the returned value every time. */
	uint64_t next = dht_tick(u->d);
	if (next != UINT64_MAX)
		env_set_timer(u, next);
}

/* Why a datagram was refused, for the log: what the reader should check. */
static const char *refusal_text(enum seal_result r)
{
	switch (r) {
	case SEAL_NOT_SEALED:
		return "not sealed — an open node? this ring uses a network key";
	case SEAL_OTHER_KEY:
		return "sealed with another network key (another ring's member)";
	case SEAL_FORGED:
		return "sealed with this ring's tag but it does not authenticate: forged, "
		       "corrupted, or captured on its way to another member";
	case SEAL_REPLAY:
		return "a replay: this node has already received that datagram";
	case SEAL_STALE:
		return "stale: sent more than 3 minutes from this node's clock (a replay, or a "
		       "clock that is off)";
	default:
		return "refused";
	}
}

/* A token bucket kept as the time it is full again: a line costs LOG_EVERY_US. */
static bool log_due(struct udp_dht *u, enum seal_result r)
{
	uint64_t now = mono_now_us(), full = u->log_credit_at[r];
	if (full < now)
		full = now;
	if (full - now > (LOG_BURST - 1) * (uint64_t)LOG_EVERY_US)
		return false;
	u->log_credit_at[r] = full + LOG_EVERY_US;
	return true;
}

/* A keyed node: open the datagram (its message's length in *LEN). Return false having refused
 * it. */
static bool open_sealed(struct udp_dht *u, size_t n, const struct dht_addr *from, size_t *len)
{
	enum seal_result r = seal_open(u->seal, wall_s(), &u->me, u->buf, n, u->plain,
				       sizeof u->plain, len);
	if (r == SEAL_OK)
		return true;
	u->stats.refused[r]++;
	if (log_due(u, r)) {
		char a[ADDR_STR_MAX], tag[2 * NETKEY_TAG_LEN + 1] = "";
		uint8_t t[SEAL_TAG_LEN];
		addr_format(from, a);
		if (r == SEAL_OTHER_KEY) {
			seal_peek_tag(u->buf, t);
			sodium_bin2hex(tag, sizeof tag, t, sizeof t);
		}
		log_warn("udp: refused a datagram from %s: %s%s%s (%llu refused so far for this "
			 "reason)", a, refusal_text(r), *tag ? ", key tag " : "", tag,
			 (unsigned long long)u->stats.refused[r]);
	}
	return false;
}

/* An open node: a sealed datagram cannot be read; say why. Return whether BUF was one. */
static bool refuse_sealed(struct udp_dht *u, size_t n, const struct dht_addr *from)
{
	if (!seal_is_sealed(u->buf, n))
		return false;
	u->stats.sealed++;
	if (log_due(u, LOG_SEALED)) {
		char a[ADDR_STR_MAX];
		addr_format(from, a);
		log_warn("udp: %s sent a sealed datagram: that ring uses a network key; start with "
			 "--network-key FILE to join it (%llu sealed datagrams so far)", a,
			 (unsigned long long)u->stats.sealed);
	}
	return true;
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct udp_dht *u = arg;
	(void)what;
	for (int i = 0; i < READ_BURST; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		ssize_t n = recvfrom(fd, u->buf, sizeof u->buf, 0, (struct sockaddr *)&ss, &sl);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_debug("udp: receive failed: %s", strerror(errno));
			return;
		}
		struct dht_addr from;
		if (addr_from_sockaddr((struct sockaddr *)&ss, sl, &from) != 0)
			continue;
		if (u->seal == NULL) {
			if (!refuse_sealed(u, (size_t)n, &from))
				dht_input(u->d, u->buf, (size_t)n, &from);
			continue;
		}
		size_t len;
		if (open_sealed(u, (size_t)n, &from, &len))
			dht_input(u->d, u->plain, len, &from);
	}
}

struct udp_dht *udp_dht_new(struct event_base *base, int fd, const struct dht_config *cfg)
{
	static const struct dht_env env = {
		.send = env_send,
		.set_timer = env_set_timer,
		.now = env_now,
		.random = env_random,
		.log = env_log,
		.app_request = env_app_request,
	};
	struct udp_dht *u = calloc(1, sizeof *u);
	if (u == NULL) {
		close(fd);
		return NULL;
	}
	u->fd = fd;
	u->rd = event_new(base, fd, EV_READ | EV_PERSIST, on_readable, u);
	u->timer = evtimer_new(base, on_timer, u);
	u->d = dht_new(cfg, &env, u);
	if (u->rd == NULL || u->timer == NULL || u->d == NULL || event_add(u->rd, NULL) != 0) {
		udp_dht_free(u);
		return NULL;
	}
	return u;
}

void udp_dht_free(struct udp_dht *u)
{
	if (u == NULL)
		return;
	dht_free(u->d);
	seal_free(u->seal);
	if (u->rd)
		event_free(u->rd);
	if (u->timer)
		event_free(u->timer);
	close(u->fd);
	free(u);
}

void udp_dht_set_app(struct udp_dht *u, udp_app_fn *fn, void *arg)
{
	u->app = fn;
	u->app_arg = arg;
}

int udp_dht_seal(struct udp_dht *u, const struct netkey *k)
{
	uint8_t key[SEAL_KEY_LEN], boot[SEAL_BOOT_LEN];
	netkey_derive(k, NETKEY_DATAGRAM, key, sizeof key);
	netkey_tag(k, u->stats.tag);
	randombytes_buf(boot, sizeof boot);
	u->seal = seal_new(key, u->stats.tag, boot);
	sodium_memzero(key, sizeof key);
	if (u->seal == NULL)
		return -1;
	udp_seal_name(&dht_self(u->d)->addr, &u->me);
	u->stats.keyed = true;
	return 0;
}

const struct udp_seal_stats *udp_dht_seal_stats(const struct udp_dht *u)
{
	return &u->stats;
}

struct dht *udp_dht_core(struct udp_dht *u)
{
	return u->d;
}
