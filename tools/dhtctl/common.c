/* What every dhtctl command shares: calling the node and mapping each way that can fail to an
 * exit code and a message a person can act on, plus small printing helpers. It knows the
 * protocol's error codes (docs/control.md) but not the fields of any particular answer. */
#include "tools/dhtctl/dhtctl.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/net/addr.h"

static void vfail(struct dhtctl *c, const char *code, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	fprintf(stderr, "dhtctl: %s\n", msg);
	if (c && c->json) {
		json_t *o = json_pack("{s:b, s:s, s:s}", "ok", 0, "code", code, "error", msg);
		dhtctl_print_json(o);
		json_decref(o);
	}
}

int dhtctl_usage(struct dhtctl *c, const struct dhtctl_cmd *cmd, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (cmd)
		dhtctl_fail(c, EXIT_USAGE, "usage", "%s (usage: dhtctl %s %s; see dhtctl %s --help)",
			    msg, cmd->name, cmd->args, cmd->name);
	else
		dhtctl_fail(c, EXIT_USAGE, "usage", "%s (see dhtctl --help)", msg);
	return EXIT_USAGE;
}

int dhtctl_fail(struct dhtctl *c, int exit, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(c, code, fmt, ap);
	va_end(ap);
	return exit;
}

/* The node said ok: false. Its message is already meant for a person; add what to do only
 * where the code says more than the sentence. */
static int node_error(struct dhtctl *c, json_t *resp)
{
	const char *code = jstr(resp, "code");
	const char *msg = jstr(resp, "error");
	int exit = EXIT_OTHER;

	if (!*msg)
		msg = "the node gave no reason";
	if (!strcmp(code, "not_found"))
		exit = EXIT_NOT_FOUND;
	else if (!strcmp(code, "usage") || !strcmp(code, "too_large"))
		exit = EXIT_USAGE;
	else if (!strcmp(code, "timeout"))
		exit = EXIT_UNREACHABLE;
	fprintf(stderr, "dhtctl: %s\n", msg);
	if (!strcmp(code, "not_joined"))
		fprintf(stderr, "dhtctl: the node at %s is not in a ring yet; wait for it to join, or "
			"ask another node with --node\n", c->node);
	if (c->json)
		dhtctl_print_json(resp);
	return exit;
}

int dhtctl_call(struct dhtctl *c, json_t *req, json_t **resp)
{
	char err[CTL_ERR_MAX];
	enum ctl_result r = ctl_call(&c->target, req, c->timeout_ms, resp, err);
	int exit = EXIT_OK;

	json_decref(req);
	if (r != CTL_OK)
		return dhtctl_unreachable(c, r, err);
	if (!json_is_true(json_object_get(*resp, "ok"))) {
		exit = node_error(c, *resp);
		json_decref(*resp);
		*resp = NULL;
	}
	return exit;
}

int dhtctl_print_json(const json_t *resp)
{
	json_dumpf(resp, stdout, DHTCTL_JSON_FLAGS);
	fputc('\n', stdout);
	return EXIT_OK;
}

int dhtctl_key_field(struct dhtctl *c, const struct dhtctl_cmd *cmd, json_t *req,
		     const char *key, const char *idhex)
{
	if (!idhex) {
		json_object_set_new(req, "key", json_string(key));
		return EXIT_OK;
	}
	size_t n = strlen(idhex);
	if (n == 0 || n > 40 || strspn(idhex, "0123456789abcdefABCDEF") != n) {
		json_decref(req);
		return dhtctl_usage(c, cmd, "--id takes 1 to 40 hex digits, not '%s'", idhex);
	}
	json_object_set_new(req, "id", json_string(idhex));
	return EXIT_OK;
}

int dhtctl_parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || *end || *out > max ? -1 : 0;
}

const char *jstr(const json_t *o, const char *field)
{
	const char *s = json_string_value(json_object_get(o, field));
	return s ? s : "";
}

double jnum(const json_t *o, const char *field)
{
	return json_number_value(json_object_get(o, field));
}

