/* Routing state: predecessor, successor list and fingers, and the routing questions asked of
 * them. Successor lists are kept ordered as seen from this node: walking self, succ[0], succ[1]...
 * clockwise never jumps over self without landing on it (Zave's OrderedSuccessorLists), which is
 * what lets rings smaller than r+1 wrap their lists onto themselves safely. */
#include "dht/routing.h"

#include <string.h>

void routing_init(struct routing *rt, const struct dht_node *self, unsigned bits, unsigned r)
{
	memset(rt, 0, sizeof *rt);
	rt->self = *self;
	rt->bits = bits;
	rt->r = r < 1 ? 1 : r > ROUTING_MAX_SUCC ? ROUTING_MAX_SUCC : r;
	rt->succ[0] = *self;
	rt->nsucc = 1;
}

/* Would stepping clockwise from A to B pass over X without landing on it? */
static bool passes(const struct dht_id *x, const struct dht_id *a, const struct dht_id *b)
{
	return id_in_oo(x, a, b);
}

bool routing_is_self(const struct routing *rt, const struct dht_node *node)
{
	return id_eq(&node->id, &rt->self.id) && dht_addr_eq(&node->addr, &rt->self.addr);
}

void routing_adopt(struct routing *rt, const struct dht_node *head, const struct dht_node *list,
		   size_t n)
{
	const struct dht_id *self = &rt->self.id;
	rt->succ[0] = *head;
	rt->nsucc = 1;
	/* A head equal to self means we are alone: a list of one. */
	if (id_eq(&head->id, self))
		return;
	for (size_t i = 0; i < n && rt->nsucc < rt->r; i++) {
		const struct dht_id *prev = &rt->succ[rt->nsucc - 1].id;
		/* Stop where the reported list would jump over us: past that point it was built by a
		 * node that does not know us yet, and copying it would break the ordering. */
		if (passes(self, prev, &list[i].id))
			break;
		rt->succ[rt->nsucc++] = list[i];
	}
}

bool routing_forget(struct routing *rt, const struct dht_id *id)
{
	bool was_first = id_eq(&rt->succ[0].id, id);
	unsigned k = 0;
	for (unsigned i = 0; i < rt->nsucc; i++)
		if (!id_eq(&rt->succ[i].id, id))
			rt->succ[k++] = rt->succ[i];
	rt->nsucc = k;
	if (rt->nsucc == 0) {
		rt->succ[0] = rt->self;
		rt->nsucc = 1;
	}
	for (unsigned i = 0; i < rt->bits; i++)
		if (rt->finger_ok[i] && id_eq(&rt->finger[i].id, id))
			rt->finger_ok[i] = false;
	if (rt->has_pred && id_eq(&rt->pred.id, id))
		rt->has_pred = false;
	return was_first;
}

static bool same_node(const struct dht_node *a, const struct dht_node *b)
{
	return id_eq(&a->id, &b->id) && dht_addr_eq(&a->addr, &b->addr);
}

void routing_note_lost(struct routing *rt, const struct dht_node *node, uint64_t now)
{
	unsigned oldest = 0;
	if (id_eq(&node->id, &rt->self.id))
		return;
	for (unsigned i = 0; i < rt->nlost; i++) {
		if (id_eq(&rt->lost[i].id, &node->id)) {
			rt->lost[i] = *node;
			return;
		}
		if (rt->lost_at[i] < rt->lost_at[oldest])
			oldest = i;
	}
	if (rt->nlost < ROUTING_MAX_LOST)
		oldest = rt->nlost++;
	rt->lost[oldest] = *node;
	rt->lost_at[oldest] = now;
}

/* Keep the entries KEEP says yes to, in order. Return how many went. */
static unsigned filter_lost(struct routing *rt, bool (*keep)(const struct routing *, unsigned,
							     const void *), const void *arg)
{
	unsigned k = 0, n = rt->nlost;
	for (unsigned i = 0; i < n; i++)
		if (keep(rt, i, arg)) {
			rt->lost[k] = rt->lost[i];
			rt->lost_at[k++] = rt->lost_at[i];
		}
	rt->nlost = k;
	return n - k;
}

static bool other_id(const struct routing *rt, unsigned i, const void *id)
{
	return !id_eq(&rt->lost[i].id, id);
}

void routing_drop_lost(struct routing *rt, const struct dht_id *id)
{
	filter_lost(rt, other_id, id);
}

static bool lost_since(const struct routing *rt, unsigned i, const void *since)
{
	return rt->lost_at[i] >= *(const uint64_t *)since;
}

unsigned routing_age_lost(struct routing *rt, uint64_t now, uint64_t max_age)
{
	uint64_t since = now > max_age ? now - max_age : 0;
	return filter_lost(rt, lost_since, &since);
}

bool routing_at(const struct routing *rt, const struct dht_node *node)
{
	if (rt->has_pred && same_node(&rt->pred, node))
		return true;
	for (unsigned i = 0; i < rt->nsucc; i++)
		if (same_node(&rt->succ[i], node))
			return true;
	for (unsigned i = 0; i < rt->bits; i++)
		if (rt->finger_ok[i] && same_node(&rt->finger[i], node))
			return true;
	return false;
}

