// SPDX-License-Identifier: GPL-2.0-or-later
/* Spec + facts -> libvirt domain XML (libvirt-xml.c). */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmctl/libvirt-xml.h"
#include "vmctl/xmlwriter.h"

static struct vmctl_spec *load(const char *yaml)
{
	struct vmctl_spec *spec = NULL;
	struct vmctl_error *err = NULL;

	if (spec_load_buffer("t", yaml, strlen(yaml), SPEC_SYNTAX_YAML, &spec,
			     &err) < 0) {
		printf("# %s\n", err->message);
		vmctl_error_free(err);
	}
	return spec;
}

/* Facts for a spec as an executor would give them, all fixed. */
static struct libvirt_facts facts_for(const struct vmctl_spec *spec)
{
	return (struct libvirt_facts){
		.name = spec->name,
		.accel = spec->accel == SPEC_ACCEL_KVM ? SPEC_ACCEL_KVM
						       : SPEC_ACCEL_TCG,
		.emulator = "/usr/bin/qemu-system-x86_64",
		.overlay = "/s/vms/x/disk.qcow2",
		.base = "/s/images/base.qcow2",
		.base_format = "qcow2",
		.seed = spec->cloud_init.enabled ? "/s/vms/x/seed.iso" : NULL,
		.ovmf_code = "/usr/share/OVMF/OVMF_CODE_4M.fd",
		.nvram = "/s/vms/x/OVMF_VARS.fd",
		.serial_log = "/s/vms/x/serial.log",
		.vnc_password = "pw",
	};
}

/* The XML for a spec and its facts, or NULL (the error as a comment). */
static char *build(const struct vmctl_spec *spec,
		   const struct libvirt_facts *facts)
{
	struct vmctl_error *err = NULL;
	char *xml = NULL;

	if (spec == NULL)
		return NULL;
	if (libvirt_xml_build(spec, facts, &xml, &err) < 0) {
		printf("# %s\n", err->message);
		vmctl_error_free(err);
		return NULL;
	}
	return xml;
}

static bool has(const char *xml, const char *needle)
{
	if (xml != NULL && strstr(xml, needle) != NULL)
		return true;
	printf("# not found: %s\n", needle);
	return false;
}

static bool lacks(const char *xml, const char *needle)
{
	return xml != NULL && strstr(xml, needle) == NULL;
}

static void test_escape(void)
{
	char *s;

	is_str(s = xml_escape("a&b<c>d'e\"f"),
	       "a&amp;b&lt;c&gt;d&apos;e&quot;f", "the five specials");
	free(s);
	is_str(s = xml_escape("tab\tnl\ncr\r"),
	       "tab&#9;nl&#10;cr&#13;", "whitespace kept in attributes");
	free(s);
	is_str(s = xml_escape("caf\xc3\xa9"), "caf\xc3\xa9",
	       "UTF-8 as is");
	free(s);
	ok(xml_escape("bell\a") == NULL, "control character refused");
}

static void test_hostile_strings(void)
{
	struct vmctl_spec *spec = load(
		"name: evil\n"
		"disk: {image: /base.qcow2}\n"
		"cdrom: \"/iso/a'b\\\"c<d>&e.iso\"\n"
		"kernel: {image: \"/k</kernel><evil/>\", "
		"cmdline: \"console=ttyS0 x='1' y=\\\"2\\\" & z<3\"}\n"
		"qemu: {extra_args: [\"-set\", \"a='b'&c\"]}\n");
	struct libvirt_facts f;
	char *xml;

	if (spec == NULL) {
		ok(0, "hostile spec loads");
		return;
	}
	f = facts_for(spec);
	f.name = "x</name><devices/>&'\"";
	f.vnc_password = "p'w\"<&>";
	f.overlay = "/s/a'b/disk.qcow2";
	xml = build(spec, &f);
	ok(has(xml, "<name>x&lt;/name&gt;&lt;devices/&gt;&amp;&apos;&quot;"
		    "</name>"), "domain name escaped");
	ok(has(xml, "<source file='/iso/a&apos;b&quot;c&lt;d&gt;&amp;e.iso'/>"),
	   "cdrom path escaped");
	ok(has(xml, "<kernel>/k&lt;/kernel&gt;&lt;evil/&gt;</kernel>"),
	   "kernel path escaped");
	ok(has(xml, "<cmdline>console=ttyS0 x=&apos;1&apos; y=&quot;2&quot; "
		    "&amp; z&lt;3</cmdline>"), "kernel cmdline escaped");
	ok(has(xml, "passwd='p&apos;w&quot;&lt;&amp;&gt;'"),
	   "VNC password escaped");
	ok(has(xml, "<source file='/s/a&apos;b/disk.qcow2'/>"),
	   "overlay path escaped");
	ok(has(xml, "<qemu:arg value='a=&apos;b&apos;&amp;c'/>"),
	   "extra argument escaped");
	ok(lacks(xml, "<evil") && lacks(xml, "<devices/>"),
	   "nothing hostile became markup");
	free(xml);

	f.serial_log = "/log\x01";
	ok(build(spec, &f) == NULL, "a control character fails the build");
	spec_free(spec);
}

