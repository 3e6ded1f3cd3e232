// SPDX-License-Identifier: GPL-2.0-or-later
/* Quoting for the languages vmctl writes into: QEMU option strings,
 * configuration files (ssh_config, systemd units) and, for display only,
 * POSIX shell words.  Nothing vmctl runs goes through a shell;
 * quote_shell() exists so a printed command can be pasted. */
#include <string.h>

#include "vmctl/quote.h"
#include "vmctl/xalloc.h"

char *quote_qemu_opt(const char *value)
{
	size_t commas = 0, len = strlen(value);
	char *out, *p;

	for (const char *s = value; *s; s++)
		commas += *s == ',';
	out = p = xmalloc(len + commas + 1);
	for (const char *s = value; *s; s++) {
		*p++ = *s;
		if (*s == ',')
			*p++ = ',';
	}
	*p = '\0';
	return out;
}

static const char shell_safe[] =
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	"@%+=:,./_-";

char *quote_shell(const char *word)
{
	size_t len = strlen(word), quotes = 0;
	char *out, *p;

	if (len > 0 && strspn(word, shell_safe) == len)
		return xstrdup(word);
	for (const char *s = word; *s; s++)
		quotes += *s == '\'';
	/* 'it'\''s': each quote closes, escapes and reopens. */
	out = p = xmalloc(len + quotes * 3 + 3);
	*p++ = '\'';
	for (const char *s = word; *s; s++) {
		if (*s == '\'') {
			memcpy(p, "'\\''", 4);
			p += 4;
		} else {
			*p++ = *s;
		}
	}
	*p++ = '\'';
	*p = '\0';
	return out;
}

char *quote_shell_argv(const struct strv *argv)
{
	size_t len = 0, cap = 256;
	char *out = xmalloc(cap);

	out[0] = '\0';
	for (size_t i = 0; i < argv->n; i++) {
		cleanup_free char *w = quote_shell(argv->v[i]);
		size_t wl = strlen(w);

		while (len + wl + 2 > cap) {
			cap *= 2;
			out = xrealloc(out, cap);
		}
		if (i > 0)
			out[len++] = ' ';
		memcpy(out + len, w, wl + 1);
		len += wl;
	}
	return out;
}

char *quote_config(const char *value, bool quoted, bool percent)
{
	char *out = xmalloc(strlen(value) * 2 + 3), *p = out;

	if (quoted)
		*p++ = '"';
	for (const char *s = value; *s != '\0'; s++) {
		if ((quoted && (*s == '"' || *s == '\\')) ||
		    (percent && *s == '%'))
			*p++ = *s == '%' ? '%' : '\\';
		*p++ = *s;
	}
	if (quoted)
		*p++ = '"';
	*p = '\0';
	return out;
}
