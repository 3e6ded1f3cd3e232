// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The domain's <devices> for libvirt-xml.c (libvirt-xml-devices.h): the
 * same devices as qemu-argv.c's, each where libvirt has an element for it.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "vmctl/libvirt-xml-devices.h"
#include "vmctl/xalloc.h"

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

/* A read-only raw file: a virtio disk or a SATA CD (path NULL: a CD
 * drive with no medium). */
static void add_readonly(struct xml_doc *d, struct targets *t, bool cdrom,
			 const char *path, const char *boot_order,
			 const char *alias)
{
	xml_doc_open(d, "disk", "type", "file", "device", cdrom ? "cdrom"
		     : "disk", NULL);
	xml_doc_empty(d, "driver", "name", "qemu", "type", "raw", NULL);
	if (path != NULL)
		xml_doc_empty(d, "source", "file", path, NULL);
	disk_target(d, t, cdrom ? "sata" : "virtio");
	xml_doc_empty(d, "readonly", NULL);
	if (boot_order != NULL)
		xml_doc_empty(d, "boot", "order", boot_order, NULL);
	if (alias != NULL)
		xml_doc_empty(d, "alias", "name", alias, NULL);
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
	/* boot: cdrom-once: the CD-ROM first until the first start with a
	 * medium has booted it; lvvm_boot_once() then puts the disk first,
	 * in the running QEMU and in the definition (ARCHITECTURE.md). */
	bool cd_first = spec->boot == SPEC_BOOT_CDROM_ONCE;

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
		xml_doc_empty(d, "boot", "order", cd_first ? "2" : "1", NULL);
		/* a user alias: QOM path /machine/peripheral/ua-disk0 */
		xml_doc_empty(d, "alias", "name", LIBVIRT_XML_DISK_ALIAS, NULL);
		xml_doc_close(d, "disk");
	}
	/* The NoCloud seed: a read-only virtio disk, as in the argv
	 * (cloud-init finds it by its "cidata" label).  Not a SATA CD:
	 * Debian's cloud kernel, the one of its genericcloud images, has
	 * no AHCI driver and would never see it. */
	if (facts->seed != NULL)
		add_readonly(d, &t, false, facts->seed, NULL, NULL);
	/* After the disk: an empty disk falls through to the installer. */
	if (spec->cdrom_drive)
		add_readonly(d, &t, true, facts->cdrom ? facts->cdrom
			     : spec->cdrom, cd_first ? "1" : "2",
			     LIBVIRT_XML_CDROM_ALIAS);
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

/* The xHCI controller as the argv has it: 8 ports of each speed when it
 * carries the spec's USB devices. */
static void add_xhci(struct xml_doc *d, const struct vmctl_spec *spec)
{
	xml_doc_empty(d, "controller", "type", "usb", "index", "0", "model",
		      "qemu-xhci", "ports", spec->n_usb > 0 ? "8" : NULL, NULL);
}

/* The spec's USB devices: by id, libvirt finds the device when the domain
 * starts; by bus/port, a device number that stands in until
 * lvvm_usb_refresh() writes the one the port has before each start (the
 * port is in vmctl's mark, add_metadata()). */
static void add_usb(struct xml_doc *d, const struct vmctl_spec *spec)
{
	if (spec->n_usb > 0 && !spec->vnc.enabled)
		add_xhci(d, spec);
	for (size_t i = 0; i < spec->n_usb; i++) {
		char vendor[LIBVIRT_XML_NUM_MAX], product[LIBVIRT_XML_NUM_MAX];
		cleanup_free char *alias = xasprintf("ua-usb-host%zu", i);

		xml_doc_open(d, "hostdev", "mode", "subsystem", "type", "usb",
			     "managed", "yes", NULL);
		xml_doc_open(d, "source", NULL);
		if (spec->usb[i].port != NULL) {
			xml_doc_empty(d, "address", "bus", libvirt_xml_num(
				vendor, spec->usb[i].bus), "device", "0", NULL);
		} else {
			xml_doc_empty(d, "vendor", "id", libvirt_xml_hex(
				vendor, spec->usb[i].vendor_id, 4), NULL);
			xml_doc_empty(d, "product", "id", libvirt_xml_hex(
				product, spec->usb[i].product_id, 4), NULL);
		}
		xml_doc_close(d, "source");
		xml_doc_empty(d, "alias", "name", alias, NULL);
		xml_doc_close(d, "hostdev");
	}
}

