// SPDX-License-Identifier: GPL-2.0-or-later
/* The image cache: entries named by digest, verified once, immutable. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>

#include "vmctl/checksum.h"
#include "vmctl/download.h"
#include "vmctl/fsutil.h"
#include "vmctl/imagecache.h"
#include "vmctl/signature.h"
#include "vmctl/state.h"
#include "vmctl/xalloc.h"

#define SUMS_MAX (4u << 20)

static bool is_url(const char *s)
{
	return strstr(s, "://") != NULL;
}

static const char *url_basename(const char *url)
{
	const char *end = url + strcspn(url, "?#");
	const char *p = end;

	while (p > url && p[-1] != '/')
		p--;
	return p;
}

char *imagecache_name(const char *url)
{
	cleanup_free char *digest = checksum_sha256_data(url, strlen(url));
	const char *base = url_basename(url);
	size_t blen = strcspn(base, "?#");

	/* the first 64 bits of the URL's SHA-256, in hex */
	if (blen == 0 || (blen == 1 && base[0] == '.') ||
	    (blen == 2 && base[0] == '.' && base[1] == '.'))
		return xasprintf("%.16s-image", digest);
	return xasprintf("%.16s-%.*s", digest, (int)blen, base);
}

char *imagecache_entry_name(enum checksum_algo algo, const char *hex)
{
	return xasprintf("%s-%s", checksum_algo_name(algo), hex);
}

char *imagecache_dir(const struct vmctl_env *env)
{
	return xasprintf("%s/images", env->state_dir);
}

int imagecache_lock(const struct vmctl_env *env, bool exclusive,
		    struct vmctl_error **err)
{
	cleanup_free char *dir = imagecache_dir(env);
	cleanup_free char *path = xasprintf("%s/lock", dir);

	if (fs_mkdir_p(dir, 0755, err) < 0)
		return -1;
	return state_lock_path(path, exclusive ? LOCK_EX : LOCK_SH, err);
}

void imagecache_result_clear(struct imagecache_result *r)
{
	free(r->path);
	free(r->digest);
	if (r->locked)
		close(r->lock);
	*r = (struct imagecache_result){ 0 };
}

/* ---- stamps ----------------------------------------------------------- */

void imagecache_stamp_clear(struct imagecache_stamp *s)
{
	free(s->digest);
	strv_clear(&s->urls);
	*s = (struct imagecache_stamp){ 0 };
}

int imagecache_stamp_read(const char *path, struct imagecache_stamp *out)
{
	cleanup_free char *text = NULL;
	struct vmctl_error *ignored = NULL;
	cJSON *o, *d, *urls, *u;
	size_t len;

	*out = (struct imagecache_stamp){ 0 };
	if (fs_read_file(path, 1u << 20, &text, &len, VMCTL_EXIT_FAILURE,
			 &ignored) < 0) {
		vmctl_error_free(ignored);
		return -1;
	}
	if (text[0] != '{') {
		/* wave 1: "sha512:HEX\n", and nothing about the file */
		text[strcspn(text, "\n")] = '\0';
		if (strchr(text, ':') == NULL)
			return -1;
		out->digest = xstrdup(text);
		return 0;
	}
	o = cJSON_ParseWithLength(text, len);
	d = cJSON_GetObjectItem(o, "digest");
	if (!cJSON_IsString(d)) {
		cJSON_Delete(o);
		return -1;
	}
	out->digest = xstrdup(d->valuestring);
	out->id_known = state_file_id_from_json(o, &out->id);
	urls = cJSON_GetObjectItem(o, "urls");
	cJSON_ArrayForEach(u, urls)
		if (cJSON_IsString(u))
			strv_push(&out->urls, u->valuestring);
	cJSON_Delete(o);
	return 0;
}

static int stamp_write(const char *dir, const char *entry,
		       const struct imagecache_stamp *s,
		       struct vmctl_error **err)
{
	cleanup_free char *name = xasprintf("%s.verified", entry);
	cJSON *o = cJSON_CreateObject(), *urls;
	char *text;
	int ret;

