/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_LVCONN_H
#define VMCTL_LVCONN_H

#include <stdbool.h>

#include <libvirt/libvirt.h>

#include "vmctl/env.h"
#include "vmctl/error.h"
#include "vmctl/pci.h"

/*
 * The libvirt connection behind --connect (the libvirt backend's door).
 *
 * Errors: libvirt's own printing to stderr is silenced; its last error
 * becomes a vmctl error naming the URI and libvirt's message.  Exit
 * status: 69 (unavailable) when the host cannot be reached or libvirt
 * refuses the connection, 77 when authentication or access is denied,
 * 1 for a call that fails on an open connection.
 *
 * Bounded time: before libvirt is asked, a remote URI's host is probed
 * with a TCP connect limited to LVCONN_TIMEOUT_S seconds, so an
 * unreachable host is one line and status 69, not a hang (for ssh, until
 * the server's banner: a port that takes the connection and says nothing
 * is unreachable too); ssh URIs get no_tty=1 (BatchMode: ssh never waits for a
 * password on the terminal) unless they set no_tty themselves.  Past the
 * banner, libvirt's own open (ssh's key exchange and login, the remote
 * daemon's answer) is given LVCONN_OPEN_TIMEOUT_S seconds, or
 * $VMCTL_CONNECT_TIMEOUT: a host that hangs there is abandoned (the open
 * goes on in a thread of its own, whose connection is closed should it
 * ever come) and reported like an unreachable one.
 */

#define LVCONN_TIMEOUT_S 10
#define LVCONN_OPEN_TIMEOUT_S 30

enum {
	LVCONN_READ_ONLY = 1 << 0,   /* listings: VIR_CONNECT_RO */
};

/* libvirt opened (lazylib.h), set up and its printing silenced:
 * lvconn_open() does it; a caller that opens connections from several
 * threads calls it first.  69 when libvirt cannot be opened. */
int lvconn_init(struct vmctl_error **err);

/* Open URI (read-write, or read-only with LVCONN_READ_ONLY) with
 * libvirt's default authentication. */
int lvconn_open(const char *uri, unsigned flags, virConnectPtr *out,
		struct vmctl_error **err);
/* lvconn_open() of env->connect, resolved through the hosts file;
 * *uri (may be NULL) gets the URI opened. */
int lvconn_open_env(const struct vmctl_env *env, unsigned flags,
		    virConnectPtr *out, char **uri, struct vmctl_error **err);
void lvconn_close(virConnectPtr conn);

/* libvirt's last error as *err: "URI: what: libvirt's message", with
 * the status above (`opening` picks 69 over 1).  Returns -1. */
int lvconn_error(struct vmctl_error **err, const char *uri, bool opening,
		 const char *what);

/* Pure: the URI as opened (no_tty=1 added to ssh transports). */
char *lvconn_uri_bounded(const char *uri);
/* Pure: does the URI's transport run over ssh (ssh, libssh2, libssh)? */
bool lvconn_uri_ssh(const char *uri);
/* Pure: the host and TCP port a remote URI reaches (ssh 22, tcp 16509,
 * tls 16514, an explicit port over these); false for a local URI (no
 * host, or the unix/ext transports).  *host is a new string. */
bool lvconn_uri_endpoint(const char *uri, char **host, unsigned *port);
/* Pure: the URI's query parameter `name` ("keyfile", "known_hosts"...),
 * %XX decoded; NULL when absent, empty or holding a NUL. */
char *lvconn_uri_param(const char *uri, const char *name);

/* Every PCI node device of the connection as a struct pci_host
 * (lvnodedev.h says what libvirt does not tell). */
int lvconn_pci_host_read(virConnectPtr conn, const char *uri,
			 struct pci_host *out, struct vmctl_error **err);

#endif
