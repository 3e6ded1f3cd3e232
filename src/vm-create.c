// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Creating a VM: check everything that can be checked before a file is
 * written, make its directory (appearing whole, already locked), then its
 * files (spec, overlay, keys, cloud-init seed, UEFI variables, VNC
 * password) in a thread while the start (vm-start.c) claims, picks ports
 * and starts tmux, QEMU held at the gate until the files are made.  A
 * failure removes the lot.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "vmctl/cloudinit.h"
#include "vmctl/firmware.h"
#include "vmctl/fsutil.h"
#include "vmctl/image.h"
#include "vmctl/imagecache.h"
#include "vmctl/interrupt.h"
#include "vmctl/job.h"
#include "vmctl/qemu-argv.h"
#include "vmctl/ssh.h"
#include "vmctl/sshkey.h"
#include "vmctl/vm-runtime.h"
#include "vmctl/vmdir.h"
#include "vmctl/xalloc.h"

char *vm_random_password(void)
{
	static const char alphabet[] = "abcdefghijkmnopqrstuvwxyz"
				       "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	unsigned char raw[8];
	char *pw = xmalloc(sizeof(raw) + 1);

	/* VNC authentication uses at most 8 characters. */
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		abort();
	for (size_t i = 0; i < sizeof(raw); i++)
		pw[i] = alphabet[raw[i] % (sizeof(alphabet) - 1)];
	pw[sizeof(raw)] = '\0';
	return pw;
}


static int check_file(const char *what, const char *path,
		      struct vmctl_error **err)
{
	if (access(path, R_OK) == 0)
		return 0;
	return vmctl_error_errno(err, vmctl_error_status_from_errno(
			errno, VMCTL_EXIT_NOINPUT), errno, "%s %s", what, path);
}

static bool on_path(const char *prog)
{
	const char *path = getenv("PATH");
	cleanup_free char *copy = NULL;
	char *save = NULL;

	if (strchr(prog, '/') != NULL)
		return access(prog, X_OK) == 0;
	copy = xstrdup(path ? path : "/usr/bin:/bin");
	for (char *dir = strtok_r(copy, ":", &save); dir;
	     dir = strtok_r(NULL, ":", &save)) {
		cleanup_free char *full = xasprintf("%s/%s", dir, prog);

		if (access(full, X_OK) == 0)
			return true;
	}
	return false;
}

/* Everything that can be checked before a single file is written.
 * `base_path` is the local (downloaded, verified) disk image. */
static int preflight(const struct vmctl_spec *spec, const char *base_path,
		     struct image_info *base, struct vmctl_error **err)
{
	if (!on_path(spec->qemu.binary))
		return vmctl_error_set(err, VMCTL_EXIT_UNAVAILABLE, ENOENT,
				       "%s not found (Debian: apt-get install "
				       "qemu-system-x86)", spec->qemu.binary);
	if (!on_path("tmux"))
		return vmctl_error_set(err, VMCTL_EXIT_UNAVAILABLE, ENOENT,
				       "tmux not found (Debian: apt-get "
				       "install tmux)");
	if (base_path != NULL) {
		if (base_path[0] != '/')
			return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
					       "disk.image: %s is not an "
					       "absolute path", base_path);
		if (check_file("disk image", base_path, err) < 0 ||
		    image_info(base_path, base, err) < 0)
			return -1;
		if (spec->disk.size != 0 &&
		    spec->disk.size < base->virtual_size)
			return vmctl_error_set(err, VMCTL_EXIT_SPEC, 0,
					       "disk.size is smaller than the "
					       "image %s (%llu bytes)",
					       base_path,
					       (unsigned long long)
						       base->virtual_size);
	}
	if (spec->cdrom != NULL && check_file("cdrom", spec->cdrom, err) < 0)
		return -1;
	if (spec->kernel.image != NULL &&
	    check_file("kernel", spec->kernel.image, err) < 0)
		return -1;
	if (spec->kernel.initrd != NULL &&
	    check_file("initrd", spec->kernel.initrd, err) < 0)
		return -1;
	return 0;
}


/*
 * Make the VM's directory appear already holding its `creating` marker
 * and already locked by this create: filled under a hidden name, then
 * renamed into place, so no other command ever sees it unmarked or takes
 * its lock first.  Needs the state-wide lock.
 */
