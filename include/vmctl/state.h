/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VMCTL_STATE_H
#define VMCTL_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/file.h>
#include <time.h>

#include <cJSON.h>

#include "vmctl/env.h"
#include "vmctl/error.h"
#include "vmctl/fsutil.h"
#include "vmctl/proc.h"
#include "vmctl/spec.h"
#include "vmctl/strv.h"

/*
 * The state directory:
 *
 *   STATE_DIR/lock              flock: held while ports are picked
 *   STATE_DIR/host.json         host-wide settings (hostconf.h)
 *   STATE_DIR/layers/X.qcow2    a frozen disk linked clones stand on
 *                               (vm-clone.h): kept while a VM's
 *                               `layers` names it
 *   STATE_DIR/tmux.conf         the private tmux server's config
 *   STATE_DIR/vms/.NAME.new-X   a VM being created, renamed to NAME
 *                               (locked, with its `creating` marker)
 *   STATE_DIR/vms/.NAME.gone-X  a destroyed VM's files, being removed
 *   STATE_DIR/vms/NAME/         one VM, mode 0700:
 *       lock                    flock: one command at a time on this VM
 *       creating                present until `create` has finished
 *       spec.json               the normalized spec
 *       vm.json                 runtime state (struct vm_state)
 *       disk.qcow2              overlay over the base image (and its
 *                               internal snapshots)
 *       disk.qcow2.clone-new    a linked clone's next overlay for SRC
 *                               (vm-clone.h), until renamed over disk
 *       snapshots.json          the snapshot tree (vm-snapshot.h)
 *       OVMF_VARS.fd            UEFI variables (UEFI VMs)
 *       vnc-password            0600
 *       qmp.sock, qemu.pid, serial.log
 *       tpm/, swtpm.sock, swtpm.pid, swtpm.log   tpm: true (tpm.h)
 *
 * Every file is replaced atomically (fs_write_atomic).
 */

enum vm_run_state {
	VM_STOPPED,
	VM_RUNNING,
	VM_CRASHED,
	VM_CREATING,     /* a create is at work on it */
	VM_INCOMPLETE,   /* a create died halfway: destroy or create again */
	VM_SAVED,        /* stopped by `vmctl save`: start resumes it */
};

struct vm_exit {
	bool known;
	int status;          /* exit status, -1 unknown */
	int signal;          /* 0 if none */
	time_t time;
	char *stopped_by;    /* "powerdown", "quit", "kill", "guest", NULL */
};

/*
 * What a start claimed from the resource broker (docs/ARCHITECTURE.md,
 * "Resource broker"), kept until the QEMU is gone and the claim given
 * back: at stop, destroy, or when a command finds the QEMU dead.
 */
struct vm_claim {
	bool recorded;               /* false: none (or a VM started before
				      * claims were recorded) */
	uint64_t memory;             /* bytes */
	struct pci_addr *gpus;       /* every function of its GPUs' slots */
	size_t n_gpus;
	struct pci_addr *bound;      /* those this start moved to vfio-pci:
				      * the only ones a stop gives back */
	size_t n_bound;
	/* CPUs (cpus.pin): the host CPUs of the cores its vCPUs are pinned
	 * to (the VM's alone), vCPU i on vcpu_cpus[i], QEMU's other threads
	 * on emulator_cpus.  Empty when not pinned. */
	struct cpulist cpus;
	unsigned *vcpu_cpus;
	size_t n_vcpus;
	struct cpulist emulator_cpus;
	int node;                    /* the NUMA node planned for; -1 none */
	/* memory.hugepages: `hugepages` pages of `hugepage_size` bytes on
	 * node hugepage_node (-1 when hugepage_size is 0). */
	uint64_t hugepage_size;
	uint64_t hugepages;
	int hugepage_node;
	/* usb: the host USB devices it holds, by "BUS-PORT" (usb.h). */
	struct strv usb;
	/* The vmctl at work on the claim while no QEMU holds it (a start
	 * before QEMU is up, a stop giving it back): alive, it still
	 * counts; dead, the claim is stale (refresh() gives it back). */
	struct proc_id owner;
};

void vm_claim_clear(struct vm_claim *claim);

struct vm_state {
	unsigned ssh_port;
	int vnc_display;
	char *accel;         /* "kvm" or "tcg" as launched */
	char *base_image;    /* absolute path of the overlay's backing file */
	char *base_format;
	/* What the base was when the overlay was made: `vmctl start`
	 * refuses a base whose identity changed and whose digest (when one
	 * is known) no longer matches. */
	char *base_digest;   /* "sha256:HEX" / "sha512:HEX", or NULL */
	bool base_id_known;  /* false: a VM made before identities were kept */
	struct fs_file_id base_id;
	/* The layers between the overlay and the base (linked clones,
	 * vm-clone.h), the overlay's backing first: the one record of which
	 * VM stands on which layer. */
	struct strv layers;
	time_t created;
	struct proc_id qemu; /* pid 0 when not running */
	struct proc_id swtpm; /* the VM's swtpm (tpm: true), pid 0: none */
	time_t started;
	/* boot: cdrom-once: its one boot from the CD-ROM is done (a start
	 * with a medium in the drive); every later boot is the disk's. */
	bool cdrom_booted;
	struct vm_exit last_exit;
	struct vm_claim claim;
};

char *state_vm_dir(const struct vmctl_env *env, const char *name);
char *state_vm_file(const struct vmctl_env *env, const char *name,
		    const char *file);
bool state_vm_exists(const struct vmctl_env *env, const char *name);
/* The VM keeps its UEFI variables in the raw OVMF_VARS.fd of an older
 * vmctl (its next start converts them), not in OVMF_VARS.qcow2. */
bool state_ovmf_vars_raw(const struct vmctl_env *env, const char *name);

/* flock helpers: return an fd to close to release, or -1 with *err. */
int state_lock_global(const struct vmctl_env *env, struct vmctl_error **err);
/* flock(path, how) (LOCK_EX or LOCK_SH, | LOCK_NB not to wait), creating
 * the file: an fd to close to release, or -1 with *err ("busy: ..."). */
int state_lock_path(const char *path, int how, struct vmctl_error **err);
int state_lock_vm(const struct vmctl_env *env, const char *name, bool wait,
		  struct vmctl_error **err);

int state_read(const struct vmctl_env *env, const char *name,
	       struct vm_state *st, struct vmctl_error **err);
int state_write(const struct vmctl_env *env, const char *name,
		const struct vm_state *st, struct vmctl_error **err);
void state_clear(struct vm_state *st);

/* A file identity as JSON members of `o` (vm.json, the image cache's
 * stamps), and back; false when `o` holds none. */
void state_file_id_to_json(cJSON *o, const struct fs_file_id *id);
bool state_file_id_from_json(const cJSON *o, struct fs_file_id *id);

/* Remove what killed creates and destroys left in STATE_DIR/vms (hidden
 * ".NAME.new-*" and ".NAME.gone-*" directories); errors are ignored. */
void state_sweep(const struct vmctl_env *env);

/* Names of every VM in the state dir, sorted. */
int state_list(const struct vmctl_env *env, struct strv *names,
	       struct vmctl_error **err);
/* Call fn for every VM whose vm.json reads (a snapshot: no lock taken;
 * a VM whose state does not read is skipped). */
void state_each(const struct vmctl_env *env,
		void (*fn)(const char *name, const struct vm_state *st,
			   void *data),
		void *data);

#endif
