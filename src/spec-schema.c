// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The spec schema: the one place that knows the keys of a VM spec.
 *
 * It walks a struct node tree (from YAML or JSON alike) with tables of
 * known keys, converts and range-checks every value, fills in defaults and
 * finally checks the keys that depend on each other.  Every error names the
 * file, line, column and key path of the offending node.  The walker is
 * pure: it reads no files and touches nothing.
 *
 * This file holds the top-level table, the defaults, the cross-key checks
 * and the key list; the walker and the parsers of each group of keys are
 * in spec-walk.c and spec-keys-*.c (spec-walk.h).
 */
#include <string.h>

#include "vmctl/spec-schema.h"
#include "vmctl/spec-walk.h"
#include "vmctl/xalloc.h"

static const struct key spec_keys[] = {
	KEY("name", sk_set_name, struct vmctl_spec, name),
	KEY("backend", sk_set_backend, struct vmctl_spec, backend),
	KEY("connect", sk_set_connect, struct vmctl_spec, connect),
	KEY("cpus", sk_set_cpus, struct vmctl_spec, cpus),
	KEY("memory", sk_set_memory, struct vmctl_spec, memory),
	KEY("machine", sk_set_machine, struct vmctl_spec, machine),
	KEY("accel", sk_set_accel, struct vmctl_spec, accel),
	KEY("firmware", sk_set_firmware, struct vmctl_spec, firmware),
	KEY("disk", sk_set_disk, struct vmctl_spec, disk),
	KEY("cdrom", sk_set_cdrom, struct vmctl_spec, cdrom),
	KEY("boot", sk_set_boot, struct vmctl_spec, boot),
	KEY("kernel", sk_set_kernel, struct vmctl_spec, kernel),
	KEY("cloud_init", sk_set_cloud_init, struct vmctl_spec, cloud_init),
	KEY("network", sk_set_network, struct vmctl_spec, network),
	KEY("vnc", sk_set_vnc, struct vmctl_spec, vnc),
	KEY("gpu", sk_set_gpu, struct vmctl_spec, gpus),
	KEY("usb", sk_set_usb, struct vmctl_spec, usb),
	KEY("hide_hypervisor", sw_set_bool, struct vmctl_spec, hide_hypervisor),
	KEY("hyperv", sw_set_bool, struct vmctl_spec, hyperv),
	KEY("tpm", sw_set_bool, struct vmctl_spec, tpm),
	KEY("overcommit", sk_set_overcommit, struct vmctl_spec, overcommit),
	KEY("qemu", sk_set_qemu, struct vmctl_spec, qemu),
	{ NULL, NULL, 0 },
};

/* ---- defaults and cross-key checks ---------------------------------- */

static void spec_set_defaults(struct vmctl_spec *spec)
{
	spec->cpus.sockets = 1;
	spec->cpus.cores = 2;
	spec->cpus.threads = 1;
	spec->memory = 2ULL << 30;
	spec->mem_merge = true;
	spec->machine = xstrdup("q35");
	spec->accel = SPEC_ACCEL_AUTO;
	spec->firmware = SPEC_FIRMWARE_DEFAULT;
	spec->cloud_init.user = xstrdup("vmadmin");
	spec->network.ssh_listen = xstrdup("0.0.0.0");
	spec->vnc.enabled = true;
	spec->vnc.listen = xstrdup("0.0.0.0");
	spec->vnc.display = -1;
	spec->vnc.password = true;
	spec->qemu.binary = xstrdup("qemu-system-x86_64");
}

