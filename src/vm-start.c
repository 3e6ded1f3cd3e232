// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Starting a VM whose files are in place: the start sequence.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vmctl/fsutil.h"
#include "vmctl/hostfacts.h"
#include "vmctl/image.h"
#include "vmctl/imagecache.h"
#include "vmctl/interrupt.h"
#include "vmctl/job.h"
#include "vmctl/media.h"
#include "vmctl/qemu-argv.h"
#include "vmctl/qemu-run.h"
#include "vmctl/qmp.h"
#include "vmctl/tmux.h"
#include "vmctl/tpm.h"
#include "vmctl/vm-cdrom.h"
#include "vmctl/vm-claims.h"
#include "vmctl/vm-pin.h"
#include "vmctl/vm-runtime.h"
#include "vmctl/vm-snapshot.h"
#include "vmctl/vmdir.h"
#include "vmctl/xalloc.h"

struct taken_ctx {
	const char *self;
	struct port_set *taken;
};

static void add_taken(const char *name, const struct vm_state *st,
		      void *data)
{
	struct taken_ctx *c = data;

	if (strcmp(name, c->self) == 0)
		return;
	if (st->ssh_port)
		port_set_add(c->taken, st->ssh_port);
	if (st->vnc_display >= 0)
		port_set_add(c->taken, 5900 + (unsigned)st->vnc_display);
}

/* Ports every other VM holds (running or not, so a stopped VM gets its
 * ports back when it starts). */
static void collect_taken(const struct vmctl_env *env, const char *self,
			  struct port_set *taken)
{
	struct taken_ctx c = { self, taken };

	state_each(env, add_taken, &c);
}

/* ---- launch ------------------------------------------------------------ */


static int resolve_ports(const struct vmctl_env *env, const char *name,
			 const struct vmctl_spec *spec, struct vm_state *st,
			 const struct port_set *avoid, struct hostfacts *facts,
			 struct vmctl_error **err)
{
	struct port_set *taken = xcalloc(1, sizeof(*taken));
	struct hostfacts_want want = {
		.taken = taken,
		.ssh_port = st->ssh_port,
		.vnc_display = st->vnc_display,
	};
	int lock, ret;

	lock = state_lock_global(env, err);
	if (lock < 0) {
		free(taken);
		return -1;
	}
	if (avoid != NULL)
		*taken = *avoid;
	collect_taken(env, name, taken);
	ret = hostfacts_gather(env, spec, &want, facts, err);
	if (ret == 0) {
		st->ssh_port = facts->qemu.ssh_port;
		st->vnc_display = facts->qemu.vnc_display;
		free(st->accel);
		st->accel = xstrdup(spec_accel_name(facts->qemu.accel));
		ret = state_write(env, name, st, err);
	}
	close(lock);
	free(taken);
	return ret;
}

static int set_vnc_password(const struct vmctl_env *env, const char *name,
			    struct qmp *q, struct vmctl_error **err)
{
	cleanup_free char *pw = vm_read_vnc_password(env, name);
	cJSON *args;

	if (pw == NULL)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "VM %s has no VNC password file", name);
	args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "protocol", "vnc");
	cJSON_AddStringToObject(args, "password", pw);
	return qmp_execute(q, "set_password", args, NULL, err);
}

/* Socket paths must fit a sockaddr_un (108 bytes with its NUL). */
int vm_check_socket_paths(const struct vmctl_env *env, const char *name,
			  struct vmctl_error **err)
{
	static const char *const socks[] = { VMDIR_QMP, VMDIR_VNC_SOCKET,
					     VMDIR_GATE };

	for (size_t i = 0; i < sizeof(socks) / sizeof(socks[0]); i++) {
		cleanup_free char *path = state_vm_file(env, name, socks[i]);

		if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			return vmctl_error_set(err, VMCTL_EXIT_USAGE,
					       ENAMETOOLONG,
					       "%s is %zu bytes long, more than "
					       "a UNIX socket path may be (%zu): "
					       "use a shorter --state-dir or VM "
					       "name", path, strlen(path),
					       sizeof(((struct sockaddr_un *)0)
							      ->sun_path) - 1);
	}
	return 0;
}

