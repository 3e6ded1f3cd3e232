// SPDX-License-Identifier: GPL-2.0-or-later
/* Host USB devices (usb.c): value syntax, the sysfs reader on a fake
 * tree, matching a spec's entries, QEMU's words, libvirt's refusal; and
 * the broker's USB claims (broker.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "vmctl/broker.h"
#include "vmctl/fsutil.h"
#include "vmctl/usb.h"
#include "vmctl/xalloc.h"

static void test_syntax(void)
{
	static const char *const good[] = { "1", "1.2", "1.2.3", "31",
					    "1.2.3.4.5.6.7", "10.4" };
	static const char *const bad[] = { "", "0", "1.", ".1", "1..2",
					   "01", "1.02", "32", "1.2.3.4.5.6.7.8",
					   "1,2", "1 2", "a", "1000", "1.-2" };
	unsigned v, p;

	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
		ok(usb_port_valid(good[i]), "port \"%s\" valid", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		ok(!usb_port_valid(bad[i]), "port \"%s\" refused", bad[i]);
	ok(usb_parse_id("046d:C52B", &v, &p) && v == 0x046d && p == 0xc52b,
	   "id 046d:C52B");
	ok(!usb_parse_id("46d:c52b", &v, &p) &&
	   !usb_parse_id("046d:c52bb", &v, &p) &&
	   !usb_parse_id("046dxc52b", &v, &p) &&
	   !usb_parse_id("046g:c52b", &v, &p) && !usb_parse_id("", &v, &p),
	   "bad ids refused");
}

/* A fake SYSFS/bus/usb/devices entry. */
static void fake_dev(const char *root, const char *name, const char *vid,
		     const char *pid, const char *bus, const char *devnum,
		     const char *port, const char *product)
{
	cleanup_free char *dir = xasprintf("%s/bus/usb/devices/%s", root,
					   name);
	const char *attrs[][2] = {
		{ "idVendor", vid }, { "idProduct", pid }, { "busnum", bus },
		{ "devnum", devnum }, { "devpath", port },
		{ "product", product },
	};

	fs_mkdir_p(dir, 0755, NULL);
	for (size_t i = 0; i < sizeof(attrs) / sizeof(*attrs); i++) {
		cleanup_free char *f = NULL;
		FILE *fp;

		if (attrs[i][1] == NULL)
			continue;
		f = xasprintf("%s/%s", dir, attrs[i][0]);
		fp = fopen(f, "w");
		if (fp != NULL) {
			fprintf(fp, "%s\n", attrs[i][1]);
			fclose(fp);
		}
	}
}

static struct vmctl_spec *spec_with(size_t n, const struct spec_usb *u)
{
	struct vmctl_spec *s = xcalloc(1, sizeof(*s));

	s->usb = xcalloc(n, sizeof(*s->usb));
	for (size_t i = 0; i < n; i++) {
		s->usb[i] = u[i];
		s->usb[i].port = u[i].port ? xstrdup(u[i].port) : NULL;
	}
	s->n_usb = n;
	return s;
}

static char *resolve_err(const struct vmctl_spec *s,
			 const struct usb_host *h, size_t **idx, int *status)
{
	struct vmctl_error *e = NULL;
	char *msg = NULL;

	*idx = NULL;
	*status = 0;
	if (usb_resolve(s, h, idx, &e) < 0) {
		msg = xstrdup(e->message);
		*status = e->status;
		vmctl_error_free(e);
	}
	return msg;
}

