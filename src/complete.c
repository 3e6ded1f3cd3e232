// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What an operand of a command may be, read from the command's usage
 * string (complete.h).  Pure.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/complete.h"
#include "vmctl/xalloc.h"

/* The global options that take an argument (cmd_global_docs). */
static bool global_takes_arg(const char *opt)
{
	for (const struct cmd_doc *d = cmd_global_docs; d->term; d++) {
		size_t len = strcspn(d->term, " ,");

		if (strncmp(d->term, opt, len) == 0 && opt[len] == '\0')
			return d->term[len] == ' ';
	}
	return false;
}

bool complete_option_takes_arg(const struct cmd_entry *cmd, const char *opt)
{
	if (strncmp(opt, "--", 2) != 0 || strchr(opt, '=') != NULL)
		return false;
	if (global_takes_arg(opt))
		return true;
	for (const struct option *o = cmd != NULL ? cmd->options : NULL;
	     o != NULL && o->name != NULL; o++)
		if (strcmp(o->name, opt + 2) == 0)
			return o->has_arg == required_argument;
	return false;
}

static bool is_lower_word(const char *s)
{
	if (!islower((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s)
		    && *s != '-' && *s != '_')
			return false;
	return true;
}

/* One operand of one form of the usage. */
struct operand {
	char *text;       /* "NAME", "list", "on|off|status" */
	bool repeat;      /* "SPEC..." */
};

struct form {
	struct operand v[16];
	size_t n;
};

/* The usage's forms ("A | B", "A\n vmctl CMD B"), their operands. */
static size_t parse_forms(const struct cmd_entry *cmd, struct form *forms,
			  size_t max)
{
	cleanup_free char *usage = xstrdup(cmd->usage);
	size_t n = 1;
	bool skip_arg = false, stop = false;
	char *save = NULL;

	memset(forms, 0, sizeof(*forms) * max);
	for (char *t = strtok_r(usage, " \n", &save); t != NULL;
	     t = strtok_r(NULL, " \n", &save)) {
		struct form *f = &forms[n - 1];
		size_t len;

		if (strcmp(t, "|") == 0 || strcmp(t, "vmctl") == 0) {
			n += n < max;
			stop = skip_arg = false;
			if (strcmp(t, "vmctl") == 0)
				skip_arg = true;   /* the command's name */
			continue;
		}
		if (stop)
			continue;
		if (skip_arg) {
			skip_arg = false;
			continue;
		}
		t += strspn(t, "[");
		len = strlen(t);
		while (len > 0 && t[len - 1] == ']')
			t[--len] = '\0';
		if (strcmp(t, "--") == 0) {
			stop = true;
			continue;
		}
		if (t[0] == '-') {
			skip_arg = complete_option_takes_arg(cmd, t);
			continue;
		}
		if (len == 0 || f->n == sizeof(f->v) / sizeof(f->v[0]))
			continue;
		f->v[f->n].repeat = len > 3 && strcmp(t + len - 3, "...") == 0;
		if (f->v[f->n].repeat)
			t[len - 3] = '\0';
		f->v[f->n++].text = xstrdup(t);
	}
	return n;
}

static void forms_clear(struct form *forms, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < forms[i].n; j++)
			free(forms[i].v[j].text);
}

/* A literal operand ("list", "on|off|status", "SIZE|default"): does it
 * admit `word`?  Push its words with `out`.  False for a placeholder. */
static bool literal(const char *text, const char *word, struct strv *out,
		    bool *admits)
{
	cleanup_free char *copy = xstrdup(text);
	bool any = false;
	char *save = NULL;

	*admits = false;
	for (char *c = strtok_r(copy, "|", &save); c != NULL;
	     c = strtok_r(NULL, "|", &save)) {
		if (!is_lower_word(c))
			continue;
		any = true;
		if (word != NULL && strcmp(c, word) == 0)
			*admits = true;
		if (out != NULL && !strv_contains(out, c))
			strv_push(out, c);
	}
	return any;
}

static enum complete_kind placeholder(const char *text)
{
	static const struct {
		const char *name;
		enum complete_kind kind;
	} kinds[] = {
		{ "NAME", COMPLETE_VM }, { "SPEC", COMPLETE_SPEC },
		{ "SELECTOR", COMPLETE_GPU }, { "ADDRESS", COMPLETE_GPU },
		{ "SNAP", COMPLETE_SNAPSHOT }, { "FILE", COMPLETE_FILE },
		{ "DIR", COMPLETE_DIR },
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(text, kinds[i].name) == 0)
			return kinds[i].kind;
	return COMPLETE_NONE;
}

enum complete_kind complete_operand(const struct cmd_entry *cmd,
				    char *const *done, size_t n_done,
				    struct strv *words, const char **vm_name)
{
	struct form forms[8];
	size_t n = parse_forms(cmd, forms, 8);
	enum complete_kind kind = COMPLETE_NONE;

	*vm_name = NULL;
	for (size_t i = 0; i < n; i++) {
		const struct form *f = &forms[i];
		const struct operand *next;
		const char *vm = NULL;
		bool match = true, admits;
		enum complete_kind k;

		for (size_t j = 0; j < n_done && match; j++) {
			const struct operand *o = j < f->n ? &f->v[j]
				: f->n > 0 && f->v[f->n - 1].repeat
				? &f->v[f->n - 1] : NULL;

			if (o == NULL)
				match = false;
			else if (literal(o->text, done[j], NULL, &admits))
				match = admits;
			else if (strcmp(o->text, "NAME") == 0)
				vm = done[j];
		}
		if (!match)
			continue;
		next = n_done < f->n ? &f->v[n_done]
		       : f->n > 0 && f->v[f->n - 1].repeat ? &f->v[f->n - 1]
		       : NULL;
		if (next == NULL)
			continue;
		if (literal(next->text, NULL, words, &admits)) {
			if (kind == COMPLETE_NONE)
				kind = COMPLETE_WORDS;
			continue;
		}
		k = placeholder(next->text);
		if (k != COMPLETE_NONE && (kind == COMPLETE_NONE ||
					   kind == COMPLETE_WORDS)) {
			kind = k;
			*vm_name = vm;
		}
	}
	forms_clear(forms, n);
	return kind;
}