/*
 * The start sequence.  Each step is a function; each step's undo runs,
 * in reverse, when a later one fails:
 *
 *   claim    the broker's plan, under the state-wide lock, recorded in
 *            vm.json: memory, GPUs, pinned cores, hugepages  (undo: give
 *            the claim back, which also gives back what bind bound)
 *   bind     managed GPUs to vfio-pci, recorded as bound
 *   prepare  ports (state-wide lock), QEMU's argv and the pane's command
 *   tpm      the VM's swtpm (tpm: true), recorded  (undo: stop it)
 *   launch   QEMU in its tmux session: on the claim's emulator CPUs, and
 *            paused (-S) when its vCPUs are to be pinned or a snapshot's
 *            RAM is to be resumed  (undo: kill
 *            that QEMU, drop its session and sockets)
 *   gate     create's: its files made (the job it started them in), the
 *            launcher sent its words, to exec QEMU (qemu-run.h)
 *   confirm  QEMU answers on QMP and its pidfile names it
 *   pin      each vCPU thread to its host CPU (vm-pin.c)
 *   run      the RAM resumed (QMP snapshot-load), the VNC password,
 *            boot: cdrom-once's disk first after this boot (vm-cdrom.h),
 *            `cont`, running; recorded
 *
 * A port taken between prepare and QEMU's bind sends the sequence back to
 * prepare, with ports the spec left open picked again; claim and binding
 * stay.
 *
 * Create's launch is gated, and so starts early: its tmux session, with
 * the launcher waiting at the gate, is started in a thread before the
 * claim (tmux's server costs 20 ms of start-up), and `launch` only waits
 * for it.  Its undo waits for it too.
 */
struct start {
	const struct vmctl_env *env;
	const char *name;
	const struct vmctl_spec *spec;
	struct vm_state *st;
	struct hostfacts facts;
	struct strv argv;               /* the pane's command */
	struct strv words;              /* the launcher's, in it or gated */
	struct tmux_started started;
	bool launched;
	struct qmp *q;
	const char *loadvm;             /* resumed (vm-snapshot.h) */
	struct job *files;              /* create's files, being made */
	char *gate_path;                /* and the gate QEMU waits at */
	int gate;
	struct job early;               /* the gated launch, started */
	bool early_pending;             /* and not yet joined */
};

static int step_claim(struct start *s, const struct vm_start_opts *opts,
		      struct vmctl_error **err)
{
	/* Leftovers of an earlier QEMU (a dead session, stale sockets); a
	 * VM create just made has none but, at most, a session of its
	 * name, which tmux_start replaces (one exec of tmux saved). */
	if (s->files == NULL)
		vm_clear_runtime(s->env, s->name, s->st);
	return vm_claims_take(s->env, s->name, s->spec, opts->overcommit,
			      s->st, err);
}

static int step_bind(struct start *s, struct vmctl_error **err)
{
	return vm_claims_bind(s->env, s->name, s->spec, s->st, err);
}

static void undo_claim(struct start *s)
{
	struct vmctl_error *ignored = NULL;

	vm_claims_release(s->env, s->name, s->st);
	state_write(s->env, s->name, s->st, &ignored);
	vmctl_error_free(ignored);
}

/* The launcher's words (qemu-run.h): in the pane's command, or sent
 * through the gate (then the command is the gated one, set at the start
 * and left alone: the early launch may be reading it). */
static void pane_command(struct start *s, const struct strv *qemu)
{
	cleanup_free char *log = state_vm_file(s->env, s->name,
					       VMDIR_SERIAL_LOG);
	struct qemu_run_opts o = {
		.log = log,
		.log_max = s->env->serial_log_max ? s->env->serial_log_max
						  : QEMU_RUN_LOG_MAX_DEFAULT,
		.cpus = &s->st->claim.emulator_cpus,
	};

	/* VFIO pins all guest RAM (and QEMU's own mappings of the cards):
	 * what libvirt allows, guest RAM plus 1 GiB. */
	if (s->spec->n_gpus > 0)
		o.memlock = s->spec->memory + (1ull << 30);
	strv_clear(&s->words);
	qemu_run_words(&o, qemu, &s->words);
	if (s->gate_path == NULL) {
		cleanup_free char *self = qemu_run_self();

		strv_clear(&s->argv);
		qemu_run_argv(self, &s->words, &s->argv);
	}
}

static int step_prepare(struct start *s, const struct port_set *avoid,
			struct vmctl_error **err)
{
	struct strv qemu = { 0 };
	int ret;

