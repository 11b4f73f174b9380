/* Transfer state on disk: a JSON document per transfer (jansson, as the control protocol uses:
 * the state is small, read once at start and written at most twice a second, so a readable
 * format costs nothing that matters) next to the manifest's canonical bytes. Writes go to a
 * temporary file that is fsync'd and renamed over the old one, then the directory is fsync'd,
 * which is what makes the rename itself durable. Nothing here decides what to remember. */
#include "node/xfer/xferstate.h"

#include "node/net/addr.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATE_VERSION 1

static void set_err(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, cap, fmt, ap);
	va_end(ap);
}

void xstate_clear(struct xstate *s)
{
	free(s->path);
	free(s->have);
	free(s->size);
	free(s->mtime_ns);
	free(s->peers);
	memset(s, 0, sizeof *s);
}

static json_t *hex_json(const uint8_t *b, size_t len)
{
	char *hex = malloc(2 * len + 1);
	if (hex == NULL)
		return NULL;
	sodium_bin2hex(hex, 2 * len + 1, b, len);
	json_t *j = json_string(hex);
	free(hex);
	return j;
}

static json_t *files_json(const struct xstate *s)
{
	json_t *arr = json_array();
	for (uint32_t i = 0; arr && i < s->nfiles; i++)
		if (json_array_append_new(arr, json_pack("{s:I, s:I}", "size", (json_int_t)s->size[i],
							 "mtime_ns", (json_int_t)s->mtime_ns[i])) != 0) {
			json_decref(arr);
			return NULL;
		}
	return arr;
}

