/* dhtctl's file commands: share, fetch, list, stop and watch (docs/control.md, "Files").
 * Paths are made absolute here, since the node may run in another directory. Commands that
 * follow a transfer draw a progress bar on one line when stdout is a terminal, and otherwise
 * (or with --json) print the node's progress lines as they come, one JSON object each.
 * The node judges the requests; this file checks only what it can tell without it. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "tools/dhtctl/files.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BAR_WIDTH 24

struct fopts {
	const char *pos[2];
	int npos;
	const char *chunk, *out, *find_timeout;
	bool leave, nowait;
};

static const struct {
	const char *name, *alias;
	bool value;
} file_opts[] = {
	{ "--chunk-size", NULL, true },   { "--out", "-o", true },
	{ "--find-timeout", NULL, true }, { "--leave-when-done", NULL, false },
	{ "--no-wait", NULL, false },
};

static const char **opt_slot(struct fopts *o, size_t k)
{
	static const char *unused;
	switch (k) {
	case 0:
		return &o->chunk;
	case 1:
		return &o->out;
	case 2:
		return &o->find_timeout;
	}
	return &unused;
}

/* Split ARGV into at most MAXPOS positional arguments and the options named in ALLOWED. */
static int parse(struct dhtctl *c, const struct dhtctl_cmd *cmd, int argc, char **argv,
		 int maxpos, const char *allowed, struct fopts *o)
{
	bool ended = false;

	memset(o, 0, sizeof(*o));
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		size_t k = sizeof(file_opts) / sizeof(file_opts[0]);
		if (!ended && !strcmp(a, "--")) {
			ended = true;
			continue;
		}
		if (ended || a[0] != '-' || !a[1]) {
			if (o->npos >= maxpos)
				return dhtctl_usage(c, cmd, "unexpected argument '%s'", a);
			o->pos[o->npos++] = a;
			continue;
		}
		for (size_t j = 0; j < sizeof(file_opts) / sizeof(file_opts[0]); j++)
			if ((!strcmp(a, file_opts[j].name) ||
			     (file_opts[j].alias && !strcmp(a, file_opts[j].alias))) &&
			    strstr(allowed, file_opts[j].name))
				k = j;
		if (k == sizeof(file_opts) / sizeof(file_opts[0]))
			return dhtctl_usage(c, cmd, "unknown option '%s'", a);
		if (!file_opts[k].value) {
			*(k == 3 ? &o->leave : &o->nowait) = true;
			continue;
		}
		if (i + 1 >= argc)
			return dhtctl_usage(c, cmd, "%s needs a value", a);
		*opt_slot(o, k) = argv[++i];
	}
	if (o->npos < maxpos)
		return dhtctl_usage(c, cmd, "missing arguments");
	return EXIT_OK;
}

/* ---- talking to the node ---- */

static int reach_fail(struct dhtctl *c, enum ctl_result r, const char *err)
{
	if (r == CTL_REFUSED)
		return dhtctl_fail(c, EXIT_UNREACHABLE, "unreachable",
				   "cannot reach dhtnode at %s: %s \u2014 is it running? start one with "
				   "dhtnode --listen %s, or name another with --node HOST:PORT",
				   c->node, err, c->node);
	if (r == CTL_NO_ANSWER)
		return dhtctl_fail(c, EXIT_UNREACHABLE, "unreachable",
				   "dhtnode at %s went quiet (%s) \u2014 it may be overloaded or stuck; "
				   "retry with a longer --timeout", c->node, err);
	return dhtctl_fail(c, EXIT_OTHER, "bad_answer", "the program at %s does not speak the "
			   "control protocol (%s) \u2014 is it a dhtnode of this version?", c->node, err);
}

/* The node said ok: false: print its sentence and map its code to an exit code. */
static int node_fail(struct dhtctl *c, const json_t *resp)
{
	const char *code = jstr(resp, "code");
	const char *msg = jstr(resp, "error");

	fprintf(stderr, "dhtctl: %s\n", *msg ? msg : "the node gave no reason");
	if (c->json)
		dhtctl_print_json(resp);
	if (!strcmp(code, "not_found"))
		return EXIT_NOT_FOUND;
	if (!strcmp(code, "usage") || !strcmp(code, "too_large"))
		return EXIT_USAGE;
	if (!strcmp(code, "timeout"))
		return EXIT_UNREACHABLE;
	return EXIT_OTHER;
}

/* Send REQ (consumed); hand progress lines to FN; return an exit code, *LAST set on success. */
static int call(struct dhtctl *c, json_t *req, ctl_progress_fn *fn, void *arg, json_t **last)
{
	char err[CTL_ERR_MAX];
	enum ctl_result r = ctl_stream(&c->target, req, c->timeout_ms, fn, arg, last, err);

	json_decref(req);
	if (r != CTL_OK)
		return reach_fail(c, r, err);
	if (json_is_true(json_object_get(*last, "ok")))
		return EXIT_OK;
	int rc = node_fail(c, *last);
	json_decref(*last);
	*last = NULL;
	return rc;
}

