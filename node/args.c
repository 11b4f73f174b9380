/* dhtnode's command-line parser, on glibc's getopt_long (long options only; a value as the next
 * word or after '='; getopt's own messages are off, so that every error names the option and
 * says what a valid value looks like). It checks values on their own and against each other
 * (--id against --id-bits, --replicas against --succ-len); whether a port is free or a
 * directory writable is found out later, by trying. */
#include "node/args.h"

#include <getopt.h>
#include <string.h>

#include "dht/units.h"
#include "node/config.h"
#include "node/errtext.h"
#include "node/log.h"

enum opt {
	O_LISTEN = 256, O_JOIN, O_BITS, O_DATA_DIR, O_ID, O_LOG, O_SUCC, O_REPL, O_STORE, O_ANY,
	O_SECRET, O_UP, O_DOWN, O_CORRUPT, O_CONFIG, O_HTTP, O_ACCEPT_PUSH, O_PUSH_KEY,
	O_NEW_RING, O_NO_DISCOVERY, O_NETKEY, O_HELP, O_VERSION,
};

static const struct option opts[] = {
	{ "listen", required_argument, NULL, O_LISTEN },
	{ "join", required_argument, NULL, O_JOIN },
	{ "id-bits", required_argument, NULL, O_BITS },
	{ "data-dir", required_argument, NULL, O_DATA_DIR },
	{ "id", required_argument, NULL, O_ID },
	{ "log-level", required_argument, NULL, O_LOG },
	{ "succ-len", required_argument, NULL, O_SUCC },
	{ "replicas", required_argument, NULL, O_REPL },
	{ "store-max", required_argument, NULL, O_STORE },
	{ "control-any", no_argument, NULL, O_ANY },
	{ "control-secret", required_argument, NULL, O_SECRET },
	{ "up-rate", required_argument, NULL, O_UP },
	{ "down-rate", required_argument, NULL, O_DOWN },
	{ "debug-corrupt-uploads", no_argument, NULL, O_CORRUPT },
	{ "config", required_argument, NULL, O_CONFIG },
	{ "http", required_argument, NULL, O_HTTP },
	{ "accept-push", required_argument, NULL, O_ACCEPT_PUSH },
	{ "push-key", required_argument, NULL, O_PUSH_KEY },
	{ "new-ring", no_argument, NULL, O_NEW_RING },
	{ "no-discovery", no_argument, NULL, O_NO_DISCOVERY },
	{ "network-key", required_argument, NULL, O_NETKEY },
	{ "help", no_argument, NULL, O_HELP },
	{ "version", no_argument, NULL, O_VERSION },
	{ NULL, 0, NULL, 0 },
};

/* The option whose value is VAL, for messages. */
static const char *opt_name(int val)
{
	for (const struct option *o = opts; o->name != NULL; o++)
		if (o->val == val)
			return o->name;
	return "?";
}