int routing_owner_in_succ(const struct routing *rt, const struct dht_id *key)
{
	const struct dht_id *prev = &rt->self.id;
	for (unsigned j = 0; j < rt->nsucc; j++) {
		if (id_in_oc(key, prev, &rt->succ[j].id))
			return (int)j;
		prev = &rt->succ[j].id;
	}
	return -1;
}

static bool in_list(const struct dht_id *id, const struct dht_id *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (id_eq(id, &list[i]))
			return true;
	return false;
}

/* Insert C into OUT (sorted by distance to KEY, closest first, at most MAX long) unless it is
 * already there. DIST holds each entry's distance. */
static void insert_closest(const struct dht_node *c, const struct dht_id *dc, struct dht_node *out,
			   struct dht_id *dist, size_t *n, size_t max)
{
	size_t pos = *n;
	for (size_t i = 0; i < *n; i++) {
		if (id_eq(&out[i].id, &c->id))
			return;
		if (pos == *n && id_cmp(dc, &dist[i]) < 0)
			pos = i;
	}
	if (pos >= max)
		return;
	size_t last = *n < max ? *n : max - 1;
	memmove(&out[pos + 1], &out[pos], (last - pos) * sizeof *out);
	memmove(&dist[pos + 1], &dist[pos], (last - pos) * sizeof *dist);
	out[pos] = *c;
	dist[pos] = *dc;
	if (*n < max)
		(*n)++;
}

static void consider(const struct routing *rt, const struct dht_node *c, const struct dht_id *key,
		     const struct dht_id *skip, size_t nskip, struct dht_node *out,
		     struct dht_id *dist, size_t *n, size_t max)
{
	if (!id_in_oo(&c->id, &rt->self.id, key) || in_list(&c->id, skip, nskip))
		return;
	struct dht_id d;
	id_sub(&d, key, &c->id, rt->bits);
	insert_closest(c, &d, out, dist, n, max);
}

size_t routing_closest_preceding(const struct routing *rt, const struct dht_id *key,
				 const struct dht_id *skip, size_t nskip, struct dht_node *out,
				 size_t max)
{
	struct dht_id dist[ROUTING_MAX_SUCC + 1];
	size_t n = 0;
	if (max > ROUTING_MAX_SUCC + 1)
		max = ROUTING_MAX_SUCC + 1;
	if (max == 0)
		return 0;
	/* Equal neighbouring fingers are common (every finger below finger_lo is the successor),
	 * so compare with the previous one before paying for an insert. */
	const struct dht_id *last = NULL;
	for (int i = (int)rt->bits - 1; i >= 0; i--) {
		if (!rt->finger_ok[i] || (last && id_eq(last, &rt->finger[i].id)))
			continue;
		last = &rt->finger[i].id;
		consider(rt, &rt->finger[i], key, skip, nskip, out, dist, &n, max);
	}
	for (unsigned j = 0; j < rt->nsucc; j++)
		consider(rt, &rt->succ[j], key, skip, nskip, out, dist, &n, max);
	if (rt->has_pred)
		consider(rt, &rt->pred, key, skip, nskip, out, dist, &n, max);
	return n;
}

void routing_finger_start(const struct routing *rt, unsigned i, struct dht_id *out)
{
	id_add_pow2(out, &rt->self.id, i, rt->bits);
}

unsigned routing_finger_lo(const struct routing *rt)
{
	struct dht_id d;
	id_sub(&d, &rt->succ[0].id, &rt->self.id, rt->bits);
	/* start_i is in (self, succ] exactly when 2^i <= succ - self. */
	int lg = id_log2(&d);
	return lg < 0 ? 0 : (unsigned)lg + 1;
}

void routing_set_finger(struct routing *rt, unsigned i, const struct dht_node *node)
{
	struct dht_id d;
	id_sub(&d, &node->id, &rt->self.id, rt->bits);
	int lg = id_log2(&d);
	rt->finger[i] = *node;
	rt->finger_ok[i] = true;
	/* NODE is also successor(self + 2^j) for every j with 2^j <= node - self, as long as no
	 * closer node lies before those starts: true for j up to lg when NODE answered for i. */
	for (unsigned j = i + 1; j < rt->bits && (int)j <= lg; j++) {
		rt->finger[j] = *node;
		rt->finger_ok[j] = true;
	}
}

size_t routing_distinct(const struct dht_id *owner, const struct dht_node *list, size_t n,
			struct dht_node *out, size_t max)
{
	size_t k = 0;
	for (size_t i = 0; i < n && k < max; i++) {
		bool again = id_eq(&list[i].id, owner) && i > 0;
		for (size_t j = 0; j < k && !again; j++)
			again = id_eq(&out[j].id, &list[i].id);
		if (again)
			break; /* the list has come round: the rest repeats */
		out[k++] = list[i];
	}
	return k;
}

size_t routing_distinct_succ(const struct routing *rt, struct dht_node *out, size_t max)
{
	return routing_distinct(&rt->self.id, rt->succ, rt->nsucc, out, max);
}

size_t routing_distinct_fingers(const struct routing *rt, struct dht_node *out, unsigned *index,
				size_t max)
{
	size_t n = 0;
	for (unsigned i = 0; i < rt->bits && n < max; i++) {
		if (!rt->finger_ok[i])
			continue;
		if (n > 0 && id_eq(&out[n - 1].id, &rt->finger[i].id))
			continue;
		out[n] = rt->finger[i];
		if (index)
			index[n] = i;
		n++;
	}
	return n;
}
