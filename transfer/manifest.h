/* transfer/manifest.h: what a share is: a file or a tree of files laid end to end in one byte
 * stream, cut into chunks, each with a SHA-256 hash, with the tree's directories (empty ones
 * too), each file's executable bit and every entry's modification time; its canonical encoding
 * and content id, which covers all of that.
 * The core never opens files: callers feed it digests or data. Returned objects are the caller's
 * to free; pointers returned by accessors point into the manifest and live as long as it. */
#ifndef TRANSFER_MANIFEST_H
#define TRANSFER_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dht/id.h"
#include "transfer/bitfield.h"

#define MANIFEST_VERSION 2 /* 1 had neither directories, modes nor times */
#define MANIFEST_HASH_SHA256 1 /* the hash algorithm id written in the manifest */
#define MANIFEST_HASH_LEN 32
#define MANIFEST_ID_LEN 32 /* a content id: SHA-256 of the canonical encoding */

#define MANIFEST_DEFAULT_CHUNK (256u * 1024)
#define MANIFEST_MIN_CHUNK (16u * 1024)
#define MANIFEST_MAX_CHUNK (16u * 1024 * 1024)
#define MANIFEST_MAX_CHUNKS BITFIELD_MAX_BITS
#define MANIFEST_MAX_FILES 65536u
#define MANIFEST_MAX_DIRS 65536u
#define MANIFEST_MODE_EXEC 1u /* the one mode bit carried: 0755 rather than 0644 (less umask) */
#define MANIFEST_MAX_PATH 1024u     /* bytes in a relative path, without a NUL */
#define MANIFEST_MAX_COMPONENT 255u /* bytes between two slashes */
#define MANIFEST_MAX_BYTES (16u * 1024 * 1024) /* the whole canonical encoding */

/* Canonical encoding, all integers big-endian, nothing optional, no padding:
 *   "DHTM" | version u8 | hash algo u8 | chunk size u32 | total size u64 |
 *   file count u32 | { path length u16 | path bytes | size u64 | mode u8 | mtime i64 } |
 *   dir count u32 | { path length u16 | path bytes | mtime i64 } |
 *   chunk count u32 | chunk count x 32-byte hash
 * Files and directories each come in path order. Path order is tree order: paths compared
 * component by component, bytewise within a component (as if '/' sorted below every other
 * byte), so "a/b" < "a.txt" < "b". The file stream is the files in that order; chunk i covers
 * bytes [i * chunk size, ...). Mode is 0 or MANIFEST_MODE_EXEC (setuid, setgid, sticky and the
 * rest of the permission bits are never carried); mtime is nanoseconds since the epoch. Every
 * directory that holds a file or a directory is listed itself, so a tree's root is listed and
 * a single file has no directories; no path is both a file and a directory. */

struct manifest;

/* Return whether SIZE is a power of two in [MANIFEST_MIN_CHUNK, MANIFEST_MAX_CHUNK]. */
bool manifest_chunk_size_valid(uint32_t size);
/* The chunk size a share of TOTAL bytes gets unless told otherwise. */
uint32_t manifest_default_chunk(uint64_t total);
/* Return whether PATH is a relative path we accept: 1..MANIFEST_MAX_PATH bytes of valid UTF-8
 * without control characters (C0, DEL, C1), components separated by single '/', none empty,
 * "." or "..", none longer than MANIFEST_MAX_COMPONENT, no leading or trailing '/'. */
bool manifest_path_valid(const char *path);
/* Compare two paths in path order: <0, 0, >0 (a qsort-style comparator over strings). */
int manifest_path_cmp(const char *a, const char *b);

/* Incremental SHA-256 (OpenSSL EVP), so node/ can hash chunks in a worker thread. One hasher per
 * thread; a hasher is reusable after chunk_hasher_final(). */
struct chunk_hasher;

struct chunk_hasher *chunk_hasher_new(void); /* NULL if OpenSSL fails or memory runs out */
void chunk_hasher_free(struct chunk_hasher *h);
/* Return 0, or -1 if OpenSSL fails (the hasher must then be reset by a final). */
int chunk_hasher_update(struct chunk_hasher *h, const void *data, size_t len);
/* Write the digest of everything since the last final, and start over. Return 0 or -1. */
int chunk_hasher_final(struct chunk_hasher *h, uint8_t out[MANIFEST_HASH_LEN]);
/* One-shot SHA-256. Return 0 or -1. */
int manifest_sha256(const void *data, size_t len, uint8_t out[MANIFEST_HASH_LEN]);

/* Building a manifest: declare the files, then give every chunk's digest, or the stream's bytes
 * (in pieces of any size) for the builder to hash; not both for one chunk. */
struct manifest_builder;

/* Return a builder for chunks of CHUNK_SIZE bytes, or NULL if the size is invalid or memory runs
 * out. */
struct manifest_builder *manifest_builder_new(uint32_t chunk_size);
void manifest_builder_free(struct manifest_builder *b);
/* Declare the next file. Paths must come in strictly increasing path order (sort them with
 * manifest_path_cmp): that is the stream order. Return 0, or -1 if the path is invalid, out of
 * order, or lies under an earlier file's path ("a" then "a/b"), the file count or total size
 * would exceed the limits, or chunk data has already been given. Empty files are allowed (they
 * hold no bytes of the stream). */
