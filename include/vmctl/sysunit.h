/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_SYSUNIT_H
#define VMCTL_SYSUNIT_H

#include <stdbool.h>

#include "vmctl/env.h"
#include "vmctl/error.h"

/*
 * `vmctl enable/disable NAME`: the VM started at boot by the systemd
 * template unit vmctl@.service (systemd/vmctl@.service.in), as
 * `systemctl enable vmctl@NAME` would do it, written by vmctl itself under
 * a root taken as a parameter (env->systemd_root, VMCTL_SYSTEMD_ROOT):
 *
 *   ROOT/etc/systemd/system/multi-user.target.wants/vmctl@NAME.service
 *       -> the template's path (as seen from the root), a symbolic link
 *   ROOT/etc/systemd/system/vmctl@NAME.service.d/vmctl.conf
 *       only when the VM is not in root's default state dir: the
 *       Environment= lines that make the unit's `vmctl start NAME` find it
 */

#define SYSUNIT_TEMPLATE "vmctl@.service"
#define SYSUNIT_WANTS_DIR "/etc/systemd/system/multi-user.target.wants"
#define SYSUNIT_DROPIN_NAME "vmctl.conf"

/* Where systemd looks for system units, in its order of precedence. */
extern const char *const sysunit_unit_dirs[];

/* What enabling VM `name` writes; paths relative to the systemd root. */
struct sysunit_plan {
	char *link;          /* the wants link */
	char *target;        /* what it points at: the template's path */
	char *dropin_dir;    /* vmctl@NAME.service.d */
	char *dropin;        /* its vmctl.conf's text; NULL: none needed */
};

/*
 * Pure: the plan for VM `name`, the template found at `template_path`;
 * `state_dir` is the VM's (absolute, clean), `default_state_dir` the one
 * vmctl uses as root; `tmux_socket` is VMCTL_TMUX_SOCKET when set, or
 * NULL.  Fails (64) for a name systemd cannot take as an instance, or a
 * value an Environment= line cannot carry (a control character).
 */
int sysunit_plan(const char *name, const char *template_path,
		 const char *state_dir, const char *default_state_dir,
		 const char *tmux_socket, struct sysunit_plan *out,
		 struct vmctl_error **err);
void sysunit_plan_clear(struct sysunit_plan *plan);

/* Pure: `Environment="VAR=VALUE"` with systemd's quoting (\\, \", %%);
 * NULL when VALUE holds a control character. */
char *sysunit_env_line(const char *var, const char *value);

/* Is VM `name` enabled (its wants link present under env's root)? */
bool sysunit_enabled(const struct vmctl_env *env, const char *name);

/*
 * Enable / disable VM `name`: 1 when it already was enabled / was not
 * enabled (nothing changed), 0 when done, -1 with *err.  enable finds the
 * template in sysunit_unit_dirs under the root (69 when not installed),
 * writes the drop-in (atomically) first and the link last (a symlink
 * renamed into place); disable removes the link first, then the drop-in.
 */
int sysunit_enable(const struct vmctl_env *env, const char *name,
		   struct vmctl_error **err);
int sysunit_disable(const struct vmctl_env *env, const char *name,
		    struct vmctl_error **err);

/*
 * For destroy: disable VM `name` only when it is enabled for env's state
 * dir (link and drop-in exactly as enable would write them now; a VM of
 * that name in another state dir keeps its unit).  0 when disabled, 1
 * when there was nothing of ours, -1 with *err.
 */
int sysunit_forget(const struct vmctl_env *env, const char *name,
		   struct vmctl_error **err);

#endif