int vm_make_dir(const struct vmctl_env *env, const char *name, int *lock,
		struct vmctl_error **err)
{
	cleanup_free char *dir = state_vm_dir(env, name);
	cleanup_free char *stage = xasprintf("%s/vms/.%s.new-XXXXXX",
					     env->state_dir, name);
	cleanup_free char *lock_path = NULL;
	struct vmctl_error *ignored = NULL;

	if (mkdtemp(stage) == NULL)
		return vmctl_error_errno(err, vmctl_error_status_from_errno(
				errno, VMCTL_EXIT_FAILURE), errno, "%s", stage);
	lock_path = xasprintf("%s/%s", stage, VMDIR_LOCK);
	if (fs_write_atomic(stage, VMDIR_CREATING, "", 0, 0600, err) < 0)
		goto fail;
	*lock = state_lock_path(lock_path, LOCK_EX, err);
	if (*lock < 0)
		goto fail;
	if (rename(stage, dir) == 0)
		return 0;
	vmctl_error_errno(err, vmctl_error_status_from_errno(errno,
			  VMCTL_EXIT_FAILURE), errno, "%s", dir);
	close(*lock);
	*lock = -1;
fail:
	fs_remove_tree(stage, &ignored);
	vmctl_error_free(ignored);
	return -1;
}

/* A `creating` VM whose creator is gone (killed, crashed): undo it. */
static int reclaim_stale(const struct vmctl_env *env, const char *name,
			 struct vmctl_error **err)
{
	struct vm_state st = { 0 };
	struct vmctl_error *ignored = NULL;
	int lock;

	if (!vm_create_unfinished(env, name))
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, EEXIST,
				       "a VM named \"%s\" already exists",
				       name);
	/* A creator that was just killed may take a moment to let go of
	 * the lock; a live one keeps it, and is left alone. */
	for (int tries = 0;; tries++) {
		lock = state_lock_vm(env, name, false, err);
		if (lock >= 0 || tries == 40)
			break;
		vmctl_error_free(*err);
		*err = NULL;
		vm_sleep_ms(50);
	}
	if (lock < 0)
		return vmctl_error_wrap(err, "VM %s is being created", name);
	if (state_read(env, name, &st, &ignored) < 0) {
		vmctl_error_free(ignored);
		ignored = NULL;
	}
	if (st.qemu.pid > 0 && proc_alive(env, &st.qemu)) {
		proc_signal(env, &st.qemu, SIGKILL);
		vm_wait_gone(env, &st.qemu, VM_KILL_TIMEOUT_MS);
	}
	vm_refresh(env, name, &st, &ignored);
	vmctl_error_free(ignored);
	vm_clear_runtime(env, name, &st);
	state_clear(&st);
	if (vm_remove_dir(env, name, err) < 0) {
		close(lock);
		return -1;
	}
	close(lock);
	return 0;
}

static char *read_small(const char *path, struct vmctl_error **err)
{
	char *text = NULL;
	size_t len;

	if (fs_read_file(path, 1u << 20, &text, &len, VMCTL_EXIT_NOINPUT,
			 err) < 0)
		return NULL;
	return text;
}

int vm_cloud_init_files(const char *dir, const char *name,
			const struct vmctl_spec *spec,
			struct vmctl_error **err)
{
	cleanup_free char *comment = xasprintf("vmctl-%s", name);
	cleanup_free char *host_comment = xasprintf("root@%s", name);
	cleanup_free char *extra = NULL, *known = NULL, *user_data = NULL;
	cleanup_free char *meta = NULL, *net = NULL, *instance = NULL;
	cleanup_free char *client_pub = NULL;
	struct sshkey_pair key = { 0 }, host = { 0 };
	unsigned char rnd[4];
	char mac[18];
	int ret = -1;

