/* Sizes and rates. The number is read digit by digit rather than with strtod, so that what is
 * accepted does not depend on the locale and never includes "inf", "0x10", "1e6" or leading
 * spaces, and so that the arithmetic is exact: at most 9 fraction digits times a unit of at
 * most 2^30 fits in 64 bits. It formats, but never chooses units for machines: JSON output
 * stays in plain bytes. */
#include "dht/units.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define MAX_FRACTION_DIGITS 9

static const struct {
	const char *name;
	uint64_t mult;
} units[] = {
	{ "", 1 },		{ "B", 1 },
	{ "K", 1u << 10 },	{ "KiB", 1u << 10 },
	{ "M", 1u << 20 },	{ "MiB", 1u << 20 },
	{ "G", 1u << 30 },	{ "GiB", 1u << 30 },
	{ "kB", 1000 },		{ "KB", 1000 },
	{ "MB", 1000000 },	{ "GB", 1000000000 },
};

/* Read the digits at *P into *V (at most UNITS_MAX); count them in *NDIGITS. */
static bool digits(const char **p, const char *end, uint64_t *v, unsigned *ndigits)
{
	for (*v = 0, *ndigits = 0; *p < end && **p >= '0' && **p <= '9'; (*p)++, (*ndigits)++) {
		*v = *v * 10 + (uint64_t)(**p - '0');
		if (*v > UNITS_MAX)
			return false;
	}
	return true;
}

static uint64_t unit_of(const char *s, size_t len)
{
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strlen(units[i].name) == len && strncmp(units[i].name, s, len) == 0)
			return units[i].mult;
	return 0;
}

int units_parse_n(const char *s, size_t len, uint64_t *out)
{
	const char *p = s, *end = s + len;
	uint64_t whole, frac = 0, scale = 1, mult, v;
	unsigned nwhole, nfrac = 0;

	if (len == 9 && strncmp(s, "unlimited", 9) == 0) {
		*out = 0;
		return 0;
	}
	if (!digits(&p, end, &whole, &nwhole))
		return -1;
	if (p < end && *p == '.') {
		p++;
		if (!digits(&p, end, &frac, &nfrac) || nfrac > MAX_FRACTION_DIGITS)
			return -1;
		for (unsigned i = 0; i < nfrac; i++)
			scale *= 10;
	}
	if (nwhole + nfrac == 0 || (mult = unit_of(p, (size_t)(end - p))) == 0)
		return -1;
	if (whole > UNITS_MAX / mult)
		return -1;
	v = whole * mult + (frac * mult + scale / 2) / scale;
	/* A cap or a size below one byte is a typo, not an experiment. */
	if (v > UNITS_MAX || (v == 0 && frac != 0))
		return -1;
	*out = v;
	return 0;
}

int units_parse(const char *s, uint64_t *out)
{
	return units_parse_n(s, strlen(s), out);
}

int units_parse_list(const char *s, uint64_t *out, unsigned cap, unsigned *n)
{
	for (*n = 0;; (*n)++) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		if (*n == cap || units_parse_n(s, len, &out[*n]) != 0)
			return -1;
		if (!comma)
			break;
		s = comma + 1;
	}
	(*n)++;
	return 0;
}

const char *units_format_size(uint64_t bytes, char *buf, size_t cap)
{
	double b = (double)bytes;

	if (bytes < 1024)
		snprintf(buf, cap, "%u B", (unsigned)bytes);
	else if (bytes < (1u << 20))
		snprintf(buf, cap, "%.1f KiB", b / 1024);
	else if (bytes < (1u << 30))
		snprintf(buf, cap, "%.2f MiB", b / 1048576);
	else
		snprintf(buf, cap, "%.2f GiB", b / 1073741824);
	return buf;
}

const char *units_format_rate(uint64_t rate, char *buf, size_t cap)
{
	size_t len;

	if (rate == 0) {
		snprintf(buf, cap, "unlimited");
		return buf;
	}
	units_format_size(rate, buf, cap);
	len = strlen(buf);
	snprintf(buf + len, cap - len, "/s");
	return buf;
}
