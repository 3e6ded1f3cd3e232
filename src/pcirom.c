// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * PCI option ROM images: signature, PCI data structure, lengths, chain.
 * The layout is the PCI Firmware Specification 3.0's, section 5.1
 * ("PCI Expansion ROMs"); the walk is the one the kernel's
 * pci_get_rom_size() (drivers/pci/rom.c) makes.  An EFI image's header
 * (UEFI spec, "EFI PCI Expansion ROM Header") has a 16-bit size at 0x02
 * and 0x0EF1 at 0x04; a legacy image has an 8-bit size at 0x02.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/fsutil.h"
#include "vmctl/pcirom.h"
#include "vmctl/xalloc.h"

#define ROM_MAX (16u << 20)
#define HEADER_LEN 0x1a          /* through the PCIR pointer */
#define PCIR_LEN 0x18            /* through the indicator byte */
#define HINT_SPAN (64u << 10)    /* where a misplaced 0x55AA is looked for */
#define DEVICE_LIST_MAX 256

static unsigned le16(const unsigned char *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)le16(p) | (uint32_t)le16(p + 2) << 16;
}

/* A 0x55AA at OFF whose PCIR pointer leads to "PCIR". */
static bool image_plausible(const unsigned char *d, size_t len, size_t off)
{
	size_t pcir;

	if (len - off < HEADER_LEN || d[off] != 0x55 || d[off + 1] != 0xaa)
		return false;
	pcir = le16(d + off + 0x18);
	return pcir >= HEADER_LEN && len - off >= pcir + PCIR_LEN &&
	       memcmp(d + off + pcir, "PCIR", 4) == 0;
}

static int no_signature(const unsigned char *d, size_t len,
			struct vmctl_error **err)
{
	size_t span = len < HINT_SPAN ? len : HINT_SPAN;

	for (size_t off = 1; off + HEADER_LEN <= span; off++)
		if (image_plausible(d, len, off))
			return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
					       "no 0x55AA signature at offset "
					       "0, but a ROM image starts at "
					       "offset 0x%zx: the file has a "
					       "header before it (nvflash "
					       "dumps do); cut the first %zu "
					       "bytes", off, off);
	return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "no 0x55AA "
			       "signature at offset 0: not a PCI option ROM");
}

/* The PCI 3.0 device list: more device ids the image supports. */
static void read_device_list(const unsigned char *d, size_t end,
			     size_t pcir, struct pcirom_image *img)
{
	size_t at;

	if (d[pcir + 0x0c] < 3 || le16(d + pcir + 8) == 0)
		return;
	at = pcir + le16(d + pcir + 8);
	for (size_t i = 0; i < DEVICE_LIST_MAX && at + 2 <= end; i++) {
		unsigned id = le16(d + at);

		if (id == 0)
			break;
		img->device_list = xreallocarray(img->device_list,
						 img->n_device_list + 1,
						 sizeof(*img->device_list));
		img->device_list[img->n_device_list++] = id;
		at += 2;
	}
}

/* Image IDX at OFF: its header and PCI data structure. */
static int check_image(const unsigned char *d, size_t len, size_t off,
		       size_t idx, struct pcirom_image *img,
		       struct strv *notes, struct vmctl_error **err)
{
	size_t pcir;
	unsigned units;

	if (len - off < HEADER_LEN)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "image %zu "
				       "at offset 0x%zx: %zu bytes, too short "
				       "for a ROM header", idx, off, len - off);
	if (d[off] != 0x55 || d[off + 1] != 0xaa)
		return idx == 0 ? no_signature(d, len, err)
		       : vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "image "
					 "%zu is not marked last, but no image "
					 "(0x55AA) follows it at offset 0x%zx",
					 idx - 1, off);
	pcir = le16(d + off + 0x18);
	if (pcir < HEADER_LEN || len - off < pcir + PCIR_LEN ||
	    memcmp(d + off + pcir, "PCIR", 4) != 0)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "image %zu "
				       "at offset 0x%zx: no PCI data structure "
				       "(\"PCIR\") at 0x%zx, where its pointer "
				       "at 0x18 leads", idx, off, off + pcir);
	pcir += off;
	*img = (struct pcirom_image){
		.offset = off,
		.vendor_id = le16(d + pcir + 4),
		.device_id = le16(d + pcir + 6),
		.class_code = (unsigned)d[pcir + 0x0d] |
			      (unsigned)d[pcir + 0x0e] << 8 |
			      (unsigned)d[pcir + 0x0f] << 16,
		.length = (size_t)le16(d + pcir + 0x10) * 512,
		.code_type = d[pcir + 0x14],
		.last = (d[pcir + 0x15] & 0x80) != 0,
	};
	if (img->length == 0)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "image %zu "
				       "at offset 0x%zx: its length (PCIR) is "
				       "0", idx, off);
	if (img->length > len - off)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "image %zu "
				       "at offset 0x%zx is %zu bytes long, but "
				       "the file ends %zu bytes after its start "
				       "(a truncated dump?)", idx, off,
				       img->length, len - off);
	if (pcir + PCIR_LEN > off + img->length)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "image %zu: "
				       "its PCI data structure lies outside the "
				       "image", idx);
	read_device_list(d, off + img->length, pcir, img);
	units = img->code_type == PCIROM_CODE_EFI &&
		le32(d + off + 4) == 0x0ef1 ? le16(d + off + 2) : d[off + 2];
	img->init_length = (size_t)units * 512;
	if (units == 0)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "image %zu "
				       "at offset 0x%zx: its size field (0x02) "
				       "is 0", idx, off);
	if (img->init_length > img->length)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "image %zu "
				       "at offset 0x%zx: its size field says "
				       "%u x 512 bytes, more than the %zu of "
				       "its PCI data structure", idx, off,
				       units, img->length);
	if (img->code_type == PCIROM_CODE_X86) {
		unsigned sum = 0;

		for (size_t i = 0; i < img->init_length; i++)
			sum += d[off + i];
		if ((sum & 0xff) != 0)
			strv_pushf(notes, "image %zu (x86): its checksum is "
				   "0x%02x, not 0 (a modified or shadowed "
				   "copy?)", idx, sum & 0xff);
	}
	return 0;
}

