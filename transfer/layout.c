/* The layout of a content's files: stream offsets to files, manifest paths to paths under the
 * root. Pure: it opens nothing and knows no root directory (node/disk/storage.c joins them). */
#include "transfer/layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lfile {
	char *rel;
	uint64_t size, off;
};

struct layout {
	uint32_t n;
	bool single, strip;
	uint64_t total;
	struct lfile *f;
};

char *layout_content_name(const struct manifest *m)
{
	struct manifest_file f;
	if (manifest_file(m, 0, &f) != 0)
		return NULL;
	const char *slash = strchr(f.path, '/');
	if (manifest_file_count(m) == 1 && slash == NULL)
		return strdup(f.path);
	if (slash == NULL)
		return NULL;
	size_t len = (size_t)(slash - f.path);
	for (uint32_t i = 1; i < manifest_file_count(m); i++) {
		struct manifest_file g;
		manifest_file(m, i, &g);
		if (strncmp(g.path, f.path, len + 1) != 0)
			return NULL;
	}
	return strndup(f.path, len);
}

static const char *strip_first(const char *mpath)
{
	const char *slash = strchr(mpath, '/');
	return slash ? slash + 1 : mpath;
}

struct layout *layout_new(uint32_t nfiles, const char *const *paths, const uint64_t *sizes,
			  bool strip)
{
	struct layout *l = calloc(1, sizeof *l);
	if (l == NULL)
		return NULL;
	l->n = nfiles;
	l->single = nfiles == 1 && strchr(paths[0], '/') == NULL;
	l->strip = strip;
	l->f = calloc(nfiles ? nfiles : 1, sizeof *l->f);
	if (l->f == NULL)
		goto fail;
	for (uint32_t i = 0; i < nfiles; i++) {
		l->f[i].size = sizes[i];
		l->f[i].off = l->total;
		l->total += sizes[i];
		const char *rel = l->single ? "" : strip ? strip_first(paths[i]) : paths[i];
		if ((l->f[i].rel = strdup(rel)) == NULL)
			goto fail;
	}
	return l;
fail:
	layout_free(l);
	return NULL;
}

struct layout *layout_for_manifest(const struct manifest *m)
{
	uint32_t n = manifest_file_count(m);
	const char **paths = calloc(n ? n : 1, sizeof *paths);
	uint64_t *sizes = calloc(n ? n : 1, sizeof *sizes);
	char *name = layout_content_name(m);
	struct layout *l = NULL;
	if (paths == NULL || sizes == NULL)
		goto out;
	for (uint32_t i = 0; i < n; i++) {
		struct manifest_file f;
		manifest_file(m, i, &f);
		paths[i] = f.path;
		sizes[i] = f.size;
	}
	l = layout_new(n, paths, sizes, name != NULL);
out:
	free(name);
	free(paths);
	free(sizes);
	return l;
}

void layout_free(struct layout *l)
{
	if (l == NULL)
		return;
	for (uint32_t i = 0; l->f && i < l->n; i++)
		free(l->f[i].rel);
	free(l->f);
	free(l);
}

uint32_t layout_count(const struct layout *l)
{
	return l->n;
}

uint64_t layout_total(const struct layout *l)
{
	return l->total;
}

bool layout_single(const struct layout *l)
{
	return l->single;
}

const char *layout_file(const struct layout *l, uint32_t i, uint64_t *off, uint64_t *size)
{
	if (i >= l->n)
		return NULL;
	*off = l->f[i].off;
	*size = l->f[i].size;
	return l->f[i].rel;
}

/* Binary search: trees may hold tens of thousands of files. */
uint32_t layout_file_at(const struct layout *l, uint64_t off)
{
	if (off >= l->total)
		return l->n;
	uint32_t lo = 0, hi = l->n;
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (l->f[mid].off <= off)
			lo = mid;
		else
			hi = mid;
	}
	while (lo < l->n && l->f[lo].off + l->f[lo].size <= off)
		lo++;
	return lo;
}

char *layout_rel_path(const struct layout *l, const char *mpath)
{
	if (l->single || (l->strip && strchr(mpath, '/') == NULL))
		return strdup("");
	return strdup(l->strip ? strip_first(mpath) : mpath);
}
