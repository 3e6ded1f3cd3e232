// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A spec's GPUs, hugepages and USB devices by port on a libvirt host
 * (lvvm-devices.h): the checks are pure; lvvm_devices_resolve() and the
 * USB calls read what they judge.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/virterror.h>

#include "vmctl/broker.h"
#include "vmctl/hostinv.h"
#include "vmctl/lazylib.h"
#include "vmctl/libvirt-xml.h"
#include "vmctl/lvconn.h"
#include "vmctl/lvnodedev.h"
#include "vmctl/lvvm-devices.h"
#include "vmctl/usb.h"
#include "vmctl/xalloc.h"

/* ---- pure checks ---------------------------------------------------------- */

/* The running domain holding addr, or NULL. */
static const struct lvvm_holder *holder_of(const struct pci_addr *addr,
					   const struct lvvm_holder *holders,
					   size_t n_holders)
{
	for (size_t i = 0; i < n_holders; i++)
		for (size_t j = 0; j < holders[i].n_addrs; j++)
			if (pci_addr_cmp(&holders[i].addrs[j], addr) == 0)
				return &holders[i];
	return NULL;
}

static int held(const struct pci_addr *addr,
		const struct lvvm_holder *holders, size_t n_holders,
		const char *uri, const char *what, struct vmctl_error **err)
{
	const struct lvvm_holder *h = holder_of(addr, holders, n_holders);
	char a[PCI_ADDR_STRLEN];

	if (h == NULL)
		return 0;
	return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "%s: %s: %s is in "
			       "use by domain \"%s\"", uri, what,
			       pci_addr_format(addr, a), h->domain);
}

const struct lvvm_holder *lvvm_holder_of_gpu(const struct gpu_info *g,
					     const struct lvvm_holder *holders,
					     size_t n_holders)
{
	const struct lvvm_holder *h = NULL;

	for (size_t i = 0; h == NULL && i < g->n_slot; i++)
		h = holder_of(&g->slot[i]->addr, holders, n_holders);
	for (size_t i = 0; h == NULL && i < g->n_group; i++)
		h = holder_of(&g->group[i]->addr, holders, n_holders);
	return h;
}

int lvvm_gpu_check(const struct gpu_info *g,
		   const struct lvvm_holder *holders, size_t n_holders,
		   const char *uri, const char *what,
		   struct vmctl_error **err)
{
	char a[PCI_ADDR_STRLEN];

	pci_addr_format(&g->gpu->addr, a);
	if (g->verdict == GPU_UNSAFE || g->verdict == GPU_NO_IOMMU)
		return vmctl_error_set(err, VMCTL_EXIT_UNAVAILABLE, 0, "%s: "
				       "%s: %s cannot be passed through (%s): "
				       "%s", uri, what, a,
				       gpu_verdict_name(g->verdict),
				       g->reason ? g->reason : "");
	for (size_t i = 0; i < g->n_slot; i++)
		if (held(&g->slot[i]->addr, holders, n_holders, uri, what,
			 err) < 0)
			return -1;
	for (size_t i = 0; i < g->n_group; i++)
		if (held(&g->group[i]->addr, holders, n_holders, uri, what,
			 err) < 0)
			return -1;
	return 0;
}

int lvvm_hugepages_pick(const struct vmctl_spec *spec, uint64_t free_2m,
			uint64_t free_1g, const char *uri, uint64_t *size,
			struct vmctl_error **err)
{
	uint64_t pages, free;

	*size = 0;
	if (spec->hugepages == SPEC_HUGE_NONE)
		return 0;
	if (broker_hugepages_pick(spec->hugepages, spec->memory, free_1g,
				  size, &pages, err) < 0)
		return vmctl_error_wrap(err, "%s: memory.hugepages", uri);
	free = *size == HOSTINV_HUGE_1G ? free_1g : free_2m;
	if (free >= pages)
		return 0;
	return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "%s: VM \"%s\" "
			       "needs %" PRIu64 " hugepages of %s, but %"
			       PRIu64 " are free there; reserve them on that "
			       "host (vm.nr_hugepages, or nr_hugepages under "
			       "/sys/kernel/mm/hugepages/hugepages-%" PRIu64
			       "kB)", uri, spec->name, pages,
			       *size == HOSTINV_HUGE_1G ? "1G" : "2M", free,
			       *size >> 10);
}

/* ---- reading the host ----------------------------------------------------- */

void lvvm_holders_clear(struct lvvm_holders *h)
{
	for (size_t i = 0; i < h->n; i++) {
		free(h->names[i]);
		free(h->addrs[i]);
	}
	free(h->v);
	free(h->names);
	free(h->addrs);
	free(h->vmctl);
	*h = (struct lvvm_holders){ 0 };
}

int lvvm_holders_read(virConnectPtr conn, const char *uri,
		      struct lvvm_holders *out, struct vmctl_error **err)
{
	virDomainPtr *doms = NULL;
	int n = sym_virConnectListAllDomains(conn, &doms,
					     VIR_CONNECT_LIST_DOMAINS_ACTIVE);

