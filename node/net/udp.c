/* The UDP adapter: the real-world counterpart of the simulator's virtual network and clock.
 * It has no protocol logic. Every datagram is handed to the core whatever its size (up to the
 * 64 KiB a UDP datagram can hold): the core decides what is malformed and counts it, so that
 * garbage can never take a path through the node that the core's tests have not seen.
 * Send errors are logged (rate-limited) and dropped: the core's retries and timeouts are what
 * deal with a lost datagram, whatever lost it. */
#include "node/net/udp.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "node/clock.h"
#include "node/net/addr.h"
#include "node/log.h"

/* Datagrams read per readiness callback before yielding to other events (timers, control
 * connections); the read event stays armed, so the rest are read on the next turn. */
#define READ_BURST 256

struct udp_dht {
	int fd;
	struct dht *d;
	struct event *rd, *timer;
	uint64_t last_send_warn, send_errors;
	udp_app_fn *app;
	void *app_arg;
	uint8_t buf[65536];
};

static void env_send(void *arg, const struct dht_addr *to, const uint8_t *buf, size_t len)
{
	struct udp_dht *u = arg;
	struct sockaddr_storage ss;
	socklen_t sl = addr_to_sockaddr(to, &ss);
	if (sl != 0 && sendto(u->fd, buf, len, 0, (struct sockaddr *)&ss, sl) == (ssize_t)len)
		return;
	int e = sl == 0 ? EAFNOSUPPORT : errno;
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
		dht_input(u->d, u->buf, (size_t)n, &from);
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

struct dht *udp_dht_core(struct udp_dht *u)
{
	return u->d;
}
