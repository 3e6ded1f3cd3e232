// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What host-setup intended (include/vmctl/hostcheck-intent.h): its
 * manifest, then the files it wrote under the manifest's root, read the
 * way the boot tools read them.  Reads only; hostcheck-compare.c compares.
 */
#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "vmctl/fsutil.h"
#include "vmctl/hostcheck-intent.h"
#include "vmctl/kcmdline.h"
#include "vmctl/sysfs.h"
#include "vmctl/xalloc.h"

#define GRUB_DEFAULT "/etc/default/grub"
#define GRUB_DROPINS "/etc/default/grub.d"
#define KERNEL_CMDLINE "/etc/kernel/cmdline"
#define KERNELSTUB_CONF "/etc/kernelstub/configuration"
#define MODPROBE_DIR "/etc/modprobe.d"
#define ITOOLS_MODULES "/etc/initramfs-tools/modules"
#define ITOOLS_HOOK "/etc/initramfs-tools/scripts/init-top/vmctl-vfio"
#define DRACUT_DIR "/etc/dracut.conf.d"
#define MKINITCPIO_CONF "/etc/mkinitcpio.conf"

/* ---- the files under the root ------------------------------------------ */

static char *at_root(const char *root, const char *path)
{
	size_t len = strlen(root);

	while (len > 0 && root[len - 1] == '/')
		len--;
	return xasprintf("%.*s%s", (int)len, root, path);
}

static char *read_at(const char *root, const char *path)
{
	cleanup_free char *full = at_root(root, path);
	struct vmctl_error *e = NULL;
	char *text = NULL;
	size_t len;

	if (fs_read_file(full, 4u << 20, &text, &len, VMCTL_EXIT_FAILURE,
			 &e) < 0) {
		vmctl_error_free(e);
		return NULL;
	}
	return text;
}

/* DIR's entries ending in SUFFIX, as paths on the target, sorted. */
static void list_at(const char *root, const char *dir, const char *suffix,
		    struct strv *out)
{
	cleanup_free char *full = at_root(root, dir);
	struct strv names = { 0 };
	size_t sl = strlen(suffix);

	sysfs_list_dir(full, &names);
	for (size_t i = 0; i < names.n; i++) {
		size_t l = strlen(names.v[i]);

		if (l > sl && strcmp(names.v[i] + l - sl, suffix) == 0)
			strv_pushf(out, "%s/%s", dir, names.v[i]);
	}
	strv_clear(&names);
}

static bool mtime_at(const char *root, const char *path, struct timespec *t)
{
	cleanup_free char *full = at_root(root, path);
	struct stat st;

	if (stat(full, &st) < 0)
		return false;
	*t = st.st_mtim;
	return true;
}

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool is_entry(const char *path)
{
	size_t l = strlen(path);

	return strstr(path, "/loader/entries/") != NULL && l > 5 &&
	       strcmp(path + l - 5, ".conf") == 0;
}

/* Which of the manifest's files carries the kernel arguments. */
static void pick_carrier(struct hostcheck_intent *in)
{
	const char *boot = in->boot ? in->boot : "";
	const char *grub = NULL, *dropin = NULL, *entry = NULL;
	const char *cmdline = NULL, *stub = NULL;

	for (size_t i = 0; i < in->files.n; i++) {
		const char *f = in->files.v[i];

		if (starts(f, GRUB_DROPINS "/") && dropin == NULL)
			dropin = f;
		else if (strcmp(f, GRUB_DEFAULT) == 0)
			grub = f;
		else if (strcmp(f, KERNEL_CMDLINE) == 0)
			cmdline = f;
		else if (is_entry(f) && entry == NULL)
			entry = f;
		else if (strcmp(f, KERNELSTUB_CONF) == 0)
			stub = f;
	}
	if (strcmp(boot, "grubby") == 0)
		in->kargs_file = xstrdup(entry ? entry : grub ? grub : "");
	else if (strcmp(boot, "systemd-boot") == 0)
		in->kargs_file = xstrdup(cmdline ? cmdline
					 : entry ? entry : "");
	else if (strcmp(boot, "kernelstub") == 0)
		in->kargs_file = xstrdup(stub ? stub : "");
	else
		in->kargs_file = xstrdup(dropin ? dropin : grub ? grub
					 : cmdline ? cmdline : entry ? entry
					 : stub ? stub : "");
	if (*in->kargs_file == '\0') {
		free(in->kargs_file);
		in->kargs_file = NULL;
	} else if (strcmp(in->kargs_file, GRUB_DEFAULT) == 0 ||
		   starts(in->kargs_file, GRUB_DROPINS "/")) {
		in->kargs_var = xstrdup(strcmp(boot, "grubby") == 0
					? "GRUB_CMDLINE_LINUX"
					: "GRUB_CMDLINE_LINUX_DEFAULT");
	}
}

