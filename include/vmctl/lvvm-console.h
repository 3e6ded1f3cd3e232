/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_LVVM_CONSOLE_H
#define VMCTL_LVVM_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

#include <libvirt/libvirt.h>

#include "vmctl/env.h"
#include "vmctl/error.h"

/*
 * A libvirt VM's serial console and its log (--connect), with nothing on
 * the host but libvirtd: the log is a volume of vmctl's pool (virtlogd
 * writes it there), read with virStorageVolDownload; the console is
 * virDomainOpenConsole on a stream.  Same output as the direct backend's
 * `logs` and `console`.
 */

/* Pure: the serial log's volume, "NAME-serial.log" (virtlogd rotates it
 * to NAME-serial.log.1, .2, ...). */
char *lvvm_console_log_name(const char *vm);

/* The keys that leave the console: Ctrl-] (virsh's), or Ctrl-b d (the
 * direct backend's tmux detach).  A Ctrl-b followed by anything else is
 * passed on with it. */
#define LVVM_CONSOLE_ESCAPE 0x1d
#define LVVM_CONSOLE_PREFIX 0x02
struct lvvm_console_keys {
	bool prefix;                /* a Ctrl-b whose next key decides */
};
/* Pure: copy len typed bytes into out (room for len + 1) minus the
 * escape; returns the bytes to send.  *leave: an escape was typed (what
 * was typed after it is dropped). */
size_t lvvm_console_keys_feed(struct lvvm_console_keys *k, const char *in,
			      size_t len, char *out, bool *leave);

/* vmctl logs NAME [-f] [--raw] on a libvirt host. */
int lvvm_console_cmd_logs(const struct vmctl_env *env, const char *name,
			  bool follow, bool raw, struct vmctl_error **err);
/* vmctl console NAME (and attach) on a libvirt host. */
int lvvm_console_cmd_console(const struct vmctl_env *env, const char *name,
			     struct vmctl_error **err);
/* create's: the VM's log as an empty volume of the pool (so a refresh
 * knows it before virtlogd writes), *path_out its path on the host. */
int lvvm_console_make_log(virStoragePoolPtr pool, const char *uri,
			  const char *name, char **path_out,
			  struct vmctl_error **err);
/* The log volumes of the VM (rotated ones too) deleted: destroy's. */
int lvvm_console_delete_logs(virStoragePoolPtr pool, const char *uri,
			     const char *name, struct vmctl_error **err);

#endif
