/* jget: print parts of one JSON object read from standard input, for shell scripts that check
 * `dhtctl --json` output (the tests and benchmarks) without depending on jq. A path is a list
 * of dot-separated steps: a member name, an array index, `*` (every element, one per line) or
 * `#` (the number of elements). Strings print bare, anything else as compact JSON. It is not a
 * query language and will not grow into one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static void print_value(const json_t *v)
{
	if (json_is_string(v)) {
		printf("%s\n", json_string_value(v));
		return;
	}
	json_dumpf(v, stdout, JSON_COMPACT | JSON_ENCODE_ANY);
	printf("\n");
}

/* Follow PATH (modified in place) from V; return how many values were printed. */
static int walk(const json_t *v, char *path)
{
	char *dot = path ? strchr(path, '.') : NULL;
	char *end;
	const json_t *e;
	size_t i;
	int n = 0;

	if (!v)
		return 0;
	if (!path) {
		print_value(v);
		return 1;
	}
	if (dot)
		*dot = '\0';
	char *rest = dot ? dot + 1 : NULL;
	if (!strcmp(path, "#")) {
		printf("%zu\n", json_is_array(v) ? json_array_size(v) : json_object_size(v));
		return 1;
	}
	if (!strcmp(path, "*")) {
		/* walk() cuts its path at the dots, so each element gets a fresh copy. */
		json_array_foreach(v, i, e) {
			char *copy = rest ? strdup(rest) : NULL;
			n += walk(e, copy);
			free(copy);
		}
		return n;
	}
	if (json_is_array(v)) {
		unsigned long k = strtoul(path, &end, 10);
		return *end ? 0 : walk(json_array_get(v, k), rest);
	}
	return walk(json_object_get(v, path), rest);
}

int main(int argc, char **argv)
{
	json_error_t err;
	json_t *root;
	int n;

	if (argc != 2 || !strcmp(argv[1], "--help")) {
		fprintf(stderr, "usage: jget PATH < JSON   (PATH: name.0.*.# ; see the source)\n");
		return 2;
	}
	root = json_loadf(stdin, JSON_DISABLE_EOF_CHECK, &err);
	if (!root) {
		fprintf(stderr, "jget: the input is not JSON: %s\n", err.text);
		return 2;
	}
	n = walk(root, argv[1]);
	json_decref(root);
	return n > 0 ? 0 : 1;
}
