// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Host USB devices passed through (include/vmctl/usb.h): value syntax,
 * the host's list from sysfs, matching, QEMU's words.  Pure but for
 * usb_host_read().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/sysfs.h"
#include "vmctl/usb.h"
#include "vmctl/xalloc.h"

/* ---- syntax ------------------------------------------------------------- */

static bool hex4(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strchr("0123456789abcdefABCDEF", s[i]) == NULL ||
		    s[i] == '\0')
			return false;
	return true;
}

bool usb_parse_id(const char *s, unsigned *vendor, unsigned *product)
{
	if (strlen(s) != 9 || s[4] != ':' || !hex4(s) || !hex4(s + 5))
		return false;
	*vendor = (unsigned)strtoul(s, NULL, 16);
	*product = (unsigned)strtoul(s + 5, NULL, 16);
	return true;
}

bool usb_port_valid(const char *s)
{
	unsigned depth = 0;

	while (*s != '\0') {
		unsigned v = 0;
		size_t digits = 0;

		if (*s < '1' || *s > '9')
			return false;   /* empty part, leading zero, junk */
		while (*s >= '0' && *s <= '9' && digits < 3) {
			v = v * 10 + (unsigned)(*s++ - '0');
			digits++;
		}
		if (v > 31 || ++depth > 7)
			return false;
		if (*s == '.' && s[1] != '\0')
			s++;
		else if (*s != '\0')
			return false;
	}
	return depth > 0;
}

/* ---- the host's devices ------------------------------------------------- */

static void device_clear(struct usb_device *d)
{
	free(d->name);
	free(d->port);
	free(d->manufacturer);
	free(d->product);
}

void usb_host_clear(struct usb_host *host)
{
	for (size_t i = 0; i < host->n; i++)
		device_clear(&host->v[i]);
	free(host->v);
	*host = (struct usb_host){ 0 };
}

static bool read_uint(const char *dir, const char *attr, int base,
		      unsigned max, unsigned *out)
{
	cleanup_free char *s = NULL;
	char *end;
	unsigned long v;

	if (sysfs_read_attr(dir, attr, &s) < 0 || *s == '\0')
		return false;
	errno = 0;
	v = strtoul(s, &end, base);
	if (errno != 0 || *end != '\0' || v > max)
		return false;
	*out = (unsigned)v;
	return true;
}

/* One entry of SYSFS/bus/usb/devices: false when it is not a device
 * (an interface "3-1.2:1.0", a root hub "usb3") or does not read. */
static bool read_device(const char *dir, const char *name,
			struct usb_device *d)
{
	cleanup_free char *path = NULL;

	if (strchr(name, ':') != NULL || strchr(name, '-') == NULL)
		return false;
	path = xasprintf("%s/%s", dir, name);
	*d = (struct usb_device){ 0 };
	if (!read_uint(path, "idVendor", 16, 0xffff, &d->vendor_id) ||
	    !read_uint(path, "idProduct", 16, 0xffff, &d->product_id) ||
	    !read_uint(path, "busnum", 10, 255, &d->bus) ||
	    !read_uint(path, "devnum", 10, 255, &d->devnum) ||
	    sysfs_read_attr(path, "devpath", &d->port) < 0 ||
	    !usb_port_valid(d->port)) {
		device_clear(d);
		return false;
	}
	d->name = xstrdup(name);
	if (sysfs_read_attr(path, "manufacturer", &d->manufacturer) < 0)
		d->manufacturer = NULL;
	if (sysfs_read_attr(path, "product", &d->product) < 0)
		d->product = NULL;
	return true;
}

int usb_host_read(const struct vmctl_env *env, struct usb_host *out,
		  struct vmctl_error **err)
{
	cleanup_free char *dir = xasprintf("%s/bus/usb/devices", env->sysfs);
	struct strv names = { 0 };

	*out = (struct usb_host){ 0 };
	if (sysfs_list_dir(dir, &names) < 0) {
		if (errno == ENOENT)
			return 0;   /* no USB at all */
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno,
					 "%s", dir);
	}
	for (size_t i = 0; i < names.n; i++) {
		struct usb_device d;

		if (!read_device(dir, names.v[i], &d))
			continue;
		out->v = xreallocarray(out->v, out->n + 1, sizeof(*out->v));
		out->v[out->n++] = d;
	}
	strv_clear(&names);
	return 0;
}

/* ---- matching ----------------------------------------------------------- */

