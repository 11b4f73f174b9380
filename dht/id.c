/* Identifier arithmetic on the n-bit circle. Values are kept as 20-byte big-endian integers whose
 * top 160-n bits are zero, so plain byte comparison orders them and masking after an add or a
 * subtract is all "mod 2^n" takes. Nothing here knows about nodes or routing. */
#include "dht/id.h"

#include <sodium.h>
#include <string.h>

bool id_bits_valid(unsigned bits)
{
	return bits >= ID_MIN_BITS && bits <= ID_MAX_BITS;
}

int id_cmp(const struct dht_id *a, const struct dht_id *b)
{
	return memcmp(a->b, b->b, ID_BYTES);
}

bool id_eq(const struct dht_id *a, const struct dht_id *b)
{
	return memcmp(a->b, b->b, ID_BYTES) == 0;
}

bool id_list_has(const struct dht_id *list, size_t n, const struct dht_id *id)
{
	for (size_t i = 0; i < n; i++)
		if (id_eq(&list[i], id))
			return true;
	return false;
}

/* Clear the bits above BITS. */
static void id_mask(struct dht_id *a, unsigned bits)
{
	unsigned zero_bits = ID_MAX_BITS - bits;
	unsigned full = zero_bits / 8;
	memset(a->b, 0, full);
	if (zero_bits % 8)
		a->b[full] &= (uint8_t)(0xffu >> (zero_bits % 8));
}

void id_add(struct dht_id *out, const struct dht_id *a, const struct dht_id *b, unsigned bits)
{
	unsigned carry = 0;
	for (int i = ID_BYTES - 1; i >= 0; i--) {
		unsigned s = (unsigned)a->b[i] + b->b[i] + carry;
		out->b[i] = (uint8_t)s;
		carry = s >> 8;
	}
	id_mask(out, bits);
}

void id_sub(struct dht_id *out, const struct dht_id *a, const struct dht_id *b, unsigned bits)
{
	int borrow = 0;
	for (int i = ID_BYTES - 1; i >= 0; i--) {
		int d = (int)a->b[i] - b->b[i] - borrow;
		borrow = d < 0;
		out->b[i] = (uint8_t)(d + (borrow ? 256 : 0));
	}
	id_mask(out, bits);
}

void id_add_pow2(struct dht_id *out, const struct dht_id *a, unsigned i, unsigned bits)
{
	struct dht_id p;
	memset(&p, 0, sizeof p);
	p.b[ID_BYTES - 1 - i / 8] = (uint8_t)(1u << (i % 8));
	id_add(out, a, &p, bits);
}

bool id_in_oo(const struct dht_id *x, const struct dht_id *a, const struct dht_id *b)
{
	int ab = id_cmp(a, b);
	if (ab < 0)
		return id_cmp(a, x) < 0 && id_cmp(x, b) < 0;
	if (ab > 0)
		return id_cmp(x, a) > 0 || id_cmp(x, b) < 0;
	return !id_eq(x, a);
}

bool id_in_oc(const struct dht_id *x, const struct dht_id *a, const struct dht_id *b)
{
	int ab = id_cmp(a, b);
	if (ab < 0)
		return id_cmp(a, x) < 0 && id_cmp(x, b) <= 0;
	if (ab > 0)
		return id_cmp(x, a) > 0 || id_cmp(x, b) <= 0;
	return true;
}

int id_log2(const struct dht_id *a)
{
	for (int i = 0; i < ID_BYTES; i++) {
		if (a->b[i] == 0)
			continue;
		int hi = 7;
		while (!(a->b[i] & (1u << hi)))
			hi--;
		return (ID_BYTES - 1 - i) * 8 + hi;
	}
	return -1;
}

void id_from_bytes(struct dht_id *out, const uint8_t bytes[ID_BYTES], unsigned bits)
{
	/* Shift right by 160-BITS so the value is the first BITS bits of the input. */
	unsigned shift = ID_MAX_BITS - bits;
	unsigned whole = shift / 8, part = shift % 8;
	memset(out->b, 0, ID_BYTES);
	for (int i = ID_BYTES - 1; i >= (int)whole; i--) {
		unsigned src = (unsigned)i - whole;
		unsigned v = (unsigned)bytes[src] >> part;
		if (part && src > 0)
			v |= (unsigned)bytes[src - 1] << (8 - part);
		out->b[i] = (uint8_t)v;
	}
	id_mask(out, bits);
}

void id_from_key(struct dht_id *out, const void *key, size_t len, unsigned bits)
{
	uint8_t h[ID_BYTES];
	crypto_generichash(h, sizeof h, key, len, NULL, 0);
	id_from_bytes(out, h, bits);
}

void id_from_u64(struct dht_id *out, uint64_t v, unsigned bits)
{
	memset(out->b, 0, ID_BYTES);
	for (int i = 0; i < 8; i++)
		out->b[ID_BYTES - 1 - i] = (uint8_t)(v >> (8 * i));
	id_mask(out, bits);
}

uint64_t id_low64(const struct dht_id *a)
{
	uint64_t v = 0;
	for (int i = ID_BYTES - 8; i < ID_BYTES; i++)
		v = (v << 8) | a->b[i];
	return v;
}

void id_to_hex(const struct dht_id *a, unsigned bits, char out[ID_HEX_MAX])
{
	static const char digits[] = "0123456789abcdef";
	unsigned n = (bits + 3) / 4;
	for (unsigned k = 0; k < n; k++) {
		unsigned nib = n - 1 - k; /* nibble index from the least significant end */
		uint8_t byte = a->b[ID_BYTES - 1 - nib / 2];
		out[k] = digits[(nib % 2) ? byte >> 4 : byte & 0xf];
	}
	out[n] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int id_from_hex(struct dht_id *out, const char *s, unsigned bits)
{
	size_t n = strlen(s);
	if (n == 0 || n > (bits + 3) / 4)
		return -1;
	struct dht_id v;
	memset(&v, 0, sizeof v);
	for (size_t k = 0; k < n; k++) {
		int d = hexval(s[k]);
		if (d < 0)
			return -1;
		size_t nib = n - 1 - k;
		v.b[ID_BYTES - 1 - nib / 2] |= (uint8_t)((nib % 2) ? d << 4 : d);
	}
	struct dht_id masked = v;
	id_mask(&masked, bits);
	if (!id_eq(&masked, &v))
		return -1;
	*out = v;
	return 0;
}