	if (n < 0)
		return lvconn_error(err, uri, false, "listing domains");
	out->v = xcalloc((size_t)n + 1, sizeof(*out->v));
	out->names = xcalloc((size_t)n + 1, sizeof(*out->names));
	out->addrs = xcalloc((size_t)n + 1, sizeof(*out->addrs));
	out->vmctl = xcalloc((size_t)n + 1, sizeof(*out->vmctl));
	for (int i = 0; i < n; i++) {
		char *xml = sym_virDomainGetXMLDesc(doms[i], 0);
		struct pci_addr *addrs = NULL;
		size_t k = 0;

		/* A domain gone since the listing holds nothing. */
		if (xml != NULL &&
		    lvnodedev_domain_hostdevs(xml, strlen(xml), &addrs, &k) == 0
		    && k > 0) {
			out->names[out->n] = xstrdup(sym_virDomainGetName(doms[i]));
			out->addrs[out->n] = addrs;
			out->v[out->n] = (struct lvvm_holder){
				.domain = out->names[out->n],
				.addrs = addrs, .n_addrs = k };
			/* only vmctl's <metadata> names it */
			out->vmctl[out->n] = strstr(xml, LIBVIRT_XML_NS) != NULL;
			out->n++;
		} else {
			free(addrs);
		}
		free(xml);
		sym_virDomainFree(doms[i]);
	}
	free(doms);
	sym_virResetLastError();
	return 0;
}

/* The gpu_list entry of the card whose slot holds fn, or NULL. */
static const struct gpu_info *card_of(const struct gpu_list *list,
				      const struct pci_addr *fn)
{
	for (size_t i = 0; i < list->n; i++)
		if (pci_addr_same_slot(&list->v[i].gpu->addr, fn))
			return &list->v[i];
	return NULL;
}

int lvvm_gpus_match(const struct pci_host *pci,
		    const struct lvvm_holder *holders, size_t n_holders,
		    const struct vmctl_spec *spec, const char *uri,
		    struct qemu_gpu **out, size_t *n_out,
		    struct vmctl_error **err)
{
	struct gpu_list list = { 0 };
	struct qemu_gpu *gpus = xcalloc(spec->n_gpus + 1, sizeof(*gpus));
	size_t n = 0;
	int ret = -1;

	*out = NULL;
	*n_out = 0;
	gpu_list_build(pci, &list);
	for (size_t i = 0; i < spec->n_gpus; i++) {
		struct qemu_gpu *q = &gpus[i];
		const struct gpu_info *g;
		char what[32];

		snprintf(what, sizeof(what), "gpu[%zu]", i);
		q->spec = &spec->gpus[i];
		n++;
		if (gpu_resolve(pci, q->spec, &q->functions, &q->n_functions,
				err) < 0) {
			vmctl_error_wrap(err, "%s: %s", uri, what);
			goto out;
		}
		for (size_t j = 0; j < i; j++)
			if (pci_addr_same_slot(&gpus[j].functions[0],
					       &q->functions[0])) {
				char a[PCI_ADDR_STRLEN];

				vmctl_error_set(err, VMCTL_EXIT_SPEC, 0,
						"%s: %s selects %s, as gpu[%zu] "
						"does (use index to pick another "
						"card)", uri, what,
						pci_addr_format(&q->functions[0],
								a), j);
				goto out;
			}
		g = card_of(&list, &q->functions[0]);
		if (g != NULL) {
			if (lvvm_gpu_check(g, holders, n_holders, uri, what,
					   err) < 0)
				goto out;
		} else {
			/* An address selector of a function that is no
			 * display: its slot's functions, as selected. */
			for (size_t k = 0; k < q->n_functions; k++)
				if (held(&q->functions[k], holders, n_holders,
					 uri, what, err) < 0)
					goto out;
		}
	}
	*out = gpus;
	*n_out = n;
	gpus = NULL;
	ret = 0;
out:
	for (size_t i = 0; gpus != NULL && i < n; i++)
		free(gpus[i].functions);
	free(gpus);
	gpu_list_clear(&list);
	return ret;
}

static int resolve_gpus(virConnectPtr conn, const char *uri,
			const struct vmctl_spec *spec, struct lvvm_devices *d,
			struct vmctl_error **err)
{
	struct lvvm_holders h = { 0 };
	int ret = -1;

	if (lvconn_pci_host_read(conn, uri, &d->pci, err) == 0 &&
	    lvvm_holders_read(conn, uri, &h, err) == 0 &&
	    lvvm_gpus_match(&d->pci, h.v, h.n, spec, uri, &d->gpus,
			    &d->n_gpus, err) == 0)
		ret = 0;
	lvvm_holders_clear(&h);
	return ret;
}

uint64_t lvvm_free_pages(virConnectPtr conn, unsigned kib)
{
	unsigned long long count = 0;

	if (sym_virNodeGetFreePages(conn, 1, &kib, -1, 1, &count, 0) < 0) {
		sym_virResetLastError();
		return 0;
	}
	return count;
}

