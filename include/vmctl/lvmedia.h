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

#endif