void args_usage(FILE *f)
{
	fputs("Usage: dhtnode --listen IP:PORT [--join HOST:PORT] [options]\n"
	      "Run one node of a Chord DHT in the foreground, logging to stderr.\n"
	      "With --join it joins the ring of that node. Without, it looks for a ring on the\n"
	      "local network (multicast, 1.5 s), joins the one that answers, and otherwise starts\n"
	      "a new ring and answers others' probes (not on loopback addresses: use --join).\n"
	      "The node speaks the DHT over UDP and takes dhtctl's control connections and other\n"
	      "nodes' chunk exchange over TCP, both on IP:PORT.\n"
	      "\n"
	      "  --listen IP:PORT     address to bind and to be reached at (e.g. 127.0.0.1:4000,\n"
	      "                       [::1]:4000); not 0.0.0.0, since other nodes must reach it.\n"
	      "                       IFACE:PORT (eth0:4000) takes that interface's address\n"
	      "  --join HOST:PORT     a member of the ring to join (name or IP)\n"
	      "  --new-ring           start a new ring at once, without looking for one\n"
	      "  --no-discovery       neither look for a ring nor answer others' probes (probes\n"
	      "                       and answers tell only that a ring of this --id-bits is\n"
	      "                       here, never what it holds)\n"
	      "  --id-bits N          id width of the network, 8..160 (default 160); all\n"
	      "                       members of a ring must use the same width\n"
	      "  --network-key FILE   run in the private ring of this key (made by dhtctl keygen\n"
	      "                       FILE, copied to every member, mode 0600): only members\n"
	      "                       are answered, and what travels between them is sealed\n"
	      "  --id HEX             use this id instead of one derived from the node's key;\n"
	      "                       only with --network-key, whose members are trusted: in an\n"
	      "                       open ring a chosen id would let anyone aim at a key's owner\n"
	      "  --data-dir DIR       where the node keeps its key and its transfers' state (default\n"
	      "                       $XDG_STATE_HOME/dhtnode/IP-PORT, else\n"
	      "                       ~/.local/state/dhtnode/IP-PORT, e.g. .../127.0.0.1-4000)\n"
	      "  --log-level LEVEL    error, warn, info (default) or debug\n"
	      "  --succ-len R         successor list length, 2..32 (default 8)\n"
	      "  --replicas K         copies of each value on the next successors, 0..R\n"
	      "                       (default 3)\n"
	      "  --store-max SIZE     bytes of values this node holds, e.g. 64MiB (default)\n"
	      "  --control-any        accept control connections from any address, not only\n"
	      "                       from this machine; they must prove --control-secret\n"
	      "                       (required with it), and can then do all the node's user\n"
	      "                       can: share and fetch files, read and write the store\n"
	      "  --control-secret FILE\n"
	      "                       the control secret (64 hex digits, mode 0600; created if\n"
	      "                       missing): a client that proves it (dhtctl --secret FILE)\n"
	      "                       may control the node; without it only this node's user\n"
	      "                       and root on this machine may\n"
	      "  --up-rate RATE       cap this node's total upload, e.g. 1MiB or 512KiB a second\n"
	      "                       (default 0: no cap)\n"
	      "  --down-rate RATE     cap this node's total download likewise (default 0)\n"
	      "  --http IP:PORT       serve the web view (the ring, lookups, the store,\n"
	      "                       transfers), JSON under /api/ and /metrics there, to the\n"
	      "                       node's user and root, e.g. on 127.0.0.1:8080; others (and\n"
	      "                       any address beyond loopback) need --control-secret and\n"
	      "                       the token the node logs\n"
	      "  --accept-push DIR    take pushes (dhtctl push) into DIR, an absolute path; off by\n"
	      "                       default, and then the node refuses every push and writes\n"
	      "                       nothing. Only pushes signed by a --push-key are taken,\n"
	      "                       in a private ring too, so it needs one\n"
	      "  --push-key KEY       an admin's public key (64 hex digits, shown by 'dhtctl\n"
	      "                       status' on the admin's node), or a file of them, one a\n"
	      "                       line; repeatable\n"
	      "  --debug-corrupt-uploads\n"
	      "                       for tests: send corrupt blocks (peers should ban this node)\n"
	      "  --config FILE        read options from FILE, one 'key = value' a line, the keys\n"
	      "                       being these long options without dashes (listen = ...);\n"
	      "                       the command line overrides the file\n"
	      "  --help, --version\n"
	      "See the manual page node/dhtnode.1 for details.\n"
	      "\n"
	      "SIGINT or SIGTERM leaves the ring gracefully (keys go to the successor); a second\n"
	      "signal exits at once.\n"
	      "Exit status: 0 after a graceful leave, 1 on a runtime failure (port in use, data\n"
	      "directory, join refused or unanswered), 2 on bad arguments.\n",
	      f);
}

int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	if (*s == '\0')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		uint64_t digit = (uint64_t)(*s - '0');
		if (v > (UINT64_MAX - digit) / 10)
			return -1;
		v = v * 10 + digit;
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* "--listen eth0:4000": a name that is no IP literal is taken for an interface, whose
 * address main looks up (this parser opens nothing). Return 0, or -1 if V is no NAME:PORT. */
static int listen_iface(const char *v, struct node_args *a)
{
	char host[ADDR_HOST_MAX];
	uint16_t port;

	if (addr_split(v, host, sizeof host, &port) != 0 || strlen(host) >= sizeof a->listen_iface ||
	    strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-@") !=
		    strlen(host))
		return -1;
	memcpy(a->listen_iface, host, strlen(host) + 1); /* the length is checked above */
	a->listen.family = 4; /* a placeholder until main resolves the name */
	a->listen.port = port;
	return 0;
}

