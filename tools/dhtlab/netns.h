/* tools/dhtlab/netns.h: dhtlab's lab network (--netns): one network namespace per host, each
 * with a veth to a bridge in a "switch" namespace and an address of its own on 10.77.0.0/16,
 * which exists only inside these namespaces; the host's own network is never touched. Rates,
 * loss and delay are put on each host's link by the kernel (tc tbf, an ifb for ingress,
 * nftables numgen). Every name carries "dl<pid>-", so cleanup is by name: lab_net_free and an
 * exit handler remove this run's namespaces, and lab_net_new first removes those of runs whose
 * PID is dead. The caller owns the struct lab_net; names returned point into it. */
#ifndef DHTLAB_NETNS_H
#define DHTLAB_NETNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LAB_NET_PORT 4000      /* every host's dhtnode port: each host has its own addresses */

struct lab_net;

/* What the kernel enforces on one host's link. Rates in bytes per second; 0: none. */
struct lab_link {
	uint64_t up, down;
};

/* Whether this process may create namespaces (root, `ip` and `tc` present; with NEED_LOSS
 * nft, with NEED_NETEM the kernel's netem). Return 0, or -1 with a sentence saying what is
 * missing and how to run the lab in ERR. */
int lab_net_check(bool need_loss, bool need_netem, char *err, size_t cap);

/* Create the switch and N hosts. LINK has N entries; LOSS is a drop probability for every
 * packet a host receives (0: none); DELAY_MS one-way delay (0: none; needs netem). LOG
 * collects the commands' output. Return the network, or NULL with a sentence in ERR. */
struct lab_net *lab_net_new(unsigned n, const struct lab_link *link, double loss,
			    unsigned delay_ms, const char *log, char *err, size_t cap);

/* Host I's namespace name ("dl1234-h3") and address ("10.77.0.5"). */
const char *lab_net_ns(const struct lab_net *net, unsigned i);
void lab_net_addr(unsigned i, char *buf, size_t cap);

/* Move this (single-threaded) process's network into host I's namespace, so that sockets it
 * opens are there; lab_net_leave moves it back. Sockets keep the namespace they were opened in. */
int lab_net_enter(const struct lab_net *net, unsigned i);
void lab_net_leave(const struct lab_net *net);

/* Cut host I off the switch (down) or connect it again (up). */
int lab_net_link(struct lab_net *net, unsigned i, bool up);

/* Drop everything between hosts with GROUP[i] != GROUP[j] at the switch (a partition);
 * GROUP NULL heals every partition. */
int lab_net_partition(struct lab_net *net, const unsigned *group);

/* Delete every namespace of this run (their links go with them). NULL does nothing. */
void lab_net_free(struct lab_net *net);

#endif
