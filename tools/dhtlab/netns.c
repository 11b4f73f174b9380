/* The lab network behind --netns. Namespaces, links and shapers are made by `ip`, `tc` and
 * `nft` from one generated shell script per step (the tools know their own netlink details
 * better than we would); namespaces are entered and deleted directly (setns, and the unmount +
 * unlink that `ip netns del` does), so cleanup needs no child process and works from an exit
 * handler. Names: dl<pid>-sw (the switch, holding bridge br0 and one veth end hI per host)
 * and dl<pid>-hI (host I, its end named eth0, and ifb0 when its ingress is shaped). */
#define _GNU_SOURCE
#include "tools/dhtlab/netns.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#define NETNS_DIR "/run/netns"
#define NAME_MAX_LEN 48
/* How a link is shaped: a token bucket filter (tbf), the one shaper with a byte queue this
 * lab's kernels all have (fq_codel, sfq and netem are not in every kernel, nor here). Three
 * choices:
 * - The queue holds QUEUE_MS of the rate on top of the burst, as a switch port's buffer
 *   does, not a large fraction of a second: with 100 ms and a 64 KiB burst (what this lab
 *   had) a 1 MiB/s host queued 160 ms, TCP round trips through it swelled to 70-130 ms (ss
 *   -ti), slow start overshot into tail drops (cwnd 4 after them) and a 16-leecher swarm took
 *   10-15 s to reach full speed. A deeper one (htb over a 1,000-packet fifo) was worse still.
 * - The burst is 16 KiB: larger than a 1 MiB/s flow's TSO packets (TCP sizes them to about
 *   1 ms of its rate), and small, since every byte of burst is queue too.
 * - Rates count the TCP byte stream, not the frames: a size table takes the 66 bytes of
 *   Ethernet, IP and TCP headers (with timestamps) off each packet, so ACKs ride free, as in
 *   the bound, where u is what a host uploads of F, and as under dhtnode's own caps, which
 *   count the bytes it writes. Counting headers would cost a host ~4.5% of its rate on data and
 *   ~2.5% more on the ACKs of what it downloads, and no swarm could come within 7% of D_p2p. */
#define QUEUE_MS 20
#define BURST_BYTES 16384
#define HEADER_BYTES 66

struct lab_net {
	unsigned n;
	char prefix[16];                  /* "dl1234-" */
	char sw[NAME_MAX_LEN];
	char (*host)[NAME_MAX_LEN];
	char log[1024];
	int home_fd;                      /* this process's own network namespace */
};

static struct lab_net *live; /* the one network the exit handler removes */

static void ns_delete(const char *name)
{
	char path[sizeof NETNS_DIR + 600];

	snprintf(path, sizeof path, NETNS_DIR "/%s", name);
	umount2(path, MNT_DETACH);
	unlink(path);
}

/* Delete the namespaces named "dl<pid>-..." whose PID is OWN, or (OWN 0) whose dhtlab is dead. */
static void sweep(pid_t own)
{
	DIR *d = opendir(NETNS_DIR);
	struct dirent *e;

	while (d && (e = readdir(d)) != NULL) {
		int pid, end = 0;
		if (sscanf(e->d_name, "dl%d-%n", &pid, &end) != 1 || end == 0 || pid <= 0)
			continue;
		if (own ? pid == own : kill(pid, 0) != 0 && errno == ESRCH)
			ns_delete(e->d_name);
	}
	if (d)
		closedir(d);
}

static void at_exit(void)
{
	if (live)
		sweep(getpid());
}