int short_id_len(const char *const *ids, size_t n)
{
	size_t full = 0;
	size_t len = 8;

	for (size_t i = 0; i < n; i++)
		if (strlen(ids[i]) > full)
			full = strlen(ids[i]);
	/* Sorting would make this n log n; rings printed by hand are small enough for n^2. */
	for (; len < full; len++) {
		bool clash = false;
		for (size_t i = 0; i < n && !clash; i++)
			for (size_t j = i + 1; j < n && !clash; j++)
				clash = strcmp(ids[i], ids[j]) && !strncmp(ids[i], ids[j], len);
		if (!clash)
			break;
	}
	return (int)(len < full ? len : full);
}

void print_node(const json_t *node, int len, int addrw)
{
	if (!json_is_object(node)) {
		printf("%-*s  %-*s", len, "-", addrw, "(none)");
		return;
	}
	printf("%-*.*s  %-*s", len, len, jstr(node, "id"), addrw, jstr(node, "addr"));
}

/* Values of the long options; above any character, so that getopt's optopt tells a long
 * option from an unknown short one. */
enum {
	O_NODE = 256, O_TIMEOUT, O_JSON, O_VERSION, O_TTL, O_ID, O_MAX, O_CHUNK, O_FIND, O_LEAVE,
	O_NOWAIT, O_DETACH, O_ALL, O_SECRET, O_NETKEY, O_WRITER, O_KEYFILE, O_CAS, O_IMMUTABLE,
};

/* Every option: the command options, and the global ones, which may also follow the command. */
const struct option dhtctl_opts[] = {
	{ "ttl", required_argument, NULL, O_TTL },
	{ "id", required_argument, NULL, O_ID },
	{ "max", required_argument, NULL, O_MAX },
	{ "chunk-size", required_argument, NULL, O_CHUNK },
	{ "out", required_argument, NULL, 'o' },
	{ "find-timeout", required_argument, NULL, O_FIND },
	{ "leave-when-done", no_argument, NULL, O_LEAVE },
	{ "no-wait", no_argument, NULL, O_NOWAIT },
	{ "detach", no_argument, NULL, O_DETACH },
	{ "all", no_argument, NULL, O_ALL },
	{ "writer", required_argument, NULL, O_WRITER },
	{ "key-file", required_argument, NULL, O_KEYFILE },
	{ "cas", required_argument, NULL, O_CAS },
	{ "immutable", no_argument, NULL, O_IMMUTABLE },
	{ "node", required_argument, NULL, O_NODE },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "json", no_argument, NULL, O_JSON },
	{ "secret", required_argument, NULL, O_SECRET },
	{ "network-key", required_argument, NULL, O_NETKEY },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, O_VERSION },
	{ NULL, 0, NULL, 0 },
};

static const char *opt_name(int val)
{
	for (const struct option *o = dhtctl_opts; o->name; o++)
		if (o->val == val)
			return o->name;
	return "?";
}

bool dhtctl_global(struct dhtctl *c, int val, const char *arg)
{
	if (val == O_NODE)
		c->node_opt = arg;
	else if (val == O_TIMEOUT)
		c->timeout_opt = arg;
	else if (val == O_JSON)
		c->json = true;
	else if (val == O_SECRET)
		c->secret_opt = arg;
	else if (val == O_NETKEY)
		c->netkey_opt = arg;
	return val == O_NODE || val == O_TIMEOUT || val == O_JSON || val == O_SECRET ||
	       val == O_NETKEY;
}

void dhtctl_command_help(const struct dhtctl_cmd *cmd)
{
	printf("usage: dhtctl [--node HOST:PORT] [--json] %s %s\n\n%s\n%s", cmd->name, cmd->args,
	       cmd->summary, cmd->help);
}

/* The control secret to prove: --secret, else $DHTNODE_SECRET, else none. */
static int setup_secret(struct dhtctl *c, const struct dhtctl_cmd *cmd)
{
	const char *env = getenv("DHTNODE_SECRET");
	const char *path = c->secret_opt ? c->secret_opt : env && *env ? env : NULL;
	char err[CTL_ERR_MAX];

	if (path && ctl_target_secret(&c->target, path, err) != 0)
		return dhtctl_usage(c, cmd, "%s %s", c->secret_opt ? "--secret:" : "$DHTNODE_SECRET:",
				    err);
	return EXIT_OK;
}

