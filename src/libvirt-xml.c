// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Spec + facts -> libvirt domain XML.  Pure, like qemu-argv.c, and built
 * to describe the same machine: where libvirt has no element for what the
 * argv does, the choice is said where it is made (and summed up in
 * docs/ARCHITECTURE.md, "libvirt domain XML").
 *
 * Not here on purpose: CPU pinning and the NUMA node of the RAM (vmctl's
 * broker places and pins a VM against every other VM's claim, at start;
 * a <cputune> written now would be a second, stale plan), a UUID (libvirt
 * makes one; a stable document is worth more), the SSH port and
 * forwards (user networking; see add_interface()).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "vmctl/libvirt-xml.h"
#include "vmctl/xmlwriter.h"
#include "vmctl/xalloc.h"

#define QEMU_NS "http://libvirt.org/schemas/domain/qemu/1.0"
/* What the argv's hide_hypervisor sets as -cpu hv-vendor-id: at most 12
 * characters, and not "Microsoft Hv". */
#define HIDDEN_VENDOR_ID "vmctlhidden0"

/* Numbers as attribute values or text: small buffers on the caller's
 * stack, always big enough for any uint64_t. */
#define NUM_MAX 24
static const char *num(char buf[NUM_MAX], uint64_t v)
{
	snprintf(buf, NUM_MAX, "%" PRIu64, v);
	return buf;
}

static const char *hex(char buf[NUM_MAX], unsigned v, int width)
{
	snprintf(buf, NUM_MAX, "0x%0*x", width, v);
	return buf;
}

static bool needs_qemu_ns(const struct vmctl_spec *spec)
{
	for (size_t i = 0; i < spec->n_gpus; i++)
		if (spec->gpus[i].x_vga)
			return true;
	return spec->qemu.extra_args.n > 0;
}

/* q35 (and its versioned names) has PCI Express root ports; anything else
 * is taken for a plain PCI machine (pc, i440fx). */
static bool machine_is_pcie(const struct vmctl_spec *spec)
{
	return strstr(spec->machine, "q35") != NULL;
}

/* qemu-system-ARCH names its architecture; anything else is x86_64. */
static const char *emulator_arch(const char *emulator)
{
	const char *base = strrchr(emulator, '/');
	const char *prefix = "qemu-system-";

	base = base != NULL ? base + 1 : emulator;
	if (strncmp(base, prefix, strlen(prefix)) == 0 &&
	    base[strlen(prefix)] != '\0')
		return base + strlen(prefix);
	return "x86_64";
}

static void add_memory(struct xml_doc *d, const struct vmctl_spec *spec,
		       const struct libvirt_facts *facts)
{
	char mib[NUM_MAX], kib[NUM_MAX];

	/* In MiB, as the argv's -m says it. */
	xml_doc_text(d, "memory", num(mib, spec->memory >> 20), "unit", "MiB",
		 NULL);
	xml_doc_text(d, "currentMemory", mib, "unit", "MiB", NULL);
	if (facts->hugepage_size == 0 && spec->mem_merge)
		return;
	xml_doc_open(d, "memoryBacking", NULL);
	if (facts->hugepage_size != 0) {
		/* Taken from the pool when QEMU starts (immediate
		 * allocation below: the argv's prealloc=on). */
		xml_doc_open(d, "hugepages", NULL);
		xml_doc_empty(d, "page", "size", num(kib, facts->hugepage_size >> 10),
			  "unit", "KiB", NULL);
		xml_doc_close(d, "hugepages");
	}
	/* memory.merge: false, the argv's mem-merge=off */
	if (!spec->mem_merge)
		xml_doc_empty(d, "nosharepages", NULL);
	if (facts->hugepage_size != 0) {
		/* A hugetlb memfd, as the argv's memory-backend-memfd: no
		 * hugetlbfs mount needed on the host (libvirt refuses file
		 * backed hugepages without one). */
		xml_doc_empty(d, "source", "type", "memfd", NULL);
		xml_doc_empty(d, "allocation", "mode", "immediate", NULL);
	}
	xml_doc_close(d, "memoryBacking");
}