static json_t *peers_json(const struct xstate *s)
{
	json_t *arr = json_array();
	for (uint32_t i = 0; arr && i < s->npeers; i++) {
		char a[ADDR_STR_MAX];
		addr_format(&s->peers[i], a);
		if (json_array_append_new(arr, json_string(a)) != 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

char *xstate_encode(const struct xstate *s)
{
	json_t *o = json_pack("{s:i, s:o, s:s, s:s, s:I, s:b, s:b, s:b, s:o}", "version",
			      STATE_VERSION, "content_id", hex_json(s->cid, sizeof s->cid), "role",
			      s->seed ? "seed" : "fetch", "path", s->path ? s->path : "",
			      "chunk_size", (json_int_t)s->chunk_size, "leave_when_done", s->leave_when_done,
			      "stopped", s->stopped, "complete", s->complete, "files", files_json(s));
	if (o != NULL && ((s->have != NULL &&
			   json_object_set_new(o, "have", hex_json(s->have, s->have_len)) != 0) ||
			  json_object_set_new(o, "peers", peers_json(s)) != 0 ||
			  json_object_set_new(o, "active_ms", json_integer((json_int_t)s->active_ms)) != 0 ||
			  json_object_set_new(o, "finished", json_integer((json_int_t)s->finished)) != 0)) {
		json_decref(o);
		o = NULL;
	}
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return text;
}

static int hex_field(json_t *o, const char *name, uint8_t **out, size_t *len)
{
	const char *hex = json_string_value(json_object_get(o, name));
	if (hex == NULL)
		return -1;
	size_t n = strlen(hex) / 2;
	*out = malloc(n ? n : 1);
	if (*out == NULL || sodium_hex2bin(*out, n, hex, strlen(hex), NULL, len, NULL) != 0 ||
	    *len != n) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

static int decode_files(json_t *arr, struct xstate *s)
{
	size_t n = json_array_size(arr);
	s->size = calloc(n ? n : 1, sizeof *s->size);
	s->mtime_ns = calloc(n ? n : 1, sizeof *s->mtime_ns);
	if (s->size == NULL || s->mtime_ns == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		json_t *f = json_array_get(arr, i);
		json_t *size = json_object_get(f, "size"), *t = json_object_get(f, "mtime_ns");
		if (!json_is_integer(size) || !json_is_integer(t) || json_integer_value(size) < 0)
			return -1;
		s->size[i] = (uint64_t)json_integer_value(size);
		s->mtime_ns[i] = (int64_t)json_integer_value(t);
	}
	s->nfiles = (uint32_t)n;
	return 0;
}

/* Peers are a hint: unparsable entries are skipped, not an error. */
static int decode_peers(json_t *arr, struct xstate *s)
{
	size_t n = json_array_size(arr);
	if (n > XSTATE_MAX_PEERS)
		n = XSTATE_MAX_PEERS;
	if (n == 0)
		return 0;
	if ((s->peers = calloc(n, sizeof *s->peers)) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *a = json_string_value(json_array_get(arr, i));
		if (a != NULL && addr_parse(a, &s->peers[s->npeers]) == 0)
			s->npeers++;
	}
	return 0;
}

static int decode_object(json_t *o, struct xstate *out)
{
	uint8_t *cid = NULL;
	size_t len = 0;
	const char *role = json_string_value(json_object_get(o, "role"));
	const char *path = json_string_value(json_object_get(o, "path"));
	json_t *cs = json_object_get(o, "chunk_size");
	if (json_integer_value(json_object_get(o, "version")) != STATE_VERSION || role == NULL ||
	    path == NULL || !json_is_integer(cs) || hex_field(o, "content_id", &cid, &len) != 0)
		return -1;
	int rc = -1;
	if (len != MANIFEST_ID_LEN)
		goto out;
	memcpy(out->cid, cid, len);
	out->seed = strcmp(role, "seed") == 0;
	out->chunk_size = (uint32_t)json_integer_value(cs);
	out->leave_when_done = json_is_true(json_object_get(o, "leave_when_done"));
	out->stopped = json_is_true(json_object_get(o, "stopped"));
	out->complete = json_is_true(json_object_get(o, "complete"));
	/* Absent in states written before they were kept: unknown counts as 0. */
	json_int_t active = json_integer_value(json_object_get(o, "active_ms"));
	out->active_ms = active > 0 ? (uint64_t)active : 0;
	out->finished = (int64_t)json_integer_value(json_object_get(o, "finished"));
	if ((out->path = strdup(path)) == NULL ||
	    decode_files(json_object_get(o, "files"), out) != 0 ||
	    decode_peers(json_object_get(o, "peers"), out) != 0)
		goto out;
	if (json_object_get(o, "have") != NULL &&
	    hex_field(o, "have", &out->have, &out->have_len) != 0)
		goto out;
	rc = 0;
out:
	free(cid);
	return rc;
}

int xstate_decode(const char *text, size_t len, struct xstate *out)
{
	memset(out, 0, sizeof *out);
	json_t *o = json_loadb(text, len, 0, NULL);
	int rc = json_is_object(o) ? decode_object(o, out) : -1;
	json_decref(o);
	if (rc != 0)
		xstate_clear(out);
	return rc;
}

int xstate_dir(const char *data_dir, const uint8_t cid[MANIFEST_ID_LEN], char *out, size_t cap)
{
	char hex[2 * MANIFEST_ID_LEN + 1];
	sodium_bin2hex(hex, sizeof hex, cid, MANIFEST_ID_LEN);
	int n = snprintf(out, cap, "%s/%s/%s", data_dir, XSTATE_DIR, hex);
	return n > 0 && (size_t)n < cap ? 0 : -1;
}

static int write_all(int fd, const uint8_t *b, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, b, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		len -= (size_t)w;
	}
	return 0;
}

/* fsync a directory so that a rename inside it survives a crash of the machine. */
static void sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

static int make_dirs(const char *dir)
{
	char parent[4096];
	snprintf(parent, sizeof parent, "%s", dir);
	char *slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = '\0';
		if (mkdir(parent, 0700) != 0 && errno != EEXIST)
			return -1;
	}
	return mkdir(dir, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

int xstate_write(const char *dir, const char *name, const void *buf, size_t len, char *err,
		 size_t errcap)
{
	char path[4096], tmp[4096 + 8];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if (make_dirs(dir) != 0) {
		set_err(err, errcap, "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		set_err(err, errcap, "cannot write %s: %s", tmp, strerror(errno));
		return -1;
	}
	if (write_all(fd, buf, len) != 0 || fsync(fd) != 0) {
		set_err(err, errcap, "cannot write %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		set_err(err, errcap, "cannot replace %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	sync_dir(dir);
	return 0;
}

int xstate_read(const char *dir, const char *name, size_t max, uint8_t **buf, size_t *len)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	*buf = NULL;
	if (fd < 0)
		return -1;
	if (fstat(fd, &sb) != 0 || sb.st_size < 0 || (uint64_t)sb.st_size > max ||
	    (*buf = malloc((size_t)sb.st_size + 1)) == NULL) {
		close(fd);
		return -1;
	}
	ssize_t got = read(fd, *buf, (size_t)sb.st_size);
	close(fd);
	if (got != sb.st_size) {
		free(*buf);
		*buf = NULL;
		return -1;
	}
	(*buf)[got] = '\0';
	*len = (size_t)got;
	return 0;
}

void xstate_remove(const char *dir)
{
	static const char *const names[] = { XSTATE_MANIFEST, XSTATE_FILE,
					     XSTATE_MANIFEST ".tmp", XSTATE_FILE ".tmp" };
	char path[4096 + 32];
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

void xstate_foreach(const char *data_dir, void (*fn)(void *arg, const char *dir,
						    const uint8_t cid[MANIFEST_ID_LEN]),
		    void *arg)
{
	char top[4096], dir[4096 + 1 + 256]; /* a directory entry name is at most 255 bytes */
	snprintf(top, sizeof top, "%s/%s", data_dir, XSTATE_DIR);
	DIR *d = opendir(top);
	if (d == NULL)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		uint8_t cid[MANIFEST_ID_LEN];
		size_t n = 0;
		if (strlen(e->d_name) != 2 * MANIFEST_ID_LEN ||
		    sodium_hex2bin(cid, sizeof cid, e->d_name, strlen(e->d_name), NULL, &n, NULL) != 0 ||
		    n != MANIFEST_ID_LEN)
			continue;
		snprintf(dir, sizeof dir, "%s/%s", top, e->d_name);
		fn(arg, dir, cid);
	}
	closedir(d);
}
