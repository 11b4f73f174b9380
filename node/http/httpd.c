/* The web view's HTTP server on evhttp. It routes GET requests: "/" the page (embedded at build
 * time from node/http/page/, see page.h), "/metrics" (metrics.c), "/api/transfers" (api.c), and
 * "/api/status", "/api/ring", "/api/list", "/api/lookup?key=K" which it runs through the
 * control runner exactly as dhtctl's requests are run, so the page and dhtctl show the same
 * numbers and a lookup from the page is dht_lookup with its path.
 *
 * Like the control port, it serves the node's own user and root on this machine (access.h): the
 * view shows paths and runs lookups, which others may not. Anyone else (another user, another
 * machine when the view listens beyond loopback, which needs the control secret) must show the
 * view's token (viewauth.h), derived from that secret. A browser page on another site could still aim requests at loopback, so requests
 * must name the host as an IP literal or "localhost" (no DNS rebinding), only GET and HEAD are
 * served (nothing here changes the node), and answers forbid framing and sniffing. Requests
 * waiting for the ring are bounded (HTTPD_MAX_PENDING); past that, 503. */
#include "node/http/httpd.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/control/access.h"
#include "node/http/api.h"
#include "node/http/metrics.h"
#include "node/http/viewauth.h"
#include "node/http/page.h"
#include "node/log.h"
#include "node/net/addr.h"

#define HTTPD_MAX_PENDING 32

/* A request waiting for its control operation to answer. */
struct pending {
	struct pending *prev, *next;
	struct httpd *h;
	struct evhttp_request *req;
	struct ctl_op *op;
	bool starting, done;
};

struct httpd {
	struct httpd_config cfg;
	bool has_token;
	char token[VIEWAUTH_TOKEN_HEX + 1];
	struct evhttp *http;
	struct pending *pending;
	unsigned npending;
};

static void set_common_headers(struct evhttp_request *req, const char *type)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Content-Type", type);
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
}

static void send_text(struct evhttp_request *req, int code, const char *reason,
		      const char *type, const char *body, size_t len)
{
	struct evbuffer *b = evbuffer_new();
	set_common_headers(req, type);
	if (b != NULL && evbuffer_add(b, body, len) == 0) {
		evhttp_send_reply(req, code, reason, b);
	} else {
		evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
	}
	if (b != NULL)
		evbuffer_free(b);
}

static void send_json_line(struct evhttp_request *req, const char *line)
{
	send_text(req, HTTP_OK, "OK", "application/json", line, strlen(line));
}

static void send_json(struct evhttp_request *req, json_t *obj)
{
	char *line = obj != NULL ? json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
	json_decref(obj);
	if (line == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
		return;
	}
	send_json_line(req, line);
	free(line);
}

static void send_error(struct evhttp_request *req, int code, const char *reason,
		       const char *ctl_code, const char *msg)
{
	json_t *o = json_pack("{s:b, s:s, s:s}", "ok", 0, "code", ctl_code, "error", msg);
	char *line = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (line == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
		return;
	}
	send_text(req, code, reason, "application/json", line, strlen(line));
	free(line);
}

static void pending_free(struct pending *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		p->h->pending = p->next;
	if (p->next)
		p->next->prev = p->prev;
	p->h->npending--;
	free(p);
}

static void on_ctl_reply(void *arg, const char *line, bool more)
{
	struct pending *p = arg;
	if (more)
		return; /* the commands run from here do not stream */
	send_json_line(p->req, line);
	p->done = true;
	if (!p->starting)
		pending_free(p);
}

/* Run the control request LINE for REQ; the answer goes back as JSON. */
static void run_ctl(struct httpd *h, struct evhttp_request *req, const char *line)
{
	struct ctl_request *cr = malloc(sizeof *cr);
	struct ctl_error err;
	if (cr == NULL || h->npending >= HTTPD_MAX_PENDING) {
		free(cr);
		send_error(req, HTTP_SERVUNAVAIL, "Busy", "full",
			   "too many requests wait for the ring; try again in a moment");
		return;
	}
	if (ctl_parse_request(line, strlen(line), dht_bits(h->cfg.d), cr, &err) != 0) {
		free(cr);
		send_error(req, HTTP_BADREQUEST, "Bad Request", ctl_code_str(err.code), err.msg);
		return;
	}
	struct pending *p = calloc(1, sizeof *p);
	if (p == NULL) {
		free(cr);
		evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
		return;
	}
	*p = (struct pending){ .next = h->pending, .h = h, .req = req, .starting = true };
	if (h->pending)
		h->pending->prev = p;
	h->pending = p;
	h->npending++;
	p->op = ctlcmd_start(h->cfg.cmd, cr, on_ctl_reply, p);
	free(cr);
	p->starting = false;
	if (p->done)
		pending_free(p);
}

