// SPDX-License-Identifier: GPL-2.0-or-later
/* libvirt node device XML (lvnodedev.c) against fixtures in
 * tests/fixtures/nodedev/, the host built from them and its GPU verdict;
 * the pure URI helpers of lvconn.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmctl/fsutil.h"
#include "vmctl/gpu.h"
#include "vmctl/lvconn.h"
#include "vmctl/lvnodedev.h"
#include "vmctl/xalloc.h"

#define FIXTURES "tests/fixtures/nodedev/"

/* Parse a fixture; 0 or -1, the error's message in *msg. */
static int parse(const char *name, struct lvnodedev_pci *dev, char **msg)
{
	cleanup_free char *path = xasprintf(FIXTURES "%s", name);
	cleanup_free char *text = NULL;
	struct vmctl_error *err = NULL;
	size_t len;
	int ret;

	*msg = NULL;
	if (fs_read_file(path, 1 << 20, &text, &len, 1, &err) < 0) {
		*msg = xstrdup(err->message);
		vmctl_error_free(err);
		return -1;
	}
	ret = lvnodedev_parse_pci(name, text, len, dev, &err);
	if (ret < 0) {
		*msg = xstrdup(err->message);
		vmctl_error_free(err);
	}
	return ret;
}

static void test_gpu(void)
{
	struct lvnodedev_pci d;
	char a[PCI_ADDR_STRLEN];
	char *msg;
	int rc = parse("gpu-vga.xml", &d, &msg);

	ok(rc == 0, "gpu-vga parses %s", msg ? msg : "");
	is_str(pci_addr_format(&d.fn.addr, a), "0000:01:00.0", "address");
	ok(d.fn.vendor_id == 0x10de && d.fn.device_id == 0x2684, "ids");
	ok(d.fn.class_code == 0x030000, "class with prog-if");
	is_str(d.fn.driver, "nvidia", "driver");
	is_str(d.fn.vendor_name, "NVIDIA Corporation", "vendor name");
	is_str(d.fn.device_name, "AD102 [GeForce RTX 4090]", "device name");
	ok(d.fn.class_name == NULL, "no class name from libvirt");
	ok(d.fn.iommu_group == 12 && d.n_group == 2, "group 12, 2 members");
	ok(d.n_group == 2 && d.group[1].func == 1, "the audio function");
	ok(d.fn.numa_node == 0, "NUMA node 0");
	ok(d.fn.has_parent && d.fn.parent.dev == 1, "parent 00:01.0");
	ok(!d.fn.bridge, "no bridge");
	ok(d.fn.boot_vga == -1 && d.fn.reset_method == NULL &&
	   d.fn.driver_override == NULL && d.fn.subsys_vendor_id == 0,
	   "what libvirt does not tell is unknown");
	ok(d.fn.detailed, "detailed");
	lvnodedev_pci_clear(&d);
	free(msg);

	ok(parse("gpu-audio.xml", &d, &msg) == 0, "gpu-audio parses");
	ok(d.fn.driver == NULL, "no driver");
	ok(d.fn.class_code == 0x040300, "audio class");
	lvnodedev_pci_clear(&d);
	free(msg);

	ok(parse("root-port.xml", &d, &msg) == 0, "root-port parses");
	ok(d.fn.bridge, "pci-bridge capability");
	ok(!d.fn.has_parent, "parent \"computer\" is no PCI function");
	is_str(d.fn.driver, "pcieport", "pcieport");
	lvnodedev_pci_clear(&d);
	free(msg);

	ok(parse("no-iommu.xml", &d, &msg) == 0, "no-iommu parses");
	ok(d.fn.iommu_group == -1 && d.n_group == 0, "no group");
	ok(d.fn.numa_node == -1, "no NUMA node");
	ok(d.fn.device_name == NULL, "empty product: no name");
	lvnodedev_pci_clear(&d);
	free(msg);

	rc = parse("not-pci.xml", &d, &msg);
	ok(rc < 0 && msg && strstr(msg, "no pci capability") != NULL,
	   "a net device: %s", msg ? msg : "");
	free(msg);
}

