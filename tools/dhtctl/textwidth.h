/* tools/dhtctl/textwidth.h: how many terminal columns UTF-8 text takes, and fitting it into a
 * column without cutting a character in half: what dhtctl's tables and progress lines need.
 * Pure; its own table of wide and zero-width characters (the common cases: CJK, Hangul, fullwidth
 * forms, emoji, combining marks), so output does not depend on the locale. */
#ifndef DHTCTL_TEXTWIDTH_H
#define DHTCTL_TEXTWIDTH_H

#include <stddef.h>

/* The columns that S takes on a terminal. A byte that is not valid UTF-8 counts as one. */
int text_width(const char *s);

/* Copy S into OUT (CAP bytes) cut on a character boundary so that it takes at most COLS
 * columns, ending in "…" if anything was cut, and pad it with spaces to exactly COLS columns.
 * Bytes that are not valid UTF-8 become '?'. Return OUT. */
char *text_fit(const char *s, int cols, char *out, size_t cap);

/* The width of the terminal on standard output: TIOCGWINSZ, else $COLUMNS, else 80. */
int terminal_columns(void);

#endif
