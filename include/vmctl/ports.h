/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_PORTS_H
#define VMCTL_PORTS_H

#include <stdbool.h>
#include <stdint.h>

#include "vmctl/env.h"

/* A set of TCP ports, one bit each. */
struct port_set {
	uint8_t bits[65536 / 8];
};

static inline void port_set_add(struct port_set *s, unsigned port)
{
	if (port < 65536)
		s->bits[port / 8] |= (uint8_t)(1u << (port % 8));
}

static inline bool port_set_has(const struct port_set *s, unsigned port)
{
	return port < 65536 && (s->bits[port / 8] >> (port % 8)) & 1;
}

/* Add every TCP port something listens on, IPv4 and IPv6: asked over
 * sock_diag netlink with the real /proc, read from PROC/net/tcp and tcp6
 * otherwise or when netlink fails.  Unreadable tables add nothing:
 * binding will tell later. */
void ports_add_listening(const struct vmctl_env *env, struct port_set *used);

/* The two ways, for tests: sock_diag (-1, nothing added, when the kernel
 * cannot be asked), and PROC's tables. */
int ports_listening_diag(struct port_set *used);
void ports_listening_tables(const char *proc, struct port_set *used);

/* First port in [from, to] not in `used`, or 0. */
unsigned ports_first_free(const struct port_set *used, unsigned from,
			  unsigned to);

#endif
