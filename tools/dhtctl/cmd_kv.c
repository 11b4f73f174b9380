/* dhtctl's key commands: put, get, lookup, announce and peers. Each builds one request, lets
 * common.c deal with failures, and prints the answer as text or (--json) as the node sent it.
 * Values are checked against the store's size limit here so that the mistake is reported
 * before anything is sent; the node checks again. */
#include "tools/dhtctl/dhtctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dht/kv.h"
#include "tools/dhtctl/writer.h"

/* Build {"cmd": NAME, key or id} from the positional KEY or --id; NEED is how many
 * positional arguments come after the key. */
static int key_request(struct dhtctl *c, const struct dhtctl_cmd *cmd, int argc, char **argv,
		       const char *opts, int need, struct cmd_args *a, json_t **req)
{
	int rc = dhtctl_args(c, cmd, argc, argv, 3, opts, a);
	int want;

	if (rc)
		return rc;
	want = need + (a->id ? 0 : 1);
	if (a->npos != want)
		return dhtctl_usage(c, cmd, "%s %s", a->npos < want ? "missing" : "too many",
				    a->id ? "arguments after --id" : "arguments");
	*req = json_pack("{s:s}", "cmd", !strcmp(cmd->name, "peers") ? "get_peers" : cmd->name);
	return dhtctl_key_field(c, cmd, *req, a->id ? NULL : a->pos[0], a->id);
}

static int add_ttl(struct dhtctl *c, const struct dhtctl_cmd *cmd, json_t *req, const char *ttl)
{
	unsigned long v;

	if (!ttl)
		return EXIT_OK;
	if (dhtctl_parse_uint(ttl, 7ul * 24 * 3600 * 52, &v) < 0) {
		json_decref(req);
		return dhtctl_usage(c, cmd, "--ttl takes a whole number of seconds, not '%s'", ttl);
	}
	json_object_set_new(req, "ttl", json_integer((json_int_t)v));
	return EXIT_OK;
}

static void print_owner(const json_t *resp)
{
	const json_t *owner = json_object_get(resp, "owner");

	printf("%-8s", "owner");
	print_node(owner, (int)strlen(jstr(owner, "id")), 0);
	printf("\n%-8s%d, %.2f ms\n", "hops", (int)jnum(resp, "hops"), jnum(resp, "ms"));
}

/* --cas N: the seq the writer's value must have (0: none yet). */
static int add_cas(struct dhtctl *c, const struct dhtctl_cmd *cmd, json_t *req, const char *cas)
{
	char *end;
	unsigned long long v;

	if (!cas)
		return EXIT_OK;
	errno = 0;
	v = strtoull(cas, &end, 10);
	if (*cas < '0' || *cas > '9' || *end || errno || v > (~0ull >> 1)) {
		json_decref(req);
		return dhtctl_usage(c, cmd, "--cas takes the seq get printed (0: no value yet), "
				    "not '%s'", cas);
	}
	json_object_set_new(req, "cas", json_integer((json_int_t)v));
	return EXIT_OK;
}

/* Finish a put or delete request: --key-file signs it here, else the node signs it. */
static int send_put(struct dhtctl *c, const struct dhtctl_cmd *cmd, const struct cmd_args *a,
		    json_t *req, const char *value, uint8_t flags)
{
	struct identity id;
	struct dht_item it = { .flags = flags, .value = (const uint8_t *)value,
			       .vlen = (uint16_t)strlen(value) };
	json_t *resp;
	int rc = add_ttl(c, cmd, req, a->ttl);

	if (!rc)
		rc = add_cas(c, cmd, req, a->cas);
	if (rc)
		return rc;
	if (a->key_file) {
		rc = writer_load(c, cmd, a->key_file, &id);
		if (!rc)
			rc = writer_sign(c, &id, req, &it);
		sodium_memzero(&id, sizeof id);
		if (rc) {
			json_decref(req);
			return rc;
		}
	}
	rc = dhtctl_call(c, req, &resp);
	if (rc)
		return rc;
	if (c->json) {
		dhtctl_print_json(resp);
	} else {
		printf("%-8s%s\n", flags & DHT_ITEM_TOMBSTONE ? "deleted" : "stored",
		       jstr(resp, "key_id"));
		if (flags & DHT_ITEM_IMMUTABLE)
			printf("%-8sdhtctl get --id %s\n", "get", jstr(resp, "key_id"));
		else
			printf("%-8s%s\n%-8s%.0f\n", "writer", jstr(resp, "writer"), "seq",
			       jnum(resp, "seq"));
		print_owner(resp);
	}
	json_decref(resp);
	return EXIT_OK;
}

