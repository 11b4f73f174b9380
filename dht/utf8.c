/* UTF-8 checks and escaping. An escape writes \xNN for each byte, so that what a peer sent can
 * still be told from the log (an ESC byte shows as \x1b), yet no byte of it reaches a terminal,
 * a log reader or a JSON encoder as a control character or as invalid text. */
#include "dht/utf8.h"


size_t utf8_char(const uint8_t *s, size_t n, uint32_t *cp)
{
	static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	if (n == 0)
		return 0;
	size_t len = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3
		     : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
	if (len == 0 || len > n)
		return 0;
	uint32_t v = len == 1 ? s[0] : s[0] & (0x7fu >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min[len] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

bool utf8_is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

bool utf8_text_ok(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t len = utf8_char(s + i, n - i, &cp);
		if (len == 0 || utf8_is_control(cp))
			return false;
		i += len;
	}
	return true;
}

size_t utf8_escape(const uint8_t *s, size_t n, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t len = utf8_char(s + i, n - i, &cp);
		bool esc = len == 0 || utf8_is_control(cp);
		if (esc)
			len = len == 2 ? 2 : 1; /* a valid two-byte control is a C1 one */
		size_t need = esc ? 4 * len : len;
		if (o + need + 1 > cap)
			break;
		for (size_t k = 0; k < len; k++) {
			if (!esc) {
				out[o + k] = (char)s[i + k];
				continue;
			}
			char *e = out + o + 4 * k;
			e[0] = '\\';
			e[1] = 'x';
			e[2] = hex[s[i + k] >> 4];
			e[3] = hex[s[i + k] & 0xf];
		}
		o += need;
		i += len;
	}
	out[o] = '\0';
	return o;
}