	hostfacts_clear(&s->facts);
	s->facts = (struct hostfacts){ 0 };
	if (resolve_ports(s->env, s->name, s->spec, s->st, avoid, &s->facts,
			  err) < 0)
		return -1;
	/* Held before the first instruction for pinning, and for a resume
	 * (QMP snapshot-load) */
	s->facts.qemu.paused = s->st->claim.n_vcpus > 0 || s->loadvm != NULL;
	s->facts.qemu.cdrom_first = media_cdrom_first(
		s->spec, s->st->cdrom_booted, s->loadvm != NULL);
	/* The broker's word on hugepages (hostfacts guessed from the spec
	 * alone): the page size it found free, on its node. */
	s->facts.qemu.hugepage_size = s->st->claim.hugepage_size;
	if (s->st->claim.hugepage_size == 0)
		s->facts.qemu.mem_node = -1;
	else if (s->facts.qemu.mem_node >= 0)
		s->facts.qemu.mem_node = s->st->claim.hugepage_node;
	ret = qemu_argv_build(s->spec, &s->facts.qemu, &qemu, err);
	if (ret == 0)
		pane_command(s, &qemu);
	strv_clear(&qemu);
	return ret;
}

static int step_tpm(struct start *s, struct vmctl_error **err)
{
	if (!s->spec->tpm)
		return 0;
	if (tpm_start(s->env, s->name, &s->st->swtpm, err) < 0)
		return -1;
	return state_write(s->env, s->name, s->st, err);
}

static int launch_step(void *arg, struct vmctl_error **err)
{
	struct start *s = arg;

	return tmux_start(s->env, s->name, &s->argv, &s->started, err);
}

static int step_launch(struct start *s, struct vmctl_error **err)
{
	if (s->early_pending) {
		s->early_pending = false;
		if (job_join(&s->early, err) < 0)
			return -1;
	} else if (launch_step(s, err) < 0) {
		return -1;
	}
	s->launched = true;
	return 0;
}

/* The gated launch started at once, beside the claim and prepare. */
static int start_early(struct start *s, struct vmctl_error **err)
{
	cleanup_free char *self = qemu_run_self();

	s->gate_path = state_vm_file(s->env, s->name, VMDIR_GATE);
	s->gate = qemu_run_gate_open(s->gate_path, err);
	if (s->gate < 0)
		return -1;
	qemu_run_gated_argv(self, s->gate_path, &s->argv);
	job_start(&s->early, launch_step, s);
	s->early_pending = true;
	return 0;
}

/* Until the launcher, still alive, has been let through the gate. */
static int open_gate(struct start *s, struct vmctl_error **err)
{
	long long deadline = vm_now_ms() + VM_LAUNCH_TIMEOUT_MS;
	struct proc_id pane;

	if (proc_identify(s->env, s->started.pane_pid, &pane) == 0)
		while (proc_alive(s->env, &pane)) {
			if (qemu_run_gate_pass(s->gate, s->started.pane_pid,
					       &s->words, VM_LAUNCH_POLL_MS))
				return 0;
			if (vm_now_ms() >= deadline)
				return vmctl_error_set(err, VMCTL_EXIT_FAILURE,
						       ETIMEDOUT, "QEMU's "
						       "launcher did not "
						       "reach the launch gate "
						       "within %d s",
						       VM_LAUNCH_TIMEOUT_MS /
							       1000);
		}
	return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0, "QEMU's launcher "
			       "ended before it reached the launch gate");
}

static int step_gate(struct start *s, struct vmctl_error **err)
{
	cleanup_free char *why = NULL;

	if (s->files == NULL)
		return 0;
	if (job_join(s->files, err) < 0)
		return -1;
	if (open_gate(s, err) == 0)
		return 0;
	/* the launcher's own words, if it left any */
	why = vm_qemu_error(s->env, s->name);
	return why != NULL ? vmctl_error_wrap(err, "%s", why) : -1;
}

static int step_confirm(struct start *s, struct vmctl_error **err)
{
	if (vm_wait_qmp(s->env, s->name, s->started.pane_pid, &s->q,
			err) < 0)
		return -1;
	if (vm_pidfile_qemu(s->env, s->name, &s->st->qemu) < 0)
		return vmctl_error_set(err, VMCTL_EXIT_FAILURE, 0,
				       "QEMU answered but its pidfile is "
				       "unusable");
	return 0;
}

static int step_pin(struct start *s, struct vmctl_error **err)
{
	return vm_pin_apply(s->env, s->q, s->st->qemu.pid, &s->st->claim,
			    err);
}

