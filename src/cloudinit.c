// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cloud-init NoCloud seeds.
 *
 * The documents are written as JSON, which YAML parsers read as YAML: no
 * hand-rolled YAML quoting for user-supplied strings.  The ISO is made in
 * process with libisofs (Rock Ridge + Joliet, so the lowercase, hyphenated
 * names cloud-init expects survive), not by running genisoimage/xorriso:
 * no external program, no temp directory tree, and the same seed on every
 * distribution.
 */
#include <cJSON.h>
#include <stdint.h>
#include <sys/types.h>
/* libisofs.h needs the fixed-width types first, and declares struct
 * burn_source itself when told libburn is not in use. */
#define LIBISOFS_WITHOUT_LIBBURN 1
#include <libisofs/libisofs.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl/cloudinit.h"
#include "vmctl/fsutil.h"
#include "vmctl/lazylib.h"
#include "vmctl/strv.h"
#include "vmctl/xalloc.h"

/* cJSON indents with tabs, which YAML forbids in indentation. */
static char *json_as_yaml(cJSON *doc)
{
	char *text = cJSON_Print(doc);
	size_t tabs = 0, len = strlen(text);
	char *out, *o;

	for (const char *p = text; *p; p++)
		tabs += *p == '\t';
	out = o = xmalloc(len + tabs + 1);
	/* Tabs only ever appear as cJSON's layout: strings escape them. */
	for (const char *p = text; *p; p++) {
		if (*p == '\t') {
			*o++ = ' ';
			*o++ = ' ';
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	free(text);
	return out;
}

static cJSON *string_array(const struct strv *sv)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; i < sv->n; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(sv->v[i]));
	return arr;
}

static char *cloud_config(const struct vmctl_spec *spec,
			  const struct cloudinit_keys *keys)
{
	const struct spec_cloud_init *ci = &spec->cloud_init;
	cJSON *doc = cJSON_CreateObject(), *users, *user, *authorized, *hk;
	char *body, *text;

	cJSON_AddStringToObject(doc, "hostname", spec->name);
	/* So the guest resolves its own name (sudo asks for it). */
	cJSON_AddTrueToObject(doc, "manage_etc_hosts");
	cJSON_AddTrueToObject(doc, "disable_root");
	users = cJSON_AddArrayToObject(doc, "users");
	user = cJSON_CreateObject();
	cJSON_AddItemToArray(users, user);
	cJSON_AddStringToObject(user, "name", ci->user);
	cJSON_AddStringToObject(user, "gecos", "vmctl user");
	cJSON_AddStringToObject(user, "shell", "/bin/bash");
	cJSON_AddStringToObject(user, "sudo", "ALL=(ALL) NOPASSWD:ALL");
	if (ci->password_hash != NULL) {
		cJSON_AddStringToObject(user, "passwd", ci->password_hash);
		cJSON_AddFalseToObject(user, "lock_passwd");
		/* The password is for the console: SSH stays key-only.  Only
		 * set then, since applying it restarts sshd mid-boot. */
		cJSON_AddFalseToObject(doc, "ssh_pwauth");
	} else {
		cJSON_AddTrueToObject(user, "lock_passwd");
	}
	authorized = string_array(&ci->ssh_authorized_keys);
	cJSON_InsertItemInArray(authorized, 0,
				cJSON_CreateString(keys->client_pub));
	cJSON_AddItemToObject(user, "ssh_authorized_keys", authorized);
	/* The host key vmctl pinned: no trust on first use. */
	cJSON_AddTrueToObject(doc, "ssh_deletekeys");
	cJSON_AddItemToObject(doc, "ssh_genkeytypes", cJSON_CreateArray());
	hk = cJSON_AddObjectToObject(doc, "ssh_keys");
	cJSON_AddStringToObject(hk, "ed25519_private", keys->host_private);
	cJSON_AddStringToObject(hk, "ed25519_public", keys->host_public);
	if (ci->packages.n > 0)
		cJSON_AddItemToObject(doc, "packages",
				      string_array(&ci->packages));
	body = json_as_yaml(doc);
	cJSON_Delete(doc);
	text = xasprintf("#cloud-config\n%s\n", body);
	free(body);
	return text;
}

char *cloudinit_user_data(const struct vmctl_spec *spec,
			  const struct cloudinit_keys *keys,
			  const char *extra)
{
	static const char boundary[] = "==vmctl-user-data==";
	static const char merge[] =
		"Merge-Type: list(append)+dict(no_replace,recurse_list)+str()\n";
	cleanup_free char *ours = cloud_config(spec, keys);

	if (extra == NULL)
		return steal_pointer(&ours);
	/* Both parts are cloud-config; cloud-init merges them in order, ours
	 * first, so the user's lists add to ours and cannot drop the keys
	 * vmctl relies on. */
	return xasprintf(
		"Content-Type: multipart/mixed; boundary=\"%s\"\n"
		"MIME-Version: 1.0\n\n"
		"--%s\n"
		"Content-Type: text/cloud-config; charset=\"utf-8\"\n%s"
		"Content-Disposition: attachment; filename=\"vmctl.cfg\"\n\n"
		"%s\n"
		"--%s\n"
		"Content-Type: text/cloud-config; charset=\"utf-8\"\n%s"
		"Content-Disposition: attachment; filename=\"user.cfg\"\n\n"
		"%s%s"
		"--%s--\n",
		boundary, boundary, merge, ours, boundary, merge, extra,
		extra[0] && extra[strlen(extra) - 1] == '\n' ? "" : "\n",
		boundary);
}