static void add_os(struct xml_doc *d, const struct vmctl_spec *spec,
		   const struct libvirt_facts *facts)
{
	xml_doc_open(d, "os", NULL);
	xml_doc_text(d, "type", "hvm", "arch", emulator_arch(facts->emulator),
		 "machine", spec->machine, NULL);
	if (spec_firmware_is_uefi(spec->firmware)) {
		/* The code read-only, the variables the VM's own (libvirt
		 * copies the template when the file does not exist). */
		if (spec->firmware == SPEC_FIRMWARE_UEFI_SECURE)
			/* The flash only SMM may write (<smm/>). */
			xml_doc_text(d, "loader", facts->ovmf_code, "readonly",
				 "yes", "secure", "yes", "type", "pflash",
				 NULL);
		else
			xml_doc_text(d, "loader", facts->ovmf_code, "readonly",
				 "yes", "type", "pflash", NULL);
		xml_doc_text(d, "nvram", facts->nvram, "template",
			 facts->nvram_template, NULL);
	}
	if (spec->kernel.image != NULL) {
		xml_doc_text(d, "kernel", facts->kernel ? facts->kernel
				: spec->kernel.image, NULL);
		if (spec->kernel.initrd != NULL)
			xml_doc_text(d, "initrd", facts->initrd ? facts->initrd
					: spec->kernel.initrd, NULL);
		if (spec->kernel.cmdline != NULL)
			xml_doc_text(d, "cmdline", spec->kernel.cmdline, NULL);
	}
	xml_doc_close(d, "os");
}

static void add_features(struct xml_doc *d, const struct vmctl_spec *spec,
			 const struct libvirt_facts *facts)
{
	bool hyperv = facts->accel == SPEC_ACCEL_KVM && spec->hyperv;

	xml_doc_open(d, "features", NULL);
	/* Without <acpi/> libvirt starts QEMU with ACPI off: no power
	 * button, so no clean shutdown. */
	xml_doc_empty(d, "acpi", NULL);
	xml_doc_empty(d, "apic", NULL);
	if (spec->firmware == SPEC_FIRMWARE_UEFI_SECURE)
		xml_doc_empty(d, "smm", "state", "on", NULL);
	if (hyperv || spec->hide_hypervisor) {
		xml_doc_open(d, "hyperv", "mode", "custom", NULL);
		if (hyperv) {
			/* The argv's hv-* flags, one for one; hv-time is the
			 * hypervclock timer under <clock>. */
			xml_doc_empty(d, "relaxed", "state", "on", NULL);
			xml_doc_empty(d, "vapic", "state", "on", NULL);
			xml_doc_empty(d, "spinlocks", "state", "on", "retries",
				  "8191", NULL);
			xml_doc_empty(d, "vpindex", "state", "on", NULL);
			xml_doc_empty(d, "runtime", "state", "on", NULL);
			xml_doc_empty(d, "synic", "state", "on", NULL);
			xml_doc_empty(d, "stimer", "state", "on", NULL);
			xml_doc_empty(d, "reset", "state", "on", NULL);
		}
		if (spec->hide_hypervisor)
			xml_doc_empty(d, "vendor_id", "state", "on", "value",
				  HIDDEN_VENDOR_ID, NULL);
		if (hyperv)
			xml_doc_empty(d, "frequencies", "state", "on", NULL);
		xml_doc_close(d, "hyperv");
	}
	if (spec->hide_hypervisor) {
		/* kvm=off: no KVM signature in CPUID */
		xml_doc_open(d, "kvm", NULL);
		xml_doc_empty(d, "hidden", "state", "on", NULL);
		xml_doc_close(d, "kvm");
	}
	xml_doc_close(d, "features");
}