int manifest_builder_add_file(struct manifest_builder *b, const char *path, uint64_t size);
/* The same with a mode (0 or MANIFEST_MODE_EXEC) and a modification time. */
int manifest_builder_add_entry(struct manifest_builder *b, const char *path, uint64_t size,
			       uint8_t mode, int64_t mtime_ns);
/* Declare the next directory (at any time before finish): strictly increasing path order among
 * directories. Return 0, or -1 if the path is invalid, out of order, or too many. Whether
 * files and directories agree (every parent listed, no path both) is checked by finish. */
int manifest_builder_add_dir(struct manifest_builder *b, const char *path, int64_t mtime_ns);
/* Give the digest of the next chunk. Return 0, or -1 if all chunks are already known, the
 * files' total is not yet declared (call add_file first), stream bytes are pending, or the
 * builder is finished (the same holds for add_data). */
int manifest_builder_add_hash(struct manifest_builder *b, const uint8_t hash[MANIFEST_HASH_LEN]);
/* Give the next LEN bytes of the stream. Return 0, or -1 on more bytes than the files hold or
 * an OpenSSL failure. */
int manifest_builder_add_data(struct manifest_builder *b, const void *data, size_t len);
/* Return the manifest (the caller frees it) or NULL if the total size is zero, a chunk digest
 * is missing, files and directories disagree, or the encoding would exceed MANIFEST_MAX_BYTES. The builder must still be freed
 * and accepts no more input. */
struct manifest *manifest_builder_finish(struct manifest_builder *b);

/* Decode canonical bytes. Return the manifest, or NULL on anything malformed or non-canonical
 * (bad magic, version or algorithm, invalid chunk size, a bad or unsorted or duplicate path, a
 * file that is also a directory, a parent directory not listed, a mode bit other than EXEC, sizes that do not add up to the total, a chunk count that is
 * not ceil(total / chunk size), a length past the end, trailing bytes, a limit exceeded). */
struct manifest *manifest_decode(const uint8_t *buf, size_t len);
/* Decode BUF and check that its content id is ID: how a manifest fetched from a stranger is
 * accepted. Return the manifest or NULL. */
struct manifest *manifest_verify(const uint8_t *buf, size_t len,
				 const uint8_t id[MANIFEST_ID_LEN]);
void manifest_free(struct manifest *m);

/* The canonical encoding (*LEN bytes), owned by M: what MANIFEST_PIECE messages carry. */
const uint8_t *manifest_bytes(const struct manifest *m, size_t *len);
/* The content id, SHA-256 of manifest_bytes(), owned by M. */
const uint8_t *manifest_id(const struct manifest *m);
/* The DHT key for a content id: its first 20 bytes, truncated to BITS bits (id_from_bytes). */
void manifest_id_to_key(const uint8_t id[MANIFEST_ID_LEN], unsigned bits, struct dht_id *out);

uint32_t manifest_chunk_size(const struct manifest *m);
uint64_t manifest_total_size(const struct manifest *m);
uint32_t manifest_chunk_count(const struct manifest *m);
/* Bytes in chunk I (the last one may be short), or 0 if I is out of range. */
uint32_t manifest_chunk_len(const struct manifest *m, uint32_t i);
/* Chunk I's digest, owned by M, or NULL if I is out of range. */
const uint8_t *manifest_chunk_hash(const struct manifest *m, uint32_t i);
/* Return whether DATA is exactly chunk I: right length and right SHA-256. */
bool manifest_chunk_ok(const struct manifest *m, uint32_t i, const void *data, size_t len);

struct manifest_file {
	const char *path;    /* NUL-terminated, owned by the manifest */
	uint64_t size;
	uint64_t offset;     /* where the file starts in the stream */
	uint8_t mode;        /* 0 or MANIFEST_MODE_EXEC */
	int64_t mtime_ns;
};
uint32_t manifest_file_count(const struct manifest *m);
/* Fill OUT with file I. Return 0, or -1 if I is out of range. */
int manifest_file(const struct manifest *m, uint32_t i, struct manifest_file *out);

struct manifest_dir {
	const char *path;    /* NUL-terminated, owned by the manifest */
	int64_t mtime_ns;
};
uint32_t manifest_dir_count(const struct manifest *m);
/* Fill OUT with directory I (in path order, so parents before children). Return 0 or -1. */
int manifest_dir(const struct manifest *m, uint32_t i, struct manifest_dir *out);

/* A piece of a chunk that lies in one file, for the writer. */
struct manifest_span {
	uint32_t file;         /* index for manifest_file() */
	uint64_t file_offset;  /* where in that file */
	uint32_t chunk_offset; /* where in the chunk */
	uint32_t len;
};
/* Write the spans covering chunk I, in stream order, into OUT (at most MAX of them; empty files
 * are skipped). Return how many spans chunk I has (which may be more than MAX: call again with
 * room for that many), or -1 if I is out of range. */
int manifest_chunk_spans(const struct manifest *m, uint32_t i, struct manifest_span *out,
			 size_t max);

#endif
