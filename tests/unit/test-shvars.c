// SPDX-License-Identifier: GPL-2.0-or-later
/* Shell assignment files as grub-mkconfig sources them. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmctl/shvars.h"

static const char *value(const struct shvars *v, const char *name)
{
	const struct shvar *var = shvars_find(v, name);

	return var ? var->value : NULL;
}

static void test_debian(void)
{
	struct shvars v = { 0 };
	struct vmctl_error *err = NULL;
	const struct shvar *d;

	ok(shvars_eval(&v, "/etc/default/grub",
		       "# If you change this file, run 'update-grub'\n"
		       "GRUB_DEFAULT=0\n"
		       "GRUB_TIMEOUT=5\n"
		       "GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || "
		       "echo Debian`\n"
		       "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash\"\n"
		       "GRUB_CMDLINE_LINUX=\"\"\n"
		       "#GRUB_DISABLE_OS_PROBER=false\n", &err) == 0,
	   "Debian's /etc/default/grub reads");
	is_str(value(&v, "GRUB_CMDLINE_LINUX_DEFAULT"), "quiet splash",
	       "double-quoted value");
	is_str(value(&v, "GRUB_CMDLINE_LINUX"), "", "empty value");
	is_str(value(&v, "GRUB_TIMEOUT"), "5", "bare value");
	d = shvars_find(&v, "GRUB_DISTRIBUTOR");
	ok(d != NULL && d->value == NULL && strstr(d->why, "lsb_release") &&
	   strcmp(d->where, "/etc/default/grub:4") == 0,
	   "a command substitution makes its variable unknown, with where");
	ok(shvars_find(&v, "GRUB_DISABLE_OS_PROBER") == NULL, "comments");

	ok(shvars_eval(&v, "/etc/default/grub.d/50-cloudimg-settings.cfg",
		       "GRUB_CMDLINE_LINUX_DEFAULT=\"console=tty1 "
		       "console=ttyS0\"\n", &err) == 0, "a drop-in");
	is_str(value(&v, "GRUB_CMDLINE_LINUX_DEFAULT"),
	       "console=tty1 console=ttyS0", "a later file overrides");
	ok(shvars_eval(&v, "zz.cfg",
		       "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT"
		       " intel_iommu=on \\${vmctl_once}\"\n", &err) == 0,
	   "a self-reference");
	is_str(value(&v, "GRUB_CMDLINE_LINUX_DEFAULT"),
	       "console=tty1 console=ttyS0 intel_iommu=on ${vmctl_once}",
	       "appended to; \\$ kept literally");
	shvars_clear(&v);
}

static void test_words(void)
{
	struct shvars v = { 0 };
	struct vmctl_error *err = NULL;

	ok(shvars_eval(&v, "f",
		       "A='x \"y\" $B'\n"
		       "export B=\"1\"'2'3\\ 4 C=${B}5 # comment\n"
		       "D=\"two\n"
		       "lines\"; E=$UNSET.\n"
		       "export D\n"
		       "F=a\\\n"
		       "b\n"
		       "G=$ H=#no-comment\n", &err) == 0, "words read");
	is_str(value(&v, "A"), "x \"y\" $B", "single quotes are literal");
	is_str(value(&v, "B"), "123 4", "quotes concatenate; \\ escapes");
	is_str(value(&v, "C"), "123 45", "two assignments, ${NAME}");
	is_str(value(&v, "D"), "two\nlines", "a quote spans lines");
	is_str(value(&v, "E"), ".", "unset is empty");
	is_str(value(&v, "F"), "ab", "backslash-newline continues");
	is_str(value(&v, "G"), "$", "a lone $");
	is_str(value(&v, "H"), "#no-comment", "# inside a word");
	ok(shvars_eval(&v, "g", "X=$(uname -r)\nY=\"$X\"\nZ=${X:-a}\n",
		       &err) == 0, "unknowns read");
	ok(value(&v, "X") == NULL && value(&v, "Y") == NULL &&
	   value(&v, "Z") == NULL, "unknown spreads through $X");
	ok(strstr(shvars_find(&v, "Y")->why, "$X") != NULL,
	   "and says through what");
	shvars_clear(&v);
}

static void refused(const char *text, const char *want)
{
	struct shvars v = { 0 };
	struct vmctl_error *err = NULL;
	int r = shvars_eval(&v, "/etc/default/grub.d/x.cfg", text, &err);

	ok(r < 0 && err != NULL && strstr(err->message, want) != NULL,
	   "refused: %s", want);
	if (err != NULL && strstr(err->message, want) == NULL)
		printf("#   message: %s\n", err->message);
	vmctl_error_free(err);
	shvars_clear(&v);
}

static void test_refused(void)
{
	refused("A=1\nif [ -e /x ]; then A=2; fi\n",
		"/etc/default/grub.d/x.cfg:2: cannot evaluate `if [");
	refused("A=1\n\n. /etc/other\n", "x.cfg:3: cannot evaluate `.");
	refused("A=1 echo hi\n", "x.cfg:1: cannot evaluate `echo hi`");
	refused("A=\"open\n", "x.cfg:1: cannot evaluate an unterminated \"");
	refused("A=x>y\n", "cannot evaluate `>y`");
	refused("f() { A=1; }\n", "cannot evaluate `f()");
}

int main(void)
{
	test_debian();
	test_words();
	test_refused();
	return tap_done();
}