static void test_host(void)
{
	char tmpl[] = "/tmp/vmctl-test-usb.XXXXXX";
	char *root = mkdtemp(tmpl);
	struct vmctl_env env = { 0 };
	struct usb_host h = { 0 };
	struct vmctl_error *e = NULL;
	size_t *idx;
	int status;
	char *msg;

	if (root == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	env.sysfs = root;
	ok(usb_host_read(&env, &h, &e) == 0 && h.n == 0,
	   "no bus/usb: no devices");
	fake_dev(root, "usb1", "1d6b", "0002", "1", "1", "0", "xHCI Host");
	fake_dev(root, "1-2", "046d", "c52b", "1", "3", "2", "USB Receiver");
	fake_dev(root, "1-2:1.0", NULL, NULL, NULL, NULL, NULL, NULL);
	fake_dev(root, "3-1.2", "046d", "c52b", "3", "7", "1.2", NULL);
	fake_dev(root, "3-1.4", "0781", "5581", "3", "9", "1.4", "Ultra");
	fake_dev(root, "3-1.5", "0781", "zz", "3", "9", "1.5", "broken");
	ok(usb_host_read(&env, &h, &e) == 0 && h.n == 3,
	   "three devices (no root hub, interface, or unreadable one): %zu",
	   h.n);
	if (h.n != 3)
		goto out;
	is_str(h.v[1].name, "3-1.2", "sorted by name");
	ok(h.v[1].bus == 3 && h.v[1].devnum == 7 &&
	   strcmp(h.v[1].port, "1.2") == 0 && h.v[1].product == NULL,
	   "bus, devnum, port read");
	{
		cleanup_free char *d = usb_device_describe(&h.v[0]);

		is_str(d, "bus 1 port 2 (046d:c52b USB Receiver)", "described");
	}
	{
		const struct spec_usb u[] = {
			{ .vendor_id = 0x0781, .product_id = 0x5581 },
			{ .bus = 1, .port = "2" },
		};
		struct vmctl_spec *s = spec_with(2, u);

		msg = resolve_err(s, &h, &idx, &status);
		ok(msg == NULL && idx[0] == 2 && idx[1] == 0,
		   "by id and by bus/port: %s", msg ? msg : "");
		free(idx);
		free(msg);
		spec_free(s);
	}
	{
		const struct spec_usb u[] = {
			{ .vendor_id = 0x046d, .product_id = 0xc52b } };
		struct vmctl_spec *s = spec_with(1, u);

		msg = resolve_err(s, &h, &idx, &status);
		is_str(msg, "usb[0]: 2 USB devices are 046d:c52b: bus 1 port 2 "
		       "(046d:c52b USB Receiver) and bus 3 port 1.2 "
		       "(046d:c52b); name one by where it is plugged in, e.g. "
		       "{bus: 1, port: \"2\"}", "ambiguous id names both");
		ok(status == VMCTL_EXIT_SPEC, "ambiguous: 65");
		free(msg);
		spec_free(s);
	}
	{
		const struct spec_usb u[] = {
			{ .vendor_id = 0x1234, .product_id = 0x5678 },
			{ .bus = 3, .port = "1.3" } };
		struct vmctl_spec *s = spec_with(2, u);

		msg = resolve_err(s, &h, &idx, &status);
		is_str(msg, "usb[0]: no USB device 1234:5678 on this host",
		       "absent id");
		ok(status == VMCTL_EXIT_UNAVAILABLE, "absent: 69");
		free(msg);
		s->usb[0] = (struct spec_usb){ .vendor_id = 0x0781,
					       .product_id = 0x5581 };
		msg = resolve_err(s, &h, &idx, &status);
		is_str(msg, "usb[1]: no USB device at bus 3 port 1.3 on this "
		       "host", "absent port");
		free(msg);
		spec_free(s);
	}
	{
		const struct spec_usb u[] = {
			{ .vendor_id = 0x0781, .product_id = 0x5581 },
			{ .bus = 3, .port = "1.4" } };
		struct vmctl_spec *s = spec_with(2, u);

		msg = resolve_err(s, &h, &idx, &status);
		is_str(msg, "usb[1]: bus 3 port 1.4 (0781:5581 Ultra) is "
		       "usb[0] already", "one device twice");
		free(msg);
		spec_free(s);
	}
out:
	vmctl_error_free(e);
	usb_host_clear(&h);
	fs_remove_tree(root, NULL);
}

static void test_words(void)
{
	const struct spec_usb u[] = {
		{ .vendor_id = 0x046d, .product_id = 0xc52b },
		{ .bus = 3, .port = "1.2" } };
	struct vmctl_spec *s = spec_with(2, u);
	struct strv argv = { 0 };
	struct vmctl_error *e = NULL;
	cleanup_free char *joined = NULL;

	usb_qemu_args(s, &argv);
	joined = strv_join(&argv, " ");
	is_str(joined, "-device usb-host,bus=usb0.0,vendorid=0x046d,"
	       "productid=0xc52b,id=usb-host0 -device usb-host,bus=usb0.0,"
	       "hostbus=3,hostport=1.2,id=usb-host1", "QEMU's words");
	ok(usb_libvirt_check(s, &e) < 0 && e->status == VMCTL_EXIT_SPEC &&
	   strstr(e->message, "usb[1]: a device by bus and port") != NULL,
	   "libvirt refuses bus/port: %s", e ? e->message : "");
	vmctl_error_free(e);
	e = NULL;
	s->n_usb = 1;
	ok(usb_libvirt_check(s, &e) == 0, "libvirt takes an id");
	s->n_usb = 2;
	strv_clear(&argv);
	spec_free(s);
}

static void test_broker(void)
{
	struct hostinv inv = { .mem_total = 64 * (UINT64_C(1) << 30) };
	struct broker_claims held = { 0 };
	struct broker_plan plan = { .node = -1 };
	struct vmctl_error *e = NULL;
	const char *want[] = { "3-1.2", "1-2" };
	const char *what[] = { "bus 3 port 1.2 (046d:c52b)", "bus 1 port 2" };
	struct broker_request req = {
		.vm = "b", .memory = UINT64_C(1) << 30, .usb = want,
		.usb_what = what, .n_usb = 2,
	};
	struct broker_claim *a = broker_claims_add(&held, "a");

	strv_push(&a->usb, "3-1.2");
	ok(broker_plan(&inv, &held, &req, &plan, &e) < 0 && e &&
	   strcmp(e->message, "USB device bus 3 port 1.2 (046d:c52b) is in "
		  "use by VM \"a\"") == 0,
	   "a device another VM holds: %s", e ? e->message : "");
	vmctl_error_free(e);
	e = NULL;
	req.vm = "a";   /* its own (stale) claim does not count */
	ok(broker_plan(&inv, &held, &req, &plan, &e) == 0 &&
	   plan.claim.usb.n == 2 &&
	   strcmp(plan.claim.usb.v[1], "1-2") == 0, "claimed: both");
	ok(broker_usb_holder(&held, "3-1.2", NULL) == &held.v[0] &&
	   broker_usb_holder(&held, "1-2", NULL) == NULL, "holder");
	vmctl_error_free(e);
	broker_plan_clear(&plan);
	broker_claims_clear(&held);
}

int main(void)
{
	test_syntax();
	test_host();
	test_words();
	test_broker();
	return tap_done();
}
