/* A swarm run's figures, for people (a table of leechers, the bounds, the ratio) and for
 * scripts (one JSON object whose field names follow swarmsim's: nodes, file_bytes, d_p2p,
 * d_cs, last_done, ratio, verified, done). It computes nothing the run has not measured, except
 * medians for the summary line. */
#include "tools/dhtlab/lab.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dht/units.h"
#include "tools/lib/bound.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median and maximum of the non-negative entries of V; -1 if there are none. */
static void spread(const double *v, unsigned n, double *median, double *max)
{
	double *s = malloc((n ? n : 1) * sizeof *s);
	unsigned k = 0;

	*median = *max = -1;
	if (!s)
		return;
	for (unsigned i = 0; i < n; i++)
		if (v[i] >= 0)
			s[k++] = v[i];
	qsort(s, k, sizeof *s, cmp_double);
	if (k) {
		*median = k % 2 ? s[k / 2] : (s[k / 2 - 1] + s[k / 2]) / 2;
		*max = s[k - 1];
	}
	free(s);
}

static void cell(FILE *f, double v)
{
	if (v < 0)
		fprintf(f, " %10s", "-");
	else
		fprintf(f, " %10.2f", v);
}

static void header(FILE *f, const struct lab_config *c, const struct lab_result *r)
{
	char a[32], b[32], d[32], size[32];

	fprintf(f, "dhtlab swarm: %u leecher%s and 1 seed, file %s; seed up %s; %s up %s%s; "
		"down %s\n", r->nodes, r->nodes == 1 ? "" : "s",
		units_format_size(r->file_bytes, size, sizeof size),
		units_format_rate(c->seed_up, a, sizeof a), r->nodes == 1 ? "leecher" : "leechers",
		units_format_rate(c->peer_up[0], b, sizeof b),
		c->npeer_up > 1 ? " and others (round-robin)" : "",
		units_format_rate(c->peer_down, d, sizeof d));
	if (c->chunk_kib)
		fprintf(f, "chunks of %u KiB\n", c->chunk_kib);
	if (r->ring_s > 0)
		fprintf(f, "setup: ring of %u formed in %.1f s, shared in %.2f s, announcement "
			"found after %.2f s\n", r->nodes + 1, r->ring_s, r->share_s, r->announce_s);
}

/* The uplinks as the nodes measured them (dhtnode's status "uplink"): without --up-rate (the
 * netns lab) a node sizes its upload slots by this estimate, so it should match the link. */
static void uplinks(FILE *f, const struct lab_result *r)
{
	double *v = malloc((r->nodes ? r->nodes : 1) * sizeof *v), med, max;
	char seed[32], lmed[32];

	if (!v || !r->uplink || r->uplink[0] == 0) {
		free(v);
		return;
	}
	for (unsigned i = 0; i < r->nodes; i++)
		v[i] = r->uplink[i + 1] ? (double)r->uplink[i + 1] : -1;
	spread(v, r->nodes, &med, &max);
	free(v);
	units_format_rate(r->uplink[0], seed, sizeof seed);
	if (med < 0)
		snprintf(lmed, sizeof lmed, "unknown");
	else
		units_format_rate((uint64_t)med, lmed, sizeof lmed);
	fprintf(f, "uplink as the nodes measured it: seed %s, leechers median %s\n", seed, lmed);
}

/* The leechers' total download rate in 5-second windows, from the whole-second samples (the
 * last sample, the final total, falls at a fraction of a second and is left out): where the
 * swarm fell short of its upload capacity, and when. */
static void timeline(FILE *f, const struct lab_config *c, const struct lab_result *r)
{
	struct bound_swarm s = { .n = r->nodes, .seed_up = c->seed_up, .up = r->up };
	double cap = bound_capacity(&s);
	unsigned secs = r->nreceived >= 2 ? r->nreceived - 2 : 0;

	if (secs < 1)
		return;
	fprintf(f, "received MiB/s per 5 s");
	if (cap > 0)
		fprintf(f, " (upload capacity u_s + sum u_i = %.2f MiB/s)", cap / 1048576);
	fputc(':', f);
	for (unsigned a = 0; a < secs; a += 5) {
		unsigned b = a + 5 < secs ? a + 5 : secs;
		double v = (double)(r->received[b] - r->received[a]) / (b - a) / 1048576;
		fprintf(f, "%s %.1f", a % 50 == 0 && a ? "\n   " : "", v);
	}
	fputc('\n', f);
	if (cap > 0 && r->verified)
		fprintf(f, "mean use of the upload capacity until the last copy: %.0f%%\n",
			100.0 * (double)r->file_bytes * r->nodes / (r->last_done * cap));
}