static void add_cpu(struct xml_doc *d, const struct vmctl_spec *spec,
		    const struct libvirt_facts *facts)
{
	char s[NUM_MAX], c[NUM_MAX], t[NUM_MAX];

	/* -cpu host under KVM, -cpu max under TCG */
	xml_doc_open(d, "cpu", "mode", facts->accel == SPEC_ACCEL_KVM
		 ? "host-passthrough" : "maximum", "check", "none", NULL);
	xml_doc_empty(d, "topology", "sockets", num(s, spec->cpus.sockets),
		  "dies", "1", "cores", num(c, spec->cpus.cores), "threads",
		  num(t, spec->cpus.threads), NULL);
	xml_doc_close(d, "cpu");
}

static void add_clock(struct xml_doc *d, const struct vmctl_spec *spec,
		      const struct libvirt_facts *facts)
{
	if (!(facts->accel == SPEC_ACCEL_KVM && spec->hyperv)) {
		xml_doc_empty(d, "clock", "offset", "utc", NULL);
		return;
	}
	xml_doc_open(d, "clock", "offset", "utc", NULL);
	xml_doc_empty(d, "timer", "name", "hypervclock", "present", "yes", NULL);
	xml_doc_close(d, "clock");
}

/* Target device names: vda, vdb, ... for virtio, sda, sdb, ... shared by
 * SATA and SCSI (libvirt wants them unique across buses). */
struct targets {
	unsigned vd, sd;
};

static void disk_target(struct xml_doc *d, struct targets *t,
			const char *bus)
{
	char dev[8];

	if (strcmp(bus, "virtio") == 0)
		snprintf(dev, sizeof(dev), "vd%c", 'a' + t->vd++);
	else
		snprintf(dev, sizeof(dev), "sd%c", 'a' + t->sd++);
	xml_doc_empty(d, "target", "dev", dev, "bus", bus, NULL);
}

/* A read-only raw file: a virtio disk or a SATA CD. */
static void add_readonly(struct xml_doc *d, struct targets *t, bool cdrom,
			 const char *path, const char *boot_order)
{
	xml_doc_open(d, "disk", "type", "file", "device", cdrom ? "cdrom"
		     : "disk", NULL);
	xml_doc_empty(d, "driver", "name", "qemu", "type", "raw", NULL);
	xml_doc_empty(d, "source", "file", path, NULL);
	disk_target(d, t, cdrom ? "sata" : "virtio");
	xml_doc_empty(d, "readonly", NULL);
	if (boot_order != NULL)
		xml_doc_empty(d, "boot", "order", boot_order, NULL);
	xml_doc_close(d, "disk");
}

static void add_disks(struct xml_doc *d, const struct vmctl_spec *spec,
		      const struct libvirt_facts *facts)
{
	static const char *const buses[] = {
		[SPEC_DISK_VIRTIO] = "virtio",
		[SPEC_DISK_SATA] = "sata",
		[SPEC_DISK_SCSI] = "scsi",
	};
	struct targets t = { 0 };

	if (spec->disk.image != NULL) {
		xml_doc_open(d, "disk", "type", "file", "device", "disk", NULL);
		xml_doc_empty(d, "driver", "name", "qemu", "type", "qcow2",
			  "discard", "unmap", NULL);
		xml_doc_empty(d, "source", "file", facts->overlay, NULL);
		/* The overlay's base, said rather than probed: its format
		 * as vmctl read it; it has no backing file of its own
		 * (image.c refuses such a base). */
		xml_doc_open(d, "backingStore", "type", "file", NULL);
		xml_doc_empty(d, "format", "type", facts->base_format, NULL);
		xml_doc_empty(d, "source", "file", facts->base, NULL);
		xml_doc_empty(d, "backingStore", NULL);
		xml_doc_close(d, "backingStore");
		disk_target(d, &t, buses[spec->disk.bus]);
		xml_doc_empty(d, "boot", "order", "1", NULL);
		xml_doc_close(d, "disk");
	}
	/* The NoCloud seed: a read-only virtio disk, as in the argv
	 * (cloud-init finds it by its "cidata" label).  Not a SATA CD:
	 * Debian's cloud kernel, the one of its genericcloud images, has
	 * no AHCI driver and would never see it. */
	if (facts->seed != NULL)
		add_readonly(d, &t, false, facts->seed, NULL);
	/* After the disk: an empty disk falls through to the installer. */
	if (spec->cdrom != NULL)
		add_readonly(d, &t, true, facts->cdrom ? facts->cdrom
			     : spec->cdrom, "2");
	if (spec->disk.image != NULL && spec->disk.bus == SPEC_DISK_SCSI)
		xml_doc_empty(d, "controller", "type", "scsi", "index", "0",
			  "model", "virtio-scsi", NULL);
}

