/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_KCMDLINE_H
#define VMCTL_KCMDLINE_H

#include <stdbool.h>

#include "vmctl/strv.h"

/*
 * Kernel command lines as the kernel reads them: words split on blanks,
 * double quotes protecting blanks inside a word.  Words keep their exact
 * text, so an edit changes only the words it is about.  Keys compare the
 * way the kernel does: "vfio-pci.ids" and "vfio_pci.ids" are one key.
 */
void kcmdline_split(const char *line, struct strv *words);
char *kcmdline_join(const struct strv *words);

/* Make KEY=VALUE the value of KEY: the first word with that key is
 * replaced, later ones dropped, or the word is appended.  True if the
 * words changed. */
bool kcmdline_set(struct strv *words, const char *key, const char *value);
/* Drop every word with KEY; true if one was there. */
bool kcmdline_remove(struct strv *words, const char *key);
/* Does WORD set KEY (quotes ignored, '-' and '_' alike)? */
bool kcmdline_same_key(const char *word, const char *key);

/* Do two words set the same key to the same value (quotes ignored)? */
bool kcmdline_same_word(const char *a, const char *b);
/* Is each of `want` one of `words`, as a whole word ("vfio-pci.ids=A" is
 * not in "vfio-pci.ids=A,B")? */
bool kcmdline_has_all(const struct strv *words, const struct strv *want);

/* The value of KEY ("" for a bare flag), or NULL. */
const char *kcmdline_get(const struct strv *words, const char *key);

#endif
