// SPDX-License-Identifier: GPL-2.0-or-later
/* Snapshots, the pure half: the tree record, the rules, the commands. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/snapshot-tree.h"
#include "vmctl/xalloc.h"

static void snapshot_clear(struct snapshot *s)
{
	free(s->name);
	free(s->parent);
}

void snapshot_record_clear(struct snapshot_record *r)
{
	for (size_t i = 0; i < r->n; i++)
		snapshot_clear(&r->v[i]);
	free(r->v);
	free(r->current);
	free(r->loadvm);
	*r = (struct snapshot_record){ 0 };
}

static char *json_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? xstrdup(v->valuestring) : NULL;
}

int snapshot_record_parse(const char *text, struct snapshot_record *r,
			  struct vmctl_error **err)
{
	cJSON *o, *list, *it;

	*r = (struct snapshot_record){ 0 };
	if (text == NULL || *text == '\0')
		return 0;
	o = cJSON_Parse(text);
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "%s is not a JSON object",
				       SNAPSHOT_RECORD);
	}
	r->current = json_str(o, "current");
	r->loadvm = json_str(o, "loadvm");
	r->saved = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "saved"));
	list = cJSON_GetObjectItemCaseSensitive(o, "snapshots");
	cJSON_ArrayForEach(it, list) {
		char *name = json_str(it, "name");
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(it, "created");

		if (name == NULL)
			continue;
		r->v = xreallocarray(r->v, r->n + 1, sizeof(*r->v));
		r->v[r->n++] = (struct snapshot){
			.name = name,
			.parent = json_str(it, "parent"),
			.created = cJSON_IsNumber(t) ? (time_t)t->valuedouble : 0,
			.memory = cJSON_IsTrue(
				cJSON_GetObjectItemCaseSensitive(it, "memory")),
		};
	}
	cJSON_Delete(o);
	return 0;
}

char *snapshot_record_format(const struct snapshot_record *r)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *list = cJSON_AddArrayToObject(o, "snapshots");
	char *text;

	for (size_t i = 0; i < r->n; i++) {
		cJSON *s = cJSON_CreateObject();

		cJSON_AddStringToObject(s, "name", r->v[i].name);
		if (r->v[i].parent != NULL)
			cJSON_AddStringToObject(s, "parent", r->v[i].parent);
		else
			cJSON_AddNullToObject(s, "parent");
		cJSON_AddNumberToObject(s, "created", (double)r->v[i].created);
		cJSON_AddBoolToObject(s, "memory", r->v[i].memory);
		cJSON_AddItemToArray(list, s);
	}
	if (r->current != NULL)
		cJSON_AddStringToObject(o, "current", r->current);
	if (r->loadvm != NULL)
		cJSON_AddStringToObject(o, "loadvm", r->loadvm);
	cJSON_AddBoolToObject(o, "saved", r->saved);
	text = cJSON_Print(o);
	cJSON_Delete(o);
	return text;
}

bool snapshot_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > SNAPSHOT_NAME_MAX || !isalpha((unsigned char)name[0]))
		return false;
	if (strncmp(name, "vmctl-", 6) == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("._-", name[i]))
			return false;
	return true;
}

int snapshot_check_name(const char *name, struct vmctl_error **err)
{
	if (snapshot_name_valid(name))
		return 0;
	return vmctl_error_set(err, VMCTL_EXIT_USAGE, 0,
			       "invalid snapshot name \"%s\" (a letter, then "
			       "letters, digits, '.', '_', '-'; at most %d; "
			       "not \"vmctl-...\")", name, SNAPSHOT_NAME_MAX);
}

struct snapshot *snapshot_find(const struct snapshot_record *r,
			       const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->v[i].name, name) == 0)
			return &r->v[i];
	return NULL;
}

static void set_str(char **slot, const char *value)
{
	free(*slot);
	*slot = value != NULL ? xstrdup(value) : NULL;
}

void snapshot_add(struct snapshot_record *r, const char *name,
		  time_t created, bool memory)
{
	/* A current snapshot the record lost is no parent. */
	const char *parent = r->current != NULL &&
			     snapshot_find(r, r->current) != NULL
			     ? r->current : NULL;

	r->v = xreallocarray(r->v, r->n + 1, sizeof(*r->v));
	r->v[r->n++] = (struct snapshot){
		.name = xstrdup(name),
		.parent = parent != NULL ? xstrdup(parent) : NULL,
		.created = created,
		.memory = memory,
	};
	set_str(&r->current, name);
}

