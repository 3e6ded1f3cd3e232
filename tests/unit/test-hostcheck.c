// SPDX-License-Identifier: GPL-2.0-or-later
/* host-check: the pure judgement and the parsers behind the facts. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmctl/hostcheck.h"
#include "vmctl/xalloc.h"

/* A host that can run a passthrough VM. */
static void good(struct hostcheck_facts *f)
{
	*f = (struct hostcheck_facts){ 0 };
	hostcheck_parse_cpuinfo("processor\t: 0\nvendor_id\t: GenuineIntel\n"
				"flags\t\t: fpu vme vmx ept\n\n", f);
	f->kvm.state = ACCEL_KVM_USABLE;
	f->kvm.api_version = 12;
	f->iommu_groups = 13;
	strv_push(&f->iommu_units, "dmar0");
	f->ir = HOSTCHECK_IR_ON;
	f->cmdline = xstrdup("BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet "
			     "intel_iommu=on iommu=pt");
	f->vfio = f->vfio_pci = f->vfio_iommu_type1 = true;
	hostcheck_parse_meminfo("MemTotal:       32768000 kB\n"
				"HugePages_Total:    1024\n"
				"HugePages_Free:      512\n"
				"Hugepagesize:       2048 kB\n", f);
	f->ovmf_found = true;
	f->ovmf.code = xstrdup("/usr/share/OVMF/OVMF_CODE_4M.fd");
	f->qemu_version = xstrdup("8.2.2");
	f->tmux_version = xstrdup("3.4");
	f->gpus = 2;
	strv_push(&f->passable, "0000:01:00.0 (bindable)");
	strv_push(&f->host_devices, "root filesystem /dev/sda1 on "
		  "0000:00:17.0");
}

static const struct hostcheck_item *item(const struct hostcheck_report *r,
					 const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->items[i].name, name) == 0)
			return &r->items[i];
	return NULL;
}

/* Judge f and check one item's status and message. */
static void expect(struct hostcheck_facts *f, const char *name,
		   enum hostcheck_status status, const char *message,
		   const char *what)
{
	struct hostcheck_report r;
	const struct hostcheck_item *it;

	hostcheck_judge(f, &r);
	it = item(&r, name);
	ok(it && it->status == status, "%s: %s is %s (got %s)", what, name,
	   hostcheck_status_name(status),
	   it ? hostcheck_status_name(it->status) : "missing");
	if (message != NULL)
		is_str(it ? it->message : NULL, message, "%s: message", what);
	ok(it && (it->status == HOSTCHECK_OK) == (it->fix == NULL),
	   "%s: a fix exactly when not ok", what);
	hostcheck_report_clear(&r);
}

static void test_parsers(void)
{
	struct hostcheck_facts f = { 0 };
	char *v;

	hostcheck_parse_cpuinfo("processor\t: 0\nvendor_id\t: AuthenticAMD\n"
				"flags\t\t: fpu svm npt\n\nprocessor\t: 1\n"
				"vendor_id\t: Other\nflags\t\t: vmx\n", &f);
	is_str(f.cpu_vendor, "AuthenticAMD", "cpuinfo vendor: the first");
	ok(f.svm && !f.vmx, "cpuinfo flags: the first processor's, as words");
	hostcheck_facts_clear(&f);
	hostcheck_parse_cpuinfo("flags\t: fpu vmxx svmm\nvendor_id : X\n", &f);
	ok(!f.svm && !f.vmx && f.cpuinfo_read, "flags are whole words");
	hostcheck_facts_clear(&f);
	hostcheck_parse_meminfo("HugePages_Total:      16\nHugePages_Free:"
				"        8\nHugepagesize:    1048576 kB\n", &f);
	ok(f.hugepages_total == 16 && f.hugepages_free == 8 &&
	   f.hugepage_kb == 1048576, "meminfo hugepages");
	hostcheck_facts_clear(&f);
	v = hostcheck_parse_version("QEMU emulator version 7.2.22 (Debian "
				    "1:7.2+dfsg-7)\nCopyright\n", "version ");
	is_str(v, "7.2.22", "QEMU version");
	free(v);
	v = hostcheck_parse_version("tmux 3.3a\n", "tmux ");
	is_str(v, "3.3a", "tmux version");
	free(v);
	ok(hostcheck_parse_version("nothing", "tmux ") == NULL, "no version");
}

