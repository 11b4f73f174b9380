/* dhtnode: one node of the DHT as a foreground process. main() composes the pieces (arguments,
 * data directory and key, the two sockets, the UDP adapter around the Chord core, the transfer
 * manager, the control server, and the TCP listener that hands each connection to the control
 * server or to the transfers' peer wire), starts or
 * joins a ring, resumes the transfers the data directory remembers, and runs the libevent loop
 * until a signal makes the node leave. It holds no protocol logic and does not daemonize: a
 * service manager or a terminal runs it, and stderr is its log. */
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/args.h"
#include "node/control/ctlauth.h"
#include "node/control/ctlcmd.h"
#include "node/control/ctlserver.h"
#include "node/http/httpd.h"
#include "node/identity.h"
#include "node/log.h"
#include "node/net/addr.h"
#include "node/net/discovery.h"
#include "node/net/iface.h"
#include "node/net/listener.h"
#include "node/net/peerconn.h"
#include "node/net/netkey.h"
#include "node/net/sock.h"
#include "node/net/udp.h"
#include "node/push/push.h"
#include "node/xfer/xfer.h"

#define LINGER_MS 200 /* after dht_leave, so that the handoff and goodbyes leave the socket */

struct app {
	struct node_args args;
	struct dht_config cfg;
	char data_dir[4096];
	struct event_base *base;
	struct evdns_base *dns;
	struct evdns_getaddrinfo_request *dns_req;
	struct udp_dht *udp;
	struct ctlcmd *cmd;
	struct ctlserver *ctl;
	struct listener *tcp;
	struct xfer_mgr *files;
	struct httpd *http;
	struct identity ident;   /* kept for signing pushes (node/push) */
	struct push_keys push_keys;
	struct push_node *push;
	struct event *sigint, *sigterm, *linger;
	struct discovery *disco; /* NULL with --no-discovery */
	int udp_fd, tcp_fd; /* until the adapter and the server own them */
	int lock_fd;
	bool has_secret;
	uint8_t secret[CTLAUTH_KEY_LEN]; /* --control-secret */
	bool keyed;                      /* --network-key: a private ring */
	struct netkey netkey;
	int exit_code;
	bool leaving;
};

/* Stop the loop with a failure. */
static void fail(struct app *app)
{
	app->exit_code = 1;
	event_base_loopbreak(app->base);
}

static void on_libevent_log(int severity, const char *msg)
{
	enum dht_log_level l = severity >= EVENT_LOG_ERR ? DHT_LOG_ERROR
			       : severity == EVENT_LOG_WARN ? DHT_LOG_WARN
			       : severity == EVENT_LOG_MSG ? DHT_LOG_INFO
							    : DHT_LOG_DEBUG;
	log_msg(l, "libevent: %s", msg);
}

/* The data directory, the lock on it, and the key; then this node's id. */
static int load_identity(struct app *app)
{
	char err[512];
	struct identity *ident = &app->ident;
	const struct node_args *a = &app->args;
	char name[ADDR_STR_MAX];
	addr_format(&a->listen, name);
	*strrchr(name, ':') = '-'; /* "127.0.0.2-4000": the address and port key the directory */
	if (a->data_dir != NULL)
		snprintf(app->data_dir, sizeof app->data_dir, "%s", a->data_dir);
	else if (datadir_default(app->data_dir, sizeof app->data_dir, getenv("XDG_STATE_HOME"),
				 getenv("HOME"), name) != 0) {
		log_error("the default data directory path is too long; give one with --data-dir");
		return -1;
	}
	app->lock_fd = datadir_open(app->data_dir, err, sizeof err);
	enum identity_result r = app->lock_fd < 0 ? IDENTITY_FAILED
			       : identity_load(app->data_dir, ident, err, sizeof err);
	if (r == IDENTITY_FAILED) {
		log_error("%s", err);
		return -1;
	}
	log_info("%s key in %s/%s", r == IDENTITY_CREATED ? "created a new" : "loaded the",
		 app->data_dir, IDENTITY_FILE);
	if (a->has_id)
		app->cfg.self.id = a->id;
	else
		id_from_key(&app->cfg.self.id, ident->pk, sizeof ident->pk, a->bits);
	/* The core proves our id with this key (dht/proof.h). In a private ring every member is
	 * trusted by holding the network key, so ids may be chosen there (--id). */
	memcpy(app->cfg.sign_pk, ident->pk, sizeof app->cfg.sign_pk);
	memcpy(app->cfg.sign_sk, ident->sk, sizeof app->cfg.sign_sk);
	app->cfg.trust_chosen_ids = app->keyed;
	char pk[2 * sizeof ident->pk + 1];
	sodium_bin2hex(pk, sizeof pk, ident->pk, sizeof ident->pk);
	log_info("public key %s (what other nodes' --push-key names)", pk);
	return 0;
}