/* /api/lookup?key=TEXT: the control protocol's lookup of TEXT. */
static void api_lookup(struct httpd *h, struct evhttp_request *req, const char *query)
{
	struct evkeyvalq q = { 0 };
	const char *key = NULL;
	if (query != NULL && evhttp_parse_query_str(query, &q) == 0)
		key = evhttp_find_header(&q, "key");
	json_t *o = key != NULL ? json_pack("{s:s, s:s}", "cmd", "lookup", "key", key) : NULL;
	char *line = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	evhttp_clear_headers(&q);
	if (line == NULL) {
		send_error(req, HTTP_BADREQUEST, "Bad Request", "usage",
			   "give the key to look up as /api/lookup?key=TEXT (UTF-8, URL-encoded)");
		return;
	}
	run_ctl(h, req, line);
	free(line);
}

static void serve_metrics(struct httpd *h, struct evhttp_request *req)
{
	struct evbuffer *b = evbuffer_new();
	if (b == NULL || metrics_write(b, h->cfg.d, h->cfg.seal, h->cfg.files) != 0) {
		evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
	} else {
		set_common_headers(req, "text/plain; version=0.0.4; charset=utf-8");
		evhttp_send_reply(req, HTTP_OK, "OK", b);
	}
	if (b != NULL)
		evbuffer_free(b);
}

static void serve_page(struct evhttp_request *req)
{
	struct evkeyvalq *hd = evhttp_request_get_output_headers(req);
	/* Everything the page needs is inline; it may only talk back to this server. */
	evhttp_add_header(hd, "Content-Security-Policy",
			  "default-src 'none'; script-src 'unsafe-inline'; style-src "
			  "'unsafe-inline'; connect-src 'self'; img-src data:; "
			  "frame-ancestors 'none'");
	send_text(req, HTTP_OK, "OK", "text/html; charset=utf-8", http_page, http_page_len);
}

/* Whether the Host the request names is an IP literal or localhost: a page of another site
 * that got its name to resolve to loopback (DNS rebinding) sends its own name. */
static bool host_allowed(struct evhttp_request *req)
{
	const char *host = evhttp_find_header(evhttp_request_get_input_headers(req), "Host");
	char name[ADDR_HOST_MAX];
	uint16_t port;
	struct dht_addr a;
	if (host == NULL)
		return true; /* HTTP/1.0 without Host: not a browser */
	if (addr_split(host, name, sizeof name, &port) != 0 &&
	    snprintf(name, sizeof name, "%s", host) >= (int)sizeof name)
		return false;
	char lit[ADDR_HOST_MAX + 8];
	snprintf(lit, sizeof lit, strchr(name, ':') != NULL ? "[%s]:1" : "%s:1", name);
	return strcmp(name, "localhost") == 0 || addr_parse(lit, &a) == 0;
}

static void route(struct httpd *h, struct evhttp_request *req, const char *path,
		  const char *query)
{
	if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0)
		serve_page(req);
	else if (strcmp(path, "/metrics") == 0)
		serve_metrics(h, req);
	else if (strcmp(path, "/api/status") == 0)
		run_ctl(h, req, "{\"cmd\":\"status\"}");
	else if (strcmp(path, "/api/ring") == 0)
		run_ctl(h, req, "{\"cmd\":\"ring\",\"max\":256}");
	else if (strcmp(path, "/api/list") == 0)
		run_ctl(h, req, "{\"cmd\":\"list\"}");
	else if (strcmp(path, "/api/transfers") == 0)
		send_json(req, api_transfers(h->cfg.files));
	else if (strcmp(path, "/api/lookup") == 0)
		api_lookup(h, req, query);
	else
		send_error(req, HTTP_NOTFOUND, "Not Found", "not_found",
			   "no such page; the view is at /, the JSON under /api/ "
			   "(docs/control.md), metrics at /metrics");
}