static int run_put(struct dhtctl *c, int argc, char **argv)
{
	const struct dhtctl_cmd *cmd = &dhtctl_cmd_put;
	struct cmd_args a;
	json_t *req = NULL;
	const char *value;
	int rc = dhtctl_args(c, cmd, argc, argv, 3, "ttl id key-file cas immutable", &a);

	if (rc)
		return rc;
	if (a.immutable) {
		if (a.id || a.key_file || a.cas || a.npos != 1)
			return dhtctl_usage(c, cmd, "--immutable takes the VALUE alone (its key is "
					    "its hash; no --id, --key-file or --cas)");
		req = json_pack("{s:s, s:b}", "cmd", "put", "immutable", 1);
	} else {
		rc = key_request(c, cmd, argc, argv, "ttl id key-file cas", 1, &a, &req);
		if (rc)
			return rc;
	}
	value = a.pos[a.npos - 1];
	if (strlen(value) > KV_MAX_VALUE) {
		json_decref(req);
		return dhtctl_usage(c, cmd, "the value is %zu bytes; a value holds at most %d",
				    strlen(value), KV_MAX_VALUE);
	}
	json_object_set_new(req, "value", json_string(value));
	return send_put(c, cmd, &a, req, value, a.immutable ? DHT_ITEM_IMMUTABLE : 0);
}

static int run_delete(struct dhtctl *c, int argc, char **argv)
{
	const struct dhtctl_cmd *cmd = &dhtctl_cmd_delete;
	struct cmd_args a;
	json_t *req = NULL;
	int rc = key_request(c, cmd, argc, argv, "id key-file cas", 0, &a, &req);

	if (rc)
		return rc;
	json_object_set_new(req, "cmd", json_string("put"));
	json_object_set_new(req, "value", json_string(""));
	json_object_set_new(req, "delete", json_true());
	return send_put(c, cmd, &a, req, "", DHT_ITEM_TOMBSTONE);
}

static int run_writerkey(struct dhtctl *c, int argc, char **argv)
{
	const struct dhtctl_cmd *cmd = &dhtctl_cmd_writerkey;
	struct cmd_args a;
	int rc = dhtctl_args(c, cmd, argc, argv, 1, "", &a);

	if (rc)
		return rc;
	if (a.npos != 1)
		return dhtctl_usage(c, cmd, "name the key file to create");
	return writer_keygen(c, cmd, a.pos[0]);
}

/* Commands that name only a key (get, lookup): ask the node, answer in *RESP. */
static int key_call(struct dhtctl *c, const struct dhtctl_cmd *cmd, int argc, char **argv,
		    json_t **resp)
{
	struct cmd_args a;
	json_t *req = NULL;
	int rc = key_request(c, cmd, argc, argv, "id", 0, &a, &req);

	return rc ? rc : dhtctl_call(c, req, resp);
}

/* One line per value: the value alone if it is the only one (or --writer chose it), else
 * "WRITER SEQ VALUE" (WRITER "-" for an immutable value). */
static void print_values(const json_t *resp)
{
	const json_t *values = json_object_get(resp, "values"), *v;
	size_t i, n = json_array_size(values);

	json_array_foreach(values, i, v) {
		const char *text = json_is_string(json_object_get(v, "value")) ? jstr(v, "value")
										: jstr(v, "value_hex");
		if (n == 1)
			printf("%s\n", text);
		else
			printf("%s %.0f %s\n", json_is_string(json_object_get(v, "writer"))
						     ? jstr(v, "writer") : "-",
			       jnum(v, "seq"), text);
	}
}