/* The kernel command line a non-GRUB carrier holds. */
static char *carrier_line(const char *path, const char *text)
{
	char *line = xstrdup("");

	if (strcmp(path, KERNELSTUB_CONF) == 0) {
		cJSON *c = cJSON_Parse(text), *it;

		cJSON_ArrayForEach(it, cJSON_GetObjectItem(
				cJSON_GetObjectItem(c, "user"),
				"kernel_options"))
			if (cJSON_IsString(it)) {
				char *t = xasprintf("%s %s", line,
						    it->valuestring);

				free(line);
				line = t;
			}
		cJSON_Delete(c);
		return line;
	}
	if (!is_entry(path)) {
		free(line);
		return xstrdup(text);
	}
	for (const char *l = text; l != NULL && *l;) {
		const char *next = strchr(l, '\n');
		const char *p = l + strspn(l, " \t");

		if (strncmp(p, "options", 7) == 0 && (p[7] == ' ' ||
						      p[7] == '\t')) {
			char *t = xasprintf("%s %.*s", line,
					    (int)(next ? next - p - 7
						  : (long)strlen(p + 7)),
					    p + 7);

			free(line);
			line = t;
		}
		l = next ? next + 1 : NULL;
	}
	return line;
}

static bool all_in(const struct strv *kargs, const char *line)
{
	struct strv words = { 0 };
	bool all = true;

	kcmdline_split(line ? line : "", &words);
	for (size_t i = 0; i < kargs->n && all; i++)
		all = hostcheck_karg_in(&words, kargs->v[i]);
	strv_clear(&words);
	return all;
}

/* GRUB: /etc/default/grub, then the grub.d drop-ins (.cfg) in order, as
 * grub-mkconfig
 * sources them; the carrier's value is what host-setup meant. */
static void read_grub(const char *root, struct hostcheck_intent *in)
{
	struct strv order = { 0 };
	cleanup_free char *value = NULL, *meant = NULL;
	const char *last = NULL;

	strv_push(&order, GRUB_DEFAULT);
	list_at(root, GRUB_DROPINS, ".cfg", &order);
	for (size_t i = 0; i < order.n; i++) {
		cleanup_free char *text = read_at(root, order.v[i]);

		if (text != NULL &&
		    hostcheck_grub_assign(text, in->kargs_var, &value))
			last = order.v[i];
		if (strcmp(order.v[i], in->kargs_file) == 0)
			meant = xstrdup(value ? value : "");
	}
	if (!in->kargs_recorded)
		hostcheck_setup_kargs(meant, &in->kargs);
	in->kargs_file_has = in->kargs.n > 0 && all_in(&in->kargs, meant);
	if (last != NULL && strcmp(last, in->kargs_file) != 0 &&
	    in->kargs_file_has && !all_in(&in->kargs, value))
		in->kargs_override = xstrdup(last);
	strv_clear(&order);
}

/* grub.cfg: does a linux line carry every argument? */
static void read_bootmenu(const char *root, struct hostcheck_intent *in)
{
	static const char *const menus[] = { "/boot/grub/grub.cfg",
					     "/boot/grub2/grub.cfg" };

	for (size_t m = 0; m < 2 && in->bootmenu == NULL; m++) {
		cleanup_free char *text = read_at(root, menus[m]);

		if (text == NULL)
			continue;
		in->bootmenu = xstrdup(menus[m]);
		for (const char *l = text; l != NULL && *l;) {
			const char *next = strchr(l, '\n');
			const char *p = l + strspn(l, " \t");
			cleanup_free char *line = xstrndup(p, next
				? (size_t)(next - p) : strlen(p));

			if (starts(line, "linux") && in->kargs.n > 0 &&
			    all_in(&in->kargs, line))
				in->bootmenu_has = true;
			l = next ? next + 1 : NULL;
		}
	}
}