/* --network-key: load it. Return 0, or -1 having said what is wrong with the file. */
static int load_network_key(struct app *app)
{
	char err[512];
	uint8_t tag[NETKEY_TAG_LEN];
	char hex[2 * NETKEY_TAG_LEN + 1];
	if (app->args.network_key == NULL) {
		log_info("open ring: no network key, so any node that reaches this one may join");
		return 0;
	}
	if (netkey_load(app->args.network_key, &app->netkey, err, sizeof err) != 0) {
		log_error("%s", err);
		return -1;
	}
	app->keyed = true;
	netkey_tag(&app->netkey, tag);
	sodium_bin2hex(hex, sizeof hex, tag, sizeof tag);
	log_info("private ring: network key %s (tag %s)", app->args.network_key, hex);
	return 0;
}

/* --control-secret: load it, or make it on first start. */
static int load_secret(struct app *app)
{
	char err[512];
	const char *path = app->args.control_secret;
	if (path == NULL)
		return 0;
	switch (ctlauth_load(path, true, app->secret, err, sizeof err)) {
	case CTLAUTH_FAILED:
		log_error("%s", err);
		return -1;
	case CTLAUTH_CREATED:
		log_info("created the control secret %s; copy it to the machines that run "
			 "dhtctl --secret FILE", path);
		break;
	case CTLAUTH_LOADED:
		break;
	}
	app->has_secret = true;
	return 0;
}

static void make_config(struct app *app)
{
	const struct node_args *a = &app->args;
	dht_config_default(&app->cfg);
	app->cfg.bits = a->bits;
	app->cfg.succ_len = a->succ_len;
	app->cfg.kv_replicas = a->replicas;
	app->cfg.kv_max_bytes = (size_t)a->store_max;
	app->cfg.self.addr = a->listen;
}

static void on_linger(evutil_socket_t fd, short what, void *arg)
{
	struct app *app = arg;
	(void)fd;
	(void)what;
	log_info("left the ring; bye");
	event_base_loopbreak(app->base);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct app *app = arg;
	static const struct timeval linger = { .tv_usec = LINGER_MS * 1000 };
	(void)what;
	if (app->leaving) {
		log_warn("second signal: exiting at once, without waiting for the leave to finish");
		fail(app);
		return;
	}
	app->leaving = true;
	log_info("%s: leaving the ring (a second signal exits at once)",
		 sig == SIGINT ? "SIGINT" : "SIGTERM");
	dht_leave(udp_dht_core(app->udp));
	evtimer_add(app->linger, &linger);
}

static void on_joined(void *arg, enum dht_status status)
{
	struct app *app = arg;
	const struct node_args *a = &app->args;
	char hex[ID_HEX_MAX];
	id_to_hex(&app->cfg.self.id, a->bits, hex);
	if (app->leaving)
		return; /* a signal came during the join: the leave is what matters now */
	if (status == DHT_OK) {
		log_info("joined the ring via %s:%u as id %s", a->join_host, (unsigned)a->join_port,
			 hex);
		if (app->disco)
			discovery_member(app->disco);
	} else if (status != DHT_ERR_ID_TAKEN && app->disco && !a->join) {
		log_warn("the join via %s:%u failed (%s); looking for the ring again", a->join_host,
			 (unsigned)a->join_port, dht_status_str(status));
		discovery_retry(app->disco);
	} else if (status == DHT_ERR_ID_TAKEN) {
		log_error("the ring already has a node with id %s; give this node another --id, or "
			  "another --data-dir (a new key gives a new id)", hex);
		fail(app);
	} else {
		log_error("no answer from %s:%u: is a dhtnode running there, with --id-bits %u "
			  "like this one? Check the address, the port and any firewall (%s); %s",
			  a->join_host, (unsigned)a->join_port, a->bits, dht_status_str(status),
			  app->keyed ? "this node uses a network key, so the target may be an open "
				       "ring, or a ring with another key"
				     : "if that ring uses a network key, start this node with "
				       "--network-key FILE to join it");
		fail(app);
	}
}

