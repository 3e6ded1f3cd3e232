/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_LVMIGRATE_H
#define VMCTL_LVMIGRATE_H

#include <stdbool.h>
#include <stddef.h>

#include <libvirt/libvirt.h>

#include "vmctl/env.h"
#include "vmctl/error.h"

/*
 * A VM from one libvirt host to another: `vmctl migrate` (live, libvirt's
 * own migration, the disk copied by QEMU as it runs) and `vmctl move`
 * (cold: stopped, its volumes carried through this machine, defined and
 * started there).  The source is --connect, the destination --to (a hosts
 * file name or a URI).  Before either, the destination gets the VM's
 * bases (lvstore_base(): from the local verified image cache, else read
 * from the source and checked against the digest they are named by) and
 * its seed; what either made there is removed when it fails, and the
 * source VM is left as it was (running, if it was).
 */

/* The migration: live, persistent on the destination, undefined on the
 * source, the disk's top layer copied (the bases are there already). */
unsigned lvmigrate_flags(void);

/* Pure: the URI the destination's QEMU listens on (VIR_MIGRATE_PARAM_URI):
 * `given` (--migrate-uri) if set; else tcp://HOST of a remote `to` URI
 * (tcp://[HOST] for IPv6); NULL (libvirt's choice) for a local one. */
char *lvmigrate_migrate_uri(const char *to, const char *given);

/* Pure: can this domain (its XML) migrate?  0, or -1 with *reason (a new
 * string) naming the first host device (<hostdev>, or an <interface
 * type='hostdev'>): a VFIO device cannot migrate.  -1 with *reason also
 * for XML that does not parse. */
int lvmigrate_check(const char *xml, char **reason);

/* What a file the domain names in vmctl's pool is to a move. */
enum lvmigrate_kind {
	LVMIGRATE_BASE,     /* base-ALGO-HEX.FMT[.RAND]: a base, kernel... */
	LVMIGRATE_DISK,     /* NAME.qcow2: the VM's overlay */
	LVMIGRATE_SEED,     /* NAME-seed.iso */
	LVMIGRATE_LOG,      /* NAME-serial.log: a new, empty one there */
	LVMIGRATE_OTHER,    /* anything else: not carried (refused) */
};

struct lvmigrate_file {
	char *path;                 /* as the source domain names it */
	char *volume;               /* its name in the pool */
	enum lvmigrate_kind kind;
	/* LVMIGRATE_BASE: "ALGO:HEX" and the format from its name */
	char *digest, *format;
	/* LVMIGRATE_DISK: its backing file and that file's format */
	char *backing, *backing_format;
};

struct lvmigrate_files {
	struct lvmigrate_file *v;   /* each path once, in document order */
	size_t n;
};

/* Pure: the files of domain `vm` (its XML) under the pool directory
 * `pool_dir`: disk and backing sources, kernel, initrd. */
int lvmigrate_files(const char *xml, const char *pool_dir, const char *vm,
		    struct lvmigrate_files *out, struct vmctl_error **err);
void lvmigrate_files_clear(struct lvmigrate_files *f);


/* Pure: the XML with every attribute value or text equal to from[i]
 * replaced by to[i] (paths on the destination).  NULL when the XML does
 * not parse. */
char *lvmigrate_rewrite(const char *xml, const char *const *from,
			const char *const *to, size_t n);

struct lvmigrate_opts {
	const char *to;             /* hosts-file name or URI */
	const char *migrate_uri;    /* --migrate-uri, or NULL */
	int timeout_s;              /* move: the guest's shutdown time */
};

/* The commands (env->connect: the source).  Return an exit status, or -1
 * with *err. */
int lvmigrate_cmd_migrate(const struct vmctl_env *env, const char *name,
			  const struct lvmigrate_opts *opts,
			  struct vmctl_error **err);
int lvmigrate_cmd_move(const struct vmctl_env *env, const char *name,
		       const struct lvmigrate_opts *opts,
		       struct vmctl_error **err);

/* ---- internal to lvmigrate.c and lvmigrate-carry.c ----------------------- */

struct lvmigrate_side {
	virConnectPtr conn;
	char *uri;
	virStoragePoolPtr pool;
};

struct lvmigrate_job {
	const struct vmctl_env *env;
	const char *name;
	struct lvmigrate_side src, dst;
	virDomainPtr dom;              /* on the source */
	struct lvmigrate_files files;
	char **dst_paths;              /* files.v[i] on the destination */
	char *scratch;                 /* local directory for carried files */
	bool made_disk, made_seed, made_log; /* volumes made on the destination */
	bool dst_dom_possible;         /* a domain may be there because of us */
};

/* Every base there (found, or uploaded from the local verified cache or
 * the source's volume, checked), the seed carried whole, and the overlay:
 * made empty over its base (migrate: QEMU copies it), or carried whole
 * with its backing file made the destination's (`disk_contents`). */
int lvmigrate_carry_files(struct lvmigrate_job *j, bool disk_contents,
			  struct vmctl_error **err);
/* The source domain's XML (virDomainGetXMLDesc `flags`) with the
 * destination's paths. */
char *lvmigrate_dst_xml(const struct lvmigrate_job *j, unsigned flags,
			struct vmctl_error **err);
/* Failure: what was made on the destination goes. */
void lvmigrate_undo_dst(struct lvmigrate_job *j);
/* Success: the VM's overlay and seed on the source go (never a base). */
int lvmigrate_drop_src(struct lvmigrate_job *j, struct vmctl_error **err);

#endif
