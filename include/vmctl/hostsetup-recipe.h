/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_HOSTSETUP_RECIPE_H
#define VMCTL_HOSTSETUP_RECIPE_H

#include <cJSON.h>
#include <stdbool.h>

/*
 * What vmctl changed in a file, kept in its manifest entry so that undo
 * can take out exactly that when someone edited the file since:
 *
 *   "lines": ["GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_... iommu=pt\"", ...]
 *            whole lines vmctl added (its own lines)
 *   "words": [{"was": "iommu=soft", "now": "iommu=pt"},
 *             {"was": "", "now": "intel_iommu=on"}, ...]
 *            words vmctl set inside lines that are not its own (a kernel
 *            command line, an `options` line): added (was ""), replaced,
 *            or dropped (now "")
 *
 * Both come from comparing the file before and after each run (its lines,
 * then the words of a line changed in place), so they hold for what
 * grubby or kernelstub wrote as well as for vmctl's own edits, and they
 * accumulate over runs: a later run changing vmctl's own line or word
 * replaces it in the record.  Pure: texts and JSON in, JSON out.
 */

/* Add to `entry`'s lines and words what turned BEFORE (NULL: absent)
 * into AFTER (NULL: removed). */
void hs_recipe_add(cJSON *entry, const char *before, const char *after);

/*
 * CURRENT with the changes in `entry` (lines, words) taken out: vmctl's
 * lines removed, its words put back as they were.  Everything else stays.
 * A line or word of vmctl's that is not there any more (removed or
 * changed by someone) is a conflict: returns -1 and *why says which.
 */
int hs_recipe_revert(const char *current, const cJSON *entry, char **out,
		     char **why);

/* The texts vmctl wrote (and the original), as SHA-256s in "versions":
 * while a file is one of them and nobody else changed it between runs,
 * undo can put the original back byte for byte.  A missing file is a
 * version when it was missing before vmctl. */
void hs_recipe_add_version(cJSON *entry, const char *text);
bool hs_recipe_is_version(const cJSON *entry, const char *text);

#endif