static void add_display(struct xml_doc *d, const struct vmctl_spec *spec,
			const struct libvirt_facts *facts)
{
	if (spec->vnc.enabled && spec->vnc.password) {
		char port[LIBVIRT_XML_NUM_MAX];
		bool autoport = spec->vnc.display < 0;

		xml_doc_open(d, "graphics", "type", "vnc", "port", autoport ? "-1"
			 : libvirt_xml_num(port, 5900 + (uint64_t)spec->vnc.display),
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
		add_xhci(d, spec);
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
	bool pcie = libvirt_xml_machine_is_pcie(spec);

	for (size_t i = 0; i < facts->n_gpus; i++) {
		const struct qemu_gpu *gpu = &facts->gpus[i];
		const struct spec_gpu *sel = &spec->gpus[i];
		bool keep = gpu->n_functions > 0 &&
			    gpu->functions[0].func == 0;
		char bus[LIBVIRT_XML_NUM_MAX];

		if (pcie) {
			char index[LIBVIRT_XML_NUM_MAX];

			xml_doc_empty(d, "controller", "type", "pci", "index",
				  libvirt_xml_num(index, i + 1), "model",
				  "pcie-root-port", NULL);
			libvirt_xml_hex(bus, (unsigned)(i + 1), 2);
		} else {
			libvirt_xml_hex(bus, 0, 2);
		}
		for (size_t f = 0; f < gpu->n_functions; f++) {
			const struct pci_addr *a = &gpu->functions[f];
			unsigned gf = keep ? a->func : (unsigned)f;
			char dom[LIBVIRT_XML_NUM_MAX], hbus[LIBVIRT_XML_NUM_MAX], slot[LIBVIRT_XML_NUM_MAX],
			     fn[LIBVIRT_XML_NUM_MAX], gslot[LIBVIRT_XML_NUM_MAX], gfn[LIBVIRT_XML_NUM_MAX];
			cleanup_free char *alias = xasprintf(
				"ua-gpu%zu-fn%u", i, gf);

			xml_doc_open(d, "hostdev", "mode", "subsystem", "type",
				 "pci", "managed", sel->managed ? "yes" : "no",
				 NULL);
			xml_doc_empty(d, "driver", "name", "vfio", NULL);
			xml_doc_open(d, "source", NULL);
			xml_doc_empty(d, "address", "domain", libvirt_xml_hex(dom, a->domain, 4),
				  "bus", libvirt_xml_hex(hbus, a->bus, 2), "slot",
				  libvirt_xml_hex(slot, a->dev, 2), "function",
				  libvirt_xml_hex(fn, a->func, 1), NULL);
			xml_doc_close(d, "source");
			xml_doc_empty(d, "alias", "name", alias, NULL);
			if (f == 0 && sel->rom != NULL)
				xml_doc_empty(d, "rom", "file", sel->rom, NULL);
			xml_doc_empty(d, "address", "type", "pci", "domain",
				  "0x0000", "bus", bus, "slot",
				  pcie ? "0x00" : libvirt_xml_hex(gslot, 0x10 + (unsigned)i,
						      2),
				  "function", libvirt_xml_hex(gfn, gf, 1), "multifunction",
				  f == 0 && gpu->n_functions > 1 ? "on" : NULL,
				  NULL);
			xml_doc_close(d, "hostdev");
		}
	}
}

void libvirt_xml_devices(struct xml_doc *d, const struct vmctl_spec *spec,
			 const struct libvirt_facts *facts)
{
	xml_doc_open(d, "devices", NULL);
	xml_doc_text(d, "emulator", facts->emulator, NULL);
	add_disks(d, spec, facts);
	add_interface(d, spec, facts);
	add_console(d, facts);
	add_display(d, spec, facts);
	add_gpus(d, spec, facts);
	add_usb(d, spec);
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
