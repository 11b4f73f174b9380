/* Manifests: the chunking of a file or a tree of files, its chunk hashes, its directories, modes
 * and times, and the one canonical
 * byte encoding whose SHA-256 is the content id. The decoder is the single gate every manifest
 * passes (the builder encodes and then decodes its own bytes), so a manifest in memory is always
 * one that round-trips to identical bytes. This module never opens a file or reads a disk: the
 * caller hands in digests or data, and gets back where each chunk's bytes go. */
#include "transfer/manifest.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "dht/utf8.h"

#define MAGIC "DHTM"
#define MAGIC_LEN 4
#define HEADER_LEN (MAGIC_LEN + 1 + 1 + 4 + 8 + 4) /* up to and with the file count */
#define FILE_ENTRY_MIN (2 + 1 + 8 + 1 + 8)  /* length, one path byte, size, mode, mtime */
#define DIR_ENTRY_MIN (2 + 1 + 8)           /* length, one path byte, mtime */

struct mfile {
	const char *path; /* into the manifest's path pool */
	size_t path_len;
	uint64_t size;
	uint64_t offset;
	uint8_t mode;
	int64_t mtime_ns;
};

struct mdir {
	const char *path; /* into the manifest's path pool */
	size_t path_len;
	int64_t mtime_ns;
};

struct manifest {
	uint32_t chunk_size;
	uint32_t nchunks;
	uint64_t total;
	uint32_t nfiles;
	struct mfile *files;
	uint32_t ndirs;
	struct mdir *dirs;
	char *paths;           /* every path, NUL-terminated, end to end */
	uint8_t *bytes;        /* the canonical encoding */
	size_t len;
	const uint8_t *hashes; /* the hash table at the end of bytes */
	uint8_t id[MANIFEST_ID_LEN];
};

struct chunk_hasher {
	EVP_MD_CTX *ctx;
};

struct bfile {
	char *path;
	uint64_t size;
	uint8_t mode;
	int64_t mtime_ns;
};

struct manifest_builder {
	uint32_t chunk_size;
	uint32_t nfiles;
	uint32_t cap;
	struct bfile *files;
	uint32_t ndirs, dcap;
	struct bfile *dirs;  /* size and mode unused */
	uint64_t total;
	uint32_t nchunks;   /* fixed once the first digest or byte arrives */
	uint8_t *hashes;    /* NULL until then */
	uint32_t nhashes;
	uint32_t pending;   /* bytes of the current chunk fed to the hasher so far */
	struct chunk_hasher *hasher;
	bool done;
};

bool manifest_chunk_size_valid(uint32_t size)
{
	return size >= MANIFEST_MIN_CHUNK && size <= MANIFEST_MAX_CHUNK && (size & (size - 1)) == 0;
}

/* The seeds' 256 KiB for large shares, smaller for small ones so that they still have about
 * 2,048 chunks. A peer passes a chunk on only once it has all of it, so a small swarm trading
 * few large chunks starves: in the lab, 16 leechers of a 32 MiB file finish at 1.04-1.14 x
 * D_p2p with 16 KiB chunks and at 1.30 x with 256 KiB chunks. */
uint32_t manifest_default_chunk(uint64_t total)
{
	uint32_t c = MANIFEST_MIN_CHUNK;
	while (c < MANIFEST_DEFAULT_CHUNK && (total + c - 1) / c > 2048)
		c *= 2;
	return c;
}

static uint64_t chunks_for(uint64_t total, uint32_t chunk_size)
{
	return total / chunk_size + (total % chunk_size != 0);
}

/* A path given as bytes: checked the same whether it came from a caller or a stranger. Names
 * reach disks, logs, terminals and JSON: they must be valid UTF-8 without control characters
 * (no NUL, newline or escape sequence), or a peer could write into all of those. */