static int run_get(struct dhtctl *c, int argc, char **argv)
{
	const struct dhtctl_cmd *cmd = &dhtctl_cmd_get;
	struct cmd_args a;
	json_t *req = NULL, *resp;
	int rc = key_request(c, cmd, argc, argv, "id writer", 0, &a, &req);

	if (rc)
		return rc;
	if (a.writer && strlen(a.writer) != 2 * DHT_ITEM_PK_LEN) {
		json_decref(req);
		return dhtctl_usage(c, cmd, "--writer takes a public key of %d hex digits",
				    2 * DHT_ITEM_PK_LEN);
	}
	if (a.writer)
		json_object_set_new(req, "writer", json_string(a.writer));
	rc = dhtctl_call(c, req, &resp);
	if (rc)
		return rc;
	if (c->json)
		dhtctl_print_json(resp);
	else
		print_values(resp);
	json_decref(resp);
	return EXIT_OK;
}

static void print_path(const json_t *path)
{
	const char *ids[DHT_MAX_PATH];
	size_t n = json_array_size(path);
	const json_t *hop;
	size_t i;
	int len;

	if (n > DHT_MAX_PATH)
		n = DHT_MAX_PATH;
	for (i = 0; i < n; i++)
		ids[i] = jstr(json_array_get(path, i), "id");
	len = short_id_len(ids, n);
	printf("%-8s%3s  %-*s  %-21s  %s\n", "path", "#", len, "id", "addr", "rtt");
	json_array_foreach(path, i, hop) {
		if (i >= n)
			break;
		printf("%-8s%3zu  ", "", i + 1);
		print_node(hop, len, 21);
		if (json_is_true(json_object_get(hop, "answered")))
			printf("  %.2f ms\n", jnum(hop, "rtt_ms"));
		else
			printf("  no answer\n");
	}
}

static int run_lookup(struct dhtctl *c, int argc, char **argv)
{
	json_t *resp;
	int rc = key_call(c, &dhtctl_cmd_lookup, argc, argv, &resp);

	if (rc)
		return rc;
	if (c->json) {
		dhtctl_print_json(resp);
	} else {
		printf("%-8s%s\n", "key id", jstr(resp, "key_id"));
		print_owner(resp);
		print_path(json_object_get(resp, "path"));
	}
	json_decref(resp);
	return EXIT_OK;
}

static int run_announce(struct dhtctl *c, int argc, char **argv)
{
	const struct dhtctl_cmd *cmd = &dhtctl_cmd_announce;
	struct cmd_args a;
	json_t *req = NULL, *resp;
	int rc = key_request(c, cmd, argc, argv, "ttl id", 1, &a, &req);

	if (rc)
		return rc;
	json_object_set_new(req, "peer", json_string(a.pos[a.npos - 1]));
	rc = add_ttl(c, cmd, req, a.ttl);
	if (!rc)
		rc = dhtctl_call(c, req, &resp);
	if (rc)
		return rc;
	if (c->json) {
		dhtctl_print_json(resp);
	} else {
		printf("%-8s%s\n%-8s", "key id", jstr(resp, "key_id"), "owner");
		print_node(json_object_get(resp, "owner"), 40, 0);
		printf("\n");
	}
	json_decref(resp);
	return EXIT_OK;
}

static int run_peers(struct dhtctl *c, int argc, char **argv)
{
	const struct dhtctl_cmd *cmd = &dhtctl_cmd_peers;
	struct cmd_args a;
	json_t *req = NULL, *resp, *peer;
	unsigned long max = KV_MAX_PEERS_REPLY;
	size_t i;
	int rc = key_request(c, cmd, argc, argv, "id max", 0, &a, &req);

	if (rc)
		return rc;
	if (a.max && dhtctl_parse_uint(a.max, KV_MAX_PEERS_REPLY, &max) < 0) {
		json_decref(req);
		return dhtctl_usage(c, cmd, "--max takes 0 to %d, not '%s'", KV_MAX_PEERS_REPLY,
				    a.max);
	}
	json_object_set_new(req, "max", json_integer((json_int_t)max));
	rc = dhtctl_call(c, req, &resp);
	if (rc)
		return rc;
	if (c->json)
		dhtctl_print_json(resp);
	else
		json_array_foreach(json_object_get(resp, "peers"), i, peer)
			printf("%s\n", json_string_value(peer) ? json_string_value(peer) : "?");
	json_decref(resp);
	return EXIT_OK;
}

