/* dhtctl's main(): the global options (--node, --json, --timeout) before the command name,
 * help, and dispatch to the command files, whose parser (common.c) also takes the global
 * options after the name; `--` ends options, so a value that starts with a dash can still be
 * stored. Both parse with getopt_long. The commands do the talking. */
#include "tools/dhtctl/dhtctl.h"
#include "tools/dhtctl/files.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TIMEOUT_MS 10000

static const struct dhtctl_cmd *const commands[] = {
	&dhtctl_cmd_put, &dhtctl_cmd_get, &dhtctl_cmd_delete, &dhtctl_cmd_writerkey,
	&dhtctl_cmd_lookup, &dhtctl_cmd_announce,
	&dhtctl_cmd_peers, &dhtctl_cmd_ring, &dhtctl_cmd_status, &dhtctl_cmd_share,
	&dhtctl_cmd_fetch, &dhtctl_cmd_list, &dhtctl_cmd_stop, &dhtctl_cmd_watch,
	&dhtctl_cmd_forget, &dhtctl_cmd_push, &dhtctl_cmd_keygen,
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void global_help(void)
{
	printf("usage: dhtctl [--node HOST:PORT] [--secret FILE] [--network-key FILE] [--json]\n"
	       "              [--timeout SECONDS] COMMAND ...\n\n"
	       "Talk to a running dhtnode: store and read values, look keys up, show the ring,\n"
	       "share and fetch files.\n\n"
	       "commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		printf("  %-9s %s\n", commands[i]->name, commands[i]->summary);
	printf("\noptions:\n"
	       "  --node HOST:PORT   the node to ask (default $DHTNODE, else " DHTCTL_DEFAULT_NODE ")\n"
	       "  --json             print one JSON object (full ids) instead of text\n"
	       "  --secret FILE      prove the node's control secret (its --control-secret file;\n"
	       "                     default $DHTNODE_SECRET): needed from another machine or as\n"
	       "                     another user; the node's own user and root need none\n"
	       "  --network-key FILE open every connection with the ring's network-key handshake\n"
	       "                     and encrypt it (the node's --network-key file; default\n"
	       "                     $DHTNODE_NETWORK_KEY): a keyed node with --control-any needs\n"
	       "                     it, with --secret, from another machine or as another user\n"
	       "  --timeout SECONDS  give up on the node after this long (default %d)\n"
	       "  --help, --version\n\n"
	       "exit codes: 0 success, 1 key or content not found, 2 usage error, 3 node unreachable\n"
	       "or the ring did not answer, 4 other errors (disk, bad manifest), 5 a followed\n"
	       "transfer was stopped (Ctrl-C, or dhtctl stop). `dhtctl COMMAND --help` describes\n"
	       "a command.\n",
	       DEFAULT_TIMEOUT_MS / 1000);
}

static const struct dhtctl_cmd *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

/* The global options before the command name, with getopt_long; the command's own parser
 * takes those after it. Return EXIT_OK with *HELP or *VERSION set if asked for. */
static int parse_globals(struct dhtctl *c, int argc, char **argv, bool *help, bool *version)
{
	int o, idx = 0;

	opterr = 0;
	while ((o = getopt_long(argc, argv, "+:h", dhtctl_opts, &idx)) != -1) {
		if (o == ':')
			return dhtctl_usage(c, NULL, "%s needs a value", argv[optind - 1]);
		if (o == 'h')
			*help = true;
		else if (o != '?' && !strcmp(dhtctl_opts[idx].name, "version"))
			*version = true;
		else if (o == '?')
			return dhtctl_usage(c, NULL, "unknown option '%s'", argv[optind - 1]);
		else if (!dhtctl_global(c, o, optarg))
			return dhtctl_usage(c, NULL, "--%s belongs after the command name",
					    dhtctl_opts[idx].name);
	}
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	struct dhtctl c = { .timeout_ms = DEFAULT_TIMEOUT_MS };
	const struct dhtctl_cmd *cmd = NULL;
	bool help = false, version = false;
	int rc = parse_globals(&c, argc, argv, &help, &version);

	if (rc)
		return rc;
	if (optind < argc) {
		cmd = find_command(argv[optind]);
		if (!cmd)
			return dhtctl_usage(&c, NULL, "unknown command '%s'", argv[optind]);
	}
	if (version) {
		printf("dhtctl %s\n", DHT_VERSION);
	} else if (help && cmd) {
		dhtctl_command_help(cmd);
	} else if (help) {
		global_help();
	} else if (!cmd) {
		return dhtctl_usage(&c, NULL, "a command is needed: put, get, delete, writerkey, "
				    "lookup, announce, peers, ring, status, share, fetch, list, "
				    "stop, watch, forget, push or keygen");
	} else {
		rc = cmd->run(&c, argc - optind - 1, argv + optind + 1);
	}
	fflush(stdout);
	return rc;
}