static void test_gpu_slot(void)
{
	struct vmctl_spec *spec = load(
		"name: g\n"
		"accel: kvm\n"
		"gpu: [{address: '0000:01:00.0', rom: '/roms/v.rom', "
		"managed: true}, {address: '0000:02:00.1'}]\n");
	struct pci_addr fns0[] = { { 0, 1, 0, 0 }, { 0, 1, 0, 1 },
				   { 0, 1, 0, 2 }, { 0, 1, 0, 3 } };
	struct pci_addr fns1[] = { { 0, 2, 0, 1 } };
	struct qemu_gpu gpus[2] = { { fns0, 4, NULL }, { fns1, 1, NULL } };
	struct libvirt_facts f;
	char *xml;

	if (spec == NULL) {
		ok(0, "gpu spec loads");
		return;
	}
	f = facts_for(spec);
	gpus[0].spec = &spec->gpus[0];
	gpus[1].spec = &spec->gpus[1];
	f.gpus = gpus;
	f.n_gpus = 2;
	xml = build(spec, &f);
	ok(has(xml, "<controller type='pci' index='1' model='pcie-root-port'/>")
	   && has(xml, "<controller type='pci' index='2' "
		       "model='pcie-root-port'/>"), "a root port per GPU");
	for (unsigned fn = 0; fn < 4; fn++) {
		char src[128], dst[128];

		snprintf(src, sizeof(src), "<address domain='0x0000' "
			 "bus='0x01' slot='0x00' function='0x%u'/>", fn);
		snprintf(dst, sizeof(dst), "<address type='pci' "
			 "domain='0x0000' bus='0x01' slot='0x00' "
			 "function='0x%u'%s/>", fn,
			 fn == 0 ? " multifunction='on'" : "");
		ok(has(xml, src) && has(xml, dst),
		   "function %u on the GPU's one guest slot", fn);
	}
	ok(has(xml, "<hostdev mode='subsystem' type='pci' managed='yes'>"),
	   "managed GPU: libvirt binds it");
	ok(has(xml, "<hostdev mode='subsystem' type='pci' managed='no'>"),
	   "unmanaged GPU: left as bound");
	ok(has(xml, "<alias name='ua-gpu0-fn0'/>\n      <rom "
		    "file='/roms/v.rom'/>") &&
	   strstr(strstr(xml, "<rom ") + 1, "<rom ") == NULL,
	   "one rom, on function 0");
	ok(has(xml, "<address type='pci' domain='0x0000' bus='0x02' "
		    "slot='0x00' function='0x0'/>"),
	   "a set without function 0 starts at guest function 0");
	ok(has(xml, "<model type='vga'/>") && lacks(xml, "qemu:override"),
	   "no x-vga: emulated VGA, no override");
	free(xml);

	spec->gpus[0].x_vga = true;
	xml = build(spec, &f);
	ok(has(xml, "<model type='none'/>"), "x-vga: no emulated VGA");
	ok(has(xml, "xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'")
	   && has(xml, "<qemu:device alias='ua-gpu0-fn0'>") &&
	   has(xml, "<qemu:property name='x-vga' type='bool' value='true'/>")
	   && lacks(xml, "ua-gpu1-fn0'>\n      <qemu:frontend>"),
	   "x-vga through qemu:override on that GPU's function 0");
	free(xml);

	f.n_gpus = 1;
	ok(build(spec, &f) == NULL, "unresolved GPUs refused");
	spec_free(spec);
}

