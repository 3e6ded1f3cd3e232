// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * GRUB's kernel command line, computed the way grub-mkconfig computes it
 * (see hostsetup-grub.h), and the one line that appends vmctl's arguments
 * to it.  Reads the root; writes nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "vmctl/hostsetup-grub.h"
#include "vmctl/hostsetup-root.h"
#include "vmctl/kcmdline.h"
#include "vmctl/shvars.h"
#include "vmctl/xalloc.h"

#define GRUB_DEFAULT "/etc/default/grub"
#define GRUB_D "/etc/default/grub.d"
#define MARK "# vmctl host-setup: kernel arguments for GPU passthrough " \
	"(vmctl host-setup --undo removes them)"

/* A file grub-mkconfig sources, as it is or will be. */
struct src {
	const char *path;
	char *name;     /* grub.d: its file name, for the glob's order */
	char *text;
};

/*
 * Does the target's grub-mkconfig source /etc/default/grub.d (a Debian
 * addition, not upstream GRUB's), and is the directory there?  Its script
 * says (a root without one, a minimal tree, has the directory only where
 * something sources it).  vmctl does not create the directory: without
 * it nothing can come after /etc/default/grub, which then gets the line.
 */
static bool sources_grub_d(const char *root)
{
	static const char *const scripts[] = {
		"/usr/sbin/grub-mkconfig", "/usr/bin/grub-mkconfig",
		"/usr/sbin/grub2-mkconfig", "/usr/bin/grub2-mkconfig",
	};

	if (!hs_exists(root, GRUB_D))
		return false;
	for (size_t i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
		cleanup_free char *text = NULL;
		struct vmctl_error *ignored = NULL;

		if (hs_read(root, scripts[i], &text, NULL, &ignored) < 0) {
			vmctl_error_free(ignored);
			continue;
		}
		if (text != NULL)
			return strstr(text, "/default/grub.d/") != NULL;
	}
	return true;
}

/* TEXT without vmctl's line (the marker and the line after it). */
static char *without_ours(const char *text)
{
	size_t ml = strlen(MARK), len = strlen(text);
	char *out = xmalloc(len + 1);
	size_t o = 0;

	for (const char *l = text; *l;) {
		size_t n = strcspn(l, "\n") + (l[strcspn(l, "\n")] == '\n');

		if (strncmp(l, MARK, ml) == 0 && (l[ml] == '\n' || !l[ml])) {
			l += n;
			l += strcspn(l, "\n");   /* and the assignment */
			l += *l == '\n';
			continue;
		}
		memcpy(out + o, l, n);
		o += n;
		l += n;
	}
	out[o] = '\0';
	return out;
}

/*
 * File names in the order a UTF-8 locale's glob gives them: glibc
 * collates letters and digits first, case folded, punctuation only to
 * break ties.  An approximation, used only to check that the result is
 * the same in either order.
 */
static int dict_cmp(const char *a, const char *b)
{
	const char *p = a, *q = b;

	for (;;) {
		while (*p && !((*p | 32) >= 'a' && (*p | 32) <= 'z') &&
		       !(*p >= '0' && *p <= '9'))
			p++;
		while (*q && !((*q | 32) >= 'a' && (*q | 32) <= 'z') &&
		       !(*q >= '0' && *q <= '9'))
			q++;
		if (!*p || !*q || (*p | 32) != (*q | 32))
			break;
		p++, q++;
	}
	if ((*p | 32) != (*q | 32))
		return (unsigned char)(*p | 32) - (unsigned char)(*q | 32);
	return strcmp(a, b);
}

static int by_c(const void *x, const void *y)
{
	return strcmp(((const struct src *)x)->name,
		      ((const struct src *)y)->name);
}

static int by_dict(const void *x, const void *y)
{
	return dict_cmp(((const struct src *)x)->name,
			((const struct src *)y)->name);
}

static void srcs_clear(struct src *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].text);
	}
	free(v);
}

/* The grub.d files but vmctl's, and vmctl's as `ours` (NULL: none). */
static int grub_d_sources(const char *root, const char *ours,
			  struct src **out, size_t *n,
			  struct vmctl_error **err)
{
	struct strv names = { 0 };
	const char *ours_name = strrchr(HS_GRUB_DROPIN, '/') + 1;

