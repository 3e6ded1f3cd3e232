// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Spec + host facts -> QEMU argv.  Pure: the same inputs always give the
 * same argv, which is what tests/golden checks.
 *
 * The machine is built explicitly (-nodefaults) so nothing depends on a
 * QEMU version's defaults: every device is one the spec asked for or one a
 * user of that spec would expect (a display adapter and a tablet for VNC,
 * an RNG for cloud guests).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/qemu-argv.h"
#include "vmctl/qemu-run.h"
#include "vmctl/quote.h"
#include "vmctl/snapshot-tree.h"
#include "vmctl/usb.h"
#include "vmctl/vmdir.h"
#include "vmctl/xalloc.h"

static char *vm_file(const struct qemu_host *host, const char *file)
{
	cleanup_free char *path = xasprintf("%s/%s", host->vm_dir, file);

	return quote_qemu_opt(path);
}

void qemu_mac_for_name(const char *name, char out[18])
{
	uint32_t h = 2166136261u;   /* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 16777619u;
	snprintf(out, 18, "52:54:00:%02x:%02x:%02x", (h >> 16) & 0xff,
		 (h >> 8) & 0xff, h & 0xff);
}

static void add_machine(struct strv *argv, const struct vmctl_spec *spec,
			const struct qemu_host *host)
{
	bool kvm = host->accel == SPEC_ACCEL_KVM;

	strv_push(argv, "-name");
	strv_pushf(argv, "guest=%s,debug-threads=on", spec->name);
	strv_push(argv, "-machine");
	strv_pushf(argv, "%s,accel=%s%s%s", spec->machine, kvm ? "kvm" : "tcg",
		   /* Secure Boot keeps its variables where only SMM code
		    * may write them. */
		   spec->firmware == SPEC_FIRMWARE_UEFI_SECURE ? ",smm=on" : "",
		   /* RAM from the backend below, which carries merge itself */
		   host->hugepage_size != 0 ? ",memory-backend=ram0"
		   : !spec->mem_merge ? ",mem-merge=off" : "");
	strv_push(argv, "-cpu");
	strv_pushf(argv, "%s%s%s", kvm ? "host" : "max",
		   /* The enlightenments Windows guests run much better with;
		    * they exist only under KVM. */
		   kvm && spec->hyperv
		   ? ",hv-relaxed,hv-vapic,hv-spinlocks=0x1fff,hv-vpindex,"
		     "hv-runtime,hv-synic,hv-stimer,hv-time,hv-frequencies,"
		     "hv-reset" : "",
		   /* No KVM signature, and a Hyper-V vendor id that is not
		    * "Microsoft Hv": what consumer NVIDIA drivers look for. */
		   spec->hide_hypervisor ? ",kvm=off,hv-vendor-id=vmctlhidden0"
					 : "");
	strv_push(argv, "-smp");
	strv_pushf(argv, "%u,sockets=%u,cores=%u,threads=%u",
		   spec_cpu_count(spec), spec->cpus.sockets, spec->cpus.cores,
		   spec->cpus.threads);
	strv_push(argv, "-m");
	strv_pushf(argv, "%" PRIu64 "M", spec->memory >> 20);
	if (host->hugepage_size != 0) {
		cleanup_free char *bind = host->mem_node >= 0
			? xasprintf(",host-nodes=%d,policy=bind", host->mem_node)
			: xstrdup("");

		/* Every page taken from the hugetlb pool at start (prealloc):
		 * a shortage fails the start, not the running guest. */
		strv_push(argv, "-object");
		strv_pushf(argv, "memory-backend-memfd,id=ram0,size=%" PRIu64
				 ",hugetlb=on,hugetlbsize=%" PRIu64
				 ",prealloc=on%s%s", spec->memory,
			   host->hugepage_size, bind,
			   spec->mem_merge ? "" : ",merge=off");
	}
	strv_push(argv, "-nodefaults");
	strv_push(argv, "-no-user-config");
	/* Held before the first guest instruction until vmctl has pinned
	 * the vCPU threads, then `cont` over QMP. */
	if (host->paused)
		strv_push(argv, "-S");
}

