// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Which TCP ports are taken, asked of the kernel rather than found by
 * binding, so picking a port has no side effects.  The kernel is asked
 * over sock_diag netlink for its listening sockets alone; PROC/net/tcp
 * and tcp6 say the same, but reading them walks every bucket of the
 * established-socket hash (some 5 ms each on a 24 GiB host with three
 * sockets), and they are what a fake proc root (tests) has.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vmctl/ports.h"
#include "vmctl/xalloc.h"

#define TCP_LISTEN 0x0a

static void add_table(const char *path, struct port_set *used)
{
	cleanup_file FILE *f = fopen(path, "re");
	char line[512];

	if (f == NULL)
		return;
	/* "  sl  local_address rem_address   st ..." then one socket a line:
	 * "   0: 0100007F:0CEA 00000000:0000 0A ..." */
	while (fgets(line, sizeof(line), f) != NULL) {
		char local[64], remote[64];
		unsigned port, state;
		const char *colon;

		if (sscanf(line, " %*u: %63s %63s %x", local, remote,
			   &state) != 3)
			continue;
		colon = strrchr(local, ':');
		if (colon == NULL || sscanf(colon + 1, "%x", &port) != 1)
			continue;
		if (state == TCP_LISTEN)
			port_set_add(used, port);
	}
}

void ports_listening_tables(const char *proc, struct port_set *used)
{
	static const char *const tables[] = { "net/tcp", "net/tcp6" };

	for (size_t i = 0; i < 2; i++) {
		cleanup_free char *path = xasprintf("%s/%s", proc, tables[i]);

		add_table(path, used);
	}
}

/* The replies to one dump request: 1 at its end, 0 for more, -1 when
 * they do not parse. */
static int diag_replies(const void *buf, size_t len, struct port_set *used)
{
	const struct nlmsghdr *h = buf;

	for (; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
		const struct inet_diag_msg *m;

		if (h->nlmsg_type == NLMSG_DONE)
			return 1;
		if (h->nlmsg_type == NLMSG_ERROR ||
		    h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
			return -1;
		m = NLMSG_DATA(h);
		port_set_add(used, ntohs(m->id.idiag_sport));
	}
	return len == 0 ? 0 : -1;
}

static int diag_family(int fd, unsigned char family, struct port_set *used)
{
	struct {
		struct nlmsghdr h;
		struct inet_diag_req_v2 r;
	} req = {
		.h = { .nlmsg_len = sizeof(req),
		       .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.r = { .sdiag_family = family,
		       .sdiag_protocol = IPPROTO_TCP,
		       .idiag_states = 1u << TCP_LISTEN },
	};
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	long buf[8192 / sizeof(long)];
	int done = 0;

	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) != (ssize_t)sizeof(req))
		return -1;
	while (done == 0) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done = diag_replies(buf, (size_t)n, used);
	}
	return done < 0 ? -1 : 0;
}

int ports_listening_diag(struct port_set *used)
{
	struct port_set found = { 0 };
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
			NETLINK_SOCK_DIAG);
	int ret;

	if (fd < 0)
		return -1;
	ret = diag_family(fd, AF_INET, &found) < 0 ||
	      diag_family(fd, AF_INET6, &found) < 0 ? -1 : 0;
	close(fd);
	if (ret == 0)
		for (size_t i = 0; i < sizeof(found.bits); i++)
			used->bits[i] |= found.bits[i];
	return ret;
}

void ports_add_listening(const struct vmctl_env *env, struct port_set *used)
{
	if (strcmp(env->proc, "/proc") == 0 && ports_listening_diag(used) == 0)
		return;
	ports_listening_tables(env->proc, used);
}

unsigned ports_first_free(const struct port_set *used, unsigned from,
			  unsigned to)
{
	for (unsigned p = from; p <= to && p < 65536; p++)
		if (!port_set_has(used, p))
			return p;
	return 0;
}
