// SPDX-License-Identifier: GPL-2.0-or-later
/* libvirt node device XML → struct pci_function / pci_host: pure. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "vmctl/lvnodedev.h"
#include "vmctl/xalloc.h"

static bool named(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE &&
	       strcmp((const char *)n->name, name) == 0;
}

static const xmlNode *child(const xmlNode *parent, const char *name)
{
	for (const xmlNode *c = parent->children; c != NULL; c = c->next)
		if (named(c, name))
			return c;
	return NULL;
}

/* An element's text, or an attribute's value: a new string, NULL when
 * absent or empty. */
static char *text_of(const xmlNode *n)
{
	xmlChar *t = n ? xmlNodeGetContent(n) : NULL;
	char *s = NULL;

	if (t != NULL && *t != '\0')
		s = xstrdup((const char *)t);
	xmlFree(t);
	return s;
}

static char *attr_of(const xmlNode *n, const char *name)
{
	xmlChar *t = n ? xmlGetProp(n, (const xmlChar *)name) : NULL;
	char *s = NULL;

	if (t != NULL && *t != '\0')
		s = xstrdup((const char *)t);
	xmlFree(t);
	return s;
}

/* A number as libvirt writes it (decimal, or 0x hex), up to max. */
static bool parse_num(const char *s, unsigned long max, unsigned *out)
{
	char *end;
	unsigned long v;

	if (s == NULL || *s == '\0' || *s == '-')
		return false;
	v = strtoul(s, &end, 0);
	if (*end != '\0' || v > max)
		return false;
	*out = (unsigned)v;
	return true;
}

static bool num_text(const xmlNode *parent, const char *name,
		     unsigned long max, unsigned *out)
{
	cleanup_free char *s = text_of(child(parent, name));

	return parse_num(s, max, out);
}

static bool num_attr(const xmlNode *n, const char *name, unsigned long max,
		     unsigned *out)
{
	cleanup_free char *s = attr_of(n, name);

	return parse_num(s, max, out);
}

/* <address domain='0x0000' bus='0x01' slot='0x00' function='0x1'/> */
static bool parse_address(const xmlNode *n, struct pci_addr *a)
{
	return num_attr(n, "domain", 0xffff, &a->domain) &&
	       num_attr(n, "bus", 0xff, &a->bus) &&
	       num_attr(n, "slot", 0x1f, &a->dev) &&
	       num_attr(n, "function", 7, &a->func);
}

/* "pci_0000_00_01_0": a parent that is a PCI function. */
static bool parse_pci_name(const char *s, struct pci_addr *a)
{
	char tail;

	return s != NULL && sscanf(s, "pci_%4x_%2x_%2x_%1x%c", &a->domain,
				   &a->bus, &a->dev, &a->func, &tail) == 4 &&
	       a->dev <= 0x1f && a->func <= 7;
}

static int parse_group(const char *name, const xmlNode *g,
		       struct lvnodedev_pci *out, struct vmctl_error **err)
{
	unsigned num;

	if (!num_attr(g, "number", (1ul << 30) - 1, &num))
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "node "
				       "device %s: iommuGroup without a "
				       "number", name);
	out->fn.iommu_group = (int)num;
	for (const xmlNode *c = g->children; c != NULL; c = c->next) {
		struct pci_addr a;

		if (!named(c, "address"))
			continue;
		if (!parse_address(c, &a))
			return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
					       "node device %s: a bad address "
					       "in iommuGroup %u", name, num);
		out->group = xreallocarray(out->group, out->n_group + 1,
					   sizeof(*out->group));
		out->group[out->n_group++] = a;
	}
	return 0;
}

static int parse_pci_cap(const char *name, const xmlNode *cap,
			 struct lvnodedev_pci *out, struct vmctl_error **err)
{
	struct pci_function *fn = &out->fn;
	const xmlNode *n;
	unsigned v;

	if (!num_text(cap, "domain", 0xffff, &fn->addr.domain) ||
	    !num_text(cap, "bus", 0xff, &fn->addr.bus) ||
	    !num_text(cap, "slot", 0x1f, &fn->addr.dev) ||
	    !num_text(cap, "function", 7, &fn->addr.func))
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "node "
				       "device %s: no PCI address", name);
	if (!num_attr(child(cap, "vendor"), "id", 0xffff, &fn->vendor_id) ||
	    !num_attr(child(cap, "product"), "id", 0xffff, &fn->device_id))
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "node "
				       "device %s: no vendor or product id",
				       name);
	fn->vendor_name = text_of(child(cap, "vendor"));
	fn->device_name = text_of(child(cap, "product"));
	if (!num_text(cap, "class", 0xffffff, &fn->class_code))
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "node "
				       "device %s: no PCI class", name);
	n = child(cap, "numa");
	if (n != NULL && num_attr(n, "node", 1ul << 20, &v))
		fn->numa_node = (int)v;
	/* A bridge says so in a nested capability (libvirt reads the
	 * header type); the class is the fallback. */
	v = fn->class_code >> 8;
	fn->bridge = v == 0x0604 || v == 0x0607 || v == 0x0609;
	for (const xmlNode *c = cap->children; c != NULL; c = c->next) {
		cleanup_free char *type = NULL;

		if (named(c, "iommuGroup") && parse_group(name, c, out, err) < 0)
			return -1;
		if (!named(c, "capability"))
			continue;
		type = attr_of(c, "type");
		if (type != NULL && (strcmp(type, "pci-bridge") == 0 ||
				     strcmp(type, "cardbus-bridge") == 0))
			fn->bridge = true;
	}
	return 0;
}

