// SPDX-License-Identifier: GPL-2.0-or-later
/* The document tree shared by the YAML and JSON front ends. */
#include <stdlib.h>
#include <string.h>

#include "vmctl/node.h"
#include "vmctl/xalloc.h"

struct node *node_new(enum node_kind kind, unsigned line, unsigned col)
{
	struct node *n = xcalloc(1, sizeof(*n));

	n->kind = kind;
	n->line = line;
	n->col = col;
	return n;
}

void node_append(struct node *parent, struct node *key, struct node *value)
{
	/* Grow by doubling; n is a power of two exactly when full. */
	if ((parent->n & (parent->n - 1)) == 0) {
		size_t cap = parent->n ? parent->n * 2 : 1;

		parent->items = xreallocarray(parent->items, cap,
					      sizeof(*parent->items));
		if (parent->kind == NODE_MAP)
			parent->keys = xreallocarray(parent->keys, cap,
						     sizeof(*parent->keys));
	}
	if (parent->kind == NODE_MAP)
		parent->keys[parent->n] = key;
	parent->items[parent->n++] = value;
}

void node_free(struct node *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->n; i++) {
		if (n->keys != NULL)
			node_free(n->keys[i]);
		node_free(n->items[i]);
	}
	free(n->keys);
	free(n->items);
	free(n->text);
	free(n);
}

struct node *node_copy(const struct node *n)
{
	struct node *c = node_new(n->kind, n->line, n->col);

	c->quoted = n->quoted;
	if (n->text != NULL)
		c->text = xstrdup(n->text);
	for (size_t i = 0; i < n->n; i++)
		node_append(c, n->keys ? node_copy(n->keys[i]) : NULL,
			    node_copy(n->items[i]));
	return c;
}

size_t node_count(const struct node *n)
{
	size_t total = 1;

	for (size_t i = 0; i < n->n; i++)
		total += node_count(n->items[i]) + (n->keys ? 1 : 0);
	return total;
}

bool node_is_null(const struct node *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };

	if (n->kind != NODE_SCALAR || n->quoted)
		return false;
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (strcmp(n->text, nulls[i]) == 0)
			return true;
	return false;
}

const char *node_kind_name(const struct node *n)
{
	switch (n->kind) {
	case NODE_MAP:
		return "a mapping";
	case NODE_SEQ:
		return "a list";
	case NODE_SCALAR:
		break;
	}
	if (node_is_null(n))
		return "null";
	return n->quoted ? "a string" : "a scalar";
}

size_t node_refused_at(const char *s, size_t len, unsigned *cp)
{
	const unsigned char *u = (const unsigned char *)s;

	/* 0xc2 and 0xef only lead sequences, so matching bytes is exact. */
	for (size_t i = 0; i + 1 < len; i++) {
		if (u[i] == 0xc2 && u[i + 1] >= 0x80 && u[i + 1] <= 0x9f) {
			*cp = u[i + 1];
			return i;
		}
		if (u[i] == 0xef && i + 2 < len && u[i + 1] == 0xbf &&
		    (u[i + 2] == 0xbe || u[i + 2] == 0xbf)) {
			*cp = 0xfffeu + (u[i + 2] - 0xbeu);
			return i;
		}
	}
	return len;
}

char *node_refused_name(unsigned cp)
{
	return xasprintf("%s U+%04X", cp <= 0x9f ? "C1 control character"
						: "noncharacter", cp);
}

void node_position(const char *buf, size_t off, unsigned *line,
		   unsigned *col)
{
	unsigned l = 1, c = 1;

	for (size_t i = 0; i < off; i++) {
		if (buf[i] == '\n') {
			l++;
			c = 1;
		} else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
			c++;   /* count characters, not UTF-8 continuation bytes */
		}
	}
	*line = l;
	*col = c;
}
