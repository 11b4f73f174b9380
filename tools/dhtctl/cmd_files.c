/* dhtctl's file commands: share, fetch, list, stop, watch and forget (docs/control.md,
 * "Files"). A content id may be given by a prefix of at least 4 hex digits.
 * Paths are made absolute here, since the node may run in another directory. Commands that
 * follow a transfer draw a progress bar on one line when stdout is a terminal, and otherwise
 * (or with --json) print the node's progress lines as they come, one JSON object each.
 * The node judges the requests; this file checks only what it can tell without it. */
#define _XOPEN_SOURCE 700 /* realpath, sigaction */
#include "tools/dhtctl/files.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dht/units.h"
#include "tools/dhtctl/textwidth.h"

#define BAR_WIDTH 24     /* the bar's cells on a wide terminal */
#define BAR_MIN_WIDTH 8  /* and on a narrow one, before the text is cut instead */

/* dhtctl_args, and every positional argument is required. */
static int parse(struct dhtctl *c, const struct dhtctl_cmd *cmd, int argc, char **argv,
		 int maxpos, const char *allowed, struct cmd_args *o)
{
	int rc = dhtctl_args(c, cmd, argc, argv, maxpos, allowed, o);

	if (!rc && o->npos < maxpos)
		return dhtctl_usage(c, cmd, "missing arguments");
	return rc;
}

/* ---- talking to the node ---- */

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

/* Send REQ (consumed); hand progress lines to CB (may be NULL); return an exit code, *LAST set
 * on success. */
