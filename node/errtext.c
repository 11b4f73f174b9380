/* An error sentence into the caller's buffer: one place for what args, config, identity and the
 * control secret each wrote again. */
#include "node/errtext.h"

#include <stdarg.h>
#include <stdio.h>

void errtext(char *err, size_t errcap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errcap, fmt, ap);
	va_end(ap);
}