static void on_resolved(int result, struct evutil_addrinfo *res, void *arg)
{
	struct app *app = arg;
	const struct node_args *a = &app->args;
	struct dht_addr via;
	app->dns_req = NULL;
	if (result == EVUTIL_EAI_CANCEL)
		return;
	if (result != 0 || addr_from_sockaddr(res->ai_addr, res->ai_addrlen, &via) != 0) {
		log_error("cannot resolve --join %s: %s; check the name, or give an IP address",
			  a->join_host, result != 0 ? evutil_gai_strerror(result) : "no address");
		fail(app);
	} else if (dht_addr_eq(&via, &a->listen)) {
		log_error("--join %s:%u is this node itself; give the address of a node already "
			  "in the ring, or leave out --join to start a new ring", a->join_host,
			  (unsigned)a->join_port);
		fail(app);
	} else if (dht_join(udp_dht_core(app->udp), &via, on_joined, app) != 0) {
		log_error("cannot start the join (out of memory)");
		fail(app);
	}
	if (res != NULL)
		evutil_freeaddrinfo(res);
}

/* Resolve the --join host with evdns (IP literals, /etc/hosts and DNS), then join. */
static int start_join(struct app *app)
{
	const struct node_args *a = &app->args;
	struct evutil_addrinfo hints;
	char port[8];
	memset(&hints, 0, sizeof hints);
	hints.ai_family = a->listen.family == 4 ? AF_INET : AF_INET6;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_protocol = IPPROTO_UDP;
	snprintf(port, sizeof port, "%u", (unsigned)a->join_port);
	app->dns = evdns_base_new(app->base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
					     EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (app->dns == NULL) {
		/* No usable resolv.conf: names in /etc/hosts and IP literals still work. */
		app->dns = evdns_base_new(app->base, 0);
		if (app->dns == NULL || evdns_base_load_hosts(app->dns, NULL) != 0)
			log_warn("no resolver configuration; only IP addresses work with --join");
	}
	if (app->dns == NULL) {
		log_error("cannot set up name resolution for --join");
		return -1;
	}
	log_info("joining the ring via %s:%u", a->join_host, (unsigned)a->join_port);
	app->dns_req = evdns_getaddrinfo(app->dns, a->join_host, port, &hints, on_resolved, app);
	return 0;
}

/* Discovery found a ring: join through the member that answered. */
static void on_disco_join(void *arg, const struct dht_addr *via)
{
	struct app *app = arg;
	char s[ADDR_STR_MAX];

	addr_format(via, s);
	addr_split(s, app->args.join_host, sizeof app->args.join_host, &app->args.join_port);
	if (dht_join(udp_dht_core(app->udp), via, on_joined, app) != 0) {
		log_error("cannot start the join (out of memory)");
		fail(app);
	}
}

static void found_ring(struct app *app)
{
	char addr[ADDR_STR_MAX];

	addr_format(&app->args.listen, addr);
	dht_create(udp_dht_core(app->udp));
	if (app->disco)
		discovery_member(app->disco);
	log_info("started a new ring; others join with --join %s%s", addr,
		 app->disco ? " or find it on the local network" : "");
}

static void on_disco_found(void *arg)
{
	found_ring(arg);
}

static void on_disco_candidate(void *arg, const struct dht_node *node)
{
	struct app *app = arg;
	dht_merge_hint(udp_dht_core(app->udp), node);
}

/* --listen IFACE:PORT: that interface's address. */
static int listen_address(struct node_args *a)
{
	char err[512];

	if (!a->listen_iface[0])
		return 0;
	if (iface_addr(a->listen_iface, a->listen.port, &a->listen, err, sizeof err) != 0) {
		fprintf(stderr, "dhtnode: --listen %s:%u: %s\n", a->listen_iface,
			(unsigned)a->listen.port, err);
		return -1;
	}
	return 0;
}

/* Bind first: a port in use is the likeliest failure, and it should not leave a new key behind. */
static int open_sockets(struct app *app)
{
	char err[512];
	app->udp_fd = sock_open(&app->args.listen, SOCK_DGRAM, err, sizeof err);
	if (app->udp_fd >= 0)
		app->tcp_fd = sock_open(&app->args.listen, SOCK_STREAM, err, sizeof err);
	if (app->udp_fd < 0 || app->tcp_fd < 0) {
		log_error("%s", err);
		return -1;
	}
	return 0;
}

static struct xfer_mgr *make_files(struct app *app)
{
	struct xfer_config xc = {
		.data_dir = app->data_dir,
		.d = udp_dht_core(app->udp),
		.self = app->args.listen,
		.up_rate = app->args.up_rate,
		.down_rate = app->args.down_rate,
		.debug_corrupt = app->args.debug_corrupt,
	};
	if (app->args.debug_corrupt)
		log_warn("--debug-corrupt-uploads: every block this node uploads is corrupt");
	struct xfer_mgr *m = xfer_mgr_new(app->base, &xc);
	if (m != NULL && app->keyed &&
	    pnet_seal(xfer_mgr_net(m), &app->netkey, app->ident.pk, app->ident.sk) != 0) {
		xfer_mgr_free(m);
		return NULL;
	}
	return m;
}

static int start_http(struct app *app)
{
	char err[512];
	struct httpd_config hc = {
		.base = app->base, .d = udp_dht_core(app->udp), .files = app->files,
		.cmd = app->cmd, .seal = udp_dht_seal_stats(app->udp), .addr = app->args.http,
		.secret = app->has_secret ? app->secret : NULL,
	};
	app->http = httpd_new(&hc, err, sizeof err);
	if (app->http == NULL)
		log_error("%s", err);
	return app->http != NULL ? 0 : -1;
}

/* The push side: refuse every push, or take them into --accept-push's directory. */
static struct push_node *make_push(struct app *app)
{
	struct stat st;
	const char *dir = app->args.accept_push;
	if (dir != NULL && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || access(dir, W_OK) != 0)) {
		log_error("--accept-push %s: not a directory this node can write to; create it, or "
			  "give another", dir);
		return NULL;
	}
	struct push_config pc = { .d = udp_dht_core(app->udp), .files = app->files,
				  .ident = &app->ident, .accept_dir = dir, .keys = &app->push_keys };
	struct push_node *p = push_node_new(&pc);
	if (p != NULL) {
		udp_dht_set_app(app->udp, push_node_request, p);
		if (dir != NULL)
			log_info("taking pushes into %s, signed by a --push-key (%zu given)", dir,
				 app->push_keys.n);
	}
	return p;
}