	cJSON_AddStringToObject(o, "digest", s->digest);
	state_file_id_to_json(o, &s->id);
	urls = cJSON_AddArrayToObject(o, "urls");
	for (size_t i = 0; i < s->urls.n; i++)
		cJSON_AddItemToArray(urls, cJSON_CreateString(s->urls.v[i]));
	text = cJSON_Print(o);
	cJSON_Delete(o);
	ret = fs_write_atomic(dir, name, text, strlen(text), 0644, err);
	free(text);
	return ret;
}

/* ---- expected digests and verification -------------------------------- */

static char *digest_string(enum checksum_algo algo, const char *hex)
{
	return xasprintf("%s:%s", checksum_algo_name(algo), hex);
}

static bool digest_parse(const char *digest, enum checksum_algo *algo,
			 const char **hex)
{
	if (strncmp(digest, "sha256:", 7) == 0) {
		*algo = CHECKSUM_SHA256;
		*hex = digest + 7;
		return true;
	}
	if (strncmp(digest, "sha512:", 7) == 0) {
		*algo = CHECKSUM_SHA512;
		*hex = digest + 7;
		return true;
	}
	return false;
}

/* The checksum list, its signature checked by gpgv first when the spec
 * names one. */
static int fetch_list(const char *dir, const struct spec_disk *disk,
		      char **list, struct vmctl_error **err)
{
	cleanup_free char *tmp = NULL, *data = NULL, *sig = NULL;
	size_t len;
	int ret;

	if (disk->checksum_sig_url == NULL) {
		if (download_text(disk->checksum_url, SUMS_MAX, list, err) < 0)
			return vmctl_error_wrap(err, "disk.checksum_url");
		return 0;
	}
	tmp = xasprintf("%s/.sig-XXXXXX", dir);
	if (fs_mkdir_p(dir, 0755, err) < 0)
		return -1;
	if (mkdtemp(tmp) == NULL)
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno, "%s",
					 tmp);
	data = xasprintf("%s/list", tmp);
	sig = xasprintf("%s/list.sig", tmp);
	ret = download_file(disk->checksum_url, data, false, false, err);
	if (ret < 0)
		vmctl_error_wrap(err, "disk.checksum_url");
	else if ((ret = download_file(disk->checksum_sig_url, sig, false,
				      false, err)) < 0)
		vmctl_error_wrap(err, "disk.checksum_sig_url");
	else if ((ret = signature_verify(disk->keyring, sig, data, err)) < 0)
		vmctl_error_wrap(err, "%s", disk->checksum_url);
	else
		ret = fs_read_file(data, SUMS_MAX, list, &len,
				   VMCTL_EXIT_FAILURE, err);
	{
		struct vmctl_error *ignored = NULL;

		fs_remove_tree(tmp, &ignored);
		vmctl_error_free(ignored);
	}
	return ret;
}

/* The digest the spec expects: given, or looked up in the checksum list. */
static int expected_digest(const char *dir, const struct spec_disk *disk,
			   char **hex, enum checksum_algo *algo,
			   struct vmctl_error **err)
{
	cleanup_free char *list = NULL, *name = NULL;
	const char *base;

	*hex = NULL;
	if (disk->sha256 != NULL) {
		*hex = xstrdup(disk->sha256);
		*algo = CHECKSUM_SHA256;
		return 0;
	}
	if (disk->sha512 != NULL) {
		*hex = xstrdup(disk->sha512);
		*algo = CHECKSUM_SHA512;
		return 0;
	}
	if (disk->checksum_url == NULL)
		return 0;
	if (fetch_list(dir, disk, &list, err) < 0)
		return -1;
	base = url_basename(disk->image);
	name = xstrndup(base, strcspn(base, "?#"));
	if (checksum_find_in_list(list, name, hex, algo) < 0)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "%s does not list %s",
				       disk->checksum_url, name);
	return 0;
}

/* Hash `path`; its identity before and after must agree (a file changing
 * while it is read proves nothing). */