static void add_sandbox_and_control(struct strv *argv,
				    const struct qemu_host *host)
{
	cleanup_free char *qmp = vm_file(host, VMDIR_QMP);

	/*
	 * QEMU opens every file and device it is given as root, then gives
	 * up root for good (-runas: all uids and gids the user's, no
	 * capabilities).  That switch is itself a set*id call, so the
	 * sandbox must allow those calls; once it is done they cannot
	 * elevate anything.
	 */
	if (host->run_as != NULL) {
		strv_push(argv, "-runas");
		strv_push(argv, host->run_as);
	}
	strv_push(argv, "-sandbox");
	strv_pushf(argv, "on,obsolete=deny,elevateprivileges=%s,spawn=deny,"
			 "resourcecontrol=deny",
		   host->run_as != NULL ? "allow" : "deny");
	strv_push(argv, "-pidfile");
	/* -pidfile takes a plain path, not an option string. */
	strv_pushf(argv, "%s/%s", host->vm_dir, VMDIR_PIDFILE);
	strv_push(argv, "-chardev");
	strv_pushf(argv, "socket,id=qmp,path=%s,server=on,wait=off", qmp);
	strv_push(argv, "-mon");
	strv_push(argv, "chardev=qmp,mode=control");
	/* The serial console is the tmux pane (stdio) and a log, which
	 * QEMU writes into a pipe that vmctl's keeper drains and caps
	 * (qemu-run.h). */
	strv_push(argv, "-add-fd");
	strv_pushf(argv, "fd=%d,set=%d,opaque=serial-log", QEMU_RUN_LOG_FD,
		   QEMU_RUN_LOG_FDSET);
	strv_push(argv, "-chardev");
	strv_pushf(argv, "stdio,id=serial0,signal=off,logfile=/dev/fdset/%d,"
			 "logappend=on", QEMU_RUN_LOG_FDSET);
	strv_push(argv, "-serial");
	strv_push(argv, "chardev:serial0");
	strv_push(argv, "-display");
	strv_push(argv, "none");
}

/*
 * OVMF on q35's two flash chips, as block nodes: the code read-only, the
 * VM's own variables writable and in qcow2, so internal snapshots (and a
 * saved state) hold them with the RAM (snapshot-tree.h).
 */
static void add_firmware(struct strv *argv, const struct vmctl_spec *spec,
			 const struct qemu_host *host)
{
	cleanup_free char *code = NULL, *vars = NULL;

	if (!spec_firmware_is_uefi(spec->firmware))
		return;
	code = quote_qemu_opt(host->ovmf_code);
	vars = vm_file(host, host->ovmf_vars_raw ? VMDIR_OVMF_VARS
						 : VMDIR_OVMF_VARS_QCOW2);
	/* The flash only SMM may write: the guest's OS cannot change the
	 * Secure Boot keys behind the firmware's back. */
	if (spec->firmware == SPEC_FIRMWARE_UEFI_SECURE) {
		strv_push(argv, "-global");
		strv_push(argv, "driver=cfi.pflash01,property=secure,value=on");
	}
	strv_push(argv, "-blockdev");
	strv_pushf(argv, "driver=file,filename=%s,node-name=ovmf-code-file,"
			 "read-only=on", code);
	strv_push(argv, "-blockdev");
	strv_push(argv, "driver=raw,file=ovmf-code-file,node-name=ovmf-code,"
			"read-only=on");
	strv_push(argv, "-blockdev");
	strv_pushf(argv, "driver=file,filename=%s,node-name=ovmf-vars-file",
		   vars);
	strv_push(argv, "-blockdev");
	strv_pushf(argv, "driver=%s,file=ovmf-vars-file,node-name="
			 SNAPSHOT_VARS_NODE,
		   host->ovmf_vars_raw ? "raw" : "qcow2");
	strv_push(argv, "-machine");
	strv_push(argv, "pflash0=ovmf-code,pflash1=" SNAPSHOT_VARS_NODE);
}

/* A TPM 2.0: swtpm (tpm.h) listens on the VM's socket; QEMU's emulator
 * backend connects to it, and the guest sees a CRB interface (what
 * Windows 11 and current Linux expect). */
static void add_tpm(struct strv *argv, const struct vmctl_spec *spec,
		    const struct qemu_host *host)
{
	cleanup_free char *sock = NULL;

	if (!spec->tpm)
		return;
	sock = vm_file(host, VMDIR_SWTPM_SOCK);
	strv_push(argv, "-chardev");
	strv_pushf(argv, "socket,id=chrtpm,path=%s", sock);
	strv_push(argv, "-tpmdev");
	strv_push(argv, "emulator,id=tpm0,chardev=chrtpm");
	strv_push(argv, "-device");
	strv_push(argv, "tpm-crb,tpmdev=tpm0,id=tpm0");
}

