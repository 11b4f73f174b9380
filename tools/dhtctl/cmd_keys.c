/* dhtctl keygen: make the network key of a private ring. It runs on this machine alone: no node
 * is asked, and the key never leaves the file it is written to (node/net/netkey.h). */
#include "tools/dhtctl/dhtctl.h"

#include <sodium.h>
#include <stdio.h>

#include "node/net/netkey.h"

static int run_keygen(struct dhtctl *c, int argc, char **argv)
{
	struct cmd_args a;
	char err[512];
	int rc = dhtctl_args(c, &dhtctl_cmd_keygen, argc, argv, 1, "", &a);
	if (rc)
		return rc;
	if (a.npos != 1)
		return dhtctl_usage(c, &dhtctl_cmd_keygen, "give the file to write the key to");
	if (sodium_init() < 0)
		return dhtctl_fail(c, EXIT_OTHER, "error", "libsodium failed to initialise");
	if (netkey_generate(a.pos[0], err, sizeof err) != 0)
		return dhtctl_fail(c, EXIT_OTHER, "error", "%s", err);
	if (c->json) {
		json_t *o = json_pack("{s:b,s:s}", "ok", 1, "file", a.pos[0]);
		dhtctl_print_json(o);
		json_decref(o);
	} else {
		printf("wrote a new network key to %s (mode 0600); copy it to every member of the "
		       "ring and start each with dhtnode --network-key FILE\n", a.pos[0]);
	}
	return EXIT_OK;
}

const struct dhtctl_cmd dhtctl_cmd_keygen = {
	"keygen", "FILE",
	"make a network key for a private ring (no node is asked)",
	"\nWrites 32 random bytes as 64 hex digits and a newline to FILE, readable only by you\n"
	"(mode 0600), and never over an existing file. Every member of a private ring runs with\n"
	"dhtnode --network-key FILE and the same key: nodes without it get no answer, and what\n"
	"travels between members is sealed. Keep it like a password: whoever holds it is a\n"
	"member. dhtctl on a node's own machine needs no key.\n",
	run_keygen,
};
