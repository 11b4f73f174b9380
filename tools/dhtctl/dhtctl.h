/* tools/dhtctl/dhtctl.h: what dhtctl's command files share: the global options, the table of
 * commands, and the helpers that call a node and turn its errors into exit codes and messages.
 * Internal to dhtctl. JSON values passed to the printers stay owned by the caller. */
#ifndef DHTCTL_DHTCTL_H
#define DHTCTL_DHTCTL_H

#include <stdbool.h>
#include <stddef.h>

#include <getopt.h>
#include <jansson.h>

#include "tools/lib/ctlclient.h"

/* Exit codes scripts may rely on (docs/control.md). */
enum {
	EXIT_OK = 0,
	EXIT_NOT_FOUND = 1,
	EXIT_USAGE = 2,
	EXIT_UNREACHABLE = 3,
	EXIT_OTHER = 4,
	EXIT_STOPPED = 5, /* a followed transfer was stopped before it completed */
};

struct dhtctl {
	struct ctl_target target;
	char node[CTL_HOST_MAX + CTL_PORT_MAX + 4]; /* as the user wrote it, for messages */
	const char *node_opt, *timeout_opt;          /* --node and --timeout as given */
	const char *secret_opt;                      /* --secret as given */
	const char *netkey_opt;                      /* --network-key as given */
	bool json;
	int timeout_ms;
};

/* The JSON output of dhtctl: numbers with at most 10 significant digits, so that a round
 * trip of 0.043 ms prints as 0.043 and not as the double nearest to it. */
#define DHTCTL_DEFAULT_NODE "127.0.0.1:4000"
#define DHTCTL_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(10))

struct dhtctl_cmd {
	const char *name;
	const char *args;    /* the synopsis after the command name */
	const char *summary; /* one line for the command list */
	const char *help;    /* the rest of `dhtctl CMD --help` */
	int (*run)(struct dhtctl *c, int argc, char **argv); /* returns an exit code */
};

/* The commands, in the order `dhtctl --help` lists them; defined in their files. */
extern const struct dhtctl_cmd dhtctl_cmd_put, dhtctl_cmd_get, dhtctl_cmd_delete,
	dhtctl_cmd_writerkey, dhtctl_cmd_lookup, dhtctl_cmd_announce, dhtctl_cmd_peers,
	dhtctl_cmd_ring, dhtctl_cmd_status, dhtctl_cmd_keygen;

/* Report a usage error in CMD (NULL: the global options) and return EXIT_USAGE. */
int dhtctl_usage(struct dhtctl *c, const struct dhtctl_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Report a failure with a machine-readable CODE and return EXIT (on stderr, and as one JSON
 * error object on stdout under --json). */
int dhtctl_fail(struct dhtctl *c, int exit, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Send REQ (consumed) to the node. Return EXIT_OK with the `ok: true` answer in *RESP (owned by
 * the caller), or report the failure and return its exit code with *RESP NULL. */
int dhtctl_call(struct dhtctl *c, json_t *req, json_t **resp);

/* Print RESP as one line of JSON on stdout. Return EXIT_OK. */
int dhtctl_print_json(const json_t *resp);

/* Add the key to REQ: "id" if IDHEX is given, else "key". Return EXIT_OK, or report a bad id
 * and return EXIT_USAGE. */
int dhtctl_key_field(struct dhtctl *c, const struct dhtctl_cmd *cmd, json_t *req,
		     const char *key, const char *idhex);

/* A command's own arguments: positional ones in order, and the options it takes. */
struct cmd_args {
	const char *pos[3];
	int npos;
	const char *ttl, *id, *max, *chunk_size, *out, *find_timeout, *writer, *key_file, *cas;
	bool leave_when_done, no_wait, detach, all, immutable;
};

/* Parse a command's ARGV (ARGV[0] is the first word after the command name) with getopt_long:
 * at most MAXPOS positional arguments, the options named in OPTS (words among "ttl id max
 * chunk-size out find-timeout leave-when-done no-wait detach all writer key-file cas
 * immutable"), and the global options,
 * which may also come after the command. --help prints the command's help and --version the
 * version, and exit 0. Then set up the node to ask. Return EXIT_OK, or report and return
 * EXIT_USAGE. */
int dhtctl_args(struct dhtctl *c, const struct dhtctl_cmd *cmd, int argc, char **argv,
		int maxpos, const char *opts, struct cmd_args *out);

/* Every option of dhtctl, for getopt_long; the list ends with a zeroed entry. */
extern const struct option dhtctl_opts[];
/* Apply VAL, an option's val from dhtctl_opts, with value ARG if it is --node, --timeout or
 * --json, and return true; return false for any other option. */
bool dhtctl_global(struct dhtctl *c, int val, const char *arg);

/* Print `dhtctl CMD --help`. */
void dhtctl_command_help(const struct dhtctl_cmd *cmd);

/* Report that the node could not be reached (R, with ERR from the client) and return the exit
 * code; the hint names only a command that works for the --node given. */
int dhtctl_unreachable(struct dhtctl *c, enum ctl_result r, const char *err);

/* ONE if N is 1, else MANY: "1 file", "2 files". */
const char *plural(double n, const char *one, const char *many);

/* Parse a count of seconds or of items (non-negative integer). Return 0 or -1. */
int dhtctl_parse_uint(const char *s, unsigned long max, unsigned long *out);

/* Fields of answers, with defaults when absent or of another type. */
const char *jstr(const json_t *o, const char *field);
double jnum(const json_t *o, const char *field);

/* Short ids: the shortest prefix, at least 8 digits, that tells apart every id in IDS (an
 * array of strings). */
int short_id_len(const char *const *ids, size_t n);
/* Print NODE (an object with id and addr) as "ID  ADDR" with the id cut to LEN digits and the
 * address padded to ADDRW columns (0: not padded, for the end of a line). */
void print_node(const json_t *node, int len, int addrw);

#endif