static int hash_file(const char *path, enum checksum_algo algo, char **hex,
		     struct fs_file_id *id, struct vmctl_error **err)
{
	struct fs_file_id after;
	struct stat st;

	if (stat(path, &st) < 0)
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno, "%s",
					 path);
	fs_file_id_from_stat(&st, id);
	if (checksum_file(path, algo, hex, err) < 0)
		return -1;
	if (stat(path, &st) < 0)
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno, "%s",
					 path);
	fs_file_id_from_stat(&st, &after);
	if (!fs_file_id_same(id, &after)) {
		free(*hex);
		*hex = NULL;
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "%s changed while it was being "
				       "verified", path);
	}
	return 0;
}

static int verify(const char *path, const char *want, enum checksum_algo algo,
		  struct fs_file_id *id, struct vmctl_error **err)
{
	cleanup_free char *got = NULL;

	if (hash_file(path, algo, &got, id, err) < 0)
		return -1;
	if (strcmp(got, want) != 0)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "%s checksum mismatch for %s: expected "
				       "%s, got %s", checksum_algo_name(algo),
				       path, want, got);
	return 0;
}

/* ---- fetching --------------------------------------------------------- */

/*
 * Is the entry at `path` there and holding `digest`?  1 yes (*id set), 0
 * no (absent, or its bytes are not what its name says: to download
 * again), -1 error.  The stamp spares the hashing while the file's
 * identity is the one it recorded.
 */
static int entry_holds(const char *path, const char *stamp_path,
		       const char *digest, struct imagecache_stamp *stamp,
		       struct fs_file_id *id, struct vmctl_error **err)
{
	enum checksum_algo algo = CHECKSUM_SHA256;
	const char *hex = "";
	struct stat st;

	if (stat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno, "%s",
					 path);
	}
	fs_file_id_from_stat(&st, id);
	if (imagecache_stamp_read(stamp_path, stamp) == 0 &&
	    stamp->id_known && strcmp(stamp->digest, digest) == 0 &&
	    fs_file_id_same(&stamp->id, id))
		return 1;
	digest_parse(digest, &algo, &hex);
	if (verify(path, hex, algo, id, err) < 0) {
		if (*err != NULL && (*err)->errnum != 0)
			return -1;   /* unreadable, not wrong */
		vmctl_error_free(*err);
		*err = NULL;
		return 0;
	}
	return 1;
}

/* Wave 1 kept URL-named entries; one verified with this digest becomes
 * the entry by a hard link (no copy, and the old name's VMs are unmoved). */
static int adopt_legacy(const char *dir, const char *url, const char *path,
			const char *digest, struct vmctl_error **err)
{
	cleanup_free char *name = imagecache_name(url);
	cleanup_free char *old = xasprintf("%s/%s", dir, name);
	cleanup_free char *old_stamp = xasprintf("%s.verified", old);
	struct imagecache_stamp s;
	bool same;

	if (imagecache_stamp_read(old_stamp, &s) < 0)
		return 0;
	same = strcmp(s.digest, digest) == 0;
	imagecache_stamp_clear(&s);
	if (!same)
		return 0;
	if (link(old, path) < 0 && errno != EEXIST)
		return errno == ENOENT ? 0
		       : vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno,
					   "%s", path);
	return 1;
}

static int fetch_url(const char *dir, const struct spec_disk *disk,
		     bool progress, struct imagecache_result *out,
		     struct vmctl_error **err)
{
	cleanup_free char *hex = NULL, *entry = NULL, *digest = NULL;
	cleanup_free char *path = NULL, *part = NULL, *stamp_path = NULL;
	cleanup_free char *lock_name = NULL;
	cleanup_close int lock = -1;
	struct imagecache_stamp stamp = { 0 };
	enum checksum_algo algo = CHECKSUM_SHA256;
	struct fs_file_id id;
	int have, ret = -1;

