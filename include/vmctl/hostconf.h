/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_HOSTCONF_H
#define VMCTL_HOSTCONF_H

#include <stddef.h>
#include <stdint.h>

#include "vmctl/env.h"
#include "vmctl/error.h"

/*
 * Settings of the host as a whole, kept in one place: STATE_DIR/host.json,
 * e.g. {"reserve": "15%"}.  Now one: the memory the resource broker keeps
 * for the host (`vmctl host reserve`).  Precedence: VMCTL_HOST_RESERVE
 * (env->host_reserve) over the file over the default, max(10 % of RAM,
 * 2 GiB).  A missing file is the default; a malformed one is an error
 * naming it.  Keys vmctl does not know are kept when it rewrites the file.
 */

#define HOSTCONF_FILE "host.json"
#define HOSTCONF_RESERVE_PERCENT_MAX 90
/* For messages: what a reserve may be. */
#define HOSTCONF_RESERVE_SYNTAX \
	"a size (4G), a share of RAM from 0% to 90% (15%), or default"

enum hostconf_reserve_kind {
	HOSTCONF_RESERVE_DEFAULT,  /* max(10 % of RAM, 2 GiB) */
	HOSTCONF_RESERVE_BYTES,
	HOSTCONF_RESERVE_PERCENT,
};

struct hostconf_reserve {
	enum hostconf_reserve_kind kind;
	uint64_t value;            /* bytes, or percent of RAM */
};

enum hostconf_source {
	HOSTCONF_FROM_DEFAULT,     /* neither file nor environment */
	HOSTCONF_FROM_FILE,        /* STATE_DIR/host.json */
	HOSTCONF_FROM_ENV,         /* VMCTL_HOST_RESERVE */
};

/* Plain data: nothing to free. */
struct hostconf {
	struct hostconf_reserve reserve;
	enum hostconf_source reserve_from;
};

/* Pure: "4G" (spec_parse_size), "15%" (0 to 90), "default"; -1 else. */
int hostconf_reserve_parse(const char *s, struct hostconf_reserve *out);
/* Pure: the same syntax back: "4G", "15%", "default". */
char *hostconf_reserve_format(const struct hostconf_reserve *r);
/* "default", "file", "env". */
const char *hostconf_source_name(enum hostconf_source from);

/*
 * Pure: the bytes to keep for a host of `host_total` bytes of RAM, never
 * more than host_total.  What a broker_request's `reserve` takes.
 */
uint64_t hostconf_reserve(const struct hostconf *c, uint64_t host_total);

/* Pure: host.json's text (`path` for messages) over the defaults. */
int hostconf_parse(const char *text, size_t len, const char *path,
		   struct hostconf *out, struct vmctl_error **err);

/* STATE_DIR/host.json. */
char *hostconf_path(const struct vmctl_env *env);

/*
 * The settings in force: STATE_DIR/host.json, then VMCTL_HOST_RESERVE.
 * Takes no lock (the file is only ever replaced whole), so callers may
 * hold state_lock_global() already, as the start path does.
 */
int hostconf_read(const struct vmctl_env *env, struct hostconf *out,
		  struct vmctl_error **err);

/*
 * Set the reserve in STATE_DIR/host.json (`default` removes it), under
 * state_lock_global() so two vmctls never lose each other's update, with
 * an atomic replace.  Refuses to rewrite a file that is not a JSON object.
 */
int hostconf_write_reserve(const struct vmctl_env *env,
			   const struct hostconf_reserve *r,
			   struct vmctl_error **err);

#endif
