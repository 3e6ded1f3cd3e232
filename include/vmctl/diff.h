/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_DIFF_H
#define VMCTL_DIFF_H

/*
 * A unified diff of two texts (NULL: the file does not exist), with three
 * lines of context, as `diff -u` prints it; "" when they are equal.  Meant
 * for configuration files of at most a few thousand lines.
 */
char *diff_unified(const char *label, const char *old_text,
		   const char *new_text);

#endif
