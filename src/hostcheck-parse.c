// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Pure parsers of what host-setup writes (hostcheck-intent.h): its
 * manifest, GRUB defaults files as a shell sources them, kernel
 * arguments, modprobe.d, its initramfs-tools hook.
 */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/hostcheck-intent.h"
#include "vmctl/kcmdline.h"
#include "vmctl/xalloc.h"

static char *json_str(cJSON *o, const char *key)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(o, key));

	return s != NULL ? xstrdup(s) : NULL;
}

void hostcheck_split(const char *s, const char *seps, struct strv *out)
{
	while (*s != '\0') {
		size_t n = strcspn(s, seps);

		if (n > 0) {
			cleanup_free char *w = xstrndup(s, n);

			strv_push(out, w);
		}
		s += n + (s[n] != '\0');
	}
}

/* A string of words, or an array of strings (each split too). */
static bool json_words(cJSON *v, const char *seps, struct strv *out)
{
	cJSON *it;

	if (cJSON_IsString(v)) {
		hostcheck_split(v->valuestring, seps, out);
		return true;
	}
	if (!cJSON_IsArray(v))
		return false;
	cJSON_ArrayForEach(it, v)
		if (cJSON_IsString(it))
			hostcheck_split(it->valuestring, seps, out);
	return true;
}

bool hostcheck_intent_parse_manifest(const char *text,
				     struct hostcheck_intent *in)
{
	cJSON *m = cJSON_Parse(text), *v, *it;

	if (!cJSON_IsObject(m)) {
		in->error = xstrdup("not a JSON object");
		cJSON_Delete(m);
		return false;
	}
	in->root = json_str(m, "root");
	in->boot = json_str(m, "boot");
	in->initrd = json_str(m, "initrd");
	in->regen_pending = cJSON_IsTrue(cJSON_GetObjectItem(m,
							     "regen_pending"));
	v = cJSON_GetObjectItem(m, "mode");
	in->one_shot = cJSON_IsTrue(cJSON_GetObjectItem(m, "one_shot")) ||
		       cJSON_IsTrue(cJSON_GetObjectItem(m, "oneshot")) ||
		       (cJSON_IsString(v) &&
			strcmp(v->valuestring, "one-shot") == 0);
	json_words(cJSON_GetObjectItem(m, "tried"), " \t\n", &in->tried);
	v = cJSON_GetObjectItem(m, "files");
	if (cJSON_IsArray(v))
		cJSON_ArrayForEach(it, v) {
			const char *p = cJSON_GetStringValue(
				cJSON_GetObjectItem(it, "path"));

			if (p != NULL && *p == '/')
				strv_push(&in->files, p);
		}
	in->kargs_recorded = json_words(cJSON_GetObjectItem(m, "kargs"),
					" \t\n", &in->kargs);
	json_words(cJSON_GetObjectItem(m, "ids"), ", \t\n", &in->ids);
	v = cJSON_GetObjectItem(m, "functions");
	if (cJSON_IsArray(v)) {
		in->functions_recorded = true;
		cJSON_ArrayForEach(it, v) {
			const char *s = cJSON_IsString(it) ? it->valuestring
				: cJSON_GetStringValue(
					cJSON_GetObjectItem(it, "address"));
			struct pci_addr a;
			char buf[PCI_ADDR_STRLEN];

			if (s != NULL && pci_addr_parse(s, &a) == 0 &&
			    !strv_contains(&in->functions,
					   pci_addr_format(&a, buf)))
				strv_push(&in->functions, buf);
		}
	}
	cJSON_Delete(m);
	return true;
}

/* The arguments host-setup sets (hostsetup_plan()). */
static const char *const setup_keys[] = {
	"intel_iommu", "amd_iommu", "iommu", "vfio-pci.ids",
};

void hostcheck_setup_kargs(const char *line, struct strv *out)
{
	struct strv words = { 0 };

	kcmdline_split(line ? line : "", &words);
	for (size_t i = 0; i < words.n; i++)
		for (size_t k = 0; k < sizeof(setup_keys) /
		     sizeof(setup_keys[0]); k++)
			if (kcmdline_same_key(words.v[i], setup_keys[k]) &&
			    strchr(words.v[i], '=') != NULL) {
				strv_push(out, words.v[i]);
				break;
			}
	strv_clear(&words);
}

static bool same_id_set(const char *a, const char *b)
{
	struct strv x = { 0 }, y = { 0 };
	bool same = true;

	hostcheck_split(a, ",", &x);
	hostcheck_split(b, ",", &y);
	for (size_t i = 0; i < x.n && same; i++)
		same = strv_contains(&y, x.v[i]);
	for (size_t i = 0; i < y.n && same; i++)
		same = strv_contains(&x, y.v[i]);
	strv_clear(&x);
	strv_clear(&y);
	return same;
}