/* The network key to open connections with: --network-key, else $DHTNODE_NETWORK_KEY, else
 * none. Used for every target when given, local ones too: one rule, no guessing which
 * addresses the node counts as this machine. */
static int setup_netkey(struct dhtctl *c, const struct dhtctl_cmd *cmd)
{
	const char *env = getenv("DHTNODE_NETWORK_KEY");
	const char *path = c->netkey_opt ? c->netkey_opt : env && *env ? env : NULL;
	char err[CTL_ERR_MAX];

	if (path && ctl_target_netkey(&c->target, path, err) != 0)
		return dhtctl_usage(c, cmd, "%s %s", c->netkey_opt ? "--network-key:" :
				    "$DHTNODE_NETWORK_KEY:", err);
	return EXIT_OK;
}

/* The node to ask: --node, else $DHTNODE, else the default; parsed as dhtnode parses its
 * addresses (node/net/addr.h), so that one HOST:PORT means the same to every program. */
static int setup_target(struct dhtctl *c, const struct dhtctl_cmd *cmd)
{
	const char *env = getenv("DHTNODE");
	const char *node = c->node_opt ? c->node_opt : env && *env ? env : DHTCTL_DEFAULT_NODE;
	const char *what = c->node_opt || !env || !*env ? "--node" : "$DHTNODE";
	char why[200], *end;
	uint16_t port;

	snprintf(c->node, sizeof(c->node), "%s", node);
	if (addr_split(node, c->target.host, sizeof(c->target.host), &port) != 0) {
		addr_explain(node, false, why, sizeof(why));
		return dhtctl_usage(c, cmd, "%s %s: %s", what, node, why);
	}
	snprintf(c->target.port, sizeof(c->target.port), "%u", (unsigned)port);
	if (setup_secret(c, cmd) != EXIT_OK || setup_netkey(c, cmd) != EXIT_OK)
		return EXIT_USAGE;
	if (c->timeout_opt) {
		double secs = strtod(c->timeout_opt, &end);
		if (*end || end == c->timeout_opt || !(secs > 0 && secs <= 3600))
			return dhtctl_usage(c, cmd, "--timeout takes seconds between 0 and 3600, "
					    "not '%s'", c->timeout_opt);
		c->timeout_ms = (int)(secs * 1000 + 0.5);
		if (c->timeout_ms < 1)
			c->timeout_ms = 1;
	}
	return EXIT_OK;
}

/* Store the value of option VAL in OUT; false if VAL is not one of OUT's. */
static bool take_opt(int val, const char *arg, struct cmd_args *out)
{
	const char **slot = val == O_TTL ? &out->ttl : val == O_ID ? &out->id : val == O_MAX ? &out->max
			    : val == O_CHUNK ? &out->chunk_size : val == 'o' ? &out->out
			    : val == O_FIND ? &out->find_timeout : val == O_WRITER ? &out->writer
			    : val == O_KEYFILE ? &out->key_file : val == O_CAS ? &out->cas : NULL;
	bool *flag = val == O_LEAVE ? &out->leave_when_done : val == O_NOWAIT ? &out->no_wait
		     : val == O_DETACH ? &out->detach : val == O_ALL ? &out->all
		     : val == O_IMMUTABLE ? &out->immutable : NULL;
	if (slot)
		*slot = arg;
	else if (flag)
		*flag = true;
	return slot || flag;
}

/* getopt_long refused an argument (RC '?' or ':'): report it. */
static int refused(struct dhtctl *c, const struct dhtctl_cmd *cmd, int rc, char **argv)
{
	if (rc == ':')
		return dhtctl_usage(c, cmd, "--%s needs a value", opt_name(optopt));
	if (optopt >= O_NODE || optopt == 'h')
		return dhtctl_usage(c, cmd, "--%s takes no value", opt_name(optopt));
	if (optopt != 0)
		return dhtctl_usage(c, cmd, "unknown option '-%c' (put -- before an argument that "
				    "starts with '-')", optopt);
	return dhtctl_usage(c, cmd, "unknown option '%s' (put -- before an argument that starts "
			    "with '-')", argv[optind - 1]);
}

