// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The spec's keys of what the guest boots and stores (spec-walk.h): disk
 * (with its trust rules), kernel, cloud_init, cdrom, boot.  Pure.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/spec-walk.h"
#include "vmctl/xalloc.h"

static int set_disk_size(struct walker *w, const struct node *n,
			 const char *path, void *target)
{
	return sw_set_size(w, n, path, 1ULL << 20, target);
}

static int set_disk_bus(struct walker *w, const struct node *n,
			const char *path, void *target)
{
	static const char *const names[] = { "virtio", "sata", "scsi", NULL };
	int v;

	if (sw_get_enum(w, n, path, names, &v) < 0)
		return -1;
	*(enum spec_disk_bus *)target = (enum spec_disk_bus)v;
	return 0;
}

static int set_sha(struct walker *w, const struct node *n, const char *path,
		   void *target, size_t hexlen)
{
	char **out = target;
	const char *s;

	if (sw_get_string(w, n, path, &s) < 0)
		return -1;
	if (!sw_is_hex(s, hexlen)) {
		cleanup_free char *v = sw_shown(s);
		return sw_fail(w, n, path, "expected %zu hexadecimal digits, got "
			    "%s", hexlen, v);
	}
	free(*out);
	*out = sw_lowercase(s);
	return 0;
}

static int set_sha256(struct walker *w, const struct node *n,
		      const char *path, void *target)
{
	return set_sha(w, n, path, target, 64);
}

static int set_sha512(struct walker *w, const struct node *n,
		      const char *path, void *target)
{
	return set_sha(w, n, path, target, 128);
}

static bool is_plain_http(const char *url)
{
	return url != NULL && strncasecmp(url, "http://", 7) == 0;
}

/* Where the digest a download is checked against comes from must be
 * trustworthy: pinned in the spec, or a checksum list fetched over https
 * or carrying a good OpenPGP signature.  Over plain http an attacker
 * can swap the list along with the image. */
static int check_disk_trust(struct walker *w, const struct node *n,
			    const char *path, const struct spec_disk *disk)
{
	bool pinned = disk->sha256 != NULL || disk->sha512 != NULL;
	bool signed_list = disk->checksum_sig_url != NULL;

	if (signed_list && disk->checksum_url == NULL)
		return sw_fail(w, n, path, "checksum_sig_url signs the list at "
			    "checksum_url: give checksum_url too");
	if (signed_list && disk->keyring == NULL)
		return sw_fail(w, n, path, "checksum_sig_url needs keyring (the "
			    "OpenPGP keys to check the signature with)");
	if (disk->keyring != NULL && !signed_list)
		return sw_fail(w, n, path, "keyring is only used with "
			    "checksum_sig_url");
	if (is_plain_http(disk->image) && !pinned && !signed_list)
		return sw_fail(w, n, path, "image is a plain http:// URL: pin "
			    "its digest with sha256 or sha512 (a checksum "
			    "list fetched over http proves nothing), or sign "
			    "the list (checksum_sig_url and keyring)");
	if (is_plain_http(disk->checksum_url) && !signed_list)
		return sw_fail(w, n, path, "checksum_url is a plain http:// URL, "
			    "which proves nothing: use https, pin sha256 or "
			    "sha512, or sign the list (checksum_sig_url and "
			    "keyring)");
	return 0;
}

int sk_set_disk(struct walker *w, const struct node *n, const char *path,
		    void *target)
{
	typedef struct spec_disk disk_t;
	static const struct key keys[] = {
		KEY("image", sw_set_path_or_url, disk_t, image),
		KEY("sha256", set_sha256, disk_t, sha256),
		KEY("sha512", set_sha512, disk_t, sha512),
		KEY("checksum_url", sw_set_url, disk_t, checksum_url),
		KEY("checksum_sig_url", sw_set_url, disk_t, checksum_sig_url),
		KEY("keyring", sw_set_path, disk_t, keyring),
		KEY("size", set_disk_size, disk_t, size),
		KEY("bus", set_disk_bus, disk_t, bus),
		{ NULL, NULL, 0 },
	};
	disk_t *disk = target;
	int sums = 0;

	/* "disk: URL" is the short form of "disk: {image: URL}" and passes
	 * the same trust check. */
	if (n->kind == NODE_SCALAR) {
		if (sw_set_path_or_url(w, n, path, &disk->image) < 0)
			return -1;
		return check_disk_trust(w, n, path, disk);
	}
	if (sw_walk_map(w, n, path, keys, disk) < 0)
		return -1;
	sums = (disk->sha256 != NULL) + (disk->sha512 != NULL) +
	       (disk->checksum_url != NULL);
	if (sums > 1)
		return sw_fail(w, n, path, "give one of sha256, sha512 and "
			    "checksum_url, not several");
	if (disk->image == NULL)
		return sw_fail(w, n, path, "missing key \"image\"");
	return check_disk_trust(w, n, path, disk);
}

