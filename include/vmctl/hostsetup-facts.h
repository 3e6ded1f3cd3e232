/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_HOSTSETUP_FACTS_H
#define VMCTL_HOSTSETUP_FACTS_H

#include "vmctl/env.h"

/*
 * What host-setup needs to know about the machine rather than its files:
 * the platform's IOMMU, the CPU, the modules behind PCI drivers.  Read
 * through the roots in struct vmctl_env (PROC, SYSFS).
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

#endif