static int step_run(struct start *s, struct vmctl_error **err)
{
	if (s->spec->vnc.enabled && s->spec->vnc.password &&
	    set_vnc_password(s->env, s->name, s->q, err) < 0)
		return -1;
	if (s->loadvm != NULL &&
	    vm_snapshot_load(s->env, s->name, s->spec, s->q, s->loadvm,
			     err) < 0)
		return -1;
	if (s->facts.qemu.cdrom_first && vm_cdrom_booted(s->q, err) < 0)
		return -1;
	if (s->facts.qemu.paused &&
	    qmp_execute(s->q, "cont", NULL, NULL, err) < 0)
		return -1;
	if (vm_wait_running(s->q, err) < 0)
		return -1;
	s->st->cdrom_booted |= s->facts.qemu.cdrom_first;
	s->st->started = time(NULL);
	return state_write(s->env, s->name, s->st, err);
}

/*
 * Undo launch (and what confirm, pin and run did): kill whatever QEMU is
 * there (the identified one, the one its pidfile names, the pane's
 * process as tmux reported it at start), then drop the session, by name
 * and by the id tmux gave it, so no QEMU, no swtpm and no session
 * outlive the start.  The claim stays: undo_claim gives it back.
 */
static void undo_launch(struct start *s)
{
	const struct vmctl_env *env = s->env;
	struct tmux_pane pane = { 0 };
	struct vmctl_error *ignored = NULL;

	if (s->early_pending) {
		s->early_pending = false;
		s->launched = job_join(&s->early, NULL) == 0;
	}
	qmp_close(s->q);
	s->q = NULL;
	if (!s->launched) {
		if (s->st->swtpm.pid > 0) {
			tpm_stop(env, s->name, &s->st->swtpm);
			state_write(env, s->name, s->st, &ignored);
			vmctl_error_free(ignored);
		}
		return;
	}
	if (s->st->qemu.pid > 0)
		proc_signal(env, &s->st->qemu, SIGKILL);
	vm_kill_by_pidfile(env, s->name);
	if (tmux_query(env, s->name, &pane, &ignored) == 0 && pane.exists &&
	    !pane.dead)
		vm_kill_pane(env, pane.pid, pane.server);
	vmctl_error_free(ignored);
	ignored = NULL;
	vm_kill_pane(env, s->started.pane_pid, s->started.server);
	vm_wait_gone(env, &s->st->qemu, VM_KILL_TIMEOUT_MS);
	if (s->started.session_id != NULL)
		tmux_kill_id(env, s->started.session_id, &ignored);
	vmctl_error_free(ignored);
	ignored = NULL;
	vm_forget_qemu(env, s->name, s->st);
	state_write(env, s->name, s->st, &ignored);
	vmctl_error_free(ignored);
	tmux_started_clear(&s->started);
	s->launched = false;
}

/* Launch to run, once. */
static int run_once(struct start *s, const struct port_set *avoid,
		    struct vmctl_error **err)
{
	if (step_prepare(s, avoid, err) < 0 || step_tpm(s, err) < 0 ||
	    step_launch(s, err) < 0 || step_gate(s, err) < 0 ||
	    step_confirm(s, err) < 0 || step_pin(s, err) < 0 ||
	    step_run(s, err) < 0) {
		undo_launch(s);
		return -1;
	}
	return 0;
}

/*
 * A failed run_once worth another try: a port vmctl picked was taken
 * before QEMU bound it (by anything outside this state dir).  Ports the
 * spec left to vmctl are then picked again; fixed ports fail with QEMU's
 * words.
 */
static bool port_retry(struct start *s, const struct vmctl_error *e,
		       struct port_set *avoid)
{
	bool ssh_busy = strstr(e->message, "host forwarding rule") != NULL &&
			s->spec->network.ssh_port == 0;
	bool vnc_busy = strstr(e->message, "Failed to find an available "
			       "port") != NULL && s->spec->vnc.display < 0;

	if (interrupt_pending() || !(ssh_busy || vnc_busy))
		return false;
	if (ssh_busy) {
		port_set_add(avoid, s->st->ssh_port);
		s->st->ssh_port = 0;
	}
	if (vnc_busy && s->st->vnc_display >= 0) {
		port_set_add(avoid, 5900 + (unsigned)s->st->vnc_display);
		s->st->vnc_display = -1;
	}
	return true;
}

