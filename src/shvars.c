// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The variables a file of shell assignments sets, evaluated the way
 * `. FILE` would, for the part of the language such files use (see
 * shvars.h).  Pure: text in, variables out.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/shvars.h"
#include "vmctl/xalloc.h"

struct cursor {
	const char *p;
	const char *file;
	unsigned line;
};

/* A value as it is being built: its text, or why it cannot be known. */
struct value {
	char *text;
	size_t len, cap;
	char *why;
};

static void put(struct value *v, const char *s, size_t n)
{
	if (v->len + n + 1 > v->cap) {
		v->cap = (v->len + n + 1) * 2;
		v->text = xrealloc(v->text, v->cap);
	}
	memcpy(v->text + v->len, s, n);
	v->len += n;
	v->text[v->len] = '\0';
}

static void unknown(struct value *v, char *why)
{
	if (v->why == NULL)
		v->why = why;
	else
		free(why);
}

static bool name_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool name_char(char c)
{
	return name_start(c) || (c >= '0' && c <= '9');
}

static void advance(struct cursor *c)
{
	if (*c->p == '\n')
		c->line++;
	c->p++;
}

static int fail(const struct cursor *c, unsigned line,
		struct vmctl_error **err, const char *what)
{
	return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
			       "%s:%u: cannot evaluate %s (host-setup reads "
			       "only plain VAR=value assignments here)",
			       c->file, line, what);
}

/* What starts at p, for messages: up to the end of its line, shortened. */
static char *excerpt(const char *p)
{
	size_t n = strcspn(p, "\n");

	return n > 40 ? xasprintf("%.37s...", p) : xstrndup(p, n);
}

/* Skip a construct that ends at `close` (`...`, $(...), ${...}), minding
 * nested openers for $( and quotes; the cursor ends after it. */
static int skip_until(struct cursor *c, char open, char close,
		      unsigned line, struct vmctl_error **err)
{
	int depth = 1;

	while (*c->p) {
		char ch = *c->p;

		if (ch == '\\' && c->p[1] != '\0') {
			advance(c);
		} else if (ch == '\'' && open != '`') {
			advance(c);
			while (*c->p && *c->p != '\'')
				advance(c);
			if (*c->p == '\0')
				break;
		} else if (ch == close && --depth == 0) {
			advance(c);
			return 0;
		} else if (ch == open && open != close) {
			depth++;
		}
		advance(c);
	}
	return fail(c, line, err, "an unterminated construct");
}

static void expand_name(const struct shvars *vars, const char *name,
			struct value *v)
{
	const struct shvar *var = shvars_find(vars, name);

	if (var == NULL)
		return;   /* unset: empty, as in the shell */
	if (var->value == NULL) {
		unknown(v, xasprintf("$%s, which is %s (%s)", name, var->why,
				     var->where));
		return;
	}
	put(v, var->value, strlen(var->value));
}

/* A `$` expansion at c->p, outside single quotes. */
static int expand(struct cursor *c, const struct shvars *vars,
		  struct value *v, unsigned line, struct vmctl_error **err)
{
	const char *start = c->p;

	advance(c);   /* the $ */
	if (name_start(*c->p)) {
		const char *n = c->p;
		cleanup_free char *name = NULL;

		while (name_char(*c->p))
			advance(c);
		name = xstrndup(n, (size_t)(c->p - n));
		expand_name(vars, name, v);
		return 0;
	}
	if (*c->p == '{') {
		const char *n = c->p + 1, *e = n;

		while (name_char(*e))
			e++;
		if (e > n && *e == '}' && name_start(*n)) {
			cleanup_free char *name = xstrndup(n, (size_t)(e - n));

			while (c->p <= e)
				advance(c);
			expand_name(vars, name, v);
			return 0;
		}
		advance(c);
		if (skip_until(c, '{', '}', line, err) < 0)
			return -1;
		unknown(v, xasprintf("the expansion %.*s", (int)(c->p - start),
				     start));
		return 0;
	}
	if (*c->p == '(') {
		cleanup_free char *what = excerpt(start);

		advance(c);
		if (skip_until(c, '(', ')', line, err) < 0)
			return -1;
		unknown(v, xasprintf("set by the command substitution %s",
				     what));
		return 0;
	}
	if (*c->p != '\0' && ((*c->p >= '0' && *c->p <= '9') ||
			       strchr("@*#?$!-", *c->p) != NULL)) {
		unknown(v, xasprintf("set from the shell parameter $%c",
				     *c->p));
		advance(c);
		return 0;
	}
	put(v, "$", 1);   /* a lone $ is itself */
	return 0;
}

static int backquote(struct cursor *c, struct value *v, unsigned line,
		     struct vmctl_error **err)
{
	cleanup_free char *what = excerpt(c->p);

	advance(c);
	if (skip_until(c, '`', '`', line, err) < 0)
		return -1;
	unknown(v, xasprintf("set by the command substitution %s", what));
	return 0;
}

static int double_quoted(struct cursor *c, const struct shvars *vars,
			 struct value *v, unsigned line,
			 struct vmctl_error **err)
{
	advance(c);   /* the opening quote */
	while (*c->p != '"') {
		if (*c->p == '\0')
			return fail(c, line, err, "an unterminated \"");
		if (*c->p == '\\' && c->p[1] != '\0' &&
		    strchr("$`\"\\\n", c->p[1]) != NULL) {
			advance(c);
			if (*c->p != '\n')
				put(v, c->p, 1);
			advance(c);
		} else if (*c->p == '$') {
			if (expand(c, vars, v, line, err) < 0)
				return -1;
		} else if (*c->p == '`') {
			if (backquote(c, v, line, err) < 0)
				return -1;
		} else {
			put(v, c->p, 1);
			advance(c);
		}
	}
	advance(c);
	return 0;
}

