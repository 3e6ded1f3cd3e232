// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The spec's keys of the guest's devices (spec-walk.h): network (ports,
 * forwards), vnc, gpu, usb.  Pure.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/spec-walk.h"
#include "vmctl/suggest.h"
#include "vmctl/usb.h"
#include "vmctl/xalloc.h"

/* QEMU takes all forwards in one option string, and Linux caps a single
 * argument at 128 KiB: a few hundred is far more than any VM needs. */
#define SPEC_MAX_FORWARDS 256

static int set_nic_model(struct walker *w, const struct node *n,
			 const char *path, void *target)
{
	static const char *const names[] = { "virtio", "e1000e", NULL };
	int v;

	if (sw_get_enum(w, n, path, names, &v) < 0)
		return -1;
	*(enum spec_nic_model *)target = (enum spec_nic_model)v;
	return 0;
}

static int set_address(struct walker *w, const struct node *n,
		       const char *path, void *target)
{
	char **out = target;
	const char *s;
	unsigned char buf[sizeof(struct in6_addr)];

	if (sw_get_string(w, n, path, &s) < 0)
		return -1;
	if (inet_pton(AF_INET, s, buf) != 1 && inet_pton(AF_INET6, s, buf) != 1) {
		cleanup_free char *v = sw_shown(s);
		return sw_fail(w, n, path, "expected an IPv4 or IPv6 address, got "
			    "%s", v);
	}
	free(*out);
	*out = xstrdup(s);
	return 0;
}

static int set_ipv4(struct walker *w, const struct node *n, const char *path,
		    void *target)
{
	struct in_addr a;

	if (n->kind == NODE_SCALAR && inet_pton(AF_INET, n->text, &a) != 1) {
		cleanup_free char *v = sw_shown(n->text);
		return sw_fail(w, n, path, "expected an IPv4 address, got %s", v);
	}
	return set_address(w, n, path, target);
}

static int set_ssh_port(struct walker *w, const struct node *n,
			const char *path, void *target)
{
	unsigned long v;

	w->at_ssh_port = n;
	if (n->kind == NODE_SCALAR && strcmp(n->text, "auto") == 0) {
		*(unsigned *)target = 0;
		return 0;
	}
	if (n->kind == NODE_SCALAR && !n->quoted &&
	    strspn(n->text, "0123456789") != strlen(n->text)) {
		cleanup_free char *s = sw_shown(n->text);
		return sw_fail(w, n, path, "expected a port number or \"auto\", "
			    "got %s", s);
	}
	if (sw_get_uint(w, n, path, 1, 65535, &v) < 0)
		return -1;
	*(unsigned *)target = (unsigned)v;
	return 0;
}

/* "tcp:8080:80", "udp:5353:53" or "tcp:127.0.0.1:8080:80". */
static int parse_forward(const char *s, struct spec_forward *f)
{
	cleanup_free char *copy = xstrdup(s);
	char *parts[4], *p = copy, *end;
	size_t n = 0;
	unsigned long port;
	unsigned char buf[sizeof(struct in_addr)];

	/* Split on every ':' (no field may be empty). */
	for (;;) {
		if (n == 4)
			return -1;
		parts[n++] = p;
		p = strchr(p, ':');
		if (p == NULL)
			break;
		*p++ = '\0';
	}
	if (n < 3)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (*parts[i] == '\0')
			return -1;
	if (strcmp(parts[0], "tcp") != 0 && strcmp(parts[0], "udp") != 0)
		return -1;
	if (n == 4 && inet_pton(AF_INET, parts[1], buf) != 1)
		return -1;
	for (size_t i = n - 2; i < n; i++) {
		errno = 0;
		port = strtoul(parts[i], &end, 10);
		if (errno || *end || !isdigit((unsigned char)*parts[i]) ||
		    port < 1 || port > 65535)
			return -1;
		if (i == n - 2)
			f->host_port = (unsigned)port;
		else
			f->guest_port = (unsigned)port;
	}
	f->proto = xstrdup(parts[0]);
	f->host_addr = xstrdup(n == 4 ? parts[1] : "");
	return 0;
}

