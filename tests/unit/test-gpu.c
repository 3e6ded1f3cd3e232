// SPDX-License-Identifier: GPL-2.0-or-later
/* GPU verdicts and selectors (gpu.c), and the pure parsers of pci-needs.c
 * and sysfs.c, on hosts built by hand. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmctl/gpu.h"
#include "vmctl/pci.h"
#include "vmctl/sysfs.h"
#include "vmctl/xalloc.h"

/* ---- building hosts ----------------------------------------------------- */

static struct pci_addr A(const char *s)
{
	struct pci_addr a = { 0 };

	if (!sysfs_parse_pci_name(s, &a))
		abort();
	return a;
}

static struct pci_function *add(struct pci_host *h, const char *addr,
				unsigned vendor, unsigned device,
				unsigned class_code, const char *driver,
				int group)
{
	struct pci_function *fn;

	h->fns = xreallocarray(h->fns, h->n + 1, sizeof(*h->fns));
	fn = &h->fns[h->n++];
	*fn = (struct pci_function){
		.addr = A(addr), .vendor_id = vendor, .device_id = device,
		.class_code = class_code,
		.driver = driver ? xstrdup(driver) : NULL,
		.iommu_group = group, .numa_node = -1, .boot_vga = -1,
		.bridge = (class_code >> 8) == 0x0604, .detailed = true,
	};
	if (group >= 0)
		h->iommu = true;
	return fn;
}

static int cmp(const void *a, const void *b)
{
	return pci_addr_cmp(&((const struct pci_function *)a)->addr,
			    &((const struct pci_function *)b)->addr);
}

static void done(struct pci_host *h)
{
	qsort(h->fns, h->n, sizeof(*h->fns), cmp);
}

static void need(struct pci_host *h, const char *addr,
		 enum pci_need_kind kind, const char *detail)
{
	h->needs = xreallocarray(h->needs, h->n_needs + 1, sizeof(*h->needs));
	h->needs[h->n_needs++] = (struct pci_need){
		.addr = A(addr), .kind = kind, .detail = xstrdup(detail) };
}

static struct pci_function *fnp(struct pci_host *h, const char *addr)
{
	struct pci_addr a = A(addr);

	return (struct pci_function *)pci_host_find(h, &a);
}

static void set_boot_vga(struct pci_host *h, const char *addr, int v)
{
	fnp(h, addr)->boot_vga = v;
}

static void set_driver(struct pci_host *h, const char *addr, const char *d)
{
	struct pci_function *fn = fnp(h, addr);

	free(fn->driver);
	fn->driver = d ? xstrdup(d) : NULL;
}

/* The desktop: a root port (bridge) with a GPU and its audio behind it,
 * port and card in group 1; drivers as given. */
static void desktop(struct pci_host *h, const char *gpu_drv,
		    const char *audio_drv)
{
	*h = (struct pci_host){ 0 };
	add(h, "0000:00:00.0", 0x8086, 0x3e30, 0x060000, "skl_uncore", 0);
	add(h, "0000:00:01.0", 0x8086, 0x1901, 0x060400, "pcieport", 1);
	add(h, "0000:01:00.1", 0x10de, 0x10f0, 0x040300, audio_drv, 1);
	add(h, "0000:01:00.0", 0x10de, 0x1b80, 0x030000, gpu_drv, 1);
	add(h, "0000:00:02.0", 0x8086, 0x3e98, 0x030000, "i915", 2);
	add(h, "0000:00:17.0", 0x8086, 0xa352, 0x010601, "ahci", 3);
	done(h);
	set_boot_vga(h, "0000:00:02.0", 1);
	set_boot_vga(h, "0000:01:00.0", 0);
}

static const struct gpu_info *find_gpu(const struct gpu_list *l,
				       const char *addr)
{
	struct pci_addr a = A(addr);

	for (size_t i = 0; i < l->n; i++)
		if (pci_addr_cmp(&l->v[i].gpu->addr, &a) == 0)
			return &l->v[i];
	return NULL;
}

static char *fmt(const struct pci_addr *a)
{
	char buf[PCI_ADDR_STRLEN];

	return xstrdup(pci_addr_format(a, buf));
}

/* ---- verdicts ------------------------------------------------------------ */

