// SPDX-License-Identifier: GPL-2.0-or-later
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>

#include "vmctl/fsutil.h"
#include "vmctl/pci.h"
#include "vmctl/spec.h"
#include "vmctl/state.h"
#include "vmctl/vmdir.h"
#include "vmctl/xalloc.h"


char *state_vm_dir(const struct vmctl_env *env, const char *name)
{
	return xasprintf("%s/vms/%s", env->state_dir, name);
}

char *state_vm_file(const struct vmctl_env *env, const char *name,
		    const char *file)
{
	return xasprintf("%s/vms/%s/%s", env->state_dir, name, file);
}

bool state_vm_exists(const struct vmctl_env *env, const char *name)
{
	cleanup_free char *dir = state_vm_dir(env, name);
	struct stat st;

	return stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

bool state_ovmf_vars_raw(const struct vmctl_env *env, const char *name)
{
	cleanup_free char *raw = state_vm_file(env, name, VMDIR_OVMF_VARS);
	cleanup_free char *qcow2 = state_vm_file(env, name,
						 VMDIR_OVMF_VARS_QCOW2);

	return access(raw, F_OK) == 0 && access(qcow2, F_OK) != 0;
}

int state_lock_path(const char *path, int how, struct vmctl_error **err)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		return vmctl_error_errno(err, vmctl_error_status_from_errno(
				errno, VMCTL_EXIT_FAILURE), errno, "%s", path);
	while (flock(fd, how) < 0) {
		int e = errno;

		if (e == EINTR)
			continue;
		close(fd);
		if (e == EWOULDBLOCK)
			return vmctl_error_set(err, VMCTL_EXIT_FAILURE, e,
					       "busy: another vmctl command "
					       "holds %s", path);
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, e,
					 "locking %s", path);
	}
	return fd;
}

static int lock_file(const char *path, bool wait, struct vmctl_error **err)
{
	return state_lock_path(path, LOCK_EX | (wait ? 0 : LOCK_NB), err);
}

int state_lock_global(const struct vmctl_env *env, struct vmctl_error **err)
{
	cleanup_free char *path = xasprintf("%s/lock", env->state_dir);

	if (fs_mkdir_p(env->state_dir, 0755, err) < 0)
		return -1;
	return lock_file(path, true, err);
}

int state_lock_vm(const struct vmctl_env *env, const char *name, bool wait,
		  struct vmctl_error **err)
{
	cleanup_free char *path = state_vm_file(env, name, VMDIR_LOCK);

	return lock_file(path, wait, err);
}

