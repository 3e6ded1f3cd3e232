// SPDX-License-Identifier: GPL-2.0-or-later
/* Detached OpenPGP signatures through gpgv. */
#include <stdlib.h>

#include "vmctl/proc.h"
#include "vmctl/signature.h"
#include "vmctl/xalloc.h"

void signature_argv_gpgv(const char *keyring, const char *sig,
			 const char *data, struct strv *argv)
{
	strv_push(argv, "gpgv");
	/* With --keyring given, gpgv reads that keyring and no default. */
	strv_push(argv, "--keyring");
	strv_push(argv, keyring);
	strv_push(argv, "--");
	strv_push(argv, sig);
	strv_push(argv, data);
}

int signature_verify(const char *keyring, const char *sig, const char *data,
		     struct vmctl_error **err)
{
	struct strv argv = { 0 };
	struct proc_result r;
	int ret = 0;

	signature_argv_gpgv(keyring, sig, data, &argv);
	if (proc_run(&argv, &r, err) < 0) {
		strv_clear(&argv);
		return vmctl_error_wrap(err, "checking a signature (Debian: "
					"apt-get install gpgv)");
	}
	strv_clear(&argv);
	if (r.status != 0) {
		cleanup_free char *why = proc_result_summary(&r);

		ret = vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				      "bad or unknown signature (keyring %s): "
				      "%s", keyring, why);
	}
	proc_result_clear(&r);
	return ret;
}
