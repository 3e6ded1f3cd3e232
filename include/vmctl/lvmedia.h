/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_LVMEDIA_H
#define VMCTL_LVMEDIA_H

/*
 * `vmctl cdrom` and `vmctl disk resize` on a libvirt host, the pure half
 * (lvvm-media.c does the calls): what a domain's XML says of its CD-ROM
 * drive and of the disk vmctl made for it, and the <disk> element that
 * virDomainUpdateDeviceFlags takes to change the medium.  No I/O.
 */

/*
 * The domain's CD-ROM drive (its first <disk device='cdrom'>) as the
 * <disk> element for virDomainUpdateDeviceFlags: the same element, so
 * that its target, bus, address and boot order are what libvirt has,
 * with its medium `path` (a file on the host), or none (path NULL:
 * eject).  1 with *out, 0 when the domain has no CD-ROM drive, -1 when
 * the XML does not parse.
 */
int lvmedia_cdrom_xml(const char *domain_xml, const char *path, char **out);

/* The medium in the drive: 1 with *medium (NULL: empty), 0 when the
 * domain has no CD-ROM drive, -1 when the XML does not parse. */
int lvmedia_cdrom_medium(const char *domain_xml, char **medium);

/*
 * The target (vda, sda...) of vmctl's disk: the <disk device='disk'>
 * whose source file is the volume `volume` (lvstore_disk_name(), the
 * VM's overlay) in any directory.  1 with *target, 0 when there is none,
 * -1 when the XML does not parse.
 */
int lvmedia_disk_target(const char *domain_xml, const char *volume,
			char **target);

/*
 * boot: cdrom-once on a libvirt host.  The domain is defined with the
 * CD-ROM drive at <boot order='1'/> and the disk at 2; once a start with
 * a medium in the drive runs, the disk goes first (lvvm_boot_once()).
 *
 * lvmedia_boot_cdrom_first(): 1 when the domain's XML boots the CD-ROM
 * first with a medium in it, with the user aliases (<alias name='ua-…'>)
 * of that drive and of the disk at order 2 (their qdev ids); 0 when not
 * (no drive, no medium, another order, a drive or disk without a user
 * alias), -1 when the XML does not parse.
 *
 * lvmedia_boot_disk_first(): the document with that disk at order 1 and
 * the drive at 2: 1 with *out, 0 when the CD-ROM is not first (medium or
 * not), -1 when the XML does not parse.
 */
int lvmedia_boot_cdrom_first(const char *domain_xml, char **cdrom_alias,
			     char **disk_alias);
int lvmedia_boot_disk_first(const char *domain_xml, char **out);

#endif