int lvnodedev_parse_pci(const char *name, const char *xml, size_t len,
			struct lvnodedev_pci *out, struct vmctl_error **err)
{
	xmlDoc *doc;
	const xmlNode *root, *cap = NULL;
	int ret;

	*out = (struct lvnodedev_pci){ 0 };
	out->fn.iommu_group = -1;
	out->fn.numa_node = -1;
	out->fn.boot_vga = -1;
	out->fn.detailed = true;
	if (len > (size_t)INT32_MAX)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "node "
				       "device %s: XML too large", name);
	doc = xmlReadMemory(xml, (int)len, "nodedev.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR |
			    XML_PARSE_NOWARNING);
	root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (root == NULL || !named(root, "device")) {
		xmlFreeDoc(doc);
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "node "
				       "device %s: not a <device> XML "
				       "document", name);
	}
	for (const xmlNode *c = root->children; c != NULL; c = c->next) {
		cleanup_free char *type = named(c, "capability")
					  ? attr_of(c, "type") : NULL;

		if (type != NULL && strcmp(type, "pci") == 0)
			cap = c;
	}
	if (cap == NULL) {
		ret = vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "node device "
				      "%s: no pci capability", name);
	} else {
		const xmlNode *drv = child(root, "driver");
		cleanup_free char *parent = text_of(child(root, "parent"));

		ret = parse_pci_cap(name, cap, out, err);
		out->fn.driver = drv ? text_of(child(drv, "name")) : NULL;
		out->fn.has_parent = parse_pci_name(parent, &out->fn.parent);
	}
	xmlFreeDoc(doc);
	if (ret < 0)
		lvnodedev_pci_clear(out);
	return ret;
}

void lvnodedev_pci_clear(struct lvnodedev_pci *dev)
{
	pci_function_clear(&dev->fn);
	free(dev->group);
	*dev = (struct lvnodedev_pci){ 0 };
}

static int cmp_fn(const void *a, const void *b)
{
	return pci_addr_cmp(&((const struct pci_function *)a)->addr,
			    &((const struct pci_function *)b)->addr);
}

static bool seen_group(const int *groups, size_t n, int g)
{
	for (size_t i = 0; i < n; i++)
		if (groups[i] == g)
			return true;
	return false;
}

void lvnodedev_host_build(struct lvnodedev_pci *devs, size_t n,
			  struct pci_host *out)
{
	int *groups = xcalloc(n ? n : 1, sizeof(*groups));

	*out = (struct pci_host){ 0 };
	out->fns = xcalloc(n ? n : 1, sizeof(*out->fns));
	for (size_t i = 0; i < n; i++)
		out->fns[out->n++] = devs[i].fn;
	qsort(out->fns, out->n, sizeof(*out->fns), cmp_fn);
	for (size_t i = 0; i < n; i++) {
		int g = devs[i].fn.iommu_group;

		if (g < 0 || seen_group(groups, out->n_groups, g))
			continue;
		groups[out->n_groups++] = g;
		for (size_t m = 0; m < devs[i].n_group; m++) {
			char a[PCI_ADDR_STRLEN];

			if (pci_host_find(out, &devs[i].group[m]) != NULL)
				continue;
			out->extras = xreallocarray(out->extras,
						    out->n_extras + 1,
						    sizeof(*out->extras));
			out->extras[out->n_extras++] = (struct pci_group_extra){
				.group = g,
				.name = xstrdup(pci_addr_format(
						&devs[i].group[m], a)) };
		}
	}
	out->iommu = out->n_groups > 0;
	for (size_t i = 0; i < n; i++) {
		free(devs[i].group);
		devs[i] = (struct lvnodedev_pci){ 0 };
	}
	free(groups);
}

/* ---- a domain's PCI host devices ------------------------------------------ */

int lvnodedev_domain_hostdevs(const char *xml, size_t len,
			      struct pci_addr **out, size_t *n)
{
	xmlDoc *doc;
	const xmlNode *root, *devices;

	*out = NULL;
	*n = 0;
	if (len > (size_t)INT32_MAX)
		return -1;
	doc = xmlReadMemory(xml, (int)len, "domain.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR |
			    XML_PARSE_NOWARNING);
	root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (root == NULL || !named(root, "domain")) {
		xmlFreeDoc(doc);
		return -1;
	}
	devices = child(root, "devices");
	for (const xmlNode *h = devices ? devices->children : NULL; h != NULL;
	     h = h->next) {
		cleanup_free char *mode = named(h, "hostdev")
					  ? attr_of(h, "mode") : NULL;
		cleanup_free char *type = mode ? attr_of(h, "type") : NULL;
		const xmlNode *src, *addr;
		struct pci_addr a;

		if (type == NULL || strcmp(mode, "subsystem") != 0 ||
		    strcmp(type, "pci") != 0)
			continue;
		src = child(h, "source");
		addr = src ? child(src, "address") : NULL;
		if (addr == NULL || !parse_address(addr, &a))
			continue;
		*out = xreallocarray(*out, *n + 1, sizeof(**out));
		(*out)[(*n)++] = a;
	}
	xmlFreeDoc(doc);
	return 0;
}
