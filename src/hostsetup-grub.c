// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * GRUB's kernel command line, computed the way grub-mkconfig computes it
 * (see hostsetup-grub.h), and the one line that appends vmctl's arguments
 * to it.  Reads the root; writes nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "vmctl/hostsetup-boot.h"
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
 * The arguments vmctl's line in TEXT holds for good (the words after
 * "$VAR", less the one-shot's \${vmctl_once}): kept while new ones are
 * tried, so a rerun for another GPU never puts confirmed arguments back
 * on trial.  In /etc/default/grub the line follows the marker; the
 * drop-in (all_lines) is vmctl's whole.
 */
static void kept_words(const char *text, const char *var, bool all_lines,
		       struct strv *words)
{
	cleanup_free char *head = xasprintf("%s=\"$%s ", var, var);
	size_t ml = strlen(MARK), hl = strlen(head);
	bool next = all_lines;

	for (const char *l = text ? text : ""; *l;) {
		size_t n = strcspn(l, "\n");

		if (next && strncmp(l, head, hl) == 0 && n > hl &&
		    l[n - 1] == '"') {
			cleanup_free char *inner = xstrndup(l + hl,
							    n - hl - 1);
			struct strv w = { 0 };

			kcmdline_split(inner, &w);
			for (size_t i = 0; i < w.n; i++)
				if (strcmp(w.v[i], "\\${vmctl_once}") != 0)
					strv_push(words, w.v[i]);
			strv_clear(&w);
		}
		next = all_lines || (strncmp(l, MARK, ml) == 0 && n == ml);
		l += n + (l[n] == '\n');
	}
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

/* Where GRUB keeps its environment block: beside grub.cfg. */
static const char *grubenv(const char *root)
{
	return hs_exists(root, "/boot/grub2") ? "/boot/grub2/grubenv"
					      : "/boot/grub/grubenv";
}

/* NAME's value in the environment block, or NULL. */
static char *grubenv_get(const char *root, const char *name)
{
	cleanup_free char *text = NULL;
	struct vmctl_error *ignored = NULL;
	size_t nl = strlen(name);

	if (hs_read(root, grubenv(root), &text, NULL, &ignored) < 0) {
		vmctl_error_free(ignored);
		return NULL;
	}
	for (const char *l = text; l != NULL && *l;) {
		size_t n = strcspn(l, "\n");

		if (strncmp(l, name, nl) == 0 && l[nl] == '=')
			return xstrndup(l + nl + 1, n - nl - 1);
		l += n + (l[n] == '\n');
	}
	return NULL;
}

/* grub-editenv, or grub2-editenv where GRUB's tools have that name
 * (openSUSE). */
static const char *editenv_program(const char *root)
{
	return !hs_exists(root, "/usr/bin/grub-editenv") &&
	       hs_exists(root, "/usr/bin/grub2-editenv") ? "grub2-editenv"
							 : "grub-editenv";
}

static void editenv(struct strv **list, size_t *n, const char *root,
		    const char *verb, const char *arg)
{
	const char *const c[] = { editenv_program(root), grubenv(root), verb,
				  arg, NULL };

	hs_add_command(list, n, root, c);
}

/*
 * What /etc/grub.d/01_vmctl adds to grub.cfg, after 00_header has loaded
 * the environment block: vmctl_try (set by `grub-editenv ... set`) moves
 * into vmctl_once, which the linux lines carry, and is cleared for the
 * boots after this one; its arguments are used only if clearing it
 * worked (GRUB cannot write on every filesystem), so they are never
 * used twice.  Exported: a menu entry sees only exported variables.
 */
static const char try_script[] =
	"#!/bin/sh\n"
	"# Written by vmctl host-setup: new kernel arguments are tried for "
	"one boot.\n"
	"# `grub-editenv GRUBENV set vmctl_try=ARGS` (host-setup does it) "
	"puts ARGS on\n"
	"# the next boot's kernel command line, and only that boot's: "
	"GRUB clears\n"
	"# vmctl_try first and uses ARGS only if that worked.  The linux "
	"lines carry\n"
	"# them through ${vmctl_once} in GRUB_CMDLINE_LINUX_DEFAULT.  "
	"`vmctl host-setup\n"
	"# --confirm` (keep them) or --undo removes this file.\n"
	"cat << 'EOF'\n"
	"set vmctl_once=\n"
	"if [ -n \"${vmctl_try}\" ]; then\n"
	"  set vmctl_next=\"${vmctl_try}\"\n"
	"  set vmctl_try=\n"
	"  if save_env vmctl_try; then\n"
	"    set vmctl_once=\"${vmctl_next}\"\n"
	"  fi\n"
	"fi\n"
	"export vmctl_once\n"
	"EOF\n";

/* The one-shot script: there while arguments are tried, else gone.
 * Returns 1 when it changes. */
static int plan_script(const char *root, struct hs_plan *plan, bool oneshot,
		       struct vmctl_error **err)
{
	char *old = NULL;
	mode_t mode = 0755;