static int set_forwards(struct walker *w, const struct node *n,
			const char *path, void *target)
{
	struct spec_network *net =
		container_of(target, struct spec_network, forwards);

	w->at_forwards = n;
	if (n->kind != NODE_SEQ)
		return sw_fail(w, n, path, "expected a list like "
			    "[\"tcp:8080:80\"], got %s", node_kind_name(n));
	if (n->n > SPEC_MAX_FORWARDS)
		return sw_fail(w, n->items[SPEC_MAX_FORWARDS], path, "more than "
			    "%d forwards", SPEC_MAX_FORWARDS);
	for (size_t i = 0; i < n->n; i++) {
		cleanup_free char *sub = xasprintf("%s[%zu]", path, i);
		struct spec_forward f = { 0 };
		const char *s;

		if (sw_get_string(w, n->items[i], sub, &s) < 0)
			return -1;
		if (parse_forward(s, &f) < 0) {
			cleanup_free char *v = sw_shown(s);
			return sw_fail(w, n->items[i], sub, "invalid forward %s "
				    "(PROTO:[ADDR:]HOSTPORT:GUESTPORT, e.g. "
				    "\"tcp:8080:80\")", v);
		}
		for (size_t j = 0; j < net->n_forwards; j++) {
			if (net->forwards[j].host_port == f.host_port &&
			    strcmp(net->forwards[j].proto, f.proto) == 0) {
				sw_fail(w, n->items[i], sub, "host port %s/%u is "
				     "already forwarded by %s[%zu]", f.proto,
				     f.host_port, path, j);
				free(f.proto);
				free(f.host_addr);
				return -1;
			}
		}
		net->forwards = xreallocarray(net->forwards,
					      net->n_forwards + 1,
					      sizeof(*net->forwards));
		net->forwards[net->n_forwards++] = f;
	}
	return 0;
}

int sk_set_network(struct walker *w, const struct node *n,
		       const char *path, void *target)
{
	typedef struct spec_network net_t;
	static const struct key keys[] = {
		KEY("ssh_port", set_ssh_port, net_t, ssh_port),
		KEY("ssh_listen", set_ipv4, net_t, ssh_listen),
		KEY("model", set_nic_model, net_t, model),
		KEY("forwards", set_forwards, net_t, forwards),
		{ NULL, NULL, 0 },
	};

	return sw_walk_map(w, n, path, keys, target);
}

static int set_display(struct walker *w, const struct node *n,
		       const char *path, void *target)
{
	unsigned long v;

	if (n->kind == NODE_SCALAR && strcmp(n->text, "auto") == 0) {
		*(int *)target = -1;
		return 0;
	}
	if (n->kind == NODE_SCALAR && !n->quoted &&
	    strspn(n->text, "0123456789") != strlen(n->text)) {
		cleanup_free char *s = sw_shown(n->text);
		return sw_fail(w, n, path, "expected a display number (0 to 99) "
			    "or \"auto\", got %s", s);
	}
	if (sw_get_uint(w, n, path, 0, 99, &v) < 0)
		return -1;
	*(int *)target = (int)v;
	return 0;
}

static int set_vnc_listen(struct walker *w, const struct node *n,
			  const char *path, void *target)
{
	w->at_vnc_listen = n;
	return set_address(w, n, path, target);
}

static int set_vnc_display(struct walker *w, const struct node *n,
			   const char *path, void *target)
{
	w->at_vnc_display = n;
	return set_display(w, n, path, target);
}

static int set_vnc_password(struct walker *w, const struct node *n,
			    const char *path, void *target)
{
	w->at_vnc_password = n;
	return sw_get_bool(w, n, path, target);
}

int sk_set_vnc(struct walker *w, const struct node *n, const char *path,
		   void *target)
{
	typedef struct spec_vnc vnc_t;
	static const struct key keys[] = {
		KEY("enabled", sw_set_bool, vnc_t, enabled),
		KEY("listen", set_vnc_listen, vnc_t, listen),
		KEY("display", set_vnc_display, vnc_t, display),
		KEY("password", set_vnc_password, vnc_t, password),
		{ NULL, NULL, 0 },
	};
	vnc_t *vnc = target;

	if (sw_is_bool_literal(n))
		return sw_get_bool(w, n, path, &vnc->enabled);
	if (n->kind != NODE_MAP)
		return sw_fail(w, n, path, "expected a mapping or true/false, "
			    "got %s", node_kind_name(n));
	return sw_walk_map(w, n, path, keys, vnc);
}