int sk_set_kernel(struct walker *w, const struct node *n,
		      const char *path, void *target)
{
	typedef struct spec_kernel kernel_t;
	static const struct key keys[] = {
		KEY("image", sw_set_path, kernel_t, image),
		KEY("initrd", sw_set_path, kernel_t, initrd),
		KEY("cmdline", sw_set_string, kernel_t, cmdline),
		{ NULL, NULL, 0 },
	};
	kernel_t *kernel = target;

	if (n->kind == NODE_SCALAR)
		return sw_set_path(w, n, path, &kernel->image);
	if (sw_walk_map(w, n, path, keys, kernel) < 0)
		return -1;
	if (kernel->image == NULL)
		return sw_fail(w, n, path, "missing key \"image\" (initrd and "
			    "cmdline need a kernel)");
	return 0;
}

int sk_set_strv(struct walker *w, const struct node *n, const char *path,
		    void *target)
{
	struct strv *sv = target;

	if (n->kind != NODE_SEQ)
		return sw_fail(w, n, path, "expected a list of strings, got %s",
			    node_kind_name(n));
	strv_clear(sv);
	for (size_t i = 0; i < n->n; i++) {
		cleanup_free char *sub = xasprintf("%s[%zu]", path, i);
		const char *s;

		if (sw_get_string(w, n->items[i], sub, &s) < 0)
			return -1;
		strv_push(sv, s);
	}
	return 0;
}

static int set_user(struct walker *w, const struct node *n, const char *path,
		    void *target)
{
	const char *s;

	if (sw_get_string(w, n, path, &s) < 0)
		return -1;
	/* What useradd accepts by default, and never "root". */
	if (*s == '\0' || strlen(s) > 32 || !(islower((unsigned char)*s) ||
					       *s == '_') ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(s)) {
		cleanup_free char *v = sw_shown(s);
		return sw_fail(w, n, path, "invalid user name %s (sw_lowercase "
			    "letters, digits, '_' and '-', at most 32)", v);
	}
	if (strcmp(s, "root") == 0)
		return sw_fail(w, n, path, "the cloud-init user must not be root");
	return sw_set_string(w, n, path, target);
}

int sk_set_cloud_init(struct walker *w, const struct node *n,
			  const char *path, void *target)
{
	typedef struct spec_cloud_init ci_t;
	static const struct key keys[] = {
		KEY("user", set_user, ci_t, user),
		KEY("ssh_authorized_keys", sk_set_strv, ci_t,
		    ssh_authorized_keys),
		KEY("password_hash", sw_set_string, ci_t, password_hash),
		KEY("packages", sk_set_strv, ci_t, packages),
		KEY("user_data", sw_set_path, ci_t, user_data),
		{ NULL, NULL, 0 },
	};
	ci_t *ci = target;

	w->cloud_init_given = true;
	w->at_cloud_init = n;
	if (sw_is_bool_literal(n))
		return sw_get_bool(w, n, path, &ci->enabled);
	ci->enabled = true;
	if (n->kind != NODE_MAP)
		return sw_fail(w, n, path, "expected a mapping or true/false, "
			    "got %s", node_kind_name(n));
	return sw_walk_map(w, n, path, keys, ci);
}

/* ---- the CD-ROM and the boot order (vm-cdrom.h) --------------------- */

/* cdrom: PATH (the medium), or "empty": a drive to insert into later. */
int sk_set_cdrom(struct walker *w, const struct node *n,
		     const char *path, void *target)
{
	struct vmctl_spec *spec = container_of(target, struct vmctl_spec,
					       cdrom);

	/* (quoted too: JSON has no other kind; a file named so is
	 * ./empty) */
	if (n->kind == NODE_SCALAR && strcmp(n->text, "empty") == 0) {
		free(spec->cdrom);
		spec->cdrom = NULL;
		spec->cdrom_drive = true;
		return 0;
	}
	if (sw_set_path(w, n, path, target) < 0)
		return -1;
	spec->cdrom_drive = true;
	return 0;
}

int sk_set_boot(struct walker *w, const struct node *n,
		    const char *path, void *target)
{
	static const char *const names[] = { "disk", "cdrom-once", NULL };
	int v;

	if (sw_get_enum(w, n, path, names, &v) < 0)
		return -1;
	*(enum spec_boot *)target = v == 1 ? SPEC_BOOT_CDROM_ONCE
					   : SPEC_BOOT_DISK;
	w->at_boot = n;
	return 0;
}

int sk_check_boot(struct walker *w, const struct vmctl_spec *spec)
{
	if (spec->boot != SPEC_BOOT_CDROM_ONCE)
		return 0;
	if (!spec->cdrom_drive)
		return sw_fail(w, w->at_boot, "boot", "cdrom-once needs a CD-ROM "
			    "drive (cdrom: PATH, or cdrom: empty)");
	if (spec->disk.image == NULL)
		return sw_fail(w, w->at_boot, "boot", "cdrom-once boots the disk "
			    "after the CD-ROM, and there is no disk (add "
			    "disk.image)");
	if (spec->kernel.image != NULL)
		return sw_fail(w, w->at_boot, "boot", "a kernel boots directly, "
			    "without the firmware's boot order (drop kernel "
			    "or boot)");
	return 0;
}