static void read_kargs(const char *root, struct hostcheck_intent *in)
{
	cleanup_free char *text = NULL, *line = NULL;

	pick_carrier(in);
	if (in->kargs_file == NULL)
		return;
	if (in->kargs_var != NULL) {
		read_grub(root, in);
		if (in->boot == NULL || strcmp(in->boot, "grub") == 0)
			read_bootmenu(root, in);
		return;
	}
	text = read_at(root, in->kargs_file);
	line = carrier_line(in->kargs_file, text ? text : "");
	if (!in->kargs_recorded)
		hostcheck_setup_kargs(line, &in->kargs);
	in->kargs_file_has = in->kargs.n > 0 && all_in(&in->kargs, line);
}

/* The ids (modprobe.d, unless recorded), the hook's addresses, and the
 * functions they name on this host (unless recorded). */
static void read_functions(const char *root, const struct pci_host *pci,
			   struct hostcheck_intent *in)
{
	struct strv confs = { 0 }, ids = { 0 };
	cleanup_free char *hook = read_at(root, ITOOLS_HOOK);

	list_at(root, MODPROBE_DIR, ".conf", &confs);
	for (size_t i = 0; i < confs.n; i++) {
		cleanup_free char *text = read_at(root, confs.v[i]);

		if (text != NULL &&
		    hostcheck_parse_modprobe(text, &in->softdeps, &ids) &&
		    in->modprobe_file == NULL)
			in->modprobe_file = xstrdup(confs.v[i]);
	}
	strv_clear(&confs);
	if (in->ids.n == 0)
		strv_extend(&in->ids, &ids);
	strv_clear(&ids);
	for (size_t i = 0; i < in->kargs.n && in->ids.n == 0; i++)
		if (kcmdline_same_key(in->kargs.v[i], "vfio-pci.ids"))
			hostcheck_split(strchr(in->kargs.v[i], '=') + 1, ",",
					&in->ids);
	hostcheck_parse_hook(hook, &in->by_address);
	if (in->functions_recorded)
		return;
	for (size_t i = 0; i < pci->n; i++) {
		const struct pci_function *fn = &pci->fns[i];
		char id[16], a[PCI_ADDR_STRLEN];

		snprintf(id, sizeof(id), "%04x:%04x", fn->vendor_id,
			 fn->device_id);
		pci_addr_format(&fn->addr, a);
		if (strv_contains(&in->ids, id) ||
		    strv_contains(&in->by_address, a))
			strv_push(&in->functions, a);
	}
	for (size_t i = 0; i < in->by_address.n; i++)
		if (!strv_contains(&in->functions, in->by_address.v[i]))
			strv_push(&in->functions, in->by_address.v[i]);
}

/* Does a non-comment line of TEXT (starting with PREFIX, when given)
 * name vfio_pci? */
static bool names_vfio(const char *text, const char *prefix)
{
	for (const char *l = text; l != NULL && *l;) {
		const char *next = strchr(l, '\n');
		const char *p = l + strspn(l, " \t");
		cleanup_free char *line = xstrndup(p, next ? (size_t)(next - p)
							: strlen(p));

		line[strcspn(line, "#")] = '\0';
		if ((prefix == NULL || starts(line, prefix)) &&
		    (strstr(line, "vfio_pci") || strstr(line, "vfio-pci")))
			return true;
		l = next ? next + 1 : NULL;
	}
	return false;
}

/*
 * Where the running kernel's initramfs may be: first what its command
 * line names (an EFI stub's or systemd-boot's initrd=\initramfs-linux.img,
 * under /boot), then by version (PROC/sys/kernel/osrelease, and the one
 * BOOT_IMAGE=/boot/vmlinuz-VERSION names): Debian's initrd.img-VERSION,
 * dracut's initramfs-VERSION.img.
 */
