// SPDX-License-Identifier: GPL-2.0-or-later
/* A spec's GPUs and hugepages on a libvirt host (lvvm-devices.c): the
 * holder and verdict checks, the hugepage pick against free pages, and
 * a domain's <hostdev> addresses (lvnodedev.c). */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmctl/hostinv.h"
#include "vmctl/lvnodedev.h"
#include "vmctl/lvvm-devices.h"
#include "vmctl/xalloc.h"

#define URI "qemu+ssh://h/system"

static struct pci_addr addr(unsigned bus, unsigned func)
{
	return (struct pci_addr){ .domain = 0, .bus = bus, .dev = 0,
				  .func = func };
}

static void test_hostdevs(void)
{
	static const char xml[] =
		"<domain type='kvm'><name>a</name><devices>"
		"<hostdev mode='subsystem' type='pci' managed='yes'><source>"
		"<address domain='0x0000' bus='0x41' slot='0x00' function='0x1'/>"
		"</source><address type='pci' bus='0x01'/></hostdev>"
		"<hostdev mode='subsystem' type='usb'><source>"
		"<vendor id='0x1234'/></source></hostdev>"
		"<hostdev mode='capabilities' type='storage'/>"
		"<disk type='file'/>"
		"<hostdev mode='subsystem' type='pci'><source>"
		"<address domain='0x0001' bus='0x02' slot='0x1f' function='0x7'/>"
		"</source></hostdev>"
		"</devices></domain>";
	struct pci_addr *a = NULL;
	size_t n = 0;

	ok(lvnodedev_domain_hostdevs(xml, strlen(xml), &a, &n) == 0 && n == 2,
	   "two PCI hostdevs, the USB and storage ones not");
	if (n == 2) {
		ok(a[0].bus == 0x41 && a[0].func == 1, "first: 41:00.1");
		ok(a[1].domain == 1 && a[1].dev == 0x1f && a[1].func == 7,
		   "second: 0001:02:1f.7 (the guest address not taken)");
	}
	free(a);
	ok(lvnodedev_domain_hostdevs("<device/>", 9, &a, &n) == -1,
	   "not a domain: -1");
	ok(lvnodedev_domain_hostdevs("<domain>", 8, &a, &n) == -1,
	   "not XML: -1");
	ok(lvnodedev_domain_hostdevs("<domain/>", 9, &a, &n) == 0 && n == 0 &&
	   a == NULL, "no devices: none");
}

static void test_gpu_check(void)
{
	struct pci_function gpu = { .addr = addr(1, 0), .iommu_group = 5 };
	struct pci_function audio = { .addr = addr(1, 1), .iommu_group = 5 };
	struct pci_function bridge = { .addr = addr(0, 0), .iommu_group = 5 };
	const struct pci_function *slot[] = { &gpu, &audio };
	const struct pci_function *group[] = { &bridge };
	struct gpu_info g = { .gpu = &gpu, .slot = slot, .n_slot = 2,
			      .group = group, .n_group = 1,
			      .verdict = GPU_BINDABLE };
	struct pci_addr held_audio = addr(1, 1), held_bridge = addr(0, 0);
	struct pci_addr elsewhere = addr(2, 0);
	struct lvvm_holder other = { "other", &elsewhere, 1 };
	struct lvvm_holder h[2] = { other, { "win11", &held_audio, 1 } };
	struct vmctl_error *err = NULL;

	ok(lvvm_gpu_check(&g, &other, 1, URI, "gpu[0]", &err) == 0,
	   "a domain holding another card: free");
	ok(lvvm_gpu_check(&g, h, 2, URI, "gpu[0]", &err) == -1 && err &&
	   strcmp(err->message, URI ": gpu[0]: 0000:01:00.1 is in use by "
		  "domain \"win11\"") == 0 && err->status == VMCTL_EXIT_FAILURE,
	   "a slot function held");
	vmctl_error_free(err);
	err = NULL;
	h[1].addrs = &held_bridge;
	ok(lvvm_gpu_check(&g, h, 2, URI, "gpu[0]", &err) == -1 && err &&
	   strstr(err->message, "0000:00:00.0 is in use") != NULL,
	   "a group member held");
	vmctl_error_free(err);
	err = NULL;
	g.verdict = GPU_UNSAFE;
	g.reason = "the group holds 0000:00:17.0 (ahci)";
	ok(lvvm_gpu_check(&g, NULL, 0, URI, "gpu[1]", &err) == -1 && err &&
	   err->status == VMCTL_EXIT_UNAVAILABLE &&
	   strstr(err->message, "gpu[1]: 0000:01:00.0 cannot be passed "
		  "through (unsafe): the group holds") != NULL,
	   "unsafe");
	vmctl_error_free(err);
}

static void test_hugepages(void)
{
	struct vmctl_spec spec = { .name = "vm", .memory = UINT64_C(2) << 30,
				   .hugepages = SPEC_HUGE_2M };
	struct vmctl_error *err = NULL;
	uint64_t size = 1;

	ok(lvvm_hugepages_pick(&spec, 1024, 0, URI, &size, &err) == 0 &&
	   size == HOSTINV_HUGE_2M, "2M: 1024 free, 1024 needed");
	ok(lvvm_hugepages_pick(&spec, 1023, 0, URI, &size, &err) == -1 && err &&
	   strstr(err->message, "needs 1024 hugepages of 2M, but 1023 are "
		  "free there") != NULL, "2M: one short");
	vmctl_error_free(err);
	err = NULL;
	spec.hugepages = SPEC_HUGE_AUTO;
	ok(lvvm_hugepages_pick(&spec, 0, 2, URI, &size, &err) == 0 &&
	   size == HOSTINV_HUGE_1G, "auto: 1G when two are free");
	ok(lvvm_hugepages_pick(&spec, 1024, 1, URI, &size, &err) == 0 &&
	   size == HOSTINV_HUGE_2M, "auto: 2M when 1G pages do not cover it");
	spec.hugepages = SPEC_HUGE_1G;
	spec.memory = UINT64_C(3) << 29;
	ok(lvvm_hugepages_pick(&spec, 0, 8, URI, &size, &err) == -1 && err &&
	   strstr(err->message, "not a whole number of 1G") != NULL,
	   "1G: 1.5 GiB refused");
	vmctl_error_free(err);
	err = NULL;
	spec.hugepages = SPEC_HUGE_NONE;
	ok(lvvm_hugepages_pick(&spec, 0, 0, URI, &size, &err) == 0 && size == 0,
	   "none: ordinary memory");
}

int main(void)
{
	test_hostdevs();
	test_gpu_check();
	test_hugepages();
	return tap_done();
}
