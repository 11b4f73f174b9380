/* A run's report as a JSON object (jansson, as everywhere in the project) for scripts or as a
 * summary for people, and the verdict on whether the run showed what it must. Every number
 * depends on the options alone, except the wall time and memory the caller may add. */
#include "tools/dhtsim/scen.h"

static const char *const lat_names[] = { "uniform", "exp", "const" };

static double frac(uint64_t part, uint64_t whole)
{
	return whole ? (double)part / (double)whole : 0;
}

static double mean_ms(const struct sim_lookup_stats *st)
{
	return frac(st->latency_us_sum, st->correct + st->wrong) / 1000;
}

static double msgs_per_node_s(const struct scen_report *rep)
{
	return rep->tot.node_seconds > 0 ? (double)rep->tot.sent / rep->tot.node_seconds : 0;
}

bool scen_passed(const struct scen_report *rep)
{
	const struct sim_lookup_stats *a = &rep->lookups, *b = &rep->after;
	/* A node that lost every successor at once is outside the core's assumption: the
	 * invariants may break then, and that is reported rather than failed. */
	bool inv_ok = rep->tot.violations == 0 || rep->lost_all_succ > 0;
	return rep->grown && rep->ring_correct && !rep->out_of_memory && inv_ok &&
	       a->wrong == 0 && a->failed == 0 && b->wrong == 0 && b->failed == 0 &&
	       rep->gets.wrong == 0 &&
	       (!rep->disrupted || rep->recovered) && (!rep->churned || rep->churn_recovered);
}

/* Add to O the counts of ST, each key prefixed with PRE. */
static void json_lookups(json_t *o, const char *pre, const struct sim_lookup_stats *st)
{
	char k[64];
	static const char *const names[] = { "lookups", "lookups_correct", "lookups_wrong",
					     "lookups_failed" };
	const uint64_t v[] = { st->issued, st->correct, st->wrong, st->failed };
	for (int i = 0; i < 4; i++) {
		snprintf(k, sizeof k, "%s%s", pre, names[i]);
		json_object_set_new(o, k, json_integer((json_int_t)v[i]));
	}
}

/* Add to O the latency percentiles of ST in milliseconds, each key prefixed with PRE. */
static void json_latency(json_t *o, const char *pre, const struct sim_lookup_stats *st)
{
	char k[64];
	static const char *const names[] = { "p50_lookup_ms", "p99_lookup_ms", "max_lookup_ms" };
	const double v[] = { (double)sim_stats_lat_pct(st, 0.5) / 1e3,
			     (double)sim_stats_lat_pct(st, 0.99) / 1e3,
			     (double)st->latency_us_max / 1e3 };
	for (int i = 0; i < 3; i++) {
		snprintf(k, sizeof k, "%s%s", pre, names[i]);
		json_object_set_new(o, k, json_real(v[i]));
	}
}

static void json_setup(json_t *o, const struct scen_report *rep, const struct scen_opts *opts)
{
	const struct sim_lookup_stats *st = &rep->lookups;
	json_object_update_new(o, json_pack("{s:I,s:I,s:i,s:I,s:i}", "nodes", (json_int_t)rep->nodes,
					"nodes_wanted", (json_int_t)rep->nodes_wanted, "bits",
					(int)rep->bits, "seed", (json_int_t)rep->seed, "r",
					(int)rep->r));
	if (opts)
		json_object_update_new(o, json_pack("{s:f,s:s,s:f}", "latency_ms", opts->sim.latency_ms,
						"latency_dist", lat_names[opts->sim.latency],
						"loss", opts->sim.loss));
	json_object_update_new(o, json_pack("{s:b,s:f,s:f,s:f,s:f}", "grown", rep->grown, "grow_s",
					rep->grow_s, "converge_s", rep->converge_s,
					"finger_accuracy", rep->finger_accuracy, "fingers_s",
					rep->fingers_s));
	json_lookups(o, "", st);
	json_object_update_new(o, json_pack("{s:f,s:i,s:i,s:f}", "mean_hops", sim_stats_mean_hops(st),
					"p50_hops", (int)sim_stats_hops_pct(st, 0.5), "p99_hops",
					(int)sim_stats_hops_pct(st, 0.99), "mean_lookup_ms",
					mean_ms(st)));
	json_latency(o, "", st);
}

