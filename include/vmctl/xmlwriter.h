/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_XMLWRITER_H
#define VMCTL_XMLWRITER_H

#include <stddef.h>

/*
 * S with &, <, >, ' and " (and tab, newline, carriage return, which a
 * parser would turn into spaces inside attributes) as character
 * references, for text and attribute values alike; NULL when S holds a
 * control character XML 1.0 cannot carry.  Free the result.
 */
char *xml_escape(const char *s);

/*
 * The document being written: elements at an indent of two spaces a
 * level.  The first string XML cannot carry is kept in `bad` (and the
 * caller fails with it at the end); `s` is the text, freed by the caller.
 * Zero-initialize.
 */
struct xml_doc {
	char *s;
	size_t len, cap;
	int depth;
	const char *bad;
};

void xml_doc_append(struct xml_doc *d, const char *s);   /* as it is */
void xml_doc_escaped(struct xml_doc *d, const char *s);  /* escaped */
/* Attributes are name, value pairs up to a NULL name; a NULL value
 * leaves its attribute out. */
void xml_doc_open(struct xml_doc *d, const char *name, ...);   /* <name ...> */
void xml_doc_empty(struct xml_doc *d, const char *name, ...);  /* <name .../> */
void xml_doc_text(struct xml_doc *d, const char *name, const char *text,
		  ...);                         /* <name ...>text</name> */
void xml_doc_close(struct xml_doc *d, const char *name);       /* </name> */

#endif