	if (expected_digest(dir, disk, &hex, &algo, err) < 0)
		return -1;
	if (hex == NULL)
		return vmctl_error_set(err, VMCTL_EXIT_SPEC, 0,
				       "disk.image is a URL: give disk.sha256, "
				       "disk.sha512 or disk.checksum_url so "
				       "the download can be verified");
	entry = imagecache_entry_name(algo, hex);
	digest = digest_string(algo, hex);
	path = xasprintf("%s/%s", dir, entry);
	part = xasprintf("%s.part", path);
	stamp_path = xasprintf("%s.verified", path);
	lock_name = xasprintf("%s.lock", path);
	/* Two creates fetching one image: the second waits, then reuses. */
	lock = state_lock_path(lock_name, LOCK_EX, err);
	if (lock < 0)
		return -1;
	have = entry_holds(path, stamp_path, digest, &stamp, &id, err);
	if (have == 0 && adopt_legacy(dir, disk->image, path, digest,
				      err) != 0) {
		imagecache_stamp_clear(&stamp);
		have = *err ? -1 : entry_holds(path, stamp_path, digest,
					       &stamp, &id, err);
	}
	if (have < 0)
		goto out;
	if (have == 0) {
		/* Absent, or its bytes are not its name's: fetch it.  Only a
		 * file with exactly the right bytes ever takes its place. */
		struct stat st;

		imagecache_stamp_clear(&stamp);
		if (download_file(disk->image, part, true, progress, err) < 0) {
			/* A full disk: the part cannot complete, and keeping
			 * it would hold the space others need. */
			if ((*err)->errnum == ENOSPC ||
			    (*err)->errnum == EDQUOT)
				unlink(part);
			goto out;
		}
		if (verify(part, hex, algo, &id, err) < 0) {
			unlink(part);
			goto out;
		}
		if (chmod(part, 0444) < 0 || rename(part, path) < 0 ||
		    stat(path, &st) < 0) {
			vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno, "%s",
					  path);
			goto out;
		}
		if (fs_sync_dir(dir, err) < 0)
			goto out;
		fs_file_id_from_stat(&st, &id);
		out->downloaded = true;
	}
	/* (Re)write the stamp when it is not exactly this. */
	if (!stamp.id_known || !fs_file_id_same(&stamp.id, &id) ||
	    stamp.digest == NULL || strcmp(stamp.digest, digest) != 0 ||
	    !strv_contains(&stamp.urls, disk->image)) {
		if (stamp.digest == NULL || strcmp(stamp.digest, digest) != 0)
			strv_clear(&stamp.urls);
		free(stamp.digest);
		stamp.digest = xstrdup(digest);
		stamp.id = id;
		stamp.id_known = true;
		if (!strv_contains(&stamp.urls, disk->image))
			strv_push(&stamp.urls, disk->image);
		if (stamp_write(dir, entry, &stamp, err) < 0)
			goto out;
	}
	out->path = steal_pointer(&path);
	out->digest = steal_pointer(&digest);
	out->id = id;
	out->verified = true;
	ret = 0;
out:
	imagecache_stamp_clear(&stamp);
	return ret;
}

static int local_image(const char *dir, const struct spec_disk *disk,
		       struct imagecache_result *out, struct vmctl_error **err)
{
	cleanup_free char *want = NULL;
	enum checksum_algo algo = CHECKSUM_SHA256;
	struct stat st;

	if (expected_digest(dir, disk, &want, &algo, err) < 0)
		return -1;
	if (want != NULL) {
		if (verify(disk->image, want, algo, &out->id, err) < 0)
			return -1;
		out->digest = digest_string(algo, want);
		out->verified = true;
	} else {
		if (stat(disk->image, &st) < 0)
			return vmctl_error_errno(err,
				vmctl_error_status_from_errno(
					errno, VMCTL_EXIT_NOINPUT), errno,
				"disk image %s", disk->image);
		fs_file_id_from_stat(&st, &out->id);
	}
	out->path = xstrdup(disk->image);
	return 0;
}

