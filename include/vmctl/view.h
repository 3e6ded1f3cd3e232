/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_VIEW_H
#define VMCTL_VIEW_H

#include <stdint.h>
#include <stdio.h>

#include <cJSON.h>

#include "vmctl/env.h"
#include "vmctl/vm.h"

/*
 * How VMs are shown: one JSON shape (documented in docs/json.md) and the
 * human forms, shared by create, start, list and status.
 */

/* The address other machines reach this host at, for endpoints of
 * services listening on 0.0.0.0. */
char *view_host_address(void);

/* "HOST:PORT" for a service listening on `listen`. */
char *view_endpoint(const char *listen, unsigned port);

cJSON *view_vm_json(const struct vmctl_env *env, const struct vm_info *vm,
		    bool detailed);
/* `status --json`: the detailed form, with "balloon", the guest's RAM as
 * its balloon leaves it (query-balloon's actual, bytes), or null when
 * `balloon` is NULL (not running, no balloon, QEMU did not say). */
cJSON *view_vm_status_json(const struct vmctl_env *env,
			   const struct vm_info *vm, const uint64_t *balloon);
/* The lines `create` and `start` end with: where to reach the VM. */
/* What a VM holds from the broker (vm.json's claim): JSON (null when
 * none), and the lines `status` prints. */
cJSON *view_claim_json(const struct vm_claim *c);
void view_claim_print(const struct vm_claim *c, FILE *out);

void view_vm_endpoints(const struct vmctl_env *env, const struct vm_info *vm,
		       FILE *out);
void view_print_json(cJSON *json);

/* What stop ends with: {"name", "stopped_by", "backend"[, "host"]} when
 * `json`, else "Stopped NAME: HOW_TEXT" (nothing with -q).  host: the
 * libvirt URI; NULL for the direct backend. */
void view_stop_result(const struct vmctl_env *env, bool json,
		      const char *name, enum vm_stop_step how,
		      const char *how_text, const char *host);

/* What `vnc NAME` prints: where the VNC server is and its password. */
struct view_vnc {
	const char *name;
	const char *socket;          /* a UNIX socket (no password), or NULL */
	const char *endpoint;        /* "HOST:PORT" when not a socket */
	unsigned port;
	const char *password;        /* NULL: none */
	enum vm_run_state state;
	const char *host;            /* the libvirt URI; NULL: direct */
	const char *where;           /* the socket's machine; NULL: this one */
};

/* {"name", "endpoint", "url", "port", "password", "running", "backend"
 * [, "host"]} (a socket: "socket" for the endpoint, url and port) with
 * --json, else the lines (docs/json.md). */
void view_vnc_result(const struct vmctl_env *env, const struct view_vnc *v);

/* What create, start and restart end with: the VM as JSON with --json,
 * else `headline` and the endpoints (nothing with -q). */
void view_vm_result(const struct vmctl_env *env, const struct vm_info *vm,
		    const char *headline);

#endif
