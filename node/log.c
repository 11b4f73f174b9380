/* The logger: formats one line and writes it to stderr in a single write, so that lines from
 * a signal-free, single-threaded process never interleave. Messages carry what peers and
 * clients sent (file names, errors they caused), so the formatted text is escaped here, in the
 * sink, whatever the format: a control character or invalid UTF-8 shows as \xNN, and a peer
 * can neither start a line of its own nor send escape sequences to whoever reads the log. It does not rotate, buffer or
 * daemonize: under systemd, stderr goes to the journal, which does that. */
#include "node/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dht/utf8.h"

static enum dht_log_level threshold = DHT_LOG_INFO;

static const char *const names[] = {
	[DHT_LOG_ERROR] = "error",
	[DHT_LOG_WARN] = "warn",
	[DHT_LOG_INFO] = "info",
	[DHT_LOG_DEBUG] = "debug",
};

void log_set_level(enum dht_log_level max)
{
	threshold = max;
}

int log_enabled(enum dht_log_level level)
{
	return level <= threshold;
}

int log_level_parse(const char *s, enum dht_log_level *out)
{
	for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum dht_log_level)i;
			return 0;
		}
	return -1;
}

const char *log_level_str(enum dht_log_level level)
{
	if ((unsigned)level < sizeof names / sizeof names[0])
		return names[level];
	return "?";
}

static void log_vmsg(enum dht_log_level level, const char *fmt, va_list ap)
{
	if (!log_enabled(level))
		return;
	char line[1024], msg[1024];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(line, sizeof line, "%Y-%m-%d %H:%M:%S", &tm);
	n += (size_t)snprintf(line + n, sizeof line - n, ".%03ld %-5s ", ts.tv_nsec / 1000000L,
			      log_level_str(level));
	int m = vsnprintf(msg, sizeof msg, fmt, ap);
	size_t mlen = m < 0 ? 0 : (size_t)m < sizeof msg ? (size_t)m : sizeof msg - 1;
	n += utf8_escape((const uint8_t *)msg, mlen, line + n, sizeof line - n - 1);
	line[n++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, n);
	(void)w; /* nowhere left to report a failing stderr */
}

void log_msg(enum dht_log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}
