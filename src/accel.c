// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmctl/accel.h"
#include "vmctl/xalloc.h"

/* Is the PVM flavour of KVM loaded?  It registers as module kvm_pvm. */
static bool pvm_loaded(const struct vmctl_env *env)
{
	cleanup_free char *modules = xasprintf("%s/modules", env->proc);
	cleanup_free char *sysmod = xasprintf("%s/module/kvm_pvm", env->sysfs);
	cleanup_file FILE *f = fopen(modules, "re");
	struct stat st;
	char line[512];

	if (stat(sysmod, &st) == 0)
		return true;
	if (f == NULL)
		return false;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "kvm_pvm ", 8) == 0)
			return true;
	return false;
}

void accel_probe_kvm(const struct vmctl_env *env, struct accel_probe *out)
{
	cleanup_free char *path = xasprintf("%s/kvm", env->dev);
	cleanup_close int fd = -1;
	int vm;

	*out = (struct accel_probe){ .api_version = -1 };
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		out->state = e == ENOENT ? ACCEL_KVM_ABSENT
			   : (e == EACCES || e == EPERM) ? ACCEL_KVM_NO_ACCESS
			   : ACCEL_KVM_BROKEN;
		out->reason = xasprintf("cannot open %s: %s", path,
					strerror(e));
		return;
	}
	out->api_version = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (out->api_version != KVM_API_VERSION) {
		out->state = ACCEL_KVM_BROKEN;
		out->reason = xasprintf("%s: unexpected KVM API version %d",
					path, out->api_version);
		return;
	}
	vm = ioctl(fd, KVM_CREATE_VM, 0);
	if (vm < 0) {
		out->state = ACCEL_KVM_BROKEN;
		out->reason = xasprintf("%s: KVM_CREATE_VM failed: %s", path,
					strerror(errno));
		return;
	}
	close(vm);
	if (pvm_loaded(env)) {
		out->state = ACCEL_KVM_PVM_ONLY;
		out->reason = xstrdup("KVM here is kvm_pvm (PVM), which runs "
				      "only PVM-enabled guest kernels");
		return;
	}
	out->state = ACCEL_KVM_USABLE;
}

void accel_probe_clear(struct accel_probe *p)
{
	free(p->reason);
	p->reason = NULL;
}
