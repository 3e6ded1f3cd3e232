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

#include "vmctl/lazylib.h"
#include "vmctl/libvirt-xml.h"
#include "vmctl/libvirt-xml-devices.h"
#include "vmctl/usb.h"
#include "vmctl/xmlwriter.h"
#include "vmctl/xalloc.h"

#define QEMU_NS "http://libvirt.org/schemas/domain/qemu/1.0"
/* What the argv's hide_hypervisor sets as -cpu hv-vendor-id: at most 12
 * characters, and not "Microsoft Hv". */
#define HIDDEN_VENDOR_ID "vmctlhidden0"

const char *libvirt_xml_num(char buf[LIBVIRT_XML_NUM_MAX], uint64_t v)
{
	snprintf(buf, LIBVIRT_XML_NUM_MAX, "%" PRIu64, v);
	return buf;
}

const char *libvirt_xml_hex(char buf[LIBVIRT_XML_NUM_MAX], unsigned v,
			    int width)
{
	snprintf(buf, LIBVIRT_XML_NUM_MAX, "0x%0*x", width, v);
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
bool libvirt_xml_machine_is_pcie(const struct vmctl_spec *spec)
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
	char mib[LIBVIRT_XML_NUM_MAX], kib[LIBVIRT_XML_NUM_MAX];

	/* In MiB, as the argv's -m says it. */
	xml_doc_text(d, "memory", libvirt_xml_num(mib, spec->memory >> 20), "unit", "MiB",
		 NULL);
	xml_doc_text(d, "currentMemory", mib, "unit", "MiB", NULL);
	if (facts->hugepage_size == 0 && spec->mem_merge)
		return;
	xml_doc_open(d, "memoryBacking", NULL);
	if (facts->hugepage_size != 0) {
		/* Taken from the pool when QEMU starts (immediate
		 * allocation below: the argv's prealloc=on). */
		xml_doc_open(d, "hugepages", NULL);
		xml_doc_empty(d, "page", "size", libvirt_xml_num(kib, facts->hugepage_size >> 10),
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
	char s[LIBVIRT_XML_NUM_MAX], c[LIBVIRT_XML_NUM_MAX], t[LIBVIRT_XML_NUM_MAX];

	/* -cpu host under KVM, -cpu max under TCG */
	xml_doc_open(d, "cpu", "mode", facts->accel == SPEC_ACCEL_KVM
		 ? "host-passthrough" : "maximum", "check", "none", NULL);
	xml_doc_empty(d, "topology", "sockets", libvirt_xml_num(s, spec->cpus.sockets),
		  "dies", "1", "cores", libvirt_xml_num(c, spec->cpus.cores), "threads",
		  libvirt_xml_num(t, spec->cpus.threads), NULL);
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
	/* for status: the once is done when the definition boots the disk
	 * first */
	if (spec->boot == SPEC_BOOT_CDROM_ONCE)
		xml_doc_text(d, LIBVIRT_XML_NS_PREFIX ":boot", "cdrom-once",
			     NULL);
	/* USB devices by port: libvirt has no word for a port, its hostdev
	 * a device number that lvvm_usb_refresh() finds again at each
	 * start (lvnodedev.h) */
	for (size_t i = 0; i < spec->n_usb; i++) {
		char idx[LIBVIRT_XML_NUM_MAX], bus[LIBVIRT_XML_NUM_MAX];

		if (spec->usb[i].port == NULL)
			continue;
		xml_doc_empty(d, LIBVIRT_XML_NS_PREFIX ":usb", "index",
			      libvirt_xml_num(idx, i), "bus",
			      libvirt_xml_num(bus, spec->usb[i].bus), "port",
			      spec->usb[i].port, NULL);
	}
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
	char vcpus[LIBVIRT_XML_NUM_MAX];

	/* a port needs the mark to keep it */
	if (check_facts(spec, facts, err) < 0 ||
	    (facts->meta_created == NULL && usb_libvirt_check(spec, err) < 0))
		return -1;
	xml_doc_open(&d, "domain", "type", facts->accel == SPEC_ACCEL_KVM ? "kvm"
		 : "qemu", "xmlns:qemu", needs_qemu_ns(spec) ? QEMU_NS : NULL,
		 NULL);
	xml_doc_text(&d, "name", facts->name, NULL);
	if (facts->uuid != NULL)
		xml_doc_text(&d, "uuid", facts->uuid, NULL);
	add_metadata(&d, spec, facts);
	add_memory(&d, spec, facts);
	xml_doc_text(&d, "vcpu", libvirt_xml_num(vcpus, spec_cpu_count(spec)), "placement",
		 "static", NULL);
	add_os(&d, spec, facts);
	add_features(&d, spec, facts);
	add_cpu(&d, spec, facts);
	add_clock(&d, spec, facts);
	xml_doc_text(&d, "on_poweroff", "destroy", NULL);
	xml_doc_text(&d, "on_reboot", "restart", NULL);
	xml_doc_text(&d, "on_crash", "destroy", NULL);
	libvirt_xml_devices(&d, spec, facts);
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
	xmlDoc *doc = sym_xmlReadMemory(xml, (int)strlen(xml), "metadata.xml",
					NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
					XML_PARSE_NOWARNING);
	const xmlNode *root = doc ? sym_xmlDocGetRootElement(doc) : NULL;
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
		v = sym_xmlNodeGetContent(c);
		if (strcmp((const char *)c->name, "name") == 0)
			slot = &out->name;
		else if (strcmp((const char *)c->name, "image") == 0)
			slot = &out->image;
		else if (strcmp((const char *)c->name, "digest") == 0)
			slot = &out->digest;
		else if (strcmp((const char *)c->name, "created") == 0 && v)
			out->created = strtoll((const char *)v, NULL, 10);
		else if (strcmp((const char *)c->name, "boot") == 0 && v)
			out->cdrom_once = strcmp((const char *)v,
						 "cdrom-once") == 0;
		if (slot != NULL && v != NULL) {
			free(*slot);
			*slot = xstrdup((const char *)v);
		}
		sym_xmlFree(v);
	}
	ret = 0;
out:
	sym_xmlFreeDoc(doc);
	return ret;
}