/* The core, the transfers, the control server and the signal handlers. */
static int setup(struct app *app)
{
	app->base = event_base_new();
	if (app->base == NULL) {
		log_error("cannot create the event loop");
		return -1;
	}
	app->udp = udp_dht_new(app->base, app->udp_fd, &app->cfg);
	app->udp_fd = -1;
	if (app->udp != NULL && app->keyed && udp_dht_seal(app->udp, &app->netkey) != 0) {
		log_error("cannot set up sealing (out of memory)");
		return -1;
	}
	app->files = app->udp ? make_files(app) : NULL;
	app->push = app->files ? make_push(app) : NULL;
	app->cmd = app->push ? ctlcmd_new(app->base, udp_dht_core(app->udp)) : NULL;
	if (app->cmd != NULL) {
		ctlcmd_set_files(app->cmd, app->files);
		ctlcmd_set_push(app->cmd, app->push);
		ctlcmd_set_writer(app->cmd, app->ident.sk);
		ctlcmd_set_seal(app->cmd, udp_dht_seal_stats(app->udp));
		app->ctl = ctlserver_new(app->cmd, app->args.bits, app->args.control_any,
					 &app->args.listen, app->has_secret ? app->secret : NULL);
	}
	if (app->ctl != NULL && app->keyed &&
	    ctlserver_seal(app->ctl, &app->netkey, app->ident.pk, app->ident.sk) != 0) {
		log_error("cannot set up the keyed control channel (out of memory)");
		return -1;
	}
	if (app->ctl != NULL) {
		struct listener_takers t = {
			.control = ctlserver_take, .control_arg = app->ctl,
			.peer = pnet_accept, .peer_arg = xfer_mgr_net(app->files),
		};
		app->tcp = listener_new(app->base, app->tcp_fd, &t);
		app->tcp_fd = -1;
	}
	if (app->tcp != NULL && app->args.http.family != 0 && start_http(app) != 0)
		return -1;
	app->sigint = evsignal_new(app->base, SIGINT, on_signal, app);
	app->sigterm = evsignal_new(app->base, SIGTERM, on_signal, app);
	app->linger = evtimer_new(app->base, on_linger, app);
	if (app->tcp == NULL || app->sigint == NULL || app->sigterm == NULL ||
	    app->linger == NULL || evsignal_add(app->sigint, NULL) != 0 ||
	    evsignal_add(app->sigterm, NULL) != 0) {
		log_error("cannot set up the node (out of memory?)");
		return -1;
	}
	return 0;
}