/*
 * User networking needs passt in libvirt 9.0 (Debian 12), which is not
 * installed with it: the NIC is on a libvirt network (NAT, "default"),
 * so the spec's ssh_port and forwards do not apply; the guest is reached
 * at its address on that network.  The MAC is the one the argv gives.
 */
static void add_interface(struct xml_doc *d, const struct vmctl_spec *spec,
			  const struct libvirt_facts *facts)
{
	char mac[18];

	qemu_mac_for_name(spec->name, mac);
	xml_doc_open(d, "interface", "type", "network", NULL);
	xml_doc_empty(d, "mac", "address", mac, NULL);
	xml_doc_empty(d, "source", "network",
		  facts->network != NULL ? facts->network : "default", NULL);
	xml_doc_empty(d, "model", "type", spec->network.model == SPEC_NIC_E1000E
		  ? "e1000e" : "virtio", NULL);
	xml_doc_close(d, "interface");
}

/*
 * The serial console: a pty, so `virsh console` works, logged to the file
 * the argv's log keeper writes (libvirt's virtlogd caps it instead).
 */
static void add_console(struct xml_doc *d, const struct libvirt_facts *facts)
{
	xml_doc_open(d, "serial", "type", "pty", NULL);
	xml_doc_empty(d, "log", "file", facts->serial_log, "append", "on", NULL);
	xml_doc_open(d, "target", "type", "isa-serial", "port", "0", NULL);
	xml_doc_empty(d, "model", "name", "isa-serial", NULL);
	xml_doc_close(d, "target");
	xml_doc_close(d, "serial");
	xml_doc_open(d, "console", "type", "pty", NULL);
	xml_doc_empty(d, "target", "type", "serial", "port", "0", NULL);
	xml_doc_close(d, "console");
}

static void add_display(struct xml_doc *d, const struct vmctl_spec *spec,
			const struct libvirt_facts *facts)
{
	if (spec->vnc.enabled && spec->vnc.password) {
		char port[NUM_MAX];
		bool autoport = spec->vnc.display < 0;

		xml_doc_open(d, "graphics", "type", "vnc", "port", autoport ? "-1"
			 : num(port, 5900 + (uint64_t)spec->vnc.display),
			 "autoport", autoport ? "yes" : "no", "listen",
			 spec->vnc.listen, "passwd", facts->vnc_password,
			 NULL);
		xml_doc_empty(d, "listen", "type", "address", "address",
			  spec->vnc.listen, NULL);
		xml_doc_close(d, "graphics");
	} else if (spec->vnc.enabled) {
		/* No password: a UNIX socket, never a TCP port, as in the
		 * argv; libvirt puts it in its own directory for the VM,
		 * which its QEMU user can write (the VM's 0700 one it
		 * cannot). */
		xml_doc_open(d, "graphics", "type", "vnc", NULL);
		xml_doc_empty(d, "listen", "type", "socket", NULL);
		xml_doc_close(d, "graphics");
	}
	/* A GPU with x-vga takes the legacy VGA ranges: no emulated VGA
	 * (and libvirt would otherwise add one for the graphics). */
	xml_doc_open(d, "video", NULL);
	xml_doc_empty(d, "model", "type", qemu_gpu_owns_vga(spec) ? "none" : "vga",
		  NULL);
	xml_doc_close(d, "video");
	if (spec->vnc.enabled) {
		/* An absolute pointer, so the VNC cursor tracks the guest's. */
		xml_doc_empty(d, "controller", "type", "usb", "index", "0",
			  "model", "qemu-xhci", NULL);
		xml_doc_empty(d, "input", "type", "tablet", "bus", "usb", NULL);
	}
}

