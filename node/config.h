/* node/config.h: dhtnode's config file (--config FILE): one `key = value` per line, the keys
 * being dhtnode's long options without their dashes. This module only splits the text into
 * entries and refuses what is malformed or said twice; which keys exist and what their values
 * mean is args.c's business. The entries' strings belong to the struct node_config. */
#ifndef NODE_CONFIG_H
#define NODE_CONFIG_H

#include <stddef.h>

/* A config file larger than this is refused: it is a list of a dozen options. */
#define CONFIG_MAX_BYTES (64 * 1024)

struct node_config;

struct config_entry {
	const char *key;   /* lower case letters, digits and '-' */
	const char *value; /* may be empty; surrounding blanks removed */
	unsigned line;     /* 1-based */
};

/* Split TEXT (LEN bytes, not necessarily NUL-terminated) named NAME in messages. Blank lines
 * and lines whose first non-blank character is '#' are skipped. Return a new config, or NULL
 * with ERR holding "NAME:LINE: what is wrong" (a bad line, a key given twice, a NUL byte). */
struct node_config *config_parse(const char *text, size_t len, const char *name, char *err,
				 size_t errcap);

/* Read and split the file at PATH; NULL with ERR set if it cannot be read or is malformed. */
struct node_config *config_load(const char *path, char *err, size_t errcap);

/* The entries in file order; *N is set to their count. Valid until config_free. */
const struct config_entry *config_entries(const struct node_config *c, size_t *n);

/* The name given to config_parse or config_load (for messages). */
const char *config_name(const struct node_config *c);

void config_free(struct node_config *c); /* accepts NULL */

#endif