static void add_storage(struct strv *argv, const struct vmctl_spec *spec,
			const struct qemu_host *host)
{
	/* The disk first: an empty disk falls through to the installer, an
	 * installed one boots without it; boot: cdrom-once swaps them for
	 * one start (vm-cdrom.h). */
	int disk_boot = host->cdrom_first ? 2 : 1;

	if (spec->disk.image != NULL) {
		cleanup_free char *disk = vm_file(host, VMDIR_DISK);

		strv_push(argv, "-blockdev");
		strv_pushf(argv, "driver=file,filename=%s,node-name=disk0-file,"
				 "discard=unmap", disk);
		strv_push(argv, "-blockdev");
		strv_push(argv, "driver=qcow2,file=disk0-file,node-name=disk0,"
				"discard=unmap");
		switch (spec->disk.bus) {
		case SPEC_DISK_VIRTIO:
			strv_push(argv, "-device");
			strv_pushf(argv, "virtio-blk-pci,drive=disk0,id=disk0,"
					 "bootindex=%d", disk_boot);
			break;
		case SPEC_DISK_SATA:
			/* q35's AHCI, or the PIIX IDE on pc */
			strv_push(argv, "-device");
			strv_pushf(argv, "ide-hd,drive=disk0,id=disk0,"
					 "bootindex=%d", disk_boot);
			break;
		case SPEC_DISK_SCSI:
			strv_push(argv, "-device");
			strv_push(argv, "virtio-scsi-pci,id=scsi0");
			strv_push(argv, "-device");
			strv_pushf(argv, "scsi-hd,drive=disk0,id=disk0,"
					 "bus=scsi0.0,bootindex=%d", disk_boot);
			break;
		}
	}
	if (spec->cloud_init.enabled) {
		cleanup_free char *seed = vm_file(host, VMDIR_SEED);

		/* The NoCloud seed, read-only; cloud-init finds it by its
		 * "cidata" label on any block device. */
		strv_push(argv, "-blockdev");
		strv_pushf(argv, "driver=file,filename=%s,node-name=seed-file,"
				 "read-only=on", seed);
		strv_push(argv, "-blockdev");
		strv_push(argv, "driver=raw,file=seed-file,node-name=seed,"
				"read-only=on");
		strv_push(argv, "-device");
		strv_push(argv, "virtio-blk-pci,drive=seed,id=seed");
	}
	if (spec->cdrom != NULL) {
		cleanup_free char *iso = quote_qemu_opt(spec->cdrom);

		strv_push(argv, "-blockdev");
		strv_pushf(argv, "driver=file,filename=%s,node-name=cdrom0-file,"
				 "read-only=on", iso);
		strv_push(argv, "-blockdev");
		strv_push(argv, "driver=raw,file=cdrom0-file,node-name=cdrom0,"
				"read-only=on");
	}
	/* cdrom: empty is a drive without a medium, which `vmctl cdrom
	 * insert` fills (blockdev-insert-medium on the device's id). */
	if (spec->cdrom_drive) {
		strv_push(argv, "-device");
		strv_pushf(argv, "ide-cd,%sid=cdrom0,bootindex=%d",
			   spec->cdrom != NULL ? "drive=cdrom0," : "",
			   3 - disk_boot);
	}
	if (spec->kernel.image != NULL) {
		/* -kernel, -initrd and -append take their argument whole. */
		strv_push(argv, "-kernel");
		strv_push(argv, spec->kernel.image);
		if (spec->kernel.initrd != NULL) {
			strv_push(argv, "-initrd");
			strv_push(argv, spec->kernel.initrd);
		}
		if (spec->kernel.cmdline != NULL) {
			strv_push(argv, "-append");
			strv_push(argv, spec->kernel.cmdline);
		}
	}
}

static void add_network(struct strv *argv, const struct vmctl_spec *spec,
			const struct qemu_host *host)
{
	char mac[18];
	cleanup_free char *netdev = NULL;

	netdev = xasprintf("user,id=net0,hostfwd=tcp:%s:%u-:22",
			   spec->network.ssh_listen, host->ssh_port);
	for (size_t i = 0; i < spec->network.n_forwards; i++) {
		const struct spec_forward *f = &spec->network.forwards[i];
		char *more = xasprintf("%s,hostfwd=%s:%s:%u-:%u", netdev,
				       f->proto, f->host_addr, f->host_port,
				       f->guest_port);

		free(netdev);
		netdev = more;
	}
	qemu_mac_for_name(spec->name, mac);
	strv_push(argv, "-netdev");
	strv_push(argv, netdev);
	strv_push(argv, "-device");
	strv_pushf(argv, "%s,netdev=net0,id=net0,mac=%s",
		   spec->network.model == SPEC_NIC_E1000E ? "e1000e"
							  : "virtio-net-pci",
		   mac);
}

bool qemu_gpu_owns_vga(const struct vmctl_spec *spec)
{
	for (size_t i = 0; i < spec->n_gpus; i++)
		if (spec->gpus[i].x_vga)
			return true;
	return false;
}

/* The xHCI controller usb0, for the VNC tablet and the spec's USB
 * devices: 8 ports of each speed when it carries those (QEMU's 4 would
 * not take USB_MAX_DEVICES beside the tablet). */
static void add_xhci(struct strv *argv, const struct vmctl_spec *spec)
{
	strv_push(argv, "-device");
	strv_push(argv, spec->n_usb > 0 ? "qemu-xhci,id=usb0,p2=8,p3=8"
					: "qemu-xhci,id=usb0");
}