char *cloudinit_meta_data(const struct vmctl_spec *spec,
			  const char *instance_id)
{
	cJSON *doc = cJSON_CreateObject();
	char *text;

	cJSON_AddStringToObject(doc, "instance-id", instance_id);
	cJSON_AddStringToObject(doc, "local-hostname", spec->name);
	text = json_as_yaml(doc);
	cJSON_Delete(doc);
	return text;
}

char *cloudinit_network_config(const char *mac)
{
	cJSON *doc = cJSON_CreateObject(), *eths, *eth, *match;
	char *text;

	/* Version 2, matched by the MAC vmctl gives the NIC, so the name
	 * the guest's kernel picks does not matter. */
	cJSON_AddNumberToObject(doc, "version", 2);
	eths = cJSON_AddObjectToObject(doc, "ethernets");
	eth = cJSON_AddObjectToObject(eths, "primary");
	match = cJSON_AddObjectToObject(eth, "match");
	cJSON_AddStringToObject(match, "macaddress", mac);
	cJSON_AddTrueToObject(eth, "dhcp4");
	text = json_as_yaml(doc);
	cJSON_Delete(doc);
	return text;
}

static int add_file(IsoDir *root, const char *name, const char *text,
		    struct vmctl_error **err)
{
	size_t len = strlen(text);
	unsigned char *copy = xmalloc(len ? len : 1);
	IsoStream *stream = NULL;
	IsoFile *file = NULL;
	int r;

	memcpy(copy, text, len);
	/* The stream owns `copy` from here on. */
	r = sym_iso_memory_stream_new(copy, len, &stream);
	if (r < 0) {
		free(copy);
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "seed: %s", sym_iso_error_to_msg(r));
	}
	/* On success the new file holds our reference to the stream. */
	r = sym_iso_tree_add_new_file(root, name, stream, &file);
	if (r < 0) {
		sym_iso_stream_unref(stream);
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "seed: %s: %s", name,
				       sym_iso_error_to_msg(r));
	}
	sym_iso_node_set_permissions((IsoNode *)file, 0444);
	return 0;
}

int cloudinit_write_seed(const char *dir, const char *name,
			 const char *user_data, const char *meta_data,
			 const char *network_config, struct vmctl_error **err)
{
	IsoImage *image = NULL;
	IsoWriteOpts *opts = NULL;
	struct burn_source *src = NULL;
	unsigned char block[2048];
	char *iso = NULL;
	size_t len = 0;
	int r, ret = -1;

	if (lazylib_load(LAZYLIB_ISOFS, err) < 0)
		return -1;
	r = sym_iso_init();
	if (r < 0)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "libisofs: %s", sym_iso_error_to_msg(r));
	if (sym_iso_image_new("cidata", &image) < 0 ||
	    sym_iso_write_opts_new(&opts, 0) < 0) {
		vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				"libisofs: cannot start an image");
		goto out;
	}
	sym_iso_image_set_volume_id(image, "cidata");
	sym_iso_write_opts_set_rockridge(opts, 1);
	sym_iso_write_opts_set_joliet(opts, 1);
	if (add_file(sym_iso_image_get_root(image), "user-data", user_data,
		     err) < 0 ||
	    add_file(sym_iso_image_get_root(image), "meta-data", meta_data,
		     err) < 0 ||
	    add_file(sym_iso_image_get_root(image), "network-config",
		     network_config, err) < 0)
		goto out;
	r = sym_iso_image_create_burn_source(image, opts, &src);
	if (r < 0) {
		vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "seed: %s",
				sym_iso_error_to_msg(r));
		goto out;
	}
	/* A seed is a few hundred KiB: collect it, then write atomically. */
	while ((r = src->read_xt(src, block, sizeof(block))) > 0) {
		iso = xrealloc(iso, len + (size_t)r);
		memcpy(iso + len, block, (size_t)r);
		len += (size_t)r;
	}
	if (r < 0) {
		vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				"seed: writing the ISO failed");
		goto out;
	}
	ret = fs_write_atomic(dir, name, iso, len, 0600, err);
out:
	if (src != NULL) {
		src->free_data(src);
		free(src);
	}
	sym_iso_write_opts_free(opts);
	if (image != NULL)
		sym_iso_image_unref(image);
	free(iso);
	sym_iso_finish();
	return ret;
}