/*
 * Each GPU: its own PCIe root port (index 1 up, on q35) as in the argv,
 * with every function of its slot on the port's one slot, function 0
 * multifunction.  Guest functions keep the host's numbers when function
 * 0 is among them, else are numbered from 0 (a guest only scans a slot
 * whose function 0 exists).  On a plain PCI machine the GPUs sit on bus 0
 * from slot 0x10.
 */
static void add_gpus(struct xml_doc *d, const struct vmctl_spec *spec,
		     const struct libvirt_facts *facts)
{
	bool pcie = machine_is_pcie(spec);

	for (size_t i = 0; i < facts->n_gpus; i++) {
		const struct qemu_gpu *gpu = &facts->gpus[i];
		const struct spec_gpu *sel = &spec->gpus[i];
		bool keep = gpu->n_functions > 0 &&
			    gpu->functions[0].func == 0;
		char bus[NUM_MAX];

		if (pcie) {
			char index[NUM_MAX];

			xml_doc_empty(d, "controller", "type", "pci", "index",
				  num(index, i + 1), "model",
				  "pcie-root-port", NULL);
			hex(bus, (unsigned)(i + 1), 2);
		} else {
			hex(bus, 0, 2);
		}
		for (size_t f = 0; f < gpu->n_functions; f++) {
			const struct pci_addr *a = &gpu->functions[f];
			unsigned gf = keep ? a->func : (unsigned)f;
			char dom[NUM_MAX], hbus[NUM_MAX], slot[NUM_MAX],
			     fn[NUM_MAX], gslot[NUM_MAX], gfn[NUM_MAX];
			cleanup_free char *alias = xasprintf(
				"ua-gpu%zu-fn%u", i, gf);

			xml_doc_open(d, "hostdev", "mode", "subsystem", "type",
				 "pci", "managed", sel->managed ? "yes" : "no",
				 NULL);
			xml_doc_empty(d, "driver", "name", "vfio", NULL);
			xml_doc_open(d, "source", NULL);
			xml_doc_empty(d, "address", "domain", hex(dom, a->domain, 4),
				  "bus", hex(hbus, a->bus, 2), "slot",
				  hex(slot, a->dev, 2), "function",
				  hex(fn, a->func, 1), NULL);
			xml_doc_close(d, "source");
			xml_doc_empty(d, "alias", "name", alias, NULL);
			if (f == 0 && sel->rom != NULL)
				xml_doc_empty(d, "rom", "file", sel->rom, NULL);
			xml_doc_empty(d, "address", "type", "pci", "domain",
				  "0x0000", "bus", bus, "slot",
				  pcie ? "0x00" : hex(gslot, 0x10 + (unsigned)i,
						      2),
				  "function", hex(gfn, gf, 1), "multifunction",
				  f == 0 && gpu->n_functions > 1 ? "on" : NULL,
				  NULL);
			xml_doc_close(d, "hostdev");
		}
	}
}

static void add_devices(struct xml_doc *d, const struct vmctl_spec *spec,
			const struct libvirt_facts *facts)
{
	xml_doc_open(d, "devices", NULL);
	xml_doc_text(d, "emulator", facts->emulator, NULL);
	add_disks(d, spec, facts);
	add_interface(d, spec, facts);
	add_console(d, facts);
	add_display(d, spec, facts);
	add_gpus(d, spec, facts);
	if (spec->tpm) {
		/* libvirt runs the swtpm itself, its state under
		 * /var/lib/libvirt/swtpm/UUID. */
		xml_doc_open(d, "tpm", "model", "tpm-crb", NULL);
		xml_doc_empty(d, "backend", "type", "emulator", "version",
			  "2.0", NULL);
		xml_doc_close(d, "tpm");
	}
	/* vmctl balloon's device: the guest gives pages back first when it
	 * runs out of memory itself (the argv's deflate-on-oom=on). */
	if (spec->balloon)
		xml_doc_empty(d, "memballoon", "model", "virtio", "autodeflate",
			  "on", NULL);
	else
		xml_doc_empty(d, "memballoon", "model", "none", NULL);
	xml_doc_open(d, "rng", "model", "virtio", NULL);
	xml_doc_text(d, "backend", "/dev/urandom", "model", "random", NULL);
	xml_doc_close(d, "rng");
	xml_doc_close(d, "devices");
}

