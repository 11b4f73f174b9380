/* dhtctl's views of the ring: `ring` (the node walks the successor pointers and we print the
 * members in ring order) and `status` (one node's own state). Text output is aligned columns
 * with ids cut to the shortest unambiguous prefix; --json passes the node's answer through
 * with full ids. Judging consistency is the node's job (docs/control.md), not ours. */
#include "tools/dhtctl/dhtctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUCC_SHOWN 3 /* successors per member in the ring table; the rest are counted */

/* Collect every id the answer mentions, so that the short form is unambiguous among them. */
static int ring_id_len(const json_t *members)
{
	size_t n = json_array_size(members), cap = n * 34 + 1, k = 0, i, j;
	const char **ids = malloc(cap * sizeof(*ids));
	const json_t *m, *s;
	int len;

	if (!ids)
		return 40;
	json_array_foreach(members, i, m) {
		ids[k++] = jstr(m, "id");
		ids[k++] = jstr(json_object_get(m, "predecessor"), "id");
		json_array_foreach(json_object_get(m, "successors"), j, s)
			if (k < cap)
				ids[k++] = jstr(s, "id");
	}
	len = short_id_len(ids, k);
	free(ids);
	return len;
}

static void print_member(size_t i, const json_t *m, int len)
{
	const json_t *pred = json_object_get(m, "predecessor");
	const json_t *succ = json_object_get(m, "successors");
	const json_t *s;
	size_t j;

	printf("%4zu  ", i + 1);
	print_node(m, len, 21);
	printf("  %-*.*s ", len, len, json_is_object(pred) ? jstr(pred, "id") : "-");
	json_array_foreach(succ, j, s) {
		if (j == SUCC_SHOWN) {
			printf(" +%zu", json_array_size(succ) - SUCC_SHOWN);
			break;
		}
		printf(" %.*s", len, jstr(s, "id"));
	}
	printf("\n");
}

static void print_ring(const json_t *resp)
{
	const json_t *members = json_object_get(resp, "members");
	const json_t *m, *p;
	int len = ring_id_len(members);
	size_t i;

	printf("ring of %zu %s, %s\n", json_array_size(members),
	       plural((double)json_array_size(members), "member", "members"),
	       json_is_true(json_object_get(resp, "consistent")) ? "consistent" : "NOT consistent");
	printf("%4s  %-*s  %-21s  %-*s  %s\n", "#", len, "id", "addr", len, "pred", "successors");
	json_array_foreach(members, i, m)
		print_member(i, m, len);
	json_array_foreach(json_object_get(resp, "problems"), i, p)
		printf("%s %s\n", i ? "       " : "problem", json_string_value(p));
}

static int run_ring(struct dhtctl *c, int argc, char **argv)
{
	const struct dhtctl_cmd *cmd = &dhtctl_cmd_ring;
	unsigned long max = 1024;
	struct cmd_args a;
	json_t *resp;
	int rc = dhtctl_args(c, cmd, argc, argv, 0, "max", &a);

	if (rc)
		return rc;
	if (a.max && dhtctl_parse_uint(a.max, 1u << 20, &max) < 0)
		return dhtctl_usage(c, cmd, "--max takes a number of members, not '%s'", a.max);
	rc = dhtctl_call(c, json_pack("{s:s, s:I}", "cmd", "ring", "max", (json_int_t)max), &resp);
	if (rc)
		return rc;
	if (c->json)
		dhtctl_print_json(resp);
	else
		print_ring(resp);
	json_decref(resp);
	return EXIT_OK;
}

/* The key a neighbour proved its id with (issue 11), shortened: status --json has it whole. */
static void print_key(const json_t *n)
{
	const char *k = jstr(n, "public_key");
	if (*k)
		printf("  key %.16s", k);
}

static void print_nodes(const char *label, const json_t *list)
{
	const json_t *n;
	size_t i;

	json_array_foreach(list, i, n) {
		printf("%-13s", i ? "" : label);
		print_node(n, (int)strlen(jstr(n, "id")), 0);
		print_key(n);
		printf("\n");
	}
	if (json_array_size(list) == 0)
		printf("%-13s(none)\n", label);
}

/* Tables longer than this (ids of more than 32 bits) show a run of fingers with the same node
 * as one row unless --all: at 160 bits most of the 160 rows would repeat the successor. */
#define FINGERS_SHOWN_ALL 32

/* One row: fingers FIRST..LAST (one finger if equal), from FIRST's start to LAST's end. */
static void print_finger_row(const json_t *first, const json_t *last, int w)
{
	const json_t *end = json_array_get(json_object_get(last, "interval"), 1);
	char idx[16];

	if (first == last)
		snprintf(idx, sizeof(idx), "%d", (int)jnum(first, "index"));
	else
		snprintf(idx, sizeof(idx), "%d-%d", (int)jnum(first, "index"),
			 (int)jnum(last, "index"));
	printf("%-13s%7s  %-*s  [%s, %s)  ", "", idx, w, jstr(first, "start"), jstr(first, "start"),
	       json_string_value(end) ? json_string_value(end) : "?");
	print_node(first, (int)strlen(jstr(first, "id")), 0);
	printf("\n");
}

/* The finger table as the textbook draws it: i, start = id + 2^i, the interval [start_i,
 * start_i+1) and the node (successor of start). */
