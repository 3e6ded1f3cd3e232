/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_LVVM_MEDIA_H
#define VMCTL_LVVM_MEDIA_H

#include <cJSON.h>
#include <libvirt/libvirt.h>

#include "vmctl/env.h"
#include "vmctl/error.h"
#include "vmctl/vm-cdrom.h"
#include "vmctl/vm-disk.h"

/*
 * vmctl cdrom and vmctl disk resize on a libvirt host (--connect), the
 * direct backend's vm-cdrom.h and vm-disk.h through libvirt's API
 * (lvmedia.h has the pure half).  Each fills the direct backend's
 * result, so the command prints the same forms, and gives the URI it
 * used in *uri (the caller frees it; set once known, also on failure).
 *
 * cdrom: the domain's CD-ROM drive (a spec's `cdrom: PATH` or `cdrom:
 * empty` gives one at create; libvirt hot-plugs no SATA drive, so a
 * domain without one is refused).  Insert uploads the ISO as a raw
 * volume of vmctl's pool named by its digest (lvvm_upload_file, sent
 * once), then virDomainUpdateDeviceFlags with the drive's <disk> on
 * that volume: live and in the persistent definition when the domain
 * runs, in the definition only when it is stopped; eject sends the
 * <disk> without a source.  The medium stays across stops and starts.
 *
 * disk resize: grow only (media_resize_target); a running domain's
 * overlay by virDomainBlockResize on its target, a stopped one's by
 * virStorageVolResize of the overlay volume (lvstore_disk_name()).
 *
 * Neither touches a VM holding a saved state (libvirt's managed save).
 */

int lvvm_cdrom_insert(const struct vmctl_env *env, const char *name,
		      const char *iso, struct vm_cdrom_result *out,
		      char **uri, struct vmctl_error **err);
int lvvm_cdrom_eject(const struct vmctl_env *env, const char *name,
		     struct vm_cdrom_result *out, char **uri,
		     struct vmctl_error **err);
int lvvm_disk_resize(const struct vmctl_env *env, const char *name,
		     const char *size, struct vm_disk_result *out, char **uri,
		     struct vmctl_error **err);

/* status: the CD-ROM and boot order as the direct backend's status has
 * them (media_status_json, media_status_text), from the domain's XML
 * (the once of cdrom_once, vmctl's mark says it, is done when the
 * definition no longer boots the CD-ROM first): added to `json`, or
 * (json NULL) printed. */
void lvvm_media_status(virDomainPtr dom, bool cdrom_once, cJSON *json);

/*
 * boot: cdrom-once, once the domain runs (lvvm_domain_start()): when it
 * booted its CD-ROM first (lvmedia_boot_cdrom_first() of the live XML),
 * QEMU's bootindex is swapped with qom-set through libvirt-qemu's
 * monitor passthrough on the drives' user aliases, so the guest's own
 * reboot boots the disk, and the persistent definition gets the disk
 * first, so every later start does.  Nothing when it did not.
 */
int lvvm_boot_once(virConnectPtr conn, const char *uri, virDomainPtr dom,
		   struct vmctl_error **err);

#endif
