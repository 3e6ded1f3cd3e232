// SPDX-License-Identifier: GPL-2.0-or-later
/* GPU quirks: the AMD reset bug and BARs past q35's 64-bit hole.  Pure. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/gpuquirk.h"
#include "vmctl/xalloc.h"

/*
 * AMD cards that do not come back from a bus or FLR reset, by family: the
 * devices the vendor-reset module handles, from its device table
 * (github.com/gnif/vendor-reset, src/device-db.h, commit ca6a270; its
 * README: Polaris 10 RX 470/480/570/580/590, Polaris 11 RX 460/560,
 * Polaris 12 RX 540/550, Vega 10 Vega 56/64/FE, Vega 20 Radeon VII and
 * Instinct MI100, Navi 10 RX 5600 XT/5700/5700 XT, Navi 12 Pro 5600M,
 * Navi 14 RX 5300/5500 XT).  The Arch wiki's "PCI passthrough via OVMF"
 * sends users there for the same cards.  0x1681 (Rembrandt's 680M) is in
 * vendor-reset's Navi 10 list.  Navi 21 and later reset properly.
 */
static const struct {
	const char *family;
	unsigned short ids[16];
} reset_bug[] = {
	{ "Polaris 10", { 0x67c0, 0x67c1, 0x67c2, 0x67c4, 0x67c7, 0x67d0,
			  0x67df, 0x67c8, 0x67c9, 0x67ca, 0x67cc, 0x67cf,
			  0x6fdf } },
	{ "Polaris 11", { 0x67e0, 0x67e3, 0x67e8, 0x67eb, 0x67ef, 0x67ff,
			  0x67e1, 0x67e7, 0x67e9 } },
	{ "Polaris 12", { 0x6980, 0x6981, 0x6985, 0x6986, 0x6987, 0x6995,
			  0x6997, 0x699f } },
	{ "Vega 10", { 0x6860, 0x6861, 0x6862, 0x6863, 0x6864, 0x6867,
		       0x6868, 0x6869, 0x686a, 0x686b, 0x686c, 0x686d,
		       0x686e, 0x686f, 0x687f } },
	{ "Vega 20", { 0x66a0, 0x66a1, 0x66a2, 0x66a3, 0x66a4, 0x66a7,
		       0x66af } },
	{ "Arcturus", { 0x738c } },
	{ "Navi 10", { 0x7310, 0x7312, 0x7318, 0x7319, 0x731a, 0x731b,
		       0x731e, 0x731f, 0x1681 } },
	{ "Navi 12", { 0x7360, 0x7362 } },
	{ "Navi 14", { 0x7340, 0x7341, 0x7347, 0x734f } },
};

#define PCI_VENDOR_ATI 0x1002

const char *gpuquirk_reset_family(unsigned vendor_id, unsigned device_id)
{
	if (vendor_id != PCI_VENDOR_ATI || device_id == 0)
		return NULL;
	for (size_t f = 0; f < sizeof(reset_bug) / sizeof(reset_bug[0]); f++)
		for (size_t i = 0; i < 16 && reset_bug[f].ids[i]; i++)
			if (reset_bug[f].ids[i] == device_id)
				return reset_bug[f].family;
	return NULL;
}

const char *gpuquirk_kind_name(enum gpuquirk_kind kind)
{
	return kind == GPUQUIRK_RESET_BUG ? "reset-bug" : "bar-hole64";
}

__attribute__((format(printf, 4, 5)))
static void add(struct gpuquirk_list *out, enum gpuquirk_kind kind,
		const struct pci_function *fn, const char *fmt, ...)
{
	struct gpuquirk *q;
	va_list ap;

	out->v = xreallocarray(out->v, out->n + 1, sizeof(*out->v));
	q = &out->v[out->n++];
	*q = (struct gpuquirk){ .kind = kind, .fn = fn };
	va_start(ap, fmt);
	q->message = xvasprintf(fmt, ap);
	va_end(ap);
}

/* The kernel tries reset methods in reset_method's order; vendor-reset's
 * own is "device_specific" (its udev rule writes that alone). */
static bool resets_device_specific(const struct pci_function *fn)
{
	return fn->reset_method != NULL &&
	       strncmp(fn->reset_method, "device_specific", 15) == 0 &&
	       (fn->reset_method[15] == '\0' || fn->reset_method[15] == ' ');
}

