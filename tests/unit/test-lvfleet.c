// SPDX-License-Identifier: GPL-2.0-or-later
/* Placement over the fleet (lvfleet-place.c): a spec's GPUs, hugepages
 * and memory against hosts built from libvirt node device XML; the
 * choice (most free memory, then the hosts file's order), the reason
 * given for every host, and the hosts' status names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmctl/lvfleet.h"
#include "vmctl/lvnodedev.h"
#include "vmctl/xalloc.h"

#define GIB (UINT64_C(1) << 30)

/* One PCI function of a test host: BUS:00.FN, its class and ids, IOMMU
 * group GROUP holding both functions of the slot. */
static char *dev_xml(unsigned bus, unsigned fn, unsigned class,
		     unsigned ven, unsigned dev, int group)
{
	cleanup_free char *g = group < 0 ? xstrdup("") : xasprintf(
		"<iommuGroup number='%d'>"
		"<address domain='0x0000' bus='0x%02x' slot='0x00' function='0x0'/>"
		"<address domain='0x0000' bus='0x%02x' slot='0x00' function='0x1'/>"
		"</iommuGroup>", group, bus, bus);

	return xasprintf("<device><name>pci_0000_%02x_00_%u</name>"
			 "<parent>computer</parent><capability type='pci'>"
			 "<class>0x%06x</class><domain>0</domain><bus>%u</bus>"
			 "<slot>0</slot><function>%u</function>"
			 "<product id='0x%04x'/><vendor id='0x%04x'>%s</vendor>"
			 "%s</capability></device>", bus, fn, class, bus, fn,
			 dev, ven, ven == 0x10de ? "NVIDIA Corporation"
			 : "Advanced Micro Devices, Inc. [AMD/ATI]", g);
}

/* A host with one card (VGA + audio) of `ven` at bus 1, or none. */
static void host_init(struct lvfleet_host *h, const char *name,
		      uint64_t mem_free, unsigned ven)
{
	struct lvnodedev_pci devs[2];
	size_t n = 0;

	*h = (struct lvfleet_host){ .name = name, .uri = "test:///x",
				    .cpus = 8, .mem_total = 64 * GIB,
				    .mem_free = mem_free };
	if (ven == 0)
		return;
	for (unsigned fn = 0; fn < 2; fn++) {
		struct vmctl_error *err = NULL;
		cleanup_free char *x = dev_xml(1, fn, fn ? 0x040300 : 0x030000,
					       ven, fn ? 0x1aef : 0x2204, 12);

		if (lvnodedev_parse_pci("t", x, strlen(x), &devs[n], &err) == 0)
			n++;
		vmctl_error_free(err);
	}
	lvnodedev_host_build(devs, n, &h->pci);
}

static void host_clear(struct lvfleet_host *h)
{
	pci_host_clear(&h->pci);
	vmctl_error_free(h->error);
}

static struct vmctl_spec *spec(const char *yaml)
{
	struct vmctl_spec *s = NULL;
	struct vmctl_error *err = NULL;

	if (spec_load_buffer("t.yaml", yaml, strlen(yaml), SPEC_SYNTAX_YAML,
			     &s, &err) < 0) {
		printf("# spec: %s\n", err->message);
		vmctl_error_free(err);
	}
	return s;
}

static void test_gpu(void)
{
	struct vmctl_spec *s = spec("name: web\nmemory: 8G\n"
				    "gpu:\n  - vendor: NVIDIA\n");
	struct lvfleet_host h[3];
	struct lvfleet_placement p;
	struct pci_addr held = { .bus = 1, .func = 1 };
	struct lvvm_holder holder = { "win11", &held, 1 };
	cleanup_free char *sum = NULL;

	host_init(&h[0], "gpu1", 60 * GIB, 0);
	host_init(&h[1], "gpu2", 48 * GIB, 0x10de);
	host_init(&h[2], "gpu3", 50 * GIB, 0x1002);
	ok(s && lvfleet_place(s, h, 3, &p) == 1, "the host with an NVIDIA "
	   "card, not the one with more free memory");
	sum = lvfleet_placement_summary(&p);
	is_str(sum, "placed on gpu2: NVIDIA Corporation 10de:2204 at "
	       "0000:01:00.0 free, 48 GiB free memory; gpu1: gpu[0]: no GPU "
	       "matches vendor NVIDIA on this host; gpu3: gpu[0]: no GPU "
	       "matches vendor NVIDIA on this host", "the summary says why");
	lvfleet_placement_clear(&p);

	/* a running domain holds the card's audio function */
	h[1].holders.v = &holder;
	h[1].holders.n = 1;
	ok(lvfleet_place(s, h, 3, &p) == -1, "the only card held: none");
	is_str(p.why[1], "gpu2: gpu[0]: 0000:01:00.1 is in use by domain "
	       "\"win11\"", "the holder named");
	lvfleet_placement_clear(&p);
	h[1].holders = (struct lvvm_holders){ 0 };

	/* a host that is down is no candidate, and says so */
	vmctl_error_set(&h[1].error, VMCTL_EXIT_UNAVAILABLE, 0, "test:///x: "
			"cannot reach it");
	ok(lvfleet_place(s, h, 3, &p) == -1, "the GPU host down: none");
	is_str(p.why[1], "gpu2: down: test:///x: cannot reach it",
	       "down, with its error");
	lvfleet_placement_clear(&p);
	for (int i = 0; i < 3; i++)
		host_clear(&h[i]);
	spec_free(s);
}