static void json_disrupt(json_t *o, const struct scen_report *rep)
{
	const struct sim_lookup_stats *d = &rep->during;
	json_object_update_new(o, json_pack("{s:I,s:I,s:I,s:b,s:f,s:I,s:f,s:f}", "crashed",
					(json_int_t)rep->crashed, "left", (json_int_t)rep->left,
					"lost_all_successors", (json_int_t)rep->lost_all_succ,
					"recovered", rep->recovered, "recovery_s", rep->recovery_s,
					"lookups_during_recovery", (json_int_t)d->done,
					"lookups_failed_during_recovery", frac(d->failed, d->done),
					"lookups_wrong_during_recovery", frac(d->wrong, d->done)));
	json_latency(o, "during_", d);
	json_lookups(o, "after_", &rep->after);
	json_latency(o, "after_", &rep->after);
	if (rep->gets.issued == 0)
		return;
	const struct sim_lookup_stats *g = &rep->gets;
	json_object_update_new(o, json_pack("{s:I,s:I,s:I,s:I,s:I,s:f,s:f,s:f}", "puts_failed",
					(json_int_t)rep->puts_failed, "gets",
					(json_int_t)g->issued, "gets_right", (json_int_t)g->correct,
					"gets_wrong", (json_int_t)g->wrong, "gets_failed",
					(json_int_t)g->failed, "p50_get_ms",
					(double)sim_stats_lat_pct(g, 0.5) / 1e3, "p99_get_ms",
					(double)sim_stats_lat_pct(g, 0.99) / 1e3, "max_get_ms",
					(double)g->latency_us_max / 1e3));
}

static void json_churn(json_t *o, const struct scen_report *rep)
{
	const struct sim_lookup_stats *c = &rep->churn;
	json_object_update_new(o, json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:f,s:f,s:b,s:f}",
					"churn_joins", (json_int_t)rep->churn_joins,
					"churn_crashes", (json_int_t)rep->churn_crashes,
					"crashes_skipped", (json_int_t)rep->crashes_skipped,
					"churn_lookups", (json_int_t)c->done,
					"churn_lookups_failed", (json_int_t)c->failed,
					"churn_lookups_wrong", (json_int_t)c->wrong,
					"churn_failures_per_10000",
					1e4 * frac(c->failed + c->wrong, c->done),
					"churn_mean_hops", sim_stats_mean_hops(c),
					"churn_recovered", rep->churn_recovered,
					"churn_converge_s", rep->churn_converge_s));
	json_latency(o, "churn_", c);
}

static void json_end(json_t *o, const struct scen_report *rep)
{
	const struct sim_totals *t = &rep->tot;
	json_t *dropped = json_object();
	for (int k = 1; k < DHT_DECODE_NRESULTS; k++)
		json_object_set_new(dropped, dht_decode_result_str((enum dht_decode_result)k),
				    json_integer((json_int_t)t->decode_dropped[k]));
	json_object_update_new(o, json_pack("{s:b,s:I,s:I,s:f,s:I,s:I,s:I,s:I,s:o,s:I,s:I,s:I,s:I,s:b,s:f}",
					"ring_correct", rep->ring_correct,
					"invariant_violations", (json_int_t)t->violations,
					"checks", (json_int_t)t->checks,
					"messages_per_node_per_s", msgs_per_node_s(rep),
					"messages_sent", (json_int_t)t->sent,
					"messages_lost", (json_int_t)t->lost,
					"request_timeouts", (json_int_t)t->timeouts,
					"dropped_unsolicited", (json_int_t)t->unsolicited,
					"decode_dropped", dropped,
					"joins_failed", (json_int_t)t->joins_failed,
					"joins_refused", (json_int_t)t->joins_refused,
					"id_proofs", (json_int_t)t->proofs,
					"ids_refused", (json_int_t)t->ids_refused,
					"out_of_memory", rep->out_of_memory,
					"virtual_s", rep->virtual_s));
}

json_t *scen_report_json(const struct scen_report *rep, const struct scen_opts *opts)
{
	json_t *o = json_object();
	if (o == NULL)
		return NULL;
	json_setup(o, rep, opts);
	if (rep->disrupted)
		json_disrupt(o, rep);
	if (rep->churned)
		json_churn(o, rep);
	json_end(o, rep);
	return o;
}

static void text_latency(FILE *f, const struct sim_lookup_stats *st)
{
	fprintf(f, "%-22s latency p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", "",
		(double)sim_stats_lat_pct(st, 0.5) / 1e3, (double)sim_stats_lat_pct(st, 0.99) / 1e3,
		(double)st->latency_us_max / 1e3);
}

static void text_lookups(FILE *f, const char *what, const struct sim_lookup_stats *st)
{
	fprintf(f, "%-22s %llu issued: %llu correct, %llu wrong, %llu failed",
		what, (unsigned long long)st->issued, (unsigned long long)st->correct,
		(unsigned long long)st->wrong, (unsigned long long)st->failed);
	if (st->abandoned)
		fprintf(f, ", %llu abandoned", (unsigned long long)st->abandoned);
	fprintf(f, "\n%-22s mean %.2f hops, p50 %u, p99 %u; mean %.1f ms\n", "",
		sim_stats_mean_hops(st), sim_stats_hops_pct(st, 0.5), sim_stats_hops_pct(st, 0.99),
		mean_ms(st));
	text_latency(f, st);
}