bool hostcheck_karg_in(const struct strv *words, const char *karg)
{
	const char *eq = strchr(karg, '=');
	cleanup_free char *key = xstrndup(karg, eq ? (size_t)(eq - karg)
						  : strlen(karg));
	const char *have = kcmdline_get(words, key);

	if (have == NULL)
		return false;
	if (eq == NULL)
		return true;
	if (kcmdline_same_key(karg, "vfio-pci.ids"))
		return same_id_set(have, eq + 1);
	return strcmp(have, eq + 1) == 0;
}

/* One shell word at *p (quotes, "$VAR" / "${VAR}" of `var` expanded to
 * `value`, others to nothing), up to a blank, '#' or the line's end. */
static char *shell_word(const char **p, const char *var, const char *value)
{
	char *out = xstrdup("");
	const char *s = *p;
	char quote = 0;

	while (*s != '\0' && *s != '\n' &&
	       (quote || (*s != ' ' && *s != '\t' && *s != '#' &&
			  *s != ';'))) {
		cleanup_free char *piece = NULL;
		char *t;

		if ((*s == '"' || *s == '\'') && (!quote || quote == *s)) {
			quote = quote ? 0 : *s;
			s++;
			continue;
		}
		if (*s == '$' && quote != '\'') {
			bool brace = s[1] == '{';
			const char *name = s + 1 + brace;
			size_t n = strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					  "abcdefghijklmnopqrstuvwxyz"
					  "0123456789_");

			s = name + n + (brace && name[n] == '}');
			piece = xstrdup(n == strlen(var) &&
					strncmp(name, var, n) == 0 && value
					? value : "");
		} else {
			if (*s == '\\' && quote != '\'' && s[1] != '\0' &&
			    s[1] != '\n')
				s++;
			piece = xstrndup(s, 1);
			s++;
		}
		t = xasprintf("%s%s", out, piece);
		free(out);
		out = t;
	}
	*p = s;
	return out;
}

bool hostcheck_grub_assign(const char *text, const char *var, char **value)
{
	size_t vl = strlen(var);
	bool assigned = false;

	for (const char *line = text; line != NULL && *line;) {
		const char *p = line + strspn(line, " \t");
		const char *next = strchr(line, '\n');

		if (strncmp(p, "export ", 7) == 0)
			p += 7 + strspn(p + 7, " \t");
		if (strncmp(p, var, vl) == 0 && p[vl] == '=') {
			char *v;

			p += vl + 1;
			v = shell_word(&p, var, *value);
			free(*value);
			*value = v;
			assigned = true;
		}
		line = next ? next + 1 : NULL;
	}
	return assigned;
}

bool hostcheck_parse_modprobe(const char *text, struct strv *softdeps,
			      struct strv *ids)
{
	bool options = false;

	for (const char *line = text; line != NULL && *line;) {
		const char *next = strchr(line, '\n');
		cleanup_free char *l = xstrndup(line, next
			? (size_t)(next - line) : strlen(line));
		struct strv w = { 0 };

		l[strcspn(l, "#")] = '\0';
		hostcheck_split(l, " \t", &w);
		if (w.n >= 4 && strcmp(w.v[0], "softdep") == 0 &&
		    strcmp(w.v[2], "pre:") == 0) {
			bool vfio = false;

			for (size_t i = 3; i < w.n && strcmp(w.v[i], "post:");
			     i++)
				vfio |= kcmdline_same_key(w.v[i], "vfio-pci");
			if (vfio) {
				for (char *c = w.v[1]; *c; c++)
					if (*c == '-')
						*c = '_';
				if (!strv_contains(softdeps, w.v[1]))
					strv_push(softdeps, w.v[1]);
			}
		}
		if (w.n >= 3 && strcmp(w.v[0], "options") == 0 &&
		    kcmdline_same_key(w.v[1], "vfio-pci"))
			for (size_t i = 2; i < w.n; i++)
				if (strncmp(w.v[i], "ids=", 4) == 0) {
					hostcheck_split(w.v[i] + 4, ",", ids);
					options = true;
				}
		strv_clear(&w);
		line = next ? next + 1 : NULL;
	}
	return options;
}

void hostcheck_parse_hook(const char *text, struct strv *addresses)
{
	const char *p = text ? strstr(text, "for dev in") : NULL;
	cleanup_free char *list = NULL;
	struct strv w = { 0 };

	if (p == NULL)
		return;
	p += 10;
	list = xstrndup(p, strcspn(p, ";\n"));
	hostcheck_split(list, " \t", &w);
	for (size_t i = 0; i < w.n; i++) {
		struct pci_addr a;
		char buf[PCI_ADDR_STRLEN];

		if (pci_addr_parse(w.v[i], &a) == 0)
			strv_push(addresses, pci_addr_format(&a, buf));
	}
	strv_clear(&w);
}
