// SPDX-License-Identifier: GPL-2.0-or-later
/* The image cache seen whole: which entries there are, which VMs use
 * them, and removing those no VM uses (`vmctl image list|prune`). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmctl/image.h"
#include "vmctl/imagecache.h"
#include "vmctl/state.h"
#include "vmctl/vm-clone.h"
#include "vmctl/vmdir.h"
#include "vmctl/xalloc.h"

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static char *strip_suffix(const char *s, const char *suffix)
{
	return xstrndup(s, strlen(s) - strlen(suffix));
}

static bool is_digest_name(const char *name)
{
	return strncmp(name, "sha256-", 7) == 0 ||
	       strncmp(name, "sha512-", 7) == 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void listing_add_stray(struct imagecache_listing *l, const char *dir,
			      const char *name)
{
	cleanup_free char *path = xasprintf("%s/%s", dir, name);
	struct stat st;

	if (lstat(path, &st) == 0)
		l->strays_bytes += (uint64_t)st.st_blocks * 512;
	strv_push(&l->strays, name);
}

static bool exists_in(const char *dir, const char *name)
{
	cleanup_free char *path = xasprintf("%s/%s", dir, name);
	struct stat st;

	return lstat(path, &st) == 0;
}

/* Is `path` a layer (under STATE_DIR/layers)? */
static bool is_layer(const char *layers, const char *path)
{
	size_t n = strlen(layers);

	return strncmp(path, layers, n) == 0 && path[n] == '/';
}

/* What `file` stands on below the layers: its first backing file that is
 * not a layer, each layer on the way pushed to `chain`.  0 with *base
 * NULL: none. */
static int follow_backing(const char *layers, const char *file,
			  struct strv *chain, char **base)
{
	cleanup_free char *cur = xstrdup(file);
	struct vmctl_error *ignored = NULL;

	*base = NULL;
	for (int depth = 0; depth < 64; depth++) {
		char *next = NULL;

		if (image_backing_file(cur, &next, &ignored) < 0) {
			vmctl_error_free(ignored);
			return -1;
		}
		if (next == NULL || !is_layer(layers, next)) {
			*base = next;
			return 0;
		}
		if (chain != NULL)
			strv_push(chain, next);
		free(cur);
		cur = next;
	}
	return -1;
}

/* The files VM `name` stands on, its layers and base (last): from
 * vm.json, else from its overlay's header chain.  Empty: no disk. */
static int vm_chain(const struct vmctl_env *env, const char *layers,
		    const char *name, struct strv *chain)
{
	cleanup_free char *overlay = state_vm_file(env, name, VMDIR_DISK);
	cleanup_free char *base = NULL;
	struct vmctl_error *ignored = NULL;
	struct vm_state st;

	if (state_read(env, name, &st, &ignored) == 0 &&
	    st.base_image != NULL) {
		strv_extend(chain, &st.layers);
		strv_push(chain, st.base_image);
		state_clear(&st);
		return 0;
	}
	state_clear(&st);
	vmctl_error_free(ignored);
	if (access(overlay, F_OK) < 0 && errno == ENOENT)
		return 0;
	if (follow_backing(layers, overlay, chain, &base) < 0)
		return -1;
	if (base != NULL)
		strv_push(chain, base);
	return 0;
}

static int find_users(const struct vmctl_env *env, const char *layers,
		      struct imagecache_listing *l, const struct stat *sts,
		      struct vmctl_error **err)
{
	struct strv names = { 0 };

	if (state_list(env, &names, err) < 0)
		return -1;
	for (size_t i = 0; i < names.n; i++) {
		struct strv chain = { 0 };

		if (vm_chain(env, layers, names.v[i], &chain) < 0) {
			strv_push(&l->unknown_vms, names.v[i]);
			strv_clear(&chain);
			continue;
		}
		for (size_t c = 0; c < chain.n; c++) {
			struct stat st;

			if (stat(chain.v[c], &st) < 0)
				continue;
			for (size_t j = 0; j < l->n; j++)
				if (sts[j].st_dev == st.st_dev &&
				    sts[j].st_ino == st.st_ino &&
				    !strv_contains(&l->v[j].vms, names.v[i]))
					strv_push(&l->v[j].vms, names.v[i]);
		}
		strv_clear(&chain);
	}
	strv_clear(&names);
	return 0;
}

