/* Socket setup for the listening sockets. TCP gets SO_REUSEADDR so a restarted node can bind
 * while old connections sit in TIME_WAIT; UDP does not, so that two nodes can never share a
 * port by accident. Nothing here reads or writes data. */
#include "node/net/sock.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "node/net/addr.h"

static void explain(const struct dht_addr *addr, int type, int e, char *err, size_t errcap)
{
	char a[ADDR_STR_MAX];
	const char *proto = type == SOCK_DGRAM ? "UDP" : "TCP";
	addr_format(addr, a);
	if (e == EADDRINUSE)
		snprintf(err, errcap, "%s port %s is already in use (another dhtnode?); stop that "
			 "process or choose another port with --listen", proto, a);
	else if (e == EADDRNOTAVAIL)
		snprintf(err, errcap, "cannot bind %s: that IP is not an address of this machine; "
			 "use one of its own addresses (see 'ip addr') with --listen", a);
	else if (e == EACCES)
		snprintf(err, errcap, "no permission to bind %s %s; ports below 1024 need "
			 "privileges, so choose a higher one with --listen", proto, a);
	else
		snprintf(err, errcap, "cannot bind %s %s: %s", proto, a, strerror(e));
}

int sock_open(const struct dht_addr *addr, int type, char *err, size_t errcap)
{
	struct sockaddr_storage ss;
	socklen_t len = addr_to_sockaddr(addr, &ss);
	int fd = socket(ss.ss_family, type, 0), one = 1;
	if (fd < 0) {
		snprintf(err, errcap, "cannot create a socket: %s", strerror(errno));
		return -1;
	}
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0)
		goto fail;
	if (type == SOCK_STREAM &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
		goto fail;
	/* One address family per socket: "::1" must not also catch IPv4. */
	if (ss.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0)
		goto fail;
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 ||
	    (type == SOCK_STREAM && listen(fd, 128) != 0))
		goto fail;
	return fd;
fail:
	explain(addr, type, errno, err, errcap);
	close(fd);
	return -1;
}
