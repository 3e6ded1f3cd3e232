// SPDX-License-Identifier: GPL-2.0-or-later
/* PCI option ROM checks, on synthesized images. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "vmctl/pcirom.h"
#include "vmctl/sysfs.h"
#include "vmctl/xalloc.h"

#define PCIR_AT 0x1c

/*
 * One image at rom + off: UNITS x 512 bytes, the PCIR structure at 0x1c,
 * a legacy header (size byte) or an EFI one (0x0EF1, 16-bit size), the
 * x86 checksum made right.
 */
static void image(unsigned char *rom, size_t off, unsigned vendor,
		  unsigned device, unsigned units, unsigned code, int last)
{
	unsigned char *d = rom + off;
	unsigned char *p = d + PCIR_AT;
	unsigned sum = 0;

	memset(d, 0, units * 512);
	d[0] = 0x55;
	d[1] = 0xaa;
	if (code == PCIROM_CODE_EFI) {
		d[2] = units & 0xff;
		d[3] = units >> 8;
		d[4] = 0xf1;
		d[5] = 0x0e;
	} else {
		d[2] = units;
		d[3] = 0xeb;   /* a jump, as a real entry point */
	}
	d[0x18] = PCIR_AT;
	memcpy(p, "PCIR", 4);
	p[4] = vendor & 0xff;
	p[5] = vendor >> 8;
	p[6] = device & 0xff;
	p[7] = device >> 8;
	p[0x0a] = 0x18;
	p[0x0d] = 0x00;
	p[0x0e] = 0x00;
	p[0x0f] = 0x03;            /* display controller */
	p[0x10] = units & 0xff;
	p[0x11] = units >> 8;
	p[0x14] = code;
	p[0x15] = last ? 0x80 : 0x00;
	if (code == PCIROM_CODE_X86) {
		for (size_t i = 0; i < units * 512; i++)
			sum += d[i];
		d[units * 512 - 1] = (unsigned char)(0x100 - (sum & 0xff));
	}
}

static void test_good(void)
{
	unsigned char *rom = xcalloc(1, 4 * 512);
	struct pcirom_info info;
	struct vmctl_error *err = NULL;
	cleanup_free char *text = NULL;

	image(rom, 0, 0x10de, 0x1b80, 2, PCIROM_CODE_X86, 0);
	image(rom, 1024, 0x10de, 0x1b80, 2, PCIROM_CODE_EFI, 1);
	ok(pcirom_check(rom, 4 * 512, &info, &err) == 0, "two images: valid");
	ok(info.n == 2 && info.images[0].offset == 0 &&
	   info.images[1].offset == 1024, "two images, chained by length");
	ok(info.images[0].code_type == PCIROM_CODE_X86 &&
	   info.images[1].code_type == PCIROM_CODE_EFI &&
	   !info.images[0].last && info.images[1].last,
	   "code types and the last-image bit");
	ok(info.images[1].init_length == 1024,
	   "EFI header: 16-bit size at 0x02");
	ok(info.images[0].class_code == 0x030000, "class from PCIR");
	ok(info.notes.n == 0, "no notes for a clean ROM");
	ok(pcirom_matches(&info, 0x10de, 0x1b80), "matches its card");
	ok(!pcirom_matches(&info, 0x10de, 0x1b81), "not another device");
	ok(!pcirom_matches(&info, 0x1002, 0x1b80), "nor another vendor");
	text = pcirom_describe(&info);
	is_str(text, "2 images, 2 KiB: x86 10de:1b80 (1 KiB), efi 10de:1b80 "
	       "(1 KiB, last)", "summary");
	pcirom_info_clear(&info);

	/* Padding after the last image: a note, not an error. */
	memset(rom, 0, 4 * 512);
	image(rom, 0, 0x1002, 0x67df, 2, PCIROM_CODE_X86, 1);
	ok(pcirom_check(rom, 4 * 512, &info, &err) == 0 && info.n == 1,
	   "one image and padding: valid");
	is_str(info.notes.n ? info.notes.v[0] : NULL,
	       "1024 bytes after the last image (ignored)", "padding noted");
	pcirom_info_clear(&info);

	/* A legacy image whose checksum is off is noted. */
	rom[0x100] ^= 1;
	ok(pcirom_check(rom, 2 * 512, &info, &err) == 0 && info.notes.n == 1 &&
	   strstr(info.notes.v[0], "checksum") != NULL, "bad checksum noted");
	pcirom_info_clear(&info);
	free(rom);
}

