/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_VFIO_H
#define VMCTL_VFIO_H

#include <stddef.h>

#include "vmctl/env.h"
#include "vmctl/error.h"
#include "vmctl/pci.h"

/*
 * Runtime binding through sysfs, under env->sysfs: for each function,
 * driver_override=vfio-pci, unbind from its driver, drivers_probe, then
 * wait for DEV/vfio/GROUP.  The drivers the functions had are recorded in
 * STATE_DIR/vfio-bindings.json first, so `release` can give them back and
 * a failure halfway puts every function back where it was.
 */
struct vfio_action {
	struct pci_addr addr;
	char *old_driver;        /* NULL: bound to nothing */
	int group;               /* IOMMU group, -1 none */
};

struct vfio_plan {
	struct vfio_action *v;   /* only functions not on vfio-pci yet */
	size_t n;
};

/* Pure: the functions to move (those already on vfio-pci are skipped). */
int vfio_plan_bind(const struct vmctl_env *env, const struct pci_host *host,
		   const struct pci_function *const *fns, size_t n,
		   struct vfio_plan *plan, struct vmctl_error **err);
char *vfio_plan_render(const struct vfio_plan *plan);
void vfio_plan_clear(struct vfio_plan *plan);

int vfio_bind(const struct vmctl_env *env, const struct vfio_plan *plan,
	      struct vmctl_error **err);

/* Give functions on vfio-pci back to the drivers recorded at bind time
 * (clear the override, bind to that driver); one recorded with no driver
 * is left on none.  One without a record goes to whichever driver takes
 * it.  *released counts them. */
int vfio_release(const struct vmctl_env *env,
		 const struct pci_function *const *fns, size_t n,
		 size_t *released, struct vmctl_error **err);

#endif
