/* Manifests: a known-answer vector (chunk digests checked with coreutils sha256sum, content id of
 * an encoding written independently in Python), building from data and from digests, decode
 * round trips, every truncation, the path rules, hand-made malformed encodings (directories and
 * modes included), the directories the builder adds, chunk sizes,
 * short last chunks, chunk verification and the chunk-to-file spans the writer uses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dht/bytes.h"
#include "dht/id.h"
#include "transfer/manifest.h"

#define KAT_CHUNK 16384u
#define KAT_TOTAL 50000u
#define KAT_LEN 272

static const char *const kat_chunk_hex[] = {
	"eae5d477cd0d7df29ce9e1b1ac37f1d8650d3f9f7a6152bbdf2c0655b4b764e8",
	"6116549cbf2088c136e8ec6c07be75df24e360f8df0cee41df7d3af41c38dd5d",
	"c52d441d5b86d3b6d67268dc1c657336a589d0b68a941f36654be8734d407f29",
	"d1ea3b5b65275484fa885af9dd91f86650bc462182626b650d8a3c53c3945d3b",
};
static const char kat_id_hex[] = "aa6b582653b32a6f8cd028f06ed75e8d1bec74d50da2780e56d03ff27b00f981";

/* The KAT stream: byte k is bits 13..20 of k times Knuth's multiplicative constant, so no two
 * chunks are alike. */
static uint8_t kat_byte(uint32_t k)
{
	return (uint8_t)((uint32_t)(k * 2654435761u) >> 13);
}

static uint8_t *kat_stream(void)
{
	uint8_t *d = malloc(KAT_TOTAL);
	assert_non_null(d);
	for (uint32_t k = 0; k < KAT_TOTAL; k++)
		d[k] = kat_byte(k);
	return d;
}