/* Apply --listen or --join; return 0, or -1 with ERR set. */
static int set_addr_opt(enum opt o, const char *v, struct node_args *a, char *err, size_t errcap)
{
	char why[200];
	if (o == O_LISTEN) {
		if (addr_parse(v, &a->listen) != 0 && listen_iface(v, a) != 0) {
			addr_explain(v, true, why, sizeof why);
			errtext(err, errcap, "--listen %s: %s", v, why);
			return -1;
		}
		if (!a->listen_iface[0] && addr_is_unspecified(&a->listen)) {
			errtext(err, errcap, "--listen %s: other nodes cannot reach a wildcard address; "
			     "give this machine's own address, like 192.168.1.5:4000", v);
			return -1;
		}
		return 0;
	}
	if (addr_split(v, a->join_host, sizeof a->join_host, &a->join_port) != 0) {
		addr_explain(v, false, why, sizeof why);
		errtext(err, errcap, "--join %s: %s", v, why);
		return -1;
	}
	a->join = true;
	return 0;
}

/* Apply an option that takes a whole number from MIN to MAX. */
static int set_count(enum opt o, const char *v, unsigned min, unsigned max, unsigned *out,
		     char *err, size_t errcap)
{
	uint64_t n;
	if (parse_uint(v, min, max, &n) != 0) {
		errtext(err, errcap, "--%s %s: give a whole number from %u to %u", opt_name(o), v, min,
		     max);
		return -1;
	}
	*out = (unsigned)n;
	return 0;
}

/* Apply --http: a loopback IP:PORT, since wider clients would need the control secret. */
static int set_http(const char *v, struct node_args *a, char *err, size_t errcap)
{
	char why[200];
	if (addr_parse(v, &a->http) != 0) {
		addr_explain(v, true, why, sizeof why);
		errtext(err, errcap, "--http %s: %s; give IP:PORT, like 127.0.0.1:8080", v, why);
		return -1;
	}
	return 0;
}

/* --store-max, --up-rate, --down-rate: sizes in dht/units' notation. */
static int set_size_opt(enum opt o, const char *v, struct node_args *a, char *err, size_t errcap)
{
	uint64_t n;
	if (o == O_STORE) {
		if (units_parse(v, &n) != 0 || n < 4096) {
			errtext(err, errcap, "--store-max %s: give a size of at least 4KiB, like 64MiB", v);
			return -1;
		}
		a->store_max = n;
		return 0;
	}
	if (units_parse(v, &n) != 0 || (n != 0 && n < 1024)) {
		errtext(err, errcap, "--%s %s: give bytes a second of at least 1KiB, like 1MiB or "
		     "512KiB, or 0 for no cap", opt_name(o), v);
		return -1;
	}
	*(o == O_UP ? &a->up_rate : &a->down_rate) = n;
	return 0;
}

/* --accept-push DIR and --push-key KEY (checked by node/push once the node starts). */
static int set_push_opt(enum opt o, const char *v, struct node_args *a, char *err, size_t errcap)
{
	if (o == O_ACCEPT_PUSH) {
		if (v[0] != '/') {
			errtext(err, errcap, "--accept-push %s: give an absolute directory path", v);
			return -1;
		}
		a->accept_push = v;
		return 0;
	}
	if (a->npush_keys == ARGS_MAX_PUSH_KEYS) {
		errtext(err, errcap, "--push-key: at most %d", ARGS_MAX_PUSH_KEYS);
		return -1;
	}
	a->push_keys[a->npush_keys++] = v;
	return 0;
}

/* --data-dir, --control-secret, --network-key: a path, checked when the node opens it. */
static int set_path_opt(enum opt o, const char *v, struct node_args *a, char *err, size_t errcap)
{
	static const char *const what[] = { [O_DATA_DIR - O_LISTEN] = "a directory",
					    [O_SECRET - O_LISTEN] = "a file",
					    [O_NETKEY - O_LISTEN] = "the key file (dhtctl keygen FILE "
								    "makes one)" };
	if (*v == '\0') {
		errtext(err, errcap, "--%s: give %s", opt_name(o), what[o - O_LISTEN]);
		return -1;
	}
	*(o == O_DATA_DIR ? &a->data_dir : o == O_SECRET ? &a->control_secret : &a->network_key) = v;
	return 0;
}

/* Apply one option (V is NULL for those without a value); return 0, or -1 with ERR set.
 * *ID_HEX is checked at the end, once --id-bits is known whatever the order. */
