// SPDX-License-Identifier: GPL-2.0-or-later
/* clone with --connect, the pure part (lvclone.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

#include "vmctl/clone-plan.h"
#include "vmctl/lazylib.h"
#include "vmctl/lvclone.h"
#include "vmctl/xalloc.h"

#define DISK "/domain/devices/disk[@device='disk'][1]"
/* A chain deeper than this is not one vmctl made. */
#define CHAIN_MAX 64

/* The string value of an XPath expression's first node (NULL: none). */
static char *first(xmlXPathContext *ctx, const char *expr)
{
	xmlXPathObject *o = sym_xmlXPathEvalExpression(BAD_CAST expr, ctx);
	char *s = NULL;

	if (o != NULL && o->nodesetval != NULL && o->nodesetval->nodeNr > 0) {
		xmlChar *v = sym_xmlNodeGetContent(o->nodesetval->nodeTab[0]);

		if (v != NULL && *v != '\0')
			s = xstrdup((const char *)v);
		sym_xmlFree(v);
	}
	sym_xmlXPathFreeObject(o);
	return s;
}

/* The domain's XML and an XPath context on it, or -1 with *err. */
static int doc_open(const char *xml, xmlDoc **doc, xmlXPathContext **ctx,
		    struct vmctl_error **err)
{
	size_t len = strlen(xml);

	*doc = NULL;
	*ctx = NULL;
	if (len <= (size_t)INT32_MAX)
		*doc = sym_xmlReadMemory(xml, (int)len, "domain.xml", NULL,
					 XML_PARSE_NONET | XML_PARSE_NOERROR |
					 XML_PARSE_NOWARNING);
	if (*doc != NULL)
		*ctx = sym_xmlXPathNewContext(*doc);
	if (*ctx == NULL) {
		sym_xmlFreeDoc(*doc);
		*doc = NULL;
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "the "
				       "domain's XML does not parse");
	}
	return 0;
}

static void doc_close(xmlDoc *doc, xmlXPathContext *ctx)
{
	sym_xmlXPathFreeContext(ctx);
	sym_xmlFreeDoc(doc);
}

/* The first disk's chain: each <backingStore>'s file, top first; the
 * last one is the base, with its format. */
static void read_chain(xmlXPathContext *ctx, struct lvclone_src *out)
{
	char *path = xstrdup(DISK "/backingStore");

	for (int depth = 0; depth < CHAIN_MAX; depth++) {
		cleanup_free char *file_expr = xasprintf("%s/source/@file",
							 path);
		cleanup_free char *format_expr = xasprintf("%s/format/@type",
							   path);
		char *file = first(ctx, file_expr), *next;

		if (file == NULL)
			break;
		if (out->base != NULL)
			strv_take(&out->layers, out->base);
		out->base = file;
		free(out->base_format);
		out->base_format = first(ctx, format_expr);
		next = xasprintf("%s/backingStore", path);
		free(path);
		path = next;
	}
	free(path);
}

int lvclone_src_parse(const char *xml, struct lvclone_src *out,
		      struct vmctl_error **err)
{
	xmlDoc *doc;
	xmlXPathContext *ctx;

	*out = (struct lvclone_src){ 0 };
	if (doc_open(xml, &doc, &ctx, err) < 0)
		return -1;
	out->overlay = first(ctx, DISK "/source/@file");
	read_chain(ctx, out);
	out->kernel = first(ctx, "/domain/os/kernel");
	out->initrd = first(ctx, "/domain/os/initrd");
	out->cdrom = first(ctx, "/domain/devices/disk[@device='cdrom'][1]"
			   "/source/@file");
	doc_close(doc, ctx);
	return 0;
}

void lvclone_src_clear(struct lvclone_src *s)
{
	free(s->overlay);
	strv_clear(&s->layers);
	free(s->base);
	free(s->base_format);
	free(s->kernel);
	free(s->initrd);
	free(s->cdrom);
	*s = (struct lvclone_src){ 0 };
}