static void test_device_list(void)
{
	unsigned char *rom = xcalloc(1, 512);
	struct pcirom_info info;
	struct vmctl_error *err = NULL;
	cJSON *j;
	char *s;

	image(rom, 0, 0x1002, 0x67df, 1, PCIROM_CODE_EFI, 1);
	rom[PCIR_AT + 0x0c] = 3;          /* PCI 3.0 structure */
	rom[PCIR_AT + 8] = 0x20;          /* device list at PCIR + 0x20 */
	rom[PCIR_AT + 0x20] = 0xc7;
	rom[PCIR_AT + 0x21] = 0x67;       /* 67c7 */
	ok(pcirom_check(rom, 512, &info, &err) == 0, "PCI 3.0 image: valid");
	ok(info.images[0].n_device_list == 1 &&
	   pcirom_matches(&info, 0x1002, 0x67c7),
	   "the device list counts as a match");
	j = pcirom_info_json(&info);
	s = cJSON_PrintUnformatted(j);
	is_str(s, "{\"size\":512,\"images\":[{\"offset\":0,\"length\":512,"
	       "\"vendor_id\":\"1002\",\"device_id\":\"67df\",\"device_list\":"
	       "[\"67c7\"],\"class\":\"030000\",\"code_type\":\"efi\","
	       "\"last\":true}],\"notes\":[]}", "JSON");
	free(s);
	cJSON_Delete(j);
	pcirom_info_clear(&info);
	free(rom);
}

/* Check BYTES and expect an error containing WANT. */
static void bad(const unsigned char *rom, size_t len, const char *want,
		const char *what)
{
	struct pcirom_info info;
	struct vmctl_error *err = NULL;
	int r = pcirom_check(rom, len, &info, &err);

	ok(r < 0 && err && strstr(err->message, want) != NULL, "%s: %s", what,
	   err ? err->message : "(accepted)");
	ok(info.n == 0 && info.images == NULL, "%s: nothing returned", what);
	vmctl_error_free(err);
	pcirom_info_clear(&info);
}

static void test_bad(void)
{
	unsigned char *rom = xcalloc(1, 8 * 512);

	bad(rom, 0, "empty", "empty file");
	bad(rom, 8 * 512, "no 0x55AA signature at offset 0: not a PCI",
	    "zeros");
	/* An nvflash-style header of 0x300 bytes before the image. */
	image(rom, 0x300, 0x10de, 0x1b80, 2, PCIROM_CODE_X86, 1);
	memcpy(rom, "NVGI", 4);
	bad(rom, 0x300 + 1024, "cut the first 768 bytes", "header before it");

	memset(rom, 0, 8 * 512);
	image(rom, 0, 0x10de, 0x1b80, 4, PCIROM_CODE_X86, 1);
	bad(rom, 3 * 512, "is 2048 bytes long, but the file ends 1536 bytes "
	    "after its start", "truncated");
	bad(rom, 0x20, "no PCI data structure", "PCIR past the end");

	rom[PCIR_AT] = 'X';
	bad(rom, 4 * 512, "no PCI data structure (\"PCIR\") at 0x1c",
	    "PCIR signature");

	memset(rom, 0, 8 * 512);
	image(rom, 0, 0x10de, 0x1b80, 2, PCIROM_CODE_X86, 1);
	rom[2] = 3;
	bad(rom, 2 * 512, "its size field says 3 x 512 bytes, more than the "
	    "1024", "size byte past the image");
	rom[2] = 0;
	bad(rom, 2 * 512, "size field (0x02) is 0", "size byte 0");

	memset(rom, 0, 8 * 512);
	image(rom, 0, 0x10de, 0x1b80, 2, PCIROM_CODE_X86, 1);
	rom[PCIR_AT + 0x10] = 0;
	bad(rom, 2 * 512, "its length (PCIR) is 0", "image length 0");

	/* Not marked last: the chain must go on. */
	memset(rom, 0, 8 * 512);
	image(rom, 0, 0x10de, 0x1b80, 2, PCIROM_CODE_X86, 0);
	bad(rom, 2 * 512, "image 0 is not marked last, but the file ends",
	    "chain ends early");
	bad(rom, 4 * 512, "image 0 is not marked last, but no image (0x55AA) "
	    "follows it at offset 0x400", "chain broken");
	free(rom);
}