	if (hs_read(root, HS_GRUB_TRY_SCRIPT, &old, &mode, err) < 0)
		return -1;
	return hs_add_edit(plan, HS_GRUB_TRY_SCRIPT, old,
			   oneshot ? xstrdup(try_script) : NULL, 0755);
}

/* The environment block armed for the one boot that tries MISSING (after
 * update-grub), or the variable gone once they are kept. */
static void plan_arm(const char *root, struct hs_plan *plan,
		     const struct strv *missing, bool oneshot, bool changed)
{
	cleanup_free char *joined = kcmdline_join(missing);
	cleanup_free char *armed = grubenv_get(root, "vmctl_try");
	cleanup_free char *set = xasprintf("vmctl_try=%s", joined);

	if (!oneshot) {
		if (armed != NULL)
			editenv(&plan->commands, &plan->n_commands, root,
				"unset", "vmctl_try");
		return;
	}
	strv_extend(&plan->tried, missing);
	free(plan->oneshot);
	plan->oneshot = xasprintf("%s %s set %s", editenv_program(root),
				  grubenv(root), set);
	editenv(&plan->undo_commands, &plan->n_undo_commands, root, "unset",
		"vmctl_try");
	strv_clear(&plan->arm);
	strv_push(&plan->arm, editenv_program(root));
	strv_push(&plan->arm, grubenv(root));
	strv_push(&plan->arm, "set");
	strv_push(&plan->arm, set);
	if (kcmdline_has_all(&plan->running, missing)) {
		strv_push(&plan->notes, "the new kernel arguments are in "
			  "effect on this boot (the one-shot): if it works, "
			  "`vmctl host-setup --confirm` keeps them");
	} else if (armed == NULL || strcmp(armed, joined) != 0 || changed) {
		editenv(&plan->commands, &plan->n_commands, root, "set", set);
		plan->armed = true;
	}
}

int hs_plan_grub(const char *root, struct hs_plan *plan, const char *var,
		 struct vmctl_error **err)
{
	cleanup_free char *base = NULL, *line = NULL;
	char *text = NULL, *dropin = NULL, *next_default = NULL;
	char *next_dropin = NULL;
	struct strv before = { 0 }, after = { 0 }, missing = { 0 };
	struct strv want = { 0 }, kept = { 0 };
	struct src *d = NULL;
	size_t nd = 0;
	bool grub_d = sources_grub_d(root), oneshot;
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
	/* What is there for good, vmctl's own line too while arguments are
	 * tried: only new ones go on trial. */
	if (plan->mode == HS_MODE_ONESHOT && plan->boot == HS_BOOT_GRUB) {
		kept_words(text, var, false, &kept);
		kept_words(dropin, var, true, &kept);
		strv_extend(&before, &kept);
	}
	for (size_t i = 0; i < plan->kargs.n; i++) {
		struct strv one = { 0 };

		strv_push(&one, plan->kargs.v[i]);
		if (!kcmdline_has_all(&before, &one))
			strv_push(&missing, plan->kargs.v[i]);
		strv_clear(&one);
	}
	/* One-shot: the line carries GRUB's ${vmctl_once} (kept literally
	 * by the shell: \$), which the boot that tries them fills in. */
	oneshot = plan->mode == HS_MODE_ONESHOT && plan->boot == HS_BOOT_GRUB
		  && missing.n > 0;
	if (oneshot)
		strv_push(&want, "${vmctl_once}");
	else
		strv_extend(&want, &plan->kargs);
	if (missing.n > 0 || kept.n > 0) {
		cleanup_free char *words = kcmdline_join(oneshot || kept.n
							 ? &kept : &missing);

		line = xasprintf("%s=\"$%s %s%s%s\"\n", var, var, words,
				 oneshot && *words ? " " : "",
				 oneshot ? "\\${vmctl_once}" : "");
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
		if (verify(next_default, d, nd, var, &want, dict, &after,
			   err) < 0)
			goto out_next;
		srcs_clear(d, nd);
		d = NULL;
		nd = 0;
	}
	free(plan->cmdline);
	if (oneshot) {
		/* what the boot that tries them gets */
		cleanup_free char *have = kcmdline_join(&before);
		cleanup_free char *add = kcmdline_join(&missing);

		plan->cmdline = xasprintf("%s%s%s", have, *have ? " " : "",
					  add);
	} else {
		plan->cmdline = kcmdline_join(&after);
	}
	free(plan->kargs_file);
	plan->kargs_file = xstrdup(grub_d ? HS_GRUB_DROPIN : GRUB_DEFAULT);
	changed |= hs_add_edit(plan, GRUB_DEFAULT, text, next_default, mode);
	text = NULL;
	if (dropin != NULL || next_dropin != NULL)
		changed |= hs_add_edit(plan, HS_GRUB_DROPIN, dropin,
				       next_dropin, dmode);
	dropin = next_dropin = NULL;
	if (plan->boot == HS_BOOT_GRUB) {
		int script = plan_script(root, plan, oneshot, err);

		if (script < 0)
			goto out;
		changed |= script;
		if (changed)
			hs_regen_boot(root, plan->boot, &plan->commands,
				      &plan->n_commands);
		plan_arm(root, plan, &missing, oneshot, changed);
	}
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
	strv_clear(&want);
	strv_clear(&kept);
	return ret;
}