int lvvm_devices_resolve(virConnectPtr conn, const char *uri,
			 const struct vmctl_spec *spec,
			 struct lvvm_devices *out, struct vmctl_error **err)
{
	*out = (struct lvvm_devices){ 0 };
	if (spec->n_gpus > 0 && resolve_gpus(conn, uri, spec, out, err) < 0)
		goto fail;
	if (spec->hugepages != SPEC_HUGE_NONE &&
	    lvvm_hugepages_pick(spec, lvvm_free_pages(conn, HOSTINV_HUGE_2M >> 10),
				lvvm_free_pages(conn, HOSTINV_HUGE_1G >> 10), uri,
				&out->hugepage_size, err) < 0)
		goto fail;
	return 0;
fail:
	lvvm_devices_clear(out);
	return -1;
}

void lvvm_devices_clear(struct lvvm_devices *d)
{
	for (size_t i = 0; i < d->n_gpus; i++)
		free(d->gpus[i].functions);
	free(d->gpus);
	pci_host_clear(&d->pci);
	*d = (struct lvvm_devices){ 0 };
}

/* ---- USB devices by port -------------------------------------------------- */

/* The XML of every usb_device node device of the host. */
static int usb_nodes_read(virConnectPtr conn, const char *uri,
			  struct strv *docs, struct vmctl_error **err)
{
	virNodeDevicePtr *devs = NULL;
	int n = sym_virConnectListAllNodeDevices(
		conn, &devs, VIR_CONNECT_LIST_NODE_DEVICES_CAP_USB_DEV);

	if (n < 0)
		return lvconn_error(err, uri, false, "listing USB devices");
	for (int i = 0; i < n; i++) {
		char *xml = sym_virNodeDeviceGetXMLDesc(devs[i], 0);

		/* one gone since the listing is not there */
		if (xml != NULL)
			strv_push(docs, xml);
		free(xml);
		sym_virNodeDeviceFree(devs[i]);
	}
	free(devs);
	sym_virResetLastError();
	return 0;
}

static int usb_resolve_ports(virConnectPtr conn, const char *uri,
			     const struct lvnodedev_usb_port *ports, size_t n,
			     unsigned *devices, struct vmctl_error **err)
{
	struct strv docs = { 0 };
	int ret = -1;

	if (usb_nodes_read(conn, uri, &docs, err) == 0)
		ret = lvnodedev_usb_resolve((const char *const *)docs.v,
					    docs.n, ports, n, uri, devices,
					    err);
	strv_clear(&docs);
	return ret;
}

int lvvm_usb_check(virConnectPtr conn, const char *uri,
		   const struct vmctl_spec *spec, struct vmctl_error **err)
{
	struct lvnodedev_usb_port *ports = xcalloc(spec->n_usb + 1,
						   sizeof(*ports));
	unsigned *devices = xcalloc(spec->n_usb + 1, sizeof(*devices));
	size_t n = 0;
	int ret = 0;

	for (size_t i = 0; i < spec->n_usb; i++)
		if (spec->usb[i].port != NULL)
			ports[n++] = (struct lvnodedev_usb_port){
				.index = (unsigned)i, .bus = spec->usb[i].bus,
				.port = spec->usb[i].port };
	if (n > 0)
		ret = usb_resolve_ports(conn, uri, ports, n, devices, err);
	free(ports);     /* the ports are the spec's */
	free(devices);
	return ret;
}

int lvvm_usb_refresh(virConnectPtr conn, const char *uri, virDomainPtr dom,
		     struct vmctl_error **err)
{
	/* SECURE: the definition written back keeps the VNC password */
	char *xml = sym_virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE |
					    VIR_DOMAIN_XML_SECURE);
	struct lvnodedev_usb_port *ports = NULL;
	unsigned *devices = NULL;
	char *fixed = NULL;
	size_t n = 0;
	int ret = -1;

	if (xml == NULL)
		return lvconn_error(err, uri, false, "reading the domain");
	if (lvnodedev_domain_usb_ports(xml, strlen(xml), &ports, &n) < 0) {
		vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "%s: the domain's "
				"XML does not parse", uri);
		goto out;
	}
	if (n == 0) {
		ret = 0;
		goto out;
	}
	devices = xcalloc(n, sizeof(*devices));
	if (usb_resolve_ports(conn, uri, ports, n, devices, err) < 0)
		goto out;
	switch (lvnodedev_domain_usb_set(xml, strlen(xml), ports, devices, n,
					 &fixed)) {
	case 0:
		ret = 0;
		break;
	case 1: {
		virDomainPtr d = sym_virDomainDefineXML(conn, fixed);

		if (d == NULL) {
			lvconn_error(err, uri, false, "redefining the domain "
				     "with its USB devices' numbers");
			break;
		}
		sym_virDomainFree(d);
		ret = 0;
		break;
	}
	default:
		vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "%s: the domain has "
				"no USB hostdev for a port of vmctl's mark "
				"(edited outside vmctl?)", uri);
	}
out:
	lvnodedev_usb_ports_free(ports, n);
	free(devices);
	free(fixed);
	free(xml);
	return ret;
}
