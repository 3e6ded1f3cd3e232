// SPDX-License-Identifier: GPL-2.0-or-later
/* Which TCP ports are taken, read from the kernel's socket tables rather
 * than by binding, so picking a port has no side effects. */
#include <stdio.h>
#include <string.h>

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

void ports_add_listening(const struct vmctl_env *env, struct port_set *used)
{
	static const char *const tables[] = { "net/tcp", "net/tcp6" };

	for (size_t i = 0; i < 2; i++) {
		cleanup_free char *path = xasprintf("%s/%s", env->proc,
						    tables[i]);
		add_table(path, used);
	}
}

unsigned ports_first_free(const struct port_set *used, unsigned from,
			  unsigned to)
{
	for (unsigned p = from; p <= to && p < 65536; p++)
		if (!port_set_has(used, p))
			return p;
	return 0;
}
