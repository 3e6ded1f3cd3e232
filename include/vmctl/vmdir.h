/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_VMDIR_H
#define VMCTL_VMDIR_H

/* The files of one VM, under STATE_DIR/vms/NAME/ (see state.h): named
 * here so the pure argv builder and the state layer agree on them. */
#define VMDIR_SPEC       "spec.json"
#define VMDIR_DISK       "disk.qcow2"
/* UEFI variables: qcow2, so snapshots hold them; the raw file is what
 * VMs made before that have until their next start converts it. */
#define VMDIR_OVMF_VARS_QCOW2 "OVMF_VARS.qcow2"
#define VMDIR_OVMF_VARS  "OVMF_VARS.fd"
#define VMDIR_QMP        "qmp.sock"
#define VMDIR_VNC_SOCKET "vnc.sock"          /* VNC without a password */
#define VMDIR_GATE       "gate.sock"   /* create: QEMU's start held (qemu-run.h) */
#define VMDIR_SERIAL_LOG "serial.log"
#define VMDIR_PIDFILE    "qemu.pid"
#define VMDIR_STATE      "vm.json"
#define VMDIR_LOCK       "lock"
#define VMDIR_CREATING   "creating"
#define VMDIR_VNC_PASSWORD "vnc-password"
#define VMDIR_SEED       "seed.iso"
#define VMDIR_SSH_KEY    "id_ed25519"          /* the login key, and .pub */
#define VMDIR_HOST_KEY   "ssh_host_ed25519_key" /* the guest's, and .pub */
#define VMDIR_KNOWN_HOSTS "known_hosts"
#define VMDIR_TPM_STATE  "tpm"                 /* swtpm's state directory */
#define VMDIR_SWTPM_SOCK "swtpm.sock"          /* its control socket */
#define VMDIR_SWTPM_PID  "swtpm.pid"
#define VMDIR_SWTPM_LOG  "swtpm.log"

#endif
