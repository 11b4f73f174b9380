/* Fuzz target for the config file reader (node/config.c): any bytes as a file. What parses has
 * keys of the promised alphabet, values without newlines or surrounding blanks, line numbers in
 * increasing order, and no key twice; what is refused says so in a terminated message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/config.h"

static int blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static void check(const struct config_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t vl = strlen(e[i].value);
		if (strspn(e[i].key, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(e[i].key) ||
		    e[i].key[0] < 'a' || e[i].key[0] > 'z' || strchr(e[i].value, '\n') != NULL ||
		    (vl > 0 && (blank(e[i].value[0]) || blank(e[i].value[vl - 1]))))
			abort();
		if (i > 0 && e[i].line <= e[i - 1].line)
			abort();
		for (size_t j = 0; j < i; j++)
			if (strcmp(e[i].key, e[j].key) == 0)
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	size_t n;
	if (size > CONFIG_MAX_BYTES)
		return 0;
	err[0] = '\0';
	struct node_config *c = config_parse((const char *)data, size, "fuzz", err, sizeof err);
	if (c == NULL) {
		if (memchr(err, '\0', sizeof err) == NULL || strncmp(err, "fuzz:", 5) != 0)
			abort();
		return 0;
	}
	const struct config_entry *e = config_entries(c, &n);
	check(e, n);
	config_free(c);
	return 0;
}