static int call(struct dhtctl *c, json_t *req, const struct ctl_stream_cb *cb, json_t **last)
{
	char err[CTL_ERR_MAX];
	enum ctl_result r = ctl_stream(&c->target, req, c->timeout_ms, cb, last, err);

	json_decref(req);
	if (r != CTL_OK)
		return cb && cb->interrupted && *cb->interrupted ? EXIT_STOPPED
								 : dhtctl_unreachable(c, r, err);
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

/* The node resolves a prefix among its transfers (as git does with commit ids). */
static int content_id_ok(struct dhtctl *c, const struct dhtctl_cmd *cmd, const char *hex)
{
	size_t n = strlen(hex);

	if (n >= 4 && n <= 64 && strspn(hex, "0123456789abcdefABCDEF") == n)
		return EXIT_OK;
	return dhtctl_usage(c, cmd, "'%s' is not a content id (64 hex digits, as share prints, "
			    "or at least the first 4 of them)", hex);
}

/* ---- showing progress ---- */

/* A byte count from an answer, for people (JSON numbers are doubles; a node never sends a
 * negative one, but a bad answer must not wrap around). */
static const char *human(double bytes, char *buf, size_t cap)
{
	return units_format_size(bytes > 0 ? (uint64_t)bytes : 0, buf, cap);
}

struct shown {
	struct dhtctl *c;
	bool bar;      /* drawing a bar on the terminal */
	bool drawn;    /* something is on the bar's line */
	bool raw;      /* printing the node's lines */
};

/* Show LINE (ASCII) on the bar's line, cut to the terminal's width so that it never wraps:
 * a wrapped line is not erased by the next "\r", and the redraws would pile up. */
static void show_line(struct shown *s, const char *line)
{
	int cols = terminal_columns() - 1; /* the last column would wrap on some terminals */

	printf("\r%.*s\033[K", cols > 0 ? cols : 0, line);
	fflush(stdout);
	s->drawn = true;
}

static void draw_bar(struct shown *s, const json_t *p)
{
	const char *phase = jstr(p, "phase");
	double pct = jnum(p, "percent"), eta = jnum(p, "eta_s"), peers = jnum(p, "peers");
	char done[32], total[32], rate[32], left[32] = "-", text[160], line[256];

	if (!strcmp(phase, "peers") || !strcmp(phase, "manifest")) {
		show_line(s, !strcmp(phase, "peers") ? "looking for peers in the DHT..."
						     : "fetching the manifest...");
		return;
	}
	if (json_is_number(json_object_get(p, "eta_s")))
		snprintf(left, sizeof(left), "%d:%02d", (int)eta / 60, (int)eta % 60);
	snprintf(text, sizeof(text), " %5.1f%%  %s of %s  %s/s  %.0f %s  ETA %s", pct,
		 human(jnum(p, "bytes_done"), done, sizeof(done)),
		 human(jnum(p, "bytes_total"), total, sizeof(total)),
		 human(jnum(p, "rate_down"), rate, sizeof(rate)), peers,
		 plural(peers, "peer", "peers"), left);
	/* The bar gives up cells first; below BAR_MIN_WIDTH the text is cut instead. */
	int width = terminal_columns() - 1 - 2 - (int)strlen(text);
	width = width > BAR_WIDTH ? BAR_WIDTH : width < BAR_MIN_WIDTH ? BAR_MIN_WIDTH : width;
	int fill = (int)(pct / 100 * width + 0.5);
	fill = fill < 0 ? 0 : fill > width ? width : fill;
	snprintf(line, sizeof(line), "[%.*s%*s]%s", fill, "########################",
		 width - fill, "", text);
	show_line(s, line);
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
	uint64_t v;

	if (units_parse(s, &v) != 0 || v < (16ul << 10) || v > (16ul << 20) || (v & (v - 1)))
		return -1;
	*out = (unsigned long)v;
	return 0;
}

static void share_hashing(void *arg, const json_t *p)
{
	struct shown *s = arg;
	char done[32], total[32], line[128];

	if (!s->bar)
		return;
	snprintf(line, sizeof(line), "hashing: %5.1f%%  %s of %s", jnum(p, "percent"),
		 human(jnum(p, "bytes_done"), done, sizeof(done)),
		 human(jnum(p, "bytes_total"), total, sizeof(total)));
	show_line(s, line);
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
	struct cmd_args o;
	char path[PATH_MAX], size[32];
	unsigned long chunk = 0;
	struct shown s = shown_for(c);
	struct ctl_stream_cb cb = { .fn = share_hashing, .arg = &s };
	json_t *last;
	int rc = parse(c, cmd, argc, argv, 1, "chunk-size", &o);

	if (rc)
		return rc;
	if (o.chunk_size && parse_chunk(o.chunk_size, &chunk) < 0)
		return dhtctl_usage(c, cmd, "--chunk-size takes a power of two from 16KiB to 16MiB, "
				    "not '%s'", o.chunk_size);
	rc = absolute(c, o.pos[0], path);
	if (rc)
		return rc;
	json_t *req = json_pack("{s:s, s:s, s:b}", "cmd", "share", "path", path, "follow", 1);
	if (chunk)
		json_object_set_new(req, "chunk_size", json_integer((json_int_t)chunk));
	rc = call(c, req, &cb, &last);
	end_bar(&s);
	if (rc)
		return rc;
	if (c->json) {
		dhtctl_print_json(last);
	} else {
		double chunks = jnum(last, "chunks"), files = jnum(last, "files");
		printf("%s\n", jstr(last, "content_id"));
		printf("  %s: %s in %.0f %s, %.0f %s\n", jstr(last, "name"),
		       human(jnum(last, "bytes"), size, sizeof(size)), chunks,
		       plural(chunks, "chunk", "chunks"), files, plural(files, "file", "files"));
		print_skipped(last);
	}
	json_decref(last);
	return EXIT_OK;
}

/* ---- fetch and watch ---- */

/* The last line of a followed transfer: complete, or stopped before it was (exit 5). */
static int print_end(struct dhtctl *c, const json_t *last)
{
	char size[32];
	bool stopped = !strcmp(jstr(last, "state"), "stopped");

	if (c->json) {
		dhtctl_print_json(last);
	} else if (json_object_get(last, "path")) {
		double secs = jnum(last, "seconds");
		printf("saved %s (%s in %.1f s)\n", jstr(last, "path"),
		       human(jnum(last, "bytes"), size, sizeof(size)), secs);
	} else if (stopped) {
		printf("%s: stopped; the data so far is kept: fetch it again to resume\n",
		       jstr(last, "content_id"));
	} else {
		printf("%s: %s\n", jstr(last, "content_id"), jstr(last, "state"));
	}
	return json_object_get(last, "path") ? EXIT_OK : stopped ? EXIT_STOPPED : EXIT_OTHER;
}

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
	signal(SIGINT, SIG_DFL); /* a second Ctrl-C ends dhtctl at once */
}

