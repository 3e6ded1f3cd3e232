// SPDX-License-Identifier: GPL-2.0-or-later
/* libvirt node device XML → struct pci_function / pci_host: pure. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "vmctl/lazylib.h"
#include "vmctl/libvirt-xml.h"
#include "vmctl/lvnodedev.h"
#include "vmctl/usb.h"
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
	xmlChar *t = n ? sym_xmlNodeGetContent(n) : NULL;
	char *s = NULL;

	if (t != NULL && *t != '\0')
		s = xstrdup((const char *)t);
	sym_xmlFree(t);
	return s;
}

static char *attr_of(const xmlNode *n, const char *name)
{
	xmlChar *t = n ? sym_xmlGetProp(n, (const xmlChar *)name) : NULL;
	char *s = NULL;

	if (t != NULL && *t != '\0')
		s = xstrdup((const char *)t);
	sym_xmlFree(t);
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
	doc = sym_xmlReadMemory(xml, (int)len, "nodedev.xml", NULL,
				XML_PARSE_NONET | XML_PARSE_NOERROR |
				XML_PARSE_NOWARNING);
	root = doc ? sym_xmlDocGetRootElement(doc) : NULL;
	if (root == NULL || !named(root, "device")) {
		sym_xmlFreeDoc(doc);
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
	sym_xmlFreeDoc(doc);
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

/* A <domain> document, or NULL. */
static xmlDoc *read_domain(const char *xml, size_t len)
{
	xmlDoc *doc;
	const xmlNode *root;

	if (len > (size_t)INT32_MAX)
		return NULL;
	doc = sym_xmlReadMemory(xml, (int)len, "domain.xml", NULL,
				XML_PARSE_NONET | XML_PARSE_NOERROR |
				XML_PARSE_NOWARNING);
	root = doc ? sym_xmlDocGetRootElement(doc) : NULL;
	if (root == NULL || !named(root, "domain")) {
		sym_xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}

int lvnodedev_domain_hostdevs(const char *xml, size_t len,
			      struct pci_addr **out, size_t *n)
{
	xmlDoc *doc = read_domain(xml, len);
	const xmlNode *devices;

	*out = NULL;
	*n = 0;
	if (doc == NULL)
		return -1;
	devices = child(sym_xmlDocGetRootElement(doc), "devices");
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
	sym_xmlFreeDoc(doc);
	return 0;
}

/* ---- USB devices by where they are plugged in ----------------------------- */

/* "…/3-1.2" of bus 3: "1.2"; NULL for a root hub or another bus. */
static char *port_of_path(const char *path, unsigned bus)
{
	const char *base = path != NULL ? strrchr(path, '/') : NULL;
	char *end;
	unsigned long b;

	base = base != NULL ? base + 1 : path;
	if (base == NULL || *base < '1' || *base > '9')
		return NULL;
	b = strtoul(base, &end, 10);
	if (b != bus || *end != '-' || !usb_port_valid(end + 1))
		return NULL;
	return xstrdup(end + 1);
}

int lvnodedev_parse_usb(const char *xml, size_t len,
			struct lvnodedev_usb *out)
{
	xmlDoc *doc = NULL;
	const xmlNode *root, *cap = NULL;
	int ret = -1;

	*out = (struct lvnodedev_usb){ 0 };
	if (len <= (size_t)INT32_MAX)
		doc = sym_xmlReadMemory(xml, (int)len, "nodedev.xml", NULL,
					XML_PARSE_NONET | XML_PARSE_NOERROR |
					XML_PARSE_NOWARNING);
	root = doc ? sym_xmlDocGetRootElement(doc) : NULL;
	for (const xmlNode *c = root && named(root, "device") ? root->children
			       : NULL; c != NULL; c = c->next) {
		cleanup_free char *type = named(c, "capability")
					  ? attr_of(c, "type") : NULL;

		if (type != NULL && strcmp(type, "usb_device") == 0)
			cap = c;
	}
	if (cap != NULL && num_text(cap, "bus", 255, &out->bus) &&
	    num_text(cap, "device", 255, &out->device)) {
		cleanup_free char *path = text_of(child(root, "path"));

		out->port = port_of_path(path, out->bus);
		if (!num_attr(child(cap, "vendor"), "id", 0xffff,
			      &out->vendor_id))
			out->vendor_id = 0;
		if (!num_attr(child(cap, "product"), "id", 0xffff,
			      &out->product_id))
			out->product_id = 0;
		ret = 0;
	}
	sym_xmlFreeDoc(doc);
	if (ret < 0)
		*out = (struct lvnodedev_usb){ 0 };
	return ret;
}

void lvnodedev_usb_clear(struct lvnodedev_usb *dev)
{
	free(dev->port);
	*dev = (struct lvnodedev_usb){ 0 };
}

/* The device number at ports[i] from docs, or 0: none there. */
static unsigned usb_device_at(const char *const *docs, size_t n_docs,
			      const struct lvnodedev_usb_port *p)
{
	unsigned found = 0;

	for (size_t k = 0; found == 0 && k < n_docs; k++) {
		struct lvnodedev_usb d;

		if (lvnodedev_parse_usb(docs[k], strlen(docs[k]), &d) < 0)
			continue;
		if (d.port != NULL && d.bus == p->bus &&
		    strcmp(d.port, p->port) == 0 && d.device > 0)
			found = d.device;
		lvnodedev_usb_clear(&d);
	}
	return found;
}

int lvnodedev_usb_resolve(const char *const *docs, size_t n_docs,
			  const struct lvnodedev_usb_port *ports,
			  size_t n_ports, const char *uri, unsigned *devices,
			  struct vmctl_error **err)
{
	for (size_t i = 0; i < n_ports; i++) {
		const struct lvnodedev_usb_port *p = &ports[i];

		for (size_t j = 0; j < i; j++)
			if (ports[j].bus == p->bus &&
			    strcmp(ports[j].port, p->port) == 0)
				return vmctl_error_set(err, VMCTL_EXIT_SPEC, 0,
						       "%s: usb[%u]: bus %u "
						       "port %s is usb[%u] "
						       "already", uri,
						       p->index, p->bus,
						       p->port,
						       ports[j].index);
		devices[i] = usb_device_at(docs, n_docs, p);
		if (devices[i] == 0)
			return vmctl_error_set(err, VMCTL_EXIT_UNAVAILABLE, 0,
					       "%s: usb[%u]: nothing plugged "
					       "in at bus %u port %s on that "
					       "host", uri, p->index, p->bus,
					       p->port);
	}
	return 0;
}

/* vmctl's mark: /domain/metadata/vmctl:vm. */
static const xmlNode *mark_of(const xmlNode *root)
{
	const xmlNode *meta = child(root, "metadata");

	for (const xmlNode *c = meta ? meta->children : NULL; c != NULL;
	     c = c->next)
		if (named(c, "vm") && c->ns != NULL && c->ns->href != NULL &&
		    strcmp((const char *)c->ns->href, LIBVIRT_XML_NS) == 0)
			return c;
	return NULL;
}

void lvnodedev_usb_ports_free(struct lvnodedev_usb_port *ports, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ports[i].port);
	free(ports);
}

