/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_SPEC_H
#define VMCTL_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "vmctl/cpulist.h"
#include "vmctl/error.h"
#include "vmctl/strv.h"

/*
 * The VM spec: one schema, two syntaxes (YAML and JSON).  docs/spec.md
 * documents every key; spec-schema.c is the single place that reads them.
 * A loaded spec is complete: every default is filled in and every value
 * has been validated, so consumers never re-check.
 */

#define SPEC_NAME_MAX 63

enum spec_accel { SPEC_ACCEL_AUTO, SPEC_ACCEL_KVM, SPEC_ACCEL_TCG };
/* Who runs the VM: QEMU in tmux here, or a libvirt host (lvvm.h). */
enum spec_backend { SPEC_BACKEND_DIRECT, SPEC_BACKEND_LIBVIRT };
/* uefi-secure: OVMF with Secure Boot and Microsoft's keys enrolled (needs
 * SMM, so a q35 machine). */
enum spec_firmware { SPEC_FIRMWARE_DEFAULT, SPEC_FIRMWARE_BIOS,
		     SPEC_FIRMWARE_UEFI, SPEC_FIRMWARE_UEFI_SECURE };
enum spec_syntax { SPEC_SYNTAX_AUTO, SPEC_SYNTAX_YAML, SPEC_SYNTAX_JSON };
/* How the disk and NIC appear to the guest: virtio is fastest; the others
 * are for guests without virtio drivers (a Windows installer). */
enum spec_disk_bus { SPEC_DISK_VIRTIO, SPEC_DISK_SATA, SPEC_DISK_SCSI };
enum spec_nic_model { SPEC_NIC_VIRTIO, SPEC_NIC_E1000E };
/* boot: the firmware's order.  disk: the disk, then the CD-ROM (an empty
 * disk falls through to an installer).  cdrom-once: the CD-ROM first at
 * the first start with a medium in it, the disk at every boot after
 * (vm-cdrom.h). */
enum spec_boot { SPEC_BOOT_DISK, SPEC_BOOT_CDROM_ONCE };

/* A PCI function address, domain:bus:device.function. */
struct pci_addr {
	unsigned domain, bus, dev, func;
};

struct spec_forward {
	char *proto;       /* "tcp" or "udp" */
	char *host_addr;   /* listen address on the host; "" for all */
	unsigned host_port;
	unsigned guest_port;
};

enum spec_gpu_selector { SPEC_GPU_VENDOR, SPEC_GPU_ID, SPEC_GPU_ADDRESS };

struct spec_gpu {
	enum spec_gpu_selector selector;
	char *vendor;            /* SPEC_GPU_VENDOR: "NVIDIA", "AMD", ... */
	unsigned vendor_id, device_id;   /* SPEC_GPU_ID */
	struct pci_addr address; /* SPEC_GPU_ADDRESS */
	unsigned index;          /* among the cards the selector matches */
	bool x_vga;
	char *rom;               /* ROM file for the VGA function, or NULL */
	bool managed;            /* bind to vfio-pci at start, release at stop */
};

/* usb: a host USB device passed through (usb.h): by id, or by where it
 * is plugged in (bus 1..255, port the kernel's dotted path "1.2"). */
struct spec_usb {
	unsigned vendor_id, product_id;  /* by id (bus is 0) */
	unsigned bus;                    /* by bus/port: 1..255 */
	char *port;                      /* by bus/port, else NULL */
};

/* cpus.pin: where the vCPU threads run.  The resource broker plans it
 * (broker.h): auto takes whole free cores of the GPU's NUMA node. */
enum spec_pin { SPEC_PIN_NONE, SPEC_PIN_AUTO, SPEC_PIN_LIST };

struct spec_cpus {
	unsigned sockets, cores, threads;
	enum spec_pin pin;        /* default: auto with a GPU, else none */
	struct cpulist pin_list;  /* SPEC_PIN_LIST: the host CPUs, in order:
				   * vCPU i runs on the i-th */
};

/* memory.hugepages: guest RAM from a preallocated hugetlb backend. */
enum spec_hugepages { SPEC_HUGE_NONE, SPEC_HUGE_2M, SPEC_HUGE_1G,
		      SPEC_HUGE_AUTO };

struct spec_disk {
	char *image;              /* path or URL; NULL: no disk */
	char *sha256, *sha512;    /* lowercase hex, or NULL */
	char *checksum_url;       /* a SHA*SUMS file published beside it */
	char *checksum_sig_url;   /* its detached OpenPGP signature */
	char *keyring;            /* the keys gpgv checks that signature with */
	uint64_t size;            /* overlay size in bytes; 0: the image's */
	enum spec_disk_bus bus;
};

struct spec_kernel {
	char *image, *initrd, *cmdline;
};

struct spec_cloud_init {
	bool enabled;
	char *user;
	struct strv ssh_authorized_keys;
	char *password_hash;
	struct strv packages;
	char *user_data;          /* extra cloud-config file merged in */
};

