/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_QUOTE_H
#define VMCTL_QUOTE_H

#include <stdbool.h>

#include "vmctl/strv.h"

/* A value for a QEMU option string (QemuOpts/keyval): ',' becomes ",,". */
char *quote_qemu_opt(const char *value);

/* One word for a POSIX shell: left bare when safe, else single-quoted. */
char *quote_shell(const char *word);

/* An argv as one line a shell would split back into the same argv. */
char *quote_shell_argv(const struct strv *argv);

/*
 * A word for a configuration file that reads "..." with backslash escapes
 * and expands '%' tokens, as ssh_config and systemd unit files do: with
 * `quoted`, in double quotes with '"' and '\' escaped; with `percent`,
 * every '%' doubled.
 */
char *quote_config(const char *value, bool quoted, bool percent);

#endif