	/* the VM's client key, and the host key its sshd is given */
	if (sshkey_generate(comment, &key, err) < 0 ||
	    sshkey_generate(host_comment, &host, err) < 0 ||
	    sshkey_write(dir, VMDIR_SSH_KEY, &key, err) < 0 ||
	    sshkey_write(dir, VMDIR_HOST_KEY, &host, err) < 0)
		goto out;
	if (spec->cloud_init.user_data != NULL) {
		extra = read_small(spec->cloud_init.user_data, err);
		if (extra == NULL) {
			vmctl_error_wrap(err, "cloud_init.user_data");
			goto out;
		}
	}
	known = ssh_known_hosts_line(name, host.public_line);
	if (fs_write_atomic(dir, VMDIR_KNOWN_HOSTS, known, strlen(known),
			    0600, err) < 0)
		goto out;
	client_pub = xstrndup(key.public_line,
			      strcspn(key.public_line, "\n"));
	user_data = cloudinit_user_data(spec, &(struct cloudinit_keys){
		.client_pub = client_pub, .host_private = host.private_text,
		.host_public = host.public_line }, extra);
	/* A fresh instance id per create: cloud-init runs its first-boot
	 * modules once per instance, and a re-created VM is a new one. */
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		abort();
	instance = xasprintf("vmctl-%s-%02x%02x%02x%02x", name, rnd[0], rnd[1],
			     rnd[2], rnd[3]);
	meta = cloudinit_meta_data(spec, instance);
	qemu_mac_for_name(name, mac);
	net = cloudinit_network_config(mac);
	ret = cloudinit_write_seed(dir, VMDIR_SEED, user_data, meta, net, err);
out:
	sshkey_pair_clear(&key);
	sshkey_pair_clear(&host);
	return ret;
}

int vm_identity_files(const struct vmctl_env *env, const char *name,
		      const struct vmctl_spec *spec, const char *vars_from,
		      const char *vars_format, struct vmctl_error **err)
{
	cleanup_free char *dir = state_vm_dir(env, name);
	int ret;

	if (vm_write_spec(env, name, spec, err) < 0)
		return -1;
	if (spec->cloud_init.enabled &&
	    vm_cloud_init_files(dir, name, spec, err) < 0)
		return -1;
	if (spec_firmware_is_uefi(spec->firmware) && vars_from != NULL) {
		/* A clone's: the source's variables as they are, not its
		 * snapshots of them. */
		if (image_to_qcow2(vars_from, vars_format, dir,
				   VMDIR_OVMF_VARS_QCOW2, err) < 0)
			return -1;
	} else if (spec_firmware_is_uefi(spec->firmware)) {
		struct firmware_ovmf fw;

		if (firmware_find(env, spec->firmware, &fw, err) < 0)
			return -1;
		ret = image_to_qcow2(fw.vars, "raw", dir, VMDIR_OVMF_VARS_QCOW2,
				     err);
		firmware_ovmf_clear(&fw);
		if (ret < 0)
			return -1;
	}
	if (spec->vnc.enabled && spec->vnc.password) {
		cleanup_free char *pw = vm_random_password();
		cleanup_free char *line = xasprintf("%s\n", pw);

		if (fs_write_atomic(dir, VMDIR_VNC_PASSWORD, line, strlen(line),
				    0600, err) < 0)
			return -1;
	}
	return 0;
}

/*
 * The VM's files: the overlay (qemu-img, mostly its own start-up time)
 * beside the rest (the spec, two keys, the seed, UEFI variables, VNC
 * password).  All of it runs beside the start (vm-start.c's gate: tmux and
 * QEMU's launcher start meanwhile).
 */
struct create_files {
	const struct vmctl_env *env;
	const char *name;
	const struct vmctl_spec *spec;
	const char *base_path, *base_format;
	char *overlay;
	struct job job;
};

static int overlay_step(void *arg, struct vmctl_error **err)
{
	struct create_files *f = arg;

	return image_create_overlay(f->base_path, f->base_format, f->overlay,
				    f->spec->disk.size, err);
}

static int files_step(void *arg, struct vmctl_error **err)
{
	struct create_files *f = arg;
	struct job overlay = { 0 };
	int ret;

	if (f->base_path != NULL)
		job_start(&overlay, overlay_step, f);
	ret = vm_identity_files(f->env, f->name, f->spec, NULL, NULL, err);
	return job_join(&overlay, err) < 0 || ret < 0 ? -1 : 0;
}


