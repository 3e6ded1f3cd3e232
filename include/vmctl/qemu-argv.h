/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_QEMU_ARGV_H
#define VMCTL_QEMU_ARGV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmctl/error.h"
#include "vmctl/spec.h"
#include "vmctl/strv.h"

/* One passed-through GPU: all functions of its slot, function 0 first. */
struct qemu_gpu {
	struct pci_addr *functions;
	size_t n_functions;
	const struct spec_gpu *spec;
};

/*
 * What the host decided that the spec leaves open.  hostfacts.c gathers
 * these; tests write them by hand.
 */
struct qemu_host {
	const char *vm_dir;          /* STATE_DIR/vms/NAME */
	enum spec_accel accel;       /* KVM or TCG, never AUTO */
	unsigned ssh_port;
	int vnc_display;             /* >= 0; unused for a UNIX socket */
	const char *run_as;          /* -runas USER, or NULL */
	const char *ovmf_code;       /* read-only firmware, for UEFI */
	struct qemu_gpu *gpus;       /* one per spec->gpus entry */
	size_t n_gpus;
	bool paused;                 /* -S: the guest waits for QMP `cont` */
	/* UEFI variables in the VM directory's raw OVMF_VARS.fd (a VM made
	 * before they were qcow2, seen before its start converts them). */
	bool ovmf_vars_raw;
	bool cdrom_first;            /* boot: cdrom-once, its one boot: the
				      * CD-ROM's bootindex 1, the disk's 2 */
	/* Guest RAM from a hugetlb memfd of pages this big (bytes; 0:
	 * ordinary memory), preallocated, bound to NUMA node mem_node
	 * (-1: no binding).  The broker's claim decides both at start. */
	uint64_t hugepage_size;
	int mem_node;
};

/*
 * The QEMU argv for a spec on a host: pure, no I/O.  Every spec string that
 * lands inside an option string is escaped; nothing is meant for a shell.
 */
int qemu_argv_build(const struct vmctl_spec *spec,
		    const struct qemu_host *host, struct strv *argv,
		    struct vmctl_error **err);

/* The stable MAC address of a VM's NIC, from its name (52:54:00:xx:xx:xx). */
void qemu_mac_for_name(const char *name, char out[18]);

/* Does a GPU of the spec take the VGA role (x_vga)?  Then the VM has no
 * emulated display adapter of its own (the argv and the domain XML). */
bool qemu_gpu_owns_vga(const struct vmctl_spec *spec);

#endif
