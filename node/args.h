/* node/args.h: dhtnode's command line: parse argv into struct node_args, print the usage text,
 * and its whole-number parser (sizes and rates: dht/units.h). Nothing is resolved here, and
 * the only file read is --config's (node/config.h). Strings in struct node_args point into
 * argv, into the struct itself or into its config (freed by args_release). */
#ifndef NODE_ARGS_H
#define NODE_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dht/chord.h"
#include "node/config.h"
#include "node/net/addr.h"

#define ARGS_MAX_PUSH_KEYS 32

struct node_args {
	struct dht_addr listen;
	bool join;
	char join_host[ADDR_HOST_MAX];
	uint16_t join_port;
	unsigned bits;
	bool has_id;
	struct dht_id id;
	const char *data_dir;        /* NULL: the default (identity.h) */
	enum dht_log_level log_level;
	unsigned succ_len;
	unsigned replicas;
	uint64_t store_max;          /* bytes */
	bool control_any;
	const char *control_secret;  /* NULL: none; required with control_any */
	uint64_t up_rate, down_rate; /* bytes per second for all transfers; 0: no cap */
	bool debug_corrupt;          /* for tests: send corrupt blocks */
	struct node_config *config;  /* --config's entries, or NULL; owned (args_release) */
	struct dht_addr http;        /* --http: the web view's loopback address; family 0: none */
	const char *accept_push;     /* --accept-push DIR; NULL: refuse pushes */
	const char *push_keys[ARGS_MAX_PUSH_KEYS]; /* --push-key values, checked by node/push */
	unsigned npush_keys;
	char listen_iface[16];       /* --listen IFACE:PORT: the interface, resolved by main */
	bool new_ring;               /* found a ring at once, without looking for one */
	bool no_discovery;           /* neither look for a ring nor answer others' probes */
	const char *network_key;     /* --network-key FILE: a private ring; NULL: open */
};

enum args_result { ARGS_RUN, ARGS_HELP, ARGS_VERSION, ARGS_ERROR };

/* Parse ARGV (ARGV[0] is the program). On ARGS_ERROR, ERR holds a sentence saying what was
 * wrong and how to fix it. Options take their value as the next word or after '='. With
 * --config FILE, FILE's entries are applied first and the command line then overrides them;
 * an error in the file is reported as FILE:LINE. */
enum args_result args_parse(int argc, char *const argv[], struct node_args *out, char *err,
			    size_t errcap);

/* Free what args_parse kept for a parse that returned ARGS_RUN (the config file's text);
 * A's strings from the file are then gone. Safe to call twice. */
void args_release(struct node_args *a);

void args_usage(FILE *f);

/* Parse a decimal integer in [MIN, MAX]. Return 0 or -1. */
int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);


#endif
