/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_LVFLEET_H
#define VMCTL_LVFLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "vmctl/env.h"
#include "vmctl/error.h"
#include "vmctl/hostinv.h"
#include "vmctl/hosts.h"
#include "vmctl/lvvm-devices.h"
#include "vmctl/lvvm.h"
#include "vmctl/pci.h"
#include "vmctl/spec.h"

/*
 * The fleet: every host of the hosts file (hosts.h) at once, for
 * `list --all-hosts`, `host --all-hosts` and `create --host auto`.
 *
 * Hosts are read in parallel, one thread and one read-only connection
 * each (libvirt's API is thread-safe per connection), every one bounded
 * as lvconn_open() bounds it (LVCONN_TIMEOUT_S), so a host that is down
 * costs at most that and never stops the others: its error is kept and
 * shown beside what the other hosts said.  Placement is pure: a spec's
 * needs against each host's facts.
 */

enum {
	LVFLEET_VMS = 1 << 0,         /* vmctl's domains */
	LVFLEET_RESOURCES = 1 << 1,   /* memory, CPUs, hugepages, GPUs */
};

/* One host as read.  error: NULL when it was read, else why not. */
struct lvfleet_host {
	const char *name;             /* borrowed from the hosts file */
	const char *uri;
	struct vmctl_error *error;
	/* LVFLEET_VMS */
	struct lvvm_info *vms;
	size_t n_vms;
	/* LVFLEET_RESOURCES */
	unsigned cpus;
	uint64_t mem_total, mem_free;           /* bytes */
	uint64_t huge_free[HOSTINV_N_HUGE];     /* pages: [0] 2M, [1] 1G */
	struct pci_host pci;
	struct lvvm_holders holders;            /* running domains' hostdevs */
};

struct lvfleet {
	struct lvfleet_host *v;       /* in the hosts file's order */
	size_t n;
};

/* Read every host of `hosts` (what `want` says); a host that fails has
 * its error set, the call itself does not fail. */
void lvfleet_read(const struct hosts *hosts, unsigned want,
		  struct lvfleet *out);
void lvfleet_clear(struct lvfleet *f);

/* Pure: a host's state for listings: "ok", or after an error "down"
 * (69: unreachable, refused), "denied" (77) or "failed" (any other). */
const char *lvfleet_status_name(const struct vmctl_error *e);

/*
 * Pure: where a spec's VM goes.  A host fits when it was read, its GPUs
 * take the spec's `gpu:` entries as create would take them there
 * (lvvm_gpus_match(): the same selection, free of running domains), its
 * free pages hold the spec's hugepages (lvvm_hugepages_pick()), and
 * without hugepages its free memory holds the spec's memory.  Of the
 * hosts that fit, the one with the most free memory; on a tie the first
 * in the hosts file.  why[i] says in one line, naming the host, why
 * host i was or was not taken.  Returns the chosen index, or -1.
 */
struct lvfleet_placement {
	int chosen;
	char **why;                   /* one per host */
	size_t n;
};

int lvfleet_place(const struct vmctl_spec *spec,
		  const struct lvfleet_host *hosts, size_t n,
		  struct lvfleet_placement *out);
void lvfleet_placement_clear(struct lvfleet_placement *p);
/* Pure: "placed on gpu2: ...; gpu1: ..." (the chosen host first). */
char *lvfleet_placement_summary(const struct lvfleet_placement *p);

/*
 * The commands.  Each returns an exit status: 0, or 69 when some host
 * could not be read (its line on stderr, its entry in the JSON) though
 * everything else was shown; -1 with *err when nothing could be (the
 * hosts file unreadable).
 *
 * list: `direct` adds the direct backend's rows (cmd-list.c): to `arr`
 * in JSON, else printed with `label` in the HOST column; it returns
 * their count, or -1 with *err.
 */
typedef int (*lvfleet_direct_fn)(struct vmctl_env *env, cJSON *arr,
				 const char *label, struct vmctl_error **err);
int lvfleet_cmd_list(struct vmctl_env *env, lvfleet_direct_fn direct,
		     struct vmctl_error **err);
int lvfleet_cmd_host(struct vmctl_env *env, struct vmctl_error **err);

/*
 * create --host WHAT: a host name (or URI) as --connect takes it, or
 * "auto": placement over the hosts file, its summary on stderr.  Sets
 * env->connect to the host to create on; -1 with *err (69 when no host
 * fits, each host's reason on stderr first; 64 with --connect too).
 */
int lvfleet_create_target(struct vmctl_env *env,
			  const struct vmctl_spec *spec, const char *what,
			  struct vmctl_error **err);

#endif