static void from_hex(uint8_t *out, const char *hex, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

/* Three files (one executable), the directory that holds two of them and an empty one. */
static void kat_files(struct manifest_builder *b)
{
	assert_int_equal(manifest_builder_add_entry(b, "docs/a.bin", 20000, 0,
						    INT64_C(1700000000123456789)), 0);
	assert_int_equal(manifest_builder_add_entry(b, "docs/empty", 0, 0,
						    INT64_C(1700000001000000000)), 0);
	assert_int_equal(manifest_builder_add_entry(b, "z.txt", 30000, MANIFEST_MODE_EXEC,
						    INT64_C(1700000002500000000)), 0);
	assert_int_equal(manifest_builder_add_dir(b, "docs", INT64_C(1700000003000000000)), 0);
	assert_int_equal(manifest_builder_add_dir(b, "docs/sub", INT64_C(1700000004000000000)), 0);
}

/* Build the KAT manifest from its bytes, fed in awkward piece sizes that straddle chunks. */
static struct manifest *kat_build(void)
{
	uint8_t *d = kat_stream();
	struct manifest_builder *b = manifest_builder_new(KAT_CHUNK);
	assert_non_null(b);
	kat_files(b);
	size_t pos = 0, step = 1;
	while (pos < KAT_TOTAL) {
		size_t n = KAT_TOTAL - pos < step ? KAT_TOTAL - pos : step;
		assert_int_equal(manifest_builder_add_data(b, d + pos, n), 0);
		pos += n;
		step = step * 3 + 7;
	}
	struct manifest *m = manifest_builder_finish(b);
	manifest_builder_free(b);
	free(d);
	assert_non_null(m);
	return m;
}

static void test_known_answer(void **state)
{
	(void)state;
	struct manifest *m = kat_build();
	uint8_t want[MANIFEST_ID_LEN];
	assert_int_equal(manifest_chunk_count(m), 4);
	for (uint32_t i = 0; i < 4; i++) {
		from_hex(want, kat_chunk_hex[i], MANIFEST_HASH_LEN);
		assert_memory_equal(manifest_chunk_hash(m, i), want, MANIFEST_HASH_LEN);
	}
	size_t len;
	const uint8_t *bytes = manifest_bytes(m, &len);
	assert_int_equal(len, KAT_LEN);
	assert_memory_equal(bytes, "DHTM\x02\x01", 6);
	from_hex(want, kat_id_hex, MANIFEST_ID_LEN);
	assert_memory_equal(manifest_id(m), want, MANIFEST_ID_LEN);
	struct manifest_file f;
	assert_int_equal(manifest_file(m, 2, &f), 0);
	assert_int_equal(f.mode, MANIFEST_MODE_EXEC);
	assert_true(f.mtime_ns == INT64_C(1700000002500000000));
	assert_int_equal(manifest_dir_count(m), 2);
	struct manifest_dir d;
	assert_int_equal(manifest_dir(m, 1, &d), 0);
	assert_string_equal(d.path, "docs/sub");
	assert_true(d.mtime_ns == INT64_C(1700000004000000000));
	assert_int_equal(manifest_dir(m, 2, &d), -1);
	manifest_free(m);
}

static void test_build_from_digests(void **state)
{
	(void)state;
	struct manifest *m = kat_build();
	struct manifest_builder *b = manifest_builder_new(KAT_CHUNK);
	kat_files(b);
	for (uint32_t i = 0; i < 4; i++) {
		uint8_t h[MANIFEST_HASH_LEN];
		from_hex(h, kat_chunk_hex[i], MANIFEST_HASH_LEN);
		assert_int_equal(manifest_builder_add_hash(b, h), 0);
	}
	uint8_t h[MANIFEST_HASH_LEN] = { 0 };
	assert_int_equal(manifest_builder_add_hash(b, h), -1); /* one too many */
	struct manifest *m2 = manifest_builder_finish(b);
	assert_non_null(m2);
	assert_null(manifest_builder_finish(b));
	manifest_builder_free(b);
	assert_memory_equal(manifest_id(m), manifest_id(m2), MANIFEST_ID_LEN);
	manifest_free(m);
	manifest_free(m2);
}

static void test_decode_round_trip(void **state)
{
	(void)state;
	struct manifest *m = kat_build();
	size_t len;
	const uint8_t *bytes = manifest_bytes(m, &len);
	struct manifest *d = manifest_verify(bytes, len, manifest_id(m));
	assert_non_null(d);
	size_t len2;
	const uint8_t *bytes2 = manifest_bytes(d, &len2);
	assert_int_equal(len2, len);
	assert_memory_equal(bytes2, bytes, len);
	assert_int_equal(manifest_chunk_size(d), KAT_CHUNK);
	assert_int_equal(manifest_total_size(d), KAT_TOTAL);
	assert_int_equal(manifest_file_count(d), 3);
	struct manifest_file f;
	assert_int_equal(manifest_file(d, 2, &f), 0);
	assert_string_equal(f.path, "z.txt");
	assert_int_equal(f.size, 30000);
	assert_int_equal(f.offset, 20000);
	assert_int_equal(manifest_file(d, 3, &f), -1);
	manifest_free(d);

	uint8_t wrong[MANIFEST_ID_LEN];
	memcpy(wrong, manifest_id(m), sizeof wrong);
	wrong[31] ^= 1;
	assert_null(manifest_verify(bytes, len, wrong));
	manifest_free(m);
}

static void test_truncations_and_trailing(void **state)
{
	(void)state;
	struct manifest *m = kat_build();
	size_t len;
	const uint8_t *bytes = manifest_bytes(m, &len);
	uint8_t *buf = malloc(len + 1);
	memcpy(buf, bytes, len);
	for (size_t n = 0; n < len; n++)
		assert_null(manifest_decode(buf, n));
	buf[len] = 0;
	assert_null(manifest_decode(buf, len + 1));
	/* Each header field: magic, version, algorithm, chunk size, total, file count. */
	const size_t flips[] = { 0, 3, 4, 5, 8, 17, 21 };
	for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
		buf[flips[i]] ^= 0x01;
		assert_null(manifest_decode(buf, len));
		buf[flips[i]] ^= 0x01;
	}
	struct manifest *again = manifest_decode(buf, len);
	assert_non_null(again);
	manifest_free(again);
	free(buf);
	manifest_free(m);
}

