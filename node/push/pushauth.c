/* Who may push. A push request is an Ed25519 signature (libsodium's crypto_sign_detached) by
 * one of the admin keys the node lists, over the request's fields and the id of the node it is
 * for: a request cannot be turned against another node, its time bounds how long it can be
 * replayed, and its nonce, remembered while the time is in the window, makes a replay within
 * the window a repeat of the first answer, not a second action. The order of the checks is
 * deliberate: nothing is remembered for a request whose signature has not been checked, so a
 * stranger cannot fill the memory. This file only judges; push.c acts. */
#include "node/push/pushauth.h"

#include <ctype.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "dht/bytes.h"

#define SIGN_TAG "dhtnode-push-v1"
#define SIGNED_MAX 128

static const char *const why_text[PUSH_WHY_COUNT] = {
	[PUSH_WHY_NONE] = "",
	[PUSH_WHY_NOT_ACCEPTING] = "the node does not take pushes (no --accept-push)",
	[PUSH_WHY_UNKNOWN_KEY] = "signed by a key the node does not list (--push-key)",
	[PUSH_WHY_BAD_SIGNATURE] = "the signature does not match the request",
	[PUSH_WHY_STALE] = "the request's time is more than 5 minutes from the node's clock",
	[PUSH_WHY_BUSY] = "too many pushes in the last minutes; try again later",
	[PUSH_WHY_FETCH_FAILED] = "the node could not fetch the content (see its log)",
	[PUSH_WHY_STOPPED] = "the fetch was stopped on the node",
	[PUSH_WHY_FORGOT] = "the node no longer knows the push (restarted?)",
};

static const char *const why_names[PUSH_WHY_COUNT] = {
	[PUSH_WHY_NONE] = "",           [PUSH_WHY_NOT_ACCEPTING] = "not_accepting",
	[PUSH_WHY_UNKNOWN_KEY] = "unknown_key", [PUSH_WHY_BAD_SIGNATURE] = "bad_signature",
	[PUSH_WHY_STALE] = "stale",     [PUSH_WHY_BUSY] = "busy",
	[PUSH_WHY_FETCH_FAILED] = "fetch_failed", [PUSH_WHY_STOPPED] = "stopped",
	[PUSH_WHY_FORGOT] = "forgot",
};

const char *push_why_str(unsigned why)
{
	return why < PUSH_WHY_COUNT ? why_text[why] : "an unknown reason";
}

const char *push_why_name(unsigned why)
{
	return why < PUSH_WHY_COUNT ? why_names[why] : "unknown";
}

bool push_keys_has(const struct push_keys *k, const uint8_t pk[DHT_PUSH_PK_LEN])
{
	for (size_t i = 0; i < k->n; i++)
		if (sodium_memcmp(k->pk[i], pk, DHT_PUSH_PK_LEN) == 0)
			return true;
	return false;
}

/* Add one key in hex (S, LEN bytes). Return 0, or -1 if it is not 64 hex digits. */
static int add_hex(struct push_keys *k, const char *s, size_t len, char *err, size_t errcap,
		   const char *where)
{
	uint8_t pk[DHT_PUSH_PK_LEN];
	size_t got = 0;
	if (len != 2 * DHT_PUSH_PK_LEN ||
	    sodium_hex2bin(pk, sizeof pk, s, len, NULL, &got, NULL) != 0 || got != sizeof pk) {
		snprintf(err, errcap, "%s: a push key is 64 hex digits (a node prints its own in "
			 "'dhtctl status' and its log)", where);
		return -1;
	}
	if (push_keys_has(k, pk))
		return 0;
	if (k->n == PUSH_MAX_KEYS) {
		snprintf(err, errcap, "%s: at most %d push keys", where, PUSH_MAX_KEYS);
		return -1;
	}
	memcpy(k->pk[k->n++], pk, sizeof pk);
	return 0;
}

/* A file of keys: one a line, blank lines and '#' comments allowed. */
static int add_file(struct push_keys *k, const char *path, char *err, size_t errcap)
{
	char line[256], where[300];
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errcap, "--push-key %s: not 64 hex digits, and not a readable file "
			 "of keys (%s)", path, strerror(errno));
		return -1;
	}
	int rc = 0;
	for (unsigned no = 1; rc == 0 && fgets(line, sizeof line, f) != NULL; no++) {
		snprintf(where, sizeof where, "--push-key %.200s line %u", path, no);
		char *hash = strchr(line, '#');
		if (hash != NULL)
			*hash = '\0';
		char *s = line, *e = line + strlen(line);
		while (s < e && isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		if (e > s)
			rc = add_hex(k, s, (size_t)(e - s), err, errcap, where);
	}
	fclose(f);
	if (rc == 0 && k->n == 0)
		snprintf(err, errcap, "--push-key %s: the file lists no key", path);
	return rc == 0 && k->n > 0 ? 0 : -1;
}