static int start(struct app *app)
{
	char hex[ID_HEX_MAX], addr[ADDR_STR_MAX];
	id_to_hex(&app->cfg.self.id, app->args.bits, hex);
	addr_format(&app->args.listen, addr);
	log_info("dhtnode %s: id %s (%u bits), UDP and TCP on %s, control by this user and root "
		 "on this machine%s", DHT_VERSION, hex, app->args.bits, addr,
		 app->args.control_any ? ", and from anywhere with the control secret"
		 : app->has_secret ? ", and by whoever proves the control secret" : "");
	/* Transfers resume before the ring is joined: their DHT calls retry until it is. */
	xfer_mgr_resume(app->files);
	bool seek = !app->args.join && !app->args.new_ring;
	if (!app->args.no_discovery) {
		struct discovery_cb cb = { on_disco_join, on_disco_found, on_disco_candidate, app };
		app->disco = discovery_new(app->base, &app->cfg.self.id, &app->args.listen,
					   app->args.bits, seek, &cb);
		if (app->disco != NULL && app->keyed && discovery_seal(app->disco, &app->netkey) != 0) {
			discovery_free(app->disco);
			app->disco = NULL;
		}
		if (app->disco == NULL) {
			log_error("cannot set up ring discovery (out of memory)");
			return -1;
		}
		if (seek) {
			log_info("looking for a ring on the local network");
			return 0;
		}
	}
	if (app->args.join)
		return start_join(app);
	found_ring(app);
	return 0;
}

static void teardown(struct app *app)
{
	if (app->dns_req)
		evdns_getaddrinfo_cancel(app->dns_req);
	if (app->dns)
		evdns_base_free(app->dns, 0);
	httpd_free(app->http); /* before the runner: it cancels its operations there */
	discovery_free(app->disco);
	listener_free(app->tcp);
	ctlserver_free(app->ctl);
	xfer_mgr_free(app->files); /* before the core: it forgets its DHT calls, which die with it */
	udp_dht_free(app->udp);
	ctlcmd_free(app->cmd); /* after the core: it frees what the core dropped */
	push_node_free(app->push);
	sodium_memzero(&app->ident, sizeof app->ident);
	sodium_memzero(app->cfg.sign_sk, sizeof app->cfg.sign_sk);
	if (app->sigint)
		event_free(app->sigint);
	if (app->sigterm)
		event_free(app->sigterm);
	if (app->linger)
		event_free(app->linger);
	if (app->base)
		event_base_free(app->base);
	if (app->udp_fd >= 0)
		close(app->udp_fd);
	if (app->tcp_fd >= 0)
		close(app->tcp_fd);
	if (app->lock_fd >= 0)
		close(app->lock_fd);
	sodium_memzero(app->secret, sizeof app->secret);
	netkey_wipe(&app->netkey);
}

int main(int argc, char **argv)
{
	static struct app app = { .udp_fd = -1, .tcp_fd = -1, .lock_fd = -1 };
	char err[512];
	switch (args_parse(argc, argv, &app.args, err, sizeof err)) {
	case ARGS_HELP:
		args_usage(stdout);
		return 0;
	case ARGS_VERSION:
		printf("dhtnode %s\n", DHT_VERSION);
		return 0;
	case ARGS_ERROR:
		fprintf(stderr, "dhtnode: %s\n", err);
		return 2;
	case ARGS_RUN:
		break;
	}
	if (listen_address(&app.args) != 0)
		return 2;
	for (unsigned i = 0; i < app.args.npush_keys; i++)
		if (push_keys_add(&app.push_keys, app.args.push_keys[i], err, sizeof err) != 0) {
			fprintf(stderr, "dhtnode: %s\n", err);
			return 2;
		}
	log_set_level(app.args.log_level);
	event_set_log_callback(on_libevent_log);
	/* A control client that hangs up early must cost a write error, not the process. */
	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0) {
		log_error("libsodium failed to initialise");
		return 1;
	}
	if (load_network_key(&app) != 0) {
		teardown(&app);
		args_release(&app.args);
		return 2;
	}
	make_config(&app);
	if (open_sockets(&app) != 0 || load_identity(&app) != 0 || load_secret(&app) != 0 ||
	    setup(&app) != 0 || start(&app) != 0)
		app.exit_code = 1;
	else
		event_base_dispatch(app.base);
	teardown(&app);
	args_release(&app.args);
	return app.exit_code;
}
