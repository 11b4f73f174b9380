/* Content ids by prefix: the pure match (prefix.h), and xfer_resolve(), which runs it over the
 * node's transfers and words the answer for a person: the one match, or every candidate when
 * the prefix is ambiguous, or why nothing matched. A full-length id needs no match: a fetch
 * may name content this node has never seen. */
#include "node/xfer/prefix.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/xfer/xfer_core.h"

#define SHOW_CANDIDATES 8

bool cid_prefix_valid(const char *hex)
{
	size_t n = strlen(hex);
	return n >= CID_PREFIX_MIN && n <= CID_HEX_LEN &&
	       strspn(hex, "0123456789abcdefABCDEF") == n;
}

static bool has_prefix(const uint8_t *id, const char *hex)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; hex[i]; i++) {
		unsigned nib = i % 2 ? id[i / 2] & 0x0f : id[i / 2] >> 4;
		if (digits[nib] != tolower((unsigned char)hex[i]))
			return false;
	}
	return true;
}

size_t cid_prefix_find(const char *hex, const uint8_t (*ids)[MANIFEST_ID_LEN], size_t n,
		       size_t *which, size_t max)
{
	size_t found = 0;
	for (size_t i = 0; i < n; i++) {
		if (!has_prefix(ids[i], hex))
			continue;
		if (found < max)
			which[found] = i;
		found++;
	}
	return found;
}

/* "a, b, c" of the first candidates (16 digits each, as list shows them), into ERR. */
static void ambiguous(const char *hex, const uint8_t (*ids)[MANIFEST_ID_LEN], size_t found,
		      const size_t *which, char *err, size_t errcap)
{
	int len = snprintf(err, errcap, "the content id prefix %s matches %zu transfers:", hex,
			   found);
	for (size_t i = 0; i < found && i < SHOW_CANDIDATES && len > 0 && (size_t)len < errcap;
	     i++) {
		char full[CID_HEX_LEN + 1];
		sodium_bin2hex(full, sizeof full, ids[which[i]], MANIFEST_ID_LEN);
		len += snprintf(err + len, errcap - (size_t)len, "%s %.16s", i ? "," : "", full);
	}
	if (len > 0 && (size_t)len < errcap)
		snprintf(err + len, errcap - (size_t)len, "%s; give more digits",
			 found > SHOW_CANDIDATES ? ", ..." : "");
}

enum xfer_err xfer_resolve(struct xfer_mgr *m, const char *hex, uint8_t out[MANIFEST_ID_LEN],
			   char *err, size_t errcap)
{
	size_t n = 0, which[SHOW_CANDIDATES], found;
	if (strlen(hex) == CID_HEX_LEN)
		return sodium_hex2bin(out, MANIFEST_ID_LEN, hex, CID_HEX_LEN, NULL, NULL, NULL) == 0
			       ? XFER_OK : XFER_E_USAGE;
	for (struct xfer *x = m->list; x; x = x->next)
		n += x->has_cid;
	uint8_t (*ids)[MANIFEST_ID_LEN] = malloc((n ? n : 1) * MANIFEST_ID_LEN);
	if (ids == NULL) {
		snprintf(err, errcap, "out of memory");
		return XFER_E_INTERNAL;
	}
	n = 0;
	for (struct xfer *x = m->list; x; x = x->next)
		if (x->has_cid)
			memcpy(ids[n++], x->cid, MANIFEST_ID_LEN);
	found = cid_prefix_find(hex, (const uint8_t (*)[MANIFEST_ID_LEN])ids, n, which,
				SHOW_CANDIDATES);
	enum xfer_err rc = found == 1 ? XFER_OK : found ? XFER_E_USAGE : XFER_E_NOT_FOUND;
	if (found == 1)
		memcpy(out, ids[which[0]], MANIFEST_ID_LEN);
	else if (found > 1)
		ambiguous(hex, (const uint8_t (*)[MANIFEST_ID_LEN])ids, found, which, err, errcap);
	else
		snprintf(err, errcap, "no transfer on this node has a content id starting with %s "
			 "(see dhtctl list); to fetch content this node does not know, give all %d "
			 "digits", hex, CID_HEX_LEN);
	free(ids);
	return rc;
}