static void judge_reset(const struct gpu_info *g, struct gpuquirk_list *out)
{
	const struct pci_function *fn = g->gpu;
	const char *family = gpuquirk_reset_family(fn->vendor_id,
						   fn->device_id);
	char a[PCI_ADDR_STRLEN];
	struct gpuquirk *q;

	if (family == NULL || resets_device_specific(fn))
		return;
	pci_addr_format(&fn->addr, a);
	add(out, GPUQUIRK_RESET_BUG, fn, "%s (%04x:%04x, AMD %s) has the AMD "
	    "reset bug: once a VM has used it, it does not come back from a "
	    "reset, and the next start finds it hung", a, fn->vendor_id,
	    fn->device_id, family);
	q = &out->v[out->n - 1];
	if (fn->reset_method != NULL)
		q->fix = xasprintf("install vendor-reset (github.com/gnif/"
				   "vendor-reset), load it at boot, and set "
				   "`echo device_specific > /sys/bus/pci/"
				   "devices/%s/reset_method`", a);
	else
		q->fix = xstrdup("install vendor-reset (github.com/gnif/"
				 "vendor-reset) and load it at boot, before "
				 "the card is first reset (this kernel has no "
				 "reset_method to set)");
}

uint64_t gpuquirk_bar64_total(const struct gpu_info *g)
{
	uint64_t total = 0;

	for (size_t i = 0; i < g->n_slot; i++)
		for (size_t b = 0; b < PCI_NUM_BARS; b++)
			if (g->slot[i]->bars[b].mem64)
				total += g->slot[i]->bars[b].size;
	return total;
}

/* "32 GiB", "256 MiB", "32.03 GiB" */
static char *size_text(uint64_t bytes)
{
	if (bytes >= (UINT64_C(1) << 30) && bytes % (UINT64_C(1) << 30) == 0)
		return xasprintf("%llu GiB",
				 (unsigned long long)(bytes >> 30));
	if (bytes >= (UINT64_C(1) << 30))
		return xasprintf("%.2f GiB", (double)bytes / (1 << 30));
	return xasprintf("%llu MiB", (unsigned long long)(bytes >> 20));
}

/*
 * The guest's firmware places every 64-bit BAR of the card, each aligned
 * to its size, in the 64-bit hole; twice the next power of two of their
 * sum always leaves room for that alignment.
 */
static void judge_bars(const struct gpu_info *g, struct gpuquirk_list *out)
{
	uint64_t total = gpuquirk_bar64_total(g), hole = 1, largest = 0;
	const struct pci_function *big = NULL;
	cleanup_free char *tsize = NULL, *bsize = NULL, *hsize = NULL;
	char a[PCI_ADDR_STRLEN];
	size_t bar = 0;
	struct gpuquirk *q;

	if (total <= GPUQUIRK_Q35_HOLE64)
		return;
	for (size_t i = 0; i < g->n_slot; i++)
		for (size_t b = 0; b < PCI_NUM_BARS; b++)
			if (g->slot[i]->bars[b].mem64 &&
			    g->slot[i]->bars[b].size > largest) {
				largest = g->slot[i]->bars[b].size;
				big = g->slot[i];
				bar = b;
			}
	while (hole < total)
		hole <<= 1;
	hole *= 2;
	tsize = size_text(total);
	bsize = size_text(largest);
	hsize = size_text(hole);
	add(out, GPUQUIRK_BAR_HOLE64, big, "%s BAR %zu is %s (Resizable "
	    "BAR): the card's 64-bit BARs need %s, more than the 32 GiB "
	    "64-bit PCI hole QEMU's q35 gives a guest by default, so its "
	    "firmware cannot map them", pci_addr_format(&big->addr, a), bar,
	    bsize, tsize);
	q = &out->v[out->n - 1];
	q->fix = xasprintf("add to the spec: qemu: {extra_args: [-global, "
			   "q35-pcihost.pci-hole64-size=%lluG, -fw_cfg, "
			   "\"name=opt/ovmf/X-PciMmio64Mb,string=%llu\"]}, or "
			   "turn Resizable BAR off in the host's firmware",
			   (unsigned long long)(hole >> 30),
			   (unsigned long long)(hole >> 20));
}

void gpuquirk_judge(const struct gpu_info *g, struct gpuquirk_list *out)
{
	judge_reset(g, out);
	judge_bars(g, out);
}

void gpuquirk_list_clear(struct gpuquirk_list *list)
{
	for (size_t i = 0; i < list->n; i++) {
		free(list->v[i].message);
		free(list->v[i].fix);
	}
	free(list->v);
	*list = (struct gpuquirk_list){ 0 };
}

cJSON *gpuquirk_json(const struct gpuquirk *q)
{
	cJSON *o = cJSON_CreateObject();
	char a[PCI_ADDR_STRLEN];

	cJSON_AddStringToObject(o, "kind", gpuquirk_kind_name(q->kind));
	cJSON_AddStringToObject(o, "address", pci_addr_format(&q->fn->addr, a));
	cJSON_AddStringToObject(o, "message", q->message);
	cJSON_AddStringToObject(o, "fix", q->fix);
	return o;
}