static void test_ready_and_bindable(void)
{
	struct pci_host h;
	struct gpu_list l;
	const struct gpu_info *g;

	desktop(&h, "vfio-pci", "vfio-pci");
	gpu_list_build(&h, &l);
	ok(l.n == 2, "two GPUs: the iGPU and the card (got %zu)", l.n);
	g = find_gpu(&l, "0000:01:00.0");
	ok(g && g->verdict == GPU_READY, "card on vfio-pci behind its root "
	   "port: ready");
	ok(g && g->n_slot == 2 && g->slot[0]->addr.func == 0 &&
	   g->slot[1]->addr.func == 1, "slot functions, function 0 first");
	ok(g && g->n_group == 1 && g->group[0]->bridge,
	   "the root port is the other group member");
	is_str(g ? g->reason : NULL, "all its functions are on vfio-pci, "
	       "group 1 viable", "ready reason");
	g = find_gpu(&l, "0000:00:02.0");
	ok(g && g->verdict == GPU_UNSAFE && g->boot_display,
	   "the iGPU is the host's boot display: unsafe");
	is_str(g ? g->reason : NULL, "it is the host's boot display [i915]",
	       "boot display reason");
	gpu_list_clear(&l);
	pci_host_clear(&h);

	desktop(&h, "nvidia", "snd_hda_intel");
	gpu_list_build(&h, &l);
	g = find_gpu(&l, "0000:01:00.0");
	ok(g && g->verdict == GPU_BINDABLE, "card on host drivers: bindable");
	ok(g && g->n_to_bind == 2, "both functions to bind");
	is_str(g ? g->reason : NULL, "bind to vfio-pci: 0000:01:00.0 "
	       "[nvidia], 0000:01:00.1 [snd_hda_intel]", "bindable reason");
	gpu_list_clear(&l);
	pci_host_clear(&h);

	/* Audio already moved, GPU not: only the GPU is listed; a function
	 * with no driver must still be bound (QEMU needs vfio-pci). */
	desktop(&h, NULL, "vfio-pci");
	gpu_list_build(&h, &l);
	g = find_gpu(&l, "0000:01:00.0");
	ok(g && g->verdict == GPU_BINDABLE && g->n_to_bind == 1 &&
	   g->to_bind[0]->addr.func == 0, "a function on no driver is still "
	   "to bind");
	gpu_list_clear(&l);
	pci_host_clear(&h);
}