static void print_fingers(const json_t *fingers, bool all)
{
	size_t n = json_array_size(fingers), i = 0, rows = 0;
	bool collapse = !all && n > FINGERS_SHOWN_ALL;
	int w = (int)strlen(jstr(json_array_get(fingers, 0), "start"));

	if (n == 0) {
		printf("%-13s(none)\n", "fingers");
		return;
	}
	printf("%-13s%7s  %-*s  %-*s  node\n", "fingers", "i", w, "start", 2 * w + 4, "interval");
	while (i < n) {
		size_t j = i;
		const json_t *f = json_array_get(fingers, i);
		while (collapse && j + 1 < n &&
		       !strcmp(jstr(json_array_get(fingers, j + 1), "id"), jstr(f, "id")))
			j++;
		print_finger_row(f, json_array_get(fingers, j), w);
		rows++;
		i = j + 1;
	}
	if (rows < n)
		printf("%-13s(%zu fingers in %zu rows: a row i-j stands for fingers i to j, which all "
		       "point at the same node; --all shows each)\n", "", n, rows);
}

static void print_entries(const json_t *entries)
{
	const json_t *e;
	size_t i;

	if (json_array_size(entries) == 0)
		return;
	printf("%-13s%-40s  %-6s  %6s  %8s  held as\n", "entries", "key id", "kind", "bytes",
	       "ttl s");
	json_array_foreach(entries, i, e)
		printf("%-13s%-40s  %-6s  %6d  %8d  %s\n", "", jstr(e, "key_id"), jstr(e, "kind"),
		       (int)jnum(e, "bytes"), (int)jnum(e, "ttl"),
		       json_is_true(json_object_get(e, "owned")) ? "owner" : "replica");
}

/* The ring's kind and the datagrams the node refused before its core (status's "network"). */
static void print_network(const json_t *net)
{
	const json_t *ref = json_object_get(net, "refused");
	if (!json_is_object(net))
		return;
	if (json_is_true(json_object_get(net, "keyed")))
		printf("%-13sprivate (network key tag %s)\n%-13s%.0f not sealed, %.0f other key, "
		       "%.0f forged, %.0f replayed, %.0f stale\n", "network", jstr(net, "tag"),
		       "refused", jnum(ref, "not_sealed"), jnum(ref, "other_key"),
		       jnum(ref, "forged"), jnum(ref, "replay"), jnum(ref, "stale"));
	else
		printf("%-13sopen (no network key); refused %.0f sealed %s\n", "network",
		       jnum(ref, "sealed"), plural(jnum(ref, "sealed"), "datagram", "datagrams"));
}

static void print_status(const json_t *r, bool all)
{
	const json_t *st = json_object_get(r, "stats");
	const json_t *pred = json_object_get(r, "predecessor");

	printf("%-13s%s\n%-13s%s\n%-13s%s (%d-bit ids)\n", "id", jstr(r, "id"), "addr",
	       jstr(r, "addr"), "state", jstr(r, "state"), (int)jnum(r, "bits"));
	if (*jstr(r, "public_key"))
		printf("%-13s%s\n", "public key", jstr(r, "public_key"));
	printf("%-13s", "predecessor");
	print_node(pred, (int)strlen(jstr(pred, "id")), 0);
	print_key(pred);
	printf("\n");
	print_nodes("successors", json_object_get(r, "successors"));
	print_fingers(json_object_get(r, "fingers"), all);
	printf("%-13s%.0f (%.0f %s)\n", "keys", jnum(r, "keys"), jnum(r, "store_bytes"),
	       plural(jnum(r, "store_bytes"), "byte", "bytes"));
	print_entries(json_object_get(r, "entries"));
	printf("%-13ssent %.0f, received %.0f, dropped %.0f, timeouts %.0f, lookups %.0f "
	       "(%.0f failed)\n", "messages", jnum(st, "sent"), jnum(st, "received"),
	       jnum(st, "dropped"), jnum(st, "timeouts"), jnum(st, "lookups"),
	       jnum(st, "lookups_failed"));
	print_network(json_object_get(r, "network"));
}

static int run_status(struct dhtctl *c, int argc, char **argv)
{
	struct cmd_args a;
	json_t *resp;
	int rc = dhtctl_args(c, &dhtctl_cmd_status, argc, argv, 0, "all", &a);

	if (rc)
		return rc;
	rc = dhtctl_call(c, json_pack("{s:s}", "cmd", "status"), &resp);
	if (rc)
		return rc;
	if (c->json)
		dhtctl_print_json(resp);
	else
		print_status(resp, a.all);
	json_decref(resp);
	return EXIT_OK;
}

const struct dhtctl_cmd dhtctl_cmd_ring = {
	"ring", "[--max N]",
	"walk the ring from the node and show every member in ring order",
	"\nThe node follows successor pointers until it is back at itself (or has seen --max\n"
	"members, default 1024) and says whether the ring is consistent: the walk closed, and\n"
	"every member's successor and predecessor are its neighbours in the walk. Each member is\n"
	"shown with its predecessor and first successors. Exits 0 either way; with --json,\n"
	"`consistent` is true or false and `members` lists each live node's id and addr.\n",
	run_ring,
};

const struct dhtctl_cmd dhtctl_cmd_status = {
	"status", "[--all]",
	"show one node: id, predecessor, successors, fingers, keys held",
	"\nAsks only the node named by --node; nothing is sent into the ring. The finger table\n"
	"has one row per finger i: its start (id + 2^i mod 2^bits), its interval [start_i,\n"
	"start_i+1) and its node, the first node this node knows at or after the start. With\n"
	"ids of more than 32 bits, fingers with the same node share a row (i-j) unless --all.\n"
	"docs/control.md describes every field.\n",
	run_status,
};