static void test_judge(void)
{
	struct hostcheck_facts f;
	struct hostcheck_report r;
	cJSON *j;
	char *s;

	good(&f);
	hostcheck_judge(&f, &r);
	ok(r.n == 13 && hostcheck_passed(&r), "a good host passes all 13 "
	   "checks");
	j = hostcheck_report_json(&r);
	s = cJSON_PrintUnformatted(j);
	ok(strncmp(s, "{\"ok\":true,\"checks\":[{\"name\":\"cpu\",\"status\":"
		   "\"ok\",\"message\":\"GenuineIntel with VT-x (vmx)\","
		   "\"fix\":null}", 85) == 0, "JSON");
	free(s);
	cJSON_Delete(j);
	hostcheck_report_clear(&r);
	expect(&f, "hugepages", HOSTCHECK_OK, "512 of 1024 pages free (2048 "
	       "kB each)", "hugepages");
	expect(&f, "cmdline", HOSTCHECK_OK, "intel_iommu=on iommu=pt",
	       "cmdline: only the words that matter");

	f.kvm.state = ACCEL_KVM_PVM_ONLY;
	f.kvm.reason = xstrdup("KVM here is kvm_pvm (PVM), which runs only "
			       "PVM-enabled guest kernels");
	expect(&f, "kvm", HOSTCHECK_FAIL, f.kvm.reason, "PVM-only KVM");
	hostcheck_judge(&f, &r);
	ok(!hostcheck_passed(&r), "one failure fails the host");
	hostcheck_report_clear(&r);
	hostcheck_facts_clear(&f);

	good(&f);
	f.vmx = false;
	expect(&f, "cpu", HOSTCHECK_FAIL, "GenuineIntel without vmx or svm: "
	       "no hardware virtualization", "no vmx");
	f.iommu_groups = 0;
	free(f.cmdline);
	f.cmdline = xstrdup("quiet intel_iommu=off -- intel_iommu=on");
	expect(&f, "iommu", HOSTCHECK_FAIL, "no IOMMU groups: the kernel "
	       "command line turns the IOMMU off", "intel_iommu=off");
	expect(&f, "cmdline", HOSTCHECK_FAIL, "intel_iommu=off",
	       "intel_iommu=off; what follows -- is init's");
	expect(&f, "interrupt-remapping", HOSTCHECK_FAIL, NULL,
	       "no remapping without an IOMMU");
	free(f.cmdline);
	f.cmdline = xstrdup("quiet -- intel_iommu=off");
	expect(&f, "cmdline", HOSTCHECK_WARN, "no IOMMU or VFIO flags",
	       "Intel without groups or flags");
	free(f.cpu_vendor);
	f.cpu_vendor = xstrdup("AuthenticAMD");
	expect(&f, "iommu", HOSTCHECK_FAIL, "no IOMMU groups", "AMD");
	hostcheck_facts_clear(&f);

	good(&f);
	f.ir = HOSTCHECK_IR_OFF;
	f.ir_capable = true;
	expect(&f, "interrupt-remapping", HOSTCHECK_FAIL, "off though the "
	       "IOMMU supports it: VFIO refuses devices without it",
	       "remapping off");
	f.unsafe_interrupts = true;
	expect(&f, "interrupt-remapping", HOSTCHECK_WARN, NULL,
	       "allow_unsafe_interrupts");
	f.unsafe_interrupts = false;
	free(f.cmdline);
	f.cmdline = xstrdup("intel_iommu=on intremap=off pcie_acs_override="
			    "downstream,multifunction");
	expect(&f, "interrupt-remapping", HOSTCHECK_FAIL, "off (intremap=off):"
	       " VFIO refuses devices without it", "intremap=off");
	expect(&f, "cmdline", HOSTCHECK_WARN, NULL, "ACS override");
	f.vfio_pci = false;
	expect(&f, "vfio", HOSTCHECK_WARN, "not loaded: vfio_pci",
	       "vfio_pci missing");
	f.hugepages_total = 0;
	expect(&f, "hugepages", HOSTCHECK_WARN, NULL, "no hugepages");
	strv_clear(&f.passable);
	expect(&f, "gpu", HOSTCHECK_FAIL, "none of the 2 GPUs can be passed "
	       "through", "no passable GPU");
	f.gpus = 0;
	expect(&f, "gpu", HOSTCHECK_FAIL, NULL, "no GPU");
	strv_push(&f.host_notes, "default route: wg0 is on no PCI device");
	expect(&f, "host-devices", HOSTCHECK_WARN, "root filesystem /dev/sda1 "
	       "on 0000:00:17.0; default route: wg0 is on no PCI device",
	       "an untraced default route");
	free(f.qemu_version);
	f.qemu_version = NULL;
	f.qemu_error = xstrdup("qemu-system-x86_64 not found on PATH");
	expect(&f, "qemu", HOSTCHECK_FAIL, f.qemu_error, "no QEMU");
	f.ovmf_found = false;
	expect(&f, "ovmf", HOSTCHECK_FAIL, NULL, "no OVMF");
	hostcheck_facts_clear(&f);
}

static void test_quirks(void)
{
	struct hostcheck_facts f;
	struct hostcheck_report r;

	good(&f);
	expect(&f, "gpu-quirks", HOSTCHECK_OK, "none known", "no quirk");
	strv_push(&f.quirks, "0000:06:00.0 (1002:67df, AMD Polaris 10) has "
		  "the AMD reset bug");
	strv_push(&f.quirk_fixes, "install vendor-reset");
	expect(&f, "gpu-quirks", HOSTCHECK_WARN, "0000:06:00.0 (1002:67df, "
	       "AMD Polaris 10) has the AMD reset bug", "one quirk");
	hostcheck_judge(&f, &r);
	ok(hostcheck_passed(&r), "a quirk warns, it does not fail the host");
	is_str(r.items[r.n - 1].fix, "install vendor-reset",
	       "one quirk: its own fix");
	hostcheck_report_clear(&r);
	strv_push(&f.quirks, "0000:01:00.0 BAR 1 is 32 GiB");
	strv_push(&f.quirk_fixes, "add to the spec");
	hostcheck_judge(&f, &r);
	is_str(r.items[r.n - 1].message, "0000:06:00.0 (1002:67df, AMD Polaris "
	       "10) has the AMD reset bug; 0000:01:00.0 BAR 1 is 32 GiB",
	       "two quirks: both named");
	is_str(r.items[r.n - 1].fix, "see vmctl gpu list: each quirk with its "
	       "fix", "two quirks: gpu list has their fixes");
	hostcheck_report_clear(&r);
	f.gpus = 0;
	hostcheck_judge(&f, &r);
	ok(strcmp(r.items[r.n - 1].name, "gpu") == 0,
	   "no GPU: no quirk line");
	hostcheck_report_clear(&r);
	hostcheck_facts_clear(&f);
}

int main(void)
{
	test_parsers();
	test_judge();
	test_quirks();
	return tap_done();
}
