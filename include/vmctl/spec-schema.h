/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_SPEC_SCHEMA_H
#define VMCTL_SPEC_SCHEMA_H

#include "vmctl/node.h"
#include "vmctl/spec.h"

/* Turn a parsed document into a validated spec with defaults filled in.
 * Relative paths are made absolute against base_dir when it is not NULL. */
int spec_schema_read(const char *file, const char *base_dir,
		     const struct node *root, struct vmctl_spec **out,
		     struct vmctl_error **err);

#endif
