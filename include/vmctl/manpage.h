/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_MANPAGE_H
#define VMCTL_MANPAGE_H

#include <stdio.h>

#include "vmctl/cmd.h"

/*
 * The man pages, in man(7) roff, from the tables vmctl itself runs on:
 * vmctl(1) from the command table (usage, summary, help, long options),
 * the global options and the exit codes; vmctl-spec(5) from the schema's
 * keys (spec_schema_keys()), each described by its entry in docs/spec.md
 * (spec_md: that file's text).  A key spec.md does not describe is listed
 * with MANPAGE_UNDOCUMENTED, which the tests look for.  date: the pages'
 * date (YYYY-MM-DD).
 */
#define MANPAGE_UNDOCUMENTED "(not described in docs/spec.md)"

void manpage_vmctl(FILE *out, const struct cmd_entry *const *table,
		   const char *date);
void manpage_spec(FILE *out, const char *spec_md, const char *date);

/* `vmctl __man 1 [DATE]` and `vmctl __man 5 SPEC_MD [DATE]`. */
int manpage_main(int argc, char **argv);

#endif
