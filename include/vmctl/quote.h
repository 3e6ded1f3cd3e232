/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_QUOTE_H
#define VMCTL_QUOTE_H

#include "vmctl/strv.h"

/* A value for a QEMU option string (QemuOpts/keyval): ',' becomes ",,". */
char *quote_qemu_opt(const char *value);

/* One word for a POSIX shell: left bare when safe, else single-quoted. */
char *quote_shell(const char *word);

/* An argv as one line a shell would split back into the same argv. */
char *quote_shell_argv(const struct strv *argv);

#endif