/* Run SCRIPT with sh -e, its output appended to LOG. Return 0 if it succeeded. */
static int run_script(const char *script, const char *log)
{
	int in[2], st = 0;
	pid_t pid;

	if (pipe(in) != 0)
		return -1;
	if ((pid = fork()) == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		dup2(in[0], 0);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		close(in[1]);
		execl("/bin/sh", "sh", "-e", "-x", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	if (pid > 0) {
		size_t len = strlen(script), off = 0;
		while (off < len) {
			ssize_t k = write(in[1], script + off, len - off);
			if (k <= 0)
				break;
			off += (size_t)k;
		}
	}
	close(in[1]);
	if (pid < 0)
		return -1;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int has_tools(const char *tools, const char *log)
{
	char s[256];

	snprintf(s, sizeof s, "for t in %s; do command -v $t; done\n", tools);
	return run_script(s, log);
}

/* Whether this kernel has netem, tried in a scratch namespace named like this run's. */
static bool have_netem(void)
{
	char s[512], name[NAME_MAX_LEN];
	bool ok;

	snprintf(name, sizeof name, "dl%d-probe", (int)getpid());
	snprintf(s, sizeof s, "ip netns add %s\nip -n %s link add d0 type dummy\n"
		 "tc -n %s qdisc add dev d0 root netem delay 1ms\n", name, name, name);
	ok = run_script(s, "/dev/null") == 0;
	ns_delete(name);
	return ok;
}

int lab_net_check(bool need_loss, bool need_netem, char *err, size_t cap)
{
	if (geteuid() != 0) {
		snprintf(err, cap, "--netns needs root to create network namespaces: run it as root "
			 "(sudo dhtlab ... --netns), or leave out --netns to run on loopback");
		return -1;
	}
	if (has_tools("ip tc", "/dev/null") != 0) {
		snprintf(err, cap, "--netns needs the iproute2 tools ip and tc in PATH");
		return -1;
	}
	if (need_loss && has_tools("nft", "/dev/null") != 0) {
		snprintf(err, cap, "--loss needs nftables' nft in PATH (apt-get install nftables)");
		return -1;
	}
	if (need_netem && !have_netem()) {
		snprintf(err, cap, "--delay-ms needs the kernel's netem qdisc, which this kernel "
			 "lacks (sch_netem); leave out --delay-ms here");
		return -1;
	}
	return 0;
}

void lab_net_addr(unsigned i, char *buf, size_t cap)
{
	snprintf(buf, cap, "10.77.%u.%u", (i + 2) / 256, (i + 2) % 256);
}

const char *lab_net_ns(const struct lab_net *net, unsigned i)
{
	return net->host[i];
}

/* A tbf on DEV of NS at RATE bytes per second of TCP payload, under PARENT ("root" or
 * "parent 1:1"); see QUEUE_MS above. */
static void shape(FILE *s, const char *ns, const char *dev, const char *parent, uint64_t rate)
{
	fprintf(s, "tc -n %s qdisc add dev %s %s handle 10: stab overhead -%d mpu 0 tbf "
		"rate %llubit burst %d latency %dms\n", ns, dev, parent, HEADER_BYTES,
		(unsigned long long)rate * 8, BURST_BYTES, QUEUE_MS);
}

static void host_script(FILE *s, const struct lab_net *net, unsigned i,
			const struct lab_link *l, double loss, unsigned delay_ms)
{
	const char *h = net->host[i];
	char ip[32];

	lab_net_addr(i, ip, sizeof ip);
	fprintf(s, "ip netns add %s\n"
		"ip -n %s link add h%u type veth peer name eth0 netns %s\n"
		"ip -n %s link set h%u master br0 up\n"
		"ip -n %s link set lo up\n"
		"ip -n %s addr add %s/16 dev eth0\n"
		"ip -n %s link set eth0 address 02:4c:00:00:%02x:%02x up\n",
		h, net->sw, i, h, net->sw, i, h, h, ip, h, (i + 2) / 256, (i + 2) % 256);
	if (delay_ms) {
		/* The kernel sizes packets by the root's table only: netem's here. */
		fprintf(s, "tc -n %s qdisc add dev eth0 root handle 1: stab overhead -%d mpu 0 "
			"netem delay %ums limit 100000\n", h, HEADER_BYTES, delay_ms);
		if (l->up)
			shape(s, h, "eth0", "parent 1:1", l->up);
	} else if (l->up) {
		shape(s, h, "eth0", "root", l->up);
	}
	if (l->down) {
		fprintf(s, "ip -n %s link add ifb0 type ifb\nip -n %s link set ifb0 up\n"
			"tc -n %s qdisc add dev eth0 handle ffff: ingress\n"
			"tc -n %s filter add dev eth0 parent ffff: protocol all u32 match u32 0 0 "
			"action mirred egress redirect dev ifb0\n", h, h, h, h);
		shape(s, h, "ifb0", "root", l->down);
	}
	if (loss > 0)
		fprintf(s, "ip netns exec %s nft -f - <<'EOF'\ntable inet dl {\n chain in {\n"
			"  type filter hook input priority 0; policy accept;\n"
			"  numgen random mod 1000000 < %u drop\n }\n}\nEOF\n", h,
			(unsigned)(loss * 1e6 + 0.5));
}

/* Every host knows every other's MAC (eth0's are 02:4c:00:00 and the address's last two
 * bytes). The kernel's ARP table is one for all namespaces, 1,024 entries by default
 * (gc_thresh3): 64 hosts that each learn 63 neighbours overflow it, and ARP then fails at
 * random. Permanent entries are outside that count, and this way the host's sysctls stay. */
static void neighbours(FILE *s, const struct lab_net *net, unsigned i)
{
	fprintf(s, "ip -n %s -batch - <<'EOF'\n", net->host[i]);
	for (unsigned j = 0; j < net->n; j++) {
		char ip[32];
		if (j == i)
			continue;
		lab_net_addr(j, ip, sizeof ip);
		fprintf(s, "neigh replace %s lladdr 02:4c:00:00:%02x:%02x dev eth0 nud permanent\n",
			ip, (j + 2) / 256, (j + 2) % 256);
	}
	fprintf(s, "EOF\n");
}

/* The switch, then the hosts. */
static char *setup_script(const struct lab_net *net, const struct lab_link *link, double loss,
			  unsigned delay_ms)
{
	char *text = NULL;
	size_t len = 0;
	FILE *s = open_memstream(&text, &len);

	if (!s)
		return NULL;
	fprintf(s, "ip netns add %s\n"
		"ip -n %s link add br0 type bridge mcast_snooping 0\n"
		"ip -n %s link set br0 up\n", net->sw, net->sw, net->sw);
	for (unsigned i = 0; i < net->n; i++)
		host_script(s, net, i, &link[i], loss, delay_ms);
	for (unsigned i = 0; i < net->n; i++)
		neighbours(s, net, i);
	if (fclose(s) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

static struct lab_net *net_alloc(unsigned n, const char *log)
{
	struct lab_net *net = calloc(1, sizeof *net);

	if (!net || !(net->host = calloc(n ? n : 1, sizeof *net->host))) {
		free(net);
		return NULL;
	}
	net->n = n;
	snprintf(net->prefix, sizeof net->prefix, "dl%d-", (int)getpid());
	snprintf(net->sw, sizeof net->sw, "%ssw", net->prefix);
	for (unsigned i = 0; i < n; i++)
		snprintf(net->host[i], sizeof net->host[i], "%sh%u", net->prefix, i);
	snprintf(net->log, sizeof net->log, "%s", log);
	net->home_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	return net;
}

struct lab_net *lab_net_new(unsigned n, const struct lab_link *link, double loss,
			    unsigned delay_ms, const char *log, char *err, size_t cap)
{
	struct lab_net *net;
	char *script;

	sweep(0);
	if (live || !(net = net_alloc(n, log))) {
		snprintf(err, cap, live ? "one lab network at a time" : "out of memory");
		return NULL;
	}
	live = net;
	static bool registered;
	if (!registered)
		registered = atexit(at_exit) == 0;
	script = setup_script(net, link, loss, delay_ms);
	if (!script || net->home_fd < 0 || run_script(script, log) != 0) {
		snprintf(err, cap, "cannot set up the lab network (namespaces %s*); the commands "
			 "and their errors are in %s", net->prefix, log);
		free(script);
		lab_net_free(net);
		return NULL;
	}
	free(script);
	return net;
}

int lab_net_enter(const struct lab_net *net, unsigned i)
{
	char path[sizeof NETNS_DIR + NAME_MAX_LEN + 2];
	int fd, rc;

	snprintf(path, sizeof path, NETNS_DIR "/%s", net->host[i]);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	rc = setns(fd, CLONE_NEWNET);
	close(fd);
	return rc;
}

void lab_net_leave(const struct lab_net *net)
{
	if (setns(net->home_fd, CLONE_NEWNET) != 0) {
		/* Staying in a host's namespace would point every later socket at the wrong host. */
		perror("dhtlab: cannot return to the own network namespace");
		abort();
	}
}

int lab_net_link(struct lab_net *net, unsigned i, bool up)
{
	char s[256];

	snprintf(s, sizeof s, "ip -n %s link set h%u %s\n", net->sw, i, up ? "up" : "down");
	return run_script(s, net->log);
}

int lab_net_partition(struct lab_net *net, const unsigned *group)
{
	char *text = NULL;
	size_t len = 0;
	FILE *s = open_memstream(&text, &len);
	int rc;

	if (!s)
		return -1;
	fprintf(s, "ip netns exec %s nft -f - <<'EOF'\ntable bridge dl\ndelete table bridge dl\n"
		"table bridge dl {\n chain cut {\n  type filter hook forward priority 0;\n",
		net->sw);
	for (unsigned i = 0; group && i < net->n; i++)
		for (unsigned j = 0; j < net->n; j++)
			if (group[i] != group[j])
				fprintf(s, "  iifname \"h%u\" oifname \"h%u\" drop\n", i, j);
	fprintf(s, " }\n}\nEOF\n");
	if (fclose(s) != 0) {
		free(text);
		return -1;
	}
	rc = run_script(text, net->log);
	free(text);
	return rc;
}

void lab_net_free(struct lab_net *net)
{
	if (!net)
		return;
	sweep(getpid());
	if (net->home_fd >= 0)
		close(net->home_fd);
	free(net->host);
	free(net);
	live = NULL;
}