int pcirom_check(const void *data, size_t len, struct pcirom_info *out,
		 struct vmctl_error **err)
{
	const unsigned char *d = data;
	struct pcirom_info info = { .size = len };
	size_t off = 0;

	*out = (struct pcirom_info){ 0 };
	if (len == 0)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "empty: no "
				       "ROM image (the card showed none, or "
				       "the ROM BAR was not enabled)");
	for (size_t idx = 0;; idx++) {
		struct pcirom_image img;

		if (off >= len) {
			pcirom_info_clear(&info);
			return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
					       "image %zu is not marked last, "
					       "but the file ends after it",
					       idx - 1);
		}
		if (check_image(d, len, off, idx, &img, &info.notes,
				err) < 0) {
			pcirom_info_clear(&info);
			return -1;
		}
		info.images = xreallocarray(info.images, info.n + 1,
					    sizeof(*info.images));
		info.images[info.n++] = img;
		off += img.length;
		if (img.last)
			break;
	}
	if (off < len)
		strv_pushf(&info.notes, "%zu bytes after the last image "
			   "(ignored)", len - off);
	*out = info;
	return 0;
}

int pcirom_check_file(const char *path, struct pcirom_info *out,
		      struct vmctl_error **err)
{
	cleanup_free char *data = NULL;
	size_t len;

	*out = (struct pcirom_info){ 0 };
	if (fs_read_file(path, ROM_MAX, &data, &len, VMCTL_EXIT_NOINPUT,
			 err) < 0)
		return -1;
	if (pcirom_check(data, len, out, err) < 0)
		return vmctl_error_wrap(err, "%s", path);
	return 0;
}

void pcirom_info_clear(struct pcirom_info *info)
{
	for (size_t i = 0; i < info->n; i++)
		free(info->images[i].device_list);
	free(info->images);
	strv_clear(&info->notes);
	*info = (struct pcirom_info){ 0 };
}

bool pcirom_matches(const struct pcirom_info *info, unsigned vendor_id,
		    unsigned device_id)
{
	for (size_t i = 0; i < info->n; i++) {
		const struct pcirom_image *img = &info->images[i];

		if (img->vendor_id != vendor_id)
			continue;
		if (img->device_id == device_id)
			return true;
		for (size_t k = 0; k < img->n_device_list; k++)
			if (img->device_list[k] == device_id)
				return true;
	}
	return false;
}

const char *pcirom_code_type_name(unsigned code_type)
{
	switch (code_type) {
	case PCIROM_CODE_X86:
		return "x86";
	case PCIROM_CODE_OPENFW:
		return "openfirmware";
	case PCIROM_CODE_HPPA:
		return "hppa";
	case PCIROM_CODE_EFI:
		return "efi";
	}
	return "other";
}

static char *size_text(size_t bytes)
{
	if (bytes % 1024 == 0)
		return xasprintf("%zu KiB", bytes / 1024);
	return xasprintf("%zu bytes", bytes);
}

char *pcirom_describe(const struct pcirom_info *info)
{
	cleanup_free char *total = size_text(info->size);
	char *s = xasprintf("%zu image%s, %s:", info->n,
			    info->n == 1 ? "" : "s", total);

	for (size_t i = 0; i < info->n; i++) {
		const struct pcirom_image *img = &info->images[i];
		cleanup_free char *len = size_text(img->length);
		char *t = xasprintf("%s%s %s %04x:%04x (%s%s)", s,
				    i ? "," : "",
				    pcirom_code_type_name(img->code_type),
				    img->vendor_id, img->device_id, len,
				    img->last ? ", last" : "");

		free(s);
		s = t;
	}
	return s;
}

/* A hex id of WIDTH digits: "10de", "030000". */
static void add_hex(cJSON *o, const char *key, int width, unsigned v)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%0*x", width, v);
	cJSON_AddStringToObject(o, key, buf);
}

cJSON *pcirom_info_json(const struct pcirom_info *info)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *arr;

	cJSON_AddNumberToObject(o, "size", (double)info->size);
	arr = cJSON_AddArrayToObject(o, "images");
	for (size_t i = 0; i < info->n; i++) {
		const struct pcirom_image *img = &info->images[i];
		cJSON *io = cJSON_CreateObject();
		cJSON *list;

		cJSON_AddNumberToObject(io, "offset", (double)img->offset);
		cJSON_AddNumberToObject(io, "length", (double)img->length);
		add_hex(io, "vendor_id", 4, img->vendor_id);
		add_hex(io, "device_id", 4, img->device_id);
		list = cJSON_AddArrayToObject(io, "device_list");
		for (size_t k = 0; k < img->n_device_list; k++) {
			char id[16];

			snprintf(id, sizeof(id), "%04x", img->device_list[k]);
			cJSON_AddItemToArray(list, cJSON_CreateString(id));
		}
		add_hex(io, "class", 6, img->class_code);
		cJSON_AddStringToObject(io, "code_type",
					pcirom_code_type_name(img->code_type));
		cJSON_AddBoolToObject(io, "last", img->last);
		cJSON_AddItemToArray(arr, io);
	}
	arr = cJSON_AddArrayToObject(o, "notes");
	for (size_t i = 0; i < info->notes.n; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(info->notes.v[i]));
	return o;
}
