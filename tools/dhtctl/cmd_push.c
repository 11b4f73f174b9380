/* dhtctl push (docs/control.md, push): share PATH on the node and ask every member of the ring
 * that takes pushes to fetch it. While it runs: on a terminal one line of counts, redrawn;
 * otherwise one line per member each time its state changes (with --json the node's progress
 * lines as they come). At the end, the table of members. The node runs the push; this file
 * only shows it. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "tools/dhtctl/files.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/dhtctl/textwidth.h"

#define MAX_SEEN 1024 /* members whose last state is remembered (the node's PUSH_MAX_MEMBERS) */

struct push_view {
	struct dhtctl *c;
	bool tty;
	size_t nseen;
	char addr[MAX_SEEN][64];
	char state[MAX_SEEN][16];
};

/* Print a member's state when it changed since the last line (non-terminal text output). */
static void member_changed(struct push_view *v, const json_t *mb)
{
	const char *addr = jstr(mb, "addr"), *st = jstr(mb, "state");
	size_t i = 0;
	while (i < v->nseen && strcmp(v->addr[i], addr) != 0)
		i++;
	if (i == v->nseen) {
		if (v->nseen == MAX_SEEN)
			return;
		snprintf(v->addr[v->nseen++], sizeof v->addr[0], "%s", addr);
		v->state[i][0] = '\0';
	}
	if (strcmp(v->state[i], st) == 0)
		return;
	snprintf(v->state[i], sizeof v->state[0], "%s", st);
	printf("%-24s %-10s %5.1f%%\n", addr, st,
	       jnum(mb, "bytes_total") > 0 ? 100 * jnum(mb, "bytes_done") / jnum(mb, "bytes_total")
					   : 0.0);
	fflush(stdout);
}

static void counts_line(const json_t *members, char *line, size_t cap)
{
	double done = 0, total = 0;
	int ver = 0, fetching = 0, other = 0;
	size_t i;
	const json_t *mb;
	json_array_foreach(members, i, mb) {
		const char *st = jstr(mb, "state");
		if (!strcmp(st, "verified") || !strcmp(st, "had_it") || !strcmp(st, "source")) {
			ver++;
		} else if (!strcmp(st, "fetching") || !strcmp(st, "asking")) {
			fetching++;
			done += jnum(mb, "bytes_done");
			total += jnum(mb, "bytes_total");
		} else {
			other++;
		}
	}
	snprintf(line, cap, "push: %d verified, %d fetching (%.1f%%), %d refused or lost", ver,
		 fetching, total > 0 ? 100 * done / total : 0.0, other);
}

static void on_progress(void *arg, const json_t *p)
{
	struct push_view *v = arg;
	const json_t *members = json_object_get(p, "members"), *mb;
	char line[256];
	size_t i;
	if (v->c->json) {
		json_t *o = json_pack("{s:O}", "progress", (json_t *)p);
		dhtctl_print_json(o);
		json_decref(o);
		fflush(stdout);
	} else if (v->tty) {
		if (!strcmp(jstr(p, "phase"), "hashing"))
			snprintf(line, sizeof line, "hashing: %.0f of %.0f bytes", jnum(p, "bytes_done"),
				 jnum(p, "bytes_total"));
		else if (!strcmp(jstr(p, "phase"), "walk"))
			snprintf(line, sizeof line, "finding the ring's members: %zu so far",
				 json_array_size(members));
		else
			counts_line(members, line, sizeof line);
		int cols = terminal_columns() - 1;
		printf("\r%.*s\033[K", cols > 0 ? cols : 0, line);
		fflush(stdout);
	} else if (!strcmp(jstr(p, "phase"), "push")) {
		json_array_foreach(members, i, mb)
			member_changed(v, mb);
	}
}

static void print_table(const json_t *last)
{
	const json_t *mb;
	size_t i;
	printf("pushed %s (%.0f bytes) in %.1f s: %.0f verified, %.0f refused, %.0f no answer, "
	       "%.0f failed\n", jstr(last, "content_id"), jnum(last, "bytes"),
	       jnum(last, "seconds"), jnum(last, "verified"), jnum(last, "refused"),
	       jnum(last, "no_answer"), jnum(last, "failed"));
	printf("%-24s %-10s %8s  %s\n", "MEMBER", "STATE", "TIME", "WHY");
	json_array_foreach(json_object_get(last, "members"), i, mb) {
		const char *st = jstr(mb, "state");
		char t[32] = "-";
		if (strcmp(st, "source") != 0)
			snprintf(t, sizeof t, "%.1f s", jnum(mb, "seconds"));
		printf("%-24s %-10s %8s  %s\n", jstr(mb, "addr"), st, t,
		       jstr(json_object_get(mb, "reason"), "text"));
	}
}

static int run_push(struct dhtctl *c, int argc, char **argv)
{
	const struct dhtctl_cmd *cmd = &dhtctl_cmd_push;
	struct cmd_args o;
	char path[PATH_MAX], err[CTL_ERR_MAX];
	json_t *last = NULL;
	int rc = dhtctl_args(c, cmd, argc, argv, 1, "", &o);
	if (rc)
		return rc;
	if (o.npos < 1)
		return dhtctl_usage(c, cmd, "name the file or directory to push");
	if (!realpath(o.pos[0], path))
		return dhtctl_fail(c, EXIT_OTHER, "io", "cannot use %s: %s", o.pos[0],
				   strerror(errno));
	struct push_view *v = calloc(1, sizeof *v);
	if (v == NULL)
		return dhtctl_fail(c, EXIT_OTHER, "internal", "out of memory");
	*v = (struct push_view){ .c = c, .tty = !c->json && isatty(STDOUT_FILENO) };
	struct ctl_stream_cb cb = { .fn = on_progress, .arg = v };
	json_t *req = json_pack("{s:s, s:s, s:b}", "cmd", "push", "path", path, "follow", 1);
	enum ctl_result r = ctl_stream(&c->target, req, c->timeout_ms, &cb, &last, err);
	json_decref(req);
	if (v->tty)
		printf("\r\033[K");
	free(v);
	if (r != CTL_OK)
		return dhtctl_unreachable(c, r, err);
	if (!json_is_true(json_object_get(last, "ok"))) {
		rc = dhtctl_fail(c, EXIT_OTHER, jstr(last, "code"), "%s", jstr(last, "error"));
	} else {
		if (c->json)
			dhtctl_print_json(last);
		else
			print_table(last);
		rc = jnum(last, "no_answer") + jnum(last, "failed") > 0 ? EXIT_OTHER : EXIT_OK;
	}
	json_decref(last);
	return rc;
}

const struct dhtctl_cmd dhtctl_cmd_push = {
	"push", "PATH",
	"share PATH and have every member of the ring that takes pushes fetch it",
	"\nThe node shares PATH, finds the ring's members by walking its successors, and sends\n"
	"each a push request signed with the node's key. A member started with --accept-push DIR\n"
	"and this node's public key (--push-key; 'dhtctl status' shows it) fetches the content\n"
	"into DIR and seeds it to the others; other members refuse and write nothing. Members\n"
	"that already hold the content do nothing; members that join later are not chased.\n"
	"Shows each member's progress, then a table: member, state (source, verified, had_it,\n"
	"refused, no_answer, failed, timeout), time and why. Exit 0 when every member that took\n"
	"the push has a verified copy, 4 when one failed or stopped answering.\n",
	run_push,
};