static void test_path_rules(void **state)
{
	(void)state;
	char longc[MANIFEST_MAX_COMPONENT + 2], longp[MANIFEST_MAX_PATH + 2];
	memset(longc, 'c', sizeof longc - 1);
	longc[sizeof longc - 1] = '\0';
	for (size_t i = 0; i < sizeof longp - 1; i++)
		longp[i] = i % 2 ? '/' : 'p';
	longp[sizeof longp - 1] = '\0';
	const char *bad[] = { "", "/abs", "a/", "a//b", ".", "..", "a/../b", "../a", "a/.",
			      "./a", longc, longp, "a\nb", "\x1b[2J", "a\xff" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(manifest_path_valid(bad[i]));
	longc[MANIFEST_MAX_COMPONENT] = '\0';
	longp[MANIFEST_MAX_PATH - 1] = '\0'; /* 1023 bytes ending in a component */
	const char *good[] = { "a", "a/b/c", "...", "a..b", ".hidden", "a b/ü", longc, longp };
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		assert_true(manifest_path_valid(good[i]));
}

static void test_path_order(void **state)
{
	(void)state;
	assert_true(manifest_path_cmp("a/b", "a.txt") < 0);
	assert_true(manifest_path_cmp("a.txt", "b") < 0);
	assert_true(manifest_path_cmp("a", "a/b") < 0);
	assert_true(manifest_path_cmp("a/b", "a/b") == 0);
	assert_true(manifest_path_cmp("b", "a/z") > 0);

	struct manifest_builder *b = manifest_builder_new(MANIFEST_MIN_CHUNK);
	assert_int_equal(manifest_builder_add_file(b, "d/x", 1), 0);
	assert_int_equal(manifest_builder_add_file(b, "d/x", 1), -1);   /* duplicate */
	assert_int_equal(manifest_builder_add_file(b, "c", 1), -1);     /* backwards */
	assert_int_equal(manifest_builder_add_file(b, "d/x/y", 1), -1); /* d/x is a file */
	assert_int_equal(manifest_builder_add_file(b, "d.txt", 1), 0);  /* tree order */
	assert_int_equal(manifest_builder_add_file(b, "e", 1), 0);
	assert_int_equal(manifest_builder_add_file(b, "/abs", 1), -1);
	manifest_builder_free(b);
}

static void test_chunk_sizes(void **state)
{
	(void)state;
	for (uint32_t s = MANIFEST_MIN_CHUNK; s <= MANIFEST_MAX_CHUNK; s *= 2) {
		assert_true(manifest_chunk_size_valid(s));
		struct manifest_builder *b = manifest_builder_new(s);
		assert_non_null(b);
		manifest_builder_free(b);
	}
	const uint32_t bad[] = { 0, 1, MANIFEST_MIN_CHUNK / 2, 3 * MANIFEST_MIN_CHUNK,
				 MANIFEST_DEFAULT_CHUNK + 1, MANIFEST_MAX_CHUNK * 2 };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_false(manifest_chunk_size_valid(bad[i]));
		assert_null(manifest_builder_new(bad[i]));
	}
	assert_true(manifest_chunk_size_valid(MANIFEST_DEFAULT_CHUNK));
	/* The total is capped at MANIFEST_MAX_CHUNKS chunks. */
	struct manifest_builder *b = manifest_builder_new(MANIFEST_MIN_CHUNK);
	uint64_t cap = (uint64_t)MANIFEST_MAX_CHUNKS * MANIFEST_MIN_CHUNK;
	assert_int_equal(manifest_builder_add_file(b, "a", cap + 1), -1);
	assert_int_equal(manifest_builder_add_file(b, "a", cap), 0);
	assert_int_equal(manifest_builder_add_file(b, "b", 1), -1);
	manifest_builder_free(b);
}

