// SPDX-License-Identifier: GPL-2.0-or-later
/* "Did you mean" for keys, values and commands. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/suggest.h"
#include "vmctl/xalloc.h"

/* Optimal string alignment distance, case-insensitive, capped at `cap`. */
static size_t distance(const char *a, const char *b, size_t cap)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *prev2, *prev, *cur, result;

	if (la > 64 || lb > 64)
		return cap + 1;
	if ((la > lb ? la - lb : lb - la) > cap)
		return cap + 1;
	prev2 = xcalloc(lb + 1, sizeof(size_t));
	prev = xcalloc(lb + 1, sizeof(size_t));
	cur = xcalloc(lb + 1, sizeof(size_t));
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]);
			int cb = tolower((unsigned char)b[j - 1]);
			size_t cost = ca != cb;
			size_t d = prev[j] + 1;

			if (cur[j - 1] + 1 < d)
				d = cur[j - 1] + 1;
			if (prev[j - 1] + cost < d)
				d = prev[j - 1] + cost;
			if (i > 1 && j > 1 &&
			    ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb &&
			    prev2[j - 2] + 1 < d)
				d = prev2[j - 2] + 1;
			cur[j] = d;
		}
		size_t *t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	result = prev[lb];
	free(prev2);
	free(prev);
	free(cur);
	return result;
}

const char *suggest_closest(const char *word, const char *const *candidates)
{
	size_t len = strlen(word);
	/* One typo in short words, two in longer ones. */
	size_t cap = len <= 4 ? 1 : 2;
	const char *best = NULL;
	size_t best_d = cap + 1;

	for (size_t i = 0; candidates[i] != NULL; i++) {
		size_t d = distance(word, candidates[i], cap);

		if (d < best_d) {
			best_d = d;
			best = candidates[i];
		}
	}
	return best;
}