void snapshot_remove(struct snapshot_record *r, const char *name)
{
	struct snapshot *gone = snapshot_find(r, name);
	size_t at;

	if (gone == NULL)
		return;
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].parent != NULL &&
		    strcmp(r->v[i].parent, name) == 0)
			set_str(&r->v[i].parent, gone->parent);
	if (r->current != NULL && strcmp(r->current, name) == 0)
		set_str(&r->current, gone->parent);
	if (r->loadvm != NULL && strcmp(r->loadvm, name) == 0)
		set_str(&r->loadvm, NULL);
	at = (size_t)(gone - r->v);
	snapshot_clear(gone);
	memmove(&r->v[at], &r->v[at + 1], (r->n - at - 1) * sizeof(*r->v));
	r->n--;
}

void snapshot_set_current(struct snapshot_record *r, const char *name)
{
	set_str(&r->current, name);
}

/* ---- rules --------------------------------------------------------------- */

static const char *op_word(enum snapshot_op op)
{
	switch (op) {
	case SNAPSHOT_CREATE: return "snapshot";
	case SNAPSHOT_REVERT: return "revert";
	case SNAPSHOT_DELETE: return "delete a snapshot of";
	case SNAPSHOT_SAVE: break;
	}
	return "save";
}

int snapshot_plan(enum snapshot_op op, const struct snapshot_vm *vm,
		  enum snapshot_tool *tool, struct vmctl_error **err)
{
	bool needs_ram = (op == SNAPSHOT_CREATE && vm->memory) ||
			 op == SNAPSHOT_SAVE;

	if (vm->gpu && (vm->running || needs_ram))
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "VM %s has a passed-through GPU: cannot "
				       "%s it %s (VFIO device state cannot be "
				       "saved; only disk snapshots of the "
				       "stopped VM)", vm->name, op_word(op),
				       needs_ram ? "with its memory"
						 : "while it runs");
	if (needs_ram && vm->vars_raw)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "VM %s boots UEFI with its variables in "
				       "a raw file (it has run since before "
				       "vmctl kept them in qcow2): cannot %s "
				       "its memory until it is stopped and "
				       "started again; take a disk-only "
				       "snapshot", vm->name, op_word(op));
	if (needs_ram && !vm->running)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "VM %s is not running: it has no memory "
				       "to %s", vm->name,
				       op == SNAPSHOT_SAVE ? "save"
							   : "snapshot");
	if (op == SNAPSHOT_REVERT && vm->running && !vm->memory)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "VM %s is running and the snapshot "
				       "holds no memory: stop it first (vmctl "
				       "stop %s), then revert", vm->name,
				       vm->name);
	if (!vm->running)
		*tool = SNAPSHOT_QEMU_IMG;
	else if (needs_ram || op == SNAPSHOT_REVERT ||
		 (op == SNAPSHOT_DELETE && vm->vars))
		*tool = SNAPSHOT_QMP_JOB;
	else
		*tool = SNAPSHOT_QMP_SYNC;
	return 0;
}

void snapshot_qemu_img_argv(enum snapshot_op op, const char *overlay,
			    const char *name, struct strv *argv)
{
	strv_push(argv, "qemu-img");
	strv_push(argv, "snapshot");
	strv_push(argv, op == SNAPSHOT_REVERT   ? "-a"
			: op == SNAPSHOT_DELETE ? "-d"
						: "-c");
	strv_push(argv, name);
	strv_push(argv, overlay);
}

const char *snapshot_qmp_command(const struct snapshot_vm *vm,
				 enum snapshot_op op, enum snapshot_tool tool,
				 const char *name, const char *job_id,
				 cJSON **args)
{
	static const char *const nodes[] = { SNAPSHOT_DISK_NODE,
					     SNAPSHOT_VARS_NODE };
	cJSON *a = cJSON_CreateObject();

	*args = a;
	if (tool == SNAPSHOT_QMP_SYNC) {
		cJSON_AddStringToObject(a, "device", SNAPSHOT_DISK_NODE);
		cJSON_AddStringToObject(a, "name", name);
		return op == SNAPSHOT_DELETE
			? "blockdev-snapshot-delete-internal-sync"
			: "blockdev-snapshot-internal-sync";
	}
	cJSON_AddStringToObject(a, "job-id", job_id);
	cJSON_AddStringToObject(a, "tag", name);
	/* The RAM goes into the disk's image: with no vmstate named, QEMU
	 * would pick the first node that can hold it, the variable store. */
	if (op != SNAPSHOT_DELETE)
		cJSON_AddStringToObject(a, "vmstate", SNAPSHOT_DISK_NODE);
	cJSON_AddItemToObject(a, "devices", cJSON_CreateStringArray(
		nodes, vm->vars ? 2 : 1));
	return op == SNAPSHOT_REVERT   ? "snapshot-load"
	       : op == SNAPSHOT_DELETE ? "snapshot-delete"
				       : "snapshot-save";
}