static int check_spec(struct walker *w, struct vmctl_spec *spec)
{
	const struct node *root = w->root;

	if (spec->name == NULL)
		return sw_fail(w, root, "", "missing key \"name\"");
	if (spec->connect != NULL) {
		if (w->at_backend != NULL &&
		    spec->backend != SPEC_BACKEND_LIBVIRT)
			return sw_fail(w, w->at_connect, "connect", "a libvirt "
				    "host, but backend is direct (drop one)");
		spec->backend = SPEC_BACKEND_LIBVIRT;
	}
	if (spec->n_gpus > 0 && !spec_machine_is_q35(spec->machine))
		return sw_fail(w, w->at_machine ? w->at_machine : w->at_gpu,
			    "machine", "GPU passthrough needs a q35 machine "
			    "(PCIe root ports), not \"%s\"", spec->machine);
	/* Secure Boot's variable store is guarded by SMM, which only q35
	 * has. */
	if (spec->firmware == SPEC_FIRMWARE_UEFI_SECURE &&
	    !spec_machine_is_q35(spec->machine))
		return sw_fail(w, w->at_machine ? w->at_machine : w->at_firmware,
			    "machine", "firmware uefi-secure needs a q35 "
			    "machine (SMM), not \"%s\"", spec->machine);
	if (spec->n_gpus > 0 && spec->overcommit)
		return sw_fail(w, w->at_overcommit, "overcommit",
			    "a VM with a passed-through GPU cannot be "
			    "overcommitted: VFIO pins all its memory");
	if (spec->hugepages != SPEC_HUGE_NONE && spec->overcommit)
		return sw_fail(w, w->at_overcommit, "overcommit",
			    "hugepages are reserved for the VM before it "
			    "starts: there is nothing to overcommit (drop "
			    "overcommit or set memory.hugepages: none)");
	if (spec->n_gpus > 0 && w->at_balloon != NULL && spec->balloon)
		return sw_fail(w, w->at_balloon, "memory.balloon",
			    "a passed-through GPU's memory is pinned by VFIO: "
			    "a balloon cannot take any of it back (drop "
			    "memory.balloon)");
	if (spec->hugepages != SPEC_HUGE_NONE && w->at_balloon != NULL &&
	    spec->balloon)
		return sw_fail(w, w->at_balloon, "memory.balloon",
			    "hugepages stay reserved for the VM: a balloon "
			    "would give them back to the hugepage pool, not "
			    "to the host (drop memory.balloon)");
	if (w->at_balloon == NULL)
		spec->balloon = spec->n_gpus == 0 &&
				spec->hugepages == SPEC_HUGE_NONE;
	if (w->at_pin == NULL)
		spec->cpus.pin = spec->n_gpus > 0 ? SPEC_PIN_AUTO
						  : SPEC_PIN_NONE;
	/* Every guest reaches the host's loopback through user networking
	 * (10.0.2.2), so no TCP address is safe without a password. */
	if (spec->vnc.enabled && !spec->vnc.password &&
	    (w->at_vnc_listen != NULL || w->at_vnc_display != NULL))
		return sw_fail(w, w->at_vnc_listen ? w->at_vnc_listen
						: w->at_vnc_display,
			    w->at_vnc_listen ? "vnc.listen" : "vnc.display",
			    "VNC without a password is served on a UNIX socket "
			    "in the VM's directory, never on TCP (guests reach "
			    "the host's loopback); drop vnc.%s or set "
			    "vnc.password: true",
			    w->at_vnc_listen ? "listen" : "display");
	if (spec->vnc.enabled && spec->vnc.display >= 0) {
		unsigned vnc_port = 5900 + (unsigned)spec->vnc.display;

		if (spec->network.ssh_port == vnc_port)
			return sw_fail(w, w->at_ssh_port, "network.ssh_port",
				    "port %u is also VNC display %d's port",
				    vnc_port, spec->vnc.display);
		for (size_t i = 0; i < spec->network.n_forwards; i++)
			if (spec->network.forwards[i].host_port == vnc_port &&
			    strcmp(spec->network.forwards[i].proto, "tcp") == 0)
				return sw_fail(w, w->at_forwards,
					    "network.forwards",
					    "forward of tcp port %u collides "
					    "with VNC display %d", vnc_port,
					    spec->vnc.display);
	}
	for (size_t i = 0; i < spec->network.n_forwards; i++)
		if (spec->network.ssh_port != 0 &&
		    spec->network.forwards[i].host_port ==
			    spec->network.ssh_port &&
		    strcmp(spec->network.forwards[i].proto, "tcp") == 0)
			return sw_fail(w, w->at_ssh_port, "network.ssh_port",
				    "port %u is also used by "
				    "network.forwards[%zu]",
				    spec->network.ssh_port, i);
	/* A VM with a disk image is a cloud image unless an installer ISO is
	 * attached; only then is cloud-init on without being asked for. */
	if (!w->cloud_init_given)
		spec->cloud_init.enabled = spec->disk.image != NULL &&
					   spec->cdrom == NULL;
	if (spec->firmware == SPEC_FIRMWARE_DEFAULT)
		spec->firmware = spec->n_gpus > 0 ? SPEC_FIRMWARE_UEFI
						  : SPEC_FIRMWARE_BIOS;
	return sk_check_boot(w, spec);
}

int spec_schema_read(const char *file, const char *base_dir,
		     const struct node *root, struct vmctl_spec **out,
		     struct vmctl_error **err)
{
	struct walker w = {
		.file = file, .base_dir = base_dir, .err = err, .root = root,
	};
	struct vmctl_spec *spec;

	if (root->kind == NODE_SCALAR && node_is_null(root))
		return vmctl_error_at(err, file, root->line, root->col, NULL,
				      "the spec is empty (expected a mapping "
				      "with at least \"name\")");
	if (root->kind != NODE_MAP)
		return vmctl_error_at(err, file, root->line, root->col, NULL,
				      "a spec must be a mapping of keys, got "
				      "%s", node_kind_name(root));
	if (sw_check_texts(&w, root, "") < 0)
		return -1;
	spec = xcalloc(1, sizeof(*spec));
	spec_set_defaults(spec);
	if (sw_walk_map(&w, root, "", spec_keys, spec) < 0 ||
	    check_spec(&w, spec) < 0) {
		spec_free(spec);
		return -1;
	}
	*out = spec;
	return 0;
}

/* ---- the key list (vmctl-spec(5), tests) ------------------------------ */

/* Which table a key's parser walks, if any: it is handed an empty mapping,
 * then a list holding one, and sw_walk_map() reports instead of walking. */
static const struct key *probe_table(const struct key *k, void *target)
{
	struct vmctl_error *e = NULL;
	struct node map = { .kind = NODE_MAP };
	struct node *item = &map;
	struct node seq = { .kind = NODE_SEQ, .items = &item, .n = 1 };
	struct walker w = { .file = "", .err = &e, .root = &map,
			    .probing = true };

	if (k->parse(&w, &map, k->name, target) < 0 && w.probed == NULL) {
		vmctl_error_free(e);
		e = NULL;
		k->parse(&w, &seq, k->name, target);
	}
	vmctl_error_free(e);
	return w.probed;
}

static void list_keys(const struct key *keys, const char *prefix, int depth,
		      void *base, spec_schema_key_fn *fn, void *ctx)
{
	for (const struct key *k = keys; k->name; k++) {
		void *target = (char *)base + k->offset;
		const struct key *sub = probe_table(k, target);
		cleanup_free char *path = sw_child_path(prefix, k->name);

		fn(ctx, path, k->name, depth, sub != NULL);
		if (sub != NULL)
			list_keys(sub, path, depth + 1, target, fn, ctx);
	}
}

void spec_schema_keys(spec_schema_key_fn *fn, void *ctx)
{
	struct vmctl_spec *spec = xcalloc(1, sizeof(*spec));

	spec_set_defaults(spec);
	list_keys(spec_keys, "", 0, spec, fn, ctx);
	spec_free(spec);
}