int lvnodedev_domain_usb_ports(const char *xml, size_t len,
			       struct lvnodedev_usb_port **out, size_t *n)
{
	xmlDoc *doc = read_domain(xml, len);
	const xmlNode *mark;

	*out = NULL;
	*n = 0;
	if (doc == NULL)
		return -1;
	mark = mark_of(sym_xmlDocGetRootElement(doc));
	for (const xmlNode *c = mark ? mark->children : NULL; c != NULL;
	     c = c->next) {
		struct lvnodedev_usb_port p = { 0 };

		if (!named(c, "usb") || !num_attr(c, "index", USB_MAX_DEVICES,
						  &p.index) ||
		    !num_attr(c, "bus", 255, &p.bus))
			continue;
		p.port = attr_of(c, "port");
		if (p.port == NULL || !usb_port_valid(p.port)) {
			free(p.port);
			continue;
		}
		*out = xreallocarray(*out, *n + 1, sizeof(**out));
		(*out)[(*n)++] = p;
	}
	sym_xmlFreeDoc(doc);
	return 0;
}

/* The <hostdev type='usb'> under devices whose alias is `alias`. */
static xmlNode *usb_hostdev(xmlNode *devices, const char *alias)
{
	for (xmlNode *h = devices ? devices->children : NULL; h != NULL;
	     h = h->next) {
		cleanup_free char *type = named(h, "hostdev")
					  ? attr_of(h, "type") : NULL;
		cleanup_free char *name = type != NULL
					  ? attr_of(child(h, "alias"), "name")
					  : NULL;

		if (name != NULL && strcmp(type, "usb") == 0 &&
		    strcmp(name, alias) == 0)
			return h;
	}
	return NULL;
}

/* Set attribute `name` to v; true when it was something else. */
static bool set_num(xmlNode *n, const char *name, unsigned v)
{
	unsigned old;
	char s[16];

	if (num_attr(n, name, 0xffff, &old) && old == v)
		return false;
	snprintf(s, sizeof(s), "%u", v);
	sym_xmlSetProp(n, (const xmlChar *)name, (const xmlChar *)s);
	return true;
}

int lvnodedev_domain_usb_set(const char *xml, size_t len,
			     const struct lvnodedev_usb_port *ports,
			     const unsigned *devices, size_t n, char **out)
{
	xmlDoc *doc = read_domain(xml, len);
	xmlNode *devs;
	bool changed = false;
	int ret = -1;

	*out = NULL;
	if (doc == NULL)
		return -1;
	devs = (xmlNode *)child(sym_xmlDocGetRootElement(doc), "devices");
	for (size_t i = 0; i < n; i++) {
		cleanup_free char *alias = xasprintf("ua-usb-host%u",
						     ports[i].index);
		xmlNode *h = usb_hostdev(devs, alias);
		xmlNode *src = h ? (xmlNode *)child(h, "source") : NULL;
		xmlNode *addr = src ? (xmlNode *)child(src, "address") : NULL;

		if (src == NULL)
			goto out;
		if (addr == NULL) {
			addr = sym_xmlNewChild(src, NULL, (const xmlChar *)"address",
					       NULL);
			changed = true;
		}
		changed |= set_num(addr, "bus", ports[i].bus);
		changed |= set_num(addr, "device", devices[i]);
	}
	if (changed) {
		xmlChar *buf = NULL;
		int size = 0;

		sym_xmlDocDumpMemory(doc, &buf, &size);
		*out = xstrdup((const char *)buf);
		sym_xmlFree(buf);
	}
	ret = changed;
out:
	sym_xmlFreeDoc(doc);
	return ret;
}
