// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * host-setup's facts about the machine: the platform's IOMMU, the CPU,
 * the modules behind PCI drivers and those modules.alias names for a
 * function.  Reads PROC, SYSFS and the target root; writes nothing.
 */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmctl/fsutil.h"
#include "vmctl/hostsetup-facts.h"
#include "vmctl/hostsetup-root.h"
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

void hostsetup_alias_match(const char *text, const char *modalias,
			   struct strv *mods)
{
	for (const char *l = text; *l;) {
		size_t n = strcspn(l, "\n");

		if (strncmp(l, "alias pci:", 10) == 0) {
			cleanup_free char *line = xstrndup(l + 6, n - 6);
			char *sp = strchr(line, ' ');

			if (sp != NULL) {
				char *mod = sp + 1;

				*sp = '\0';
				mod[strcspn(mod, " \t")] = '\0';
				for (char *c = mod; *c; c++)
					if (*c == '-')
						*c = '_';
				if (*mod && strcmp(mod, "vfio_pci") != 0 &&
				    strcmp(mod, "pci_stub") != 0 &&
				    !strv_contains(mods, mod) &&
				    fnmatch(line, modalias, 0) == 0)
					strv_push(mods, mod);
			}
		}
		l += n + (l[n] == '\n');
	}
}

void hostsetup_alias_modules(const struct vmctl_env *env, const char *root,
			     const char *addr, struct strv *mods)
{
	static const char *const dirs[] = { "/lib/modules", "/usr/lib/modules" };
	cleanup_free char *path = xasprintf("%s/bus/pci/devices/%s/modalias",
					    env->sysfs, addr);
	cleanup_free char *modalias = NULL;
	struct vmctl_error *ignored = NULL;
	struct strv seen = { 0 };
	size_t len;

	if (fs_read_file(path, 4096, &modalias, &len, VMCTL_EXIT_FAILURE,
			 &ignored) < 0) {
		vmctl_error_free(ignored);
		return;
	}
	modalias[strcspn(modalias, "\n")] = '\0';
	for (size_t d = 0; d < 2; d++) {
		struct strv kvers = { 0 };

		hs_list(root, dirs[d], "", &kvers);
		for (size_t k = 0; k < kvers.n; k++) {
			cleanup_free char *file = xasprintf(
				"%s/%s/modules.alias", dirs[d], kvers.v[k]);
			cleanup_free char *resolved = NULL, *text = NULL;

			/* /lib is often a link to /usr/lib: read each once */
			if (hs_resolve(root, file, &resolved, &ignored) < 0 ||
			    strv_contains(&seen, resolved)) {
				vmctl_error_free(ignored);
				ignored = NULL;
				continue;
			}
			strv_push(&seen, resolved);
			if (hs_read(root, file, &text, NULL, &ignored) < 0 ||
			    text == NULL) {
				vmctl_error_free(ignored);
				ignored = NULL;
				continue;
			}
			hostsetup_alias_match(text, modalias, mods);
		}
		strv_clear(&kvers);
	}
	strv_clear(&seen);
}