/* Ctrl-C during a foreground fetch: stop the transfer in the node (its data stays for a later
 * fetch to resume) and exit 5; with --detach, leave it running and exit 0. */
static int interrupted_fetch(struct dhtctl *c, const char *cid, bool detach)
{
	json_t *resp;
	int rc;

	if (detach) {
		fprintf(stderr, "dhtctl: detached; the node goes on fetching %s (see dhtctl list, "
			"dhtctl watch, dhtctl stop)\n", cid);
		return EXIT_OK;
	}
	rc = dhtctl_call(c, json_pack("{s:s, s:s}", "cmd", "stop", "content_id", cid), &resp);
	if (rc)
		return rc;
	if (c->json)
		dhtctl_print_json(resp);
	json_decref(resp);
	fprintf(stderr, "dhtctl: interrupted: stopped the fetch of %s; the data so far is kept: "
		"fetch it again to resume (--detach leaves a fetch running instead)\n", cid);
	return EXIT_STOPPED;
}

/* Follow REQ's progress to its end. CID and DETACH: a fetch, which Ctrl-C stops or leaves. */
static int follow_request(struct dhtctl *c, json_t *req, const char *cid, bool detach)
{
	struct shown s = shown_for(c);
	struct ctl_stream_cb cb = { .fn = on_progress, .arg = &s };
	struct sigaction sa = { .sa_handler = on_sigint }; /* no SA_RESTART: poll() returns */
	json_t *last;
	int rc;

	if (cid) {
		cb.interrupted = &interrupted;
		sigaction(SIGINT, &sa, NULL);
	}
	rc = call(c, req, &cb, &last);
	end_bar(&s);
	if (rc == EXIT_STOPPED && interrupted)
		return interrupted_fetch(c, cid, detach);
	if (rc)
		return rc;
	rc = print_end(c, last);
	json_decref(last);
	return rc;
}

static int run_fetch(struct dhtctl *c, int argc, char **argv)
{
	const struct dhtctl_cmd *cmd = &dhtctl_cmd_fetch;
	struct cmd_args o;
	char out[PATH_MAX];
	unsigned long wait = 0;
	int rc = parse(c, cmd, argc, argv, 1,
		       "out find-timeout leave-when-done no-wait detach", &o);

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
				o.pos[0], "out", out, "leave_when_done", o.leave_when_done,
				"follow", !o.no_wait);
	if (wait)
		json_object_set_new(req, "timeout_s", json_integer((json_int_t)wait));
	if (!o.no_wait)
		return follow_request(c, req, o.pos[0], o.detach);
	json_t *last;
	rc = call(c, req, NULL, &last);
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
	struct cmd_args o;
	int rc = parse(c, cmd, argc, argv, 1, "", &o);

	if (!rc)
		rc = content_id_ok(c, cmd, o.pos[0]);
	if (rc)
		return rc;
	return follow_request(c, json_pack("{s:s, s:s}", "cmd", "watch", "content_id", o.pos[0]),
			      NULL, false);
}

/* ---- list and stop ---- */

#define NAME_COLS 24