/* ---- list ---------------------------------------------------------------- */

int snapshot_images_parse(const char *json, struct snapshot_image **out,
			  size_t *n, struct vmctl_error **err)
{
	cJSON *o = cJSON_Parse(json), *it;

	*out = NULL;
	*n = 0;
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "qemu-img info: output is not JSON");
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(o,
								 "snapshots")) {
		char *name = json_str(it, "name");
		const cJSON *size = cJSON_GetObjectItemCaseSensitive(
			it, "vm-state-size");
		const cJSON *date = cJSON_GetObjectItemCaseSensitive(
			it, "date-sec");

		if (name == NULL)
			continue;
		*out = xreallocarray(*out, *n + 1, sizeof(**out));
		(*out)[(*n)++] = (struct snapshot_image){
			.name = name,
			.vm_state_size = cJSON_IsNumber(size)
				? (uint64_t)size->valuedouble : 0,
			.date = cJSON_IsNumber(date)
				? (time_t)date->valuedouble : 0,
		};
	}
	cJSON_Delete(o);
	return 0;
}

void snapshot_images_free(struct snapshot_image *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

static const struct snapshot_image *image_find(
	const struct snapshot_image *img, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(img[i].name, name) == 0)
			return &img[i];
	return NULL;
}

struct rows {
	const struct snapshot_record *r;
	const struct snapshot_image *img;
	size_t n_img;
	struct snapshot_row *v;
	size_t n;
};

static void add_subtree(struct rows *rw, const struct snapshot *s, int depth)
{
	const struct snapshot_image *im = image_find(rw->img, rw->n_img,
						     s->name);

	rw->v = xreallocarray(rw->v, rw->n + 1, sizeof(*rw->v));
	rw->v[rw->n++] = (struct snapshot_row){
		.name = s->name,
		.parent = s->parent,
		.created = s->created,
		.memory = s->memory,
		.vm_state_size = im != NULL ? im->vm_state_size : 0,
		.current = rw->r->current != NULL &&
			   strcmp(rw->r->current, s->name) == 0,
		.problem = im == NULL ? "in vmctl's record, missing from the "
					"disk" : NULL,
		.depth = depth,
	};
	for (size_t i = 0; i < rw->r->n; i++)
		if (rw->r->v[i].parent != NULL &&
		    strcmp(rw->r->v[i].parent, s->name) == 0)
			add_subtree(rw, &rw->r->v[i], depth + 1);
}

size_t snapshot_rows(const struct snapshot_record *r,
		     const struct snapshot_image *img, size_t n_img,
		     struct snapshot_row **rows)
{
	struct rows rw = { .r = r, .img = img, .n_img = n_img };

	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].parent == NULL ||
		    snapshot_find(r, r->v[i].parent) == NULL)
			add_subtree(&rw, &r->v[i], 0);
	for (size_t i = 0; i < n_img; i++) {
		if (snapshot_find(r, img[i].name) != NULL ||
		    strcmp(img[i].name, SNAPSHOT_SAVED_TAG) == 0)
			continue;
		rw.v = xreallocarray(rw.v, rw.n + 1, sizeof(*rw.v));
		rw.v[rw.n++] = (struct snapshot_row){
			.name = img[i].name,
			.created = img[i].date,
			.memory = img[i].vm_state_size > 0,
			.vm_state_size = img[i].vm_state_size,
			.problem = "in the disk, not in vmctl's record",
		};
	}
	*rows = rw.v;
	return rw.n;
}

cJSON *snapshot_rows_json(const struct snapshot_row *rows, size_t n)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "name", rows[i].name);
		if (rows[i].parent != NULL)
			cJSON_AddStringToObject(o, "parent", rows[i].parent);
		else
			cJSON_AddNullToObject(o, "parent");
		cJSON_AddNumberToObject(o, "created", (double)rows[i].created);
		cJSON_AddBoolToObject(o, "memory", rows[i].memory);
		cJSON_AddNumberToObject(o, "vm_state_size",
					(double)rows[i].vm_state_size);
		cJSON_AddBoolToObject(o, "current", rows[i].current);
		if (rows[i].problem != NULL)
			cJSON_AddStringToObject(o, "problem", rows[i].problem);
		else
			cJSON_AddNullToObject(o, "problem");
		cJSON_AddItemToArray(a, o);
	}
	return a;
}
