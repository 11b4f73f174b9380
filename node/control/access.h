/* node/control/access.h: who may control this node, decided from the client's connected TCP
 * socket: its owner must be the node's effective user or root (the kernel says who owns the
 * client's end of a connection on this machine through NETLINK_SOCK_DIAG). The control server
 * and the HTTP view use it; nothing here allocates. */
#ifndef NODE_CONTROL_ACCESS_H
#define NODE_CONTROL_ACCESS_H

#include <stddef.h>
#include <sys/types.h>

enum access_verdict {
	ACCESS_OK,     /* the client's socket belongs to the node's effective user or to root */
	ACCESS_USER,   /* another user of this machine: *UID says who */
	ACCESS_REMOTE, /* no open socket of this machine (its network namespace) has that end */
	ACCESS_ERROR,  /* the kernel could not be asked: errno says why */
};

/* Judge the client at the other end of FD, an accepted TCP socket. The client's socket must
 * still be open (a closed one no longer has an owner to check). *UID is the owner's uid for
 * ACCESS_OK and ACCESS_USER. */
enum access_verdict access_check(int fd, uid_t *uid);

/* A sentence (no newline) telling a refused client why and what to do, for VERDICT and UID as
 * access_check gave them; REMOTE_HINT ends the ACCESS_REMOTE sentence (e.g. how to allow
 * remote clients), and may be "". */
void access_refusal(enum access_verdict verdict, uid_t uid, const char *remote_hint, char *buf,
		    size_t cap);

#endif
