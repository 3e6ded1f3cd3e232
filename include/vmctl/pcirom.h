/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_PCIROM_H
#define VMCTL_PCIROM_H

#include <stdbool.h>
#include <stddef.h>

#include <cJSON.h>

#include "vmctl/env.h"
#include "vmctl/error.h"
#include "vmctl/pci.h"
#include "vmctl/strv.h"

/*
 * PCI option ROM images (a GPU's `rom` file, a spec's gpu.rom): the
 * checks the kernel's pci_get_rom_size() and a guest's firmware make,
 * done before QEMU hands the file to a guest.  The layout is the PCI
 * Firmware Specification 3.0's (section 5.1): each image starts with
 * 0x55 0xAA; the 16-bit word at 0x18 points to its PCI data structure
 * ("PCIR"), which holds the vendor and device ids the image is for, its
 * length in 512-byte units and, in bit 7 of its indicator byte, whether
 * it is the last image of the chain.  Pure but for pcirom_check_file().
 */

/* PCIR code types. */
enum pcirom_code_type {
	PCIROM_CODE_X86 = 0,     /* PC-AT compatible (legacy BIOS) */
	PCIROM_CODE_OPENFW = 1,
	PCIROM_CODE_HPPA = 2,
	PCIROM_CODE_EFI = 3,
};

struct pcirom_image {
	size_t offset;           /* where the image starts in the file */
	size_t length;           /* PCIR image length, bytes */
	size_t init_length;      /* the header's size field, bytes */
	unsigned vendor_id, device_id;
	unsigned *device_list;   /* PCI 3.0 device list: more device ids */
	size_t n_device_list;
	unsigned class_code;     /* 0xCCSSPP */
	unsigned code_type;      /* enum pcirom_code_type, or another value */
	bool last;               /* indicator bit 7 */
};

struct pcirom_info {
	size_t size;             /* of the file */
	struct pcirom_image *images;
	size_t n;
	/* What is odd but does not make the ROM unusable: bytes after the
	 * last image, a legacy image whose checksum is not zero. */
	struct strv notes;
};

/*
 * Check a ROM image in memory.  Fails (status 1) when a guest could not
 * use it: no 0x55AA at offset 0 (the message says where one is when the
 * file has a header before it, as nvflash dumps do), no "PCIR" where
 * 0x18 points, an image length of 0 or past the end of the file (a
 * truncated dump), a size field larger than its image, an image not
 * marked last with no image after it.
 */
int pcirom_check(const void *data, size_t len, struct pcirom_info *out,
		 struct vmctl_error **err);
/* The same for a file (at most 16 MiB, the largest ROM BAR). */
int pcirom_check_file(const char *path, struct pcirom_info *out,
		      struct vmctl_error **err);
void pcirom_info_clear(struct pcirom_info *info);

/* Does some image claim this vendor:device (its PCIR ids or its device
 * list)?  A ROM for another card must not be given to a guest. */
bool pcirom_matches(const struct pcirom_info *info, unsigned vendor_id,
		    unsigned device_id);

const char *pcirom_code_type_name(unsigned code_type);
/* One line: "2 images, 126 KiB: x86 10de:1b80 (63 KiB), efi 10de:1b80
 * (63 KiB, last)". */
char *pcirom_describe(const struct pcirom_info *info);
/* docs/json.md, `gpu rom --json`. */
cJSON *pcirom_info_json(const struct pcirom_info *info);

/*
 * Reading a card's ROM through sysfs (pcirom-dump.c), the way the kernel
 * offers it: SYSFS/bus/pci/devices/ADDR/rom reads EINVAL until "1" is
 * written to it; "0\n" (two bytes, at offset 0: the kernel's own test)
 * turns it off again.  A `rom` that reads without that (a fake tree's
 * plain file, or one someone left on) is read as it is and left so.
 */

/* Why reading FN's ROM is refused, or NULL: it is no display controller,
 * it is the host's boot display (the kernel shows its shadowed, patched
 * copy, and the host drives it), or a host driver holds it (enabling the
 * ROM BAR can disturb a card in use).  Pure. */
char *pcirom_dump_refusal(const struct pci_function *fn);

/* FN's ROM bytes (FN not refused: the caller checks).  *enabled tells
 * whether vmctl turned the ROM on (and off again) to read it. */
int pcirom_dump(const struct vmctl_env *env, const struct pci_function *fn,
		char **data, size_t *len, bool *enabled,
		struct vmctl_error **err);

#endif