	*out = NULL;
	*n = 0;
	hs_list(root, GRUB_D, ".cfg", &names);
	for (size_t i = 0; i < names.n; i++) {
		cleanup_free char *path = NULL;
		char *text = NULL;

		if (strcmp(names.v[i], ours_name) == 0)
			continue;
		path = xasprintf("%s/%s", GRUB_D, names.v[i]);
		if (hs_read(root, path, &text, NULL, err) < 0) {
			strv_clear(&names);
			srcs_clear(*out, *n);
			return -1;
		}
		*out = xreallocarray(*out, *n + 1, sizeof(**out));
		(*out)[(*n)++] = (struct src){
			.name = xstrdup(names.v[i]),
			.text = text ? text : xstrdup(""),
		};
	}
	strv_clear(&names);
	if (ours != NULL) {
		*out = xreallocarray(*out, *n + 1, sizeof(**out));
		(*out)[(*n)++] = (struct src){ .name = xstrdup(ours_name),
					       .text = xstrdup(ours) };
	}
	return 0;
}

/* What grub-mkconfig's sourcing leaves in GRUB_CMDLINE_LINUX and
 * GRUB_CMDLINE_LINUX_DEFAULT, as words (each variable's words in
 * `words`, LINUX first); *where: the assignment that set `var` last. */
static int evaluate(const char *deflt, struct src *d, size_t nd,
		    const char *var, struct strv *words, char **where,
		    struct vmctl_error **err)
{
	static const char *const vars[] = {
		"GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT",
	};
	struct shvars sv = { 0 };
	int ret = -1;

	if (shvars_eval(&sv, GRUB_DEFAULT, deflt, err) < 0)
		goto out;
	for (size_t i = 0; i < nd; i++) {
		cleanup_free char *path = xasprintf("%s/%s", GRUB_D,
						    d[i].name);

		if (shvars_eval(&sv, path, d[i].text, err) < 0)
			goto out;
	}
	for (size_t i = 0; i < 2; i++) {
		const struct shvar *v = shvars_find(&sv, vars[i]);

		if (v == NULL)
			continue;
		if (v->value == NULL) {
			vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
					"%s: %s is %s: host-setup cannot tell "
					"what grub-mkconfig will put on the "
					"kernel command line", v->where,
					vars[i], v->why);
			goto out;
		}
		kcmdline_split(v->value, words);
		if (where != NULL && strcmp(vars[i], var) == 0)
			*where = xstrdup(v->where);
	}
	ret = 0;
out:
	shvars_clear(&sv);
	return ret;
}

int hs_grub_words(const char *root, struct strv *words,
		  struct vmctl_error **err)
{
	cleanup_free char *text = NULL, *base = NULL;
	struct src *d = NULL;
	size_t nd = 0;
	int ret;

	if (hs_read(root, GRUB_DEFAULT, &text, NULL, err) < 0)
		return -1;
	if (text == NULL)
		return 0;
	base = without_ours(text);
	if (sources_grub_d(root) &&
	    grub_d_sources(root, NULL, &d, &nd, err) < 0)
		return -1;
	qsort(d, nd, sizeof(*d), by_c);
	ret = evaluate(base, d, nd, "", words, NULL, err);
	srcs_clear(d, nd);
	return ret;
}

/* After vmctl's line, every argument must be the last word with its key
 * (the kernel takes the last), in either glob order. */
static int verify(const char *deflt, struct src *d, size_t nd,
		  const char *var, const struct strv *kargs, bool dict,
		  struct strv *words, struct vmctl_error **err)
{
	cleanup_free char *where = NULL;

	qsort(d, nd, sizeof(*d), dict ? by_dict : by_c);
	if (evaluate(deflt, d, nd, var, words, &where, err) < 0)
		return -1;
	for (size_t i = 0; i < kargs->n; i++) {
		const char *last = NULL;

		for (size_t w = 0; w < words->n; w++)
			if (kcmdline_same_key(words->v[w], kargs->v[i]))
				last = words->v[w];
		if (last == NULL || !kcmdline_same_word(last, kargs->v[i]))
			return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				"%s sets %s after vmctl's line%s, so the "
				"kernel would get %s, not %s: make it append "
				"(%s=\"$%s ...\")", where ? where : "?", var,
				dict ? " (in a UTF-8 locale's file order)" : "",
				last ? last : "nothing", kargs->v[i], var,
				var);
	}
	return 0;
}