int imagecache_get(const struct vmctl_env *env, const struct spec_disk *disk,
		   bool progress, struct imagecache_result *out,
		   struct vmctl_error **err)
{
	cleanup_free char *dir = imagecache_dir(env);

	*out = (struct imagecache_result){ 0 };
	if (!is_url(disk->image))
		return local_image(dir, disk, out, err);
	/* Held until the create is over: prune leaves this entry alone
	 * until the VM's state names it. */
	out->lock = imagecache_lock(env, false, err);
	if (out->lock < 0)
		return -1;
	out->locked = true;
	return fetch_url(dir, disk, progress, out, err);
}

int imagecache_find(const struct vmctl_env *env, const char *digest,
		    struct imagecache_result *out, struct vmctl_error **err)
{
	cleanup_free char *dir = imagecache_dir(env);
	cleanup_free char *entry = NULL, *path = NULL, *stamp_path = NULL;
	struct imagecache_stamp stamp = { 0 };
	enum checksum_algo algo;
	const char *hex;
	int ret;

	*out = (struct imagecache_result){ 0 };
	if (!digest_parse(digest, &algo, &hex))
		return 0;
	out->lock = imagecache_lock(env, false, err);
	if (out->lock < 0)
		return -1;
	out->locked = true;
	entry = imagecache_entry_name(algo, hex);
	path = xasprintf("%s/%s", dir, entry);
	stamp_path = xasprintf("%s.verified", path);
	ret = entry_holds(path, stamp_path, digest, &stamp, &out->id, err);
	imagecache_stamp_clear(&stamp);
	if (ret != 1) {
		imagecache_result_clear(out);
		return ret;
	}
	out->path = steal_pointer(&path);
	out->digest = xstrdup(digest);
	out->verified = true;
	return 1;
}

/* ---- a VM's base ------------------------------------------------------- */

void imagecache_record_base(const struct imagecache_result *r,
			    struct vm_state *st)
{
	if (r->path == NULL)
		return;
	free(st->base_digest);
	st->base_digest = r->digest ? xstrdup(r->digest) : NULL;
	st->base_id = r->id;
	st->base_id_known = true;
}

int imagecache_check_base(const struct vmctl_env *env, const char *name,
			  struct vm_state *st, struct vmctl_error **err)
{
	cleanup_free char *change = NULL, *got = NULL;
	struct fs_file_id now;
	enum checksum_algo algo;
	const char *hex;
	struct stat sb;

	if (st->base_image == NULL)
		return 0;
	if (stat(st->base_image, &sb) < 0)
		return vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno,
					 "VM %s: its base image %s", name,
					 st->base_image);
	fs_file_id_from_stat(&sb, &now);
	if (!st->base_id_known) {
		/* Made before bases were recorded: take it as it is now,
		 * with the digest its wave-1 stamp gives, if any. */
		cleanup_free char *sp = xasprintf("%s.verified",
						  st->base_image);
		struct imagecache_stamp s;

		if (st->base_digest == NULL &&
		    imagecache_stamp_read(sp, &s) == 0) {
			st->base_digest = steal_pointer(&s.digest);
			imagecache_stamp_clear(&s);
		}
		st->base_id = now;
		st->base_id_known = true;
		return state_write(env, name, st, err);
	}
	if (fs_file_id_same(&st->base_id, &now))
		return 0;
	change = fs_file_id_describe_change(&st->base_id, &now);
	if (st->base_digest == NULL ||
	    !digest_parse(st->base_digest, &algo, &hex))
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "VM %s: its base image %s changed since "
				       "the VM was created (%s) and no digest "
				       "is known to check it: not starting",
				       name, st->base_image, change);
	if (hash_file(st->base_image, algo, &got, &now, err) < 0)
		return vmctl_error_wrap(err, "VM %s", name);
	if (strcmp(got, hex) != 0)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "VM %s: its base image %s changed since "
				       "the VM was created (%s; %s is now %s, "
				       "was %s): not starting", name,
				       st->base_image, change,
				       checksum_algo_name(algo), got, hex);
	st->base_id = now;
	return state_write(env, name, st, err);
}
