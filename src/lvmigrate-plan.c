// SPDX-License-Identifier: GPL-2.0-or-later
/* migrate and move, the pure parts (lvmigrate.h): the flags, the migrate
 * URI, the refusal of host devices, the files a domain has in vmctl's
 * pool and its XML with the destination's paths. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

#include "vmctl/lazylib.h"
#include "vmctl/lvconn.h"
#include "vmctl/lvmigrate.h"
#include "vmctl/lvstore.h"
#include "vmctl/xalloc.h"

unsigned lvmigrate_flags(void)
{
	return VIR_MIGRATE_LIVE | VIR_MIGRATE_PERSIST_DEST |
	       VIR_MIGRATE_UNDEFINE_SOURCE | VIR_MIGRATE_NON_SHARED_INC;
}

char *lvmigrate_migrate_uri(const char *to, const char *given)
{
	cleanup_free char *host = NULL;
	unsigned port;

	if (given != NULL)
		return xstrdup(given);
	if (!lvconn_uri_endpoint(to, &host, &port))
		return NULL;
	return xasprintf(strchr(host, ':') ? "tcp://[%s]" : "tcp://%s", host);
}

static xmlDoc *parse(const char *xml)
{
	size_t len = strlen(xml);

	if (len > (size_t)INT32_MAX)
		return NULL;
	return sym_xmlReadMemory(xml, (int)len, "domain.xml", NULL,
				 XML_PARSE_NONET | XML_PARSE_NOERROR |
				 XML_PARSE_NOWARNING);
}

/* The nodes of an XPath expression (NULL when none). */
static xmlXPathObject *select_nodes(xmlDoc *doc, const char *expr)
{
	xmlXPathContext *ctx = sym_xmlXPathNewContext(doc);
	xmlXPathObject *o = ctx ? sym_xmlXPathEvalExpression(BAD_CAST expr, ctx)
				: NULL;

	sym_xmlXPathFreeContext(ctx);
	if (o != NULL && (o->nodesetval == NULL ||
			  o->nodesetval->nodeNr == 0)) {
		sym_xmlXPathFreeObject(o);
		o = NULL;
	}
	return o;
}

static char *prop(const xmlNode *n, const char *name)
{
	xmlChar *v = sym_xmlGetProp(n, BAD_CAST name);
	char *s = v ? xstrdup((const char *)v) : NULL;

	sym_xmlFree(v);
	return s;
}

static char *content(const xmlNode *n)
{
	xmlChar *v = sym_xmlNodeGetContent(n);
	char *s = xstrdup(v ? (const char *)v : "");

	sym_xmlFree(v);
	return s;
}

/* "pci 0000:01:00.0" for a PCI host device; its type otherwise. */
static char *describe_hostdev(xmlNode *h)
{
	cleanup_free char *type = prop(h, "type");
	xmlNode *src = NULL;

	for (xmlNode *c = h->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE &&
		    sym_xmlStrEqual(c->name, BAD_CAST "source"))
			src = c;
	for (xmlNode *a = src ? src->children : NULL; a != NULL; a = a->next) {
		cleanup_free char *d = NULL, *b = NULL, *s = NULL, *f = NULL;

		if (a->type != XML_ELEMENT_NODE ||
		    !sym_xmlStrEqual(a->name, BAD_CAST "address"))
			continue;
		d = prop(a, "domain");
		b = prop(a, "bus");
		s = prop(a, "slot");
		f = prop(a, "function");
		if (d && b && s && f)
			return xasprintf("%s %04lx:%02lx:%02lx.%lx",
					 type ? type : "pci",
					 strtoul(d, NULL, 0), strtoul(b, NULL, 0),
					 strtoul(s, NULL, 0),
					 strtoul(f, NULL, 0));
	}
	return xstrdup(type ? type : "device");
}

int lvmigrate_check(const char *xml, char **reason)
{
	xmlDoc *doc = parse(xml);
	xmlXPathObject *o;
	cleanup_free char *what = NULL;

	*reason = NULL;
	if (doc == NULL) {
		*reason = xstrdup("the domain's XML does not parse");
		return -1;
	}
	o = select_nodes(doc, "/domain/devices/hostdev | "
			 "/domain/devices/interface[@type='hostdev']");
	if (o != NULL) {
		what = describe_hostdev(o->nodesetval->nodeTab[0]);
		*reason = xasprintf("it has a passed-through device (hostdev "
				    "%s): VFIO devices cannot migrate; "
				    "`vmctl move` stops it, carries it and "
				    "starts it there", what);
		sym_xmlXPathFreeObject(o);
	}
	sym_xmlFreeDoc(doc);
	return *reason ? -1 : 0;
}

void lvmigrate_files_clear(struct lvmigrate_files *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].path);
		free(f->v[i].volume);
		free(f->v[i].digest);
		free(f->v[i].format);
		free(f->v[i].backing);
		free(f->v[i].backing_format);
	}
	free(f->v);
	*f = (struct lvmigrate_files){ 0 };
}

