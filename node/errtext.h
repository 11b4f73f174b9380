/* node/errtext.h: writing an error sentence into a caller's buffer, the way node/ reports what
 * went wrong to whoever asked (a message for the user, never a log line). Nothing allocates. */
#ifndef NODE_ERRTEXT_H
#define NODE_ERRTEXT_H

#include <stddef.h>

/* Format FMT into ERR (ERRCAP bytes, always NUL-terminated when ERRCAP > 0). */
void errtext(char *err, size_t errcap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
