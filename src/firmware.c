// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdlib.h>
#include <unistd.h>

#include "vmctl/firmware.h"
#include "vmctl/xalloc.h"

/* Secure-boot builds are left out: they need SMM and enrolled keys. */
static const struct {
	const char *code, *vars;
} ovmf_layouts[] = {
	{ "usr/share/OVMF/OVMF_CODE_4M.fd", "usr/share/OVMF/OVMF_VARS_4M.fd" },
	{ "usr/share/OVMF/OVMF_CODE.fd", "usr/share/OVMF/OVMF_VARS.fd" },
	{ "usr/share/edk2/ovmf/OVMF_CODE.fd",
	  "usr/share/edk2/ovmf/OVMF_VARS.fd" },
	{ "usr/share/edk2/x64/OVMF_CODE.4m.fd",
	  "usr/share/edk2/x64/OVMF_VARS.4m.fd" },
	{ "usr/share/edk2-ovmf/x64/OVMF_CODE.fd",
	  "usr/share/edk2-ovmf/x64/OVMF_VARS.fd" },
};

static char *under_root(const struct vmctl_env *env, const char *rel)
{
	size_t len = 0;

	while (env->root[len])
		len++;
	return xasprintf("%s%s%s", env->root,
			 len && env->root[len - 1] == '/' ? "" : "/", rel);
}

int firmware_find_ovmf(const struct vmctl_env *env, struct firmware_ovmf *out)
{
	for (size_t i = 0; i < sizeof(ovmf_layouts) / sizeof(ovmf_layouts[0]);
	     i++) {
		char *code = under_root(env, ovmf_layouts[i].code);
		char *vars = under_root(env, ovmf_layouts[i].vars);

		if (access(code, R_OK) == 0 && access(vars, R_OK) == 0) {
			out->code = code;
			out->vars = vars;
			return 0;
		}
		free(code);
		free(vars);
	}
	*out = (struct firmware_ovmf){ 0 };
	return -1;
}

void firmware_ovmf_clear(struct firmware_ovmf *fw)
{
	free(fw->code);
	free(fw->vars);
	*fw = (struct firmware_ovmf){ 0 };
}
