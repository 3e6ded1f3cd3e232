/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_HOSTCHECK_H
#define VMCTL_HOSTCHECK_H

#include <stdbool.h>
#include <stddef.h>

#include <cJSON.h>

#include "vmctl/accel.h"
#include "vmctl/env.h"
#include "vmctl/error.h"
#include "vmctl/firmware.h"
#include "vmctl/hostcheck-intent.h"
#include "vmctl/pci.h"
#include "vmctl/strv.h"

/*
 * `vmctl host-check`: can this host run a VM with a GPU passed through?
 * hostcheck_gather() reads the facts through the roots in env (and runs
 * qemu-system-x86_64 --version and tmux -V); hostcheck_judge() turns them
 * into one verdict per check, purely.  Nothing here writes.
 */

enum hostcheck_status { HOSTCHECK_OK, HOSTCHECK_WARN, HOSTCHECK_FAIL };

/* Interrupt remapping, as far as the roots tell. */
enum hostcheck_ir {
	HOSTCHECK_IR_UNKNOWN,   /* PROC/interrupts unreadable */
	HOSTCHECK_IR_ON,        /* IR-* interrupt chips in PROC/interrupts */
	HOSTCHECK_IR_OFF,
};

struct hostcheck_facts {
	bool cpuinfo_read;
	char *cpu_vendor;            /* "GenuineIntel"; NULL when unknown */
	bool vmx, svm;
	struct accel_probe kvm;
	size_t iommu_groups;         /* SYSFS/kernel/iommu_groups/N */
	struct strv iommu_units;     /* SYSFS/class/iommu: dmar0, ivhd0 */
	bool ir_capable;             /* an Intel unit's ecap has the IR bit */
	char *ir_unit;               /* the first Intel unit, for messages */
	unsigned long long ir_ecap;  /* and its ecap */
	enum hostcheck_ir ir;
	bool unsafe_interrupts;      /* vfio_iommu_type1 allow_unsafe_... */
	char *cmdline;               /* PROC/cmdline; NULL when unreadable */
	bool vfio, vfio_pci, vfio_iommu_type1;   /* loaded or built in */
	bool meminfo_read;
	long hugepages_total, hugepages_free, hugepage_kb;
	bool ovmf_found;
	struct firmware_ovmf ovmf;
	char *qemu_version, *qemu_error;   /* one of the two is set */
	char *tmux_version, *tmux_error;
	size_t gpus;                 /* GPUs in the host */
	struct strv passable;        /* "0000:01:00.0 (ready)" */
	struct strv host_devices;    /* "root filesystem /dev/sda2 on ..." */
	struct strv host_notes;      /* what could not be traced */
	char *gpu_error;             /* the PCI tree could not be read */
	/* Quirks of the GPUs but the boot display (gpuquirk.c): each one's
	 * line and its fix. */
	struct strv quirks, quirk_fixes;
	/* The PCI functions (all of them read in full when there is a
	 * host-setup manifest to compare with), and what host-setup
	 * intended (hostcheck-intent.h). */
	struct pci_host pci;
	struct hostcheck_intent intent;
};

struct hostcheck_item {
	const char *name;            /* "cpu", "kvm", "iommu", ... */
	enum hostcheck_status status;
	char *message;
	char *fix;                   /* one line; NULL when ok */
};

struct hostcheck_report {
	struct hostcheck_item *items;
	size_t n;
};

int hostcheck_gather(const struct vmctl_env *env,
		     struct hostcheck_facts *out, struct vmctl_error **err);
void hostcheck_facts_clear(struct hostcheck_facts *f);

void hostcheck_judge(const struct hostcheck_facts *f,
		     struct hostcheck_report *out);
/* The checks of what host-setup intended (hostcheck-compare.c; only with
 * a manifest): setup, setup-args, setup-driver, setup-group.  WORDS: the
 * running kernel's command line, init's words dropped. */
void hostcheck_compare(const struct hostcheck_facts *f,
		       const struct strv *words, struct hostcheck_report *r);
/* Append a check (for hostcheck-compare.c). */
void hostcheck_add(struct hostcheck_report *r, const char *name,
		   enum hostcheck_status status, const char *fix,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* No check failed: the host can run a passthrough VM. */
bool hostcheck_passed(const struct hostcheck_report *r);
const char *hostcheck_status_name(enum hostcheck_status s);
cJSON *hostcheck_report_json(const struct hostcheck_report *r);
void hostcheck_report_clear(struct hostcheck_report *r);

/* Pure parsers behind hostcheck_gather(), for tests. */
void hostcheck_parse_cpuinfo(const char *text, struct hostcheck_facts *f);
void hostcheck_parse_meminfo(const char *text, struct hostcheck_facts *f);
/* The version in `qemu-system-x86_64 --version` or `tmux -V` output. */
char *hostcheck_parse_version(const char *output, const char *after);

#endif
