/* dht/units.h: sizes and rates as people write them ("64MiB", "0.5MiB", "512KiB", "1000000",
 * "unlimited") and as programs print them ("1.50 MiB", "512.0 KiB/s"). One parser for dhtnode's
 * options and every tool's, so that a size means the same everywhere. Pure: no I/O, no
 * allocation; formatted text goes into the caller's buffer. */
#ifndef DHT_UNITS_H
#define DHT_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* The largest value a parse returns: 4 EiB, far above any file or rate, far below overflow. */
#define UNITS_MAX (UINT64_C(1) << 62)

/* Parse S: a decimal number (digits, optionally a point and at most 9 more digits) and a unit
 * right after it: none or B (bytes); K or KiB, M or MiB, G or GiB (powers of 1024); kB or KB,
 * MB, GB (powers of 1000); or the word "unlimited", which is 0 (a cap of 0 means no cap).
 * Units are case-sensitive ("1mib" is refused: mB would be a millibyte). The value is rounded
 * to whole bytes. Return 0 with *OUT set, or -1 (and *OUT untouched) for anything else: no
 * digits, spaces, a sign, an exponent, an unknown unit, a value over UNITS_MAX, or a non-zero
 * value below one byte. */
int units_parse(const char *s, uint64_t *out);

/* The same for the first LEN bytes of S, for one element of a list. */
int units_parse_n(const char *s, size_t len, uint64_t *out);

/* Parse a comma-separated list of values ("0.5MiB,2MiB") into OUT[0..CAP-1]. Return 0 with
 * *N set to their number, or -1 with *N the index of the element that is not a value (CAP
 * when there are more than CAP). */
int units_parse_list(const char *s, uint64_t *out, unsigned cap, unsigned *n);

/* Write BYTES for people into BUF (CAP bytes): "512 B", "12.0 KiB", "1.50 MiB", "2.00 GiB".
 * Return BUF. */
const char *units_format_size(uint64_t bytes, char *buf, size_t cap);

/* Write a rate in bytes per second the same way with "/s" ("1.00 MiB/s"), or "unlimited" for 0.
 * Return BUF. */
const char *units_format_rate(uint64_t rate, char *buf, size_t cap);

#endif
