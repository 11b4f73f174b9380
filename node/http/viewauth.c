/* The web view's token: derived, compared in constant time, found in a header, a cookie or the
 * query. It decides nothing about who needs it: httpd.c asks access.h first. */
#include "node/http/viewauth.h"

#include <event2/keyvalq_struct.h>
#include <sodium.h>
#include <string.h>

#define LABEL "dhtnode web view token v1"

void viewauth_token(const uint8_t secret[CTLAUTH_KEY_LEN], char out[VIEWAUTH_TOKEN_HEX + 1])
{
	uint8_t mac[crypto_auth_BYTES];

	crypto_auth(mac, (const uint8_t *)LABEL, strlen(LABEL), secret);
	sodium_bin2hex(out, VIEWAUTH_TOKEN_HEX + 1, mac, sizeof mac);
	sodium_memzero(mac, sizeof mac);
}

/* Whether the LEN bytes at S are TOKEN, in time that does not depend on where they differ. */
static bool same_token(const char *s, size_t len, const char *token)
{
	return len == VIEWAUTH_TOKEN_HEX && sodium_memcmp(s, token, VIEWAUTH_TOKEN_HEX) == 0;
}

/* Find NAME=VALUE in a Cookie header ("a=1; b=2") and compare VALUE with TOKEN. */
static bool cookie_has(const char *cookies, const char *token)
{
	const size_t nlen = strlen(VIEWAUTH_COOKIE);
	for (const char *p = cookies; p != NULL && *p != '\0';) {
		p += strspn(p, " ");
		size_t len = strcspn(p, ";");
		if (len > nlen && strncmp(p, VIEWAUTH_COOKIE "=", nlen + 1) == 0 &&
		    same_token(p + nlen + 1, len - nlen - 1, token))
			return true;
		p = p[len] == ';' ? p + len + 1 : NULL;
	}
	return false;
}

bool viewauth_carries(struct evhttp_request *req, const char *token)
{
	const struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	const char *auth = evhttp_find_header(h, "Authorization");
	if (auth != NULL && strncmp(auth, "Bearer ", 7) == 0 &&
	    same_token(auth + 7, strlen(auth + 7), token))
		return true;
	return cookie_has(evhttp_find_header(h, "Cookie"), token);
}

bool viewauth_query_has(const char *query, const char *token)
{
	struct evkeyvalq q;
	bool ok = false;

	if (query == NULL || evhttp_parse_query_str(query, &q) != 0)
		return false;
	const char *t = evhttp_find_header(&q, "token");
	ok = t != NULL && same_token(t, strlen(t), token);
	evhttp_clear_headers(&q);
	return ok;
}
