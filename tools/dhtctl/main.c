/* dhtctl's main(): the global options (--node, --json, --timeout), help, and dispatch to the
 * command files. Global options may come before or after the command name; `--` ends options,
 * so a value that starts with a dash can still be stored. The commands do the talking. */
#include "tools/dhtctl/dhtctl.h"
#include "tools/dhtctl/files.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_NODE "127.0.0.1:4000"
#define DEFAULT_TIMEOUT_MS 10000

static const struct dhtctl_cmd *const commands[] = {
	&dhtctl_cmd_put, &dhtctl_cmd_get, &dhtctl_cmd_lookup, &dhtctl_cmd_announce,
	&dhtctl_cmd_peers, &dhtctl_cmd_ring, &dhtctl_cmd_status, &dhtctl_cmd_share,
	&dhtctl_cmd_fetch, &dhtctl_cmd_list, &dhtctl_cmd_stop, &dhtctl_cmd_watch,
	&dhtctl_cmd_forget,
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void global_help(void)
{
	printf("usage: dhtctl [--node HOST:PORT] [--json] [--timeout SECONDS] COMMAND ...\n\n"
	       "Talk to a running dhtnode: store and read values, look keys up, show the ring,\n"
	       "share and fetch files.\n\n"
	       "commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		printf("  %-9s %s\n", commands[i]->name, commands[i]->summary);
	printf("\noptions:\n"
	       "  --node HOST:PORT   the node to ask (default $DHTNODE, else " DEFAULT_NODE ")\n"
	       "  --json             print one JSON object (full ids) instead of text\n"
	       "  --timeout SECONDS  give up on the node after this long (default %d)\n"
	       "  --help, --version\n\n"
	       "exit codes: 0 success, 1 key or content not found, 2 usage error, 3 node unreachable\n"
	       "or the ring did not answer, 4 other errors (disk, bad manifest). `dhtctl COMMAND\n"
	       "--help` describes a command.\n",
	       DEFAULT_TIMEOUT_MS / 1000);
}

static void command_help(const struct dhtctl_cmd *cmd)
{
	printf("usage: dhtctl [--node HOST:PORT] [--json] %s %s\n\n%s\n%s", cmd->name, cmd->args,
	       cmd->summary, cmd->help);
}

static const struct dhtctl_cmd *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

/* Take the value of --OPT (either "--opt=VALUE" or "--opt VALUE"); NULL if it is missing. */
static const char *opt_value(const char *opt, int argc, char **argv, int *i)
{
	size_t n = strlen(opt);

	if (!strncmp(argv[*i], opt, n) && argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (strcmp(argv[*i], opt))
		return NULL;
	return *i + 1 < argc ? argv[++*i] : NULL;
}

static bool is_opt(const char *arg, const char *opt)
{
	size_t n = strlen(opt);
	return !strncmp(arg, opt, n) && (arg[n] == '\0' || arg[n] == '=');
}

struct parsed {
	const char *node, *timeout;
	bool help, version;
	int nrest;
	char **rest; /* the command name and its own arguments */
};

/* Pull the global options out of ARGV, wherever they are; leave the rest in order. */
static int parse_globals(struct dhtctl *c, int argc, char **argv, struct parsed *p)
{
	bool ended = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (ended || a[0] != '-' || !strcmp(a, "-")) {
			p->rest[p->nrest++] = argv[i];
		} else if (!strcmp(a, "--")) {
			ended = true;
			p->rest[p->nrest++] = argv[i];
		} else if (is_opt(a, "--node") || is_opt(a, "--timeout")) {
			const char *v = opt_value(is_opt(a, "--node") ? "--node" : "--timeout", argc,
						  argv, &i);
			if (!v)
				return dhtctl_usage(c, NULL, "%s needs a value", a);
			*(is_opt(a, "--node") ? &p->node : &p->timeout) = v;
		} else if (!strcmp(a, "--json")) {
			c->json = true;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			p->help = true;
		} else if (!strcmp(a, "--version")) {
			p->version = true;
		} else {
			p->rest[p->nrest++] = argv[i];
		}
	}
	return EXIT_OK;
}

static int setup_target(struct dhtctl *c, const struct parsed *p)
{
	const char *node = p->node ? p->node : getenv("DHTNODE");
	char err[CTL_ERR_MAX];
	char *end;

	if (!node || !*node)
		node = DEFAULT_NODE;
	snprintf(c->node, sizeof(c->node), "%s", node);
	if (ctl_parse_target(node, &c->target, err) < 0)
		return dhtctl_usage(c, NULL, "--node: %s", err);
	if (p->timeout) {
		double s = strtod(p->timeout, &end);
		if (*end || end == p->timeout || !(s > 0 && s <= 3600))
			return dhtctl_usage(c, NULL, "--timeout takes seconds between 0 and 3600, "
					    "not '%s'", p->timeout);
		c->timeout_ms = (int)(s * 1000 + 0.5);
		if (c->timeout_ms < 1)
			c->timeout_ms = 1;
	}
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	struct dhtctl c = { .timeout_ms = DEFAULT_TIMEOUT_MS };
	struct parsed p = { .rest = calloc((size_t)argc + 1, sizeof(char *)) };
	const struct dhtctl_cmd *cmd = NULL;
	int rc;

	if (!p.rest)
		return EXIT_OTHER;
	rc = parse_globals(&c, argc, argv, &p);
	if (rc)
		goto out;
	if (p.nrest > 0 && strcmp(p.rest[0], "--")) {
		cmd = find_command(p.rest[0]);
		if (!cmd) {
			rc = dhtctl_usage(&c, NULL, "unknown command '%s'", p.rest[0]);
			goto out;
		}
	}
	if (p.version || p.help || !cmd) {
		if (p.version)
			printf("dhtctl %s\n", DHT_VERSION);
		else if (cmd)
			command_help(cmd);
		else if (p.help)
			global_help();
		else
			rc = dhtctl_usage(&c, NULL, "a command is needed: put, get, lookup, announce, "
					  "peers, ring, status, share, fetch, list, stop, watch or "
					  "forget");
		goto out;
	}
	rc = setup_target(&c, &p);
	if (!rc)
		rc = cmd->run(&c, p.nrest - 1, p.rest + 1);
out:
	free(p.rest);
	fflush(stdout);
	return rc;
}
