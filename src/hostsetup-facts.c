// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * host-setup's facts about the machine: the CPU, the modules behind PCI
 * drivers.  Reads PROC and SYSFS; writes nothing.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmctl/fsutil.h"
#include "vmctl/hostsetup-facts.h"
#include "vmctl/xalloc.h"

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
