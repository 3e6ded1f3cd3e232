// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/bootcfg.h"
#include "vmctl/kcmdline.h"
#include "vmctl/xalloc.h"

/*
 * Set the args in a command line, touching nothing else: each word keeps
 * its text and the blanks around it.  The first word with a key becomes
 * KEY=VALUE, later ones with that key go (with the blanks before them),
 * and keys not there are appended.
 */
static char *apply(const char *value, const struct karg *args, size_t n)
{
	size_t len = strlen(value), cap = len + 1, o = 0;
	char *out;
	bool *found = xcalloc(n ? n : 1, sizeof(bool));
	const char *p = value, *gap;

	for (size_t i = 0; i < n; i++)
		cap += strlen(args[i].key) + strlen(args[i].value) + 3;
	out = xmalloc(cap);
	while (*p) {
		const char *start;
		bool quoted = false, drop = false;
		char *word, *replace = NULL;

		gap = p;
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (*p == '\0') {
			memcpy(out + o, gap, (size_t)(p - gap));   /* trailing */
			o += (size_t)(p - gap);
			break;
		}
		start = p;
		while (*p && (quoted || (*p != ' ' && *p != '\t' && *p != '\n'))) {
			if (*p == '"')
				quoted = !quoted;
			p++;
		}
		word = xstrndup(start, (size_t)(p - start));
		for (size_t i = 0; i < n; i++) {
			if (!kcmdline_same_key(word, args[i].key))
				continue;
			if (found[i])
				drop = true;
			else
				replace = *args[i].value
					? xasprintf("%s=%s", args[i].key,
						    args[i].value)
					: xstrdup(args[i].key);
			found[i] = true;
			break;
		}
		free(word);
		if (drop)
			continue;   /* the word and the blanks before it */
		memcpy(out + o, gap, (size_t)(start - gap));
		o += (size_t)(start - gap);
		if (replace != NULL) {
			size_t rl = strlen(replace);

			if (o + rl + (size_t)(p - start) + 1 > cap) {
				cap = o + rl + len + 1;
				out = xrealloc(out, cap);
			}
			memcpy(out + o, replace, rl);
			o += rl;
			free(replace);
		} else {
			memcpy(out + o, start, (size_t)(p - start));
			o += (size_t)(p - start);
		}
	}
	/* Appended arguments go before any trailing blanks. */
	{
		size_t trail = 0;
		cleanup_free char *tail = NULL;

		while (trail < o && (out[o - trail - 1] == ' ' ||
				     out[o - trail - 1] == '\t' ||
				     out[o - trail - 1] == '\n'))
			trail++;
		tail = xstrndup(out + o - trail, trail);
		o -= trail;
		for (size_t i = 0; i < n; i++) {
			char *word;
			size_t wl;

			if (found[i])
				continue;
			word = *args[i].value ? xasprintf("%s=%s", args[i].key,
							  args[i].value)
					      : xstrdup(args[i].key);
			wl = strlen(word);
			if (o + wl + 2 + trail > cap) {
				cap = o + wl + 2 + trail + 64;
				out = xrealloc(out, cap);
			}
			if (o > 0)
				out[o++] = ' ';
			memcpy(out + o, word, wl);
			o += wl;
			free(word);
		}
		if (o + trail + 1 > cap)
			out = xrealloc(out, o + trail + 1);
		memcpy(out + o, tail, trail);
		o += trail;
	}
	out[o] = '\0';
	free(found);
	return out;
}

char *bootcfg_edit_words(const char *words, const struct karg *args,
			 size_t n)
{
	return apply(words, args, n);
}

char *bootcfg_edit_cmdline(const char *content, const struct karg *args,
			   size_t n)
{
	size_t len = strcspn(content, "\n");
	cleanup_free char *first = xstrndup(content, len);
	cleanup_free char *edited = apply(first, args, n);

	return xasprintf("%s%s", edited, content[len] ? content + len : "\n");
}

char *bootcfg_edit_entry(const char *content, const struct karg *args,
			 size_t n)
{
	size_t cap = strlen(content) + 1, len = 0;
	char *out = xmalloc(cap);

	out[0] = '\0';
	for (const char *line = content; *line;) {
		size_t l = strcspn(line, "\n");
		const char *p = line;
		char *piece;

		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, "options", 7) == 0 &&
		    (p[7] == ' ' || p[7] == '\t')) {
			cleanup_free char *value =
				xstrndup(p + 8, l - (size_t)(p + 8 - line));
			cleanup_free char *edited = apply(value, args, n);

			piece = xasprintf("%.*s %s", (int)(p + 7 - line), line,
					  edited);
		} else {
			piece = xstrndup(line, l);
		}
		if (line[l] == '\n') {
			char *withnl = xasprintf("%s\n", piece);

			free(piece);
			piece = withnl;
			l++;
		}
		while (len + strlen(piece) + 1 > cap) {
			cap *= 2;
			out = xrealloc(out, cap);
		}
		memcpy(out + len, piece, strlen(piece) + 1);
		len += strlen(piece);
		free(piece);
		line += l;
	}
	return out;
}

char *bootcfg_replace_word(const char *line, const char *now, const char *was,
			   bool *found)
{
	const char *p = line, *gap;

	*found = false;
	while (*p) {
		const char *start;
		bool quoted = false;

		gap = p;
		while (*p == ' ' || *p == '\t')
			p++;
		start = p;
		while (*p && (quoted || (*p != ' ' && *p != '\t'))) {
			if (*p == '"')
				quoted = !quoted;
			p++;
		}
		if (p == start || (size_t)(p - start) != strlen(now) ||
		    strncmp(start, now, strlen(now)) != 0)
			continue;
		*found = true;
		if (*was != '\0')
			return xasprintf("%.*s%s%s", (int)(start - line), line,
					 was, p);
		/* the word goes with the blanks before it (after it, first) */
		if (gap == line)
			return xstrdup(p + strspn(p, " \t"));
		return xasprintf("%.*s%s", (int)(gap - line), line, p);
	}
	return xstrdup(line);
}
