/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_BOOTCFG_H
#define VMCTL_BOOTCFG_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Kernel command line edits in bootloader configuration, as pure text
 * transformations: content in, content out.  Everything but the arguments
 * being set stays byte-for-byte: other arguments, their quoting, comments,
 * other variables, line endings.
 */
struct karg {
	const char *key;
	const char *value;   /* "" for a bare flag */
};

/* Words on their own (the rest of a modprobe.d `options` line). */
char *bootcfg_edit_words(const char *words, const struct karg *args,
			 size_t n);
/* /etc/kernel/cmdline: one line of arguments. */
char *bootcfg_edit_cmdline(const char *content, const struct karg *args,
			   size_t n);
/* A Boot Loader Specification entry: every "options" line. */
char *bootcfg_edit_entry(const char *content, const struct karg *args,
			 size_t n);

/* LINE with its first word that is exactly NOW (quotes and all) made
 * WAS, or dropped with the blanks before it when WAS is ""; *found says
 * whether there was one.  What undo does to the words vmctl set. */
char *bootcfg_replace_word(const char *line, const char *now, const char *was,
			   bool *found);

#endif