const struct dhtctl_cmd dhtctl_cmd_put = {
	"put", "KEY VALUE [--ttl S] [--key-file FILE] [--cas SEQ] | --id HEX VALUE | --immutable VALUE",
	"store VALUE under KEY (at the key's owner and its replicas)",
	"\nKEY is any text; it is hashed to an id of the network's width. --id HEX names the id\n"
	"directly. VALUE is text of at most 1000 bytes; it expires after --ttl seconds (default:\n"
	"the node's, one hour). A value belongs to its writer, an Ed25519 key that signs it with\n"
	"a sequence number (the clock, in microseconds): the node's own key, or with --key-file\n"
	"FILE yours (dhtctl signs here; the secret never goes to the node; make one with\n"
	"writerkey FILE). A key holds one value per writer: a put replaces only its writer's\n"
	"earlier value, and only with a higher seq. --cas SEQ stores only if the writer's value\n"
	"there has seq SEQ (0: none yet). --immutable stores VALUE under the hash of its bytes\n"
	"and prints that key (get it with --id). Prints the key id, the writer, the seq, the\n"
	"owner, the hops of the lookup and the time taken.\n",
	run_put,
};

const struct dhtctl_cmd dhtctl_cmd_get = {
	"get", "KEY [--writer PUBKEY] | --id HEX [--writer PUBKEY]",
	"print the values stored under KEY",
	"\nPrints the value alone on one line if the key holds one; with several writers, one\n"
	"line per value: the writer's public key (hex; - if immutable), the seq, the value.\n"
	"--writer PUBKEY reads only that writer's value. Every signature is checked. With --json:\n"
	"values [{value, writer, seq, ttl, immutable}], the owner and hops. Exits 1 if no value\n"
	"is stored under the key.\n",
	run_get,
};

const struct dhtctl_cmd dhtctl_cmd_delete = {
	"delete", "KEY [--key-file FILE] [--cas SEQ] | --id HEX [--key-file FILE]",
	"delete the writer's value under KEY",
	"\nStores a signed tombstone with a higher seq in place of the writer's value (the node's\n"
	"key, or --key-file's): it replicates like a value, and an older value sent again is\n"
	"refused until it expires. Other writers' values stay.\n",
	run_delete,
};

const struct dhtctl_cmd dhtctl_cmd_writerkey = {
	"writerkey", "FILE",
	"make a writer key for put --key-file (no node is asked)",
	"\nCreates FILE (mode 0600; it must not exist) holding a new Ed25519 key in the format of\n"
	"the node's identity.key, and prints its public key: the writer get shows. Contacts no\n"
	"node.\n",
	run_writerkey,
};

const struct dhtctl_cmd dhtctl_cmd_lookup = {
	"lookup", "KEY | --id HEX",
	"find the node that owns KEY, and show the path taken",
	"\nPrints the key id, the owner's id and address, and every node the lookup contacted\n"
	"with its round-trip time (or 'no answer'), then the hop count and total time.\n",
	run_lookup,
};

const struct dhtctl_cmd dhtctl_cmd_announce = {
	"announce", "KEY PEER [--ttl SECONDS] | --id HEX PEER",
	"announce this node at PEER's port under KEY",
	"\nAnnouncements are a tracker's list: many peers per key, each expiring after --ttl\n"
	"seconds unless announced again. The key's owner records the IP the announcement came\n"
	"from (this node's), with PEER's port: nobody can announce an address of another\n"
	"machine.\n",
	run_announce,
};

const struct dhtctl_cmd dhtctl_cmd_peers = {
	"peers", "KEY [--max N] | --id HEX [--max N]",
	"list peers announced under KEY (a random subset of at most 50)",
	"\nPrints one IP:PORT per line.\n",
	run_peers,
};
