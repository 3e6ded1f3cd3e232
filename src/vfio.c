// SPDX-License-Identifier: GPL-2.0-or-later
#include <cJSON.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vmctl/fsutil.h"
#include "vmctl/vfio.h"
#include "vmctl/xalloc.h"

#define BINDINGS "vfio-bindings.json"
#define BIND_TIMEOUT_MS 5000

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int write_attr(const char *path, const char *value,
		      struct vmctl_error **err)
{
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(value);

	if (fd < 0)
		return vmctl_error_errno(err, vmctl_error_status_from_errno(
				errno, VMCTL_EXIT_FAILURE), errno, "%s", path);
	/* sysfs takes one write per value. */
	if (write(fd, value, len) != (ssize_t)len)
		return vmctl_error_errno(err, vmctl_error_status_from_errno(
				errno, VMCTL_EXIT_FAILURE), errno,
				"writing \"%s\" to %s", value, path);
	return 0;
}

static char *dev_dir(const struct vmctl_env *env, const struct pci_addr *a)
{
	char s[PCI_ADDR_STRLEN];

	return xasprintf("%s/bus/pci/devices/%s", env->sysfs,
			 pci_addr_format(a, s));
}

/* The driver bound to a function now, or NULL. */
static char *current_driver(const struct vmctl_env *env,
			    const struct pci_addr *a)
{
	cleanup_free char *link = NULL, *dir = dev_dir(env, a);
	char target[4096];
	ssize_t n;
	const char *base;

	link = xasprintf("%s/driver", dir);
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return NULL;
	target[n] = '\0';
	base = strrchr(target, '/');
	return xstrdup(base ? base + 1 : target);
}

int vfio_plan_bind(const struct vmctl_env *env, const struct pci_host *host,
		   const struct pci_function *const *fns, size_t n,
		   struct vfio_plan *plan, struct vmctl_error **err)
{
	(void)env;
	(void)host;
	(void)err;
	*plan = (struct vfio_plan){ 0 };
	plan->v = xcalloc(n ? n : 1, sizeof(*plan->v));
	for (size_t i = 0; i < n; i++) {
		if (fns[i]->driver != NULL &&
		    strcmp(fns[i]->driver, "vfio-pci") == 0)
			continue;
		plan->v[plan->n++] = (struct vfio_action){
			.addr = fns[i]->addr,
			.old_driver = fns[i]->driver ? xstrdup(fns[i]->driver)
						     : NULL,
			.group = fns[i]->iommu_group,
		};
	}
	return 0;
}

static void append(char **out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void append(char **out, const char *fmt, ...)
{
	va_list ap;
	char *piece, *more;

	va_start(ap, fmt);
	piece = xvasprintf(fmt, ap);
	va_end(ap);
	more = xasprintf("%s%s", *out, piece);
	free(piece);
	free(*out);
	*out = more;
}

char *vfio_plan_render(const struct vfio_plan *plan)
{
	char *out = xstrdup("");

	for (size_t i = 0; i < plan->n; i++) {
		const struct vfio_action *a = &plan->v[i];
		char s[PCI_ADDR_STRLEN];

		pci_addr_format(&a->addr, s);
		append(&out, "# bind %s: %s -> vfio-pci\n", s,
		       a->old_driver ? a->old_driver : "(no driver)");
		append(&out, "  write vfio-pci > SYSFS/bus/pci/devices/%s/"
		       "driver_override\n", s);
		if (a->old_driver != NULL)
			append(&out, "  write %s > SYSFS/bus/pci/drivers/%s/"
			       "unbind\n", s, a->old_driver);
		append(&out, "  write %s > SYSFS/bus/pci/drivers_probe\n", s);
	}
	if (plan->n > 0)
		append(&out, "# then wait for DEV/vfio/GROUP\n");
	return out;
}

void vfio_plan_clear(struct vfio_plan *plan)
{
	for (size_t i = 0; i < plan->n; i++)
		free(plan->v[i].old_driver);
	free(plan->v);
	*plan = (struct vfio_plan){ 0 };
}

/* ---- the record of original drivers ------------------------------------ */

static cJSON *load_bindings(const struct vmctl_env *env)
{
	cleanup_free char *path = xasprintf("%s/%s", env->state_dir, BINDINGS);
	cleanup_free char *text = NULL;
	struct vmctl_error *ignored = NULL;
	size_t len;
	cJSON *o;

	if (fs_read_file(path, 1u << 20, &text, &len, VMCTL_EXIT_FAILURE,
			 &ignored) < 0) {
		vmctl_error_free(ignored);
		return cJSON_CreateObject();
	}
	o = cJSON_ParseWithLength(text, len);
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return cJSON_CreateObject();
	}
	return o;
}

