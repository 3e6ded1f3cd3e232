/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_LVVM_VNC_H
#define VMCTL_LVVM_VNC_H

#include <stdbool.h>

#include "vmctl/env.h"
#include "vmctl/error.h"

/*
 * `vnc NAME` on a libvirt host (--connect): the running domain's VNC
 * server as libvirt set it up, from its live XML with the password
 * (virDomainGetXMLDesc, VIR_DOMAIN_XML_SECURE: a read-write connection),
 * printed as the direct backend's (view_vnc_result()).
 */

/* The first <graphics type='vnc'> of a domain. */
struct lvvm_vnc {
	int port;                    /* -1: none yet (autoport, not running) */
	char *listen;                /* the address it listens on, or NULL */
	char *password;              /* passwd, or NULL */
	char *socket;                /* a UNIX socket instead of a port */
};

/* Pure: parse a domain's XML.  0 and *out; 1 when it has no VNC
 * graphics; -1 when it is not a domain's XML. */
int lvvm_vnc_parse(const char *xml, struct lvvm_vnc *out);
void lvvm_vnc_clear(struct lvvm_vnc *v);

int lvvm_cmd_vnc(const struct vmctl_env *env, const char *name,
		 struct vmctl_error **err);

#endif