void lab_report_text(FILE *f, const struct lab_config *c, const struct lab_result *r)
{
	double med, max, fmed, fmax;
	char up[32];

	header(f, c, r);
	fprintf(f, "%5s  %-22s %12s %10s %10s %10s  %s\n", "node", "address", "up", "download",
		"1st byte", "done (s)", "sha256");
	for (unsigned i = 0; i < r->nodes && r->addr[i][0]; i++) {
		fprintf(f, "%5u  %-22s %12s", i + 1, r->addr[i], units_format_rate(r->up[i], up, sizeof up));
		cell(f, r->download_start[i]);
		cell(f, r->first_byte[i]);
		cell(f, r->done[i]);
		fprintf(f, "  %s\n", r->hash_ok[i] ? "ok" : r->done[i] < 0 ? "-" : "MISMATCH");
	}
	if (c->netns)
		fprintf(f, "D_p2p %.2f s (rates shaped by the kernel)   D_cs %.2f s   ", r->d_p2p,
			r->d_cs);
	else
		fprintf(f, "D_p2p %.2f s (%.2f s as dhtnode's caps allow)   D_cs %.2f s   ",
			r->d_p2p, r->d_node, r->d_cs);
	if (r->last_done >= 0)
		fprintf(f, "last done %.2f s   ", r->last_done);
	if (r->ratio > 0)
		fprintf(f, "ratio %.3f%s", r->ratio, r->ratio_valid ? "" : " (INVALID)");
	else if (r->verified)
		fprintf(f, "throughput %s per leecher",
			units_format_rate((uint64_t)((double)r->file_bytes / r->last_done), up,
					  sizeof up));
	fputc('\n', f);
	spread(r->first_byte, r->nodes, &fmed, &fmax);
	spread(r->done, r->nodes, &med, &max);
	if (med >= 0)
		fprintf(f, "first byte: median %.2f s, last %.2f s; done: median %.2f s, last %.2f s\n",
			fmed, fmax, med, max);
	timeline(f, c, r);
	if (r->verified && r->cpu[0] >= 0) {
		double sum = 0;
		for (unsigned i = 1; i <= r->nodes; i++)
			sum += r->cpu[i] > 0 ? r->cpu[i] : 0;
		if (r->nodes == 1)
			fprintf(f, "CPU while fetching: seed %.2f s, leecher %.2f s\n", r->cpu[0], sum);
		else
			fprintf(f, "CPU while fetching: seed %.2f s, leechers %.2f s in all (%.2f s "
				"each on average)\n", r->cpu[0], sum, sum / r->nodes);
	}
	uplinks(f, r);
	if (r->verified && r->nodes == 1)
		fprintf(f, "verified: the copy matches the original (SHA-256)\n");
	else if (r->verified)
		fprintf(f, "verified: all %u copies match the original (SHA-256)\n", r->nodes);
	if (r->error[0] || !r->verified)
		fprintf(f, "FAILED: %s\n", r->error[0] ? r->error : "not every copy was verified");
}

/* Seconds to the millisecond, or null for a time that was never reached. */
static json_t *secs(double v)
{
	return v < 0 ? json_null() : json_real(round(v * 1000) / 1000);
}

static json_t *secs_array(const double *v, unsigned n)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < n; i++)
		json_array_append_new(a, secs(v[i]));
	return a;
}

static json_t *leechers(const struct lab_result *r)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < r->nodes; i++)
		json_array_append_new(a, json_pack("{s:i, s:s, s:I, s:o, s:o, s:o, s:o, s:b}", "node",
						   i + 1, "addr", r->addr[i], "up", (json_int_t)r->up[i],
						   "download_start", secs(r->download_start[i]), "first_byte",
						   secs(r->first_byte[i]), "done", secs(r->done[i]),
						   "node_seconds", secs(r->node_seconds[i]), "sha256_ok",
						   r->hash_ok[i]));
	return a;
}

static json_t *rate(uint64_t v)
{
	return v ? json_integer((json_int_t)v) : json_null();
}

void lab_report_json(FILE *f, const struct lab_config *c, const struct lab_result *r)
{
	json_t *o = json_pack("{s:i, s:i, s:I, s:o, s:o, s:f, s:f, s:o, s:o, s:b, s:o, s:o}",
			      "nodes", r->nodes, "processes", r->nodes + 1, "file_bytes",
			      (json_int_t)r->file_bytes, "seed_up", rate(c->seed_up), "peer_down",
			      rate(c->peer_down), "d_p2p", r->d_p2p, "d_cs", r->d_cs, "last_done",
			      secs(r->last_done), "ratio", r->ratio > 0 ? json_real(r->ratio) : json_null(),
			      "verified", r->verified, "done", secs_array(r->done, r->nodes),
			      "first_byte", secs_array(r->first_byte, r->nodes));

	json_object_set_new(o, "d_p2p_node", json_real(r->d_node));
	json_object_set_new(o, "ratio_valid", json_boolean(r->ratio_valid));
	json_object_set_new(o, "peer_up", json_array());
	for (unsigned i = 0; i < r->nodes; i++)
		json_array_append_new(json_object_get(o, "peer_up"), rate(r->up[i]));
	json_object_set_new(o, "leechers", leechers(r));
	json_object_set_new(o, "setup", json_pack("{s:o, s:o, s:o}", "ring_s", secs(r->ring_s),
						  "share_s", secs(r->share_s), "announce_s",
						  secs(r->announce_s)));
	json_object_set_new(o, "chunk_bytes", c->chunk_kib ? json_integer((json_int_t)c->chunk_kib * 1024)
								      : json_null());
	json_object_set_new(o, "content_id", json_string(r->content_id));
	json_object_set_new(o, "netns", json_boolean(c->netns)); /* rates shaped by the kernel */
	json_object_set_new(o, "loss", json_real(c->loss));
	json_object_set_new(o, "cpu_s", secs_array(r->cpu, r->verified ? r->nodes + 1 : 0));
	json_object_set_new(o, "uplink", json_array());
	for (unsigned i = 0; r->uplink && i <= r->nodes; i++)
		json_array_append_new(json_object_get(o, "uplink"), rate(r->uplink[i]));
	json_object_set_new(o, "received", json_array());
	for (unsigned i = 0; i < r->nreceived; i++)
		json_array_append_new(json_object_get(o, "received"),
				      json_integer((json_int_t)r->received[i]));
	if (r->error[0])
		json_object_set_new(o, "error", json_string(r->error));
	json_dumpf(o, f, JSON_COMPACT | JSON_REAL_PRECISION(10));
	fputc('\n', f);
	json_decref(o);
}