int lvclone_backing_files(const char *xml, struct strv *out)
{
	struct vmctl_error *ignored = NULL;
	xmlDoc *doc;
	xmlXPathContext *ctx;
	xmlXPathObject *o;

	if (doc_open(xml, &doc, &ctx, &ignored) < 0) {
		vmctl_error_free(ignored);
		return -1;
	}
	o = sym_xmlXPathEvalExpression(BAD_CAST "/domain/devices/disk"
				       "//backingStore/source/@file", ctx);
	for (int i = 0; o != NULL && o->nodesetval != NULL &&
			i < o->nodesetval->nodeNr; i++) {
		xmlChar *v = sym_xmlNodeGetContent(o->nodesetval->nodeTab[i]);

		if (v != NULL && *v != '\0' &&
		    !strv_contains(out, (const char *)v))
			strv_push(out, (const char *)v);
		sym_xmlFree(v);
	}
	sym_xmlXPathFreeObject(o);
	doc_close(doc, ctx);
	return 0;
}

int lvclone_relink_xml(const char *xml, const char *layer, char **out,
		       struct vmctl_error **err)
{
	xmlDoc *doc;
	xmlXPathContext *ctx;
	xmlXPathObject *o;
	xmlNode *old = NULL, *bs, *n;
	xmlChar *mem = NULL;
	int len = 0;

	*out = NULL;
	if (doc_open(xml, &doc, &ctx, err) < 0)
		return -1;
	o = sym_xmlXPathEvalExpression(BAD_CAST DISK "/backingStore", ctx);
	if (o != NULL && o->nodesetval != NULL && o->nodesetval->nodeNr > 0)
		old = o->nodesetval->nodeTab[0];
	sym_xmlXPathFreeObject(o);
	if (old == NULL) {
		doc_close(doc, ctx);
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "the "
				       "domain's disk stands on no base");
	}
	/* <backingStore type='file'><format type='qcow2'/>
	 * <source file='LAYER'/>OLD</backingStore>, where OLD was */
	bs = sym_xmlNewDocNode(doc, NULL, BAD_CAST "backingStore", NULL);
	sym_xmlNewProp(bs, BAD_CAST "type", BAD_CAST "file");
	n = sym_xmlNewChild(bs, NULL, BAD_CAST "format", NULL);
	sym_xmlNewProp(n, BAD_CAST "type", BAD_CAST "qcow2");
	n = sym_xmlNewChild(bs, NULL, BAD_CAST "source", NULL);
	sym_xmlNewProp(n, BAD_CAST "file", BAD_CAST layer);
	sym_xmlReplaceNode(old, bs);
	sym_xmlAddChild(bs, old);
	sym_xmlDocDumpMemory(doc, &mem, &len);
	doc_close(doc, ctx);
	if (mem == NULL)
		abort();
	*out = xstrdup((const char *)mem);
	sym_xmlFree(mem);
	return 0;
}

int lvclone_check(const struct lvclone_check *c, struct vmctl_error **err)
{
	const struct clone_source src = {
		.name = c->src, .state = c->state, .has_disk = c->has_disk,
		.n_snapshots = c->n_snapshots,
	};

	if (clone_plan_check(&src, c->dst, c->dst_domain, c->linked,
			     err) < 0)
		return vmctl_error_wrap(err, "%s", c->uri);
	if (c->dst_volume != NULL)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, EEXIST, "%s: "
				       "volume %s of the pool exists (remove "
				       "it, or pick another name)", c->uri,
				       c->dst_volume);
	if (c->n_snapshots > 0)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "%s: VM %s "
				       "has %zu snapshot%s: through libvirt a "
				       "clone copies its disk file, snapshots "
				       "and all (delete them first)", c->uri,
				       c->src, c->n_snapshots,
				       c->n_snapshots == 1 ? "" : "s");
	return 0;
}