static void test_memory(void)
{
	struct vmctl_spec *s = spec("name: db\nmemory: 16G\n");
	struct vmctl_spec *big = spec("name: huge\nmemory: 1T\n");
	struct lvfleet_host h[3];
	struct lvfleet_placement p;

	host_init(&h[0], "a", 20 * GIB, 0);
	host_init(&h[1], "b", 32 * GIB, 0);
	host_init(&h[2], "c", 32 * GIB, 0);
	ok(s && lvfleet_place(s, h, 3, &p) == 1,
	   "most free memory; on a tie the first in the file");
	is_str(p.why[2], "c: fits, but 32 GiB free memory is less than b's",
	       "a host that fits says why it was not taken");
	is_str(p.why[1], "b: 32 GiB free memory", "the chosen one's reason");
	lvfleet_placement_clear(&p);
	h[0].mem_free = 10 * GIB;
	h[1].mem_free = 8 * GIB;
	ok(lvfleet_place(s, h, 2, &p) == -1, "16 GiB fits nowhere");
	is_str(p.why[0], "a: not enough free memory: VM \"db\" needs 16 GiB, "
	       "10 GiB free", "one line per host");
	lvfleet_placement_clear(&p);
	ok(big && lvfleet_place(big, h, 3, &p) == -1 && p.n == 3,
	   "1 TiB: refused on every host");
	is_str(p.why[2], "c: not enough free memory: VM \"huge\" needs 1 TiB, "
	       "32 GiB free", "the third host's line");
	lvfleet_placement_clear(&p);
	ok(lvfleet_place(s, h, 0, &p) == -1 && p.n == 0, "no hosts: none");
	lvfleet_placement_clear(&p);
	for (int i = 0; i < 3; i++)
		host_clear(&h[i]);
	spec_free(s);
	spec_free(big);
}

static void test_hugepages(void)
{
	struct vmctl_spec *s = spec("name: hp\nmemory:\n  size: 2G\n"
				    "  hugepages: 2M\n");
	struct lvfleet_host h[2];
	struct lvfleet_placement p;

	host_init(&h[0], "a", 60 * GIB, 0);
	host_init(&h[1], "b", 1 * GIB, 0);
	h[0].huge_free[0] = 100;
	h[1].huge_free[0] = 1024;
	ok(s && lvfleet_place(s, h, 2, &p) == 1, "the host with the pages, "
	   "though its free memory is less (the pages are reserved)");
	is_str(p.why[1], "b: 2M hugepages free, 1 GiB free memory",
	       "hugepages named");
	ok(strstr(p.why[0], "needs 1024 hugepages of 2M, but 100 are free"),
	   "too few pages: %s", p.why[0]);
	lvfleet_placement_clear(&p);
	for (int i = 0; i < 2; i++)
		host_clear(&h[i]);
	spec_free(s);
}

static void test_status(void)
{
	struct vmctl_error e = { .status = VMCTL_EXIT_UNAVAILABLE };

	is_str(lvfleet_status_name(NULL), "ok", "read");
	is_str(lvfleet_status_name(&e), "down", "69: down");
	e.status = VMCTL_EXIT_NOPERM;
	is_str(lvfleet_status_name(&e), "denied", "77: denied");
	e.status = VMCTL_EXIT_FAILURE;
	is_str(lvfleet_status_name(&e), "failed", "1: failed");
}

int main(void)
{
	test_gpu();
	test_memory();
	test_hugepages();
	test_status();
	return tap_done();
}