static const char *get_string(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double get_number(const cJSON *o, const char *key, double dflt)
{
	const cJSON *v = cJSON_GetObjectItem(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void vm_claim_clear(struct vm_claim *claim)
{
	free(claim->gpus);
	free(claim->bound);
	cpulist_clear(&claim->cpus);
	free(claim->vcpu_cpus);
	cpulist_clear(&claim->emulator_cpus);
	strv_clear(&claim->usb);
	*claim = (struct vm_claim){ .node = -1, .hugepage_node = -1 };
}

static void addrs_to_json(cJSON *o, const char *key,
			  const struct pci_addr *v, size_t n)
{
	cJSON *a = cJSON_AddArrayToObject(o, key);

	for (size_t i = 0; i < n; i++) {
		char buf[PCI_ADDR_STRLEN];

		cJSON_AddItemToArray(a, cJSON_CreateString(
			pci_addr_format(&v[i], buf)));
	}
}

/* Addresses that do not parse are dropped: a claim names what it can. */
static void addrs_from_json(const cJSON *o, const char *key,
			    struct pci_addr **v, size_t *n)
{
	const cJSON *a = cJSON_GetObjectItem(o, key), *x;

	*v = NULL;
	*n = 0;
	if (!cJSON_IsArray(a))
		return;
	cJSON_ArrayForEach(x, a) {
		struct pci_addr addr;

		if (!cJSON_IsString(x) ||
		    pci_addr_parse(x->valuestring, &addr) < 0)
			continue;
		*v = xreallocarray(*v, *n + 1, sizeof(**v));
		(*v)[(*n)++] = addr;
	}
}

/* A CPU list kept as text ("2-5"); one that does not parse is empty. */
static void cpus_from_json(const cJSON *o, const char *key,
			   struct cpulist *out)
{
	const char *text = get_string(o, key);

	if (text == NULL || cpulist_parse(text, out) < 0)
		*out = (struct cpulist){ 0 };
}

static void cpus_to_json(cJSON *o, const char *key, const unsigned *v,
			 size_t n)
{
	cleanup_free char *text = NULL;

	if (n == 0)
		return;
	text = cpulist_format(v, n);
	cJSON_AddStringToObject(o, key, text);
}

static void vcpus_from_json(const cJSON *o, struct vm_claim *c)
{
	const cJSON *a = cJSON_GetObjectItem(o, "vcpu_cpus"), *x;

	if (!cJSON_IsArray(a))
		return;
	cJSON_ArrayForEach(x, a) {
		if (!cJSON_IsNumber(x) || x->valuedouble < 0 ||
		    x->valuedouble > CPULIST_MAX)
			continue;
		c->vcpu_cpus = xreallocarray(c->vcpu_cpus, c->n_vcpus + 1,
					     sizeof(*c->vcpu_cpus));
		c->vcpu_cpus[c->n_vcpus++] = (unsigned)x->valuedouble;
	}
}

static void usb_from_json(const cJSON *o, struct strv *out)
{
	const cJSON *a = cJSON_GetObjectItem(o, "usb"), *x;

	if (!cJSON_IsArray(a))
		return;
	cJSON_ArrayForEach(x, a)
		if (cJSON_IsString(x))
			strv_push(out, x->valuestring);
}

static void claim_from_json(const cJSON *o, struct vm_claim *c)
{
	if (!cJSON_IsObject(o))
		return;
	c->recorded = true;
	c->memory = (uint64_t)get_number(o, "memory", 0);
	addrs_from_json(o, "gpu_functions", &c->gpus, &c->n_gpus);
	addrs_from_json(o, "bound", &c->bound, &c->n_bound);
	cpus_from_json(o, "cpus", &c->cpus);
	vcpus_from_json(o, c);
	cpus_from_json(o, "emulator_cpus", &c->emulator_cpus);
	c->node = (int)get_number(o, "node", -1);
	c->hugepage_size = (uint64_t)get_number(o, "hugepage_size", 0);
	c->hugepages = (uint64_t)get_number(o, "hugepages", 0);
	c->hugepage_node = (int)get_number(o, "hugepage_node", -1);
	usb_from_json(o, &c->usb);
	c->owner.pid = (pid_t)get_number(o, "owner_pid", 0);
	c->owner.starttime = (uint64_t)get_number(o, "owner_starttime", 0);
}

static void claim_to_json(cJSON *o, const struct vm_claim *c)
{
	cJSON *x;

	if (!c->recorded)
		return;
	x = cJSON_AddObjectToObject(o, "claim");
	cJSON_AddNumberToObject(x, "memory", (double)c->memory);
	addrs_to_json(x, "gpu_functions", c->gpus, c->n_gpus);
	addrs_to_json(x, "bound", c->bound, c->n_bound);
	cpus_to_json(x, "cpus", c->cpus.v, c->cpus.n);
	if (c->n_vcpus > 0) {
		cJSON *a = cJSON_AddArrayToObject(x, "vcpu_cpus");

		for (size_t i = 0; i < c->n_vcpus; i++)
			cJSON_AddItemToArray(a, cJSON_CreateNumber(
				c->vcpu_cpus[i]));
	}
	cpus_to_json(x, "emulator_cpus", c->emulator_cpus.v,
		     c->emulator_cpus.n);
	if (c->node >= 0)
		cJSON_AddNumberToObject(x, "node", c->node);
	if (c->hugepage_size != 0) {
		cJSON_AddNumberToObject(x, "hugepage_size",
					(double)c->hugepage_size);
		cJSON_AddNumberToObject(x, "hugepages", (double)c->hugepages);
		cJSON_AddNumberToObject(x, "hugepage_node", c->hugepage_node);
	}
	if (c->usb.n > 0) {
		cJSON *a = cJSON_AddArrayToObject(x, "usb");

		for (size_t i = 0; i < c->usb.n; i++)
			cJSON_AddItemToArray(a, cJSON_CreateString(c->usb.v[i]));
	}
	if (c->owner.pid > 0) {
		cJSON_AddNumberToObject(x, "owner_pid", c->owner.pid);
		cJSON_AddNumberToObject(x, "owner_starttime",
					(double)c->owner.starttime);
	}
}

int state_read(const struct vmctl_env *env, const char *name,
	       struct vm_state *st, struct vmctl_error **err)
{
	cleanup_free char *path = state_vm_file(env, name, VMDIR_STATE);
	cleanup_free char *text = NULL;
	cJSON *o, *x;
	size_t len;

	*st = (struct vm_state){
		.vnc_display = -1,
		.claim = { .node = -1, .hugepage_node = -1 },
	};
	if (fs_read_file(path, 1u << 20, &text, &len, VMCTL_EXIT_FAILURE,
			 err) < 0)
		return -1;
	o = cJSON_ParseWithLength(text, len);
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "%s: corrupt state file", path);
	}
	st->ssh_port = (unsigned)get_number(o, "ssh_port", 0);
	st->vnc_display = (int)get_number(o, "vnc_display", -1);
	st->accel = dup_or_null(get_string(o, "accel"));
	st->base_image = dup_or_null(get_string(o, "base_image"));
	st->base_format = dup_or_null(get_string(o, "base_format"));
	st->base_digest = dup_or_null(get_string(o, "base_digest"));
	x = cJSON_GetObjectItem(o, "base_id");
	st->base_id_known = cJSON_IsObject(x) &&
			    state_file_id_from_json(x, &st->base_id);
	x = cJSON_GetObjectItem(o, "layers");
	if (cJSON_IsArray(x)) {
		const cJSON *l;

		cJSON_ArrayForEach(l, x)
			if (cJSON_IsString(l))
				strv_push(&st->layers, l->valuestring);
	}
	st->created = (time_t)get_number(o, "created", 0);
	st->qemu.pid = (pid_t)get_number(o, "pid", 0);
	st->qemu.starttime = (uint64_t)get_number(o, "starttime", 0);
	st->started = (time_t)get_number(o, "started", 0);
	st->cdrom_booted = cJSON_IsTrue(cJSON_GetObjectItem(o,
							    "cdrom_booted"));
	x = cJSON_GetObjectItem(o, "swtpm");
	if (cJSON_IsObject(x)) {
		st->swtpm.pid = (pid_t)get_number(x, "pid", 0);
		st->swtpm.starttime = (uint64_t)get_number(x, "starttime", 0);
	}
	x = cJSON_GetObjectItem(o, "last_exit");
	if (cJSON_IsObject(x)) {
		st->last_exit.known = true;
		st->last_exit.status = (int)get_number(x, "status", -1);
		st->last_exit.signal = (int)get_number(x, "signal", 0);
		st->last_exit.time = (time_t)get_number(x, "time", 0);
		st->last_exit.stopped_by =
			dup_or_null(get_string(x, "stopped_by"));
	}
	claim_from_json(cJSON_GetObjectItem(o, "claim"), &st->claim);
	cJSON_Delete(o);
	return 0;
}

int state_write(const struct vmctl_env *env, const char *name,
		const struct vm_state *st, struct vmctl_error **err)
{
	cleanup_free char *dir = state_vm_dir(env, name);
	cJSON *o = cJSON_CreateObject();
	char *text;
	int ret;

	cJSON_AddNumberToObject(o, "ssh_port", st->ssh_port);
	cJSON_AddNumberToObject(o, "vnc_display", st->vnc_display);
	if (st->accel)
		cJSON_AddStringToObject(o, "accel", st->accel);
	if (st->base_image)
		cJSON_AddStringToObject(o, "base_image", st->base_image);
	if (st->base_format)
		cJSON_AddStringToObject(o, "base_format", st->base_format);
	if (st->base_digest)
		cJSON_AddStringToObject(o, "base_digest", st->base_digest);
	if (st->base_id_known)
		state_file_id_to_json(cJSON_AddObjectToObject(o, "base_id"),
				      &st->base_id);
	if (st->layers.n > 0) {
		cJSON *a = cJSON_AddArrayToObject(o, "layers");

		for (size_t i = 0; i < st->layers.n; i++)
			cJSON_AddItemToArray(a, cJSON_CreateString(
				st->layers.v[i]));
	}
	cJSON_AddNumberToObject(o, "created", (double)st->created);
	if (st->qemu.pid > 0) {
		cJSON_AddNumberToObject(o, "pid", st->qemu.pid);
		cJSON_AddNumberToObject(o, "starttime",
					(double)st->qemu.starttime);
		cJSON_AddNumberToObject(o, "started", (double)st->started);
	}
	if (st->cdrom_booted)
		cJSON_AddTrueToObject(o, "cdrom_booted");
	if (st->swtpm.pid > 0) {
		cJSON *x = cJSON_AddObjectToObject(o, "swtpm");

		cJSON_AddNumberToObject(x, "pid", st->swtpm.pid);
		cJSON_AddNumberToObject(x, "starttime",
					(double)st->swtpm.starttime);
	}
	if (st->last_exit.known) {
		cJSON *x = cJSON_AddObjectToObject(o, "last_exit");

		cJSON_AddNumberToObject(x, "status", st->last_exit.status);
		cJSON_AddNumberToObject(x, "signal", st->last_exit.signal);
		cJSON_AddNumberToObject(x, "time", (double)st->last_exit.time);
		if (st->last_exit.stopped_by)
			cJSON_AddStringToObject(x, "stopped_by",
						st->last_exit.stopped_by);
	}
	claim_to_json(o, &st->claim);
	text = cJSON_Print(o);
	cJSON_Delete(o);
	ret = fs_write_atomic(dir, VMDIR_STATE, text, strlen(text), 0600, err);
	free(text);
	return ret;
}

void state_clear(struct vm_state *st)
{
	free(st->accel);
	free(st->base_image);
	free(st->base_format);
	free(st->base_digest);
	strv_clear(&st->layers);
	free(st->last_exit.stopped_by);
	vm_claim_clear(&st->claim);
	*st = (struct vm_state){ 0 };
}

void state_file_id_to_json(cJSON *o, const struct fs_file_id *id)
{
	cJSON_AddNumberToObject(o, "size", (double)id->size);
	cJSON_AddNumberToObject(o, "dev", (double)id->dev);
	cJSON_AddNumberToObject(o, "ino", (double)id->ino);
	cJSON_AddNumberToObject(o, "mtime", (double)id->mtime_sec);
	cJSON_AddNumberToObject(o, "mtime_nsec", (double)id->mtime_nsec);
}

bool state_file_id_from_json(const cJSON *o, struct fs_file_id *id)
{
	if (!cJSON_IsNumber(cJSON_GetObjectItem(o, "ino")))
		return false;
	*id = (struct fs_file_id){
		.size = (uint64_t)get_number(o, "size", 0),
		.dev = (uint64_t)get_number(o, "dev", 0),
		.ino = (uint64_t)get_number(o, "ino", 0),
		.mtime_sec = (int64_t)get_number(o, "mtime", 0),
		.mtime_nsec = (long)get_number(o, "mtime_nsec", 0),
	};
	return true;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Hidden entries of STATE_DIR/vms are a VM directory on its way in or out:
 * ".NAME.new-XXXXXX" while a create fills it (its lock held), and
 * ".NAME.gone-XXXXXX" once a destroy has taken it away.  What a killed
 * vmctl left of them goes here: a new one whose lock nobody holds, and
 * any gone one.
 */
void state_sweep(const struct vmctl_env *env)
{
	cleanup_free char *path = xasprintf("%s/vms", env->state_dir);
	DIR *d = opendir(path);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		cleanup_free char *dir = NULL, *lock = NULL;
		struct vmctl_error *ignored = NULL;
		bool gone = strstr(de->d_name, ".gone-") != NULL;
		int fd = -1;

		if (de->d_name[0] != '.' ||
		    (!gone && strstr(de->d_name, ".new-") == NULL))
			continue;
		dir = xasprintf("%s/%s", path, de->d_name);
		lock = xasprintf("%s/%s", dir, VMDIR_LOCK);
		if (!gone) {
			fd = lock_file(lock, false, &ignored);
			if (fd < 0) {
				vmctl_error_free(ignored);
				continue;   /* a create at work */
			}
		}
		fs_remove_tree(dir, &ignored);
		vmctl_error_free(ignored);
		if (fd >= 0)
			close(fd);
	}
	closedir(d);
}

int state_list(const struct vmctl_env *env, struct strv *names,
	       struct vmctl_error **err)
{
	cleanup_free char *path = xasprintf("%s/vms", env->state_dir);
	DIR *d = opendir(path);
	struct dirent *de;

	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		return vmctl_error_errno(err, vmctl_error_status_from_errno(
				errno, VMCTL_EXIT_FAILURE), errno, "%s", path);
	}
	while ((de = readdir(d)) != NULL)
		if (spec_name_valid(de->d_name))
			strv_push(names, de->d_name);
	closedir(d);
	if (names->n > 1)
		qsort(names->v, names->n, sizeof(*names->v), compare_names);
	return 0;
}

void state_each(const struct vmctl_env *env,
		void (*fn)(const char *name, const struct vm_state *st,
			   void *data),
		void *data)
{
	struct strv names = { 0 };
	struct vmctl_error *ignored = NULL;

	state_list(env, &names, &ignored);
	vmctl_error_free(ignored);
	for (size_t i = 0; i < names.n; i++) {
		struct vm_state st;

		ignored = NULL;
		if (state_read(env, names.v[i], &st, &ignored) < 0) {
			vmctl_error_free(ignored);
			continue;
		}
		fn(names.v[i], &st, data);
		state_clear(&st);
	}
	strv_clear(&names);
}
