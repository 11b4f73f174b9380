/* The access rule for control clients, on Linux's sock_diag: ask the kernel for the socket
 * whose local end is the client's address and whose remote end is ours, i.e. the client's own
 * socket, and read its owner. A lookup by the exact 4-tuple (not a dump) is answered while
 * sendto() runs, so the reply is read without waiting. The socket must still have an inode:
 * once a client closes, its end may linger as a time-wait entry, which the kernel reports with
 * uid 0, and a closed socket must not pass for root's. Not done here: what a verdict allows
 * (the control server decides; remote clients may prove a secret, ctlauth.h). */
#include "node/control/access.h"

#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct diag_req {
	struct nlmsghdr nlh;
	struct inet_diag_req_v2 r;
};

/* Fill R's socket id for the client's end: local = PEER, remote = SELF (both one family). */
static int fill_id(struct inet_diag_req_v2 *r, const struct sockaddr_storage *self,
		   const struct sockaddr_storage *peer)
{
	r->sdiag_family = (uint8_t)peer->ss_family;
	r->sdiag_protocol = IPPROTO_TCP;
	r->idiag_states = ~0u;
	r->id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	r->id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	if (peer->ss_family == AF_INET && self->ss_family == AF_INET) {
		const struct sockaddr_in *p = (const void *)peer, *s = (const void *)self;
		r->id.idiag_sport = p->sin_port;
		r->id.idiag_dport = s->sin_port;
		memcpy(r->id.idiag_src, &p->sin_addr, 4);
		memcpy(r->id.idiag_dst, &s->sin_addr, 4);
		return 0;
	}
	if (peer->ss_family == AF_INET6 && self->ss_family == AF_INET6) {
		const struct sockaddr_in6 *p = (const void *)peer, *s = (const void *)self;
		r->id.idiag_sport = p->sin6_port;
		r->id.idiag_dport = s->sin6_port;
		memcpy(r->id.idiag_src, &p->sin6_addr, 16);
		memcpy(r->id.idiag_dst, &s->sin6_addr, 16);
		return 0;
	}
	errno = EAFNOSUPPORT;
	return -1;
}

/* Read the kernel's one answer on NL to REQ. Return 1 with *UID set (an open socket), 0 when
 * there is no such open socket, -1 on an error (errno). */
static int read_answer(int nl, const struct inet_diag_req_v2 *req, uid_t *uid)
{
	union {
		struct nlmsghdr h;
		uint8_t bytes[8192];
	} buf;
	ssize_t n = recv(nl, &buf, sizeof buf, MSG_DONTWAIT);
	if (n < 0)
		return -1;
	for (struct nlmsghdr *h = &buf.h; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof *e))
				break;
			if (e->error == -ENOENT)
				return 0;
			errno = -e->error;
			return -1;
		}
		if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
		    h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
			continue;
		const struct inet_diag_msg *m = NLMSG_DATA(h);
		if (m->id.idiag_sport != req->id.idiag_sport ||
		    memcmp(m->id.idiag_src, req->id.idiag_src, sizeof m->id.idiag_src) != 0)
			continue;
		if (m->idiag_inode == 0)
			return 0;
		*uid = m->idiag_uid;
		return 1;
	}
	errno = EPROTO;
	return -1;
}

/* The owner of the open socket whose local end is PEER and remote end SELF: 1, 0 or -1 as
 * read_answer. */
static int owner_of(const struct sockaddr_storage *self, const struct sockaddr_storage *peer,
		    uid_t *uid)
{
	struct diag_req req = {
		.nlh = { .nlmsg_len = sizeof req, .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			 .nlmsg_flags = NLM_F_REQUEST },
	};
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	int rc = -1, nl;
	if (fill_id(&req.r, self, peer) != 0)
		return -1;
	nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl < 0)
		return -1;
	if (sendto(nl, &req, sizeof req, 0, (struct sockaddr *)&kernel, sizeof kernel) >= 0)
		rc = read_answer(nl, &req.r, uid);
	int saved = errno;
	close(nl);
	errno = saved;
	return rc;
}

enum access_verdict access_check(int fd, uid_t *uid)
{
	struct sockaddr_storage self, peer;
	socklen_t slen = sizeof self, plen = sizeof peer;
	if (getsockname(fd, (struct sockaddr *)&self, &slen) != 0 ||
	    getpeername(fd, (struct sockaddr *)&peer, &plen) != 0)
		return ACCESS_ERROR;
	switch (owner_of(&self, &peer, uid)) {
	case 1:
		return *uid == geteuid() || *uid == 0 ? ACCESS_OK : ACCESS_USER;
	case 0:
		return ACCESS_REMOTE;
	default:
		return ACCESS_ERROR;
	}
}

/* NAME, or the number, of user UID. */
static void user_name(uid_t uid, char *buf, size_t cap)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];
	if (getpwuid_r(uid, &pw, tmp, sizeof tmp, &res) == 0 && res != NULL)
		snprintf(buf, cap, "%s", pw.pw_name);
	else
		snprintf(buf, cap, "%lu", (unsigned long)uid);
}

void access_refusal(enum access_verdict verdict, uid_t uid, const char *remote_hint, char *buf,
		    size_t cap)
{
	char owner[64], client[64];
	int e = errno;
	user_name(geteuid(), owner, sizeof owner);
	switch (verdict) {
	case ACCESS_USER:
		user_name(uid, client, sizeof client);
		snprintf(buf, cap, "this node belongs to user %s; run dhtctl as %s%s (you are %s)",
			 owner, owner, geteuid() == 0 ? "" : " or root", client);
		return;
	case ACCESS_REMOTE:
		snprintf(buf, cap, "control connections are accepted from this machine only%s",
			 remote_hint);
		return;
	case ACCESS_ERROR:
		snprintf(buf, cap, "the node cannot tell which user connected (sock_diag: %s), so it "
			 "refuses; run dhtctl on the node's host as user %s or root", strerror(e),
			 owner);
		return;
	case ACCESS_OK:
		snprintf(buf, cap, "allowed");
		return;
	}
}
