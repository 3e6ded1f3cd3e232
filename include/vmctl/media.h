/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_MEDIA_H
#define VMCTL_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "vmctl/error.h"
#include "vmctl/spec.h"
#include "vmctl/strv.h"

/*
 * The pure rules of `vmctl cdrom` and `vmctl disk` (vm-cdrom.h,
 * vm-disk.h): QEMU's names for the drives, the QMP arguments and the
 * qemu-img argv, the boot order of boot: cdrom-once, the size a resize
 * goes to.  No I/O.
 */

#define MEDIA_CDROM_ID "cdrom0"   /* the ide-cd's qdev id (qemu-argv.c) */
#define MEDIA_DISK_ID  "disk0"    /* the disk's qdev id and qcow2 node */
#define MEDIA_QOM_PREFIX "/machine/peripheral/"

/* boot: cdrom-once: does a start boot the CD-ROM first?  Only while its
 * one boot is not done (`booted`), with a medium in the drive, and not
 * when the start resumes saved RAM (no firmware runs then). */
bool media_cdrom_first(const struct vmctl_spec *spec, bool booted,
		       bool resuming);

/*
 * The qom-set steps (in order) that give the disk bootindex 1 and the
 * CD-ROM 2 on a QEMU started the other way round.  QEMU rebuilds the
 * firmware's boot order at every machine reset, so the boot under way
 * keeps the CD-ROM and every later one (the guest's own reboot) gets the
 * disk; a bootindex in use is refused, so the CD-ROM lets go of 1 first.
 */
struct media_qom_set {
	const char *path;
	int value;
};
size_t media_boot_swap(struct media_qom_set out[3]);
/* The same steps on the devices at QOM paths cdrom and disk (borrowed):
 * libvirt's user aliases (lvvm_boot_once()). */
size_t media_boot_swap_paths(const char *cdrom, const char *disk,
			     struct media_qom_set out[3]);
/* One step's qom-set arguments (path, property bootindex, value). */
cJSON *media_qom_set_args(const struct media_qom_set *step);

/* The node name for a medium inserted while the VM runs, beside the one
 * in the drive now (`current`, NULL: none): cdrom0 and cdrom1 in turn,
 * the file node under it NODE-file. */
const char *media_cdrom_node(const char *current);
/* blockdev-add arguments: the read-only file node on a descriptor QEMU
 * got with add-fd (/dev/fdset/N: QEMU, no longer root, could not open
 * the path itself), and the raw node over it (never format probing). */
cJSON *media_cdrom_file_node(const char *node, long fdset);
cJSON *media_cdrom_raw_node(const char *node);
/* {"id": "cdrom0", ...more}: the tray and medium commands' arguments. */
cJSON *media_cdrom_args(const char *node);

/*
 * The size `vmctl disk resize NAME SIZE` grows the disk to: SIZE
 * ("40G") or the current size plus SIZE ("+10G").  Grow only: a size not
 * larger than `current` is refused (65), a SIZE that does not parse is a
 * usage error (64).
 */
int media_resize_target(const char *name, const char *arg, uint64_t current,
			uint64_t *out, struct vmctl_error **err);
/* qemu-img resize of a stopped VM's overlay (format said, not probed). */
void media_resize_argv(const char *overlay, uint64_t size, struct strv *argv);
/* block_resize's arguments for the running VM's disk node. */
cJSON *media_block_resize_args(uint64_t size);

/* `status`: the CD-ROM ({"medium": PATH or null}, null without a drive)
 * and the boot order ({"order": "disk" | "cdrom-once", "cdrom_booted"}). */
void media_status_json(cJSON *o, const struct vmctl_spec *spec, bool booted);
/* The same as `status` lines ("cdrom:      ..."), none for a VM without
 * a drive and with the default order. */
char *media_status_text(const struct vmctl_spec *spec, bool booted);

#endif
