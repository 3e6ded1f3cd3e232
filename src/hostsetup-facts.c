// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * host-setup's facts about the machine: the platform's IOMMU, the CPU,
 * the modules behind PCI drivers.  Reads PROC and SYSFS; writes nothing.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmctl/fsutil.h"
#include "vmctl/hostsetup-facts.h"
#include "vmctl/xalloc.h"

enum hs_iommu hostsetup_iommu(const struct vmctl_env *env, char **note)
{
	cleanup_free char *dmar = xasprintf("%s/firmware/acpi/tables/DMAR",
					    env->sysfs);
	cleanup_free char *ivrs = xasprintf("%s/firmware/acpi/tables/IVRS",
					    env->sysfs);
	cleanup_free char *vendor = NULL;
	struct stat st;

	*note = NULL;
	if (stat(dmar, &st) == 0)
		return HS_IOMMU_INTEL;
	if (stat(ivrs, &st) == 0)
		return HS_IOMMU_AMD;
	vendor = hostsetup_cpu_vendor(env);
	*note = xasprintf("the firmware describes no IOMMU (no ACPI DMAR or "
			  "IVRS table in %s/firmware/acpi/tables): going by "
			  "the CPU (%s); enable VT-d or AMD-Vi in the "
			  "firmware setup if it is off", env->sysfs,
			  vendor ? vendor : "vendor unknown, taken for Intel");
	if (vendor != NULL && strcmp(vendor, "AuthenticAMD") == 0)
		return HS_IOMMU_AMD;
	return HS_IOMMU_INTEL;
}

char *hostsetup_cpu_vendor(const struct vmctl_env *env)
{
	cleanup_free char *path = xasprintf("%s/cpuinfo", env->proc);
	cleanup_free char *text = NULL;
	struct vmctl_error *ignored = NULL;
	const char *p;
	size_t len;

	if (fs_read_file(path, 16u << 20, &text, &len, VMCTL_EXIT_FAILURE,
			 &ignored) < 0) {
		vmctl_error_free(ignored);
		return NULL;
	}
	p = strstr(text, "vendor_id");
	if (p == NULL || (p = strchr(p, ':')) == NULL)
		return NULL;
	p++;
	while (*p == ' ' || *p == '\t')
		p++;
	return xstrndup(p, strcspn(p, "\n"));
}

char *hostsetup_driver_module(const struct vmctl_env *env, const char *driver)
{
	cleanup_free char *link = xasprintf("%s/bus/pci/drivers/%s/module",
					    env->sysfs, driver);
	char target[4096];
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	char *mod;

	if (n > 0) {
		const char *base;

		target[n] = '\0';
		base = strrchr(target, '/');
		mod = xstrdup(base ? base + 1 : target);
	} else {
		mod = xstrdup(driver);
	}
	for (char *p = mod; *p; p++)
		if (*p == '-')
			*p = '_';
	return mod;
}
