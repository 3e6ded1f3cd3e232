/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_IMAGECACHE_H
#define VMCTL_IMAGECACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "vmctl/checksum.h"
#include "vmctl/env.h"
#include "vmctl/error.h"
#include "vmctl/fsutil.h"
#include "vmctl/spec.h"
#include "vmctl/state.h"
#include "vmctl/strv.h"

/*
 * Base images, verified before use.  A URL is downloaded into
 * STATE_DIR/images/ (shared by every VM) under the name of the digest it
 * must have:
 *
 *   images/lock                  flock: shared by every create while it
 *                                fetches and uses an entry, exclusive
 *                                for `image prune`
 *   images/sha256-HEX            a verified entry (mode 0444): immutable,
 *   images/sha512-HEX            never renamed over while it verifies
 *   images/ENTRY.verified        stamp: digest, the file's identity (size,
 *                                mtime, inode) when it was hashed, URLs
 *   images/ENTRY.part            a download in flight or interrupted
 *   images/ENTRY.lock            flock: one download of ENTRY at a time
 *   images/HASH-NAME[.verified]  wave-1 entries, named after their URL:
 *                                still used by the VMs made over them
 *
 * A new digest for a URL (a republished "latest") is a new entry; the old
 * one stays while any VM uses it.  The stamp is trusted only while the
 * file's identity matches it; otherwise the file is hashed again.  A
 * checksum list is only trusted over https or with a good signature
 * (the schema refuses the rest).
 */
struct imagecache_result {
	char *path;          /* the local, verified (or unverifiable) image */
	char *digest;        /* "sha256:HEX" when verified, else NULL */
	struct fs_file_id id;/* the file as it was verified */
	bool downloaded;     /* this call fetched it */
	bool verified;       /* its digest was checked (now or before) */
	bool locked;         /* holds `lock`, a shared hold on the cache */
	int lock;            /* (prune waits for it) */
};

int imagecache_get(const struct vmctl_env *env, const struct spec_disk *disk,
		   bool progress, struct imagecache_result *out,
		   struct vmctl_error **err);
void imagecache_result_clear(struct imagecache_result *r);
/* The verified entry of `digest` ("sha256:HEX", "sha512:HEX"), if the
 * cache has one that still holds it (its stamp's identity, or hashed
 * again): 1 with *out (the cache's shared lock held until it is
 * cleared), 0 when there is none. */
int imagecache_find(const struct vmctl_env *env, const char *digest,
		    struct imagecache_result *out, struct vmctl_error **err);

/* Create: what the VM's base is, for vm.json. */
void imagecache_record_base(const struct imagecache_result *r,
			    struct vm_state *st);

/*
 * Start: is the VM's base still the file its overlay was made over?  Same
 * identity: yes.  Another identity but the recorded digest still matches
 * (hashed again): yes, and the record is updated.  Otherwise, or with no
 * digest to check, the start is refused.  A VM made before identities
 * were recorded gets its base's identity recorded now.
 */
int imagecache_check_base(const struct vmctl_env *env, const char *name,
			  struct vm_state *st, struct vmctl_error **err);

/* Pure: wave 1's cache name for a URL: "<16 hex of sha256(url)>-<basename>". */
char *imagecache_name(const char *url);
/* Pure: an entry's name: "sha256-HEX". */
char *imagecache_entry_name(enum checksum_algo algo, const char *hex);

/* A stamp (new JSON or wave 1's "algo:hex" line): digest ("algo:hex", or
 * NULL), the identity it holds (*id_known false for wave 1) and URLs. */
struct imagecache_stamp {
	char *digest;
	bool id_known;
	struct fs_file_id id;
	struct strv urls;
};
int imagecache_stamp_read(const char *path, struct imagecache_stamp *out);
void imagecache_stamp_clear(struct imagecache_stamp *s);

/* ---- image list / image prune (imagecache-admin.c) --------------------- */

struct imagecache_entry {
	char *name, *path;
	char *digest;          /* "sha256:HEX", or NULL (no stamp) */
	uint64_t size;         /* bytes */
	uint64_t disk_bytes;   /* space it takes */
	bool legacy;           /* named after its URL (wave 1) */
	struct strv urls;
	struct strv vms;       /* VMs whose base it is */
	/* A linked clones' layer, STATE_DIR/layers/NAME (vm-clone.h), and
	 * the file it stands on; `vms` stand on it. */
	bool layer;
	char *base;
};

struct imagecache_listing {
	struct imagecache_entry *v;   /* the cache's entries, then layers */
	size_t n;
	struct strv strays;    /* .part, orphan stamps and locks, temps */
	uint64_t strays_bytes;
	struct strv unknown_vms; /* VMs whose base could not be read */
};

int imagecache_list(const struct vmctl_env *env,
		    struct imagecache_listing *out, struct vmctl_error **err);
void imagecache_listing_clear(struct imagecache_listing *l);

struct imagecache_prune {
	struct strv removed;   /* names, entries first, then strays */
	uint64_t freed;        /* bytes */
};

/* Remove every entry and layer no VM uses and every stray file, under the cache's
 * exclusive lock; with `dry_run`, only say what would go.  Refuses when a
 * VM's base cannot be read (it might be any entry). */
int imagecache_prune(const struct vmctl_env *env, bool dry_run,
		     struct imagecache_prune *out, struct vmctl_error **err);
void imagecache_prune_clear(struct imagecache_prune *p);

/* Internal to the two files: the cache dir and its lock. */
char *imagecache_dir(const struct vmctl_env *env);
int imagecache_lock(const struct vmctl_env *env, bool exclusive,
		    struct vmctl_error **err);

#endif
