/* /metrics: the node's counters in Prometheus text exposition format 0.0.4, every family with
 * its HELP and TYPE lines. The numbers are the ones dhtctl shows: dht_get_stats() for status's
 * stats, dht_kv_count()/dht_kv_bytes() for its keys and store_bytes, xfer_get_info() for list,
 * udp_dht_seal_stats() for status's network.
 * Label values are escaped as the format says (backslash, quote, newline), since a transfer's
 * name comes from a file name. Process facts come from /proc/self. */
#include "node/http/metrics.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "dht/kv.h"
#include "dht/lookstats.h"
#include "node/net/addr.h"

static int family(struct evbuffer *out, const char *name, const char *type, const char *help)
{
	return evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type) < 0;
}

/* Whole numbers (nearly all) print exactly; sums of seconds with 9 digits. */
static int sample(struct evbuffer *out, const char *name, const char *labels, double v)
{
	if (v < 9e15 && v > -9e15 && v == (double)(int64_t)v)
		return evbuffer_add_printf(out, "%s%s %lld\n", name, labels, (long long)v) < 0;
	return evbuffer_add_printf(out, "%s%s %.9g\n", name, labels, v) < 0;
}

/* One sample of a family of its own. */
static int single(struct evbuffer *out, const char *name, const char *type, const char *help,
		  double v)
{
	return family(out, name, type, help) | sample(out, name, "", v);
}

/* Write S into OUT (CAP bytes) as a label value: \\, \" and \n escaped. */
static void escape(const char *s, char *out, size_t cap)
{
	size_t n = 0;
	for (; *s != '\0' && n + 3 < cap; s++) {
		if (*s == '\\' || *s == '"' || *s == '\n')
			out[n++] = '\\';
		out[n++] = *s == '\n' ? 'n' : *s;
	}
	out[n] = '\0';
}

/* The core's counters of one sample each that follow the dropped datagrams, as a table. */
static int dht_single_counters(struct evbuffer *out, const struct dht_stats *st)
{
	const struct {
		const char *name, *help;
		uint64_t v;
	} c[] = {
		{ "dhtnode_request_timeouts_total", "DHT requests that got no answer in time.",
		  st->timeouts },
		{ "dhtnode_lookups_total", "Lookups finished (the ring's own finger repairs included).",
		  st->lookups },
		{ "dhtnode_lookups_failed_total", "Lookups that failed.", st->lookups_failed },
		{ "dhtnode_stabilizations_total", "Stabilization rounds.", st->stabilizations },
		{ "dhtnode_values_forged_total",
		  "Values refused: a signature or content hash that does not check.",
		  st->values_forged },
		{ "dhtnode_values_stale_total", "Values refused: older than the writer's value held.",
		  st->values_stale },
		{ "dhtnode_ids_refused_total",
		  "Nodes refused as neighbours: they could not prove the id they claim.",
		  st->ids_refused },
		{ "dhtnode_ring_merges_total", "Links made to a node of another ring (ring unification).",
		  st->merges },
		{ "dhtnode_merge_hints_total", "Discovery beacons of a node where our ring has none.",
		  st->merge_hints },
		{ "dhtnode_lost_aged_total", "Lost nodes no longer probed: silent for six hours.",
		  st->lost_aged },
	};
	int rc = 0;
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
		rc |= single(out, c[i].name, "counter", c[i].help, (double)c[i].v);
	return rc;
}

static int dht_counters(struct evbuffer *out, const struct dht *d)
{
	const struct dht_stats *st = dht_get_stats(d);
	char labels[64];
	int rc = single(out, "dhtnode_datagrams_sent_total", "counter",
			"DHT datagrams sent.", (double)st->sent) |
		 single(out, "dhtnode_datagrams_received_total", "counter",
			"DHT datagrams received and decoded.", (double)st->received) |
		 family(out, "dhtnode_datagrams_dropped_total", "counter",
			"DHT datagrams dropped, by reason.");
	/* Label values as names, by enum dht_decode_result (dht_decode_result_str is prose). */
	static const char *const reasons[DHT_DECODE_NRESULTS] = {
		"ok", "truncated", "magic", "version", "type", "bits", "field", "trailing",
	};
	for (int r = 1; r < DHT_DECODE_NRESULTS; r++) {
		snprintf(labels, sizeof labels, "{reason=\"%s\"}", reasons[r]);
		rc |= sample(out, "dhtnode_datagrams_dropped_total", labels, (double)st->dropped[r]);
	}
	rc |= sample(out, "dhtnode_datagrams_dropped_total", "{reason=\"unsolicited\"}",
		     (double)st->dropped_unsolicited);
	return rc | dht_single_counters(out, st);
}

