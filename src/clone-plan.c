// SPDX-License-Identifier: GPL-2.0-or-later
/* vmctl clone: refusals, names, argv (include/vmctl/clone-plan.h). */
#include <errno.h>
#include <string.h>

#include "vmctl/clone-plan.h"
#include "vmctl/spec.h"
#include "vmctl/xalloc.h"

static int refuse_state(const struct clone_source *src,
			struct vmctl_error **err)
{
	const char *n = src->name;

	switch (src->state) {
	case VM_STOPPED:
	case VM_CRASHED:
		return 0;
	case VM_RUNNING:
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, EBUSY,
				       "VM %s is running: stop it first (a "
				       "clone copies a disk nothing is "
				       "writing)", n);
	case VM_SAVED:
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, EBUSY,
				       "VM %s holds a saved state (its RAM in "
				       "its disk): start it and stop it "
				       "before cloning", n);
	case VM_CREATING:
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, EBUSY,
				       "VM %s is being created", n);
	case VM_INCOMPLETE:
		break;
	}
	return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
			       "VM %s was never finished (destroy it or "
			       "create it again)", n);
}

int clone_plan_check(const struct clone_source *src, const char *dst,
		     bool dst_exists, bool linked, struct vmctl_error **err)
{
	if (!spec_name_valid(dst))
		return vmctl_error_set(err, VMCTL_EXIT_USAGE, 0,
				       "invalid VM name \"%s\"", dst);
	if (strcmp(src->name, dst) == 0)
		return vmctl_error_set(err, VMCTL_EXIT_USAGE, 0,
				       "a clone needs a name of its own (%s "
				       "is the source)", dst);
	if (dst_exists)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, EEXIST,
				       "a VM named \"%s\" already exists", dst);
	if (refuse_state(src, err) < 0)
		return -1;
	if (src->saved)
		return refuse_state(&(struct clone_source){
			.name = src->name, .state = VM_SAVED }, err);
	if (!linked)
		return 0;
	if (!src->has_disk)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "VM %s has no disk image to share: a "
				       "linked clone stands on its disk "
				       "(make a full clone)", src->name);
	if (src->n_snapshots > 0)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "VM %s has %zu snapshot%s: a linked "
				       "clone freezes its disk as a shared "
				       "layer, snapshots and all (delete "
				       "them, or make a full clone)",
				       src->name, src->n_snapshots,
				       src->n_snapshots == 1 ? "" : "s");
	return 0;
}

char *clone_layer_name(const char *src, const unsigned char rnd[4])
{
	return xasprintf("%s-%02x%02x%02x%02x.qcow2", src, rnd[0], rnd[1],
			 rnd[2], rnd[3]);
}

void clone_linked_chain(const char *layer, const struct strv *src_layers,
			struct strv *out)
{
	strv_push(out, layer);
	strv_extend(out, src_layers);
}

void clone_rebase_argv(const char *dst_overlay, const char *base,
		       const char *base_format, bool progress,
		       struct strv *argv)
{
	strv_push(argv, "qemu-img");
	strv_push(argv, "rebase");
	if (progress)
		strv_push(argv, "-p");
	/* Formats named, never probed.  Safe mode (no -u): every cluster
	 * where the old chain reads differently from the base is written
	 * into the overlay. */
	strv_push(argv, "-f");
	strv_push(argv, "qcow2");
	strv_push(argv, "-b");
	strv_push(argv, base);
	strv_push(argv, "-F");
	strv_push(argv, base_format);
	strv_push(argv, dst_overlay);
}

void clone_layers_unused(const struct strv *chain, const struct strv *in_use,
			 struct strv *out)
{
	for (size_t i = 0; i < chain->n; i++)
		if (!strv_contains(in_use, chain->v[i]) &&
		    !strv_contains(out, chain->v[i]))
			strv_push(out, chain->v[i]);
}
