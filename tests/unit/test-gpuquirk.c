// SPDX-License-Identifier: GPL-2.0-or-later
/* GPU quirks (gpuquirk.c) and the BARs they judge (pci_parse_resource). */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmctl/gpuquirk.h"
#include "vmctl/pci.h"
#include "vmctl/sysfs.h"
#include "vmctl/xalloc.h"

#define GiB (UINT64_C(1) << 30)
#define MiB (UINT64_C(1) << 20)

static struct pci_function fn(const char *addr, unsigned vendor,
			      unsigned device, unsigned class_code)
{
	struct pci_function f = {
		.vendor_id = vendor, .device_id = device,
		.class_code = class_code, .iommu_group = 1, .numa_node = -1,
		.boot_vga = 0, .detailed = true,
	};

	if (!sysfs_parse_pci_name(addr, &f.addr))
		abort();
	return f;
}

/* A GPU of N functions (the first the display function), judged. */
static void judge(struct pci_function *fns, size_t n,
		  struct gpuquirk_list *out)
{
	const struct pci_function *slot[8];
	struct gpu_info g = { .gpu = &fns[0], .slot = slot, .n_slot = n };

	for (size_t i = 0; i < n; i++)
		slot[i] = &fns[i];
	*out = (struct gpuquirk_list){ 0 };
	gpuquirk_judge(&g, out);
}