static int set_opt(enum opt o, const char *v, struct node_args *a, const char **id_hex,
		   char *err, size_t errcap)
{
	switch (o) {
	case O_LISTEN:
	case O_JOIN:
		return set_addr_opt(o, v, a, err, errcap);
	case O_BITS:
		return set_count(o, v, ID_MIN_BITS, ID_MAX_BITS, &a->bits, err, errcap);
	case O_SUCC:
		return set_count(o, v, 2, 32, &a->succ_len, err, errcap);
	case O_REPL:
		return set_count(o, v, 0, 32, &a->replicas, err, errcap);
	case O_STORE:
	case O_UP:
	case O_DOWN:
		return set_size_opt(o, v, a, err, errcap);
	case O_LOG:
		if (log_level_parse(v, &a->log_level) != 0) {
			errtext(err, errcap, "--log-level %s: use error, warn, info or debug", v);
			return -1;
		}
		return 0;
	case O_ID:
		*id_hex = v;
		return 0;
	case O_DATA_DIR:
	case O_SECRET:
	case O_NETKEY:
		return set_path_opt(o, v, a, err, errcap);
	case O_ANY:
		a->control_any = true;
		return 0;
	case O_CORRUPT:
		a->debug_corrupt = true;
		return 0;
	case O_NEW_RING:
		a->new_ring = true;
		return 0;
	case O_NO_DISCOVERY:
		a->no_discovery = true;
		return 0;
	case O_ACCEPT_PUSH:
	case O_PUSH_KEY:
		return set_push_opt(o, v, a, err, errcap);
	case O_HTTP:
		return set_http(v, a, err, errcap);
	case O_CONFIG: /* read before any option is applied (apply_config) */
	case O_HELP:
	case O_VERSION:
		break; /* they end parsing before any option is applied */
	}
	return 0;
}

static void set_defaults(struct node_args *a)
{
	struct dht_config cfg;
	dht_config_default(&cfg);
	memset(a, 0, sizeof *a);
	a->bits = cfg.bits;
	a->succ_len = cfg.succ_len;
	a->replicas = cfg.kv_replicas;
	a->store_max = cfg.kv_max_bytes;
	a->log_level = DHT_LOG_INFO;
}

/* Checks that involve several options. */
static enum args_result check_all(struct node_args *a, const char *id_hex, char *err,
				  size_t errcap)
{
	if (a->listen.family == 0) {
		errtext(err, errcap, "--listen IP:PORT is required: the address this node binds "
		     "and is reached at, like 127.0.0.1:4000");
		return ARGS_ERROR;
	}
	if (a->control_any && a->control_secret == NULL) {
		errtext(err, errcap, "--control-any needs --control-secret FILE: otherwise anyone who "
		     "reaches the port could share and fetch files as this node's user; clients "
		     "then prove it with dhtctl --secret FILE");
		return ARGS_ERROR;
	}
	if (a->http.family != 0 && !addr_is_loopback(&a->http) && a->control_secret == NULL) {
		errtext(err, errcap, "--http beyond loopback needs the control secret "
		     "(--control-secret FILE): the view shows paths and runs lookups, so other "
		     "machines must show a token derived from it; or use a loopback address such as "
		     "127.0.0.1:%u", (unsigned)a->http.port);
		return ARGS_ERROR;
	}
	if (a->new_ring && a->join) {
		errtext(err, errcap, "--new-ring and --join contradict each other: give --join to "
		     "join a ring, --new-ring to start one");
		return ARGS_ERROR;
	}
	if (a->replicas > a->succ_len) {
		errtext(err, errcap, "--replicas %u exceeds --succ-len %u: copies go to successors "
		     "in the list, so raise --succ-len or lower --replicas", a->replicas,
		     a->succ_len);
		return ARGS_ERROR;
	}
	if ((a->accept_push != NULL) != (a->npush_keys > 0)) {
		errtext(err, errcap, a->accept_push ? "--accept-push needs at least one --push-key: "
			     "only pushes signed by a listed admin key are taken, in a private ring too"
			     : "--push-key has no effect without --accept-push DIR");
		return ARGS_ERROR;
	}
	if (id_hex != NULL && a->network_key == NULL) {
		errtext(err, errcap, "--id is allowed only in a private ring (--network-key FILE): "
		     "in an open ring a chosen id would let anyone take the place of a key's owner; "
		     "leave --id out to use the id derived from the node's key");
		return ARGS_ERROR;
	}
	if (id_hex != NULL) {
		if (id_from_hex(&a->id, id_hex, a->bits) != 0) {
			errtext(err, errcap, "--id %s: give 1 to %u hex digits whose value fits in "
			     "%u bits (see --id-bits)", id_hex, (a->bits + 3) / 4, a->bits);
			return ARGS_ERROR;
		}
		a->has_id = true;
	}
	return ARGS_RUN;
}