static void initrd_candidates(const struct vmctl_env *env, struct strv *out)
{
	cleanup_free char *dir = xasprintf("%s/sys/kernel", env->proc);
	cleanup_free char *rel = NULL, *cmdline = NULL;
	struct strv words = { 0 }, versions = { 0 };
	const char *v;

	if (sysfs_read_attr(env->proc, "cmdline", &cmdline) == 0)
		kcmdline_split(cmdline, &words);
	v = kcmdline_get(&words, "initrd");
	if (v != NULL && *v) {
		cleanup_free char *path = xstrdup(v);

		for (char *c = path; *c; c++)
			if (*c == '\\')
				*c = '/';
		strv_pushf(out, "%s%s%s", starts(path, "/boot/") ? "" : "/boot",
			   *path == '/' ? "" : "/", path);
	}
	if (sysfs_read_attr(dir, "osrelease", &rel) == 0 && *rel)
		strv_push(&versions, rel);
	v = kcmdline_get(&words, "BOOT_IMAGE");
	if (v != NULL && (v = strstr(v, "vmlinuz-")) != NULL &&
	    !strv_contains(&versions, v + 8))
		strv_push(&versions, v + 8);
	for (size_t i = 0; i < versions.n; i++) {
		strv_pushf(out, "/boot/initrd.img-%s", versions.v[i]);
		strv_pushf(out, "/boot/initramfs-%s.img", versions.v[i]);
	}
	strv_clear(&versions);
	strv_clear(&words);
}

static void read_initrd(const struct vmctl_env *env, const char *root,
			struct hostcheck_intent *in)
{
	const char *kind = in->initrd ? in->initrd : "";
	struct strv names = { 0 };
	struct timespec image = { 0 }, newest = { 0 };
	cleanup_free char *text = NULL;

	if (strcmp(kind, "initramfs-tools") == 0) {
		in->initrd_config = xstrdup(ITOOLS_MODULES);
		text = read_at(root, ITOOLS_MODULES);
		in->initrd_has_vfio = names_vfio(text, NULL);
	} else if (strcmp(kind, "mkinitcpio") == 0) {
		in->initrd_config = xstrdup(MKINITCPIO_CONF);
		text = read_at(root, MKINITCPIO_CONF);
		in->initrd_has_vfio = names_vfio(text, "MODULES=");
	} else if (strcmp(kind, "dracut") == 0) {
		struct strv confs = { 0 };

		list_at(root, DRACUT_DIR, ".conf", &confs);
		for (size_t i = 0; i < confs.n && !in->initrd_has_vfio; i++) {
			cleanup_free char *t = read_at(root, confs.v[i]);

			in->initrd_has_vfio = names_vfio(t, NULL);
			if (in->initrd_has_vfio)
				in->initrd_config = xstrdup(confs.v[i]);
		}
		strv_clear(&confs);
		if (in->initrd_config == NULL)
			in->initrd_config = xstrdup(DRACUT_DIR);
	} else {
		return;
	}
	/* The image of the running kernel, against the newest of the files
	 * host-setup changed that it is built from. */
	initrd_candidates(env, &names);
	for (size_t i = 0; i < names.n && in->initrd_image == NULL; i++)
		if (mtime_at(root, names.v[i], &image))
			in->initrd_image = xstrdup(names.v[i]);
	strv_clear(&names);
	for (size_t i = 0; i < in->files.n && in->initrd_image; i++) {
		const char *f = in->files.v[i];
		struct timespec t;

		if (!(starts(f, MODPROBE_DIR "/") ||
		      starts(f, "/etc/initramfs-tools/") ||
		      starts(f, DRACUT_DIR "/") ||
		      strcmp(f, MKINITCPIO_CONF) == 0) ||
		    !mtime_at(root, f, &t))
			continue;
		if (t.tv_sec > newest.tv_sec || (t.tv_sec == newest.tv_sec &&
						 t.tv_nsec > newest.tv_nsec)) {
			newest = t;
			free(in->initrd_older_than);
			in->initrd_older_than = xstrdup(f);
		}
	}
	if (in->initrd_older_than != NULL &&
	    (image.tv_sec > newest.tv_sec ||
	     (image.tv_sec == newest.tv_sec &&
	      image.tv_nsec >= newest.tv_nsec))) {
		free(in->initrd_older_than);
		in->initrd_older_than = NULL;
	}
}

