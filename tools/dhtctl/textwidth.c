/* Display width of UTF-8 text, by our own small table rather than wcwidth(), which answers -1
 * for everything beyond ASCII unless the program runs in a UTF-8 locale. The table covers what
 * file names commonly hold; anything else counts as one column, which is right for the
 * alphabets and wrong only for rare symbols. */
#include "tools/dhtctl/textwidth.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "dht/utf8.h"

static bool in(uint32_t cp, const uint32_t (*r)[2], size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (cp >= r[i][0] && cp <= r[i][1])
			return true;
	return false;
}

static int cp_width(uint32_t cp)
{
	static const uint32_t zero[][2] = {
		{ 0x0300, 0x036f }, { 0x0483, 0x0489 }, { 0x0591, 0x05bd }, { 0x0610, 0x061a },
		{ 0x064b, 0x065f }, { 0x0e31, 0x0e31 }, { 0x0e34, 0x0e3a }, { 0x1ab0, 0x1aff },
		{ 0x1dc0, 0x1dff }, { 0x200b, 0x200f }, { 0x20d0, 0x20ff }, { 0xfe00, 0xfe0f },
		{ 0xfe20, 0xfe2f }, { 0xe0100, 0xe01ef },
	};
	static const uint32_t wide[][2] = {
		{ 0x1100, 0x115f }, { 0x2e80, 0x303e }, { 0x3041, 0x33ff }, { 0x3400, 0x4dbf },
		{ 0x4e00, 0x9fff }, { 0xa000, 0xa4cf }, { 0xac00, 0xd7a3 }, { 0xf900, 0xfaff },
		{ 0xfe30, 0xfe4f }, { 0xff00, 0xff60 }, { 0xffe0, 0xffe6 }, { 0x1f300, 0x1f64f },
		{ 0x1f900, 0x1f9ff }, { 0x20000, 0x3fffd },
	};
	if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
		return 0;
	if (in(cp, zero, sizeof zero / sizeof zero[0]))
		return 0;
	return in(cp, wide, sizeof wide / sizeof wide[0]) ? 2 : 1;
}

int text_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	int w = 0;
	while (n > 0) {
		uint32_t cp;
		size_t len = utf8_char(p, n, &cp);
		w += len ? cp_width(cp) : 1;
		len = len ? len : 1;
		p += len;
		n -= len;
	}
	return w;
}

char *text_fit(const char *s, int cols, char *out, size_t cap)
{
	static const char ellipsis[] = "\u2026";
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), o = 0;
	bool cut = text_width(s) > cols;
	int w = 0, room = cut ? cols - 1 : cols; /* the ellipsis takes one column */
	while (n > 0) {
		uint32_t cp;
		size_t len = utf8_char(p, n, &cp);
		if (len && utf8_is_control(cp))
			len = 0; /* a control character is shown as '?', as invalid bytes are */
		int cw = len ? cp_width(cp) : 1;
		if (w + cw > room || o + (len ? len : 1) + sizeof ellipsis + (size_t)cols >= cap)
			break;
		if (len)
			memcpy(out + o, p, len);
		else
			out[o] = '?';
		o += len ? len : 1;
		w += cw;
		len = len ? len : 1;
		p += len;
		n -= len;
	}
	if (cut && cols > 0 && o + sizeof ellipsis < cap) {
		memcpy(out + o, ellipsis, sizeof ellipsis - 1);
		o += sizeof ellipsis - 1;
		w++;
	}
	for (; w < cols && o + 1 < cap; w++)
		out[o++] = ' ';
	out[o] = '\0';
	return out;
}

int terminal_columns(void)
{
	struct winsize ws;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	const char *env = getenv("COLUMNS");
	int cols = env ? atoi(env) : 0;
	return cols > 0 ? cols : 80;
}
