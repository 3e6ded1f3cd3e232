/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_IMAGE_H
#define VMCTL_IMAGE_H

#include <stdint.h>

#include "vmctl/error.h"
#include "vmctl/strv.h"

struct image_info {
	char *format;          /* "qcow2", "raw", ... as qemu-img detects it */
	uint64_t virtual_size;
};

/* Pure: the qemu-img argv for an overlay over `base` (absolute, format
 * explicit, so QEMU never probes); size 0 keeps the base's size. */
void image_argv_overlay(const char *base, const char *base_format,
			const char *overlay, uint64_t size, struct strv *argv);

/*
 * Pure: judge the first bytes of a disk image (its first cluster, at most
 * 2 MiB).  A qcow2 image must stand alone: no backing file, no external
 * data file (flag or header extension); other formats QEMU would probe
 * (vmdk, vhdx, qed, ...) are refused; anything else is raw.  Sets *format
 * ("qcow2", "raw", or the refused format); returns -1 with *why (to free)
 * when the image is refused.
 */
int image_header_check(const unsigned char *buf, size_t len,
		       const char **format, char **why);

/* image_header_check() on a file: reads its header and nothing else. */
int image_check_base(const char *path, const char **format,
		     struct vmctl_error **err);

/* Pure: a qcow2 header's backing file name, or NULL. */
char *image_header_backing(const unsigned char *buf, size_t len);
/* The backing file an overlay names (from its header), *backing NULL when
 * none; no other file is opened. */
int image_backing_file(const char *path, char **backing,
		       struct vmctl_error **err);

/* Pure: the guest-visible size of an image whose header is buf (format
 * from image_header_check()): a qcow2 header's `size` field, or for raw
 * the file's size. */
uint64_t image_header_size(const unsigned char *buf, size_t len,
			   const char *format, uint64_t file_size);
/* image_check_base() and the size from the same header read: the format
 * is read by us, never probed, nothing beyond the image's own file is
 * opened, and no program runs (qemu-img info took 25 ms of a create). */
int image_info(const char *path, struct image_info *info,
	       struct vmctl_error **err);
void image_info_clear(struct image_info *info);
/* The guest-visible size of a qcow2 image (a VM's overlay), from its
 * header. */
int image_qcow2_size(const char *path, uint64_t *size,
		     struct vmctl_error **err);

int image_create_overlay(const char *base, const char *base_format,
			 const char *overlay, uint64_t size,
			 struct vmctl_error **err);

/* DIR/NAME (0600): the image `src` (format `format`, raw or qcow2) as a
 * standalone qcow2 of its current state, without snapshots (qemu-img
 * convert to a temporary, fsync, rename, fsync DIR), so it can hold
 * internal snapshots of its own: a UEFI VM's variable store.  The argv is
 * pure. */
void image_argv_to_qcow2(const char *src, const char *format,
			 const char *out, struct strv *argv);
int image_to_qcow2(const char *src, const char *format, const char *dir,
		   const char *name, struct vmctl_error **err);

#endif