int vm_spec_rename(struct vmctl_spec *spec, const char *name,
		   struct vmctl_error **err)
{
	if (name == NULL)
		return 0;
	if (!spec_name_valid(name))
		return vmctl_error_set(err, VMCTL_EXIT_USAGE, 0,
				       "invalid VM name \"%s\"", name);
	free(spec->name);
	spec->name = xstrdup(name);
	return 0;
}

int vm_create(const struct vmctl_env *env, struct vmctl_spec *spec,
	      const struct vm_create_opts *opts, struct vm_info *out,
	      struct vmctl_error **err)
{
	struct image_info base = { 0 };
	struct imagecache_result image = { 0 };
	struct vm_state st = { .vnc_display = -1 };
	struct create_files files = { 0 };
	cleanup_free char *vms = xasprintf("%s/vms", env->state_dir);
	cleanup_free char *dir = NULL, *marker = NULL;
	const char *name;
	int glock = -1, lock = -1, ret = -1;
	bool made = false;

	if (vm_spec_rename(spec, opts->name, err) < 0)
		return -1;
	name = spec->name;
	dir = state_vm_dir(env, name);
	marker = state_vm_file(env, name, VMDIR_CREATING);
	/* Before a download that could take minutes: is the name free,
	 * and can its sockets be made at all? */
	if (state_vm_exists(env, name) && !vm_create_unfinished(env, name)) {
		vmctl_error_set(err, VMCTL_EXIT_FAILURE, EEXIST,
				"a VM named \"%s\" already exists", name);
		goto out;
	}
	if (vm_check_socket_paths(env, name, err) < 0)
		goto out;
	if (spec->disk.image != NULL &&
	    imagecache_get(env, &spec->disk, opts->progress, &image, err) < 0)
		goto out;
	if (preflight(spec, image.path, &base, err) < 0)
		goto out;

	/* Claim the name. */
	if (fs_mkdir_p(vms, 0755, err) < 0)
		goto out;
	glock = state_lock_global(env, err);
	if (glock < 0)
		goto out;
	state_sweep(env);
	if (state_vm_exists(env, name) && reclaim_stale(env, name, err) < 0)
		goto out;
	if (vm_make_dir(env, name, &lock, err) < 0)
		goto out;
	made = true;
	close(glock);
	glock = -1;

	st.created = time(NULL);
	imagecache_record_base(&image, &st);
	if (image.path != NULL) {
		st.base_image = xstrdup(image.path);
		st.base_format = xstrdup(base.format);
	}
	files = (struct create_files){ .env = env, .name = name, .spec = spec,
				       .base_path = image.path,
				       .base_format = base.format,
				       .overlay = state_vm_file(env, name,
								VMDIR_DISK) };
	job_start(&files.job, files_step, &files);
	if (opts->no_start) {
		if (job_join(&files.job, err) < 0 ||
		    state_write(env, name, &st, err) < 0)
			goto out;
	} else {
		struct vm_start_opts start = opts->start;

		start.files = &files.job;
		if (vm_launch(env, name, spec, &st, &start, err) < 0)
			goto out;
	}
	if (interrupt_pending()) {
		vmctl_error_set(err, VMCTL_EXIT_FAILURE, EINTR, "interrupted");
		if (st.qemu.pid > 0) {
			proc_signal(env, &st.qemu, SIGKILL);
			vm_wait_gone(env, &st.qemu, VM_KILL_TIMEOUT_MS);
		}
		goto out;
	}
	if (unlink(marker) < 0) {
		vmctl_error_errno(err, VMCTL_EXIT_FAILURE, errno, "%s", marker);
		goto out;
	}
	/* A started VM was just seen running (vm_launch's last step). */
	ret = vm_fill_info_launched(env, name, opts->no_start ? NULL
							       : "running",
				    out, err);
out:
	job_join(&files.job, NULL);
	free(files.overlay);
	if (ret < 0 && made) {
		struct vmctl_error *ignored = NULL;

		vm_clear_runtime(env, name, &st);
		vm_remove_dir(env, name, &ignored);
		vmctl_error_free(ignored);
	}
	if (lock >= 0)
		close(lock);
	if (glock >= 0)
		close(glock);
	state_clear(&st);
	image_info_clear(&base);
	imagecache_result_clear(&image);
	return ret;
}

/* ---- inspect ------------------------------------------------------------ */