static void test_bad(void)
{
	static const char *const bad[] = {
		"", "<device>", "<nodedev/>", "not xml at all",
		"<device><capability type='pci'><domain>0</domain><bus>1</bus>"
		"<slot>0</slot><function>9</function></capability></device>",
		"<device><capability type='pci'><domain>0</domain><bus>1</bus>"
		"<slot>0</slot><function>0</function><vendor id='0x10de'/>"
		"<product id='0x1'/></capability></device>",
		"<device><capability type='pci'><domain>0</domain><bus>1</bus>"
		"<slot>0</slot><function>0</function><vendor id='0x10de'/>"
		"<product id='0x1'/><class>0x030000</class><iommuGroup>"
		"</iommuGroup></capability></device>",
		"<device><capability type='pci'><domain>0</domain><bus>-1</bus>"
		"<slot>0</slot><function>0</function></capability></device>",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct lvnodedev_pci d;
		struct vmctl_error *err = NULL;

		ok(lvnodedev_parse_pci("bad", bad[i], strlen(bad[i]), &d,
				       &err) < 0 && err != NULL &&
		   strchr(err->message, '\n') == NULL,
		   "refused, one line: %.40s", bad[i]);
		if (err)
			printf("#   %s\n", err->message);
		vmctl_error_free(err);
	}
}

/* The GPU and its audio function in one group, behind a root port:
 * gpu_list_build() says bindable (nvidia, and the audio on no driver). */
static void test_host(void)
{
	static const char *const files[] = {
		"gpu-audio.xml", "root-port.xml", "gpu-vga.xml",
		"no-iommu.xml",
	};
	struct lvnodedev_pci devs[4];
	struct pci_host host;
	struct gpu_list list = { 0 };
	char *msg;

	for (size_t i = 0; i < 4; i++) {
		ok(parse(files[i], &devs[i], &msg) == 0, "parse %s", files[i]);
		free(msg);
	}
	lvnodedev_host_build(devs, 4, &host);
	ok(host.n == 4, "4 functions");
	ok(host.n == 4 && host.fns[0].addr.bus == 0 &&
	   host.fns[3].addr.func == 1, "sorted by address");
	ok(host.iommu && host.n_groups == 2, "2 groups");
	ok(host.n_extras == 1 && strcmp(host.extras[0].name,
					"0000:00:01.1") == 0,
	   "a group member libvirt lists but no device: an extra");
	gpu_list_build(&host, &list);
	ok(list.n == 1, "one GPU");
	if (list.n == 1) {
		ok(list.v[0].n_slot == 2, "GPU and audio in its slot");
		is_str(gpu_verdict_name(list.v[0].verdict), "bindable",
		       "verdict");
	}
	gpu_list_clear(&list);
	pci_host_clear(&host);
}

static void test_uri(void)
{
	static const struct {
		const char *in, *out;
	} bounded[] = {
		{ "qemu+ssh://root@h/system", "qemu+ssh://root@h/system?no_tty=1" },
		{ "qemu+ssh://h/system?keyfile=/k",
		  "qemu+ssh://h/system?keyfile=/k&no_tty=1" },
		{ "qemu+ssh://h/system?no_tty=0", "qemu+ssh://h/system?no_tty=0" },
		{ "qemu+ssh://h/system?a=1&no_tty=0",
		  "qemu+ssh://h/system?a=1&no_tty=0" },
		{ "qemu:///system", "qemu:///system" },
		{ "qemu+tls://h/system", "qemu+tls://h/system" },
	};
	static const struct {
		const char *uri, *host;
		unsigned port;
	} ends[] = {
		{ "qemu+ssh://nobody@192.0.2.1/system", "192.0.2.1", 22 },
		{ "qemu+ssh://u@h.lab:2222/system", "h.lab", 2222 },
		{ "qemu+tcp://h/system", "h", 16509 },
		{ "qemu://h/system", "h", 16514 },
		{ "qemu+libssh2://[2001:db8::1]:23/system", "2001:db8::1", 23 },
		{ "qemu+ssh://a@b@h/system", "h", 22 },
	};
	static const char *const local[] = {
		"qemu:///system", "qemu+unix:///system", "test:///default",
		"qemu+ext://h/system?command=/bin/x", "not a uri",
	};
	char *s, *host = NULL;
	unsigned port = 0;

	for (size_t i = 0; i < sizeof(bounded) / sizeof(bounded[0]); i++) {
		s = lvconn_uri_bounded(bounded[i].in);
		is_str(s, bounded[i].out, "bounded %s", bounded[i].in);
		free(s);
	}
	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		bool found = lvconn_uri_endpoint(ends[i].uri, &host, &port);

		ok(found && strcmp(host, ends[i].host) == 0 &&
		   port == ends[i].port, "endpoint of %s: %s %u", ends[i].uri, host ? host : "-",
		   port);
		free(host);
	}
	for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++) {
		bool found = lvconn_uri_endpoint(local[i], &host, &port);

		ok(!found && host == NULL, "no endpoint: %s", local[i]);
		free(host);
	}
}

