/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_HOSTS_H
#define VMCTL_HOSTS_H

#include <stddef.h>

#include "vmctl/env.h"
#include "vmctl/error.h"

/*
 * The hosts file: short names for libvirt URIs, so `--connect gpu1` means
 * `--connect qemu+ssh://root@gpu1.lab/system`.  One schema, in YAML (JSON
 * reads too, being YAML's flow style):
 *
 *   hosts:
 *     gpu1: qemu+ssh://root@gpu1.lab/system
 *     local: qemu:///system
 *
 * A name is letters, digits, '.', '_' and '-' (no ':', so it never reads
 * as a URI); a URI holds a ':'.  Errors are located diagnostics,
 * FILE:LINE:COL: hosts.NAME: message (status 65), as the spec loader's.
 * Where the file is: env->hosts_file (env.h).
 */

struct hosts_entry {
	char *name;
	char *uri;
};

struct hosts {
	struct hosts_entry *v;   /* in the file's order */
	size_t n;
};

/* Pure: parse the text of a hosts file; `file` names it in errors. */
int hosts_parse(const char *file, const char *buf, size_t len,
		struct hosts *out, struct vmctl_error **err);
/* Read and parse FILE; a missing file is an empty list (*missing set). */
int hosts_load_file(const char *file, struct hosts *out, int *missing,
		    struct vmctl_error **err);
void hosts_clear(struct hosts *hosts);

/* Pure: the URI of NAME, or NULL. */
const char *hosts_lookup(const struct hosts *hosts, const char *name);

/*
 * Pure: what --connect WHAT means.  A WHAT holding ':' is a URI, used as
 * given; otherwise a name in `hosts` (`file` names where they came from),
 * or a usage error (64) naming the file and the closest name.
 * *uri is a new string.
 */
int hosts_resolve(const struct hosts *hosts, const char *file,
		  const char *what, char **uri, struct vmctl_error **err);

/* hosts_resolve() of env->connect, reading env->hosts_file only when
 * env->connect is a name.  env->connect must be set. */
int hosts_resolve_env(const struct vmctl_env *env, char **uri,
		      struct vmctl_error **err);

#endif