/* The layers linked clones stand on, as entries after the cache's. */
static void add_layers(const char *layers, struct imagecache_listing *l,
		       struct stat **sts)
{
	struct strv names = { 0 };
	struct dirent *de;
	DIR *d = opendir(layers);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			strv_push(&names, de->d_name);
	closedir(d);
	if (names.n > 1)
		qsort(names.v, names.n, sizeof(*names.v), compare_names);
	for (size_t i = 0; i < names.n; i++) {
		cleanup_free char *path = xasprintf("%s/%s", layers,
						    names.v[i]);
		struct imagecache_entry *e;
		struct stat st;

		if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
		*sts = xrealloc(*sts, (l->n + 1) * sizeof(**sts));
		(*sts)[l->n] = st;
		e = &l->v[l->n++];
		*e = (struct imagecache_entry){
			.name = xasprintf("layers/%s", names.v[i]),
			.size = (uint64_t)st.st_size,
			.disk_bytes = (uint64_t)st.st_blocks * 512,
			.layer = true,
		};
		if (follow_backing(layers, path, NULL, &e->base) < 0)
			e->base = NULL;
		e->path = steal_pointer(&path);
	}
	strv_clear(&names);
}

int imagecache_list(const struct vmctl_env *env,
		    struct imagecache_listing *out, struct vmctl_error **err)
{
	cleanup_free char *dir = imagecache_dir(env);
	cleanup_free char *layers = vm_layers_dir(env);
	cleanup_free struct stat *sts = NULL;
	struct imagecache_listing l = { 0 };
	struct strv names = { 0 };
	struct dirent *de;
	DIR *d;
	int ret = 0;

	*out = l;
	d = opendir(dir);
	if (d == NULL && errno != ENOENT)
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno, "%s",
					 dir);
	while (d != NULL && (de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0 &&
		    strcmp(de->d_name, "lock") != 0)
			strv_push(&names, de->d_name);
	if (d != NULL)
		closedir(d);
	if (names.n > 1)
		qsort(names.v, names.n, sizeof(*names.v), compare_names);
	sts = xcalloc(names.n + 1, sizeof(*sts));
	for (size_t i = 0; i < names.n; i++) {
		const char *name = names.v[i];
		cleanup_free char *path = xasprintf("%s/%s", dir, name);
		cleanup_free char *stamp_path = NULL;
		struct imagecache_entry *e;
		struct imagecache_stamp s;
		struct stat st;

		if (name[0] == '.' || ends_with(name, ".part")) {
			listing_add_stray(&l, dir, name);
			continue;
		}
		if (ends_with(name, ".verified") || ends_with(name, ".lock")) {
			const char *sfx = ends_with(name, ".lock")
					  ? ".lock" : ".verified";
			cleanup_free char *entry = strip_suffix(name, sfx);
			cleanup_free char *part = xasprintf("%s.part", entry);

			if (!exists_in(dir, entry) &&
			    (sfx[1] == 'v' || !exists_in(dir, part)))
				listing_add_stray(&l, dir, name);
			continue;
		}
		if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		l.v = xrealloc(l.v, (l.n + 1) * sizeof(*l.v));
		sts[l.n] = st;
		e = &l.v[l.n++];
		*e = (struct imagecache_entry){
			.name = xstrdup(name),
			.path = steal_pointer(&path),
			.size = (uint64_t)st.st_size,
			.disk_bytes = (uint64_t)st.st_blocks * 512,
			.legacy = !is_digest_name(name),
		};
		stamp_path = xasprintf("%s.verified", e->path);
		if (imagecache_stamp_read(stamp_path, &s) == 0) {
			e->digest = steal_pointer(&s.digest);
			strv_extend(&e->urls, &s.urls);
			imagecache_stamp_clear(&s);
		}
	}
	strv_clear(&names);
	add_layers(layers, &l, &sts);
	if (find_users(env, layers, &l, sts, err) < 0)
		ret = -1;
	*out = l;
	return ret;
}