static bool path_valid_n(const uint8_t *p, size_t n)
{
	if (n == 0 || n > MANIFEST_MAX_PATH || !utf8_text_ok(p, n))
		return false;
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && p[i] != '/')
			continue;
		size_t clen = i - start;
		if (clen == 0 || clen > MANIFEST_MAX_COMPONENT)
			return false;
		if (p[start] == '.' && (clen == 1 || (clen == 2 && p[start + 1] == '.')))
			return false;
		start = i + 1;
	}
	return true;
}

bool manifest_path_valid(const char *path)
{
	return path_valid_n((const uint8_t *)path, strnlen(path, MANIFEST_MAX_PATH + 1));
}

/* '/' sorts below every byte a path may hold, which turns bytewise order into tree order. */
static int path_key(uint8_t c)
{
	return c == '/' ? 0 : c;
}

static int path_cmp_n(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	size_t n = an < bn ? an : bn;
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return path_key(a[i]) - path_key(b[i]);
	return (an > bn) - (an < bn);
}

int manifest_path_cmp(const char *a, const char *b)
{
	return path_cmp_n((const uint8_t *)a, strlen(a), (const uint8_t *)b, strlen(b));
}

/* Does PREV come strictly before NEXT, and is PREV not a directory of NEXT? In tree order every
 * path below "x/" follows "x" at once, so comparing neighbours finds any file that is also a
 * directory. */
static bool path_follows(const uint8_t *prev, size_t pn, const uint8_t *next, size_t nn)
{
	if (path_cmp_n(prev, pn, next, nn) >= 0)
		return false;
	return !(nn > pn && next[pn] == '/' && memcmp(prev, next, pn) == 0);
}

struct chunk_hasher *chunk_hasher_new(void)
{
	struct chunk_hasher *h = calloc(1, sizeof *h);
	if (h == NULL)
		return NULL;
	h->ctx = EVP_MD_CTX_new();
	if (h->ctx == NULL || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
		chunk_hasher_free(h);
		return NULL;
	}
	return h;
}

