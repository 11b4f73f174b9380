/* Fuzz the manifest decoder: arbitrary bytes either fail to decode or decode to a manifest whose
 * canonical encoding is exactly the input, whose id verifies, and whose accessors agree with each
 * other (chunk lengths sum to the total, each chunk's spans cover it exactly, files and
 * directories in order with valid paths, modes within EXEC). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "transfer/manifest.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

static void check_chunks(const struct manifest *m)
{
	uint64_t sum = 0;
	struct manifest_span spans[8];
	for (uint32_t i = 0; i < manifest_chunk_count(m); i++) {
		uint32_t len = manifest_chunk_len(m, i);
		check(len > 0 && len <= manifest_chunk_size(m));
		check(manifest_chunk_hash(m, i) != NULL);
		int n = manifest_chunk_spans(m, i, spans, 8);
		check(n >= 1);
		uint64_t covered = 0;
		for (int k = 0; k < n && k < 8; k++) {
			struct manifest_file f;
			check(manifest_file(m, spans[k].file, &f) == 0);
			check(spans[k].chunk_offset == covered && spans[k].len > 0);
			check(spans[k].file_offset + spans[k].len <= f.size);
			check(f.offset + spans[k].file_offset == (uint64_t)i * manifest_chunk_size(m) +
								 spans[k].chunk_offset);
			covered += spans[k].len;
		}
		check(n > 8 || covered == len);
		sum += len;
	}
	check(sum == manifest_total_size(m));
	check(manifest_chunk_len(m, manifest_chunk_count(m)) == 0);
}

static void check_files(const struct manifest *m)
{
	struct manifest_file prev, f;
	uint64_t offset = 0;
	for (uint32_t i = 0; i < manifest_file_count(m); i++) {
		check(manifest_file(m, i, &f) == 0);
		check(manifest_path_valid(f.path) && f.offset == offset);
		check((f.mode & ~MANIFEST_MODE_EXEC) == 0);
		check(i == 0 || manifest_path_cmp(prev.path, f.path) < 0);
		offset += f.size;
		prev = f;
	}
	check(offset == manifest_total_size(m));
}

static void check_dirs(const struct manifest *m)
{
	struct manifest_dir prev, d;
	for (uint32_t i = 0; i < manifest_dir_count(m); i++) {
		check(manifest_dir(m, i, &d) == 0);
		check(manifest_path_valid(d.path));
		check(i == 0 || manifest_path_cmp(prev.path, d.path) < 0);
		prev = d;
	}
	check(manifest_dir(m, manifest_dir_count(m), &d) == -1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest *m = manifest_decode(data, size);
	if (m == NULL)
		return 0;
	size_t len;
	const uint8_t *bytes = manifest_bytes(m, &len);
	check(len == size && memcmp(bytes, data, size) == 0);
	uint8_t id[MANIFEST_ID_LEN];
	check(manifest_sha256(data, size, id) == 0);
	check(memcmp(id, manifest_id(m), MANIFEST_ID_LEN) == 0);
	struct manifest *again = manifest_verify(data, size, id);
	check(again != NULL);
	manifest_free(again);
	check_files(m);
	check_dirs(m);
	check_chunks(m);
	manifest_free(m);
	return 0;
}
