/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_NODE_H
#define VMCTL_NODE_H

#include <stdbool.h>
#include <stddef.h>

#include "vmctl/error.h"

/*
 * The document tree both spec syntaxes parse into.  YAML (libyaml) and JSON
 * (cJSON) each build one of these, with the line and column of every node;
 * a single schema walker (spec-schema.c) then turns it into a struct
 * vmctl_spec.  So the two syntaxes cannot disagree on meaning, and every
 * error can point at a position whatever the syntax.
 *
 * Scalars keep their text.  `quoted` is true for YAML quoted scalars and
 * JSON strings; plain YAML scalars and JSON numbers, booleans and null are
 * unquoted, and the schema resolves them (true/false, integers, null) the
 * way YAML 1.2's core schema does.
 */
enum node_kind {
	NODE_SCALAR,
	NODE_MAP,
	NODE_SEQ,
};

struct node {
	enum node_kind kind;
	unsigned line, col;   /* 1-based */
	/* NODE_SCALAR */
	char *text;
	bool quoted;
	/* NODE_MAP: keys[i] (scalars) -> items[i]; NODE_SEQ: items[i] */
	struct node **keys;
	struct node **items;
	size_t n;
};

/* Limits that keep hostile input cheap: depth and total node count. */
#define NODE_MAX_DEPTH 64
#define NODE_MAX_NODES 100000

struct node *node_new(enum node_kind kind, unsigned line, unsigned col);
void node_append(struct node *parent, struct node *key, struct node *value);
void node_free(struct node *n);
struct node *node_copy(const struct node *n);
size_t node_count(const struct node *n);

/* A plain scalar spelling null: "", "~", "null", "Null", "NULL". */
bool node_is_null(const struct node *n);
const char *node_kind_name(const struct node *n);

/* Parsers (node-yaml.c, node-json.c).  `file` only names the input in
 * error messages; errors are located FILE:LINE:COL diagnostics. */
int node_yaml_parse(const char *file, const char *buf, size_t len,
		    struct node **out, struct vmctl_error **err);
int node_json_parse(const char *file, const char *buf, size_t len,
		    struct node **out, struct vmctl_error **err);

/*
 * Code points no spec may hold, raw or escaped: C1 controls (U+0080 to
 * U+009F) and the noncharacters U+FFFE and U+FFFF.  YAML readers refuse
 * them (libyaml here; PyYAML in the guest's cloud-init, which would then
 * drop the whole user-data), and libyaml reads a raw U+0085 as a line
 * break.  The other noncharacters are let through, as both readers do.
 * Returns the offset of the first one in the UTF-8 text s and sets *cp,
 * or returns len.
 */
size_t node_refused_at(const char *s, size_t len, unsigned *cp);

/* "C1 control character U+0085", "noncharacter U+FFFE": a new string. */
char *node_refused_name(unsigned cp);

/* Line and column (1-based) of byte `off` in buf. */
void node_position(const char *buf, size_t off, unsigned *line,
		   unsigned *col);

#endif
