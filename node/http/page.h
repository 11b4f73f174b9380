/* node/http/page.h: the web view's page, one HTML document with its style and script inline,
 * made at build time from node/http/page/ (embed.cmake) into a constant of the program. */
#ifndef NODE_HTTP_PAGE_H
#define NODE_HTTP_PAGE_H

#include <stddef.h>

extern const char http_page[];
extern const size_t http_page_len;

#endif
