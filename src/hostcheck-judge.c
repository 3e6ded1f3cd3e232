// SPDX-License-Identifier: GPL-2.0-or-later
/* host-check's judgement: facts in, one verdict per check out.  Pure. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/hostcheck.h"
#include "vmctl/kcmdline.h"
#include "vmctl/xalloc.h"

__attribute__((format(printf, 5, 0)))
static void addv(struct hostcheck_report *r, const char *name,
		 enum hostcheck_status status, const char *fix,
		 const char *fmt, va_list ap)
{
	struct hostcheck_item *it;

	r->items = xreallocarray(r->items, r->n + 1, sizeof(*r->items));
	it = &r->items[r->n++];
	it->name = name;
	it->status = status;
	it->message = xvasprintf(fmt, ap);
	it->fix = fix != NULL ? xstrdup(fix) : NULL;
}

void hostcheck_add(struct hostcheck_report *r, const char *name,
		   enum hostcheck_status status, const char *fix,
		   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	addv(r, name, status, fix, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 5, 6)))
static void add(struct hostcheck_report *r, const char *name,
		enum hostcheck_status status, const char *fix,
		const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	addv(r, name, status, fix, fmt, ap);
	va_end(ap);
}

static bool is_intel(const struct hostcheck_facts *f)
{
	return f->cpu_vendor && strcmp(f->cpu_vendor, "GenuineIntel") == 0;
}

static bool is_amd(const struct hostcheck_facts *f)
{
	return f->cpu_vendor && strcmp(f->cpu_vendor, "AuthenticAMD") == 0;
}

static void judge_cpu(const struct hostcheck_facts *f,
		      struct hostcheck_report *r)
{
	const char *vendor = f->cpu_vendor ? f->cpu_vendor : "unknown vendor";

	if (!f->cpuinfo_read)
		add(r, "cpu", HOSTCHECK_WARN, "check that PROC/cpuinfo is "
		    "readable", "cannot read cpuinfo");
	else if (f->vmx || f->svm)
		add(r, "cpu", HOSTCHECK_OK, NULL, "%s with %s", vendor,
		    f->vmx ? "VT-x (vmx)" : "AMD-V (svm)");
	else
		add(r, "cpu", HOSTCHECK_FAIL, is_amd(f)
		    ? "enable SVM (AMD-V) in the firmware setup; in a VM, "
		      "enable nested virtualization"
		    : "enable VT-x (Intel Virtualization Technology) in the "
		      "firmware setup; in a VM, enable nested virtualization",
		    "%s without vmx or svm: no hardware virtualization",
		    vendor);
}

static void judge_kvm(const struct hostcheck_facts *f,
		      struct hostcheck_report *r)
{
	const char *reason = f->kvm.reason ? f->kvm.reason : "";
	const char *module = is_amd(f) ? "kvm_amd" : "kvm_intel";
	cleanup_free char *fix = NULL;

	switch (f->kvm.state) {
	case ACCEL_KVM_USABLE:
		add(r, "kvm", HOSTCHECK_OK, NULL, "/dev/kvm usable (API "
		    "version %d)", f->kvm.api_version);
		return;
	case ACCEL_KVM_ABSENT:
		fix = xasprintf("load KVM: modprobe %s", module);
		break;
	case ACCEL_KVM_NO_ACCESS:
		fix = xstrdup("run as root, or add the user to the kvm group");
		break;
	case ACCEL_KVM_BROKEN:
		fix = xasprintf("reload KVM (modprobe -r %s; modprobe %s) and "
				"check the kernel log", module, module);
		break;
	case ACCEL_KVM_PVM_ONLY:
		fix = xstrdup("use a host whose kernel has standard KVM "
			      "(kvm_intel or kvm_amd)");
		break;
	}
	add(r, "kvm", HOSTCHECK_FAIL, fix, "%s", reason);
}

static bool flag_off(const struct strv *words, const char *key)
{
	const char *v = kcmdline_get(words, key);

	return v != NULL && strcmp(v, "off") == 0;
}

static void judge_iommu(const struct hostcheck_facts *f,
			const struct strv *words, struct hostcheck_report *r)
{
	cleanup_free char *units = NULL;

	if (f->iommu_groups > 0) {
		units = f->iommu_units.n ? kcmdline_join(&f->iommu_units)
					 : xstrdup("no unit in class/iommu");
		add(r, "iommu", HOSTCHECK_OK, NULL, "%zu IOMMU groups (%s)",
		    f->iommu_groups, units);
		return;
	}
	if (flag_off(words, "intel_iommu") || flag_off(words, "amd_iommu") ||
	    flag_off(words, "iommu"))
		add(r, "iommu", HOSTCHECK_FAIL, "remove intel_iommu=off, "
		    "amd_iommu=off and iommu=off from the kernel command line "
		    "(vmctl host-setup)", "no IOMMU groups: the kernel command "
		    "line turns the IOMMU off");
	else if (is_amd(f))
		add(r, "iommu", HOSTCHECK_FAIL, "enable the IOMMU (AMD-Vi) "
		    "in the firmware setup; Linux uses it by default",
		    "no IOMMU groups");
	else
		add(r, "iommu", HOSTCHECK_FAIL, "enable VT-d in the firmware "
		    "setup and add intel_iommu=on to the kernel command line "
		    "(vmctl host-setup)", "no IOMMU groups");
}

static void judge_ir(const struct hostcheck_facts *f,
		     const struct strv *words, struct hostcheck_report *r)
{
	const char *name = "interrupt-remapping";

	if (f->iommu_groups == 0) {
		add(r, name, HOSTCHECK_FAIL, "enable the IOMMU first",
		    "not available without an IOMMU");
		return;
	}
	switch (f->ir) {
	case HOSTCHECK_IR_ON:
		add(r, name, HOSTCHECK_OK, NULL, "on (IR-PCI-MSI interrupts)");
		return;
	case HOSTCHECK_IR_UNKNOWN:
		add(r, name, HOSTCHECK_WARN, "check PROC/interrupts for IR-* "
		    "interrupt chips", "unknown: cannot read interrupts");
		return;
	case HOSTCHECK_IR_OFF:
		break;
	}
	if (f->unsafe_interrupts)
		add(r, name, HOSTCHECK_WARN, "enable interrupt remapping in "
		    "the firmware (x2APIC, VT-d/AMD-Vi) and drop "
		    "allow_unsafe_interrupts", "off; vfio_iommu_type1 "
		    "allow_unsafe_interrupts lets VFIO run without it, "
		    "unprotected from device MSI spoofing");
	else if (flag_off(words, "intremap"))
		add(r, name, HOSTCHECK_FAIL, "remove intremap=off from the "
		    "kernel command line", "off (intremap=off): VFIO refuses "
		    "devices without it");
	else if (kcmdline_get(words, "nointremap") != NULL)
		add(r, name, HOSTCHECK_FAIL, "remove nointremap from the "
		    "kernel command line", "off (nointremap): VFIO refuses "
		    "devices without it");
	else if (f->ir_capable && f->ir_unit != NULL)
		add(r, name, HOSTCHECK_FAIL, "enable interrupt remapping and "
		    "x2APIC in the firmware setup (VT-d options); the kernel "
		    "log's DMAR-IR lines say why it stayed off",
		    "off, though %s can remap (its ecap %#llx has bit 3, IR): "
		    "the firmware or the kernel turned it off, and VFIO "
		    "refuses devices without it", f->ir_unit, f->ir_ecap);
	else if (f->ir_unit != NULL)
		add(r, name, HOSTCHECK_FAIL, "this platform cannot remap "
		    "interrupts: other hardware, or (unsafe, devices can "
		    "spoof interrupts) vfio_iommu_type1.allow_unsafe_"
		    "interrupts=1", "off: %s cannot remap (its ecap %#llx "
		    "lacks bit 3, IR), and VFIO refuses devices without it",
		    f->ir_unit, f->ir_ecap);
	else
		add(r, name, HOSTCHECK_FAIL, "enable x2APIC and VT-d/AMD-Vi "
		    "interrupt remapping in the firmware, or (unsafe) "
		    "vfio_iommu_type1.allow_unsafe_interrupts=1",
		    "off%s: VFIO refuses devices without it",
		    f->ir_capable ? " though the IOMMU supports it" : "");
}

/* The command line words that matter for passthrough, as in effect. */
static void judge_cmdline(const struct hostcheck_facts *f,
			  const struct strv *words, struct hostcheck_report *r)
{
	static const char *const keys[] = {
		"intel_iommu", "amd_iommu", "iommu", "intremap",
		"vfio_pci.ids", "vfio_pci.disable_vga",
		"vfio_iommu_type1.allow_unsafe_interrupts", "pcie_acs_override",
		"modprobe.blacklist", "rd.driver.blacklist", "rd.driver.pre",
		"video", "nomodeset", "hugepages", "hugepagesz",
		"default_hugepagesz", "isolcpus", "kvm.ignore_msrs",
		"nouveau.modeset",
	};
	struct strv shown = { 0 };
	cleanup_free char *list = NULL;
	bool acs = false;

	if (f->cmdline == NULL) {
		add(r, "cmdline", HOSTCHECK_WARN, "check that PROC/cmdline "
		    "is readable", "cannot read the kernel command line");
		return;
	}
	for (size_t i = 0; i < words->n; i++) {
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			struct strv one = { 0 };
			bool match;

			strv_push(&one, words->v[i]);
			match = kcmdline_get(&one, keys[k]) != NULL;
			strv_clear(&one);
			if (match) {
				strv_push(&shown, words->v[i]);
				acs |= strcmp(keys[k], "pcie_acs_override")
				       == 0;
				break;
			}
		}
	}
	list = shown.n ? kcmdline_join(&shown) : NULL;
	strv_clear(&shown);
	if (flag_off(words, "intel_iommu") || flag_off(words, "amd_iommu") ||
	    flag_off(words, "iommu"))
		add(r, "cmdline", HOSTCHECK_FAIL, "remove the IOMMU =off "
		    "flags (vmctl host-setup)", "%s", list);
	else if (acs)
		add(r, "cmdline", HOSTCHECK_WARN, "prefer hardware with ACS "
		    "to the ACS override patch", "%s (pcie_acs_override "
		    "splits IOMMU groups the hardware does not isolate)", list);
	else if (list == NULL && is_intel(f) && f->iommu_groups == 0)
		add(r, "cmdline", HOSTCHECK_WARN, "add intel_iommu=on "
		    "iommu=pt (vmctl host-setup)", "no IOMMU or VFIO flags");
	else
		add(r, "cmdline", HOSTCHECK_OK, NULL, "%s",
		    list ? list : "no IOMMU or VFIO flags");
}