struct spec_network {
	unsigned ssh_port;        /* 0: auto */
	enum spec_nic_model model;
	char *ssh_listen;
	struct spec_forward *forwards;
	size_t n_forwards;
};

struct spec_vnc {
	bool enabled;
	char *listen;
	int display;              /* -1: auto (0, or the next free one) */
	bool password;
};

struct spec_qemu {
	char *binary;
	struct strv extra_args;
};

struct vmctl_spec {
	char *name;
	/* backend: libvirt, or connect: HOST (a libvirt URI or a hosts-file
	 * name; implies libvirt): where `create` makes the VM when no
	 * --connect is given (libvirt with no connect: qemu:///system). */
	enum spec_backend backend;
	char *connect;
	struct spec_cpus cpus;
	uint64_t memory;          /* bytes (memory, or memory.size) */
	enum spec_hugepages hugepages;   /* memory.hugepages */
	bool mem_merge;           /* memory.merge: QEMU's mem-merge, the
				   * guest's RAM offered to KSM (default on) */
	bool balloon;             /* memory.balloon: a virtio-balloon device
				   * (default: on without a GPU; refused
				   * with one) */
	char *machine;
	enum spec_accel accel;
	enum spec_firmware firmware;  /* never DEFAULT once loaded */
	struct spec_disk disk;
	/* cdrom: PATH, or `cdrom: empty` (a drive with no medium, for
	 * `vmctl cdrom insert`): cdrom_drive says whether there is a drive,
	 * cdrom is its medium (NULL: none). */
	bool cdrom_drive;
	char *cdrom;
	enum spec_boot boot;
	struct spec_kernel kernel;
	struct spec_cloud_init cloud_init;
	struct spec_network network;
	struct spec_vnc vnc;
	struct spec_gpu *gpus;
	size_t n_gpus;
	struct spec_usb *usb;
	size_t n_usb;
	/* -cpu host,kvm=off,hv_vendor_id=...: for consumer NVIDIA drivers
	 * that refuse to start in a VM. */
	bool hide_hypervisor;
	bool hyperv;              /* Hyper-V enlightenments (KVM only) */
	bool tpm;                 /* a TPM 2.0 (swtpm beside QEMU, tpm.h) */
	/* The broker may start it past the host's RAM (never with a GPU:
	 * VFIO pins all of it). */
	bool overcommit;
	struct spec_qemu qemu;
};

/* Load a spec from a file or from memory (`file` then only names it). */
int spec_load_file(const char *path, struct vmctl_spec **out,
		   struct vmctl_error **err);
int spec_load_buffer(const char *file, const char *buf, size_t len,
		     enum spec_syntax syntax, struct vmctl_spec **out,
		     struct vmctl_error **err);
/* The spec compiled in from configs/default.yaml.  `mirror`
 * (VMCTL_IMAGE_MIRROR; NULL or "": none) replaces the origin of its image
 * and checksum URLs, SPEC_IMAGE_ORIGIN, keeping the path below it. */
int spec_load_default(const char *mirror, struct vmctl_spec **out,
		      struct vmctl_error **err);
#define SPEC_IMAGE_ORIGIN "https://cloud.debian.org/images/cloud"
/* The disk's URLs under SPEC_IMAGE_ORIGIN moved to `mirror`, an https://
 * or file:/// URL (trailing '/' ignored); any other value is a usage
 * error (64) naming VMCTL_IMAGE_MIRROR, and nothing is changed. */
int spec_disk_mirror(struct spec_disk *disk, const char *mirror,
		     struct vmctl_error **err);
extern const char spec_default_yaml[];
extern const size_t spec_default_yaml_len;

void spec_free(struct vmctl_spec *spec);

/* The spec as JSON with every default written out (spec-write.c): what a
 * VM's state keeps, and what loads back to the same spec. */
cJSON *spec_to_json(const struct vmctl_spec *spec);

/* Checks also used on the command line (create --name). */
bool spec_name_valid(const char *name);
unsigned spec_cpu_count(const struct vmctl_spec *spec);

/* Size strings: "512M", "8G", "1.5T" is refused: integers with K/M/G/T
 * (optionally followed by "iB" or "B"), binary multiples. */
int spec_parse_size(const char *s, uint64_t *out);
int pci_addr_parse(const char *s, struct pci_addr *out);

const char *spec_accel_name(enum spec_accel a);
const char *spec_backend_name(enum spec_backend b);
const char *spec_firmware_name(enum spec_firmware f);
const char *spec_boot_name(enum spec_boot b);
/* Either UEFI firmware (uefi, uefi-secure): OVMF and a VARS file. */
bool spec_firmware_is_uefi(enum spec_firmware f);
/* A q35 machine type ("q35", "pc-q35-*"). */
bool spec_machine_is_q35(const char *machine);

#endif
