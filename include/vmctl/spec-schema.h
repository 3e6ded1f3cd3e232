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

/*
 * Every key the schema knows, each parent before its own keys: path is
 * "cpus" or "cpus.pin", depth 0 at the top; has_keys when the key takes a
 * mapping (or a list of them) of keys of its own.  For vmctl-spec(5).
 */
typedef void spec_schema_key_fn(void *ctx, const char *path,
				const char *name, int depth, bool has_keys);
void spec_schema_keys(spec_schema_key_fn *fn, void *ctx);

#endif