/* A histogram from per-bucket COUNTS with BOUNDS (scaled by SCALE for the le labels). */
static int histogram(struct evbuffer *out, const char *name, const char *help,
		     const uint64_t *counts, const unsigned *bounds, unsigned n, double scale,
		     double sum, uint64_t count)
{
	char bucket[128], labels[64];
	uint64_t cum = 0;
	int rc = family(out, name, "histogram", help);
	snprintf(bucket, sizeof bucket, "%s_bucket", name);
	for (unsigned i = 0; i < n; i++) {
		cum += counts[i];
		snprintf(labels, sizeof labels, "{le=\"%g\"}", bounds[i] * scale);
		rc |= sample(out, bucket, labels, (double)cum);
	}
	rc |= sample(out, bucket, "{le=\"+Inf\"}", (double)(cum + counts[n]));
	snprintf(bucket, sizeof bucket, "%s_sum", name);
	rc |= sample(out, bucket, "", sum);
	snprintf(bucket, sizeof bucket, "%s_count", name);
	return rc | sample(out, bucket, "", (double)count);
}

static int lookup_histograms(struct evbuffer *out, const struct dht *d)
{
	const struct dht_lookup_hist *h = dht_lookup_hist(d);
	return histogram(out, "dhtnode_lookup_hops", "Hops of successful lookups.", h->hops,
			 lookstats_hop_bounds, LOOKSTATS_HOP_BUCKETS, 1, (double)h->hops_sum,
			 h->count) |
	       histogram(out, "dhtnode_lookup_seconds", "Latency of successful lookups.", h->ms,
			 lookstats_ms_bounds, LOOKSTATS_MS_BUCKETS, 1e-3, (double)h->us_sum / 1e6,
			 h->count);
}

static int ring_and_store(struct evbuffer *out, const struct dht *d)
{
	static const char *const states[] = { "idle", "joining", "joined", "left" };
	struct dht_node nodes[ID_MAX_BITS + 32], pred;
	char labels[64];
	int rc = family(out, "dhtnode_ring_state", "gauge", "1 for the node's ring state.");
	for (unsigned i = 0; i < sizeof states / sizeof states[0]; i++) {
		snprintf(labels, sizeof labels, "{state=\"%s\"}", states[i]);
		rc |= sample(out, "dhtnode_ring_state", labels, dht_get_state(d) == i);
	}
	return rc | single(out, "dhtnode_ring_successors", "gauge",
			   "Distinct successors known (as dhtctl status lists them).",
			   (double)dht_successors(d, nodes, 32)) |
	       single(out, "dhtnode_ring_fingers", "gauge", "Distinct finger nodes.",
		      (double)dht_fingers(d, nodes, NULL, ID_MAX_BITS)) |
	       single(out, "dhtnode_ring_predecessor_known", "gauge",
		      "1 if the node knows its predecessor.", dht_predecessor(d, &pred) == 0) |
	       single(out, "dhtnode_id_bits", "gauge", "Id width of the network.",
		      (double)dht_bits(d)) |
	       single(out, "dhtnode_store_keys", "gauge", "Keys in the store (status: keys).",
		      (double)dht_kv_count(d)) |
	       single(out, "dhtnode_store_bytes", "gauge",
		      "Bytes in the store (status: store_bytes).", (double)dht_kv_bytes(d));
}

struct xfer_family {
	const char *name, *type, *help;
};

static const struct xfer_family xfer_families[] = {
	{ "dhtnode_transfer_bytes_done", "gauge", "Bytes verified (list: bytes_done)." },
	{ "dhtnode_transfer_bytes_total", "gauge", "Bytes of the content (list: bytes_total)." },
	{ "dhtnode_transfer_downloaded_bytes_total", "counter", "Payload bytes received." },
	{ "dhtnode_transfer_uploaded_bytes_total", "counter", "Payload bytes sent." },
	{ "dhtnode_transfer_rate_down_bytes", "gauge", "Recent download rate, bytes/s." },
	{ "dhtnode_transfer_rate_up_bytes", "gauge", "Recent upload rate, bytes/s." },
	{ "dhtnode_transfer_peers", "gauge", "Connected peers." },
	{ "dhtnode_transfer_bans_total", "counter", "Peers banned for corrupt data." },
};

static double xfer_value(const struct xfer_info *in, unsigned f)
{
	const uint64_t v[] = { in->bytes_done, in->bytes_total, in->downloaded, in->uploaded,
			       in->rate_down, in->rate_up, in->peers, in->bans };
	return (double)v[f];
}

/* Every transfer under one family after the other, labelled by content id, name and state. */
static int transfers(struct evbuffer *out, struct xfer_mgr *m)
{
	char name[256], labels[512];
	unsigned nx = 0;
	int rc = 0;
	for (struct xfer *x = m != NULL ? xfer_first(m) : NULL; x; x = xfer_next(x))
		nx++;
	rc |= single(out, "dhtnode_transfers", "gauge", "Transfers in list.", nx);
	rc |= single(out, "dhtnode_uplink_bytes", "gauge",
		     "The uplink as measured while data waited to go, bytes/s; 0 until known.",
		     m != NULL ? (double)xfer_mgr_uplink(m) : 0);
	for (unsigned f = 0; f < sizeof xfer_families / sizeof xfer_families[0]; f++) {
		rc |= family(out, xfer_families[f].name, xfer_families[f].type,
			     xfer_families[f].help);
		for (struct xfer *x = m != NULL ? xfer_first(m) : NULL; x; x = xfer_next(x)) {
			struct xfer_info in;
			xfer_get_info(x, &in);
			escape(in.name != NULL ? in.name : "", name, sizeof name);
			snprintf(labels, sizeof labels, "{content_id=\"%s\",name=\"%s\",state=\"%s\"}",
				 in.cid_hex, name, xfer_state_name(in.state));
			rc |= sample(out, xfer_families[f].name, labels, xfer_value(&in, f));
		}
	}
	return rc;
}

