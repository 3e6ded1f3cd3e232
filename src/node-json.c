// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * JSON front end: cJSON parses and validates, then a small locator walks
 * the text in step with cJSON's tree to give every node its line and
 * column (cJSON records none) and to keep numbers as written, so "4.0" is
 * not silently taken for 4.  The locator can trust the syntax: cJSON has
 * already accepted it.
 */
#include <cJSON.h>
#include <string.h>

#include "vmctl/node.h"
#include "vmctl/xalloc.h"

struct locator {
	const char *file;
	const char *buf;
	size_t len;
	size_t pos;
	unsigned line, col;
	size_t nodes;
	struct vmctl_error **err;
};

static void advance(struct locator *l, size_t n)
{
	for (; n > 0 && l->pos < l->len; n--, l->pos++) {
		unsigned char c = (unsigned char)l->buf[l->pos];

		if (c == '\n') {
			l->line++;
			l->col = 1;
		} else if ((c & 0xc0) != 0x80) {
			l->col++;
		}
	}
}

static char peek(const struct locator *l)
{
	return l->pos < l->len ? l->buf[l->pos] : '\0';
}

static void skip_space(struct locator *l)
{
	while (strchr(" \t\r\n", peek(l)) != NULL && peek(l) != '\0')
		advance(l, 1);
}

static int fail(struct locator *l, const char *msg)
{
	return vmctl_error_at(l->err, l->file, l->line, l->col, NULL, "%s",
			      msg);
}

/* Skip a string literal; refuse \u0000, which cJSON would truncate at. */
static int skip_string(struct locator *l)
{
	advance(l, 1);
	while (l->pos < l->len && peek(l) != '"') {
		if (peek(l) == '\\') {
			if (l->len - l->pos >= 6 &&
			    strncmp(l->buf + l->pos, "\\u0000", 6) == 0)
				return fail(l, "NUL character in a string");
			advance(l, 1);
		}
		advance(l, 1);
	}
	advance(l, 1);
	return 0;
}

static struct node *locate(struct locator *l, const cJSON *item,
			   unsigned depth);

static struct node *new_node(struct locator *l, enum node_kind kind)
{
	if (++l->nodes > NODE_MAX_NODES) {
		fail(l, "document too large (more than 100000 values)");
		return NULL;
	}
	return node_new(kind, l->line, l->col);
}

static struct node *locate_container(struct locator *l, const cJSON *item,
				     unsigned depth)
{
	bool is_map = cJSON_IsObject(item);
	struct node *n;
	const cJSON *child;

	if (depth >= NODE_MAX_DEPTH) {
		fail(l, "nesting deeper than 64 levels");
		return NULL;
	}
	n = new_node(l, is_map ? NODE_MAP : NODE_SEQ);
	if (n == NULL)
		return NULL;
	advance(l, 1);   /* '{' or '[' */
	cJSON_ArrayForEach(child, item) {
		struct node *key = NULL, *value;

		skip_space(l);
		if (is_map) {
			key = new_node(l, NODE_SCALAR);
			if (key == NULL || skip_string(l) < 0)
				goto fail;
			key->text = xstrdup(child->string);
			key->quoted = true;
			skip_space(l);
			advance(l, 1);   /* ':' */
		}
		value = locate(l, child, depth + 1);
		if (value == NULL)
			goto fail;
		node_append(n, key, value);
		skip_space(l);
		advance(l, 1);   /* ',' or the closing bracket */
		continue;
fail:
		node_free(key);
		node_free(n);
		return NULL;
	}
	if (item->child == NULL) {
		skip_space(l);
		advance(l, 1);   /* closing bracket of an empty container */
	}
	return n;
}

static struct node *locate(struct locator *l, const cJSON *item,
			   unsigned depth)
{
	struct node *n;
	size_t start;

	skip_space(l);
	if (cJSON_IsObject(item) || cJSON_IsArray(item))
		return locate_container(l, item, depth);
	n = new_node(l, NODE_SCALAR);
	if (n == NULL)
		return NULL;
	if (cJSON_IsString(item)) {
		if (skip_string(l) < 0) {
			node_free(n);
			return NULL;
		}
		n->text = xstrdup(item->valuestring);
		n->quoted = true;
		return n;
	}
	/* Numbers, true, false, null: keep the text as written. */
	start = l->pos;
	while (l->pos < l->len && strchr(",]} \t\r\n", peek(l)) == NULL)
		advance(l, 1);
	n->text = xstrndup(l->buf + start, l->pos - start);
	return n;
}

/*
 * Before cJSON builds anything: refuse documents nested deeper than we
 * accept or with more values than we accept, so hostile input costs a
 * linear scan, not cJSON's allocations (and cJSON's own depth limit, 1000,
 * never speaks first).  Returns 1 for an all-blank document.
 */
static int prescan(struct locator *l)
{
	unsigned depth = 0;
	size_t values = 0;
	bool blank = true, in_string = false;

	for (size_t i = 0; i < l->len; i++) {
		char c = l->buf[i];

		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
			continue;
		}
		if (strchr(" \t\r\n", c) == NULL)
			blank = false;
		if (c == '"') {
			in_string = true;
		} else if (c == '[' || c == '{') {
			values++;
			if (++depth > NODE_MAX_DEPTH) {
				advance(l, i);
				return fail(l, "nesting deeper than 64 levels");
			}
		} else if (c == ']' || c == '}') {
			if (depth > 0)
				depth--;
		} else if (c == ',') {
			values++;
		}
		if (values > NODE_MAX_NODES) {
			advance(l, i);
			return fail(l, "document too large (more than 100000 "
				       "values)");
		}
	}
	return blank ? 1 : 0;
}

int node_json_parse(const char *file, const char *buf, size_t len,
		    struct node **out, struct vmctl_error **err)
{
	struct locator l = {
		.file = file, .buf = buf, .len = len, .line = 1, .col = 1,
		.err = err,
	};
	const char *end = NULL;
	cJSON *doc;
	struct node *root;

	switch (prescan(&l)) {
	case -1:
		return -1;
	case 1:
		/* Nothing but blanks: an empty document, as in YAML. */
		root = node_new(NODE_SCALAR, 1, 1);
		root->text = xstrdup("");
		*out = root;
		return 0;
	}
	l = (struct locator){
		.file = file, .buf = buf, .len = len, .line = 1, .col = 1,
		.err = err,
	};
	doc = cJSON_ParseWithLengthOpts(buf, len, &end, false);
	if (doc == NULL) {
		size_t off = end ? (size_t)(end - buf) : 0;
		unsigned line, col;

		if (off > len)
			off = len;
		node_position(buf, off, &line, &col);
		if (off >= len)
			return vmctl_error_at(err, file, line, col, NULL,
					      "JSON syntax error: unexpected "
					      "end of input");
		return vmctl_error_at(err, file, line, col, NULL,
				      "JSON syntax error near '%c'",
				      buf[off] >= 0x20 && buf[off] < 0x7f
					      ? buf[off] : '?');
	}
	root = locate(&l, doc, 0);
	cJSON_Delete(doc);
	if (root == NULL)
		return -1;
	skip_space(&l);
	if (l.pos < l.len) {
		node_free(root);
		return fail(&l, "JSON syntax error: text after the document");
	}
	*out = root;
	return 0;
}
