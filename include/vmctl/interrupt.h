/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_INTERRUPT_H
#define VMCTL_INTERRUPT_H

#include <stdbool.h>

/*
 * Ctrl-C, SIGTERM and SIGHUP during long work (create, wait): instead of
 * dying halfway, vmctl notes the signal, the waits that poll see it and
 * fail, and the failure path undoes what was done, as for any error.
 */
void interrupt_catch(void);
bool interrupt_pending(void);

#endif