/* A manifest of TOTAL bytes in one file "f" with zero digests, built from digests. */
static struct manifest *one_file(uint32_t chunk, uint64_t total)
{
	struct manifest_builder *b = manifest_builder_new(chunk);
	assert_int_equal(manifest_builder_add_file(b, "f", total), 0);
	uint8_t h[MANIFEST_HASH_LEN] = { 0 };
	while (manifest_builder_add_hash(b, h) == 0)
		;
	struct manifest *m = manifest_builder_finish(b);
	manifest_builder_free(b);
	assert_non_null(m);
	return m;
}

static void test_last_chunk_short(void **state)
{
	(void)state;
	struct manifest *m = one_file(MANIFEST_DEFAULT_CHUNK, 3 * (uint64_t)MANIFEST_DEFAULT_CHUNK + 5);
	assert_int_equal(manifest_chunk_count(m), 4);
	assert_int_equal(manifest_chunk_len(m, 0), MANIFEST_DEFAULT_CHUNK);
	assert_int_equal(manifest_chunk_len(m, 2), MANIFEST_DEFAULT_CHUNK);
	assert_int_equal(manifest_chunk_len(m, 3), 5);
	assert_int_equal(manifest_chunk_len(m, 4), 0);
	assert_null(manifest_chunk_hash(m, 4));
	manifest_free(m);

	m = one_file(MANIFEST_MIN_CHUNK, 2 * (uint64_t)MANIFEST_MIN_CHUNK);
	assert_int_equal(manifest_chunk_count(m), 2);
	assert_int_equal(manifest_chunk_len(m, 1), MANIFEST_MIN_CHUNK);
	manifest_free(m);

	m = one_file(MANIFEST_MAX_CHUNK, 1);
	assert_int_equal(manifest_chunk_count(m), 1);
	assert_int_equal(manifest_chunk_len(m, 0), 1);
	manifest_free(m);
}

static void test_chunk_ok(void **state)
{
	(void)state;
	struct manifest *m = kat_build();
	uint8_t *d = kat_stream();
	assert_true(manifest_chunk_ok(m, 1, d + KAT_CHUNK, KAT_CHUNK));
	assert_true(manifest_chunk_ok(m, 3, d + 3 * KAT_CHUNK, KAT_TOTAL - 3 * KAT_CHUNK));
	assert_false(manifest_chunk_ok(m, 0, d + KAT_CHUNK, KAT_CHUNK));  /* wrong chunk */
	assert_false(manifest_chunk_ok(m, 1, d + KAT_CHUNK, KAT_CHUNK - 1));
	assert_false(manifest_chunk_ok(m, 4, d, 1));
	d[KAT_CHUNK + 100] ^= 0x40;
	assert_false(manifest_chunk_ok(m, 1, d + KAT_CHUNK, KAT_CHUNK));
	free(d);
	manifest_free(m);
}

static void test_hasher(void **state)
{
	(void)state;
	uint8_t *d = kat_stream();
	struct chunk_hasher *h = chunk_hasher_new();
	assert_non_null(h);
	uint8_t a[MANIFEST_HASH_LEN], want[MANIFEST_HASH_LEN];
	for (int round = 0; round < 2; round++) { /* the second round checks the reset */
		assert_int_equal(chunk_hasher_update(h, d, 1000), 0);
		assert_int_equal(chunk_hasher_update(h, d + 1000, KAT_CHUNK - 1000), 0);
		assert_int_equal(chunk_hasher_final(h, a), 0);
		from_hex(want, kat_chunk_hex[0], MANIFEST_HASH_LEN);
		assert_memory_equal(a, want, MANIFEST_HASH_LEN);
	}
	assert_int_equal(manifest_sha256(d + 3 * KAT_CHUNK, KAT_TOTAL - 3 * KAT_CHUNK, a), 0);
	from_hex(want, kat_chunk_hex[3], MANIFEST_HASH_LEN);
	assert_memory_equal(a, want, MANIFEST_HASH_LEN);
	chunk_hasher_free(h);
	chunk_hasher_free(NULL);
	free(d);
}