static void judge_vfio(const struct hostcheck_facts *f,
		       struct hostcheck_report *r)
{
	struct strv missing = { 0 };
	cleanup_free char *list = NULL;

	if (!f->vfio)
		strv_push(&missing, "vfio");
	if (!f->vfio_pci)
		strv_push(&missing, "vfio_pci");
	if (!f->vfio_iommu_type1)
		strv_push(&missing, "vfio_iommu_type1");
	if (missing.n == 0) {
		add(r, "vfio", HOSTCHECK_OK, NULL, "vfio, vfio_pci and "
		    "vfio_iommu_type1 loaded");
		return;
	}
	list = kcmdline_join(&missing);
	strv_clear(&missing);
	add(r, "vfio", HOSTCHECK_WARN, "modprobe vfio-pci (vmctl host-setup "
	    "loads it at boot)", "not loaded: %s", list);
}

static void judge_hugepages(const struct hostcheck_facts *f,
			    struct hostcheck_report *r)
{
	if (!f->meminfo_read)
		add(r, "hugepages", HOSTCHECK_WARN, "check that PROC/meminfo "
		    "is readable", "cannot read meminfo");
	else if (f->hugepages_total > 0)
		add(r, "hugepages", HOSTCHECK_OK, NULL, "%ld of %ld pages "
		    "free (%ld kB each)", f->hugepages_free,
		    f->hugepages_total, f->hugepage_kb);
	else
		add(r, "hugepages", HOSTCHECK_WARN, "optional, for large VMs: "
		    "reserve some (hugepages=N on the kernel command line, or "
		    "sysctl vm.nr_hugepages=N)", "none reserved (%ld kB pages)",
		    f->hugepage_kb);
}