static void test_unsafe(void)
{
	struct pci_host h;
	struct gpu_list l;
	const struct gpu_info *g;

	/* The AMD chipset: GPU, SATA (root fs), NIC (route), USB, bridges
	 * in one group. */
	h = (struct pci_host){ 0 };
	add(&h, "0000:00:01.3", 0x1022, 0x1453, 0x060400, "pcieport", 1);
	add(&h, "0000:02:00.0", 0x1022, 0x43d5, 0x0c0330, "xhci_hcd", 1);
	add(&h, "0000:02:00.1", 0x1022, 0x43c8, 0x010601, "ahci", 1);
	add(&h, "0000:02:00.2", 0x1022, 0x43c6, 0x060400, "pcieport", 1);
	add(&h, "0000:05:00.0", 0x8086, 0x1539, 0x020000, "igb", 1);
	add(&h, "0000:06:00.0", 0x1002, 0x67df, 0x030000, "amdgpu", 1);
	add(&h, "0000:06:00.1", 0x1002, 0xaaf0, 0x040300, "snd_hda_intel", 1);
	done(&h);
	need(&h, "0000:05:00.0", PCI_NEED_ROUTE_NIC, "enp5s0");
	need(&h, "0000:02:00.1", PCI_NEED_ROOT_FS, "/dev/sda2");
	gpu_list_build(&h, &l);
	g = l.n == 1 ? &l.v[0] : NULL;
	ok(g && g->verdict == GPU_UNSAFE, "GPU grouped with the root disk's "
	   "controller: unsafe");
	ok(g && g->n_blockers == 3, "three blockers (got %zu)",
	   g ? g->n_blockers : 0);
	ok(g && g->blockers[0].kind == GPU_BLOCK_ROOT_FS &&
	   g->blockers[1].kind == GPU_BLOCK_ROUTE_NIC &&
	   g->blockers[2].kind == GPU_BLOCK_FOREIGN,
	   "root filesystem first, then the route NIC, then the USB "
	   "controller");
	is_str(g ? g->reason : NULL, "0000:02:00.1 [ahci] in group 1 holds "
	       "the root filesystem (/dev/sda2) (and 2 more)", "reason");
	ok(g && g->n_to_bind == 0, "nothing to bind when unsafe");
	gpu_list_clear(&l);

	/* Without the needs, the USB, SATA and NIC are still foreign. */
	for (size_t i = 0; i < h.n_needs; i++)
		free(h.needs[i].detail);
	free(h.needs);
	h.needs = NULL;
	h.n_needs = 0;
	gpu_list_build(&h, &l);
	ok(l.n == 1 && l.v[0].verdict == GPU_UNSAFE && l.v[0].n_blockers == 3
	   && l.v[0].blockers[0].kind == GPU_BLOCK_FOREIGN,
	   "foreign endpoints on host drivers: unsafe");
	is_str(l.n ? l.v[0].reason : NULL, "group 1 also holds 0000:02:00.0 "
	       "[xhci_hcd], which would have to leave the host too (and 2 "
	       "more)", "foreign reason (no class names read)");
	gpu_list_clear(&l);

	/* Foreign endpoints released (no driver, pci-stub, vfio-pci) are
	 * viable; bridges keep theirs. */
	for (size_t i = 0; i < h.n; i++) {
		struct pci_function *fn = &h.fns[i];

		if (fn->bridge || fn->vendor_id == 0x1002)
			continue;
		free(fn->driver);
		fn->driver = fn->device_id == 0x43d5 ? NULL
			   : xstrdup(fn->device_id == 0x43c8 ? "pci-stub"
							     : "vfio-pci");
	}
	gpu_list_build(&h, &l);
	ok(l.n == 1 && l.v[0].verdict == GPU_BINDABLE,
	   "the same group with the others released: bindable");
	gpu_list_clear(&l);
	pci_host_clear(&h);

	/* The audio function in a group of its own, with a USB controller
	 * in it: that group counts too. */
	desktop(&h, "vfio-pci", "vfio-pci");
	fnp(&h, "0000:01:00.1")->iommu_group = 4;
	add(&h, "0000:05:00.0", 0x1b21, 0x1142, 0x0c0330, "xhci_hcd", 4);
	done(&h);
	gpu_list_build(&h, &l);
	g = find_gpu(&l, "0000:01:00.0");
	ok(g && g->verdict == GPU_UNSAFE && g->n_group == 2 &&
	   g->blockers[0].kind == GPU_BLOCK_FOREIGN &&
	   g->blockers[0].fn->addr.bus == 5,
	   "a foreign endpoint in another slot function's group: unsafe");
	ok(g && strcmp(g->reason, "group 4 also holds 0000:05:00.0 "
		       "[xhci_hcd], which would have to leave the host too")
	   == 0, "its reason names that group");
	gpu_list_clear(&l);
	pci_host_clear(&h);

	/* A host bridge (header type 0) on a driver is no bridge. */
	desktop(&h, "vfio-pci", "vfio-pci");
	fnp(&h, "0000:00:00.0")->iommu_group = 1;
	gpu_list_build(&h, &l);
	g = find_gpu(&l, "0000:01:00.0");
	ok(g && g->verdict == GPU_UNSAFE &&
	   g->blockers[0].kind == GPU_BLOCK_FOREIGN,
	   "host bridge with a driver in the group: unsafe");
	gpu_list_clear(&l);
	set_driver(&h, "0000:00:00.0", NULL);
	gpu_list_build(&h, &l);
	ok(find_gpu(&l, "0000:01:00.0")->verdict == GPU_READY,
	   "host bridge without a driver: ready");
	gpu_list_clear(&l);

	/* A non-PCI member of the group. */
	h.extras = xcalloc(1, sizeof(*h.extras));
	h.extras[0] = (struct pci_group_extra){ 1, xstrdup("platform.0") };
	h.n_extras = 1;
	gpu_list_build(&h, &l);
	g = find_gpu(&l, "0000:01:00.0");
	ok(g && g->verdict == GPU_UNSAFE && g->n_group_extra == 1 &&
	   g->blockers[0].kind == GPU_BLOCK_NON_PCI,
	   "a non-PCI group member: unsafe");
	gpu_list_clear(&l);
	pci_host_clear(&h);

	/* boot_vga on vfio-pci: handed over, not the host's display. */
	desktop(&h, "vfio-pci", "vfio-pci");
	set_boot_vga(&h, "0000:01:00.0", 1);
	gpu_list_build(&h, &l);
	g = find_gpu(&l, "0000:01:00.0");
	ok(g && g->verdict == GPU_READY && !g->boot_display,
	   "boot_vga card already on vfio-pci: ready");
	gpu_list_clear(&l);
	set_driver(&h, "0000:01:00.0", "nvidia");
	gpu_list_build(&h, &l);
	g = find_gpu(&l, "0000:01:00.0");
	ok(g && g->verdict == GPU_UNSAFE && g->boot_display &&
	   g->blockers[0].kind == GPU_BLOCK_BOOT_DISPLAY,
	   "boot_vga card on nvidia: unsafe");
	gpu_list_clear(&l);
	pci_host_clear(&h);
}

