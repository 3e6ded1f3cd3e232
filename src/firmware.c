// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdlib.h>
#include <unistd.h>

#include "vmctl/firmware.h"
#include "vmctl/xalloc.h"

struct ovmf_layout {
	const char *code, *vars;
};

/* Plain UEFI: the builds without Secure Boot (no SMM needed). */
static const struct ovmf_layout ovmf_layouts[] = {
	{ "usr/share/OVMF/OVMF_CODE_4M.fd", "usr/share/OVMF/OVMF_VARS_4M.fd" },
	{ "usr/share/OVMF/OVMF_CODE.fd", "usr/share/OVMF/OVMF_VARS.fd" },
	{ "usr/share/edk2/ovmf/OVMF_CODE.fd",
	  "usr/share/edk2/ovmf/OVMF_VARS.fd" },
	{ "usr/share/edk2/x64/OVMF_CODE.4m.fd",
	  "usr/share/edk2/x64/OVMF_VARS.4m.fd" },
	{ "usr/share/edk2-ovmf/x64/OVMF_CODE.fd",
	  "usr/share/edk2-ovmf/x64/OVMF_VARS.fd" },
	{ NULL, NULL },
};

/*
 * Secure Boot: the SMM build, and a variable store with Microsoft's keys
 * enrolled (PK, KEK, db), which is what Windows' boot loader is signed
 * with.  Arch's edk2-ovmf ships no store with keys enrolled: left out.
 */
static const struct ovmf_layout ovmf_secure_layouts[] = {
	{ "usr/share/OVMF/OVMF_CODE_4M.secboot.fd",
	  "usr/share/OVMF/OVMF_VARS_4M.ms.fd" },
	{ "usr/share/OVMF/OVMF_CODE.secboot.fd",
	  "usr/share/OVMF/OVMF_VARS.ms.fd" },
	{ "usr/share/edk2/ovmf/OVMF_CODE.secboot.fd",
	  "usr/share/edk2/ovmf/OVMF_VARS.secboot.fd" },
	{ NULL, NULL },
};

static char *under_root(const struct vmctl_env *env, const char *rel)
{
	size_t len = 0;

	while (env->root[len])
		len++;
	return xasprintf("%s%s%s", env->root,
			 len && env->root[len - 1] == '/' ? "" : "/", rel);
}

static int find_layout(const struct vmctl_env *env,
		       const struct ovmf_layout *layouts,
		       struct firmware_ovmf *out)
{
	for (size_t i = 0; layouts[i].code != NULL; i++) {
		char *code = under_root(env, layouts[i].code);
		char *vars = under_root(env, layouts[i].vars);

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

int firmware_find_ovmf(const struct vmctl_env *env, struct firmware_ovmf *out)
{
	return find_layout(env, ovmf_layouts, out);
}

int firmware_find(const struct vmctl_env *env, enum spec_firmware fw,
		  struct firmware_ovmf *out, struct vmctl_error **err)
{
	bool secure = fw == SPEC_FIRMWARE_UEFI_SECURE;

	if (find_layout(env, secure ? ovmf_secure_layouts : ovmf_layouts,
			out) == 0)
		return 0;
	return vmctl_error_set(err, VMCTL_EXIT_UNAVAILABLE, 0,
			       secure ? "UEFI Secure Boot firmware (OVMF "
					"with Microsoft's keys enrolled) is "
					"not installed (Debian: apt-get "
					"install ovmf)"
				      : "UEFI firmware (OVMF) is not installed "
					"(Debian: apt-get install ovmf)");
}

void firmware_ovmf_clear(struct firmware_ovmf *fw)
{
	free(fw->code);
	free(fw->vars);
	*fw = (struct firmware_ovmf){ 0 };
}