static void print_transfer(const json_t *t)
{
	char done[32], down[32], up[32], name[NAME_COLS * 4 + 8];
	double total = jnum(t, "bytes_total");
	double pct = total > 0 ? 100 * jnum(t, "bytes_done") / total : 0;

	printf("%-16.16s  %s  %-5s  %-13s  %5.1f%%  %10s/s  %10s/s  %5d  %s\n",
	       jstr(t, "content_id"), text_fit(jstr(t, "name"), NAME_COLS, name, sizeof(name)),
	       jstr(t, "role"), jstr(t, "state"), pct,
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
	struct cmd_args o;
	json_t *last, *t;
	size_t i;
	int rc = parse(c, &dhtctl_cmd_list, argc, argv, 0, "", &o);

	if (!rc)
		rc = call(c, json_pack("{s:s}", "cmd", "list"), NULL, &last);
	if (rc)
		return rc;
	if (c->json) {
		dhtctl_print_json(last);
	} else if (json_array_size(json_object_get(last, "transfers")) == 0) {
		printf("no transfers\n");
	} else {
		printf("%-16s  %-*s  %-5s  %-13s  %6s  %12s  %12s  %5s  %s\n", "content id",
		       NAME_COLS, "name", "role", "state", "done", "down", "up", "peers", "size");
		json_array_foreach(json_object_get(last, "transfers"), i, t)
			print_transfer(t);
	}
	json_decref(last);
	return EXIT_OK;
}

/* stop and forget: one content id, answered with FIELD, printed after VERB. */
static int id_command(struct dhtctl *c, const struct dhtctl_cmd *cmd, int argc, char **argv,
		      const char *field, const char *verb)
{
	struct cmd_args o;
	json_t *last;
	int rc = parse(c, cmd, argc, argv, 1, "", &o);

	if (!rc)
		rc = content_id_ok(c, cmd, o.pos[0]);
	if (!rc)
		rc = call(c, json_pack("{s:s, s:s}", "cmd", cmd->name, "content_id", o.pos[0]), NULL,
			  &last);
	if (rc)
		return rc;
	if (c->json)
		dhtctl_print_json(last);
	else
		printf("%s %s\n", verb, jstr(last, field));
	json_decref(last);
	return EXIT_OK;
}

static int run_stop(struct dhtctl *c, int argc, char **argv)
{
	return id_command(c, &dhtctl_cmd_stop, argc, argv, "stopped", "stopped");
}

static int run_forget(struct dhtctl *c, int argc, char **argv)
{
	return id_command(c, &dhtctl_cmd_forget, argc, argv, "forgotten", "forgot");
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
	"fetch", "CONTENT_ID [-o DIR] [--leave-when-done] [--no-wait | --detach] [--find-timeout S]",
	"download a shared file or tree into DIR (default: here)",
	"\nThe node looks the content id up in the DHT, fetches and checks the manifest, and\n"
	"downloads from the holders it finds, verifying every chunk. The data appears as\n"
	"DIR/NAME only when complete. Afterwards the node keeps seeding it unless\n"
	"--leave-when-done. On a terminal a progress bar is drawn; otherwise (or with --json)\n"
	"each progress line is printed as JSON. --find-timeout bounds the search for a first\n"
	"holder (default 30 s); exit 1 if none.\n"
	"Content this node already holds (shared, or fetched into another directory) is\n"
	"copied from there into DIR instead, every chunk checked against the manifest.\n"
	"The download is the node's: dhtctl only follows it. Ctrl-C stops it (the data so far\n"
	"is kept, and fetching again resumes) and exits 5, as does a `dhtctl stop` from\n"
	"elsewhere. With --detach, Ctrl-C leaves it running in the node and exits 0;\n"
	"--no-wait returns at once (see dhtctl list, watch and stop).\n",
	run_fetch,
};

const struct dhtctl_cmd dhtctl_cmd_list = {
	"list", "",
	"show every transfer with its progress, rates and peers",
	"\nOne line per transfer: content id, name, role (seed or leech), state, progress,\n"
	"download and upload rates, connected peers and size; a failed transfer says why.\n"
	"Any prefix of a content id (4 hex digits or more) that only one transfer has names\n"
	"it in fetch, stop, watch and forget.\n",
	run_list,
};

const struct dhtctl_cmd dhtctl_cmd_stop = {
	"stop", "CONTENT_ID",
	"stop a transfer (its data and state stay: fetch again to resume)",
	"\nCloses the transfer's connections and stops announcing it. A dhtctl fetch or watch\n"
	"following it ends with exit code 5. dhtctl forget then removes it from the list.\n",
	run_stop,
};

const struct dhtctl_cmd dhtctl_cmd_watch = {
	"watch", "CONTENT_ID",
	"follow a transfer until it completes, fails or is stopped",
	"\nShows the same progress as fetch. Ctrl-C ends the watching, not the transfer. Exits 0\n"
	"when the transfer completes, 5 if it is stopped.\n",
	run_watch,
};

const struct dhtctl_cmd dhtctl_cmd_forget = {
	"forget", "CONTENT_ID",
	"forget a stopped or failed transfer (its files stay where they are)",
	"\nRemoves the transfer from list and from what the node remembers across restarts, so\n"
	"that a later fetch starts afresh. A running transfer must be stopped first. The\n"
	"data is not deleted: shared files, fetched files and partial downloads stay.\n",
	run_forget,
};