int vm_launch(const struct vmctl_env *env, const char *name,
	      const struct vmctl_spec *spec, struct vm_state *st,
	      const struct vm_start_opts *opts, struct vmctl_error **err)
{
	struct start s = { .env = env, .name = name, .spec = spec, .st = st,
			   .loadvm = opts->loadvm, .files = opts->files,
			   .gate = -1 };
	struct port_set *avoid = NULL;
	int ret = -1;

	if (vm_check_socket_paths(env, name, err) < 0 ||
	    (env->qemu_user != NULL &&
	     qemu_run_ensure_user(env->qemu_user, err) < 0))
		goto out;
	if (s.files != NULL && start_early(&s, err) < 0)
		goto out;
	if (step_claim(&s, opts, err) < 0) {
		undo_launch(&s);
		goto out;
	}
	if (step_bind(&s, err) < 0)
		goto unclaim;
	avoid = xcalloc(1, sizeof(*avoid));
	for (int attempt = 0;; attempt++) {
		struct vmctl_error *e = NULL;

		ret = run_once(&s, avoid, &e);
		if (ret == 0 || attempt == 3 || !port_retry(&s, e, avoid)) {
			*err = e;
			break;
		}
		vmctl_error_free(e);
	}
unclaim:
	if (ret < 0) {
		if (s.early_pending)
			undo_launch(&s);
		undo_claim(&s);
	}
out:
	if (s.gate >= 0) {
		close(s.gate);
		unlink(s.gate_path);
	}
	free(s.gate_path);
	/* the files are not left being written into a VM being undone */
	if (s.files != NULL)
		job_join(s.files, NULL);
	qmp_close(s.q);
	tmux_started_clear(&s.started);
	free(avoid);
	strv_clear(&s.argv);
	strv_clear(&s.words);
	hostfacts_clear(&s.facts);
	return ret;
}

/*
 * A UEFI VM made before vmctl kept its variables in qcow2: converted (the
 * qcow2 written whole, then the raw file removed), so that from this
 * start on its snapshots can hold them with the RAM.
 */
static int ovmf_vars_upgrade(const struct vmctl_env *env, const char *name,
			     const struct vmctl_spec *spec,
			     struct vmctl_error **err)
{
	cleanup_free char *dir = NULL, *raw = NULL;

	if (!spec_firmware_is_uefi(spec->firmware) ||
	    !state_ovmf_vars_raw(env, name))
		return 0;
	raw = state_vm_file(env, name, VMDIR_OVMF_VARS);
	dir = state_vm_dir(env, name);
	if (image_to_qcow2(raw, "raw", dir, VMDIR_OVMF_VARS_QCOW2, err) < 0)
		return vmctl_error_wrap(err, "VM %s: its UEFI variables", name);
	unlink(raw);
	return fs_sync_dir(dir, err);
}

/* vm_launch, resuming the RAM of a saved state or of a snapshot reverted
 * to while stopped (vm-snapshot.h). */
static int launch_resuming(const struct vmctl_env *env, const char *name,
			   const struct vmctl_spec *spec, struct vm_state *st,
			   const struct vm_start_opts *opts,
			   struct vmctl_error **err)
{
	cleanup_free char *loadvm = vm_snapshot_loadvm(env, name);
	struct vm_start_opts o = *opts;

	o.loadvm = loadvm;
	if (vm_launch(env, name, spec, st, &o, err) < 0)
		return -1;
	return loadvm != NULL ? vm_snapshot_resumed(env, name, spec, err) : 0;
}

int vm_start(const struct vmctl_env *env, const char *name,
	     const struct vm_start_opts *opts, struct vm_info *out,
	     struct vmctl_error **err)
{
	struct vmctl_spec *spec = NULL;
	struct vm_state st;
	int lock, ret = -1;

	if (vm_open(env, name, &lock, &st, err) < 0)
		return -1;
	if (st.qemu.pid > 0) {
		ret = 1;   /* already running */
	} else if (imagecache_check_base(env, name, &st, err) == 0 &&
		   vm_load_spec(env, name, &spec, err) == 0) {
		cleanup_free char *overlay = state_vm_file(env, name,
							   VMDIR_DISK);

		if (spec->disk.image != NULL && !vm_file_exists(overlay))
			vmctl_error_set(err, VMCTL_EXIT_FAILURE, ENOENT,
					"VM %s: its disk %s is missing", name,
					overlay);
		else if (ovmf_vars_upgrade(env, name, spec, err) == 0)
			ret = launch_resuming(env, name, spec, &st, opts, err);
	}
	/* A launch ends seeing QEMU running (launch's last step); a VM that
	 * was running already is asked. */
	if (ret >= 0 && vm_fill_info_launched(env, name,
					      ret == 0 ? "running" : NULL,
					      out, err) < 0)
		ret = -1;
	spec_free(spec);
	state_clear(&st);
	close(lock);
	return ret;
}
