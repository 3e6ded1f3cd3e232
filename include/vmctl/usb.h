/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_USB_H
#define VMCTL_USB_H

#include <stdbool.h>
#include <stddef.h>

#include "vmctl/env.h"
#include "vmctl/error.h"
#include "vmctl/spec.h"
#include "vmctl/strv.h"

/*
 * Host USB devices passed through (the spec's `usb:` list): the syntax
 * of its values, the host's devices as SYSFS/bus/usb/devices lists them,
 * which one each entry means, and QEMU's words for them.  All pure but
 * usb_host_read().
 *
 * A device is named, in claims and messages, by where it is plugged in:
 * the kernel's "BUS-PORT" ("3-1.2", its sysfs name), which stays the
 * same while it stays plugged in (its device number changes on every
 * re-plug).
 */

/* At most this many devices (the xHCI controller gets 8 ports of each
 * speed, one of them for the VNC tablet). */
#define USB_MAX_DEVICES 7

struct usb_device {
	char *name;                 /* "3-1.2" */
	unsigned bus, devnum;
	char *port;                 /* "1.2" (devpath) */
	unsigned vendor_id, product_id;
	char *manufacturer, *product;   /* NULL when the device has none */
};

struct usb_host {
	struct usb_device *v;
	size_t n;
};

/* "046d:c52b": four hex digits, a colon, four hex digits. */
bool usb_parse_id(const char *s, unsigned *vendor, unsigned *product);
/* The kernel's port path: "1", "1.2.3": 1..31 each, at most 7 deep, no
 * leading zeros. */
bool usb_port_valid(const char *s);

/*
 * The host's USB devices (not root hubs, not interfaces), sorted by
 * name, from SYSFS/bus/usb/devices (env->sysfs).  A host without that
 * directory has none.  An entry without idVendor/busnum/devpath is
 * skipped.
 */
int usb_host_read(const struct vmctl_env *env, struct usb_host *out,
		  struct vmctl_error **err);
void usb_host_clear(struct usb_host *host);

/* For messages: "bus 3 port 1.2 (046d:c52b Logitech USB Receiver)". */
char *usb_device_describe(const struct usb_device *d);
/* A spec entry: "046d:c52b" or "bus 3 port 1.2". */
char *usb_spec_describe(const struct spec_usb *u);

/*
 * Which host device each of the spec's entries means: (*out)[i] indexes
 * host->v for spec->usb[i].  Refused: an entry no device matches (69),
 * an id two devices have, naming both with their bus and port (65), two
 * entries meaning one device (65).  Errors start "usb[I]: ".
 */
int usb_resolve(const struct vmctl_spec *spec, const struct usb_host *host,
		size_t **out, struct vmctl_error **err);

/* QEMU's -device words for the spec's devices, on controller usb0:
 * usb-host with vendorid/productid, or hostbus/hostport. */
void usb_qemu_args(const struct vmctl_spec *spec, struct strv *argv);

/* libvirt takes a USB device by id, or by bus and *device number* (which
 * changes on every re-plug), not by port: a domain vmctl defines keeps
 * the port in its mark and gets the number at each start (lvnodedev.h);
 * libvirt XML without the mark (`export --format libvirt`) refuses
 * entries by bus/port (65). */
int usb_libvirt_check(const struct vmctl_spec *spec,
		      struct vmctl_error **err);

#endif
