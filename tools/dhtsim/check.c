/* The ground truth and the ring checks. The truth is a sorted array (binary search, memmove on
 * change): membership changes are rare next to queries, and an array keeps the checks' walks
 * simple. The checks follow Zave ("Reasoning about identifier spaces", TSE 2017), with
 * bestSucc(x) = the first entry of x's successor list that is a live member:
 *   (a) every member has a best successor;
 *   (b) AtMostOneRing + ConnectedAppendages: following bestSucc from every member reaches one
 *       and the same cycle;
 *   (c) OrderedRing: that cycle goes round the circle exactly once, each step landing on the
 *       next cycle member clockwise;
 *   (d) OrderedSuccessorLists: walking a cycle member's list (skipping entries that are not
 *       cycle members) never steps over the member itself.
 * Nothing here reads a node directly or knows how the simulator addresses nodes. */
#include "tools/dhtsim/check.h"

#include <stdlib.h>
#include <string.h>

#include "dht/routing.h"

struct member {
	struct dht_id id;
	uint32_t index;
};

struct truth {
	struct member *m;
	size_t n, cap;
};

struct truth *truth_new(void)
{
	return calloc(1, sizeof(struct truth));
}

void truth_free(struct truth *t)
{
	if (t == NULL)
		return;
	free(t->m);
	free(t);
}