/* A fixture's text (the test fails without it). */
static char *fixture(const char *name)
{
	cleanup_free char *path = xasprintf(FIXTURES "%s", name);
	struct vmctl_error *err = NULL;
	char *text = NULL;
	size_t len;

	if (fs_read_file(path, 1 << 20, &text, &len, 1, &err) < 0) {
		ok(0, "read %s: %s", name, err->message);
		vmctl_error_free(err);
		return xstrdup("");
	}
	return text;
}

static void test_usb_parse(void)
{
	struct lvnodedev_usb d;
	char *x = fixture("usb-3-1.2.xml");

	ok(lvnodedev_parse_usb(x, strlen(x), &d) == 0, "usb_device parses");
	ok(d.bus == 3 && d.device == 5, "bus 3 device 5");
	is_str(d.port, "1.2", "port from the sysfs path's 3-1.2");
	ok(d.vendor_id == 0x046d && d.product_id == 0xc52b, "ids");
	lvnodedev_usb_clear(&d);
	free(x);
	x = fixture("usb-root-hub.xml");
	ok(lvnodedev_parse_usb(x, strlen(x), &d) == 0 && d.bus == 3 &&
	   d.device == 1 && d.port == NULL, "a root hub has no port");
	lvnodedev_usb_clear(&d);
	free(x);
	x = fixture("usb-interface.xml");
	ok(lvnodedev_parse_usb(x, strlen(x), &d) == -1 && d.port == NULL,
	   "an interface (capability usb) is no usb_device");
	free(x);
	x = fixture("gpu-vga.xml");
	ok(lvnodedev_parse_usb(x, strlen(x), &d) == -1, "a PCI device is not");
	free(x);
	ok(lvnodedev_parse_usb("<device>", 8, &d) == -1, "bad XML");
}

/* lvnodedev_usb_resolve over fixtures; the error's message in *msg. */
static int resolve(const char *const *names, size_t n,
		   const struct lvnodedev_usb_port *ports, size_t n_ports,
		   unsigned *devices, int *code, char **msg)
{
	char *docs[8] = { 0 };
	struct vmctl_error *err = NULL;
	int ret;

	for (size_t i = 0; i < n; i++)
		docs[i] = fixture(names[i]);
	*msg = NULL;
	*code = 0;
	ret = lvnodedev_usb_resolve((const char *const *)docs, n, ports,
				    n_ports, "qemu+ssh://h1/system", devices,
				    &err);
	if (ret < 0) {
		*msg = xstrdup(err->message);
		*code = err->status;
		vmctl_error_free(err);
	}
	for (size_t i = 0; i < n; i++)
		free(docs[i]);
	return ret;
}