void chunk_hasher_free(struct chunk_hasher *h)
{
	if (h == NULL)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

int chunk_hasher_update(struct chunk_hasher *h, const void *data, size_t len)
{
	return EVP_DigestUpdate(h->ctx, data, len) == 1 ? 0 : -1;
}

int chunk_hasher_final(struct chunk_hasher *h, uint8_t out[MANIFEST_HASH_LEN])
{
	int rc = EVP_DigestFinal_ex(h->ctx, out, NULL) == 1 ? 0 : -1;
	if (EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1)
		rc = -1;
	return rc;
}

int manifest_sha256(const void *data, size_t len, uint8_t out[MANIFEST_HASH_LEN])
{
	return EVP_Digest(data, len, out, NULL, EVP_sha256(), NULL) == 1 ? 0 : -1;
}

void manifest_free(struct manifest *m)
{
	if (m == NULL)
		return;
	free(m->files);
	free(m->dirs);
	free(m->paths);
	free(m->bytes);
	free(m);
}

static bool read_header(struct breader *r, struct manifest *m)
{
	uint8_t magic[MAGIC_LEN], version, algo;
	br_bytes(r, magic, MAGIC_LEN);
	br_u8(r, &version);
	br_u8(r, &algo);
	br_u32(r, &m->chunk_size);
	br_u64(r, &m->total);
	br_u32(r, &m->nfiles);
	if (r->bad || memcmp(magic, MAGIC, MAGIC_LEN) != 0 || version != MANIFEST_VERSION ||
	    algo != MANIFEST_HASH_SHA256 || !manifest_chunk_size_valid(m->chunk_size))
		return false;
	if (m->total == 0 || chunks_for(m->total, m->chunk_size) > MANIFEST_MAX_CHUNKS)
		return false;
	/* Bound the file table by the bytes actually present before allocating for it. */
	return m->nfiles >= 1 && m->nfiles <= MANIFEST_MAX_FILES &&
	       (uint64_t)m->nfiles * FILE_ENTRY_MIN <= br_left(r);
}

/* Read the file table, leaving each path pointing into the encoding for now, and set *POOL to
 * the bytes the NUL-terminated copies will need. */
static bool read_files(struct breader *r, struct manifest *m, size_t *pool)
{
	const uint8_t *prev = NULL;
	size_t prevn = 0;
	uint64_t offset = 0;
	*pool = 0;
	for (uint32_t f = 0; f < m->nfiles; f++) {
		uint16_t n;
		const uint8_t *p;
		uint64_t size, mtime;
		uint8_t mode;
		if (br_u16(r, &n) != 0 || br_ref(r, &p, n) != 0 || br_u64(r, &size) != 0 ||
		    br_u8(r, &mode) != 0 || br_u64(r, &mtime) != 0)
			return false;
		if (!path_valid_n(p, n) || (prev && !path_follows(prev, prevn, p, n)))
			return false;
		if (size > m->total - offset || (mode & ~MANIFEST_MODE_EXEC) != 0)
			return false;
		m->files[f] = (struct mfile){ (const char *)p, n, size, offset, mode, (int64_t)mtime };
		offset += size;
		*pool += (size_t)n + 1;
		prev = p;
		prevn = n;
	}
	return offset == m->total;
}

/* Read the directory table like the file table, adding to *POOL. The count is bounded by the
 * bytes present before anything is allocated for it. */
static bool read_dirs(struct breader *r, struct manifest *m, size_t *pool)
{
	if (br_u32(r, &m->ndirs) != 0 || m->ndirs > MANIFEST_MAX_DIRS ||
	    (uint64_t)m->ndirs * DIR_ENTRY_MIN > br_left(r))
		return false;
	m->dirs = calloc(m->ndirs ? m->ndirs : 1, sizeof *m->dirs);
	if (m->dirs == NULL)
		return false;
	for (uint32_t d = 0; d < m->ndirs; d++) {
		uint16_t n;
		const uint8_t *p;
		uint64_t mtime;
		if (br_u16(r, &n) != 0 || br_ref(r, &p, n) != 0 || br_u64(r, &mtime) != 0)
			return false;
		if (!path_valid_n(p, n) ||
		    (d > 0 && path_cmp_n((const uint8_t *)m->dirs[d - 1].path,
					 m->dirs[d - 1].path_len, p, n) >= 0))
			return false;
		m->dirs[d] = (struct mdir){ (const char *)p, n, (int64_t)mtime };
		*pool += (size_t)n + 1;
	}
	return true;
}

static bool dir_listed(const struct manifest *m, const uint8_t *p, size_t n)
{
	uint32_t lo = 0, hi = m->ndirs;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = path_cmp_n((const uint8_t *)m->dirs[mid].path, m->dirs[mid].path_len, p, n);
		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static bool parents_listed(const struct manifest *m, const char *path, size_t n)
{
	const uint8_t *p = (const uint8_t *)path;
	for (size_t k = 0; k < n; k++)
		if (p[k] == '/' && !dir_listed(m, p, k))
			return false;
	return true;
}

/* Files and directories agree: each one's parents are listed directories, and no file is a
 * listed directory (so no directory lies under a file either). */
static bool tree_consistent(const struct manifest *m)
{
	for (uint32_t f = 0; f < m->nfiles; f++) {
		const struct mfile *e = &m->files[f];
		if (!parents_listed(m, e->path, e->path_len) ||
		    dir_listed(m, (const uint8_t *)e->path, e->path_len))
			return false;
	}
	for (uint32_t d = 0; d < m->ndirs; d++)
		if (!parents_listed(m, m->dirs[d].path, m->dirs[d].path_len))
			return false;
	return true;
}

static char *copy_path(char **dst, const char *src, size_t n)
{
	char *out = *dst;
	memcpy(out, src, n);
	out[n] = '\0';
	*dst += n + 1;
	return out;
}

/* Give each path its own NUL-terminated copy, so callers can use it as a C string. */
static bool copy_paths(struct manifest *m, size_t pool)
{
	m->paths = malloc(pool);
	if (m->paths == NULL)
		return false;
	char *dst = m->paths;
	for (uint32_t f = 0; f < m->nfiles; f++)
		m->files[f].path = copy_path(&dst, m->files[f].path, m->files[f].path_len);
	for (uint32_t d = 0; d < m->ndirs; d++)
		m->dirs[d].path = copy_path(&dst, m->dirs[d].path, m->dirs[d].path_len);
	return true;
}

/* Take ownership of BYTES (LEN of them) and decode them. On failure BYTES is freed too. */
static struct manifest *decode_owned(uint8_t *bytes, size_t len)
{
	struct manifest *m = calloc(1, sizeof *m);
	if (m == NULL) {
		free(bytes);
		return NULL;
	}
	m->bytes = bytes;
	m->len = len;
	struct breader r;
	br_init(&r, bytes, len);
	size_t pool;
	uint32_t nchunks;
	bool ok = false;
	if (len > MANIFEST_MAX_BYTES || !read_header(&r, m))
		goto out;
	m->files = calloc(m->nfiles, sizeof *m->files);
	if (m->files == NULL || !read_files(&r, m, &pool) || !read_dirs(&r, m, &pool) ||
	    !tree_consistent(m))
		goto out;
	if (br_u32(&r, &nchunks) != 0 || nchunks != chunks_for(m->total, m->chunk_size))
		goto out;
	m->nchunks = nchunks;
	if (br_ref(&r, &m->hashes, (size_t)nchunks * MANIFEST_HASH_LEN) != 0 || br_left(&r) != 0)
		goto out;
	ok = copy_paths(m, pool) && manifest_sha256(bytes, len, m->id) == 0;
out:
	if (!ok) {
		manifest_free(m);
		m = NULL;
	}
	return m;
}

struct manifest *manifest_decode(const uint8_t *buf, size_t len)
{
	if (len == 0 || len > MANIFEST_MAX_BYTES)
		return NULL;
	uint8_t *copy = malloc(len);
	if (copy == NULL)
		return NULL;
	memcpy(copy, buf, len);
	return decode_owned(copy, len);
}

struct manifest *manifest_verify(const uint8_t *buf, size_t len,
				 const uint8_t id[MANIFEST_ID_LEN])
{
	struct manifest *m = manifest_decode(buf, len);
	if (m != NULL && memcmp(m->id, id, MANIFEST_ID_LEN) != 0) {
		manifest_free(m);
		return NULL;
	}
	return m;
}

const uint8_t *manifest_bytes(const struct manifest *m, size_t *len)
{
	*len = m->len;
	return m->bytes;
}

const uint8_t *manifest_id(const struct manifest *m)
{
	return m->id;
}

void manifest_id_to_key(const uint8_t id[MANIFEST_ID_LEN], unsigned bits, struct dht_id *out)
{
	id_from_bytes(out, id, bits);
}

uint32_t manifest_chunk_size(const struct manifest *m)
{
	return m->chunk_size;
}

uint64_t manifest_total_size(const struct manifest *m)
{
	return m->total;
}

uint32_t manifest_chunk_count(const struct manifest *m)
{
	return m->nchunks;
}

uint32_t manifest_chunk_len(const struct manifest *m, uint32_t i)
{
	if (i >= m->nchunks)
		return 0;
	uint64_t start = (uint64_t)i * m->chunk_size;
	uint64_t left = m->total - start;
	return left < m->chunk_size ? (uint32_t)left : m->chunk_size;
}

const uint8_t *manifest_chunk_hash(const struct manifest *m, uint32_t i)
{
	return i < m->nchunks ? m->hashes + (size_t)i * MANIFEST_HASH_LEN : NULL;
}

bool manifest_chunk_ok(const struct manifest *m, uint32_t i, const void *data, size_t len)
{
	uint8_t h[MANIFEST_HASH_LEN];
	if (i >= m->nchunks || len != manifest_chunk_len(m, i) || manifest_sha256(data, len, h) != 0)
		return false;
	return memcmp(h, manifest_chunk_hash(m, i), MANIFEST_HASH_LEN) == 0;
}

uint32_t manifest_file_count(const struct manifest *m)
{
	return m->nfiles;
}

int manifest_file(const struct manifest *m, uint32_t i, struct manifest_file *out)
{
	if (i >= m->nfiles)
		return -1;
	out->path = m->files[i].path;
	out->size = m->files[i].size;
	out->offset = m->files[i].offset;
	out->mode = m->files[i].mode;
	out->mtime_ns = m->files[i].mtime_ns;
	return 0;
}

uint32_t manifest_dir_count(const struct manifest *m)
{
	return m->ndirs;
}

int manifest_dir(const struct manifest *m, uint32_t i, struct manifest_dir *out)
{
	if (i >= m->ndirs)
		return -1;
	out->path = m->dirs[i].path;
	out->mtime_ns = m->dirs[i].mtime_ns;
	return 0;
}

/* The first file that holds stream byte POS: ends (offset + size) never decrease, so binary
 * search for the first end past POS, which also steps over empty files. */
static uint32_t file_at(const struct manifest *m, uint64_t pos)
{
	uint32_t lo = 0, hi = m->nfiles;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (m->files[mid].offset + m->files[mid].size > pos)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

int manifest_chunk_spans(const struct manifest *m, uint32_t i, struct manifest_span *out,
			 size_t max)
{
	if (i >= m->nchunks)
		return -1;
	uint64_t start = (uint64_t)i * m->chunk_size;
	uint64_t end = start + manifest_chunk_len(m, i);
	int n = 0;
	for (uint32_t f = file_at(m, start); f < m->nfiles && m->files[f].offset < end; f++) {
		const struct mfile *mf = &m->files[f];
		if (mf->size == 0)
			continue;
		uint64_t a = mf->offset > start ? mf->offset : start;
		uint64_t b = mf->offset + mf->size < end ? mf->offset + mf->size : end;
		if ((size_t)n < max)
			out[n] = (struct manifest_span){ f, a - mf->offset, (uint32_t)(a - start),
							 (uint32_t)(b - a) };
		n++;
	}
	return n;
}

struct manifest_builder *manifest_builder_new(uint32_t chunk_size)
{
	if (!manifest_chunk_size_valid(chunk_size))
		return NULL;
	struct manifest_builder *b = calloc(1, sizeof *b);
	if (b != NULL)
		b->chunk_size = chunk_size;
	return b;
}

void manifest_builder_free(struct manifest_builder *b)
{
	if (b == NULL)
		return;
	for (uint32_t f = 0; f < b->nfiles; f++)
		free(b->files[f].path);
	for (uint32_t d = 0; d < b->ndirs; d++)
		free(b->dirs[d].path);
	free(b->files);
	free(b->dirs);
	free(b->hashes);
	chunk_hasher_free(b->hasher);
	free(b);
}

/* Append a copy of PATH to *V (N entries, *CAP room). Return the entry or NULL. */
static struct bfile *entry_push(struct bfile **v, uint32_t *n, uint32_t *cap, const char *path)
{
	if (*n == *cap) {
		uint32_t c = *cap ? *cap * 2 : 16;
		struct bfile *nv = realloc(*v, c * sizeof *nv);
		if (nv == NULL)
			return NULL;
		*v = nv;
		*cap = c;
	}
	char *copy = strdup(path);
	if (copy == NULL)
		return NULL;
	(*v)[*n] = (struct bfile){ .path = copy };
	return &(*v)[(*n)++];
}

int manifest_builder_add_file(struct manifest_builder *b, const char *path, uint64_t size)
{
	return manifest_builder_add_entry(b, path, size, 0, 0);
}

int manifest_builder_add_dir(struct manifest_builder *b, const char *path, int64_t mtime_ns)
{
	if (b->done || b->ndirs == MANIFEST_MAX_DIRS || !manifest_path_valid(path))
		return -1;
	if (b->ndirs > 0 && manifest_path_cmp(b->dirs[b->ndirs - 1].path, path) >= 0)
		return -1;
	struct bfile *e = entry_push(&b->dirs, &b->ndirs, &b->dcap, path);
	if (e == NULL)
		return -1;
	e->mtime_ns = mtime_ns;
	e->mode = 1; /* declared, as opposed to added by complete_dirs() */
	return 0;
}

int manifest_builder_add_entry(struct manifest_builder *b, const char *path, uint64_t size,
			       uint8_t mode, int64_t mtime_ns)
{
	if (b->done || b->hashes != NULL || b->nfiles == MANIFEST_MAX_FILES ||
	    !manifest_path_valid(path) || (mode & ~MANIFEST_MODE_EXEC) != 0)
		return -1;
	size_t n = strlen(path);
	if (b->nfiles > 0) {
		const char *prev = b->files[b->nfiles - 1].path;
		if (!path_follows((const uint8_t *)prev, strlen(prev), (const uint8_t *)path, n))
			return -1;
	}
	uint64_t max_total = (uint64_t)MANIFEST_MAX_CHUNKS * b->chunk_size;
	if (size > max_total - b->total)
		return -1;
	struct bfile *e = entry_push(&b->files, &b->nfiles, &b->cap, path);
	if (e == NULL)
		return -1;
	*e = (struct bfile){ e->path, size, mode, mtime_ns };
	b->total += size;
	return 0;
}

/* Fix the chunk count from the declared files: from here on the file list is closed. */
static int start_chunks(struct manifest_builder *b)
{
	if (b->done)
		return -1;
	if (b->hashes != NULL)
		return 0;
	if (b->total == 0)
		return -1;
	b->nchunks = (uint32_t)chunks_for(b->total, b->chunk_size);
	b->hashes = malloc((size_t)b->nchunks * MANIFEST_HASH_LEN);
	return b->hashes != NULL ? 0 : -1;
}

static uint32_t builder_chunk_len(const struct manifest_builder *b, uint32_t i)
{
	uint64_t left = b->total - (uint64_t)i * b->chunk_size;
	return left < b->chunk_size ? (uint32_t)left : b->chunk_size;
}

int manifest_builder_add_hash(struct manifest_builder *b, const uint8_t hash[MANIFEST_HASH_LEN])
{
	if (start_chunks(b) != 0 || b->pending != 0 || b->nhashes == b->nchunks)
		return -1;
	memcpy(b->hashes + (size_t)b->nhashes++ * MANIFEST_HASH_LEN, hash, MANIFEST_HASH_LEN);
	return 0;
}

int manifest_builder_add_data(struct manifest_builder *b, const void *data, size_t len)
{
	if (start_chunks(b) != 0)
		return -1;
	if (b->hasher == NULL && (b->hasher = chunk_hasher_new()) == NULL)
		return -1;
	uint64_t fed = (uint64_t)b->nhashes * b->chunk_size + b->pending;
	if (len > b->total - fed)
		return -1;
	const uint8_t *p = data;
	while (len > 0) {
		uint32_t want = builder_chunk_len(b, b->nhashes) - b->pending;
		uint32_t take = len < want ? (uint32_t)len : want;
		if (chunk_hasher_update(b->hasher, p, take) != 0)
			return -1;
		p += take;
		len -= take;
		b->pending += take;
		if (b->pending == builder_chunk_len(b, b->nhashes)) {
			uint8_t *out = b->hashes + (size_t)b->nhashes * MANIFEST_HASH_LEN;
			if (chunk_hasher_final(b->hasher, out) != 0)
				return -1;
			b->nhashes++;
			b->pending = 0;
		}
	}
	return 0;
}

static size_t builder_encoded_len(const struct manifest_builder *b)
{
	size_t n = HEADER_LEN + 4 + 4 + (size_t)b->nchunks * MANIFEST_HASH_LEN;
	for (uint32_t f = 0; f < b->nfiles; f++)
		n += FILE_ENTRY_MIN - 1 + strlen(b->files[f].path);
	for (uint32_t d = 0; d < b->ndirs; d++)
		n += DIR_ENTRY_MIN - 1 + strlen(b->dirs[d].path);
	return n;
}

static void builder_write(const struct manifest_builder *b, struct bwriter *w)
{
	bw_bytes(w, MAGIC, MAGIC_LEN);
	bw_u8(w, MANIFEST_VERSION);
	bw_u8(w, MANIFEST_HASH_SHA256);
	bw_u32(w, b->chunk_size);
	bw_u64(w, b->total);
	bw_u32(w, b->nfiles);
	for (uint32_t f = 0; f < b->nfiles; f++) {
		size_t n = strlen(b->files[f].path);
		bw_u16(w, (uint16_t)n);
		bw_bytes(w, b->files[f].path, n);
		bw_u64(w, b->files[f].size);
		bw_u8(w, b->files[f].mode);
		bw_u64(w, (uint64_t)b->files[f].mtime_ns);
	}
	bw_u32(w, b->ndirs);
	for (uint32_t d = 0; d < b->ndirs; d++) {
		size_t n = strlen(b->dirs[d].path);
		bw_u16(w, (uint16_t)n);
		bw_bytes(w, b->dirs[d].path, n);
		bw_u64(w, (uint64_t)b->dirs[d].mtime_ns);
	}
	bw_u32(w, b->nchunks);
	bw_bytes(w, b->hashes, (size_t)b->nchunks * MANIFEST_HASH_LEN);
}

static int dir_entry_cmp(const void *a, const void *b)
{
	const struct bfile *x = a, *y = b;
	int c = manifest_path_cmp(x->path, y->path);
	return c ? c : (int)y->mode - (int)x->mode; /* a declared one first */
}

/* Add every parent directory not declared (time 0), so that callers listing files only still
 * build a consistent tree; then sort and drop duplicates, keeping declared entries. */
static int complete_dirs(struct manifest_builder *b)
{
	uint32_t nd = b->ndirs;
	/* P points at a path string, which moves not when the array of entries grows. */
	for (uint32_t i = 0; i < b->nfiles + nd; i++) {
		const char *p = i < b->nfiles ? b->files[i].path : b->dirs[i - b->nfiles].path;
		for (const char *s = strchr(p, '/'); s != NULL; s = strchr(s + 1, '/')) {
			char *parent = strndup(p, (size_t)(s - p));
			struct bfile *e = parent ? entry_push(&b->dirs, &b->ndirs, &b->dcap, parent)
						 : NULL;
			free(parent);
			if (e == NULL)
				return -1;
		}
	}
	if (b->ndirs == 0)
		return 0;
	qsort(b->dirs, b->ndirs, sizeof *b->dirs, dir_entry_cmp);
	uint32_t k = 1;
	for (uint32_t i = 1; i < b->ndirs; i++) {
		if (strcmp(b->dirs[i].path, b->dirs[k - 1].path) == 0)
			free(b->dirs[i].path);
		else
			b->dirs[k++] = b->dirs[i];
	}
	b->ndirs = k;
	return 0;
}

struct manifest *manifest_builder_finish(struct manifest_builder *b)
{
	bool ready = !b->done && b->hashes != NULL && b->nhashes == b->nchunks;
	b->done = true;
	if (!ready || complete_dirs(b) != 0)
		return NULL;
	size_t len = builder_encoded_len(b);
	if (len > MANIFEST_MAX_BYTES)
		return NULL;
	uint8_t *buf = malloc(len);
	if (buf == NULL)
		return NULL;
	struct bwriter w;
	bw_init(&w, buf, len);
	builder_write(b, &w);
	return decode_owned(buf, len);
}
