/* The small parts of the simulated world that everything else uses: a node by its index and its
 * address, the run's log, and the lookup slots a node holds (dhtsim's record of lookups in
 * flight). Below sim.c (the world) and observe.c (what it shows): it calls neither. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "dht/routing.h"
#include "tools/dhtsim/sim_impl.h"

long sim_addr_index(const struct dht_addr *a)
{
	if (a->family != 4 || a->ip[0] != 127 || a->port != 1)
		return -1;
	return (long)a->ip[1] << 16 | (long)a->ip[2] << 8 | a->ip[3];
}

struct snode *sim_node(const struct sim *s, long i)
{
	return i >= 0 && (size_t)i < s->nnode ? s->node[i] : NULL;
}

void sim_logf(const struct sim *s, const char *fmt, ...)
{
	if (s->cfg.log == NULL)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(s->cfg.log, "%11.6f ", (double)evq_now(s->q) / 1e6);
	vfprintf(s->cfg.log, fmt, ap);
	fputc('\n', s->cfg.log);
	va_end(ap);
}

void sim_id_hex(const struct sim *s, const struct dht_id *id, char out[ID_HEX_MAX])
{
	id_to_hex(id, s->cfg.bits, out);
	if (s->cfg.bits > 32)
		out[8] = '\0'; /* a prefix tells nodes apart in a log */
}

void sim_slot_release(struct sim *s, struct slot *sl)
{
	if (!sl->used)
		return;
	sl->used = false;
	s->freeslot[s->nfree++] = (size_t)(sl - s->slot);
}

void sim_abandon_from(struct sim *s, uint32_t origin)
{
	for (size_t k = 0; k < s->cfg.window; k++)
		if (s->slot[k].used && s->slot[k].origin == origin && !s->slot[k].abandoned) {
			s->slot[k].abandoned = true;
			s->slot[k].st->abandoned++;
		}
}

void sim_release_from(struct sim *s, uint32_t origin)
{
	for (size_t k = 0; k < s->cfg.window; k++)
		if (s->slot[k].used && s->slot[k].origin == origin)
			sim_slot_release(s, &s->slot[k]);
}

void sim_add_core_stats(struct sim_totals *t, const struct dht_stats *st)
{
	t->received += st->received;
	t->timeouts += st->timeouts;
	t->unsolicited += st->dropped_unsolicited;
	t->merges += st->merges;
	t->proofs += st->proofs;
	t->ids_refused += st->ids_refused;
	for (int k = 0; k < DHT_DECODE_NRESULTS; k++)
		t->decode_dropped[k] += st->dropped[k];
}

void sim_dump_node(const struct sim *s, const struct snode *n, const char *pre)
{
	struct dht_node buf[ROUTING_MAX_SUCC], pred;
	char line[1024], h[ID_HEX_MAX];
	sim_id_hex(s, &n->id, h);
	int len = snprintf(line, sizeof line, "%sn%u %s pred ", pre, n->index, h);
	if (dht_predecessor(n->d, &pred) == 0)
		sim_id_hex(s, &pred.id, h);
	else
		snprintf(h, sizeof h, "-");
	len += snprintf(line + len, sizeof line - (size_t)len, "%s succ", h);
	size_t k = dht_successor_list(n->d, buf, ROUTING_MAX_SUCC);
	/* Each entry as id:node, with a '+' for a dead node or one not in the ring. */
	for (size_t j = 0; j < k && len < (int)sizeof line - 64; j++) {
		long i = sim_addr_index(&buf[j].addr);
		const struct snode *e = sim_node(s, i);
		sim_id_hex(s, &buf[j].id, h);
		len += snprintf(line + len, sizeof line - (size_t)len, " %s:n%ld%s", h, i,
				e && e->member && id_eq(&e->id, &buf[j].id) ? "" : "+");
	}
	sim_logf(s, "%s", line);
}
