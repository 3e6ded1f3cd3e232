/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_LIBVIRT_XML_DEVICES_H
#define VMCTL_LIBVIRT_XML_DEVICES_H

#include <stdbool.h>
#include <stdint.h>

#include "vmctl/libvirt-xml.h"
#include "vmctl/xmlwriter.h"

/*
 * libvirt-xml.c's parts, shared by its two files: the domain's <devices>
 * (libvirt-xml-devices.c: disks, NIC, serial console and log, VNC, the
 * GPUs' hostdevs, TPM, balloon, RNG) and the small helpers both use.
 * Pure, as libvirt-xml.h.
 */
void libvirt_xml_devices(struct xml_doc *d, const struct vmctl_spec *spec,
			 const struct libvirt_facts *facts);

/* Numbers as attribute values or text: small buffers on the caller's
 * stack, always big enough for any uint64_t. */
#define LIBVIRT_XML_NUM_MAX 24
const char *libvirt_xml_num(char buf[LIBVIRT_XML_NUM_MAX], uint64_t v);
/* "0x" and `width` hex digits. */
const char *libvirt_xml_hex(char buf[LIBVIRT_XML_NUM_MAX], unsigned v,
			    int width);
bool libvirt_xml_machine_is_pcie(const struct vmctl_spec *spec);

#endif