char *usb_device_describe(const struct usb_device *d)
{
	const char *m = d->manufacturer, *p = d->product;

	return xasprintf("bus %u port %s (%04x:%04x%s%s%s%s)", d->bus, d->port,
			 d->vendor_id, d->product_id, m ? " " : "", m ? m : "",
			 p ? " " : "", p ? p : "");
}

char *usb_spec_describe(const struct spec_usb *u)
{
	if (u->port != NULL)
		return xasprintf("bus %u port %s", u->bus, u->port);
	return xasprintf("%04x:%04x", u->vendor_id, u->product_id);
}

static bool matches(const struct spec_usb *u, const struct usb_device *d)
{
	if (u->port != NULL)
		return d->bus == u->bus && strcmp(d->port, u->port) == 0;
	return d->vendor_id == u->vendor_id && d->product_id == u->product_id;
}

static int resolve_one(const struct spec_usb *u, size_t i,
		       const struct usb_host *host, size_t *out,
		       struct vmctl_error **err)
{
	cleanup_free char *what = usb_spec_describe(u);
	size_t n = 0, first = 0, second = 0;

	for (size_t k = 0; k < host->n; k++) {
		if (!matches(u, &host->v[k]))
			continue;
		if (n == 0)
			first = k;
		else if (n == 1)
			second = k;
		n++;
	}
	if (n == 0)
		return vmctl_error_set(err, VMCTL_EXIT_UNAVAILABLE, 0,
				       "usb[%zu]: no USB device %s%s on this "
				       "host", i, u->port ? "at " : "", what);
	if (n > 1) {
		cleanup_free char *a = usb_device_describe(&host->v[first]);
		cleanup_free char *b = usb_device_describe(&host->v[second]);

		return vmctl_error_set(err, VMCTL_EXIT_SPEC, 0,
				       "usb[%zu]: %zu USB devices are %s: %s "
				       "and %s%s; name one by where it is "
				       "plugged in, e.g. {bus: %u, port: "
				       "\"%s\"}", i, n, what, a, b,
				       n > 2 ? " (and more)" : "",
				       host->v[first].bus,
				       host->v[first].port);
	}
	*out = first;
	return 0;
}

int usb_resolve(const struct vmctl_spec *spec, const struct usb_host *host,
		size_t **out, struct vmctl_error **err)
{
	size_t *idx = xcalloc(spec->n_usb ? spec->n_usb : 1, sizeof(*idx));

	for (size_t i = 0; i < spec->n_usb; i++) {
		if (resolve_one(&spec->usb[i], i, host, &idx[i], err) < 0)
			goto fail;
		for (size_t j = 0; j < i; j++) {
			cleanup_free char *d = NULL;

			if (idx[j] != idx[i])
				continue;
			d = usb_device_describe(&host->v[idx[i]]);
			vmctl_error_set(err, VMCTL_EXIT_SPEC, 0,
					"usb[%zu]: %s is usb[%zu] already", i,
					d, j);
			goto fail;
		}
	}
	*out = idx;
	return 0;
fail:
	free(idx);
	return -1;
}

/* ---- QEMU and libvirt --------------------------------------------------- */

void usb_qemu_args(const struct vmctl_spec *spec, struct strv *argv)
{
	for (size_t i = 0; i < spec->n_usb; i++) {
		const struct spec_usb *u = &spec->usb[i];

		strv_push(argv, "-device");
		/* The port passed the syntax check: digits and dots. */
		if (u->port != NULL)
			strv_pushf(argv, "usb-host,bus=usb0.0,hostbus=%u,"
				   "hostport=%s,id=usb-host%zu", u->bus,
				   u->port, i);
		else
			strv_pushf(argv, "usb-host,bus=usb0.0,vendorid=0x%04x,"
				   "productid=0x%04x,id=usb-host%zu",
				   u->vendor_id, u->product_id, i);
	}
}

int usb_libvirt_check(const struct vmctl_spec *spec,
		      struct vmctl_error **err)
{
	for (size_t i = 0; i < spec->n_usb; i++)
		if (spec->usb[i].port != NULL)
			return vmctl_error_set(err, VMCTL_EXIT_SPEC, 0,
					       "usb[%zu]: a device by bus and "
					       "port needs a domain vmctl "
					       "defines (create --connect), "
					       "which finds its device number "
					       "at each start; libvirt XML "
					       "alone names USB devices by id "
					       "or by a device number that "
					       "changes on every re-plug", i);
	return 0;
}
