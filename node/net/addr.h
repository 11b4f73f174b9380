/* node/net/addr.h: transport addresses as people type them and as sockets want them: parse and
 * format "IP:PORT" (IPv6 in brackets), split "HOST:PORT" for names still to be resolved, and
 * convert struct dht_addr to and from struct sockaddr. The one parser of HOST:PORT for every
 * program (dhtnode's --listen and --join, dhtctl's --node and $DHTNODE, dhtlab), so that what
 * one accepts the others accept too. Pure: nothing resolves, nothing allocates. */
#ifndef NODE_ADDR_H
#define NODE_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dht/msg.h"

#define ADDR_STR_MAX 56 /* "[" + INET6_ADDRSTRLEN (45 + NUL) + "]:" + 5 digits of port */
#define ADDR_HOST_MAX 256

/* Parse a decimal port, 1..65535. Return 0, or -1 if S is anything else. */
int addr_parse_port(const char *s, uint16_t *port);

/* Split "HOST:PORT" or "[IPV6]:PORT" into HOST (NUL-terminated, at most HOSTCAP bytes with the
 * NUL) and PORT. Return 0, or -1 if the port is missing or invalid, the host is empty or too
 * long, or an IPv6 address is not in brackets (addr_explain says which). */
int addr_split(const char *s, char *host, size_t hostcap, uint16_t *port);

/* Parse an IP literal with a port ("127.0.0.1:4000", "[::1]:4000"). Return 0 or -1. */
int addr_parse(const char *s, struct dht_addr *out);

/* Write into ERR (ERRCAP bytes) why S is refused by addr_split (NEED_IP false) or addr_parse
 * (NEED_IP true), as a sentence naming S and showing a form that works, e.g. for "::1:4000":
 * "'::1:4000' has more than one ':': write an IPv6 address in brackets, like [::1]:4000".
 * For an S that is accepted, ERR says so. */
void addr_explain(const char *s, bool need_ip, char *err, size_t errcap);

/* Write "IP:PORT" (or "-" for family 0) into OUT. */
void addr_format(const struct dht_addr *a, char out[ADDR_STR_MAX]);

/* 127.0.0.0/8, ::1, or ::ffff:127.0.0.0/104 (IPv4 loopback seen through an IPv6 socket). */
bool addr_is_loopback(const struct dht_addr *a);

/* Same family and IP, whatever the ports. */
bool addr_same_ip(const struct dht_addr *a, const struct dht_addr *b);

/* Who is behind A, for limits and bans keyed by host rather than by what a peer claims: the
 * IPv4 address (also when seen through an IPv6 socket), or an IPv6 address's /64, since one
 * host commonly holds a whole /64. Ports never count. Writes ADDR_KEY_LEN bytes. */
#define ADDR_KEY_LEN 17
void addr_host_key(const struct dht_addr *a, uint8_t key[ADDR_KEY_LEN]);

/* 0.0.0.0 or :: : an address to bind to, but not one that others can reach. */
bool addr_is_unspecified(const struct dht_addr *a);

/* Convert an AF_INET or AF_INET6 socket address. Return 0, or -1 for any other family or a
 * LEN too short for it. */
int addr_from_sockaddr(const struct sockaddr *sa, socklen_t len, struct dht_addr *out);

/* Fill OUT from A; return the length to pass to bind() or sendto(), or 0 if A has no family. */
socklen_t addr_to_sockaddr(const struct dht_addr *a, struct sockaddr_storage *out);

#endif