/* The <backingStore> of a <disk> whose <source file> is the overlay. */
static void disk_backing(xmlNode *src_attr, struct lvmigrate_file *f)
{
	xmlNode *disk = src_attr->parent ? src_attr->parent->parent : NULL;

	for (xmlNode *c = disk ? disk->children : NULL; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE ||
		    !sym_xmlStrEqual(c->name, BAD_CAST "backingStore"))
			continue;
		for (xmlNode *g = c->children; g != NULL; g = g->next) {
			if (g->type != XML_ELEMENT_NODE)
				continue;
			if (sym_xmlStrEqual(g->name, BAD_CAST "format") &&
			    f->backing_format == NULL)
				f->backing_format = prop(g, "type");
			if (sym_xmlStrEqual(g->name, BAD_CAST "source") &&
			    f->backing == NULL)
				f->backing = prop(g, "file");
		}
	}
}

int lvmigrate_files(const char *xml, const char *pool_dir, const char *vm,
		    struct lvmigrate_files *out, struct vmctl_error **err)
{
	xmlDoc *doc = parse(xml);
	xmlXPathObject *o;
	cleanup_free char *disk = xasprintf("%s.qcow2", vm);
	cleanup_free char *seed = xasprintf("%s-seed.iso", vm);
	cleanup_free char *log = xasprintf("%s-serial.log", vm);
	size_t plen = strlen(pool_dir);

	*out = (struct lvmigrate_files){ 0 };
	if (doc == NULL)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "the "
				       "domain's XML does not parse");
	o = select_nodes(doc, "/domain/devices/disk//source/@file | "
			 "/domain/os/kernel | /domain/os/initrd | "
			 "/domain/devices/serial/log/@file");
	for (int i = 0; o != NULL && i < o->nodesetval->nodeNr; i++) {
		xmlNode *n = o->nodesetval->nodeTab[i];
		cleanup_free char *path = content(n);
		struct lvmigrate_file *f;
		const char *vol = path + plen + 1;
		bool seen = false;

		if (strncmp(path, pool_dir, plen) != 0 || path[plen] != '/' ||
		    strchr(vol, '/') != NULL || *vol == '\0')
			continue;
		for (size_t j = 0; j < out->n; j++)
			seen = seen || strcmp(out->v[j].path, path) == 0;
		if (seen)
			continue;
		out->v = xreallocarray(out->v, out->n + 1, sizeof(*out->v));
		f = &out->v[out->n++];
		*f = (struct lvmigrate_file){ .volume = xstrdup(vol) };
		if (lvstore_base_parse(vol, &f->digest, &f->format)) {
			f->kind = LVMIGRATE_BASE;
		} else if (strcmp(vol, disk) == 0) {
			f->kind = LVMIGRATE_DISK;
			if (n->type == XML_ATTRIBUTE_NODE)
				disk_backing(n, f);
		} else if (strcmp(vol, seed) == 0) {
			f->kind = LVMIGRATE_SEED;
		} else {
			f->kind = strcmp(vol, log) == 0 ? LVMIGRATE_LOG
							: LVMIGRATE_OTHER;
		}
		f->path = steal_pointer(&path);
	}
	sym_xmlXPathFreeObject(o);
	sym_xmlFreeDoc(doc);
	return 0;
}

/* Replace the values equal to from[i], in attributes and text, below n. */
static void rewrite_node(xmlNode *n, const char *const *from,
			 const char *const *to, size_t count)
{
	for (; n != NULL; n = n->next) {
		if (n->type == XML_TEXT_NODE && n->content != NULL) {
			for (size_t i = 0; i < count; i++)
				if (strcmp((const char *)n->content,
					   from[i]) == 0) {
					sym_xmlNodeSetContent(n, BAD_CAST to[i]);
					break;
				}
		}
		if (n->type != XML_ELEMENT_NODE)
			continue;
		for (xmlAttr *a = n->properties; a != NULL; a = a->next) {
			xmlChar *v = sym_xmlNodeListGetString(n->doc, a->children,
							      1);

			for (size_t i = 0; v != NULL && i < count; i++)
				if (strcmp((const char *)v, from[i]) == 0) {
					sym_xmlSetProp(n, a->name, BAD_CAST to[i]);
					break;
				}
			sym_xmlFree(v);
		}
		rewrite_node(n->children, from, to, count);
	}
}

char *lvmigrate_rewrite(const char *xml, const char *const *from,
			const char *const *to, size_t n)
{
	xmlDoc *doc = parse(xml);
	xmlChar *buf = NULL;
	int len = 0;
	char *s;

	if (doc == NULL)
		return NULL;
	rewrite_node(sym_xmlDocGetRootElement(doc), from, to, n);
	sym_xmlDocDumpMemory(doc, &buf, &len);
	sym_xmlFreeDoc(doc);
	s = buf ? xstrndup((const char *)buf, (size_t)len) : NULL;
	sym_xmlFree(buf);
	return s;
}
