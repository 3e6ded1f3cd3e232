/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_LIBVIRT_XML_H
#define VMCTL_LIBVIRT_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmctl/error.h"
#include "vmctl/qemu-argv.h"
#include "vmctl/spec.h"

/*
 * What the executor decides that a libvirt domain needs beyond the spec:
 * names, paths and resolved host facts.  Strings are borrowed; NULL where
 * the spec does not need them.  docs/ARCHITECTURE.md, "libvirt domain
 * XML", says what maps to what and what libvirt cannot say.
 */
struct libvirt_facts {
	const char *name;            /* the domain's name */
	const char *uuid;            /* its <uuid>; NULL: libvirt picks one */
	enum spec_accel accel;       /* KVM (type='kvm') or TCG ('qemu') */
	const char *emulator;        /* absolute path of the QEMU binary */
	/* spec->disk.image: the VM's qcow2 overlay and the base under it */
	const char *overlay;
	const char *base;
	const char *base_format;     /* "qcow2" or "raw" */
	const char *seed;            /* cloud-init seed ISO, NULL: none */
	/* Where the libvirt host has the spec's kernel, initrd and cdrom
	 * (uploaded); NULL: the spec's own paths. */
	const char *kernel, *initrd, *cdrom;
	/* UEFI: read-only code, the VM's own variables and the template
	 * libvirt copies them from when they do not exist (NULL: none) */
	const char *ovmf_code;
	const char *nvram;
	const char *nvram_template;
	const char *serial_log;      /* the serial console's log file */
	const char *vnc_password;    /* spec->vnc.password: the password */
	const char *network;         /* libvirt network; NULL: "default" */
	/* spec->hugepages: the page size in bytes (auto resolved) */
	uint64_t hugepage_size;
	/* One per spec->gpus entry: every function of its slot, function 0
	 * first (as qemu-argv.c takes them). */
	const struct qemu_gpu *gpus;
	size_t n_gpus;
	/* vmctl's mark on a domain it made (<metadata>, LIBVIRT_XML_NS);
	 * NULL created: no mark.  digest may be NULL. */
	const char *meta_created;    /* creation time, seconds since epoch */
	const char *meta_image;      /* spec->disk.image as given */
	const char *meta_digest;     /* the base's "sha256:HEX" */
};

/* The user aliases of the disk vmctl made and of the CD-ROM drive: QEMU's
 * qdev ids, so QOM paths /machine/peripheral/ALIAS. */
#define LIBVIRT_XML_DISK_ALIAS "ua-disk0"
#define LIBVIRT_XML_CDROM_ALIAS "ua-cdrom0"

/* The namespace of vmctl's <metadata> element, <vmctl:vm>. */
#define LIBVIRT_XML_NS "https://vmctl.dev/xmlns/vm/1"
#define LIBVIRT_XML_NS_PREFIX "vmctl"

/* What vmctl's <vmctl:vm> element (as virDomainGetMetadata returns it)
 * says; fields NULL where absent. */
struct libvirt_meta {
	char *name, *image, *digest;
	long long created;
	bool cdrom_once;             /* <vmctl:boot>cdrom-once</vmctl:boot> */
};

/* Pure: parse the <vmctl:vm> element (or <vm>, as virDomainGetMetadata
 * returns it).  Returns 0, or -1 when it is not vmctl's element or not
 * XML. */
int libvirt_xml_meta_parse(const char *xml, struct libvirt_meta *out);
void libvirt_meta_clear(struct libvirt_meta *m);

/*
 * The libvirt domain XML for a spec: pure, deterministic (stable order,
 * 2-space indent), every string escaped.  *out is the document, to free.
 * Returns 0, or -1 with *err for facts that do not fit the spec or a
 * string XML cannot carry (control characters).
 */
int libvirt_xml_build(const struct vmctl_spec *spec,
		      const struct libvirt_facts *facts, char **out,
		      struct vmctl_error **err);

#endif
