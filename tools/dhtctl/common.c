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
	switch (r) {
	case CTL_OK:
		break;
	case CTL_REFUSED:
		return dhtctl_fail(c, EXIT_UNREACHABLE, "unreachable",
				   "cannot reach dhtnode at %s: %s \u2014 is it running? start one with "
				   "dhtnode --listen %s, or name another with --node HOST:PORT",
				   c->node, err, c->node);
	case CTL_NO_ANSWER:
		return dhtctl_fail(c, EXIT_UNREACHABLE, "unreachable",
				   "dhtnode at %s did not answer within %.1f s (%s) \u2014 it may be "
				   "overloaded or stuck; retry with a longer --timeout",
				   c->node, c->timeout_ms / 1000.0, err);
	case CTL_BAD_ANSWER:
		return dhtctl_fail(c, EXIT_OTHER, "bad_answer",
				   "the program at %s does not speak the control protocol (%s) \u2014 "
				   "is it a dhtnode of this version?", c->node, err);
	}
	if (!json_is_true(json_object_get(*resp, "ok"))) {
		exit = node_error(c, *resp);
		json_decref(*resp);
		*resp = NULL;
	}
	return exit;
}

int dhtctl_print_json(const json_t *resp)
{
	json_dumpf(resp, stdout, JSON_COMPACT);
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

int dhtctl_args(struct dhtctl *c, const struct dhtctl_cmd *cmd, int argc, char **argv,
		int maxpos, const char *opts, struct cmd_args *out)
{
	static const char *const names[] = { "ttl", "id", "max" };
	bool ended = false;

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char **slot = NULL;
		if (!ended && !strcmp(a, "--")) {
			ended = true;
			continue;
		}
		if (ended || a[0] != '-' || !a[1]) {
			if (out->npos >= maxpos)
				return dhtctl_usage(c, cmd, "unexpected argument '%s'", a);
			out->pos[out->npos++] = a;
			continue;
		}
		for (size_t k = 0; k < 3; k++)
			if (!strncmp(a, "--", 2) && !strcmp(a + 2, names[k]) && strstr(opts, names[k]))
				slot = k == 0 ? &out->ttl : k == 1 ? &out->id : &out->max;
		if (!slot)
			return dhtctl_usage(c, cmd, "unknown option '%s' (put -- before an argument "
					    "that starts with '-')", a);
		if (i + 1 >= argc)
			return dhtctl_usage(c, cmd, "%s needs a value", a);
		*slot = argv[++i];
	}
	return EXIT_OK;
}