static void test_no_iommu_and_slots(void)
{
	struct pci_host h;
	struct gpu_list l;
	const struct gpu_info *g;
	cleanup_free char *js = NULL;
	cJSON *j;

	desktop(&h, "nvidia", "snd_hda_intel");
	for (size_t i = 0; i < h.n; i++)
		h.fns[i].iommu_group = -1;
	h.iommu = false;
	gpu_list_build(&h, &l);
	ok(l.n == 2 && l.v[0].verdict == GPU_NO_IOMMU &&
	   l.v[1].verdict == GPU_NO_IOMMU, "no IOMMU groups: no-iommu");
	gpu_list_clear(&l);
	h.iommu = true;
	fnp(&h, "0000:01:00.0")->iommu_group = 1;
	gpu_list_build(&h, &l);
	g = find_gpu(&l, "0000:01:00.0");
	ok(g && g->verdict == GPU_NO_IOMMU && strstr(g->reason, "01:00.1"),
	   "a slot function in no group: no-iommu, naming it");
	gpu_list_clear(&l);
	pci_host_clear(&h);

	/* RTX: four functions, listed out of order; a second display
	 * function in the slot does not make a second card. */
	h = (struct pci_host){ 0 };
	add(&h, "0000:01:00.3", 0x10de, 0x1ad7, 0x0c8000, "nvidia-gpu", 5);
	add(&h, "0000:01:00.2", 0x10de, 0x1ad6, 0x0c0330, "xhci_hcd", 5);
	add(&h, "0000:01:00.0", 0x10de, 0x1e07, 0x030000, "nvidia", 5);
	add(&h, "0000:01:00.1", 0x10de, 0x10f7, 0x040300, "snd_hda_intel", 5);
	add(&h, "0000:02:00.0", 0x1002, 0x1234, 0x038000, NULL, 6);
	add(&h, "0000:02:00.1", 0x1002, 0x1235, 0x030200, NULL, 6);
	done(&h);
	gpu_list_build(&h, &l);
	ok(l.n == 2, "one entry per slot with a display function");
	g = find_gpu(&l, "0000:01:00.0");
	ok(g && g->n_slot == 4 && g->verdict == GPU_BINDABLE &&
	   g->n_to_bind == 4, "RTX: four functions to bind");
	ok(g && g->slot[0]->addr.func == 0 && g->slot[3]->addr.func == 3,
	   "functions in order");
	j = g ? gpu_info_json(g) : NULL;
	js = j ? cJSON_PrintUnformatted(j) : NULL;
	ok(js && strstr(js, "\"verdict\":\"bindable\"") &&
	   strstr(js, "\"to_bind\":[\"0000:01:00.0\",\"0000:01:00.1\","
		  "\"0000:01:00.2\",\"0000:01:00.3\"]") &&
	   strstr(js, "\"class\":\"0c80\""), "JSON: verdict, to_bind, class");
	cJSON_Delete(j);
	gpu_list_clear(&l);
	pci_host_clear(&h);
}

/* ---- selectors ----------------------------------------------------------- */

static char *resolve(const struct pci_host *h, struct spec_gpu *sel,
		     int *status)
{
	struct pci_addr *fns = NULL;
	struct vmctl_error *err = NULL;
	size_t n = 0;
	char *out;

	*status = 0;
	if (gpu_resolve(h, sel, &fns, &n, &err) < 0) {
		*status = err->status;
		out = xstrdup(err->message);
		vmctl_error_free(err);
		return out;
	}
	out = xstrdup("");
	for (size_t i = 0; i < n; i++) {
		cleanup_free char *a = fmt(&fns[i]);
		char *t = xasprintf("%s%s%s", out, i ? " " : "", a);

		free(out);
		out = t;
	}
	free(fns);
	return out;
}