static void test_usb_resolve(void)
{
	const char *host[] = { "usb-root-hub.xml", "usb-interface.xml",
			       "usb-1-1.2.xml", "usb-3-1.2.xml",
			       "gpu-vga.xml" };
	const char *replugged[] = { "usb-1-1.2.xml",
				    "usb-3-1.2-replugged.xml" };
	struct lvnodedev_usb_port ports[] = {
		{ .index = 0, .bus = 3, .port = (char *)"1.2" },
		{ .index = 1, .bus = 1, .port = (char *)"1.2" },
	};
	struct lvnodedev_usb_port dup[] = {
		{ .index = 0, .bus = 3, .port = (char *)"1.2" },
		{ .index = 2, .bus = 3, .port = (char *)"1.2" },
	};
	struct lvnodedev_usb_port empty[] = {
		{ .index = 4, .bus = 3, .port = (char *)"2" },
	};
	unsigned dev[2] = { 0 };
	char *msg = NULL;
	int code = 0;

	ok(resolve(host, 5, ports, 2, dev, &code, &msg) == 0, "resolves %s",
	   msg ? msg : "");
	ok(dev[0] == 5 && dev[1] == 7, "bus 3 port 1.2 is device 5, bus 1 "
	   "port 1.2 device 7 (%u, %u)", dev[0], dev[1]);
	ok(resolve(replugged, 2, ports, 1, dev, &code, &msg) == 0 &&
	   dev[0] == 11, "re-plugged: the port's new device number 11");
	ok(resolve(host, 5, empty, 1, dev, &code, &msg) == -1 &&
	   code == VMCTL_EXIT_UNAVAILABLE, "nothing at bus 3 port 2: 69");
	is_str(msg, "qemu+ssh://h1/system: usb[4]: nothing plugged in at "
	       "bus 3 port 2 on that host", "one line naming port and host");
	free(msg);
	ok(resolve(host, 0, ports, 1, dev, &code, &msg) == -1 &&
	   code == VMCTL_EXIT_UNAVAILABLE, "a host without USB devices: 69");
	free(msg);
	ok(resolve(host, 5, dup, 2, dev, &code, &msg) == -1 &&
	   code == VMCTL_EXIT_SPEC, "one port twice: 65");
	is_str(msg, "qemu+ssh://h1/system: usb[2]: bus 3 port 1.2 is usb[0] "
	       "already", "names both entries");
	free(msg);
}

static void test_usb_domain(void)
{
	char *x = fixture("domain-usb-port.xml");
	struct lvnodedev_usb_port *ports = NULL;
	unsigned devs[2] = { 5, 7 }, again[2];
	size_t n = 0, n2 = 0;
	char *out = NULL, *out2 = NULL;

	ok(lvnodedev_domain_usb_ports(x, strlen(x), &ports, &n) == 0 && n == 2,
	   "the mark lists two ports");
	ok(n == 2 && ports[0].index == 1 && ports[0].bus == 3 &&
	   strcmp(ports[0].port, "1.2") == 0 && ports[1].index == 2 &&
	   ports[1].bus == 1, "index, bus and port of each");
	ok(lvnodedev_domain_usb_set(x, strlen(x), ports, devs, n, &out) == 1,
	   "the placeholder device 0 changes");
	ok(out != NULL && strstr(out, "<address bus=\"3\" device=\"5\"/>") &&
	   strstr(out, "<address bus=\"1\" device=\"7\"/>") &&
	   strstr(out, "<vendor id=\"0x046d\"/>"),
	   "usb-host1 at 3/5, usb-host2 at 1/7, the one by id untouched");
	ok(out != NULL && strstr(out, "vmctl:usb") != NULL,
	   "the mark stays in the new definition");
	ok(out != NULL && lvnodedev_domain_usb_set(out, strlen(out), ports,
						   devs, n, &out2) == 0 &&
	   out2 == NULL, "set again: nothing to change");
	again[0] = 11;
	again[1] = 7;
	free(out2);
	ok(out != NULL && lvnodedev_domain_usb_set(out, strlen(out), ports,
						   again, n, &out2) == 1 &&
	   strstr(out2, "<address bus=\"3\" device=\"11\"/>") != NULL,
	   "re-plugged: device 11");
	free(out2);
	ports[0].index = 5;
	ok(lvnodedev_domain_usb_set(x, strlen(x), ports, devs, n, &out2) == -1,
	   "a port without its hostdev: -1");
	lvnodedev_usb_ports_free(ports, n);
	free(out);
	free(x);
	ok(lvnodedev_domain_usb_ports("<domain/>", 9, &ports, &n2) == 0 &&
	   n2 == 0 && ports == NULL, "a domain without the mark: none");
	x = fixture("gpu-vga.xml");
	ok(lvnodedev_domain_usb_ports(x, strlen(x), &ports, &n2) == -1,
	   "not a domain");
	free(x);
}

int main(void)
{
	test_gpu();
	test_bad();
	test_host();
	test_uri();
	test_usb_parse();
	test_usb_resolve();
	test_usb_domain();
	return tap_done();
}