static void test_firmware(void)
{
	struct vmctl_spec *uefi = load("name: u\nfirmware: uefi\n");
	struct vmctl_spec *bios = load("name: b\nfirmware: bios\n");
	struct libvirt_facts f;
	char *xml;

	if (uefi == NULL || bios == NULL) {
		ok(0, "firmware specs load");
		goto out;
	}
	f = facts_for(uefi);
	f.nvram_template = "/usr/share/OVMF/OVMF_VARS_4M.fd";
	xml = build(uefi, &f);
	ok(has(xml, "<loader readonly='yes' type='pflash'>"
		    "/usr/share/OVMF/OVMF_CODE_4M.fd</loader>") &&
	   has(xml, "<nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'>"
		    "/s/vms/x/OVMF_VARS.fd</nvram>"),
	   "UEFI: read-only code and the VM's own variables");
	free(xml);
	f.ovmf_code = NULL;
	ok(build(uefi, &f) == NULL, "UEFI without OVMF refused");

	f = facts_for(bios);
	xml = build(bios, &f);
	ok(lacks(xml, "<loader") && lacks(xml, "<nvram"),
	   "BIOS: no loader, no nvram");
	free(xml);
out:
	spec_free(uefi);
	spec_free(bios);
}

static void test_memory(void)
{
	struct vmctl_spec *huge = load(
		"name: h\nmemory: {size: 4G, hugepages: 1G}\n");
	struct vmctl_spec *plain = load("name: p\nmemory: 2G\n");
	struct vmctl_spec *nobal = load(
		"name: n\nmemory: {size: 2G, balloon: false, merge: false}\n");
	struct libvirt_facts f;
	char *xml;

	if (huge == NULL || plain == NULL || nobal == NULL) {
		ok(0, "memory specs load");
		goto out;
	}
	f = facts_for(huge);
	f.hugepage_size = 1ull << 30;
	xml = build(huge, &f);
	ok(has(xml, "<memory unit='MiB'>4096</memory>"), "size in MiB");
	ok(has(xml, "<memoryBacking>\n    <hugepages>\n      <page "
		    "size='1048576' unit='KiB'/>"), "1G hugepages");
	ok(has(xml, "<memballoon model='none'/>"),
	   "no balloon on hugepages");
	free(xml);
	f.hugepage_size = 0;
	ok(build(huge, &f) == NULL, "hugepages without a size refused");

	f = facts_for(plain);
	xml = build(plain, &f);
	ok(lacks(xml, "<memoryBacking>"), "ordinary memory: no backing");
	ok(has(xml, "<memballoon model='virtio' autodeflate='on'/>"),
	   "balloon, deflating on OOM");
	free(xml);

	f = facts_for(nobal);
	xml = build(nobal, &f);
	ok(has(xml, "<memballoon model='none'/>"), "balloon: false");
	ok(has(xml, "<nosharepages/>"), "merge: false");
	free(xml);
out:
	spec_free(huge);
	spec_free(plain);
	spec_free(nobal);
}

static void test_accel(void)
{
	struct vmctl_spec *spec = load(
		"name: a\nhyperv: true\nhide_hypervisor: true\n"
		"cpus: {sockets: 1, cores: 4, threads: 2}\n");
	struct libvirt_facts f;
	char *xml;

	if (spec == NULL) {
		ok(0, "accel spec loads");
		return;
	}
	f = facts_for(spec);
	f.accel = SPEC_ACCEL_KVM;
	xml = build(spec, &f);
	ok(has(xml, "<domain type='kvm'>"), "KVM: type kvm");
	ok(has(xml, "<cpu mode='host-passthrough' check='none'>"),
	   "KVM: host CPU");
	ok(has(xml, "<topology sockets='1' dies='1' cores='4' threads='2'/>")
	   && has(xml, "<vcpu placement='static'>8</vcpu>"), "topology");
	ok(has(xml, "<relaxed state='on'/>") &&
	   has(xml, "<spinlocks state='on' retries='8191'/>") &&
	   has(xml, "<timer name='hypervclock' present='yes'/>"),
	   "KVM: Hyper-V enlightenments and clock");
	ok(has(xml, "<vendor_id state='on' value='vmctlhidden0'/>") &&
	   has(xml, "<kvm>\n      <hidden state='on'/>"),
	   "hide_hypervisor: hidden KVM, vendor id");
	ok(lacks(xml, "<vcpupin") && lacks(xml, "<cputune"),
	   "no pinning in the XML");
	free(xml);

	f.accel = SPEC_ACCEL_TCG;
	xml = build(spec, &f);
	ok(has(xml, "<domain type='qemu'>"), "TCG: type qemu");
	ok(has(xml, "<cpu mode='maximum' check='none'>"), "TCG: max CPU");
	ok(lacks(xml, "<relaxed") && lacks(xml, "hypervclock"),
	   "TCG: no Hyper-V enlightenments");
	ok(has(xml, "<hidden state='on'/>"), "TCG: still hidden");
	free(xml);

	f.accel = SPEC_ACCEL_AUTO;
	ok(build(spec, &f) == NULL, "unresolved accelerator refused");
	spec_free(spec);
}

