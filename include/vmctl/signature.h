/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_SIGNATURE_H
#define VMCTL_SIGNATURE_H

#include "vmctl/error.h"
#include "vmctl/strv.h"

/*
 * OpenPGP detached signatures, checked by gpgv (run from argv, no shell)
 * against one keyring and nothing else: a checksum list published with a
 * signature is trusted only when the signature is good.
 */

/* Pure: gpgv --keyring KEYRING SIG DATA. */
void signature_argv_gpgv(const char *keyring, const char *sig,
			 const char *data, struct strv *argv);

/* 0 when `sig` is a good signature of `data` by a key in `keyring`. */
int signature_verify(const char *keyring, const char *sig, const char *data,
		     struct vmctl_error **err);

#endif
