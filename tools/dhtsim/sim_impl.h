/* tools/dhtsim/sim_impl.h: the inside of struct sim, shared by nodes.c (nodes by index, log, lookup
 * slots), sim.c (the world: network, membership, time and checks) and observe.c (lookups,
 * statistics). Private to tools/dhtsim: nothing else includes it. */
#ifndef DHTSIM_SIM_IMPL_H
#define DHTSIM_SIM_IMPL_H

#include "dht/rng.h"
#include "tools/dhtsim/idset.h"
#include "tools/dhtsim/sim.h"
#include "tools/sim/evq.h"

#define MAX_INDEX (1u << 24)
#define LOG_LIMIT 20 /* violations and bad lookups printed per run */

enum { JOIN_NONE = -2, JOIN_WAITING = -1 };

struct snode {
	struct sim *s;
	struct dht *d;
	struct dht_id id;
	uint32_t index;
	uint64_t wake;  /* the latest deadline the core asked for */
	uint64_t armed; /* the tick event relied on to honour it */
	bool armed_pending, member;
	int join;
};

/* A datagram in flight, owned by its delivery event and linked into the sim's list of them. */
struct dgram {
	struct dgram *prev, *next;
	uint32_t from, to;
	uint16_t len;
	uint8_t buf[];
};

/* A lookup in flight: who asked, and where its result goes unless it was cut loose. */
struct slot {
	struct sim *s;
	struct sim_lookup_stats *st;
	uint32_t origin;
	bool used, abandoned;
};

struct sim {
	struct sim_config cfg;
	struct dht_config dcfg;
	struct evq *q;
	struct rng net, core, drv;
	struct truth *truth;
	struct idset *ids;
	struct checker *checker;
	struct snode **node;
	size_t nnode, capnode, alive, joining;
	struct dgram *flight; /* datagrams in flight, newest first */
	struct slot *slot;
	size_t *freeslot, nfree;
	uint64_t lookup_instant; /* the virtual time of the last lookup issued */
	size_t lookups_at_instant; /* lookups issued at that time */
	uint64_t period, next_check;
	struct check_result last;
	uint64_t last_change, converge_us, acc_at;
	bool converged, oom;
	/* sim_split(): group[i] of node i (0 beyond ngroup); while split, datagrams between groups
	 * are dropped; from sim_heal() until the ring is one again (and requests sent across the
	 * split have all timed out), two rings are expected and the invariants are not counted. */
	uint8_t *group;
	size_t ngroup;
	bool split, merging;
	uint64_t healed_at;
	struct sim_totals tot;
	unsigned logged;
};

/* nodes.c */
/* The live node at index I, or NULL. */
struct snode *sim_node(const struct sim *s, long i);
/* The node index an address designates, or -1 if it is not one of ours. */
long sim_addr_index(const struct dht_addr *a);
/* An id in hex for a log: whole at small widths, its first 8 digits at large ones. */
void sim_id_hex(const struct sim *s, const struct dht_id *id, char out[ID_HEX_MAX]);
void sim_dump_node(const struct sim *s, const struct snode *n, const char *pre);
/* Free lookup slot SL (if in use). */
void sim_slot_release(struct sim *s, struct slot *sl);
/* Stop recording the lookups ORIGIN asked; free their slots once ORIGIN is gone. */
void sim_abandon_from(struct sim *s, uint32_t origin);
void sim_release_from(struct sim *s, uint32_t origin);
void sim_add_core_stats(struct sim_totals *t, const struct dht_stats *st);

/* sim.c */
/* Integrate the live nodes over time up to now (for messages per node per second). */
void sim_account(struct sim *s);
/* Does N's successor list hold a live node other than VICTIM (-1 for none)? */
bool sim_has_live_succ(const struct sim *s, const struct snode *n, long victim);

#endif