static int set_gpu_vendor(struct walker *w, const struct node *n,
			  const char *path, void *target)
{
	static const char *const vendors[] = { "NVIDIA", "AMD", "Intel", NULL };
	const char *s, *hint;
	cleanup_free char *v = NULL;

	if (sw_get_string(w, n, path, &s) < 0)
		return -1;
	for (size_t i = 0; vendors[i]; i++) {
		if (strcasecmp(s, vendors[i]) == 0) {
			free(*(char **)target);
			*(char **)target = xstrdup(vendors[i]);
			return 0;
		}
	}
	v = sw_shown(s);
	hint = suggest_closest(s, vendors);
	if (hint != NULL)
		return sw_fail(w, n, path, "unknown GPU vendor %s (did you mean "
			    "\"%s\"?)", v, hint);
	return sw_fail(w, n, path, "unknown GPU vendor %s (expected NVIDIA, "
		    "AMD or Intel, or use id/address)", v);
}

static int set_gpu_id(struct walker *w, const struct node *n,
		      const char *path, void *target)
{
	struct spec_gpu *gpu = container_of(target, struct spec_gpu,
					    vendor_id);
	const char *s;

	if (sw_get_string(w, n, path, &s) < 0)
		return -1;
	if (strlen(s) != 9 || s[4] != ':' || !sw_is_hex(s + 5, 4) ||
	    strspn(s, "0123456789abcdefABCDEF") != 4) {
		cleanup_free char *v = sw_shown(s);
		return sw_fail(w, n, path, "invalid PCI id %s (VENDOR:DEVICE in "
			    "hex, e.g. \"10de:1b82\")", v);
	}
	gpu->vendor_id = (unsigned)strtoul(s, NULL, 16);
	gpu->device_id = (unsigned)strtoul(s + 5, NULL, 16);
	return 0;
}

static int set_gpu_address(struct walker *w, const struct node *n,
			   const char *path, void *target)
{
	const char *s;

	if (sw_get_string(w, n, path, &s) < 0)
		return -1;
	if (pci_addr_parse(s, target) < 0) {
		cleanup_free char *v = sw_shown(s);
		return sw_fail(w, n, path, "invalid PCI address %s (DOMAIN:BUS:"
			    "DEVICE.FUNCTION, e.g. \"0000:01:00.0\")", v);
	}
	return 0;
}

static int set_gpu_index(struct walker *w, const struct node *n,
			 const char *path, void *target)
{
	unsigned long v;

	if (sw_get_uint(w, n, path, 0, 255, &v) < 0)
		return -1;
	*(unsigned *)target = (unsigned)v;
	return 0;
}

int sk_set_gpu(struct walker *w, const struct node *n, const char *path,
		   void *target)
{
	static const struct key keys[] = {
		KEY("vendor", set_gpu_vendor, struct spec_gpu, vendor),
		KEY("id", set_gpu_id, struct spec_gpu, vendor_id),
		KEY("address", set_gpu_address, struct spec_gpu, address),
		KEY("index", set_gpu_index, struct spec_gpu, index),
		KEY("x_vga", sw_set_bool, struct spec_gpu, x_vga),
		KEY("rom", sw_set_path, struct spec_gpu, rom),
		KEY("managed", sw_set_bool, struct spec_gpu, managed),
		{ NULL, NULL, 0 },
	};
	struct vmctl_spec *spec = container_of(target, struct vmctl_spec,
					       gpus);

	w->at_gpu = n;
	if (n->kind != NODE_SEQ)
		return sw_fail(w, n, path, "expected a list of GPUs, e.g. "
			    "[{vendor: NVIDIA}], got %s", node_kind_name(n));
	for (size_t i = 0; i < n->n; i++) {
		const struct node *item = n->items[i];
		cleanup_free char *sub = xasprintf("%s[%zu]", path, i);
		struct spec_gpu *gpu;
		int selectors = 0;

		spec->gpus = xreallocarray(spec->gpus, spec->n_gpus + 1,
					   sizeof(*spec->gpus));
		gpu = &spec->gpus[spec->n_gpus++];
		*gpu = (struct spec_gpu){ 0 };
		if (sw_walk_map(w, item, sub, keys, gpu) < 0)
			return -1;
		for (size_t k = 0; k < item->n; k++) {
			const char *key = item->keys[k]->text;

			/* "vendor: ~" keeps no value: it selects nothing. */
			if (node_is_null(item->items[k]))
				continue;

			if (strcmp(key, "vendor") == 0)
				selectors++, gpu->selector = SPEC_GPU_VENDOR;
			else if (strcmp(key, "id") == 0)
				selectors++, gpu->selector = SPEC_GPU_ID;
			else if (strcmp(key, "address") == 0)
				selectors++, gpu->selector = SPEC_GPU_ADDRESS;
		}
		if (selectors != 1)
			return sw_fail(w, item, sub, "give exactly one of vendor, "
				    "id and address");
		if (gpu->selector == SPEC_GPU_ADDRESS && gpu->index != 0)
			return sw_fail(w, item, sub, "index picks among cards a "
				    "vendor or id matches; an address names "
				    "one card already");
	}
	return 0;
}

