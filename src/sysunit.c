// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vmctl enable/disable: the wants link and drop-in of vmctl@NAME.service
 * (sysunit.h), planned purely and written under a root taken as a
 * parameter, so tests enable VMs in a temporary tree.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmctl/fsutil.h"
#include "vmctl/quote.h"
#include "vmctl/spec.h"
#include "vmctl/strv.h"
#include "vmctl/sysunit.h"
#include "vmctl/xalloc.h"

const char *const sysunit_unit_dirs[] = {
	"/etc/systemd/system",
	"/usr/local/lib/systemd/system",
	"/usr/lib/systemd/system",
	"/lib/systemd/system",
	NULL,
};

char *sysunit_env_line(const char *var, const char *value)
{
	cleanup_free char *assignment = NULL, *quoted = NULL;

	for (const char *p = value; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return NULL;
	/* systemd unquotes \\ and \" and expands % specifiers. */
	assignment = xasprintf("%s=%s", var, value);
	quoted = quote_config(assignment, true, true);
	return xasprintf("Environment=%s", quoted);
}

static char *dropin_dir_of(const char *name)
{
	return xasprintf("/etc/systemd/system/vmctl@%s.service.d", name);
}

void sysunit_plan_clear(struct sysunit_plan *plan)
{
	free(plan->link);
	free(plan->target);
	free(plan->dropin_dir);
	free(plan->dropin);
	*plan = (struct sysunit_plan){ 0 };
}

int sysunit_plan(const char *name, const char *template_path,
		 const char *state_dir, const char *default_state_dir,
		 const char *tmux_socket, struct sysunit_plan *out,
		 struct vmctl_error **err)
{
	struct strv lines = { 0 };
	const char *vars[2][2] = {
		{ "VMCTL_STATE_DIR",
		  strcmp(state_dir, default_state_dir) != 0 ? state_dir : NULL },
		{ "VMCTL_TMUX_SOCKET", tmux_socket },
	};

	*out = (struct sysunit_plan){ 0 };
	/* VM names are a subset of what an instance name may hold, and
	 * need no escaping: %i and %I are the name itself. */
	if (!spec_name_valid(name))
		return vmctl_error_set(err, VMCTL_EXIT_USAGE, 0,
				       "invalid VM name '%s'", name);
	for (size_t i = 0; i < 2; i++) {
		char *line;

		if (vars[i][1] == NULL)
			continue;
		line = sysunit_env_line(vars[i][0], vars[i][1]);
		if (line == NULL) {
			strv_clear(&lines);
			return vmctl_error_set(err, VMCTL_EXIT_USAGE, 0,
					       "%s holds a control character: "
					       "a unit cannot carry it",
					       vars[i][0]);
		}
		strv_take(&lines, line);
	}
	out->link = xasprintf("%s/vmctl@%s.service", SYSUNIT_WANTS_DIR, name);
	out->target = xstrdup(template_path);
	out->dropin_dir = dropin_dir_of(name);
	if (lines.n > 0) {
		cleanup_free char *body = strv_join(&lines, "\n");

		out->dropin = xasprintf("# Written by `vmctl enable %s`: where "
					"the VM lives.\n[Service]\n%s\n", name,
					body);
	}
	strv_clear(&lines);
	return 0;
}

static char *under(const struct vmctl_env *env, const char *path)
{
	return xasprintf("%s%s", strcmp(env->systemd_root, "/") == 0 ? ""
			 : env->systemd_root, path);
}

bool sysunit_enabled(const struct vmctl_env *env, const char *name)
{
	cleanup_free char *link = under(env, SYSUNIT_WANTS_DIR);
	cleanup_free char *path = xasprintf("%s/vmctl@%s.service", link, name);
	struct stat st;

	return lstat(path, &st) == 0;
}

/* The template's path as seen from the root: the first of the unit
 * directories that has it. */
static char *find_template(const struct vmctl_env *env)
{
	for (size_t i = 0; sysunit_unit_dirs[i] != NULL; i++) {
		cleanup_free char *rel = xasprintf("%s/%s", sysunit_unit_dirs[i],
						   SYSUNIT_TEMPLATE);
		cleanup_free char *path = under(env, rel);
		struct stat st;

		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			return steal_pointer(&rel);
	}
	return NULL;
}

static int fail_errno(struct vmctl_error **err, int errnum, const char *what,
		      const char *path)
{
	return vmctl_error_errno(err, vmctl_error_status_from_errno(
			errnum, VMCTL_EXIT_FAILURE), errnum, "%s %s", what, path);
}

/* A symbolic link DIR/NAME -> TARGET, made beside it and renamed over. */
static int link_atomic(const char *dir, const char *name, const char *target,
		       struct vmctl_error **err)
{
	cleanup_free char *dst = xasprintf("%s/%s", dir, name);

	for (int attempt = 0; attempt < 100; attempt++) {
		cleanup_free char *tmp = xasprintf("%s/.%s.%ld.%d", dir, name,
						   (long)getpid(), attempt);

		if (symlink(target, tmp) < 0) {
			if (errno == EEXIST)
				continue;
			return fail_errno(err, errno, "linking", tmp);
		}
		if (rename(tmp, dst) < 0) {
			int e = errno;

			unlink(tmp);
			return fail_errno(err, e, "linking", dst);
		}
		return fs_sync_dir(dir, err);
	}
	return vmctl_error_set(err, VMCTL_EXIT_FAILURE, EEXIST,
			       "linking %s: no free temporary name", dst);
}

static int link_points_at(const char *path, const char *target)
{
	char buf[4096];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	if (n < 0)
		return 0;
	buf[n] = '\0';
	return strcmp(buf, target) == 0;
}

/* The drop-in as planned: written, or (none needed) removed. */
static int apply_dropin(const struct vmctl_env *env,
			const struct sysunit_plan *plan,
			struct vmctl_error **err)
{
	cleanup_free char *dir = under(env, plan->dropin_dir);
	cleanup_free char *file = xasprintf("%s/%s", dir, SYSUNIT_DROPIN_NAME);

	if (plan->dropin == NULL) {
		if (unlink(file) < 0 && errno != ENOENT)
			return fail_errno(err, errno, "removing", file);
		if (rmdir(dir) < 0 && errno != ENOENT && errno != ENOTEMPTY)
			return fail_errno(err, errno, "removing", dir);
		return 0;
	}
	if (fs_mkdir_p(dir, 0755, err) < 0)
		return -1;
	return fs_write_atomic(dir, SYSUNIT_DROPIN_NAME, plan->dropin,
			       strlen(plan->dropin), 0644, err);
}

/* The plan for VM name under env (the template where it is installed):
 * 0, -1 with *err; *in_place: the link and drop-in are as planned. */
static int plan_for(const struct vmctl_env *env, const char *name,
		    struct sysunit_plan *plan, bool *in_place,
		    struct vmctl_error **err)
{
	cleanup_free char *template = find_template(env);
	cleanup_free char *link = NULL, *dir = NULL, *file = NULL;
	cleanup_free char *old_dropin = NULL;
	const char *tmux = getenv("VMCTL_TMUX_SOCKET");
	struct vmctl_error *e = NULL;
	size_t len;

	if (template == NULL)
		return vmctl_error_set(err, VMCTL_EXIT_UNAVAILABLE, ENOENT,
				       "systemd unit %s is not installed under "
				       "%s (make install, or the vmctl "
				       "package)", SYSUNIT_TEMPLATE,
				       env->systemd_root);
	if (tmux != NULL && *tmux == '\0')
		tmux = NULL;
	if (sysunit_plan(name, template, env->state_dir, ENV_ROOT_STATE_DIR,
			 tmux, plan, err) < 0)
		return -1;
	link = under(env, plan->link);
	dir = under(env, plan->dropin_dir);
	file = xasprintf("%s/%s", dir, SYSUNIT_DROPIN_NAME);
	if (fs_read_file(file, 1 << 16, &old_dropin, &len, VMCTL_EXIT_FAILURE,
			 &e) < 0)
		vmctl_error_free(e);   /* none: old_dropin stays NULL */
	*in_place = link_points_at(link, plan->target) &&
		    (plan->dropin == NULL ? old_dropin == NULL
					  : old_dropin != NULL &&
					    strcmp(plan->dropin, old_dropin) == 0);
	return 0;
}

int sysunit_enable(const struct vmctl_env *env, const char *name,
		   struct vmctl_error **err)
{
	cleanup_free char *wants = under(env, SYSUNIT_WANTS_DIR);
	struct sysunit_plan plan;
	bool in_place;
	int ret = 1;

	if (plan_for(env, name, &plan, &in_place, err) < 0)
		return -1;
	if (!in_place)
		ret = apply_dropin(env, &plan, err) < 0 ||
		      fs_mkdir_p(wants, 0755, err) < 0 ||
		      link_atomic(wants, strrchr(plan.link, '/') + 1,
				  plan.target, err) < 0 ? -1 : 0;
	sysunit_plan_clear(&plan);
	return ret;
}

int sysunit_forget(const struct vmctl_env *env, const char *name,
		   struct vmctl_error **err)
{
	struct sysunit_plan plan;
	struct vmctl_error *e = NULL;
	bool in_place = false;

	if (!sysunit_enabled(env, name))
		return 1;
	/* Not installed, or not enabled for this state dir: not ours. */
	if (plan_for(env, name, &plan, &in_place, &e) < 0) {
		vmctl_error_free(e);
		return 1;
	}
	sysunit_plan_clear(&plan);
	return in_place ? sysunit_disable(env, name, err) : 1;
}

int sysunit_disable(const struct vmctl_env *env, const char *name,
		    struct vmctl_error **err)
{
	cleanup_free char *wants = under(env, SYSUNIT_WANTS_DIR);
	cleanup_free char *link = xasprintf("%s/vmctl@%s.service", wants, name);
	struct sysunit_plan none = {
		.dropin_dir = dropin_dir_of(name),
	};
	bool was = sysunit_enabled(env, name);
	int ret = 0;

	if (!spec_name_valid(name))
		ret = vmctl_error_set(err, VMCTL_EXIT_USAGE, 0,
				      "invalid VM name '%s'", name);
	else if (was && unlink(link) < 0 && errno != ENOENT)
		ret = fail_errno(err, errno, "removing", link);
	else if (was && fs_sync_dir(wants, err) < 0)
		ret = -1;
	else if (apply_dropin(env, &none, err) < 0)
		ret = -1;
	sysunit_plan_clear(&none);
	return ret < 0 ? -1 : was ? 0 : 1;
}