static int save_bindings(const struct vmctl_env *env, cJSON *o,
			 struct vmctl_error **err)
{
	char *text = cJSON_Print(o);
	int ret;

	if (fs_mkdir_p(env->state_dir, 0755, err) < 0) {
		free(text);
		return -1;
	}
	ret = fs_write_atomic(env->state_dir, BINDINGS, text, strlen(text),
			      0600, err);
	free(text);
	return ret;
}

/* ---- moving one function ------------------------------------------------ */

static bool wait_driver(const struct vmctl_env *env, const struct pci_addr *a,
			const char *want)
{
	for (int waited = 0; waited < BIND_TIMEOUT_MS; waited += 20) {
		cleanup_free char *now = current_driver(env, a);

		if (want == NULL ? now == NULL
				 : now != NULL && strcmp(now, want) == 0)
			return true;
		sleep_ms(20);
	}
	return false;
}

/* Put one function on `driver` (NULL: no driver): override, unbind from
 * whatever holds it, probe. */
static int move_to(const struct vmctl_env *env, const struct pci_addr *a,
		   const char *driver, struct vmctl_error **err)
{
	cleanup_free char *dir = dev_dir(env, a);
	cleanup_free char *override = xasprintf("%s/driver_override", dir);
	cleanup_free char *now = current_driver(env, a);
	cleanup_free char *probe = xasprintf("%s/bus/pci/drivers_probe",
					     env->sysfs);
	char s[PCI_ADDR_STRLEN];

	pci_addr_format(a, s);
	/* "\n" clears an override; a driver name sets one. */
	if (write_attr(override, driver && strcmp(driver, "vfio-pci") == 0
			   ? "vfio-pci" : "\n", err) < 0)
		return -1;
	if (now != NULL && (driver == NULL || strcmp(now, driver) != 0)) {
		cleanup_free char *unbind = xasprintf(
			"%s/bus/pci/drivers/%s/unbind", env->sysfs, now);

		if (write_attr(unbind, s, err) < 0)
			return -1;
	}
	if (driver == NULL)
		return 0;
	if (write_attr(probe, s, err) < 0)
		return -1;
	if (!wait_driver(env, a, driver)) {
		cleanup_free char *got = current_driver(env, a);

		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "%s: not bound to %s after %d ms (%s)",
				       s, driver, BIND_TIMEOUT_MS,
				       got ? got : "no driver");
	}
	return 0;
}

static bool group_node(const struct vmctl_env *env, int group)
{
	cleanup_free char *path = xasprintf("%s/vfio/%d", env->dev, group);

	for (int waited = 0; waited < BIND_TIMEOUT_MS; waited += 20) {
		if (access(path, F_OK) == 0)
			return true;
		sleep_ms(20);
	}
	return false;
}

int vfio_bind(const struct vmctl_env *env, const struct vfio_plan *plan,
	      struct vmctl_error **err)
{
	cJSON *bindings = load_bindings(env);
	size_t done = 0;
	int ret = -1;