/* The node may run in another directory: it gets absolute paths. A path that cannot be
 * resolved is the disk's answer, not a usage error. */
static int absolute(struct dhtctl *c, const char *path, char out[PATH_MAX])
{
	if (realpath(path, out))
		return EXIT_OK;
	return dhtctl_fail(c, EXIT_OTHER, "io", "cannot use %s: %s", path, strerror(errno));
}

static int content_id_ok(struct dhtctl *c, const struct dhtctl_cmd *cmd, const char *hex)
{
	if (strlen(hex) == 64 && strspn(hex, "0123456789abcdefABCDEF") == 64)
		return EXIT_OK;
	return dhtctl_usage(c, cmd, "'%s' is not a content id (64 hex digits, as share prints)",
			    hex);
}

/* ---- showing progress ---- */

static const char *human(double bytes, char *buf, size_t cap)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;

	while (bytes >= 1024 && u < 4) {
		bytes /= 1024;
		u++;
	}
	snprintf(buf, cap, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
	return buf;
}

struct shown {
	struct dhtctl *c;
	bool bar;      /* drawing a bar on the terminal */
	bool drawn;    /* something is on the bar's line */
	bool raw;      /* printing the node's lines */
};

static void draw_bar(struct shown *s, const json_t *p)
{
	const char *phase = jstr(p, "phase");
	double pct = jnum(p, "percent"), eta = jnum(p, "eta_s");
	char done[32], total[32], rate[32], left[32] = "-";
	int fill = (int)(pct / 100 * BAR_WIDTH + 0.5);

	if (json_is_number(json_object_get(p, "eta_s")))
		snprintf(left, sizeof(left), "%d:%02d", (int)eta / 60, (int)eta % 60);
	if (!strcmp(phase, "peers") || !strcmp(phase, "manifest")) {
		printf("\r%s...\033[K", !strcmp(phase, "peers") ? "looking for peers in the DHT"
								: "fetching the manifest");
	} else {
		printf("\r[%.*s%*s] %5.1f%%  %s of %s  %s/s  %d peers  ETA %s\033[K", fill,
		       "########################", BAR_WIDTH - fill, "", pct,
		       human(jnum(p, "bytes_done"), done, sizeof(done)),
		       human(jnum(p, "bytes_total"), total, sizeof(total)),
		       human(jnum(p, "rate_down"), rate, sizeof(rate)), (int)jnum(p, "peers"), left);
	}
	fflush(stdout);
	s->drawn = true;
}

static void on_progress(void *arg, const json_t *p)
{
	struct shown *s = arg;

	if (s->bar) {
		draw_bar(s, p);
	} else if (s->raw) {
		json_t *o = json_pack("{s:O}", "progress", (json_t *)p);
		dhtctl_print_json(o);
		json_decref(o);
		fflush(stdout);
	}
}

static void end_bar(struct shown *s)
{
	if (s->drawn)
		printf("\r\033[K");
	s->drawn = false;
}

static struct shown shown_for(struct dhtctl *c)
{
	struct shown s = { .c = c };

	s.bar = !c->json && isatty(STDOUT_FILENO);
	s.raw = !s.bar;
	return s;
}

/* ---- share ---- */

static int parse_chunk(const char *s, unsigned long *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (end == s)
		return -1;
	if (!strcmp(end, "K") || !strcmp(end, "KiB"))
		v <<= 10;
	else if (!strcmp(end, "M") || !strcmp(end, "MiB"))
		v <<= 20;
	else if (*end)
		return -1;
	if (v < (16ul << 10) || v > (16ul << 20) || (v & (v - 1)))
		return -1;
	*out = v;
	return 0;
}

static void share_hashing(void *arg, const json_t *p)
{
	struct shown *s = arg;
	char done[32], total[32];

	if (!s->bar)
		return;
	printf("\rhashing: %5.1f%%  %s of %s\033[K", jnum(p, "percent"),
	       human(jnum(p, "bytes_done"), done, sizeof(done)),
	       human(jnum(p, "bytes_total"), total, sizeof(total)));
	fflush(stdout);
	s->drawn = true;
}

/* What the share left out (symlinks, FIFOs, ...): not part of the content. */
static void print_skipped(const json_t *last)
{
	const json_t *a = json_object_get(last, "skipped"), *e;
	size_t i;
	json_array_foreach(a, i, e)
		printf("  left out %s: %s\n", jstr(e, "path"), jstr(e, "why"));
	int more = (int)jnum(last, "skipped_count") - (int)json_array_size(a);
	if (more > 0)
		printf("  left out %d more entries (see the node's log)\n", more);
}

