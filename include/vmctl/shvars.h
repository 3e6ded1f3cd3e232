/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_SHVARS_H
#define VMCTL_SHVARS_H

#include <stddef.h>

#include "vmctl/error.h"

/*
 * Shell files of variable assignments, as programs that source them see
 * the variables: /etc/default/grub and /etc/default/grub.d/NAME.cfg,
 * which grub-mkconfig sources one after another.  An evaluator of the
 * part of the shell language such files use, not a shell:
 *
 *   NAME=WORD ...            one or more assignments a statement, statements
 *   export NAME[=WORD] ...   separated by newlines or ';'; # comments
 *   WORD                     plain characters, '...', "...", \c, and
 *                            $NAME / ${NAME} (outside '...'), concatenated;
 *                            quotes may span lines; \newline continues one
 *
 * A value built with anything else ($(...), `...`, ${NAME:-...}, $1, ...)
 * makes its variable *unknown*, remembering where and why, so a file that
 * computes GRUB_DISTRIBUTOR with lsb_release still reads; only a variable
 * someone asks for must be known.  A statement that is not an assignment
 * (if, case, a command, a function, `.`) could set anything: evaluating a
 * file holding one fails, naming FILE:LINE.
 */
struct shvar {
	char *name;
	char *value;    /* NULL: unknown */
	char *where;    /* FILE:LINE of the assignment that set it */
	char *why;      /* unknown: what could not be evaluated */
};

struct shvars {
	struct shvar *v;
	size_t n;
};

/* Evaluate `text` (the content of `file`, named in errors) on top of the
 * variables already in `vars`. */
int shvars_eval(struct shvars *vars, const char *file, const char *text,
		struct vmctl_error **err);

/* The variable, or NULL when nothing set it. */
const struct shvar *shvars_find(const struct shvars *vars, const char *name);

void shvars_clear(struct shvars *vars);

#endif