/* Whether the option VAL is one of the words in OPTS, or a global one. */
static bool allowed(int val, const char *opts)
{
	const char *name = opt_name(val), *p = opts;
	size_t n = strlen(name);
	if (val == O_NODE || val == O_TIMEOUT || val == O_JSON || val == 'h' || val == O_VERSION)
		return true;
	while ((p = strstr(p, name)) != NULL) {
		if ((p == opts || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
		p += n;
	}
	return false;
}

static int add_pos(struct dhtctl *c, const struct dhtctl_cmd *cmd, int maxpos, const char *a,
		   struct cmd_args *out)
{
	if (out->npos >= maxpos)
		return dhtctl_usage(c, cmd, "%s argument '%s'", maxpos ? "unexpected" :
				    "this command takes no", a);
	out->pos[out->npos++] = a;
	return EXIT_OK;
}

int dhtctl_args(struct dhtctl *c, const struct dhtctl_cmd *cmd, int argc, char **argv,
		int maxpos, const char *opts, struct cmd_args *out)
{
	int o, rc = EXIT_OK;

	memset(out, 0, sizeof(*out));
	optind = 0; /* glibc: start afresh; ARGV - 1 is the command name, getopt's argv[0] */
	opterr = 0;
	while (!rc && (o = getopt_long(argc + 1, argv - 1, "-:o:h", dhtctl_opts, NULL)) != -1) {
		if (o == '?' || o == ':')
			rc = refused(c, cmd, o, argv - 1);
		else if (o == 1)
			rc = add_pos(c, cmd, maxpos, optarg, out);
		else if (!allowed(o, opts))
			rc = dhtctl_usage(c, cmd, "unknown option '--%s' (put -- before an argument "
					  "that starts with '-')", opt_name(o));
		else if (o == 'h' || o == O_VERSION) {
			if (o == 'h')
				dhtctl_command_help(cmd);
			else
				printf("dhtctl %s\n", DHT_VERSION);
			exit(EXIT_OK);
		} else if (!take_opt(o, optarg, out))
			dhtctl_global(c, o, optarg);
	}
	for (int i = optind; !rc && i <= argc; i++) /* what follows "--" */
		rc = add_pos(c, cmd, maxpos, argv[i - 1], out);
	return rc ? rc : setup_target(c, cmd);
}

const char *plural(double n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static bool is_ip_literal(const char *s)
{
	struct dht_addr a;
	return addr_parse(s, &a) == 0 && !addr_is_unspecified(&a);
}

int dhtctl_unreachable(struct dhtctl *c, enum ctl_result r, const char *err)
{
	if (r == CTL_REFUSED && !strncmp(err, "cannot resolve", 14))
		return dhtctl_fail(c, EXIT_UNREACHABLE, "unreachable",
				   "cannot reach dhtnode at %s: %s \u2014 check the name, or give the "
				   "node's IP address and port with --node IP:PORT", c->node, err);
	if (r == CTL_REFUSED && is_ip_literal(c->node))
		return dhtctl_fail(c, EXIT_UNREACHABLE, "unreachable",
				   "cannot reach dhtnode at %s: %s \u2014 is it running? start one with "
				   "dhtnode --listen %s, or name another with --node HOST:PORT",
				   c->node, err, c->node);
	if (r == CTL_REFUSED)
		return dhtctl_fail(c, EXIT_UNREACHABLE, "unreachable",
				   "cannot reach dhtnode at %s: %s \u2014 is it running? start one on "
				   "that host with dhtnode --listen IP:PORT (its own IP address, not a "
				   "name), or name another with --node HOST:PORT", c->node, err);
	if (r == CTL_NO_ANSWER)
		return dhtctl_fail(c, EXIT_UNREACHABLE, "unreachable",
				   "dhtnode at %s did not answer within %.1f s (%s) \u2014 it may be "
				   "overloaded or stuck; retry with a longer --timeout",
				   c->node, c->timeout_ms / 1000.0, err);
	if (r == CTL_KEY_FAILED)
		return dhtctl_fail(c, EXIT_OTHER, "denied", "dhtnode at %s: %s", c->node, err);
	return dhtctl_fail(c, EXIT_OTHER, "bad_answer", "the program at %s does not speak the "
			   "control protocol (%s) \u2014 is it a dhtnode of this version?", c->node, err);
}
