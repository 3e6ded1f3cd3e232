// SPDX-License-Identifier: GPL-2.0-or-later
/* Snapshots on a libvirt host, the pure half (lvsnapshot.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "vmctl/lazylib.h"
#include "vmctl/lvsnapshot.h"
#include "vmctl/xalloc.h"
#include "vmctl/xmlwriter.h"

void lvsnapshot_clear(struct lvsnapshot *s)
{
	free(s->name);
	free(s->parent);
	*s = (struct lvsnapshot){ 0 };
}

static xmlDoc *read_xml(const char *xml)
{
	size_t len = strlen(xml);

	if (len > (size_t)INT32_MAX)
		return NULL;
	return sym_xmlReadMemory(xml, (int)len, "snapshot.xml", NULL,
				 XML_PARSE_NONET | XML_PARSE_NOERROR |
				 XML_PARSE_NOWARNING);
}

/* An XPath expression's value as a number, or (str != NULL) a string:
 * "count(...)", "string(...)" ("" when nothing matches). */
static double xpath_value(xmlDoc *doc, const char *expr, char **str)
{
	xmlXPathContext *ctx = sym_xmlXPathNewContext(doc);
	xmlXPathObject *o = ctx ? sym_xmlXPathEvalExpression(BAD_CAST expr, ctx)
				: NULL;
	double v = 0;

	if (str != NULL)
		*str = xstrdup(o != NULL && o->type == XPATH_STRING &&
			       o->stringval ? (const char *)o->stringval : "");
	else if (o != NULL && o->type == XPATH_NUMBER)
		v = o->floatval;
	sym_xmlXPathFreeObject(o);
	sym_xmlXPathFreeContext(ctx);
	return v;
}

static char *nonempty(char *s)
{
	if (s != NULL && *s == '\0') {
		free(s);
		return NULL;
	}
	return s;
}

int lvsnapshot_parse(const char *xml, struct lvsnapshot *out,
		     struct vmctl_error **err)
{
	xmlDoc *doc = read_xml(xml);
	cleanup_free char *state = NULL, *created = NULL;
	char *end = NULL;

	*out = (struct lvsnapshot){ 0 };
	if (doc == NULL || xpath_value(doc, "count(/domainsnapshot)",
				       NULL) != 1) {
		sym_xmlFreeDoc(doc);
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "libvirt's snapshot XML is not a "
				       "<domainsnapshot>");
	}
	xpath_value(doc, "string(/domainsnapshot/name)", &out->name);
	xpath_value(doc, "string(/domainsnapshot/parent/name)", &out->parent);
	xpath_value(doc, "string(/domainsnapshot/state)", &state);
	xpath_value(doc, "string(/domainsnapshot/creationTime)", &created);
	sym_xmlFreeDoc(doc);
	out->parent = nonempty(out->parent);
	if (*out->name == '\0') {
		lvsnapshot_clear(out);
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "libvirt's snapshot XML has no name");
	}
	out->created = (time_t)strtoll(created, &end, 10);
	if (end == created || *end != '\0')
		out->created = 0;
	/* "shutoff" and "disk-snapshot" hold disks only; a snapshot of a
	 * running (or paused) domain holds its memory. */
	out->memory = strcmp(state, "running") == 0 ||
		      strcmp(state, "paused") == 0 ||
		      strcmp(state, "blocked") == 0;
	return 0;
}

char *lvsnapshot_create_xml(const char *name, bool memory)
{
	struct xml_doc d = { 0 };

	xml_doc_open(&d, "domainsnapshot", NULL);
	xml_doc_text(&d, "name", name, NULL);
	xml_doc_empty(&d, "memory", "snapshot", memory ? "internal" : "no",
		      NULL);
	xml_doc_close(&d, "domainsnapshot");
	return d.s;
}

int lvsnapshot_domain_facts(const char *domain_xml, bool *gpu, bool *uefi)
{
	xmlDoc *doc = read_xml(domain_xml);

	*gpu = *uefi = false;
	if (doc == NULL)
		return -1;
	*gpu = xpath_value(doc, "count(/domain/devices/hostdev | "
			   "/domain/devices/interface[@type='hostdev'])",
			   NULL) > 0;
	*uefi = xpath_value(doc, "count(/domain/os/loader[@type='pflash'] | "
			    "/domain/os/nvram | "
			    "/domain/os[@firmware='efi'])", NULL) > 0;
	sym_xmlFreeDoc(doc);
	return 0;
}

int lvsnapshot_plan(enum snapshot_op op, const struct snapshot_vm *vm,
		    bool uefi, struct vmctl_error **err)
{
	struct snapshot_vm v = *vm;
	enum snapshot_tool ignored;

	/* The direct backend's variable stores are not libvirt's: its
	 * reason is below, and its managed save keeps the store. */
	v.vars = v.vars_raw = false;
	if (snapshot_plan(op, &v, &ignored, err) < 0)
		return -1;
	if (op == SNAPSHOT_CREATE && uefi)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "VM %s boots UEFI: libvirt takes no "
				       "internal snapshot of a VM with a "
				       "pflash variable store (vmctl save "
				       "keeps its state)", vm->name);
	if (op == SNAPSHOT_CREATE && vm->running && !vm->memory)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "VM %s is running: libvirt takes an "
				       "internal snapshot of a running VM only "
				       "with its memory (use --memory, or stop "
				       "it first)", vm->name);
	return 0;
}

void lvsnapshot_record(struct lvsnapshot *v, size_t n, const char *current,
		       bool saved, struct snapshot_record *rec,
		       struct snapshot_image **img, size_t *n_img)
{
	*rec = (struct snapshot_record){
		.v = xcalloc(n + 1, sizeof(*rec->v)),
		.n = n,
		.current = current != NULL ? xstrdup(current) : NULL,
		.saved = saved,
	};
	*img = xcalloc(n + 1, sizeof(**img));
	*n_img = n;
	for (size_t i = 0; i < n; i++) {
		(*img)[i] = (struct snapshot_image){
			.name = xstrdup(v[i].name),
			.date = v[i].created,
		};
		rec->v[i] = (struct snapshot){
			.name = v[i].name,
			.parent = v[i].parent,
			.created = v[i].created,
			.memory = v[i].memory,
		};
	}
	free(v);
}

void lvsnapshot_json_remote(cJSON *rows, const char *uri)
{
	cJSON *o;

	cJSON_ArrayForEach(o, rows) {
		cJSON_ReplaceItemInObjectCaseSensitive(o, "vm_state_size",
						       cJSON_CreateNull());
		cJSON_AddStringToObject(o, "backend", "libvirt");
		cJSON_AddStringToObject(o, "host", uri);
	}
}