static int run_share(struct dhtctl *c, int argc, char **argv)
{
	const struct dhtctl_cmd *cmd = &dhtctl_cmd_share;
	struct fopts o;
	char path[PATH_MAX], size[32];
	unsigned long chunk = 0;
	struct shown s = shown_for(c);
	json_t *last;
	int rc = parse(c, cmd, argc, argv, 1, "--chunk-size", &o);

	if (rc)
		return rc;
	if (o.chunk && parse_chunk(o.chunk, &chunk) < 0)
		return dhtctl_usage(c, cmd, "--chunk-size takes a power of two from 16KiB to 16MiB, "
				    "not '%s'", o.chunk);
	rc = absolute(c, o.pos[0], path);
	if (rc)
		return rc;
	json_t *req = json_pack("{s:s, s:s, s:b}", "cmd", "share", "path", path, "follow", 1);
	if (chunk)
		json_object_set_new(req, "chunk_size", json_integer((json_int_t)chunk));
	rc = call(c, req, share_hashing, &s, &last);
	end_bar(&s);
	if (rc)
		return rc;
	if (c->json) {
		dhtctl_print_json(last);
	} else {
		printf("%s\n", jstr(last, "content_id"));
		printf("  %s: %s in %d chunks, %d files\n", jstr(last, "name"),
		       human(jnum(last, "bytes"), size, sizeof(size)), (int)jnum(last, "chunks"),
		       (int)jnum(last, "files"));
		print_skipped(last);
	}
	json_decref(last);
	return EXIT_OK;
}

/* ---- fetch and watch ---- */

/* The last line of a followed transfer: complete, or stopped before it was. */
static int print_end(struct dhtctl *c, const json_t *last)
{
	char size[32];

	if (c->json) {
		dhtctl_print_json(last);
	} else if (json_object_get(last, "path")) {
		double secs = jnum(last, "seconds");
		printf("saved %s (%s in %.1f s)\n", jstr(last, "path"),
		       human(jnum(last, "bytes"), size, sizeof(size)), secs);
	} else {
		printf("%s: %s\n", jstr(last, "content_id"), jstr(last, "state"));
	}
	return json_object_get(last, "path") ? EXIT_OK : EXIT_OTHER;
}

static int follow_request(struct dhtctl *c, json_t *req)
{
	struct shown s = shown_for(c);
	json_t *last;
	int rc = call(c, req, on_progress, &s, &last);

	end_bar(&s);
	if (rc)
		return rc;
	rc = print_end(c, last);
	json_decref(last);
	return rc;
}

static int run_fetch(struct dhtctl *c, int argc, char **argv)
{
	const struct dhtctl_cmd *cmd = &dhtctl_cmd_fetch;
	struct fopts o;
	char out[PATH_MAX];
	unsigned long wait = 0;
	int rc = parse(c, cmd, argc, argv, 1,
		       "--out --find-timeout --leave-when-done --no-wait", &o);

	if (!rc)
		rc = content_id_ok(c, cmd, o.pos[0]);
	if (rc)
		return rc;
	if (o.find_timeout && (dhtctl_parse_uint(o.find_timeout, 3600, &wait) < 0 || wait == 0))
		return dhtctl_usage(c, cmd, "--find-timeout takes 1 to 3600 seconds, not '%s'",
				    o.find_timeout);
	rc = absolute(c, o.out ? o.out : ".", out);
	if (rc)
		return rc;
	json_t *req = json_pack("{s:s, s:s, s:s, s:b, s:b}", "cmd", "fetch", "content_id",
				o.pos[0], "out", out, "leave_when_done", o.leave, "follow",
				!o.nowait);
	if (wait)
		json_object_set_new(req, "timeout_s", json_integer((json_int_t)wait));
	if (!o.nowait)
		return follow_request(c, req);
	json_t *last;
	rc = call(c, req, NULL, NULL, &last);
	if (rc)
		return rc;
	if (c->json)
		dhtctl_print_json(last);
	else
		printf("fetching %s into %s; see dhtctl list\n", o.pos[0], out);
	json_decref(last);
	return EXIT_OK;
}

static int run_watch(struct dhtctl *c, int argc, char **argv)
{
	const struct dhtctl_cmd *cmd = &dhtctl_cmd_watch;
	struct fopts o;
	int rc = parse(c, cmd, argc, argv, 1, "", &o);

	if (!rc)
		rc = content_id_ok(c, cmd, o.pos[0]);
	if (rc)
		return rc;
	return follow_request(c, json_pack("{s:s, s:s}", "cmd", "watch", "content_id", o.pos[0]));
}

/* ---- list and stop ---- */

