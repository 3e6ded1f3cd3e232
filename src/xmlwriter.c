// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A small writer of XML documents (xmlwriter.h): escaping, and elements
 * indented two spaces a level, for the documents vmctl hands to libvirt
 * (the domain, storage volumes).  libxml2 reads them back; writing them
 * needs no more than this.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/xalloc.h"
#include "vmctl/xmlwriter.h"

char *xml_escape(const char *s)
{
	size_t cap = strlen(s) * 6 + 1, n = 0;
	char *out = xmalloc(cap);

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		const char *ent = NULL;

		switch (*p) {
		case '&': ent = "&amp;"; break;
		case '<': ent = "&lt;"; break;
		case '>': ent = "&gt;"; break;
		case '\'': ent = "&apos;"; break;
		case '"': ent = "&quot;"; break;
		/* Kept as they are inside attributes, which a parser would
		 * otherwise turn into spaces. */
		case '\t': ent = "&#9;"; break;
		case '\n': ent = "&#10;"; break;
		case '\r': ent = "&#13;"; break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				/* XML 1.0 has no way to say these (0x7f it
				 * could, but no path or name should hold it) */
				free(out);
				return NULL;
			}
		}
		if (ent != NULL) {
			memcpy(out + n, ent, strlen(ent));
			n += strlen(ent);
		} else {
			out[n++] = (char)*p;
		}
	}
	out[n] = '\0';
	return out;
}

void xml_doc_append(struct xml_doc *d, const char *s)
{
	size_t n = strlen(s);

	if (d->len + n + 1 > d->cap) {
		d->cap = (d->len + n + 1) * 2;
		d->s = xrealloc(d->s, d->cap);
	}
	memcpy(d->s + d->len, s, n + 1);
	d->len += n;
}

void xml_doc_escaped(struct xml_doc *d, const char *s)
{
	cleanup_free char *e = xml_escape(s);

	if (e == NULL) {
		if (d->bad == NULL)
			d->bad = s;
		return;
	}
	xml_doc_append(d, e);
}

/* "<name a='v' ...": attributes as name, value pairs up to a NULL name;
 * a NULL value leaves its attribute out. */
static void start_tag(struct xml_doc *d, const char *name, va_list ap)
{
	const char *attr;

	for (int i = 0; i < d->depth; i++)
		xml_doc_append(d, "  ");
	xml_doc_append(d, "<");
	xml_doc_append(d, name);
	while ((attr = va_arg(ap, const char *)) != NULL) {
		const char *value = va_arg(ap, const char *);

		if (value == NULL)
			continue;
		xml_doc_append(d, " ");
		xml_doc_append(d, attr);
		xml_doc_append(d, "='");
		xml_doc_escaped(d, value);
		xml_doc_append(d, "'");
	}
}

/* <name attrs...> and one level deeper */
void xml_doc_open(struct xml_doc *d, const char *name, ...)
{
	va_list ap;

	va_start(ap, name);
	start_tag(d, name, ap);
	va_end(ap);
	xml_doc_append(d, ">\n");
	d->depth++;
}

/* <name attrs.../> */
void xml_doc_empty(struct xml_doc *d, const char *name, ...)
{
	va_list ap;

	va_start(ap, name);
	start_tag(d, name, ap);
	va_end(ap);
	xml_doc_append(d, "/>\n");
}

/* <name attrs...>text</name> */
void xml_doc_text(struct xml_doc *d, const char *name, const char *text,
		     ...)
{
	va_list ap;

	va_start(ap, text);
	start_tag(d, name, ap);
	va_end(ap);
	xml_doc_append(d, ">");
	xml_doc_escaped(d, text);
	xml_doc_append(d, "</");
	xml_doc_append(d, name);
	xml_doc_append(d, ">\n");
}

void xml_doc_close(struct xml_doc *d, const char *name)
{
	d->depth--;
	for (int i = 0; i < d->depth; i++)
		xml_doc_append(d, "  ");
	xml_doc_append(d, "</");
	xml_doc_append(d, name);
	xml_doc_append(d, ">\n");
}
