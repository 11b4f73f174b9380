/* The receiving side of a push. A node without --accept-push answers every PUSH with a refusal
 * and touches nothing: no transfer, no file, no state. A node with it checks the request
 * (pushauth.c), and then asks the transfers for an ordinary fetch into its push directory
 * that stays to seed (leave_when_done false): every member that takes the push becomes a
 * source for the others, which is what makes a push one swarm rather than N copies from the
 * pusher. Content the node already holds complete is answered "have" and not fetched again.
 * Status answers come from the transfer itself, and only for content pushed here, so that the
 * status message tells a stranger nothing about what this node's own user fetches. */
#include "node/push/push.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/log.h"
#include "node/net/addr.h"

struct push_node {
	struct dht *d;
	struct xfer_mgr *files;
	struct identity ident;
	char *accept_dir;
	struct push_keys keys;
	struct push_replay replay;
	uint8_t held[PUSH_MAX_HELD][DHT_PUSH_CID_LEN]; /* pushed here, oldest overwritten first */
	size_t nheld, next_held;
};

struct push_node *push_node_new(const struct push_config *cfg)
{
	struct push_node *p = calloc(1, sizeof *p);
	if (p == NULL)
		return NULL;
	p->d = cfg->d;
	p->files = cfg->files;
	p->ident = *cfg->ident;
	if (cfg->keys != NULL)
		p->keys = *cfg->keys;
	if (cfg->accept_dir != NULL && (p->accept_dir = strdup(cfg->accept_dir)) == NULL) {
		push_node_free(p);
		return NULL;
	}
	return p;
}

void push_node_free(struct push_node *p)
{
	if (p == NULL)
		return;
	free(p->accept_dir);
	sodium_memzero(&p->ident, sizeof p->ident);
	free(p);
}

const uint8_t *push_node_pk(const struct push_node *p)
{
	return p->ident.pk;
}

const struct identity *push_node_identity(const struct push_node *p)
{
	return &p->ident;
}

struct dht *push_node_core(const struct push_node *p)
{
	return p->d;
}

static bool is_held(const struct push_node *p, const uint8_t *cid)
{
	for (size_t i = 0; i < p->nheld; i++)
		if (memcmp(p->held[i], cid, DHT_PUSH_CID_LEN) == 0)
			return true;
	return false;
}

static void hold(struct push_node *p, const uint8_t *cid)
{
	if (is_held(p, cid))
		return;
	memcpy(p->held[p->next_held], cid, DHT_PUSH_CID_LEN);
	p->next_held = (p->next_held + 1) % PUSH_MAX_HELD;
	if (p->nheld < PUSH_MAX_HELD)
		p->nheld++;
}

static bool complete(struct xfer *x)
{
	struct xfer_info in;
	if (x == NULL)
		return false;
	xfer_get_info(x, &in);
	return in.state == XFER_SEEDING && in.bytes_done == in.bytes_total;
}

/* Act on a checked request: fetch CID into the push directory unless it is held already. */
static enum push_ack take_push(struct push_node *p, const uint8_t *cid, enum push_why *why)
{
	char err[XFER_ERR_MAX];
	enum xfer_err code;
	struct xfer_copy *copy = NULL;
	*why = PUSH_WHY_NONE;
	if (complete(xfer_find(p->files, cid)))
		return PUSH_HAVE;
	struct xfer *x = xfer_fetch(p->files, cid, p->accept_dir, false, PUSH_FIND_TIMEOUT_S,
				    &copy, &code, err, sizeof err);
	if (x != NULL) {
		hold(p, cid);
		return PUSH_ACCEPTED;
	}
	if (copy != NULL) /* held complete elsewhere: the copy into the directory goes on alone */
		return PUSH_HAVE;
	log_warn("push: cannot fetch the pushed content: %s", err);
	*why = PUSH_WHY_FETCH_FAILED;
	return PUSH_REFUSED;
}

static void on_push(struct push_node *p, const struct dht_msg *m, struct dht_msg *ans)
{
	enum push_why why = PUSH_WHY_NOT_ACCEPTING;
	enum push_ack status = PUSH_REFUSED;
	const struct push_seen *seen = NULL;
	uint64_t now = (uint64_t)time(NULL);
	if (p->accept_dir != NULL) {
		switch (push_check(&p->keys, &p->replay, m, &dht_self(p->d)->id, now, &why, &seen)) {
		case PUSH_CHECK_REFUSE:
			break;
		case PUSH_CHECK_REPEAT:
			status = seen->status;
			why = seen->reason;
			break;
		case PUSH_CHECK_NEW: {
			struct push_seen *e = push_replay_add(&p->replay, m, now);
			if (e == NULL) {
				why = PUSH_WHY_BUSY;
				break;
			}
			status = take_push(p, m->u.push.cid, &why);
			e->status = (uint8_t)status;
			e->reason = (uint8_t)why;
			break;
		}
		}
	}
	ans->type = DHT_PUSH_ACK;
	ans->u.push_ack.status = (uint8_t)status;
	ans->u.push_ack.reason = (uint8_t)why;
}

static void on_status(struct push_node *p, const struct dht_msg *m, struct dht_msg *ans)
{
	struct xfer_info in;
	struct xfer *x = is_held(p, m->u.push_status.cid) ? xfer_find(p->files, m->u.push_status.cid)
							   : NULL;
	ans->type = DHT_PUSH_STATE;
	ans->u.push_state.state = PUSH_ST_FAILED;
	ans->u.push_state.reason = PUSH_WHY_FORGOT;
	if (x == NULL)
		return;
	xfer_get_info(x, &in);
	ans->u.push_state.done = in.bytes_done;
	ans->u.push_state.total = in.bytes_total;
	ans->u.push_state.reason = PUSH_WHY_NONE;
	if (in.state == XFER_SEEDING || in.state == XFER_CHANGED)
		ans->u.push_state.state = PUSH_ST_VERIFIED;
	else if (in.state == XFER_FAILED)
		ans->u.push_state.reason = PUSH_WHY_FETCH_FAILED;
	else if (in.state == XFER_STOPPED)
		ans->u.push_state.reason = PUSH_WHY_STOPPED;
	else
		ans->u.push_state.state = PUSH_ST_FETCHING;
}

void push_node_request(void *arg, const struct dht_msg *m, const struct dht_addr *from)
{
	struct push_node *p = arg;
	struct dht_msg ans;
	char a[ADDR_STR_MAX];
	memset(&ans, 0, sizeof ans);
	if (m->type == DHT_PUSH) {
		on_push(p, m, &ans);
		addr_format(from, a);
		log_info("push request from %s: %s%s", a,
			 ans.u.push_ack.status == PUSH_ACCEPTED ? "accepted"
			 : ans.u.push_ack.status == PUSH_HAVE   ? "already held"
								: "refused: ",
			 push_why_str(ans.u.push_ack.reason));
	} else if (m->type == DHT_PUSH_STATUS) {
		on_status(p, m, &ans);
	} else {
		return; /* an answer type sent as a request: nothing to answer */
	}
	dht_app_reply(p->d, from, m->txid, &ans);
}
