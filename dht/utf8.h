/* dht/utf8.h: text that strangers supply (file names in a manifest, anything logged): check that
 * it is valid UTF-8 free of control characters, and write any bytes out so that they show as
 * one harmless line. Pure; writes only into the caller's buffer. */
#ifndef DHT_UTF8_H
#define DHT_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decode the character at S (N bytes left). Return its length (1..4) and set *CP, or return 0
 * if S does not start a valid, shortest-form UTF-8 sequence (surrogates and code points past
 * U+10FFFF are not valid). */
size_t utf8_char(const uint8_t *s, size_t n, uint32_t *cp);

/* C0 controls (NUL, newline, ESC ...), DEL and the C1 controls U+0080..U+009F. */
bool utf8_is_control(uint32_t cp);

/* N bytes at S are valid UTF-8 without a control character. */
bool utf8_text_ok(const uint8_t *s, size_t n);

/* Copy S (N bytes) into OUT (CAP > 0 bytes, always NUL-terminated), each byte of a control
 * character or of invalid UTF-8 written as \xNN, and truncated at a character boundary if it
 * does not fit. Return the length written. */
size_t utf8_escape(const uint8_t *s, size_t n, char *out, size_t cap);

#endif