static void check_sel(const struct pci_host *h, struct spec_gpu sel,
		      const char *want, int want_status, const char *name)
{
	int status;
	char *got = resolve(h, &sel, &status);

	is_str(got, want, "%s", name);
	ok(status == want_status, "%s: status %d", name, status);
	free(got);
}

static void test_selectors(void)
{
	struct pci_host h = { 0 };
	char nvidia[] = "nvidia", amd[] = "AMD", intel[] = "Intel";

	/* Two identical cards, the first the host's display; an Intel
	 * iGPU that is not; an AMD GPU with 0x1022 as its vendor id. */
	add(&h, "0000:21:00.0", 0x10de, 0x2204, 0x030000, "nvidia", 7);
	add(&h, "0000:21:00.1", 0x10de, 0x1aef, 0x040300, "snd_hda_intel", 7);
	add(&h, "0000:42:00.0", 0x10de, 0x2204, 0x030000, "vfio-pci", 12);
	add(&h, "0000:42:00.1", 0x10de, 0x1aef, 0x040300, "vfio-pci", 12);
	add(&h, "0000:00:02.0", 0x8086, 0x4680, 0x030000, "i915", 2);
	add(&h, "0000:61:00.0", 0x1022, 0x1638, 0x030000, "amdgpu", 20);
	done(&h);
	set_boot_vga(&h, "0000:21:00.0", 1);
	set_boot_vga(&h, "0000:42:00.0", 0);

	check_sel(&h, (struct spec_gpu){ .selector = SPEC_GPU_VENDOR,
					 .vendor = nvidia },
		  "0000:42:00.0 0000:42:00.1", 0,
		  "vendor (any case) skips the boot display");
	check_sel(&h, (struct spec_gpu){ .selector = SPEC_GPU_VENDOR,
					 .vendor = nvidia, .index = 1 },
		  "index 1, but only 1 GPU matches vendor nvidia (the host's "
		  "boot display is not counted)", 69, "vendor index too big");
	check_sel(&h, (struct spec_gpu){ .selector = SPEC_GPU_ID,
					 .vendor_id = 0x10de,
					 .device_id = 0x2204 },
		  "0000:21:00.0 0000:21:00.1", 0, "id: the first in address "
		  "order");
	check_sel(&h, (struct spec_gpu){ .selector = SPEC_GPU_ID,
					 .vendor_id = 0x10de,
					 .device_id = 0x2204, .index = 1 },
		  "0000:42:00.0 0000:42:00.1", 0, "id, index 1");
	check_sel(&h, (struct spec_gpu){ .selector = SPEC_GPU_ID,
					 .vendor_id = 0x10de,
					 .device_id = 0x2204, .index = 2 },
		  "index 2, but only 2 GPUs match id 10de:2204", 69,
		  "id index too big");
	check_sel(&h, (struct spec_gpu){ .selector = SPEC_GPU_ID,
					 .vendor_id = 0x10de,
					 .device_id = 0x1aef },
		  "no GPU matches id 10de:1aef on this host", 69,
		  "id of a non-display function matches no GPU");
	check_sel(&h, (struct spec_gpu){ .selector = SPEC_GPU_VENDOR,
					 .vendor = intel },
		  "0000:00:02.0", 0, "Intel");
	check_sel(&h, (struct spec_gpu){ .selector = SPEC_GPU_VENDOR,
					 .vendor = amd },
		  "0000:61:00.0", 0, "AMD matches vendor 0x1022 too");
	check_sel(&h, (struct spec_gpu){ .selector = SPEC_GPU_ADDRESS,
					 .address = A("0000:21:00.1") },
		  "0000:21:00.0 0000:21:00.1", 0,
		  "address of function 1: the whole slot, function 0 first");
	check_sel(&h, (struct spec_gpu){ .selector = SPEC_GPU_ADDRESS,
					 .address = A("0000:09:00.0") },
		  "no PCI device at 0000:09:00.0 on this host", 69,
		  "unknown address");
	set_boot_vga(&h, "0000:42:00.0", 1);
	set_driver(&h, "0000:42:00.0", "nvidia");
	check_sel(&h, (struct spec_gpu){ .selector = SPEC_GPU_VENDOR,
					 .vendor = nvidia },
		  "no GPU matches vendor nvidia but 0000:42:00.0, the host's "
		  "boot display (give its address to pass it anyway)", 69,
		  "only boot displays: said so");
	pci_host_clear(&h);

	ok(gpu_vendor_matches("nViDiA", 0x10de) &&
	   !gpu_vendor_matches("NVIDIA", 0x1002) &&
	   gpu_vendor_matches("amd", 0x1002) &&
	   !gpu_vendor_matches("ATI", 0x1002), "vendor names");
}