/* A browser that opened /?token=T: keep T in a cookie and show the page without it in the
 * address bar (where it would be bookmarked and shared). */
static void trade_token(struct httpd *h, struct evhttp_request *req)
{
	char cookie[sizeof VIEWAUTH_COOKIE + VIEWAUTH_TOKEN_HEX + 64];
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);

	snprintf(cookie, sizeof cookie, "%s=%s; Path=/; HttpOnly; SameSite=Strict", VIEWAUTH_COOKIE,
		 h->token);
	evhttp_add_header(out, "Set-Cookie", cookie);
	evhttp_add_header(out, "Location", "/");
	evhttp_add_header(out, "Cache-Control", "no-store");
	evhttp_send_reply(req, 303, "See Other", NULL);
}

/* Whether the client may see the view: the node's own user or root, or anyone showing the
 * token. If not, answer saying why (and return false); a browser trading its token is answered
 * here too. */
static bool client_allowed(struct httpd *h, struct evhttp_request *req, const char *path,
			   const char *query)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	struct bufferevent *bev = conn != NULL ? evhttp_connection_get_bufferevent(conn) : NULL;
	char why[256];
	uid_t uid = 0;
	enum access_verdict v = bev != NULL ? access_check(bufferevent_getfd(bev), &uid)
					    : ACCESS_ERROR;
	if (v == ACCESS_OK || (h->has_token && viewauth_carries(req, h->token)))
		return true;
	if (h->has_token && strcmp(path, "/") == 0 && viewauth_query_has(query, h->token)) {
		trade_token(h, req);
		return false;
	}
	if (h->has_token) {
		send_error(req, 401, "Unauthorized", "denied",
			   "this view needs its token: open the address with ?token= that the "
			   "node logged at start, or send 'Authorization: Bearer TOKEN'");
		return false;
	}
	access_refusal(v, uid, "", why, sizeof why);
	send_error(req, 403, "Forbidden", "denied", why);
	return false;
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct httpd *h = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	if (path == NULL || path[0] == '\0')
		path = "/";
	if (!client_allowed(h, req, path, uri != NULL ? evhttp_uri_get_query(uri) : NULL))
		return;
	if (!host_allowed(req)) {
		send_error(req, 403, "Forbidden", "usage",
			   "the Host header must be an IP address or localhost");
		return;
	}
	route(h, req, path, evhttp_uri_get_query(uri));
}

struct httpd *httpd_new(const struct httpd_config *cfg, char *err, size_t errcap)
{
	char a[ADDR_STR_MAX], ip[ADDR_HOST_MAX];
	uint16_t port;
	addr_format(&cfg->addr, a);
	if (!addr_is_loopback(&cfg->addr) && cfg->secret == NULL) { /* args.c says why */
		snprintf(err, errcap, "--http %s: beyond loopback the view needs the control secret", a);
		return NULL;
	}
	struct httpd *h = calloc(1, sizeof *h);
	if (h == NULL || (h->http = evhttp_new(cfg->base)) == NULL) {
		snprintf(err, errcap, "cannot start the HTTP server (out of memory)");
		free(h);
		return NULL;
	}
	h->cfg = *cfg;
	h->cfg.secret = NULL; /* not kept: the token is all the server needs */
	if (cfg->secret != NULL) {
		viewauth_token(cfg->secret, h->token);
		h->has_token = true;
	}
	addr_split(a, ip, sizeof ip, &port);
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_max_headers_size(h->http, 8192);
	evhttp_set_max_body_size(h->http, 0);
	evhttp_set_timeout(h->http, 30);
	evhttp_set_gencb(h->http, on_request, h);
	if (evhttp_bind_socket_with_handle(h->http, ip, port) == NULL) {
		snprintf(err, errcap, "--http %s: cannot listen there (the port in use by another "
			 "program?); choose another port", a);
		httpd_free(h);
		return NULL;
	}
	if (h->has_token)
		log_info("web view on http://%s/ (metrics at /metrics); other users and machines "
			 "open http://%s/?token=%s", a, a, h->token);
	else
		log_info("web view on http://%s/ (metrics at /metrics)", a);
	return h;
}

void httpd_free(struct httpd *h)
{
	if (h == NULL)
		return;
	while (h->pending) {
		ctlcmd_cancel(h->pending->op);
		pending_free(h->pending);
	}
	evhttp_free(h->http);
	free(h);
}