/* usb: [{id: "046d:c52b"}, {bus: 3, port: "1.2"}] (usb.h). */
static int set_usb_id(struct walker *w, const struct node *n,
		      const char *path, void *target)
{
	struct spec_usb *u = container_of(target, struct spec_usb, vendor_id);
	const char *s;

	if (sw_get_string(w, n, path, &s) < 0)
		return -1;
	if (!usb_parse_id(s, &u->vendor_id, &u->product_id)) {
		cleanup_free char *v = sw_shown(s);
		return sw_fail(w, n, path, "invalid USB id %s (VENDOR:PRODUCT in "
			    "hex, e.g. \"046d:c52b\")", v);
	}
	return 0;
}

static int set_usb_bus(struct walker *w, const struct node *n,
		       const char *path, void *target)
{
	unsigned long v;

	if (sw_get_uint(w, n, path, 1, 255, &v) < 0)
		return -1;
	*(unsigned *)target = (unsigned)v;
	return 0;
}

static int set_usb_port(struct walker *w, const struct node *n,
			const char *path, void *target)
{
	const char *s;

	if (sw_get_string(w, n, path, &s) < 0)
		return -1;
	if (!usb_port_valid(s)) {
		cleanup_free char *v = sw_shown(s);
		return sw_fail(w, n, path, "invalid USB port %s (the kernel's "
			    "port path: \"1\", \"1.2\", \"1.2.3\"; 1 to 31 "
			    "each, at most 7 deep)", v);
	}
	free(*(char **)target);
	*(char **)target = xstrdup(s);
	return 0;
}

int sk_set_usb(struct walker *w, const struct node *n, const char *path,
		   void *target)
{
	static const struct key keys[] = {
		KEY("id", set_usb_id, struct spec_usb, vendor_id),
		KEY("bus", set_usb_bus, struct spec_usb, bus),
		KEY("port", set_usb_port, struct spec_usb, port),
		{ NULL, NULL, 0 },
	};
	struct vmctl_spec *spec = container_of(target, struct vmctl_spec, usb);

	if (n->kind != NODE_SEQ)
		return sw_fail(w, n, path, "expected a list of USB devices, e.g. "
			    "[{id: \"046d:c52b\"}], got %s", node_kind_name(n));
	if (n->n > USB_MAX_DEVICES)
		return sw_fail(w, n, path, "%zu USB devices, at most %d", n->n,
			    USB_MAX_DEVICES);
	for (size_t i = 0; i < n->n; i++) {
		const struct node *item = n->items[i];
		cleanup_free char *sub = xasprintf("%s[%zu]", path, i);
		struct spec_usb *u;
		bool id = false, bus = false, port = false;

		spec->usb = xreallocarray(spec->usb, spec->n_usb + 1,
					  sizeof(*spec->usb));
		u = &spec->usb[spec->n_usb++];
		*u = (struct spec_usb){ 0 };
		if (sw_walk_map(w, item, sub, keys, u) < 0)
			return -1;
		for (size_t k = 0; k < item->n; k++) {
			const char *key = item->keys[k]->text;

			id |= strcmp(key, "id") == 0;
			bus |= strcmp(key, "bus") == 0;
			port |= strcmp(key, "port") == 0;
		}
		if (id == (bus || port) || bus != port)
			return sw_fail(w, item, sub, "give either id, or bus and "
				    "port");
	}
	return 0;
}
