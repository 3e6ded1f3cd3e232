// SPDX-License-Identifier: GPL-2.0-or-later
/* The roots vmctl works under, from options and VMCTL_* variables. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmctl/env.h"
#include "vmctl/fsutil.h"
#include "vmctl/spec.h"
#include "vmctl/xalloc.h"

/* ROOT_PATH for root; otherwise $XDG_VAR/TAIL, or ~/HOME_DIR/TAIL. */
static char *per_user(const char *root_path, const char *xdg_var,
		      const char *home_dir, const char *tail)
{
	const char *xdg = getenv(xdg_var);
	const char *home = getenv("HOME");

	if (geteuid() == 0)
		return xstrdup(root_path);
	if (xdg != NULL && *xdg == '/')
		return xasprintf("%s/%s", xdg, tail);
	return xasprintf("%s/%s/%s", home ? home : ".", home_dir, tail);
}

static char *default_state_dir(void)
{
	return per_user(ENV_ROOT_STATE_DIR, "XDG_DATA_HOME", ".local/share",
			"vmctl");
}

static char *default_hosts_file(void)
{
	return per_user("/etc/vmctl/hosts.yaml", "XDG_CONFIG_HOME", ".config",
			"vmctl/hosts.yaml");
}

static char *from_env(const char *var, const char *fallback)
{
	const char *v = getenv(var);

	return xstrdup(v != NULL && *v != '\0' ? v : fallback);
}

void env_init(struct vmctl_env *env)
{
	const char *state = getenv("VMCTL_STATE_DIR");
	const char *reserve = getenv("VMCTL_HOST_RESERVE");
	const char *connect = getenv("VMCTL_CONNECT");
	const char *hosts = getenv("VMCTL_HOSTS_FILE");
	const char *mirror = getenv("VMCTL_IMAGE_MIRROR");

	*env = (struct vmctl_env){ 0 };
	env->state_dir = state && *state ? xstrdup(state) : default_state_dir();
	env->sysfs = from_env("VMCTL_SYSFS_ROOT", "/sys");
	env->proc = from_env("VMCTL_PROC_ROOT", "/proc");
	env->dev = from_env("VMCTL_DEV_ROOT", "/dev");
	env->root = xstrdup("/");
	env->systemd_root = from_env("VMCTL_SYSTEMD_ROOT", "/");
	if (getenv("VMCTL_SERIAL_LOG_MAX") != NULL &&
	    spec_parse_size(getenv("VMCTL_SERIAL_LOG_MAX"),
			    &env->serial_log_max) < 0)
		env->serial_log_max = 0;
	env->host_reserve = reserve && *reserve ? xstrdup(reserve) : NULL;
	env->connect = connect && *connect ? xstrdup(connect) : NULL;
	env->hosts_file = hosts && *hosts ? xstrdup(hosts)
					  : default_hosts_file();
	env->image_mirror = mirror && *mirror ? xstrdup(mirror) : NULL;
	env->qemu_user = from_env("VMCTL_QEMU_USER",
				  geteuid() == 0 ? "vmctl-qemu" : "");
	/* Never "drop" to root, nor to nobody at all. */
	if (*env->qemu_user == '\0' || strcmp(env->qemu_user, "root") == 0) {
		free(env->qemu_user);
		env->qemu_user = NULL;
	}
}

/*
 * The state dir as an absolute, clean path: sockets, QEMU's option strings
 * and the tmux socket's name are derived from it, and none of them may
 * depend on the directory vmctl happened to be started in.
 */
static void absolute_state_dir(struct vmctl_env *env)
{
	cleanup_free char *cwd = NULL, *joined = NULL;
	char *clean;

	if (env->state_dir[0] != '/') {
		cwd = getcwd(NULL, 0);
		if (cwd == NULL)
			return;   /* the first file access reports it */
		joined = xasprintf("%s/%s", cwd, env->state_dir);
	}
	clean = fs_path_clean(joined ? joined : env->state_dir);
	free(env->state_dir);
	env->state_dir = clean;
}

void env_finish(struct vmctl_env *env)
{
	const char *sock = getenv("VMCTL_TMUX_SOCKET");
	cleanup_free char *def = default_state_dir();
	uint32_t h = 2166136261u;   /* FNV-1a of the state dir */

	absolute_state_dir(env);
	free(env->tmux_socket);
	if (sock != NULL && *sock != '\0') {
		env->tmux_socket = xstrdup(sock);
		return;
	}
	if (strcmp(env->state_dir, def) == 0) {
		env->tmux_socket = xstrdup("vmctl");
		return;
	}
	for (const char *p = env->state_dir; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	env->tmux_socket = xasprintf("vmctl-%08x", h);
}

void env_clear(struct vmctl_env *env)
{
	free(env->state_dir);
	free(env->sysfs);
	free(env->proc);
	free(env->dev);
	free(env->root);
	free(env->systemd_root);
	free(env->tmux_socket);
	free(env->qemu_user);
	free(env->host_reserve);
	free(env->connect);
	free(env->hosts_file);
	free(env->image_mirror);
}

