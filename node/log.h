/* node/log.h: dhtnode's logger. One line per message on stderr: a local timestamp with
 * milliseconds, the level, the text. Messages above the process-wide threshold are dropped.
 * Levels are the core's (enum dht_log_level) so its messages pass through unchanged.
 * Returned strings are static. */
#ifndef NODE_LOG_H
#define NODE_LOG_H

#include "dht/chord.h"

void log_set_level(enum dht_log_level max);
/* Would a message at LEVEL be written? (To skip building expensive messages.) */
int log_enabled(enum dht_log_level level);

/* Parse "error", "warn", "info" or "debug". Return 0, or -1 for anything else. */
int log_level_parse(const char *s, enum dht_log_level *out);
const char *log_level_str(enum dht_log_level level);

void log_msg(enum dht_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(DHT_LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(DHT_LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(DHT_LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(DHT_LOG_DEBUG, __VA_ARGS__)

#endif
