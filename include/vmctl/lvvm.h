/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_LVVM_H
#define VMCTL_LVVM_H

#include <stdbool.h>
#include <stdint.h>

#include <cJSON.h>
#include <libvirt/libvirt.h>

#include "vmctl/env.h"
#include "vmctl/error.h"
#include "vmctl/firmware.h"
#include "vmctl/libvirt-xml.h"
#include "vmctl/spec.h"
#include "vmctl/state.h"
#include "vmctl/vm.h"

/*
 * The VM lifecycle on a libvirt host (--connect): create, start, stop,
 * kill, destroy, list and status through libvirt's C API, as the direct
 * backend (vm.h) does them with QEMU and tmux.  A vmctl VM is a domain
 * holding vmctl's <metadata> mark (libvirt-xml.h); any other domain is
 * not vmctl's and is neither listed nor touched.  Each lvvm_cmd_*() is
 * what the command does with env->connect set: it opens the connection,
 * acts and prints (the same forms as the direct backend, with "backend":
 * "libvirt" and "host": URI in the JSON), and returns an exit status or
 * -1 with *err.
 */

/* A spec's `backend: libvirt` without `connect:`: this machine's libvirtd. */
#define LVVM_DEFAULT_URI "qemu:///system"
#define LVVM_NETWORK "vmctl"
#define LVVM_EMULATOR_DIR "/usr/bin"
#define LVVM_NVRAM_DIR "/var/lib/libvirt/qemu/nvram"

/* What list and status show about one domain. */
struct lvvm_info {
	char *name;
	enum vm_run_state state;
	const char *accel;          /* "kvm" or "tcg" */
	unsigned cpus;
	uint64_t memory;            /* bytes */
	char *ip;                   /* the guest's IPv4 address, or NULL */
	struct libvirt_meta meta;
};

void lvvm_info_clear(struct lvvm_info *info);
/* Pure: libvirt's domain state as vmctl's. */
enum vm_run_state lvvm_state_of(int libvirt_state);
/* Pure: the JSON of one VM (list's shape; `detailed`: status's). */
cJSON *lvvm_info_json(const struct lvvm_info *info, const char *uri,
		      bool detailed);

/* Shared by lvvm.c and lvvm-create.c: a domain's state, and the result
 * of a command that leaves one (JSON, or a headline and how to reach it). */
int lvvm_domain_info(virDomainPtr dom, const char *uri,
		     struct lvvm_info *out, struct vmctl_error **err);
void lvvm_print_result(const struct vmctl_env *env, const char *uri,
		       const struct lvvm_info *info, const char *headline);

/* Shared with lvmigrate.c, lvvm-console.c, lvvm-logs.c: vmctl's VM NAME on the host (the domain and
 * its mark; meta may be NULL), or an error saying there is none (status
 * 1) or that it is not vmctl's; and stop's steps on a domain: the ACPI
 * power button for up to timeout_s, then virDomainDestroy. */
int lvvm_find(virConnectPtr conn, const char *uri, const char *name,
	      virDomainPtr *out, struct libvirt_meta *meta,
	      struct vmctl_error **err);
/* lvvm_find() on env->connect opened (flags: lvconn.h's): the
 * connection, its URI and the domain, which the caller frees
 * (virDomainFree, lvconn_close, free); on failure none is left open. */
int lvvm_open_vm(const struct vmctl_env *env, const char *name,
		 unsigned flags, virConnectPtr *conn, char **uri,
		 virDomainPtr *dom, struct vmctl_error **err);
int lvvm_stop_domain(virDomainPtr dom, const char *uri, int timeout_s,
		     enum vm_stop_step *how, struct vmctl_error **err);
/* vmctl's VMs on an open connection, in libvirt's order (a domain that
 * cannot be read is printed as an error and left out); *out to free,
 * each with lvvm_info_clear(). */
int lvvm_list_read(virConnectPtr conn, const char *uri,
		   struct lvvm_info **out, size_t *n, struct vmctl_error **err);
/* list's table: the header (with a HOST column first, or not) and one
 * row (host: that column's text, or NULL for none). */
void lvvm_list_header(bool host);
void lvvm_list_row(const struct lvvm_info *info, const char *host);

/* A local file (kernel, initrd, an ISO) on the host: a raw volume of
 * the pool named by its digest, sent unless a whole one is there
 * (lvstore_base); *out: the volume's path on the host. */
int lvvm_upload_file(const struct vmctl_env *env, virStoragePoolPtr pool,
		     const char *uri, const char *path, char **out,
		     struct vmctl_error **err);

/* A new domain's own firmware and VNC facts (create, clone): for UEFI the
 * host's OVMF (*fw, the caller's to clear) and NVRAM from its template
 * under LVVM_NVRAM_DIR (*nvram), and a fresh VNC password
 * (*vnc_password); both strings the caller's to free. */
int lvvm_facts_own(const struct vmctl_env *env, const struct vmctl_spec *spec,
		   struct libvirt_facts *f, struct firmware_ovmf *fw,
		   char **nvram, char **vnc_password,
		   struct vmctl_error **err);

int lvvm_cmd_create(const struct vmctl_env *env, struct vmctl_spec *spec,
		    const struct vm_create_opts *opts,
		    struct vmctl_error **err);
/* Start a defined domain the way every vmctl start does: its USB devices
 * by port at the device numbers they have now (lvvm_usb_refresh()), then
 * virDomainCreate (`what` names it in libvirt's error), then boot:
 * cdrom-once's disk-first swap (lvvm_boot_once()). */
int lvvm_domain_start(virConnectPtr conn, const char *uri, virDomainPtr dom,
		      const char *what, struct vmctl_error **err);
int lvvm_cmd_start(const struct vmctl_env *env, const char *name,
		   struct vmctl_error **err);
int lvvm_cmd_stop(const struct vmctl_env *env, const char *name,
		  int timeout_s, struct vmctl_error **err);
/* restart: stop's steps, then start (the direct backend's restart). */
int lvvm_cmd_restart(const struct vmctl_env *env, const char *name,
		     int timeout_s, struct vmctl_error **err);
int lvvm_cmd_kill(const struct vmctl_env *env, const char *name,
		  struct vmctl_error **err);
int lvvm_cmd_destroy(const struct vmctl_env *env, const char *name,
		     bool force, int timeout_s, struct vmctl_error **err);
int lvvm_cmd_list(const struct vmctl_env *env, struct vmctl_error **err);
/* clone SRC DST (lvvm-clone.c): a full or a linked clone, left stopped. */
int lvvm_cmd_clone(const struct vmctl_env *env, const char *src,
		   const char *dst, bool linked, struct vmctl_error **err);
/* destroy's last step (lvvm-clone.c): of `files` (what a domain just
 * undefined stood on, lvclone_backing_files()), the linked clones' layers
 * that no domain on the connection stands on any more are deleted; when
 * a domain cannot be read, none is. */
void lvvm_layers_release(virConnectPtr conn, const struct strv *files);
int lvvm_cmd_status(const struct vmctl_env *env, const char *name,
		    struct vmctl_error **err);

#endif