void imagecache_listing_clear(struct imagecache_listing *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].path);
		free(l->v[i].digest);
		free(l->v[i].base);
		strv_clear(&l->v[i].urls);
		strv_clear(&l->v[i].vms);
	}
	free(l->v);
	strv_clear(&l->strays);
	strv_clear(&l->unknown_vms);
	*l = (struct imagecache_listing){ 0 };
}

void imagecache_prune_clear(struct imagecache_prune *p)
{
	strv_clear(&p->removed);
	*p = (struct imagecache_prune){ 0 };
}

/* A .part whose download is running keeps its entry's lock. */
static bool download_running(const char *dir, const char *part)
{
	cleanup_free char *entry = strip_suffix(part, ".part");
	cleanup_free char *path = xasprintf("%s/%s.lock", dir, entry);
	cleanup_close int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);

	return fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0 &&
	       errno == EWOULDBLOCK;
}

static void remove_quietly(const char *dir, const char *name)
{
	cleanup_free char *path = xasprintf("%s/%s", dir, name);
	struct vmctl_error *ignored = NULL;

	fs_remove_tree(path, &ignored);
	vmctl_error_free(ignored);
}

int imagecache_prune(const struct vmctl_env *env, bool dry_run,
		     struct imagecache_prune *out, struct vmctl_error **err)
{
	cleanup_free char *dir = imagecache_dir(env);
	cleanup_close int lock = -1;
	struct imagecache_listing l;
	int ret = 0;

	*out = (struct imagecache_prune){ 0 };
	/* Exclusive: no create is between fetching an entry and recording
	 * it in its VM's state while the users are counted. */
	lock = imagecache_lock(env, true, err);
	if (lock < 0)
		return -1;
	if (imagecache_list(env, &l, err) < 0)
		return -1;
	if (l.unknown_vms.n > 0) {
		ret = vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				      "cannot tell which image VM %s uses "
				      "(its vm.json and disk are unreadable): "
				      "nothing removed", l.unknown_vms.v[0]);
		imagecache_listing_clear(&l);
		return ret;
	}
	for (size_t i = 0; i < l.n; i++) {
		const struct imagecache_entry *e = &l.v[i];

		if (e->vms.n > 0)
			continue;
		strv_push(&out->removed, e->name);
		out->freed += e->disk_bytes;
		if (dry_run)
			continue;
		if (e->layer) {
			unlink(e->path);
			continue;
		}
		{
			cleanup_free char *stamp = xasprintf("%s.verified",
							     e->name);
			cleanup_free char *elock = xasprintf("%s.lock",
							     e->name);
			cleanup_free char *part = xasprintf("%s.part",
							    e->name);

			remove_quietly(dir, e->name);
			remove_quietly(dir, stamp);
			if (!exists_in(dir, part))
				remove_quietly(dir, elock);
		}
	}
	for (size_t i = 0; i < l.strays.n; i++) {
		const char *name = l.strays.v[i];

		cleanup_free char *path = xasprintf("%s/%s", dir, name);
		struct stat st;

		if (ends_with(name, ".part") && download_running(dir, name))
			continue;
		strv_push(&out->removed, name);
		if (lstat(path, &st) == 0)
			out->freed += (uint64_t)st.st_blocks * 512;
		if (dry_run)
			continue;
		remove_quietly(dir, name);
		if (ends_with(name, ".part")) {
			cleanup_free char *entry = strip_suffix(name, ".part");
			cleanup_free char *elock = xasprintf("%s.lock", entry);

			if (!exists_in(dir, entry))
				remove_quietly(dir, elock);
		}
	}
	imagecache_listing_clear(&l);
	return 0;
}