static void test_builder_misuse(void **state)
{
	(void)state;
	uint8_t h[MANIFEST_HASH_LEN] = { 0 }, byte = 0;
	struct manifest_builder *b = manifest_builder_new(MANIFEST_MIN_CHUNK);
	assert_int_equal(manifest_builder_add_hash(b, h), -1); /* no files yet */
	assert_int_equal(manifest_builder_add_file(b, "empty", 0), 0);
	assert_int_equal(manifest_builder_add_data(b, &byte, 1), -1); /* nothing to hold it */
	assert_null(manifest_builder_finish(b));                      /* total zero */
	manifest_builder_free(b);

	b = manifest_builder_new(MANIFEST_MIN_CHUNK);
	assert_int_equal(manifest_builder_add_file(b, "a", MANIFEST_MIN_CHUNK + 10), 0);
	assert_int_equal(manifest_builder_add_data(b, &byte, 1), 0);
	assert_int_equal(manifest_builder_add_hash(b, h), -1);     /* bytes pending */
	assert_int_equal(manifest_builder_add_file(b, "b", 1), -1); /* file list closed */
	assert_null(manifest_builder_finish(b));                    /* chunks missing */
	assert_int_equal(manifest_builder_add_data(b, &byte, 1), -1);
	manifest_builder_free(b);
	manifest_builder_free(NULL);
	manifest_free(NULL);

	b = manifest_builder_new(MANIFEST_MIN_CHUNK);
	uint8_t *big = calloc(1, MANIFEST_MIN_CHUNK + 11);
	assert_int_equal(manifest_builder_add_file(b, "a", MANIFEST_MIN_CHUNK + 10), 0);
	assert_int_equal(manifest_builder_add_data(b, big, MANIFEST_MIN_CHUNK + 11), -1);
	assert_int_equal(manifest_builder_add_data(b, big, MANIFEST_MIN_CHUNK + 10), 0);
	struct manifest *m = manifest_builder_finish(b);
	assert_non_null(m);
	assert_true(manifest_chunk_ok(m, 1, big, 10));
	manifest_free(m);
	manifest_builder_free(b);
	free(big);
}

/* A hand-written encoding, so the decoder meets what our builder would never produce. */
struct raw {
	uint32_t chunk;
	uint64_t total;
	uint32_t nfiles;
	const char *paths[4];
	size_t plen[4]; /* 0 means strlen */
	uint64_t sizes[4];
	uint32_t nchunks;
	uint8_t modes[4];
	uint32_t ndirs;
	const char *dirs[4];
	uint8_t version;  /* 0 means MANIFEST_VERSION */
};

static size_t raw_encode(const struct raw *r, uint8_t *buf, size_t cap)
{
	struct bwriter w;
	bw_init(&w, buf, cap);
	bw_bytes(&w, "DHTM", 4);
	bw_u8(&w, r->version ? r->version : MANIFEST_VERSION);
	bw_u8(&w, MANIFEST_HASH_SHA256);
	bw_u32(&w, r->chunk);
	bw_u64(&w, r->total);
	bw_u32(&w, r->nfiles);
	for (uint32_t f = 0; f < r->nfiles && f < 4 && r->paths[f] != NULL; f++) {
		size_t n = r->plen[f] ? r->plen[f] : strlen(r->paths[f]);
		bw_u16(&w, (uint16_t)n);
		bw_bytes(&w, r->paths[f], n);
		bw_u64(&w, r->sizes[f]);
		bw_u8(&w, r->modes[f]);
		bw_u64(&w, 1000000000u * (uint64_t)f);
	}
	bw_u32(&w, r->ndirs);
	for (uint32_t d = 0; d < r->ndirs && d < 4 && r->dirs[d] != NULL; d++) {
		bw_u16(&w, (uint16_t)strlen(r->dirs[d]));
		bw_bytes(&w, r->dirs[d], strlen(r->dirs[d]));
		bw_u64(&w, 7);
	}
	bw_u32(&w, r->nchunks);
	for (uint32_t i = 0; i < r->nchunks; i++)
		for (int k = 0; k < MANIFEST_HASH_LEN; k++)
			bw_u8(&w, (uint8_t)i);
	assert_false(w.bad);
	return w.len;
}

