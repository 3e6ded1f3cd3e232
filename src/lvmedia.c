// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The domain XML of `vmctl cdrom` and `vmctl disk resize` on a libvirt
 * host (lvmedia.h).
 */
#include <stdint.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "vmctl/lazylib.h"
#include "vmctl/lvmedia.h"
#include "vmctl/xalloc.h"

static xmlDoc *read_xml(const char *xml)
{
	size_t len = strlen(xml);

	if (len > (size_t)INT32_MAX)
		return NULL;
	return sym_xmlReadMemory(xml, (int)len, "domain.xml", NULL,
				 XML_PARSE_NONET | XML_PARSE_NOERROR |
				 XML_PARSE_NOWARNING);
}

static bool named(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE &&
	       strcmp((const char *)n->name, name) == 0;
}

static xmlNode *child(const xmlNode *n, const char *name)
{
	for (xmlNode *c = n != NULL ? n->children : NULL; c; c = c->next)
		if (named(c, name))
			return c;
	return NULL;
}

/* An attribute's value as a new string, or NULL. */
static char *attr(const xmlNode *n, const char *name)
{
	xmlChar *v = n != NULL ? sym_xmlGetProp(n, BAD_CAST name) : NULL;
	char *s = v != NULL ? xstrdup((const char *)v) : NULL;

	sym_xmlFree(v);
	return s;
}

static bool attr_is(const xmlNode *n, const char *name, const char *want)
{
	cleanup_free char *v = attr(n, name);

	return v != NULL && strcmp(v, want) == 0;
}

/* The first /domain/devices/disk[@device=device] for which match() says
 * yes (match NULL: the first). */
static xmlNode *find_disk(xmlDoc *doc, const char *device,
			  bool (*match)(const xmlNode *, const void *),
			  const void *arg)
{
	xmlNode *root = sym_xmlDocGetRootElement(doc);
	xmlNode *devs = root != NULL && named(root, "domain")
			? child(root, "devices") : NULL;

	for (xmlNode *c = devs != NULL ? devs->children : NULL; c; c = c->next)
		if (named(c, "disk") && attr_is(c, "device", device) &&
		    (match == NULL || match(c, arg)))
			return c;
	return NULL;
}

/* The <domain> document, or NULL when the text is none. */
static xmlDoc *read_domain(const char *xml)
{
	xmlDoc *doc = read_xml(xml);
	xmlNode *root = doc != NULL ? sym_xmlDocGetRootElement(doc) : NULL;

	if (root != NULL && named(root, "domain"))
		return doc;
	sym_xmlFreeDoc(doc);
	return NULL;
}

int lvmedia_cdrom_xml(const char *domain_xml, const char *path, char **out)
{
	xmlDoc *doc = read_domain(domain_xml);
	xmlNode *disk, *copy, *next;
	xmlBuffer *buf;
	int ret = 0;

	*out = NULL;
	if (doc == NULL)
		return -1;
	disk = find_disk(doc, "cdrom", NULL, NULL);
	if (disk == NULL)
		goto out;
	copy = sym_xmlDocCopyNode(disk, doc, 1);
	/* The medium's elements go: its source (live: with its index) and
	 * what libvirt read of its backing chain. */
	for (xmlNode *c = copy->children; c; c = next) {
		next = c->next;
		if (named(c, "source") || named(c, "backingStore")) {
			sym_xmlUnlinkNode(c);
			sym_xmlFreeNode(c);
		}
	}
	sym_xmlSetProp(copy, BAD_CAST "type", BAD_CAST "file");
	if (path != NULL) {
		xmlNode *src = sym_xmlNewDocNode(doc, NULL, BAD_CAST "source",
						 NULL);
		xmlNode *driver = child(copy, "driver");

		sym_xmlSetProp(src, BAD_CAST "file", BAD_CAST path);
		if (driver != NULL)
			sym_xmlAddNextSibling(driver, src);
		else
			sym_xmlAddChild(copy, src);
	}
	buf = sym_xmlBufferCreate();
	sym_xmlNodeDump(buf, doc, copy, 0, 0);
	*out = xstrdup((const char *)sym_xmlBufferContent(buf));
	sym_xmlBufferFree(buf);
	sym_xmlFreeNode(copy);
	ret = 1;
out:
	sym_xmlFreeDoc(doc);
	return ret;
}

