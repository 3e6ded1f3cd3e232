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

int lvclone_src_parse(const char *xml, struct lvclone_src *out,
		      struct vmctl_error **err)
{
	size_t len = strlen(xml);
	xmlDoc *doc = NULL;
	xmlXPathContext *ctx = NULL;

	*out = (struct lvclone_src){ 0 };
	if (len <= (size_t)INT32_MAX)
		doc = sym_xmlReadMemory(xml, (int)len, "domain.xml", NULL,
					XML_PARSE_NONET | XML_PARSE_NOERROR |
					XML_PARSE_NOWARNING);
	if (doc != NULL)
		ctx = sym_xmlXPathNewContext(doc);
	if (ctx == NULL) {
		sym_xmlFreeDoc(doc);
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "the "
				       "domain's XML does not parse");
	}
#define DISK "/domain/devices/disk[@device='disk'][1]"
	out->overlay = first(ctx, DISK "/source/@file");
	out->base = first(ctx, DISK "/backingStore/source/@file");
	out->base_format = first(ctx, DISK "/backingStore/format/@type");
#undef DISK
	out->kernel = first(ctx, "/domain/os/kernel");
	out->initrd = first(ctx, "/domain/os/initrd");
	out->cdrom = first(ctx, "/domain/devices/disk[@device='cdrom'][1]"
			   "/source/@file");
	sym_xmlXPathFreeContext(ctx);
	sym_xmlFreeDoc(doc);
	return 0;
}

void lvclone_src_clear(struct lvclone_src *s)
{
	free(s->overlay);
	free(s->base);
	free(s->base_format);
	free(s->kernel);
	free(s->initrd);
	free(s->cdrom);
	*s = (struct lvclone_src){ 0 };
}

int lvclone_check(const struct lvclone_check *c, struct vmctl_error **err)
{
	const struct clone_source src = {
		.name = c->src, .state = c->state, .has_disk = true,
	};

	if (c->linked)
		return vmctl_error_set(err, VMCTL_EXIT_USAGE, 0, "--connect "
				       "%s: a linked clone is not supported "
				       "through libvirt (vmctl's libvirt "
				       "volumes have no shared layers): make "
				       "a full clone", c->uri);
	if (clone_plan_check(&src, c->dst, c->dst_domain, false, err) < 0)
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
