/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_VMDIR_H
#define VMCTL_VMDIR_H

/* The files of one VM, under STATE_DIR/vms/NAME/. */
#define VMDIR_SPEC       "spec.json"
#define VMDIR_DISK       "disk.qcow2"
#define VMDIR_OVMF_VARS  "OVMF_VARS.fd"
#define VMDIR_QMP        "qmp.sock"
#define VMDIR_SERIAL_LOG "serial.log"
#define VMDIR_PIDFILE    "qemu.pid"

/* STATE_DIR/vms/NAME */
char *vmdir_path(const char *state_dir, const char *name);

#endif