/* utime, stime (clock ticks) and the start time (ticks after boot) from /proc/self/stat. */
static int proc_stat(double *cpu_s, double *start_s)
{
	char buf[1024];
	FILE *f = fopen("/proc/self/stat", "r");
	size_t n = f != NULL ? fread(buf, 1, sizeof buf - 1, f) : 0;
	if (f != NULL)
		fclose(f);
	buf[n] = '\0';
	const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
	unsigned long long ut, st, start;
	if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu "
			       "%*d %*d %*d %*d %*d %*d %llu", &ut, &st, &start) != 3)
		return -1;
	double hz = (double)sysconf(_SC_CLK_TCK);
	struct timespec now, up;
	clock_gettime(CLOCK_REALTIME, &now);
	clock_gettime(CLOCK_BOOTTIME, &up);
	*cpu_s = (double)(ut + st) / hz;
	*start_s = (double)now.tv_sec - (double)up.tv_sec + (double)start / hz;
	return 0;
}

static unsigned open_fds(void)
{
	unsigned n = 0;
	DIR *dir = opendir("/proc/self/fd");
	for (struct dirent *e; dir != NULL && (e = readdir(dir)) != NULL;)
		n += e->d_name[0] != '.';
	if (dir != NULL)
		closedir(dir);
	return n > 0 ? n - 1 : 0; /* less the one opendir holds */
}

static int process(struct evbuffer *out)
{
	double cpu = 0, start = 0;
	long pages = 0, rss = 0;
	struct rlimit rl;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f == NULL || fscanf(f, "%ld %ld", &pages, &rss) != 2)
		pages = rss = 0;
	if (f != NULL)
		fclose(f);
	double page = (double)sysconf(_SC_PAGESIZE);
	if (proc_stat(&cpu, &start) != 0)
		cpu = start = 0; /* no /proc: the facts read 0 rather than the page failing */
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		rl.rlim_cur = 0;
	return single(out, "process_cpu_seconds_total", "counter",
			   "User and system CPU time spent, seconds.", cpu) |
	       single(out, "process_start_time_seconds", "gauge",
		      "Start time since the Unix epoch, seconds.", start) |
	       single(out, "process_resident_memory_bytes", "gauge", "Resident memory, bytes.",
		      (double)rss * page) |
	       single(out, "process_virtual_memory_bytes", "gauge", "Virtual memory, bytes.",
		      (double)pages * page) |
	       single(out, "process_open_fds", "gauge", "Open file descriptors.", open_fds()) |
	       single(out, "process_max_fds", "gauge", "Limit on open file descriptors.",
		      (double)rl.rlim_cur);
}

/* Datagrams the UDP adapter refused before the core: a keyed node's by seal result, an open
 * node's sealed ones (reason "sealed"); the key's tag is not a label (it names the ring). */
static int refused(struct evbuffer *out, const struct udp_seal_stats *st)
{
	char labels[64];
	int rc = single(out, "dhtnode_network_keyed", "gauge",
			"1 if the node is in a private ring (--network-key).", st->keyed) |
		 family(out, "dhtnode_datagrams_refused_total", "counter",
			"Datagrams refused before the DHT core, by reason: not sealed, another "
			"ring's key, forged, replayed, stale (keyed); sealed (open).");
	for (int r = SEAL_NOT_SEALED; r < SEAL_NRESULTS; r++) {
		snprintf(labels, sizeof labels, "{reason=\"%s\"}", seal_result_name(r));
		rc |= sample(out, "dhtnode_datagrams_refused_total", labels, (double)st->refused[r]);
	}
	return rc | sample(out, "dhtnode_datagrams_refused_total", "{reason=\"sealed\"}",
			   (double)st->sealed);
}

int metrics_write(struct evbuffer *out, const struct dht *d, const struct udp_seal_stats *seal,
		  struct xfer_mgr *m)
{
	char id[ID_HEX_MAX], addr[ADDR_STR_MAX], labels[256];
	id_to_hex(&dht_self(d)->id, dht_bits(d), id);
	addr_format(&dht_self(d)->addr, addr);
	snprintf(labels, sizeof labels, "{version=\"%s\",id=\"%s\",addr=\"%s\"}", DHT_VERSION, id,
		 addr);
	return family(out, "dhtnode_info", "gauge", "The node: version, id and address.") |
	       sample(out, "dhtnode_info", labels, 1) | dht_counters(out, d) |
	       (seal != NULL ? refused(out, seal) : 0) | lookup_histograms(out, d) |
	       ring_and_store(out, d) | transfers(out, m) | process(out) ? -1 : 0;
}
