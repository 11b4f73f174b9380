/* Open addressing with linear probing, kept at most half full. Nothing is ever removed, which
 * keeps the table this simple. Ids are hashed with FNV-1a over all their bytes: at small widths
 * only the last bytes vary. */
#include "tools/dhtsim/idset.h"

#include <stdlib.h>
#include <string.h>

struct idset {
	struct dht_id *key;
	bool *used;
	size_t n, cap; /* cap is a power of two */
};

struct idset *idset_new(void)
{
	return calloc(1, sizeof(struct idset));
}

void idset_free(struct idset *s)
{
	if (s == NULL)
		return;
	free(s->key);
	free(s->used);
	free(s);
}

static size_t hash(const struct dht_id *id)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < ID_BYTES; i++)
		h = (h ^ id->b[i]) * 0x100000001b3ULL;
	return (size_t)(h ^ (h >> 32));
}

/* The entry holding ID, or the empty entry where it would go. */
static size_t probe(const struct idset *s, const struct dht_id *id)
{
	size_t mask = s->cap - 1, i = hash(id) & mask;
	while (s->used[i] && !id_eq(&s->key[i], id))
		i = (i + 1) & mask;
	return i;
}

bool idset_has(const struct idset *s, const struct dht_id *id)
{
	return s->cap && s->used[probe(s, id)];
}

static int rehash(struct idset *s, size_t cap)
{
	struct dht_id *key = malloc(cap * sizeof *key);
	bool *used = calloc(cap, sizeof *used);
	if (key == NULL || used == NULL) {
		free(key);
		free(used);
		return -1;
	}
	struct idset old = *s;
	s->key = key;
	s->used = used;
	s->cap = cap;
	for (size_t i = 0; i < old.cap; i++)
		if (old.used[i]) {
			size_t j = probe(s, &old.key[i]);
			s->used[j] = true;
			s->key[j] = old.key[i];
		}
	free(old.key);
	free(old.used);
	return 0;
}

int idset_add(struct idset *s, const struct dht_id *id)
{
	if (2 * (s->n + 1) > s->cap && rehash(s, s->cap ? 2 * s->cap : 64))
		return -1;
	size_t i = probe(s, id);
	if (!s->used[i]) {
		s->used[i] = true;
		s->key[i] = *id;
		s->n++;
	}
	return 0;
}

size_t idset_size(const struct idset *s)
{
	return s->n;
}