static void judge_programs(const struct hostcheck_facts *f,
			   struct hostcheck_report *r)
{
	if (f->ovmf_found)
		add(r, "ovmf", HOSTCHECK_OK, NULL, "%s", f->ovmf.code);
	else
		add(r, "ovmf", HOSTCHECK_FAIL, "apt-get install ovmf (Fedora: "
		    "edk2-ovmf)", "no OVMF firmware: GPU guests boot UEFI");
	if (f->qemu_version)
		add(r, "qemu", HOSTCHECK_OK, NULL, "qemu-system-x86_64 %s",
		    f->qemu_version);
	else
		add(r, "qemu", HOSTCHECK_FAIL, "apt-get install "
		    "qemu-system-x86", "%s", f->qemu_error);
	if (f->tmux_version)
		add(r, "tmux", HOSTCHECK_OK, NULL, "tmux %s", f->tmux_version);
	else
		add(r, "tmux", HOSTCHECK_FAIL, "apt-get install tmux", "%s",
		    f->tmux_error);
}

/* What GPU verdicts protect: the devices the host runs on. */
static void judge_host_devices(const struct hostcheck_facts *f,
			       struct hostcheck_report *r)
{
	cleanup_free char *found = strv_join(&f->host_devices, "; ");
	cleanup_free char *notes = strv_join(&f->host_notes, "; ");