/*
 * What libvirt has no element for, as QEMU options:
 * - x-vga=on on a GPU's function 0 (the card owns the legacy VGA ranges,
 *   its VBIOS drives the boot display): a <qemu:override> of the
 *   hostdev's frontend property, which libvirt 8.2 and later apply to the
 *   -device it builds, keyed by the alias set above.
 * - qemu.extra_args, passed on as <qemu:arg>s, as the argv appends them.
 */
static void add_qemu_extras(struct xml_doc *d, const struct vmctl_spec *spec,
			    const struct libvirt_facts *facts)
{
	if (spec->qemu.extra_args.n > 0) {
		xml_doc_open(d, "qemu:commandline", NULL);
		for (size_t i = 0; i < spec->qemu.extra_args.n; i++)
			xml_doc_empty(d, "qemu:arg", "value",
				  spec->qemu.extra_args.v[i], NULL);
		xml_doc_close(d, "qemu:commandline");
	}
	if (!qemu_gpu_owns_vga(spec))
		return;
	xml_doc_open(d, "qemu:override", NULL);
	for (size_t i = 0; i < facts->n_gpus; i++) {
		/* the first function is guest function 0 either way */
		cleanup_free char *alias = xasprintf("ua-gpu%zu-fn0", i);

		if (!spec->gpus[i].x_vga)
			continue;
		xml_doc_open(d, "qemu:device", "alias", alias, NULL);
		xml_doc_open(d, "qemu:frontend", NULL);
		xml_doc_empty(d, "qemu:property", "name", "x-vga", "type", "bool",
			  "value", "true", NULL);
		xml_doc_close(d, "qemu:frontend");
		xml_doc_close(d, "qemu:device");
	}
	xml_doc_close(d, "qemu:override");
}

/* vmctl's mark: `list --connect` shows only the domains holding it. */
static void add_metadata(struct xml_doc *d, const struct vmctl_spec *spec,
			 const struct libvirt_facts *facts)
{
	if (facts->meta_created == NULL)
		return;
	xml_doc_open(d, "metadata", NULL);
	xml_doc_open(d, LIBVIRT_XML_NS_PREFIX ":vm", "xmlns:" LIBVIRT_XML_NS_PREFIX,
		 LIBVIRT_XML_NS, NULL);
	xml_doc_text(d, LIBVIRT_XML_NS_PREFIX ":name", spec->name, NULL);
	if (facts->meta_image != NULL)
		xml_doc_text(d, LIBVIRT_XML_NS_PREFIX ":image", facts->meta_image,
			 NULL);
	if (facts->meta_digest != NULL)
		xml_doc_text(d, LIBVIRT_XML_NS_PREFIX ":digest",
			 facts->meta_digest, NULL);
	xml_doc_text(d, LIBVIRT_XML_NS_PREFIX ":created", facts->meta_created,
		 NULL);
	xml_doc_close(d, LIBVIRT_XML_NS_PREFIX ":vm");
	xml_doc_close(d, "metadata");
}

static int check_facts(const struct vmctl_spec *spec,
		       const struct libvirt_facts *f, struct vmctl_error **err)
{
	const char *missing = NULL;

	if (f->accel != SPEC_ACCEL_KVM && f->accel != SPEC_ACCEL_TCG)
		missing = "accelerator";
	else if (f->name == NULL)
		missing = "domain name";
	else if (f->emulator == NULL || f->emulator[0] != '/')
		missing = "emulator path";
	else if (spec->disk.image != NULL &&
		 (f->overlay == NULL || f->base == NULL ||
		  f->base_format == NULL))
		missing = "disk overlay";
	else if (spec->cloud_init.enabled && f->seed == NULL)
		missing = "cloud-init seed";
	else if (spec_firmware_is_uefi(spec->firmware) &&
		 (f->ovmf_code == NULL || f->nvram == NULL))
		missing = "UEFI firmware";
	else if (f->serial_log == NULL)
		missing = "serial log";
	else if (spec->vnc.enabled && spec->vnc.password &&
		 f->vnc_password == NULL)
		missing = "VNC password";
	else if ((spec->hugepages != SPEC_HUGE_NONE) !=
		 (f->hugepage_size != 0))
		missing = "hugepage size";
	else if (f->n_gpus != spec->n_gpus)
		missing = "GPUs";
	if (missing != NULL)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "internal error: libvirt XML: %s not "
				       "given", missing);
	return 0;
}

