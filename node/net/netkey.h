/* node/net/netkey.h: the network key of a private ring (dhtnode --network-key FILE, made by
 * dhtctl keygen FILE): one 32-byte secret every member holds. Nothing uses it raw: each use
 * (sealing datagrams, the TCP handshake, discovery) derives its own subkey here, so that a key
 * broken or leaked in one use says nothing of another. The struct is the caller's; wipe it with
 * netkey_wipe when done. */
#ifndef NODE_NETKEY_H
#define NODE_NETKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NETKEY_LEN 32
#define NETKEY_TAG_LEN 4

struct netkey {
	uint8_t key[NETKEY_LEN];
};

/* What a subkey is for: its number in crypto_kdf (never reuse or renumber one). */
enum netkey_use {
	NETKEY_DATAGRAM = 1,  /* UDP datagrams between members */
	NETKEY_STREAM = 2,    /* the TCP handshake (peer wire, remote control) */
	NETKEY_DISCOVERY = 3, /* probes and answers looking for a ring on the LAN */
	NETKEY_TAG = 4,       /* the tag that tells one private ring's traffic from another's */
};

/* Make a new key file at PATH (mode 0600; refused if PATH exists). Return 0, or -1 with ERR set
 * to a sentence saying what to do. */
int netkey_generate(const char *path, char *err, size_t errcap);

/* Load the node's key from PATH: a regular file of the node's user, private to it, holding 64
 * hex digits and a newline. Return 0, or -1 with ERR set. */
int netkey_load(const char *path, struct netkey *out, char *err, size_t errcap);

/* Derive LEN bytes (16..64) of K's subkey for USE into OUT. */
void netkey_derive(const struct netkey *k, enum netkey_use use, uint8_t *out, size_t len);

/* The tag of K (a public name for the ring's key, as hex in logs and in datagrams' headers): it
 * tells members' traffic from another ring's without revealing anything of the key. */
void netkey_tag(const struct netkey *k, uint8_t tag[NETKEY_TAG_LEN]);

void netkey_wipe(struct netkey *k);

#endif
