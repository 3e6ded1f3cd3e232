// SPDX-License-Identifier: GPL-2.0-or-later
/* Which TCP ports are taken (ports.c): sock_diag netlink and the proc
 * tables find the same listening sockets, IPv4 and IPv6; a socket that is
 * bound but not listening, or closed, is not taken; a fake proc root is
 * read from its tables. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "vmctl/ports.h"
#include "vmctl/xalloc.h"

/* A TCP socket on loopback, any port, listening or only bound: its fd,
 * and its port in *port; -1 where the family is not there. */
static int loopback(int family, bool listening, unsigned *port)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		len = sizeof(*a);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    (listening && listen(fd, 1) < 0) ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					: ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

static void test_real(void)
{
	struct port_set diag = { 0 }, tables = { 0 };
	unsigned p4 = 0, p6 = 0, bound = 0, closed = 0;
	int fd4 = loopback(AF_INET, true, &p4);
	int fd6 = loopback(AF_INET6, true, &p6);
	int fdb = loopback(AF_INET, false, &bound);
	int fdc = loopback(AF_INET, true, &closed);

	if (fd4 < 0 || fdb < 0 || fdc < 0) {
		ok(0, "no loopback TCP sockets here");
		return;
	}
	close(fdc);
	ok(ports_listening_diag(&diag) == 0, "the kernel answers sock_diag");
	ports_listening_tables("/proc", &tables);
	ok(port_set_has(&diag, p4), "sock_diag: IPv4 listener %u", p4);
	ok(port_set_has(&tables, p4), "tables: IPv4 listener %u", p4);
	if (fd6 >= 0) {
		ok(port_set_has(&diag, p6), "sock_diag: IPv6 listener %u", p6);
		ok(port_set_has(&tables, p6), "tables: IPv6 listener %u", p6);
	} else {
		ok(1, "# SKIP no IPv6 loopback");
		ok(1, "# SKIP no IPv6 loopback");
	}
	ok(!port_set_has(&diag, bound) && !port_set_has(&tables, bound),
	   "a bound socket that does not listen is not taken (%u)", bound);
	ok(!port_set_has(&diag, closed) && !port_set_has(&tables, closed),
	   "a closed listener is not taken (%u)", closed);
	close(fd4);
	close(fdb);
	if (fd6 >= 0)
		close(fd6);
}

static void test_fake_root(void)
{
	char dir[] = "/tmp/vmctl-test-ports.XXXXXX";
	struct vmctl_env env = { 0 };
	struct port_set used = { 0 };
	char *net, *tcp, *tcp6;
	FILE *f;

	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	net = xasprintf("%s/net", dir);
	tcp = xasprintf("%s/net/tcp", dir);
	tcp6 = xasprintf("%s/net/tcp6", dir);
	mkdir(net, 0755);
	f = fopen(tcp, "w");
	fputs("  sl  local_address rem_address   st\n"
	      "   0: 0100007F:08AE 00000000:0000 0A\n"      /* 2222 listens */
	      "   1: 0100007F:08AF 0100007F:9C40 01\n", f); /* 2223 talks */
	fclose(f);
	f = fopen(tcp6, "w");
	fputs("  sl  local_address                         remote_address st\n"
	      "   0: 00000000000000000000000001000000:170C "
	      "00000000000000000000000000000000:0000 0A\n", f); /* 5900 */
	fclose(f);
	env.proc = dir;
	ports_add_listening(&env, &used);
	ok(port_set_has(&used, 2222) && port_set_has(&used, 5900),
	   "a fake proc root: its tables' listeners (2222, 5900)");
	ok(!port_set_has(&used, 2223), "and not its connected socket");
	unlink(tcp);
	unlink(tcp6);
	rmdir(net);
	rmdir(dir);
	free(net);
	free(tcp);
	free(tcp6);
}

int main(void)
{
	test_real();
	test_fake_root();
	return tap_done();
}