/* getopt_long refused ARGV[OPTIND - 1] (RC '?' or ':'): say why in ERR. */
static void refused(int rc, int argc, char *const argv[], char *err, size_t errcap)
{
	const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
	if (rc == ':')
		errtext(err, errcap, "--%s needs a value; see dhtnode --help", opt_name(optopt));
	else if (optopt >= O_LISTEN)
		errtext(err, errcap, "--%s takes no value", opt_name(optopt));
	else if (optopt != 0)
		errtext(err, errcap, "unknown argument '-%c'; see dhtnode --help", optopt);
	else
		errtext(err, errcap, "unknown argument '%s'; see dhtnode --help", arg);
}

/* The first pass over ARGV: find --config's FILE (the last one given), to be applied before
 * the command line. Everything else, mistakes included, is the second pass's business. */
static const char *find_config(int argc, char *const argv[])
{
	const char *path = NULL;
	int o;
	optind = 0; /* glibc: start afresh, so that a test may parse again */
	opterr = 0;
	while ((o = getopt_long(argc, argv, "+:", opts, NULL)) != -1)
		if (o == O_CONFIG)
			path = optarg;
	return path;
}

/* Apply one entry E of the config file NAME as its option would be; 0, or -1 with ERR set. */
static int apply_entry(const struct config_entry *e, const char *name, struct node_args *a,
		       const char **id_hex, char *err, size_t errcap)
{
	const struct option *o = opts;
	while (o->name != NULL && strcmp(o->name, e->key) != 0)
		o++;
	if (o->name == NULL || o->val == O_CONFIG || o->val == O_HELP || o->val == O_VERSION) {
		errtext(err, errcap, "%s:%u: unknown key '%s'; the keys are dhtnode's long options "
		     "(dhtnode --help) without the dashes", name, e->line, e->key);
		return -1;
	}
	if (o->has_arg == no_argument) {
		if (strcmp(e->value, "true") == 0)
			return set_opt((enum opt)o->val, NULL, a, id_hex, err, errcap);
		if (strcmp(e->value, "false") == 0)
			return 0;
		errtext(err, errcap, "%s:%u: %s = %s: give true or false", name, e->line, e->key,
		     e->value);
		return -1;
	}
	if (*e->value == '\0') {
		errtext(err, errcap, "%s:%u: %s needs a value, as --%s does", name, e->line, e->key,
		     e->key);
		return -1;
	}
	char why[400];
	if (set_opt((enum opt)o->val, e->value, a, id_hex, why, sizeof why) != 0) {
		errtext(err, errcap, "%s:%u: %s", name, e->line, why);
		return -1;
	}
	return 0;
}

/* Read the config file at PATH into A->config and apply its entries; 0, or -1 with ERR set. */
static int apply_config(const char *path, struct node_args *a, const char **id_hex, char *err,
			size_t errcap)
{
	size_t n;
	if (*path == '\0') {
		errtext(err, errcap, "--config: give a file, like /etc/dhtnode/lab.conf");
		return -1;
	}
	a->config = config_load(path, err, errcap);
	if (a->config == NULL)
		return -1;
	const struct config_entry *e = config_entries(a->config, &n);
	for (size_t i = 0; i < n; i++)
		if (apply_entry(&e[i], config_name(a->config), a, id_hex, err, errcap) != 0)
			return -1;
	return 0;
}

enum args_result args_parse(int argc, char *const argv[], struct node_args *out, char *err,
			    size_t errcap)
{
	const char *id_hex = NULL, *config;
	enum args_result r;
	int o;
	set_defaults(out);
	config = find_config(argc, argv);
	if (config != NULL && apply_config(config, out, &id_hex, err, errcap) != 0)
		goto bad;
	/* The command line after the file, so that it overrides the file. */
	optind = 0;
	while ((o = getopt_long(argc, argv, "+:", opts, NULL)) != -1) {
		if (o == '?' || o == ':') {
			refused(o, argc, argv, err, errcap);
			goto bad;
		}
		if (o == O_HELP || o == O_VERSION) {
			args_release(out);
			return o == O_HELP ? ARGS_HELP : ARGS_VERSION;
		}
		if (set_opt((enum opt)o, optarg, out, &id_hex, err, errcap) != 0)
			goto bad;
	}
	if (optind < argc) {
		errtext(err, errcap, "unknown argument '%s'; see dhtnode --help", argv[optind]);
		goto bad;
	}
	r = check_all(out, id_hex, err, errcap);
	if (r == ARGS_RUN)
		return r;
bad:
	args_release(out);
	return ARGS_ERROR;
}

void args_release(struct node_args *a)
{
	config_free(a->config);
	a->config = NULL;
}
