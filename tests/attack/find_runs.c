/* find_runs: does a capture of traffic hold any of a file's bytes, or given strings, in clear?
 * Usage: find_runs CAPTURE FILE [TEXT...]. Exit 1, naming the first find, if CAPTURE holds a run
 * of 64 bytes of FILE (anywhere in FILE) or any TEXT (hex:DIGITS stands for those bytes, for an
 * id in binary); 0 if none; 2 on a usage or read error.
 * Any 64-byte run of FILE holds a whole 32-byte block at an offset that is a multiple of 32, so
 * the blocks are indexed in a hash table and every 32-byte window of the capture (a rolling hash)
 * is looked up: linear in both sizes. */
#define _GNU_SOURCE /* memmem */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 32
#define MULT 0x100000001b3ull

struct blob {
	uint8_t *b;
	size_t n;
};

static int slurp(const char *path, struct blob *out)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 20;
	out->n = 0;
	out->b = malloc(cap);
	if (f == NULL || out->b == NULL) {
		if (f != NULL)
			fclose(f);
		return -1;
	}
	for (size_t got; (got = fread(out->b + out->n, 1, cap - out->n, f)) > 0;) {
		out->n += got;
		uint8_t *more = out->n == cap ? realloc(out->b, cap *= 2) : out->b;
		if (more == NULL) {
			fclose(f);
			return -1;
		}
		out->b = more;
	}
	fclose(f);
	return 0;
}

/* The rolling hash of B[0..BLOCK). */
static uint64_t hash_block(const uint8_t *b)
{
	uint64_t h = 0;
	for (size_t i = 0; i < BLOCK; i++)
		h = h * MULT + b[i];
	return h;
}

/* Open addressing over the file's aligned blocks: slot -> block offset + 1 (0: empty). */
struct index {
	size_t *slot, mask;
	const struct blob *file;
};

static int index_build(struct index *x, const struct blob *file)
{
	size_t nblocks = file->n / BLOCK, cap = 16;
	while (cap < 2 * nblocks)
		cap *= 2;
	x->slot = calloc(cap, sizeof *x->slot);
	x->mask = cap - 1;
	x->file = file;
	if (x->slot == NULL)
		return -1;
	for (size_t k = 0; k < nblocks; k++) {
		size_t s = hash_block(file->b + k * BLOCK) & x->mask;
		while (x->slot[s] != 0)
			s = (s + 1) & x->mask;
		x->slot[s] = k * BLOCK + 1;
	}
	return 0;
}

/* Whether the window W (hash H) is one of the file's blocks. */
static int index_has(const struct index *x, uint64_t h, const uint8_t *w)
{
	for (size_t s = h & x->mask; x->slot[s] != 0; s = (s + 1) & x->mask)
		if (memcmp(x->file->b + x->slot[s] - 1, w, BLOCK) == 0)
			return 1;
	return 0;
}

/* The offset of the first of FILE's blocks in CAP, or -1. */
static long find_block(const struct blob *cap, const struct index *x)
{
	uint64_t top = 1, h;
	if (cap->n < BLOCK)
		return -1;
	for (size_t i = 1; i < BLOCK; i++)
		top *= MULT;
	h = hash_block(cap->b);
	for (size_t i = 0;; i++) {
		if (index_has(x, h, cap->b + i))
			return (long)i;
		if (i + BLOCK >= cap->n)
			return -1;
		h = (h - top * cap->b[i]) * MULT + cap->b[i + BLOCK];
	}
}

/* TEXT as bytes into OUT (at most CAP): itself, or the bytes of hex:DIGITS. Return the length. */
static size_t needle(const char *text, uint8_t *out, size_t cap)
{
	size_t n = 0;
	unsigned byte;
	if (strncmp(text, "hex:", 4) != 0) {
		n = strlen(text) < cap ? strlen(text) : cap;
		memcpy(out, text, n);
		return n;
	}
	for (text += 4; n < cap && sscanf(text, "%2x", &byte) == 1; text += 2)
		out[n++] = (uint8_t)byte;
	return n;
}

/* The first find of FILE's bytes or of a TEXT in CAP, printed; 1 if any, else 0. */
static int search(const struct blob *cap, const struct index *x, int argc, char **argv)
{
	long at = find_block(cap, x);
	if (at >= 0) {
		printf("bytes of %s in clear at offset %ld of %s\n", argv[2], at, argv[1]);
		return 1;
	}
	for (int i = 3; i < argc; i++) {
		uint8_t n[256];
		size_t len = needle(argv[i], n, sizeof n);
		if (len > 0 && memmem(cap->b, cap->n, n, len) != NULL) {
			printf("'%s' in clear in %s\n", argv[i], argv[1]);
			return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct blob cap = { 0 }, file = { 0 };
	struct index x = { 0 };
	int rc = 2;
	if (argc < 3)
		fprintf(stderr, "usage: find_runs CAPTURE FILE [TEXT...]\n");
	else if (slurp(argv[1], &cap) != 0 || slurp(argv[2], &file) != 0 ||
		 index_build(&x, &file) != 0)
		fprintf(stderr, "find_runs: cannot read %s or %s\n", argv[1], argv[2]);
	else
		rc = search(&cap, &x, argc, argv);
	free(cap.b);
	free(file.b);
	free(x.slot);
	return rc;
}
