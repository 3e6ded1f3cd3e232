/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_SUGGEST_H
#define VMCTL_SUGGEST_H

#include <stddef.h>

/*
 * The candidate closest to `word` by edit distance (insertions, deletions,
 * substitutions and swaps of neighbours), or NULL when none is close enough
 * to be a likely typo.  `candidates` is NULL-terminated.
 */
const char *suggest_closest(const char *word, const char *const *candidates);

#endif
