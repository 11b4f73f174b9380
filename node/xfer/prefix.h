/* node/xfer/prefix.h: content ids named by a prefix of their hex digits, as git names commits:
 * any prefix of at least CID_PREFIX_MIN digits that only one of the node's transfers has.
 * Pure (no I/O, no manager): xfer_resolve() in xfer.h applies it to the node's transfers. */
#ifndef NODE_XFER_PREFIX_H
#define NODE_XFER_PREFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transfer/manifest.h"

#define CID_PREFIX_MIN 4
#define CID_HEX_LEN (2 * MANIFEST_ID_LEN)

/* Whether HEX is CID_PREFIX_MIN to CID_HEX_LEN hex digits (either case) and nothing else. */
bool cid_prefix_valid(const char *hex);
/* Return how many of the N ids in IDS start with the digits of HEX (a valid prefix), and
 * write the indices of the first MAX of them into WHICH. */
size_t cid_prefix_find(const char *hex, const uint8_t (*ids)[MANIFEST_ID_LEN], size_t n,
		       size_t *which, size_t max);

#endif