static void test_disks(void)
{
	struct vmctl_spec *spec = load(
		"name: d\ndisk: {image: /b.img, bus: scsi}\ncdrom: /i.iso\n"
		"network: {model: e1000e}\n");
	struct libvirt_facts f;
	char *xml;

	if (spec == NULL) {
		ok(0, "disk spec loads");
		return;
	}
	f = facts_for(spec);
	f.base_format = "raw";
	f.seed = "/s/vms/x/seed.iso";
	f.network = "lan";
	xml = build(spec, &f);
	ok(has(xml, "<backingStore type='file'>\n        <format type='raw'/>"
		    "\n        <source file='/s/images/base.qcow2'/>\n"
		    "        <backingStore/>"), "overlay over its base");
	ok(has(xml, "<target dev='sda' bus='scsi'/>") &&
	   has(xml, "<controller type='scsi' index='0' model='virtio-scsi'/>"),
	   "SCSI disk on virtio-scsi");
	ok(has(xml, "<disk type='file' device='disk'>\n"
		    "      <driver name='qemu' type='raw'/>\n"
		    "      <source file='/s/vms/x/seed.iso'/>\n"
		    "      <target dev='vda' bus='virtio'/>\n      <readonly/>") &&
	   has(xml, "<target dev='sdb' bus='sata'/>\n      <readonly/>\n"
		    "      <boot order='2'/>"),
	   "seed (a virtio disk: Debian's cloud kernel has no AHCI) and "
	   "cdrom: read-only, after the disk");
	ok(!has(xml, "<uuid>"), "no <uuid> unless the facts give one");
	free(xml);
	f.uuid = "0b6c4b1e-8e2a-4c3e-9a51-6f1f2d3c4b5a";
	xml = build(spec, &f);
	ok(has(xml, "  <name>d</name>\n  <uuid>0b6c4b1e-8e2a-4c3e-9a51-"
		    "6f1f2d3c4b5a</uuid>\n"), "the facts' <uuid> after <name>");
	ok(has(xml, "<source network='lan'/>") &&
	   has(xml, "<model type='e1000e'/>"), "network and NIC model");
	free(xml);
	spec_free(spec);
}

/* vmctl's mark: only with meta_created; escaped; read back. */
static void test_metadata(void)
{
	struct vmctl_spec *spec = load("name: m\n");
	struct libvirt_facts f = facts_for(spec);
	struct libvirt_meta m;
	char *xml = build(spec, &f);

	ok(xml && !has(xml, "<metadata>"), "no metadata without a created time");
	free(xml);
	f.meta_created = "1700000000";
	f.meta_image = "https://x/a&b.qcow2";
	f.meta_digest = "sha256:ab";
	xml = build(spec, &f);
	ok(has(xml, "<metadata>\n    <vmctl:vm xmlns:vmctl='"
	       "https://vmctl.dev/xmlns/vm/1'>\n      <vmctl:name>m</vmctl:name>"),
	   "the mark, in vmctl's namespace, after the name");
	ok(has(xml, "<vmctl:image>https://x/a&amp;b.qcow2</vmctl:image>"),
	   "the image escaped");
	ok(has(xml, "<vmctl:created>1700000000</vmctl:created>"), "created");
	free(xml);
	/* as virDomainGetMetadata returns it: no namespace */
	ok(libvirt_xml_meta_parse("<vm><name>m</name><image>a&amp;b</image>"
				  "<digest>sha256:ab</digest><created>17"
				  "</created></vm>", &m) == 0, "parsed");
	is_str(m.name, "m", "name");
	is_str(m.image, "a&b", "image");
	is_str(m.digest, "sha256:ab", "digest");
	ok(m.created == 17, "created");
	ok(!m.cdrom_once, "no boot: not cdrom-once");
	libvirt_meta_clear(&m);
	ok(libvirt_xml_meta_parse("<vm><boot>cdrom-once</boot></vm>", &m) == 0
	   && m.cdrom_once, "boot: cdrom-once");
	libvirt_meta_clear(&m);
	ok(libvirt_xml_meta_parse("<v:vm xmlns:v='" LIBVIRT_XML_NS "'><v:name>"
				  "n</v:name></v:vm>", &m) == 0 &&
	   m.name && strcmp(m.name, "n") == 0 && m.digest == NULL,
	   "with the namespace");
	libvirt_meta_clear(&m);
	ok(libvirt_xml_meta_parse("<v:vm xmlns:v='urn:other'/>", &m) < 0,
	   "another namespace is not vmctl's");
	ok(libvirt_xml_meta_parse("<other/>", &m) < 0, "another element");
	ok(libvirt_xml_meta_parse("<vm", &m) < 0, "not XML");
	spec_free(spec);
}