/* The drivers the chosen functions are on instead, with their modules. */
static void read_drivers(const struct vmctl_env *env,
			 const struct pci_host *pci,
			 struct hostcheck_intent *in)
{
	for (size_t i = 0; i < in->functions.n; i++) {
		const struct pci_function *fn;
		struct pci_addr a;
		cleanup_free char *dir = NULL;
		bool seen = false;

		if (pci_addr_parse(in->functions.v[i], &a) < 0 ||
		    (fn = pci_host_find(pci, &a)) == NULL ||
		    fn->driver == NULL || pci_function_on_vfio(fn))
			continue;
		for (size_t d = 0; d < in->n_drivers; d++)
			seen |= strcmp(in->drivers[d].name, fn->driver) == 0;
		if (seen)
			continue;
		in->drivers = xreallocarray(in->drivers, in->n_drivers + 1,
					    sizeof(*in->drivers));
		in->drivers[in->n_drivers] = (struct hostcheck_driver){
			.name = xstrdup(fn->driver) };
		dir = xasprintf("%s/bus/pci/drivers/%s", env->sysfs,
				fn->driver);
		if (sysfs_link_name(dir, "module",
				    &in->drivers[in->n_drivers].module) < 0)
			in->drivers[in->n_drivers].module = NULL;
		in->n_drivers++;
	}
}

bool hostcheck_intent_exists(const struct vmctl_env *env)
{
	cleanup_free char *path = xasprintf("%s/host-setup/manifest.json",
					    env->state_dir);
	struct stat st;

	return lstat(path, &st) == 0;
}

void hostcheck_intent_read(const struct vmctl_env *env,
			   const struct pci_host *pci,
			   struct hostcheck_intent *out)
{
	struct hostcheck_intent in = { 0 };
	cleanup_free char *text = NULL, *uptime = NULL;
	struct vmctl_error *e = NULL;
	struct stat st;
	size_t len;
	const char *root;

	in.manifest = xasprintf("%s/host-setup/manifest.json", env->state_dir);
	*out = in;
	if (stat(in.manifest, &st) < 0) {
		if (errno == ENOENT) {
			free(in.manifest);
			out->manifest = NULL;
			return;
		}
		st.st_mtim.tv_sec = 0;
	}
	in.present = true;
	in.written = st.st_mtim.tv_sec;
	if (fs_read_file(in.manifest, 16u << 20, &text, &len,
			 VMCTL_EXIT_FAILURE, &e) < 0) {
		in.error = xstrdup(e->message);
		vmctl_error_free(e);
		*out = in;
		return;
	}
	if (!hostcheck_intent_parse_manifest(text, &in)) {
		*out = in;
		return;
	}
	if (sysfs_read_attr(env->proc, "uptime", &uptime) == 0)
		in.booted = (int64_t)time(NULL) - (int64_t)strtod(uptime, NULL);
	root = in.root != NULL ? in.root : "/";
	read_kargs(root, &in);
	read_functions(root, pci, &in);
	read_initrd(env, root, &in);
	read_drivers(env, pci, &in);
	*out = in;
}

void hostcheck_intent_clear(struct hostcheck_intent *in)
{
	free(in->error);
	free(in->manifest);
	free(in->root);
	free(in->boot);
	free(in->initrd);
	strv_clear(&in->files);
	strv_clear(&in->tried);
	strv_clear(&in->kargs);
	free(in->kargs_file);
	free(in->kargs_var);
	free(in->kargs_override);
	free(in->bootmenu);
	strv_clear(&in->functions);
	strv_clear(&in->ids);
	strv_clear(&in->by_address);
	strv_clear(&in->softdeps);
	free(in->modprobe_file);
	free(in->initrd_config);
	free(in->initrd_image);
	free(in->initrd_older_than);
	for (size_t i = 0; i < in->n_drivers; i++) {
		free(in->drivers[i].name);
		free(in->drivers[i].module);
	}
	free(in->drivers);
	*in = (struct hostcheck_intent){ 0 };
}
