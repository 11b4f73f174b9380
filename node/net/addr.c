/* Address text and socket address conversions for the runtime. Only IP literals are parsed here;
 * host names are split off for the resolver (evdns, in main.c) and never looked up in this file.
 * Ports are 1..65535: port 0 would let the kernel pick different UDP and TCP ports, and the node
 * needs the same number on both. */
#include "node/net/addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

int addr_parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;
	if (*s == '\0' || strlen(s) > 5)
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

int addr_split(const char *s, char *host, size_t hostcap, uint16_t *port)
{
	const char *h = s, *colon;
	size_t hlen;
	if (*s == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL || close[1] != ':')
			return -1;
		h = s + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return -1;
		hlen = (size_t)(colon - s);
		/* An unbracketed IPv6 literal has more colons: its last group would pass for a port. */
		if (memchr(s, ':', hlen) != NULL)
			return -1;
	}
	if (hlen == 0 || hlen >= hostcap || addr_parse_port(colon + 1, port) != 0)
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	return 0;
}

int addr_parse(const char *s, struct dht_addr *out)
{
	char host[ADDR_HOST_MAX];
	uint16_t port;
	if (addr_split(s, host, sizeof host, &port) != 0)
		return -1;
	memset(out, 0, sizeof *out);
	if (s[0] == '[') {
		if (inet_pton(AF_INET6, host, out->ip) != 1)
			return -1;
		out->family = 6;
	} else {
		if (inet_pton(AF_INET, host, out->ip) != 1)
			return -1;
		out->family = 4;
	}
	out->port = port;
	return 0;
}

/* The most likely mistake first: an IPv6 literal without brackets. */
static bool explain_split(const char *s, char *err, size_t errcap)
{
	const char *colon = strrchr(s, ':');
	if (s[0] != '[' && colon != NULL && memchr(s, ':', (size_t)(colon - s)) != NULL) {
		snprintf(err, errcap, "'%s' has more than one ':': write an IPv6 address in brackets, "
			 "like [%.*s]:%s", s, (int)(colon - s), s, colon + 1);
		return true;
	}
	if (s[0] == '[' && (strchr(s, ']') == NULL || strchr(s, ']')[1] != ':')) {
		snprintf(err, errcap, "'%s': close the brackets and put the port after them, like "
			 "[::1]:4000", s);
		return true;
	}
	if (colon == NULL) {
		snprintf(err, errcap, "'%s' is not HOST:PORT (it has no port): write it like "
			 "127.0.0.1:4000", s);
		return true;
	}
	return false;
}

void addr_explain(const char *s, bool need_ip, char *err, size_t errcap)
{
	char host[ADDR_HOST_MAX];
	uint16_t port;
	struct dht_addr a;
	if (explain_split(s, err, errcap))
		return;
	const char *colon = strrchr(s, ':');
	if (addr_parse_port(colon + 1, &port) != 0)
		snprintf(err, errcap, "'%s' has no valid port (1-65535) after the last ':'", s);
	else if (addr_split(s, host, sizeof host, &port) != 0)
		snprintf(err, errcap, "'%s' has no usable host before the port", s);
	else if (need_ip && addr_parse(s, &a) != 0)
		snprintf(err, errcap, "'%s' is not an IP address with a port: give this machine's "
			 "own address, like 127.0.0.1:4000 or [::1]:4000", s);
	else
		snprintf(err, errcap, "'%s' is a valid address", s);
}

void addr_format(const struct dht_addr *a, char out[ADDR_STR_MAX])
{
	char ip[INET6_ADDRSTRLEN];
	if (a->family == 4 && inet_ntop(AF_INET, a->ip, ip, sizeof ip) != NULL)
		snprintf(out, ADDR_STR_MAX, "%s:%u", ip, (unsigned)a->port);
	else if (a->family == 6 && inet_ntop(AF_INET6, a->ip, ip, sizeof ip) != NULL)
		snprintf(out, ADDR_STR_MAX, "[%s]:%u", ip, (unsigned)a->port);
	else
		snprintf(out, ADDR_STR_MAX, "-");
}

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

bool addr_is_loopback(const struct dht_addr *a)
{
	static const uint8_t v6loop[16] = { [15] = 1 };
	if (a->family == 4)
		return a->ip[0] == 127;
	if (a->family != 6)
		return false;
	if (memcmp(a->ip, v6loop, 16) == 0)
		return true;
	return memcmp(a->ip, v4mapped, 12) == 0 && a->ip[12] == 127;
}

bool addr_same_ip(const struct dht_addr *a, const struct dht_addr *b)
{
	if (a->family != b->family || (a->family != 4 && a->family != 6))
		return false;
	return memcmp(a->ip, b->ip, a->family == 4 ? 4 : 16) == 0;
}

void addr_host_key(const struct dht_addr *a, uint8_t key[ADDR_KEY_LEN])
{
	memset(key, 0, ADDR_KEY_LEN);
	if (a->family == 6 && memcmp(a->ip, v4mapped, 12) == 0) {
		key[0] = 4;
		memcpy(key + 1, a->ip + 12, 4);
	} else if (a->family == 4 || a->family == 6) {
		key[0] = a->family;
		memcpy(key + 1, a->ip, a->family == 4 ? 4 : 8);
	}
}

bool addr_is_unspecified(const struct dht_addr *a)
{
	static const uint8_t zero[16];
	if (a->family == 4)
		return memcmp(a->ip, zero, 4) == 0;
	return a->family == 6 && memcmp(a->ip, zero, 16) == 0;
}

int addr_from_sockaddr(const struct sockaddr *sa, socklen_t len, struct dht_addr *out)
{
	memset(out, 0, sizeof *out);
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		out->family = 4;
		memcpy(out->ip, &in->sin_addr, 4);
		out->port = ntohs(in->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		out->family = 6;
		memcpy(out->ip, &in6->sin6_addr, 16);
		out->port = ntohs(in6->sin6_port);
		return 0;
	}
	return -1;
}

socklen_t addr_to_sockaddr(const struct dht_addr *a, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof *out);
	if (a->family == 4) {
		struct sockaddr_in *in = (struct sockaddr_in *)out;
		in->sin_family = AF_INET;
		memcpy(&in->sin_addr, a->ip, 4);
		in->sin_port = htons(a->port);
		return sizeof *in;
	}
	if (a->family == 6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
		in6->sin6_family = AF_INET6;
		memcpy(&in6->sin6_addr, a->ip, 16);
		in6->sin6_port = htons(a->port);
		return sizeof *in6;
	}
	return 0;
}