static void print_transfer(const json_t *t)
{
	char done[32], down[32], up[32];
	double total = jnum(t, "bytes_total");
	double pct = total > 0 ? 100 * jnum(t, "bytes_done") / total : 0;

	printf("%-16.16s  %-24.24s  %-5s  %-13s  %5.1f%%  %10s/s  %10s/s  %5d  %s\n",
	       jstr(t, "content_id"), jstr(t, "name"), jstr(t, "role"), jstr(t, "state"), pct,
	       human(jnum(t, "rate_down"), down, sizeof(down)),
	       human(jnum(t, "rate_up"), up, sizeof(up)), (int)jnum(t, "peers"),
	       human(total, done, sizeof(done)));
	if (*jstr(t, "error"))
		printf("%16s  error: %s\n", "", jstr(t, "error"));
	if (*jstr(t, "changed"))
		printf("%16s  changed: %s (share it again to offer the new content)\n", "",
		       jstr(t, "changed"));
}

static int run_list(struct dhtctl *c, int argc, char **argv)
{
	struct fopts o;
	json_t *last, *t;
	size_t i;
	int rc = parse(c, &dhtctl_cmd_list, argc, argv, 0, "", &o);

	if (!rc)
		rc = call(c, json_pack("{s:s}", "cmd", "list"), NULL, NULL, &last);
	if (rc)
		return rc;
	if (c->json) {
		dhtctl_print_json(last);
	} else if (json_array_size(json_object_get(last, "transfers")) == 0) {
		printf("no transfers\n");
	} else {
		printf("%-16s  %-24s  %-5s  %-13s  %6s  %12s  %12s  %5s  %s\n", "content id", "name",
		       "role", "state", "done", "down", "up", "peers", "size");
		json_array_foreach(json_object_get(last, "transfers"), i, t)
			print_transfer(t);
	}
	json_decref(last);
	return EXIT_OK;
}

static int run_stop(struct dhtctl *c, int argc, char **argv)
{
	const struct dhtctl_cmd *cmd = &dhtctl_cmd_stop;
	struct fopts o;
	json_t *last;
	int rc = parse(c, cmd, argc, argv, 1, "", &o);

	if (!rc)
		rc = content_id_ok(c, cmd, o.pos[0]);
	if (!rc)
		rc = call(c, json_pack("{s:s, s:s}", "cmd", "stop", "content_id", o.pos[0]), NULL,
			  NULL, &last);
	if (rc)
		return rc;
	if (c->json)
		dhtctl_print_json(last);
	else
		printf("stopped %s\n", jstr(last, "stopped"));
	json_decref(last);
	return EXIT_OK;
}

const struct dhtctl_cmd dhtctl_cmd_share = {
	"share", "PATH [--chunk-size SIZE]",
	"share a file or a directory tree: hash it, announce it, serve it",
	"\nThe node hashes PATH (in chunks of --chunk-size bytes, a power of two from 16KiB to\n"
	"16MiB; by default 256KiB, or less for shares under 512MiB so that they still have\n"
	"about 2,048 chunks), announces itself in the DHT under the content id and serves the\n"
	"data from where it is, also after a restart, for as long as the files stay unchanged.\n"
	"Prints the content id on the first line (with --json: one object with content_id,\n"
	"key_id, name, bytes, chunks, files).\n",
	run_share,
};

const struct dhtctl_cmd dhtctl_cmd_fetch = {
	"fetch", "CONTENT_ID [-o DIR] [--leave-when-done] [--no-wait] [--find-timeout SECONDS]",
	"download a shared file or tree into DIR (default: here)",
	"\nThe node looks the content id up in the DHT, fetches and checks the manifest, and\n"
	"downloads from the holders it finds, verifying every chunk. The data appears as\n"
	"DIR/NAME only when complete. Afterwards the node keeps seeding it unless\n"
	"--leave-when-done. On a terminal a progress bar is drawn; otherwise (or with --json)\n"
	"each progress line is printed as JSON. --no-wait returns at once (see dhtctl list).\n"
	"--find-timeout bounds the search for a first holder (default 30 s); exit 1 if none.\n",
	run_fetch,
};

const struct dhtctl_cmd dhtctl_cmd_list = {
	"list", "",
	"show every transfer with its progress, rates and peers",
	"\nOne line per transfer: content id, name, role (seed or leech), state, progress,\n"
	"download and upload rates, connected peers and size; a failed transfer says why.\n",
	run_list,
};

const struct dhtctl_cmd dhtctl_cmd_stop = {
	"stop", "CONTENT_ID",
	"stop a transfer (its data and state stay: fetch again to resume)",
	"\nCloses the transfer's connections and stops announcing it.\n",
	run_stop,
};

const struct dhtctl_cmd dhtctl_cmd_watch = {
	"watch", "CONTENT_ID",
	"follow a transfer until it completes, fails or is stopped",
	"\nShows the same progress as fetch.\n",
	run_watch,
};