static size_t lower_bound(const struct truth *t, const struct dht_id *key)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (id_cmp(&t->m[mid].id, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int truth_add(struct truth *t, const struct dht_id *id, uint32_t index)
{
	size_t pos = lower_bound(t, id);
	if (pos < t->n && id_eq(&t->m[pos].id, id))
		return -1;
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		struct member *m = realloc(t->m, cap * sizeof *m);
		if (m == NULL)
			return -1;
		t->m = m;
		t->cap = cap;
	}
	memmove(&t->m[pos + 1], &t->m[pos], (t->n - pos) * sizeof *t->m);
	t->m[pos] = (struct member){ *id, index };
	t->n++;
	return 0;
}

void truth_del(struct truth *t, const struct dht_id *id)
{
	long pos = truth_find(t, id);
	if (pos < 0)
		return;
	memmove(&t->m[pos], &t->m[pos + 1], (t->n - (size_t)pos - 1) * sizeof *t->m);
	t->n--;
}

size_t truth_size(const struct truth *t)
{
	return t->n;
}

const struct dht_id *truth_id(const struct truth *t, size_t pos)
{
	return &t->m[pos].id;
}

uint32_t truth_index(const struct truth *t, size_t pos)
{
	return t->m[pos].index;
}

long truth_find(const struct truth *t, const struct dht_id *id)
{
	size_t pos = lower_bound(t, id);
	return pos < t->n && id_eq(&t->m[pos].id, id) ? (long)pos : -1;
}

size_t truth_successor(const struct truth *t, const struct dht_id *key)
{
	size_t pos = lower_bound(t, key);
	return pos == t->n ? 0 : pos;
}

/* --- the checks ------------------------------------------------------------------------------ */

struct checker {
	size_t cap_m, cap_idx;
	unsigned r;
	long *pos_of;    /* by node index: a member's position (trusted only if the truth agrees) */
	long *list;      /* M x r: successor-list entries as member positions, -1 for non-members */
	unsigned *nlist;
	long *next;      /* bestSucc as a position, -1 if none */
	long *comp;      /* the cycle each member's walk reaches, -1 if it reaches none */
	long *stack;
	long *cyc;       /* the main cycle's members in id order */
	long *nextc;     /* for them: the next main-cycle member clockwise */
	size_t *reach;   /* by cycle: members whose walk reaches it */
	long *cstart;    /* by cycle: one member on it */
	uint8_t *state, *bad;
};

struct checker *checker_new(void)
{
	return calloc(1, sizeof(struct checker));
}

void checker_free(struct checker *c)
{
	if (c == NULL)
		return;
	free(c->pos_of);
	free(c->list);
	free(c->nlist);
	free(c->next);
	free(c->comp);
	free(c->stack);
	free(c->cyc);
	free(c->nextc);
	free(c->reach);
	free(c->cstart);
	free(c->state);
	free(c->bad);
	free(c);
}

static int grow(void *pp, size_t n, size_t size)
{
	void *p = realloc(*(void **)pp, (n ? n : 1) * size);
	if (p == NULL)
		return -1;
	*(void **)pp = p;
	return 0;
}

static int reserve(struct checker *c, size_t m, size_t nindex, unsigned r)
{
	if (nindex > c->cap_idx) {
		size_t cap = nindex * 2;
		if (grow(&c->pos_of, cap, sizeof *c->pos_of))
			return -1;
		for (size_t i = c->cap_idx; i < cap; i++)
			c->pos_of[i] = -1;
		c->cap_idx = cap;
	}
	if (m <= c->cap_m && r <= c->r)
		return 0;
	size_t cap = m * 2;
	if (r > c->r)
		c->r = r;
	if (grow(&c->list, cap * c->r, sizeof *c->list) || grow(&c->nlist, cap, sizeof *c->nlist) ||
	    grow(&c->next, cap, sizeof *c->next) || grow(&c->comp, cap, sizeof *c->comp) ||
	    grow(&c->stack, cap, sizeof *c->stack) || grow(&c->cyc, cap, sizeof *c->cyc) ||
	    grow(&c->nextc, cap, sizeof *c->nextc) || grow(&c->reach, cap, sizeof *c->reach) ||
	    grow(&c->cstart, cap, sizeof *c->cstart) ||
	    grow(&c->state, cap, sizeof *c->state) || grow(&c->bad, cap, sizeof *c->bad))
		return -1;
	c->cap_m = cap;
	return 0;
}

struct run {
	struct checker *c;
	const struct truth *t;
	size_t m, nindex;
	const struct check_ops *ops;
	void *ctx;
	struct check_result *res;
};

static void flag(struct run *w, size_t x, const char *what)
{
	if (w->c->bad[x])
		return;
	w->c->bad[x] = 1;
	w->res->violations++;
	if (w->ops->report)
		w->ops->report(w->ctx, truth_index(w->t, x), what);
}

static long member_pos(struct run *w, const struct dht_node *n)
{
	long i = w->ops->index_of(w->ctx, n);
	if (i < 0 || (size_t)i >= w->nindex)
		return -1;
	long p = w->c->pos_of[i];
	if (p < 0 || (size_t)p >= w->m || truth_index(w->t, (size_t)p) != (uint32_t)i)
		return -1;
	return p;
}

/* Read every member's list; decide ring correctness and bestSucc; check (a). */
static void load(struct run *w, unsigned r)
{
	struct checker *c = w->c;
	struct dht_node buf[ROUTING_MAX_SUCC];
	for (size_t x = 0; x < w->m; x++)
		c->pos_of[truth_index(w->t, x)] = (long)x;
	for (size_t x = 0; x < w->m; x++) {
		size_t n = w->ops->succ(w->ctx, truth_index(w->t, x), buf, r);
		long *l = &c->list[x * c->r];
		c->next[x] = -1;
		c->bad[x] = 0;
		for (size_t j = 0; j < n; j++) {
			l[j] = member_pos(w, &buf[j]);
			if (c->next[x] < 0)
				c->next[x] = l[j];
		}
		c->nlist[x] = (unsigned)n;
		if (n == 0 || l[0] != (long)((x + 1) % w->m))
			w->res->ring_correct = false;
	}
	for (size_t x = 0; x < w->m; x++)
		if (c->next[x] < 0)
			flag(w, x, "no live successor in its list");
}

/* Walk bestSucc from every member (a functional graph) and label what each walk reaches.
 * Return the main cycle: the one the most members reach (-1 if none). */
static long find_cycles(struct run *w)
{
	struct checker *c = w->c;
	size_t ncyc = 0;
	memset(c->state, 0, w->m);
	for (size_t x = 0; x < w->m; x++) {
		size_t sp = 0;
		long y = (long)x;
		while (y >= 0 && c->state[y] == 0) {
			c->state[y] = 1;
			c->stack[sp++] = y;
			y = c->next[y];
		}
		long id = y < 0 ? -1 : c->state[y] == 2 ? c->comp[y] : (long)ncyc;
		if (y >= 0 && c->state[y] == 1) {
			c->cstart[ncyc] = y;
			c->reach[ncyc++] = 0;
		}
		while (sp > 0) {
			long z = c->stack[--sp];
			c->state[z] = 2;
			c->comp[z] = id;
			if (id >= 0)
				c->reach[id]++;
		}
	}
	long main = -1;
	for (size_t k = 0; k < ncyc; k++)
		if (main < 0 || c->reach[k] > c->reach[main])
			main = (long)k;
	w->res->cycles = ncyc;
	return main;
}

/* Mark the main cycle's members (state 3) and list them in id order. */
static size_t main_cycle(struct run *w, long main)
{
	struct checker *c = w->c;
	long start = c->cstart[main];
	long y = start;
	do {
		c->state[y] = 3;
		y = c->next[y];
	} while (y != start);
	size_t n = 0;
	for (size_t x = 0; x < w->m; x++)
		if (c->state[x] == 3)
			c->cyc[n++] = (long)x;
	for (size_t k = 0; k < n; k++)
		c->nextc[c->cyc[k]] = c->cyc[(k + 1) % n];
	return n;
}

static void check_order(struct run *w, size_t ncyc)
{
	struct checker *c = w->c;
	for (size_t k = 0; k < ncyc; k++) {
		long x = c->cyc[k];
		if (c->next[x] != c->nextc[x])
			flag(w, (size_t)x, "ring out of order: its best successor skips a ring member");
		const struct dht_id *self = truth_id(w->t, (size_t)x);
		const struct dht_id *a = self;
		const long *l = &c->list[(size_t)x * c->r];
		for (unsigned j = 0; j < c->nlist[x]; j++) {
			if (l[j] < 0 || c->state[l[j]] != 3)
				continue;
			const struct dht_id *b = truth_id(w->t, (size_t)l[j]);
			if (id_in_oo(self, a, b))
				flag(w, (size_t)x, "successor list steps over its owner");
			a = b;
		}
	}
}

int checker_run(struct checker *c, const struct truth *t, size_t nindex, unsigned r,
		const struct check_ops *ops, void *ctx, struct check_result *res)
{
	memset(res, 0, sizeof *res);
	res->ring_correct = true;
	size_t m = truth_size(t);
	if (r > ROUTING_MAX_SUCC)
		r = ROUTING_MAX_SUCC;
	if (m == 0)
		return 0;
	if (reserve(c, m, nindex, r))
		return -1;
	struct run w = { c, t, m, nindex, ops, ctx, res };
	load(&w, r);
	long main = find_cycles(&w);
	for (size_t x = 0; x < m; x++)
		if (c->comp[x] != main && c->next[x] >= 0)
			flag(&w, x, "its successors lead away from the main ring");
	size_t ncyc = main >= 0 ? main_cycle(&w, main) : 0;
	res->cycle_len = ncyc;
	check_order(&w, ncyc);
	return 0;
}