static void test_file(void)
{
	char path[] = "/tmp/vmctl-test-rom.XXXXXX";
	int fd = mkstemp(path);
	unsigned char rom[512];
	struct pcirom_info info;
	struct vmctl_error *err = NULL;

	image(rom, 0, 0x10de, 0x2204, 1, PCIROM_CODE_EFI, 1);
	ok(fd >= 0 && write(fd, rom, sizeof(rom)) == (ssize_t)sizeof(rom),
	   "ROM file written");
	close(fd);
	ok(pcirom_check_file(path, &info, &err) == 0 && info.n == 1 &&
	   info.images[0].device_id == 0x2204, "from a file");
	pcirom_info_clear(&info);
	ok(truncate(path, 100) == 0, "file cut to 100 bytes");
	ok(pcirom_check_file(path, &info, &err) < 0 && err &&
	   strncmp(err->message, path, strlen(path)) == 0,
	   "a bad file's error names it");
	vmctl_error_free(err);
	err = NULL;
	unlink(path);
	ok(pcirom_check_file(path, &info, &err) < 0 &&
	   err->status == VMCTL_EXIT_NOINPUT, "a missing file: status 66");
	vmctl_error_free(err);
}

static void test_refusal(void)
{
	struct pci_function fn = { .vendor_id = 0x10de, .device_id = 0x1b80,
				   .class_code = 0x030000, .boot_vga = 0,
				   .iommu_group = 1 };
	char *why;

	sysfs_parse_pci_name("0000:01:00.0", &fn.addr);
	fn.driver = xstrdup("vfio-pci");
	ok(pcirom_dump_refusal(&fn) == NULL, "a GPU on vfio-pci: read");
	free(fn.driver);
	fn.driver = NULL;
	ok(pcirom_dump_refusal(&fn) == NULL, "a GPU on no driver: read");
	fn.driver = xstrdup("nvidia");
	why = pcirom_dump_refusal(&fn);
	is_str(why, "0000:01:00.0 is on nvidia: turning its ROM on can "
	       "disturb a card a host driver uses; move it to vfio-pci first "
	       "(vmctl bind 0000:01:00.0)", "a GPU on its host driver");
	free(why);
	fn.boot_vga = 1;
	why = pcirom_dump_refusal(&fn);
	ok(why && strstr(why, "the host's boot display"), "the boot display");
	free(why);
	free(fn.driver);
	fn.driver = xstrdup("pci-stub");
	ok(pcirom_dump_refusal(&fn) == NULL, "boot_vga handed to pci-stub: "
	   "no longer the host's display");
	fn.class_code = 0x040300;
	why = pcirom_dump_refusal(&fn);
	is_str(why, "0000:01:00.0 is no display controller (class 0403): only "
	       "a GPU's ROM is read", "an audio function");
	free(why);
	free(fn.driver);
}

int main(void)
{
	test_good();
	test_device_list();
	test_bad();
	test_file();
	test_refusal();
	return tap_done();
}
