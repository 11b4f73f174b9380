/* node/http/viewauth.h: the web view's token, for clients that are neither the node's own user
 * nor root (another user of the machine, or another machine when --http is wider than
 * loopback). The token is derived from the control secret (an HMAC of a fixed label), so the
 * secret itself never travels; the node logs the view's address with it, as Jupyter does. A
 * browser trades it once (/?token=T) for a cookie; scripts send "Authorization: Bearer T".
 * Nothing here allocates. */
#ifndef NODE_HTTP_VIEWAUTH_H
#define NODE_HTTP_VIEWAUTH_H

#include <event2/http.h>
#include <stdbool.h>
#include <stdint.h>

#include "node/control/ctlauth.h"

#define VIEWAUTH_TOKEN_HEX (2 * 32)
#define VIEWAUTH_COOKIE "dhtnode_view"

/* Write the token for SECRET into OUT as hex, NUL-terminated. */
void viewauth_token(const uint8_t secret[CTLAUTH_KEY_LEN], char out[VIEWAUTH_TOKEN_HEX + 1]);

/* Whether REQ carries TOKEN in its Authorization header (Bearer) or its cookie. */
bool viewauth_carries(struct evhttp_request *req, const char *token);

/* Whether QUERY (the URI's query string, may be NULL) is token=TOKEN. */
bool viewauth_query_has(const char *query, const char *token);

#endif
