/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_TPM_H
#define VMCTL_TPM_H

#include "vmctl/env.h"
#include "vmctl/error.h"
#include "vmctl/proc.h"
#include "vmctl/strv.h"

/*
 * The software TPM 2.0 of a VM with `tpm: true`: swtpm, beside QEMU.
 *
 * vmctl starts it (daemonized, its pid in VMDIR/swtpm.pid and in vm.json)
 * just before QEMU, which connects to its control socket and sees a
 * tpm-crb device.  swtpm runs with --terminate: it exits by itself when
 * QEMU closes the socket (a stop, a kill, a crash).  Whatever else happens
 * (vmctl killed between the two starts, a frozen swtpm) is caught by the
 * same cleanup that forgets a gone QEMU (vm_forget_qemu): the recorded
 * swtpm, and the one its pidfile names, are killed once identified.  Its
 * state (the TPM's NVRAM: keys, PCR policy) lives in VMDIR/tpm/ and goes
 * with the VM at destroy.
 */

/* Pure: swtpm's argv for the VM directory VM_DIR (no shell). */
void tpm_swtpm_argv(const char *vm_dir, struct strv *argv);

/* Start the VM's swtpm and wait for its socket: 0 and *out, or -1 (69:
 * swtpm is not installed; 1: it failed, with its words). */
int tpm_start(const struct vmctl_env *env, const char *name,
	      struct proc_id *out, struct vmctl_error **err);

/* Stop the VM's swtpm: the one *id records and any its pidfile names
 * (each only once identified), its socket and pidfile; *id is cleared. */
void tpm_stop(const struct vmctl_env *env, const char *name,
	      struct proc_id *id);

#endif
