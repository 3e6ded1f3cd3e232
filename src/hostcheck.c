// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * host-check: the facts (read through the roots) and the judgement (pure).
 *
 * Interrupt remapping has no sysfs switch of its own.  What the roots do
 * show is the kernel's interrupt chips: with remapping on, MSI and IO-APIC
 * interrupts are routed through "IR-PCI-MSI" / "IR-IO-APIC" chips, and
 * PROC/interrupts names them.  An Intel unit's extended capability
 * register (SYSFS/class/iommu/dmarN/intel-iommu/ecap, bit 3) says whether
 * the hardware could, which tells "off" from "unsupported" in the message.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmctl/fsutil.h"
#include "vmctl/gpu.h"
#include "vmctl/hostcheck.h"
#include "vmctl/kcmdline.h"
#include "vmctl/pci.h"
#include "vmctl/proc.h"
#include "vmctl/sysfs.h"
#include "vmctl/xalloc.h"

/* ---- facts -------------------------------------------------------------- */

static bool has_word(const char *list, size_t len, const char *word)
{
	size_t wl = strlen(word);

	for (const char *p = list; p < list + len;) {
		size_t n;

		while (p < list + len && (*p == ' ' || *p == '\t'))
			p++;
		n = strcspn(p, " \t\n");
		if (n > (size_t)(list + len - p))
			n = (size_t)(list + len - p);
		if (n == wl && strncmp(p, word, wl) == 0)
			return true;
		p += n;
	}
	return false;
}

void hostcheck_parse_cpuinfo(const char *text, struct hostcheck_facts *f)
{
	bool flags_seen = false;

	for (const char *line = text; line && *line;) {
		const char *next = strchr(line, '\n');
		size_t len = next ? (size_t)(next - line) : strlen(line);
		const char *colon = memchr(line, ':', len);

		if (colon != NULL) {
			size_t klen = (size_t)(colon - line);
			const char *v = colon + 1;
			size_t vlen = len - klen - 1;

			while (klen > 0 && (line[klen - 1] == ' ' ||
					    line[klen - 1] == '\t'))
				klen--;
			while (vlen > 0 && *v == ' ') {
				v++;
				vlen--;
			}
			if (klen == 9 && strncmp(line, "vendor_id", 9) == 0 &&
			    f->cpu_vendor == NULL)
				f->cpu_vendor = xstrndup(v, vlen);
			if (klen == 5 && strncmp(line, "flags", 5) == 0 &&
			    !flags_seen) {
				flags_seen = true;
				f->vmx = has_word(v, vlen, "vmx");
				f->svm = has_word(v, vlen, "svm");
			}
		}
		if (f->cpu_vendor != NULL && flags_seen)
			break;
		line = next ? next + 1 : NULL;
	}
	f->cpuinfo_read = true;
}

void hostcheck_parse_meminfo(const char *text, struct hostcheck_facts *f)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{ "HugePages_Total:",
		  offsetof(struct hostcheck_facts, hugepages_total) },
		{ "HugePages_Free:",
		  offsetof(struct hostcheck_facts, hugepages_free) },
		{ "Hugepagesize:", offsetof(struct hostcheck_facts, hugepage_kb) },
	};

	for (const char *line = text; line && *line;) {
		const char *next = strchr(line, '\n');

		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strncmp(line, keys[i].key, strlen(keys[i].key)) == 0)
				*(long *)((char *)f + keys[i].off) =
					strtol(line + strlen(keys[i].key),
					       NULL, 10);
		line = next ? next + 1 : NULL;
	}
	f->meminfo_read = true;
}

char *hostcheck_parse_version(const char *output, const char *after)
{
	const char *p = strstr(output, after);
	size_t len;

	if (p == NULL)
		return NULL;
	p += strlen(after);
	len = strcspn(p, " \n\t(");
	return len ? xstrndup(p, len) : NULL;
}

static char *read_text(const char *dir, const char *name)
{
	cleanup_free char *path = xasprintf("%s/%s", dir, name);
	struct vmctl_error *e = NULL;
	char *text = NULL;
	size_t len;

	if (fs_read_file(path, 64 << 20, &text, &len, 1, &e) < 0) {
		vmctl_error_free(e);
		return NULL;
	}
	return text;
}

