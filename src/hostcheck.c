// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * host-check's facts, read through the roots (hostcheck-judge.c judges
 * them).
 *
 * Interrupt remapping has no sysfs switch of its own.  What the roots do
 * show is the kernel's interrupt chips: with remapping on, MSI and IO-APIC
 * interrupts are routed through "IR-PCI-MSI" / "IR-IO-APIC" chips, and
 * PROC/interrupts names them.  An Intel unit's extended capability
 * register (SYSFS/class/iommu/dmarN/intel-iommu/ecap, bit 3) says whether
 * the hardware could, which tells "off" from "unsupported" in the message.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmctl/fsutil.h"
#include "vmctl/gpu.h"
#include "vmctl/gpuquirk.h"
#include "vmctl/job.h"
#include "vmctl/hostcheck.h"
#include "vmctl/pci.h"
#include "vmctl/proc.h"
#include "vmctl/sysfs.h"
#include "vmctl/xalloc.h"

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
		unsigned long long v;

		if (sysfs_read_attr(dir, "ecap", &ecap) < 0)
			continue;
		v = strtoull(ecap, NULL, 16);
		/* The unit named: the first, or the first that can. */
		if (f->ir_unit == NULL || (!f->ir_capable && (v & 0x8))) {
			free(f->ir_unit);
			f->ir_unit = xstrdup(f->iommu_units.v[i]);
			f->ir_ecap = v;
		}
		if (v & 0x8)
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

/* The PCI functions, kept in f->pci: in full when host-setup's intent is
 * to be compared (its functions need not be in a GPU's scope). */
static void read_gpus(const struct vmctl_env *env, bool full,
		      struct hostcheck_facts *f)
{
	struct pci_host *host = &f->pci;
	struct gpu_list list = { 0 };
	struct vmctl_error *e = NULL;
	char a[PCI_ADDR_STRLEN];

	if (pci_host_read(env, PCI_HOST_NEEDS | (full ? 0 : PCI_HOST_GPU_SCOPE),
			  host, &e) < 0) {
		f->gpu_error = xstrdup(e->message);
		vmctl_error_free(e);
		return;
	}
	for (size_t i = 0; i < host->n_needs; i++)
		strv_pushf(&f->host_devices, "%s %s on %s",
			   host->needs[i].kind == PCI_NEED_ROOT_FS
			   ? "root filesystem" : "default route",
			   host->needs[i].detail,
			   pci_addr_format(&host->needs[i].addr, a));
	strv_extend(&f->host_notes, &host->needs_notes);
	gpu_list_build(host, &list);
	f->gpus = list.n;
	for (size_t i = 0; i < list.n; i++) {
		struct gpuquirk_list q = { 0 };

		if (list.v[i].verdict == GPU_READY ||
		    list.v[i].verdict == GPU_BINDABLE)
			strv_pushf(&f->passable, "%s (%s)",
				   pci_addr_format(&list.v[i].gpu->addr, a),
				   gpu_verdict_name(list.v[i].verdict));
		if (list.v[i].boot_display)
			continue;
		gpuquirk_judge(&list.v[i], &q);
		for (size_t k = 0; k < q.n; k++) {
			strv_push(&f->quirks, q.v[k].message);
			strv_push(&f->quirk_fixes, q.v[k].fix);
		}
		gpuquirk_list_clear(&q);
	}
	gpu_list_clear(&list);
}

/* QEMU's and tmux's versions, asked in a thread of their own while the
 * rest is read: `qemu-system-x86_64 --version` alone costs more (some 30M
 * instructions, QEMU's start-up) than all of host-check's reading. */
static int versions_step(void *arg, struct vmctl_error **err)
{
	struct hostcheck_facts *f = arg;

	(void)err;
	run_version("qemu-system-x86_64", "--version", "version ",
		    &f->qemu_version, &f->qemu_error);
	run_version("tmux", "-V", "tmux ", &f->tmux_version, &f->tmux_error);
	return 0;
}

int hostcheck_gather(const struct vmctl_env *env,
		     struct hostcheck_facts *out, struct vmctl_error **err)
{
	struct hostcheck_facts f = { 0 };
	struct job versions;
	cleanup_free char *cpuinfo = read_text(env->proc, "cpuinfo");
	cleanup_free char *meminfo = read_text(env->proc, "meminfo");
	cleanup_free char *modules = read_text(env->proc, "modules");
	char *cmdline;

	(void)err;
	job_start(&versions, versions_step, &f);
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
	read_gpus(env, hostcheck_intent_exists(env), &f);
	if (f.gpu_error == NULL)
		hostcheck_intent_read(env, &f.pci, &f.intent);
	job_join(&versions, NULL);
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
	strv_clear(&f->quirks);
	strv_clear(&f->quirk_fixes);
	free(f->ir_unit);
	pci_host_clear(&f->pci);
	hostcheck_intent_clear(&f->intent);
	*f = (struct hostcheck_facts){ 0 };
}