static bool raw_decodes(const struct raw *r)
{
	uint8_t buf[4096];
	size_t n = raw_encode(r, buf, sizeof buf);
	struct manifest *m = manifest_decode(buf, n);
	manifest_free(m);
	return m != NULL;
}

static void test_decode_rejects(void **state)
{
	(void)state;
	const uint32_t C = MANIFEST_MIN_CHUNK;
	struct raw ok = { C, 2 * C + 1, 3, { "a/b", "a.txt", "b" }, { 0 }, { C, C, 1 }, 3,
			  { 0, MANIFEST_MODE_EXEC, 0 }, 1, { "a" }, 0 };
	assert_true(raw_decodes(&ok));

	struct raw r = ok;
	r.paths[1] = "a/a"; /* order: a/a before a/b */
	assert_false(raw_decodes(&r));
	r = ok;
	r.paths[1] = "a/b"; /* duplicate */
	assert_false(raw_decodes(&r));
	r = ok;
	r.paths[0] = "a"; /* a file that is a directory too */
	r.paths[1] = "a/x";
	assert_false(raw_decodes(&r));
	const char *badp[] = { "/a", "a//b", "../a", "a/..", "" };
	for (size_t i = 0; i < sizeof badp / sizeof badp[0]; i++) {
		r = ok;
		r.paths[0] = badp[i];
		assert_false(raw_decodes(&r));
	}
	r = ok;
	r.paths[0] = "a\0b"; /* NUL inside a path */
	r.plen[0] = 3;
	assert_false(raw_decodes(&r));
	/* Names that would reach a terminal, a log or JSON as control characters or invalid
	 * text: ANSI escapes, a newline starting a fake log line, DEL, a C1 control (NEL),
	 * a stray byte, an overlong '/' and a surrogate. */
	const char *badn[] = { "b\x1b[31m", "b\nFAKE LOG LINE", "b\x7f", "b\xc2\x85",
			       "b\xff", "b\xc0\xaf", "b\xed\xa0\x80", "b\tc" };
	for (size_t i = 0; i < sizeof badn / sizeof badn[0]; i++) {
		r = ok;
		r.paths[2] = badn[i];
		assert_false(raw_decodes(&r));
	}
	r = ok;
	r.paths[2] = "b\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"; /* é € and an emoji */
	assert_true(raw_decodes(&r));
	r = ok;
	r.sizes[2] = 2; /* sizes exceed the total */
	assert_false(raw_decodes(&r));
	r = ok;
	r.sizes[1] = C + (UINT64_C(1) << 63); /* sizes that add up only modulo 2^64 */
	r.sizes[2] = 1 + (UINT64_C(1) << 63);
	assert_false(raw_decodes(&r));
	r = ok;
	r.sizes[2] = 0; /* sizes fall short of the total */
	assert_false(raw_decodes(&r));
	r = ok;
	r.nchunks = 2;
	assert_false(raw_decodes(&r));
	r = ok;
	r.nchunks = 4;
	assert_false(raw_decodes(&r));
	r = ok;
	r.chunk = 3 * C;
	assert_false(raw_decodes(&r));
	r = ok;
	r.nfiles = 0;
	assert_false(raw_decodes(&r));
	struct raw empty = { C, 0, 1, { "e" }, { 0 }, { 0 }, 0, { 0 }, 0, { NULL }, 0 };
	assert_false(raw_decodes(&empty));
	/* A file count the remaining bytes cannot hold is refused before any allocation. */
	r = ok;
	r.nfiles = MANIFEST_MAX_FILES;
	assert_false(raw_decodes(&r));
	r = ok;
	r.ndirs = MANIFEST_MAX_DIRS;
	assert_false(raw_decodes(&r));
}

