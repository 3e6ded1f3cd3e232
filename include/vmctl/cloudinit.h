/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_CLOUDINIT_H
#define VMCTL_CLOUDINIT_H

#include "vmctl/error.h"
#include "vmctl/spec.h"

/*
 * The NoCloud seed: user-data, meta-data and network-config on an ISO 9660
 * volume labelled "cidata".  The texts are pure functions of the spec and
 * the VM's keys; only cloudinit_write_seed() writes.
 */
struct cloudinit_keys {
	const char *client_pub;     /* the per-VM login key (authorized) */
	const char *host_private;   /* the guest's SSH host key, pinned */
	const char *host_public;
};

/*
 * #cloud-config as JSON (valid YAML): the user with passwordless sudo and
 * the keys, the pinned host key, hostname, packages.  With `extra` (the
 * user's own cloud-config) the result is a MIME multipart whose parts
 * cloud-init merges, lists appended.
 */
char *cloudinit_user_data(const struct vmctl_spec *spec,
			  const struct cloudinit_keys *keys,
			  const char *extra);
char *cloudinit_meta_data(const struct vmctl_spec *spec,
			  const char *instance_id);
char *cloudinit_network_config(const char *mac);

/* Write DIR/NAME as the seed ISO holding the three documents. */
int cloudinit_write_seed(const char *dir, const char *name,
			 const char *user_data, const char *meta_data,
			 const char *network_config, struct vmctl_error **err);

#endif
