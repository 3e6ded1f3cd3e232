// SPDX-License-Identifier: GPL-2.0-or-later
#include "vmctl/vmdir.h"
#include "vmctl/xalloc.h"

char *vmdir_path(const char *state_dir, const char *name)
{
	return xasprintf("%s/vms/%s", state_dir, name);
}
