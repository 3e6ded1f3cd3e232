// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A card's option ROM from SYSFS/bus/pci/devices/ADDR/rom: turned on,
 * read, turned off (drivers/pci/pci-sysfs.c: pci_read_rom() answers
 * EINVAL while the attribute is off; pci_write_rom() turns it off only
 * for the two bytes "0\n" at offset 0, and on for anything else).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/fsutil.h"
#include "vmctl/gpu.h"
#include "vmctl/pcirom.h"
#include "vmctl/xalloc.h"

#define ROM_MAX (16u << 20)

char *pcirom_dump_refusal(const struct pci_function *fn)
{
	char a[PCI_ADDR_STRLEN];

	pci_addr_format(&fn->addr, a);
	if (!pci_function_is_display(fn))
		return xasprintf("%s is no display controller (class %04x): "
				 "only a GPU's ROM is read", a,
				 fn->class_code >> 8);
	if (gpu_is_boot_display(fn))
		return xasprintf("%s is the host's boot display: the host "
				 "drives it, and its rom shows the copy the "
				 "firmware shadowed and patched", a);
	if (!pci_function_released(fn))
		return xasprintf("%s is on %s: turning its ROM on can disturb "
				 "a card a host driver uses; move it to "
				 "vfio-pci first (vmctl bind %s)", a,
				 fn->driver, a);
	return NULL;
}

int pcirom_dump(const struct vmctl_env *env, const struct pci_function *fn,
		char **data, size_t *len, bool *enabled,
		struct vmctl_error **err)
{
	char a[PCI_ADDR_STRLEN];
	cleanup_free char *path = xasprintf("%s/bus/pci/devices/%s/rom",
					    env->sysfs,
					    pci_addr_format(&fn->addr, a));
	struct vmctl_error *off_err = NULL;
	int ret;

	*data = NULL;
	*len = 0;
	*enabled = false;
	ret = fs_read_file(path, ROM_MAX, data, len, VMCTL_EXIT_FAILURE, err);
	if (ret < 0 && (*err)->errnum == ENOENT) {
		vmctl_error_free(*err);
		*err = NULL;
		return vmctl_error_set(err, VMCTL_EXIT_UNAVAILABLE, ENOENT,
				       "%s has no expansion ROM (no %s)", a,
				       path);
	}
	if (ret < 0 && (*err)->errnum == EINVAL) {
		/* Off, as the kernel leaves it: on, read, off. */
		vmctl_error_free(*err);
		*err = NULL;
		if (fs_write_attr(path, "1", err) < 0)
			return vmctl_error_wrap(err, "turning the ROM of %s on",
						a);
		*enabled = true;
		ret = fs_read_file(path, ROM_MAX, data, len,
				   VMCTL_EXIT_FAILURE, err);
		if (fs_write_attr(path, "0\n", &off_err) < 0) {
			if (ret == 0) {
				free(*data);
				*data = NULL;
				*err = off_err;
				return vmctl_error_wrap(err, "turning the ROM "
							"of %s off", a);
			}
			vmctl_error_free(off_err);
		}
	}
	if (ret < 0 && (*err)->errnum == EIO)
		return vmctl_error_wrap(err, "the kernel could not map the "
					"ROM of %s (none, or the card hides "
					"it)", a);
	if (ret < 0)
		return -1;
	if (*len == 0) {
		free(*data);
		*data = NULL;
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "%s: the "
				       "ROM read empty", a);
	}
	return 0;
}
