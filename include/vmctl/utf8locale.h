/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_UTF8LOCALE_H
#define VMCTL_UTF8LOCALE_H

#include "vmctl/env.h"
#include "vmctl/error.h"

/*
 * tmux (3.x) refuses to start without a UTF-8 locale: it tries
 * en_US.UTF-8, then C.UTF-8, then the environment's locale, and otherwise
 * exits with "need UTF-8 locale (LC_CTYPE)".  Minimal roots (an initramfs,
 * a container, a rescue system) have no locale data at all, whatever LANG
 * says.  vmctl carries the C.UTF-8 LC_CTYPE of the system it was built on
 * and, only where no UTF-8 locale can be loaded, installs it under
 * STATE_DIR/locale for the programs it runs.
 *
 * *locpath: NULL when this host can load a UTF-8 locale itself; otherwise
 * the directory to give tmux as LOCPATH.  Fails (69) when the host has
 * none and vmctl was built without one.
 */
int utf8locale_path(const struct vmctl_env *env, char **locpath,
		    struct vmctl_error **err);

/* The embedded LC_CTYPE (generated at build time; may be empty). */
extern const char utf8locale_ctype[];
extern const size_t utf8locale_ctype_len;

#endif