int push_keys_add(struct push_keys *k, const char *arg, char *err, size_t errcap)
{
	size_t len = strlen(arg);
	if (len == 2 * DHT_PUSH_PK_LEN && strspn(arg, "0123456789abcdefABCDEF") == len)
		return add_hex(k, arg, len, err, errcap, "--push-key");
	return add_file(k, arg, err, errcap);
}

/* The bytes signed: a tag, the target's id and every field of the request but the
 * signature. */
static size_t signed_bytes(const struct dht_msg *m, const struct dht_id *target,
			   uint8_t out[SIGNED_MAX])
{
	struct bwriter w;
	const struct dht_addr *a = &m->u.push.pusher;
	bw_init(&w, out, SIGNED_MAX);
	bw_bytes(&w, SIGN_TAG, strlen(SIGN_TAG));
	bw_bytes(&w, target->b, ID_BYTES);
	bw_bytes(&w, m->u.push.cid, DHT_PUSH_CID_LEN);
	bw_u8(&w, a->family);
	bw_bytes(&w, a->ip, sizeof a->ip);
	bw_u16(&w, a->port);
	bw_u64(&w, m->u.push.time_s);
	bw_bytes(&w, m->u.push.nonce, DHT_PUSH_NONCE_LEN);
	bw_bytes(&w, m->u.push.pk, DHT_PUSH_PK_LEN);
	return w.len;
}

void push_sign(struct dht_msg *m, const struct dht_id *target, const uint8_t *sk)
{
	uint8_t buf[SIGNED_MAX];
	size_t len = signed_bytes(m, target, buf);
	crypto_sign_detached(m->u.push.sig, NULL, buf, len, sk);
}

static const struct push_seen *find_seen(const struct push_replay *r, const uint8_t *nonce)
{
	for (size_t i = 0; i < r->n; i++) /* O(n), n at most PUSH_REPLAY_MAX */
		if (memcmp(r->e[i].nonce, nonce, DHT_PUSH_NONCE_LEN) == 0)
			return &r->e[i];
	return NULL;
}

static bool in_window(uint64_t t, uint64_t now_s)
{
	return t > now_s ? t - now_s <= PUSH_WINDOW_S : now_s - t <= PUSH_WINDOW_S;
}

enum push_check push_check(const struct push_keys *keys, const struct push_replay *replay,
			   const struct dht_msg *m, const struct dht_id *self, uint64_t now_s,
			   enum push_why *why, const struct push_seen **seen)
{
	uint8_t buf[SIGNED_MAX];
	*why = PUSH_WHY_NONE;
	if (!push_keys_has(keys, m->u.push.pk))
		*why = PUSH_WHY_UNKNOWN_KEY;
	else if (crypto_sign_verify_detached(m->u.push.sig, buf, signed_bytes(m, self, buf),
					     m->u.push.pk) != 0)
		*why = PUSH_WHY_BAD_SIGNATURE;
	else if (!in_window(m->u.push.time_s, now_s))
		*why = PUSH_WHY_STALE;
	if (*why != PUSH_WHY_NONE)
		return PUSH_CHECK_REFUSE;
	*seen = find_seen(replay, m->u.push.nonce);
	return *seen != NULL ? PUSH_CHECK_REPEAT : PUSH_CHECK_NEW;
}

struct push_seen *push_replay_add(struct push_replay *r, const struct dht_msg *m,
				  uint64_t now_s)
{
	size_t slot = r->n;
	for (size_t i = 0; slot == r->n && i < r->n; i++)
		if (!in_window(r->e[i].time_s, now_s))
			slot = i;
	if (slot == PUSH_REPLAY_MAX)
		return NULL;
	if (slot == r->n)
		r->n++;
	struct push_seen *e = &r->e[slot];
	memcpy(e->nonce, m->u.push.nonce, DHT_PUSH_NONCE_LEN);
	e->time_s = m->u.push.time_s;
	e->status = PUSH_REFUSED;
	e->reason = PUSH_WHY_FETCH_FAILED;
	return e;
}