static bool module_loaded(const struct vmctl_env *env, const char *modules,
			  const char *name)
{
	cleanup_free char *dir = xasprintf("%s/module/%s", env->sysfs, name);
	size_t len = strlen(name);

	if (access(dir, F_OK) == 0)
		return true;
	for (const char *line = modules; line && *line;) {
		const char *next = strchr(line, '\n');

		if (strncmp(line, name, len) == 0 && line[len] == ' ')
			return true;
		line = next ? next + 1 : NULL;
	}
	return false;
}

/* IR-* chips in PROC/interrupts, read line by line (it is long on big
 * machines and the answer is usually in its first lines). */
static enum hostcheck_ir read_ir(const struct vmctl_env *env)
{
	cleanup_free char *path = xasprintf("%s/interrupts", env->proc);
	cleanup_file FILE *f = fopen(path, "re");
	cleanup_free char *line = NULL;
	size_t cap = 0;

	if (f == NULL)
		return HOSTCHECK_IR_UNKNOWN;
	while (getline(&line, &cap, f) > 0)
		if (strstr(line, " IR-") != NULL)
			return HOSTCHECK_IR_ON;
	return HOSTCHECK_IR_OFF;
}

static void read_iommu(const struct vmctl_env *env, struct hostcheck_facts *f)
{
	cleanup_free char *groups = xasprintf("%s/kernel/iommu_groups",
					      env->sysfs);
	cleanup_free char *units = xasprintf("%s/class/iommu", env->sysfs);
	cleanup_free char *unsafe = NULL;
	cleanup_free char *params = xasprintf("%s/module/vfio_iommu_type1/"
					      "parameters", env->sysfs);
	struct strv g = { 0 };

	if (sysfs_list_dir(groups, &g) == 0)
		f->iommu_groups = g.n;
	strv_clear(&g);
	sysfs_list_dir(units, &f->iommu_units);
	for (size_t i = 0; i < f->iommu_units.n; i++) {
		cleanup_free char *dir = xasprintf("%s/%s/intel-iommu", units,
						   f->iommu_units.v[i]);
		cleanup_free char *ecap = NULL;

		if (sysfs_read_attr(dir, "ecap", &ecap) == 0 &&
		    (strtoull(ecap, NULL, 16) & 0x8))
			f->ir_capable = true;
	}
	f->ir = read_ir(env);
	if (sysfs_read_attr(params, "allow_unsafe_interrupts", &unsafe) == 0)
		f->unsafe_interrupts = unsafe[0] == 'Y' || unsafe[0] == '1';
}

static void run_version(const char *prog, const char *flag,
			const char *after, char **version, char **error)
{
	struct strv argv = { 0 };
	struct proc_result r = { 0 };
	struct vmctl_error *e = NULL;

	strv_push(&argv, prog);
	strv_push(&argv, flag);
	if (proc_run(&argv, &r, &e) < 0) {
		*error = xasprintf("%s not found on PATH", prog);
		vmctl_error_free(e);
	} else if (r.status != 0) {
		cleanup_free char *why = proc_result_summary(&r);

		*error = xasprintf("%s %s failed: %s", prog, flag, why);
	} else {
		*version = hostcheck_parse_version(r.out, after);
		if (*version == NULL)
			*version = xstrdup("(version unknown)");
	}
	proc_result_clear(&r);
	strv_clear(&argv);
}

static void read_gpus(const struct vmctl_env *env, struct hostcheck_facts *f)
{
	struct pci_host host = { 0 };
	struct gpu_list list = { 0 };
	struct vmctl_error *e = NULL;
	char a[PCI_ADDR_STRLEN];

	if (pci_host_read(env, PCI_HOST_NEEDS | PCI_HOST_GPU_SCOPE, &host,
			  &e) < 0) {
		f->gpu_error = xstrdup(e->message);
		vmctl_error_free(e);
		return;
	}
	for (size_t i = 0; i < host.n_needs; i++)
		strv_pushf(&f->host_devices, "%s %s on %s",
			   host.needs[i].kind == PCI_NEED_ROOT_FS
			   ? "root filesystem" : "default route",
			   host.needs[i].detail,
			   pci_addr_format(&host.needs[i].addr, a));
	strv_extend(&f->host_notes, &host.needs_notes);
	gpu_list_build(&host, &list);
	f->gpus = list.n;
	for (size_t i = 0; i < list.n; i++)
		if (list.v[i].verdict == GPU_READY ||
		    list.v[i].verdict == GPU_BINDABLE)
			strv_pushf(&f->passable, "%s (%s)",
				   pci_addr_format(&list.v[i].gpu->addr, a),
				   gpu_verdict_name(list.v[i].verdict));
	gpu_list_clear(&list);
	pci_host_clear(&host);
}