/* usb: a device by bus/port: a placeholder device number and the port in
 * vmctl's mark; without the mark (export), refused. */
static void test_usb_port(void)
{
	struct vmctl_spec *spec = load("name: u\nvnc: {enabled: false}\n"
				       "usb: [{id: \"046d:c52b\"}, "
				       "{bus: 3, port: \"1.2\"}]\n");
	struct libvirt_facts f = facts_for(spec);
	struct vmctl_error *err = NULL;
	char *xml = NULL;

	ok(libvirt_xml_build(spec, &f, &xml, &err) < 0 && err != NULL &&
	   err->status == VMCTL_EXIT_SPEC && strstr(err->message, "usb[1]: "
	   "a device by bus and port needs a domain vmctl defines") != NULL,
	   "without vmctl's mark: refused (65)");
	vmctl_error_free(err);
	free(xml);
	f.meta_created = "1700000000";
	xml = build(spec, &f);
	ok(has(xml, "<source>\n        <vendor id='0x046d'/>\n        "
		    "<product id='0xc52b'/>\n      </source>\n      "
		    "<alias name='ua-usb-host0'/>"), "by id: vendor and product");
	ok(has(xml, "<source>\n        <address bus='3' device='0'/>\n      "
		    "</source>\n      <alias name='ua-usb-host1'/>"),
	   "by port: bus 3, device 0 until a start finds the number");
	ok(has(xml, "<vmctl:usb index='1' bus='3' port='1.2'/>") &&
	   lacks(xml, "<vmctl:usb index='0'"), "the port in the mark");
	free(xml);
	spec_free(spec);
}

/* boot: cdrom-once: the CD-ROM at order 1, the disk at 2, both with the
 * user aliases the swap's qom-set names. */
static void test_cdrom_once(void)
{
	struct vmctl_spec *spec = load("name: c\ndisk: {image: /b.qcow2}\n"
				       "cdrom: /i.iso\nboot: cdrom-once\n");
	struct libvirt_facts f = facts_for(spec);
	char *xml;

	f.overlay = "/o.qcow2";
	f.base = "/b.qcow2";
	f.base_format = "qcow2";
	xml = build(spec, &f);
	ok(has(xml, "<target dev='vda' bus='virtio'/>\n      <boot order='2'/>"
		    "\n      <alias name='ua-disk0'/>"), "the disk second");
	ok(has(xml, "<readonly/>\n      <boot order='1'/>\n      "
		    "<alias name='ua-cdrom0'/>"), "the CD-ROM first");
	ok(lacks(xml, "<metadata>"), "no mark without a created time");
	free(xml);
	f.meta_created = "1700000000";
	xml = build(spec, &f);
	ok(has(xml, "<vmctl:boot>cdrom-once</vmctl:boot>"), "the mark says "
	   "cdrom-once (status)");
	free(xml);
	spec->boot = SPEC_BOOT_DISK;
	xml = build(spec, &f);
	ok(has(xml, "<boot order='1'/>\n      <alias name='ua-disk0'/>") &&
	   has(xml, "<boot order='2'/>\n      <alias name='ua-cdrom0'/>"),
	   "boot: disk: the disk first");
	free(xml);
	spec_free(spec);
}

int main(void)
{
	test_metadata();
	test_escape();
	test_hostile_strings();
	test_gpu_slot();
	test_firmware();
	test_memory();
	test_accel();
	test_disks();
	test_usb_port();
	test_cdrom_once();
	return tap_done();
}