static void add_display(struct strv *argv, const struct vmctl_spec *spec,
			const struct qemu_host *host)
{
	/* A GPU with x-vga takes the legacy VGA ranges: no emulated VGA. */
	if (!qemu_gpu_owns_vga(spec)) {
		strv_push(argv, "-device");
		strv_push(argv, "VGA,id=video0");
	}
	if (!spec->vnc.enabled)
		return;
	strv_push(argv, "-vnc");
	if (!spec->vnc.password) {
		/* Guests reach the host's loopback through user networking
		 * (10.0.2.2): VNC without a password is a UNIX socket in
		 * the VM's 0700 directory, never a TCP port. */
		cleanup_free char *sock = vm_file(host, VMDIR_VNC_SOCKET);

		strv_pushf(argv, "unix:%s", sock);
	} else {
		strv_pushf(argv, strchr(spec->vnc.listen, ':') ? "[%s]:%d%s"
							       : "%s:%d%s",
			   spec->vnc.listen, host->vnc_display,
			   ",password=on");
	}
	/* An absolute pointer, so the VNC cursor tracks the guest's. */
	add_xhci(argv, spec);
	strv_push(argv, "-device");
	strv_push(argv, "usb-tablet,bus=usb0.0");
}

static void add_gpus(struct strv *argv, const struct qemu_host *host)
{
	for (size_t i = 0; i < host->n_gpus; i++) {
		const struct qemu_gpu *gpu = &host->gpus[i];

		/* All functions on one guest slot behind their own port, as
		 * on the host, so the driver sees the card it expects. */
		strv_push(argv, "-device");
		strv_pushf(argv, "pcie-root-port,id=gpu%zu-port,bus=pcie.0,"
				 "chassis=%zu", i, i + 1);
		/* Guest functions keep the host's numbers, so the layout
		 * drivers expect survives; a set without function 0 is
		 * renumbered from 0, since a guest only scans a slot whose
		 * function 0 exists. */
		bool keep = gpu->n_functions > 0 && gpu->functions[0].func == 0;

		for (size_t f = 0; f < gpu->n_functions; f++) {
			const struct pci_addr *a = &gpu->functions[f];
			unsigned gf = keep ? a->func : (unsigned)f;
			char *dev = xasprintf(
				"vfio-pci,host=%04x:%02x:%02x.%x,id=gpu%zu-fn%u,"
				"bus=gpu%zu-port,addr=00.%x", a->domain,
				a->bus, a->dev, a->func, i, gf, i, gf);

			if (f == 0 && gpu->n_functions > 1) {
				char *more = xasprintf("%s,multifunction=on",
						       dev);
				free(dev);
				dev = more;
			}
			if (f == 0 && gpu->spec->x_vga) {
				char *more = xasprintf("%s,x-vga=on", dev);
				free(dev);
				dev = more;
			}
			if (f == 0 && gpu->spec->rom != NULL) {
				cleanup_free char *rom =
					quote_qemu_opt(gpu->spec->rom);
				char *more = xasprintf("%s,romfile=%s", dev,
						       rom);
				free(dev);
				dev = more;
			}
			strv_push(argv, "-device");
			strv_take(argv, dev);
		}
	}
}

int qemu_argv_build(const struct vmctl_spec *spec,
		    const struct qemu_host *host, struct strv *argv,
		    struct vmctl_error **err)
{
	if (host->accel == SPEC_ACCEL_AUTO)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "internal error: accelerator not "
				       "resolved");
	if (spec_firmware_is_uefi(spec->firmware) && host->ovmf_code == NULL)
		return vmctl_error_set(err, VMCTL_EXIT_UNAVAILABLE, 0,
				       "UEFI firmware (OVMF) not found");
	if (host->n_gpus != spec->n_gpus)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "internal error: GPUs not resolved");
	strv_push(argv, spec->qemu.binary);
	add_machine(argv, spec, host);
	add_sandbox_and_control(argv, host);
	add_firmware(argv, spec, host);
	add_tpm(argv, spec, host);
	add_storage(argv, spec, host);
	add_network(argv, spec, host);
	add_display(argv, spec, host);
	add_gpus(argv, host);
	if (spec->n_usb > 0 && !spec->vnc.enabled)
		add_xhci(argv, spec);
	usb_qemu_args(spec, argv);
	if (spec->balloon) {
		/* vmctl balloon sets its target over QMP; the guest gives
		 * pages back first when it runs out of memory itself. */
		strv_push(argv, "-device");
		strv_push(argv, "virtio-balloon-pci,id=balloon0,"
				"deflate-on-oom=on");
	}
	strv_push(argv, "-device");
	strv_push(argv, "virtio-rng-pci,id=rng0");
	strv_extend(argv, &spec->qemu.extra_args);
	return 0;
}