int lvmedia_cdrom_medium(const char *domain_xml, char **medium)
{
	xmlDoc *doc = read_domain(domain_xml);
	xmlNode *disk;
	int ret = 0;

	*medium = NULL;
	if (doc == NULL)
		return -1;
	disk = find_disk(doc, "cdrom", NULL, NULL);
	if (disk != NULL) {
		xmlNode *src = child(disk, "source");

		*medium = attr(src, "file");
		if (*medium == NULL)
			*medium = attr(src, "dev");
		ret = 1;
	}
	sym_xmlFreeDoc(doc);
	return ret;
}

/* Is the disk's source file the volume `arg` (a name, in any
 * directory)? */
static bool on_volume(const xmlNode *disk, const void *arg)
{
	const char *volume = arg;
	cleanup_free char *file = attr(child(disk, "source"), "file");
	const char *base;

	if (file == NULL)
		return false;
	base = strrchr(file, '/');
	return strcmp(base != NULL ? base + 1 : file, volume) == 0;
}

int lvmedia_disk_target(const char *domain_xml, const char *volume,
			char **target)
{
	xmlDoc *doc = read_domain(domain_xml);
	xmlNode *disk;
	int ret = 0;

	*target = NULL;
	if (doc == NULL)
		return -1;
	disk = find_disk(doc, "disk", on_volume, volume);
	if (disk != NULL)
		*target = attr(child(disk, "target"), "dev");
	ret = *target != NULL;
	sym_xmlFreeDoc(doc);
	return ret;
}

/* ---- boot: cdrom-once ---------------------------------------------------- */

static bool boot_order_is(const xmlNode *disk, const void *arg)
{
	return attr_is(child(disk, "boot"), "order", arg);
}

/* The drive first and the disk second, or false. */
static bool cdrom_first(xmlDoc *doc, xmlNode **cdrom, xmlNode **disk)
{
	*cdrom = find_disk(doc, "cdrom", boot_order_is, "1");
	*disk = find_disk(doc, "disk", boot_order_is, "2");
	return *cdrom != NULL && *disk != NULL;
}

/* A user alias ("ua-" and more), the device's qdev id, or NULL. */
static char *user_alias(const xmlNode *dev)
{
	char *a = attr(child(dev, "alias"), "name");

	if (a != NULL && (strncmp(a, "ua-", 3) != 0 || a[3] == '\0')) {
		free(a);
		a = NULL;
	}
	return a;
}

int lvmedia_boot_cdrom_first(const char *domain_xml, char **cdrom_alias,
			     char **disk_alias)
{
	xmlDoc *doc = read_domain(domain_xml);
	xmlNode *cdrom, *disk;
	int ret = 0;

	*cdrom_alias = *disk_alias = NULL;
	if (doc == NULL)
		return -1;
	if (cdrom_first(doc, &cdrom, &disk) && child(cdrom, "source") != NULL) {
		*cdrom_alias = user_alias(cdrom);
		*disk_alias = user_alias(disk);
		ret = *cdrom_alias != NULL && *disk_alias != NULL;
		if (ret == 0) {
			free(*cdrom_alias);
			free(*disk_alias);
			*cdrom_alias = *disk_alias = NULL;
		}
	}
	sym_xmlFreeDoc(doc);
	return ret;
}

int lvmedia_boot_disk_first(const char *domain_xml, char **out)
{
	xmlDoc *doc = read_domain(domain_xml);
	xmlNode *cdrom, *disk;
	int ret = 0;

	*out = NULL;
	if (doc == NULL)
		return -1;
	if (cdrom_first(doc, &cdrom, &disk)) {
		xmlChar *buf = NULL;
		int size = 0;

		sym_xmlSetProp(child(disk, "boot"), BAD_CAST "order", BAD_CAST "1");
		sym_xmlSetProp(child(cdrom, "boot"), BAD_CAST "order",
			       BAD_CAST "2");
		sym_xmlDocDumpMemory(doc, &buf, &size);
		*out = xstrdup((const char *)buf);
		sym_xmlFree(buf);
		ret = 1;
	}
	sym_xmlFreeDoc(doc);
	return ret;
}
