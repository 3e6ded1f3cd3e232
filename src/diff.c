// SPDX-License-Identifier: GPL-2.0-or-later
/* Unified diffs for plans: a longest-common-subsequence table over lines,
 * which is plenty for configuration files. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/diff.h"
#include "vmctl/xalloc.h"

#define CONTEXT 3

struct lines {
	const char **s;
	size_t *len;
	size_t n;
	bool no_newline_at_end;
};

static void split(const char *text, struct lines *l)
{
	size_t cap = 16;

	l->s = xmalloc(cap * sizeof(*l->s));
	l->len = xmalloc(cap * sizeof(*l->len));
	l->n = 0;
	l->no_newline_at_end = false;
	if (text == NULL)
		return;
	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\n");

		if (l->n == cap) {
			cap *= 2;
			l->s = xreallocarray(l->s, cap, sizeof(*l->s));
			l->len = xreallocarray(l->len, cap, sizeof(*l->len));
		}
		l->s[l->n] = p;
		l->len[l->n++] = n;
		if (p[n] == '\0') {
			l->no_newline_at_end = true;
			break;
		}
		p += n + 1;
	}
}

static bool same(const struct lines *a, size_t i, const struct lines *b,
		 size_t j)
{
	return a->len[i] == b->len[j] &&
	       memcmp(a->s[i], b->s[j], a->len[i]) == 0;
}

struct out {
	char *s;
	size_t len, cap;
};

static void put(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	char *piece;
	size_t n;

	va_start(ap, fmt);
	piece = xvasprintf(fmt, ap);
	va_end(ap);
	n = strlen(piece);
	if (o->len + n + 1 > o->cap) {
		o->cap = (o->len + n + 1) * 2;
		o->s = xrealloc(o->s, o->cap);
	}
	memcpy(o->s + o->len, piece, n + 1);
	o->len += n;
	free(piece);
}

/* An edit script: for each step, ' ', '-' or '+' with indexes. */
struct step {
	char op;
	size_t i, j;
};

char *diff_unified(const char *label, const char *old_text,
		   const char *new_text)
{
	struct lines a, b;
	size_t *lcs, w;
	struct step *steps;
	size_t n_steps = 0, i = 0, j = 0;
	struct out o = { 0 };

	if ((old_text == NULL) == (new_text == NULL) &&
	    (old_text == NULL || strcmp(old_text, new_text) == 0))
		return xstrdup("");
	split(old_text, &a);
	split(new_text, &b);
	w = b.n + 1;
	lcs = xcalloc((a.n + 1) * w, sizeof(*lcs));
	for (size_t x = a.n; x-- > 0;)
		for (size_t y = b.n; y-- > 0;)
			lcs[x * w + y] = same(&a, x, &b, y)
				? lcs[(x + 1) * w + y + 1] + 1
				: lcs[(x + 1) * w + y] > lcs[x * w + y + 1]
				? lcs[(x + 1) * w + y] : lcs[x * w + y + 1];
	steps = xmalloc((a.n + b.n + 1) * sizeof(*steps));
	while (i < a.n || j < b.n) {
		if (i < a.n && j < b.n && same(&a, i, &b, j)) {
			steps[n_steps++] = (struct step){ ' ', i++, j++ };
		} else if (i < a.n && (j == b.n || lcs[(i + 1) * w + j] >=
						   lcs[i * w + j + 1])) {
			/* Deletions first, as diff -u prints them. */
			steps[n_steps++] = (struct step){ '-', i++, j };
		} else {
			steps[n_steps++] = (struct step){ '+', i, j++ };
		}
	}
	put(&o, "--- %s%s\n+++ %s%s\n", old_text ? "a" : "/dev/null",
	    old_text ? label : "", new_text ? "b" : "/dev/null",
	    new_text ? label : "");
	for (size_t k = 0; k < n_steps;) {
		size_t start, end, os, ol = 0, ns, nl = 0;

		if (steps[k].op == ' ') {
			k++;
			continue;
		}
		/* A hunk: this change, joined with any within 2*CONTEXT. */
		start = k > CONTEXT ? k - CONTEXT : 0;
		end = k;
		for (size_t m = k; m < n_steps; m++) {
			if (steps[m].op != ' ')
				end = m;
			else if (m - end > 2 * CONTEXT)
				break;
		}
		end = end + CONTEXT + 1 < n_steps ? end + CONTEXT + 1 : n_steps;
		for (size_t m = start; m < end; m++) {
			ol += steps[m].op != '+';
			nl += steps[m].op != '-';
		}
		os = steps[start].i + (ol ? 1 : 0);
		ns = steps[start].j + (nl ? 1 : 0);
		/* diff -u leaves out a count of 1. */
		put(&o, "@@ -%zu", os);
		if (ol != 1)
			put(&o, ",%zu", ol);
		put(&o, " +%zu", ns);
		if (nl != 1)
			put(&o, ",%zu", nl);
		put(&o, " @@\n");
		for (size_t m = start; m < end; m++) {
			const struct lines *src = steps[m].op == '+' ? &b : &a;
			size_t idx = steps[m].op == '+' ? steps[m].j
							: steps[m].i;

			put(&o, "%c%.*s\n", steps[m].op, (int)src->len[idx],
			    src->s[idx]);
			if (idx + 1 == src->n && src->no_newline_at_end)
				put(&o, "\\ No newline at end of file\n");
		}
		k = end;
	}
	free(lcs);
	free(steps);
	free(a.s);
	free(a.len);
	free(b.s);
	free(b.len);
	return o.s ? o.s : xstrdup("");
}