static void test_reset_table(void)
{
	static const struct {
		unsigned device;
		const char *family;
	} cases[] = {
		{ 0x67df, "Polaris 10" },   /* RX 470/480/570/580/590 */
		{ 0x6fdf, "Polaris 10" },   /* RX 580 2048SP */
		{ 0x67ef, "Polaris 11" },   /* RX 460/560 */
		{ 0x699f, "Polaris 12" },   /* RX 550 */
		{ 0x687f, "Vega 10" },      /* Vega 56/64 */
		{ 0x66af, "Vega 20" },      /* Radeon VII */
		{ 0x738c, "Arcturus" },     /* Instinct MI100 */
		{ 0x731f, "Navi 10" },      /* RX 5700 XT */
		{ 0x7340, "Navi 14" },      /* RX 5500 XT */
		{ 0x7360, "Navi 12" },
		{ 0x73bf, NULL },           /* Navi 21: RX 6800 XT resets */
		{ 0x744c, NULL },           /* Navi 31 */
		{ 0xaaf0, NULL },           /* a Polaris card's HDMI audio */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_str(gpuquirk_reset_family(0x1002, cases[i].device),
		       cases[i].family, "1002:%04x", cases[i].device);
	ok(gpuquirk_reset_family(0x10de, 0x67df) == NULL,
	   "only AMD's (ATI's) vendor id");
	ok(gpuquirk_reset_family(0x1022, 0x67df) == NULL,
	   "AMD's CPU vendor id is not a GPU's");
}

static void test_reset_judgement(void)
{
	struct pci_function f[2] = {
		fn("0000:06:00.0", 0x1002, 0x67df, 0x030000),
		fn("0000:06:00.1", 0x1002, 0xaaf0, 0x040300),
	};
	static const char want[] = "{\"kind\":\"reset-bug\",\"address\":"
				   "\"0000:06:00.0\",\"message\":";
	struct gpuquirk_list q;
	cJSON *j;
	char *s;

	f[0].reset_method = xstrdup("bus");
	judge(f, 2, &q);
	ok(q.n == 1 && q.v[0].kind == GPUQUIRK_RESET_BUG && q.v[0].fn == &f[0],
	   "RX 580: the reset bug");
	is_str(q.n ? q.v[0].message : NULL, "0000:06:00.0 (1002:67df, AMD "
	       "Polaris 10) has the AMD reset bug: once a VM has used it, it "
	       "does not come back from a reset, and the next start finds it "
	       "hung", "message");
	ok(q.n && strstr(q.v[0].fix, "vendor-reset") &&
	   strstr(q.v[0].fix, "echo device_specific > /sys/bus/pci/devices/"
		  "0000:06:00.0/reset_method"),
	   "fix: vendor-reset and the reset_method to set");
	gpuquirk_list_clear(&q);

	free(f[0].reset_method);
	f[0].reset_method = xstrdup("device_specific");
	judge(f, 2, &q);
	ok(q.n == 0, "reset_method device_specific: vendor-reset handles it");
	gpuquirk_list_clear(&q);

	free(f[0].reset_method);
	f[0].reset_method = xstrdup("device_specific_x bus");
	judge(f, 2, &q);
	ok(q.n == 1, "only the whole word device_specific counts");
	gpuquirk_list_clear(&q);

	free(f[0].reset_method);
	f[0].reset_method = NULL;
	judge(f, 2, &q);
	ok(q.n == 1 && strstr(q.v[0].fix, "no reset_method") &&
	   !strstr(q.v[0].fix, "echo"), "old kernel: no reset_method to set");
	j = gpuquirk_json(&q.v[0]);
	s = cJSON_PrintUnformatted(j);
	ok(strncmp(s, want, strlen(want)) == 0, "JSON: kind and address");
	free(s);
	cJSON_Delete(j);
	gpuquirk_list_clear(&q);

	f[0].device_id = 0x73bf;
	judge(f, 2, &q);
	ok(q.n == 0, "RX 6800 XT: no reset bug");
	gpuquirk_list_clear(&q);
}

static void test_bars(void)
{
	struct pci_function f[2] = {
		fn("0000:01:00.0", 0x10de, 0x2684, 0x030000),   /* RTX 4090 */
		fn("0000:01:00.1", 0x10de, 0x22ba, 0x040300),
	};
	struct gpuquirk_list q;
	struct gpu_info g = { 0 };
	const struct pci_function *slot[2] = { &f[0], &f[1] };

	f[0].bars[0] = (struct pci_bar){ .size = 16 * MiB };
	f[0].bars[1] = (struct pci_bar){ .size = 256 * MiB, .mem64 = true,
					 .prefetch = true };
	f[0].bars[3] = (struct pci_bar){ .size = 32 * MiB, .mem64 = true,
					 .prefetch = true };
	f[0].bars[5] = (struct pci_bar){ .size = 128, .io = true };
	judge(f, 2, &q);
	ok(q.n == 0, "256 MiB BAR (no Resizable BAR): fits");
	gpuquirk_list_clear(&q);

	f[0].bars[1].size = 32 * GiB;
	g = (struct gpu_info){ .gpu = &f[0], .slot = slot, .n_slot = 2 };
	ok(gpuquirk_bar64_total(&g) == 32 * GiB + 32 * MiB,
	   "64-bit BARs summed, 32-bit and I/O ones not");
	judge(f, 2, &q);
	ok(q.n == 1 && q.v[0].kind == GPUQUIRK_BAR_HOLE64, "32 GiB BAR + "
	   "32 MiB: past the 32 GiB hole");
	is_str(q.n ? q.v[0].message : NULL, "0000:01:00.0 BAR 1 is 32 GiB "
	       "(Resizable BAR): the card's 64-bit BARs need 32.03 GiB, more "
	       "than the 32 GiB 64-bit PCI hole QEMU's q35 gives a guest by "
	       "default, so its firmware cannot map them", "message");
	is_str(q.n ? q.v[0].fix : NULL, "add to the spec: qemu: {extra_args: "
	       "[-global, q35-pcihost.pci-hole64-size=128G, -fw_cfg, "
	       "\"name=opt/ovmf/X-PciMmio64Mb,string=131072\"]}, or turn "
	       "Resizable BAR off in the host's firmware",
	       "fix: hole and OVMF aperture, with room for alignment");
	gpuquirk_list_clear(&q);

	/* Exactly 32 GiB of 64-bit BARs fits (an aligned hole holds it). */
	f[0].bars[3] = (struct pci_bar){ 0 };
	judge(f, 2, &q);
	ok(q.n == 0, "exactly 32 GiB: fits");
	gpuquirk_list_clear(&q);

	/* Another function of the slot counts too. */
	f[1].bars[0] = (struct pci_bar){ .size = 16 * MiB, .mem64 = true };
	judge(f, 2, &q);
	ok(q.n == 1 && q.v[0].fn == &f[0], "the slot's functions summed; "
	   "the largest BAR named");
	gpuquirk_list_clear(&q);
}

static void test_resource(void)
{
	struct pci_function f = { 0 };

	pci_parse_resource(
		"0x00000000f6000000 0x00000000f6ffffff 0x0000000000040200\n"
		"0x0000006000000000 0x00000067ffffffff 0x000000000014220c\n"
		"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
		"0x0000006800000000 0x0000006801ffffff 0x000000000014220c\n"
		"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
		"0x000000000000e000 0x000000000000e07f 0x0000000000040101\n"
		"0x00000000f7000000 0x00000000f707ffff 0x0000000000046200\n"
		"0x0000000000000000 0x0000000000000000 0x0000000000000000\n",
		&f);
	ok(f.bars[0].size == 16 * MiB && !f.bars[0].mem64 && !f.bars[0].io,
	   "BAR 0: 16 MiB, 32-bit memory");
	ok(f.bars[1].size == 32 * GiB && f.bars[1].mem64 && f.bars[1].prefetch,
	   "BAR 1: 32 GiB, 64-bit prefetchable");
	ok(f.bars[2].size == 0, "BAR 2: unused");
	ok(f.bars[3].size == 32 * MiB && f.bars[3].mem64, "BAR 3: 32 MiB");
	ok(f.bars[5].size == 128 && f.bars[5].io && !f.bars[5].mem64,
	   "BAR 5: I/O ports");
	ok(f.rom_size == 512 << 10, "the ROM BAR: 512 KiB");
	f = (struct pci_function){ 0 };
	pci_parse_resource("garbage\n0x10 0x0f 0x200\n", &f);
	ok(f.bars[0].size == 0 && f.bars[1].size == 0 && f.rom_size == 0,
	   "unreadable or empty lines: no BAR");
}

int main(void)
{
	test_reset_table();
	test_reset_judgement();
	test_bars();
	test_resource();
	return tap_done();
}