int hs_plan_grub(const char *root, struct hs_plan *plan, const char *var,
		 struct vmctl_error **err)
{
	cleanup_free char *base = NULL, *line = NULL;
	char *text = NULL, *dropin = NULL, *next_default = NULL;
	char *next_dropin = NULL;
	struct strv before = { 0 }, after = { 0 }, missing = { 0 };
	struct src *d = NULL;
	size_t nd = 0;
	bool grub_d = sources_grub_d(root);
	mode_t mode = 0644, dmode = 0644;
	int changed = 0, ret = -1;

	if (hs_read(root, GRUB_DEFAULT, &text, &mode, err) < 0 ||
	    hs_read(root, HS_GRUB_DROPIN, &dropin, &dmode, err) < 0)
		goto out;
	if (text == NULL) {
		ret = vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				      "%s%s does not exist", root,
				      GRUB_DEFAULT);
		goto out;
	}
	base = without_ours(text);

	/* What the host has without vmctl's line, and what it lacks. */
	if (grub_d && grub_d_sources(root, NULL, &d, &nd, err) < 0)
		goto out;
	qsort(d, nd, sizeof(*d), by_c);
	if (evaluate(base, d, nd, var, &before, NULL, err) < 0)
		goto out;
	srcs_clear(d, nd);
	d = NULL;
	nd = 0;
	for (size_t i = 0; i < plan->kargs.n; i++) {
		struct strv one = { 0 };

		strv_push(&one, plan->kargs.v[i]);
		if (!kcmdline_has_all(&before, &one))
			strv_push(&missing, plan->kargs.v[i]);
		strv_clear(&one);
	}
	if (missing.n > 0) {
		cleanup_free char *joined = kcmdline_join(&missing);

		line = xasprintf("%s=\"$%s %s\"\n", var, var, joined);
	}
	if (grub_d) {
		next_default = xstrdup(base);
		if (line != NULL)
			next_dropin = xasprintf(
				"# Written by vmctl host-setup: kernel "
				"arguments for GPU passthrough.\n# grub-mkconfig "
				"sources this file last (zz- sorts after the "
				"others);\n# `vmctl host-setup --undo` removes "
				"it.\n%s", line);
	} else {
		next_default = line == NULL ? xstrdup(base)
			: xasprintf("%s%s%s\n%s", base,
				    *base && base[strlen(base) - 1] != '\n'
				    ? "\n" : "", MARK, line);
	}

	/* The result, in both orders the glob may take. */
	for (int dict = 0; dict < 2; dict++) {
		strv_clear(&after);
		if (grub_d && grub_d_sources(root, next_dropin, &d, &nd,
					     err) < 0)
			goto out_next;
		if (verify(next_default, d, nd, var, &plan->kargs, dict,
			   &after, err) < 0)
			goto out_next;
		srcs_clear(d, nd);
		d = NULL;
		nd = 0;
		if (dict == 0) {
			free(plan->cmdline);
			plan->cmdline = kcmdline_join(&after);
		}
	}
	free(plan->kargs_file);
	plan->kargs_file = xstrdup(grub_d ? HS_GRUB_DROPIN : GRUB_DEFAULT);
	changed |= hs_add_edit(plan, GRUB_DEFAULT, text, next_default, mode);
	text = NULL;
	if (dropin != NULL || next_dropin != NULL)
		changed |= hs_add_edit(plan, HS_GRUB_DROPIN, dropin,
				       next_dropin, dmode);
	dropin = next_dropin = NULL;
	ret = changed;
	goto out;
out_next:
	free(next_default);
	free(next_dropin);
out:
	srcs_clear(d, nd);
	free(text);
	free(dropin);
	strv_clear(&before);
	strv_clear(&after);
	strv_clear(&missing);
	return ret;
}
