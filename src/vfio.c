// SPDX-License-Identifier: GPL-2.0-or-later
#include <cJSON.h>
#include <dirent.h>
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
#include "vmctl/proc.h"
#include "vmctl/sysfs.h"
#include "vmctl/vfio.h"
#include "vmctl/xalloc.h"

#define BINDINGS "vfio-bindings.json"
#define BIND_TIMEOUT_MS 5000

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
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
	if (fs_write_attr(override, driver && strcmp(driver, "vfio-pci") == 0
			  ? "vfio-pci" : "\n", err) < 0)
		return -1;
	if (now != NULL && (driver == NULL || strcmp(now, driver) != 0)) {
		cleanup_free char *unbind = xasprintf(
			"%s/bus/pci/drivers/%s/unbind", env->sysfs, now);

		if (fs_write_attr(unbind, s, err) < 0)
			return -1;
	}
	if (driver == NULL)
		return 0;
	if (strcmp(driver, "vfio-pci") == 0) {
		/* The override makes vfio-pci the only driver that probes. */
		if (fs_write_attr(probe, s, err) < 0)
			return -1;
	} else {
		/* Bind explicitly: a probe could hand the function straight
		 * back to vfio-pci when vfio-pci.ids names it. */
		cleanup_free char *bind = xasprintf(
			"%s/bus/pci/drivers/%s/bind", env->sysfs, driver);

		if (fs_write_attr(access(bind, F_OK) == 0 ? bind : probe, s,
				  err) < 0)
			return -1;
	}
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

/* vfio-pci and the IOMMU backend QEMU needs, loaded if they are not. */
static int load_modules(const struct vmctl_env *env, struct vmctl_error **err)
{
	static const struct {
		const char *module, *present;
	} need[] = {
		{ "vfio-pci", "bus/pci/drivers/vfio-pci" },
		{ "vfio_iommu_type1", "module/vfio_iommu_type1" },
	};

	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		cleanup_free char *path = xasprintf("%s/%s", env->sysfs,
						    need[i].present);
		struct strv argv = { 0 };
		struct proc_result r;
		int ret;

		if (access(path, F_OK) == 0)
			continue;
		strv_push(&argv, "modprobe");
		strv_push(&argv, need[i].module);
		ret = proc_run(&argv, &r, err);
		strv_clear(&argv);
		if (ret < 0)
			return vmctl_error_wrap(err, "loading %s",
						need[i].module);
		if (r.status != 0 || access(path, F_OK) != 0) {
			cleanup_free char *why = proc_result_summary(&r);

			proc_result_clear(&r);
			return vmctl_error_set(err, VMCTL_EXIT_UNAVAILABLE, 0,
					       "the %s module is not available "
					       "(modprobe: %s)", need[i].module,
					       why);
		}
		proc_result_clear(&r);
	}
	return 0;
}

int vfio_bind(const struct vmctl_env *env, const struct vfio_plan *plan,
	      struct vmctl_error **err)
{
	cJSON *bindings;
	size_t done = 0;
	int ret = -1;

	if (plan->n > 0 && load_modules(env, err) < 0)
		return -1;
	bindings = load_bindings(env);

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

			fs_write_attr(o, "\n", &ignored);
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

/* Offer the function to each PCI driver but vfio-pci and pci-stub; the
 * kernel refuses (ENODEV) those whose id table does not match it. */
static bool bind_to_any(const struct vmctl_env *env, const struct pci_addr *a)
{
	cleanup_free char *dir = xasprintf("%s/bus/pci/drivers", env->sysfs);
	struct strv drivers = { 0 };
	char s[PCI_ADDR_STRLEN];
	bool bound = false;
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return false;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' && strcmp(de->d_name, "vfio-pci") != 0 &&
		    strcmp(de->d_name, "pci-stub") != 0)
			strv_push(&drivers, de->d_name);
	closedir(d);
	pci_addr_format(a, s);
	for (size_t i = 0; i < drivers.n && !bound; i++) {
		cleanup_free char *bind = xasprintf("%s/%s/bind", dir,
						    drivers.v[i]);
		cleanup_free char *now = NULL;
		struct vmctl_error *ignored = NULL;

		if (fs_write_attr(bind, s, &ignored) == 0) {
			now = current_driver(env, a);
			bound = now != NULL;
		}
		vmctl_error_free(ignored);
	}
	strv_clear(&drivers);
	return bound;
}

/*
 * Give back a function vmctl did not bind (vfio-pci.ids took it at boot,
 * or the record is gone): no override, off vfio-pci, then whichever loaded
 * driver accepts it; failing that, load the module its modalias names and
 * try again.  A probe alone would let vfio-pci.ids take it straight back.
 */
static int release_unrecorded(const struct vmctl_env *env,
			      const struct pci_addr *a, struct vmctl_error **err)
{
	cleanup_free char *dir = dev_dir(env, a);
	cleanup_free char *o = xasprintf("%s/driver_override", dir);
	cleanup_free char *unbind = xasprintf(
		"%s/bus/pci/drivers/vfio-pci/unbind", env->sysfs);
	char s[PCI_ADDR_STRLEN];

	pci_addr_format(a, s);
	if (fs_write_attr(o, "\n", err) < 0 ||
	    fs_write_attr(unbind, s, err) < 0)
		return -1;
	if (bind_to_any(env, a))
		return 0;
	{
		cleanup_free char *alias = NULL;
		struct strv argv = { 0 };
		struct proc_result r;
		struct vmctl_error *ignored = NULL;

		if (sysfs_read_attr(dir, "modalias", &alias) == 0) {
			strv_push(&argv, "modprobe");
			strv_push(&argv, "-q");
			strv_push(&argv, alias);
			if (proc_run(&argv, &r, &ignored) == 0)
				proc_result_clear(&r);
			vmctl_error_free(ignored);
			strv_clear(&argv);
		}
	}
	if (current_driver(env, a) == NULL && !bind_to_any(env, a))
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "%s: off vfio-pci, but no driver "
				       "accepts it", s);
	return 0;
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

		pci_addr_format(&fns[i]->addr, s);
		if (now == NULL || strcmp(now, "vfio-pci") != 0)
			continue;
		orig = cJSON_GetObjectItem(bindings, s);
		if (cJSON_IsString(orig))
			ret = move_to(env, &fns[i]->addr, orig->valuestring,
				      err);
		else if (cJSON_IsNull(orig))
			/* It had no driver before bind (say, HDMI audio
			 * on a host without snd_hda_intel): back to none,
			 * override cleared, offered to no driver. */
			ret = move_to(env, &fns[i]->addr, NULL, err);
		else
			ret = release_unrecorded(env, &fns[i]->addr, err);
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
