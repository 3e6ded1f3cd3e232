/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_HOSTSETUP_FACTS_H
#define VMCTL_HOSTSETUP_FACTS_H

#include "vmctl/env.h"
#include "vmctl/strv.h"

/*
 * What host-setup needs to know about the machine rather than its files:
 * the platform's IOMMU, the CPU, the modules that drive (or would drive)
 * PCI functions.  Read through the roots in struct vmctl_env (PROC,
 * SYSFS) and the target root's module tables.
 */

enum hs_iommu {
	HS_IOMMU_INTEL,   /* VT-d: ACPI DMAR table */
	HS_IOMMU_AMD,     /* AMD-Vi: ACPI IVRS table */
};

/*
 * The platform's IOMMU, from the ACPI table the firmware describes it in
 * (SYSFS/firmware/acpi/tables/DMAR or IVRS), not from the CPU: an AMD CPU
 * can sit on a board with VT-d.  Without either table, the CPU vendor
 * decides and *note says so.
 */
enum hs_iommu hostsetup_iommu(const struct vmctl_env *env, char **note);

/* "GenuineIntel", "AuthenticAMD" from PROC/cpuinfo; NULL if unknown. */
char *hostsetup_cpu_vendor(const struct vmctl_env *env);

/* The module behind a driver: SYSFS/bus/pci/drivers/D/module, else D,
 * with '-' written '_' as modprobe.d wants it. */
char *hostsetup_driver_module(const struct vmctl_env *env, const char *driver);

/* Add to `mods` the modules modules.alias (TEXT) names for MODALIAS
 * ("pci:v000010DEd00001B80sv...") : its patterns matched as modprobe
 * matches them (fnmatch).  vfio-pci and pci-stub are left out. */
void hostsetup_alias_match(const char *text, const char *modalias,
			   struct strv *mods);

/* The modules the kernels installed under ROOT (ROOT/lib/modules/KVER/
 * modules.alias, and /usr/lib/modules) would load for the function at
 * `addr` (its SYSFS modalias), whether or not one is loaded now. */
void hostsetup_alias_modules(const struct vmctl_env *env, const char *root,
			     const char *addr, struct strv *mods);

#endif