int hostcheck_gather(const struct vmctl_env *env,
		     struct hostcheck_facts *out, struct vmctl_error **err)
{
	struct hostcheck_facts f = { 0 };
	cleanup_free char *cpuinfo = read_text(env->proc, "cpuinfo");
	cleanup_free char *meminfo = read_text(env->proc, "meminfo");
	cleanup_free char *modules = read_text(env->proc, "modules");
	char *cmdline;

	(void)err;
	if (cpuinfo != NULL)
		hostcheck_parse_cpuinfo(cpuinfo, &f);
	accel_probe_kvm(env, &f.kvm);
	read_iommu(env, &f);
	cmdline = read_text(env->proc, "cmdline");
	if (cmdline != NULL) {
		size_t len = strlen(cmdline);

		while (len > 0 && (cmdline[len - 1] == '\n' ||
				   cmdline[len - 1] == ' '))
			cmdline[--len] = '\0';
		f.cmdline = cmdline;
	}
	f.vfio = module_loaded(env, modules, "vfio");
	f.vfio_pci = module_loaded(env, modules, "vfio_pci");
	f.vfio_iommu_type1 = module_loaded(env, modules, "vfio_iommu_type1");
	if (meminfo != NULL)
		hostcheck_parse_meminfo(meminfo, &f);
	f.ovmf_found = firmware_find_ovmf(env, &f.ovmf) == 0;
	run_version("qemu-system-x86_64", "--version", "version ",
		    &f.qemu_version, &f.qemu_error);
	run_version("tmux", "-V", "tmux ", &f.tmux_version, &f.tmux_error);
	read_gpus(env, &f);
	*out = f;
	return 0;
}

void hostcheck_facts_clear(struct hostcheck_facts *f)
{
	free(f->cpu_vendor);
	accel_probe_clear(&f->kvm);
	strv_clear(&f->iommu_units);
	free(f->cmdline);
	firmware_ovmf_clear(&f->ovmf);
	free(f->qemu_version);
	free(f->qemu_error);
	free(f->tmux_version);
	free(f->tmux_error);
	strv_clear(&f->passable);
	strv_clear(&f->host_devices);
	strv_clear(&f->host_notes);
	free(f->gpu_error);
	*f = (struct hostcheck_facts){ 0 };
}

/* ---- judgement (pure) ---------------------------------------------------- */

__attribute__((format(printf, 5, 6)))
static void add(struct hostcheck_report *r, const char *name,
		enum hostcheck_status status, const char *fix,
		const char *fmt, ...)
{
	struct hostcheck_item *it;
	va_list ap;

	r->items = xreallocarray(r->items, r->n + 1, sizeof(*r->items));
	it = &r->items[r->n++];
	it->name = name;
	it->status = status;
	va_start(ap, fmt);
	it->message = xvasprintf(fmt, ap);
	va_end(ap);
	it->fix = fix != NULL ? xstrdup(fix) : NULL;
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
	else if (kcmdline_get(words, "intremap") != NULL &&
		 strcmp(kcmdline_get(words, "intremap"), "off") == 0)
		add(r, name, HOSTCHECK_FAIL, "remove intremap=off from the "
		    "kernel command line", "off (intremap=off): VFIO refuses "
		    "devices without it");
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

static char *join(const struct strv *sv, const char *sep)
{
	char *s = xstrdup("");

	for (size_t i = 0; i < sv->n; i++) {
		char *t = xasprintf("%s%s%s", s, i ? sep : "", sv->v[i]);

		free(s);
		s = t;
	}
	return s;
}

/* What GPU verdicts protect: the devices the host runs on. */
static void judge_host_devices(const struct hostcheck_facts *f,
			       struct hostcheck_report *r)
{
	cleanup_free char *found = join(&f->host_devices, "; ");
	cleanup_free char *notes = join(&f->host_notes, "; ");

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
	list = join(&f->passable, ", ");
	add(r, "gpu", HOSTCHECK_OK, NULL, "%zu of %zu GPU%s can be passed "
	    "through: %s", f->passable.n, f->gpus, f->gpus > 1 ? "s" : "",
	    list);
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
