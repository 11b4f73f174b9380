/* Manifests: the chunking of a file or a tree of files, its chunk hashes, and the one canonical
 * byte encoding whose SHA-256 is the content id. The decoder is the single gate every manifest
 * passes (the builder encodes and then decodes its own bytes), so a manifest in memory is always
 * one that round-trips to identical bytes. This module never opens a file or reads a disk: the
 * caller hands in digests or data, and gets back where each chunk's bytes go. */
#include "transfer/manifest.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC "DHTM"
#define MAGIC_LEN 4
#define HEADER_LEN (MAGIC_LEN + 1 + 1 + 4 + 8 + 4) /* up to and with the file count */
#define FILE_ENTRY_MIN (2 + 1 + 8)                  /* length, one path byte, size */

struct mfile {
	const char *path; /* into the manifest's path pool */
	size_t path_len;
	uint64_t size;
	uint64_t offset;
};

struct manifest {
	uint32_t chunk_size;
	uint32_t nchunks;
	uint64_t total;
	uint32_t nfiles;
	struct mfile *files;
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
};

struct manifest_builder {
	uint32_t chunk_size;
	uint32_t nfiles;
	uint32_t cap;
	struct bfile *files;
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

static uint64_t chunks_for(uint64_t total, uint32_t chunk_size)
{
	return total / chunk_size + (total % chunk_size != 0);
}

/* A path given as bytes: checked the same whether it came from a caller or a stranger. */
static bool path_valid_n(const uint8_t *p, size_t n)
{
	if (n == 0 || n > MANIFEST_MAX_PATH)
		return false;
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && p[i] == '\0')
			return false;
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
		uint64_t size;
		if (br_u16(r, &n) != 0 || br_ref(r, &p, n) != 0 || br_u64(r, &size) != 0)
			return false;
		if (!path_valid_n(p, n) || (prev && !path_follows(prev, prevn, p, n)))
			return false;
		if (size > m->total - offset)
			return false;
		m->files[f] = (struct mfile){ (const char *)p, n, size, offset };
		offset += size;
		*pool += (size_t)n + 1;
		prev = p;
		prevn = n;
	}
	return offset == m->total;
}

/* Give each path its own NUL-terminated copy, so callers can use it as a C string. */
static bool copy_paths(struct manifest *m, size_t pool)
{
	m->paths = malloc(pool);
	if (m->paths == NULL)
		return false;
	char *dst = m->paths;
	for (uint32_t f = 0; f < m->nfiles; f++) {
		size_t n = m->files[f].path_len;
		memcpy(dst, m->files[f].path, n);
		dst[n] = '\0';
		m->files[f].path = dst;
		dst += n + 1;
	}
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
	if (m->files == NULL || !read_files(&r, m, &pool))
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
	free(b->files);
	free(b->hashes);
	chunk_hasher_free(b->hasher);
	free(b);
}

int manifest_builder_add_file(struct manifest_builder *b, const char *path, uint64_t size)
{
	if (b->done || b->hashes != NULL || b->nfiles == MANIFEST_MAX_FILES ||
	    !manifest_path_valid(path))
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
	if (b->nfiles == b->cap) {
		uint32_t cap = b->cap ? b->cap * 2 : 16;
		struct bfile *nf = realloc(b->files, cap * sizeof *nf);
		if (nf == NULL)
			return -1;
		b->files = nf;
		b->cap = cap;
	}
	char *copy = strdup(path);
	if (copy == NULL)
		return -1;
	b->files[b->nfiles++] = (struct bfile){ copy, size };
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
	size_t n = HEADER_LEN + 4 + (size_t)b->nchunks * MANIFEST_HASH_LEN;
	for (uint32_t f = 0; f < b->nfiles; f++)
		n += 2 + strlen(b->files[f].path) + 8;
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
	}
	bw_u32(w, b->nchunks);
	bw_bytes(w, b->hashes, (size_t)b->nchunks * MANIFEST_HASH_LEN);
}

struct manifest *manifest_builder_finish(struct manifest_builder *b)
{
	bool ready = !b->done && b->hashes != NULL && b->nhashes == b->nchunks;
	b->done = true;
	if (!ready)
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
