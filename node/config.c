/* The config file's reader: text in, a list of (key, value, line) out. It knows nothing of
 * dhtnode's options (args.c checks keys and values, so that a value in the file and on the
 * command line get the same checks and the same messages) and it has no sections, quoting or
 * trailing comments: a '#' after a value is part of the value, which args.c then refuses by
 * name. A file is small, so it is read whole and split in place. */
#include "node/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/errtext.h"

struct node_config {
	char *text; /* the file's bytes, NUL-terminated, cut into keys and values */
	char *name;
	struct config_entry *entries;
	size_t n, cap;
};

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Cut the blanks off both ends of the NUL-terminated S, in place. */
static char *trim(char *s)
{
	while (is_blank(*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && is_blank(s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* A key starts with a letter, so that "--listen = ..." is refused with a hint. */
static int key_ok(const char *k)
{
	if (*k < 'a' || *k > 'z')
		return 0;
	for (; *k; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') || *k == '-'))
			return 0;
	return 1;
}

static int add_entry(struct node_config *c, const char *key, const char *value, unsigned line)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct config_entry *e = realloc(c->entries, cap * sizeof *e);
		if (e == NULL)
			return -1;
		c->entries = e;
		c->cap = cap;
	}
	c->entries[c->n++] = (struct config_entry){ key, value, line };
	return 0;
}

/* Take the NUL-terminated LINE (number NO); return 0, or -1 with ERR set. */
static int parse_line(struct node_config *c, char *line, unsigned no, char *err, size_t errcap)
{
	char *s = trim(line);
	if (*s == '\0' || *s == '#')
		return 0;
	char *eq = strchr(s, '=');
	if (eq == NULL) {
		errtext(err, errcap, "%s:%u: expected 'key = value', got '%.40s'", c->name, no, s);
		return -1;
	}
	*eq = '\0';
	char *key = trim(s), *value = trim(eq + 1);
	if (!key_ok(key)) {
		errtext(err, errcap, "%s:%u: '%.40s' is not a key: keys are dhtnode's long options "
		     "without the dashes, like listen or data-dir", c->name, no, key);
		return -1;
	}
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->entries[i].key, key) == 0) {
			errtext(err, errcap, "%s:%u: %s is already set on line %u; keep one of them",
			     c->name, no, key, c->entries[i].line);
			return -1;
		}
	if (add_entry(c, key, value, no) != 0) {
		errtext(err, errcap, "%s: out of memory", c->name);
		return -1;
	}
	return 0;
}

struct node_config *config_parse(const char *text, size_t len, const char *name, char *err,
				 size_t errcap)
{
	struct node_config *c = calloc(1, sizeof *c);
	if (c == NULL || (c->text = malloc(len + 1)) == NULL || (c->name = strdup(name)) == NULL) {
		errtext(err, errcap, "%s: out of memory", name);
		goto bad;
	}
	memcpy(c->text, text, len);
	c->text[len] = '\0';
	char *line = c->text;
	for (unsigned no = 1; line != NULL; no++) {
		char *nl = memchr(line, '\n', len - (size_t)(line - c->text));
		if (nl != NULL)
			*nl = '\0';
		if (strlen(line) != (size_t)((nl ? nl : c->text + len) - line)) {
			errtext(err, errcap, "%s:%u: a NUL byte: this is not a text file", name, no);
			goto bad;
		}
		if (parse_line(c, line, no, err, errcap) != 0)
			goto bad;
		line = nl ? nl + 1 : NULL;
	}
	return c;
bad:
	config_free(c);
	return NULL;
}

struct node_config *config_load(const char *path, char *err, size_t errcap)
{
	struct node_config *c = NULL;
	char *buf = malloc(CONFIG_MAX_BYTES + 1);
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (buf == NULL || fd < 0) {
		errtext(err, errcap, "--config %s: %s", path, buf ? strerror(errno) : "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t r = read(fd, buf + len, CONFIG_MAX_BYTES + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			errtext(err, errcap, "--config %s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > CONFIG_MAX_BYTES) {
			errtext(err, errcap, "--config %s: larger than %d KiB; is it the right file?",
			     path, CONFIG_MAX_BYTES / 1024);
			goto out;
		}
	}
	c = config_parse(buf, len, path, err, errcap);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return c;
}

const struct config_entry *config_entries(const struct node_config *c, size_t *n)
{
	*n = c->n;
	return c->entries;
}

const char *config_name(const struct node_config *c)
{
	return c->name;
}

void config_free(struct node_config *c)
{
	if (c == NULL)
		return;
	free(c->entries);
	free(c->name);
	free(c->text);
	free(c);
}