	if (f->gpu_error != NULL)
		return;
	if (f->host_notes.n == 0)
		add(r, "host-devices", HOSTCHECK_OK, NULL, "%s", found);
	else
		add(r, "host-devices", HOSTCHECK_WARN, "before passing a GPU "
		    "through, make sure its IOMMU group holds neither",
		    "%s%s%s", found, *found ? "; " : "", notes);
}

static void judge_gpus(const struct hostcheck_facts *f,
		       struct hostcheck_report *r)
{
	cleanup_free char *list = NULL;

	if (f->gpu_error != NULL) {
		add(r, "gpu", HOSTCHECK_FAIL, "see vmctl gpu list", "%s",
		    f->gpu_error);
		return;
	}
	if (f->gpus == 0) {
		add(r, "gpu", HOSTCHECK_FAIL, "install a GPU in a slot of its "
		    "own", "no GPU (PCI display controller) found");
		return;
	}
	if (f->passable.n == 0) {
		add(r, "gpu", HOSTCHECK_FAIL, "see vmctl gpu list for what "
		    "stands in the way", "none of the %zu GPU%s can be passed "
		    "through", f->gpus, f->gpus > 1 ? "s" : "");
		return;
	}
	list = strv_join(&f->passable, ", ");
	add(r, "gpu", HOSTCHECK_OK, NULL, "%zu of %zu GPU%s can be passed "
	    "through: %s", f->passable.n, f->gpus, f->gpus > 1 ? "s" : "",
	    list);
}

/* What the verdict does not show: the reset bug, BARs past q35's hole. */
static void judge_quirks(const struct hostcheck_facts *f,
			 struct hostcheck_report *r)
{
	cleanup_free char *list = NULL;

	if (f->gpu_error != NULL || f->gpus == 0)
		return;
	if (f->quirks.n == 0) {
		add(r, "gpu-quirks", HOSTCHECK_OK, NULL, "none known");
		return;
	}
	list = strv_join(&f->quirks, "; ");
	add(r, "gpu-quirks", HOSTCHECK_WARN, f->quirks.n == 1
	    ? f->quirk_fixes.v[0] : "see vmctl gpu list: each quirk with its "
	    "fix", "%s", list);
}

void hostcheck_judge(const struct hostcheck_facts *f,
		     struct hostcheck_report *out)
{
	struct strv words = { 0 };

	*out = (struct hostcheck_report){ 0 };
	if (f->cmdline != NULL) {
		/* What follows "--" is init's, not the kernel's. */
		kcmdline_split(f->cmdline, &words);
		for (size_t i = 0; i < words.n; i++)
			if (strcmp(words.v[i], "--") == 0) {
				while (words.n > i)
					free(words.v[--words.n]);
				words.v[i] = NULL;
				break;
			}
	}
	judge_cpu(f, out);
	judge_kvm(f, out);
	judge_iommu(f, &words, out);
	judge_ir(f, &words, out);
	judge_cmdline(f, &words, out);
	judge_vfio(f, out);
	judge_hugepages(f, out);
	judge_programs(f, out);
	judge_host_devices(f, out);
	judge_gpus(f, out);
	judge_quirks(f, out);
	hostcheck_compare(f, &words, out);
	strv_clear(&words);
}

bool hostcheck_passed(const struct hostcheck_report *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->items[i].status == HOSTCHECK_FAIL)
			return false;
	return true;
}

const char *hostcheck_status_name(enum hostcheck_status s)
{
	return s == HOSTCHECK_OK ? "ok" : s == HOSTCHECK_WARN ? "warn"
							      : "fail";
}

cJSON *hostcheck_report_json(const struct hostcheck_report *r)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *arr;

	cJSON_AddBoolToObject(o, "ok", hostcheck_passed(r));
	arr = cJSON_AddArrayToObject(o, "checks");
	for (size_t i = 0; i < r->n; i++) {
		cJSON *c = cJSON_CreateObject();

		cJSON_AddStringToObject(c, "name", r->items[i].name);
		cJSON_AddStringToObject(c, "status",
					hostcheck_status_name(
						r->items[i].status));
		cJSON_AddStringToObject(c, "message", r->items[i].message);
		if (r->items[i].fix)
			cJSON_AddStringToObject(c, "fix", r->items[i].fix);
		else
			cJSON_AddNullToObject(c, "fix");
		cJSON_AddItemToArray(arr, c);
	}
	return o;
}

void hostcheck_report_clear(struct hostcheck_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->items[i].message);
		free(r->items[i].fix);
	}
	free(r->items);
	*r = (struct hostcheck_report){ 0 };
}
