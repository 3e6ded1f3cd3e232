// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * YAML front end: libyaml's event parser builds a struct node tree.
 *
 * Events are turned into nodes with an explicit stack, so nesting costs
 * heap, not C stack, and is capped at NODE_MAX_DEPTH.  Anchors are kept by
 * name; an alias is expanded by copying the anchored node, and every node
 * made, copies included, counts against NODE_MAX_NODES, which is what
 * defuses "billion laughs" alias bombs.
 */
#include <string.h>
#include <yaml.h>

#include "vmctl/node.h"
#include "vmctl/xalloc.h"

#define TAG_STR "tag:yaml.org,2002:str"

struct frame {
	struct node *node;
	struct node *key;      /* NODE_MAP: a key waiting for its value */
	char *anchor;          /* registered when the container ends */
};

struct anchor {
	char *name;
	const struct node *node;
};

struct builder {
	const char *file;
	const char *buf;
	size_t len;
	struct node *root;
	struct frame stack[NODE_MAX_DEPTH + 1];
	size_t depth;
	struct anchor *anchors;
	size_t n_anchors;
	size_t nodes;
	struct vmctl_error **err;
};

static int fail_at(struct builder *b, yaml_mark_t mark, const char *msg)
{
	return vmctl_error_at(b->err, b->file, (unsigned)mark.line + 1,
			      (unsigned)mark.column + 1, NULL, "%s", msg);
}

/* Anchors are looked up by a linear scan; a real spec has a handful, and
 * the cap keeps a hostile one from making the scan quadratic. */
#define MAX_ANCHORS 1000

static int anchor_add(struct builder *b, const char *name,
		      const struct node *n, yaml_mark_t mark)
{
	if (b->n_anchors >= MAX_ANCHORS)
		return fail_at(b, mark, "more than 1000 anchors");
	b->anchors = xreallocarray(b->anchors, b->n_anchors + 1,
				   sizeof(*b->anchors));
	b->anchors[b->n_anchors].name = xstrdup(name);
	b->anchors[b->n_anchors].node = n;
	b->n_anchors++;
	return 0;
}

static const struct node *anchor_find(struct builder *b, const char *name)
{
	/* The latest definition of a name wins (YAML allows redefinition). */
	for (size_t i = b->n_anchors; i-- > 0;)
		if (strcmp(b->anchors[i].name, name) == 0)
			return b->anchors[i].node;
	return NULL;
}

/* Hang `n` under the current container, or make it the root. */
static int attach(struct builder *b, struct node *n, yaml_mark_t mark)
{
	struct frame *top;

	if (b->depth == 0) {
		b->root = n;
		return 0;
	}
	top = &b->stack[b->depth - 1];
	if (top->node->kind == NODE_SEQ) {
		node_append(top->node, NULL, n);
	} else if (top->key == NULL) {
		if (n->kind != NODE_SCALAR) {
			node_free(n);
			return fail_at(b, mark,
				       "mapping keys must be plain strings");
		}
		top->key = n;
	} else {
		node_append(top->node, top->key, n);
		top->key = NULL;
	}
	return 0;
}

static int count_nodes(struct builder *b, size_t more, yaml_mark_t mark)
{
	b->nodes += more;
	if (b->nodes > NODE_MAX_NODES)
		return fail_at(b, mark, "document too large (more than 100000 "
				     "nodes, counting alias expansions)");
	return 0;
}

static int on_scalar(struct builder *b, yaml_event_t *ev)
{
	struct node *n;
	const char *tag = (const char *)ev->data.scalar.tag;

	if (count_nodes(b, 1, ev->start_mark) < 0)
		return -1;
	if (memchr(ev->data.scalar.value, '\0', ev->data.scalar.length))
		return fail_at(b, ev->start_mark, "NUL character in a string");
	n = node_new(NODE_SCALAR, (unsigned)ev->start_mark.line + 1,
		     (unsigned)ev->start_mark.column + 1);
	n->text = xstrndup((const char *)ev->data.scalar.value,
			   ev->data.scalar.length);
	n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
		    (tag != NULL && strcmp(tag, TAG_STR) == 0);
	if (ev->data.scalar.anchor != NULL &&
	    anchor_add(b, (const char *)ev->data.scalar.anchor, n,
		       ev->start_mark) < 0) {
		node_free(n);
		return -1;
	}
	return attach(b, n, ev->start_mark);
}