/* ---- parsers ------------------------------------------------------------- */

static void test_parsers(void)
{
	struct pci_addr a;
	struct strv ifs = { 0 };
	cleanup_free char *source = NULL;
	cleanup_free char *fstype = NULL;
	cleanup_free char *s = NULL;
	unsigned ma = 0, mi = 0;

	ok(sysfs_parse_pci_name("0000:3d:00.7", &a) && a.bus == 0x3d &&
	   a.func == 7, "parse a PCI name");
	ok(!sysfs_parse_pci_name("0000:3d:00.8", &a) &&
	   !sysfs_parse_pci_name("pci0000:00", &a) &&
	   !sysfs_parse_pci_name("3d:00.0", &a), "reject non-names");
	ok(sysfs_path_last_pci("/sys/devices/pci0000:00/0000:00:1d.0/"
			       "0000:3d:00.0/nvme/nvme0/nvme0n1/nvme0n1p2", &a)
	   && a.bus == 0x3d, "the last PCI component of a device path");
	ok(!sysfs_path_last_pci("/sys/devices/virtual/block/dm-0", &a),
	   "a virtual device has none");
	s = fmt(&(struct pci_addr){ 0x10000, 0x1c1, 0x20, 9 });
	is_str(s, "0000:c1:00.1", "format masks out-of-range fields");

	ok(pci_needs_parse_mountinfo(
		   "22 28 0:21 / /proc rw - proc proc rw\n"
		   "28 1 8:2 / / rw,relatime shared:1 - ext4 /dev/sda2 rw\n"
		   "40 28 8:3 / /mnt/my\\040disk rw - ext4 /dev/sda3 rw\n"
		   "41 1 259:2 / / rw master:3 shared:9 - xfs /dev/nvme0n1p2 "
		   "rw\n", &ma, &mi, &source, &fstype) == 0 &&
	   ma == 259 && mi == 2, "the last mount on / wins (%u:%u)", ma, mi);
	is_str(source, "/dev/nvme0n1p2", "its source");
	is_str(fstype, "xfs", "its type, after optional fields");
	ok(pci_needs_parse_mountinfo("22 28 0:21 / /proc rw - proc proc rw\n",
				     &ma, &mi, &source, &fstype) < 0,
	   "no root mount");

	pci_needs_parse_route(
		"Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\t"
		"Mask\t\tMTU\tWindow\tIRTT\n"
		"eno1\t0002A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n"
		"eno1\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
		"wlan0\t00000000\t0101A8C0\t0002\t0\t0\t600\t00000000\t0\t0\t0\n"
		"wg0\t00000000\t00000000\t0001\t0\t0\t50\t00000000\t0\t0\t0\n"
		"eno1\t00000000\t0102A8C0\t0003\t0\t0\t200\t00000000\t0\t0\t0\n",
		&ifs);
	ok(ifs.n == 2 && strcmp(ifs.v[0], "eno1") == 0 &&
	   strcmp(ifs.v[1], "wg0") == 0, "IPv4 default routes that are up, "
	   "once each");
	strv_clear(&ifs);
	pci_needs_parse_ipv6_route(
		"00000000000000000000000000000000 00 000000000000000000000000"
		"00000000 00 fe800000000000000000000000000001 00000400 00000001 "
		"00000000 00000003     br0\n"
		"00000000000000000000000000000000 00 000000000000000000000000"
		"00000000 00 00000000000000000000000000000000 ffffffff 00000001 "
		"00000000 00200200       lo\n"
		"20010db8000000000000000000000000 40 000000000000000000000000"
		"00000000 00 00000000000000000000000000000000 00000100 00000001 "
		"00000000 00000001     eth1\n", &ifs);
	ok(ifs.n == 1 && strcmp(ifs.v[0], "br0") == 0,
	   "IPv6: ::/0 up, not the reject route on lo, not a /64");
	strv_clear(&ifs);
}

int main(void)
{
	test_ready_and_bindable();
	test_unsafe();
	test_no_iommu_and_slots();
	test_selectors();
	test_parsers();
	return tap_done();
}