int libvirt_xml_build(const struct vmctl_spec *spec,
		      const struct libvirt_facts *facts, char **out,
		      struct vmctl_error **err)
{
	struct xml_doc d = { 0 };
	char vcpus[NUM_MAX];

	if (check_facts(spec, facts, err) < 0)
		return -1;
	xml_doc_open(&d, "domain", "type", facts->accel == SPEC_ACCEL_KVM ? "kvm"
		 : "qemu", "xmlns:qemu", needs_qemu_ns(spec) ? QEMU_NS : NULL,
		 NULL);
	xml_doc_text(&d, "name", facts->name, NULL);
	if (facts->uuid != NULL)
		xml_doc_text(&d, "uuid", facts->uuid, NULL);
	add_metadata(&d, spec, facts);
	add_memory(&d, spec, facts);
	xml_doc_text(&d, "vcpu", num(vcpus, spec_cpu_count(spec)), "placement",
		 "static", NULL);
	add_os(&d, spec, facts);
	add_features(&d, spec, facts);
	add_cpu(&d, spec, facts);
	add_clock(&d, spec, facts);
	xml_doc_text(&d, "on_poweroff", "destroy", NULL);
	xml_doc_text(&d, "on_reboot", "restart", NULL);
	xml_doc_text(&d, "on_crash", "destroy", NULL);
	add_devices(&d, spec, facts);
	add_qemu_extras(&d, spec, facts);
	xml_doc_close(&d, "domain");
	if (d.bad != NULL) {
		/* not quoted back: it would reach the terminal as is */
		vmctl_error_set(err, VMCTL_EXIT_SPEC, 0,
				"a name or path holds a control character, "
				"which libvirt XML cannot carry");
		free(d.s);
		return -1;
	}
	*out = d.s;
	return 0;
}

/* ---- reading vmctl's mark back ------------------------------------------ */

void libvirt_meta_clear(struct libvirt_meta *m)
{
	free(m->name);
	free(m->image);
	free(m->digest);
	*m = (struct libvirt_meta){ 0 };
}

int libvirt_xml_meta_parse(const char *xml, struct libvirt_meta *out)
{
	xmlDoc *doc = xmlReadMemory(xml, (int)strlen(xml), "metadata.xml",
				    NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
				    XML_PARSE_NOWARNING);
	const xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	int ret = -1;

	*out = (struct libvirt_meta){ 0 };
	/* libvirt hands the element back without its namespace (it was
	 * asked for by it); with one, it must be vmctl's. */
	if (root == NULL || (root->ns != NULL &&
			     strcmp((const char *)root->ns->href,
				    LIBVIRT_XML_NS) != 0) ||
	    strcmp((const char *)root->name, "vm") != 0)
		goto out;
	for (const xmlNode *c = root->children; c != NULL; c = c->next) {
		xmlChar *v;
		char **slot = NULL;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		v = xmlNodeGetContent(c);
		if (strcmp((const char *)c->name, "name") == 0)
			slot = &out->name;
		else if (strcmp((const char *)c->name, "image") == 0)
			slot = &out->image;
		else if (strcmp((const char *)c->name, "digest") == 0)
			slot = &out->digest;
		else if (strcmp((const char *)c->name, "created") == 0 && v)
			out->created = strtoll((const char *)v, NULL, 10);
		if (slot != NULL && v != NULL) {
			free(*slot);
			*slot = xstrdup((const char *)v);
		}
		xmlFree(v);
	}
	ret = 0;
out:
	xmlFreeDoc(doc);
	return ret;
}