	/* Record first: a crash after this still lets release undo it. */
	for (size_t i = 0; i < plan->n; i++) {
		char s[PCI_ADDR_STRLEN];

		pci_addr_format(&plan->v[i].addr, s);
		cJSON_DeleteItemFromObject(bindings, s);
		if (plan->v[i].old_driver)
			cJSON_AddStringToObject(bindings, s,
						plan->v[i].old_driver);
		else
			cJSON_AddNullToObject(bindings, s);
	}
	if (plan->n > 0 && save_bindings(env, bindings, err) < 0)
		goto out;
	for (; done < plan->n; done++)
		if (move_to(env, &plan->v[done].addr, "vfio-pci", err) < 0)
			goto rollback;
	for (size_t i = 0; i < plan->n; i++) {
		if (plan->v[i].group >= 0 && !group_node(env,
							 plan->v[i].group)) {
			vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
					"%s/vfio/%d did not appear", env->dev,
					plan->v[i].group);
			goto rollback;
		}
	}
	ret = 0;
	goto out;
rollback:
	/* Every function back on the driver it had, the failed one too. */
	for (size_t i = done + 1 > plan->n ? plan->n : done + 1; i-- > 0;) {
		struct vmctl_error *ignored = NULL;

		move_to(env, &plan->v[i].addr, plan->v[i].old_driver,
			&ignored);
		if (plan->v[i].old_driver == NULL) {
			/* It had no driver: leave it unbound, unforced. */
			cleanup_free char *dir = dev_dir(env, &plan->v[i].addr);
			cleanup_free char *o = xasprintf("%s/driver_override",
							 dir);

			write_attr(o, "\n", &ignored);
		}
		vmctl_error_free(ignored);
	}
	for (size_t i = 0; i < plan->n; i++) {
		char s[PCI_ADDR_STRLEN];
		struct vmctl_error *ignored = NULL;

		cJSON_DeleteItemFromObject(bindings,
					   pci_addr_format(&plan->v[i].addr, s));
		save_bindings(env, bindings, &ignored);
		vmctl_error_free(ignored);
	}
	vmctl_error_wrap(err, "binding to vfio-pci failed; every function "
			 "is back on the driver it had");
out:
	cJSON_Delete(bindings);
	return ret;
}

int vfio_release(const struct vmctl_env *env,
		 const struct pci_function *const *fns, size_t n,
		 size_t *released, struct vmctl_error **err)
{
	cJSON *bindings = load_bindings(env);
	int ret = 0;

	*released = 0;
	for (size_t i = 0; i < n && ret == 0; i++) {
		char s[PCI_ADDR_STRLEN];
		cleanup_free char *now = current_driver(env, &fns[i]->addr);
		cJSON *orig;
		const char *driver;

		pci_addr_format(&fns[i]->addr, s);
		if (now == NULL || strcmp(now, "vfio-pci") != 0)
			continue;
		orig = cJSON_GetObjectItem(bindings, s);
		driver = cJSON_IsString(orig) ? orig->valuestring : NULL;
		if (driver == NULL) {
			/* Unknown or none: unbind and let the kernel choose. */
			cleanup_free char *dir = dev_dir(env, &fns[i]->addr);
			cleanup_free char *o = xasprintf("%s/driver_override",
							 dir);
			cleanup_free char *unbind = xasprintf(
				"%s/bus/pci/drivers/vfio-pci/unbind",
				env->sysfs);
			cleanup_free char *probe = xasprintf(
				"%s/bus/pci/drivers_probe", env->sysfs);

			ret = write_attr(o, "\n", err);
			if (ret == 0)
				ret = write_attr(unbind, s, err);
			if (ret == 0)
				ret = write_attr(probe, s, err);
		} else {
			ret = move_to(env, &fns[i]->addr, driver, err);
		}
		if (ret == 0) {
			cJSON_DeleteItemFromObject(bindings, s);
			(*released)++;
		}
	}
	if (*released > 0) {
		struct vmctl_error *e2 = NULL;

		if (save_bindings(env, bindings, &e2) < 0 && ret == 0) {
			*err = e2;
			e2 = NULL;
			ret = -1;
		}
		vmctl_error_free(e2);
	}
	cJSON_Delete(bindings);
	return ret;
}