static bool word_end(char ch)
{
	return ch == '\0' || ch == ' ' || ch == '\t' || ch == '\n' ||
	       ch == ';';
}

/* The value of an assignment: a word, up to an unquoted blank. */
static int read_word(struct cursor *c, const struct shvars *vars,
		     struct value *v, unsigned line, struct vmctl_error **err)
{
	put(v, "", 0);
	while (!word_end(*c->p)) {
		char ch = *c->p;

		if (ch == '\\') {
			advance(c);
			if (*c->p == '\0')
				break;
			if (*c->p != '\n')
				put(v, c->p, 1);
			advance(c);
		} else if (ch == '\'') {
			const char *s;

			advance(c);
			s = c->p;
			while (*c->p && *c->p != '\'')
				advance(c);
			if (*c->p == '\0')
				return fail(c, line, err, "an unterminated '");
			put(v, s, (size_t)(c->p - s));
			advance(c);
		} else if (ch == '"') {
			if (double_quoted(c, vars, v, line, err) < 0)
				return -1;
		} else if (ch == '$') {
			if (expand(c, vars, v, line, err) < 0)
				return -1;
		} else if (ch == '`') {
			if (backquote(c, v, line, err) < 0)
				return -1;
		} else if (strchr("&|<>()", ch) != NULL) {
			cleanup_free char *what = excerpt(c->p);
			cleanup_free char *msg = xasprintf("`%s`", what);

			return fail(c, line, err, msg);
		} else {
			put(v, c->p, 1);
			advance(c);
		}
	}
	return 0;
}

static void set(struct shvars *vars, const char *name, struct value *v,
		const char *file, unsigned line)
{
	struct shvar *var = NULL;

	for (size_t i = 0; i < vars->n; i++)
		if (strcmp(vars->v[i].name, name) == 0)
			var = &vars->v[i];
	if (var == NULL) {
		vars->v = xreallocarray(vars->v, vars->n + 1, sizeof(*vars->v));
		var = &vars->v[vars->n++];
		*var = (struct shvar){ .name = xstrdup(name) };
	}
	free(var->value);
	free(var->why);
	free(var->where);
	var->value = v->why ? NULL : steal_pointer(&v->text);
	var->why = steal_pointer(&v->why);
	var->where = xasprintf("%s:%u", file, line);
}

static void skip_blanks(struct cursor *c)
{
	for (;;) {
		if (*c->p == ' ' || *c->p == '\t')
			advance(c);
		else if (c->p[0] == '\\' && c->p[1] == '\n')
			advance(c), advance(c);
		else
			return;
	}
}

/* One statement: [export] NAME=WORD... */
static int statement(struct cursor *c, struct shvars *vars,
		     struct vmctl_error **err)
{
	unsigned line = c->line;
	bool exported = false;

	if (strncmp(c->p, "export", 6) == 0 &&
	    (c->p[6] == ' ' || c->p[6] == '\t')) {
		exported = true;
		c->p += 6;
		skip_blanks(c);
	}
	do {
		const char *n = c->p;
		cleanup_free char *name = NULL;
		struct value v = { 0 };

		while (name_char(*c->p))
			advance(c);
		if (c->p == n || !name_start(*n) ||
		    (*c->p != '=' && !(exported && (word_end(*c->p) ||
						    *c->p == '#')))) {
			cleanup_free char *what = excerpt(n);
			cleanup_free char *msg = xasprintf("`%s`", what);

			return fail(c, line, err, msg);
		}
		name = xstrndup(n, (size_t)(c->p - n));
		if (*c->p == '=') {
			advance(c);
			if (read_word(c, vars, &v, line, err) < 0) {
				free(v.text);
				free(v.why);
				return -1;
			}
			set(vars, name, &v, c->file, line);
			free(v.text);
			free(v.why);
		}
		skip_blanks(c);
	} while (!word_end(*c->p) && *c->p != '#');
	return 0;
}

int shvars_eval(struct shvars *vars, const char *file, const char *text,
		struct vmctl_error **err)
{
	struct cursor c = { .p = text, .file = file, .line = 1 };

	for (;;) {
		skip_blanks(&c);
		if (*c.p == '#') {
			while (*c.p && *c.p != '\n')
				advance(&c);
		}
		if (*c.p == '\0')
			return 0;
		if (*c.p == '\n' || *c.p == ';') {
			advance(&c);
			continue;
		}
		if (statement(&c, vars, err) < 0)
			return -1;
	}
}

const struct shvar *shvars_find(const struct shvars *vars, const char *name)
{
	for (size_t i = 0; i < vars->n; i++)
		if (strcmp(vars->v[i].name, name) == 0)
			return &vars->v[i];
	return NULL;
}

void shvars_clear(struct shvars *vars)
{
	for (size_t i = 0; i < vars->n; i++) {
		free(vars->v[i].name);
		free(vars->v[i].value);
		free(vars->v[i].where);
		free(vars->v[i].why);
	}
	free(vars->v);
	*vars = (struct shvars){ 0 };
}