/* Directories, modes and versions: the tree must be whole and nothing but EXEC is carried. */
static void test_decode_rejects_tree(void **state)
{
	(void)state;
	const uint32_t C = MANIFEST_MIN_CHUNK;
	struct raw ok = { C, 2 * C + 1, 3, { "a/b", "a.txt", "b" }, { 0 }, { C, C, 1 }, 3,
			  { 0, MANIFEST_MODE_EXEC, 0 }, 1, { "a" }, 0 };
	struct raw r = ok;
	r.ndirs = 2; /* an empty directory beside them */
	r.dirs[1] = "c";
	assert_true(raw_decodes(&r));
	r.dirs[1] = "c/d"; /* its parent "c" is not listed */
	assert_false(raw_decodes(&r));
	r = ok;
	r.ndirs = 0; /* the parent of "a/b" is not listed */
	assert_false(raw_decodes(&r));
	r = ok;
	r.ndirs = 2;
	r.dirs[1] = "b"; /* a file and a directory at once */
	assert_false(raw_decodes(&r));
	r = ok;
	r.ndirs = 2;
	r.dirs[0] = "a";
	r.dirs[1] = "a"; /* duplicate */
	assert_false(raw_decodes(&r));
	r = ok;
	r.ndirs = 2;
	r.dirs[0] = "c";
	r.dirs[1] = "a"; /* out of order */
	assert_false(raw_decodes(&r));
	const char *badd[] = { "a/", "/a", "a/..", "" };
	for (size_t i = 0; i < sizeof badd / sizeof badd[0]; i++) {
		r = ok;
		r.ndirs = 2;
		r.dirs[1] = badd[i];
		assert_false(raw_decodes(&r));
	}
	const uint8_t badmodes[] = { 2, 0x80, 0xff };
	for (size_t i = 0; i < sizeof badmodes; i++) {
		r = ok;
		r.modes[0] = badmodes[i]; /* setuid and the like are never carried */
		assert_false(raw_decodes(&r));
	}
	r = ok;
	r.version = 1; /* the format before directories, modes and times */
	assert_false(raw_decodes(&r));
}

/* The builder lists parents the caller did not declare, keeps declared times, and refuses a
 * file that is also a declared directory. */
static void test_builder_dirs(void **state)
{
	(void)state;
	const uint32_t C = MANIFEST_MIN_CHUNK;
	uint8_t h[MANIFEST_HASH_LEN] = { 0 };
	struct manifest_builder *b = manifest_builder_new(C);
	assert_int_equal(manifest_builder_add_entry(b, "t/x/run.sh", 10, MANIFEST_MODE_EXEC, 5), 0);
	assert_int_equal(manifest_builder_add_entry(b, "t/y", 10, 2, 5), -1);
	assert_int_equal(manifest_builder_add_dir(b, "t/empty", 42), 0);
	assert_int_equal(manifest_builder_add_dir(b, "t/a", 1), -1); /* out of order */
	assert_int_equal(manifest_builder_add_dir(b, "t/z/", 1), -1);
	assert_int_equal(manifest_builder_add_hash(b, h), 0);
	struct manifest *m = manifest_builder_finish(b);
	manifest_builder_free(b);
	assert_non_null(m);
	const char *want[] = { "t", "t/empty", "t/x" };
	assert_int_equal(manifest_dir_count(m), 3);
	for (uint32_t i = 0; i < 3; i++) {
		struct manifest_dir d;
		assert_int_equal(manifest_dir(m, i, &d), 0);
		assert_string_equal(d.path, want[i]);
		assert_true(d.mtime_ns == (i == 1 ? 42 : 0));
	}
	manifest_free(m);
	b = manifest_builder_new(C);
	assert_int_equal(manifest_builder_add_file(b, "t/x", 10), 0);
	assert_int_equal(manifest_builder_add_dir(b, "t/x", 1), 0);
	assert_int_equal(manifest_builder_add_hash(b, h), 0);
	assert_null(manifest_builder_finish(b));
	manifest_builder_free(b);
}

static void span_is(const struct manifest_span *s, uint32_t file, uint64_t file_offset,
		    uint32_t chunk_offset, uint32_t len)
{
	assert_int_equal(s->file, file);
	assert_int_equal(s->file_offset, file_offset);
	assert_int_equal(s->chunk_offset, chunk_offset);
	assert_int_equal(s->len, len);
}