static void text_disrupt(FILE *f, const struct scen_report *rep)
{
	const struct sim_lookup_stats *d = &rep->during;
	fprintf(f, "%-22s %zu crashed, %zu left at once; %zu live nodes lost every successor\n",
		"disruption", rep->crashed, rep->left, rep->lost_all_succ);
	fprintf(f, "%-22s %s in %.1f s\n", "recovery", rep->recovered ? "ring correct" : "NOT correct",
		rep->recovery_s);
	fprintf(f, "%-22s %llu: %.4f%% failed, %.4f%% wrong owner\n", "lookups during it",
		(unsigned long long)d->done, 100 * frac(d->failed, d->done),
		100 * frac(d->wrong, d->done));
	text_latency(f, d);
	text_lookups(f, "lookups after it", &rep->after);
	const struct sim_lookup_stats *g = &rep->gets;
	if (g->issued == 0)
		return;
	fprintf(f, "%-22s %llu issued (%llu puts failed): %llu right, %llu wrong value, %llu "
		   "failed or lost\n",
		"gets right after it", (unsigned long long)g->issued,
		(unsigned long long)rep->puts_failed, (unsigned long long)g->correct,
		(unsigned long long)g->wrong, (unsigned long long)g->failed);
	text_latency(f, g);
}

static void text_churn(FILE *f, const struct scen_report *rep)
{
	const struct sim_lookup_stats *c = &rep->churn;
	fprintf(f, "%-22s %llu joins, %llu crashes (%llu skipped as unsafe)\n", "churn",
		(unsigned long long)rep->churn_joins, (unsigned long long)rep->churn_crashes,
		(unsigned long long)rep->crashes_skipped);
	text_lookups(f, "lookups under churn", c);
	fprintf(f, "%-22s %.2f per 10,000 (failed or wrong owner)\n", "failure rate",
		1e4 * frac(c->failed + c->wrong, c->done));
	fprintf(f, "%-22s %s %.1f s after churn stopped\n", "after churn",
		rep->churn_recovered ? "ring correct" : "ring NOT correct", rep->churn_converge_s);
}

void scen_print_text(FILE *f, const struct scen_report *rep, const struct scen_opts *o,
		     double wall_s, long rss_kb)
{
	const struct sim_totals *t = &rep->tot;
	fprintf(f, "%-22s %zu nodes (of %zu), %u-bit ids, r=%u, seed %llu", "ring", rep->nodes,
		rep->nodes_wanted, rep->bits, rep->r, (unsigned long long)rep->seed);
	if (o)
		fprintf(f, ", latency %s %.1f ms, loss %.2f%%", lat_names[o->sim.latency],
			o->sim.latency_ms, 100 * o->sim.loss);
	fprintf(f, "\n%-22s %s in %.1f s virtual; correct %.1f s after the last join\n", "growth",
		rep->grown ? "done" : "FAILED", rep->grow_s, rep->converge_s);
	fprintf(f, "%-22s %.2f%% accurate after %.1f s more\n", "fingers",
		100 * rep->finger_accuracy, rep->fingers_s);
	text_lookups(f, "lookups", &rep->lookups);
	if (rep->disrupted)
		text_disrupt(f, rep);
	if (rep->churned)
		text_churn(f, rep);
	fprintf(f, "%-22s ring %s, %llu invariant violations in %llu checks\n", "at the end",
		rep->ring_correct ? "correct" : "NOT correct", (unsigned long long)t->violations,
		(unsigned long long)t->checks);
	uint64_t dropped = 0;
	for (int k = 1; k < DHT_DECODE_NRESULTS; k++)
		dropped += t->decode_dropped[k];
	fprintf(f, "%-22s %.2f per node per second; %llu lost, %llu timeouts, %llu malformed\n",
		"messages", msgs_per_node_s(rep), (unsigned long long)t->lost,
		(unsigned long long)t->timeouts, (unsigned long long)dropped);
	fprintf(f, "%-22s %llu proven to a neighbour, %llu refused\n", "node ids",
		(unsigned long long)t->proofs, (unsigned long long)t->ids_refused);
	fprintf(f, "%-22s %.1f s virtual", "time", rep->virtual_s);
	if (wall_s >= 0)
		fprintf(f, ", %.2f s wall, %ld KiB max RSS", wall_s, rss_kb);
	fprintf(f, "\n%-22s %s\n", "verdict", scen_passed(rep) ? "pass" : "FAIL");
}
