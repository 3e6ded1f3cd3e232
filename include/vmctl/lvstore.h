/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_LVSTORE_H
#define VMCTL_LVSTORE_H

#include <stdbool.h>
#include <stdint.h>

#include <libvirt/libvirt.h>

#include "vmctl/error.h"

/*
 * vmctl's storage on a libvirt host: one dir pool, LVSTORE_POOL, holding
 * the base images (uploaded once, named by their digest, never deleted
 * by a VM's destroy) and each VM's volumes: its qcow2 overlay over a base
 * and its cloud-init seed.  Errors name the URI (lvconn_error).
 */

#define LVSTORE_POOL "vmctl"
#define LVSTORE_POOL_PATH "/var/lib/libvirt/images/vmctl"

/* Pure: a base's volume name for its digest "ALGO:HEX" and format:
 * "base-ALGO-HEX.FORMAT". */
char *lvstore_base_name(const char *digest, const char *format);
/* Pure: is `vol` one of the volumes of the base `name` (from
 * lvstore_base_name()): an upload, NAME.RAND (8 hex digits), or the mark
 * that it is whole, NAME.RAND.ok (*mark)? */
bool lvstore_base_volume(const char *vol, const char *name, bool *mark);
/* Pure, lvstore_base_name()'s inverse: "base-ALGO-HEX.FMT" or
 * "base-ALGO-HEX.FMT.RAND" (8 hex digits): true with *digest "ALGO:HEX"
 * and *format (new strings). */
bool lvstore_base_parse(const char *volume, char **digest, char **format);
/* Pure: the VM's volumes: "NAME.qcow2" and "NAME-seed.iso". */
char *lvstore_disk_name(const char *vm);
char *lvstore_seed_name(const char *vm);
/* Pure: a linked clone's layer (lvvm-clone.c): "layer_SRC-HEX.qcow2"
 * (4 random bytes).  '_' is in no VM name (spec_name_valid), so no VM's
 * volume and no base takes a layer's name. */
#define LVSTORE_LAYER_PREFIX "layer_"
char *lvstore_layer_name(const char *src, const unsigned char rnd[4]);
/* Pure: is the volume at `path` (or named so) a layer? */
bool lvstore_layer_path(const char *path);
/* Pure: the dir pool's XML. */
char *lvstore_pool_xml(const char *name, const char *path);
/* Pure: a volume's XML: `capacity` bytes of `format`; with backing
 * (absolute path) and backing_format, an overlay over it.  NULL when a
 * string holds a character XML cannot carry. */
char *lvstore_volume_xml(const char *name, uint64_t capacity,
			 const char *format, const char *backing,
			 const char *backing_format);

/* The pool: looked up, or defined, built, started and autostarted. */
int lvstore_pool(virConnectPtr conn, const char *uri,
		 virStoragePoolPtr *out, struct vmctl_error **err);

/*
 * The base volume for the local file `path` (its digest and format):
 * uploaded unless a whole one is already there.  Each upload goes to a
 * volume of its own (NAME.RAND) and is marked whole (NAME.RAND.ok) only
 * after its last byte, so no VM stands on a base that a killed or a
 * concurrent create left half sent.  *path_out gets the volume's path on
 * the host; *uploaded whether this call sent it.
 */
int lvstore_base(virStoragePoolPtr pool, const char *uri, const char *path,
		 const char *digest, const char *format, char **path_out,
		 bool *uploaded, struct vmctl_error **err);

/* The whole base volume `name` (lvstore_base_name(); the first marked,
 * in name order): 1 with *path_out, 0 when there is none. */
int lvstore_base_find(virStoragePoolPtr pool, const char *uri,
		      const char *name, char **path_out,
		      struct vmctl_error **err);

/* The volume's bytes from `offset` to its end, handed to `sink` as they
 * arrive (virStorageVolDownload on a stream); *got: how many.  A sink
 * that fails sets *err itself and ends the download. */
typedef int (*lvstore_sink)(const char *data, size_t n, void *opaque,
			    struct vmctl_error **err);
int lvstore_download(virStorageVolPtr vol, const char *uri,
		     unsigned long long offset, lvstore_sink sink,
		     void *opaque, unsigned long long *got,
		     struct vmctl_error **err);

/* The volume `name` of the pool into the new local file `path`. */
int lvstore_download_file(virStoragePoolPtr pool, const char *uri,
			  const char *name, const char *path,
			  struct vmctl_error **err);
/* Upload the local file `path` as a new volume `name` (raw); on failure
 * nothing is left.  *path_out: the volume's path on the host. */
int lvstore_upload(virStoragePoolPtr pool, const char *uri, const char *name,
		   const char *path, char **path_out,
		   struct vmctl_error **err);

/* A qcow2 overlay `name` of `size` bytes over the volume at `base`. */
int lvstore_overlay(virStoragePoolPtr pool, const char *uri, const char *name,
		    uint64_t size, const char *base, const char *base_format,
		    char **path_out, struct vmctl_error **err);

/* Delete the volume `name` if it exists: 1 deleted, 0 there was none. */
int lvstore_delete(virStoragePoolPtr pool, const char *uri, const char *name,
		   struct vmctl_error **err);

#endif