static void test_spans(void **state)
{
	(void)state;
	const uint32_t C = MANIFEST_MIN_CHUNK;
	struct manifest_builder *b = manifest_builder_new(C);
	assert_int_equal(manifest_builder_add_file(b, "a", 100), 0);
	assert_int_equal(manifest_builder_add_file(b, "b", 0), 0);
	assert_int_equal(manifest_builder_add_file(b, "c", 200), 0);
	assert_int_equal(manifest_builder_add_file(b, "d", 2 * C), 0);
	assert_int_equal(manifest_builder_add_file(b, "e", 0), 0);
	uint8_t h[MANIFEST_HASH_LEN] = { 0 };
	while (manifest_builder_add_hash(b, h) == 0)
		;
	struct manifest *m = manifest_builder_finish(b);
	manifest_builder_free(b);
	assert_non_null(m);
	assert_int_equal(manifest_chunk_count(m), 3);

	struct manifest_span s[4];
	assert_int_equal(manifest_chunk_spans(m, 0, NULL, 0), 3);
	assert_int_equal(manifest_chunk_spans(m, 0, s, 1), 3);
	assert_int_equal(s[0].file, 0);
	assert_int_equal(manifest_chunk_spans(m, 0, s, 4), 3);
	span_is(&s[0], 0, 0, 0, 100);
	span_is(&s[1], 2, 0, 100, 200);
	span_is(&s[2], 3, 0, 300, C - 300);
	assert_int_equal(manifest_chunk_spans(m, 1, s, 4), 1);
	span_is(&s[0], 3, C - 300, 0, C);
	assert_int_equal(manifest_chunk_spans(m, 2, s, 4), 1);
	span_is(&s[0], 3, 2 * C - 300, 0, 300);
	assert_int_equal(manifest_chunk_len(m, 2), 300);
	assert_int_equal(manifest_chunk_spans(m, 3, s, 4), -1);
	manifest_free(m);
}

static void test_id_to_key(void **state)
{
	(void)state;
	uint8_t id[MANIFEST_ID_LEN];
	from_hex(id, kat_id_hex, MANIFEST_ID_LEN);
	struct dht_id k;
	manifest_id_to_key(id, ID_MAX_BITS, &k);
	assert_memory_equal(k.b, id, ID_BYTES);
	manifest_id_to_key(id, 8, &k);
	assert_int_equal(id_low64(&k), 0xaa); /* the first byte of the id */
}

/* About 2,048 chunks a share, 16 KiB at least and 256 KiB at most. */
static void test_default_chunk(void **state)
{
	(void)state;
	const uint64_t M = 1u << 20;
	assert_int_equal(manifest_default_chunk(0), 16 * 1024);
	assert_int_equal(manifest_default_chunk(1), 16 * 1024);
	assert_int_equal(manifest_default_chunk(32 * M), 16 * 1024);
	assert_int_equal(manifest_default_chunk(32 * M + 1), 32 * 1024);
	assert_int_equal(manifest_default_chunk(64 * M), 32 * 1024);
	assert_int_equal(manifest_default_chunk(256 * M), 128 * 1024);
	assert_int_equal(manifest_default_chunk(512 * M), 256 * 1024);
	assert_int_equal(manifest_default_chunk(1ull << 40), MANIFEST_DEFAULT_CHUNK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answer),
		cmocka_unit_test(test_build_from_digests),
		cmocka_unit_test(test_decode_round_trip),
		cmocka_unit_test(test_truncations_and_trailing),
		cmocka_unit_test(test_path_rules),
		cmocka_unit_test(test_path_order),
		cmocka_unit_test(test_chunk_sizes),
		cmocka_unit_test(test_last_chunk_short),
		cmocka_unit_test(test_chunk_ok),
		cmocka_unit_test(test_hasher),
		cmocka_unit_test(test_builder_misuse),
		cmocka_unit_test(test_decode_rejects),
		cmocka_unit_test(test_decode_rejects_tree),
		cmocka_unit_test(test_builder_dirs),
		cmocka_unit_test(test_spans),
		cmocka_unit_test(test_id_to_key),
		cmocka_unit_test(test_default_chunk),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