static int on_alias(struct builder *b, yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	const struct node *target = anchor_find(b, name);
	struct node *copy;

	if (target == NULL) {
		cleanup_free char *msg =
			xasprintf("alias *%s names no anchor defined before it",
				  name);
		return fail_at(b, ev->start_mark, msg);
	}
	if (count_nodes(b, node_count(target), ev->start_mark) < 0)
		return -1;
	copy = node_copy(target);
	copy->line = (unsigned)ev->start_mark.line + 1;
	copy->col = (unsigned)ev->start_mark.column + 1;
	return attach(b, copy, ev->start_mark);
}

static int on_start(struct builder *b, yaml_event_t *ev, enum node_kind kind,
		    const yaml_char_t *anchor)
{
	struct node *n;

	if (b->depth >= NODE_MAX_DEPTH)
		return fail_at(b, ev->start_mark,
			       "nesting deeper than 64 levels");
	if (count_nodes(b, 1, ev->start_mark) < 0)
		return -1;
	n = node_new(kind, (unsigned)ev->start_mark.line + 1,
		     (unsigned)ev->start_mark.column + 1);
	if (attach(b, n, ev->start_mark) < 0)
		return -1;
	b->stack[b->depth++] = (struct frame){
		.node = n,
		.anchor = anchor ? xstrdup((const char *)anchor) : NULL,
	};
	return 0;
}

static int on_end(struct builder *b, yaml_mark_t mark)
{
	struct frame *top = &b->stack[--b->depth];
	int ret = 0;

	if (top->anchor != NULL) {
		ret = anchor_add(b, top->anchor, top->node, mark);
		free(top->anchor);
	}
	return ret;
}

static void builder_release(struct builder *b)
{
	while (b->depth > 0) {
		struct frame *top = &b->stack[--b->depth];

		node_free(top->key);
		free(top->anchor);
	}
	for (size_t i = 0; i < b->n_anchors; i++)
		free(b->anchors[i].name);
	free(b->anchors);
}

static int syntax_error(struct builder *b, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "syntax error";

	if (p->error == YAML_MEMORY_ERROR)
		return vmctl_error_set(b->err, VMCTL_EXIT_FAILURE, 0,
				       "%s: out of memory parsing YAML",
				       b->file);
	if (p->error == YAML_READER_ERROR) {
		/* The reader reports a byte offset, not a mark. */
		unsigned line, col;

		node_position(b->buf, p->problem_offset < b->len
				      ? p->problem_offset : b->len, &line, &col);
		return vmctl_error_at(b->err, b->file, line, col, NULL,
				      "YAML syntax error: %s", problem);
	}
	if (p->context != NULL)
		return vmctl_error_at(b->err, b->file,
				      (unsigned)p->problem_mark.line + 1,
				      (unsigned)p->problem_mark.column + 1,
				      NULL, "YAML syntax error: %s %s",
				      p->context, problem);
	return vmctl_error_at(b->err, b->file,
			      (unsigned)p->problem_mark.line + 1,
			      (unsigned)p->problem_mark.column + 1, NULL,
			      "YAML syntax error: %s", problem);
}

static int handle_event(struct builder *b, yaml_event_t *ev, int *documents)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++*documents > 1)
			return fail_at(b, ev->start_mark,
				       "a spec is a single YAML document; "
				       "found a second one");
		return 0;
	case YAML_SCALAR_EVENT:
		return on_scalar(b, ev);
	case YAML_ALIAS_EVENT:
		return on_alias(b, ev);
	case YAML_SEQUENCE_START_EVENT:
		return on_start(b, ev, NODE_SEQ, ev->data.sequence_start.anchor);
	case YAML_MAPPING_START_EVENT:
		return on_start(b, ev, NODE_MAP, ev->data.mapping_start.anchor);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return on_end(b, ev->start_mark);
	default:
		return 0;
	}
}

int node_yaml_parse(const char *file, const char *buf, size_t len,
		    struct node **out, struct vmctl_error **err)
{
	struct builder b = { .file = file, .buf = buf, .len = len, .err = err };
	yaml_parser_t parser;
	int documents = 0, ret = 0;
	bool done = false;

	if (!yaml_parser_initialize(&parser))
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "cannot initialize the YAML parser");
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	while (!done && ret == 0) {
		yaml_event_t ev;

		if (!yaml_parser_parse(&parser, &ev)) {
			ret = syntax_error(&b, &parser);
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		ret = handle_event(&b, &ev, &documents);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	builder_release(&b);
	if (ret < 0) {
		node_free(b.root);
		return -1;
	}
	/* An empty stream is an empty document: a null scalar. */
	if (b.root == NULL) {
		b.root = node_new(NODE_SCALAR, 1, 1);
		b.root->text = xstrdup("");
	}
	*out = b.root;
	return 0;
}
